"""Retention: after a survey's `retain_until` day, what respondents left is deleted.

Responses (stored or waiting in the inbox), drafts and invite codes of an
expired survey go; the survey itself (its definition, keys and published
reports, which are aggregates) stays, so the consultation's outcome outlives
the raw answers. Each survey is purged in one transaction together with its
audit entry: a purge is never half done nor done without a record.

Staff sign-ins that have lapsed go too: staff sessions past their idle or
absolute limit, and wrong-password counts nobody has added to for a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, or_, select

from survey import inbox
from survey.events import announce
from survey.models import (
    AnalysisState,
    Draft,
    InviteCode,
    Response,
    SignInThrottle,
    StaffSession,
    Survey,
    db,
    rows_changed,
)

# A wrong-password count nobody has added to for this long is forgotten.
THROTTLE_MEMORY = timedelta(days=1)


@dataclass(frozen=True)
class Purged:
    """What one survey lost to the purge."""

    slug: str
    responses: int
    drafts: int
    invites: int
    analysis: int = 0  # analysts' sealed codes and approved quotes


def _count(model: type[Draft] | type[InviteCode] | type[AnalysisState], survey_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count()).select_from(model).where(model.survey_id == survey_id)
        )
        or 0
    )


def purge_expired(today: date, actor: str) -> list[Purged]:
    """Delete responses, drafts and invites of every survey kept until before `today`.

    Surveys with nothing left to delete are skipped, so running it again changes
    nothing and records nothing. `actor` is who the audit entry names.
    """
    expired = db.session.execute(
        select(Survey.id, Survey.slug)
        .where(Survey.retain_until.is_not(None), Survey.retain_until < today)
        .order_by(Survey.slug)
    ).all()
    purged = []
    for survey_id, slug in expired:
        counts = {
            "responses": inbox.response_count(db.session.get_one(Survey, survey_id)),
            "drafts": _count(Draft, survey_id),
            "invites": _count(InviteCode, survey_id),
            # Codes and approved quotes are made of the answers: they go with them.
            "analysis": _count(AnalysisState, survey_id),
        }
        if not any(counts.values()):
            continue
        inbox.delete_all(survey_id)
        for model in (Response, Draft, InviteCode, AnalysisState):
            db.session.execute(delete(model).where(model.survey_id == survey_id))
        # The audit log commits what is pending with its entry: both or neither.
        announce("survey.purge", actor, slug, **counts)
        db.session.commit()
        purged.append(Purged(slug, **counts))
    return purged


def flush_inboxes(today: date | None = None) -> int:
    """The daily job's other half: store every survey's answers of weeks before
    `today`'s (all of them for a survey no longer open) in shuffled weekly batches."""
    return inbox.flush_every_survey(today)


def staff_session_limits() -> tuple[timedelta, timedelta]:
    """How long a staff session may sit idle, and how long it may last at all."""
    config = current_app.config
    return (
        timedelta(minutes=int(config["CHORUS_STAFF_IDLE_MINUTES"])),
        timedelta(hours=int(config["CHORUS_STAFF_SESSION_HOURS"])),
    )


def delete_lapsed_sign_ins(now: datetime) -> int:
    """Delete lapsed staff sessions and forgotten wrong-password counts; commits.

    Returns how many staff sessions went.
    """
    idle, absolute = staff_session_limits()
    # The database compares the times: rows loaded from SQLite have no time zone.
    in_sql = {"synchronize_session": False}
    lapsed = db.session.execute(
        delete(StaffSession).where(
            or_(StaffSession.last_seen_at < now - idle, StaffSession.created_at < now - absolute)
        ),
        execution_options=in_sql,
    )
    db.session.execute(
        delete(SignInThrottle).where(SignInThrottle.updated_at < now - THROTTLE_MEMORY),
        execution_options=in_sql,
    )
    db.session.commit()
    return rows_changed(lapsed) or 0
