"""Key custody: analysts' own keys, grants of survey keys, unlock sessions, recovery.

Every analyst has an X25519 key pair whose private half is stored only under
argon2id(their password). A survey's private key is sealed to each custodian's
public key and wrapped under the survey's recovery code (survey.surveys does the
sealing and unwrapping; this module keeps analysts' keys in step with their
passwords and serves the custody pages).

An admin who resets a password can't know the old one, so the analyst's old
private key is gone for good: their grants are deleted and they get a new key.
Another custodian, or the recovery code with a second person's approval (see
"restoring with the recovery code" below), grants the surveys again.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from flask import (
    Blueprint,
    Flask,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from admin.access import allow, staff_member, survey_or_404
from survey import crypto
from survey.config import password_cost
from survey.events import announce
from survey.models import AuditEntry, Role, Survey, SurveyKeyWrap, SurveyStatus, User, db
from survey.surveys import (
    SurveyError,
    can_be_custodian,
    confirm_key_sheet,
    custodian_private_key,
    custodian_wrap,
    custodians_of,
    grant_key,
    is_opener,
    key_sheet_groups,
    pending_restore,
    prepare_keys,
    unwrap_with_password,
    unwrap_with_recovery_code,
)
from survey.surveys import open_survey as open_survey_now


def _store(user: User, key: crypto.CustodianKey) -> None:
    user.custodian_public_key = key.public_key
    user.custodian_key_sealed = key.sealed_private_key
    user.custodian_key_salt = key.salt
    user.custodian_key_kdf = key.cost.to_text()


def give_custodian_key(user: User, password: str) -> bool:
    """Make an analyst's key pair if they have none (no commit); True if one was made.

    Called wherever the password is in hand: account creation and sign-in.
    """
    if not user.has_role(Role.ANALYST) or user.custodian_public_key is not None:
        return False
    if user.id is None:
        db.session.flush()
    _store(user, crypto.new_custodian_key(user.id, password, password_cost(current_app.config)))
    return True


def refresh_custodian_key(user: User, password: str) -> bool:
    """At sign-in: store the key under today's argon2 settings if they changed (no
    commit); True if it was re-stored. The key pair and every grant stay the same."""
    cost = password_cost(current_app.config)
    if user.custodian_key_kdf in (None, cost.to_text()):
        return False
    try:
        private_key = custodian_private_key(user, password)
    except SurveyError:
        return False
    _store(user, crypto.store_custodian_key(user.id, private_key, password, cost))
    return True


def rewrap_custodian_key(user: User, old_password: str, new_password: str) -> None:
    """Store the custodian's private key under their new password (no commit).

    Grants stay valid: they are sealed to the public key, which doesn't change.
    """
    if user.custodian_key_sealed is None:
        give_custodian_key(user, new_password)
        return
    try:
        private_key = custodian_private_key(user, old_password)
    except SurveyError:
        # The stored key no longer matches the password (it can't happen through
        # Chorus); the key is lost either way, so start again as a reset would.
        forget_custodian_key(user)
        give_custodian_key(user, new_password)
        return
    _store(
        user,
        crypto.store_custodian_key(
            user.id, private_key, new_password, password_cost(current_app.config)
        ),
    )


def forget_custodian_key(user: User) -> list[str]:
    """Delete an analyst's key pair and every grant sealed to it (no commit).

    Returns the slugs of the surveys whose grants were lost.
    """
    wraps = db.session.scalars(
        select(SurveyKeyWrap)
        .where(SurveyKeyWrap.user_id == user.id)
        .options(joinedload(SurveyKeyWrap.survey))
    ).all()
    lost = sorted(w.survey.slug for w in wraps)
    for wrap in wraps:
        wrap.survey.key_wraps.remove(wrap)
    user.custodian_public_key = None
    user.custodian_key_sealed = None
    user.custodian_key_salt = None
    user.custodian_key_kdf = None
    return lost


def reset_custodian_key(user: User, new_password: str) -> list[str]:
    """After an admin's password reset: a new key pair, and every old grant gone.

    Returns the slugs of the surveys whose grants were lost (no commit).
    """
    lost = forget_custodian_key(user)
    give_custodian_key(user, new_password)
    return lost


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


class RedisUnlockStore:
    """Unlock entries in Redis, shared by every app process; Redis expires them."""

    PREFIX = "chorus:unlock:"

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url)

    def put(self, handle: str, blob: bytes, idle_seconds: int) -> None:
        self._redis.set(self.PREFIX + handle, blob, ex=idle_seconds)

    def touch(self, handle: str, idle_seconds: int) -> bytes | None:
        blob = self._redis.getex(self.PREFIX + handle, ex=idle_seconds)
        return blob if isinstance(blob, bytes) else None

    def alive(self, handle: str) -> bool:
        return bool(self._redis.exists(self.PREFIX + handle))

    def delete(self, handle: str) -> None:
        self._redis.delete(self.PREFIX + handle)


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


# --- custody operations, for the pages below ---------------------------------------------


def unlock(survey: Survey, user: User, password: str) -> None:
    """Unlock with the analyst's own password (SurveyError if it can't)."""
    keep_unlocked(survey, user, unwrap_with_password(survey, user, password))
    announce("custody.unlock", user.email, survey.slug)


# --- restoring with the recovery code: a second person approves ---------------------------
#
# The recovery code opens the survey's key on its own, and whoever opened the
# survey has seen it. So an analyst who types it gets a grant that is made at
# once (the server holds the key only now, while it has the code) but pending:
# it opens nothing until an admin who is neither the analyst nor the survey's
# opener approves it. Refusing deletes it. Every step is audited, and the
# survey's custodians see the requests and their outcome on its key page.

RESTORE_ACTIONS = (
    "custody.restore_requested",
    "custody.restore_approved",
    "custody.restore_refused",
)


def request_restore(survey: Survey, user: User, recovery_code: str) -> None:
    """A pending grant of the survey's key to this analyst, made from the recovery code."""
    if is_opener(survey, user):
        raise SurveyError(
            "You opened this survey and saw its recovery code, so you can't also restore "
            "access with it: another analyst must."
        )
    if pending_restore(survey, user) is not None:
        raise SurveyError("Your restore is already waiting for an admin's approval.")
    if custodian_wrap(survey, user) is not None:
        raise SurveyError("You already hold this survey's key: unlock it with your password.")
    private_key = unwrap_with_recovery_code(survey, recovery_code)
    grant_key(survey, private_key, user, pending=True)
    del private_key
    db.session.commit()
    announce("custody.restore_requested", user.email, survey.slug)


def pending_restores() -> list[SurveyKeyWrap]:
    """Every restore waiting for an admin's approval, oldest first."""
    return list(
        db.session.scalars(
            select(SurveyKeyWrap)
            .where(SurveyKeyWrap.pending.is_(True))
            .options(joinedload(SurveyKeyWrap.survey), joinedload(SurveyKeyWrap.user))
            .order_by(SurveyKeyWrap.id)
        )
    )


def _may_decide(wrap: SurveyKeyWrap, admin: User) -> None:
    """SurveyError unless this admin is a second person for this restore."""
    if not wrap.pending:
        raise SurveyError("That restore has already been decided.")
    if wrap.user_id == admin.id:
        raise SurveyError("You can't decide your own restore: another admin must.")
    if is_opener(wrap.survey, admin):
        raise SurveyError(
            "You opened this survey and saw its recovery code, so another admin must decide."
        )


def approve_restore(wrap: SurveyKeyWrap, admin: User) -> None:
    """A second person agrees: the pending grant becomes an ordinary one."""
    _may_decide(wrap, admin)
    wrap.pending = False
    db.session.commit()
    holder = wrap.user.email if wrap.user else ""
    announce("custody.restore_approved", admin.email, wrap.survey.slug, holder=holder)


def refuse_restore(wrap: SurveyKeyWrap, admin: User) -> None:
    """A second person says no: the pending grant is deleted."""
    _may_decide(wrap, admin)
    survey = wrap.survey
    holder = wrap.user.email if wrap.user else ""
    survey.key_wraps.remove(wrap)
    db.session.commit()
    announce("custody.restore_refused", admin.email, survey.slug, holder=holder)


class RestoreEvent(NamedTuple):
    at: datetime
    text: str


def restore_history(survey: Survey, limit: int = 20) -> list[RestoreEvent]:
    """The survey's restore requests and their outcomes, newest first, as the
    audit log recorded them."""
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.target == survey.slug, AuditEntry.action.in_(RESTORE_ACTIONS))
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    events = []
    for entry in entries:
        holder = json.loads(entry.details or "{}").get("holder", "")
        if entry.action == "custody.restore_requested":
            text = f"{entry.actor} asked to restore access with the recovery code"
        elif entry.action == "custody.restore_approved":
            text = f"{holder}'s restore approved by {entry.actor}"
        else:
            text = f"{holder}'s restore refused by {entry.actor}"
        events.append(RestoreEvent(entry.at, text))
    return events


def grant(survey: Survey, granter: User, grantee: User) -> None:
    """An unlocked custodian seals the survey's key to another analyst."""
    private_key = unlocked_key(survey, granter)
    if private_key is None:
        raise SurveyError("Unlock the survey first: granting needs its key.")
    if grantee.id == granter.id:
        raise SurveyError("You can't give the key to yourself: choose another analyst.")
    grant_key(survey, private_key, grantee)
    db.session.commit()
    announce("custody.grant", granter.email, survey.slug, to=grantee.email)


def revoke(survey: Survey, actor: User, holder: User) -> None:
    """Remove a custodian's grant; the last custodian's can't be removed."""
    wrap = custodian_wrap(survey, holder)
    if wrap is None:
        raise SurveyError(f'{holder.email} holds no key for "{survey.slug}".')
    if len(custodians_of(survey)) == 1:
        raise SurveyError(
            "At least one custodian must hold the key. Grant it to someone else first."
        )
    survey.key_wraps.remove(wrap)
    db.session.commit()
    announce("custody.revoke", actor.email, survey.slug, holder=holder.email)


def eligible_custodians() -> list[User]:
    """Analysts, by email, for choosing custodians (with `can_be_custodian` reasons)."""
    users = db.session.scalars(select(User).order_by(User.email)).all()
    return [u for u in users if u.has_role(Role.ANALYST)]


# --- pages ---------------------------------------------------------------------------------

bp = Blueprint("keys", __name__, url_prefix="/staff/surveys")
RATE_LIMITS = {"keys.unlock_survey": "10 per minute", "keys.restore": "10 per minute"}
STAFF_WHO_OPEN = (Role.FACILITATOR, Role.ADMIN)


def _user_from_form(field: str) -> User | None:
    value = request.form.get(field, "")
    return db.session.get(User, int(value)) if value.isdigit() and len(value) < 10 else None


@bp.route("/<slug>/open", methods=["GET", "POST"])
@allow(*STAFF_WHO_OPEN)
def open_survey(slug: str):
    """Choose custodians, then print the key sheet (the first step of opening)."""
    survey = survey_or_404(slug)
    if survey.status != SurveyStatus.DRAFT.value:
        return render_template("admin/keys/open.html", survey=survey, analysts=[], error=None)
    if request.method == "GET" and key_sheet_groups(survey) and "new" not in request.args:
        return redirect(url_for("keys.confirm_sheet", slug=slug))
    error = None
    chosen = {v for v in request.form.getlist("custodian") if v.isdigit() and len(v) < 10}
    if request.method == "POST":
        custodians = [u for u in eligible_custodians() if str(u.id) in chosen]
        if not custodians:
            error = "Choose at least one key custodian: an analyst who will read the answers."
        elif request.form.get("understood") != "yes":
            error = "Confirm that you understand what losing the key sheet means."
        else:
            try:
                code = prepare_keys(survey, custodians, opener=staff_member())
            except SurveyError as exc:
                error = str(exc)
            else:
                emails = [u.email for u in custodians]
                announce("survey.keys_made", current_user.email, slug, custodians=emails)
                return render_template(
                    "admin/keys/key_sheet.html",
                    survey=survey,
                    groups=list(enumerate(code.split("-"), start=1)),
                    custodians=custodians,
                    made_on=datetime.now(UTC).date().isoformat(),
                )
    page = render_template(
        "admin/keys/open.html",
        survey=survey,
        analysts=[(u, _why_not_custodian(u)) for u in eligible_custodians()],
        chosen=chosen,
        understood=request.form.get("understood") == "yes",
        error=error,
    )
    return page, 422 if error else 200


def _why_not_custodian(user: User) -> str | None:
    """Why this analyst can't be chosen on the opening page, or None when they can."""
    if user.id == staff_member().id:
        return "you are opening it and will see the recovery code"
    return can_be_custodian(user)


@bp.route("/<slug>/open/confirm", methods=["GET", "POST"])
@allow(*STAFF_WHO_OPEN)
def confirm_sheet(slug: str):
    """Re-type two groups of the recovery code from the printed sheet; then it opens."""
    survey = survey_or_404(slug)
    groups = key_sheet_groups(survey)
    if groups is None:
        return redirect(url_for("keys.open_survey", slug=slug))
    error = None
    typed = {n: request.form.get(f"group-{n}", "")[:40] for n in groups}
    if request.method == "POST":
        try:
            confirm_key_sheet(survey, typed)
            open_survey_now(survey)
        except SurveyError as exc:
            error = str(exc)
        else:
            announce("survey.open", current_user.email, slug, new_keys=True)
            return render_template("admin/keys/opened.html", survey=survey)
    page = render_template(
        "admin/keys/confirm_sheet.html", survey=survey, groups=groups, typed=typed, error=error
    )
    return page, 422 if error else 200


def _custody_page(survey: Survey, error: str | None = None, error_field: str = ""):
    me = staff_member()
    holds = custodian_wrap(survey, me) is not None
    holders = custodians_of(survey)
    waiting = {w.user_id for w in survey.key_wraps if w.pending}
    grantees = [
        u
        for u in eligible_custodians()
        if u not in holders and u.id not in waiting and can_be_custodian(u) is None
    ]
    page = render_template(
        "admin/keys/custody.html",
        survey=survey,
        custodians=holders,
        holds=holds,
        is_analyst=me.has_role(Role.ANALYST),
        unlocked=holds and unlocked_key(survey, me) is not None,
        my_restore=pending_restore(survey, me),
        opener=is_opener(survey, me),
        restores=[w for w in survey.key_wraps if w.pending],
        history=restore_history(survey) if holds or me.has_role(Role.ADMIN) else [],
        grantees=grantees,
        idle_minutes=current_app.config["CHORUS_UNLOCK_IDLE_MINUTES"],
        error=error,
        error_field=error_field,
    )
    return page, 422 if error else 200


@bp.get("/<slug>/keys")
@allow(Role.ANALYST, Role.FACILITATOR, Role.ADMIN)
def custody(slug: str):
    """Who holds the survey's key; for analysts: unlock, lock, grant, revoke, restore."""
    return _custody_page(survey_or_404(slug))


def _act(slug: str, error_field: str, action: Callable[[Survey, User], None]):
    """Do one custody action for the signed-in analyst; back to the custody page,
    or the page again with the reason beside `error_field`."""
    survey = survey_or_404(slug)
    try:
        action(survey, staff_member())
    except SurveyError as exc:
        return _custody_page(survey, str(exc), error_field)
    return redirect(url_for("keys.custody", slug=slug))


@bp.post("/<slug>/keys/unlock")
@allow(Role.ANALYST)
def unlock_survey(slug: str):
    password = request.form.get("password", "")[:1000]
    return _act(slug, "password", lambda survey, me: unlock(survey, me, password))


@bp.post("/<slug>/keys/lock")
@allow(Role.ANALYST)
def lock_survey(slug: str):
    def lock_now(survey: Survey, me: User) -> None:
        if lock(survey):
            announce("custody.lock", me.email, slug)

    return _act(slug, "custodians", lock_now)


@bp.post("/<slug>/keys/grant")
@allow(Role.ANALYST)
def grant_to(slug: str):
    def grant_to_chosen(survey: Survey, me: User) -> None:
        grantee = _user_from_form("user_id")
        if grantee is None:
            raise SurveyError("Choose the analyst who should hold the key.")
        grant(survey, me, grantee)

    return _act(slug, "grantee", grant_to_chosen)


@bp.post("/<slug>/keys/revoke")
@allow(Role.ANALYST)
def revoke_from(slug: str):
    def revoke_chosen(survey: Survey, me: User) -> None:
        holder = _user_from_form("user_id")
        if holder is None:
            raise SurveyError("Choose whose key to take back.")
        if custodian_wrap(survey, me) is None:
            raise SurveyError("Only someone who holds the key can take another's back.")
        revoke(survey, me, holder)

    return _act(slug, "custodians", revoke_chosen)


@bp.post("/<slug>/keys/restore")
@allow(Role.ANALYST)
def restore(slug: str):
    code = request.form.get("recovery_code", "")[:200]
    return _act(slug, "recovery_code", lambda survey, me: request_restore(survey, me, code))


# The admins' page of restores waiting for a second person. Its own prefix: under
# /staff/surveys/ a fixed name would hide a survey of the same slug.
restores_bp = Blueprint("restores", __name__, url_prefix="/staff/restores")


def _restores_page(error: str | None = None, status: int = 200):
    me = staff_member()
    page = render_template(
        "admin/keys/restores.html",
        restores=[(w, _why_not_decide(w, me)) for w in pending_restores()],
        error=error,
        error_field="restores",
    )
    return page, status


def _why_not_decide(wrap: SurveyKeyWrap, admin: User) -> str | None:
    try:
        _may_decide(wrap, admin)
    except SurveyError as exc:
        return str(exc)
    return None


@restores_bp.get("/")
@allow(Role.ADMIN)
def restores():
    """Restores with the recovery code waiting for an admin's approval."""
    return _restores_page()


def _decide(decision: Callable[[SurveyKeyWrap, User], None]):
    value = request.form.get("restore_id", "")
    wrap = (
        db.session.get(SurveyKeyWrap, int(value)) if value.isdigit() and len(value) < 10 else None
    )
    if wrap is None or not wrap.pending:
        return _restores_page("Choose a restore from the list.", 422)
    try:
        decision(wrap, staff_member())
    except SurveyError as exc:
        db.session.rollback()
        return _restores_page(str(exc), 409)
    return redirect(url_for("restores.restores"))


@restores_bp.post("/approve")
@allow(Role.ADMIN)
def approve():
    return _decide(approve_restore)


@restores_bp.post("/refuse")
@allow(Role.ADMIN)
def refuse():
    return _decide(refuse_restore)


def init_app(app: Flask) -> None:
    redis_url = app.config.get("CHORUS_REDIS_URL")
    app.extensions["chorus_unlocks"] = (
        RedisUnlockStore(redis_url) if redis_url else MemoryUnlockStore()
    )
    app.register_blueprint(bp)
    app.register_blueprint(restores_bp)
