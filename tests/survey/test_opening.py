"""Opening a survey: what must be in place first (survey/surveys.py)."""

from __future__ import annotations

import json

import pytest

from survey.definition import parse_definition
from survey.models import db
from survey.surveys import (
    SurveyError,
    close_survey,
    import_definition,
    open_survey,
    prepare_keys,
)
from tests.factories import custodian_user, small_survey_document


def without_support(**changes):
    document = small_survey_document(**changes)
    del document["support"]
    return document


def test_no_keys_are_made_for_a_survey_without_support_services(app):
    survey = import_definition(parse_definition(without_support()))
    with pytest.raises(SurveyError, match="has no support services") as refused:
        prepare_keys(survey, [custodian_user()], sheet_check=False)
    assert "starting list" in str(refused.value)
    assert survey.public_key is None and survey.key_wraps == []


def test_a_survey_whose_support_went_missing_does_not_open(app):
    """open_survey checks too (a draft changed between making keys and opening)."""
    survey = import_definition(parse_definition(small_survey_document()))
    prepare_keys(survey, [custodian_user()], sheet_check=False)
    survey.definition_json = json.dumps(without_support())
    db.session.commit()
    with pytest.raises(SurveyError, match="has no support services"):
        open_survey(survey)
    assert survey.status == "draft"


def test_a_closed_survey_without_support_services_is_not_reopened(app):
    """One opened before the rule: its definition can't change, so the message says
    to copy it."""
    survey = import_definition(parse_definition(small_survey_document()))
    prepare_keys(survey, [custodian_user()], sheet_check=False)
    open_survey(survey)
    close_survey(survey)
    survey.definition_json = json.dumps(without_support())
    db.session.commit()
    with pytest.raises(SurveyError, match="copy it into a new version"):
        open_survey(survey)
    assert survey.status == "closed"
