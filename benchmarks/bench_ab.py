"""Two versions of procmine side by side in one process: every figure timed alternately, A, B, A, B.

    flock /tmp/procmine-heavy.lock .venv/bin/python benchmarks/bench_ab.py \\
        --before 0504ac4 --events 1000000 10000000 --repeat 9

A refactor's speed check where single timings are noisy: ``bench_compare.py`` runs each version
in its own subprocess (peak memory per stage); this script loads the ``--before`` revision's
package under another name (``procmine_before``, its imports rewritten) beside this tree's, so
both run on the same log in the same process, warmed alike, each call of one version followed
by the same call of the other, ``--repeat`` times; it prints the best time of each and their
ratio (after ÷ before; above 1.05 is more than 5 % slower). Each version builds its own events
table from the log, and each figure reads its own version's table, as a user's notebook would.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys._pm4py_welcome_shown = True  # the banner belongs in the README, not in benchmark output


def _load_before(revision: str, folder: Path):  # -> module
    """The package at ``revision``, importable as ``procmine_before``."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", revision, "src/procmine"],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    source = folder / "src" / "procmine"
    target = folder / "procmine_before"
    source.rename(target)
    for path in target.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r"\bprocmine\b(?=[.\s])", "procmine_before", text), "utf-8")
    sys.path.insert(0, str(folder))
    import procmine_before

    return procmine_before


def _calls(pm, log, catalog) -> dict:  # -> {name: (callable building the table, figure calls)}
    table = {}

    def events():
        table["events"] = pm.event_table(log)
        return table["events"]

    return {
        "event_table": events,
        "handoff_network": lambda: pm.handoff_network(table["events"]),
        'ping_pong(by="pair")': lambda: pm.ping_pong(table["events"], catalog),
        'bottlenecks(by="activity")': lambda: pm.bottlenecks(table["events"], by="activity"),
        'bottlenecks(by="department")': lambda: pm.bottlenecks(table["events"], by="department"),
        'bottlenecks(by="handoff")': lambda: pm.bottlenecks(table["events"], by="handoff"),
        "on_time": lambda: pm.on_time(table["events"], catalog),
        "late_without_explanation": lambda: pm.late_without_explanation(table["events"], catalog),
        "discover_map": lambda: pm.discover_map(log),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="git revision to compare with")
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    import procmine as after

    with tempfile.TemporaryDirectory(prefix="procmine-ab-") as folder:
        before = _load_before(args.before, Path(folder))
        print(f"before: {args.before}; after: this tree; best of {args.repeat}, alternating")
        for events in args.events:
            per_case = len(after.datasets.generate(500, seed=args.seed, truth=False).log) / 500
            generated = after.datasets.generate(
                round(events / per_case), seed=args.seed, truth=False
            )
            log, catalog = generated.log, generated.catalog
            versions = {
                "before": _calls(before, log, catalog),
                "after": _calls(after, log, catalog),
            }
            best = {
                name: {"before": float("inf"), "after": float("inf")} for name in versions["after"]
            }
            for _ in range(args.repeat):
                for name in best:
                    for version, calls in versions.items():
                        start = time.perf_counter()
                        calls[name]()
                        best[name][version] = min(best[name][version], time.perf_counter() - start)
            print(f"\n{len(log):,} events")
            print(f"  {'figure':32s} {'before s':>9s} {'after s':>9s} {'ratio':>6s}")
            for name, seconds in best.items():
                ratio = seconds["after"] / seconds["before"]
                print(f"  {name:32s} {seconds['before']:9.3f} {seconds['after']:9.3f} {ratio:6.2f}")


if __name__ == "__main__":
    main()
