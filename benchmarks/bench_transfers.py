"""Transfer-history loading benchmark: a synthetic N-row transfer history (Parquet and CSV) loaded
with pm.read_log, beside the step-log loader on an N-event step log and pandas alone.

    python benchmarks/bench_transfers.py --rows 10000000

Issue #18's goals: transfer Parquet ≥ 1,000,000 rows/s, transfer CSV at least the step-log CSV
loader's rate (rows/s). Rates count the export's rows (a transfer history's log also gets one
holder marker per open case). As in ``bench_load.py``, each measurement runs in a fresh
subprocess (time after the imports, peak = that process's VmHWM: ``ru_maxrss`` would count
the parent's RSS at the fork, as it survives exec); with ``--repeat R`` every
measurement runs R times, the rounds interleaved, and the median is printed with the range.

The transfer history: Vietnamese headers exactly as ``procmine.datasets.TRANSFER_COLUMNS``, about
``--rows-per-case`` primary rows a case (952,344 cases at 10 M rows), each case a chain of custody
(each main transfer sent by the department that received the one before) over the 12
departments, with bounce-backs written "Trả lại" half the time, about 5 % side copies
("Chuyển phối hợp" / "Để biết", at the main transfer's instant, to a third department), a
closing ("Hoàn thành", no recipient) ending 95 % of the cases and 5 % left open; rows in time
order, cases interleaved. The CSV has dd/mm/yyyy HH:MM:SS stamps (UTF-8 with a BOM, as
``write_transfers`` writes), the Parquet timestamps. The step log is ``bench_load.generate``'s.

``--stages`` instead times the stages of ``pm.read_log`` (:data:`STAGES`: read, as_steps, the
assembly and its parts — timestamp parsing, the custody plan, building the columns —, units,
with_custody) on the two transfer files and the two step-log files, each run in a fresh
subprocess with the functions wrapped: where the time goes. ``--reuse`` keeps the files
already in ``--dir``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
from bench_load import DEPARTMENTS
from bench_load import generate as generate_steps
from timing import measured_in_child, repeats, status_mb

from procmine.datasets import TRANSFER_COLUMNS

SRC = Path(__file__).resolve().parents[1] / "src"
ACTIONS = ["Chuyển xử lý", "Trả lại", "Chuyển phối hợp", "Để biết", "Hoàn thành"]
MAIN, RETURN, COORDINATION, INFORMATION, CLOSING = range(5)
COMMENTS = [  # the sender's comment (Ý kiến xử lý), drawn among its action's
    "Đề nghị thẩm định", "Chuyển xử lý theo quy trình", "Đề nghị xem xét, giải quyết",
    "Hồ sơ thiếu giấy tờ, đề nghị bổ sung", "Trả lại để hoàn thiện hồ sơ",
    "Để phối hợp", "Đề nghị phối hợp cho ý kiến",
    "Để biết, theo dõi",
    "Hoàn thành xử lý", "Đã giải quyết xong, lưu hồ sơ",
]  # fmt: skip
COMMENT_POOLS = np.array([[0, 3], [3, 2], [5, 2], [7, 1], [8, 2]])  # per action: first, count
OFFICIALS_PER_DEPARTMENT = 40


def _within(case: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Cumulative sums of ``values`` within runs of equal ``case`` (sorted), from 0 at each run."""
    total = np.cumsum(values)
    first = np.r_[True, case[1:] != case[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(case)), 0))
    return total - total[start] + values[start]


def generate_transfers(
    rows: int,
    folder: Path,
    seed: int = 1,
    per_case: int = 10,
    side_share: float = 0.05,
    open_share: float = 0.05,
    bounce_share: float = 0.15,
) -> tuple[Path, Path, dict]:
    """Write the synthetic transfer history of exactly ``rows`` rows as Parquet and CSV; returns
    the paths and what it holds by design."""
    rng = np.random.default_rng(seed)
    n_departments = len(DEPARTMENTS)
    primary = round(rows / (1 + side_share))  # transfers and closings; the rest side copies
    cases = max(primary // per_case, 1)
    case = np.sort(rng.integers(0, cases, primary))  # rows of one case together, in order
    first = np.r_[True, case[1:] != case[:-1]]
    last = np.r_[case[1:] != case[:-1], True]
    position = np.arange(primary) - np.maximum.accumulate(np.where(first, np.arange(primary), 0))
    # The holder chain h_0, h_1, ..: row j is sent by h_j to h_{j+1}. Each step moves to another
    # department (an offset 1 .. D-1); a bounce-back undoes the step before (h_{j+1} = h_{j-1}),
    # drawn only where the step before is not itself a bounce, so the offsets are set at once.
    offset = rng.integers(1, n_departments, primary)
    bounce = (position >= 1) & (rng.random(primary) < bounce_share)
    bounce[1:] &= ~bounce[:-1]
    offset[bounce] = n_departments - offset[np.flatnonzero(bounce) - 1]
    first_department = np.where(first, rng.integers(0, n_departments, primary), 0)
    start = np.maximum.accumulate(np.where(first, np.arange(primary), 0))
    sender = (first_department[start] + _within(case, offset) - offset) % n_departments
    recipient = (sender + offset) % n_departments
    # Open cases keep every row as a transfer; the others' last row is the closing.
    is_open = rng.random(cases) < open_share
    closing = last & ~is_open[case]
    action = np.where(bounce & (rng.random(primary) < 0.5), RETURN, MAIN)
    action[closing] = CLOSING
    recipient[closing] = -1
    # Times: each case starts in the year and moves on by 10 minutes to 3 days a transfer.
    seconds = rng.integers(600, 3 * 86_400, primary)
    seconds[first] = rng.integers(0, 300 * 86_400, cases)[case[first]]
    instant = _within(case, seconds)
    # Side copies: exactly rows - primary of them, after a drawn main transfer or return, at its
    # instant, from its sender to a third department.
    copies = rows - primary
    eligible = np.flatnonzero(~closing)
    copied = np.sort(rng.choice(eligible, size=min(copies, len(eligible)), replace=False))
    low = np.minimum(sender[copied], recipient[copied])
    high = np.maximum(sender[copied], recipient[copied])
    third = rng.integers(0, n_departments - 2, len(copied))
    third += third >= low
    third += third >= high
    count = np.ones(primary, dtype=np.int64)
    count[copied] += 1
    row = np.repeat(np.arange(primary), count)  # each primary row, then its copy
    copy = np.zeros(len(row), dtype=bool)
    copy[(np.cumsum(count) - 1)[copied]] = True
    action, recipient = action[row], recipient[row]
    action[copy] = np.where(rng.random(len(copied)) < 0.5, COORDINATION, INFORMATION)
    recipient[copy] = third
    sender, case, instant = sender[row], case[row], instant[row]
    # Export order: by time (stable: a copy right after its transfer), cases interleaved.
    order = np.argsort(instant, kind="stable")
    action, sender, recipient = action[order], sender[order], recipient[order]
    case, instant = case[order], instant[order]
    n = len(order)
    sender_official = sender * OFFICIALS_PER_DEPARTMENT + rng.integers(
        0, OFFICIALS_PER_DEPARTMENT, n
    )
    recipient_official = recipient * OFFICIALS_PER_DEPARTMENT + rng.integers(
        0, OFFICIALS_PER_DEPARTMENT, n
    )
    pool = COMMENT_POOLS[action]
    comment = pool[:, 0] + (rng.random(n) * pool[:, 1]).astype(np.int64)
    stamps = np.datetime64("2024-01-02T07:30:00", "s") + instant.astype("timedelta64[s]")

    def text(values: list[str], codes: np.ndarray) -> pa.Array:
        return pa.array(values, type=pa.string()).take(pa.array(codes, mask=codes < 0))

    def numbered(prefix: str, numbers: np.ndarray) -> pa.Array:
        return pc.binary_join_element_wise(
            prefix, pc.cast(pa.array(numbers, mask=numbers < 0), pa.string()), ""
        )

    columns = [
        numbered("HS-", case),
        numbered("Thủ tục nội bộ số ", case % 25),
        text(DEPARTMENTS, sender),
        numbered("Cán bộ ", sender_official),
        text(DEPARTMENTS, recipient),
        numbered("Cán bộ ", np.where(recipient < 0, -1, recipient_official)),
        pa.array(stamps),
        text(ACTIONS, action),
        text(COMMENTS, comment),
    ]
    table = pa.table(dict(zip(TRANSFER_COLUMNS, columns, strict=True)))
    parquet = folder / f"transfers-{rows}.parquet"
    pq.write_table(table, parquet)
    csv_table = table.set_column(
        6, TRANSFER_COLUMNS[6], pc.strftime(table[TRANSFER_COLUMNS[6]], format="%d/%m/%Y %H:%M:%S")
    )
    csv = folder / f"transfers-{rows}.csv"
    with csv.open("wb") as out:
        out.write(b"\xef\xbb\xbf")  # as write_transfers writes it
        pcsv.write_csv(csv_table, out)
    # What it holds: cases with rows, open ones, and the kinds of rows.
    with_rows = np.unique(case)
    planted = {
        "rows": n,
        "cases": len(with_rows),
        "open_cases": int(is_open[with_rows].sum()),
        **{ACTIONS[k]: int(v) for k, v in enumerate(np.bincount(action, minlength=5))},
    }
    return parquet, csv, planted


def measure(kind: str, path: str) -> dict:
    """Run one load in this process; returns seconds, rows read, events out and peak RSS (MB)."""
    import pandas as pd

    sys.path.insert(0, str(SRC))
    from procmine.log import load_report, read_log

    start = time.perf_counter()
    extra: dict = {}
    if kind == "stages":
        return stages(path)
    if kind == "read_log":
        log = read_log(path)
        seconds = time.perf_counter() - start
        report = load_report(log)
        rows, events = report["rows_read"], len(log)
        extra = {
            "transfer_history": bool(report.get("transfer_history")),
            "quarantined": report["rows_quarantined"],
            "holder_markers": report.get("holder_markers", 0),
            "out_of_chain": report.get("out_of_chain", 0),
            "transfers_by_kind": report.get("transfers_by_kind"),
        }
    elif kind == "pandas.read_parquet":
        rows = events = len(pd.read_parquet(path))
        seconds = time.perf_counter() - start
    elif kind == "pandas.read_csv":
        rows = events = len(pd.read_csv(path))
        seconds = time.perf_counter() - start
    else:
        raise ValueError(kind)
    # VmHWM, not ru_maxrss: ru_maxrss survives exec, so a child spawned by a parent holding the
    # generated arrays would report at least the parent's RSS at the fork.
    peak_mb = status_mb("VmHWM")
    return {"kind": kind, "rows": rows, "events": events, "seconds": seconds,
            "peak_mb": peak_mb, **extra}  # fmt: skip


def run(kind: str, path: Path) -> dict:
    return measured_in_child(__file__, kind, path)


# read_log's stages, timed by --stages: (module, function, label); nested ones are indented
# (parts of the line above). For a transfer history the custody work runs inside the assembly
# (transfers.CustodyPlan, before the columns are built), with_custody then only tells the report
# (it does the work itself when units are renamed).
STAGES = [
    ("procmine.log.reader", "read_source", "read_source (file → pandas)"),
    ("procmine.log.reader", "as_steps", "as_steps (headers, action kinds, faults)"),
    ("procmine.log.reader", "canonical", "canonical (assembly)"),
    ("procmine.log.canonical", "_checked_mapping", "  mapping, timestamps, clock"),
    ("procmine.log.headers", "parse_timestamps", "    parse_timestamps"),
    ("procmine.log.canonical", "_text_codes", "  coding the canonical text columns"),
    ("procmine.log.canonical", "_log_order", "  case/time ordering"),
    ("procmine.log.canonical", "_duplicates", "  duplicate check"),
    ("procmine.log.transfers", "CustodyPlan.__call__", "  custody plan (order, chain, markers)"),
    ("procmine.log.canonical", "_text_columns", "  building the canonical text columns"),
    ("procmine.log.canonical", "_assemble", "  _assemble (the columns, once; a plan's too)"),
    ("procmine.log.canonical", "build_report", "  load report"),
    ("procmine.log.reader", "_units_renamed", "_units_renamed"),
    ("procmine.log.reader", "with_custody", "with_custody (report; the work when renamed)"),
]


def stages(path: str) -> dict[str, float]:
    """Run pm.read_log on one file in this process with its stages (:data:`STAGES`) timed by
    wrapping the functions (``Class.method`` for a method) that read_log calls; {label:
    seconds}."""
    import importlib

    sys.path.insert(0, str(SRC))
    from procmine.log import read_log

    spent: dict[str, float] = {}

    def wrapped(inner, label: str):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - started

        return wrapper

    for module_name, name, label in STAGES:
        owner = importlib.import_module(module_name)
        *path_to, attribute = name.split(".")
        for part in path_to:
            owner = getattr(owner, part)
        setattr(owner, attribute, wrapped(getattr(owner, attribute), label))
    started = time.perf_counter()
    read_log(path)
    spent["read_log"] = time.perf_counter() - started
    return spent


def print_stages(paths: list[Path], repeat: int) -> None:
    """The stage times of each file, each run in a fresh subprocess; the median of ``repeat``."""
    for path in paths:
        runs = [run("stages", path) for _ in range(repeat)]
        print(f"\n{path.name}: read_log's stages, median of {repeat} fresh process(es), seconds")
        labels = ["read_log"] + [label for _, _, label in STAGES]
        for label in labels:
            values = [r.get(label, 0.0) for r in runs]
            spread = f"  ({min(values):.2f}–{max(values):.2f})" if repeat > 1 else ""
            print(f"  {label:<56}{statistics.median(values):>7.2f}{spread}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--rows-per-case", type=int, default=10)
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="runs per measurement (default: 3 up to 2 M rows, else 1)",
    )
    parser.add_argument("--dir", type=Path, default=None, help="where to write the files")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the files already in --dir (same rows, seed and rows a case)",
    )
    parser.add_argument(
        "--stages", action="store_true", help="time read_log's stages in this process instead"
    )
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()  # fmt: skip
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return
    sys.path.insert(0, str(SRC))

    repeat = args.repeat or repeats(args.rows)
    folder = args.dir or Path(tempfile.mkdtemp(prefix="procmine-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    t_parquet, t_csv = (
        folder / f"transfers-{args.rows}.parquet",
        folder / f"transfers-{args.rows}.csv",
    )
    if not (args.reuse and t_parquet.exists() and t_csv.exists()):
        t_parquet, t_csv, planted = generate_transfers(
            args.rows, folder, per_case=args.rows_per_case
        )
        print(f"generated a transfer history of {args.rows:,} rows in "
              f"{time.perf_counter() - start:.1f} s ({folder}): {planted}")  # fmt: skip
    start = time.perf_counter()
    s_parquet, s_csv = folder / f"log-{args.rows}.parquet", folder / f"log-{args.rows}.csv"
    if not (args.reuse and s_parquet.exists() and s_csv.exists()):
        s_parquet, s_csv = generate_steps(args.rows, folder)
        print(f"generated a step log of {args.rows:,} events in "
              f"{time.perf_counter() - start:.1f} s")  # fmt: skip
    if args.stages:
        print_stages([t_parquet, t_csv, s_parquet, s_csv], repeat)
        return
    for path in (t_parquet, t_csv, s_parquet, s_csv):
        print(f"  {path.name}: {path.stat().st_size / 1e6:,.0f} MB")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    plan = [
        ("read_log", "transfers", "parquet", t_parquet),
        ("read_log", "transfers", "csv", t_csv),
        ("read_log", "step log", "parquet", s_parquet),
        ("read_log", "step log", "csv", s_csv),
        ("pandas.read_parquet", "transfers", "parquet", t_parquet),
        ("pandas.read_csv", "transfers", "csv", t_csv),
    ]
    results: dict[tuple, list[dict]] = {key[:3]: [] for key in plan}
    for _ in range(repeat):  # rounds interleaved, so a busy minute hits every reader alike
        for kind, log, fmt, path in plan:
            results[(kind, log, fmt)].append(run(kind, path))
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    rate: dict[tuple, float] = {}
    print(f"\n{'reader':<22}{'file':<11}{'format':<9}{'rows/s':>12}{'seconds':>9}"
          f"{'range':>15}{'peak MB':>9}")  # fmt: skip
    for kind, log, fmt, _ in plan:
        runs = results[(kind, log, fmt)]
        seconds = statistics.median(r["seconds"] for r in runs)
        rows = runs[0]["rows"]
        rate[(kind, log, fmt)] = rows / seconds
        spread = f"{min(r['seconds'] for r in runs):.2f}–{max(r['seconds'] for r in runs):.2f}"
        peak = max(r["peak_mb"] for r in runs)
        print(f"{kind:<22}{log:<11}{fmt:<9}{rows / seconds:>12,.0f}{seconds:>9.2f}"
              f"{spread if repeat > 1 else '':>15}{peak:>9,.0f}")  # fmt: skip
    for fmt, path in (("parquet", t_parquet), ("csv", t_csv)):
        r = results[("read_log", "transfers", fmt)][-1]
        print(f"  read_log {path.name}: transfer history {r['transfer_history']}, "
              f"{r['rows']:,} rows → {r['events']:,} events, {r['quarantined']} quarantined, "
              f"{r['holder_markers']:,} holder markers, {r['out_of_chain']} out of chain, "
              f"{r['transfers_by_kind']}")  # fmt: skip
    parquet_rate = rate[("read_log", "transfers", "parquet")]
    csv_ratio = rate[("read_log", "transfers", "csv")] / rate[("read_log", "step log", "csv")]
    print(
        f"\ngoal: transfer Parquet ≥ 1,000,000 rows/s: {parquet_rate:,.0f} rows/s = "
        f"{parquet_rate / 1e6:.2f} × the goal → {'met' if parquet_rate >= 1e6 else 'missed'}"
    )
    print(
        f"goal: transfer CSV ≥ step-log CSV: {csv_ratio:.2f} × the step-log CSV loader's rate "
        f"→ {'met' if csv_ratio >= 1 else 'missed'}"
    )
    for fmt, peer in (("parquet", "pandas.read_parquet"), ("csv", "pandas.read_csv")):
        ratio = rate[(peer, "transfers", fmt)] / rate[("read_log", "transfers", fmt)]
        step = rate[("read_log", "transfers", fmt)] / rate[("read_log", "step log", fmt)]
        print(f"  transfers {fmt}: read_log takes {ratio:.2f} × the time of {peer}; "
              f"{step:.2f} × the step-log loader's rate")  # fmt: skip


if __name__ == "__main__":
    main()
