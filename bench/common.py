"""Helpers shared by the benchmarks: timing, medians, a table, a scratch database."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

RUNS = 5


async def median_rate(run: Callable[[], Awaitable[int]], runs: int = RUNS) -> tuple[float, float]:
    """Median and spread (min..max as ± half-range) of items/second over ``runs`` runs."""
    rates = []
    for _ in range(runs):
        start = time.perf_counter()
        count = await run()
        rates.append(count / (time.perf_counter() - start))
    return statistics.median(rates), (max(rates) - min(rates)) / 2


def scratch_sqlite() -> str:
    folder = Path(tempfile.mkdtemp(prefix="organise-bench-"))
    return f"sqlite+aiosqlite:///{folder / 'bench.db'}"


def table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(name) for name, _ in rows)
    print(f"\n{title}")
    print("-" * len(title))
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
