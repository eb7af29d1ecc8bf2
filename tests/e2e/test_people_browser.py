"""An admin manages people in the browser: creates an account, resets an analyst's
password, and looks at organisations and the audit log; axe on every page, with
JavaScript on and off."""

from __future__ import annotations

import pyotp
import pytest
from playwright.sync_api import expect

from admin.accounts.sign_in import confirm_totp, create_user, start_totp_enrolment
from survey.models import Role, db
from tests.e2e.helpers import Person
from tests.factories import CUSTODIAN_EMAIL

ADMIN = "root@example.org"
ADMIN_PASSWORD = "admin passphrase for chorus"


def enrolled_admin() -> list[str]:
    """An admin with two-factor on; returns their backup codes (one per sign-in)."""
    user = create_user(ADMIN, [Role.ADMIN], ADMIN_PASSWORD, None)
    user.must_change_password = False
    db.session.commit()
    secret = start_totp_enrolment(user)
    codes = confirm_totp(user, pyotp.TOTP(secret).now())
    assert codes
    return codes


def sign_in(staff: Person, email: str, password: str) -> None:
    staff.goto("/staff/login", "Sign in")
    staff.type("Email", email)
    staff.type("Password", password)
    staff.page.get_by_role("button", name="Sign in").click()


def follow(staff: Person, link: str, heading: str) -> None:
    staff.page.get_by_role("link", name=link, exact=True).first.click()
    staff.check(heading)


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_an_admin_creates_an_account_and_resets_a_password(
    app, live_server, new_context, open_survey_live, js
):
    codes = enrolled_admin()
    survey = open_survey_live()  # its key is held by the custodian analyst
    staff = Person(new_context(js=js).new_page())
    sign_in(staff, ADMIN, ADMIN_PASSWORD)
    staff.check("Enter your sign-in code")
    staff.type("Code", codes[0])
    staff.press("Continue", "Chorus staff")

    follow(staff, "Accounts", "Accounts")
    follow(staff, "Create an account", "Create an account")
    staff.type("Email", "new.person@example.org")
    staff.press("Create account", "Create an account")  # no role chosen: refused
    assert "Choose at least one role" in staff.html()
    expect(staff.page.get_by_label("Email", exact=True)).to_have_value("new.person@example.org")
    staff.page.get_by_label("Facilitator", exact=True).check()
    staff.press("Create account", "Account created")
    one_time = staff.code_shown()
    assert len(one_time) >= 20

    follow(staff, "Back to all accounts", "Accounts")
    follow(staff, CUSTODIAN_EMAIL, CUSTODIAN_EMAIL)
    follow(staff, "Reset password", f"Reset the password of {CUSTODIAN_EMAIL}?")
    assert survey.slug in staff.page.locator(".warning").inner_text()
    staff.press("Reset password", "Password reset")
    assert f"keys for these surveys are gone: {survey.slug}" in staff.html()
    assert staff.code_shown()

    follow(staff, f"Back to the account of {CUSTODIAN_EMAIL}", CUSTODIAN_EMAIL)
    follow(staff, "Organisations", "Organisations")
    staff.type("Name", "Example Messaging Ltd")
    staff.press("Add organisation", "Organisations")
    follow(staff, "Example Messaging Ltd", "Example Messaging Ltd")
    follow(staff, "Audit log", "Audit log")
    assert "The chain is intact" in staff.html()
    assert staff.page.get_by_role("cell", name="user.password_reset").count() == 1

    # The new account's one-time password works, and must be replaced at once.
    newcomer = Person(new_context(js=js).new_page())
    sign_in(newcomer, "new.person@example.org", one_time)
    newcomer.check("Change your password")


def test_the_people_pages_fit_a_narrow_screen(app, live_server, new_context):
    codes = enrolled_admin()
    staff = Person(new_context(viewport={"width": 320, "height": 640}).new_page())
    sign_in(staff, ADMIN, ADMIN_PASSWORD)
    staff.type("Code", codes[0])
    staff.press("Continue", "Chorus staff")
    for path, heading in (
        ("/staff/people/", "Accounts"),
        ("/staff/people/new", "Create an account"),
        ("/staff/people/organisations", "Organisations"),
        ("/staff/audit/", "Audit log"),
    ):
        staff.goto(path, heading)
        width = staff.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, (path, width)
