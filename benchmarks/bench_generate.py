"""Time the sample generator: cases and events per second, without the ground-truth oracle.

    .venv/bin/python benchmarks/bench_generate.py --cases 100000

The goal (issue 2) is 1,000,000 cases (about 7 million events) in under a minute.
"""

from __future__ import annotations

import argparse
import resource
import time

from procmine.datasets import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000, help="number of cases")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    generate(200, seed=args.seed, truth=False)  # imports and the holiday table, not timed
    start = time.perf_counter()
    sample = generate(args.cases, seed=args.seed, truth=False)
    seconds = time.perf_counter() - start
    events = len(sample.log)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{args.cases:,} cases, {events:,} events in {seconds:.2f} s: "
        f"{args.cases / seconds:,.0f} cases/s, {events / seconds:,.0f} events/s, "
        f"peak memory {peak_mb:,.0f} MB"
    )


if __name__ == "__main__":
    main()
