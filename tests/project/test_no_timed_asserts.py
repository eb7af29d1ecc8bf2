"""No test measures how long something takes: a shared, busy machine would fail the
suite for nothing. Timings belong in bench/ (beside a floor measured in the same run).
Clocks that tests move by hand (time.monotonic, time.time, monkeypatched) are fine;
the stopwatch clocks are not."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
STOPWATCH = re.compile(r"\b(perf_counter|process_time|thread_time|timeit)\b")


def test_no_test_times_anything():
    found = [
        f"{path.relative_to(TESTS)}:{number}: {line.strip()}"
        for path in sorted(TESTS.rglob("*.py"))
        if path != Path(__file__).resolve()
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1)
        if STOPWATCH.search(line)
    ]
    assert not found, "time this in bench/ instead:\n" + "\n".join(found)
