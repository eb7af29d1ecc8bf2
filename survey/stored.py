"""What staff see of a survey's responses: those stored by the last weekly flush.

Answers sent this week wait in the inbox (survey/inbox.py) until the flush stores
the week's responses at once, in a random order. A staff page that counted the
inbox, or an analyst's tables or export that included it, would move with every
submission: a facilitator sitting beside someone would see the count go from 8
to 9 as they sent their answers, and a custodian would then know which answers
were theirs. So every count a member of staff sees (pages, the command line,
the audit log's export rows) and everything an analyst reads (the analysis
frame, the CSV, reports built from them) goes through here and sees stored
responses only: they change once a week, for the whole week's responses at
once, and at closing, which stores everything.

The respondent side still asks survey/inbox.py, which knows both: whether a
receipt exists, an invite is spent, a response can be withdrawn.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Select, func, select

from survey.inbox import SealedResponse
from survey.models import Response, Survey, SurveyStatus, db
from survey.weeks import day_label


def stored_count(survey: Survey) -> int:
    """The survey's responses as of its last flush (what staff pages show)."""
    count = db.session.scalar(
        select(func.count()).select_from(Response).where(Response.survey_id == survey.id)
    )
    return count or 0


def _stored(survey: Survey) -> Select[str, str, int, bytes]:
    return (
        select(Response.id, Response.week, Response.format_version, Response.sealed)
        .where(Response.survey_id == survey.id)
        .order_by(Response.id)
    )


def stored_responses(survey: Survey) -> Iterator[SealedResponse]:
    """Every stored response of the survey, in random-id order (which says nothing)."""
    for response_id, week, format_version, sealed in db.session.execute(_stored(survey)):
        yield SealedResponse(response_id, week, format_version, sealed)


def stored_batches(survey: Survey, size: int) -> Iterator[list[SealedResponse]]:
    """The same responses as `stored_responses`, streamed in lists of at most `size`."""
    rows = db.session.execute(_stored(survey).execution_options(yield_per=size))
    for partition in rows.partitions(size):
        yield [SealedResponse(*row) for row in partition]


def next_update_monday(today: date | None = None) -> date:
    """The Monday of the week in which this week's answers will be counted.

    This week's inbox is stored in a later week: at that week's first submission
    or daily `chorus purge` (run daily, so on its first day), whichever comes
    first. The answer depends on the date alone, never on whether anything is
    waiting, so it tells nobody whether someone has answered this week.
    """
    today = today or datetime.now(UTC).date()
    return today + timedelta(days=7 - today.weekday())


def counts_note(survey: Survey | None = None, today: date | None = None) -> str:
    """The sentence beside a count of responses, saying when it changes.

    For one survey (`survey`), or for a list of them (None).
    """
    if survey is not None and survey.status in (
        SurveyStatus.CLOSED.value,
        SurveyStatus.ARCHIVED.value,
    ):
        return (
            "Counts of responses are updated once a week, not as people answer; this "
            "survey is closed, so every response sent before it closed is counted."
        )
    monday = day_label(next_update_monday(today))
    note = (
        "Counts of responses are updated once a week, not as people answer, so no one "
        f"can watch a single person respond: the next update is in the week of Monday {monday}"
    )
    if survey is None or survey.status == SurveyStatus.OPEN.value:
        return note + " (or when the survey is closed)."
    return note + "."
