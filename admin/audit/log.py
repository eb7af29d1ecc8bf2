"""The audit log: an append-only, hash-chained record of every staff action.

README.md "What is stored, and what is not" promises a log of what staff did that
nobody can quietly rewrite. Each entry's hash covers its own content and the hash
of the entry before it, so changing, removing or reordering an entry breaks the chain
where it happened; `verify` walks the chain and names every such place. Removing
the *last* entries leaves a shorter chain that is still valid, so whoever keeps
an eye on the log notes its head hash somewhere else and passes it back as
`expect_head`.

The hashes are keyed: HMAC-SHA256 under a sub-key of the app's secret key, which
the database doesn't hold. With a plain hash, anyone who can write to the table
could edit an entry and recompute every later hash; without the key they can't.
Logs written before the chain was keyed hold plain SHA-256 hashes: `verify`
names them, and `chorus audit rekey` (run once after upgrading) checks their old
chain and then re-hashes the whole log under the key.

`audit_log.prev_hash` is UNIQUE, so two processes can never both append on top
of the same head: the loser's insert fails and `record` retries on the new head.

Only staff actions are recorded. The core announces them through
`survey.events.staff_action` (survey/ must not import admin/); respondents'
actions are never announced and `record` refuses to run inside a respondent's
request, so nothing a survivor does, nor when, ends up here.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from flask import (
    has_request_context,
    request,
)
from sqlalchemy import Table, func, select, text
from sqlalchemy.exc import IntegrityError

from survey.config import app_subkey
from survey.crypto import canonical_json
from survey.models import AuditEntry, db

log = logging.getLogger(__name__)

# The prev_hash of the first entry.
GENESIS = "0" * 64

# How many times `record` tries to append when another writer keeps winning the
# race for the head. Chorus processes queue instead of racing (see
# `_wait_for_our_turn`), and each lost race means another entry went in, so a
# handful is plenty.
APPEND_ATTEMPTS = 5

# PostgreSQL advisory lock taken while appending, so that Chorus processes wait
# their turn instead of racing for the head and retrying. (Any other writer is
# still stopped by the UNIQUE prev_hash.) A fixed 64-bit number: the first eight
# bytes of SHA-256("chorus-audit-log"), as a signed integer.
APPEND_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"chorus-audit-log").digest()[:8], "big", signed=True
)

# Blueprints that serve respondents: nothing may be recorded while serving them.
RESPONDENT_BLUEPRINTS = frozenset({"respond"})

# Limits of the audit_log columns, checked here so that SQLite (which ignores
# VARCHAR lengths) and PostgreSQL (which enforces them) behave the same.
MAX_ACTION = 64
MAX_ACTOR = 254
MAX_TARGET = 254

EXTENSION_KEY = "chorus_audit"


class AuditError(Exception):
    """An entry that can't be recorded (wrong place, or fields that don't fit)."""


# --- hashing ------------------------------------------------------------------------------


def timestamp_text(at: datetime) -> str:
    """`at` as ISO 8601 in UTC with microseconds, the form the hash covers.

    PostgreSQL hands timestamps back aware (in the session's time zone) and
    SQLite hands them back naive; Chorus always stores UTC, so a naive value is
    UTC. Both then give the same text as the value that was hashed on insert.
    """
    aware = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return aware.isoformat(timespec="microseconds")


# The purpose of the app sub-key the entry hashes are keyed with.
AUDIT_KEY_PURPOSE = "chorus-audit/1"


def audit_key() -> bytes:
    """The key of this app's entry hashes, derived from its secret key (never stored)."""
    return app_subkey(AUDIT_KEY_PURPOSE)


def _content(at: datetime, actor: str, action: str, target: str, details_json: str) -> bytes:
    """An entry's content as the bytes its hash covers.

    Canonical JSON of a mapping, so no choice of field values can make two
    different entries hash the same bytes (no ambiguous concatenation).
    `details_json` is covered as stored text: any edit to it, even one that
    doesn't change what it means, shows.
    """
    return canonical_json(
        {
            "at": timestamp_text(at),
            "actor": actor,
            "action": action,
            "target": target,
            "details": details_json,
        }
    )


def entry_hash(
    prev_hash: str, at: datetime, actor: str, action: str, target: str, details_json: str
) -> str:
    """HMAC-SHA256 (hex), under this app's audit key, over the previous entry's hash
    and this entry's content. Needs an app context (the key comes from the app)."""
    message = prev_hash.encode("ascii") + _content(at, actor, action, target, details_json)
    return hmac.new(audit_key(), message, hashlib.sha256).hexdigest()


def unkeyed_entry_hash(
    prev_hash: str, at: datetime, actor: str, action: str, target: str, details_json: str
) -> str:
    """The plain SHA-256 entry hash of logs written before the chain was keyed."""
    message = prev_hash.encode("ascii") + _content(at, actor, action, target, details_json)
    return hashlib.sha256(message).hexdigest()


def _stored_hash(row: Any) -> str:
    """What the hash of a stored row should be, from its stored content."""
    return entry_hash(row.prev_hash, row.at, row.actor, row.action, row.target, row.details)


def _unkeyed_hash(row: Any) -> str:
    return unkeyed_entry_hash(row.prev_hash, row.at, row.actor, row.action, row.target, row.details)


# --- appending ----------------------------------------------------------------------------


def current_head() -> str:
    """The hash of the entry with the highest id, or GENESIS for an empty log.

    Columns, not ORM objects: the session's identity map could otherwise hand
    back what it remembers instead of what the table holds now.
    """
    head = db.session.scalar(select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1))
    return head or GENESIS


def record(
    action: str, actor: str, target: str = "", details: Mapping[str, Any] | None = None
) -> AuditEntry:
    """Append one staff action on top of the current head and commit it.

    The append runs in a SAVEPOINT: when another process appended first (the
    UNIQUE prev_hash refuses a second entry on the same head) only the failed
    insert is rolled back, never work the caller still has pending, and the
    append is retried on the new head. (Chorus processes queue for the write
    first, see `_wait_for_our_turn`, so that race is only ever lost to a writer
    outside Chorus.) The commit at the end also commits what the caller had
    pending, so an action and its audit entry land together.

    `details` must be JSON-serialisable (TypeError otherwise) and is stored as
    canonical JSON. Only call this for staff actions: it refuses inside a
    respondent's request, because the log must never hold anything about them.
    """
    if has_request_context() and request.blueprint in RESPONDENT_BLUEPRINTS:
        raise AuditError("respondent actions are never recorded in the audit log")
    _check_field("action", action, MAX_ACTION, required=True)
    _check_field("actor", actor, MAX_ACTOR, required=True)
    _check_field("target", target, MAX_TARGET, required=False)
    details_json = canonical_json(dict(details or {})).decode("utf-8")

    for attempt in range(1, APPEND_ATTEMPTS + 1):
        try:
            with db.session.begin_nested():
                _wait_for_our_turn()
                prev_hash = current_head()
                at = datetime.now(UTC)
                entry = AuditEntry(
                    at=at,
                    actor=actor,
                    action=action,
                    target=target,
                    details=details_json,
                    prev_hash=prev_hash,
                    entry_hash=entry_hash(prev_hash, at, actor, action, target, details_json),
                )
                db.session.add(entry)
        except IntegrityError as exc:
            if "prev_hash" not in str(exc.orig) or attempt == APPEND_ATTEMPTS:
                raise
            log.info("audit log: another process appended first; retrying (%d)", attempt)
            time.sleep(random.uniform(0, 0.01 * attempt))  # noqa: S311 - jitter, not secrecy
            continue
        db.session.commit()
        return entry
    raise AssertionError("unreachable")  # pragma: no cover


def _wait_for_our_turn() -> None:
    """Queue behind other appenders before reading the head.

    Without this, several processes appending at once keep losing the race
    for the head to each other. PostgreSQL: an advisory lock held until this
    transaction ends (record commits at once). SQLite: a write that changes
    nothing takes the database's write lock first, waiting its turn (busy
    timeout); read first and write second, two appenders deadlock and SQLite
    refuses one at once with "database is locked".
    """
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(APPEND_LOCK_KEY)))
    elif dialect == "sqlite":
        db.session.execute(text("UPDATE audit_log SET id = id WHERE 0"))


def _check_field(name: str, value: object, limit: int, *, required: bool) -> None:
    if not isinstance(value, str):
        raise AuditError(f"{name} must be a string, not {type(value).__name__}")
    if required and not value:
        raise AuditError(f"{name} must not be empty")
    if len(value) > limit:
        raise AuditError(f"{name} is longer than {limit} characters")


# --- verifying ----------------------------------------------------------------------------


CHANGED = "its content was changed"
OUT_OF_ORDER = "the entry before it is missing or out of order"
UNKEYED = "not keyed yet"
REKEY_ACTION = "audit.rekey"

_COLUMNS = (
    AuditEntry.id,
    AuditEntry.at,
    AuditEntry.actor,
    AuditEntry.action,
    AuditEntry.target,
    AuditEntry.details,
    AuditEntry.prev_hash,
    AuditEntry.entry_hash,
)


@dataclass
class AuditReport:
    """What `verify` found: how many entries, the head hash, and every problem."""

    count: int
    head: str
    problems: list[str] = field(default_factory=list)
    # The ids of the entries named in `problems`, with what is wrong with each, by id.
    broken: dict[int, list[str]] = field(default_factory=dict)
    # How many entries at the start of the log still hold unkeyed (pre-upgrade) hashes.
    unkeyed: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_broken(self) -> int | None:
        """The id of the first entry that fails, or None."""
        return next(iter(self.broken), None)


def verify(expect_head: str | None = None) -> AuditReport:
    """Walk the whole log by id and report every place the chain doesn't hold.

    - "its content was changed": an entry's stored content and previous hash no
      longer give its stored hash under this app's key (an edited actor, action,
      target, details, time or hash, or an entry written without the key).
    - "the entry before it is missing or out of order": an entry's prev_hash is
      not the hash of the entry before it (GENESIS for the first): an entry was
      removed in between, or entries were reordered.
    - "not keyed yet": entries at the start of the log whose hash is the plain
      SHA-256 of a log written before the chain was keyed. They are reported
      until `chorus audit rekey` re-hashes them; an unkeyed entry after a keyed
      one can only have been forged, so it counts as changed.
    - with `expect_head` (a head hash noted earlier): that entry must still be
      in the chain. The log may have grown since, but if the noted entry is gone
      the last entries were removed or rewritten, which the chain alone can't show.

    It never stops at the first problem, so one report shows all the damage; the
    problems are in the order of the entries, so the first names the first entry
    that fails.
    """
    rows = db.session.execute(
        select(*_COLUMNS).order_by(AuditEntry.id).execution_options(yield_per=1000)
    )
    problems: list[str] = []
    count = 0
    unkeyed = 0
    keyed_seen = False
    previous = GENESIS
    seen_expected = expect_head is None or expect_head == GENESIS
    broken: dict[int, list[str]] = {}
    for row in rows:
        count += 1
        if _stored_hash(row) == row.entry_hash:
            keyed_seen = True
        elif not keyed_seen and _unkeyed_hash(row) == row.entry_hash:
            unkeyed += 1
            broken.setdefault(row.id, []).append(UNKEYED)
        else:
            broken.setdefault(row.id, []).append(CHANGED)
            problems.append(f"entry {row.id}: {CHANGED}")
        if row.prev_hash != previous:
            broken.setdefault(row.id, []).append(OUT_OF_ORDER)
            problems.append(f"entry {row.id}: {OUT_OF_ORDER}")
        if row.entry_hash == expect_head:
            seen_expected = True
        previous = row.entry_hash
    if unkeyed:
        problems.insert(
            0,
            f"the first {unkeyed} entr{'y was' if unkeyed == 1 else 'ies were'} written "
            "before the chain was keyed and can still be rewritten by anyone who can write "
            "to the database: run `chorus audit rekey` once after upgrading",
        )
    if not seen_expected:
        problems.append(
            f"the last entries were removed or changed: head is {previous}, expected {expect_head}"
        )
    return AuditReport(
        count=count, head=previous, problems=problems, broken=broken, unkeyed=unkeyed
    )


@dataclass
class Rekeyed:
    """What `rekey` did: how many unkeyed entries it found, the hash of the last of
    them (the head before the upgrade), and the log's head before and after."""

    unkeyed: int
    unkeyed_head: str
    old_head: str
    new_head: str


def rekey() -> Rekeyed:
    """Re-hash a log written before the chain was keyed under this app's key.

    Run once, after upgrading. It refuses (AuditError, nothing changed) unless the
    log's only problem is unkeyed entries at its start, i.e. the old chain still
    holds, and unless the log was never re-keyed before: unkeyed entries in a
    log that was re-keyed once were forged, and re-keying them would launder them.
    Every entry's hash changes (each covers the one before), so a head hash noted
    before is only good for `old_head`. Records the re-keying in the log itself.
    """
    _wait_for_our_turn()  # no appends while the hashes change
    report = verify()
    damage = [p for p in report.problems if "chorus audit rekey" not in p]
    if damage:
        db.session.rollback()
        raise AuditError(
            "The log's chain is broken, so it can't be re-keyed:\n" + "\n".join(damage)
        )
    if report.unkeyed == 0:
        db.session.rollback()
        raise AuditError("Every entry is already keyed: nothing to re-key.")
    if db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == REKEY_ACTION).limit(1)):
        db.session.rollback()
        raise AuditError(
            "This log was re-keyed before, so its unkeyed entries were written since by "
            "someone without the key. Restore the log from a backup instead."
        )
    rows = db.session.execute(select(*_COLUMNS).order_by(AuditEntry.id)).all()
    unkeyed_head = rows[report.unkeyed - 1].entry_hash
    previous = GENESIS
    for row in rows:
        digest = entry_hash(previous, row.at, row.actor, row.action, row.target, row.details)
        db.session.execute(
            cast(Table, AuditEntry.__table__)
            .update()
            .where(AuditEntry.id == row.id)
            .values(prev_hash=previous, entry_hash=digest)
        )
        previous = digest
    db.session.commit()
    db.session.expire_all()
    return Rekeyed(
        unkeyed=report.unkeyed, unkeyed_head=unkeyed_head, old_head=report.head, new_head=previous
    )


def last_entries(n: int) -> list[AuditEntry]:
    """The newest `n` entries, oldest first (fresh from the table)."""
    newest = db.session.scalars(
        select(AuditEntry)
        .order_by(AuditEntry.id.desc())
        .limit(n)
        .execution_options(populate_existing=True)
    ).all()
    return list(reversed(newest))
