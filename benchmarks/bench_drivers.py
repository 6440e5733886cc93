"""Delay drivers at 1 million events: building the features, then the model and its drivers.

    flock /tmp/procmine-heavy.lock .venv/bin/python benchmarks/bench_drivers.py \\
        --events 1000000 [--threads 0 1] [--seed 7]

Issue 19's benchmark (goal: ``pm.delay_drivers`` within 30 s at 1 M events on this machine).
The log is ``procmine.datasets.generate(n_cases, seed, truth=False)`` with enough cases for about
N events (~140,000 cases at 1 M), and its catalog. Each size and thread setting runs in a fresh
subprocess: it generates the log (not timed), builds the ``events`` table once (timed on its own
line, as every figure shares it), then times ``procmine.drivers.delay_features`` (the features:
on-time, ping-pong by case, departments, officials at each step, workload, days off, steps not
in the procedure) and ``procmine.drivers.fit_delay_drivers`` (the time split, gradient boosting,
the bootstrap of the held-out score, the permutation importances and the plain effects) apart —
their sum is ``delay_drivers`` from the events table. Beside them, as the nearest peer, the
boosting's fit alone on the same training rows and parameters (scikit-learn's
``HistGradientBoostingClassifier``, no score, no importance), so the line says what the
procmine work around the fit costs. Best of three runs up to 2 M events, one above; peak memory
is the kernel's peak RSS (VmHWM) reset after generating the log.

``--threads``: the OpenMP threads of the boosting (``0``: the default, which at this size is
scikit-learn's own, every core; ``1``: one thread, what ``n_threads=1`` asks for).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from timing import best_of, repeats, reset_peak, status_mb  # benchmarks/timing.py

sys._pm4py_welcome_shown = True  # the banner belongs in the README, not in benchmark output


def _generate(events: int, seed: int):  # -> procmine.datasets.Generated
    from procmine import datasets

    per_case = len(datasets.generate(500, seed=seed, truth=False).log) / 500
    return datasets.generate(max(1, round(events / per_case)), seed=seed, truth=False)


def _boosting_alone(features, found, threads: int | None) -> float:
    """The boosting's fit on the rows and with the parameters ``fit_delay_drivers`` used: the
    training months, their latest arrivals stopping it."""
    import numpy as np
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    from procmine import drivers

    specs = features.attrs[drivers.FEATURES_ATTR]
    columns = [column for spec in specs for column in spec["columns"]]
    X = features[columns].to_numpy(dtype=np.float64, na_value=np.nan)
    y = features["late"].to_numpy(dtype=np.float64)
    received = features["received"].dt.tz_localize(None)
    train = np.flatnonzero(received < pd.Timestamp(found.attrs["split"]["test_from"]))
    train = train[np.lexsort((train, received.to_numpy()[train]))]
    held = round(drivers.VALIDATION_SHARE * len(train))
    fit, validation = np.sort(train[: len(train) - held]), np.sort(train[len(train) - held :])
    model = HistGradientBoostingClassifier(**drivers.MODEL_PARAMETERS, random_state=0)
    limits = threadpool_limits(limits=threads, user_api="openmp") if threads else None
    try:
        seconds, _ = best_of(
            1, lambda: model.fit(X[fit], y[fit], X_val=X[validation], y_val=y[validation])
        )
    finally:
        if limits is not None:
            limits.restore_original_limits()
    return seconds


def _child(events: int, seed: int, threads: int) -> dict:
    import sklearn.ensemble  # noqa: F401  (imports before the clock starts)

    import procmine as pm
    from procmine import drivers, engines

    generated = _generate(events, seed)
    log, catalog = generated.log, generated.catalog
    result: dict = {"events": len(log), "cases": int(log["case:concept:name"].nunique())}
    engines.query("SELECT 1 AS warm_up")
    result["rss_after_log_mb"] = status_mb("VmRSS")
    reset_peak()
    repeat = repeats(events)
    n_threads = threads or None
    result["repeat"] = repeat
    result["event_table"], table = best_of(repeat, lambda: pm.event_table(log))
    result["features"], features = best_of(repeat, lambda: drivers.delay_features(table, catalog))
    result["features_peak_mb"] = status_mb("VmHWM")
    reset_peak()
    result["fit"], found = best_of(
        repeat, lambda: drivers.fit_delay_drivers(features, n_threads=n_threads)
    )
    result["fit_peak_mb"] = status_mb("VmHWM")
    result["boosting_alone"] = _boosting_alone(features, found, n_threads)
    attrs = found.attrs
    result.update(
        columns=int(attrs["parameters"]["features"]),
        drivers=int(attrs["parameters"]["drivers"]),
        n_train=attrs["n_train"],
        n_test=attrs["n_test"],
        n_iter=attrs["parameters"]["n_iter"],
        n_threads=attrs["parameters"]["n_threads"],
        importance_cases=attrs["importance_cases"],
        score=attrs["score"],
        interval=list(attrs["interval"]),
        top=found["text"].head(5).tolist(),
    )
    return result


def _run_child(events: int, seed: int, threads: int) -> dict:
    load_before = os.getloadavg()[0]
    command = [sys.executable, __file__, "--child", "--events", str(events), "--seed", str(seed)]
    command += ["--threads", str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{events:,} events failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["load"] = (load_before, os.getloadavg()[0])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--threads", type=int, nargs="+", default=[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.events[0], args.seed, args.threads[0])))
        return
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} at start")
    for events in args.events:
        for threads in args.threads:
            r = _run_child(events, args.seed, threads)
            total = r["features"] + r["fit"]
            print(
                f"\n{r['events']:,} events, {r['cases']:,} cases, best of {r['repeat']}, boosting "
                f"threads {r['n_threads'] or 'all'} (load {r['load'][0]:.2f} → {r['load'][1]:.2f})"
            )
            print(f"  events table (clock, once)        {r['event_table']:7.2f} s")
            print(
                f"  delay_features                    {r['features']:7.2f} s  "
                f"({r['columns']} columns, {r['drivers']} drivers; "
                f"peak {r['features_peak_mb']:,.0f} MB)"
            )
            print(
                f"  fit_delay_drivers                 {r['fit']:7.2f} s  "
                f"({r['n_train']:,} training, {r['n_test']:,} test cases, {r['n_iter']} "
                f"boosting rounds, permutations on {r['importance_cases']:,}; "
                f"peak {r['fit_peak_mb']:,.0f} MB)"
            )
            print(f"    peer: the boosting's fit alone  {r['boosting_alone']:7.2f} s")
            print(f"  delay_drivers (features + fit)    {total:7.2f} s  (goal ≤ 30 s)")
            print(f"  with the events table             {total + r['event_table']:7.2f} s")
            low, high = r["interval"]
            print(f"  held-out ROC AUC {r['score']:.3f} (95% interval {low:.3f}–{high:.3f})")
            for text in r["top"]:
                print(f"    {text}")


if __name__ == "__main__":
    main()
