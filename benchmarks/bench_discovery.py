"""Map + model time at 1 and 10 million events, and the ratio to pm4py's inductive miner on the log.

    flock /tmp/procmine-heavy.lock .venv/bin/python benchmarks/bench_discovery.py \
        --events 1000000 10000000

The log is ``procmine.datasets.generate`` (Vietnamese procedures, working-clock sojourns, planted
rework, ping-pong and deviations; about 7 events a case) with enough cases for about N events,
written once to Parquet under ``--cache`` so every measurement reads the same file. Each
measurement runs in a fresh subprocess, so its peak memory (``ru_maxrss``) is its own:

- **procmine**: ``discover_map(log)`` (event table with working-clock readings, then the
  directly-follows graph with frequencies, cases, median and p90 waits and sojourns in one SQL
  pass), then ``discover_model(None, from_dfg=pmap)`` (pm4py's IMd on the map's graph: tree, Petri
  net, BPMN) — a user maps once and mines the model from the map. Imports, the Vietnamese
  calendar's construction and DuckDB's start-up are paid before the clock starts, by a warm-up on
  a 500-case log (one-time costs of a session, not per-event ones). Then, for comparison with
  pm4py's model-only call, ``discover_model(log, from_dfg=True)`` alone: no map, only the
  graph's counts (IMd; what ``discover_model(log)`` does above 200,000 events).
- **pm4py** (``--pm4py-at``, 1 M by default): ``pm4py.format_dataframe`` then
  ``pm4py.discover_process_tree_inductive(df)`` — the inductive miner on the event log itself
  (it counts the variants, then mines them), each timed.

Every measurement is the best of three runs up to 2 M events (single runs on this shared machine
vary by ±30 %), one run above.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

from timing import best_of, repeats  # benchmarks/timing.py

sys._pm4py_welcome_shown = True  # the banner belongs in the README, not in benchmark output


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _log_path(cache: Path, events: int, seed: int) -> Path:
    """Generate the log of about ``events`` events once (in this process's child) and cache it."""
    path = cache / f"discovery_log_{events}_seed{seed}.parquet"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        _child("generate", events=events, seed=seed, path=str(path))
    return path


def _child(task: str, **arguments: object) -> dict:
    """Run one task in a fresh interpreter and return its JSON result."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps({"task": task, **arguments})],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{task} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _run_child(spec: dict) -> dict:
    import pandas as pd

    if spec["task"] == "generate":
        from procmine import datasets

        per_case = len(datasets.generate(500, seed=spec["seed"], truth=False).log) / 500
        cases = max(1, round(spec["events"] / per_case))
        log = datasets.generate(cases, seed=spec["seed"], truth=False).log
        log.to_parquet(spec["path"], index=False)
        return {"events": len(log)}

    if spec["task"] == "procmine":
        import pm4py  # imported before the clock starts, as a session has it

        from procmine import datasets, discovery

        small = datasets.generate(500, seed=1, truth=False).log
        discovery.discover_model(None, from_dfg=discovery.discover_map(small))  # warm-up
        log = pd.read_parquet(spec["path"])
        loaded_mb = _peak_mb()
        repeat = spec["repeat"]
        map_seconds, pmap = best_of(repeat, lambda: discovery.discover_map(log))
        model_seconds, model = best_of(
            repeat, lambda: discovery.discover_model(None, from_dfg=pmap)
        )
        alone_seconds, alone = best_of(  # no map: the graph's counts only (IMd)
            repeat, lambda: discovery.discover_model(log, from_dfg=True)
        )
        if str(alone.tree) != str(model.tree):
            raise AssertionError("the model mined from the log differs from the map's")
        return {
            "events": pmap.events,
            "cases": pmap.cases,
            "activities": len(pmap.nodes),
            "arcs": len(pmap.edges),
            "transitions": len(model.net.transitions),
            "map_s": map_seconds,
            "model_s": model_seconds,
            "model_alone_s": alone_seconds,
            "model_alone_source": alone.source,
            "loaded_mb": loaded_mb,
            "peak_mb": _peak_mb(),
        }

    if spec["task"] == "pm4py":
        import pm4py

        log = pd.read_parquet(spec["path"])
        loaded_mb = _peak_mb()
        repeat = spec["repeat"]
        format_seconds, frame = best_of(repeat, lambda: pm4py.format_dataframe(log))
        mine_seconds, tree = best_of(repeat, lambda: pm4py.discover_process_tree_inductive(frame))
        return {
            "variants": len(pm4py.get_variants(frame)),
            "format_s": format_seconds,
            "mine_s": mine_seconds,
            "leaves": str(tree).count("'"),
            "loaded_mb": loaded_mb,
            "peak_mb": _peak_mb(),
        }
    raise ValueError(f"unknown task {spec['task']!r}")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--pm4py-at", type=int, default=1_000_000, help="0: skip pm4py")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/procmine-bench"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_run_child(json.loads(args.child))))
        return

    print(f"machine: {os.cpu_count()} cores, load average {_load()} (1, 5, 15 min)")
    ours: dict[int, dict] = {}
    for events in args.events:
        path = _log_path(args.cache, events, args.seed)
        found = ours[events] = _child("procmine", path=str(path), repeat=repeats(events))
        total = found["map_s"] + found["model_s"]
        print(
            f"{found['events']:>11,} events {found['cases']:>10,} cases  "
            f"map {found['map_s']:6.2f} s  model {found['model_s']:5.2f} s  "
            f"total {total:6.2f} s  peak {found['peak_mb']:6,.0f} MB "
            f"(log loaded: {found['loaded_mb']:,.0f} MB)  "
            f"[{found['activities']} activities, {found['arcs']} arcs, "
            f"{found['transitions']} transitions]  load {_load()}"
        )
        print(
            f"{'':>35}model alone from the log ({found['model_alone_source']}): "
            f"{found['model_alone_s']:5.2f} s"
        )
    if args.pm4py_at:
        path = _log_path(args.cache, args.pm4py_at, args.seed)
        theirs = _child("pm4py", path=str(path), repeat=repeats(args.pm4py_at))
        print(
            f"pm4py at {args.pm4py_at:,}: format_dataframe {theirs['format_s']:.2f} s, "
            f"discover_process_tree_inductive {theirs['mine_s']:.2f} s "
            f"({theirs['variants']:,} variants), peak {theirs['peak_mb']:,.0f} MB  load {_load()}"
        )
        if args.pm4py_at in ours:
            found = ours[args.pm4py_at]
            total = found["map_s"] + found["model_s"]
            print(
                f"ratio at {args.pm4py_at:,}: pm4py inductive / procmine map + model = "
                f"{theirs['mine_s'] / total:.1f}x "
                f"(with format_dataframe: {(theirs['mine_s'] + theirs['format_s']) / total:.1f}x)"
            )
            print(
                f"ratio at {args.pm4py_at:,}: pm4py inductive / procmine model alone = "
                f"{theirs['mine_s'] / found['model_alone_s']:.1f}x"
            )


if __name__ == "__main__":
    main()
