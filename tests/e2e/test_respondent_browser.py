"""A respondent's whole experience in a real browser, with and without JavaScript.

Every distinct page a flow reaches is checked with axe-core (`Person.check`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from survey.models import db
from survey.responses import receipt_exists
from survey.surveys import close_survey, response_count
from tests.e2e.helpers import Person, assert_accessible
from tests.factories import small_survey_document, template_document

pytestmark = pytest.mark.browser

TOO_LONG = ("This feature worries me a great deal. " * 7).strip()  # 265 characters; limit 200
CODE_RE = re.compile(r"^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$")


def demo_document() -> dict:
    document = template_document()
    document["slug"] = "demo"
    return document


def count(survey) -> int:
    db.session.expire_all()
    return response_count(survey)


def test_without_javascript_a_person_completes_the_template_survey(
    open_survey_live, nojs_person: Person
):
    survey = open_survey_live(demo_document())
    p = nojs_person
    page = p.page

    p.goto("/s/demo", "Product-risk consultation")
    expect(page).to_have_title("Survey")
    expect(page.locator("main")).to_contain_text("Every question is optional")
    expect(page.locator("main")).to_contain_text("About 15 minutes.")
    assert "js" not in (page.evaluate("document.documentElement.className") or "")
    p.press("Start the survey", "The apps and services you use")
    expect(page.locator(".progress")).to_have_text("Step 1 of 8")

    # The first section: easy questions, no content warning.
    p.choose(
        "Which of these kinds of online services do you use at least once a week?",
        "Messaging apps",
        "Online games",
    )
    p.type("How many different messaging apps do you use in a typical week?", "3")
    p.press("Save and continue", "Reporting and blocking tools")

    # A branch on this page: "how well" only for people who tried to report.
    expect(page.get_by_text("how well did reporting work")).to_be_hidden()
    p.choose("Have you ever tried to report a message, post or account", "Yes")
    p.press("Save and continue", "Reporting and blocking tools")
    p.choose("Thinking of the last time, how well did reporting work for you?", "2")
    p.choose("Did the company get back to you about your report?", "No, I never heard back")
    p.press("Save and continue", "Friend and contact suggestions")

    # A content warning first: continue past it; a branch inside the section reveals a question.
    expect(page.locator(".warning-panel")).to_contain_text(
        "One asks if this happened to you when you were under 18"
    )
    expect(page.get_by_role("button", name="Skip this section")).to_be_visible()
    p.press("Continue to this section", "Friend and contact suggestions")
    reveal = "Thinking of the last time, did the app make it easy to remove or block that person?"
    expect(page.get_by_text(reveal)).to_be_hidden()
    p.choose("Should apps stop suggesting under-18s", "Yes")
    p.choose("Has a friend or contact suggestion in an app ever", "Yes, a child I care for")
    p.press("Save and continue", "Friend and contact suggestions")
    expect(page.get_by_role("status")).to_contain_text("Some more questions appeared")
    p.choose(reveal, "Partly")
    p.press("Save and continue", "Disappearing messages")

    # This warning's section is skipped.
    p.press("Skip this section", "Tools that find abuse images and grooming")
    p.press("Continue to this section", "Tools that find abuse images and grooming")
    p.choose("How important, if at all, is it to you that apps look for", "Prefer not to say")
    p.press("Save and continue", "End-to-end encrypted messaging")
    p.press("Continue to this section", "End-to-end encrypted messaging")
    p.choose("Do you support or oppose companies being able to detect known", "Tend to support")
    p.choose("When the company cannot check messages for abuse", "4")
    p.type(
        "What, if anything, should a company do to protect children before it switches on "
        "end-to-end encryption?",
        "Safety checks that keep working inside encrypted chats.",
    )
    p.press("Save and continue", "What companies should do")

    # Too long an answer: an error summary linked to the field, nothing lost.
    feature = page.get_by_label("In a few words, which product feature, if any, worries you most?")
    feature.fill(TOO_LONG)
    p.type(
        "If you could tell the people who design these products one thing, what would it be?",
        "Ask us before you launch.",
    )
    p.press("Save and continue", "What companies should do")
    expect(page).to_have_title("There is a problem: Survey")
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    link = summary.get_by_role("link", name="shorten it to 200 characters or fewer")
    expect(link).to_have_attribute("href", "#worrying_feature")
    expect(feature).to_have_value(TOO_LONG)
    expect(page.locator("#worrying_feature-error")).to_contain_text("too long")
    link.click()
    expect(feature).to_be_focused()
    feature.fill("Location sharing")
    p.press("Save and continue", "About you")

    # The questions about who someone is come last; "Prefer not to say" for one of them.
    p.choose("Which age group are you in?", "25 to 39")
    p.choose("Which best describes your connection to online harm?", "Prefer not to say")
    p.press("Save and review your answers", "Check your answers")

    main = page.locator("main")
    rows = page.locator(".review-list__row")
    expect(
        rows.filter(has_text="Which best describes your connection to online harm?")
    ).to_contain_text("Prefer not to say")
    expect(rows.filter(has_text="remove or block that person")).to_contain_text("Partly")
    expect(rows.filter(has_text="how well did reporting work")).to_contain_text("2")
    # Left blank: in the short list of questions not answered, not a row of its own.
    expect(rows.filter(has_text="Where do you live?")).to_have_count(0)
    expect(page.locator(".review-skipped").last).to_contain_text("Where do you live?")
    expect(rows.filter(has_text="which product feature, if any, worries you")).to_contain_text(
        "Location sharing"
    )
    expect(
        page.locator("section").filter(
            has=page.get_by_role("heading", name="Disappearing messages")
        )
    ).to_contain_text("You skipped this section.")
    expect(main).not_to_contain_text(TOO_LONG)

    p.press("Send my answers", "Your answers have been sent")
    receipt = p.code_shown()
    assert CODE_RE.match(receipt), receipt
    # Finishing without confirming the code was saved asks again, kindly.
    p.press("Finish", "Your answers have been sent")
    expect(page.get_by_role("alert")).to_contain_text("Tick the box to confirm")
    assert p.code_shown() == receipt
    page.get_by_label("I have saved my code").check()
    p.press("Finish", "Thank you")
    expect(main).to_contain_text("About this consultation")
    expect(main).to_contain_text("Childline")

    assert count(survey) == 1
    assert receipt_exists(survey, receipt)


def test_resume_on_another_device_then_submit_and_withdraw(
    open_survey_live, new_context, person: Person
):
    survey = open_survey_live(small_survey_document())
    p = person
    page = p.page

    p.goto("/s/small", "Messaging safety")
    p.press("Start the survey", "About you")
    p.choose("How old are you?", "Under 18")
    p.type("How many apps?", "4")
    p.press("Save and get a resume code", "Your resume code")
    code = p.code_shown()
    assert CODE_RE.match(code), code
    expect(page.locator("main")).to_contain_text("once you leave this page, we can't show it again")
    p.press("Continue answering", "Your resume code")
    expect(page.get_by_role("alert")).to_contain_text("Tick the box to confirm")
    assert p.code_shown() == code
    page.get_by_label("I have saved my code").check()
    p.press("Continue answering", "About you")

    # Another device: nothing shared with the first but the code, typed loosely.
    other = Person(new_context().new_page(), p.seen)
    other.goto("/s/small/resume", "Continue with a resume code")
    loose = code.lower().replace("-", " ")
    other.page.get_by_label("Resume code").press_sequentially(loose)
    other.press("Continue", "About you")
    q = other.page
    expect(other.question("How old are you?").get_by_label("Under 18")).to_be_checked()
    expect(q.get_by_label("How many apps?")).to_have_value("4")
    other.press("Save and continue", "Encrypted messaging")
    other.press("Continue to this section", "Encrypted messaging")
    other.choose("How much harm?", "3")
    other.choose("What do you want?", "Detection", "Other")
    other.type("If you chose Other, please describe it", "Age checks")
    other.type("What should change?", "Listen to us.")
    other.press("Save and continue", "Young people")
    other.choose("Did you feel safe?", "No")
    other.press("Save and review your answers", "Check your answers")
    expect(q.locator("main")).to_contain_text("Other: Age checks")
    other.press("Send my answers", "Your answers have been sent")
    receipt = other.code_shown()
    assert CODE_RE.match(receipt) and receipt != code
    q.get_by_label("I have saved my code").check()
    other.press("Finish", "Thank you")
    assert count(survey) == 1

    # The resume code stopped working once the answers were sent.
    other.goto("/s/small/resume", "Continue with a resume code")
    q.get_by_label("Resume code").fill(code)
    other.press("Continue", "Continue with a resume code")
    expect(q.get_by_role("alert")).to_contain_text("couldn't find saved answers")

    # Withdrawal with the receipt.
    other.goto("/s/small", "Messaging safety")
    q.get_by_role("link", name="Withdraw answers you already sent").click()
    other.check("Withdraw your answers")
    q.get_by_label("Receipt code").fill(receipt.lower())
    other.press("Find my answers", "Withdraw these answers?")
    other.press("Yes, delete my answers", "Your answers have been withdrawn")
    assert count(survey) == 0
    assert not receipt_exists(survey, receipt)


def _start_small(p: Person) -> str:
    p.goto("/s/small", "Messaging safety")
    p.press("Start the survey", "About you")
    return p.page.url


def test_quick_exit_with_javascript(open_survey_live, live_server, new_context, person: Person):
    open_survey_live(small_survey_document())
    p = person
    page = p.page
    section_url = _start_small(p)
    expect(page.locator(".quick-exit__hint")).to_be_visible()

    # Shift three times: gone, and Back doesn't come back to the survey page.
    for _ in range(3):
        page.keyboard.press("Shift")
    page.wait_for_url(live_server.exit_url)
    expect(p.h1).to_have_text("Chorus")
    p.check()
    page.go_back()
    page.wait_for_load_state("load")
    assert page.url != section_url
    assert "/section/" not in page.url

    # Opened directly in a tab of its own: after the exit, Back only finds the
    # blank page the tab opened with. (Each time a new visit: for a while after an
    # exit the survey's own pages show nothing, see test_chrome_browser.py.)
    page.context.clear_cookies()
    _start_small(p)
    tab = p.page.context.new_page()
    tab.goto(section_url)
    expect(tab.get_by_role("heading", level=1)).to_have_text("About you")
    for _ in range(3):
        tab.keyboard.press("Shift")
    tab.wait_for_url(live_server.exit_url)
    tab.go_back()
    assert "/s/" not in tab.url

    # The link with JavaScript: also replaces the history entry.
    page.context.clear_cookies()
    _start_small(p)
    tab2 = p.page.context.new_page()
    tab2.goto(section_url)
    tab2.get_by_role("link", name="Leave this page quickly").click()
    tab2.wait_for_url(live_server.exit_url)
    tab2.go_back()
    assert "/s/" not in tab2.url


def test_quick_exit_without_javascript_is_a_plain_link(
    open_survey_live, live_server, nojs_person: Person
):
    open_survey_live(small_survey_document())
    p = nojs_person
    page = p.page
    _start_small(p)
    link = page.get_by_role("link", name="Leave this page quickly")
    expect(link).to_have_attribute("href", "/s/exit")  # through the server, to the exit URL
    expect(link).to_have_attribute("rel", re.compile(r"\bnoreferrer\b"))
    expect(page.locator(".quick-exit__hint")).to_be_hidden()
    # Shift does nothing without JavaScript; the link does.
    for _ in range(3):
        page.keyboard.press("Shift")
    assert "/section/you" in page.url
    link.click()
    page.wait_for_url(live_server.exit_url)
    p.check("Chorus")


UNSAVED_WORDS = "periwinkle-harbour-3310 typed, not saved"
SAVED_NUMBER = "17"


def _answer_then_type_without_saving(p: Person) -> None:
    """Save the first page, then type on the second without saving it."""
    _start_small(p)
    p.type("How many apps?", SAVED_NUMBER)
    p.press("Save and continue", "Encrypted messaging")
    p.press("Continue to this section", "Encrypted messaging")
    p.type("What should change?", UNSAVED_WORDS)


def _nothing_answered_on(page: Page) -> None:
    """Neither the typed words nor the saved answer are anywhere on the page."""
    page.wait_for_load_state("load")
    values = page.evaluate(
        "() => [...document.querySelectorAll('input, textarea')].map(e => e.value).join(' ')"
    )
    for shown in (page.content(), values):
        assert UNSAVED_WORDS not in shown
        assert f'value="{SAVED_NUMBER}"' not in shown and SAVED_NUMBER not in values


def test_back_after_shift_three_times_shows_no_answers(
    open_survey_live, live_server, person: Person
):
    open_survey_live(small_survey_document())
    p = person
    page = p.page
    _answer_then_type_without_saving(p)
    for _ in range(3):
        page.keyboard.press("Shift")
    page.wait_for_url(live_server.exit_url)
    page.go_back()
    _nothing_answered_on(page)
    if "/section/" in page.url:
        expect(p.h1).to_have_text("This page is not available")
    # Every earlier page, too.
    while page.go_back() is not None:
        _nothing_answered_on(page)


def test_back_after_the_exit_link_without_javascript_shows_no_answers(
    open_survey_live, live_server, nojs_person: Person
):
    open_survey_live(small_survey_document())
    p = nojs_person
    page = p.page
    _answer_then_type_without_saving(p)
    page.get_by_role("link", name="Leave this page quickly").click()
    page.wait_for_url(live_server.exit_url)
    page.go_back()
    assert "/section/e2ee" in page.url
    expect(p.h1).to_have_text("This page is not available")
    p.check()
    _nothing_answered_on(page)
    while page.go_back() is not None:
        _nothing_answered_on(page)


def test_a_cookie_copied_before_the_exit_link_opens_nothing_after(
    open_survey_live, live_server, new_context, nojs_person: Person
):
    """Someone copies the session cookie off the device, then the person leaves: the
    copy, in another browser, finds the session ended and none of the answers."""
    open_survey_live(small_survey_document())
    p = nojs_person
    page = p.page
    _answer_then_type_without_saving(p)
    copied = page.context.cookies()
    assert [c["name"] for c in copied] == ["chorus"]
    page.get_by_role("link", name="Leave this page quickly").click()
    page.wait_for_url(live_server.exit_url)

    other = Person(new_context(js=False).new_page())
    other.page.context.add_cookies(copied)
    for path in ("/s/small/section/you", "/s/small/section/e2ee", "/s/small/review"):
        other.page.goto(path)
        expect(other.h1).to_have_text("Your session has ended")
        _nothing_answered_on(other.page)


def _tab_to(page: Page, predicate_js: str, limit: int = 40) -> None:
    """Press Tab until the focused element satisfies `predicate_js` (el => bool)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"({predicate_js})(document.activeElement)"):
            return
    pytest.fail(f"Tab never reached an element matching {predicate_js}")


def _focus_is_visible(page: Page) -> bool:
    return page.evaluate(
        """() => {
            const s = getComputedStyle(document.activeElement);
            return s.outlineStyle !== 'none' || s.boxShadow !== 'none';
        }"""
    )


def test_keyboard_only(open_survey_live, person: Person):
    open_survey_live(small_survey_document())
    p = person
    page = p.page
    p.goto("/s/small", "Messaging safety")

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Leave this page quickly")).to_be_focused()
    assert _focus_is_visible(page)
    _tab_to(page, "el => el.tagName === 'BUTTON'")
    start = page.get_by_role("button", name="Start the survey")
    expect(start).to_be_focused()
    assert _focus_is_visible(page)
    page.keyboard.press("Enter")
    p.check("About you")

    under_18 = page.get_by_label("Under 18")
    adult = page.get_by_label("18 or older")
    _tab_to(page, "el => el.type === 'radio'")
    expect(under_18).to_be_focused()
    page.keyboard.press("Space")
    expect(under_18).to_be_checked()
    page.keyboard.press("ArrowDown")
    expect(adult).to_be_checked()
    page.keyboard.press("ArrowUp")
    expect(under_18).to_be_checked()
    expect(adult).not_to_be_checked()
    _tab_to(page, "el => el.tagName === 'BUTTON'")
    expect(page.get_by_role("button", name="Save and continue")).to_be_focused()
    page.keyboard.press("Enter")
    p.check("Encrypted messaging")
    _tab_to(page, "el => el.tagName === 'BUTTON'")
    expect(page.get_by_role("button", name="Continue to this section")).to_be_focused()
    page.keyboard.press("Enter")
    p.check("Encrypted messaging")
    expect(page.get_by_role("group", name="How much harm?")).to_be_visible()

    # The skip link takes keyboard users past the header, into the page's content.
    page.reload()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")


def _overflow(page: Page, width: int) -> list[str]:
    """Elements reaching past the right edge of a `width` px viewport (sideways scroll)."""
    if page.evaluate("document.documentElement.scrollWidth") <= width:
        return []
    wide = page.evaluate(
        """width => [...document.querySelectorAll('body *')]
            .filter(el => el.getBoundingClientRect().right > width + 0.5)
            .map(el => `${el.outerHTML.slice(0, 120)} (right edge ${
                Math.round(el.getBoundingClientRect().right)} px)`)""",
        width,
    )
    return [f"{url_path(page)}: {element}" for element in wide]


def url_path(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url)


def test_small_survey_at_320px(open_survey_live, new_context):
    """A whole answer at 320 x 640: no sideways scrolling, large touch targets."""
    open_survey_live(small_survey_document())
    p = Person(new_context(viewport={"width": 320, "height": 640}).new_page())
    page = p.page
    wide: list[str] = []

    p.goto("/s/small", "Messaging safety")
    wide += _overflow(page, 320)
    p.press("Start the survey", "About you")
    wide += _overflow(page, 320)
    for button in page.get_by_role("button").all():
        box = button.bounding_box()
        assert box and box["height"] >= 44, (button.inner_text(), box)
    # Each answer's row is at least 44 px high; what can be tapped (the label, the
    # box) at least 24 x 24 (WCAG 2.2 target size, minimum).
    for choice in page.locator(".choice:visible").all():
        row = choice.bounding_box()
        label = choice.locator("label").bounding_box()
        assert row and row["height"] >= 44, (choice.inner_text(), row)
        assert label and label["height"] >= 24 and label["width"] >= 24, label
    p.choose("How old are you?", "Under 18")
    p.type("How many apps?", "31")
    p.press("Save and continue", "About you")
    expect(page.get_by_role("alert")).to_contain_text("Enter a number between 0 and 30")
    wide += _overflow(page, 320)
    p.type("How many apps?", "3")
    p.press("Save and continue", "Encrypted messaging")
    wide += _overflow(page, 320)
    p.press("Continue to this section", "Encrypted messaging")
    wide += _overflow(page, 320)
    p.press("Save and continue", "Young people")
    p.press("Save and review your answers", "Check your answers")
    wide += _overflow(page, 320)
    p.press("Send my answers", "Your answers have been sent")
    wide += _overflow(page, 320)
    page.get_by_label("I have saved my code").check()
    p.press("Finish", "Thank you")
    wide += _overflow(page, 320)
    assert not wide, "\n".join(wide)


@pytest.mark.parametrize("width", [320, 1024])
def test_template_survey_fits_the_screen(open_survey_live, new_context, width: int):
    """The long bundled template, whose texts are the hardest to fit.

    With CHORUS_E2E_SCREENSHOTS=DIR, full-page screenshots of a section and of the
    review page are written there (section-320.png, review-1024.png, ...).
    """
    open_survey_live(demo_document())
    p = Person(new_context(viewport={"width": width, "height": 640}).new_page())
    page = p.page
    shots = os.environ.get("CHORUS_E2E_SCREENSHOTS")
    wide: list[str] = []

    def fits(name: str | None = None) -> None:
        wide.extend(_overflow(page, width))
        if shots and name:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{shots}/{name}-{width}.png", full_page=True)

    p.goto("/s/demo", "Product-risk consultation")
    fits()
    p.press("Start the survey", "The apps and services you use")
    p.choose(
        "Which of these kinds of online services do you use at least once a week?",
        "Live streaming",
    )
    p.press("Save and continue", "Reporting and blocking tools")
    p.choose("Have you ever tried to report a message, post or account", "Prefer not to say")
    fits("section")
    p.press("Save and continue", "Friend and contact suggestions")
    fits("warning")
    p.press("Skip this section", "Disappearing messages")
    p.press("Skip this section", "Tools that find abuse images and grooming")
    p.press("Skip this section", "End-to-end encrypted messaging")
    p.press("Skip this section", "What companies should do")
    feature = "In a few words, which product feature, if any, worries you most?"
    p.type(feature, "x" * 201)
    p.press("Save and continue", "What companies should do")
    fits("section-error")
    p.type(feature, "Location sharing")
    p.press("Save and continue", "About you")
    p.choose("Which age group are you in?", "18 to 24")
    p.choose("Where do you live?", "Prefer not to say")
    p.press("Save and review your answers", "Check your answers")
    fits("review")
    p.press("Send my answers", "Your answers have been sent")
    page.get_by_label("I have saved my code").check()
    p.press("Finish", "Thank you")
    fits("thanks")
    assert not wide, "pages wider than the screen:\n" + "\n".join(wide)


def test_no_question_says_the_same_thing_twice(open_survey_live, new_context):
    """Every section of the template: no question's hints repeat each other."""
    open_survey_live(demo_document())
    page = new_context().new_page()
    page.goto("/s/demo")
    page.get_by_role("button", name="Start the survey").click()
    repeated = []
    while "/review" not in page.url:
        warning = page.get_by_role("button", name="Continue to this section")
        if warning.count():
            warning.click()
        for question in page.locator(".question").all():
            hints = [h.strip() for h in question.locator(".hint").all_inner_texts()]
            repeated += [f"{url_path(page)}: {h!r}" for h in set(hints) if hints.count(h) > 1]
        page.get_by_role("button", name=re.compile("^Save and (continue|review)")).click()
        page.wait_for_load_state("load")
    assert not repeated, repeated


def _to_review_without_js(p: Person) -> None:
    _start_small(p)
    p.choose("How old are you?", "18 or older")
    p.press("Save and continue", "About you")  # the branch shows one more question
    p.press("Save and continue", "Encrypted messaging")
    p.press("Skip this section", "Check your answers")


def test_double_submit_stores_one_response(open_survey_live, new_context, live_server):
    survey = open_survey_live(small_survey_document())
    context = new_context(js=False)
    p = Person(context.new_page())
    page = p.page
    _to_review_without_js(p)
    before_submit = context.cookies()
    token = page.locator('form[action$="/submit"] input[name="csrf_token"]').input_value()

    # Two quick clicks on "Send my answers" (no JavaScript to disable the button).
    page.get_by_role("button", name="Send my answers").dblclick(no_wait_after=True)
    # The second click's submission may abort the first's navigation: wait for where
    # the page ends up, not for one navigation.
    expect(page).to_have_url(re.compile(r"/s/small/receipt$"))
    p.check("Your answers have been sent")
    receipt = p.code_shown()
    assert count(survey) == 1

    # The same form sent again with the answering session's cookie (what a second
    # click carries when it leaves before the first reply arrives): the receipt again.
    context.clear_cookies()
    context.add_cookies(before_submit)
    again = context.request.post(
        f"{live_server.base_url}/s/small/submit", form={"csrf_token": token}, max_redirects=0
    )
    assert again.status == 302, again.status
    assert again.headers["location"].endswith("/s/small/receipt")
    assert count(survey) == 1
    p.goto("/s/small/receipt", "Your answers have been sent")
    assert p.code_shown() == receipt
    assert receipt_exists(survey, receipt)


def test_sending_from_two_tabs_at_once_stores_one_response(open_survey_live, new_context):
    """Two requests of one session really in flight together: one response, one receipt."""
    survey = open_survey_live(small_survey_document())
    context = new_context(js=False)
    first = Person(context.new_page())
    _to_review_without_js(first)
    second = Person(context.new_page())
    second.goto("/s/small/review", "Check your answers")
    sent: list[str] = []
    context.on("request", lambda r: sent.append(r.url) if r.url.endswith("/submit") else None)
    for person in (first, second):
        person.page.get_by_role("button", name="Send my answers").click(no_wait_after=True)
    receipts = []
    for person in (first, second):
        person.page.wait_for_url(re.compile(r"/s/small/receipt$"))
        expect(person.h1).to_have_text("Your answers have been sent")
        receipts.append(person.code_shown())
    assert len(sent) == 2
    assert receipts[0] == receipts[1]
    assert count(survey) == 1
    assert receipt_exists(survey, receipts[0])


def test_calm_pages_for_unknown_closed_and_ended(open_survey_live, nojs_person: Person):
    survey = open_survey_live(small_survey_document())
    p = nojs_person
    response = p.goto("/s/no-such-survey", "We couldn't find this survey")
    assert response.status == 404

    # A session that never started (or ended) explains how to resume.
    p.goto("/s/small/section/you", "Your session has ended")
    expect(p.page.get_by_role("link", name="Continue with a resume code")).to_be_visible()

    close_survey(survey)
    db.session.commit()
    p.goto("/s/small", "This survey has closed")
    p.goto("/s/small/withdraw", "Withdraw your answers")
    p.page.get_by_label("Receipt code").fill("not a code")
    p.press("Find my answers", "Withdraw your answers")
    expect(p.page.get_by_role("alert")).to_contain_text("doesn't look like a code")


def test_assert_accessible_reports_violations(new_context):
    """The helper itself fails on a page with a known problem (with and without JS)."""
    for js in (True, False):
        page = new_context(js=js).new_page()
        page.goto("/")
        page.evaluate(
            "document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=x.png>')"
        )
        with pytest.raises(pytest.fail.Exception, match="image-alt"):
            assert_accessible(page)
