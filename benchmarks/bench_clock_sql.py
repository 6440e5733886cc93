"""The events table at 1 M events (issue 20): the numpy path (``engines.event_table``) against the
SQL definition (``procmine.clock_sql``) run on DuckDB — the clock readings, sojourns and sequence
links from the log's rows — each the best of three runs, one process, on this machine.

    flock /tmp/procmine-heavy.lock .venv/bin/python benchmarks/bench_clock_sql.py [EVENTS]
"""

from __future__ import annotations

import sys
import time


def _best(call, runs: int = 3) -> float:  # seconds
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    from procmine import clock_sql, datasets, engines

    events = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    per_case = len(datasets.generate(500, seed=1, truth=False).log) / 500
    log = datasets.generate(max(1, round(events / per_case)), seed=1, truth=False).log
    calendar = engines.own_clock(log)
    rows = clock_sql.stamped(log, calendar)
    numpy_path = _best(lambda: engines.event_table(log, calendar))
    stamping = _best(lambda: clock_sql.stamped(log, calendar))
    sql_path = _best(lambda: clock_sql.engine_events(rows, calendar))
    print(f"{len(log):,} events, {log['case:concept:name'].nunique():,} cases")
    print(f"numpy event_table (the whole table):         {numpy_path:6.2f} s")
    print(f"SQL on DuckDB (readings, sojourns, links):   {sql_path:6.2f} s")
    print(f"  + the stamped rows (wall time, returns):   {stamping:6.2f} s")


if __name__ == "__main__":
    main()
