"""Setting up the survey, and afterwards checking every stored response against
what the respondents were told.

Both run in this process, with an app made on the load test's database and secret
key (the same as the servers'), through Chorus's own functions:

- `prepare_survey`: migrate, make a key custodian, import and open the bundled
  "Product-risk consultation"; its recovery code stays in memory for the check.
- `check_stored`: for every flow that read a receipt code off the receipt page
  (acknowledged), the code must be found by the app's receipt lookup (the one
  withdrawal uses) in exactly one place: one stored response or one inbox entry.
  Every stored response (inbox included) must open with the survey's key and be
  complete (an entry for every question: a value or one of the three non-answer
  states), and carry the marker of exactly one flow of this run in its long
  texts. No marker may appear twice (a duplicate), every acknowledged flow's
  marker exactly once (nothing lost), and a response of a flow that was not
  acknowledged is allowed only if that flow sent a submit that a fault cut
  (stored or not, never twice). The survey's response count is the number of
  responses opened. Then the inbox is stored, as when the survey closes, and each
  acknowledged receipt must lead to the response holding its own flow's answers.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import flask_migrate
from flask import Flask
from sqlalchemy import func, select

from admin.accounts.sign_in import create_user
from bench.loadtest.client import MARKER_RE, Flow
from survey import create_app, crypto, inbox
from survey.definition import ANSWER_STATES, SurveyDefinition, load_definition_text
from survey.models import InboxEntry, Response, Role, db
from survey.responses import receipt_exists
from survey.sealed_answers import open_answers
from survey.surveys import (
    bundled_template_text,
    definition_of,
    find_survey,
    import_definition,
    lookup_secret,
    open_survey,
    prepare_keys,
    unwrap_with_recovery_code,
)

CUSTODIAN = "loadtest-custodian@example.org"


def checking_app(database_url: str, secret_key: str) -> Flask:
    """An app on the load test's database with the servers' secret key (for lookups
    and the inbox's key); it serves nothing."""
    return create_app(
        {
            "SECRET_KEY": secret_key,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_ENABLED": False,
            "CHORUS_REDIS_URL": None,
        }
    )


def prepare_survey(app: Flask, custodian_password: str) -> tuple[str, str]:
    """Migrate, and open the bundled survey; returns its slug and recovery code."""
    with app.app_context():
        logging.disable(logging.INFO)  # Alembic's line per revision
        try:
            flask_migrate.upgrade()
        finally:
            logging.disable(logging.NOTSET)
        custodian = create_user(CUSTODIAN, [Role.ANALYST], custodian_password, None)
        survey = import_definition(load_definition_text(bundled_template_text()))
        recovery_code = prepare_keys(survey, [custodian], sheet_check=False)
        open_survey(survey)
        return survey.slug, recovery_code


@dataclass
class Verdict:
    """What the check found: figures to print, and problems (none when all is well)."""

    acknowledged: int = 0
    stored: int = 0
    cut_submits: int = 0
    cut_stored: int = 0
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if len(self.problems) < 50:
            self.problems.append(text)
        elif len(self.problems) == 50:
            self.problems.append("... (more problems not listed)")


def complete_answers(definition: SurveyDefinition, answers: Any) -> str | None:
    """Why a response's answers are not a complete, well-formed set; None if they are."""
    if not isinstance(answers, dict):
        return "its answers are not a mapping"
    expected = {q.id for q in definition.answerable_questions()}
    if set(answers) != expected:
        missing, extra = sorted(expected - set(answers)), sorted(set(answers) - expected)
        return f"questions missing {missing[:5]} or unknown {extra[:5]}"
    for question_id, entry in answers.items():
        if not isinstance(entry, dict):
            return f"{question_id}: not an entry"
        if "state" in entry:
            if set(entry) != {"state"} or entry["state"] not in ANSWER_STATES:
                return f"{question_id}: a malformed state {entry!r}"
        elif "value" not in entry or entry["value"] in (None, "", []):
            return f"{question_id}: neither a value nor a state"
        elif not set(entry) <= {"value", "quote_consent"}:
            return f"{question_id}: unexpected keys {sorted(entry)}"
    return None


def strings_in(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for each in value.values():
            yield from strings_in(each)
    elif isinstance(value, list):
        for each in value:
            yield from strings_in(each)


def markers_in(answers: Any) -> Iterable[str]:
    """The flow markers (client.marker_of) in a response's texts."""
    for text in strings_in(answers):
        for match in MARKER_RE.finditer(text):
            yield match.group(0)


def places_holding(survey_id: int, receipt_code: str) -> int:
    """In how many places (stored responses, inbox entries) this receipt is."""
    lookup = crypto.code_lookup(lookup_secret(), "receipt", receipt_code)
    stored = db.session.scalar(
        select(func.count())
        .select_from(Response)
        .where(Response.survey_id == survey_id, Response.receipt_lookup == lookup)
    )
    waiting = db.session.scalar(
        select(func.count())
        .select_from(InboxEntry)
        .where(InboxEntry.survey_id == survey_id, InboxEntry.receipt_tag == inbox.tag(lookup))
    )
    return (stored or 0) + (waiting or 0)


def check_stored(
    app: Flask, slug: str, recovery_code: str, run_id: str, flows: list[Flow]
) -> Verdict:
    verdict = Verdict()
    with app.app_context():
        survey = find_survey(slug)
        if survey is None:
            verdict.problem(f"the survey {slug!r} is gone")
            return verdict
        definition = definition_of(survey)
        private_key = unwrap_with_recovery_code(survey, recovery_code)

        acknowledged = [f for f in flows if f.receipt is not None]
        verdict.acknowledged = len(acknowledged)
        for code, times in Counter(f.receipt for f in acknowledged).items():
            if times > 1:
                verdict.problem(f"receipt {code} was shown to {times} flows")
        for flow in acknowledged:
            assert flow.receipt is not None
            places = places_holding(survey.id, flow.receipt)
            if places != 1:
                verdict.problem(
                    f"flow {flow.flow_id}: its receipt is in {places} places, not exactly one"
                )
            elif not receipt_exists(survey, flow.receipt):
                verdict.problem(f"flow {flow.flow_id}: the withdrawal lookup misses its receipt")

        markers: Counter[str] = Counter()
        opened = 0
        for response in inbox.sealed_responses(survey):
            try:
                answers = open_answers(private_key, survey.id, response)
            except (crypto.CryptoError, ValueError) as error:
                verdict.problem(f"a stored response does not open ({type(error).__name__})")
                continue
            opened += 1
            why = complete_answers(definition, answers)
            if why:
                verdict.problem(f"a stored response is partial or malformed: {why}")
            found = set(markers_in(answers))
            ours = {m for m in found if m[2:10] == run_id}
            if len(found) != 1 or len(ours) != 1:
                verdict.problem(f"a stored response carries markers {sorted(found)}, not one")
            markers.update(ours)
        verdict.stored = opened
        counted = inbox.response_count(survey)
        if counted != opened:
            verdict.problem(f"the survey counts {counted} responses, {opened} were opened")

        # As when the survey closes: the inbox is stored, in one shuffled batch. Then
        # each acknowledged receipt must lead to its own flow's answers.
        inbox.flush_inbox(survey, everything=True)
        if inbox.response_count(survey) != counted:
            verdict.problem("storing the inbox changed the number of responses")
        for flow in acknowledged:
            assert flow.receipt is not None
            lookup = crypto.code_lookup(lookup_secret(), "receipt", flow.receipt)
            stored = db.session.scalar(
                select(Response).where(
                    Response.survey_id == survey.id, Response.receipt_lookup == lookup
                )
            )
            if stored is None:
                continue  # already reported: its receipt is nowhere
            answers = open_answers(private_key, survey.id, stored)
            if flow.marker not in set(markers_in(answers)):
                verdict.problem(f"flow {flow.flow_id}: its receipt leads to other answers")

    by_marker = {flow.marker: flow for flow in flows}
    for marker, times in markers.items():
        if times > 1:
            verdict.problem(f"{marker} is stored {times} times (a duplicate)")
        owner = by_marker.get(marker)
        if owner is None:
            verdict.problem(f"{marker} is stored but no flow of this run had it")
        elif owner.receipt is None:
            if owner.submit_sent:
                verdict.cut_stored += 1
            else:
                verdict.problem(f"flow {owner.flow_id} never submitted, yet is stored")
    for flow in acknowledged:
        if markers[flow.marker] == 0:
            verdict.problem(f"flow {flow.flow_id} was acknowledged but its answers are lost")
    verdict.cut_submits = sum(1 for f in flows if f.submit_sent and f.receipt is None)
    return verdict
