"""What surrounds every respondent page, on a 320 x 568 phone with and without
JavaScript (issue 21): "Get support" on the first screen beside the exit, leading to
the support list; a header small enough that a content note's two choices and a
section's first answers are on the first screen; the exit still in view after
scrolling, also at 200 % zoom; and Back after the exit finding a neutral page.

Zoom: a page at 200 % lays out as a viewport of half the size in CSS pixels, so
a 1280 x 900 window at 200 % is tested as 640 x 450, and a 320 x 568 phone at 200 %
as 160 x 284.

With CHORUS_E2E_SCREENSHOTS=DIR, pictures of the template's landing page, a content
note and a section at 320 x 568 in English and Spanish, of the Arabic survey's, and of
the page after leaving are written there (chrome-<page>-<language>-<js|no-js>.png).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import Person
from tests.e2e.test_respondent_browser import demo_document
from tests.e2e.test_rtl_browser import arabic_document
from tests.factories import small_survey_document

pytestmark = pytest.mark.browser

PHONE = {"width": 320, "height": 568}
JS = pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
# The template's words in each language, for the pages the tests walk through.
TEMPLATE = {
    "en": {
        "start": "Start the survey",
        "next": "Save and continue",
        "go_on": "Continue to this section",
        "skip": "Skip this section",
        "support": "Get support",
        "exit": "Leave this page quickly",
    },
    "es": {
        "start": "Empezar la encuesta",
        "next": "Guardar y continuar",
        "go_on": "Ir a esta sección",
        "skip": "Saltar esta sección",
        "support": "Pedir ayuda",
        "exit": "Salir rápido de esta página",
    },
}


def picture(page: Page, name: str) -> None:
    """The first screen as it is now (only with CHORUS_E2E_SCREENSHOTS=DIR)."""
    folder = os.environ.get("CHORUS_E2E_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def bottom(page: Page, locator) -> float:
    box = locator.bounding_box()
    assert box is not None
    return box["y"] + box["height"]


def within_viewport(page: Page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    return (
        box["y"] >= 0
        and box["y"] + box["height"] <= size["height"]
        and box["x"] >= 0
        and box["x"] + box["width"] <= size["width"]
    )


def header_height(page: Page) -> float:
    """The header as the page opens: the exit row and the row that scrolls away."""
    return page.evaluate(
        "document.querySelector('.site-tools').getBoundingClientRect().bottom"
        " - document.querySelector('.site-header').getBoundingClientRect().top"
    )


def phone(new_context, js: bool) -> Person:
    context = new_context(js=js, viewport=PHONE, is_mobile=True, has_touch=True)
    return Person(context.new_page())


@JS
@pytest.mark.parametrize("language", ["en", "es"])
def test_on_a_phone_the_first_screen_holds_support_the_choices_and_the_first_answers(
    open_survey_live, new_context, js, language
):
    document = demo_document()
    open_survey_live(document)
    words = TEMPLATE[language]
    tag = f"{language}-{'js' if js else 'no-js'}"
    p = phone(new_context, js)
    page = p.page
    p.goto(f"/s/demo?lang={language}")
    support = page.get_by_role("link", name=words["support"], exact=True)
    exit_link = page.get_by_role("link", name=words["exit"], exact=True)
    # Beside the exit: on the same line, both on the first screen.
    assert within_viewport(page, support) and within_viewport(page, exit_link)
    assert abs(support.bounding_box()["y"] - exit_link.bounding_box()["y"]) < 20  # type: ignore[index]
    assert header_height(page) <= 0.25 * PHONE["height"]
    picture(page, f"chrome-landing-{tag}")

    p.press(words["start"])
    first_question = page.locator("main .question").first
    first_option = first_question.locator(".choice").first
    assert bottom(page, first_option) <= PHONE["height"]
    assert within_viewport(page, support)
    picture(page, f"chrome-section-{tag}")

    # The first content note: both choices on the first screen, and it names support.
    for _ in range(len(document["sections"])):
        if page.locator(".warning-panel").count():
            break
        p.press(words["next"])
    go_on = page.get_by_role("button", name=words["go_on"])
    skip = page.get_by_role("button", name=words["skip"])
    assert bottom(page, go_on) <= PHONE["height"] and bottom(page, skip) <= PHONE["height"]
    assert header_height(page) <= 0.25 * PHONE["height"]
    picture(page, f"chrome-warning-{tag}")
    in_note = page.locator(".warning-panel a[href='#support']")
    expect(in_note).to_have_count(1)

    # "Get support" leads to the list at the foot of the page, on screen.
    support.click()
    heading = page.locator("#support")
    expect(heading).to_be_in_viewport()
    expect(page.locator(".support-list").first).to_be_in_viewport()
    p.check()


@JS
def test_the_arabic_survey_keeps_the_same_first_screen(open_survey_live, new_context, js):
    document = arabic_document()
    open_survey_live(document)
    p = phone(new_context, js)
    page = p.page
    p.goto(f"/s/{document['slug']}")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    support = page.locator(".quick-exit__support")
    exit_link = page.locator(".quick-exit__link")
    assert within_viewport(page, support) and within_viewport(page, exit_link)
    # Right to left, the exit comes first: at the right.
    assert exit_link.bounding_box()["x"] > support.bounding_box()["x"]  # type: ignore[index]
    assert header_height(page) <= 0.25 * PHONE["height"]
    picture(page, f"chrome-landing-ar-{'js' if js else 'no-js'}")
    page.locator("main form .button").first.click()
    p.check()
    assert bottom(page, page.locator("main .choice").first) <= PHONE["height"]
    picture(page, f"chrome-section-ar-{'js' if js else 'no-js'}")


ZOOMS = {
    "phone": PHONE,
    "phone at 200 %": {"width": 160, "height": 284},
    "desktop at 200 %": {"width": 640, "height": 450},
}


@JS
@pytest.mark.parametrize("screen", list(ZOOMS))
def test_the_exit_stays_in_view_while_scrolling(open_survey_live, new_context, js, screen):
    open_survey_live(demo_document())
    context = new_context(js=js, viewport=ZOOMS[screen])
    p = Person(context.new_page())
    page = p.page
    p.goto("/s/demo")
    p.press("Start the survey")
    page.keyboard.press("End")
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    expect(page.locator(".site-footer")).to_be_in_viewport()
    exit_link = page.get_by_role("link", name="Leave this page quickly")
    assert within_viewport(page, exit_link), exit_link.bounding_box()
    support = page.get_by_role("link", name="Get support")
    assert within_viewport(page, support), support.bounding_box()
    # Nothing in the header is cut off or pushes past the screen's edge.
    assert page.evaluate(
        "[...document.querySelectorAll('.site-header, .site-header *')]"
        ".every(e => e.getBoundingClientRect().right <= window.innerWidth + 0.5"
        " && e.scrollWidth <= e.clientWidth + 1)"
    )


GIVEAWAYS = ("Messaging safety", "About you", "Helpline", "0800", "60 minutes", "support")


def assert_neutral(page: Page) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("This page is not available")
    expect(page).to_have_title("Page not available")
    text = page.locator("body").inner_text()
    for giveaway in GIVEAWAYS:
        assert giveaway not in text, giveaway
    expect(page.get_by_role("link")).to_have_count(0)


@JS
def test_back_after_the_exit_shows_a_neutral_page(open_survey_live, live_server, new_context, js):
    open_survey_live(small_survey_document())
    p = phone(new_context, js)
    page = p.page
    p.goto("/s/small", "Messaging safety")
    p.press("Start the survey", "About you")
    p.press("Save and continue", "Encrypted messaging")
    p.press("Continue to this section", "Encrypted messaging")
    page.get_by_role("link", name="Leave this page quickly").click()
    page.wait_for_url(live_server.exit_url)
    # Back, as far as it goes: no page says what was here.
    backs = 0
    while page.go_back() is not None:
        page.wait_for_load_state("load")
        if "/s/" not in page.url:
            break
        assert_neutral(page)
        p.check()
        backs += 1
        if backs == 1:
            picture(page, f"chrome-after-leaving-{'js' if js else 'no-js'}")
    # With JavaScript the exit replaced the page it left from; without, Back finds it.
    assert backs >= (1 if js else 3)


def test_after_shift_three_times_back_shows_a_neutral_page(
    open_survey_live, live_server, new_context
):
    open_survey_live(small_survey_document())
    p = Person(new_context(viewport=PHONE).new_page())
    page = p.page
    p.goto("/s/small", "Messaging safety")
    p.press("Start the survey", "About you")
    p.press("Save and continue", "Encrypted messaging")
    for _ in range(3):
        page.keyboard.press("Shift")
    page.wait_for_url(live_server.exit_url)
    page.go_back()
    page.wait_for_load_state("load")
    assert "/s/small" in page.url
    assert_neutral(page)
