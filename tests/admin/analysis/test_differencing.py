"""The check across versions on plain numbers: random question counts that grow from
one version to the next, protected as the report builder protects them, then
attacked with a linear program written out here, apart from the module's own."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from admin.analysis import differencing, sdc
from admin.analysis.differencing import EarlierVersions

K = 10
DISCLOSURE = sdc.Disclosure(k=K)
CATEGORIES = ["a", "b", "c", "d"]


def one_way(version: int, counts: list[int], earlier: EarlierVersions | None) -> dict:
    """A document with one single-choice question, protected as admin/analysis/
    published.py protects it."""
    protection = earlier.counts("q", CATEGORIES, counts) if earlier else sdc.NOTHING_EARLIER
    protected = sdc.protect_counts(counts, DISCLOSURE, protection)
    return {
        "version": version,
        "respondents": sum(counts),
        "disclosure": {"k": K, "rounding": None},
        "questions": [
            {
                "id": "q",
                "type": "single_choice",
                "categories": CATEGORIES,
                "counts": protected.counts,
                "answered": sum(counts),
                "prefer_not_to_say": 0,
                "skipped": 0,
                "not_shown": 0,
            }
        ],
        "breakdowns": [],
        "themes": [],
    }


def next_version(first: dict, counts: list[int]) -> tuple[dict | None, str]:
    """Version 2 as build_report makes it: protected against version 1, audited, the
    table withheld if the audit fails; or None and why it would be refused."""
    if differencing.margin_changes([first], one_way(2, counts, None), K):
        return None, "a base moved"
    earlier = EarlierVersions([first], DISCLOSURE)
    for _ in range(2):
        second = one_way(2, counts, earlier)
        failing = set(differencing.shown_changes([first], second, K))
        failing |= set(differencing.pinned_tables([first], second, DISCLOSURE))
        if not failing:
            return second, ""
        earlier.withhold |= failing
    return None, "pinned even when withheld"


def widths(first: dict, second: dict) -> list[float]:
    """The attacker's interval width for every hidden count of both versions: each
    version's counts add up to its `answered`, hidden ones are at least 1, and no
    count of version 2 is below the same count of version 1."""
    old, new = first["questions"][0], second["questions"][0]
    n = len(CATEGORIES)
    # Variables: version 1's four counts, then version 2's; shown ones fixed.
    bounds = []
    for entry in (old, new):
        low = 0 if all(c is None for c in entry["counts"]) else 1  # withheld: zeros too
        bounds += [(low, None) if c is None else (c, c) for c in entry["counts"]]
    a_eq = np.zeros((2, 2 * n))
    a_eq[0, :n] = 1
    a_eq[1, n:] = 1
    b_eq = [old["answered"], new["answered"]]
    a_ub = np.zeros((n, 2 * n))
    for i in range(n):
        a_ub[i, i], a_ub[i, n + i] = 1, -1
    out = []
    for var, (low, high) in enumerate(bounds):
        if low == high:
            continue
        c = np.zeros(2 * n)
        c[var] = 1
        least = linprog(c, A_ub=a_ub, b_ub=[0] * n, A_eq=a_eq, b_eq=b_eq, bounds=bounds)
        most = linprog(-c, A_ub=a_ub, b_ub=[0] * n, A_eq=a_eq, b_eq=b_eq, bounds=bounds)
        out.append(-most.fun - least.fun)
    return out


counts = st.lists(st.integers(min_value=0, max_value=60), min_size=4, max_size=4)


@settings(max_examples=60, deadline=None)
@given(first_counts=counts, added=counts)
def test_no_version_pair_narrows_a_hidden_count_or_shows_a_small_change(first_counts, added):
    first = one_way(1, first_counts, None)
    if any(w < K // 2 for w in widths(first, first)):
        return  # version 1 withheld whole and narrow on its own: nothing hides more
    now = [a + b for a, b in zip(first_counts, added, strict=True)]
    second, refused = next_version(first, now)
    if refused == "a base moved":
        assert 0 < sum(added) < K
        return
    if refused:
        # Even version 2 withheld whole would narrow a hidden count of version 1.
        withheld = one_way(2, now, EarlierVersions([first], DISCLOSURE, {("question", "q")}))
        assert any(w < K // 2 for w in widths(first, withheld))
        return
    assert second is not None
    old, new = first["questions"][0]["counts"], second["questions"][0]["counts"]
    for was, shown in zip(old, new, strict=True):
        if was is not None and shown is not None:
            assert shown - was == 0 or shown - was >= K
    assert all(w >= K // 2 for w in widths(first, second))


def test_a_small_change_in_answered_is_refused_not_hidden():
    first = one_way(1, [40, 30, 20, 0], None)
    assert next_version(first, [40, 30, 20, 1]) == (None, "a base moved")
    changes = differencing.margin_changes([first], one_way(2, [40, 30, 20, 1], None), K)
    message = differencing.margin_message(changes, K)
    assert "“q” answered by 1" in message and "at least 9 more" in message


def test_versions_that_contradict_each_other_are_an_error_not_a_guess():
    """A count lower than in an earlier version (answers never shrink once a report
    is out): the check can prove nothing, and says so."""
    import pytest

    first = one_way(1, [40, 30, 5, 0], None)  # 5 hidden, with a complement
    second = one_way(2, [40, 30, 0, 0], None)
    second["questions"][0]["counts"] = [None, None, 0, 0]
    second["questions"][0]["answered"] = 70
    second["respondents"] = 70
    with pytest.raises(differencing.HistoryError, match="don't fit together"):
        differencing.pinned_tables([first], second, DISCLOSURE)
