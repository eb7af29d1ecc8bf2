"""What the builder tells a facilitator about writing for respondents (issue 21,
point 3): a content note says plainly what kind of question follows, the
introduction says who can take part, age included; and a new survey starts with no
words of its own that the app already says (a plain string shows in every language,
so the blank survey's "Please leave out names and places." was shown in English on
an Arabic page)."""

from __future__ import annotations

from survey.definition import parse_definition
from survey.surveys import definition_of, find_survey, import_definition
from tests.factories import CSRF_RE, page_text, small_survey_document


def test_the_content_note_guidance_asks_for_what_kind_of_question_follows(staff):
    import_definition(parse_definition(small_survey_document(slug="small")))
    page = page_text(staff.get("/staff/surveys/small/sections/add"))
    assert "Say plainly what kind of question follows" in page
    assert "whether something happened to you when you were under 18" in page
    assert "Never say the section doesn’t ask something one of its questions asks" in page


def test_the_introduction_guidance_asks_who_can_take_part_age_included(staff):
    import_definition(parse_definition(small_survey_document(slug="small")))
    page = page_text(staff.get("/staff/surveys/small/settings"))
    assert "who can take part, age included" in page


def test_a_blank_survey_says_nothing_the_app_already_says(staff):
    token = CSRF_RE.search(staff.get("/staff/surveys/new").get_data(as_text=True)).group(1)
    made = staff.post(
        "/staff/surveys/new", data={"csrf_token": token, "title": "Plain", "slug": "plain"}
    )
    assert made.status_code == 302
    page = page_text(staff.get("/staff/surveys/plain/questions/first_question"))
    assert "For free text, say" not in page
    assert "Chorus already says “Please leave out names and places.”" in page
    question = definition_of(find_survey("plain")).question("first_question")
    assert question is not None and question.help is None
