"""The leadership report end to end — ``procmine analyze`` — on a ladder of log sizes, each stage
timed, and how each stage grows with the log.

    flock /tmp/procmine-heavy.lock .venv/bin/python benchmarks/bench_report.py \\
        --events 100000 1000000 10000000 --logs /tmp/procmine-bench

Issue 17's benchmark, and issue 20's size ladder (0.1, 1, 10 M events: time, events/s and peak
memory per stage, and the growth of each stage's time from one size to the next: 10× the events
taking 10× the time is linear). Each size runs in a fresh process; ``--analyze-stages`` also
times :func:`procmine.analyze`'s own stages (clock, ping-pong, …, conformance, model) in the
same process, after the report.

The log is ``procmine.datasets.generate(n_cases, seed=7, truth=False)`` written once to
``--logs`` as ``log_<N>M.parquet`` with ``catalog_<N>M.pkl`` (bench_simplify.py ``--write-logs``
writes them; this script writes them when they are missing). One run per size (a report is what
an analyst runs once):

- loading: ``pm.read_log`` of the Parquet file, beside the nearest peer, ``pandas.read_parquet``
  (pm4py has no Parquet reader of its own; it reads with pandas);
- ``pm.report(log, catalog, pdf=False)``: each stage of :data:`procmine.reports.REPORT_STAGES`
  as its progress callback reports it (figures, deadlines, models, simplification, pages, writing);
- the PDF on its own (WeasyPrint; its cost does not grow with the log: the pages show rankings
  and the top rows of each list);
- the command line, ``procmine analyze`` with ``--no-pdf``, end to end in a subprocess.

Each stage prints its seconds, events per second and the process's peak RSS (VmHWM, reset before
the stage). pm4py computes none of the report's figures as one call, so no ratio is printed for
them; its reading is the peer of loading. At the sizes of ``--pm4py-events`` (default: every
size) the same process then times **the pm4py route on the same log**, the figures of the report
pm4py computes in its own way: its input (four columns, text as objects: as pm4py runs fastest),
the department handover and subcontracting networks (the peers of handoffs and ping-pong), the
performance DFG (wall-clock times between activities: the peer of the bottlenecks, without a
working clock), and the inductive miner with token-based replay on the largest procedure (the
peer of a procedure's model and conformance; procmine aligns each procedure with its approved
model).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import pm4py_input, reset_peak, status_mb  # benchmarks/timing.py

ROOT = Path(__file__).resolve().parents[1]


def _tag(events: int) -> str:
    return f"{events // 1_000_000}M" if events >= 1_000_000 else f"{events // 1000}k"


def _logs(events: int, folder: Path) -> tuple[Path, Path]:
    """The benchmark's log and catalog, written once (about ``events`` events, seed 7)."""
    import procmine as pm

    log_path = folder / f"log_{_tag(events)}.parquet"
    catalog_path = folder / f"catalog_{_tag(events)}.pkl"
    if not log_path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        made = pm.datasets.generate(max(1, round(events / 7.03)), seed=7, truth=False)
        made.log.to_parquet(log_path)
        made.catalog.to_pickle(catalog_path)
    return log_path, catalog_path


def _timed(name: str, events: int, call, rows: list) -> object:
    reset_peak()
    started = time.perf_counter()
    out = call()
    seconds = time.perf_counter() - started
    rows.append((name, seconds, events / seconds if seconds else float("nan"), status_mb("VmHWM")))
    return out


def pm4py_route(log, n: int, rows: list) -> None:
    """The pm4py route on ``log`` (see the module docstring): rows of (stage, seconds, events/s,
    peak MB), events/s over the log's ``n`` events but for the largest procedure's stage."""
    import pm4py

    sys._pm4py_welcome_shown = True  # the banner belongs in the README, not in the figures
    prepare = lambda: pm4py_input(log)  # noqa: E731
    frame = _timed("pm4py: its input (four columns, object text)", n, prepare, rows)

    def networks() -> tuple:
        return (
            pm4py.discover_handover_of_work_network(frame, resource_key="org:group"),
            pm4py.discover_subcontracting_network(frame, resource_key="org:group"),
        )

    _timed("pm4py: handover + subcontracting networks (departments)", n, networks, rows)
    performance = lambda: pm4py.discover_performance_dfg(frame)  # noqa: E731
    _timed("pm4py: performance DFG (wall-clock)", n, performance, rows)
    largest = log["case:procedure"].value_counts().index[0]
    cases = log.loc[(log["case:procedure"] == largest).to_numpy(), "case:concept:name"].unique()
    part = frame[frame["case:concept:name"].isin(cases).to_numpy()]

    def model_and_fitness() -> dict:
        net = pm4py.discover_petri_net_inductive(part)
        return pm4py.fitness_token_based_replay(part, *net)

    # One name at every size (the growth table joins on it); events/s over the procedure's events.
    name = "pm4py: inductive miner + token replay, largest procedure (events/s: its events)"
    _timed(name, len(part), model_and_fitness, rows)


def measure(events: int, logs: Path, analyze_stages: bool, pm4py: bool = False) -> list:
    """Every stage at one size, in this process: rows of (stage, seconds, events/s, peak MB)."""
    import pandas as pd

    import procmine as pm

    log_path, catalog_path = _logs(events, logs)
    rows: list = []
    n = len(pd.read_parquet(log_path, columns=["case:concept:name"]))
    _timed("pandas.read_parquet (peer)", n, lambda: pd.read_parquet(log_path), rows)
    log = _timed("pm.read_log (Parquet)", n, lambda: pm.read_log(log_path), rows)
    catalog = pd.read_pickle(catalog_path)
    out = Path(tempfile.mkdtemp(prefix="procmine-report-"))
    marks: list[tuple[str, float, float]] = []

    def progress(stage: str) -> None:
        marks.append((stage, time.perf_counter(), status_mb("VmHWM")))
        reset_peak()

    reset_peak()
    started = time.perf_counter()
    pm.report(log, catalog, out=out, pdf=False, progress=progress)
    finished, peak = time.perf_counter(), status_mb("VmHWM")
    ends = [(t, p) for _, t, p in marks[1:]] + [(finished, peak)]
    for (stage, begun, _), (ended, stage_peak) in zip(marks, ends, strict=True):
        seconds = ended - begun
        rows.append((f"report: {stage}", seconds, n / seconds, stage_peak))
    whole = finished - started
    rows.append(("report, all stages (no PDF)", whole, n / whole, max(p for *_, p in ends)))
    html = (out / "report.html").read_text(encoding="utf-8")
    _timed("PDF (WeasyPrint)", n, lambda: pm.reports.write_pdf(html, out / "report.pdf"), rows)
    if analyze_stages:
        marks.clear()
        reset_peak()
        pm.analyze(log, catalog, progress=progress)
        finished, peak = time.perf_counter(), status_mb("VmHWM")
        ends = [(t, p) for _, t, p in marks[1:]] + [(finished, peak)]
        for (stage, begun, _), (ended, stage_peak) in zip(marks, ends, strict=True):
            rows.append((f"analyze: {stage}", ended - begun, n / (ended - begun), stage_peak))
    procmine = Path(sys.executable).with_name("procmine")
    command = [str(procmine), "analyze", str(log_path), "--no-pdf", "--out", str(out / "cli")]
    catalog_csv = out / "catalog.csv"
    pm.write_catalog(catalog, catalog_csv)
    command += ["--catalog", str(catalog_csv)]
    run = lambda: subprocess.run(command, check=True, capture_output=True, cwd=ROOT)  # noqa: E731
    _timed("procmine analyze --no-pdf (subprocess, end to end)", n, run, rows)
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    rows[-1] = (*rows[-1][:3], child_mb)  # the command's own peak, not this process's
    if pm4py:
        pm4py_route(log, n, rows)
    return [(n, *row) for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--logs", type=Path, default=Path("/tmp/procmine-bench"))
    parser.add_argument("--analyze-stages", action="store_true")
    parser.add_argument(
        "--pm4py-events", type=int, nargs="*", help="sizes with the pm4py route (default: all)"
    )
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a child's size
    args = parser.parse_args()
    if args.one:
        pm4py = args.pm4py_events is None or args.events[0] in args.pm4py_events
        print(json.dumps(measure(args.events[0], args.logs, args.analyze_stages, pm4py)))
        return
    ladder: dict[str, dict[int, tuple]] = {}
    sizes = []
    for events in args.events:
        command = [sys.executable, __file__, "--one", "--events", str(events)]
        command += ["--logs", str(args.logs)] + ["--analyze-stages"] * args.analyze_stages
        if args.pm4py_events is not None and events not in args.pm4py_events:
            command += ["--pm4py-events"]  # none: this size runs procmine only
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        rows = json.loads(done.stdout.strip().splitlines()[-1])
        n = rows[0][0]
        sizes.append(n)
        print(f"\n{n:,} events (load average {os.getloadavg()[0]:.2f} after the run)\n")
        print("| stage | seconds | events/s | peak MB |\n|---|---:|---:|---:|")
        for _, name, seconds, rate, peak_mb in rows:
            print(f"| {name} | {seconds:.2f} | {rate:,.0f} | {peak_mb:,.0f} |")
            ladder.setdefault(name, {})[n] = (seconds, peak_mb)
    if len(sizes) > 1:
        print(
            "\nGrowth: each stage's time at each size, and its time ratio from one size to the "
            "next beside the events' ratio (equal ratios: linear)\n"
        )
        steps = list(itertools.pairwise(sizes))
        head = " | ".join(f"{n:,} s" for n in sizes)
        grow = " | ".join(f"×{b / a:.1f} events → time" for a, b in steps)
        print(f"| stage | {head} | {grow} |\n|---|" + "---:|" * (len(sizes) + len(steps)))
        for name, by_size in ladder.items():
            times = [by_size.get(n, (float("nan"),))[0] for n in sizes]
            ratios = [f"×{t2 / t1:.1f}" for t1, t2 in itertools.pairwise(times)]
            print(f"| {name} | " + " | ".join(f"{t:.2f}" for t in times) + " | "
                  + " | ".join(ratios) + " |")  # fmt: skip


if __name__ == "__main__":
    main()
