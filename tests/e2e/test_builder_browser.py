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
def test_a_new_kind_shows_its_fields_in_the_same_step_at_1280(
    app, live_server, new_context, facilitator, js
):
    """A number question becomes a single choice: its answer rows appear at once, with
    what was typed kept, and no save fails; the codes are made from the labels."""
    from survey.definition import parse_definition
    from survey.surveys import definition_of, find_survey, import_definition
    from tests.factories import small_survey_document

    import_definition(parse_definition(small_survey_document(slug="kinds")))
    db.session.commit()
    me = Hands(Person(new_context(js=js, viewport={"width": 1280, "height": 900}).new_page()))
    me.sign_in(EMAIL, PASSWORD)
    me.person.goto("/staff/surveys/kinds/questions/apps", "Edit question apps")
    me.fill("#f-text-en", "Which apps do you use most?")
    expect(me.page.locator("#f-options-0--label-en")).to_be_hidden()
    me.page.get_by_label("Kind of question").focus()
    me.keys.type("Single")
    if js:
        # The answers appear as the kind is chosen, and the page says so.
        expect(me.page.locator("#f-options-0--label-en")).to_be_visible()
        expect(me.page.locator("#f-min")).to_be_hidden()
        expect(me.page.locator("#kind-status")).to_contain_text(
            "The fields for a “Single choice (radio buttons)” question are shown below"
        )
    else:
        me.keys.press("Tab")
        expect(me.page.get_by_role("button", name="Show the fields for this kind")).to_be_focused()
        me.keys.press("Enter")
        me.person.check("Edit question apps")
        expect(me.page.locator(".error-summary")).to_have_count(0)
        expect(me.page.locator("#kind-changed")).to_contain_text("add at least two answers")
    expect(me.page.locator("#f-text-en")).to_have_value("Which apps do you use most?")
    expect(me.page.get_by_label("Code (used in exports)").first).to_be_visible()
    for row, (en, es) in enumerate([("Messaging apps", "Mensajería"), ("Games", "Juegos")]):
        me.fill(f"#f-options-{row}--label-en", en)
        me.fill(f"#f-options-{row}--label-es", es)
    helpers.screenshot(me.page, "builder-question-kind", widths=(1280, 320))
    me.page.get_by_role("button", name="Save the question", exact=True).focus()
    me.keys.press("Enter")
    me.person.check("Edit: Messaging safety")
    db.session.expire_all()
    apps = definition_of(find_survey("kinds")).question("apps")
    assert apps.type == "single_choice"
    assert [o.value for o in apps.options] == ["messaging_apps", "games"]

    # Invite codes for a survey that doesn't ask for them: refused, with the way on.
    me.person.goto("/staff/surveys/kinds/invites", "Invite codes")
    expect(me.page.locator("#not-invite-only")).to_contain_text("does not use invite codes")
    me.follow("Turn on “Invite only” in the survey's settings", "Survey settings")


def test_invite_cards_in_the_surveys_language_without_its_title(
    app, live_server, new_context, facilitator
):
    from survey.definition import parse_definition
    from survey.surveys import import_definition
    from tests.factories import small_survey_document

    import_definition(parse_definition(small_survey_document(slug="cards", invite_only=True)))
    db.session.commit()
    me = Hands(Person(new_context(viewport={"width": 1280, "height": 900}).new_page()))
    me.sign_in(EMAIL, PASSWORD)
    me.person.goto("/staff/surveys/cards/invites", "Invite codes")
    expect(me.page.get_by_label("Print the survey's title on the cards")).not_to_be_checked()
    me.page.get_by_label("Language of the cards").select_option("es")
    me.fill("#f-count", "4")
    me.press("Printable cards", "4 invite codes for Messaging safety")
    cards = me.page.locator(".invite-card")
    expect(cards).to_have_count(4)
    expect(cards.first).to_contain_text("Escribe este código de invitación:")
    expect(me.page.locator(".invite-card__title")).to_have_count(0)
    helpers.screenshot(me.page, "builder-invite-cards", widths=(1280,))


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
