"""The published tables: each question's counts and each breakdown, protected by
admin/analysis/sdc.py together with the tables they are linked to, in the shape
docs/report-format.md gives them. Reports publish them; the analysis page shows
them beside the true counts.

- a question's counts are protected with its `answered` total;
- its non-answers (prefer not to say, skipped, not shown) with the number of
  respondents, since those four add up to it;
- a breakdown as the full table over every respondent, with a "no answer" row and
  column, so that its margins are exactly the one-way counts published elsewhere
  (or hidden where those are hidden), and an attacker's linear program over the
  whole report can't narrow any hidden count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from typing import Any

import numpy as np
import pandas as pd

from admin.analysis import sdc
from admin.analysis.differencing import THEMES_TABLE, EarlierVersions
from admin.analysis.frame import STATES
from admin.analysis.tables import (
    categories,
    counted_questions,
    question_counts,
)
from survey.definition import Option, Question, SurveyDefinition, localize
from survey.i18n import translate_to
from survey.report_format import NO_ANSWER, NO_ANSWER_LABEL, SUPPRESSED
from survey.sealed_answers import columns_of

# THEMES_TABLE (admin/analysis/differencing.py), "_themes": the id of the table of themes,
# never a question's (question ids start with a letter).


def disclosure_for(definition: SurveyDefinition, rounding: bool) -> sdc.Disclosure:
    """The survey's threshold k, and rounding to 5 when the analyst asks for it."""
    return sdc.Disclosure(k=definition.suppression_k, rounding=5 if rounding else None)


def breakdown_too_large(question: Question, by: Question) -> str | None:
    """Why `question` broken down by `by` can't be published, or None: its table
    (a row per answer of `by`, a column per answer of `question`, each with "no
    answer") has more cells than disclosure control checks (sdc.MAX_CELLS). A
    multi-choice question is checked option by option, two columns each."""
    rows = len(categories(by, "", "")) + 1
    columns = 2 if question.type == "multi_choice" else len(categories(question, "", "")) + 1
    if rows * columns <= sdc.MAX_CELLS:
        return None
    return (
        f"broken down by {by.id!r}, {question.id!r} makes {rows} × {columns} cells, too large "
        f"to check for disclosure (at most {sdc.MAX_CELLS}): choose a question or a group "
        "with fewer answers."
    )


def default_text(value: Any, definition: SurveyDefinition) -> str:
    """A text of the survey in its default language (reports are written in it)."""
    language = definition.default_language
    return localize(value, language, language)


class PublishedTables:
    """Computes each published table once, protected with the tables it is linked to."""

    def __init__(
        self,
        definition: SurveyDefinition,
        frame: pd.DataFrame,
        disclosure: sdc.Disclosure,
        language: str,
        earlier: EarlierVersions | None = None,
    ):
        """`earlier`: the report's published versions, which every table is protected
        against too (admin/analysis/differencing.py); None (no versions) on the
        analysis page, which shows each table as it would be published alone."""
        self.definition = definition
        self.earlier = earlier or EarlierVersions((), disclosure)
        self.frame = frame
        self.disclosure = disclosure
        self.language = language
        self.respondents = len(frame)
        self.counted = {q.id: q for q in counted_questions(definition)}
        self.sections = {
            q.id: default_text(section.title, definition)
            for section in definition.sections
            for q in section.questions
        }
        self._entries: dict[str, dict[str, Any]] = {}
        self.breakdown_entries: list[dict[str, Any]] = []
        self._breakdown_index: dict[tuple[str, str], int] = {}

    def questions_in_report(self) -> list[Question]:
        """Every counted question, in survey order (findings point into them)."""
        return list(self.counted.values())

    # one-way tables

    def question_entry(self, question: Question) -> dict[str, Any]:
        if question.id in self._entries:
            return self._entries[question.id]
        counts = question_counts(self.frame, question, self.language, self.language)
        # How many answered, declined, skipped or never saw the question are bases,
        # not answers: published as they are (see docs/report-format.md "Disclosure
        # control"), and known exactly to the attacker of every linked table below.
        base = [counts.answered, counts.prefer_not_to_say, counts.skipped, counts.not_shown]
        answered, pnts, skipped, not_shown = (sdc.rounded(n, self.disclosure) for n in base)
        if question.type == "multi_choice":
            # A person may choose several, so each option is its own two-cell table:
            # chose it, or answered without choosing it.
            per_option = [
                sdc.protect_counts(
                    [n, counts.answered - n],
                    self.disclosure,
                    self.earlier.option(question.id, value, n, counts.answered),
                )
                for value, n in zip(counts.categories, counts.counts, strict=True)
            ]
            shown = [p.counts[0] for p in per_option]
            percent = [p.percent[0] for p in per_option]
        else:
            protected = sdc.protect_counts(
                list(counts.counts),
                self.disclosure,
                self.earlier.counts(question.id, counts.categories, counts.counts),
            )
            shown = protected.counts
            percent = protected.percent
        entry = {
            "id": question.id,
            "type": question.type,
            "section": self.sections.get(question.id, ""),
            "text": default_text(question.text, self.definition),
            "answered": answered,
            "prefer_not_to_say": pnts,
            "skipped": skipped,
            "not_shown": not_shown,
            "categories": list(counts.categories),
            "labels": list(counts.labels),
            "counts": shown,
            "display": [SUPPRESSED if c is None else str(c) for c in shown],
            "percent": percent,
        }
        self._entries[question.id] = entry
        return entry

    # breakdowns

    def breakdown(self, question: Question, by: Question) -> int | None:
        """The index of `question` broken down by `by` in the document (built once)."""
        if question.id == by.id:
            return None
        key = (question.id, by.id)
        if key not in self._breakdown_index:
            self.breakdown_entries.append(self.breakdown_table(question, by))
            self._breakdown_index[key] = len(self.breakdown_entries) - 1
        return self._breakdown_index[key]

    def _membership_columns(self, question: Question) -> list[np.ndarray]:
        """A boolean per respondent for each category, then one for "no answer"."""
        frame = self.frame
        names = columns_of(question)
        columns = []
        for value, _ in categories(question, self.language, self.language):
            if question.type == "multi_choice":
                columns.append(frame[names.choice(value)].to_numpy(dtype=bool))
            elif question.type == "scale":
                columns.append((frame[names.value] == float(value)).to_numpy())
            else:
                columns.append((frame[names.value] == value).to_numpy(dtype=bool))
        columns.append((frame[names.state] != "answered").to_numpy(dtype=bool))
        return columns

    def _margins(self, question: Question) -> list[int | None]:
        """What the report publishes of each category and of "no answer", exactly."""
        entry = self.question_entry(question)
        no_answer = entry["prefer_not_to_say"] + entry["skipped"] + entry["not_shown"]
        return [*entry["counts"], no_answer]

    def breakdown_table(self, question: Question, by: Question) -> dict[str, Any]:
        """`question` broken down by `by`, protected, without adding it to the
        document's list of breakdowns."""
        rows = self._membership_columns(by)
        row_totals = self._margins(by)
        if self.disclosure.rounding:
            row_totals = [None] * len(row_totals)  # only rounded figures are published
        row_values = [v for v, _ in categories(by, self.language, self.language)] + [NO_ANSWER]
        row_labels = [label for _, label in categories(by, self.language, self.language)]
        row_labels.append(translate_to(self.language, NO_ANSWER_LABEL))
        pairs = categories(question, self.language, self.language)
        columns = self._membership_columns(question)
        if question.type == "multi_choice":
            column_values = [v for v, _ in pairs]
            counts, display, percent, withheld = self._multi_breakdown(
                question,
                by,
                (rows, row_values, row_totals),
                list(zip(column_values, columns[:-1], strict=True)),
                self.question_entry(question)["counts"],
            )
            column_labels = [label for _, label in pairs]
        else:
            column_values = [v for v, _ in pairs] + [NO_ANSWER]
            table = [[int((r & c).sum()) for c in columns] for r in rows]
            column_totals = self._margins(question)
            if self.disclosure.rounding:
                column_totals = [None] * len(column_totals)
            earlier = self.earlier.breakdown(question.id, by.id, row_values, column_values, table)
            protected = sdc.protect_table(
                table,
                self.disclosure,
                row_totals,
                column_totals,
                self.respondents,
                earlier=earlier,
            )
            counts, display = protected.counts, protected.display
            percent, withheld = protected.percent, protected.withheld
            column_labels = [label for _, label in pairs] + [
                translate_to(self.language, NO_ANSWER_LABEL)
            ]
        return {
            "question": question.id,
            "by": by.id,
            "rows": row_values,
            "columns": column_values,
            "row_labels": row_labels,
            "column_labels": column_labels,
            "counts": counts,
            "display": display,
            "percent": percent,
            "withheld": withheld,
        }

    def _multi_breakdown(self, question, by, groups, options, published):
        """A multi-choice question by a group: for each option, the table of (group ×
        chose it / didn't) over every respondent, protected with its margins; only
        the "chose it" column is published. `groups` are the rows (membership, values,
        totals), `options` each answer's value and membership.

        The column totals are what the question's own entry publishes (`published`):
        an option count it hides is an unpublished total here, which the protection
        keeps hidden, so the column's cells can't add up to it."""
        rows, row_values, row_totals = groups
        entry_counts = []
        for (value, option), shown in zip(options, published, strict=True):
            table = [[int((r & option).sum()), int((r & ~option).sum())] for r in rows]
            exact = shown is not None and not self.disclosure.rounding
            column_totals = [shown, self.respondents - shown] if exact else [None, None]
            earlier = self.earlier.option_breakdown(question.id, by.id, row_values, value, table)
            protected = sdc.protect_table(
                table,
                self.disclosure,
                row_totals,
                column_totals,
                self.respondents,
                earlier=earlier,
            )
            entry_counts.append(protected)
        counts = [[p.counts[i][0] for p in entry_counts] for i in range(len(rows))]
        display = [[p.display[i][0] for p in entry_counts] for i in range(len(rows))]
        percent = [[p.percent[i][0] for p in entry_counts] for i in range(len(rows))]
        return counts, display, percent, any(p.withheld for p in entry_counts)

    # themes

    def add_themes(
        self, themes: Sequence[tuple[str, str]], carried: Mapping[str, Set[str]], wrote: Set[str]
    ) -> Question:
        """Make the themes one more table, protected like a multi-choice question:
        `themes` are (id, label), `carried[id]` the responses with an answer coded
        with it, `wrote` the responses with any free text (its `answered`). Returns
        the question that stands for it in `question_entry` and `breakdown`."""
        question = Question(
            id=THEMES_TABLE,
            type="multi_choice",
            text="Themes",
            options=tuple(Option(theme_id, label) for theme_id, label in themes),
        )
        names = columns_of(question)
        index = self.frame.index
        state = np.where(index.isin(list(wrote)), "answered", "skipped")
        columns: dict[str, Any] = {names.state: pd.Categorical(state, categories=STATES)}
        for theme_id, _ in themes:
            columns[names.choice(theme_id)] = index.isin(list(carried.get(theme_id, ())))
        self.frame = pd.concat([self.frame, pd.DataFrame(columns, index=index)], axis=1)
        return question
