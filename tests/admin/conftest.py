"""Fixtures for the staff side's tests."""

from __future__ import annotations

import pytest

from tests.factories import answered_small_survey, person

# 60 people. age: 8 under 18 (fewer than k), 50 adults, 2 prefer not to say.
# harm: 0/12/15/13/20 for 1..5, everyone. wanted (50 answered, 10 skipped):
# detect 45, report 30, defaults 5 (fewer than k).
PEOPLE = (
    [person("under_18", 5, ["detect", "report"]) for _ in range(8)]
    + [person("adult", 2, ["detect"]) for _ in range(12)]
    + [person("adult", 3, ["detect", "report"]) for _ in range(15)]
    + [person("adult", 4, ["detect", "report"]) for _ in range(7)]
    + [person("adult", 4, ["report", "defaults"]) for _ in range(5)]
    + [person("adult", 5, ["detect"]) for _ in range(3)]
    + [person("adult", 5) for _ in range(8)]
    + [person("pnts", 4, None) for _ in range(1)]
    + [person("pnts", 5, None) for _ in range(1)]
)


@pytest.fixture
def answered_survey(app):
    return answered_small_survey(PEOPLE)
