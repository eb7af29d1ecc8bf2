"""Withdrawal promises only what is true (issue 21, point 1): answers no published
version counts can be withdrawn until the next version; counted ones never, so
published counts only grow; and every page says which applies at the time."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from admin.analysis.frame import answers_frame
from admin.reports.draft import draft_for
from admin.reports.publish import AnswersChanged, publish
from survey.inbox import flush_inbox
from survey.models import Organisation, ReportVersion, Response, db
from survey.surveys import close_survey, find_survey, response_count, unwrap_with_recovery_code
from survey.synthetic import add_synthetic_responses
from tests.factories import Respondent, csrf, page_text, unlocked_analyst
from tests.survey.test_respondent_path import complete_small_survey

FIRST = "until the first report is published"
NEXT = "until the next version of the report is published"


@pytest.fixture
def publish_version(app):
    """Publish the next version through the staff page, as an analyst would (one
    analyst, signed in once for the test)."""
    analyst: list = []

    def publish_next() -> ReportVersion:
        if not analyst:
            db.session.add(Organisation(name="Example Messaging Ltd"))
            db.session.commit()
            analyst.append(unlocked_analyst(app))
        return publish_through(analyst[0])

    return publish_next


def publish_through(client) -> ReportVersion:
    org = db.session.scalar(select(Organisation))
    path = "/staff/surveys/small/report/publish"
    data = {
        "csrf_token": csrf(client, path),
        "organisation": org.id,
        "understood": "yes",
        "no_findings": "yes",
    }
    response = client.post(path, data=data)
    assert response.status_code == 200, page_text(response)
    return db.session.scalars(select(ReportVersion).order_by(ReportVersion.version.desc())).first()


def answer_and_keep_receipt(app) -> tuple[Respondent, str, str]:
    """A respondent sends the small survey; returns them, their receipt code and the
    receipt page's text."""
    r = Respondent(app.test_client(), "small")
    complete_small_survey(r)
    r.submit()
    receipt_page = page_text(r.get("/s/small/receipt"))
    return r, r.receipt_code(), receipt_page


def withdraw(app, code: str) -> tuple[int, str]:
    w = Respondent(app.test_client(), "small")
    found = w.post("/s/small/withdraw", {"code": code}, csrf=False)
    if "Withdraw these answers?" not in w.last_html:
        return found.status_code, w.last_html
    done = w.post("/s/small/withdraw", {"code": code, "step": "confirm"}, csrf=False)
    return done.status_code, w.last_html


@pytest.fixture
def survey_with_answers(app, make_open_survey):
    """The small survey, open, with 25 stored responses (enough to publish)."""
    survey, code = make_open_survey()
    add_synthetic_responses(survey, 25, seed=3)
    db.session.commit()
    return find_survey("small"), code


def test_before_any_version_every_page_promises_until_the_first_report(
    app, survey_with_answers, publish_version
):
    landing = page_text(app.test_client().get("/s/small"))
    assert FIRST in landing and NEXT not in landing
    r, code, receipt = answer_and_keep_receipt(app)
    assert FIRST in receipt and NEXT not in receipt
    assert "we can't show it again or recover it" not in receipt  # it stays a while: say so
    assert "more minutes" in receipt
    r.post("/s/small/receipt", {"saved": "1"})
    assert FIRST in page_text(r.get("/s/small/thanks"))
    page = page_text(app.test_client().get("/s/small/withdraw"))
    assert FIRST in page and NEXT not in page
    status, html = withdraw(app, code)
    assert status == 200 and "have been withdrawn" in html


def test_after_a_version_new_answers_can_be_withdrawn_until_the_next(
    app, survey_with_answers, publish_version
):
    publish_version()
    landing = page_text(app.test_client().get("/s/small"))
    assert NEXT in landing and FIRST not in landing
    r, code, receipt = answer_and_keep_receipt(app)
    assert NEXT in receipt and FIRST not in receipt
    r.post("/s/small/receipt", {"saved": "1"})
    assert NEXT in page_text(r.get("/s/small/thanks"))
    page = page_text(app.test_client().get("/s/small/withdraw"))
    assert NEXT in page and FIRST not in page
    # Waiting in the inbox: withdrawn.
    status, html = withdraw(app, code)
    assert status == 200 and "have been withdrawn" in html
    assert response_count(find_survey("small")) == 25
    # Stored by the weekly flush, but in no version yet: withdrawn too.
    _, stored_code, _ = answer_and_keep_receipt(app)
    flush_inbox(find_survey("small"), everything=True)
    status, html = withdraw(app, stored_code)
    assert status == 200 and "have been withdrawn" in html
    assert response_count(find_survey("small")) == 25


def test_a_counted_response_is_refused_without_a_promise(app, survey_with_answers, publish_version):
    _, code, _ = answer_and_keep_receipt(app)
    flush_inbox(find_survey("small"), everything=True)
    publish_version()
    assert db.session.scalar(select(Response.counted).where(Response.survey_id.isnot(None)))
    for step in ({"code": code}, {"code": code, "step": "confirm"}):
        page = Respondent(app.test_client(), "small")
        page.post("/s/small/withdraw", step, csrf=False)
        assert "These answers are in the report" in page.last_html
        assert "can no longer be withdrawn" in page.last_html
        assert FIRST not in page.last_html and NEXT not in page.last_html
    db.session.expire_all()
    assert response_count(find_survey("small")) == 26


def test_a_version_published_after_closing_ends_withdrawal(
    app, survey_with_answers, publish_version
):
    publish_version()
    _, code, _ = answer_and_keep_receipt(app)
    close_survey(find_survey("small"))
    # Closed, but answers sent after version 1 can still be withdrawn.
    closed = page_text(app.test_client().get("/s/small"))
    assert "Withdraw answers you already sent" in closed
    page = page_text(app.test_client().get("/s/small/withdraw"))
    assert NEXT in page
    status, html = withdraw(app, code)
    assert status == 200 and "have been withdrawn" in html
    publish_version()  # while closed: it counts every answer
    assert find_survey("small").withdrawal_ended
    closed = page_text(app.test_client().get("/s/small"))
    assert "Withdraw answers you already sent" not in closed
    page = page_text(app.test_client().get("/s/small/withdraw"))
    assert "can no longer be withdrawn" in page and NEXT not in page and FIRST not in page
    assert 'name="code"' not in page


def test_a_withdrawal_after_version_1_never_makes_the_next_version_smaller(
    app, survey_with_answers, publish_version
):
    first = json.loads(publish_version().snapshot_json)
    _, code, _ = answer_and_keep_receipt(app)
    flush_inbox(find_survey("small"), everything=True)
    assert withdraw(app, code)[0] == 200
    second = json.loads(publish_version().snapshot_json)
    assert second["respondents"] >= first["respondents"]

    def answered(document):
        return {q["id"]: q["answered"] for q in document.get("questions", []) if "answered" in q}

    before, after = answered(first), answered(second)
    assert before and all(after[q] >= n for q, n in before.items())


def test_publishing_refuses_a_frame_that_counts_a_withdrawn_response(app, survey_with_answers):
    survey, recovery = survey_with_answers
    _, code, _ = answer_and_keep_receipt(app)
    flush_inbox(find_survey("small"), everything=True)
    survey = find_survey("small")
    frame = answers_frame(survey, unwrap_with_recovery_code(survey, recovery), workers=1)
    assert len(frame) == 26
    assert withdraw(app, code)[0] == 200  # while the analyst looks at the tables
    db.session.add(org := Organisation(name="Example Messaging Ltd"))
    db.session.commit()
    with pytest.raises(AnswersChanged):
        publish(survey, frame, draft_for(survey), [org], "analyst@example.org")
    assert db.session.scalar(select(ReportVersion)) is None
    assert not any(db.session.scalars(select(Response.counted)))
