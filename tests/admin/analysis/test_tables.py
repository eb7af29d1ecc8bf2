"""Counts from the analysis frame, checked against answers given through the pages."""

from __future__ import annotations

from admin.analysis.frame import answers_frame
from admin.analysis.tables import breakdown, counted_questions, question_counts, weekly_counts
from survey.surveys import definition_of, find_survey, unwrap_with_recovery_code
from tests.factories import Respondent, store_the_week

# (age_band, apps, harm_scale, wanted) for each respondent.
PEOPLE = [
    ("under_18", "1", "5", ["detect", "report"]),
    ("under_18", "2", "4", ["detect"]),
    ("adult", "3", "5", ["detect", "_other"]),
    ("adult", "4", "_prefer_not_to_say", []),
    ("_prefer_not_to_say", "5", "1", ["defaults"]),
    (None, "6", None, None),
]


def answer(app, age, apps, harm, wanted):
    r = Respondent(app.test_client(), "small")
    r.start()
    first = {"apps": apps}
    if age:
        first["age_band"] = age
    r.answer("you", first)
    if harm is None:
        r.pass_warning("e2ee", "skip")
    else:
        r.pass_warning("e2ee")
        given = {"harm_scale": harm, "wanted": wanted}
        if "_other" in wanted:
            given["wanted-other"] = "Something else"
        r.answer("e2ee", given)
    if age == "under_18":
        r.answer("minors", {})
    r.submit()


def test_counts_breakdowns_and_weeks(app, make_open_survey):
    survey, code = make_open_survey()
    for person in PEOPLE:
        answer(app, *person)
    store_the_week("small")
    survey = find_survey("small")
    definition = definition_of(survey)
    frame = answers_frame(survey, unwrap_with_recovery_code(survey, code))
    questions = {q.id: q for q in counted_questions(definition)}
    assert set(questions) == {"age_band", "harm_scale", "wanted", "felt_safe"}

    age = question_counts(frame, questions["age_band"], "en", "en")
    assert age.categories == ("under_18", "adult") and age.counts == (2, 2)
    assert (age.answered, age.prefer_not_to_say, age.skipped, age.not_shown) == (4, 1, 1, 0)
    assert age.labels == ("Under 18", "18 or older")
    assert question_counts(frame, questions["age_band"], "es", "en").labels[0] == "Menos de 18"

    harm = question_counts(frame, questions["harm_scale"], "en", "en")
    assert harm.categories == ("1", "2", "3", "4", "5")
    assert harm.counts == (1, 0, 0, 1, 2) and harm.labels[0] == "1 (None)"
    assert (harm.answered, harm.prefer_not_to_say, harm.skipped) == (4, 1, 1)

    wanted = question_counts(frame, questions["wanted"], "en", "en")
    assert wanted.categories == ("detect", "report", "defaults", "other")
    assert wanted.counts == (3, 1, 1, 1) and wanted.labels[-1] == "Other"
    # The fourth person saw the question and chose nothing: skipped.
    assert (wanted.answered, wanted.skipped) == (4, 2)

    felt = question_counts(frame, questions["felt_safe"], "en", "en")
    assert felt.not_shown == 4 and felt.skipped == 2  # only under-18s see it

    table = breakdown(frame, questions["wanted"], questions["age_band"], "en", "en")
    assert table.rows == ("under_18", "adult")
    assert table.counts == ((2, 1, 0, 0), (1, 0, 0, 1))

    harm_by_age = breakdown(frame, questions["harm_scale"], questions["age_band"], "en", "en")
    assert harm_by_age.counts == ((0, 0, 0, 1, 1), (0, 0, 0, 0, 1))

    [(week, n)] = weekly_counts(frame)
    assert n == 6 and "-W" in week
