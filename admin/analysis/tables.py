"""Counts from the analysis frame: per question, per breakdown, per week.

True counts, before disclosure control: these are for an unlocked analyst's
eyes and for admin/analysis/sdc.py to protect; nothing here is ever published as it is.
Categories keep the survey's option order, and "Other" comes last when offered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey.definition import Question, SurveyDefinition, localize
from survey.i18n import N_, translate_to
from survey.sealed_answers import OTHER, columns_of

# Question types whose answers are counted into categories.
COUNTED_TYPES = ("single_choice", "multi_choice", "scale")


@dataclass(frozen=True)
class QuestionCounts:
    """How many chose each category, and how many gave no answer, and why.

    `answered` counts people who gave an answer; for multi-choice questions a
    person may be in several categories, so the counts can add up to more.
    """

    question: Question
    categories: tuple[str, ...]
    labels: tuple[str, ...]
    counts: tuple[int, ...]
    answered: int
    prefer_not_to_say: int
    skipped: int
    not_shown: int


@dataclass(frozen=True)
class Breakdown:
    """Counts of `question`'s categories (columns) within `by`'s (rows), among
    people who answered both."""

    question: Question
    by: Question
    rows: tuple[str, ...]
    row_labels: tuple[str, ...]
    columns: tuple[str, ...]
    column_labels: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]


def categories(question: Question, language: str, default: str) -> tuple[tuple[str, str], ...]:
    """(value, label) of each category a question's answers fall into."""
    if question.type == "scale":
        assert question.scale is not None
        low, high = question.scale.min, question.scale.max
        ends = {
            low: localize(question.scale.min_label, language, default),
            high: localize(question.scale.max_label, language, default),
        }
        return tuple(
            (str(p), f"{p} ({ends[p]})" if p in ends else str(p)) for p in range(low, high + 1)
        )
    pairs = [(o.value, localize(o.label, language, default)) for o in question.options]
    if question.other:
        pairs.append((OTHER, translate_to(language, N_("Other"))))
    return tuple(pairs)


def _membership(frame: pd.DataFrame, question: Question, value: str) -> np.ndarray:
    """A boolean per response: did they answer `question` with `value`?"""
    names = columns_of(question)
    if question.type == "multi_choice":
        return frame[names.choice(value)].to_numpy(dtype=bool)
    if question.type == "scale":
        return (frame[names.value] == float(value)).to_numpy()
    return (frame[names.value] == value).to_numpy(dtype=bool)


def question_counts(
    frame: pd.DataFrame, question: Question, language: str, default: str
) -> QuestionCounts:
    states = frame[columns_of(question).state].value_counts()
    pairs = categories(question, language, default)
    counts = tuple(int(_membership(frame, question, value).sum()) for value, _ in pairs)
    return QuestionCounts(
        question=question,
        categories=tuple(v for v, _ in pairs),
        labels=tuple(label for _, label in pairs),
        counts=counts,
        answered=int(states.get("answered", 0)),
        prefer_not_to_say=int(states.get("prefer_not_to_say", 0)),
        skipped=int(states.get("skipped", 0)),
        not_shown=int(states.get("not_shown", 0)),
    )


def breakdown(
    frame: pd.DataFrame, question: Question, by: Question, language: str, default: str
) -> Breakdown:
    """`question` broken down by a `group_by` question (for a multi-choice `by`,
    a person is in every row they chose)."""
    answered = frame[columns_of(question).state] == "answered"
    both = answered & (frame[columns_of(by).state] == "answered")
    subset = frame[both.to_numpy()]
    row_pairs = categories(by, language, default)
    column_pairs = categories(question, language, default)
    columns = [_membership(subset, question, value) for value, _ in column_pairs]
    table = tuple(
        tuple(int((in_row & column).sum()) for column in columns)
        for in_row in (_membership(subset, by, value) for value, _ in row_pairs)
    )
    return Breakdown(
        question=question,
        by=by,
        rows=tuple(v for v, _ in row_pairs),
        row_labels=tuple(label for _, label in row_pairs),
        columns=tuple(v for v, _ in column_pairs),
        column_labels=tuple(label for _, label in column_pairs),
        counts=table,
    )


def weekly_counts(frame: pd.DataFrame) -> list[tuple[str, int]]:
    """Responses per ISO week, in order."""
    counts = frame["week"].value_counts()
    return sorted((str(week), int(n)) for week, n in counts.items() if n)


def counted_questions(definition: SurveyDefinition) -> list[Question]:
    return [q for q in definition.answerable_questions() if q.type in COUNTED_TYPES]


def group_by_questions(definition: SurveyDefinition) -> list[Question]:
    return [q for q in definition.answerable_questions() if q.group_by]


def breakdown_groups(definition: SurveyDefinition) -> list[Question]:
    """Questions results may be broken down by: `group_by` single choices."""
    return [
        q for q in definition.answerable_questions() if q.group_by and q.type == "single_choice"
    ]
