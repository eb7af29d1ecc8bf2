"""The respondent's cookie read by someone else on a shared device.

Flask's cookie format is public: base64 (zlib-compressed when shorter) JSON, a
timestamp and a signature. Whoever holds the cookie can decode it without the
key; it must hold nothing that opens a draft or withdraws a response.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import zlib

from flask.sessions import SecureCookieSessionInterface

from admin.accounts.sign_in import create_user
from survey.models import Role, db
from survey.respondent import session as respondent_session
from survey.respondent.session import now_minute
from tests.factories import Respondent, page_text

SECRET_WORDS = "lilac-ferry-2207 is private"


def readable_without_key(cookie: str) -> str:
    """Everything an attacker gets from the cookie by decoding it as Flask writes it."""
    texts = [cookie]
    for part in cookie.split("."):
        try:
            raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        except (binascii.Error, ValueError):
            continue
        texts.append(raw.decode("utf-8", "ignore"))
        with contextlib.suppress(zlib.error):
            texts.append(zlib.decompress(raw).decode("utf-8", "ignore"))
    return "\n".join(texts)


def respondent_secrets(client) -> list[str]:
    """The secrets the session holds, read the legitimate way (with the key)."""
    with client.session_transaction() as session:
        state = dict(session["r"])
    found = [str(state["draft"]), state["key"], state["receipt"]]
    if state.get("code"):
        found.append(state["code"])
    return found


def test_draft_key_id_and_receipt_are_not_readable_from_the_cookie(respondent: Respondent):
    r = respondent
    r.start()
    secrets = respondent_secrets(r.client)
    readable = readable_without_key(r.client.get_cookie("chorus").value)
    for secret in secrets:
        assert secret not in readable

    r.answer("you", {"age_band": "adult", "apps": "3"})
    r.answer("you", {"age_band": "adult", "adult_only": SECRET_WORDS}, action="save")
    secrets = respondent_secrets(r.client)
    assert len(secrets) == 4  # the resume code too
    cookie = r.client.get_cookie("chorus").value
    readable = readable_without_key(cookie)
    for secret in secrets:
        assert secret not in readable
    assert '"r"' not in readable and "slug" not in readable
    assert len(cookie) < 4096


def test_staff_session_is_not_readable_either(client, app):
    user = create_user("ana@example.org", [Role.FACILITATOR], "correct horse battery", None)
    user.must_change_password = False
    db.session.commit()
    login = page_text(client.get("/staff/login"))
    token = login.split('name="csrf_token" value="')[1].split('"')[0]
    client.post(
        "/staff/login",
        data={"csrf_token": token, "email": user.email, "password": "correct horse battery"},
    )
    assert client.get("/staff/").status_code == 200
    readable = readable_without_key(client.get_cookie("chorus").value)
    assert "_user_id" not in readable and "csrf_token" not in readable


def test_a_tampered_cookie_is_an_empty_session(respondent: Respondent):
    r = respondent
    r.start()
    r.answer("you", {"age_band": "adult", "adult_only": SECRET_WORDS})
    cookie = r.client.get_cookie("chorus").value
    middle = len(cookie) // 2
    flipped = cookie[:middle] + ("A" if cookie[middle] != "A" else "B") + cookie[middle + 1 :]
    for bad in (flipped, cookie[:-5], "garbage", "." + cookie):
        r.client.set_cookie("chorus", bad)
        page = r.section("you")
        assert page.status_code == 200
        assert "Your session has ended" in r.last_html
        assert SECRET_WORDS not in r.last_html


def test_an_old_format_signed_cookie_is_an_empty_session(app, respondent: Respondent):
    r = respondent
    r.start()
    r.answer("you", {"age_band": "adult", "adult_only": SECRET_WORDS})
    with r.client.session_transaction() as session:
        state = dict(session)
    # The cookie as Flask signed it before: valid signature, readable content.
    old = SecureCookieSessionInterface().get_signing_serializer(app).dumps(state)
    r.client.set_cookie("chorus", old)
    r.section("you")
    assert "Your session has ended" in r.last_html
    assert SECRET_WORDS not in r.last_html


def submitted(r: Respondent) -> str:
    r.start()
    r.answer("you", {"age_band": "under_18"})
    r.submit()
    return r.receipt_code()


def test_the_receipt_is_shown_for_a_few_minutes_only(respondent: Respondent, monkeypatch):
    r = respondent
    code = submitted(r)
    now = now_minute()
    monkeypatch.setattr(respondent_session, "now_minute", lambda: now + 5)
    r.get("/s/small/receipt")
    assert code in r.last_html

    monkeypatch.setattr(respondent_session, "now_minute", lambda: now + 11)
    page = r.get("/s/small/receipt")
    assert page.status_code == 200
    assert code not in r.last_html
    assert "This page has expired" in r.last_html
    with r.client.session_transaction() as session:
        assert "done" not in session
    # Still gone when the clock is back: the receipt was forgotten, not hidden.
    monkeypatch.setattr(respondent_session, "now_minute", lambda: now)
    r.get("/s/small/receipt")
    assert code not in r.last_html


def test_a_lapsed_receipt_is_not_shown_in_spanish_either(respondent: Respondent, monkeypatch):
    r = respondent
    r.start(lang="es")
    r.answer("you", {"age_band": "under_18"})
    r.submit()
    code = r.receipt_code()
    now = now_minute()
    monkeypatch.setattr(respondent_session, "now_minute", lambda: now + 11)
    r.get("/s/small/receipt")
    assert code not in r.last_html
    assert "Esta página ha caducado" in r.last_html


def test_a_respondent_page_never_asks_who_is_signed_in(respondent: Respondent, monkeypatch):
    """Flask-Login has nothing to do on a respondent's page: it neither looks for a
    staff member (which hashes the client's address and browser to compare with
    a signed-in session) nor writes its own keys into the respondent's cookie."""
    from admin.accounts.sign_in import login_manager

    asked = []
    load_user = login_manager._load_user
    monkeypatch.setattr(login_manager, "_load_user", lambda: asked.append(1) or load_user())
    r = respondent
    r.start()
    r.answer("you", {"age_band": "adult", "apps": "3"})
    r.pass_warning("e2ee")
    r.answer("e2ee", {"harm_scale": "2"})
    r.get("/s/small/review")
    with r.client.session_transaction() as session:
        assert set(session) == {"csrf_token", "r"}
    r.submit()
    r.receipt_code()
    with r.client.session_transaction() as session:
        assert set(session) == {"csrf_token", "done"}
    assert asked == []
