"""The landing page, content warnings and follow-up questions in a real browser, on a
phone's screen and a desktop's, with and without JavaScript. Every page a test reaches
is checked with axe-core (`Person.check`).

With CHORUS_E2E_SCREENSHOTS=DIR, full-page pictures of the landing page, a content
warning and a section with a follow-up shown are written there at 320 and 1280 px
(respondent-landing-320.png, respondent-warning-1280.png, respondent-follow-up-320.png...).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, expect

from tests.e2e.helpers import Person, screenshot
from tests.e2e.test_respondent_browser import demo_document

pytestmark = pytest.mark.browser

# An iPhone SE's screen (first generation): 320 x 568 CSS pixels.
PHONE = {"width": 320, "height": 568}
WIDTHS = (320, 1280)
START = "Start the survey"
REVEAL = "Thinking of the last time, did the app make it easy to remove or block that person?"
TRIGGER = "Has a friend or contact suggestion in an app ever"
YES = "Yes, a child I care for"
FIRST_SECTION = "The apps and services you use"
REPORTING = "Reporting and blocking tools"


def to_friend_suggestions(p: Person) -> None:
    """From the landing page to the section with a follow-up, past its warning."""
    p.goto("/s/demo", "Product-risk consultation")
    p.press(START, FIRST_SECTION)
    p.press("Save and continue", REPORTING)
    p.press("Save and continue", "Friend and contact suggestions")
    p.press("Continue to this section", "Friend and contact suggestions")


# What the landing page of the template says first, and what comes after Start.
FIRST_SCREEN = {
    "en": {
        "title": "Product-risk consultation",
        "start": START,
        "before": ("Who runs it", "How long it takes", "About 15 minutes"),
        "after": "This consultation asks how the design of apps",
    },
    "es": {
        "title": "Consulta sobre los riesgos de los productos tecnológicos",
        "start": "Empezar la encuesta",
        "before": ("Quién la organiza", "Cuánto se tarda", "Unos 15 minutos"),
        "after": "Esta consulta pregunta cómo influye el diseño",
    },
}


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_on_a_phone_start_is_on_the_first_screen(open_survey_live, new_context, js, language):
    """The template survey (long title, organiser and intro, two languages) on a
    320 x 568 touch screen: Start is whole on the first screen."""
    open_survey_live(demo_document())
    expected = FIRST_SCREEN[language]
    context = new_context(js=js, viewport=PHONE, is_mobile=True, has_touch=True)
    p = Person(context.new_page())
    p.goto(f"/s/demo?lang={language}", expected["title"])
    start = p.page.get_by_role("button", name=expected["start"]).bounding_box()
    assert start is not None
    assert start["y"] + start["height"] <= PHONE["height"], start
    # Above it: who runs it and how long it takes; the rest comes after.
    main = p.page.locator("main")
    for fact in expected["before"]:
        box = main.get_by_text(fact).first.bounding_box()
        assert box is not None and box["y"] < start["y"], fact
    intro = main.get_by_text(expected["after"]).bounding_box()
    assert intro is not None and intro["y"] > start["y"]
    if js and language == "en":
        screenshot(p.page, "respondent-landing", WIDTHS)


def test_what_happens_to_answers_folds_and_opens_without_javascript(
    open_survey_live, nojs_person: Person
):
    open_survey_live(demo_document())
    p = nojs_person
    p.goto("/s/demo", "Product-risk consultation")
    summary_line = p.page.get_by_text("We don't ask who you are, and your answers are locked")
    expect(summary_line).to_be_visible()
    folded = p.page.get_by_text("taking control of the running server itself")
    expect(folded).to_be_hidden()
    toggle = p.page.locator("summary", has_text="What happens to your answers")
    toggle.click()
    expect(folded).to_be_visible()
    expect(p.page.get_by_text("Any group smaller than 10 people is hidden")).to_be_visible()
    expect(p.page.locator("#what-happens")).to_have_attribute("open", "")
    p.check()
    toggle.click()
    expect(folded).to_be_hidden()


def equal_looks(first: Locator, second: Locator) -> None:
    """Two buttons that look alike: colours, border, type and size."""
    styles = """el => { const s = getComputedStyle(el);
        return [s.backgroundColor, s.color, s.borderTopColor, s.borderTopWidth,
                s.fontWeight, s.fontSize, s.boxShadow]; }"""
    assert first.evaluate(styles) == second.evaluate(styles)
    a, b = first.bounding_box(), second.bounding_box()
    assert a and b and abs(a["height"] - b["height"]) < 1 and abs(a["width"] - b["width"]) < 1


@pytest.mark.parametrize("width", WIDTHS)
def test_a_warning_gives_two_equal_choices_and_back_without_javascript(
    open_survey_live, new_context, width
):
    open_survey_live(demo_document())
    p = Person(new_context(js=False, viewport={"width": width, "height": 800}).new_page())
    p.goto("/s/demo", "Product-risk consultation")
    p.press(START, FIRST_SECTION)
    p.press("Save and continue", REPORTING)
    p.choose("Have you ever tried to report a message, post or account", "No, I decided not to")
    p.press("Save and continue", "Friend and contact suggestions")
    expect(p.page.locator(".warning-panel")).to_contain_text("Content note")
    go_on = p.page.get_by_role("button", name="Continue to this section")
    skip = p.page.get_by_role("button", name="Skip this section")
    equal_looks(go_on, skip)
    if width == 320:
        screenshot(p.page, "respondent-warning", WIDTHS)

    # Back: the step before, with its answers as they were saved.
    p.page.get_by_role("link", name="Back", exact=True).click()
    p.check(REPORTING)
    tried = p.question("Have you ever tried to report a message, post or account")
    expect(tried.get_by_label("No, I decided not to")).to_be_checked()
    p.press("Save and continue", "Friend and contact suggestions")
    expect(go_on).to_be_visible()


def test_back_from_the_first_warning_leads_to_the_landing_page(open_survey_live, nojs_person):
    document = demo_document()
    document["sections"][0]["content_warning"] = {
        "en": "These questions are about you.",
        "es": "Estas preguntas son sobre ti.",
        "ar": "هذه الأسئلة عنك.",
    }
    open_survey_live(document)
    p = nojs_person
    p.goto("/s/demo", "Product-risk consultation")
    p.press(START, FIRST_SECTION)
    p.page.get_by_role("link", name="Back", exact=True).click()
    p.check("Product-risk consultation")
    expect(p.page.get_by_role("button", name="Continue the survey")).to_be_visible()


def test_with_javascript_a_follow_up_appears_at_once_under_its_answer(
    open_survey_live, person: Person
):
    open_survey_live(demo_document())
    p = person
    to_friend_suggestions(p)
    follow_up = p.question(REVEAL)
    expect(follow_up).to_be_hidden()
    p.choose(TRIGGER, YES)
    expect(follow_up).to_be_visible()
    expect(p.page.locator("[data-follow-up-status]")).to_have_text(
        "A follow-up question appeared below your answer."
    )
    # It sits right under the question whose answer revealed it.
    trigger_box = p.question(TRIGGER).bounding_box()
    follow_box = follow_up.bounding_box()
    assert (
        trigger_box
        and follow_box
        and 0 <= follow_box["y"] - (trigger_box["y"] + trigger_box["height"]) < 120
    )
    p.check()
    for width in WIDTHS:
        p.page.set_viewport_size({"width": width, "height": 900})
        p.check()
    screenshot(p.page, "respondent-follow-up", WIDTHS)
    # Another answer hides it again; "Yes" shows it again.
    p.choose(TRIGGER, "No")
    expect(follow_up).to_be_hidden()
    p.choose(TRIGGER, YES)
    p.choose(REVEAL, "Partly")
    # Saved in one go: no second showing of the page.
    p.press("Save and continue", "Disappearing messages")
    p.goto("/s/demo/review", "Check your answers")
    row = p.page.locator(".review-list__row").filter(has_text="remove or block that person")
    expect(row).to_contain_text("Partly")


def test_without_javascript_the_page_comes_back_with_the_follow_up(
    open_survey_live, nojs_person: Person
):
    open_survey_live(demo_document())
    p = nojs_person
    to_friend_suggestions(p)
    follow_up = p.question(REVEAL)
    p.choose(TRIGGER, YES)
    expect(follow_up).to_be_hidden()  # nothing runs to show it
    p.press("Save and continue", "Friend and contact suggestions")
    expect(p.page.get_by_role("status")).to_contain_text("Some more questions appeared")
    expect(follow_up).to_be_visible()
    expect(p.question(TRIGGER).get_by_label(YES, exact=True)).to_be_checked()
    p.choose(REVEAL, "No")
    p.press("Save and continue", "Disappearing messages")
    p.goto("/s/demo/review", "Check your answers")
    row = p.page.locator(".review-list__row").filter(has_text="remove or block that person")
    expect(row).to_contain_text("No")


def test_the_icon_request_succeeds_and_no_request_fails(open_survey_live, person: Person):
    open_survey_live(demo_document())
    failed: list[str] = []
    p = person
    p.page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    p.page.on("requestfailed", lambda r: failed.append(r.url))
    p.goto("/s/demo", "Product-risk consultation")
    icon = p.page.request.get("/favicon.ico")
    assert icon.status == 204
    p.press(START, FIRST_SECTION)
    assert failed == []
