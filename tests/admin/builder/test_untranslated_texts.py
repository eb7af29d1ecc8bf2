"""The builder lists what a draft lacks in one of its languages, each linked to where
it is typed, and the opening page refuses until nothing is (issue 21, point 11)."""

from __future__ import annotations

from survey.definition import parse_definition
from survey.surveys import find_survey, import_definition
from tests.admin.builder.test_builder import post
from tests.factories import page_text
from tests.survey.test_untranslated import MISSING, friends, translated


def test_the_survey_page_lists_each_missing_translation_with_a_link(staff):
    import_definition(parse_definition(friends()))
    page = staff.get("/staff/surveys/friends")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Missing translations" in page_text(page)
    assert f'<a href="/staff/surveys/friends/questions/q3">{MISSING}</a>' in html.replace(
        "&#39;", "'"
    )


def test_nothing_is_listed_for_a_translated_survey(staff):
    import_definition(parse_definition(translated()))
    assert "Missing translations" not in page_text(staff.get("/staff/surveys/friends"))


def test_the_open_page_names_what_to_translate_and_makes_no_keys(staff):
    import_definition(parse_definition(friends()))
    page = staff.get("/staff/surveys/friends/open")
    text = page_text(page)
    assert page.status_code == 200
    assert "Translate every text first" in text and MISSING in text
    assert "Make the keys" not in text
    assert 'href="/staff/surveys/friends#untranslated"' in page.get_data(as_text=True)
    refused = post(staff, "/staff/surveys/friends/open", {"understood": "yes"})
    assert refused.status_code == 409 and MISSING in page_text(refused)
    assert find_survey("friends").public_key is None


def test_a_new_survey_has_no_english_hint_to_leave_untranslated():
    """The blank survey's first question once carried "Please leave out names and
    places." as its own help, in English only: an Arabic page then showed it
    untranslated (".Please leave out names and places"). The page says it itself,
    in the respondent's language, under every text box."""
    from admin.builder.pages import blank_document

    question = blank_document("new-one", "New one")["sections"][0]["questions"][0]
    assert "help" not in question
