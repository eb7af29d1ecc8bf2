"""A survey can't open while a text lacks one of its languages (issue 21, point 11):
the texts of a survey are plain strings (its default language alone) or objects with
every one of its languages (survey/definition.py, `missing_translations`); a plain
string in a survey of several languages is shown untranslated to everyone who chose
another, so opening is refused, naming each one, and nothing changes."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from survey.definition import MissingText, missing_translations, parse_definition
from survey.surveys import (
    SurveyError,
    bundled_template_text,
    find_survey,
    import_definition,
    open_survey,
    prepare_keys,
)
from tests.factories import CUSTODIAN_EMAIL, custodian_user

MISSING = "Section 'Friend suggestions', question 'q3' hint: no Arabic text"

FRIENDS: dict = {
    "format": "chorus-survey/1",
    "slug": "friends",
    "title": {"en": "Friend suggestions", "ar": "اقتراحات الأصدقاء"},
    "languages": ["en", "ar"],
    "support": [{"name": {"en": "Helpline", "ar": "خط المساعدة"}, "phone": "0800 000 000"}],
    "sections": [
        {
            "id": "friends",
            "title": {"en": "Friend suggestions", "ar": "اقتراحات الأصدقاء"},
            "questions": [
                {
                    "id": "q1",
                    "type": "single_choice",
                    "text": {
                        "en": "Were you suggested to adults you didn't know?",
                        "ar": "هل اقتُرح حسابك على بالغين لا تعرفهم؟",
                    },
                    "options": [
                        {"value": "yes", "label": {"en": "Yes", "ar": "نعم"}},
                        {"value": "no", "label": {"en": "No", "ar": "لا"}},
                    ],
                },
                {
                    "id": "q3",
                    "type": "long_text",
                    "text": {"en": "What happened next?", "ar": "ماذا حدث بعد ذلك؟"},
                    # The default language's words alone: no Arabic.
                    "help": "Please leave out names and places.",
                },
            ],
        }
    ],
}


def friends(**changes) -> dict:
    document = copy.deepcopy(FRIENDS)
    document.update(changes)
    return document


def translated() -> dict:
    document = friends()
    document["sections"][0]["questions"][1]["help"] = {
        "en": "Say as much or as little as you like.",
        "ar": "اكتب ما تشاء، قليلًا كان أو كثيرًا.",
    }
    return document


def test_a_plain_string_is_missing_in_every_language_but_the_first():
    missing = missing_translations(parse_definition(friends()))
    assert missing == [
        MissingText(
            "sections[0].questions[1].help",
            "Section 'Friend suggestions', question 'q3' hint",
            "ar",
            "friends",
            "q3",
        )
    ]
    assert [str(item) for item in missing] == [MISSING]
    # One language: a plain string is that language's words, nothing is missing.
    single = Path(__file__).resolve().parents[1] / "definitions" / "valid" / "arabic.json"
    assert missing_translations(parse_definition(json.loads(single.read_text("utf-8")))) == []
    assert missing_translations(parse_definition(translated())) == []


def test_every_kind_of_text_is_named():
    document = friends(
        title="Friend suggestions", intro="Why we ask.", organiser="Us", closing_message="Thanks"
    )
    document["support"][0]["hours"] = "24/7"
    question = document["sections"][0]["questions"][0]
    question["options"][0]["label"] = "Yes"
    document["sections"][0]["content_warning"] = "This asks about strangers."
    scale = {
        "id": "q4",
        "type": "scale",
        "text": {"en": "How safe?", "ar": "ما مدى الأمان؟"},
        "scale": {
            "min": 1,
            "max": 5,
            "min_label": "Not safe",
            "max_label": {"en": "Safe", "ar": "آمن"},
        },
    }
    document["sections"][0]["questions"].append(scale)
    places = [item.place for item in missing_translations(parse_definition(document))]
    assert places == [
        "Survey title",
        "Survey introduction",
        "Who runs it",
        "Closing message",
        "Support service 'Helpline' hours",
        "Section 'Friend suggestions' content note",
        "Section 'Friend suggestions', question 'q1' option 'yes'",
        "Section 'Friend suggestions', question 'q3' hint",
        "Section 'Friend suggestions', question 'q4' lowest label",
    ]


def test_no_keys_are_made_and_nothing_changes_while_a_text_is_untranslated(app):
    survey = import_definition(parse_definition(friends()))
    before = survey.definition_json
    with pytest.raises(SurveyError) as refused:
        prepare_keys(survey, [custodian_user()], sheet_check=False)
    message = str(refused.value)
    assert MISSING in message and "can't open yet" in message
    survey = find_survey("friends")
    assert survey.status == "draft" and survey.public_key is None and survey.key_wraps == []
    assert survey.definition_json == before


def test_open_survey_checks_too(app):
    """A draft whose text lost its translation after its keys were made."""
    survey = import_definition(parse_definition(translated()))
    prepare_keys(survey, [custodian_user()], sheet_check=False)
    survey.definition_json = json.dumps(friends())
    with pytest.raises(SurveyError, match="question 'q3' hint: no Arabic text"):
        open_survey(survey)
    assert find_survey("friends").status == "draft"


def test_a_translated_survey_and_the_bundled_template_open(app):
    survey = import_definition(parse_definition(translated()))
    prepare_keys(survey, [custodian_user()], sheet_check=False)
    open_survey(survey)
    assert find_survey("friends").status == "open"
    template = parse_definition(json.loads(bundled_template_text()))
    assert missing_translations(template) == []
    bundled = import_definition(template)
    prepare_keys(bundled, [custodian_user("second@example.org")], sheet_check=False)
    open_survey(bundled)
    assert find_survey(template.slug).status == "open"


def test_the_command_line_refuses_with_the_list(app, tmp_path):
    custodian_user()
    path = tmp_path / "friends.json"
    path.write_text(json.dumps(friends()), "utf-8")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["survey", "import", str(path)]).exit_code == 0
    refused = runner.invoke(args=["survey", "open", "friends", "--custodian", CUSTODIAN_EMAIL])
    assert refused.exit_code == 1
    assert MISSING in refused.output and "is open" not in refused.output
    assert find_survey("friends").status == "draft"
    assert find_survey("friends").public_key is None
