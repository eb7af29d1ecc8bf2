"""Separation of duties: nobody reads survivors' answers on their own say-so.

An admin can't give themselves a role; whoever opens a survey (and so sees its
recovery code) can't hold its key nor restore access with the code; a restore
with the code waits for a second person, an admin who is neither the requester
nor the opener; and only a survey's custodians touch its report draft.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from admin.custody import keys
from survey.definition import parse_definition
from survey.models import AuditEntry, Role, SurveyKeyWrap, User, db
from survey.surveys import (
    SurveyError,
    custodians_of,
    find_survey,
    grant_key,
    import_definition,
    open_survey,
    prepare_keys,
    unwrap_with_password,
    unwrap_with_recovery_code,
)
from tests.factories import (
    CUSTODIAN_EMAIL,
    CUSTODIAN_PASSWORD,
    PASSWORD,
    csrf,
    custodian_user,
    make_user,
    page_text,
    sign_in_enrolled,
    small_survey_document,
)

OPENER = "opener@example.org"
SECOND_ADMIN = "second.admin@example.org"
REQUESTER = "requester@example.org"
OPENER_MESSAGE = (
    "The person who opens a survey sees its recovery code, so someone else must hold its key"
)


def signed_in(app, email, password=PASSWORD):
    client = app.test_client()
    sign_in_enrolled(client, email, password)
    return client


def post(client, path, data=None, token_page=None):
    token = csrf(client, token_page or path)
    return client.post(path, data={"csrf_token": token, **(data or {})})


def user(email) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def audit_actions():
    db.session.expire_all()
    return [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def opened_by(opener: User):
    """The small survey, opened by `opener` (who saw the code), its key held by the
    custodian analyst; returns (survey, recovery code)."""
    survey = import_definition(parse_definition(small_survey_document()))
    code = prepare_keys(survey, [custodian_user()], sheet_check=False, opener=opener)
    open_survey(survey)
    return find_survey("small"), code


# --- roles -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["analyst", "facilitator", "company"])
def test_an_admin_cant_give_themselves_a_role(app, role):
    me = make_user("root@example.org", roles=(Role.ADMIN,))
    make_user("someone@example.org", roles=(Role.COMPANY,), org="Example Messaging Ltd")
    client = signed_in(app, "root@example.org")
    path = f"/staff/people/{me.id}"
    organisation = user("someone@example.org").organisation_id if role == "company" else ""
    # As the account page's form sends it: every ticked box, and the organisation.
    response = post(client, path, {"role": ["admin", role], "organisation": organisation})
    assert response.status_code == 422
    assert "You can't give yourself a role" in page_text(response)
    assert user("root@example.org").roles == "admin"
    assert user("root@example.org").custodian_public_key is None


def test_an_admin_still_gives_roles_to_someone_else(app):
    make_user("root@example.org", roles=(Role.ADMIN,))
    other = make_user("other@example.org", roles=(Role.FACILITATOR,))
    client = signed_in(app, "root@example.org")
    response = post(client, f"/staff/people/{other.id}", {"role": ["facilitator", "analyst"]})
    assert response.status_code == 302
    assert user("other@example.org").roles == "analyst facilitator"


# --- opening ---------------------------------------------------------------------------


def test_the_opener_cant_name_themselves_custodian_on_the_web(app):
    me = make_user(OPENER, roles=(Role.ADMIN, Role.ANALYST))
    import_definition(parse_definition(small_survey_document()))
    client = signed_in(app, OPENER)
    path = "/staff/surveys/small/open"
    response = post(client, path, {"custodian": [str(me.id)], "understood": "yes"})
    assert response.status_code == 422
    assert OPENER_MESSAGE in page_text(response)
    survey = find_survey("small")
    assert survey.public_key is None and survey.key_wraps == []
    # With someone else as custodian it opens, and records who opened it.
    other = custodian_user()
    shown = post(client, path, {"custodian": [str(other.id)], "understood": "yes"})
    assert shown.status_code == 200 and "key sheet" in page_text(shown).lower()
    survey = find_survey("small")
    assert survey.opened_by_id == me.id
    assert [u.email for u in custodians_of(survey)] == [CUSTODIAN_EMAIL]


def test_the_opener_cant_name_themselves_custodian_in_the_core(app):
    me = make_user(OPENER, roles=(Role.ADMIN, Role.ANALYST))
    survey = import_definition(parse_definition(small_survey_document()))
    with pytest.raises(SurveyError, match=OPENER_MESSAGE):
        prepare_keys(survey, [custodian_user(), me], sheet_check=False, opener=me)
    assert find_survey("small").public_key is None


# --- restoring with the recovery code --------------------------------------------------


def test_the_opener_cant_restore_with_the_recovery_code(app):
    opener = make_user(OPENER, roles=(Role.ADMIN, Role.ANALYST))
    _, code = opened_by(opener)
    client = signed_in(app, OPENER)
    response = post(
        client,
        "/staff/surveys/small/keys/restore",
        {"recovery_code": code},
        "/staff/surveys/small/keys",
    )
    assert response.status_code == 422
    assert "opened this survey" in page_text(response)
    assert (
        db.session.scalars(select(SurveyKeyWrap).where(SurveyKeyWrap.user_id == opener.id)).all()
        == []
    )


def restore_requested(app, code):
    """The requester (an analyst) types the recovery code; returns their client."""
    requester = signed_in(app, REQUESTER)
    response = post(
        requester,
        "/staff/surveys/small/keys/restore",
        {"recovery_code": code},
        "/staff/surveys/small/keys",
    )
    assert response.status_code == 302
    return requester


def unlock(client, password=PASSWORD):
    return post(
        client,
        "/staff/surveys/small/keys/unlock",
        {"password": password},
        "/staff/surveys/small/keys",
    )


def test_a_restore_waits_for_a_second_admin_before_it_unlocks(app):
    opener = make_user(OPENER, roles=(Role.ADMIN,))
    make_user(REQUESTER, roles=(Role.ANALYST,))
    make_user(SECOND_ADMIN, roles=(Role.ADMIN,))
    _, code = opened_by(opener)
    requester = restore_requested(app, code)

    survey = find_survey("small")
    wrap = db.session.scalar(
        select(SurveyKeyWrap).where(SurveyKeyWrap.user_id == user(REQUESTER).id)
    )
    assert wrap is not None and wrap.pending
    assert [u.email for u in custodians_of(survey)] == [CUSTODIAN_EMAIL]
    with pytest.raises(SurveyError, match="waiting for an admin"):
        unwrap_with_password(survey, user(REQUESTER), PASSWORD)
    refused = unlock(requester)
    assert refused.status_code == 422 and "waiting for an admin" in page_text(refused)
    assert requester.get("/staff/surveys/small/responses.csv").status_code == 302
    assert requester.get("/staff/surveys/small/report").status_code == 403

    # The custodian sees the request on the survey's key page.
    custodian = signed_in(app, CUSTODIAN_EMAIL, CUSTODIAN_PASSWORD)
    keys_page = page_text(custodian.get("/staff/surveys/small/keys"))
    assert REQUESTER in keys_page and "recovery code" in keys_page
    assert "waiting for an admin" in keys_page

    # The opener can't approve it; a second admin can.
    opener_client = signed_in(app, OPENER)
    listed = page_text(opener_client.get("/staff/restores/"))
    assert REQUESTER in listed and "small" in listed
    no = post(opener_client, "/staff/restores/approve", {"restore_id": wrap.id}, "/staff/restores/")
    assert no.status_code == 409 and "opened this survey" in page_text(no)
    assert db.session.get(SurveyKeyWrap, wrap.id).pending

    second = signed_in(app, SECOND_ADMIN)
    yes = post(second, "/staff/restores/approve", {"restore_id": wrap.id}, "/staff/restores/")
    assert yes.status_code == 302
    db.session.expire_all()
    assert not db.session.get(SurveyKeyWrap, wrap.id).pending
    assert unlock(requester).status_code == 302
    assert requester.get("/staff/surveys/small/responses.csv").status_code == 200

    # Every custodian sees the outcome.
    keys_page = page_text(custodian.get("/staff/surveys/small/keys"))
    assert f"approved by {SECOND_ADMIN}" in keys_page
    actions = audit_actions()
    for action in ("custody.restore_requested", "custody.restore_approved"):
        assert action in actions


def test_the_requester_cant_approve_their_own_restore(app):
    opener = make_user(OPENER, roles=(Role.ADMIN,))
    make_user(REQUESTER, roles=(Role.ANALYST, Role.ADMIN))
    _, code = opened_by(opener)
    requester = restore_requested(app, code)
    wrap = db.session.scalar(
        select(SurveyKeyWrap).where(SurveyKeyWrap.user_id == user(REQUESTER).id)
    )
    own = post(requester, "/staff/restores/approve", {"restore_id": wrap.id}, "/staff/restores/")
    assert own.status_code == 409 and "your own" in page_text(own)
    assert db.session.get(SurveyKeyWrap, wrap.id).pending
    with pytest.raises(SurveyError, match="your own"):
        keys.approve_restore(wrap, user(REQUESTER))


def test_a_refused_restore_leaves_no_grant(app):
    opener = make_user(OPENER, roles=(Role.ADMIN,))
    make_user(REQUESTER, roles=(Role.ANALYST,))
    make_user(SECOND_ADMIN, roles=(Role.ADMIN,))
    _, code = opened_by(opener)
    requester = restore_requested(app, code)
    wrap_id = db.session.scalar(
        select(SurveyKeyWrap.id).where(SurveyKeyWrap.user_id == user(REQUESTER).id)
    )
    second = signed_in(app, SECOND_ADMIN)
    refused = post(second, "/staff/restores/refuse", {"restore_id": wrap_id}, "/staff/restores/")
    assert refused.status_code == 302
    db.session.expire_all()
    assert (
        db.session.scalars(
            select(SurveyKeyWrap).where(SurveyKeyWrap.user_id == user(REQUESTER).id)
        ).all()
        == []
    )
    assert unlock(requester).status_code == 422
    assert "custody.restore_refused" in audit_actions()
    custodian = signed_in(app, CUSTODIAN_EMAIL, CUSTODIAN_PASSWORD)
    keys_page = page_text(custodian.get("/staff/surveys/small/keys"))
    assert f"refused by {SECOND_ADMIN}" in keys_page


def test_a_custodian_cant_grant_the_key_to_themselves(app):
    opener = make_user(OPENER, roles=(Role.ADMIN,))
    opened_by(opener)
    custodian = signed_in(app, CUSTODIAN_EMAIL, CUSTODIAN_PASSWORD)
    assert unlock(custodian, CUSTODIAN_PASSWORD).status_code == 302
    me = user(CUSTODIAN_EMAIL)
    response = post(
        custodian,
        "/staff/surveys/small/keys/grant",
        {"user_id": me.id},
        "/staff/surveys/small/keys",
    )
    assert response.status_code == 422
    assert "yourself" in page_text(response)


# --- report drafts ---------------------------------------------------------------------

REPORT_PAGES = [
    ("GET", "/staff/surveys/small/report", None),
    ("GET", "/staff/surveys/small/report/settings", None),
    ("POST", "/staff/surveys/small/report/settings", {"limitations": "Rewritten."}),
    ("GET", "/staff/surveys/small/report/findings/new", None),
    ("POST", "/staff/surveys/small/report/findings/new", {"id": "f9", "title": "Planted"}),
    ("POST", "/staff/surveys/small/report/findings/f1/delete", {}),
    ("POST", "/staff/surveys/small/report/findings/f1/move", {"direction": "down"}),
    ("GET", "/staff/surveys/small/report/preview", None),
    ("GET", "/staff/surveys/small/report/publish", None),
    ("POST", "/staff/surveys/small/report/publish", {"understood": "yes"}),
]


def test_only_the_surveys_custodians_touch_its_report_draft(app):
    opener = make_user(OPENER, roles=(Role.ADMIN,))
    make_user("other.analyst@example.org", roles=(Role.ANALYST,))
    opened_by(opener)
    outsider = signed_in(app, "other.analyst@example.org")
    token = csrf(outsider, "/staff/password")
    for method, path, data in REPORT_PAGES:
        sent = {"csrf_token": token, **data} if data is not None else None
        response = outsider.open(path, method=method, data=sent)
        assert response.status_code == 403, (method, path, response.status_code)
    assert "report.draft_edit" not in audit_actions()

    custodian = signed_in(app, CUSTODIAN_EMAIL, CUSTODIAN_PASSWORD)
    token = csrf(custodian, "/staff/password")
    for method, path, data in REPORT_PAGES:
        sent = {"csrf_token": token, **data} if data is not None else None
        response = custodian.open(path, method=method, data=sent)
        assert response.status_code in {200, 302, 422}, (method, path, response.status_code)
    assert "report.draft_edit" in audit_actions()


def test_the_command_line_records_no_opener_and_audits_its_operator(app):
    import_definition(parse_definition(small_survey_document()))
    custodian_user()
    runner = app.test_cli_runner()
    opened = runner.invoke(args=["survey", "open", "small", "--custodian", CUSTODIAN_EMAIL])
    assert opened.exit_code == 0, opened.output
    assert find_survey("small").opened_by_id is None
    db.session.expire_all()
    made = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "survey.keys_made"))
    assert made.actor.startswith("cli")


# --- granting --------------------------------------------------------------------------


def grant_options(client) -> str:
    """The grant form's list of analysts, as the custodian's key page offers it."""
    page = page_text(client.get("/staff/surveys/small/keys"))
    start = page.find('<select class="input" id="grantee"')
    return page[start : page.find("</select>", start)] if start >= 0 else ""


def test_the_opener_cant_be_granted_the_key(app):
    """The opener saw the key sheet: a custodian can't make them a custodian either,
    neither from the list (which leaves them out) nor by a crafted request."""
    opener = make_user(OPENER, roles=(Role.FACILITATOR, Role.ANALYST))
    other = make_user("other.analyst@example.org", roles=(Role.ANALYST,))
    opened_by(opener)
    custodian = signed_in(app, CUSTODIAN_EMAIL, CUSTODIAN_PASSWORD)
    assert unlock(custodian, CUSTODIAN_PASSWORD).status_code == 302
    offered = grant_options(custodian)
    assert other.email in offered
    assert OPENER not in offered

    refused = post(
        custodian,
        "/staff/surveys/small/keys/grant",
        {"user_id": opener.id},
        "/staff/surveys/small/keys",
    )
    assert refused.status_code == 422
    assert f"{OPENER} opened this survey and saw its recovery code" in page_text(refused)
    assert (
        db.session.scalars(select(SurveyKeyWrap).where(SurveyKeyWrap.user_id == opener.id)).all()
        == []
    )
    db.session.expire_all()
    refusal = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "custody.grant_refused")
    )
    assert refusal is not None and refusal.actor == CUSTODIAN_EMAIL
    assert refusal.target == "small" and OPENER in refusal.details
    assert "custody.grant" not in audit_actions()
    # So the opener still can't unlock or download the answers.
    opener_client = signed_in(app, OPENER)
    assert unlock(opener_client).status_code == 422
    assert opener_client.get("/staff/surveys/small/responses.csv").status_code == 302


def test_the_core_refuses_to_seal_the_key_to_the_opener(app):
    opener = make_user(OPENER, roles=(Role.ADMIN, Role.ANALYST))
    survey, code = opened_by(opener)
    private_key = unwrap_with_recovery_code(survey, code)
    with pytest.raises(SurveyError, match="opened this survey and saw its recovery code"):
        grant_key(survey, private_key, user(OPENER))
    assert [u.email for u in custodians_of(find_survey("small"))] == [CUSTODIAN_EMAIL]
