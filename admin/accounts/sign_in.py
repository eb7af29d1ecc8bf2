"""Staff accounts and signing in: TOTP second factors and backup codes, server-side
staff sessions, and the throttles that make guessing pointless (passwords, and the
count of wrong ones, are admin/accounts/passwords.py's).

Who may use which page is declared with admin/access.py's `allow`; the guard there
turns everyone else away."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import segno
from argon2.exceptions import InvalidHashError, VerificationError
from flask import (
    g,
    session,
)
from flask_login import LoginManager
from markupsafe import Markup
from sqlalchemy import ColumnElement, case, delete, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from admin.accounts.passwords import (
    LOCKOUT,
    aware,
    count_password_attempt,
    dummy_hash,
    forget_wrong_passwords,
    hash_password,
    is_locked,
    may_check_password,
    normalise_email,
    password_hasher,
    password_problem,
    refuse_password,
)
from admin.custody.keys import give_custodian_key, refresh_custodian_key
from admin.custody.unlock import lock_everything
from survey import crypto
from survey.config import app_subkey
from survey.events import announce
from survey.models import Organisation, Role, StaffSession, User, db, rows_changed
from survey.retention import staff_session_limits
from survey.surveys import lookup_secret

login_manager = LoginManager()

MAX_FAILED_SECOND_FACTORS = 5
# Wrong codes after one password before the password must be typed again.
MAX_CODES_PER_PASSWORD = 3
BACKUP_CODES = 10
PENDING_2FA_SECONDS = 300

# --- accounts ---------------------------------------------------------------------------


class AccountError(ValueError):
    """An account operation that can't be done; the message says why."""


def create_user(email: str, roles: list[Role], password: str, organisation: str | None) -> User:
    """A new member of staff; company readers belong to exactly one organisation."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
        raise AccountError(f"{email!r} is not an email address.")
    if not roles:
        raise AccountError("Give at least one role.")
    if db.session.scalar(select(User).where(User.email == email)):
        raise AccountError(f"There is already an account for {email}.")
    if (Role.COMPANY in roles) != bool(organisation):
        raise AccountError("A company reader needs --org, and only company readers have one.")
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    org = None
    if organisation:
        org = db.session.scalar(select(Organisation).where(Organisation.name == organisation))
        if org is None:
            org = Organisation(name=organisation)
            db.session.add(org)
    user = User(
        email=email,
        roles=" ".join(sorted(r.value for r in set(roles))),
        password_hash=hash_password(password),
        organisation=org,
        must_change_password=True,
    )
    db.session.add(user)
    give_custodian_key(user, password)
    db.session.commit()
    return user


# --- staff sessions ---------------------------------------------------------------------
#
# A signed-in browser holds a random token in its (signed) cookie; the server keeps
# a row named by an HMAC of it. Deleting the row signs that browser out, whatever
# copies of its cookie exist.

STAFF_SESSION_KEY = "staff_session"
# last_seen_at is written at most this often, not on every request.
SEEN_EVERY = timedelta(minutes=1)
# What Flask-Login keeps in the session besides our token.
FLASK_LOGIN_KEYS = ("_user_id", "_fresh", "_id")


def _staff_session_id(token: str) -> str:
    key = app_subkey("chorus-staff-session/1")
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def start_staff_session(user: User) -> None:
    """A new server-side session for this browser (the caller commits)."""
    token = secrets.token_urlsafe(32)  # 256 bits, only ever in the cookie
    db.session.add(StaffSession(id=_staff_session_id(token), user_id=user.id))
    session[STAFF_SESSION_KEY] = token


def end_staff_session() -> None:
    """Sign this browser out on the server: its row goes (commits)."""
    token = session.pop(STAFF_SESSION_KEY, None)
    if isinstance(token, str):
        db.session.execute(delete(StaffSession).where(StaffSession.id == _staff_session_id(token)))
        db.session.commit()


def end_all_staff_sessions(user: User) -> None:
    """Sign the account out everywhere (the caller commits).

    Every session row goes, and the session version moves on, so a sign-in
    waiting for its second factor can't finish either.
    """
    user.session_version += 1
    db.session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))


def _staff_session_alive(user: User) -> bool:
    """Whether this browser's session is on the server, within its limits; a lapsed
    one is deleted, and a live one marked as seen (at most once a minute)."""
    token = session.get(STAFF_SESSION_KEY)
    if not isinstance(token, str):
        return False
    row = db.session.get(StaffSession, _staff_session_id(token))
    if row is None or row.user_id != user.id:
        return False
    now = datetime.now(UTC)
    idle, absolute = staff_session_limits()
    last_seen = aware(row.last_seen_at)
    if now - last_seen > idle or now - aware(row.created_at) > absolute:
        db.session.delete(row)
        db.session.commit()
        return False
    if now - last_seen >= SEEN_EVERY:
        row.last_seen_at = now
        db.session.commit()
    return True


def _forget_ended_session() -> None:
    """This browser's staff session has ended: nothing of it stays usable here."""
    lock_everything()  # survey keys unlocked in it end with it
    session.pop(STAFF_SESSION_KEY, None)
    for key in FLASK_LOGIN_KEYS:
        session.pop(key, None)
    g.staff_session_ended = True  # the guard says so on the way to the sign-in page


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The signed-in user, while their session lives on the server.

    The id names the user and their session version; the session's own token
    must find a live row of theirs in `staff_sessions`.
    """
    uid, _, version = user_id.partition(":")
    user = db.session.get(User, int(uid)) if uid.isdigit() and version.isdigit() else None
    if user is None or not user.active or user.session_version != int(version):
        _forget_ended_session()
        return None
    if not _staff_session_alive(user):
        _forget_ended_session()
        return None
    return user


# --- sign-in ------------------------------------------------------------------------------

SIGN_IN_REFUSED = (
    "That email and password don't match an account that can sign in now. "
    "After several wrong tries an account is locked for 15 minutes."
)


def check_password(email: str, password: str) -> User | None:
    """The user if the password is right and the account isn't locked.

    Every refusal costs the same argon2 work, the same database write (the
    email's throttle row, which unknown emails get too) and says the same thing,
    so neither the answer nor its cost tells whether an account exists or is locked.
    """
    hasher = password_hasher()
    now = datetime.now(UTC)
    # Counted first, then the account read: a lock that an earlier attempt set is
    # seen, and attempts sent at once past the fifth aren't checked at all.
    attempt = count_password_attempt(email, now)
    user = db.session.scalar(
        select(User)
        .where(User.email == normalise_email(email))
        .execution_options(populate_existing=True)
    )
    checkable = may_check_password(user, attempt, now)
    stored = user.password_hash if user is not None and checkable else dummy_hash(hasher)
    try:
        correct = hasher.verify(stored, password) and checkable
    except (VerificationError, InvalidHashError):
        correct = False
    if user is None or not correct or not user.active:
        refuse_password(email, user, attempt, now)
        return None
    forget_wrong_passwords(email)
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    # An analyst made before custody existed, or given the role since, gets a key now;
    # one stored under older argon2 settings is stored again under today's.
    if give_custodian_key(user, password):
        announce("custody.key_created", user.email, user.email)
    refresh_custodian_key(user, password)
    db.session.commit()
    return user


# --- two-factor ------------------------------------------------------------------------------


def _totp_key() -> bytes:
    return app_subkey("chorus-totp/1")


def _totp_aad(user: User) -> bytes:
    return crypto.wrap_aad(0, f"totp:{user.id}")


def totp_secret(user: User) -> str | None:
    if user.totp_secret_sealed is None:
        return None
    return crypto.decrypt(_totp_key(), user.totp_secret_sealed, _totp_aad(user)).decode()


def start_totp_enrolment(user: User) -> str:
    """A new, unconfirmed TOTP secret for the user (replacing any unconfirmed one)."""
    secret = pyotp.random_base32()
    user.totp_secret_sealed = crypto.encrypt(_totp_key(), secret.encode(), _totp_aad(user))
    user.totp_confirmed = False
    db.session.commit()
    return secret


def _backup_lookup(code: str) -> str:
    return crypto.code_lookup(lookup_secret(), "staff-backup", code)


def check_second_factor(user: User, typed: str) -> bool:
    """A current TOTP code (each time step once only) or an unused backup code.

    A code is spent by one UPDATE that only the first request bringing it can
    make (the step moves on, or the backup code's list is still the one read), so
    the same code sent from several sign-ins at once lets one of them in.
    """
    secret = totp_secret(user)
    digits = "".join(ch for ch in typed if ch.isdigit())
    if secret and len(digits) == 6 and len(typed.strip()) <= 8:
        totp = pyotp.TOTP(secret)
        now = datetime.now(UTC)
        for offset in (-1, 0, 1):  # one step of clock drift either way
            moment = now + timedelta(seconds=30 * offset)
            step = int(moment.timestamp()) // 30
            if step > user.totp_last_step and totp.verify(digits, for_time=moment):
                spent = _spend(user, User.totp_last_step < step, totp_last_step=step)
                if spent:
                    set_committed_value(user, "totp_last_step", step)
                return spent
        return False
    db.session.refresh(user, ["backup_code_lookups"])
    read = user.backup_code_lookups or "[]"
    lookups = json.loads(read)
    lookup = _backup_lookup(typed) if crypto.is_well_formed_code(typed) else None
    if lookup and lookup in lookups:
        lookups.remove(lookup)
        left = json.dumps(lookups)
        unchanged = User.backup_code_lookups == read
        if not _spend(user, unchanged, backup_code_lookups=left):
            return False
        set_committed_value(user, "backup_code_lookups", left)
        announce("user.backup_code_used", user.email, user.email, left=len(lookups))
        return True
    return False


def _spend(user: User, still_unspent: ColumnElement[bool], **values: Any) -> bool:
    """Write `values` to the account only if `still_unspent` holds on its row (commits);
    whether it did: False when another request spent the same code first."""
    result = db.session.execute(
        update(User).where(User.id == user.id, still_unspent).values(**values),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    return rows_changed(result) == 1


def wrong_codes(user: User, now: datetime | None = None) -> int:
    """Wrong second-factor codes counted on the account now: none once a lock has
    ended (the next attempt starts the count again, see `_count_code_attempt`)."""
    if user.locked_until is not None and not is_locked(user, now or datetime.now(UTC)):
        return 0
    return user.failed_second_factors


def _count_code_attempt(user: User, now: datetime) -> tuple[int, bool] | None:
    """Count one second-factor attempt, and lock at the fifth, in ONE statement;
    commits. Returns (which attempt this is, whether it locked the account), or
    None when the account is locked and the code must not be checked.

    Counting and locking are one UPDATE ... RETURNING on the account's row, so
    attempts sent at once queue on that row (PostgreSQL re-checks the WHERE on
    the row as the previous attempt left it; SQLite runs one writer at a time):
    once the fifth has set the lock, every attempt behind it finds the account
    locked and is refused unchecked. Nothing resets the count while others are in
    flight; a lock that has ended starts it again at one.
    """
    counted = case((User.locked_until.is_not(None), 1), else_=User.failed_second_factors + 1)
    until = now + LOCKOUT
    row = db.session.execute(
        update(User)
        .where(User.id == user.id, or_(User.locked_until.is_(None), User.locked_until <= now))
        .values(
            failed_second_factors=counted,
            locked_until=case((counted >= MAX_FAILED_SECOND_FACTORS, until), else_=None),
        )
        .returning(User.failed_second_factors, User.locked_until),
        execution_options={"synchronize_session": False},
    ).first()
    db.session.commit()
    if row is None:
        db.session.refresh(user, ["failed_second_factors", "locked_until"])
        return None
    attempt, locked_until = row
    # What the row holds now, without marking the account changed (a later flush
    # must not write a stale count back over attempts made meanwhile).
    set_committed_value(user, "failed_second_factors", attempt)
    set_committed_value(user, "locked_until", locked_until)
    return attempt, locked_until is not None


def check_sign_in_code(user: User, typed: str) -> bool:
    """The second factor at sign-in, counted against the account.

    Five wrong codes (TOTP or backup) lock the account as wrong passwords do,
    wherever they come from; only a right code resets the count. A locked
    account's code is refused, right or not, and never checked: the attempt is
    counted (and the lock set) before its code is looked at, in one step, so at
    most five codes are checked per lock however many arrive at once.
    """
    now = datetime.now(UTC)
    counted = _count_code_attempt(user, now)
    if counted is None:
        return False
    attempt, locked_now = counted
    if attempt <= MAX_FAILED_SECOND_FACTORS and check_second_factor(user, typed):
        # A right code: the count starts again, and a lock this attempt set is lifted.
        db.session.execute(
            update(User)
            .where(User.id == user.id)
            .values(
                failed_second_factors=0,
                locked_until=case(
                    (User.locked_until == now + LOCKOUT, None), else_=User.locked_until
                ),
            ),
            execution_options={"synchronize_session": False},
        )
        db.session.commit()
        db.session.refresh(user, ["failed_second_factors", "locked_until"])
        return True
    if locked_now:
        # Whoever typed the wrong codes may not be the account's owner.
        announce("user.locked", "system:sign-in-throttle", user.email)
    return False


def pending_sign_in_spent(user: User, pending: dict[str, Any]) -> bool:
    """Whether a sign-in waiting for its code must start again from the password.

    The count lives on the account, not in the cookie (which could be replayed):
    three wrong codes since this password, a lock, or a reset count end it.
    """
    since = int(pending.get("f", 0))
    wrong = wrong_codes(user) - since
    return wrong < 0 or wrong >= MAX_CODES_PER_PASSWORD or is_locked(user, datetime.now(UTC))


def confirm_totp(user: User, typed: str) -> list[str] | None:
    """Confirm enrolment with a first code; returns new backup codes (shown once)."""
    if user.totp_secret_sealed is None or not check_second_factor(user, typed):
        return None
    codes = [crypto.generate_code() for _ in range(BACKUP_CODES)]
    user.totp_confirmed = True
    user.backup_code_lookups = json.dumps([_backup_lookup(c) for c in codes])
    db.session.commit()
    announce("user.2fa_enabled", user.email, user.email)
    return codes


def qr_svg(uri: str) -> Markup:
    """The provisioning URI as an inline SVG QR code (no image request, CSP-safe)."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, dark="#1d1d1f", light="#ffffff")
    return Markup(svg)  # noqa: S704 - segno's own SVG markup, built from our URI
