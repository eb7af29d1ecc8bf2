"""Differencing: no two versions of a report may be subtracted to describe a few people.

A company reader holds every version addressed to them, and once versions are public
everyone holds every public one. Publish version 1 to 312 people, then version 2 after
9 people skipped everything and 1 answered everything: subtract the two and each
question shows `answered` +1, `skipped` +9 and exactly one option +1, the newcomer's
whole profile. So a new version is checked against every earlier version of the survey
(whoever it was addressed to), cell by cell (docs/report-format.md "Differencing"):

- Margins: `respondents`, each question's `answered`, `prefer_not_to_say`, `skipped`,
  `not_shown`, and the number of people whose words were coded for themes. They are
  always published, so one that moved by 1 to k−1 refuses the version
  (`margin_problems`).
- Cells (options, breakdown cells, theme counts): one that moved by 1 to k−1 is hidden
  in the new version as if it were small, and the attacker's linear program knows
  what earlier versions published: a response a version counts can never be
  withdrawn (`Response.counted`, set when it is published; only answers no version
  counts yet can be), so a count never falls below its last published value
  (`EarlierVersions` gives admin/analysis/sdc.py both).
- Then the whole history is audited as the attacker would (`pinned_tables`): one
  linear program per table over every version, with each count of a later version at
  least the same count of an earlier one, must leave every hidden count of the new
  version, and every hidden count of an earlier one, at least ⌊k/2⌋ wide. A table
  that fails is withheld in the new version; one that still fails refuses it.

Everything here reads published documents (`chorus-report/1`, as dicts) and plain
numbers: what the attacker holds. No Flask, no database.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linprog

from admin.analysis import sdc
from survey.report_format import NO_ANSWER

# The id of the table of themes, as admin/analysis/published.py names it.
THEMES_TABLE = "_themes"

TableRef = tuple[str, ...]
"""("question", id) for a question's (or the themes') counts, ("breakdown", id, by)."""

MARGINS = ("answered", "prefer_not_to_say", "skipped", "not_shown")
_EPS = 1e-6

Document = Mapping[str, Any]


class HistoryError(ValueError):
    """The published versions contradict what the check assumes of them (a count
    that fell between versions, which answers never do): nothing can be proved
    about a new version, so it must not be published."""


def _rounding_slack(document: Document) -> int:
    """How far a published figure may be from the true one: 2 when rounded to 5."""
    base = (document.get("disclosure") or {}).get("rounding")
    return int(base) // 2 if base else 0


def question_table(document: Document, table_id: str) -> dict[str, Any] | None:
    """A question's entry in a document, or the themes as one (a theme per category,
    `answered` the people whose words were coded); None when it has none."""
    if table_id == THEMES_TABLE:
        themes = document.get("themes") or []
        if not themes:
            return None
        return {
            "id": THEMES_TABLE,
            "type": "multi_choice",
            "categories": [t["id"] for t in themes],
            "counts": [t["count"] for t in themes],
            "answered": themes[0].get("answered"),
        }
    return next((q for q in document.get("questions", ()) if q["id"] == table_id), None)


def breakdown_table(document: Document, table_id: str, by: str) -> dict[str, Any] | None:
    """A breakdown's entry in a document; the themes' breakdown is rebuilt from each
    theme's own column."""
    if table_id == THEMES_TABLE:
        themes = [t for t in document.get("themes") or [] if t.get("breakdown")]
        if not themes or themes[0]["breakdown"]["by"] != by:
            return None
        rows = themes[0]["breakdown"]["rows"]
        return {
            "question": THEMES_TABLE,
            "by": by,
            "rows": rows,
            "columns": [t["id"] for t in themes],
            "counts": [[t["breakdown"]["counts"][i] for t in themes] for i in range(len(rows))],
        }
    return next(
        (b for b in document.get("breakdowns", ()) if b["question"] == table_id and b["by"] == by),
        None,
    )


# The unpublished column of a multi-choice breakdown: those who didn't choose the answer.
_DIDNT = "\0didn't"


def _table_name(ref: TableRef) -> str:
    what = "the themes" if ref[1] == THEMES_TABLE else f"“{ref[1]}”"
    return what if ref[0] == "question" else f"{what} broken down by “{ref[2]}”"


def _aligned(names: Sequence[str], old_names: Sequence[str], old: Sequence[Any]) -> list[Any]:
    """`old`'s values in the order of `names` (None where a name is new)."""
    where = dict(zip(old_names, old, strict=True))
    return [where.get(name) for name in names]


@dataclass
class EarlierVersions:
    """Every earlier published version of a survey's report (oldest first), as what
    the new version must be protected against: which cells to hide, and what the
    attacker knows each count to be at least."""

    documents: Sequence[Document]
    disclosure: sdc.Disclosure
    withhold: set[TableRef] = field(default_factory=set)
    """Tables to hide whole in the new version: a check across versions found that
    nothing less protects them."""
    moved: dict[TableRef, int] = field(default_factory=dict)
    """How many counts of each table were hidden for having moved by 1 to k−1, for the
    analysts' preview (never for the document: it would say which counts are small)."""

    def held_back(self) -> list[str]:
        """What the new version hides because of earlier versions, in an analyst's
        words."""
        notes = [
            f"{_table_name(ref)}: {n} count{'' if n == 1 else 's'} changed by fewer than "
            f"{self.disclosure.k} people since an earlier version, so "
            f"{'it is' if n == 1 else 'they are'} hidden, with the counts that would give "
            f"{'it' if n == 1 else 'them'} away."
            for ref, n in self.moved.items()
            if ref not in self.withhold
        ]
        notes += [
            f"{_table_name(ref)}: hidden whole, since with the earlier versions beside it "
            "even its hidden counts could be narrowed down."
            for ref in sorted(self.withhold)
        ]
        return notes

    def _earlier(
        self,
        ref: TableRef,
        values: Sequence[int],
        old: Sequence[Sequence[Any]],
        slacks: Sequence[int],
        *,
        chose_only: bool = False,
    ) -> sdc.Earlier:
        """The table's cells against what earlier versions (`old`, flattened as
        `values`) published of them. `chose_only`: the cells come in pairs (chose an
        answer, didn't) of which only the first is published, so only it can need
        hiding for itself. Notes what is hidden in `moved`."""
        k = self.disclosure.k
        monotone = ref[1] != THEMES_TABLE  # themes are recoded: their counts may fall
        hide = [False] * len(values)
        floors = [1] * len(values)
        for version, slack in zip(old, slacks, strict=True):
            for i, (value, before) in enumerate(zip(values, version, strict=True)):
                if before is None:
                    continue
                published = not chose_only or i % 2 == 0
                if published and 0 < abs(sdc.rounded(value, self.disclosure) - before) < k:
                    hide[i] = True
                if monotone:
                    floors[i] = max(floors[i], int(before) - slack)
        if any(hide):
            self.moved[ref] = self.moved.get(ref, 0) + sum(hide)
        return sdc.Earlier(hide=hide, floors=floors, withhold=ref in self.withhold)

    def counts(
        self, table_id: str, categories: Sequence[str], values: Sequence[int]
    ) -> sdc.Earlier:
        """For a question's one-way counts (single choice, scale, number)."""
        old, slacks = [], []
        for document in self.documents:
            entry = question_table(document, table_id)
            if entry is not None:
                old.append(_aligned(categories, entry["categories"], entry["counts"]))
                slacks.append(_rounding_slack(document))
        return self._earlier(("question", table_id), values, old, slacks)

    def option(self, table_id: str, category: str, chose: int, answered: int) -> sdc.Earlier:
        """For one answer of a multi-choice question (or one theme): the people who
        chose it, and those who answered without choosing it (never published, but
        known wherever the first is)."""
        old, slacks = [], []
        for document in self.documents:
            entry = question_table(document, table_id)
            if entry is None or category not in entry["categories"]:
                continue
            before = entry["counts"][entry["categories"].index(category)]
            others = None
            if before is not None and entry.get("answered") is not None:
                others = entry["answered"] - before
            old.append([before, others])
            slacks.append(_rounding_slack(document))
        values = [chose, answered - chose]
        return self._earlier(("question", table_id), values, old, slacks, chose_only=True)

    def breakdown(
        self,
        table_id: str,
        by: str,
        rows: Sequence[str],
        columns: Sequence[str],
        table: Sequence[Sequence[int]],
    ) -> sdc.Earlier:
        """For a breakdown, flattened row by row as sdc.protect_table flattens it."""
        old, slacks = self._breakdown_cells(table_id, by, rows, columns)
        values = [v for row in table for v in row]
        return self._earlier(("breakdown", table_id, by), values, old, slacks)

    def option_breakdown(
        self,
        table_id: str,
        by: str,
        rows: Sequence[str],
        category: str,
        table: Sequence[Sequence[int]],
    ) -> sdc.Earlier:
        """For one answer's column of a multi-choice breakdown: rows × (chose it,
        didn't), of which only the first column is published."""
        old, slacks = self._breakdown_cells(table_id, by, rows, [category, _DIDNT])
        values = [v for row in table for v in row]
        ref = ("breakdown", table_id, by)
        return self._earlier(ref, values, old, slacks, chose_only=True)

    def _breakdown_cells(
        self, table_id: str, by: str, rows: Sequence[str], columns: Sequence[str]
    ) -> tuple[list[list[Any]], list[int]]:
        """What each earlier version published of a breakdown's cells, flattened row
        by row in the order of `rows` and `columns` (None where it didn't)."""
        old, slacks = [], []
        for document in self.documents:
            entry = breakdown_table(document, table_id, by)
            if entry is None:
                continue
            by_row = dict(zip(entry["rows"], entry["counts"], strict=True))
            cells: list[Any] = []
            for row in rows:
                before = by_row.get(row)
                cells += (
                    [None] * len(columns)
                    if before is None
                    else _aligned(columns, entry["columns"], before)
                )
            old.append(cells)
            slacks.append(_rounding_slack(document))
        return old, slacks


# --- Margins -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MarginChange:
    """A published base that moved by 1 to k−1 since an earlier version."""

    version: int
    where: str  # "" for the report's respondents, else a question id or THEMES_TABLE
    name: str
    change: int


def _margins(document: Document) -> Iterator[tuple[str, str, int]]:
    yield "", "respondents", document["respondents"]
    for entry in document.get("questions", ()):
        for name in MARGINS:
            if entry.get(name) is not None:
                yield entry["id"], name, entry[name]
    themes = question_table(document, THEMES_TABLE)
    if themes is not None and themes["answered"] is not None:
        yield THEMES_TABLE, "answered", themes["answered"]


def margin_changes(earlier: Sequence[Document], document: Document, k: int) -> list[MarginChange]:
    """Every published base of `document` that differs from the same base of an earlier
    version by 1 to k−1: subtracting the two would count the few people in between,
    and a base can't be hidden."""
    now = {(where, name): value for where, name, value in _margins(document)}
    changes = []
    for before in earlier:
        for where, name, value in _margins(before):
            if (where, name) in now and 0 < abs(now[where, name] - value) < k:
                changes.append(
                    MarginChange(before["version"], where, name, abs(now[where, name] - value))
                )
    return changes


_MARGIN_WORDS = {
    "respondents": "respondents",
    "answered": "answered",
    "prefer_not_to_say": "prefer not to say",
    "skipped": "skipped",
    "not_shown": "not shown",
}


def margin_message(changes: Sequence[MarginChange], k: int) -> str:
    """The refusal, in words an analyst can act on: which numbers, against which
    version, and how many more people must answer at the least."""
    by_version: dict[int, list[str]] = {}
    for change in changes:
        if change.where == "":
            what = _MARGIN_WORDS[change.name]
        elif change.where == THEMES_TABLE:
            what = "people whose words were coded"
        else:
            what = f"“{change.where}” {_MARGIN_WORDS[change.name]}"
        by_version.setdefault(change.version, []).append(f"{what} by {change.change}")
    parts = "; ".join(
        f"from version {version}: " + ", ".join(items)
        for version, items in sorted(by_version.items())
    )
    more = max(k - change.change for change in changes)
    return (
        f"This version can't be published yet. These numbers differ {parts}. Subtracting "
        f"the two versions would describe the few people in between, so each of them must "
        f"stay the same or change by at least {k}. Publish when at least {more} more "
        f"{'person has' if more == 1 else 'people have'} answered and these numbers have "
        f"moved on by {k} or more (the preview says what still stands in the way)."
    )


# --- The attacker across versions ------------------------------------------------------------


Term = tuple[int | None, float]
"""A figure in the attacker's program: (variable, 0) or (None, a known value)."""


@dataclass
class _Program:
    """The attacker's linear program over several versions of one table: a variable
    for each hidden or rounded figure, equalities for published totals, and
    inequalities for counts that can only grow."""

    bounds: list[tuple[float, float | None]] = field(default_factory=list)
    eq: list[dict[int, float]] = field(default_factory=list)
    eq_rhs: list[float] = field(default_factory=list)
    ub: list[dict[int, float]] = field(default_factory=list)
    ub_rhs: list[float] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)
    """Each variable's width once worked out (the program is complete by then)."""
    points: list[np.ndarray] = field(default_factory=list)
    compiled: tuple[Any, Any, Any, Any] | None = None

    def variable(self, low: float, high: float | None = None) -> int:
        self.bounds.append((low, high))
        return len(self.bounds) - 1

    def count(self, published: int | None, slack: int, low: int, hidden: list[int]) -> Term:
        """A published count as a term, noting it in `hidden` when it is hidden."""
        if published is None:
            var = self.variable(low)
            hidden.append(var)
            return var, 0.0
        return self.figure(published, slack)

    def figure(self, published: int | None, slack: int, low: int = 1) -> Term:
        """A published figure as (variable, constant): a hidden one (None) is a
        variable of at least `low`, a rounded one a variable within its slack, an
        exact one a constant."""
        if published is None:
            return self.variable(low), 0.0
        if slack:
            return self.variable(max(0, published - slack), published + slack), 0.0
        return None, float(published)

    def total(
        self, terms: Sequence[tuple[int | None, float]], published: int | None, slack: int
    ) -> None:
        """Σ terms = a published total (within its slack when rounded)."""
        if published is None:
            return
        row: dict[int, float] = {}
        constant = 0.0
        for var, value in terms:
            if var is None:
                constant += value
            else:
                row[var] = row.get(var, 0.0) + 1.0
        if not row:
            return
        if slack:
            self.ub.append(row)
            self.ub_rhs.append(published + slack - constant)
            self.ub.append({v: -c for v, c in row.items()})
            self.ub_rhs.append(-(published - slack - constant))
        else:
            self.eq.append(row)
            self.eq_rhs.append(published - constant)

    def at_most(self, smaller: tuple[int | None, float], larger: tuple[int | None, float]) -> None:
        """smaller ≤ larger."""
        row: dict[int, float] = {}
        constant = 0.0
        for (var, value), sign in ((smaller, 1.0), (larger, -1.0)):
            if var is None:
                constant += sign * value
            else:
                row[var] = row.get(var, 0.0) + sign
        if row:
            self.ub.append(row)
            self.ub_rhs.append(-constant)

    def _matrix(self, rows: list[dict[int, float]]) -> np.ndarray | None:
        if not rows:
            return None
        matrix = np.zeros((len(rows), len(self.bounds)))
        for i, row in enumerate(rows):
            for var, coefficient in row.items():
                matrix[i, var] = coefficient
        return matrix

    def wide_enough(self, var: int, need: float) -> bool:
        """Whether `var`'s interval is at least `need` wide. Every solution found so
        far is a table the attacker can't rule out, so a variable already seen to
        vary that much needs no more programs solved."""
        if var in self.widths:
            return self.widths[var] >= need
        if self.points and np.ptp([point[var] for point in self.points]) >= need:
            return True
        return self.width(var) >= need

    def width(self, var: int) -> float:
        """How wide the attacker's interval for `var` is."""
        if var not in self.widths:
            self.widths[var] = self._width(var)
        return self.widths[var]

    def _width(self, var: int) -> float:
        if self.compiled is None:  # the program is complete once it is asked
            self.compiled = (
                self._matrix(self.ub),
                np.array(self.ub_rhs) if self.ub else None,
                self._matrix(self.eq),
                np.array(self.eq_rhs) if self.eq else None,
            )
        a_ub, b_ub, a_eq, b_eq = self.compiled
        c = np.zeros(len(self.bounds))
        c[var] = 1.0
        ends = []
        for sense in (1.0, -1.0):
            result = linprog(
                sense * c,
                A_ub=a_ub,
                b_ub=b_ub,
                A_eq=a_eq,
                b_eq=b_eq,
                bounds=self.bounds,
                method="highs",
            )
            if result.status == 3:
                return float("inf")
            if result.status == 2:
                raise HistoryError(
                    "The published versions of this report don't fit together (a count "
                    "is lower than in an earlier version), so this version can't be "
                    "checked against them and can't be published. Ask an administrator "
                    "to look at the earlier versions."
                )
            if result.status != 0:
                raise RuntimeError(f"differencing LP failed: {result.message}")
            assert result.x is not None  # status 0: the solver found a solution
            self.points.append(result.x)
            ends.append(float(result.x[var]))
        return ends[1] - ends[0]


def _hidden_low(counts: Sequence[int | None], withheld: bool) -> int:
    """The least a hidden count can be: 1, since zeros are shown, except in a table
    withheld whole, where zeros are hidden too."""
    return 0 if withheld or all(c is None for c in counts) else 1


def _one_way(
    program: _Program, entry: Mapping[str, Any], slack: int, categories: Sequence[str]
) -> tuple[list[list[tuple[int | None, float]]], list[int]]:
    """A question's counts in the program: for each category its cells (one, or for a
    multi-choice answer: chose it, answered without choosing), and the hidden ones."""
    published = _aligned(categories, entry["categories"], entry["counts"])
    answered = entry.get("answered")
    low = _hidden_low(entry["counts"], entry.get("withheld", False))
    hidden: list[int] = []
    cells: list[list[Term]] = []
    if entry["type"] == "multi_choice":
        for value in published:
            chose = program.count(value, slack, low, hidden)
            others = program.figure(None, 0, low=0)
            program.total([chose, others], answered, slack)
            cells.append([chose, others])
    else:
        terms = []
        for value in published:
            term = program.count(value, slack, low, hidden)
            terms.append(term)
            cells.append([term])
        program.total(terms, answered, slack)
    return cells, hidden


def _only_grow(
    program: _Program, before: Sequence[Sequence[Term]], now: Sequence[Sequence[Term]]
) -> None:
    """Each count of a version at least the same count of the version before it:
    answers are only ever added once a report is out."""
    for earlier_cells, later_cells in zip(before, now, strict=True):
        for earlier, later in zip(earlier_cells, later_cells, strict=True):
            program.at_most(earlier, later)


def _question_history(
    versions: Sequence[Document], table_id: str, layout: Sequence[Document]
) -> tuple[_Program, list[list[int]]] | None:
    entries = [(d, e) for d in versions if (e := question_table(d, table_id)) is not None]
    if not any(None in e["counts"] for _, e in entries):
        return None
    tables = [question_table(d, table_id) for d in layout]
    categories = list(dict.fromkeys(c for e in tables if e for c in e["categories"]))
    program = _Program()
    hidden_by_version = []
    previous = None
    for document, entry in entries:
        cells, hidden = _one_way(program, entry, _rounding_slack(document), categories)
        hidden_by_version.append(hidden)
        if previous is not None:
            _only_grow(program, previous, cells)
        previous = cells
    return program, hidden_by_version


def _margin(document: Document, table_id: str, layout: Sequence[str]) -> list[int | None]:
    """What a document publishes of a question's categories and of its "no answer"
    (the breakdown's margins), in the order of `layout`; None where it doesn't."""
    entry = question_table(document, table_id)
    if entry is None:
        return [None] * len(layout)
    no_answer = None
    if all(entry.get(name) is not None for name in MARGINS[1:]):
        no_answer = sum(entry[name] for name in MARGINS[1:])
    return _aligned(layout, [*entry["categories"], NO_ANSWER], [*entry["counts"], no_answer])


def _breakdown_history(
    versions: Sequence[Document], table_id: str, by: str, layout: Sequence[Document]
) -> tuple[_Program, list[list[int]]] | None:
    entries = [(d, e) for d in versions if (e := breakdown_table(d, table_id, by)) is not None]
    if not any(None in row for _, e in entries for row in e["counts"]):
        return None
    tables = [breakdown_table(d, table_id, by) for d in layout]
    rows = list(dict.fromkeys(r for e in tables if e for r in e["rows"]))
    columns = list(dict.fromkeys(c for e in tables if e for c in e["columns"]))
    multi = NO_ANSWER not in columns
    program = _Program()
    hidden_by_version = []
    previous = None
    for document, entry in entries:
        slack = _rounding_slack(document)
        by_row = dict(zip(entry["rows"], entry["counts"], strict=True))
        low = _hidden_low([c for row in entry["counts"] for c in row], entry.get("withheld", False))
        hidden: list[int] = []
        cells: list[list[Term]] = []
        for row in rows:
            values = _aligned(
                columns, entry["columns"], by_row.get(row, [None] * len(entry["columns"]))
            )
            row_cells = [program.count(value, slack, low, hidden) for value in values]
            if multi:  # each answer's "didn't choose it", never published
                row_cells += [program.figure(None, 0, low=0) for _ in columns]
            cells.append(row_cells)
        row_totals = _margin(document, by, rows)
        column_totals = _margin(document, table_id, columns)
        n = len(columns)
        if multi:
            for r, total in enumerate(row_totals):
                for j in range(n):  # chose + didn't = the row, for each answer
                    program.total([cells[r][j], cells[r][n + j]], total, slack)
            for j, total in enumerate(column_totals):
                program.total([cells[r][j] for r in range(len(rows))], total, slack)
        else:
            for r, total in enumerate(row_totals):
                program.total(cells[r], total, slack)
            for j, total in enumerate(column_totals):
                program.total([cells[r][j] for r in range(len(rows))], total, slack)
            program.total([c for row in cells for c in row], document["respondents"], slack)
        hidden_by_version.append(hidden)
        if previous is not None:
            _only_grow(program, previous, cells)
        previous = cells
    return program, hidden_by_version


def _tables(document: Document) -> Iterator[TableRef]:
    """The tables whose counts only grow between versions (themes are recoded, so
    their counts may fall: they are held to the cell rule alone)."""
    for entry in document.get("questions", ()):
        yield ("question", entry["id"])
    for entry in document.get("breakdowns", ()):
        yield ("breakdown", entry["question"], entry["by"])


def pinned_tables(
    earlier: Sequence[Document], document: Document, disclosure: sdc.Disclosure
) -> list[TableRef]:
    """The tables of `document` in which the attacker, holding it and every earlier
    version, can pin a hidden count to less than ⌊k/2⌋ where the versions on their own
    couldn't: a hidden count of the new version narrower than the new version alone
    leaves it, or one of an earlier version narrower than the earlier versions left it.
    (A table withheld whole may be narrow on its own already: nothing hides more.)"""
    if not earlier:
        return []
    need = disclosure.required_width - _EPS
    everything = [*earlier, document]
    failing = []
    for ref in _tables(document):
        joint = _history(everything, ref, everything)
        if joint is None:
            continue
        program, hidden = joint
        earlier_hidden = [var for version in hidden[:-1] for var in version]
        if _narrowed(program, hidden[-1], _history([document], ref, everything), need) or (
            _narrowed(program, earlier_hidden, _history(earlier, ref, everything), need)
        ):
            failing.append(ref)
    return failing


def _narrowed(
    program: _Program,
    hidden: Sequence[int],
    alone: tuple[_Program, list[list[int]]] | None,
    need: float,
) -> bool:
    """Whether a hidden count is narrower than `need` in `program` and narrower than
    in `alone`, the same counts' program without the other versions (built in the
    same order, so the hidden counts pair up by position)."""
    narrow = [i for i, var in enumerate(hidden) if not program.wide_enough(var, need)]
    if not narrow:
        return False
    if alone is None:
        return True
    single = [var for version in alone[1] for var in version]
    return any(program.width(hidden[i]) < alone[0].width(single[i]) - _EPS for i in narrow)


def _history(
    versions: Sequence[Document], ref: TableRef, layout: Sequence[Document]
) -> tuple[_Program, list[list[int]]] | None:
    """The attacker's program over `versions` of one table, its categories laid out
    as in `layout`, and each version's hidden counts; None when nothing is hidden."""
    if ref[0] == "question":
        return _question_history(versions, ref[1], layout)
    return _breakdown_history(versions, ref[1], ref[2], layout)


def shown_changes(earlier: Sequence[Document], document: Document, k: int) -> list[TableRef]:
    """Tables with a count shown in `document` and in an earlier version that moved
    by 1 to k−1 (the protection hides these; this is the check that it did)."""
    failing = []
    refs = list(_tables(document))
    if document.get("themes"):
        refs.append(("question", THEMES_TABLE))
        breakdown = document["themes"][0].get("breakdown")
        if breakdown:
            refs.append(("breakdown", THEMES_TABLE, breakdown["by"]))
    for ref in refs:
        for before in earlier:
            if _shown_change(before, document, ref, k):
                failing.append(ref)
                break
    return failing


def _shown_change(before: Document, document: Document, ref: TableRef, k: int) -> bool:
    if ref[0] == "question":
        old, new = question_table(before, ref[1]), question_table(document, ref[1])
        if old is None or new is None:
            return False
        pairs = list(
            zip(
                new["counts"],
                _aligned(new["categories"], old["categories"], old["counts"]),
                strict=True,
            )
        )
    else:
        old, new = (
            breakdown_table(before, ref[1], ref[2]),
            breakdown_table(document, ref[1], ref[2]),
        )
        if old is None or new is None:
            return False
        old_rows = dict(zip(old["rows"], old["counts"], strict=True))
        pairs = [
            (value, was)
            for row, counts in zip(new["rows"], new["counts"], strict=True)
            for value, was in zip(
                counts,
                _aligned(
                    new["columns"], old["columns"], old_rows.get(row, [None] * len(old["columns"]))
                ),
                strict=True,
            )
        ]
    return any(a is not None and b is not None and 0 < abs(a - b) < k for a, b in pairs)


def pinned_message(tables: Sequence[TableRef]) -> str:
    """The refusal when even hiding whole tables leaves a count of a few people
    recoverable across versions."""
    names = [_table_name(ref) for ref in tables]
    return (
        "This version can't be published yet: with the earlier versions beside it, a reader "
        f"could still work out a count of fewer than the survey's threshold in {', '.join(names)}, "
        "even with those counts hidden. Publish when more people have answered."
    )
