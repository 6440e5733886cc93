"""Every figure timed on two versions of procmine in the same run: a refactor's check.

    flock /tmp/procmine-heavy.lock .venv/bin/python benchmarks/bench_compare.py \\
        --before 0504ac4 --events 1000000 10000000

The version ``--before`` (a git revision) is checked out into a temporary worktree; each size
then runs ``bench_analyses.py``'s procmine child (a fresh subprocess: generate the log, build the
events table once, time each figure) and ``bench_discovery.py``'s (the map and the model from
the log, read from one cached Parquet file) on the worktree's sources and on this tree's,
alternating ``--rounds`` times (before, after, before, after, …) so that a change of load on the
machine falls on both, and each figure keeps its best time over the rounds. It prints, per size
and figure, the seconds before and after and their ratio (after ÷ before: above 1.05 is more
than 5 % slower), and the peak memory of each stage.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHILD = Path(__file__).resolve().parent / "bench_analyses.py"
DISCOVERY = Path(__file__).resolve().parent / "bench_discovery.py"


def _child(source: Path, events: int, seed: int) -> dict:
    """One run of bench_analyses' procmine child on the sources under ``source``."""
    env = {**os.environ, "PYTHONPATH": str(source / "src")}
    command = [sys.executable, str(CHILD), "--child", "procmine", "--events", str(events)]
    done = subprocess.run(
        [*command, "--seed", str(seed)], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{source} at {events:,} events failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _discovery_child(source: Path, path: Path, events: int) -> dict:
    """One run of bench_discovery's procmine task (map, then model) on the sources under
    ``source``."""
    env = {**os.environ, "PYTHONPATH": str(source / "src")}
    spec = {"task": "procmine", "path": str(path), "repeat": 3 if events <= 2_000_000 else 1}
    done = subprocess.run(
        [sys.executable, str(DISCOVERY), "--child", json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{source} discovery at {events:,} events failed:\n{done.stderr[-3000:]}"
        )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return {**found, "stage_peak_mb": {k: found["peak_mb"] for k in ("map_s", "model_s")}}


def _best(runs: list[dict], stage: str) -> tuple[float, float]:
    """The best seconds of a stage over the runs, and its peak memory in that run."""
    best = min(runs, key=lambda run: run[stage])
    return best[stage], best["stage_peak_mb"][stage]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="git revision to compare with")
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    sys.path.insert(0, str(CHILD.parent))
    from bench_analyses import FIGURES
    from bench_discovery import _log_path

    with tempfile.TemporaryDirectory(prefix="procmine-before-") as folder:
        before = Path(folder) / "tree"
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", str(before), args.before],
            check=True,
            capture_output=True,
        )
        try:
            print(f"before: {args.before}; after: this tree; {args.rounds} rounds alternating")
            for events in args.events:
                runs: dict[str, list[dict]] = {"before": [], "after": []}
                for _ in range(args.rounds):
                    runs["before"].append(_child(before, events, args.seed))
                    runs["after"].append(_child(REPO, events, args.seed))
                print(f"\n{runs['after'][0]['events']:,} events")
                print(f"  {'stage':32s} {'before s':>9s} {'after s':>9s} {'ratio':>6s} "
                      f"{'before MB':>10s} {'after MB':>9s}")  # fmt: skip
                cached = _log_path(REPO / "benchmarks" / "data", events, args.seed)
                maps: dict[str, list[dict]] = {"before": [], "after": []}
                for _ in range(args.rounds):
                    maps["before"].append(_discovery_child(before, cached, events))
                    maps["after"].append(_discovery_child(REPO, cached, events))
                stages = [(runs, stage) for stage in ("event_table", *FIGURES)]
                stages += [(maps, "map_s"), (maps, "model_s")]
                for found, stage in stages:
                    (old, old_mb), (new, new_mb) = (_best(found[k], stage) for k in found)
                    print(
                        f"  {stage:32s} {old:9.3f} {new:9.3f} {new / old:6.2f} "
                        f"{old_mb:10,.0f} {new_mb:9,.0f}"
                    )
        finally:
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "remove", "--force", str(before)],
                capture_output=True,
                check=False,
            )


if __name__ == "__main__":
    main()
