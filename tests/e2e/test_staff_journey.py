"""The whole consultation, end to end, in the browser.

A facilitator turns on two-factor sign-in and signs in with it, builds a
two-language survey with a branching question by keyboard alone, previews it
and opens it (custodian, key sheet, two groups typed back); a respondent answers
it; the analyst signs in with two-factor, unlocks the survey with their password
and downloads the answers. Axe runs on every page.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pyotp
from playwright.sync_api import expect
from sqlalchemy import select

from admin.accounts.sign_in import confirm_totp, create_user, start_totp_enrolment, totp_secret
from survey.models import AuditEntry, Role, User, db
from survey.surveys import definition_of, find_survey
from tests.e2e.helpers import Hands, Person, build_two_language_survey_with_branching
from tests.factories import store_the_week

FACILITATOR = ("facilitator@example.org", "facilitator passphrase 2026")
ANALYST = ("analyst@example.org", "analyst passphrase 2026")


def next_totp(email: str) -> str:
    """The code for the next 30-second step: each step's code works only once, and
    enrolment has just used this one."""
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == email))
    return pyotp.TOTP(totp_secret(user)).at(datetime.now(UTC) + timedelta(seconds=30))


def test_facilitator_builds_and_opens_respondent_answers_analyst_unlocks_and_exports(
    app, live_server, new_context
):
    for email, password, role in (
        (*FACILITATOR, Role.FACILITATOR),
        (*ANALYST, Role.ANALYST),
    ):
        user = create_user(email, [role], password, None)
        user.must_change_password = False
    db.session.commit()
    analyst = db.session.scalar(select(User).where(User.email == ANALYST[0]))
    analyst_codes = confirm_totp(analyst, pyotp.TOTP(start_totp_enrolment(analyst)).now())

    # The facilitator turns on two-factor sign-in, by keyboard, then signs in with it.
    me = Hands(Person(new_context().new_page()))
    me.sign_in(*FACILITATOR)
    me.follow("Two-factor sign-in", "Two-factor sign-in")
    db.session.expire_all()
    secret = totp_secret(db.session.scalar(select(User).where(User.email == FACILITATOR[0])))
    me.page.get_by_label("Code from the app").focus()
    me.keys.type(pyotp.TOTP(secret).now())
    me.keys.press("Enter")
    me.person.check("Two-factor sign-in")
    me.press("Sign out", "Sign in")
    me.sign_in(*FACILITATOR, second_factor=next_totp(FACILITATOR[0]))

    # Builds the survey, previews it in Spanish.
    me.follow("Surveys", "Surveys")
    build_two_language_survey_with_branching(me)
    me.follow("Preview", "Safety by design")
    me.follow("Español", "Seguridad desde el diseño")
    me.follow("Empezar la encuesta", "Primera sección")

    # Opening asks for a support service first; the settings offer a starting list,
    # and add only what is ticked.
    me.person.goto("/staff/surveys/safety-by-design", "Safety by design")
    me.follow("Open the survey", "Open “Safety by design”", exact=False)
    expect(me.page.locator("main")).to_contain_text("has no support services")
    me.follow("Add support services in the survey's settings", "Survey settings")
    me.tick("Child Helpline International — find a helpline in your country")
    me.press("Add the ticked services and save", "Survey settings")
    expect(me.page.get_by_role("status")).to_contain_text(
        "Support services added: Child Helpline International"
    )
    db.session.expire_all()
    [service] = definition_of(find_survey("safety-by-design")).support
    assert service.url == "https://childhelplineinternational.org/helplines/"

    # Opens it: a custodian, the key sheet, two of its groups typed back.
    me.person.goto("/staff/surveys/safety-by-design", "Safety by design")
    me.follow("Open the survey", "Open “Safety by design”", exact=False)
    me.tick(ANALYST[0])
    me.tick(
        "I understand: I will print or write down the key sheet on the next page and keep it safe."
    )
    me.press("Make the keys and show the key sheet", "Key sheet: “Safety by design”")
    groups = me.page.locator(".key-sheet__groups .code-box__code").all_inner_texts()
    me.follow("I have kept the key sheet: continue", "Check the key sheet")
    for label in me.page.locator("label[for^=group-]").all_inner_texts():
        me.page.get_by_label(label).focus()
        me.keys.type(groups[int(label.split()[1]) - 1])
    me.keys.press("Enter")
    me.person.check("“Safety by design” is open")
    assert find_survey("safety-by-design").status == "open"

    # A respondent answers, and the branch appears at once after "Yes".
    respondent = Person(new_context().new_page())
    respondent.goto("/s/safety-by-design", "Safety by design")
    expect(respondent.page.locator("footer")).to_contain_text("Child Helpline International")
    respondent.press("Start the survey", "First section")
    follow_up = respondent.page.get_by_label("What happened? Please leave out names and places.")
    expect(follow_up).to_be_hidden()
    respondent.choose("Has this feature harmed you or someone you know?", "Yes")
    expect(follow_up).to_be_visible()
    respondent.type("What happened? Please leave out names and places.", "It deleted the evidence.")
    respondent.press("Save and review your answers", "Check your answers")
    respondent.press("Send my answers", "Your answers have been sent")
    # Staff see answers once the weekly flush has stored them: a week goes by.
    store_the_week("safety-by-design")

    # The analyst signs in with two-factor, unlocks and downloads the answers.
    analyst_hands = Hands(Person(new_context().new_page()))
    analyst_hands.sign_in(*ANALYST, second_factor=analyst_codes[0])
    analyst_hands.follow("Surveys", "Surveys")
    analyst_hands.follow("Safety by design", "Safety by design")
    analyst_hands.follow("Who can unlock the answers", "Who can unlock the answers")
    analyst_hands.page.get_by_label("Your password").focus()
    analyst_hands.keys.type(ANALYST[1])
    analyst_hands.keys.press("Enter")
    analyst_hands.person.check("Who can unlock the answers")
    page = analyst_hands.page
    with page.expect_download() as download:
        page.get_by_role("link", name="Download every response as CSV").focus()
        analyst_hands.keys.press("Enter")
    with open(download.value.path(), encoding="utf-8") as exported:
        [row] = list(csv.DictReader(io.StringIO(exported.read())))
    assert row["harmed"] == "yes" and row["what_happened"] == "It deleted the evidence."

    actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    for expected in (
        "user.2fa_enabled",
        "survey.create",
        "survey.edit",
        "survey.keys_made",
        "survey.open",
        "custody.unlock",
        "responses.export",
    ):
        assert expected in actions, expected
