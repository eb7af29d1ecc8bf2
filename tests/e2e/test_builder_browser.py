"""The survey builder in the browser: a facilitator makes a two-language survey with
branching using the keyboard alone, previews it, with axe on every page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from admin.accounts.sign_in import create_user
from survey.models import Role, db
from tests.e2e import helpers
from tests.e2e.helpers import Hands, Person, build_two_language_survey_with_branching

EMAIL = "facilitator@example.org"
PASSWORD = "facilitator passphrase 2026"


@pytest.fixture
def facilitator(app):
    user = create_user(EMAIL, [Role.FACILITATOR], PASSWORD, None)
    user.must_change_password = False
    db.session.commit()
    return user


def screenshot(page, name: str) -> None:
    helpers.screenshot(page, f"builder-{name}")


def test_a_facilitator_builds_a_two_language_survey_with_the_keyboard(
    app, live_server, new_context, facilitator
):
    me = Hands(Person(new_context().new_page()))
    me.sign_in(EMAIL, PASSWORD)
    me.follow("Surveys", "Surveys")
    build_two_language_survey_with_branching(me, screenshot)

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
    from tests.factories import small_survey_document

    import_definition(parse_definition(small_survey_document(slug="nojs")))
    db.session.commit()
    me = Hands(Person(new_context(js=False).new_page()))
    me.sign_in(EMAIL, PASSWORD)
    me.person.goto("/staff/surveys", "Surveys")
    me.person.goto("/staff/surveys/nojs", "Messaging safety")
    me.person.goto("/staff/surveys/nojs/edit", "Edit: Messaging safety")
    # A question's actions sit level: the links styled as buttons (edit, delete) and
    # the real buttons (move) share their top, height and text line; and delete looks
    # like what it does (red, outlined), not like edit.
    actions = me.page.locator(".builder-question .builder-actions").nth(1)
    edit, move, delete = (
        actions.get_by_role("link", name="Edit question", exact=False),
        actions.get_by_role("button", name="Move up", exact=False),
        actions.get_by_role("link", name="Delete question", exact=False),
    )
    boxes = [control.bounding_box() for control in (edit, move, delete)]
    assert all(box is not None for box in boxes)
    assert {round(box["y"]) for box in boxes} == {round(boxes[0]["y"])}
    assert {round(box["height"]) for box in boxes} == {round(boxes[0]["height"])}
    text_top = (
        "e => { const r = document.createRange(); r.selectNodeContents(e);"
        " return Math.round(r.getClientRects()[0].top); }"
    )
    assert edit.evaluate(text_top) == move.evaluate(text_top) == delete.evaluate(text_top)
    style = "e => [getComputedStyle(e).color, getComputedStyle(e).borderTopColor]"
    assert delete.evaluate(style) == ["rgb(179, 38, 30)", "rgb(179, 38, 30)"]  # --error
    assert edit.evaluate(style)[0] != delete.evaluate(style)[0]
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


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_the_missing_translations_lead_to_where_they_are_typed(
    app, live_server, new_context, facilitator, js
):
    """Issue 21, point 11: the survey's page lists each text a language lacks, the
    opening page refuses with the same list, and a link opens the question to fix."""
    from survey.definition import parse_definition
    from survey.surveys import import_definition
    from tests.survey.test_untranslated import MISSING, friends

    import_definition(parse_definition(friends()))
    db.session.commit()
    me = Hands(Person(new_context(js=js, viewport={"width": 320, "height": 568}).new_page()))
    me.sign_in(EMAIL, PASSWORD)
    me.person.goto("/staff/surveys/friends", "Friend suggestions")
    panel = me.page.locator("#untranslated")
    expect(panel).to_contain_text("Missing translations")
    screenshot(me.page, f"untranslated-{'js' if js else 'nojs'}")
    me.person.goto("/staff/surveys/friends/open", "Open “Friend suggestions”")
    expect(me.page.locator("#untranslated")).to_contain_text(MISSING)
    me.person.goto("/staff/surveys/friends", "Friend suggestions")
    me.follow(MISSING, "Edit question q3")
