"""The load test's check (bench/loadtest/check.py) on responses sent through the real
pages: it passes when every acknowledged receipt is stored exactly once, and names
what is wrong when an answer is lost, stored twice or partial, or stored for a flow
that never submitted. (The whole load test, servers and all, runs in CI as
`make loadtest DURATION=40 FAULTS=1`; here only its verdict is checked.)"""

from __future__ import annotations

from bench.loadtest.check import check_stored
from bench.loadtest.client import Flow, marker_of
from survey import inbox
from survey.models import db
from survey.responses import DraftState, final_answers, store_response, withdraw
from survey.surveys import definition_of, find_survey
from tests.factories import Respondent

RUN = "0123abcd"


def respond(app, flow_id: int) -> Flow:
    """A respondent of the small survey through the pages, the flow's marker in the story."""
    flow = Flow(flow_id, marker_of(RUN, flow_id))
    person = Respondent(app.test_client(), "small")
    person.start()
    person.answer("you", {"apps": "2"})
    person.pass_warning("e2ee")
    person.answer("e2ee", {"story": f"{flow.marker} nobody answered", "story-quote": "no"})
    flow.submit_sent = True
    assert person.submit().status_code == 302
    flow.receipt = person.receipt_code()
    flow.finished = True
    return flow


def store_directly(marker: str, complete: bool = True) -> None:
    """A response the pages didn't send: its answers carry `marker`."""
    survey = find_survey("small")
    state = DraftState(answers={"story": {"value": f"{marker} text", "quote_consent": False}})
    answers = final_answers(definition_of(survey), state)
    if not complete:
        answers.pop("apps")
    store_response(survey, answers)
    db.session.commit()


def test_every_acknowledged_receipt_stored_once_passes(app, make_open_survey):
    _, code = make_open_survey()
    flows = [respond(app, n) for n in (1, 2, 3)]
    verdict = check_stored(app, "small", code, RUN, flows)
    assert verdict.problems == []
    assert (verdict.acknowledged, verdict.stored, verdict.cut_submits) == (3, 3, 0)
    # Each receipt must lead to its own flow's answers, not merely to some response.
    flows[0].receipt, flows[1].receipt = flows[1].receipt, flows[0].receipt
    verdict = check_stored(app, "small", code, RUN, flows)
    assert verdict.problems == [
        "flow 1: its receipt leads to other answers",
        "flow 2: its receipt leads to other answers",
    ]


def test_a_lost_a_duplicated_and_a_partial_response_are_each_named(app, make_open_survey):
    _, code = make_open_survey()
    kept, lost, doubled = (respond(app, n) for n in (1, 2, 3))
    withdraw(find_survey("small"), lost.receipt)  # as if it had never been stored
    store_directly(doubled.marker)  # stored a second time
    store_directly(marker_of(RUN, 9), complete=False)  # a flow that never submitted
    verdict = check_stored(app, "small", code, RUN, [kept, lost, doubled, Flow(9, "")])
    problems = "\n".join(verdict.problems)
    assert "flow 2: its receipt is in 0 places" in problems
    assert "flow 2 was acknowledged but its answers are lost" in problems
    assert f"{doubled.marker} is stored 2 times (a duplicate)" in problems
    assert "a stored response is partial or malformed: questions missing ['apps']" in problems
    assert f"{marker_of(RUN, 9)} is stored but no flow of this run had it" in problems
    assert "flow 1" not in problems


def test_a_submit_cut_by_a_fault_may_be_stored_once(app, make_open_survey):
    _, code = make_open_survey()
    flows = [respond(app, 1)]
    cut = Flow(2, marker_of(RUN, 2), submit_sent=True)  # its receipt page never came
    never_sent = Flow(3, marker_of(RUN, 3))
    store_directly(cut.marker)
    verdict = check_stored(app, "small", code, RUN, [*flows, cut, never_sent])
    assert verdict.problems == []
    assert (verdict.cut_submits, verdict.cut_stored, verdict.stored) == (1, 1, 2)
    store_directly(never_sent.marker)
    verdict = check_stored(app, "small", code, RUN, [*flows, cut, never_sent])
    assert verdict.problems == ["flow 3 never submitted, yet is stored"]
    assert inbox.response_count(find_survey("small")) == verdict.stored == 3
