"""Sealed answers (`chorus-answers/1`): the one module that seals and opens them.

A response's answers are stored only as a sealed box (README.md "What is stored, and what is not"):
the document `{"format": "chorus-answers/1", "answers": {...}}` as canonical
JSON, padded to a size bucket, sealed to the survey's X25519 public key
(ephemeral X25519 → HKDF-SHA256 → AES-256-GCM, `survey/crypto.py`) with the
AAD survey id ‖ response id ‖ format version, so that a box moved to another
row or survey fails to open. Everything that reads answers (the CSV export, the
analysis frame in admin/analysis/frame.py, the benchmarks) opens them here, and names
their columns here.

`answers` maps a question id to its entry: `{"value": ...}` (plus
`"quote_consent": bool` for long texts that ask), or `{"state": ...}` for
"prefer not to say" and "skipped"; a question that was not shown has no entry.
A chosen "Other" is `{"other": text}` in place of an option value.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from survey import crypto
from survey.answers import largest_answers
from survey.definition import ANSWER_STATES, Question, SurveyDefinition
from survey.lru import LruCache
from survey.models import Survey
from survey.spreadsheet import rows_csv
from survey.stored import stored_responses
from survey.surveys import SurveyError, definition_of, per_definition

FORMAT = "chorus-answers/1"
FORMAT_VERSION = 1

# How an "Other" answer is written where option values are (a CSV cell, a category).
OTHER = "other"


class SealedBox(Protocol):
    """A stored or waiting response: what opening it needs (Response, SealedResponse)."""

    @property
    def id(self) -> str: ...

    @property
    def format_version(self) -> int: ...

    @property
    def sealed(self) -> bytes: ...


# --- sealing and opening -----------------------------------------------------------------


def _aad(survey_id: int, response_id: str, format_version: int) -> bytes:
    return crypto.response_aad(survey_id, response_id, format_version)


def seal_answers(
    survey: Survey, response_id: str, answers: dict[str, Any], *, ceiling: int | None = None
) -> bytes:
    """The sealed box for one response's answers, to the survey's public key,
    padded to a size bucket. `ceiling` (`padded_answers_size`) is the top bucket:
    a submission passes it, so that an inbox box makes room for no more."""
    if survey.public_key is None:
        raise SurveyError(f'"{survey.slug}" has no key: open it first.')
    document = {"format": FORMAT, "answers": answers}
    aad = _aad(survey.id, response_id, FORMAT_VERSION)
    return crypto.seal(survey.public_key, crypto.canonical_json(document), aad, ceiling=ceiling)


# The padded size of each survey version's largest answers, under (survey id, digest
# of its definition's JSON) like `surveys.parsed_definitions`.
_largest_padded: LruCache[tuple[int, str], int] = LruCache(64)


def largest_padded_size(definition: SurveyDefinition) -> int:
    """The size of the largest answers `definition` allows, padded (length prefix
    and document): the top size bucket of this survey's sealed answers."""
    document = {"format": FORMAT, "answers": largest_answers(definition)}
    return crypto.LENGTH_PREFIX + len(crypto.canonical_json(document))


def padded_answers_size(survey: Survey) -> int:
    """`largest_padded_size` of the survey's definition, worked out once per version."""
    return per_definition(_largest_padded, survey, largest_padded_size)


def open_answers(private_key: bytes, survey_id: int, response: SealedBox) -> dict[str, Any]:
    """One response's answers; crypto.CryptoError if the key or the box is wrong."""
    aad = _aad(survey_id, response.id, response.format_version)
    document = json.loads(crypto.open_sealed(private_key, response.sealed, aad))
    answers: dict[str, Any] = document["answers"]
    return answers


def open_batch(
    private_key: bytes, survey_id: int, batch: Sequence[SealedBox]
) -> list[dict[str, Any]]:
    """The answers of a batch of responses, in the batch's order (runs in workers too)."""
    return [open_answers(private_key, survey_id, response) for response in batch]


def decrypted_responses(survey: Survey, private_key: bytes) -> Iterator[tuple[str, dict[str, Any]]]:
    """(week, answers) for every response stored by the last weekly flush, in a
    random-id order that says nothing (answers still in the inbox are left out:
    survey/stored.py says why)."""
    for response in stored_responses(survey):
        yield response.week, open_answers(private_key, survey.id, response)


# --- analysts' work on the answers ----------------------------------------------------------
# Which answer carries which theme, and the exact text of an approved quote, say as
# much as the answers do: they are sealed to the survey's key too, as one document
# per `name` (see admin/reports/coding.py), padded like a response.


def seal_analysis(survey: Survey, name: str, format_name: str, document: dict[str, Any]) -> bytes:
    """`document` sealed to the survey's public key, bound to its survey, name and format."""
    if survey.public_key is None:
        raise SurveyError(f'"{survey.slug}" has no key: open it first.')
    body = {**document, "format": format_name}
    aad = crypto.analysis_aad(survey.id, name, format_name)
    return crypto.seal(survey.public_key, crypto.canonical_json(body), aad)


def open_analysis(
    private_key: bytes, survey_id: int, name: str, format_name: str, sealed: bytes
) -> dict[str, Any]:
    """The document `seal_analysis` sealed; crypto.CryptoError if anything is wrong."""
    aad = crypto.analysis_aad(survey_id, name, format_name)
    document: dict[str, Any] = json.loads(crypto.open_sealed(private_key, sealed, aad))
    if document.get("format") != format_name:
        raise crypto.CryptoError(f"not a {format_name} document")
    return document


# --- the columns of answers ------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionColumns:
    """What a question's columns are called, in the CSV export and the analysis frame.

    `value`, `other` and `quote_consent` are in both (the CSV's names are part
    of the README's contract); `state` and `choice(...)` only in the frame.
    Question ids never hold "." or "=", so those two can't meet another column.
    """

    value: str
    other: str | None
    quote_consent: str | None
    state: str

    def choice(self, option: str) -> str:
        """A multi-choice question's yes/no column for one option (or OTHER)."""
        return f"{self.value}={option}"


def columns_of(question: Question) -> QuestionColumns:
    """The names of `question`'s columns (see QuestionColumns)."""
    return QuestionColumns(
        value=question.id,
        other=f"{question.id}_other" if question.other else None,
        quote_consent=f"{question.id}_quote_consent" if question.quote_consent else None,
        state=f"{question.id}.state",
    )


# --- plain rows: the CSV export ----------------------------------------------------------------


def export_header(questions: Sequence[Question]) -> list[str]:
    """The export's header: week, then each question's value, "Other" and consent columns."""
    header = ["week"]
    for question in questions:
        names = columns_of(question)
        header += [n for n in (names.value, names.other, names.quote_consent) if n is not None]
    return header


def export_row(week: str, answers: dict[str, Any], questions: Sequence[Question]) -> list[Any]:
    """One response as export cells, in `export_header`'s order.

    Cells hold the value; several choices are joined with ";" and a chosen
    "Other" is written `other` (its text in the `_other` column); the three
    non-answers are written as [prefer_not_to_say], [skipped] and [not_shown],
    which no option value can look like. Quote consent is yes or no.
    """
    row: list[Any] = [week]
    for question in questions:
        names = columns_of(question)
        entry = answers.get(question.id, {"state": "not_shown"})
        cell, other = _export_cell(entry)
        row.append(cell)
        if names.other is not None:
            row.append(other)
        if names.quote_consent is not None:
            consent = entry.get("quote_consent")
            row.append(None if consent is None else ("yes" if consent else "no"))
    return row


def _export_cell(entry: dict[str, Any]) -> tuple[Any, str | None]:
    if "state" in entry:
        state = entry["state"]
        return (f"[{state}]" if state in ANSWER_STATES else "[unknown]"), None
    value = entry["value"]
    items = value if isinstance(value, list) else [value]
    other = next((i["other"] for i in items if isinstance(i, dict)), None)
    plain = [OTHER if isinstance(i, dict) else i for i in items]
    if isinstance(value, list):
        return ";".join(plain), other
    return plain[0], other


def export_rows_of(
    questions: Sequence[Question], responses: Iterable[tuple[str, dict[str, Any]]]
) -> list[list[Any]]:
    """Export rows for (week, answers) pairs.

    A column in which every cell is a number and one has a fraction writes them
    all with one (3.0, 2.5), as the export has always written such a column.
    """
    rows = [export_row(week, answers, questions) for week, answers in responses]
    for column in range(len(rows[0]) if rows else 0):
        cells = [row[column] for row in rows]
        if all(_is_number(c) for c in cells) and any(isinstance(c, float) for c in cells):
            for row in rows:
                row[column] = float(row[column])
    return rows


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def export_rows(survey: Survey, private_key: bytes) -> list[list[Any]]:
    """Every response of the survey as export rows (the header is `export_header`)."""
    questions = list(definition_of(survey).answerable_questions())
    return export_rows_of(questions, decrypted_responses(survey, private_key))


def responses_csv(survey: Survey, private_key: bytes) -> tuple[str, int]:
    """Every response as CSV text (cells made safe for spreadsheets), and how many."""
    rows = export_rows(survey, private_key)
    header = export_header(list(definition_of(survey).answerable_questions()))
    return rows_csv(header, rows), len(rows)
