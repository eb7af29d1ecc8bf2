"""The survey builder in the browser: a facilitator makes a two-language survey with
branching using the keyboard alone, previews it, with axe on every page."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from admin.auth import create_user
from survey.models import Role, db
from survey.surveys import definition_of, find_survey

from .helpers import Person

EMAIL = "facilitator@example.org"
PASSWORD = "facilitator passphrase 2026"


@pytest.fixture
def facilitator(app):
    user = create_user(EMAIL, [Role.FACILITATOR], PASSWORD, None)
    user.must_change_password = False
    db.session.commit()
    return user


class Hands:
    """A facilitator who only uses the keyboard: focus, type, Tab, Enter, Space."""

    def __init__(self, person: Person):
        self.person = person
        self.page = person.page
        self.keys = person.page.keyboard

    def sign_in(self) -> None:
        self.person.goto("/staff/login", "Sign in")
        self.page.get_by_label("Email").focus()
        self.keys.type(EMAIL)
        self.keys.press("Tab")
        self.keys.type(PASSWORD)
        self.keys.press("Enter")
        self.person.check("Chorus staff")

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


def screenshot(page, name: str) -> None:
    folder = os.environ.get("CHORUS_E2E_SCREENSHOTS")
    if not folder:
        return
    for width in (320, 1024):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(Path(folder) / f"builder-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 720})


def test_a_facilitator_builds_a_two_language_survey_with_the_keyboard(
    app, live_server, new_context, facilitator
):
    me = Hands(Person(new_context().new_page()))
    me.sign_in()
    me.follow("Surveys", "Surveys")
    me.follow("New survey", "New survey")

    me.fill("#f-title", "Safety by design")
    me.keys.press("Tab")
    me.keys.type("safety-by-design")
    me.submit("Edit: Safety by design")
    screenshot(me.page, "edit")

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
    screenshot(me.page, "question")
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
    me.fill("#f-help-es", "Por favor, no incluyas nombres ni lugares.")
    me.submit("Edit: Safety by design")

    db.session.expire_all()
    definition = definition_of(find_survey("safety-by-design"))
    assert definition.languages == ("en", "es")
    second = definition.question("what_happened")
    assert second.show_if.question == "harmed" and second.show_if.values == ("yes",)
    assert definition.question("harmed").options[0].label == {"en": "Yes", "es": "Sí"}
    assert definition.title == {"en": "Safety by design", "es": "Seguridad desde el diseño"}

    # Preview, in Spanish, as a respondent sees it.
    me.follow("Preview", "Safety by design")
    me.follow("Español", "Seguridad desde el diseño")
    me.follow("Empezar la encuesta", "Primera sección")
    screenshot(me.page, "preview")
    page_text = me.page.content()
    assert "¿Esta función te ha hecho daño" in page_text
    assert "Shown only when the answer to" in page_text
    assert me.page.locator("main form").count() == 0  # nothing to submit


def test_builder_pages_without_javascript(app, live_server, new_context, facilitator):
    from survey.definition import parse_definition
    from survey.surveys import import_definition

    from ..conftest import small_survey_document

    import_definition(parse_definition(small_survey_document(slug="nojs")))
    db.session.commit()
    me = Hands(Person(new_context(js=False).new_page()))
    me.sign_in()
    me.person.goto("/staff/surveys", "Surveys")
    me.person.goto("/staff/surveys/nojs", "Messaging safety")
    me.person.goto("/staff/surveys/nojs/edit", "Edit: Messaging safety")
    me.person.goto("/staff/surveys/nojs/settings", "Survey settings")
    me.person.goto("/staff/surveys/nojs/questions/wanted", "Edit question wanted")
    # A refused save shows the problems beside the fields, without JavaScript.
    me.fill("#f-options-0--value", "Not Valid")
    me.page.locator("#f-id").focus()
    me.submit("Edit question wanted")
    expect(me.page.locator("#f-options-0--value-error")).to_be_visible()
    me.person.goto("/staff/surveys/nojs/preview/e2ee", "Encrypted messaging")
    me.person.goto("/staff/surveys/nojs/invites", "Invite codes")
    me.person.goto("/staff/surveys/nojs/retention", "How long its data is kept")
