"""The unlock store: a survey's private key held for an analyst between requests.

The key is kept in this process's memory, or in Redis with CHORUS_REDIS_URL,
encrypted under a key that only the analyst's session cookie holds, and dropped
after CHORUS_UNLOCK_IDLE_MINUTES without use, at "Lock now", at sign-out and at a
new sign-in. Analysis and reports ask this module for the key (`unlocked_key`,
`unlocked`); nothing else holds it.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from typing import Any, NamedTuple

from flask import (
    Flask,
    current_app,
    session,
)

from survey import crypto
from survey.failsafe import outage_page
from survey.models import Survey, User
from survey.surveys import (
    custodian_wrap,
)

logger = logging.getLogger(__name__)

# --- unlock sessions ---------------------------------------------------------------------
#
# An unlocked survey key lives in the unlock store (this process's memory, or
# Redis when several processes share the work) encrypted under a random key that
# only the analyst's session cookie holds. Neither half alone opens anything; a
# store entry lapses after CHORUS_UNLOCK_IDLE_MINUTES without use.


class MemoryUnlockStore:
    """Unlock entries in this process's memory (one process: the demo, tests)."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[bytes, float]] = {}
        self._lock = threading.Lock()

    def put(self, handle: str, blob: bytes, idle_seconds: int) -> None:
        with self._lock:
            self._entries[handle] = (blob, time.monotonic() + idle_seconds)

    def touch(self, handle: str, idle_seconds: int) -> bytes | None:
        """The entry's blob, its idle limit starting again; None once it has lapsed."""
        now = time.monotonic()
        with self._lock:
            for key in [k for k, (_, until) in self._entries.items() if until <= now]:
                del self._entries[key]
            entry = self._entries.get(handle)
            if entry is None:
                return None
            self._entries[handle] = (entry[0], now + idle_seconds)
            return entry[0]

    def alive(self, handle: str) -> bool:
        """Whether the entry is still there, without restarting its idle limit."""
        with self._lock:
            entry = self._entries.get(handle)
            return entry is not None and entry[1] > time.monotonic()

    def delete(self, handle: str) -> None:
        with self._lock:
            self._entries.pop(handle, None)


class UnlockStoreAway(Exception):
    """Redis, which holds the unlocks, isn't answering: nothing can be unlocked or
    read for now (a calm 503 page, `init_app`), and the answers stay locked."""


class RedisUnlockStore:
    """Unlock entries in Redis, shared by every app process; Redis expires them.

    While Redis is away, putting or reading an entry raises UnlockStoreAway, and
    deleting one is given up (logged): the session's half of its key is dropped
    all the same, so the entry opens nothing and lapses in Redis by itself. That
    way signing out and "Lock now" always work.
    """

    PREFIX = "chorus:unlock:"

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url)
        self._errors = (redis.ConnectionError, redis.TimeoutError)

    def put(self, handle: str, blob: bytes, idle_seconds: int) -> None:
        try:
            self._redis.set(self.PREFIX + handle, blob, ex=idle_seconds)
        except self._errors as error:
            raise UnlockStoreAway from error

    def touch(self, handle: str, idle_seconds: int) -> bytes | None:
        try:
            blob = self._redis.getex(self.PREFIX + handle, ex=idle_seconds)
        except self._errors as error:
            raise UnlockStoreAway from error
        return blob if isinstance(blob, bytes) else None

    def alive(self, handle: str) -> bool:
        try:
            return bool(self._redis.exists(self.PREFIX + handle))
        except self._errors as error:
            raise UnlockStoreAway from error

    def delete(self, handle: str) -> None:
        try:
            self._redis.delete(self.PREFIX + handle)
        except self._errors as error:
            logger.warning(
                "The unlock store didn't answer (%s); an entry will lapse by itself",
                type(error).__name__,
            )


UnlockStore = MemoryUnlockStore | RedisUnlockStore
SESSION_KEY = "unlocks"


def unlock_store() -> UnlockStore:
    return current_app.extensions["chorus_unlocks"]


def _idle_seconds() -> int:
    return int(current_app.config["CHORUS_UNLOCK_IDLE_MINUTES"]) * 60


def _unlock_aad(user: User, survey: Survey, handle: str) -> bytes:
    return crypto.wrap_aad(survey.id, f"unlock:{user.id}:{handle}")


def keep_unlocked(survey: Survey, user: User, private_key: bytes) -> None:
    """Hold the survey key for this analyst's session until they lock it or go idle."""
    lock(survey)
    handle = secrets.token_urlsafe(24)
    session_key = crypto.new_key()
    blob = crypto.encrypt(session_key, private_key, _unlock_aad(user, survey, handle))
    unlock_store().put(handle, blob, _idle_seconds())
    unlocks = dict(session.get(SESSION_KEY, {}))
    unlocks[str(survey.id)] = {"handle": handle, "key": crypto.b64(session_key)}
    session[SESSION_KEY] = unlocks


def unlocked_key(survey: Survey, user: User) -> bytes | None:
    """The survey's private key if this session unlocked it and it hasn't lapsed.

    A grant revoked since the unlock ends it too: holding the key needs a grant.
    """
    entry = session.get(SESSION_KEY, {}).get(str(survey.id))
    if entry is None:
        return None
    if custodian_wrap(survey, user) is None:
        lock(survey)
        return None
    blob = unlock_store().touch(entry["handle"], _idle_seconds())
    if blob is None:
        _drop_scratch(entry["handle"])
        _forget_in_session(survey)
        return None
    try:
        return crypto.decrypt(
            crypto.unb64(entry["key"]), blob, _unlock_aad(user, survey, entry["handle"])
        )
    except (crypto.CryptoError, ValueError):
        lock(survey)
        return None


def lock(survey: Survey) -> bool:
    """Forget this session's unlock of the survey; True if there was one."""
    entry = session.get(SESSION_KEY, {}).get(str(survey.id))
    if entry is None:
        return False
    unlock_store().delete(entry["handle"])
    _drop_scratch(entry["handle"])
    _forget_in_session(survey)
    return True


def _forget_in_session(survey: Survey) -> None:
    unlocks = dict(session.get(SESSION_KEY, {}))
    unlocks.pop(str(survey.id), None)
    session[SESSION_KEY] = unlocks


def lock_everything() -> None:
    """Drop every unlock this session holds (at sign-out)."""
    for entry in session.get(SESSION_KEY, {}).values():
        unlock_store().delete(entry["handle"])
        _drop_scratch(entry["handle"])
    session.pop(SESSION_KEY, None)


# What an unlock lets this process keep in memory (the decrypted analysis frame),
# by unlock handle: dropped at lock, and found lapsed at the next look. At most a
# few unlocks' worth per process; the oldest goes first.
_scratch: OrderedDict[str, dict[str, Any]] = OrderedDict()
_scratch_lock = threading.Lock()
MAX_SCRATCH = 4


class Unlocked(NamedTuple):
    key: bytes
    # Memory that lives as long as this unlock, in this process only.
    scratch: dict[str, Any]


def unlocked(survey: Survey, user: User) -> Unlocked | None:
    """The survey's key and this unlock's scratch memory, or None when the survey
    isn't unlocked in this session. Nothing in the scratch ever reaches a disk."""
    key = unlocked_key(survey, user)
    if key is None:
        return None
    handle = session[SESSION_KEY][str(survey.id)]["handle"]
    store = unlock_store()
    with _scratch_lock:
        for lapsed in [h for h in _scratch if h != handle and not store.alive(h)]:
            del _scratch[lapsed]
        scratch = _scratch.setdefault(handle, {})
        _scratch.move_to_end(handle)
        while len(_scratch) > MAX_SCRATCH:
            _scratch.popitem(last=False)
    return Unlocked(key, scratch)


def _drop_scratch(handle: str) -> None:
    with _scratch_lock:
        _scratch.pop(handle, None)


def init_app(app: Flask) -> None:
    """Hold unlocks in Redis when CHORUS_REDIS_URL is set (several processes share
    them), otherwise in this process's memory."""
    redis_url = app.config.get("CHORUS_REDIS_URL")
    app.extensions["chorus_unlocks"] = (
        RedisUnlockStore(redis_url) if redis_url else MemoryUnlockStore()
    )
    app.register_error_handler(UnlockStoreAway, unlock_store_away)


def unlock_store_away(_error: UnlockStoreAway) -> tuple[str, int, dict[str, str]]:
    """Redis away is an outage, not a bug: a calm 503 that says the answers stay locked."""
    logger.warning("A request found the unlock store (Redis) unreachable")
    return outage_page(
        "Unlocking is briefly unavailable",
        "The service that holds unlocked surveys isn't answering. The answers stay "
        "locked (encrypted) and nothing is lost. Please wait a minute and try again.",
    )
