"""Dates as company readers type them: the portal's date field is a date input (which
posts year-month-day), and a browser without one sends whatever was typed, so the
common ways of writing a date are read too.

Which number is the day in 05/06/2027 depends on where the reader is: the portal's
language (its locale) decides. The portal speaks British English (organisation, not
organization), so its English writes the day first, as do Spanish and Arabic; a locale
of the United States and its few followers writes the month first.
"""

from __future__ import annotations

import re
from datetime import date

from babel import Locale
from babel.dates import get_month_names

# Territories whose short dates put the month first (CLDR's M/d/y): where a locale names
# one of these, 05/06/2027 is the sixth of May.
MONTH_FIRST_TERRITORIES = frozenset({"US", "PH", "FM", "MH", "PW", "GU", "AS", "MP", "UM", "VI"})
MAX_TYPED = 40

_ISO = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_NUMERIC = re.compile(r"([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]([0-9]{4})")
_DAY_MONTH_NAME = re.compile(r"([0-9]{1,2})(?:st|nd|rd|th)?\s+([^\W\d_]+)\.?,?\s+([0-9]{4})")
_MONTH_NAME_DAY = re.compile(r"([^\W\d_]+)\.?\s+([0-9]{1,2})(?:st|nd|rd|th)?,?\s+([0-9]{4})")


class DateError(ValueError):
    """A date that can't be read; the message says how to write one."""


def day_first(locale: Locale) -> bool:
    """Whether `locale` writes the day before the month in 05/06/2027."""
    return locale.territory not in MONTH_FIRST_TERRITORIES


def example(locale: Locale) -> str:
    """How the hint shows a date in the reader's order: 31/03/2027 or 03/31/2027."""
    return "31/03/2027" if day_first(locale) else "03/31/2027"


def order_words(locale: Locale) -> str:
    return "day/month/year" if day_first(locale) else "month/day/year"


def _months(locale: Locale) -> dict[str, int]:
    """Month names (wide and abbreviated) in English and the reader's language."""
    names: dict[str, int] = {}
    for where in {Locale.parse("en"), locale}:
        for width in ("wide", "abbreviated"):
            for number, name in get_month_names(width, locale=where).items():
                names[name.lower().rstrip(".")] = number
    names["sept"] = 9
    return names


def _real(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_named(name: str, locale: Locale) -> int:
    month = _months(locale).get(name.lower())
    if month is None:
        raise DateError(f"“{name}” is not a month. {how_to_write(locale)}")
    return month


def how_to_write(locale: Locale) -> str:
    return (
        f"Write the date as {order_words(locale)}, for example {example(locale)}, "
        "or as 31 March 2027."
    )


def parse_date(typed: str, locale: Locale) -> date:
    """The date `typed` names: 2027-06-30 (what a date input sends), 30/06/2027,
    30-06-2027, 30.06.2027, 30 June 2027, June 30, 2027. Where both readings of
    a numeric date are real dates, `locale` decides which number is the day; where
    only one is, that one is meant. Anything else is a DateError."""
    value = " ".join(typed.split())[:MAX_TYPED]
    if found := _ISO.fullmatch(value):
        year, month, day = (int(n) for n in found.groups())
    elif found := _NUMERIC.fullmatch(value):
        first, second, year = (int(n) for n in found.groups())
        readings = [(second, first), (first, second)]  # (month, day): day first, then month
        if not day_first(locale):
            readings.reverse()
        real = [_real(year, m, d) for m, d in readings]
        chosen = next((d for d in real if d is not None), None)
        if chosen is None:
            raise DateError(f"Enter a real date: {value} is not one. {how_to_write(locale)}")
        return chosen
    elif found := _DAY_MONTH_NAME.fullmatch(value):
        day, year = int(found[1]), int(found[3])
        month = _month_named(found[2], locale)
    elif found := _MONTH_NAME_DAY.fullmatch(value):
        month = _month_named(found[1], locale)
        day, year = int(found[2]), int(found[3])
    else:
        raise DateError(how_to_write(locale))
    chosen = _real(year, month, day)
    if chosen is None:
        raise DateError(f"Enter a real date: {value} is not one. {how_to_write(locale)}")
    return chosen
