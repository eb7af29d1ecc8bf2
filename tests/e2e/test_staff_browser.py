"""Staff pages in the browser: sign-in, first password change and two-factor
enrolment, with the keyboard and axe on every page."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select

from admin.accounts.sign_in import create_user, totp_secret
from survey.models import Role, User, db
from tests.e2e.helpers import Person

ONE_TIME = "one-time password 4417"
OWN = "my own passphrase for chorus"


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_an_analyst_signs_in_changes_password_and_enrols_2fa(app, live_server, new_context, js):
    create_user("analyst@example.org", [Role.ANALYST], ONE_TIME, None)
    staff = Person(new_context(js=js).new_page())
    staff.goto("/staff/", "Sign in")  # deny by default: to the sign-in page

    staff.type("Password", "wrong password entirely")
    staff.type("Email", "analyst@example.org")
    staff.press("Sign in", "Sign in")
    assert "don't match an account" in staff.html()

    staff.type("Email", "analyst@example.org")
    staff.type("Password", ONE_TIME)
    staff.press("Sign in", "Change your password")
    staff.type("Current password", ONE_TIME)
    staff.type("New password", OWN)
    staff.type("New password again", OWN)
    staff.press("Change password", "Two-factor sign-in")  # analysts must enrol next

    assert staff.page.locator(".qr svg").count() == 1
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == "analyst@example.org"))
    code = pyotp.TOTP(totp_secret(user)).now()
    staff.type("Code from the app", code)
    staff.press("Turn on", "Two-factor sign-in")
    assert staff.page.locator(".code-list li").count() == 10
    staff.page.get_by_role("link", name="Continue").click()
    staff.check("Chorus staff")
    staff.press("Sign out", "Sign in")


def test_sign_in_with_the_keyboard_alone(app, live_server, new_context):
    user = create_user("fac@example.org", [Role.FACILITATOR], OWN, None)
    user.must_change_password = False
    db.session.commit()
    staff = Person(new_context().new_page())
    staff.goto("/staff/login", "Sign in")
    keyboard = staff.page.keyboard
    staff.page.get_by_label("Email").focus()
    keyboard.type("fac@example.org")
    keyboard.press("Tab")
    keyboard.type(OWN)
    keyboard.press("Enter")
    staff.check("Chorus staff")
