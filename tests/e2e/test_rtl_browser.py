"""A survey in a language written right to left (Arabic) in a real browser: the pages
say dir="rtl" and their layout mirrors (choices' inputs on the right of their labels,
buttons at the right edge of the column), and axe finds nothing. An English survey
still reads left to right.

With CHORUS_E2E_SCREENSHOTS=DIR, full-page pictures of the Arabic landing page, a
section with choices, its error summary, a content warning, a scale and the review
page are written there at 320 and 1280 px
(rtl-landing, rtl-section, rtl-error, rtl-warning, rtl-scale, rtl-review: -320.png
and -1280.png).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import Person, screenshot
from tests.e2e.test_respondent_browser import demo_document

pytestmark = pytest.mark.browser

ARABIC = Path(__file__).resolve().parents[1] / "definitions" / "valid" / "arabic.json"
WIDTHS = (320, 1280)
TITLE = "الأمان في تطبيقات المراسلة"
FIRST_SECTION = "عنك"
SECOND_SECTION = "تجربتك"
AGE = "كم عمرك؟"
APPS = "ما تطبيقات المراسلة التي تستخدمها؟"


def arabic_document() -> dict:
    document: dict = json.loads(ARABIC.read_text("utf-8"))
    return document


def the_main_button(page: Page):
    """The page's main action (Start, Save and continue), whatever language it speaks."""
    return page.locator("main form .button").first


def assert_right_to_left(page: Page, language: str) -> None:
    html = page.locator("html")
    expect(html).to_have_attribute("lang", language)
    expect(html).to_have_attribute("dir", "rtl")
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"


def assert_at_the_right_edge(page: Page) -> None:
    """The main button starts where the column starts: at its right edge."""
    column = page.locator("main").bounding_box()
    button = the_main_button(page).bounding_box()
    assert column and button
    padding = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('main')).paddingRight)"
    )
    column_right = column["x"] + column["width"] - padding
    assert abs(button["x"] + button["width"] - column_right) < 2, (button, column, padding)
    assert (
        button["x"] > column["x"] + padding + 1
        or button["width"] >= column["width"] - 2 * padding - 1
    )


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_an_arabic_survey_reads_right_to_left_and_its_layout_mirrors(
    open_survey_live, new_context, js
):
    open_survey_live(arabic_document())
    p = Person(new_context(js=js, viewport={"width": 1280, "height": 900}).new_page())
    p.goto("/s/arabic-rtl", TITLE)
    assert_right_to_left(p.page, "ar")
    # The app's own words are Arabic too (survey/translations/ar).
    expect(p.page.get_by_role("button", name="ابدأ الاستبيان")).to_be_visible()
    expect(p.page.locator("#quick-exit")).to_have_text("غادر هذه الصفحة بسرعة")
    assert_at_the_right_edge(p.page)
    if js:
        screenshot(p.page, "rtl-landing", WIDTHS)

    the_main_button(p.page).click()
    p.check(FIRST_SECTION)
    assert_right_to_left(p.page, "ar")
    # Each choice's input sits to the right of its label, as Arabic reads.
    for question, label in ((AGE, "أقل من ١٨ سنة"), (APPS, "واتساب")):
        choice = p.question(question).get_by_label(label, exact=True)
        text = p.question(question).locator("label", has_text=label)
        box, text_box = choice.bounding_box(), text.bounding_box()
        assert box and text_box
        assert box["x"] >= text_box["x"] + text_box["width"], (question, box, text_box)
    assert_at_the_right_edge(p.page)
    if js:
        screenshot(p.page, "rtl-section", WIDTHS)

    # An error: too many words in the "Other" box. The summary and the question's red
    # bar are on the right.
    p.choose(AGE, "١٨ سنة أو أكثر")
    p.choose(APPS, "غير ذلك")
    other_box = p.page.get_by_label("إذا اخترت «غير ذلك»، يُرجى توضيحه", exact=True)
    other_box.fill("م" * 501)
    p.press("حفظ ومتابعة", FIRST_SECTION)
    expect(p.page.locator(".error-summary")).to_contain_text("500")
    wrong = p.page.locator(".question--error").first
    assert wrong.evaluate("el => getComputedStyle(el).borderRightWidth") == "5px"
    if js:
        screenshot(p.page, "rtl-error", WIDTHS)
    other_box.fill("فيسبوك ماسنجر")
    p.press("حفظ ومتابعة", SECOND_SECTION)
    assert_right_to_left(p.page, "ar")
    panel = p.page.locator(".warning-panel")
    expect(panel).to_contain_text("يتناول هذا القسم الإساءة عبر الإنترنت")
    # The panel's bar is on its right (its inline start), not its left.
    assert panel.evaluate("el => getComputedStyle(el).borderRightWidth") == "6px"
    assert panel.evaluate("el => getComputedStyle(el).borderLeftWidth") == "0px"
    if js:
        screenshot(p.page, "rtl-warning", WIDTHS)

    p.press("المتابعة إلى هذا القسم", SECOND_SECTION)
    one, five = p.page.locator("#feel_safe--1"), p.page.locator("#feel_safe--5")
    one_box, five_box = one.bounding_box(), five.bounding_box()
    assert one_box and five_box
    # The scale runs from the right: 1 is right of 5 on one line, or above it when wrapped.
    assert one_box["x"] > five_box["x"] or one_box["y"] < five_box["y"]
    p.page.locator("#feel_safe--4").check()
    if js:
        screenshot(p.page, "rtl-scale", WIDTHS)
    p.press("حفظ ومراجعة إجاباتك", "راجع إجاباتك")
    assert_right_to_left(p.page, "ar")
    if js:
        screenshot(p.page, "rtl-review", WIDTHS)


def test_an_english_survey_still_reads_left_to_right(open_survey_live, person: Person):
    open_survey_live(demo_document())
    person.goto("/s/demo", "Product-risk consultation")
    html = person.page.locator("html")
    expect(html).to_have_attribute("lang", "en")
    expect(html).to_have_attribute("dir", "ltr")
    column = person.page.locator("main").bounding_box()
    button = the_main_button(person.page).bounding_box()
    assert column and button
    padding = person.page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('main')).paddingLeft)"
    )
    assert abs(button["x"] - (column["x"] + padding)) < 2, (button, column)


CHILDLINE_HOURS = "24 hours, every day"


def arabic_with_an_english_helpline() -> dict:
    """The Arabic survey naming a UK helpline in English, as many will."""
    document = arabic_document()
    document["support"] = [
        *document["support"],
        {
            "name": "Childline (UK, for children and young people under 19)",
            "phone": "0800 1111",
            "hours": CHILDLINE_HOURS,
            "url": "https://www.childline.org.uk",
        },
    ]
    return document


def assert_support_list_keeps_each_direction(page: Page) -> None:
    """The English name and hours read left to right inside the Arabic list (dir="auto"
    as the browser resolves it), the Arabic ones right to left, and every phone number
    and web address left to right; the English hours begin with "24" on the left."""
    items = page.locator("footer .support-list__item")
    arabic, english = items.nth(0), items.nth(1)
    direction = "el => getComputedStyle(el).direction"
    assert arabic.locator(".support-list__name").evaluate(direction) == "rtl"
    assert english.locator(".support-list__name").evaluate(direction) == "ltr"
    hours = english.locator("bdi", has_text=CHILDLINE_HOURS)
    assert hours.evaluate(direction) == "ltr"
    for link in page.locator("footer .support-list a").all():
        assert link.evaluate(direction) == "ltr", link.get_attribute("href")
    # Where the words are drawn: "24" starts the hours at their left end.
    first = hours.evaluate(
        """el => { const r = document.createRange(); r.setStart(el.firstChild, 0);
        r.setEnd(el.firstChild, 2); return r.getBoundingClientRect().left; }"""
    )
    assert abs(first - hours.bounding_box()["x"]) < 1


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_an_english_helpline_reads_right_in_an_arabic_page_at_320_px(
    open_survey_live, new_context, js
):
    """Issue 21, point 11: "hours, every day 24", "(Childline (UK…" and a reversed web
    address came from English runs laid out right to left."""
    open_survey_live(arabic_with_an_english_helpline())
    p = Person(new_context(js=js, viewport={"width": 320, "height": 568}).new_page())
    p.goto("/s/arabic-rtl", TITLE)
    assert_support_list_keeps_each_direction(p.page)
    p.check(TITLE)
    screenshot(p.page, f"rtl-support-landing-{'js' if js else 'nojs'}", (320,))
    the_main_button(p.page).click()
    p.check(FIRST_SECTION)
    assert_support_list_keeps_each_direction(p.page)
    screenshot(p.page, f"rtl-support-section-{'js' if js else 'nojs'}", (320,))
