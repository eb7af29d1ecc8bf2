"""Helpers for the browser tests: accessibility checks and a respondent's hands."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Route, expect
from playwright.sync_api import Error as PlaywrightError

from survey.models import db
from survey.surveys import definition_of, find_survey

# The live server listens here; it is also in every page's quick-exit link.
SERVER_HOST = "127.83.19.201"
# The browser's address as the server sees it (see relay.py): must appear nowhere.
CLIENT_ADDRESS = "127.61.7.203"

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

_axe = Axe()
# Contexts made with java_script_enabled=False (by id: Playwright objects aren't hashable
# in a way we want to rely on, and a context lives only for one test).
_NO_JS_CONTEXTS: set[int] = set()


def screenshot(page: Page, name: str, widths: tuple[int, ...] = (320, 1024)) -> None:
    """With CHORUS_E2E_SCREENSHOTS=DIR, keep full-page pictures of the page at each
    width, to look at as a person would (nothing happens without it)."""
    folder = os.environ.get("CHORUS_E2E_SCREENSHOTS")
    if not folder:
        return
    before = page.viewport_size
    for width in widths:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"), full_page=True)
    if before:
        page.set_viewport_size(before)


def mark_no_js(context: BrowserContext) -> None:
    _NO_JS_CONTEXTS.add(id(context))


def forget_context(context: BrowserContext) -> None:
    _NO_JS_CONTEXTS.discard(id(context))


def js_enabled(page: Page) -> bool:
    return id(page.context) not in _NO_JS_CONTEXTS


def assert_accessible(page: Page) -> None:
    """No axe-core violations on the page as the person sees it now.

    axe runs asynchronously (timers, promises), which can't run in a context
    whose JavaScript is switched off; for those pages the exact DOM is copied
    into a scratch JS-enabled page at the same address with its scripts blocked,
    so it renders as it does without JavaScript, and axe runs there.
    """
    page.wait_for_load_state("load")
    results = _axe.run(page) if js_enabled(page) else _axe_on_copy(page)
    if results.violations_count:
        report = results.generate_report()
        print(f"axe on {page.url}:\n{report}")
        pytest.fail(
            f"{results.violations_count} accessibility violation(s) on {page.url}: "
            f"{results.generate_snapshot()}\n{report}"
        )


class _Copier:
    """One JS-enabled scratch page per browser, showing copies of JS-less pages."""

    def __init__(self, browser: Browser):
        self.context = browser.new_context(java_script_enabled=True)
        self.page = self.context.new_page()
        self.address = ""
        self.html = ""
        self.page.route(lambda url: url.split("#", 1)[0] == self.address, self._document)
        self.page.route(re.compile(r"/static/[\w.-]+\.js"), lambda route: route.abort())

    def _document(self, route: Route) -> None:
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=self.html)

    def show(self, page: Page) -> Page:
        self.html = page.content()
        self.address = page.url.split("#", 1)[0]
        if page.viewport_size:
            self.page.set_viewport_size(page.viewport_size)
        # Without the fragment: always a new document, never a same-page jump.
        self.page.goto(self.address)
        self.page.wait_for_load_state("load")
        return self.page


_copiers: dict[int, _Copier] = {}


def _axe_on_copy(page: Page):
    browser = page.context.browser
    assert browser is not None
    copier = _copiers.get(id(browser))
    if copier is None or not browser.is_connected():
        copier = _copiers[id(browser)] = _Copier(browser)
    return _axe.run(copier.show(page))


# What Playwright says when a page goes away under a call: the navigation a key press
# started arrived after `check` began (see `Person.check`).
NAVIGATING = (
    "context was destroyed",
    "Unable to retrieve content because the page is navigating",
)


@dataclass
class Person:
    """A respondent in one browser tab: clicks, types, and every page is checked."""

    page: Page
    # (url, html) of every page seen, for the privacy checks.
    seen: list[tuple[str, str]] = field(default_factory=list)

    def goto(self, path: str, heading: str | None = None) -> Any:
        response = self.page.goto(path)
        self.check(heading)
        return response

    def check(self, heading: str | None = None) -> None:
        """Wait for the page, check its main heading, run axe, remember its HTML.

        A key press that sends a form may start the navigation a moment after this
        is called, when the page before has the same heading (a form shown again):
        if the page goes away under axe, wait for the new one and check that."""
        for attempt in range(3):
            self.page.wait_for_load_state("load")
            if heading is not None:
                expect(self.h1).to_have_text(heading)
            try:
                assert_accessible(self.page)
                self.seen.append((self.page.url, self.page.content()))
                return
            except PlaywrightError as error:
                # axe's evaluation or page.content() caught mid-navigation.
                navigating = any(sign in str(error) for sign in NAVIGATING)
                if not navigating or attempt == 2:
                    raise

    @property
    def h1(self) -> Locator:
        return self.page.get_by_role("heading", level=1)

    def press(self, button: str, heading: str | None = None, exact: bool = True) -> None:
        self.page.get_by_role("button", name=button, exact=exact).click()
        self.check(heading)

    def question(self, text: str) -> Locator:
        """A choice or scale question, found by its legend."""
        return self.page.get_by_role("group", name=text)

    def choose(self, question: str, *labels: str) -> None:
        group = self.question(question)
        for label in labels:
            group.get_by_label(label, exact=True).check()

    def type(self, label: str, text: str) -> None:
        field_ = self.page.get_by_label(label, exact=True)
        field_.fill(text)

    def code_shown(self) -> str:
        return self.page.locator(".code-box__code").inner_text().strip()

    def html(self) -> str:
        return self.page.content()


class Hands:
    """A facilitator who only uses the keyboard: focus, type, Tab, Enter, Space."""

    def __init__(self, person: Person):
        self.person = person
        self.page = person.page
        self.keys = person.page.keyboard

    def sign_in(self, email: str, password: str, second_factor: str | None = None) -> None:
        self.person.goto("/staff/login", "Sign in")
        self.page.get_by_label("Email").focus()
        self.keys.type(email)
        self.keys.press("Tab")
        self.keys.type(password)
        self.keys.press("Enter")
        if second_factor is not None:
            self.person.check("Enter your sign-in code")
            self.page.get_by_label("Code").focus()
            self.keys.type(second_factor)
            self.keys.press("Enter")
        self.person.check("Chorus staff")

    def press(self, button: str, heading: str) -> None:
        """Focus a button and press Enter on it."""
        self.page.get_by_role("button", name=button, exact=True).focus()
        self.keys.press("Enter")
        self.person.check(heading)

    def tick(self, label: str) -> None:
        """Focus a checkbox by its label and press Space."""
        box = self.page.get_by_label(label, exact=True)
        box.focus()
        self.keys.press("Space")
        expect(box).to_be_checked()

    def follow(self, link: str, heading: str, exact: bool = True) -> None:
        self.page.get_by_role("link", name=link, exact=exact).first.focus()
        self.keys.press("Enter")
        self.person.check(heading)

    def fill(self, selector: str, text: str) -> None:
        """Focus a field (by CSS selector), clear it and type, as a person would."""
        self.page.locator(selector).focus()
        self.keys.press("Control+A")
        self.keys.press("Delete")
        self.keys.type(text)

    def submit(self, heading: str) -> None:
        """Enter in the focused text field sends its form with the form's first button."""
        self.keys.press("Enter")
        self.person.check(heading)


def build_two_language_survey_with_branching(me: Hands, screenshot=None) -> None:
    """From the survey list: make "Safety by design" in English and Spanish with a
    single-choice question and a question shown only after "Yes", by keyboard."""

    def picture(name: str) -> None:
        if screenshot:
            screenshot(me.page, name)

    me.follow("New survey", "New survey")

    me.fill("#f-title", "Safety by design")
    me.keys.press("Tab")
    me.keys.type("safety-by-design")
    me.submit("Edit: Safety by design")
    picture("edit")

    # Two languages: English first (the default), then Spanish.
    me.follow("Edit the settings", "Survey settings")
    me.fill("#f-languages", "en es")
    me.submit("Edit: Safety by design")
    me.follow("Edit the settings", "Survey settings")
    me.fill("#f-title-es", "Seguridad desde el diseño")
    me.submit("Edit: Safety by design")

    # A single-choice question.
    me.follow("Add a question to section first", "Add a question to first")
    me.page.get_by_label("Kind of question").focus()
    me.keys.type("Single")
    me.keys.press("Tab")
    me.keys.press("Enter")  # "Show the fields for this kind"
    me.person.check("Add a question to first")
    expect(me.page.locator("#f-options-0--value")).to_be_visible()
    me.fill("#f-id", "harmed")
    me.fill("#f-text-en", "Has this feature harmed you or someone you know?")
    me.fill("#f-text-es", "¿Esta función te ha hecho daño a ti o a alguien que conoces?")
    for row, (value, en, es) in enumerate([("yes", "Yes", "Sí"), ("no", "No", "No")]):
        me.fill(f"#f-options-{row}--value", value)
        me.fill(f"#f-options-{row}--label-en", en)
        me.fill(f"#f-options-{row}--label-es", es)
    picture("question")
    me.page.locator("#f-options-1--label-es").focus()
    me.submit("Edit: Safety by design")

    # A second question, shown only to people who answered "Yes".
    me.follow("Add a question to section first", "Add a question to first")
    me.fill("#f-id", "what_happened")
    me.fill("#f-text-en", "What happened? Please leave out names and places.")
    me.fill("#f-text-es", "¿Qué pasó? Por favor, no incluyas nombres ni lugares.")
    me.page.get_by_label("Show it only when the answer to").focus()
    me.keys.type("harmed")
    me.page.get_by_role("checkbox", name="Yes (yes)").focus()
    me.keys.press("Space")
    expect(me.page.get_by_role("checkbox", name="Yes (yes)")).to_be_checked()
    me.page.locator("#f-id").focus()
    me.submit("Edit: Safety by design")

    # The Spanish translations of the rest: the section and the first question.
    me.follow("Edit section first", "Edit section first", exact=False)
    me.fill("#f-title-es", "Primera sección")
    me.submit("Edit: Safety by design")
    me.follow("Edit question first_question", "Edit question first_question", exact=False)
    me.fill("#f-text-es", "Tu primera pregunta")
    # The question's text is a text area (Enter there is a new line): send from its id.
    me.page.locator("#f-id").focus()
    me.submit("Edit: Safety by design")

    db.session.expire_all()
    definition = definition_of(find_survey("safety-by-design"))
    assert definition.languages == ("en", "es")
    second = definition.question("what_happened")
    assert second.show_if.question == "harmed" and second.show_if.values == ("yes",)
    assert definition.question("harmed").options[0].label == {"en": "Yes", "es": "Sí"}
    assert definition.title == {"en": "Safety by design", "es": "Seguridad desde el diseño"}
