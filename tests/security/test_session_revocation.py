"""A copied staff cookie is worth nothing once its session has ended on the server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from survey.models import Role, User, db
from tests.factories import (
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


def copy_of(app, client):
    """Another client holding a copy of `client`'s cookie, as a thief would."""
    thief = app.test_client()
    thief.set_cookie("chorus", client.get_cookie("chorus").value)
    return thief


def staff_sessions(user_id=None):
    from survey.models import StaffSession

    query = select(StaffSession)
    if user_id is not None:
        query = query.where(StaffSession.user_id == user_id)
    db.session.expire_all()
    return list(db.session.scalars(query))


def shift_session(**ago):
    """Move the (only) staff session's times into the past."""
    (row,) = staff_sessions()
    for column, delta in ago.items():
        setattr(row, column, datetime.now(UTC) - delta)
    db.session.commit()


def test_a_cookie_copied_before_sign_out_is_signed_out(app):
    make_user()
    client = app.test_client()
    sign_in(client)
    token = csrf(client, "/staff/password")
    thief = copy_of(app, client)
    assert thief.get("/staff/").status_code == 200  # the copy works while signed in
    client.post("/staff/logout", data={"csrf_token": csrf(client, "/staff/")})
    page = thief.get("/staff/")
    assert page.status_code == 302 and "/staff/login" in page.location
    new = "a stolen new passphrase"
    changed = thief.post(
        "/staff/password",
        data={"csrf_token": token, "current": PASSWORD, "new": new, "confirm": new},
    )
    assert changed.status_code == 401
    assert staff_sessions() == []


def test_the_database_never_holds_the_cookie_token(app):
    make_user()
    client = app.test_client()
    sign_in(client)
    cookie = client.get_cookie("chorus")
    contents = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    (row,) = staff_sessions()
    assert contents["staff_session"] and contents["staff_session"] != row.id
    assert contents["staff_session"] not in row.id
    assert len(contents["staff_session"]) >= 22  # ≥128 bits, URL-safe base64


def test_no_remember_cookie_and_the_cookie_ends_with_the_browser(app):
    make_user()
    client = app.test_client()
    response = sign_in(client)
    cookies = response.headers.getlist("Set-Cookie")
    assert len(cookies) == 1 and cookies[0].startswith("chorus=")
    assert "expires" not in cookies[0].lower() and "max-age" not in cookies[0].lower()
    assert client.get_cookie("remember_token") is None
    assert app.permanent_session_lifetime <= timedelta(hours=12)


def test_an_idle_session_lapses_with_a_plain_message(app):
    make_user()
    client = app.test_client()
    sign_in(client)
    shift_session(last_seen_at=timedelta(minutes=29))
    assert client.get("/staff/").status_code == 200
    shift_session(last_seen_at=timedelta(minutes=31))
    lapsed = client.get("/staff/")
    assert lapsed.status_code == 302 and "/staff/login" in lapsed.location
    assert "sign in again" in page_text(client.get(lapsed.location))
    assert staff_sessions() == []
    assert client.get("/staff/").status_code == 302


def test_use_keeps_a_session_alive_but_not_past_the_absolute_limit(app):
    make_user()
    client = app.test_client()
    sign_in(client)
    shift_session(created_at=timedelta(hours=11), last_seen_at=timedelta(minutes=20))
    assert client.get("/staff/").status_code == 200
    (row,) = staff_sessions()
    last_seen = row.last_seen_at.replace(tzinfo=UTC)  # stored in UTC; SQLite drops the zone
    assert datetime.now(UTC) - last_seen < timedelta(minutes=1)  # seen again just now
    shift_session(created_at=timedelta(hours=12, minutes=1))
    lapsed = client.get("/staff/")
    assert lapsed.status_code == 302 and "/staff/login" in lapsed.location


def test_last_seen_is_written_at_most_once_a_minute(app):
    make_user()
    client = app.test_client()
    sign_in(client)
    shift_session(last_seen_at=timedelta(seconds=20))
    (before,) = staff_sessions()
    client.get("/staff/")
    (after,) = staff_sessions()
    assert after.last_seen_at == before.last_seen_at


def test_the_settings_set_the_limits(app):
    app.config["CHORUS_STAFF_IDLE_MINUTES"] = 5
    make_user()
    client = app.test_client()
    sign_in(client)
    shift_session(last_seen_at=timedelta(minutes=6))
    assert client.get("/staff/").status_code == 302


def test_a_password_change_ends_the_other_sessions(app):
    user = make_user()
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop)
    sign_in(phone)
    assert len(staff_sessions(user.id)) == 2
    new = "another long passphrase"
    laptop.post(
        "/staff/password",
        data={
            "csrf_token": csrf(laptop, "/staff/password"),
            "current": PASSWORD,
            "new": new,
            "confirm": new,
        },
    )
    assert len(staff_sessions(user.id)) == 1
    assert laptop.get("/staff/").status_code == 200
    assert phone.get("/staff/").status_code == 302


def test_switching_an_account_off_deletes_its_sessions(app):
    from admin.accounts.people import reset_password, set_active

    user = make_user()
    other = make_user("bo@example.org")
    client, others = app.test_client(), app.test_client()
    sign_in(client)
    sign_in(others, "bo@example.org")
    set_active(user, False, "root@example.org")
    assert staff_sessions(user.id) == [] and len(staff_sessions(other.id)) == 1
    assert client.get("/staff/").status_code == 302
    reset_password(other, "root@example.org")
    assert staff_sessions(other.id) == []
    assert others.get("/staff/").status_code == 302


def test_unlocked_survey_keys_end_when_the_session_lapses(app, make_open_survey):
    make_open_survey()
    client = analyst_client(app)
    unlock(client, "small", CUSTODIAN_PASSWORD)
    assert app.extensions["chorus_unlocks"]._entries
    shift_session(last_seen_at=timedelta(hours=1))
    assert client.get("/staff/surveys/small/keys").status_code == 302
    assert not app.extensions["chorus_unlocks"]._entries


def test_expired_sessions_are_deleted_at_sign_in_and_by_purge(app):
    make_user()
    make_user("bo@example.org", roles=(Role.FACILITATOR,))
    sign_in(app.test_client())
    shift_session(last_seen_at=timedelta(hours=2))
    sign_in(app.test_client(), "bo@example.org")
    assert [row.user_id for row in staff_sessions()] == [
        db.session.scalar(select(User.id).where(User.email == "bo@example.org"))
    ]
    from survey.models import StaffSession

    for row in staff_sessions():
        row.created_at = datetime.now(UTC) - timedelta(days=1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(StaffSession)) == 0
