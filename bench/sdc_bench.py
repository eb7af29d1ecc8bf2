"""Time admin.analysis.sdc on random breakdowns: typical report tables should take < 50 ms."""

from __future__ import annotations

import random
import statistics
import time

from admin.analysis.sdc import Disclosure, protect_counts, protect_table


def random_table(rng: random.Random, n_rows: int, n_cols: int) -> list[list[int]]:
    return [
        [
            rng.choice([rng.randint(0, 9), rng.randint(0, 40), rng.randint(20, 300)])
            for _ in range(n_cols)
        ]
        for _ in range(n_rows)
    ]


def main() -> None:
    rng = random.Random(7)
    disclosure = Disclosure()
    protect_counts([1, 2, 30], disclosure)  # import and warm scipy
    for n_rows, n_cols in [(2, 3), (2, 5), (4, 5), (5, 5), (6, 10)]:
        times = []
        withheld = 0
        for _ in range(30):
            table = random_table(rng, n_rows, n_cols)
            rows = [sum(r) for r in table]
            cols = [sum(c) for c in zip(*table, strict=True)]
            start = time.perf_counter()
            result = protect_table(table, disclosure, rows, cols, sum(rows))
            times.append(time.perf_counter() - start)
            withheld += result.withheld
        print(
            f"{n_rows}×{n_cols}: median {statistics.median(times) * 1000:.1f} ms, "
            f"max {max(times) * 1000:.1f} ms, withheld {withheld}/30"
        )
    times = []
    for _ in range(200):
        counts = [rng.choice([rng.randint(0, 9), rng.randint(0, 300)]) for _ in range(6)]
        start = time.perf_counter()
        protect_counts(counts, disclosure)
        times.append(time.perf_counter() - start)
    print(
        f"one-way ×6: median {statistics.median(times) * 1000:.1f} ms, "
        f"max {max(times) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
