"""ISO weeks as people read them.

Chorus keeps no date finer than an ISO week next to anything a respondent did, and
stores weeks as "2026-W49" (survey.models.iso_week). That form is exact and sorts,
but few readers know it: pages and reports say "week of 30 November 2026" instead
(the week's Monday), while the data, the report document and the exports keep the
week itself. Templates use these through the `week` and `week_span` filters.
"""

from __future__ import annotations

import re
from datetime import date

_ISO_WEEK = re.compile(r"(\d{4})-W(\d{2})")
# English month names, whatever the server's locale is (strftime's %B follows it).
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def week_monday(week: str) -> date | None:
    """The Monday that starts an ISO week such as "2026-W49"; None if it isn't one."""
    found = _ISO_WEEK.fullmatch(week.strip()) if isinstance(week, str) else None
    if found is None:
        return None
    try:
        return date.fromisocalendar(int(found[1]), int(found[2]), 1)
    except ValueError:  # week 00, or week 53 of a year that has 52
        return None


def _day(day: date, with_year: bool = True) -> str:
    text = f"{day.day} {_MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if with_year else text


def _capital(text: str, capitalised: bool) -> str:
    return text[:1].upper() + text[1:] if capitalised else text


def week_label(week: str | None, capitalised: bool = False) -> str:
    """ "2026-W49" as "week of 30 November 2026" ("Week of ..." when `capitalised`, to
    start a sentence); anything else as it is (empty for None)."""
    if week is None:
        return ""
    monday = week_monday(week)
    return _capital(f"week of {_day(monday)}", capitalised) if monday else str(week)


def week_span_label(first: str | None, last: str | None, capitalised: bool = False) -> str:
    """Two ISO weeks as a period: "weeks of 2 November to 30 November 2026" (the year
    once when both are in it), or one week's label when they are the same."""
    if not first or not last or first == last:
        return week_label(first or last, capitalised)
    start, end = week_monday(first), week_monday(last)
    if start is None or end is None:
        return _capital(f"{week_label(first)} to {week_label(last)}", capitalised)
    span = f"weeks of {_day(start, with_year=start.year != end.year)} to {_day(end)}"
    return _capital(span, capitalised)
