"""Loading benchmark: a synthetic N-event export as Parquet and as CSV, loaded with pm.read_log.

    python benchmarks/bench_load.py --events 1000000
    python benchmarks/bench_load.py --events 1000000 --dataset --postgres URL

``--dataset`` adds the same log as a month-partitioned Parquet dataset (``pm.write_log``), read
whole and one month of it; ``--postgres URL`` (a server you started, e.g. as tests/conftest.py
does) stores it in a table and reads it with ``pm.read_log`` (ADBC, Arrow batches) beside
``pandas.read_sql_table`` (SQLAlchemy and psycopg, Python objects).

Each measurement runs in a fresh subprocess so its peak memory (max RSS, which counts Arrow's
buffers, unlike tracemalloc) is its own. Peers, for scale: pandas.read_parquet / pandas.read_csv
(reading only, no cleaning) and pm4py.format_dataframe after pandas.read_parquet.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
from timing import measured_in_child

DEPARTMENTS = [
    "Văn phòng HĐND và UBND",
    "Phòng Nội vụ",
    "Phòng Tư pháp",
    "Phòng Tài chính - Kế hoạch",
    "Phòng Tài nguyên và Môi trường",
    "Phòng Kinh tế, Hạ tầng và Đô thị",
    "Phòng Lao động - Thương binh và Xã hội",
    "Phòng Văn hóa và Thông tin",
    "Phòng Giáo dục và Đào tạo",
    "Phòng Y tế",
    "Thanh tra huyện",
    "Bộ phận Một cửa",
]
STEPS = [
    "Tiếp nhận hồ sơ",
    "Phân công xử lý",
    "Thẩm định hồ sơ",
    "Xin ý kiến phối hợp",
    "Tổng hợp ý kiến",
    "Dự thảo văn bản",
    "Trình lãnh đạo phòng",
    "Lãnh đạo phòng duyệt",
    "Trình lãnh đạo UBND",
    "Lãnh đạo UBND ký",
    "Phát hành văn bản",
    "Trả kết quả",
]
HEADERS = ["Mã hồ sơ", "Bước xử lý", "Thời điểm", "Đơn vị xử lý", "Người xử lý", "Tên thủ tục"]


def generate(events: int, folder: Path, seed: int = 1) -> tuple[Path, Path]:
    """Write the same synthetic log as Parquet (canonical names) and CSV (Vietnamese headers,
    dd/mm/yyyy stamps), in export order: by time, cases interleaved."""
    rng = np.random.default_rng(seed)
    cases = max(events // 25, 1)  # ~400,000 cases for 10 million events
    case = rng.integers(0, cases, events)
    seconds = np.sort(rng.integers(0, 365 * 86_400, events))
    stamps = np.datetime64("2024-01-01T07:30:00", "s") + seconds.astype("timedelta64[s]")
    case_ids = pc.binary_join_element_wise("HS-", pc.cast(pa.array(case), pa.string()), "")
    columns = {
        "case:concept:name": case_ids,
        "concept:name": pa.array(
            np.array(STEPS, dtype=object)[rng.integers(0, len(STEPS), events)]
        ),
        "time:timestamp": pa.array(stamps),
        "org:group": pa.array(
            np.array(DEPARTMENTS, dtype=object)[rng.integers(0, len(DEPARTMENTS), events)]
        ),
        "org:resource": pc.binary_join_element_wise(
            "Cán bộ ", pc.cast(pa.array(rng.integers(0, 400, events)), pa.string()), ""
        ),
        "case:procedure": pc.binary_join_element_wise(
            "Thủ tục nội bộ số ", pc.cast(pa.array(case % 25), pa.string()), ""
        ),
    }
    table = pa.table(columns)
    parquet = folder / f"log-{events}.parquet"
    pq.write_table(table, parquet)
    csv_table = table.set_column(
        2, "time:timestamp", pc.strftime(table["time:timestamp"], format="%d/%m/%Y %H:%M:%S")
    ).rename_columns(HEADERS)
    csv = folder / f"log-{events}.csv"
    pcsv.write_csv(csv_table, csv)
    return parquet, csv


def measure(kind: str, path: str) -> dict:
    """Run one load in this process; returns seconds, events and peak RSS in MB."""
    import pandas as pd

    # Imports happen before the clock starts, for every loader alike.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    sys._pm4py_welcome_shown = True  # type: ignore[attr-defined]
    import pm4py

    from procmine.log import read_log

    start = time.perf_counter()
    if kind == "read_log:postgres":
        url, table = path.rsplit("#", 1)
        events = len(read_log(url, table=table))
    elif kind == "read_log:month":
        events = len(read_log(path, months=MONTH))
    elif kind.startswith("read_log"):
        events = len(read_log(path))
    elif kind == "pandas.read_sql_table":
        import sqlalchemy

        url, table = path.rsplit("#", 1)
        engine = sqlalchemy.create_engine(url)
        with engine.connect() as connection:
            events = len(pd.read_sql_table(table, connection))
        engine.dispose()
    elif kind == "pandas.read_parquet":
        events = len(pd.read_parquet(path))
    elif kind == "pandas.read_csv":
        events = len(pd.read_csv(path))
    elif kind == "pm4py.format_dataframe":
        events = len(pm4py.format_dataframe(pd.read_parquet(path)))
    else:
        raise ValueError(kind)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"kind": kind, "events": events, "seconds": seconds, "peak_mb": peak_mb}


def run(kind: str, path: Path | str) -> dict:
    return measured_in_child(__file__, kind, path)


MONTH = "2024-06"  # the month read alone from the dataset


def to_dataset(parquet: Path, folder: Path) -> Path:
    """The log of ``parquet`` as a month-partitioned dataset, written by pm.write_log."""
    import pandas as pd

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from procmine.log import write_log

    return write_log(pd.read_parquet(parquet), folder / parquet.stem, partition_by="month")


def to_postgres(parquet: Path, url: str) -> str:
    """The log of ``parquet`` stored in a PostgreSQL table (by ADBC's bulk COPY); returns
    ``URL#table`` for the loaders."""
    from adbc_driver_postgresql import dbapi
    from sqlalchemy.engine import make_url

    table = parquet.stem.replace("-", "_")
    uri = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with dbapi.connect(uri) as connection, connection.cursor() as cursor:
        cursor.adbc_ingest(table, pq.read_table(parquet), mode="replace")
        connection.commit()
    return f"{url}#{table}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--dir", type=Path, default=None, help="where to write the logs")
    parser.add_argument("--dataset", action="store_true", help="also a month-partitioned dataset")
    parser.add_argument("--postgres", metavar="URL", help="also a PostgreSQL table on this server")
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return
    folder = args.dir or Path(tempfile.mkdtemp(prefix="procmine-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    parquet, csv = generate(args.events, folder)
    print(f"generated {args.events:,} events in {time.perf_counter() - start:.1f} s ({folder})")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    plan = [
        ("read_log", "parquet", parquet, "pandas.read_parquet"),
        ("read_log", "csv", csv, "pandas.read_csv"),
        ("pm4py.format_dataframe", "parquet", parquet, None),
        ("pandas.read_parquet", "parquet", parquet, None),
        ("pandas.read_csv", "csv", csv, None),
    ]
    if args.dataset:
        dataset = to_dataset(parquet, folder)
        plan.append(("read_log", "dataset", dataset, ("read_log", "parquet")))
        plan.append(("read_log", "month", dataset, None))
    if args.postgres:
        table = to_postgres(parquet, args.postgres)
        plan.append(("read_log", "postgres", table, "pandas.read_sql_table"))
        plan.append(("pandas.read_sql_table", "postgres", table, None))
    results = {}
    for kind, fmt, path, _ in plan:
        results[(kind, fmt)] = run(kind if kind != "read_log" else f"read_log:{fmt}", path)
    print(f"{'loader':<24}{'source':<9}{'events/s':>12}{'seconds':>9}{'peak MB':>9}  vs peer")
    for kind, fmt, _, peer in plan:
        r = results[(kind, fmt)]
        rate = r["events"] / r["seconds"]
        ratio = ""
        if peer:
            key = peer if isinstance(peer, tuple) else (peer, fmt)
            p = results[key]
            ratio = f"{r['seconds'] / p['seconds']:.2f}x the time of {' '.join(key)}"
        print(f"{kind:<24}{fmt:<9}{rate:>12,.0f}{r['seconds']:>9.2f}{r['peak_mb']:>9.0f}  {ratio}")
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
