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

from babel.dates import format_skeleton

from survey.i18n import N_, babel_locale, translate_to

_ISO_WEEK = re.compile(r"(\d{4})-W(\d{2})")
# Chorus's English is British: "30 November 2026", not "November 30, 2026".
_ENGLISH_DATES = "en_GB"


def week_monday(week: str) -> date | None:
    """The Monday that starts an ISO week such as "2026-W49"; None if it isn't one."""
    found = _ISO_WEEK.fullmatch(week.strip()) if isinstance(week, str) else None
    if found is None:
        return None
    try:
        return date.fromisocalendar(int(found[1]), int(found[2]), 1)
    except ValueError:  # week 00, or week 53 of a year that has 52
        return None


def day_label(day: date, language: str = "en", with_year: bool = True) -> str:
    """A date as `language` writes it in full, by Babel: "30 November 2026",
    "30 de noviembre de 2026" (without the year: "30 November")."""
    locale = babel_locale(language)
    if locale is None or str(locale) == "en":
        locale = babel_locale(_ENGLISH_DATES)
    return format_skeleton("yMMMMd" if with_year else "MMMMd", day, locale=locale)


def _capital(text: str, capitalised: bool) -> str:
    return text[:1].upper() + text[1:] if capitalised else text


WEEK_OF = N_("week of %(date)s")
WEEKS_OF = N_("weeks of %(start)s to %(end)s")
WEEK_TO_WEEK = N_("%(first)s to %(last)s")


def week_label(week: str | None, capitalised: bool = False, language: str = "en") -> str:
    """ "2026-W49" as "week of 30 November 2026" ("Week of ..." when `capitalised`, to
    start a sentence) in `language` ("semana del 30 de noviembre de 2026"); anything
    else as it is (empty for None)."""
    if week is None:
        return ""
    monday = week_monday(week)
    if monday is None:
        return str(week)
    text = translate_to(language, WEEK_OF, date=day_label(monday, language))
    return _capital(text, capitalised)


def week_span_label(
    first: str | None, last: str | None, capitalised: bool = False, language: str = "en"
) -> str:
    """Two ISO weeks as a period: "weeks of 2 November to 30 November 2026" (the year
    once when both are in it), or one week's label when they are the same."""
    if not first or not last or first == last:
        return week_label(first or last, capitalised, language)
    start, end = week_monday(first), week_monday(last)
    if start is None or end is None:
        span = translate_to(
            language,
            WEEK_TO_WEEK,
            first=week_label(first, language=language),
            last=week_label(last, language=language),
        )
        return _capital(span, capitalised)
    span = translate_to(
        language,
        WEEKS_OF,
        start=day_label(start, language, with_year=start.year != end.year),
        end=day_label(end, language),
    )
    return _capital(span, capitalised)
