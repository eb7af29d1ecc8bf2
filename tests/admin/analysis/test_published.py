"""The published tables: what one table hides, no linked table gives away."""

from __future__ import annotations

from admin.analysis.published import PublishedTables, disclosure_for
from survey.surveys import definition_of
from tests.factories import answered_small_survey, person

# k = 10. 53 answered "wanted": 50 chose detect, 3 didn't (fewer than k), so the
# one-way table hides detect's 50 (else 53 - 50 = 3 is known). Both age groups are
# large, each chose detect 25 times, and 20 of each skipped the question, so no cell
# of the breakdown is small.
PEOPLE = (
    [person("under_18", 3, ["detect"]) for _ in range(25)]
    + [person("adult", 3, ["detect"]) for _ in range(25)]
    + [person("adult", 3, ["report"]) for _ in range(3)]
    + [person("under_18", 3) for _ in range(20)]
    + [person("adult", 3) for _ in range(20)]
)


def test_a_multi_choice_breakdown_never_reveals_a_count_its_question_hides(app):
    survey, frame = answered_small_survey(PEOPLE)
    definition = definition_of(survey)
    tables = PublishedTables(definition, frame, disclosure_for(definition, False), "en")
    wanted, age = tables.counted["wanted"], tables.counted["age_band"]
    entry = tables.question_entry(wanted)
    detect = entry["categories"].index("detect")
    assert entry["answered"] == 53 and entry["counts"][detect] is None

    breakdown = tables.breakdown_entries[tables.breakdown(wanted, age)]
    column = [row[breakdown["columns"].index("detect")] for row in breakdown["counts"]]
    # If every cell of the column were shown, their sum would be the hidden 50.
    assert None in column, column
