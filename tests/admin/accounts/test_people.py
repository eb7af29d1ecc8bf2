"""The admin's pages for people and organisations, and `chorus user reset-password/list`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from survey.models import AuditEntry, Organisation, Role, SurveyKeyWrap, User, db
from survey.surveys import (
    SurveyError,
    grant_key,
    unwrap_with_password,
    unwrap_with_recovery_code,
)
from tests.factories import (
    CUSTODIAN_EMAIL,
    CUSTODIAN_PASSWORD,
    csrf,
    custodian_user,
    make_user,
    page_text,
    sign_in,
    sign_in_enrolled,
)

ADMIN = "root@example.org"
CODE_RE = re.compile(r'class="code-box__code" translate="no">([^<]+)<')


@pytest.fixture
def admin(app):
    """A client signed in as an admin with two-factor sign-in on."""
    make_user(ADMIN, roles=(Role.ADMIN,))
    client = app.test_client()
    sign_in_enrolled(client, ADMIN)
    return client


def post(client, path, data=None):
    """POST with the form token taken from the page itself."""
    return client.post(path, data={"csrf_token": csrf(client, path), **(data or {})})


def post_from(client, page, path, data=None):
    """POST to `path` with the form token of `page` (for POST-only endpoints)."""
    return client.post(path, data={"csrf_token": csrf(client, page), **(data or {})})


def account(email) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def audit_entries(action_prefix=""):
    db.session.expire_all()
    return [
        e
        for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        if e.action.startswith(action_prefix)
    ]


def grants_of(user):
    return db.session.scalars(select(SurveyKeyWrap).where(SurveyKeyWrap.user_id == user.id)).all()


def shown_password(response) -> str:
    match = CODE_RE.search(response.get_data(as_text=True))
    assert match, "no one-time password on the page"
    return match.group(1)


def test_the_list_shows_every_account(admin):
    make_user("reader@company.example", roles=(Role.COMPANY,), org="Example Messaging Ltd")
    user = make_user("locked@example.org")
    user.locked_until = datetime.now(UTC) + timedelta(minutes=10)
    db.session.commit()
    page = admin.get("/staff/people/")
    text = page_text(page)
    assert page.status_code == 200
    for expected in (ADMIN, "reader@company.example", "Example Messaging Ltd", "Locked until"):
        assert expected in text
    assert "On" in text and "Off" in text  # the admin has 2FA, the others not


def test_create_an_account_whose_one_time_password_works_once(app, admin):
    created = post(
        admin, "/staff/people/new", {"email": "New@Example.org", "role": ["facilitator"]}
    )
    assert created.status_code == 200
    password = shown_password(created)
    user = account("new@example.org")
    assert user.roles == "facilitator" and user.must_change_password

    person = app.test_client()
    assert sign_in(person, "new@example.org", password).status_code == 302
    assert person.get("/staff/").location.endswith("/staff/password")  # must change it
    own = "my own passphrase, long enough"
    changed = post(person, "/staff/password", {"current": password, "new": own, "confirm": own})
    assert changed.status_code == 302
    # The one-time password no longer works; their own does.
    assert sign_in(app.test_client(), "new@example.org", password).status_code == 422
    assert sign_in(app.test_client(), "new@example.org", own).status_code == 302

    entry = audit_entries("user.create")[-1]
    assert (entry.actor, entry.target) == (ADMIN, "new@example.org")
    assert password not in entry.details


def test_create_a_company_reader_in_an_existing_organisation(admin):
    org = Organisation(name="Example Messaging Ltd")
    db.session.add(org)
    db.session.commit()
    missing = post(admin, "/staff/people/new", {"email": "c@company.example", "role": "company"})
    assert missing.status_code == 422
    text = page_text(missing)
    assert "needs an organisation" in text and 'href="#organisation"' in text
    assert 'value="c@company.example"' in text  # the form is kept as typed
    assert 'value="company" aria-describedby="roles-hint" checked' in text
    made = post(
        admin,
        "/staff/people/new",
        {"email": "c@company.example", "role": "company", "organisation": str(org.id)},
    )
    assert made.status_code == 200
    assert account("c@company.example").organisation_id == org.id


@pytest.mark.parametrize(
    ("form", "message", "field"),
    [
        ({"email": "", "role": "facilitator"}, "Enter an email address", "email"),
        ({"email": "not an email", "role": "facilitator"}, "is not an email address", "email"),
        ({"email": ADMIN, "role": "facilitator"}, "already an account", "email"),
        ({"email": "x@example.org"}, "at least one role", "role-admin"),
        ({"email": "x@example.org", "role": "wizard"}, "roles from the list", "role-admin"),
        (
            {"email": "x@example.org", "role": "analyst", "organisation": "1"},
            "Only company readers",
            "organisation",
        ),
        (
            {"email": "x@example.org", "role": "company", "organisation": "abc"},
            "from the list",
            "organisation",
        ),
        (
            {"email": "x@example.org", "role": "company", "organisation": "99999"},
            "from the list",
            "organisation",
        ),
        (
            {"email": "x@example.org", "role": "company", "organisation": "9" * 30},
            "from the list",
            "organisation",
        ),
        ({"email": "x" * 5000, "role": "facilitator"}, "not an email address", "email"),
    ],
)
def test_create_refuses_what_cant_be_used(admin, form, message, field):
    refused = post(admin, "/staff/people/new", form)
    assert refused.status_code == 422
    text = page_text(refused)
    assert message in text and f'href="#{field}"' in text and f'id="{field}"' in text
    assert account("x@example.org") is None


def test_edit_roles_and_organisation(admin):
    user = make_user("ana@example.org")
    org = Organisation(name="Acme")
    db.session.add(org)
    db.session.commit()
    path = f"/staff/people/{user.id}"
    assert admin.get(path).status_code == 200
    needs_org = post(admin, path, {"role": "company"})
    assert needs_org.status_code == 422 and "needs an organisation" in page_text(needs_org)
    done = post(admin, path, {"role": ["company"], "organisation": str(org.id)})
    assert done.status_code == 302
    user = account("ana@example.org")
    assert user.roles == "company" and user.organisation_id == org.id
    assert "Roles of ana@example.org saved" in page_text(admin.get(path))
    back = post(admin, path, {"role": ["facilitator", "analyst"]})
    assert back.status_code == 302
    user = account("ana@example.org")
    assert user.roles == "analyst facilitator" and user.organisation_id is None
    entry = audit_entries("user.roles_changed")[-1]
    assert entry.target == "ana@example.org" and '"roles":"analyst facilitator"' in entry.details


def test_losing_the_analyst_role_removes_key_grants(admin, make_open_survey):
    survey, _ = make_open_survey()
    custodian = custodian_user()
    assert custodian.custodian_public_key is not None
    path = f"/staff/people/{custodian.id}"
    changed = post(admin, path, {"role": "facilitator"})
    assert changed.status_code == 302
    text = page_text(admin.get(path))
    assert "no longer an analyst" in text and survey.slug in text
    custodian = account(CUSTODIAN_EMAIL)
    assert custodian.custodian_public_key is None
    assert (
        db.session.scalars(select(SurveyKeyWrap).where(SurveyKeyWrap.user_id == custodian.id)).all()
        == []
    )
    assert f'"grants_lost":["{survey.slug}"]' in audit_entries("user.roles_changed")[-1].details


def test_an_admin_cant_demote_or_switch_off_themselves(admin):
    me = account(ADMIN)
    path = f"/staff/people/{me.id}"
    demoted = post(admin, path, {"role": "facilitator"})
    assert demoted.status_code == 422 and "can't remove your own admin role" in page_text(demoted)
    assert account(ADMIN).roles == "admin"
    off = post_from(admin, path, f"/staff/people/{me.id}/deactivate")
    assert off.status_code == 409 and "can't switch off your own account" in page_text(off)
    reset = post(admin, f"/staff/people/{me.id}/reset-password")
    assert reset.status_code == 409 and "Change your password" in page_text(reset)
    assert account(ADMIN).active and admin.get("/staff/").status_code == 200


def test_switching_an_account_off_ends_its_sessions(app, admin):
    user = make_user("ana@example.org")
    theirs = app.test_client()
    sign_in(theirs)
    assert theirs.get("/staff/").status_code == 200
    path = f"/staff/people/{user.id}"
    off = post_from(admin, path, f"{path}/deactivate")
    assert off.status_code == 302
    assert theirs.get("/staff/").status_code == 302  # signed out
    assert sign_in(app.test_client()).status_code == 422  # and can't sign in again
    assert "Switched off" in page_text(admin.get("/staff/people/"))
    on = post_from(admin, path, f"{path}/reactivate")
    assert on.status_code == 302
    assert sign_in(app.test_client()).status_code == 302
    actions = [e.action for e in audit_entries("user.")]
    assert "user.deactivated" in actions and "user.reactivated" in actions


def test_reset_password_of_a_custodian_loses_grants_and_says_which(app, admin, make_open_survey):
    survey, recovery_code = make_open_survey()
    custodian = custodian_user()
    old_public_key = custodian.custodian_public_key
    theirs = app.test_client()
    sign_in(theirs, CUSTODIAN_EMAIL, CUSTODIAN_PASSWORD)  # a session (before 2FA)
    assert theirs.get("/staff/2fa").status_code == 200
    custodian = account(CUSTODIAN_EMAIL)
    custodian.failed_second_factors = 3
    custodian.locked_until = datetime.now(UTC) + timedelta(minutes=10)
    db.session.commit()

    path = f"/staff/people/{custodian.id}/reset-password"
    confirm = admin.get(path)
    text = page_text(confirm)
    assert confirm.status_code == 200
    assert survey.slug in text and "these keys are lost" in text
    assert account(CUSTODIAN_EMAIL).custodian_public_key == old_public_key  # nothing yet

    done = post(admin, path)
    assert done.status_code == 200
    text = page_text(done)
    password = shown_password(done)
    assert (
        f"An admin can't know the old password, so {CUSTODIAN_EMAIL}'s keys for these surveys "
        f"are gone: {survey.slug}. Someone else who holds a survey's key, or its recovery code, "
        "can give them the key again."
    ) in text

    custodian = account(CUSTODIAN_EMAIL)
    assert custodian.must_change_password and custodian.locked_until is None
    assert custodian.failed_second_factors == 0
    assert custodian.custodian_public_key not in (None, old_public_key)
    assert (
        db.session.scalars(select(SurveyKeyWrap).where(SurveyKeyWrap.user_id == custodian.id)).all()
        == []
    )
    assert theirs.get("/staff/2fa").status_code == 302  # the old session ended
    assert sign_in(app.test_client(), CUSTODIAN_EMAIL, CUSTODIAN_PASSWORD).status_code == 422

    # The new key works: granted again from the recovery code, it opens the survey.
    with pytest.raises(SurveyError):
        unwrap_with_password(survey, custodian, password)
    private_key = unwrap_with_recovery_code(survey, recovery_code)
    grant_key(survey, private_key, custodian)
    db.session.commit()
    assert unwrap_with_password(survey, account(CUSTODIAN_EMAIL), password) == private_key
    fresh = app.test_client()
    assert sign_in(fresh, CUSTODIAN_EMAIL, password).status_code == 302
    assert fresh.get("/staff/").location.endswith("/staff/password")

    entry = audit_entries("user.password_reset")[-1]
    assert (entry.actor, entry.target) == (ADMIN, CUSTODIAN_EMAIL)
    assert entry.details == f'{{"grants_lost":["{survey.slug}"]}}'
    for every in audit_entries():
        assert password not in every.details and CUSTODIAN_PASSWORD not in every.details


def test_reset_two_factor_makes_them_enrol_again(app, admin):
    user = make_user("an@example.org", roles=(Role.ANALYST,))
    theirs = app.test_client()
    sign_in_enrolled(theirs, "an@example.org")
    assert account("an@example.org").totp_confirmed
    path = f"/staff/people/{user.id}/reset-2fa"
    confirm = admin.get(path)
    assert confirm.status_code == 200 and "set up two-factor sign-in again" in page_text(confirm)
    done = post(admin, path)
    assert done.status_code == 302
    user = account("an@example.org")
    assert not user.totp_confirmed and user.totp_secret_sealed is None
    assert user.backup_code_lookups == ""
    assert theirs.get("/staff/").status_code == 302  # signed out
    again = app.test_client()
    assert sign_in(again, "an@example.org").location.endswith("/staff/")  # no code asked
    assert again.get("/staff/").location.endswith("/staff/2fa")  # enrol first
    assert audit_entries("user.2fa_reset")[-1].target == "an@example.org"


def test_unlock_a_locked_account(app, admin):
    user = make_user("ana@example.org")
    user.locked_until = datetime.now(UTC) + timedelta(minutes=15)
    db.session.commit()
    assert sign_in(app.test_client()).status_code == 422
    path = f"/staff/people/{user.id}"
    assert "Unlock now" in page_text(admin.get(path))
    assert post_from(admin, path, f"{path}/unlock").status_code == 302
    assert account("ana@example.org").locked_until is None
    assert sign_in(app.test_client()).status_code == 302
    assert audit_entries("user.unlocked")[-1].target == "ana@example.org"


def test_organisations_create_rename_delete(admin):
    made = post(admin, "/staff/people/organisations", {"name": "  Example   Messaging Ltd "})
    assert made.status_code == 302
    org = db.session.scalar(
        select(Organisation).where(Organisation.name == "Example Messaging Ltd")
    )
    assert org is not None
    twice = post(admin, "/staff/people/organisations", {"name": "example messaging ltd"})
    assert twice.status_code == 422 and "already an organisation" in page_text(twice)
    assert 'value="example messaging ltd"' in page_text(twice)
    empty = post(admin, "/staff/people/organisations", {"name": "   "})
    assert empty.status_code == 422 and 'href="#name"' in page_text(empty)

    other = post(admin, "/staff/people/organisations", {"name": "Acme"})
    assert other.status_code == 302
    path = f"/staff/people/organisations/{org.id}"
    clash = post(admin, path, {"name": "ACME"})
    assert clash.status_code == 422 and "already an organisation called “Acme”" in page_text(clash)
    renamed = post(admin, path, {"name": "Example Messaging Group"})
    assert renamed.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, org.id).name == "Example Messaging Group"

    make_user("reader@company.example", roles=(Role.COMPANY,), org="Example Messaging Group")
    listing = page_text(admin.get("/staff/people/organisations"))
    assert re.search(r"Example Messaging Group</a></th><td>1</td>", listing)
    kept = post_from(admin, path, f"{path}/delete")
    assert kept.status_code == 409 and "still has 1 member" in page_text(kept)
    acme = db.session.scalar(select(Organisation).where(Organisation.name == "Acme"))
    gone = post_from(admin, path, f"/staff/people/organisations/{acme.id}/delete")
    assert gone.status_code == 302
    assert db.session.scalar(select(Organisation).where(Organisation.name == "Acme")) is None
    actions = [(e.action, e.target) for e in audit_entries("organisation.")]
    assert actions == [
        ("organisation.create", "Example Messaging Ltd"),
        ("organisation.create", "Acme"),
        ("organisation.rename", "Example Messaging Group"),
        ("organisation.delete", "Acme"),
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/staff/people/999999",
        "/staff/people/abc",
        "/staff/people/99999999999999999999",
        "/staff/people/2147483648",
        "/staff/people/0",
        "/staff/people/999999/reset-password",
        "/staff/people/999999/reset-2fa",
        "/staff/people/organisations/999999",
        "/staff/people/organisations/-1",
        "/staff/people/organisations/x",
        "/staff/people/organisations/99999999999",
    ],
)
def test_unknown_ids_are_not_found(admin, path):
    assert admin.get(path).status_code == 404


def test_unknown_ids_on_post_are_not_found(admin):
    for path in ("/staff/people/999999/deactivate", "/staff/people/organisations/999999/delete"):
        assert post_from(admin, "/staff/people/", path).status_code == 404


@pytest.mark.parametrize("role", [Role.FACILITATOR, Role.ANALYST, Role.COMPANY])
def test_only_admins_may_manage_people(app, role):
    make_user("who@example.org", roles=(role,), org="Org" if role is Role.COMPANY else None)
    target = make_user("ana@example.org")
    client = app.test_client()
    sign_in_enrolled(client, "who@example.org")
    for path in ("/staff/people/", f"/staff/people/{target.id}", "/staff/audit/"):
        assert client.get(path).status_code == 403
    token = csrf(client, "/staff/password")
    for path in (f"/staff/people/{target.id}/reset-password", "/staff/people/new"):
        assert client.post(path, data={"csrf_token": token, "email": "x@y.z"}).status_code == 403
    assert account("ana@example.org").password_hash == target.password_hash
    assert "people" not in page_text(client.get("/staff/"))  # no links to them either


def test_home_links_admins_to_their_pages(admin):
    text = page_text(admin.get("/staff/"))
    assert "/staff/people/" in text and "/staff/audit/" in text


def test_cli_reset_password_and_list(app, make_open_survey):
    runner = app.test_cli_runner()
    survey, _ = make_open_survey()
    printed = runner.invoke(args=["user", "reset-password", CUSTODIAN_EMAIL])
    assert printed.exit_code == 0, printed.output
    assert f"keys for these surveys are gone: {survey.slug}" in printed.output
    password = printed.output.split("must be changed at sign-in): ")[1].strip()
    user = account(CUSTODIAN_EMAIL)
    assert user.must_change_password
    assert sign_in(app.test_client(), CUSTODIAN_EMAIL, password).status_code == 302
    piped = runner.invoke(
        args=["user", "reset-password", CUSTODIAN_EMAIL], input="a piped long password\n"
    )
    assert piped.exit_code == 0 and "One-time password" not in piped.output
    assert sign_in(app.test_client(), CUSTODIAN_EMAIL, "a piped long password").status_code == 302
    short = runner.invoke(args=["user", "reset-password", CUSTODIAN_EMAIL], input="short\n")
    assert short.exit_code == 1 and "at least 12" in short.output
    nobody = runner.invoke(args=["user", "reset-password", "ghost@example.org"])
    assert nobody.exit_code == 1 and "no account for ghost@example.org" in nobody.output
    entries = audit_entries("user.password_reset")
    assert len(entries) == 2 and entries[0].actor.startswith("cli")
    assert all(password not in e.details for e in audit_entries())

    make_user("reader@company.example", roles=(Role.COMPANY,), org="Example Messaging Ltd")
    listed = runner.invoke(args=["user", "list"])
    assert listed.exit_code == 0
    assert CUSTODIAN_EMAIL in listed.output and "org:Example Messaging Ltd" in listed.output
    assert "no-2fa" in listed.output


def test_cli_list_without_accounts(app):
    result = app.test_cli_runner().invoke(args=["user", "list"])
    assert result.exit_code == 0 and "No accounts yet" in result.output
