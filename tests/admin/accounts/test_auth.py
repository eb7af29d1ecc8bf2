"""Staff sign-in: passwords, two-factor, lockout, sessions, and deny by default."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from flask import url_for
from sqlalchemy import select

from admin.access import _allowed_roles, is_public, roles_for_endpoint
from admin.accounts.sign_in import SIGN_IN_REFUSED, create_user, totp_secret
from survey.definition import parse_definition
from survey.models import AuditEntry, Role, User, db
from survey.surveys import find_survey, import_definition, prepare_keys
from tests.factories import (
    CSRF_RE,
    PASSWORD,
    csrf,
    make_user,
    page_text,
    sign_in,
    sign_in_enrolled,
    small_survey_document,
)


def test_sign_in_and_out(app):
    make_user()
    client = app.test_client()
    assert client.get("/staff/").status_code == 302  # not signed in: to the login page
    response = sign_in(client)
    assert response.status_code == 302 and response.location.endswith("/staff/")
    home = client.get("/staff/")
    assert home.status_code == 200 and "ana@example.org" in home.get_data(as_text=True)
    out = client.post("/staff/logout", data={"csrf_token": csrf(client, "/staff/")})
    assert out.status_code == 302
    assert client.get("/staff/").status_code == 302
    # Both are in the audit log, and the chain is intact.
    recorded = [(e.action, e.actor) for e in db.session.scalars(select(AuditEntry))]
    assert ("user.sign_in", "ana@example.org") in recorded
    assert ("user.sign_out", "ana@example.org") in recorded
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output


def test_wrong_password_unknown_account_and_lockout_all_say_the_same(app):
    make_user()
    client = app.test_client()
    answers = [page_text(sign_in(client, password="wrong password!")) for _ in range(5)]
    unknown = page_text(sign_in(client, email="nobody@example.org"))
    locked = sign_in(client)  # the right password, but now locked
    assert locked.status_code == 422
    for text in [*answers, unknown, page_text(locked)]:
        assert SIGN_IN_REFUSED in text
    user = db.session.scalar(select(User))
    db.session.refresh(user)
    assert user.locked_until is not None
    locked_entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.locked"))
    assert locked_entry.actor == "system:sign-in-throttle" and locked_entry.target == user.email
    user.locked_until = datetime.now(UTC) - timedelta(seconds=1)  # 15 minutes later
    db.session.commit()
    assert sign_in(client).status_code == 302


def test_one_time_password_must_be_changed_first(app):
    make_user(ready=False)
    client = app.test_client()
    sign_in(client)
    assert client.get("/staff/").location.endswith("/staff/password")
    token = csrf(client, "/staff/password")
    short = client.post(
        "/staff/password",
        data={"csrf_token": token, "current": PASSWORD, "new": "short", "confirm": "short"},
    )
    assert short.status_code == 422 and "at least 12" in page_text(short)
    new = "a much better passphrase"
    done = client.post(
        "/staff/password",
        data={"csrf_token": token, "current": PASSWORD, "new": new, "confirm": new},
    )
    assert done.status_code == 302
    assert client.get("/staff/").status_code == 200


def test_password_change_ends_other_sessions(app):
    make_user()
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop)
    sign_in(phone)
    new = "another long passphrase"
    token = csrf(laptop, "/staff/password")
    laptop.post(
        "/staff/password",
        data={"csrf_token": token, "current": PASSWORD, "new": new, "confirm": new},
    )
    assert laptop.get("/staff/").status_code == 200  # this session goes on
    assert phone.get("/staff/").status_code == 302  # the other one ended


def test_analyst_must_enrol_2fa_then_sign_in_needs_a_code(app):
    user = make_user("an@example.org", roles=(Role.ANALYST,))
    client = app.test_client()
    sign_in(client, "an@example.org")
    assert client.get("/staff/").location.endswith("/staff/2fa")
    page = client.get("/staff/2fa").get_data(as_text=True)
    assert "<svg" in page and "<img" not in page  # inline SVG, no image request
    db.session.expire_all()
    secret = totp_secret(db.session.get(User, user.id))
    token = CSRF_RE.search(page).group(1)
    wrong = client.post("/staff/2fa", data={"csrf_token": token, "code": "000000"})
    assert wrong.status_code == 422
    done = client.post("/staff/2fa", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()})
    codes = re.findall(r'code-box__code" translate="no">([^<]+)<', done.get_data(as_text=True))
    assert len(codes) == 10
    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert all(code not in stored.backup_code_lookups for code in codes)
    assert secret.encode() not in (stored.totp_secret_sealed or b"")

    fresh = app.test_client()
    first = sign_in(fresh, "an@example.org")
    assert first.location.endswith("/staff/login/code")
    assert fresh.get("/staff/").status_code == 302  # not signed in yet
    token = csrf(fresh, "/staff/login/code")
    # The code used to enrol can't be replayed.
    replay = fresh.post(
        "/staff/login/code", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()}
    )
    assert replay.status_code == 422
    backup = fresh.post("/staff/login/code", data={"csrf_token": token, "code": codes[0].lower()})
    assert backup.status_code == 302 and fresh.get("/staff/").status_code == 200

    again = app.test_client()
    sign_in(again, "an@example.org")
    token = csrf(again, "/staff/login/code")
    used = again.post("/staff/login/code", data={"csrf_token": token, "code": codes[0]})
    assert used.status_code == 422  # a backup code works once


def test_company_reader_needs_an_organisation(app):
    with pytest.raises(ValueError, match="needs --org"):
        create_user("c@example.org", [Role.COMPANY], PASSWORD, None)
    user = create_user("c@example.org", [Role.COMPANY], PASSWORD, "Example Messaging Ltd")
    assert user.organisation.name == "Example Messaging Ltd"


def test_cli_user_create(app):
    runner = app.test_cli_runner()
    printed = runner.invoke(
        args=["user", "create", "Admin@Example.org", "--role", "admin", "--role", "analyst"]
    )
    assert printed.exit_code == 0, printed.output
    password = printed.output.split("must be changed at sign-in): ")[1].strip()
    assert len(password) >= 20
    user = db.session.scalar(select(User).where(User.email == "admin@example.org"))
    assert user.roles == "admin analyst" and user.must_change_password
    assert password not in user.password_hash
    piped = runner.invoke(
        args=["user", "create", "f@example.org", "--role", "facilitator"],
        input="my own long password\n",
    )
    assert piped.exit_code == 0 and "One-time password" not in piped.output
    again = runner.invoke(args=["user", "create", "f@example.org", "--role", "facilitator"])
    assert again.exit_code == 1 and "already an account" in again.output
    bad = runner.invoke(args=["user", "create", "x@example.org", "--role", "company"])
    assert bad.exit_code == 1 and "needs --org" in bad.output


# --- deny by default: every route × every kind of visitor ------------------------------


def staff_routes(app, arguments=None):
    """Every rule that isn't public, with a concrete URL and its methods.

    `arguments` gives real values for URL arguments (a survey's slug, a user's id),
    so that allowed visitors reach the page itself rather than a 404.
    """
    routes = []
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.rsplit(".", 1)[0] if "." in rule.endpoint else None
        if is_public(rule.endpoint, blueprint):
            continue
        url = rule.rule
        if rule.arguments:
            url = _url_with_placeholders(app, rule, arguments or {})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, url, method))
    return routes


def _url_with_placeholders(app, rule, arguments):
    """The rule's URL with real values where given, and a placeholder for the rest:
    "x" (names nothing), or 0 where the argument is an `<int:...>`."""
    for placeholder in ("x", 0):
        values = {name: arguments.get(name, placeholder) for name in rule.arguments}
        try:
            with app.test_request_context():
                return url_for(rule.endpoint, **values)
        except ValueError:
            continue
    raise AssertionError(f"no placeholder builds a URL for {rule.rule}")


def matrix_objects(make_published_report):
    """Real things for URL arguments: a draft survey, another account, an organisation,
    and a published report version addressed to the company visitors' "Org" (and not
    to "Elsewhere Ltd")."""
    survey = import_definition(parse_definition(small_survey_document(slug="matrix-survey")))
    target = make_user("target@example.org", roles=(Role.COMPANY,), org="Target Org")
    version = make_published_report([MATRIX_ORG])
    return {
        "slug": survey.slug,
        "user_id": target.id,
        "org_id": target.organisation_id,
        "version_id": version.id,
        "finding_id": "f1",
        "key": "question-detect_images",  # a chart of the version (and of a preview)
    }


MATRIX_ORG = "Org"
# Visitor → (role, organisation). "company_elsewhere" reads for another company: it
# behaves as "company" everywhere except on a report version, which is not theirs.
MATRIX_VISITORS = {
    "anonymous": (None, None),
    "admin": (Role.ADMIN, None),
    "facilitator": (Role.FACILITATOR, None),
    "analyst": (Role.ANALYST, None),  # holds no grant of the survey's key
    "custodian": (Role.ANALYST, None),  # an analyst holding a grant of it
    "company": (Role.COMPANY, MATRIX_ORG),
    "company_elsewhere": (Role.COMPANY, "Elsewhere Ltd"),
}


def test_every_non_public_route_declares_its_roles(app):
    undeclared = []
    for endpoint, _, _ in staff_routes(app):
        view = app.view_functions[endpoint]
        if f"{view.__module__}.{view.__qualname__}" not in _allowed_roles:
            undeclared.append(endpoint)
    assert undeclared == []


def current_id(visitor: str) -> int:
    return db.session.scalar(select(User.id).where(User.email == f"{visitor}@example.org"))


@pytest.mark.parametrize("visitor", list(MATRIX_VISITORS))
def test_authorization_matrix(app, make_published_report, visitor):
    client = app.test_client()
    role, organisation = MATRIX_VISITORS[visitor]
    roles: set[Role] = set()
    if role is not None:
        roles = {role}
        make_user(f"{visitor}@example.org", roles=(role,), org=organisation)
        sign_in_enrolled(client, f"{visitor}@example.org")
    token_page = "/staff/login" if visitor == "anonymous" else "/staff/password"
    objects = matrix_objects(make_published_report)
    if visitor == "custodian":
        survey = find_survey(objects["slug"])
        prepare_keys(survey, [db.session.get(User, current_id(visitor))], sheet_check=False)
    # Signing out ends the visit, so it goes last.
    routes = sorted(staff_routes(app, objects), key=lambda r: r[0] == "staff.logout")
    for endpoint, url, method in routes:
        allowed = roles_for_endpoint(app, endpoint)
        data = {"csrf_token": csrf(client, token_page)} if method == "POST" else None
        response = client.open(url, method=method, data=data)
        rule_arguments = next(app.url_map.iter_rules(endpoint)).arguments
        if visitor == "anonymous":
            expected = {302} if method == "GET" else {401}
        elif roles & set(allowed):
            # A page, or a redirect; an empty form is refused with a message (or
            # 409 when the thing is in the wrong state for it), never a crash.
            expected = {200, 302} if method == "GET" else {200, 302, 409, 422}
            if visitor == "company_elsewhere" and "version_id" in rule_arguments:
                # Another company's report: as if it didn't exist.
                expected = {404}
            if visitor == "analyst" and endpoint.startswith(("reports.", "themes.")):
                # An analyst without a grant for the survey: its report draft and
                # its themes are its custodians' alone.
                expected = {403}
        else:
            expected = {403}
        assert response.status_code in expected, (visitor, endpoint, method, response.status_code)


def test_an_undeclared_staff_route_is_refused_even_to_admins(app, database_url):
    from flask import Blueprint

    from survey import create_app
    from tests.conftest import FreshContextClient, base_config

    extra = Blueprint("forgotten", __name__)

    @extra.get("/forgotten")
    def forgotten():
        return "should never be seen"

    other = create_app(base_config(database_url))
    other.register_blueprint(extra)
    other.test_client_class = FreshContextClient
    with other.app_context():
        make_user("root@example.org", roles=(Role.ADMIN,))
        client = other.test_client()
        sign_in_enrolled(client, "root@example.org")
        assert client.get("/forgotten").status_code == 403


def test_demo_accounts_only_in_demo_mode(app, tmp_path, monkeypatch):
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["user", "demo"])
    assert refused.exit_code == 1 and "CHORUS_DEMO=1" in refused.output
    monkeypatch.setattr("admin.cli.INSTANCE_DIR", tmp_path)
    app.config["CHORUS_DEMO"] = True
    made = runner.invoke(args=["user", "demo"])
    assert made.exit_code == 0, made.output
    lines = [line for line in made.output.splitlines() if "@demo.chorus" in line]
    assert len(lines) == 4
    email, password = lines[0].split()[:2]
    client = app.test_client()
    assert sign_in(client, email, password).status_code == 302
    again = runner.invoke(args=["user", "demo"])  # idempotent, prints the same logins
    assert again.exit_code == 0 and [x for x in again.output.splitlines() if "@demo" in x] == lines
    assert (tmp_path / "demo-staff-logins.txt").exists()
