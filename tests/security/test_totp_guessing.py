"""Guessing the second factor from many addresses: the account itself keeps count.

The per-address rate limit is on here, and every guess comes from a new address,
so only a limit held on the account can stop the guesser.
"""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select

from admin.accounts import sign_in
from admin.accounts.sign_in import (
    MAX_FAILED_SECOND_FACTORS,
    SIGN_IN_REFUSED,
    confirm_totp,
    start_totp_enrolment,
)
from survey import create_app
from survey.models import AuditEntry, Role, User, db
from tests.conftest import FreshContextClient, base_config
from tests.factories import CSRF_RE, PASSWORD, make_user, page_text

EMAIL = "an@example.org"
_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


@pytest.fixture
def limited(app, database_url):
    """The app with its per-address rate limits switched on."""
    limited = create_app({**base_config(database_url), "RATELIMIT_ENABLED": True})
    limited.test_client_class = FreshContextClient
    with limited.app_context():
        yield limited


@pytest.fixture
def secret(limited) -> str:
    """An analyst enrolled in two-factor sign-in; their TOTP secret."""
    user = make_user(EMAIL, roles=(Role.ANALYST,))
    secret = start_totp_enrolment(user)
    user.totp_confirmed = True
    db.session.commit()
    return secret


def account() -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == EMAIL))


def from_new_address(client):
    client.environ_base["REMOTE_ADDR"] = next(_addresses)
    return client


def token(client, path):
    page = from_new_address(client).get(path).get_data(as_text=True)
    return CSRF_RE.search(page).group(1)


def type_password(client, password=PASSWORD):
    data = {"csrf_token": token(client, "/staff/login"), "email": EMAIL, "password": password}
    return from_new_address(client).post("/staff/login", data=data)


def type_code(client, code):
    data = {"csrf_token": token(client, "/staff/login"), "code": code}
    return from_new_address(client).post("/staff/login/code", data=data)


def wrong_code(secret: str) -> str:
    totp = pyotp.TOTP(secret)
    now = datetime.now(UTC)
    valid = {totp.at(now + timedelta(seconds=30 * step)) for step in (-2, -1, 0, 1, 2)}
    return next(c for c in (f"{n:06d}" for n in range(0, 1000000, 7919)) if c not in valid)


def signed_in(client) -> bool:
    return from_new_address(client).get("/staff/").status_code == 200


def pending(client) -> bool:
    return from_new_address(client).get("/staff/login/code").status_code == 200


def test_three_wrong_codes_end_the_pending_sign_in(limited, secret):
    client = limited.test_client()
    assert type_password(client).location.endswith("/staff/login/code")
    for _ in range(2):
        assert type_code(client, wrong_code(secret)).status_code == 422
        assert pending(client)
    ended = type_code(client, wrong_code(secret))
    assert ended.status_code == 302 and ended.location.endswith("/staff/login?ended=codes")
    assert "Please sign in again" in page_text(client.get(ended.location))
    assert not pending(client)
    # The right code no longer helps: the password must be typed again.
    type_code(client, pyotp.TOTP(secret).now())
    assert not signed_in(client)
    assert account().failed_second_factors == 3


def test_five_wrong_codes_across_sign_ins_lock_the_account(limited, secret):
    guesser, owner = limited.test_client(), limited.test_client()
    type_password(guesser)
    for _ in range(3):
        type_code(guesser, wrong_code(secret))
    # A right password neither resets the count nor lets the guesser go on.
    assert type_password(guesser).location.endswith("/staff/login/code")
    assert account().failed_second_factors == 3
    # The owner typed their password before the lock, and waits at the code page.
    assert type_password(owner).location.endswith("/staff/login/code")
    assert account().failed_second_factors == 3
    type_code(guesser, wrong_code(secret))
    assert account().locked_until is None
    type_code(guesser, wrong_code(secret))
    user = account()
    assert user.locked_until is not None
    locked = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.locked"))
    assert locked.actor == "system:sign-in-throttle" and locked.target == EMAIL
    # Locked: the right code at a pending sign-in, and the right password, are refused.
    type_code(owner, pyotp.TOTP(secret).now())
    assert not signed_in(owner)
    refused = type_password(owner)
    assert refused.status_code == 422 and SIGN_IN_REFUSED in page_text(refused)
    # When the lock ends, the right password and code sign in, and the count starts again.
    user.locked_until = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    assert type_password(owner).location.endswith("/staff/login/code")
    assert type_code(owner, pyotp.TOTP(secret).now()).status_code == 302
    assert signed_in(owner)
    assert account().failed_second_factors == 0


def test_a_right_code_resets_the_count(limited, secret):
    client = limited.test_client()
    type_password(client)
    type_code(client, wrong_code(secret))
    type_code(client, wrong_code(secret))
    assert account().failed_second_factors == 2
    assert type_code(client, pyotp.TOTP(secret).now()).status_code == 302
    assert signed_in(client)
    assert account().failed_second_factors == 0


def test_wrong_backup_codes_count_the_same(limited, secret):
    client = limited.test_client()
    type_password(client)
    for _ in range(3):
        type_code(client, "ABCD-EFGH-JKMN-PQRS")
    assert not pending(client)
    assert account().failed_second_factors == 3


def test_a_guess_past_the_limit_is_not_even_checked(limited, secret):
    """Guesses sent at once each take their place in the count before their code is
    checked: one that finds five already counted is refused, right or not."""
    user = account()
    user.failed_second_factors = 5  # five guesses in flight, counted, not yet locked
    db.session.commit()
    client = limited.test_client()
    assert type_password(client).location.endswith("/staff/login/code")
    type_code(client, pyotp.TOTP(secret).now())
    assert not signed_in(client)
    assert account().locked_until is not None


PARALLEL_GUESSES = 20


def test_guesses_sent_at_once_check_at_most_five_codes(limited, secret, monkeypatch):
    """Twenty wrong codes sent at the same moment, each from its own sign-in and
    address: at most five of them are ever checked, however they interleave; the
    count and the lock are one step, so none is checked after the lock."""
    checked: list[str] = []
    counting = threading.Lock()
    check = sign_in.check_second_factor

    def counted_check(user, typed):
        with counting:
            checked.append(typed)
        return check(user, typed)

    monkeypatch.setattr(sign_in, "check_second_factor", counted_check)
    guessers = [limited.test_client() for _ in range(PARALLEL_GUESSES)]
    for guesser in guessers:
        assert type_password(guesser).location.endswith("/staff/login/code")
    tokens = [token(guesser, "/staff/login") for guesser in guessers]
    code = wrong_code(secret)
    start = threading.Barrier(PARALLEL_GUESSES)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def guess(guesser, form_token) -> None:
        try:
            with limited.app_context():
                start.wait()
                answer = guesser.post(
                    "/staff/login/code", data={"csrf_token": form_token, "code": code}
                )
                statuses.append(answer.status_code)
                db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=guess, args=pair) for pair in zip(guessers, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert len(statuses) == PARALLEL_GUESSES
    assert 1 <= len(checked) <= MAX_FAILED_SECOND_FACTORS, len(checked)
    # The lock was armed once at most: when five were counted (a guess that arrives
    # after three wrong codes finds its sign-in spent, and isn't counted at all).
    locks = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.locked")).all()
    assert len(locks) == (1 if len(checked) == MAX_FAILED_SECOND_FACTORS else 0)
    assert (account().locked_until is not None) == bool(locks)
    # One more guess, after them, is refused unchecked while the lock lasts.
    if locks:
        late = limited.test_client()
        type_password(late)
        type_code(late, pyotp.TOTP(secret).now())
        assert not signed_in(late)
        assert len(checked) == MAX_FAILED_SECOND_FACTORS


@pytest.mark.parametrize("kind", ["authenticator", "backup"])
def test_one_code_sent_at_once_from_many_sign_ins_signs_in_once(limited, secret, kind):
    """Someone who saw the owner type a code (and knows the password) sends it from
    several sign-ins at the same moment: a code works once, so one of them signs in."""
    code = pyotp.TOTP(secret).now()
    if kind == "backup":
        code = confirm_totp(account(), code)[0]  # spends this step; gives backup codes
    clients = [limited.test_client() for _ in range(6)]
    for client in clients:
        assert type_password(client).location.endswith("/staff/login/code")
    tokens = [token(client, "/staff/login") for client in clients]
    start = threading.Barrier(len(clients))
    statuses: list[int] = []
    errors: list[BaseException] = []

    def send(client, form_token) -> None:
        try:
            with limited.app_context():
                start.wait()
                answer = client.post(
                    "/staff/login/code", data={"csrf_token": form_token, "code": code}
                )
                statuses.append(answer.location or answer.status_code)
                db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=send, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    # Signed in: sent on to the staff home page (the others go back to the code or
    # password page: a spent code counts as a wrong one).
    assert len([s for s in statuses if str(s).endswith("/staff/")]) == 1, statuses
    assert sum(signed_in(client) for client in clients) == 1
