"""ISO weeks as readers say them (survey/weeks.py): the data keeps "2026-W49", pages
and reports say "week of 30 November 2026"."""

from __future__ import annotations

from datetime import date

import pytest
from flask import render_template_string

from admin.reports import render
from survey.models import iso_week
from survey.weeks import week_label, week_monday, week_span_label


@pytest.mark.parametrize(
    ("week", "label"),
    [
        ("2026-W49", "week of 30 November 2026"),
        ("2027-W05", "week of 1 February 2027"),
        ("2026-W01", "week of 29 December 2025"),  # ISO week 1 can start the year before
        ("2020-W53", "week of 28 December 2020"),  # a year with 53 weeks
        ("2021-W53", "2021-W53"),  # one without: shown as it is, not guessed
        ("2026-W00", "2026-W00"),
        ("week 49", "week 49"),
        ("", ""),
    ],
)
def test_a_week_is_named_by_its_monday(week, label):
    assert week_label(week) == label


def test_every_week_of_a_year_round_trips_through_its_monday():
    day = date(2025, 12, 29)
    while day.year < 2028:
        week = iso_week(day)
        monday = week_monday(week)
        assert monday is not None and monday.weekday() == 0
        assert iso_week(monday) == week and (day - monday).days < 7
        day = date.fromordinal(day.toordinal() + 3)


def test_capitalised_starts_a_sentence_and_none_is_empty():
    assert week_label("2026-W49", capitalised=True) == "Week of 30 November 2026"
    assert week_label(None) == ""


@pytest.mark.parametrize(
    ("first", "last", "label"),
    [
        ("2026-W45", "2026-W49", "weeks of 2 November to 30 November 2026"),
        ("2025-W52", "2026-W02", "weeks of 22 December 2025 to 5 January 2026"),
        ("2026-W49", "2026-W49", "week of 30 November 2026"),
        ("2026-W49", None, "week of 30 November 2026"),
        ("2026-W49", "later", "week of 30 November 2026 to later"),
    ],
)
def test_a_span_of_weeks(first, last, label):
    assert week_span_label(first, last) == label


def test_the_filters_in_the_sites_templates_and_the_standalone_report(app):
    with app.test_request_context("/"):
        text = render_template_string(
            "{{ w | week }}; {{ w | week(capitalised=true) }}; {{ a | week_span(b) }}",
            w="2026-W49",
            a="2026-W45",
            b="2026-W49",
        )
    assert text == (
        "week of 30 November 2026; Week of 30 November 2026; "
        "weeks of 2 November to 30 November 2026"
    )
    standalone = render._environment().from_string("{{ w | week }}")
    assert standalone.render(w="2027-W05") == "week of 1 February 2027"


@pytest.mark.parametrize(
    ("first", "last", "language", "label"),
    [
        ("2026-W49", "2026-W49", "es", "semana del 30 de noviembre de 2026"),
        ("2026-W45", "2026-W49", "es", "semanas del 2 de noviembre al 30 de noviembre de 2026"),
        ("2025-W52", "2026-W02", "es", "semanas del 22 de diciembre de 2025 al 5 de enero de 2026"),
        # A language without a catalogue: English words, its own way of writing dates.
        ("2026-W49", "2026-W49", "de", "week of 30. November 2026"),
        ("2026-W49", "2026-W49", "en", "week of 30 November 2026"),
    ],
)
def test_weeks_in_the_readers_language(first, last, language, label):
    """Reports say weeks in their survey's language, the date written by Babel."""
    assert week_span_label(first, last, language=language) == label
    assert week_label("2026-W49", capitalised=True, language="es") == (
        "Semana del 30 de noviembre de 2026"
    )
