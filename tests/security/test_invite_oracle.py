"""Whoever holds the list of invite codes must not learn who has responded.

A code that was issued for the survey starts a draft the same way whether it
is unused, spent by answers waiting in the inbox, or used: same status, same
redirect, same page, the same statements sent to the database. Only at submit
does a used invite say so, calmly, and store nothing.
"""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import event, func, select, text

from survey.models import Draft, db
from survey.surveys import close_survey, create_invite_codes, find_survey, response_count
from tests.factories import Respondent, page_text, small_survey_document


@pytest.fixture
def invited(make_open_survey):
    survey, _ = make_open_survey(small_survey_document(slug="oracle", invite_only=True))
    return survey, create_invite_codes(survey, 6)


def answered(app, code: str) -> Respondent:
    r = Respondent(app.test_client(), "oracle")
    assert r.start(invite_code=code).status_code == 302
    r.answer("you", {"age_band": "under_18"})
    return r


def probe(app, code: str) -> tuple[int, str, str, list[str]]:
    """POST a code to /start from a fresh browser: what an outsider can observe."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    client = app.test_client()
    client.get("/s/oracle")
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.post("/s/oracle/start", data={"invite_code": code, "lang": "en"})
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    body = re.sub(r'name="csrf_token" value="[^"]+"', "", page_text(response))
    return response.status_code, response.headers.get("Location", ""), body, statements


def test_used_spent_and_unused_codes_look_the_same_at_start(app, invited):
    _, codes = invited
    answered(app, codes[0]).submit()  # spent: its answers wait in the inbox
    answered(app, codes[1]).submit()
    close_survey(find_survey("oracle"))  # flushes: codes[1] (and [0]) now marked used
    survey = find_survey("oracle")
    survey.status = "open"  # reopened for the probe
    db.session.commit()
    answered(app, codes[2]).submit()  # spent again, in the inbox
    used, spent, unused = probe(app, codes[1]), probe(app, codes[2]), probe(app, codes[3])
    assert used[0] == spent[0] == unused[0] == 302
    assert used[1] == spent[1] == unused[1]
    assert used[2] == spent[2] == unused[2]
    assert used[3] == spent[3] == unused[3]
    unknown = probe(app, "ABCD-EFGH-JKMN-PQRS")
    assert unknown[0] == 422 and "couldn't find that invite code" in unknown[2]


def test_submitting_with_a_used_invite_stores_nothing_and_says_so_calmly(app, invited):
    _, codes = invited
    first, second = answered(app, codes[0]), answered(app, codes[0])
    assert first.submit().status_code == 302
    refused = second.submit()
    assert refused.status_code == 409
    assert "already been used to send answers" in second.last_html
    assert "have not been sent" in second.last_html
    assert "Helpline" in second.last_html  # who to talk to
    assert response_count(find_survey("oracle")) == 1
    assert db.session.scalar(select(func.count()).select_from(Draft)) == 0


def test_the_used_invite_page_speaks_the_respondents_language(app, invited):
    _, codes = invited
    answered(app, codes[0]).submit()
    r = Respondent(app.test_client(), "oracle")
    r.start(invite_code=codes[0], lang="es")
    r.answer("you", {"age_band": "under_18"})
    assert r.submit().status_code == 409
    assert '<html lang="es" dir="ltr">' in r.last_html and "no se han enviado" in r.last_html


def test_a_resumed_draft_with_a_used_invite_is_refused_at_submit(app, invited):
    _, codes = invited
    r = answered(app, codes[0])
    r.answer("you", {"age_band": "under_18"}, action="save")
    r.get("/s/oracle/code")
    resume = r.shown_code()
    answered(app, codes[0]).submit()
    later = Respondent(app.test_client(), "oracle")
    later.get("/s/oracle/resume")
    assert later.post("/s/oracle/resume", {"code": resume}).status_code == 302
    assert later.submit().status_code == 409
    assert response_count(find_survey("oracle")) == 1


def test_two_people_racing_with_one_invite_store_one_response(app, invited):
    _, codes = invited
    people = [answered(app, codes[0]), answered(app, codes[0])]
    for person in people:
        person.get("/s/oracle/review")
    tokens = [person.csrf() for person in people]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def send(person: Respondent, token: str) -> None:
        with app.app_context():
            barrier.wait()
            statuses.append(
                person.client.post("/s/oracle/submit", data={"csrf_token": token}).status_code
            )

    threads = [
        threading.Thread(target=send, args=pair) for pair in zip(people, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302, 409]
    assert response_count(find_survey("oracle")) == 1
    assert db.session.execute(text("SELECT count(*) FROM response_inbox")).scalar() == 1
