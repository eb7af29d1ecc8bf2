"""A respondent's way through sections and review in a real browser at 320 px
(issue 21, points 5, 6 and 9): finishing early, changing language without losing
what was typed, the review, and the "Other" box; with JavaScript on and off, and
every page checked with axe-core (`Person.check`)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from survey.models import db
from tests.e2e.helpers import Person, screenshot
from tests.factories import template_document
from tests.survey.test_respondent_flow import flow_document
from tests.survey.test_respondent_path import stored_answers

pytestmark = pytest.mark.browser

PHONE = {"width": 320, "height": 568}


@pytest.fixture
def phone(new_context):
    """A respondent on a small phone, with JavaScript on or off."""

    def make(js: bool) -> Person:
        return Person(new_context(js=js, viewport=PHONE).new_page())

    return make


@pytest.fixture
def open_with_recovery(app, make_open_survey):
    def make(document):
        survey, recovery = make_open_survey(document)
        db.session.commit()
        return survey, recovery

    return make


def test_from_step_two_one_press_reaches_the_review_and_the_rest_is_skipped(
    phone, open_with_recovery
):
    document = template_document()
    document["slug"] = "early"
    _, recovery = open_with_recovery(document)
    p = phone(js=False)
    p.goto("/s/early", "Product-risk consultation")
    p.press("Start the survey", "The apps and services you use")
    p.type("How many different messaging apps do you use in a typical week?", "3")
    p.press("Save and continue", "Reporting and blocking tools")
    p.choose("Have you ever tried to report a message, post or account", "No, I decided not to")
    p.press("Finish now and check your answers", "Check your answers")
    main = p.page.locator("main")
    expect(main).to_contain_text("You did not answer these questions.")
    screenshot(p.page, "finish-early-review", (320,))
    p.press("Send my answers", "Your answers have been sent")

    [answers] = stored_answers("early", recovery)
    assert answers["messaging_apps_count"] == {"value": 3}
    assert answers["reporting_tried"] == {"value": "no_chose_not_to"}
    assert answers["reporting_how_well"] == {"state": "not_shown"}
    later = [
        q["id"]
        for section in document["sections"][2:]
        for q in section["questions"]
        if q["type"] != "info"
    ]
    assert later and all("value" not in answers[qid] for qid in later)
    assert answers["age_band"] == {"state": "skipped"}
    assert answers["suggestions_remove_easy"] == {"state": "not_shown"}


@pytest.mark.parametrize("js", [False, True], ids=["no-js", "js"])
def test_changing_language_keeps_what_was_typed(phone, open_with_recovery, js):
    document = template_document()
    document["slug"] = "words"
    _, recovery = open_with_recovery(document)
    p = phone(js=js)
    p.goto("/s/words", "Product-risk consultation")
    p.press("Start the survey", "The apps and services you use")
    p.type("How many different messaging apps do you use in a typical week?", "4")
    # The language choice looks like a link, is a button, and works from the keyboard.
    spanish = p.page.get_by_role("button", name="Español")
    expect(spanish).to_have_css("text-decoration-line", "underline")
    spanish.focus()
    p.page.keyboard.press("Enter")
    titles = [section["title"] for section in document["sections"]]
    p.check(titles[0]["es"])
    expect(p.page.locator("html")).to_have_attribute("lang", "es")
    count = p.page.locator("#messaging_apps_count")
    expect(count).to_have_value("4")
    screenshot(p.page, f"language-kept-{'js' if js else 'nojs'}", (320,))
    # Enter in the box still saves and continues (not a change of language).
    count.focus()
    p.page.keyboard.press("Enter")
    p.check(titles[1]["es"])
    p.press("Terminar ahora y revisar tus respuestas", "Revisa tus respuestas")
    p.press("Enviar mis respuestas", "Tus respuestas se han enviado")
    [answers] = stored_answers("words", recovery)
    assert answers["messaging_apps_count"] == {"value": 4}


@pytest.mark.parametrize("js", [False, True], ids=["no-js", "js"])
def test_other_box_and_review_at_320(phone, open_with_recovery, js):
    open_with_recovery(flow_document())
    p = phone(js=js)
    p.goto("/s/small", "Messaging safety")
    p.press("Start the survey", "About you")
    p.choose("How old are you?", "18 or older")
    p.page.get_by_label("How many apps?").fill("2.5")
    expect(p.page.locator("#apps-limits")).to_have_text(
        "Enter a number between 0 and 30. Whole numbers only."
    )
    p.press("Save and continue", "About you")
    expect(p.page.locator(".error-summary")).to_contain_text("Enter a whole number, like 3")
    p.page.get_by_label("How many apps?").fill("2")
    p.press("Save and continue", "Encrypted messaging")
    p.press("Continue to this section", "Encrypted messaging")

    box = p.page.get_by_label("If you chose Other, please describe it")
    if js:
        expect(box).to_be_hidden()
        p.choose("What do you want?", "Other")
        expect(box).to_be_visible()
        box.fill("Age checks")
        p.question("What do you want?").get_by_label("Other", exact=True).uncheck()
        expect(box).to_be_hidden()
        p.check("Encrypted messaging")
    else:
        expect(box).to_be_visible()
        box.fill("Age checks")
    p.choose("What do you want?", "Detection")
    p.choose("How much harm?", "3")
    screenshot(p.page, f"other-box-{'js' if js else 'nojs'}", (320,))
    p.press("Finish now and check your answers", "Check your answers")

    main = p.page.locator("main")
    expect(main).to_contain_text("3 (from 1 – None to 5 – A lot)")
    expect(main).to_contain_text("Detection")
    expect(main).not_to_contain_text("Age checks")
    expect(main).to_contain_text("Not answered:")
    screenshot(p.page, f"review-{'js' if js else 'nojs'}", (320,))
    # A Change link names its question and lands on it.
    p.page.get_by_role("link", name="Change How much harm?").click()
    p.check("Encrypted messaging")
    assert re.search(r"/s/small/section/e2ee#q-harm_scale$", p.page.url)
    expect(p.page.locator("#q-harm_scale")).to_be_in_viewport()


def test_a_content_note_offers_finish_now_at_320(phone, open_with_recovery):
    open_with_recovery(flow_document())
    p = phone(js=True)
    p.goto("/s/small", "Messaging safety")
    p.press("Start the survey", "About you")
    p.choose("How old are you?", "Under 18")
    p.press("Save and continue", "Encrypted messaging")
    expect(p.page.locator(".warning-panel")).to_be_visible()
    screenshot(p.page, "content-note-finish", (320,))
    p.press("Finish now and check your answers", "Check your answers")
    expect(p.page.locator("main")).to_contain_text("You did not answer these questions.")
