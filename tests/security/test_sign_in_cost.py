"""Signing in costs the same whether or not the account exists.

Same argon2 work, and the same database writes: counting the failure writes a
throttle row keyed by an HMAC of the email, for unknown emails too.
"""

from __future__ import annotations

from contextlib import contextmanager

import argon2
from sqlalchemy import event, select

from survey.models import db
from tests.factories import csrf, make_user, sign_in

KNOWN = "ana@example.org"
UNKNOWN = "nobody@example.org"


@contextmanager
def recorded(monkeypatch):
    """What a block writes to the database, commits, and verifies with argon2."""
    seen = {"writes": [], "commits": 0, "verifies": 0}

    def statement(conn, cursor, sql, parameters, context, executemany):
        words = sql.split()
        verb = words[0].upper()
        if verb in {"INSERT", "UPDATE", "DELETE"}:
            table = words[2] if verb in {"INSERT", "DELETE"} else words[1]
            seen["writes"].append((verb, table.strip('"')))

    def commit(conn):
        seen["commits"] += 1

    verify = argon2.PasswordHasher.verify

    def counting_verify(self, hash, password):
        seen["verifies"] += 1
        return verify(self, hash, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting_verify)
    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(db.engine, "commit", commit)
        monkeypatch.setattr(argon2.PasswordHasher, "verify", verify)


def attempt(app, monkeypatch, email, password):
    client = app.test_client()
    token = csrf(client, "/staff/login")
    with recorded(monkeypatch) as seen:
        response = client.post(
            "/staff/login", data={"csrf_token": token, "email": email, "password": password}
        )
    assert response.status_code == 422
    return seen


def test_unknown_email_and_wrong_password_do_the_same_work(app, monkeypatch):
    make_user(KNOWN)
    sign_in(app.test_client(), "warm-up@example.org")  # the dummy hash is made once
    for _ in range(3):  # the first failure inserts a row; later ones update it
        unknown = attempt(app, monkeypatch, UNKNOWN, "wrong password!")
        known = attempt(app, monkeypatch, KNOWN, "wrong password!")
        assert known == unknown
        assert unknown["writes"] and unknown["commits"] >= 1 and unknown["verifies"] == 1


def test_the_throttle_keeps_no_email_in_the_clear(app):
    from survey.models import SignInThrottle

    sign_in(app.test_client(), UNKNOWN)
    (row,) = db.session.scalars(select(SignInThrottle))
    assert UNKNOWN not in row.lookup and "nobody" not in row.lookup
    assert row.failures == 1
