"""Quotes: survivors' own words, published only with their consent and an analyst's
approval of the exact text.

- Only a long-text answer whose respondent agreed to be quoted (`quote_consent`)
  is ever a candidate; any other answer never leaves the analyst's screen.
- A candidate is masked (admin/reports/masking.py: names, emails, phones, handles,
  URLs, places, identifying dates and ages) before an analyst sees it, with the
  rules of every language the survey speaks (an answer may be in any of them).
- A survey in a language Chorus has no masker for offers no candidate at all, and
  no decision can be taken on one (`masker_problem` says why): its answers would
  go out with their names, places and ages unmasked.
- The analyst approves the exact text that will be published (edited as needed)
  or rejects it. Decisions and approved texts are sealed to the survey's key
  (admin/reports/sealed_state.py) like the answers.
- Reports print a quote only under a theme its answer carries, when the theme's
  published count is at least k, and never when the author's group in the theme's
  breakdown is hidden (see admin/reports/build.py).

For the command line, candidates go out as CSV with an opaque id per answer (a
keyed hash that only holders of the survey's key can recompute), so the file
links no quote to a stored response.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections.abc import Sequence
from dataclasses import dataclass

from admin.reports import masking, themes
from admin.reports.coding import Coding, FreeText
from admin.reports.sealed_state import change_state, load_state
from survey.definition import SurveyDefinition, localize
from survey.models import Survey
from survey.spreadsheet import rows_csv
from survey.surveys import definition_of

QUOTES = "quotes"
QUOTES_FORMAT = "chorus-quotes/1"
APPROVED = "approved"
REJECTED = "rejected"
MAX_QUOTE = 1500
CSV_COLUMNS = ("id", "question", "themes", "text", "approved")


class QuoteError(ValueError):
    """A quote decision that can't be taken; says why, for a person."""


@dataclass(frozen=True)
class Decision:
    status: str  # APPROVED or REJECTED
    text: str = ""  # the exact published text, when approved


@dataclass(frozen=True)
class Candidate:
    """A consented answer as the analyst sees it: masked, with its themes and the
    decision taken on it so far (None: undecided)."""

    key: str
    question_id: str
    masked: str
    themes: frozenset[str]
    decision: Decision | None


def load_decisions(survey: Survey, private_key: bytes) -> dict[str, Decision]:
    document, _ = load_state(survey, private_key, QUOTES, QUOTES_FORMAT)
    return {k: Decision(**v) for k, v in document.get("decisions", {}).items()}


def _consented(texts: Sequence[FreeText]) -> dict[str, FreeText]:
    return {t.key: t for t in texts if t.quote_consent and t.part == "text"}


def quotable(
    texts: Sequence[FreeText], coding: Coding, theme_id: str | None = None
) -> list[FreeText]:
    """The consented answers (of one theme, or all), in answer order, unmasked:
    a page picks its slice of them and masks only that with `candidates`."""
    return [
        t
        for t in _consented(texts).values()
        if theme_id is None or theme_id in coding.themes_of(t.key)
    ]


def decision_counts(texts: Sequence[FreeText], decisions: dict[str, Decision]) -> dict[str, int]:
    """How many consented answers are approved, rejected and not decided yet."""
    allowed = _consented(texts)
    statuses = [decisions[k].status for k in allowed if k in decisions]
    return {
        APPROVED: statuses.count(APPROVED),
        REJECTED: statuses.count(REJECTED),
        "undecided": len(allowed) - len(statuses),
    }


def candidates(
    texts: Sequence[FreeText],
    coding: Coding,
    decisions: dict[str, Decision],
    languages: Sequence[str],
    theme_id: str | None = None,
) -> list[Candidate]:
    """Every consented answer (of one theme, or all), masked with the rules of each
    of `languages` (the survey's), in answer order. Raises masking.NoMasker when one
    of them has no masker: nothing is masked with another language's rules."""
    languages = masking.masker_languages(languages)
    found = []
    for text in _consented(texts).values():
        carried = coding.themes_of(text.key)
        if theme_id is not None and theme_id not in carried:
            continue
        masked = masking.mask_quote(text.text, languages).text
        found.append(
            Candidate(text.key, text.question_id, masked, carried, decisions.get(text.key))
        )
    return found


def masker_problem(definition: SurveyDefinition) -> str | None:
    """Why the survey's answers can't be offered as quotes (a language Chorus can't
    mask), or None when every language it speaks has a masker."""
    missing = masking.missing_maskers(definition.languages)
    return str(masking.NoMasker(missing)) if missing else None


def _check_text(text: str) -> str:
    text = text.strip().replace("\r\n", "\n").replace("\r", "\n")
    if not text:
        raise QuoteError("Write the text to publish, or reject the quote.")
    if len(text) > MAX_QUOTE:
        raise QuoteError(f"Keep a quote under {MAX_QUOTE} characters.")
    return text


def decide(
    survey: Survey,
    private_key: bytes,
    texts: Sequence[FreeText],
    decided: dict[str, Decision | None],
) -> None:
    """Record decisions (answer key -> Decision, or None to undo one) and commit.
    Refuses any answer that isn't a consented candidate, and every decision on a
    survey whose answers can't be masked."""
    problem = masker_problem(definition_of(survey))
    if problem:
        raise QuoteError(problem)
    allowed = _consented(texts)
    checked: dict[str, Decision | None] = {}
    for key, decision in decided.items():
        if key not in allowed:
            raise QuoteError("Only answers whose author agreed to be quoted can be quoted.")
        if decision is not None and decision.status == APPROVED:
            decision = Decision(APPROVED, _check_text(decision.text))
        elif decision is not None:
            decision = Decision(REJECTED)
        checked[key] = decision

    def apply(document: dict) -> dict:
        current = dict(document.get("decisions", {}))
        for key, decision in checked.items():
            if decision is None:
                current.pop(key, None)
            else:
                current[key] = {"status": decision.status, "text": decision.text}
        return {"decisions": current}

    change_state(survey, private_key, QUOTES, QUOTES_FORMAT, apply)


def approved_quotes(texts: Sequence[FreeText], decisions: dict[str, Decision]) -> dict[str, str]:
    """Answer key -> the approved text, for consented answers still present (a
    withdrawn answer's approval is left behind)."""
    allowed = _consented(texts)
    return {
        key: d.text
        for key, d in decisions.items()
        if d.status == APPROVED and key in allowed and d.text
    }


# --- CSV, for the command line ------------------------------------------------------------------


def quote_id(private_key: bytes, key: str) -> str:
    """An id for a candidate that says nothing about which response it is."""
    subkey = hashlib.sha256(b"chorus-quote-id\x00" + private_key).digest()
    return "q" + hmac.new(subkey, key.encode(), hashlib.sha256).hexdigest()[:16]


def candidates_csv(
    private_key: bytes,
    found: Sequence[Candidate],
    definition: SurveyDefinition,
) -> str:
    """Masked candidates with an empty `approved` column to fill in with yes or no
    (the text may be edited before approving)."""
    language = definition.default_language
    questions = {q.id: q for q in definition.answerable_questions()}
    rows = []
    for candidate in found:
        question = questions.get(candidate.question_id)
        text = candidate.decision.text if candidate.decision and candidate.decision.text else ""
        rows.append(
            [
                quote_id(private_key, candidate.key),
                localize(question.text, language, language) if question else candidate.question_id,
                "; ".join(sorted(candidate.themes)),
                text or candidate.masked,
                {APPROVED: "yes", REJECTED: "no"}.get(
                    candidate.decision.status if candidate.decision else "", ""
                ),
            ]
        )
    return rows_csv(CSV_COLUMNS, rows)


@dataclass(frozen=True)
class CsvDecisions:
    approved: int
    rejected: int
    left: int


def decisions_from_csv(
    survey: Survey, private_key: bytes, texts: Sequence[FreeText], csv_text: str
) -> CsvDecisions:
    """Take the decisions of a filled-in candidates file: `approved` yes (with the
    row's text, as edited) or no; rows left empty stay undecided. Every problem of
    the file is reported at once, and then nothing is recorded."""
    problem = masker_problem(definition_of(survey))
    if problem:
        raise QuoteError(problem)
    by_id = {quote_id(private_key, key): key for key in _consented(texts)}
    reader = csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff")))
    missing = [c for c in ("id", "text", "approved") if c not in (reader.fieldnames or [])]
    if missing:
        raise QuoteError(f"The file has no column {', '.join(missing)}.")
    decided: dict[str, Decision | None] = {}
    problems = []
    left = 0
    for number, row in enumerate(reader, start=2):
        answer = (row.get("approved") or "").strip().lower()
        key = by_id.get((row.get("id") or "").strip())
        if key is None:
            problems.append(f"row {number}: unknown id (export the candidates again)")
            continue
        if answer in ("yes", "y"):
            text = themes.unguard(row.get("text") or "").strip()
            if not text:
                problems.append(f"row {number}: an approved quote needs its text")
            elif len(text) > MAX_QUOTE:
                problems.append(f"row {number}: keep a quote under {MAX_QUOTE} characters")
            decided[key] = Decision(APPROVED, text)
        elif answer in ("no", "n"):
            decided[key] = Decision(REJECTED)
        elif answer:
            problems.append(f'row {number}: approved must be yes, no or empty, not "{answer}"')
        else:
            left += 1
    if problems:
        raise QuoteError("\n".join(problems))
    decide(survey, private_key, texts, decided)
    statuses = [d.status for d in decided.values() if d is not None]
    return CsvDecisions(statuses.count(APPROVED), statuses.count(REJECTED), left)
