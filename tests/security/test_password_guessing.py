"""Guessing the current password on the change-password page.

Someone at a signed-in browser (a borrowed laptop, a copied session) types
guesses for the account's password at /staff/password. Each wrong guess counts
with the sign-in's wrong passwords for that account, five of them lock it, and
while it is locked neither the password page nor the sign-in accepts even the
right password; the lock ends as the sign-in's does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from sqlalchemy import select

from admin.accounts.passwords import CURRENT_REFUSED, LOCKOUT
from admin.accounts.sign_in import SIGN_IN_REFUSED
from survey.models import AuditEntry, User, db
from tests.factories import (
    CUSTODIAN_EMAIL,
    CUSTODIAN_PASSWORD,
    PASSWORD,
    analyst_client,
    csrf,
    make_user,
    page_text,
    sign_in,
    unlock,
)

EMAIL = "ana@example.org"
NEW = "a much better passphrase"


def account() -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == EMAIL))


def change(client, current, new=NEW):
    token = csrf(client, "/staff/password")
    return client.post(
        "/staff/password",
        data={"csrf_token": token, "current": current, "new": new, "confirm": new},
    )


def signed_in_client(app):
    client = app.test_client()
    assert sign_in(client, EMAIL).status_code == 302
    return client


def still_the_old_password() -> bool:
    try:
        return PasswordHasher().verify(account().password_hash, PASSWORD)
    except Exception:
        return False


def test_wrong_current_passwords_lock_the_account(app):
    make_user(EMAIL)
    guesser = signed_in_client(app)
    for n in range(5):
        assert account().locked_until is None, f"locked after {n} wrong tries"
        refused = change(guesser, f"guess number {n}!")
        assert refused.status_code == 422
        assert CURRENT_REFUSED in page_text(refused)
    user = account()
    assert user.locked_until is not None
    locked = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.locked"))
    assert locked is not None and locked.target == EMAIL

    # Locked: the right current password is refused too, with the same message...
    right = change(guesser, PASSWORD)
    assert right.status_code == 422 and CURRENT_REFUSED in page_text(right)
    assert still_the_old_password()
    # ...and so is signing in with it, anywhere.
    elsewhere = sign_in(app.test_client(), EMAIL)
    assert elsewhere.status_code == 422 and SIGN_IN_REFUSED in page_text(elsewhere)

    # When the lock ends (as the sign-in's does), the right password works again.
    user = account()
    assert user.locked_until is not None
    until = user.locked_until if user.locked_until.tzinfo else user.locked_until.replace(tzinfo=UTC)
    assert until - datetime.now(UTC) <= LOCKOUT
    user.locked_until = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    done = change(guesser, PASSWORD)
    assert done.status_code == 302, page_text(done)
    assert not still_the_old_password()
    assert sign_in(app.test_client(), EMAIL, NEW).status_code == 302


def test_guesses_here_and_at_sign_in_share_one_count(app):
    make_user(EMAIL)
    guesser = signed_in_client(app)
    for _ in range(3):
        assert sign_in(app.test_client(), EMAIL, "wrong at sign-in").status_code == 422
    assert account().locked_until is None
    change(guesser, "wrong here once")
    assert account().locked_until is None
    change(guesser, "wrong here twice")
    assert account().locked_until is not None


def test_twenty_five_guesses_are_not_twenty_five_checks(app):
    """The attack as found: 25 wrong tries in a row all answered 422, with no lock."""
    make_user(EMAIL)
    guesser = signed_in_client(app)
    statuses = [change(guesser, f"guess {n:02d} for the password").status_code for n in range(25)]
    assert statuses == [422] * 25
    assert account().locked_until is not None
    # A right password typed at the end is still refused: the lock holds.
    assert change(guesser, PASSWORD).status_code == 422
    assert still_the_old_password()


def test_wrong_unlock_passwords_count_too(app, make_open_survey):
    """The key page's unlock form checks the same password: the same count and lock."""
    make_open_survey()
    analyst = analyst_client(app)  # the survey's custodian, signed in with two factors
    for n in range(5):
        wrong = unlock(analyst, "small", f"not the password {n}")
        assert wrong.status_code == 422 and "does not open your key" in page_text(wrong)
    db.session.expire_all()
    custodian = db.session.scalar(select(User).where(User.email == CUSTODIAN_EMAIL))
    assert custodian.locked_until is not None
    refused = unlock(analyst, "small", CUSTODIAN_PASSWORD)
    assert refused.status_code == 422 and "locked for 15 minutes" in page_text(refused)
    assert analyst.get("/staff/surveys/small/responses.csv").status_code == 302


PARALLEL_GUESSES = 20


def test_wrong_passwords_sent_at_once_check_at_most_five(app, monkeypatch):
    """Twenty wrong passwords for one account sent at the same moment, as the second
    factor's test sends codes: each attempt is counted before its password is looked
    at, so at most five are ever checked against the account's hash, however they
    interleave, and then the account is locked. (Refused ones still cost the same
    argon2 work, against a dummy hash.)"""
    import threading

    import argon2

    make_user(EMAIL)
    stored = account().password_hash
    checked: list[str] = []
    counting = threading.Lock()
    verify = argon2.PasswordHasher.verify

    def counted_verify(self, hash, password):
        if hash == stored:
            with counting:
                checked.append(password)
        return verify(self, hash, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counted_verify)
    guessers = [app.test_client() for _ in range(PARALLEL_GUESSES)]
    tokens = [csrf(guesser, "/staff/login") for guesser in guessers]
    start = threading.Barrier(PARALLEL_GUESSES)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def guess(guesser, form_token, n) -> None:
        try:
            with app.app_context():
                start.wait()
                answer = guesser.post(
                    "/staff/login",
                    data={"csrf_token": form_token, "email": EMAIL, "password": f"guess {n}"},
                )
                statuses.append(answer.status_code)
                db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=guess, args=(guesser, form_token, n))
        for n, (guesser, form_token) in enumerate(zip(guessers, tokens, strict=True))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert len(statuses) == PARALLEL_GUESSES and 302 not in statuses
    assert 1 <= len(checked) <= 5, len(checked)
    assert account().locked_until is not None
    # Locked: even the right password is refused, and not checked.
    checked.clear()
    refused = app.test_client()
    assert sign_in(refused, EMAIL).status_code != 302
    assert checked == []
