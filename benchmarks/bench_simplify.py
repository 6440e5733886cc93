"""Compliance cost, candidates, what-if and portfolio at 1 and 10 million events, beside the
figures they build on.

    flock /tmp/procmine-heavy.lock .venv/bin/python benchmarks/bench_simplify.py \\
        --events 1000000 10000000 --logs /tmp/procmine-bench

Issue 16's benchmark: "candidates + what-if + portfolio for 1 M and 10 M events, beside the
figures they build on; goal at 10 M: within 30 s and 6 GB beyond those figures". The logs are
``procmine.datasets.generate(n_cases, seed=7, truth=False)`` with enough cases for about N events
(as in bench_analyses.py), written once to ``--logs`` as ``log_<N>M.parquet`` and
``catalog_<N>M.pkl`` (``--write-logs`` writes them; run it with the generator you want to pin, e.g.
``PYTHONPATH=<a clean worktree>/src``), so that every run reads the same log whatever the
generator in the tree does meanwhile. Reading the log is not timed. ``--costs`` pins a costs.yaml
(default: the repository's ``datasets/costs.yaml``).

Each size runs in a fresh subprocess. Stages, each timed as an analyst's notebook calls it (the
best of three runs up to 2 M events, one above; ``--repeat`` overrides), each with its CPU time
(every thread's, the mean of the runs: steadier than wall time when other work shares the
cores) and its own peak RSS (VmHWM, reset before the stage: the log and the events table held
count):

- the reference, the figures the new ones build on: the events table (once), the bounces
  (``bounce_table``, what ``ping_pong`` counts), ``ping_pong(by="pair")``,
  ``bottlenecks(by="activity")`` and ``on_time``, on that table;
- ``compliance_cost(by="procedure")`` on the same table;
- ``candidate_measures`` (the eight rules' detection) and ``simplification_candidates``
  (detection + each measure's saving replayed with what-if), both given the reference's events
  table, on-time table and bounces (``events=``, ``deadlines=``, ``bounces=``: an analysis that
  has them computes them once): the savings' replays are the difference;
- one ``what_if`` of a typical measure (the candidates' first ``end_pingpong``, the measure the
  sample plants most; boot=200, the default), given the events table (``events=``: the runs a
  year read it, not the log);
- ``portfolio`` of the candidates with its joint replays (the replay's cache emptied before each
  run, so every run replays every set);
- for comparison, ``simplification_candidates`` from the log alone (every figure computed
  inside; not in the goal).

The goal's figure is simplification_candidates + what_if + portfolio, given the reference's
figures (compliance_cost is inside simplification_candidates; it is printed on its own line for
reference), and its memory is the largest stage peak of the three minus the largest peak of the
reference figures.

Peers: pm4py computes none of these figures (no compliance cost, no simplification measures, no
replay on a working clock, no portfolio). The nearest baseline printed is plain pandas for
compliance cost by procedure: the log's (procedure, activity) joined to the step costs
(``compliance_cost``'s ``attrs["step_costs"]``, given) and averaged per case and procedure, with
no working clock, no defaults and no catalog procedures without cases.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from timing import best_of, repeats, reset_peak, status_mb  # benchmarks/timing.py

REFERENCE = (
    "event_table", "bounce_table", 'ping_pong(by="pair")', 'bottlenecks(by="activity")', "on_time"
)  # fmt: skip
STAGES = (
    'compliance_cost(by="procedure")',
    "candidate_measures (detection)",
    "simplification_candidates",
    "what_if (one measure)",
    "portfolio (joint replays)",
    "simplification_candidates, from log",
)
GOAL = ("simplification_candidates", "what_if (one measure)", "portfolio (joint replays)")
PEER = "pandas cost by procedure (baseline)"


def _tag(events: int) -> str:
    return f"{events // 1_000_000}M" if events >= 1_000_000 else f"{events // 1000}k"


def _write_logs(events_list: list[int], seed: int, folder: Path) -> None:
    from procmine import datasets

    folder.mkdir(parents=True, exist_ok=True)
    per_case = len(datasets.generate(500, seed=seed, truth=False).log) / 500
    for events in events_list:
        made = datasets.generate(max(1, round(events / per_case)), seed=seed, truth=False)
        made.log.to_parquet(folder / f"log_{_tag(events)}.parquet")
        made.catalog.to_pickle(folder / f"catalog_{_tag(events)}.pkl")
        print(f"{_tag(events)}: {len(made.log):,} events from {datasets.__file__}")


def _pandas_cost(log, step_costs):  # -> pandas.DataFrame
    """Observed cost by procedure, plain pandas: each event costs its step (no clock)."""
    cost = step_costs[["procedure", "activity", "cost"]].astype({"procedure": str, "activity": str})
    events = log[["case:concept:name", "case:procedure", "concept:name"]].set_axis(
        ["case_id", "procedure", "activity"], axis=1
    )
    priced = events.merge(cost, on=["procedure", "activity"], how="left")
    per_case = priced.groupby(["procedure", "case_id"], observed=True)["cost"].sum()
    return per_case.groupby(level="procedure").agg(["size", "mean"])


def _same(one, other) -> bool:  # (pandas.DataFrame, pandas.DataFrame)
    """Whether two candidate tables are the same: the same rows in the same order, floats
    within 1e-9 relative, every other value equal."""
    import numpy as np

    if list(one.columns) != list(other.columns) or len(one) != len(other):
        return False
    for column in one.columns:
        a, b = one[column], other[column]
        if a.dtype.kind == "f" and b.dtype.kind == "f":
            a, b = a.to_numpy(), b.to_numpy()
            if not np.allclose(a, b, rtol=1e-9, atol=0.0, equal_nan=True):
                return False
        elif a.astype(str).tolist() != b.astype(str).tolist():
            return False
    return True


def _child(events: int, folder: Path, repeat: int | None, costs_path: str | None) -> dict:
    import pandas as pd

    import procmine as pm
    from procmine import candidates, engines, handoffs, portfolios, whatif
    from procmine.calendar import WorkCalendar
    from procmine.cost import compliance_cost, read_costs

    log = pd.read_parquet(folder / f"log_{_tag(events)}.parquet")
    catalog = pd.read_pickle(folder / f"catalog_{_tag(events)}.pkl")
    result: dict = {
        "events": len(log),
        "cases": int(log["case:concept:name"].nunique()),
        "rss_after_log_mb": status_mb("VmRSS"),
    }
    engines.query("SELECT 1 AS warm_up")  # DuckDB's start-up is not a figure's
    calendar, costs = WorkCalendar(), read_costs(costs_path)
    repeat = repeat or repeats(events)
    result["repeat"], seconds, cpu, peaks, rows = repeat, {}, {}, {}, {}

    def stage(name: str, call, count=len):
        reset_peak()
        started = time.process_time()  # every thread's CPU: steadier than wall time when
        seconds[name], out = best_of(repeat, call)  # other work shares the two cores
        cpu[name] = (time.process_time() - started) / repeat
        peaks[name] = status_mb("VmHWM")
        rows[name] = count(out)
        print(f"  … {name} {seconds[name]:.2f} s", file=sys.stderr, flush=True)  # progress
        return out

    frame = stage("event_table", lambda: engines.event_table(log, calendar))
    bounces = stage("bounce_table", lambda: handoffs.bounce_table(frame, catalog))
    stage('ping_pong(by="pair")', lambda: handoffs.ping_pong(frame, catalog, by="pair"))
    stage('bottlenecks(by="activity")', lambda: pm.bottlenecks(frame, "activity"))
    deadlines = stage("on_time", lambda: pm.on_time(frame, catalog, calendar=calendar))
    given = {"deadlines": deadlines, "bounces": bounces}  # the reference's, as an analysis has
    costed = stage(
        'compliance_cost(by="procedure")',
        lambda: compliance_cost(frame, catalog, costs, calendar=calendar),
    )
    step_costs = costed.attrs["step_costs"]
    del costed
    stage(PEER, lambda: _pandas_cost(log, step_costs))
    stage(
        "candidate_measures (detection)",
        lambda: candidates.candidate_measures(frame, catalog, costs, **given),
    )
    found = stage(
        "simplification_candidates",
        lambda: candidates.simplification_candidates(
            log, catalog, costs, calendar=calendar, events=frame, **given
        ),
    )
    pingpong = found[found["measure"] == "end_pingpong"]
    typical = (pingpong if len(pingpong) else found).head(1)
    result["typical"] = {
        key: str(typical[key].iloc[0]) for key in ("measure_id", "procedure", "measure", "cases")
    }
    stage(
        "what_if (one measure)",
        lambda: whatif.what_if(log, catalog, typical, costs, calendar=calendar, events=frame),
    )
    replay = found.attrs["replay"]

    def chosen():
        replay._cache.clear()  # every run replays every set: no run reads another's results
        return portfolios.portfolio(found)

    picked = stage("portfolio (joint replays)", chosen, count=lambda p: len(p.options))
    alone = stage(
        "simplification_candidates, from log",
        lambda: candidates.simplification_candidates(log, catalog, costs, calendar=calendar),
    )
    # The same table either way (the figures given or computed inside): floats within 1e-9
    # relative (DuckDB's parallel sums may differ in the last bits from run to run).
    result["same_from_the_log"] = _same(alone, found)
    del alone
    result["portfolio"] = {
        "status": picked.status,
        "options": len(picked.options),
        "joint_replays": int((picked.options["saving_source"] == "replay").sum()),
        "chosen_measures": len(picked.measures),
        "summary": picked.summary[["target", "achieved", "met"]].to_dict("records"),
    }
    result["candidates"] = len(found)
    result["candidates_by_type"] = found["measure"].value_counts().to_dict()
    result |= {"seconds": seconds, "cpu_seconds": cpu, "peak_mb": peaks, "rows": rows}
    result["process_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def _run_child(events: int, folder: Path, repeat: int | None, costs: str | None) -> dict:
    load_before = os.getloadavg()
    command = [sys.executable, __file__, "--child", "--events", str(events), "--logs", str(folder)]
    command += ["--repeat", str(repeat)] if repeat else []
    command += ["--costs", costs] if costs else []
    # The child's progress and errors go to stderr as they come.
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{events:,} events failed (its error above)")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["load"] = (load_before, os.getloadavg())
    return result


def _report(ours: dict) -> None:
    seconds, cpu, peaks, rows = ours["seconds"], ours["cpu_seconds"], ours["peak_mb"], ours["rows"]
    (one, five, _), (after, *_) = ours["load"]
    print(
        f"\n{ours['events']:,} events, {ours['cases']:,} cases, best of {ours['repeat']} "
        f"(load average {one:.2f} (5 min {five:.2f}) → {after:.2f}); the log held: "
        f"{ours['rss_after_log_mb']:,.0f} MB"
    )
    print(f"  {'stage':38s} {'seconds':>8s} {'CPU s':>7s} {'rows':>9s} {'peak MB':>9s}")
    for name in (*REFERENCE, *STAGES, PEER):
        print(
            f"  {name:38s} {seconds[name]:8.2f} {cpu[name]:7.2f} {rows[name]:9,} "
            f"{peaks[name]:9,.0f}"
        )
    reference = sum(seconds[name] for name in REFERENCE)
    replays = seconds["simplification_candidates"] - seconds["candidate_measures (detection)"]
    goal = sum(seconds[name] for name in GOAL)
    goal_cpu = sum(cpu[name] for name in GOAL)
    reference_peak = max(peaks[name] for name in REFERENCE)
    goal_peak = max(peaks[name] for name in GOAL)
    print(f"  {'the reference (table + three figures)':38s} {reference:8.2f}")
    print(f"  {'  of candidates: savings replays etc.':38s} {replays:8.2f}")
    print(f"  {'goal: candidates + what_if + portfolio':38s} {goal:8.2f} {goal_cpu:7.2f}")
    print(
        f"  memory: reference peak {reference_peak:,.0f} MB; goal stages' peak {goal_peak:,.0f} "
        f"MB, {goal_peak - reference_peak:+,.0f} MB beyond the reference; process peak "
        f"{ours['process_peak_mb']:,.0f} MB"
    )
    print(f"  candidates {ours['candidates']} {ours['candidates_by_type']}")
    print(f"  typical measure {ours['typical']}; portfolio {ours['portfolio']}")
    print(f"  the same candidates from the log alone: {ours['same_from_the_log']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--logs", type=Path, default=Path("/tmp/procmine-bench"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, help="runs per stage (default: timing.repeats)")
    parser.add_argument("--costs", help="a costs.yaml (default: the repository's)")
    parser.add_argument("--write-logs", action="store_true", help="generate the logs and stop")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_logs:
        _write_logs(args.events, args.seed, args.logs)
        return
    if args.child:
        print(json.dumps(_child(args.events[0], args.logs, args.repeat, args.costs)))
        return
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} at start")
    for events in args.events:
        ours = _run_child(events, args.logs, args.repeat, args.costs)
        _report(ours)
        print("JSON " + json.dumps(ours), flush=True)


if __name__ == "__main__":
    main()
