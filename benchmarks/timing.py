"""How the benchmarks time a call and read its memory: the best of a few runs on this shared
machine, and the process's peak resident memory (VmHWM), reset between stages.

Imported by the ``bench_*.py`` scripts, which run from this folder (``python benchmarks/...``).
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
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


def status_mb(field: str) -> float:
    """A memory field of /proc/self/status in MB (``VmRSS`` now, ``VmHWM`` the peak)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak() -> None:
    """Reset the kernel's peak RSS (VmHWM), so the next stage's peak is its own."""
    gc.collect()
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def measured_in_child(script: str, kind: str, path: Path) -> dict:
    """Run ``script --measure KIND PATH`` in a fresh Python process, so its time and peak memory
    are its own, and return the JSON dict it prints on its last line."""
    done = subprocess.run(
        [sys.executable, script, "--measure", kind, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def pm4py_input(log: Any) -> Any:
    """The log as pm4py takes it fastest: its four columns, events without a department dropped
    (pm4py sorts a variant's departments and fails on a missing one; procmine's department
    sequences skip them) and text as object-dtype strings (on pandas' own string dtype pm4py's
    variant code runs at less than half the speed)."""
    log = log[["case:concept:name", "concept:name", "time:timestamp", "org:group"]]
    log = log.dropna(subset=["org:group"])
    return log.astype(
        {"case:concept:name": object, "concept:name": object, "org:group": object}
    ).reset_index(drop=True)
