"""Handoffs, ping-pong, bottlenecks and on-time at 1 and 10 million events, and the ratio to pm4py.

    flock /tmp/procmine-heavy.lock .venv/bin/python benchmarks/bench_analyses.py \\
        --events 1000000 10000000

Issue 7's benchmark. The log is ``procmine.datasets.generate(n_cases, seed, truth=False)`` (a
district People's Committee's procedures, ~7 events a case, departments with planted ping-pong
and bottlenecks) with enough cases for about N events, and its catalog. Each size runs in a
fresh subprocess: it generates the log (not timed), builds the ``events`` table once (the
working-clock readings; timed on its own line) and passes that frame to every figure, then times
each figure as an analyst's notebook would call them: the best of three runs up to 2 M events
(single runs on this shared machine vary by ±30 %), one run above; pm4py gets the same
treatment. Peak memory while analysing is the kernel's peak RSS (VmHWM, reset after generating
the log, so the log held in memory counts but the generator's own peak does not); the RSS after
generating and the process's max RSS (``resource.getrusage``) are printed beside it. The peak is
also reset before each figure, so each line shows the peak of its own stage (the log and the
events table held).

At the sizes given by ``--pm4py-events`` (default 1,000,000), another fresh subprocess times
pm4py's ``discover_handover_of_work_network`` + ``discover_subcontracting_network`` (both with
``resource_key="org:group"``) on the same log (same seed), after preparing the input pm4py runs
fastest on (events without a department dropped, text as object-dtype strings; timed, as
procmine's events table is), and ratios pm4py ÷ procmine are printed: from the same log (pm4py's
input + its two networks vs events table + handoff network + ping-pong, the figures pm4py's two
networks approximate), on prepared inputs (the two networks vs the two figures on the events
table), counting procmine's table but not pm4py's preparation, and against every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys

from timing import best_of, pm4py_input, repeats, reset_peak, status_mb  # benchmarks/timing.py

sys._pm4py_welcome_shown = True  # the banner belongs in the README, not in benchmark output

FIGURES = (
    "handoff_network",
    'ping_pong(by="pair")',
    'bottlenecks(by="activity")',
    'bottlenecks(by="department")',
    'bottlenecks(by="handoff")',
    "on_time",
    "late_without_explanation",
)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _generate(events: int, seed: int):  # -> procmine.datasets.Generated
    from procmine import datasets

    per_case = len(datasets.generate(500, seed=seed, truth=False).log) / 500
    return datasets.generate(max(1, round(events / per_case)), seed=seed, truth=False)


def _child_procmine(events: int, seed: int) -> dict:
    import procmine as pm
    from procmine import engines, handoffs
    from procmine.calendar import WorkCalendar

    generated = _generate(events, seed)
    log, catalog = generated.log, generated.catalog
    result: dict = {
        "events": len(log),
        "cases": int(log["case:concept:name"].nunique()),
        "rss_after_log_mb": status_mb("VmRSS"),
    }
    # Imports and DuckDB's start-up happen before the clock starts, as for pm4py.
    engines.query("SELECT 1 AS warm_up")
    reset_peak()
    calendar = WorkCalendar()
    repeat = repeats(events)
    result["repeat"] = repeat
    result["event_table"], frame = best_of(repeat, lambda: engines.event_table(log, calendar))
    stage_peaks = {"event_table": status_mb("VmHWM")}

    calls = {
        "handoff_network": lambda: handoffs.handoff_network(frame, calendar),
        'ping_pong(by="pair")': lambda: handoffs.ping_pong(frame, catalog, by="pair"),
        'bottlenecks(by="activity")': lambda: pm.bottlenecks(frame, "activity"),
        'bottlenecks(by="department")': lambda: pm.bottlenecks(frame, "department"),
        'bottlenecks(by="handoff")': lambda: pm.bottlenecks(frame, "handoff"),
        "on_time": lambda: pm.on_time(frame, catalog, calendar=calendar),
        "late_without_explanation": lambda: pm.late_without_explanation(
            frame, catalog, calendar=calendar
        ),
    }
    rows = {}
    for name in FIGURES:
        reset_peak()  # each figure's own peak (the log and the events table held)
        result[name], out = best_of(repeat, calls[name])
        rows[name] = out.number_of_edges() if name == "handoff_network" else len(out)
        del out
        stage_peaks[name] = status_mb("VmHWM")
    result["rows"] = rows
    result["stage_peak_mb"] = stage_peaks
    result["events_table_mb"] = frame.memory_usage(deep=True).sum() / 2**20
    if events <= 2_000_000:
        # The two handoff figures on a table of only what they read (the counterpart of the four
        # columns pm4py takes), built once for both.
        del frame
        result["handoff_table"], table = best_of(
            repeat,
            lambda: engines.event_table(log, calendar, columns=handoffs.TABLE_COLUMNS),
        )
        result["handoff_figures_on_it"], _ = best_of(
            repeat,
            lambda: (
                handoffs.handoff_network(table, calendar),
                handoffs.ping_pong(table, catalog, by="pair"),
            ),
        )
    result["peak_mb"] = _peak_mb()
    result["analysis_peak_mb"] = max(stage_peaks.values())
    return result


def _child_pm4py(events: int, seed: int) -> dict:
    import pm4py

    generated = _generate(events, seed)
    repeat = repeats(events)
    result: dict = {}
    # Its preparation is timed, as procmine's events table is: both start from the same log.
    result["prepare"], log = best_of(repeat, lambda: pm4py_input(generated.log))
    result["events"] = len(log)
    result["rss_after_log_mb"] = status_mb("VmRSS")
    reset_peak()
    result["handover"], _ = best_of(
        repeat, lambda: pm4py.discover_handover_of_work_network(log, resource_key="org:group")
    )
    result["subcontracting"], _ = best_of(
        repeat, lambda: pm4py.discover_subcontracting_network(log, resource_key="org:group")
    )
    result["peak_mb"] = _peak_mb()
    result["analysis_peak_mb"] = status_mb("VmHWM")
    # For the record: the two networks on the log's own string columns, without the conversion.
    unconverted = generated.log[list(log.columns)].dropna(subset=["org:group"])
    result["unconverted"], _ = best_of(
        1,
        lambda: (
            pm4py.discover_handover_of_work_network(unconverted, resource_key="org:group"),
            pm4py.discover_subcontracting_network(unconverted, resource_key="org:group"),
        ),
    )
    return result


def _run_child(kind: str, events: int, seed: int) -> dict:
    load_before = os.getloadavg()[0]
    command = [sys.executable, __file__, "--child", kind, "--events", str(events)]
    command += ["--seed", str(seed)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} at {events:,} events failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["load"] = (load_before, os.getloadavg()[0])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--pm4py-events", type=int, nargs="*", default=[1_000_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--child", choices=("procmine", "pm4py"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        run = _child_procmine if args.child == "procmine" else _child_pm4py
        print(json.dumps(run(args.events[0], args.seed)))
        return

    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} at start")
    for events in args.events:
        ours = _run_child("procmine", events, args.seed)
        total = sum(ours[name] for name in FIGURES)
        print(
            f"\n{ours['events']:,} events, {ours['cases']:,} cases, best of {ours['repeat']} "
            f"(load average {ours['load'][0]:.2f} → {ours['load'][1]:.2f})"
        )
        peaks = ours["stage_peak_mb"]
        print(f"  {'figure':32s} {'seconds':>8s} {'rows':>9s} {'peak MB':>9s}")
        print(
            f"  {'event_table (clock, once)':32s} {ours['event_table']:8.2f} {'':9s} "
            f"{peaks['event_table']:9,.0f}"
        )
        for name in FIGURES:
            print(f"  {name:32s} {ours[name]:8.2f} {ours['rows'][name]:9,} {peaks[name]:9,.0f}")
        print(f"  {'figures':32s} {total:8.2f}")
        print(f"  {'event table + figures':32s} {total + ours['event_table']:8.2f}")
        print(
            f"  peak memory while analysing {ours['analysis_peak_mb']:,.0f} MB (the log held: "
            f"{ours['rss_after_log_mb']:,.0f} MB after generating it); process peak "
            f"{ours['peak_mb']:,.0f} MB, generation included; the events table "
            f"{ours['events_table_mb']:,.0f} MB"
        )
        if events in args.pm4py_events:
            theirs = _run_child("pm4py", events, args.seed)
            pm4py_total = theirs["handover"] + theirs["subcontracting"]
            print(
                f"  pm4py: preparing its input {theirs['prepare']:.2f} s (four columns, events "
                f"without a department dropped, text as object strings) + handover "
                f"{theirs['handover']:.2f} s + subcontracting {theirs['subcontracting']:.2f} s; "
                f"peak while analysing {theirs['analysis_peak_mb']:,.0f} MB (load "
                f"{theirs['load'][0]:.2f} → {theirs['load'][1]:.2f}); the two networks on the "
                f"log's own string columns, unconverted: {theirs['unconverted']:.2f} s"
            )
            figures = ours["handoff_network"] + ours['ping_pong(by="pair")']
            like = ours["event_table"] + figures
            print(
                f"  ratio pm4py ÷ procmine from the same log (pm4py's input + its two networks "
                f"{theirs['prepare'] + pm4py_total:.2f} s; events table + handoff_network + "
                f"ping_pong {like:.2f} s): {(theirs['prepare'] + pm4py_total) / like:.1f}×"
            )
            if "handoff_table" in ours:
                lean = ours["handoff_table"] + ours["handoff_figures_on_it"]
                print(
                    f"  ratio from the same log, each tool preparing only what its two figures "
                    f"read (pm4py {theirs['prepare'] + pm4py_total:.2f} s; procmine's table of "
                    f"handoffs.TABLE_COLUMNS {ours['handoff_table']:.2f} s + the two figures "
                    f"{ours['handoff_figures_on_it']:.2f} s): "
                    f"{(theirs['prepare'] + pm4py_total) / lean:.1f}×"
                )
            print(
                f"  ratio on prepared inputs (the two networks {pm4py_total:.2f} s; "
                f"handoff_network + ping_pong {figures:.2f} s): {pm4py_total / figures:.1f}×"
            )
            print(
                f"  ratio counting procmine's events table but not pm4py's preparation: "
                f"{pm4py_total / like:.1f}×"
            )
            ratio = (theirs["prepare"] + pm4py_total) / (total + ours["event_table"])
            print(f"  ratio from the same log against all seven figures: {ratio:.1f}×")


if __name__ == "__main__":
    main()
