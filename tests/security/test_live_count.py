"""Watching a single person respond through the staff pages' counts.

A facilitator sits beside someone who answers with their invite, with the
survey's overview open in another tab: if the count of responses goes from 8 to
9 as they press "Send", the facilitator knows they answered, and a custodian
who reads the analysis or the CSV before and after knows which answers were
theirs. Answers wait in the inbox until the weekly flush; every staff page, the
command line and the audit log count and read only what the last flush stored,
and say when the next one is.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select, text

from survey.models import AuditEntry, Role, db
from survey.stored import counts_note, next_update_monday
from survey.surveys import close_survey, create_invite_codes, find_survey
from tests.factories import (
    CUSTODIAN_PASSWORD,
    Respondent,
    analyst_client,
    make_user,
    page_text,
    sign_in,
    small_survey_document,
    unlock,
)

SLUG = "watched"
FIRST_WEEK_PEOPLE = 8
NOTE = "Counts of responses are updated once a week, not as people answer"

FACILITATOR_PAGES = [
    "/staff/surveys",
    f"/staff/surveys/{SLUG}",
    f"/staff/surveys/{SLUG}/invites",
    f"/staff/surveys/{SLUG}/close",
    f"/staff/surveys/{SLUG}/keys",
]
ANALYST_PAGES = [
    "/staff/surveys",
    f"/staff/surveys/{SLUG}",
    f"/staff/surveys/{SLUG}/keys",
    f"/staff/surveys/{SLUG}/analysis",
    f"/staff/surveys/{SLUG}/responses.csv",
    f"/staff/surveys/{SLUG}/report",
]
# What differs between two loads of the same page: form tokens and script nonces.
VARYING = re.compile(r'(name="csrf_token" value="|nonce=")[^"]*"')


def respond(app, invite_code: str) -> None:
    """One person answers with their invite and sends it."""
    person = Respondent(app.test_client(), SLUG)
    assert person.start(invite_code=invite_code).status_code == 302
    person.answer("you", {"age_band": "under_18"})
    assert person.submit().status_code == 302


def later_week(monkeypatch, week: str) -> None:
    """Make it a later ISO week, as the weekly flush will see it."""
    import survey.inbox

    monkeypatch.setattr(survey.inbox, "iso_week", lambda day=None: week)


def run_daily_job(app) -> None:
    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0, result.output


def snapshot(app, facilitator, analyst) -> dict[str, str]:
    """Every staff page and command that shows a count of this survey's responses."""
    seen = {}
    for who, client, paths in (
        ("facilitator", facilitator, FACILITATOR_PAGES),
        ("analyst", analyst, ANALYST_PAGES),
    ):
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (who, path, response.status_code)
            seen[f"{who} {path}"] = VARYING.sub("", page_text(response))
    runner = app.test_cli_runner()
    for command in (["survey", "list"], ["responses", "count", SLUG]):
        result = runner.invoke(args=command)
        assert result.exit_code == 0, result.output
        seen[" ".join(command)] = result.stdout
        seen[" ".join(command) + " (its note)"] = result.stderr
    db.session.expire_all()
    seen["audit: export rows"] = str(
        [
            entry.details
            for entry in db.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "responses.export")
            )
        ][-1:]
    )
    return seen


def responses_shown(page: str) -> str:
    found = re.search(r"Responses</dt><dd class=\"summary__value\">(\d+)<", page)
    assert found, "the overview shows no count of responses"
    return found[1]


@pytest.fixture
def watched(app, make_open_survey, monkeypatch):
    """A week of 8 invited people, stored by the daily job in a later week; a
    facilitator and an unlocked custodian with their pages open."""
    survey, _ = make_open_survey(small_survey_document(slug=SLUG, invite_only=True))
    codes = create_invite_codes(survey, FIRST_WEEK_PEOPLE + 2)
    for code in codes[:FIRST_WEEK_PEOPLE]:
        respond(app, code)
    later_week(monkeypatch, "2999-W01")
    run_daily_job(app)
    make_user("fac@example.org", roles=(Role.FACILITATOR,))
    facilitator = app.test_client()
    sign_in(facilitator, "fac@example.org")
    analyst = analyst_client(app)
    assert unlock(analyst, SLUG, CUSTODIAN_PASSWORD).status_code == 302
    return facilitator, analyst, codes[FIRST_WEEK_PEOPLE:]


def test_one_person_answering_mid_week_moves_no_staff_count(app, watched, monkeypatch):
    facilitator, analyst, (ninth, _) = watched
    before = snapshot(app, facilitator, analyst)
    assert responses_shown(before[f"facilitator /staff/surveys/{SLUG}"]) == "8"
    for name in (f"facilitator /staff/surveys/{SLUG}", f"analyst /staff/surveys/{SLUG}/analysis"):
        assert NOTE in before[name], name

    respond(app, ninth)  # mid-week: it waits in the inbox
    assert db.session.execute(text("SELECT count(*) FROM response_inbox")).scalar() == 1
    after = snapshot(app, facilitator, analyst)
    changed = [name for name in before if before[name] != after[name]]
    assert changed == [], changed

    # The next flush stores it, and then every count moves at once.
    later_week(monkeypatch, "2999-W02")
    run_daily_job(app)
    flushed = snapshot(app, facilitator, analyst)
    assert responses_shown(flushed[f"facilitator /staff/surveys/{SLUG}"]) == "9"
    assert flushed["responses count watched"].strip() == "9"
    assert NOTE in flushed["responses count watched (its note)"]
    assert "9 used" in flushed[f"facilitator /staff/surveys/{SLUG}"]
    assert "<strong>9</strong> responses" in flushed[f"analyst /staff/surveys/{SLUG}/analysis"]
    csv = flushed[f"analyst /staff/surveys/{SLUG}/responses.csv"]
    assert len(csv.strip().splitlines()) == 1 + 9


def test_closing_counts_everything_sent(app, watched):
    facilitator, _, (ninth, _) = watched
    respond(app, ninth)
    close_survey(find_survey(SLUG))
    assert responses_shown(page_text(facilitator.get(f"/staff/surveys/{SLUG}"))) == "9"
    assert "every response sent before it closed is counted" in counts_note(find_survey(SLUG))


@pytest.mark.parametrize(
    ("today", "monday"),
    [
        (date(2026, 12, 7), date(2026, 12, 14)),  # a Monday: next week's
        (date(2026, 12, 9), date(2026, 12, 14)),
        (date(2026, 12, 13), date(2026, 12, 14)),  # a Sunday
        (date(2026, 12, 31), date(2027, 1, 4)),
    ],
)
def test_the_next_update_is_next_weeks_monday(today, monday):
    assert next_update_monday(today) == monday


def test_the_note_names_the_week_in_plain_words(app, make_open_survey):
    survey, _ = make_open_survey()
    note = counts_note(survey, today=date(2026, 12, 9))
    assert "the next update is in the week of Monday 14 December 2026" in note
    assert "or when the survey is closed" in note
