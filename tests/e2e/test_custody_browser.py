"""Key custody in the browser: a facilitator opens a survey with a custodian and a
key sheet; a respondent answers; the analyst unlocks with their password and
downloads the answers. With and without JavaScript, axe on every page."""

from __future__ import annotations

import csv
import io
import re

import pyotp
import pytest

from admin.accounts.sign_in import confirm_totp, create_user, start_totp_enrolment
from survey.definition import parse_definition
from survey.models import Role, db
from survey.surveys import find_survey, import_definition
from tests.e2e.helpers import Person, screenshot
from tests.factories import small_survey_document, store_the_week

FACILITATOR = ("fac@example.org", "facilitator passphrase 1")
ANALYST = ("ana@example.org", "analyst passphrase 22")


def staff_member(email: str, password: str, role: Role) -> list[str]:
    """An account ready to sign in; for roles that need it, two-factor is on and
    its backup codes are returned (one signs in without waiting for a new TOTP step)."""
    user = create_user(email, [role], password, None)
    user.must_change_password = False
    db.session.commit()
    codes: list[str] = []
    if user.needs_2fa:
        secret = start_totp_enrolment(user)
        codes = confirm_totp(user, pyotp.TOTP(secret).now()) or []
    return codes


def sign_in(person: Person, email: str, password: str, backup_code: str | None = None) -> None:
    person.goto("/staff/login", "Sign in")
    person.type("Email", email)
    person.type("Password", password)
    if backup_code:
        person.press("Sign in", "Enter your sign-in code")
        person.type("Code", backup_code)
        person.press("Continue", "Chorus staff")
    else:
        person.press("Sign in", "Chorus staff")


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_open_with_a_key_sheet_then_unlock_and_export(app, live_server, new_context, js):
    import_definition(parse_definition(small_survey_document()))
    staff_member(*FACILITATOR, Role.FACILITATOR)
    backup_codes = staff_member(*ANALYST, Role.ANALYST)

    facilitator = Person(new_context(js=js).new_page())
    sign_in(facilitator, *FACILITATOR)
    facilitator.goto("/staff/surveys/small/open", "Open “Messaging safety”")
    facilitator.press("Make the keys and show the key sheet", "Open “Messaging safety”")
    assert "Choose at least one person who can unlock the answers" in facilitator.html()
    facilitator.page.get_by_label(ANALYST[0]).check()
    facilitator.page.get_by_label(re.compile("I understand")).check()
    facilitator.press("Make the keys and show the key sheet", "Key sheet: “Messaging safety”")
    screenshot(facilitator.page, f"key-sheet-{'js' if js else 'nojs'}")
    groups = facilitator.page.locator(".key-sheet__groups .code-box__code").all_inner_texts()
    assert len(groups) == 7
    # On a 320 px phone the numbered groups stay inside the page's margins (they hung
    # out to the left), and the custodian's email keeps its line whole.
    facilitator.page.set_viewport_size({"width": 320, "height": 800})
    margin = facilitator.page.locator("main h1").bounding_box()
    assert margin is not None
    for cell in facilitator.page.locator(".key-sheet__group").all():
        box = cell.bounding_box()
        assert box is not None
        assert box["x"] >= margin["x"] - 0.5
        assert box["x"] + box["width"] <= margin["x"] + margin["width"] + 0.5
    assert facilitator.page.evaluate("document.documentElement.scrollWidth") <= 320
    email = facilitator.page.locator(".key-sheet__facts .email")
    assert email.inner_text() == ANALYST[0]
    line = facilitator.page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight)")
    email_box = email.bounding_box()
    assert email_box is not None and email_box["height"] < 1.5 * line  # one line
    facilitator.page.set_viewport_size({"width": 1280, "height": 800})
    if js:
        assert facilitator.page.get_by_role("button", name="Print this page").is_visible()
    facilitator.page.get_by_role("link", name="I have kept the key sheet: continue").click()
    facilitator.check("Check the key sheet")
    for label in facilitator.page.locator("label[for^=group-]").all_inner_texts():
        number = int(label.split()[1])
        facilitator.type(label, groups[number - 1])
    facilitator.press("Check and open the survey", "“Messaging safety” is open")
    assert find_survey("small").status == "open"

    respondent = Person(new_context(js=js).new_page())
    respondent.goto("/s/small", "Messaging safety")
    respondent.press("Start the survey", "About you")
    respondent.type("How many apps?", "4")
    respondent.press("Save and continue", "Encrypted messaging")
    respondent.press("Skip this section", "Check your answers")
    respondent.press("Send my answers", "Your answers have been sent")
    store_the_week("small")  # staff read answers once the weekly flush stores them

    analyst = Person(new_context(js=js).new_page())
    sign_in(analyst, *ANALYST, backup_code=backup_codes[0])
    analyst.goto("/staff/surveys/small/keys", "Who can unlock the answers")
    analyst.type("Your password", "not the password at all")
    analyst.press("Unlock", "Who can unlock the answers")
    assert "does not open your key" in analyst.html()
    analyst.type("Your password", ANALYST[1])
    analyst.press("Unlock", "Who can unlock the answers")
    assert "Unlocked." in analyst.html()
    screenshot(analyst.page, f"custody-unlocked-{'js' if js else 'nojs'}")
    with analyst.page.expect_download() as download:
        analyst.page.get_by_role("link", name="Download every response as CSV").click()
    with open(download.value.path(), encoding="utf-8") as exported:
        rows = list(csv.DictReader(io.StringIO(exported.read())))
    assert [row["apps"] for row in rows] == ["4"]
    analyst.press("Lock now", "Who can unlock the answers")
    assert "Your password" in analyst.html()
