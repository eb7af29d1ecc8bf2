"""Key custody: custodians' own keys, opening with a key sheet, unlock sessions,
grants, revocation, password change and admin reset, restore by recovery code."""

from __future__ import annotations

import csv
import io
import re
import time

import pytest
import redis
from sqlalchemy import select

from admin.accounts.passwords import hash_password
from admin.custody import unlock as unlock_store
from admin.custody.keys import reset_custodian_key
from admin.custody.unlock import MemoryUnlockStore, RedisUnlockStore
from bench.loadtest.stack import free_port
from survey import create_app
from survey.models import AuditEntry, Role, Survey, SurveyKeyWrap, User, db
from survey.surveys import (
    SurveyError,
    custodians_of,
    find_survey,
    unwrap_with_password,
    unwrap_with_recovery_code,
)
from tests.conftest import FreshContextClient, base_config
from tests.factories import (
    CUSTODIAN_EMAIL,
    CUSTODIAN_PASSWORD,
    PASSWORD,
    Respondent,
    analyst_client,
    csrf,
    custodian_user,
    make_user,
    page_text,
    sign_in,
    sign_in_enrolled,
    small_survey_document,
    store_the_week,
    unlock,
)

SECOND = "second@example.org"
SECOND_PASSWORD = "second custodian words"
GROUP_RE = re.compile(r'Group (\d): </span><span class="code-box__code">([0-9A-Z]{4})<')


def answer_once(app, slug="small", apps="5"):
    r = Respondent(app.test_client(), slug)
    r.start()
    r.answer("you", {"apps": apps})
    r.submit()
    store_the_week(slug)


def post(client, path, data=None, token_page=None):
    token = csrf(client, token_page or path.rsplit("/", 1)[0])
    return client.post(path, data={"csrf_token": token, **(data or {})})


def export_rows(client, slug="small"):
    response = client.get(f"/staff/surveys/{slug}/responses.csv")
    if response.status_code != 200:
        return None
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def audit_actions():
    return [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


# --- custodians' own keys -------------------------------------------------------------------


def test_an_analyst_gets_a_key_pair_and_a_facilitator_does_not(app):
    analyst = custodian_user()
    facilitator = make_user("fac@example.org")
    assert analyst.custodian_public_key is not None and len(analyst.custodian_public_key) == 32
    assert analyst.custodian_key_sealed is not None
    assert facilitator.custodian_public_key is None


def test_an_analyst_without_a_key_gets_one_when_signing_in(app):
    user = make_user("late@example.org", roles=(Role.FACILITATOR,))
    user.roles = "analyst facilitator"  # an admin gave them the role after creation
    db.session.commit()
    assert user.custodian_public_key is None
    sign_in(app.test_client(), "late@example.org")
    db.session.expire_all()
    assert db.session.get(User, user.id).custodian_public_key is not None
    assert "custody.key_created" in audit_actions()


def test_password_change_rewraps_the_key_so_grants_keep_working(app, make_open_survey):
    survey, _ = make_open_survey()
    answer_once(app)
    client = analyst_client(app)
    new = "a brand new passphrase"
    response = client.post(
        "/staff/password",
        data={
            "csrf_token": csrf(client, "/staff/password"),
            "current": CUSTODIAN_PASSWORD,
            "new": new,
            "confirm": new,
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == CUSTODIAN_EMAIL))
    survey = find_survey("small")
    assert unwrap_with_password(survey, user, new)
    with pytest.raises(SurveyError, match="does not open your key"):
        unwrap_with_password(survey, user, CUSTODIAN_PASSWORD)


# --- opening: custodians and the key sheet -----------------------------------------------------


def test_opening_in_the_browser_needs_custodians_the_warning_and_the_key_sheet(app):
    from survey.definition import parse_definition
    from survey.surveys import import_definition

    import_definition(parse_definition(small_survey_document()))
    custodian = custodian_user()
    make_user("fac@example.org")
    client = app.test_client()
    sign_in(client, "fac@example.org")

    page = page_text(client.get("/staff/surveys/small/open"))
    assert "nobody can ever read the answers" in page and CUSTODIAN_EMAIL in page
    nobody = post(
        client, "/staff/surveys/small/open", {"understood": "yes"}, "/staff/surveys/small/open"
    )
    assert nobody.status_code == 422
    assert "Choose at least one person who can unlock the answers" in page_text(nobody)
    careless = client.post(
        "/staff/surveys/small/open",
        data={"csrf_token": csrf(client, "/staff/surveys/small/open"), "custodian": custodian.id},
    )
    assert careless.status_code == 422 and "Confirm that you understand" in page_text(careless)
    assert find_survey("small").public_key is None

    sheet = client.post(
        "/staff/surveys/small/open",
        data={
            "csrf_token": csrf(client, "/staff/surveys/small/open"),
            "custodian": custodian.id,
            "understood": "yes",
        },
    )
    assert sheet.status_code == 200
    groups = dict(GROUP_RE.findall(sheet.get_data(as_text=True)))
    assert sorted(groups) == [str(n) for n in range(1, 8)]
    code = "-".join(groups[str(n)] for n in range(1, 8))
    survey = find_survey("small")
    assert survey.status == "draft" and survey.public_key is not None
    # The code is nowhere in the database, not even in the pending check.
    stored = " ".join(str(v) for v in db.session.execute(select(Survey.__table__)).one())
    assert code not in stored and code.replace("-", "") not in stored
    # The key sheet is shown once: going back to the open page asks for the groups.
    assert client.get("/staff/surveys/small/open").location.endswith("/open/confirm")

    confirm_page = page_text(client.get("/staff/surveys/small/open/confirm"))
    asked = [int(n) for n in re.findall(r'for="group-(\d)"', confirm_page)]
    assert len(asked) == 2 and all(groups[str(n)] not in confirm_page for n in range(1, 8))
    wrong = client.post(
        "/staff/surveys/small/open/confirm",
        data={
            "csrf_token": csrf(client, "/staff/surveys/small/open/confirm"),
            **{f"group-{n}": "ZZZZ" if groups[str(n)] != "ZZZZ" else "YYYY" for n in asked},
        },
    )
    assert wrong.status_code == 422 and "don't match the key sheet" in page_text(wrong)
    assert find_survey("small").status == "draft"
    typed = {f"group-{n}": groups[str(n)].lower() for n in asked}  # case doesn't matter
    opened = client.post(
        "/staff/surveys/small/open/confirm",
        data={"csrf_token": csrf(client, "/staff/surveys/small/open/confirm"), **typed},
    )
    assert opened.status_code == 200 and "is open" in page_text(opened)
    survey = find_survey("small")
    assert survey.status == "open" and survey.recovery_check is None
    assert unwrap_with_recovery_code(survey, code)
    assert [u.email for u in custodians_of(survey)] == [CUSTODIAN_EMAIL]
    assert audit_actions()[-2:] == ["survey.keys_made", "survey.open"]
    details = " ".join(e.details for e in db.session.scalars(select(AuditEntry)))
    assert code not in details and all(g not in details for g in groups.values())


def test_a_lost_sheet_before_opening_makes_new_keys(app):
    from survey.definition import parse_definition
    from survey.surveys import import_definition, prepare_keys

    survey = import_definition(parse_definition(small_survey_document()))
    first = prepare_keys(survey, [custodian_user()])
    old_public = survey.public_key
    second = prepare_keys(survey, [custodian_user()])
    survey = find_survey("small")
    assert first != second and survey.public_key != old_public
    with pytest.raises(SurveyError, match="does not open"):
        unwrap_with_recovery_code(survey, first)
    assert unwrap_with_recovery_code(survey, second)
    assert len(survey.key_wraps) == 2  # the recovery code's and the custodian's, no leftovers


def test_an_analyst_without_a_key_or_a_facilitator_cant_be_a_custodian(app):
    from survey.definition import parse_definition
    from survey.surveys import import_definition, prepare_keys

    survey = import_definition(parse_definition(small_survey_document()))
    facilitator = make_user("fac@example.org")
    with pytest.raises(SurveyError, match="is not an analyst"):
        prepare_keys(survey, [facilitator])
    assert find_survey("small").public_key is None


# --- unlock, export, lock, expiry ---------------------------------------------------------------


def test_two_custodians_each_unlock_with_their_own_password_and_export(app, make_open_survey):
    make_open_survey()
    second = custodian_user(SECOND, SECOND_PASSWORD)
    answer_once(app, apps="9")
    first = analyst_client(app)
    assert export_rows(first) is None  # locked: sent to the keys page
    assert unlock(first, "small", CUSTODIAN_PASSWORD).status_code == 302
    assert "Unlocked." in page_text(first.get("/staff/surveys/small/keys"))
    post(
        first,
        "/staff/surveys/small/keys/grant",
        {"user_id": second.id},
        "/staff/surveys/small/keys",
    )
    assert [r["apps"] for r in export_rows(first)] == ["9"]

    other = analyst_client(app, SECOND, SECOND_PASSWORD)
    wrong = unlock(other, "small", CUSTODIAN_PASSWORD)  # someone else's password
    assert wrong.status_code == 422 and "does not open your key" in page_text(wrong)
    assert export_rows(other) is None
    assert unlock(other, "small", SECOND_PASSWORD).status_code == 302
    assert [r["apps"] for r in export_rows(other)] == ["9"]
    actions = audit_actions()
    assert actions.count("custody.unlock") == 2 and "custody.grant" in actions
    assert actions.count("responses.export") == 2

    # Locking is immediate.
    post(first, "/staff/surveys/small/keys/lock", token_page="/staff/surveys/small/keys")
    assert export_rows(first) is None
    assert "custody.lock" in audit_actions()


def test_an_unlock_lapses_after_the_idle_limit(app, make_open_survey, monkeypatch):
    make_open_survey()
    client = analyst_client(app)
    unlock(client, "small", CUSTODIAN_PASSWORD)
    assert export_rows(client) is not None
    later = time.monotonic() + 15 * 60 + 1
    monkeypatch.setattr(unlock_store.time, "monotonic", lambda: later)
    assert export_rows(client) is None
    assert "Your password" in page_text(client.get("/staff/surveys/small/keys"))


def test_use_keeps_an_unlock_alive(app, make_open_survey, monkeypatch):
    make_open_survey()
    client = analyst_client(app)
    unlock(client, "small", CUSTODIAN_PASSWORD)
    start = time.monotonic()
    for minutes in (10, 20, 30):  # each use restarts the 15 idle minutes
        monkeypatch.setattr(unlock_store.time, "monotonic", lambda m=minutes: start + m * 60)
        assert export_rows(client) is not None


def test_the_store_alone_holds_nothing_readable(app, make_open_survey):
    _, code = make_open_survey()
    client = analyst_client(app)
    unlock(client, "small", CUSTODIAN_PASSWORD)
    private_key = unwrap_with_recovery_code(find_survey("small"), code)
    store = app.extensions["chorus_unlocks"]
    assert isinstance(store, MemoryUnlockStore)
    blobs = [blob for blob, _ in store._entries.values()]
    assert len(blobs) == 1 and private_key not in blobs[0]


def test_sign_out_locks_everything(app, make_open_survey):
    make_open_survey()
    client = analyst_client(app)
    unlock(client, "small", CUSTODIAN_PASSWORD)
    assert app.extensions["chorus_unlocks"]._entries
    post(client, "/staff/logout", token_page="/staff/")
    assert not app.extensions["chorus_unlocks"]._entries


@pytest.fixture
def redis_url():
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return url


def test_redis_store_expires_and_is_shared_by_app_processes(
    redis_url, app, database_url, make_open_survey
):
    store = RedisUnlockStore(redis_url)
    store.put("probe", b"blob", 1)
    assert store.touch("probe", 1) == b"blob"
    time.sleep(1.2)
    assert store.touch("probe", 1) is None

    make_open_survey()
    answer_once(app)
    processes = []
    for _ in range(2):
        process = create_app({**base_config(database_url), "CHORUS_REDIS_URL": redis_url})
        process.test_client_class = FreshContextClient
        processes.append(process)
    first = processes[0].test_client()
    sign_in_enrolled(first, CUSTODIAN_EMAIL, CUSTODIAN_PASSWORD)
    unlock(first, "small", CUSTODIAN_PASSWORD)
    # The same browser's next request reaches another process: still unlocked.
    second = processes[1].test_client()
    second.set_cookie("chorus", first.get_cookie("chorus").value)
    assert [r["apps"] for r in export_rows(second)] == ["5"]
    # Without Redis, another process knows nothing of the unlock.
    alone = create_app(base_config(database_url))
    alone.test_client_class = FreshContextClient
    third = alone.test_client()
    third.set_cookie("chorus", first.get_cookie("chorus").value)
    assert export_rows(third) is None


# --- grants, revocation, admin reset, recovery ------------------------------------------------


def test_revoking_a_grant_ends_access_and_the_last_grant_stays(app, make_open_survey):
    make_open_survey()
    second = custodian_user(SECOND, SECOND_PASSWORD)
    first = analyst_client(app)
    unlock(first, "small", CUSTODIAN_PASSWORD)
    post(
        first,
        "/staff/surveys/small/keys/grant",
        {"user_id": second.id},
        "/staff/surveys/small/keys",
    )
    other = analyst_client(app, SECOND, SECOND_PASSWORD)
    unlock(other, "small", SECOND_PASSWORD)
    assert export_rows(other) is not None

    post(
        first,
        "/staff/surveys/small/keys/revoke",
        {"user_id": second.id},
        "/staff/surveys/small/keys",
    )
    assert export_rows(other) is None  # its live unlock ended with the grant
    assert unlock(other, "small", SECOND_PASSWORD).status_code == 422
    last = post(
        first,
        "/staff/surveys/small/keys/revoke",
        {"user_id": custodian_user().id},
        "/staff/surveys/small/keys",
    )
    assert last.status_code == 422
    assert "At least one person must be able to unlock" in page_text(last)
    granted_again = post(
        other,
        "/staff/surveys/small/keys/grant",
        {"user_id": second.id},
        "/staff/surveys/small/keys",
    )
    assert granted_again.status_code == 422 and "Unlock the survey first" in page_text(
        granted_again
    )


def test_admin_reset_loses_grants_which_a_custodian_or_the_recovery_code_restore(
    app, make_open_survey
):
    survey, code = make_open_survey()
    second = custodian_user(SECOND, SECOND_PASSWORD)
    answer_once(app)
    first = analyst_client(app)
    unlock(first, "small", CUSTODIAN_PASSWORD)
    post(
        first,
        "/staff/surveys/small/keys/grant",
        {"user_id": second.id},
        "/staff/surveys/small/keys",
    )

    # An admin resets the second custodian's password: the old key is gone.
    second = db.session.get(User, second.id)
    old_public = second.custodian_public_key
    lost = reset_custodian_key(second, "reset one-time pass")
    db.session.commit()
    assert lost == ["small"]
    assert second.custodian_public_key not in (None, old_public)
    survey = find_survey("small")
    assert [u.email for u in custodians_of(survey)] == [CUSTODIAN_EMAIL]
    with pytest.raises(SurveyError, match="holds no key"):
        unwrap_with_password(survey, second, "reset one-time pass")

    # Restored by the other custodian's grant ...
    post(
        first,
        "/staff/surveys/small/keys/grant",
        {"user_id": second.id},
        "/staff/surveys/small/keys",
    )
    assert unwrap_with_password(find_survey("small"), second, "reset one-time pass")

    # ... or, when every custodian is reset, by the recovery code.
    for user in (db.session.get(User, second.id), custodian_user()):
        user.password_hash = hash_password("another reset pass")  # as a reset sets both
        reset_custodian_key(user, "another reset pass")
    db.session.commit()
    assert custodians_of(find_survey("small")) == []
    client = first  # the first custodian, still signed in
    wrong = post(
        client,
        "/staff/surveys/small/keys/restore",
        {"recovery_code": "0" * 28},
        "/staff/surveys/small/keys",
    )
    assert wrong.status_code == 422 and "does not open this survey" in page_text(wrong)
    restored = post(
        client,
        "/staff/surveys/small/keys/restore",
        {"recovery_code": code},
        "/staff/surveys/small/keys",
    )
    assert restored.status_code == 302
    # The restore waits for a second person: an admin approves it, then it unlocks.
    assert export_rows(client) is None
    assert custodians_of(find_survey("small")) == []
    make_user("admin@example.org", roles=(Role.ADMIN,))
    admin = app.test_client()
    sign_in_enrolled(admin, "admin@example.org")
    request_id = db.session.scalar(
        select(SurveyKeyWrap.id).where(SurveyKeyWrap.user_id == custodian_user().id)
    )
    approved = post(
        admin, "/staff/restores/approve", {"restore_id": request_id}, "/staff/restores/"
    )
    assert approved.status_code == 302
    assert unlock(client, "small", "another reset pass").status_code == 302
    assert export_rows(client) is not None  # restored and unlocked
    assert [u.email for u in custodians_of(find_survey("small"))] == [CUSTODIAN_EMAIL]
    assert "custody.restore_requested" in audit_actions()
    assert "custody.restore_approved" in audit_actions()


def test_facilitators_see_custodians_but_cant_unlock(app, make_open_survey):
    make_open_survey()
    make_user("fac@example.org")
    client = app.test_client()
    sign_in(client, "fac@example.org")
    page = page_text(client.get("/staff/surveys/small/keys"))
    assert CUSTODIAN_EMAIL in page and "Your password" not in page
    token = csrf(client, "/staff/surveys/small/keys")
    refused = client.post(
        "/staff/surveys/small/keys/unlock", data={"csrf_token": token, "password": PASSWORD}
    )
    assert refused.status_code == 403
    assert client.get("/staff/surveys/small/responses.csv").status_code == 403


def test_a_deleted_account_takes_its_grants_with_it(app, make_open_survey):
    make_open_survey()
    user = custodian_user()
    db.session.delete(user)
    db.session.commit()
    assert (
        db.session.scalars(select(SurveyKeyWrap).where(SurveyKeyWrap.user_id.is_not(None))).all()
        == []
    )


def test_changing_the_argon2_settings_keeps_keys_openable_and_sign_in_updates_them(
    app, make_open_survey
):
    make_open_survey()
    user = custodian_user()
    assert user.custodian_key_kdf == "argon2id:t=1,m=1024,p=1"  # the tests' cheap cost
    old_public = user.custodian_public_key
    app.config["CHORUS_ARGON2_TIME_COST"] = 2
    app.config["CHORUS_ARGON2_MEMORY_KIB"] = 2048
    assert unwrap_with_password(find_survey("small"), user, CUSTODIAN_PASSWORD)
    sign_in(app.test_client(), CUSTODIAN_EMAIL, CUSTODIAN_PASSWORD)
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.custodian_key_kdf == "argon2id:t=2,m=2048,p=1"
    assert user.custodian_public_key == old_public  # same key pair: grants still open
    assert unwrap_with_password(find_survey("small"), user, CUSTODIAN_PASSWORD)


def redis_away() -> RedisUnlockStore:
    """An unlock store whose Redis isn't answering (nothing listens on its port)."""
    return RedisUnlockStore(f"redis://127.0.0.1:{free_port()}/0")


def test_unlocking_while_redis_is_away_is_a_calm_page(app, make_open_survey):
    make_open_survey()
    client = analyst_client(app)
    app.extensions["chorus_unlocks"] = redis_away()
    refused = unlock(client, "small", CUSTODIAN_PASSWORD)
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "30"
    assert "stay locked" in page_text(refused)
    assert "Content-Security-Policy" in refused.headers


def test_while_redis_is_away_sign_out_still_ends_the_session(redis_url, app, make_open_survey):
    """Signing out must end the session whatever else is down. The unlock entry left
    in Redis lapses by itself, and the cookie's half of its key goes with the session."""
    make_open_survey()
    answer_once(app)
    app.extensions["chorus_unlocks"] = RedisUnlockStore(redis_url)
    client = analyst_client(app)
    unlock(client, "small", CUSTODIAN_PASSWORD)
    assert [r["apps"] for r in export_rows(client)] == ["5"]
    before_sign_out = client.get_cookie("chorus").value
    app.extensions["chorus_unlocks"] = redis_away()
    held = client.get("/staff/surveys/small/responses.csv")
    assert held.status_code == 503 and "stay locked" in page_text(held)
    signed_out = post(client, "/staff/logout", token_page="/staff/")
    assert signed_out.status_code == 302 and "/staff/login" in signed_out.location
    assert "/staff/login" in client.get("/staff/").location
    # Redis is back, the entry still in it until it lapses: even the cookie from
    # before signing out (copied, say) reaches nothing.
    app.extensions["chorus_unlocks"] = RedisUnlockStore(redis_url)
    client.set_cookie("chorus", before_sign_out)
    assert "/staff/login" in client.get("/staff/surveys/small/responses.csv").location
