"""The analysis frame: sealed responses decrypted in memory into typed columns."""

from __future__ import annotations

import math

import pandas as pd

from admin.analysis import frame
from admin.analysis.frame import STATES, answers_frame
from survey.surveys import find_survey, unwrap_with_recovery_code
from survey.synthetic import add_synthetic_responses
from tests.factories import Respondent, store_the_week


def test_one_known_response_becomes_typed_columns(app, make_open_survey):
    survey, code = make_open_survey()
    r = Respondent(app.test_client(), survey.slug)
    r.start()
    r.answer("you", {"age_band": "under_18", "apps": "12"})
    r.pass_warning("e2ee")
    r.answer(
        "e2ee",
        {
            "harm_scale": "_prefer_not_to_say",
            "wanted": ["report", "_other"],
            "wanted-other": "Faster help",
            "story": "Words",
            "story-quote": "yes",
        },
    )
    r.answer("minors", {})
    r.submit()
    store_the_week(survey.slug)
    from survey.surveys import unwrap_with_recovery_code

    survey = find_survey("small")
    answers = answers_frame(survey, unwrap_with_recovery_code(survey, code))
    assert len(answers) == 1
    row = answers.iloc[0]
    assert row["age_band.state"] == "answered" and row["age_band"] == "under_18"
    assert row["adult_only.state"] == "not_shown" and row["adult_only"] is None
    assert row["apps"] == 12.0
    assert row["harm_scale.state"] == "prefer_not_to_say" and math.isnan(row["harm_scale"])
    assert row["wanted=report"] and row["wanted=other"] and not row["wanted=detect"]
    assert row["wanted_other"] == "Faster help"
    assert row["story"] == "Words" and bool(row["story_quote_consent"])
    assert row["felt_safe.state"] == "skipped"
    assert row["week"].count("-W") == 1
    assert list(answers["age_band"].cat.categories) == ["under_18", "adult"]
    assert list(answers["age_band.state"].cat.categories) == list(STATES)


def test_the_process_pool_gives_the_same_frame_as_one_process(app, make_open_survey, monkeypatch):
    survey, code = make_open_survey()
    add_synthetic_responses(survey, 240, seed=7)
    from survey.surveys import unwrap_with_recovery_code

    key = unwrap_with_recovery_code(find_survey("small"), code)
    alone = answers_frame(find_survey("small"), key, workers=1)
    monkeypatch.setattr(frame, "INLINE_BELOW", 0)
    monkeypatch.setattr(frame, "BATCH", 50)  # 5 batches over 2 processes
    pooled = answers_frame(find_survey("small"), key, workers=2)
    pd.testing.assert_frame_equal(alone, pooled)
    assert len(pooled) == 240
    # Every question's states add up to every response.
    for column in [c for c in pooled.columns if c.endswith(".state")]:
        assert pooled[column].value_counts().sum() == 240


def test_an_empty_survey_gives_an_empty_frame_with_every_column(app, make_open_survey):
    survey, code = make_open_survey()
    from survey.surveys import unwrap_with_recovery_code

    answers = answers_frame(survey, unwrap_with_recovery_code(survey, code))
    assert len(answers) == 0 and "wanted=detect" in answers.columns and "age_band.state" in answers


def test_the_frame_lives_as_long_as_the_unlock(app, make_open_survey, monkeypatch):
    import time

    from admin.analysis.frame import analysis_frame
    from admin.custody import unlock as keys
    from survey.synthetic import add_synthetic_responses
    from tests.factories import custodian_user

    survey, code = make_open_survey()
    add_synthetic_responses(survey, 5, seed=1)
    user = custodian_user()
    key = unwrap_with_recovery_code(find_survey("small"), code)
    with app.test_request_context():
        assert analysis_frame(survey, user) is None  # locked: nothing decrypted
        keys.keep_unlocked(survey, user, key)
        first = analysis_frame(survey, user)
        assert len(first) == 5 and analysis_frame(survey, user) is first  # built once
        add_synthetic_responses(survey, 2, seed=2)
        assert len(analysis_frame(survey, user)) == 7  # rebuilt for new responses
        keys.lock(survey)
        assert keys._scratch == {} and analysis_frame(survey, user) is None

        keys.keep_unlocked(survey, user, key)
        assert analysis_frame(survey, user) is not None and len(keys._scratch) == 1
        later = time.monotonic() + 16 * 60
        monkeypatch.setattr(keys.time, "monotonic", lambda: later)
        assert analysis_frame(survey, user) is None  # lapsed: the frame is dropped
        assert keys._scratch == {}
