"""Disclosure control for published reports: no published number may single anyone out.

Survivors answer Chorus anonymously, and companies read the reports; a count of 2
in "under 18 / oppose" could point at a person someone knows. This module decides,
for each table in a report, which counts can be shown (`chorus-report/1` in
docs/report-format.md is the contract) and refuses report versions that could be
differenced against earlier ones.

The model of the attacker: they know everything published (every shown count, and
every published total) exactly, and that every suppressed cell is at least 1,
because zeros are always shown (a zero singles nobody out, and hiding zeros would
only make the page noisier). They solve a linear program for the smallest and
largest value each suppressed cell can take. The protection rule is that this
interval is at least ⌊k/2⌋ wide for every suppressed cell. Tables with published
row, column and grand totals have a totally unimodular constraint matrix, so the
continuous relaxation gives the same bounds an integer-programming attacker would.

What the module can't see, and how callers cover it:
- Linked tables. A breakdown's column sums are the question's one-way counts. Pass
  the one-way counts as `column_totals` (None where the one-way table suppressed
  them) and `answered` as `grand_total`: the breakdown's LP then contains everything
  the one-way table publishes, and an unpublished total is protected like a hidden
  cell, so the breakdown can't undo the one-way table's suppression.
- Earlier versions. A table is protected against what earlier versions published of
  it through `Earlier` (cells to hide, and what each count is known to be at least);
  admin/analysis/differencing.py works those out and audits the whole history.
- Rounded figures are treated as exact by the check (a stronger attacker than the
  real one), so rounding only ever adds protection.
- An attacker who knows this algorithm (e.g. that complements are the smallest
  cells) learns slightly more than the LP; the rule, like the contract, is stated
  for the LP attacker.

Everything here is a pure function of plain numbers: no Flask, no database, so it
can be tested on its own and reused by the report builder, the CLI and the tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from scipy.optimize import linprog

# Every hidden cell, primary or complementary, shows the format's one word for it, so
# the page doesn't tell which hidden cells are the small ones.
from survey.i18n import N_, translate_to
from survey.report_format import SUPPRESSED

MIN_K = 5
"""No survey may suppress below 5: smaller thresholds single people out too easily."""

ROUNDING_BASES = (5,)
MAX_CELLS = 400
"""Breakdowns are a group_by question against another question: a few dozen cells.
Anything larger is refused rather than checked slowly or not at all."""

_LP_BUDGET = 600
"""LP solves spent on optional work (choosing between candidate complements, and
removing complements that turn out unnecessary). The final protection check is never
budgeted: a table is only returned once the check has passed."""

_CANDIDATES_EVALUATED = 6
_EPS = 1e-6


@dataclass(frozen=True)
class Disclosure:
    """A survey's disclosure settings: the small-cell threshold k and optional rounding.

    Rounding (base 5) adds uncertainty on top of suppression: every shown count is
    only known to ±2, and small changes between report versions often leave the
    rounded figures unchanged, which is why the differencing guard accepts rounded
    versions. It is not a substitute for suppression (rounding can be partly undone
    by combining tables with their totals), so suppression always runs first and the
    protection check treats shown counts as if they were exact.
    """

    k: int = 10
    rounding: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < MIN_K:
            raise ValueError(
                f"suppression k must be an integer of at least {MIN_K}, not {self.k!r}"
            )
        if self.rounding is not None and self.rounding not in ROUNDING_BASES:
            raise ValueError(f"rounding must be None or 5, not {self.rounding!r}")

    @property
    def required_width(self) -> int:
        """How wide every suppressed cell's interval must stay: ⌊k/2⌋ (5 when k = 10)."""
        return self.k // 2


@dataclass(frozen=True)
class Interval:
    """The smallest and largest value an attacker can derive for a hidden quantity."""

    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low


@dataclass
class ProtectedCounts:
    """A one-way table (a question's answer counts) ready to publish.

    `primary` is for analysts' eyes only: publishing it would tell readers which
    hidden cells are the small ones.
    """

    counts: list[int | None]
    display: list[str]
    percent: list[float | None]
    suppressed: list[bool]
    primary: list[bool]
    answered: int
    """The total to publish as `answered` (rounded when rounding is on)."""
    withheld: bool = False
    """True when no pattern of suppression protects the table; every cell is hidden."""


@dataclass
class ProtectedTable:
    """A two-way table (a breakdown) ready to publish; percentages are within each row."""

    counts: list[list[int | None]]
    display: list[list[str]]
    percent: list[list[float | None]]
    suppressed: list[list[bool]]
    primary: list[list[bool]]
    withheld: bool = False
    """True when no suppression pattern meets the protection rule: every cell is hidden
    and the caller shows "too few respondents for this breakdown" instead."""


# --- The attacker's linear program -------------------------------------------------


@dataclass
class _Problem:
    """A table flattened to cells and the lines (rows, columns, totals) that sum them.

    A line whose total is None is not published; it constrains nothing, but when
    `protected` it is itself a hidden quantity (a total suppressed elsewhere) that
    must stay as uncertain as a suppressed cell.
    """

    values: list[int]
    lines: list[tuple[tuple[int, ...], int | None]]
    need: int
    protected_lines: list[int] = field(default_factory=list)
    floors: list[int] | None = None
    """The least each hidden cell can be, as the attacker knows it: 1 (zeros are
    shown), or more where an earlier version published the cell (answers are only
    ever added once a report is out, so a count never falls below its last
    published value). None: 1 for every cell."""
    budget: int = _LP_BUDGET
    seen: list[np.ndarray] = field(default_factory=list)
    """Whole tables the attacker can't rule out, found by earlier LPs. One found for
    a pattern stays possible for any pattern that hides more (the extra cells at their
    true values), so they are reused while the search grows the pattern."""

    def __post_init__(self) -> None:
        self.truth = np.array(self.values, dtype=float)
        if self.floors is None:
            self.floors = [1] * len(self.values)


# A target is a hidden quantity whose interval must stay wide: ("cell", i) or ("line", j).
_Target = tuple[str, int]


class _Attacker:
    """The attacker's LP for one suppression pattern: published equalities over the
    suppressed cells, each of which is at least 1.

    Every LP solution is a table the attacker cannot rule out, so solutions are kept
    and reused: a target already seen to vary by the required width needs no more
    solves. This keeps a typical table to a handful of LPs.
    """

    def __init__(self, problem: _Problem, suppressed: frozenset[int]) -> None:
        self.problem = problem
        self.floors = problem.floors or [1] * len(problem.values)
        self.cells = sorted(suppressed)
        self.position = {cell: i for i, cell in enumerate(self.cells)}
        rows: list[np.ndarray] = []
        rhs: list[float] = []
        self.constrained: set[int] = set()
        for cells, total in problem.lines:
            if total is None:
                continue
            hidden = [self.position[c] for c in cells if c in self.position]
            if not hidden:
                continue
            row = np.zeros(len(self.cells))
            row[hidden] = 1.0
            rows.append(row)
            rhs.append(total - sum(problem.values[c] for c in cells if c not in self.position))
            self.constrained.update(hidden)
        self.a_eq = np.array(rows) if rows else None
        self.b_eq = np.array(rhs) if rhs else None
        shown = np.ones(len(problem.values), dtype=bool)
        shown[self.cells] = False
        self.points = [problem.truth[self.cells]]
        self.points += [
            p[self.cells] for p in problem.seen if np.array_equal(p[shown], problem.truth[shown])
        ]
        self.solves = 0

    def objective(self, target: _Target) -> tuple[np.ndarray, float, bool]:
        """The target as c·x + constant over the hidden cells, and whether it is bounded."""
        c = np.zeros(len(self.cells))
        kind, index = target
        if kind == "cell":
            members: Sequence[int] = (index,)
        else:
            members = self.problem.lines[index][0]
        constant = 0.0
        bounded = True
        for cell in members:
            if cell in self.position:
                c[self.position[cell]] = 1.0
                bounded = bounded and self.position[cell] in self.constrained
            else:
                constant += self.problem.values[cell]
        return c, constant, bounded

    def _solve(self, c: np.ndarray, sense: int) -> float:
        """Optimise c·x (sense +1 minimises, -1 maximises); remember the solution."""
        self.solves += 1
        result = linprog(
            sense * c,
            A_eq=self.a_eq,
            b_eq=self.b_eq,
            bounds=[(self.floors[cell], None) for cell in self.cells],
            method="highs",
        )
        if result.status == 3:
            return -sense * float("inf")
        if result.status != 0:
            # The true table is always feasible, so this is a solver failure: refuse to
            # guess rather than publish on an unverified pattern.
            raise RuntimeError(f"disclosure LP failed: {result.message}")
        assert result.x is not None  # status 0: the solver found a solution
        self.points.append(result.x)
        whole = self.problem.truth.copy()
        whole[self.cells] = result.x
        self.problem.seen.append(whole)
        return float(c @ result.x)

    def interval(self, target: _Target) -> Interval:
        """The exact interval of the target."""
        c, constant, bounded = self.objective(target)
        if not c.any():
            value = constant
            return Interval(value, value)
        low = self._solve(c, +1)
        high = self._solve(c, -1) if bounded else float("inf")
        return Interval(low + constant, high + constant)

    def wide_enough(self, target: _Target) -> bool:
        """Whether the target's interval is at least the required width, solving as few
        LPs as the solutions seen so far allow."""
        need = self.problem.need
        c, _constant, bounded = self.objective(target)
        if not c.any():
            return need <= 0
        if not bounded:
            return True
        if self._spread(c) >= need - _EPS:
            return True
        self._solve(c, -1)
        if self._spread(c) >= need - _EPS:
            return True
        self._solve(c, +1)
        return self._spread(c) >= need - _EPS

    def _spread(self, c: np.ndarray) -> float:
        seen = [float(c @ p) for p in self.points]
        return max(seen) - min(seen)


def _targets(problem: _Problem, suppressed: frozenset[int], primary: frozenset[int]):
    """Hidden quantities in checking order: primary cells (smallest first), then
    complements, then protected unpublished totals. The order only decides which
    failure is fixed first; every target is checked before a table is accepted."""
    values = problem.values
    cells = sorted(suppressed, key=lambda i: (i not in primary, values[i], i))
    return [("cell", i) for i in cells] + [("line", j) for j in problem.protected_lines]


def _first_failure(
    problem: _Problem, suppressed: frozenset[int], primary: frozenset[int]
) -> _Target | None:
    """The first hidden quantity the attacker can pin too narrowly, or None if safe."""
    attacker = _Attacker(problem, suppressed)
    try:
        for target in _targets(problem, suppressed, primary):
            if not attacker.wide_enough(target):
                return target
        return None
    finally:
        problem.budget -= attacker.solves


def _wide_enough(problem: _Problem, suppressed: frozenset[int], target: _Target) -> bool:
    attacker = _Attacker(problem, suppressed)
    try:
        return attacker.wide_enough(target)
    finally:
        problem.budget -= attacker.solves


def _width(problem: _Problem, suppressed: frozenset[int], target: _Target) -> float:
    attacker = _Attacker(problem, suppressed)
    try:
        return attacker.interval(target).width
    finally:
        problem.budget -= attacker.solves


def _candidates(problem: _Problem, suppressed: frozenset[int], target: _Target):
    """Unsuppressed non-zero cells that could widen the target: those sharing a line
    with it first (smallest count first, then position, so results are deterministic),
    then every other one as the broader fallback."""
    kind, index = target
    if kind == "cell":
        near_lines = [cells for cells, _ in problem.lines if index in cells]
    else:
        near_lines = [problem.lines[index][0]]
    open_cells = [i for i, v in enumerate(problem.values) if v > 0 and i not in suppressed]
    near_set = {c for cells in near_lines for c in cells}

    def order(i: int) -> tuple[int, int]:
        return (problem.values[i], i)

    near = sorted((i for i in open_cells if i in near_set), key=order)
    far = sorted((i for i in open_cells if i not in near_set), key=order)
    return near, far


def _choose(problem: _Problem, suppressed: frozenset[int], target: _Target) -> int | None:
    """The next complementary cell: among the cells sharing a line with the target
    (or, failing those, any other non-zero cell), the smallest whose suppression
    alone makes the target wide enough, else simply the smallest. In a 2-D table with
    published margins a lone complement rarely widens anything (its own column pins
    it), so rather than hunting for one that does, the loop takes the smallest and
    then protects it in turn, which builds the classic rectangle; the pruning pass in
    `_protect` removes any complement that turns out unnecessary."""
    near, far = _candidates(problem, suppressed, target)
    pool = near or far
    if not pool:
        return None
    if problem.budget > 0:
        for cell in pool[:_CANDIDATES_EVALUATED]:
            if _wide_enough(problem, suppressed | {cell}, target):
                return cell
    return pool[0]


def _protect(problem: _Problem, primary: frozenset[int]) -> tuple[frozenset[int], bool]:
    """Suppress complements until every hidden quantity is protected; then drop the
    complements that turn out unnecessary (largest first, since large counts are the
    most informative ones to show). Returns the pattern and whether it is withheld."""
    suppressed = primary
    while True:
        failure = _first_failure(problem, suppressed, primary)
        if failure is None:
            break
        cell = _choose(problem, suppressed, failure)
        if cell is None:
            return frozenset(range(len(problem.values))), True
        suppressed = suppressed | {cell}
    for cell in sorted(suppressed - primary, key=lambda i: (-problem.values[i], -i)):
        if problem.budget <= 0:
            break
        trial = suppressed - {cell}
        if _first_failure(problem, trial, primary) is None:
            suppressed = trial
    return suppressed, False


def _pinned_anyway(problem: _Problem, line: int) -> bool:
    """Whether the published totals alone pin an unpublished total, even with every
    cell hidden: then it isn't this table's to protect (it was never hidden)."""
    everything = frozenset(i for i, v in enumerate(problem.values) if v > 0)
    return _width(problem, everything, ("line", line)) < problem.need - _EPS


# --- Figures for display -----------------------------------------------------------


def rounded(value: int, disclosure: Disclosure) -> int:
    """Round to the nearest multiple of the base (integers never tie at base 5)."""
    base = disclosure.rounding
    if base is None:
        return value
    return base * ((value + base // 2) // base)


def _percent(count: int, total: int) -> float | None:
    """count / total × 100 to one decimal, halves rounded up so figures don't depend
    on binary floating point."""
    if total <= 0:
        return None
    value = Decimal(count * 100) / Decimal(total)
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _check_counts(values: Sequence[int]) -> list[int]:
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 0:
            raise ValueError(f"counts must be non-negative integers, not {v!r}")
        out.append(int(v))
    return out


# --- Public API -------------------------------------------------------------------


@dataclass(frozen=True)
class Earlier:
    """What earlier versions of a report published about a table's cells, flattened as
    the table is (row by row): `hide` marks cells whose change since an earlier
    version is 1 to k−1 people (they must be hidden as if they were small), `floors`
    is the least the attacker knows each cell to be (see `_Problem.floors`), and
    `withhold` hides every non-zero cell when nothing less survives the check across
    versions (admin/analysis/differencing.py)."""

    hide: Sequence[bool] = ()
    floors: Sequence[int] = ()
    withhold: bool = False


NOTHING_EARLIER = Earlier()


def _with_earlier(
    values: list[int], primary: frozenset[int], earlier: Earlier
) -> tuple[frozenset[int], list[int] | None]:
    """The primary cells and floors once earlier versions are taken into account.
    A floor above the true count (possible only if a count fell since, which the
    attacker would then see) is left at 1 rather than make the program infeasible."""
    nonzero = frozenset(i for i, v in enumerate(values) if v > 0)
    if earlier.withhold:
        primary = nonzero
    if earlier.hide:
        primary |= frozenset(i for i, hide in enumerate(earlier.hide) if hide) & nonzero
    floors = None
    if earlier.floors:
        floors = [
            floor if 1 <= floor <= value else 1
            for floor, value in zip(earlier.floors, values, strict=True)
        ]
    return primary, floors


def protect_counts(
    counts: Sequence[int], disclosure: Disclosure, earlier: Earlier = NOTHING_EARLIER
) -> ProtectedCounts:
    """Protect a question's answer counts; their sum is published as `answered`.

    Primary suppression hides 0 < count < k, and each count that changed by 1 to
    k−1 since an earlier version (`earlier`). Since `answered` is published, a single
    hidden cell could be recovered by subtraction, so further cells are hidden until
    the attacker's interval for every hidden cell is at least ⌊k/2⌋ wide. Zeros are
    shown. If even hiding every non-zero count can't meet the rule (say, 3 people
    answered at all), the table is withheld.
    """
    values = _check_counts(counts)
    answered = sum(values)
    primary = frozenset(i for i, v in enumerate(values) if 0 < v < disclosure.k)
    primary, floors = _with_earlier(values, primary, earlier)
    problem = _Problem(
        values=values,
        lines=[(tuple(range(len(values))), answered)],
        need=disclosure.required_width,
        floors=floors,
    )
    suppressed, withheld = _protect(problem, primary)
    published_answered = rounded(answered, disclosure)
    shown = [None if i in suppressed else rounded(v, disclosure) for i, v in enumerate(values)]
    return ProtectedCounts(
        counts=shown,
        display=[SUPPRESSED if c is None else str(c) for c in shown],
        percent=[None if c is None else _percent(c, published_answered) for c in shown],
        suppressed=[i in suppressed for i in range(len(values))],
        primary=[i in primary for i in range(len(values))],
        answered=published_answered,
        withheld=withheld or earlier.withhold,
    )


def _table_problem(
    table: Sequence[Sequence[int]],
    row_totals: Sequence[int | None] | None,
    column_totals: Sequence[int | None] | None,
    grand_total: int | None,
) -> tuple[list[int], int, int, list[tuple[tuple[int, ...], int | None]]]:
    rows = [_check_counts(r) for r in table]
    n_rows = len(rows)
    n_cols = len(rows[0]) if rows else 0
    if n_rows == 0 or n_cols == 0 or any(len(r) != n_cols for r in rows):
        raise ValueError("a table needs at least one row and column, all rows the same length")
    if n_rows * n_cols > MAX_CELLS:
        raise ValueError(f"a {n_rows}×{n_cols} breakdown is too large to check for disclosure")
    if row_totals is not None and len(row_totals) != n_rows:
        raise ValueError("row_totals must have one entry a row")
    if column_totals is not None and len(column_totals) != n_cols:
        raise ValueError("column_totals must have one entry a column")
    values = [v for r in rows for v in r]
    lines: list[tuple[tuple[int, ...], int | None]] = []
    for i in range(n_rows):
        total = None if row_totals is None else row_totals[i]
        lines.append((tuple(i * n_cols + j for j in range(n_cols)), total))
    for j in range(n_cols):
        total = None if column_totals is None else column_totals[j]
        lines.append((tuple(i * n_cols + j for i in range(n_rows)), total))
    lines.append((tuple(range(len(values))), grand_total))
    for cells, total in lines:
        if total is not None and total != sum(values[c] for c in cells):
            raise ValueError("a published total must equal the sum of its cells")
    return values, n_rows, n_cols, lines


def protect_table(
    table: Sequence[Sequence[int]],
    disclosure: Disclosure,
    row_totals: Sequence[int | None] | None,
    column_totals: Sequence[int | None] | None,
    grand_total: int | None,
    *,
    protect_unpublished_totals: bool = True,
    earlier: Earlier = NOTHING_EARLIER,
) -> ProtectedTable:
    """Protect a breakdown (rows: categories of a group_by question; columns: the
    other question's categories).

    The totals are what the attacker knows exactly from elsewhere in the report: pass
    the table's own sums for published ones and None for those not published (a
    total suppressed in its one-way table, say). A None total is itself hidden
    information, so with `protect_unpublished_totals` (the default) it must stay at
    least ⌊k/2⌋ wide too, unless the published totals alone already pin it; otherwise
    showing a whole column could give away a count the one-way table suppressed.

    Percentages are within each row (the share of a group giving each answer), from
    the published row total; None where the row total isn't published, since they
    would reveal it.
    """
    need = disclosure.required_width
    values, n_rows, n_cols, lines = _table_problem(table, row_totals, column_totals, grand_total)
    primary = frozenset(i for i, v in enumerate(values) if 0 < v < disclosure.k)
    primary, floors = _with_earlier(values, primary, earlier)
    problem = _Problem(values=values, lines=lines, need=need, floors=floors)
    if protect_unpublished_totals:
        problem.protected_lines = [
            j
            for j, (cells, total) in enumerate(lines)
            if total is None
            and sum(values[c] for c in cells) > 0
            and not _pinned_anyway(problem, j)
        ]
    suppressed, withheld = _protect(problem, primary)

    def cell(i: int, j: int) -> int:
        return i * n_cols + j

    counts: list[list[int | None]] = []
    percent: list[list[float | None]] = []
    for i in range(n_rows):
        row = [
            None if cell(i, j) in suppressed else rounded(values[cell(i, j)], disclosure)
            for j in range(n_cols)
        ]
        counts.append(row)
        total = None if row_totals is None else row_totals[i]
        base = None if total is None else rounded(total, disclosure)
        percent.append([None if c is None or base is None else _percent(c, base) for c in row])
    return ProtectedTable(
        counts=counts,
        display=[[SUPPRESSED if c is None else str(c) for c in row] for row in counts],
        percent=percent,
        suppressed=[[cell(i, j) in suppressed for j in range(n_cols)] for i in range(n_rows)],
        primary=[[cell(i, j) in primary for j in range(n_cols)] for i in range(n_rows)],
        withheld=withheld or earlier.withhold,
    )


def attacker_intervals(
    table: Sequence[Sequence[int]],
    suppressed: Sequence[Sequence[bool]],
    row_totals: Sequence[int | None] | None,
    column_totals: Sequence[int | None] | None,
    grand_total: int | None,
) -> list[list[Interval | None]]:
    """What an attacker can derive about each suppressed cell: the exact min and max
    of the cell subject to every published total, shown cells fixed at their values,
    and suppressed cells ≥ 1 (zeros are shown). None for shown cells; an unbounded
    cell (in no published line) has high = inf.

    A one-way table is a single row whose row total (`answered`) is published:
    `attacker_intervals([counts], [suppressed], [sum(counts)], None, None)`.
    """
    values, n_rows, n_cols, lines = _table_problem(table, row_totals, column_totals, grand_total)
    hidden = frozenset(
        i * n_cols + j for i in range(n_rows) for j in range(n_cols) if suppressed[i][j]
    )
    attacker = _Attacker(_Problem(values=values, lines=lines, need=0), hidden)
    return [
        [
            attacker.interval(("cell", i * n_cols + j)) if i * n_cols + j in hidden else None
            for j in range(n_cols)
        ]
        for i in range(n_rows)
    ]


def method_text(disclosure: Disclosure, language: str = "en") -> str:
    """The sentence for the report's method section, so readers know hidden cells
    aren't necessarily small and rounded figures may not add up (in `language`, the
    report's: it is written into the document)."""
    text = translate_to(
        language,
        N_("Counts below %(k)s, and counts that would reveal them, are not shown."),
        k=disclosure.k,
    )
    if disclosure.rounding:
        text += " " + translate_to(
            language,
            N_(
                "Other counts are rounded to the nearest %(base)s, and percentages are worked "
                "out from the rounded figures, so they may not add up exactly."
            ),
            base=disclosure.rounding,
        )
    return text


def differencing_problem(
    previous_respondents: Sequence[int], respondents: int, disclosure: Disclosure
) -> str | None:
    """Why a new version can't be published yet, or None if it can.

    If version 2 had 400 respondents and version 3 has 403, subtracting the two
    reports describes the 3 people who answered in between, whatever suppression
    each one got on its own. So a published respondent total (rounded when the report
    rounds) differing from any earlier published version's (`previous_respondents[0]`
    is version 1) by 1 to k−1 is refused: the quick check the report page makes before
    building; admin/analysis/differencing.py holds every other published number to
    the same rule.
    """
    k = disclosure.k

    def clashes_at(total: int) -> list[tuple[int, int]]:
        return [
            (version, abs(total - earlier))
            for version, earlier in enumerate(previous_respondents, start=1)
            if 0 < abs(total - earlier) < k
        ]

    clashes = clashes_at(respondents)
    if not clashes:
        return None
    # A threshold that stays valid as more people answer: past every earlier total by k.
    more = max(earlier + k - respondents for earlier in previous_respondents)
    differences = " and ".join(
        f"version {version} by {diff} respondent{'' if diff == 1 else 's'}"
        for version, diff in clashes
    )
    return (
        f"This version's {respondents} respondents differ from {differences}; comparing "
        f"the two could single out the people who answered in between. Publish when at "
        f"least {more} more {'has' if more == 1 else 'have'} answered."
    )


def report_too_small(respondents: int, min_report_n: int) -> str | None:
    """Why a report can't be published with so few respondents, or None if it can."""
    if respondents >= min_report_n:
        return None
    return (
        f"Only {respondents} {'person has' if respondents == 1 else 'people have'} answered; "
        f"this survey's reports need at least {min_report_n}, so that nobody can be "
        f"singled out."
    )
