"""Staff passwords: argon2id hashing, and the count of wrong ones that locks an account.

Wrong passwords are counted per email (`sign_in_throttles`) wherever a password is
checked: the sign-in (admin/accounts/sign_in.py), the password page, and the key
page's unlock form (admin/custody/pages.py), so that none of them lets anyone test
guesses beyond the sign-in's five. This module imports nothing of the staff side,
so custody's pages can use it without importing the sign-in (which uses custody).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from survey import crypto
from survey.config import app_subkey
from survey.events import announce
from survey.models import SignInThrottle, User, db

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12

# --- hashing --------------------------------------------------------------------------


def password_hasher() -> PasswordHasher:
    """argon2id; tests make it cheap through the config, not by changing code."""
    config = current_app.config
    return PasswordHasher(
        time_cost=int(config["CHORUS_ARGON2_TIME_COST"]),
        memory_cost=int(config["CHORUS_ARGON2_MEMORY_KIB"]),
        parallelism=1,
    )


def hash_password(password: str) -> str:
    return password_hasher().hash(password)


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > 1000:
        return "Use at most 1000 characters."
    return None


def generate_password() -> str:
    """A one-time password for a new account (about 100 bits)."""
    return crypto.generate_code(20)


def normalise_email(email: str) -> str:
    return email.strip().lower()


# --- wrong passwords ---------------------------------------------------------------------


def throttle_lookup(email: str) -> str:
    """HMAC of the normalised email: an unknown email is never stored in the clear."""
    key = app_subkey("chorus-sign-in-throttle/1")
    return hmac.new(key, normalise_email(email).encode(), hashlib.sha256).hexdigest()


def forget_wrong_passwords(email: str) -> None:
    """Clear the wrong-password count for an email (the caller commits)."""
    db.session.execute(
        delete(SignInThrottle).where(SignInThrottle.lookup == throttle_lookup(email))
    )


def is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and aware(user.locked_until) > now


def lock_account(user: User, now: datetime) -> None:
    user.locked_until = now + LOCKOUT
    # Whoever typed the wrong passwords or codes may not be the account's owner.
    announce("user.locked", "system:sign-in-throttle", user.email)


def dummy_hash(hasher: PasswordHasher) -> str:
    """A hash of nothing anyone knows, checked instead of an account's when there is
    no account or its password must not be checked: a refusal costs the same."""
    cache = current_app.extensions.setdefault("chorus", {})
    key = ("dummy_hash", hasher.time_cost, hasher.memory_cost)
    if key not in cache:
        cache[key] = hasher.hash(secrets.token_urlsafe(16))
    return str(cache[key])


def count_password_attempt(email: str, now: datetime) -> int:
    """Count one password attempt for this email BEFORE its password is checked, in
    one statement; commits. Returns which attempt it is since the count last started
    (a right password, or a lock, starts it again).

    Counting first, in the database, is what makes the limit hold when guesses are
    sent at once: each gets its own number, and only the first five are checked.
    """
    lookup = throttle_lookup(email)
    counted = (
        update(SignInThrottle)
        .where(SignInThrottle.lookup == lookup)
        .values(failures=SignInThrottle.failures + 1, updated_at=now)
        .returning(SignInThrottle.failures)
    )
    options = {"synchronize_session": False}
    attempt = db.session.scalar(counted, execution_options=options)
    if attempt is None:
        db.session.add(SignInThrottle(lookup=lookup, failures=1, updated_at=now))
        try:
            db.session.commit()
            return 1
        except IntegrityError:  # the same email's first attempt, twice at once
            db.session.rollback()
            attempt = db.session.scalar(counted, execution_options=options)
    db.session.commit()
    return int(attempt or 1)


def may_check_password(user: User | None, attempt: int, now: datetime) -> bool:
    """Whether this attempt's password may be checked against the account's hash:
    there is an account, it isn't locked, and the attempt is within the five."""
    return user is not None and attempt <= MAX_FAILED_LOGINS and not is_locked(user, now)


def refuse_password(email: str, user: User | None, attempt: int, now: datetime) -> None:
    """A refused password attempt (already counted): the fifth locks the account and
    starts the count again; commits."""
    if attempt >= MAX_FAILED_LOGINS:
        db.session.execute(
            update(SignInThrottle)
            .where(SignInThrottle.lookup == throttle_lookup(email))
            .values(failures=0),
            execution_options={"synchronize_session": False},
        )
        if user is not None and not is_locked(user, now):
            lock_account(user, now)
    db.session.commit()


CURRENT_REFUSED = (
    "Your current password wasn't accepted. After several wrong tries, here or when "
    "signing in, the account is locked for 15 minutes."
)


def check_current_password(user: User, password: str) -> bool:
    """Whether a signed-in person typed their account's password (on the password page).

    A wrong one counts with the sign-in's wrong passwords for the account's email,
    so guesses here and at sign-in share one count and one lock; while the account
    is locked even the right password is refused, as at sign-in. A right one
    clears the count (the caller commits), as signing in does. Counted before it is
    checked, as at sign-in (`count_password_attempt`).
    """
    hasher = password_hasher()
    now = datetime.now(UTC)
    attempt = count_password_attempt(user.email, now)
    db.session.refresh(user, ["locked_until"])  # a lock set while this one was counted
    checkable = may_check_password(user, attempt, now)
    try:
        correct: bool = hasher.verify(
            user.password_hash if checkable else dummy_hash(hasher), password
        )
    except (VerificationError, InvalidHashError):
        correct = False
    if not (checkable and correct):
        refuse_password(user.email, user, attempt, now)
        return False
    forget_wrong_passwords(user.email)
    return True


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
