"""The figures of a run, and which of its errors fail it.

A request that didn't get its expected answer fails the run unless a fault was
under way (see loadtest/faults.py) AND it failed calmly: no answer at all (the
connection dropped or was refused), nginx's 502/503/504 while the app was away,
or one of Chorus's own error pages with its security headers. A bare 500 (no
Chorus page, no security headers) and any 4xx fail the run whenever they come.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.loadtest.client import GAVE_UP, Flow, Sample
from bench.loadtest.faults import FaultWindow


def calm_during_fault(sample: Sample) -> bool:
    outcome = sample.outcome
    if outcome.startswith("connection: ") or outcome.endswith(" from nginx"):
        return True
    return outcome.endswith("Chorus page") and (sample.status or 0) >= 500


def percentile(sorted_values: Sequence[float], share: float) -> float:
    """Nearest rank: the smallest value with at least `share` of them at or below it."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * share // 1))
    return sorted_values[int(rank) - 1]


@dataclass
class Figures:
    seconds: float
    flows_finished: int
    requests: int
    static_requests: int
    latency_ms: dict[str, tuple[float, float, float]]  # label -> p50, p95, p99
    errors_outside_faults: Counter[str] = field(default_factory=Counter)
    errors_during_faults: Counter[str] = field(default_factory=Counter)
    errors_by_window: dict[str, Counter[str]] = field(default_factory=dict)
    slowest: list[Sample] = field(default_factory=list)
    failed_requests: int = 0

    @property
    def flows_per_second(self) -> float:
        return self.flows_finished / self.seconds

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds


def figures(
    samples: Sequence[Sample], flows: Sequence[Flow], seconds: float, windows: Sequence[FaultWindow]
) -> Figures:
    latencies: dict[str, list[float]] = {}
    outside: Counter[str] = Counter()
    during: Counter[str] = Counter()
    by_window: dict[str, Counter[str]] = {}
    failed = 0
    for sample in samples:
        if sample.outcome == "ok":
            ms = (sample.ended - sample.started) * 1000
            latencies.setdefault("all", []).append(ms)
            latencies.setdefault(sample.label, []).append(ms)
            continue
        window = next((w for w in windows if w.covers(sample.started, sample.ended)), None)
        faulty = window is not None
        key = f"{sample.label}: {sample.outcome}"
        if window is not None:
            by_window.setdefault(window.what, Counter())[key] += 1
        if faulty and calm_during_fault(sample):
            during[key] += 1
        else:
            outside[key if not faulty else f"{key} (during a fault, not calm)"] += 1
            failed += 1
    table = {}
    for label, values in latencies.items():
        values.sort()
        table[label] = (
            percentile(values, 0.50),
            percentile(values, 0.95),
            percentile(values, 0.99),
        )
    answered = [s for s in samples if s.outcome == "ok"]
    answered.sort(key=lambda s: s.started - s.ended)
    return Figures(
        slowest=answered[:5],
        seconds=seconds,
        flows_finished=sum(1 for f in flows if f.finished),
        requests=len(samples),
        static_requests=sum(1 for s in samples if s.label == "GET static"),
        latency_ms=table,
        errors_outside_faults=outside,
        errors_during_faults=during,
        errors_by_window=by_window,
        failed_requests=failed,
    )


def flow_failures(flows: Sequence[Flow]) -> Counter[str]:
    """Why flows stopped early, other than the end of the run."""
    expected = ("the run ended", GAVE_UP)
    return Counter(f.failure for f in flows if f.failure and f.failure not in expected)


def latency_lines(figs: Figures) -> list[str]:
    lines = []
    order = ["all", "GET landing", "POST start", "GET section", "POST section", "POST submit"]
    for label in order + sorted(set(figs.latency_ms) - set(order)):
        if label in figs.latency_ms:
            p50, p95, p99 = figs.latency_ms[label]
            lines.append(f"    {label:<20} p50 {p50:7.1f}  p95 {p95:7.1f}  p99 {p99:7.1f}")
    return lines
