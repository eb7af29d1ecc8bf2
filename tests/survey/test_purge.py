"""`chorus purge`: answers of surveys past their retention date are deleted; the
surveys stay, other surveys are untouched, and every purge is in the audit log."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from survey.models import (
    AuditEntry,
    Draft,
    InboxEntry,
    InviteCode,
    Response,
    Survey,
    db,
    iso_week,
)
from survey.retention import Purged, purge_expired
from survey.surveys import create_invite_codes
from survey.synthetic import add_synthetic_responses
from tests.factories import Respondent, small_survey_document


def count(model, survey) -> int:
    return db.session.scalar(
        select(func.count()).select_from(model).where(model.survey_id == survey.id)
    )


def fill(survey, responses=3, drafts=2, invites=4) -> None:
    add_synthetic_responses(survey, responses, seed=1)
    for _ in range(drafts):
        db.session.add(Draft(survey_id=survey.id, sealed=secrets.token_bytes(32)))
    db.session.commit()
    create_invite_codes(survey, invites)


@pytest.fixture
def surveys(make_open_survey):
    """Three filled surveys: expired, kept until today, and kept without a date."""
    made = {}
    for slug, until in (
        ("expired", date(2026, 11, 1)),
        ("today", date(2026, 11, 25)),
        ("forever", None),
    ):
        survey, _ = make_open_survey(small_survey_document(slug=slug))
        survey.retain_until = until
        db.session.commit()
        fill(survey)
        made[slug] = survey
    return made


def purge_entries():
    db.session.expire_all()
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "survey.purge").order_by(AuditEntry.id)
    ).all()


def test_purge_deletes_what_respondents_left_only_after_the_date(app, surveys):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["purge", "--today", "2026-11-25"])
    assert result.exit_code == 0, result.output
    assert 'Purged "expired": 3 responses, 2 drafts, 4 invite codes.' in result.output
    expired = surveys["expired"]
    assert [count(m, expired) for m in (Response, Draft, InviteCode)] == [0, 0, 0]
    for kept in (surveys["today"], surveys["forever"]):  # retained *until* today: still kept
        assert [count(m, kept) for m in (Response, Draft, InviteCode)] == [3, 2, 4]
    # The survey itself (definition, keys) stays.
    assert db.session.scalar(select(Survey).where(Survey.slug == "expired")) is not None

    (entry,) = purge_entries()
    assert entry.target == "expired" and entry.actor.startswith("cli")
    assert entry.details == '{"analysis":0,"drafts":2,"invites":4,"responses":3}'

    again = runner.invoke(args=["purge", "--today", "2026-11-25"])
    assert again.exit_code == 0 and again.output.strip() == "Nothing to purge."
    assert len(purge_entries()) == 1  # idempotent: nothing recorded the second time

    later = runner.invoke(args=["purge", "--today", "2026-11-26"])
    assert 'Purged "today"' in later.output and "expired" not in later.output
    assert verify_ok(runner)


def verify_ok(runner) -> bool:
    return runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_purge_defaults_to_today(app, surveys):
    surveys["expired"].retain_until = date(2000, 1, 1)  # before any clock this runs on
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0
    assert 'Purged "expired"' in result.output
    assert count(Response, surveys["forever"]) == 3


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "25/11/2026", "", "2026-11-25x"])
def test_a_bad_date_is_refused_clearly(app, surveys, value):
    result = app.test_cli_runner().invoke(args=["purge", "--today", value])
    assert result.exit_code == 2
    assert "is not a date: use YYYY-MM-DD" in result.output
    assert count(Response, surveys["expired"]) == 3 and purge_entries() == []


def test_purge_expired_returns_counts(app, surveys):
    purged = purge_expired(date(2027, 1, 1), "system:test")
    assert purged == [Purged("expired", 3, 2, 4), Purged("today", 3, 2, 4)]
    assert purge_expired(date(2027, 1, 1), "system:test") == []
    assert [e.actor for e in purge_entries()] == ["system:test", "system:test"]


def test_nothing_to_purge_on_an_empty_database(app):
    result = app.test_cli_runner().invoke(args=["purge", "--today", "2026-11-25"])
    assert result.exit_code == 0 and result.output.strip() == "Nothing to purge."


def waiting(survey) -> int:
    return count(InboxEntry, survey)


def send_one(app, slug: str) -> None:
    r = Respondent(app.test_client(), slug)
    r.start()
    r.answer("you", {"age_band": "under_18"})
    assert r.submit().status_code == 302


def test_purge_deletes_answers_still_in_the_inbox(app, surveys):
    send_one(app, "expired")
    assert waiting(surveys["expired"]) == 1
    result = app.test_cli_runner().invoke(args=["purge", "--today", "2026-11-25"])
    assert 'Purged "expired": 4 responses, 2 drafts, 4 invite codes.' in result.output
    assert waiting(surveys["expired"]) == 0 and count(Response, surveys["expired"]) == 0


def test_the_daily_purge_stores_last_weeks_inbox(app, surveys):
    """--today is the day the inbox's weeks are judged by too (issue 20): answers of
    the real current week wait on that day and before, and are stored once it is a
    later week."""
    send_one(app, "forever")
    today = datetime.now(UTC).date()
    for day in (today, today - timedelta(weeks=1)):
        result = app.test_cli_runner().invoke(args=["purge", "--today", day.isoformat()])
        assert result.exit_code == 0, result.output
        assert waiting(surveys["forever"]) == 1  # this week's answers wait for the week's end
    next_week = today + timedelta(weeks=1)
    result = app.test_cli_runner().invoke(args=["purge", "--today", next_week.isoformat()])
    assert result.exit_code == 0, result.output
    assert waiting(surveys["forever"]) == 0 and count(Response, surveys["forever"]) == 4


def test_the_daily_purge_deletes_drafts_nobody_can_come_back_to(app, surveys):
    """Saved answers go after CHORUS_DRAFT_WEEKS (8), and drafts without a resume code
    after a week, even when nobody starts a survey to trigger the clean-up."""
    kept_survey = surveys["forever"]
    day = date(2026, 12, 2)

    def draft(name: str, weeks_ago: int, coded: bool) -> Draft:
        return Draft(
            id=name * 32,
            survey_id=kept_survey.id,
            sealed=b"locked",
            saved_week=iso_week(day - timedelta(weeks=weeks_ago)),
            resume_lookup=name * 64 if coded else None,
        )

    db.session.add_all(
        [draft("a", 2, False), draft("b", 9, True), draft("c", 7, True), draft("d", 0, False)]
    )
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["purge", "--today", day.isoformat()])
    assert result.exit_code == 0, result.output
    assert "Deleted 2 saved drafts nobody can come back to." in result.output
    left = set(db.session.scalars(select(Draft.id).where(Draft.survey_id == kept_survey.id)))
    assert {"c" * 32, "d" * 32} <= left and not {"a" * 32, "b" * 32} & left
    again = app.test_cli_runner().invoke(args=["purge", "--today", day.isoformat()])
    assert "saved drafts" not in again.output
