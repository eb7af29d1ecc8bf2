"""survey/sealed_answers.py: sealing and opening one response, and the columns of answers."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace

import pytest

from survey import crypto
from survey.definition import parse_definition
from survey.inbox import SealedResponse
from survey.sealed_answers import (
    FORMAT_VERSION,
    columns_of,
    export_header,
    export_rows_of,
    open_answers,
    open_batch,
    seal_answers,
)
from survey.spreadsheet import rows_csv
from survey.surveys import SurveyError
from tests.factories import small_survey_document

ANSWERS = {"age_band": {"value": "adult"}, "story": {"value": "Words", "quote_consent": True}}


@pytest.fixture
def keyed_survey():
    private, public = crypto.generate_survey_keypair()
    return SimpleNamespace(id=7, slug="small", public_key=public), private


def sealed(survey, response_id="r1", answers=ANSWERS) -> SealedResponse:
    box = seal_answers(survey, response_id, answers)
    return SealedResponse(response_id, "2026-W01", FORMAT_VERSION, box)


def test_answers_open_as_they_were_sealed(keyed_survey):
    survey, private = keyed_survey
    assert open_answers(private, survey.id, sealed(survey)) == ANSWERS
    assert open_batch(private, survey.id, [sealed(survey, "a"), sealed(survey, "b", {})]) == [
        ANSWERS,
        {},
    ]


def test_a_box_moved_to_another_response_or_survey_does_not_open(keyed_survey):
    survey, private = keyed_survey
    box = sealed(survey, "r1").sealed
    with pytest.raises(crypto.CryptoError):
        open_answers(private, survey.id, SealedResponse("r2", "2026-W01", FORMAT_VERSION, box))
    with pytest.raises(crypto.CryptoError):
        open_answers(private, survey.id + 1, SealedResponse("r1", "2026-W01", FORMAT_VERSION, box))
    with pytest.raises(crypto.CryptoError):
        open_answers(private, survey.id, SealedResponse("r1", "2026-W01", FORMAT_VERSION + 1, box))


def test_boxes_are_padded_to_a_size_bucket(keyed_survey):
    survey, _ = keyed_survey
    short = sealed(survey, answers={"story": {"value": "a"}}).sealed
    longer = sealed(survey, answers={"story": {"value": "a" * 500}}).sealed
    assert len(short) == len(longer)


def test_a_survey_without_a_key_seals_nothing():
    with pytest.raises(SurveyError, match="open it first"):
        seal_answers(SimpleNamespace(id=1, slug="small", public_key=None), "r1", ANSWERS)


def questions():
    return list(parse_definition(small_survey_document()).answerable_questions())


def test_one_function_names_a_questions_columns():
    by_id = {q.id: q for q in questions()}
    wanted = columns_of(by_id["wanted"])
    assert (wanted.value, wanted.other, wanted.quote_consent) == ("wanted", "wanted_other", None)
    assert wanted.state == "wanted.state" and wanted.choice("detect") == "wanted=detect"
    story = columns_of(by_id["story"])
    assert (story.other, story.quote_consent) == (None, "story_quote_consent")
    header = export_header(questions())
    assert header[0] == "week"
    assert "wanted_other" in header and "story_quote_consent" in header


def test_export_cells():
    answers = {
        "age_band": {"value": "adult"},
        "apps": {"value": 3},
        "harm_scale": {"state": "prefer_not_to_say"},
        "wanted": {"value": ["report", {"other": "=Faster help"}]},
        "story": {"value": "Words", "quote_consent": False},
        "felt_safe": {"state": "skipped"},
    }
    text = rows_csv(
        export_header(questions()), export_rows_of(questions(), [("2026-W01", answers)])
    )
    [row] = csv.DictReader(io.StringIO(text))
    assert row["week"] == "2026-W01" and row["age_band"] == "adult" and row["apps"] == "3"
    assert row["adult_only"] == "[not_shown]" and row["harm_scale"] == "[prefer_not_to_say]"
    assert row["felt_safe"] == "[skipped]"
    assert row["wanted"] == "report;other" and row["wanted_other"] == "'=Faster help"
    assert row["story"] == "Words" and row["story_quote_consent"] == "no"


def test_a_column_of_numbers_with_a_fraction_is_written_as_the_export_always_wrote_it():
    def apps_cells(*values):
        responses = [("2026-W01", {"apps": v}) for v in values]
        index = export_header(questions()).index("apps")
        return [row[index] for row in export_rows_of(questions(), responses)]

    assert apps_cells({"value": 3}, {"value": 2.5}) == [3.0, 2.5]
    assert apps_cells({"value": 3}, {"value": 4}) == [3, 4]
    assert apps_cells({"value": 3}, {"value": 2.5}, {"state": "skipped"}) == [3, 2.5, "[skipped]"]
