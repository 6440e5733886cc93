"""Map + model time on a synthetic log, and the ratio to pm4py's inductive miner on the log itself.

    python benchmarks/bench_discovery.py --events 200000

The log is ``procmine.datasets.generate`` (Vietnamese procedures, working-clock sojourns) with
enough cases for about N events. procmine's time covers the map (clock readings, directly-follows
graph with waits and sojourns in SQL) and the model mined from the map's aggregated graph (IMd:
tree, Petri net, BPMN; ``from_dfg=pmap``, no second pass over the events); pm4py's is
``pm4py.discover_process_tree_inductive`` on the same DataFrame.
"""

from __future__ import annotations

import argparse
import sys
import time

sys._pm4py_welcome_shown = True  # the banner belongs in the README, not in benchmark output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="about this many events")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-pm4py", action="store_true", help="time procmine only")
    args = parser.parse_args()

    import pm4py

    from procmine import datasets, discovery

    per_case = len(datasets.generate(500, seed=args.seed, truth=False).log) / 500
    started = time.perf_counter()
    log = datasets.generate(max(1, round(args.events / per_case)), seed=args.seed, truth=False).log
    print(
        f"log: {len(log):,} events, {log['case:concept:name'].nunique():,} cases "
        f"(generated in {time.perf_counter() - started:.1f} s)"
    )

    started = time.perf_counter()
    pmap = discovery.discover_map(log)
    map_seconds = time.perf_counter() - started
    started = time.perf_counter()
    model = discovery.discover_model(log, from_dfg=pmap)  # the map's graph, mined as it is
    model_seconds = time.perf_counter() - started
    ours = map_seconds + model_seconds
    print(f"procmine map:              {map_seconds:8.2f} s  ({len(pmap.edges)} arcs)")
    transitions = len(model.net.transitions)
    print(f"procmine model (from DFG): {model_seconds:8.2f} s  ({transitions} transitions)")
    print(f"procmine map + model:      {ours:8.2f} s")
    if args.skip_pm4py:
        return
    started = time.perf_counter()
    pm4py.discover_process_tree_inductive(log, multi_processing=False)
    theirs = time.perf_counter() - started
    print(f"pm4py inductive (log):     {theirs:8.2f} s")
    print(f"ratio pm4py / procmine:    {theirs / ours:8.1f}x")


if __name__ == "__main__":
    main()
