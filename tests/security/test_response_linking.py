"""Someone with the database (SQL, a pg_dump or the disk) tries to link each
response to the invite that let it in, to order the responses, and to date
them between two staff actions.

Submitted answers wait in an encrypted inbox until the week is over; then one
transaction writes the week's responses in a random order and marks their
invites used. The xmin/ctid parts need PostgreSQL; the rest runs everywhere.
"""

from __future__ import annotations

import itertools
import os

import pytest
from sqlalchemy import insert, text

from admin.analysis.frame import answers_frame
from survey import crypto
from survey.events import announce
from survey.models import InboxEntry, db
from survey.sealed_answers import export_rows
from survey.stored import stored_count
from survey.surveys import (
    close_survey,
    create_invite_codes,
    find_survey,
    response_count,
    unwrap_with_recovery_code,
)
from tests.conftest import is_postgres
from tests.factories import Respondent, small_survey_document

RESPONDENTS = 12
LATER_WEEK = "2999-W01"


def postgres_only(app) -> None:
    if not is_postgres(app.config["SQLALCHEMY_DATABASE_URI"]):
        pytest.skip("xmin and ctid exist only on PostgreSQL (set TEST_DATABASE_URL)")


def lookup(purpose: str, code: str) -> str:
    from survey.surveys import lookup_secret

    return crypto.code_lookup(lookup_secret(), purpose, code)


def staff_action(step: int) -> None:
    announce("test.between", "staff@example.org", "linked", step=step)
    db.session.commit()


def respond(app, slug: str, invite_code: str) -> str:
    """One person answers and submits with their invite; returns their receipt code."""
    r = Respondent(app.test_client(), slug)
    assert r.start(invite_code=invite_code).status_code == 302
    r.answer("you", {"age_band": "under_18"})
    assert r.submit().status_code == 302
    return r.receipt_code()


def rows(sql: str, **params):
    return db.session.execute(text(sql), params).all()


def next_week(monkeypatch) -> None:
    """Make it a later ISO week, as the weekly flush will see it."""
    import survey.inbox

    monkeypatch.setattr(survey.inbox, "iso_week", lambda day=None: LATER_WEEK)


def run_daily_job(app) -> None:
    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0, result.output


@pytest.fixture
def invited(make_open_survey):
    survey, recovery = make_open_survey(small_survey_document(slug="linked", invite_only=True))
    return survey, recovery, create_invite_codes(survey, RESPONDENTS)


def test_submissions_wait_in_an_inbox_that_links_to_nothing(app, invited, monkeypatch):
    _survey, recovery, codes = invited
    receipts = []
    for step, code in enumerate(codes):
        staff_action(step)
        receipts.append(respond(app, "linked", code))
    staff_action(RESPONDENTS)

    # Before the flush: nothing is spent, no response row exists...
    assert rows("SELECT count(*) FROM invite_codes WHERE used")[0][0] == 0
    assert rows("SELECT count(*) FROM responses")[0][0] == 0
    inbox = rows("SELECT * FROM response_inbox")
    assert len(inbox) == RESPONDENTS
    # ...and no inbox column holds an invite lookup or a receipt lookup in the clear.
    cells = [
        bytes(c) if isinstance(c, bytes | memoryview) else str(c).encode() for r in inbox for c in r
    ]
    secrets_in_clear = [lookup("invite", c).encode() for c in codes] + [
        lookup("receipt", c).encode() for c in receipts
    ]
    assert not [s for s in secrets_in_clear if any(s in cell for cell in cells)]
    # They count as sent (a second submit with the same invite is refused)...
    assert response_count(find_survey("linked")) == RESPONDENTS
    # ...but staff count and read only what the last flush stored (survey/stored.py).
    assert stored_count(find_survey("linked")) == 0
    key = unwrap_with_recovery_code(find_survey("linked"), recovery)
    assert len(export_rows(find_survey("linked"), key)) == 0
    assert len(answers_frame(find_survey("linked"), key, workers=1)) == 0

    next_week(monkeypatch)
    run_daily_job(app)

    assert rows("SELECT count(*) FROM response_inbox")[0][0] == 0
    assert rows("SELECT count(*) FROM invite_codes WHERE used")[0][0] == RESPONDENTS
    stored = rows("SELECT id, week, sealed, receipt_lookup FROM responses")
    assert sorted(r[3] for r in stored) == sorted(lookup("receipt", c) for c in receipts)
    assert {r[1] for r in stored} != {LATER_WEEK}  # the week they were sent, not the flush's
    # The inbox row never showed the response's id or sealed bytes.
    for response_id, _, sealed, _ in stored:
        assert not any(bytes(sealed) in cell or response_id.encode() in cell for cell in cells)
    assert response_count(find_survey("linked")) == RESPONDENTS
    assert stored_count(find_survey("linked")) == RESPONDENTS
    assert len(export_rows(find_survey("linked"), key)) == RESPONDENTS
    assert len(answers_frame(find_survey("linked"), key, workers=1)) == RESPONDENTS


def test_postgres_cannot_link_order_or_date_responses(app, invited, monkeypatch):
    postgres_only(app)
    _survey, _, codes = invited
    receipts = []
    for step, code in enumerate(codes):
        staff_action(step)
        receipts.append(respond(app, "linked", code))
    staff_action(RESPONDENTS)
    audit_xmins = [
        int(x)
        for (x,) in rows(
            "SELECT xmin::text FROM audit_log WHERE action = 'test.between' ORDER BY id"
        )
    ]
    next_week(monkeypatch)
    run_daily_job(app)

    response_xmins = {x for (x,) in rows("SELECT DISTINCT xmin::text FROM responses")}
    invite_xmins = {x for (x,) in rows("SELECT DISTINCT xmin::text FROM invite_codes WHERE used")}
    # One transaction wrote every response and spent every invite: no pairing.
    assert len(response_xmins) == 1 and response_xmins == invite_xmins
    # The physical order is not the order people submitted in.
    by_ctid = [r for (r,) in rows("SELECT receipt_lookup FROM responses ORDER BY ctid")]
    assert by_ctid != [lookup("receipt", c) for c in receipts]
    # No response is dated between two of the staff actions around the submissions.
    [xmin] = [int(x) for x in response_xmins]
    assert not any(a < xmin < b for a, b in itertools.pairwise(audit_xmins))


def test_a_submit_in_a_new_week_stores_last_weeks_inbox_in_one_transaction(
    app, invited, monkeypatch
):
    """The first submit of a week stores last week's answers first. Its own request
    runs statement by statement (survey/models.py autocommit_statements); the flush
    must still be one transaction, or each response would carry its own xmin."""
    _survey, _, codes = invited
    for code in codes[:-1]:
        respond(app, "linked", code)
    next_week(monkeypatch)
    respond(app, "linked", codes[-1])
    assert rows("SELECT count(*) FROM responses")[0][0] == RESPONDENTS - 1
    assert rows("SELECT count(*) FROM response_inbox")[0][0] == 1
    assert rows("SELECT count(*) FROM invite_codes WHERE used")[0][0] == RESPONDENTS - 1
    if is_postgres(app.config["SQLALCHEMY_DATABASE_URI"]):
        response_xmins = {x for (x,) in rows("SELECT DISTINCT xmin::text FROM responses")}
        used = "SELECT DISTINCT xmin::text FROM invite_codes WHERE used"
        assert len(response_xmins) == 1 and response_xmins == {x for (x,) in rows(used)}


def test_closing_flushes_everything_at_once(app, invited):
    _survey, _, codes = invited
    for code in codes[:3]:
        respond(app, "linked", code)
    assert rows("SELECT count(*) FROM responses")[0][0] == 0
    close_survey(find_survey("linked"))
    assert rows("SELECT count(*) FROM response_inbox")[0][0] == 0
    assert rows("SELECT count(*) FROM responses")[0][0] == 3
    assert rows("SELECT count(*) FROM invite_codes WHERE used")[0][0] == 3
    if is_postgres(app.config["SQLALCHEMY_DATABASE_URI"]):
        assert len(rows("SELECT DISTINCT xmin FROM responses")) == 1


def test_withdrawal_works_in_the_inbox_and_after_the_flush(app, invited, monkeypatch):
    _survey, _, codes = invited
    early, late = respond(app, "linked", codes[0]), respond(app, "linked", codes[1])
    client = app.test_client()
    withdrawn = client.post("/s/linked/withdraw", data={"code": early, "step": "confirm"})
    assert withdrawn.status_code == 200 and "withdrawn" in withdrawn.get_data(as_text=True)
    assert response_count(find_survey("linked")) == 1
    next_week(monkeypatch)
    run_daily_job(app)
    assert rows("SELECT count(*) FROM responses")[0][0] == 1
    # The withdrawn response's invite stays spent, as it always did.
    assert rows("SELECT count(*) FROM invite_codes WHERE used")[0][0] == 2
    found = client.post("/s/linked/withdraw", data={"code": late})
    assert found.status_code == 200
    client.post("/s/linked/withdraw", data={"code": late, "step": "confirm"})
    assert response_count(find_survey("linked")) == 0
    again = client.post("/s/linked/withdraw", data={"code": early})
    assert again.status_code == 422


def test_cli_count_and_export_wait_for_the_flush(app, invited, tmp_path):
    """The command line counts and exports what staff pages do: the stored responses."""
    _survey, recovery, codes = invited
    for code in codes[:2]:
        respond(app, "linked", code)
    runner = app.test_cli_runner()
    out = tmp_path / "answers.csv"

    def count_and_export() -> tuple[str, int]:
        counted = runner.invoke(args=["responses", "count", "linked"])
        assert counted.exit_code == 0, counted.output
        assert "updated once a week" in counted.stderr
        exported = runner.invoke(
            args=["responses", "export", "linked", "--out", str(out)], input=recovery + "\n"
        )
        assert exported.exit_code == 0, exported.output
        return counted.stdout.strip(), len(out.read_text().splitlines()) - 1

    assert count_and_export() == ("0", 0)
    close_survey(find_survey("linked"))  # stores the inbox, as the weekly flush does
    assert count_and_export() == ("2", 2)


def test_an_inbox_entry_is_as_big_as_any_other(app, invited):
    """Its size must not tell which stored response (sealed in a size bucket) it became."""
    from survey import inbox

    survey, _, _ = invited
    for n, size in enumerate((1024, 2048, 8192)):
        waiting = inbox.SealedResponse(f"{n:032x}", "2026-W01", 1, os.urandom(size))
        entry = inbox.entry_values(
            survey, waiting, lookup("receipt", f"receipt {n}"), None, sealed_at_most=8192
        )
        db.session.execute(insert(InboxEntry), entry)
    db.session.commit()
    box_sizes = {len(bytes(b)) for (b,) in rows("SELECT box FROM response_inbox")}
    assert len(box_sizes) == 1
