"""An unlocked survey's answers as a pandas DataFrame, decrypted in memory only.

Opening a sealed response costs about 60 µs of CPU that holds the GIL, so a
survey of 100,000 responses is decrypted by a pool of processes, one per core.
Each worker opens a batch and returns it as compact columns (category codes,
booleans, floats; text only where people wrote text), so that neither the pipe
nor the parent holds 100,000 dictionaries. Nothing is written to disk: batches
and the key travel through the pool's pipes.

Responses are opened by survey/sealed_answers.py, which also names the
columns (`columns_of`), the same names as the CSV export's. For every
answerable question `q`:
- `q.state`: answered, prefer_not_to_say, skipped or not_shown (categorical);
- single choice: `q` (categorical over the option values and "other");
- multi choice: `q=value` (bool) for each option, and `q=other` when it has one;
- scale and number: `q` (float, NaN when not answered);
- text: `q` (str or None);
- `q_other` for the "Other" text, `q_quote_consent` (bool or None) for long
  texts that ask for it;
plus `week` (categorical ISO week). The index is the response's random id, which
codes of free text (admin/reports/coding.py) point at; it says nothing else.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from admin.custody.unlock import unlocked
from survey.definition import SurveyDefinition
from survey.inbox import SealedResponse
from survey.models import Survey, User
from survey.sealed_answers import OTHER, QuestionColumns, columns_of, open_batch
from survey.stored import stored_batches, stored_count
from survey.surveys import definition_of

STATES = ("answered", "prefer_not_to_say", "skipped", "not_shown")
# Below this many responses a pool costs more than it saves.
INLINE_BELOW = 4000
BATCH = 2500


@dataclass(frozen=True)
class QuestionPlan:
    """What a worker needs to know of a question to turn answers into columns."""

    id: str
    type: str
    options: tuple[str, ...]
    other: bool
    columns: QuestionColumns

    @property
    def categories(self) -> tuple[str, ...]:
        return (*self.options, OTHER) if self.other else self.options


def plan_for(definition: SurveyDefinition) -> tuple[QuestionPlan, ...]:
    return tuple(
        QuestionPlan(q.id, q.type, q.option_values(), bool(q.other), columns_of(q))
        for q in definition.answerable_questions()
    )


# --- in the workers ------------------------------------------------------------------------


def batch_columns(
    private_key: bytes,
    survey_id: int,
    plan: tuple[QuestionPlan, ...],
    batch: Sequence[SealedResponse],
) -> dict[str, Any]:
    """Decrypt a batch of sealed responses into columns."""
    answers = open_batch(private_key, survey_id, batch)
    columns: dict[str, Any] = {
        "response": [response.id for response in batch],
        "week": [response.week for response in batch],
    }
    for question in plan:
        columns.update(_question_columns(question, [a.get(question.id) for a in answers]))
    return columns


_STATE_CODES: dict[str | None, int] = {name: code for code, name in enumerate(STATES)}
_SKIPPED = _STATE_CODES["skipped"]
_NOT_SHOWN = _STATE_CODES["not_shown"]


def _question_columns(question: QuestionPlan, entries: list[dict | None]) -> dict[str, Any]:
    """One question's columns for a batch. Tight loops: this runs for every cell."""
    n = len(entries)
    values: list[Any] = [None] * n
    state = np.zeros(n, dtype=np.int8)
    for row, entry in enumerate(entries):
        if entry is None:
            state[row] = _NOT_SHOWN
        elif "value" in entry:
            values[row] = entry["value"]
        else:
            state[row] = _STATE_CODES.get(entry.get("state"), _SKIPPED)
    names = question.columns
    out: dict[str, Any] = {names.state: state}
    other_text: list[str | None] | None = [None] * n if question.other else None
    kind = question.type
    if kind == "single_choice":
        index = {value: i for i, value in enumerate(question.categories)}
        codes = np.full(n, -1, dtype=np.int16)
        for row, value in enumerate(values):
            if value is None:
                continue
            if value.__class__ is dict:
                codes[row] = index[OTHER]
                if other_text is not None:
                    other_text[row] = value.get("other")
            else:
                codes[row] = index.get(value, -1)
        out[names.value] = codes
    elif kind == "multi_choice":
        index = {value: i for i, value in enumerate(question.categories)}
        options: list[int] = []
        rows: list[int] = []
        for row, value in enumerate(values):
            if value is None:
                continue
            for item in value:
                if item.__class__ is dict:
                    options.append(index[OTHER])
                    rows.append(row)
                    if other_text is not None:
                        other_text[row] = item.get("other")
                elif item in index:
                    options.append(index[item])
                    rows.append(row)
        chosen = np.zeros((len(question.categories), n), dtype=bool)
        chosen[options, rows] = True
        for i, value in enumerate(question.categories):
            out[names.choice(value)] = chosen[i]
    elif kind in ("scale", "number"):
        out[names.value] = np.array([np.nan if v is None else v for v in values], dtype=float)
    else:
        out[names.value] = values
        if names.quote_consent is not None:
            out[names.quote_consent] = [
                None if v is None or entry is None else bool(entry.get("quote_consent", False))
                for v, entry in zip(values, entries, strict=True)
            ]
    if names.other is not None and other_text is not None:
        out[names.other] = other_text
    return out


# --- in the app ------------------------------------------------------------------------------


def answers_frame(survey: Survey, private_key: bytes, workers: int | None = None) -> pd.DataFrame:
    """Every response of the survey stored by its last weekly flush, as typed columns
    (see the module docstring; answers still in the inbox are left out, see
    survey/stored.py).

    `workers`: processes to decrypt with (default: every core); 1 decrypts here.
    """
    plan = plan_for(definition_of(survey))
    workers = workers or os.cpu_count() or 1
    if workers == 1 or stored_count(survey) < INLINE_BELOW:
        parts = [
            batch_columns(private_key, survey.id, plan, b) for b in stored_batches(survey, BATCH)
        ]
    else:
        parts = _open_in_pool(private_key, survey.id, plan, stored_batches(survey, BATCH), workers)
    return _frame(plan, parts)


def _open_in_pool(
    private_key: bytes,
    survey_id: int,
    plan: tuple[QuestionPlan, ...],
    batches: Iterator[list[SealedResponse]],
    workers: int,
) -> list[dict[str, Any]]:
    """Decrypt batches in `workers` processes, reading only a few batches ahead."""
    # "spawn": a fresh interpreter, never a fork of a threaded server.
    context = multiprocessing.get_context("spawn")
    submitted: list[Future] = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for batch in batches:
            waiting = [f for f in submitted if not f.done()]
            if len(waiting) >= 2 * workers:
                wait(waiting, return_when=FIRST_COMPLETED)
            submitted.append(pool.submit(batch_columns, private_key, survey_id, plan, batch))
        return [future.result() for future in submitted]


def _frame(plan: tuple[QuestionPlan, ...], parts: list[dict[str, Any]]) -> pd.DataFrame:
    if not parts:
        parts = [batch_columns(b"", 0, plan, [])]
    data: dict[str, Any] = {
        "week": pd.Categorical([w for part in parts for w in part["week"]]),
    }
    for question in plan:
        names = question.columns
        state = np.concatenate([part[names.state] for part in parts])
        # pandas takes any list-like as categories; pandas-stubs accept only an Index.
        data[names.state] = pd.Categorical.from_codes(state, STATES)  # type: ignore[call-overload]
        if question.type == "single_choice":
            codes = np.concatenate([part[names.value] for part in parts])
            data[names.value] = pd.Categorical.from_codes(codes, question.categories)  # type: ignore[call-overload]
        elif question.type == "multi_choice":
            for value in question.categories:
                name = names.choice(value)
                data[name] = np.concatenate([part[name] for part in parts])
        elif question.type in ("scale", "number"):
            data[names.value] = np.concatenate([part[names.value] for part in parts])
        else:
            data[names.value] = [t for part in parts for t in part[names.value]]
        for column in (names.other, names.quote_consent):
            if column is not None and column in parts[0]:
                data[column] = [v for part in parts for v in part[column]]
    index = pd.Index([r for part in parts for r in part["response"]], name="response", dtype=str)
    return pd.DataFrame(data, index=index)


# --- for the pages ---------------------------------------------------------------------------


def analysis_frame(survey: Survey, user: User) -> pd.DataFrame | None:
    """The survey's answers as a frame, built once per unlock (again when new
    responses are stored or some are withdrawn); None when the survey is locked."""
    held = unlocked(survey, user)
    if held is None:
        return None
    count = stored_count(survey)
    cached = held.scratch.get("frame")
    if cached is None or cached[0] != count:
        cached = held.scratch["frame"] = (count, answers_frame(survey, held.key))
    return cached[1]


def forget_frame(survey: Survey, user: User) -> None:
    """Drop the unlock's frame, so the next page builds it again from what is stored
    (a response it holds was withdrawn, though the count may look the same)."""
    held = unlocked(survey, user)
    if held is not None:
        held.scratch.pop("frame", None)
