"""How the benchmarks time a call: the best of a few runs on this shared machine.

Imported by the ``bench_*.py`` scripts, which run from this folder (``python benchmarks/...``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def repeats(events: int) -> int:
    """Runs per measurement: the best of three up to two million events (single timings on a
    shared two-core machine vary by ±30 %), one above (a 10 M run takes a minute)."""
    return 3 if events <= 2_000_000 else 1


def best_of(repeat: int, call: Callable[[], Any]) -> tuple[float, Any]:
    """The shortest of ``repeat`` runs of ``call`` in seconds, and the last run's result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        del out  # the previous result is freed before the next run, as a session would
        started = time.perf_counter()
        out = call()
        best = min(best, time.perf_counter() - started)
    return best, out
