"""The Spark path: every figure, run on a local SparkSession with the same SQL definitions, equals
the DuckDB result (same columns, dtypes, rows; floats to 1e-9 relative), on the bundled sample
and on a small hand-made log that reaches the paths the sample does not (a null department, a side
copy, a procedure missing from the catalog, start/complete pairs, case deadlines). The mappings
of ``engines.to_spark_sql`` are tested as text, without Spark."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

import procmine as pm
from procmine import engines

# ------------------------------------------------------------------- to_spark_sql, as text


@pytest.mark.parametrize(
    ("duckdb", "spark"),
    [
        # A decimal literal that divides or is divided is a DOUBLE: Spark would divide in decimal
        # arithmetic, rounded; elsewhere decimals are exact in both and stay as written.
        (
            "SELECT x / 60.0 AS h, x * 2.5 AS m, 0.5 AS c, n / 1e-06 AS e FROM t",
            "SELECT x / CAST(60.0 AS DOUBLE) AS h, x * 2.5 AS m, 0.5 AS c, n / 1e-06 AS e FROM t",
        ),
        ("SELECT -(1.0) / n AS w FROM t", "SELECT -(CAST(1.0 AS DOUBLE)) / n AS w FROM t"),
        (
            "SELECT QUANTILE_CONT(x, [0.5, 0.9]) AS w FROM t",
            "SELECT PERCENTILE(x, ARRAY(0.5, 0.9)) AS w FROM t",
        ),
        # Ranks are BIGINT, as DuckDB's.
        (
            "SELECT ROW_NUMBER() OVER (PARTITION BY k ORDER BY x DESC) AS n FROM t",
            "SELECT CAST(ROW_NUMBER() OVER (PARTITION BY k ORDER BY x DESC) AS BIGINT) AS n FROM t",
        ),
        (
            "SELECT RANK() OVER (ORDER BY x) AS r, DENSE_RANK() OVER (ORDER BY x) AS d FROM t",
            "SELECT CAST(RANK() OVER (ORDER BY x NULLS LAST) AS BIGINT) AS r,"
            " CAST(DENSE_RANK() OVER (ORDER BY x NULLS LAST) AS BIGINT) AS d FROM t",
        ),
        # ARG_MIN/ARG_MAX skip null values, as DuckDB's.
        (
            "SELECT ARG_MIN(wm, idx) AS a, ARG_MAX(wm, idx) AS b FROM t",
            "SELECT MIN_BY(wm, CASE WHEN NOT wm IS NULL THEN idx END) AS a,"
            " MAX_BY(wm, CASE WHEN NOT wm IS NULL THEN idx END) AS b FROM t",
        ),
        # EPOCH of a wall-clock timestamp, to the microsecond, whatever the session's zone.
        (
            "SELECT EPOCH(ts) AS s FROM t",
            "SELECT CAST(CAST(ts - CAST('1970-01-01 00:00:00' AS TIMESTAMP_NTZ)"
            " AS DECIMAL(30, 6)) AS DOUBLE) AS s FROM t",
        ),
    ],
)
def test_to_spark_sql_maps(duckdb: str, spark: str) -> None:
    assert engines.to_spark_sql(duckdb) == spark


def test_spark_schema_types_as_duckdb_reads_them() -> None:
    frame = pd.DataFrame(
        {
            "i8": np.array([1], dtype=np.int8),
            "i32": np.array([1], dtype=np.int32),
            "u16": np.array([1], dtype=np.uint16),
            "n": pd.array([None], dtype="Int64"),
            "b": pd.array([None], dtype="boolean"),
            "f": np.array([1.0], dtype=np.float32),
            "naive": pd.to_datetime(["2024-03-04 08:00"]),
            "aware": pd.to_datetime(["2024-03-04 08:00"]).tz_localize("Asia/Ho_Chi_Minh"),
            "coded": pd.Categorical([None], categories=pd.Index([], dtype=str)),
            "objects": pd.Series([7], dtype=object),
        }
    )
    assert engines.spark_schema(frame) == (
        "`i8` TINYINT, `i32` INT, `u16` INT, `n` BIGINT, `b` BOOLEAN, `f` FLOAT, "
        "`naive` TIMESTAMP_NTZ, `aware` TIMESTAMP, `coded` STRING, `objects` BIGINT"
    )
    assert engines.spark_schema(pd.DataFrame({"mixed": pd.Series([7, "x"], dtype=object)})) == (
        "`mixed` STRING"
    )


# ------------------------------------------------------------------------------ on Spark


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java: no `java` on PATH (install a JRE, e.g. openjdk-17)")
    # Tiny tables: one shuffle partition, not 200 (the file ran in 84 s with 1, 128 s with 4).
    session = pm.engines.spark_session("local[2]", **{"spark.sql.shuffle.partitions": "1"})
    yield session
    session.stop()


def _hand_log() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Five cases of two procedures; P2 is missing from the catalog (its reference is its most
    frequent sequence). A null department, a side copy, start/complete pairs, a late case with
    an explanation step and one without, deadlines from the log and from the catalog."""
    rows = [  # case, activity, department, resource, time, lifecycle, side copy
        ("c1", "Nhận", "A", "an", "2024-03-04 08:00:00.250", "complete", False),
        ("c1", "Xét", "B", "bình", "2024-03-04 09:30:00", "start", False),
        ("c1", "Xét", "B", "bình", "2024-03-04 10:15:30", "complete", False),
        ("c1", "Sao gửi", "C", None, "2024-03-04 10:20:00", "complete", True),
        ("c1", "Duyệt", "A", "an", "2024-03-05 14:00:00", "complete", False),
        ("c1", "Xét", "B", "chi", "2024-03-06 08:00:00", "complete", False),
        ("c1", "Duyệt", "A", "an", "2024-03-12 16:00:00", "complete", False),
        ("c2", "Nhận", "A", "an", "2024-03-04 08:30:00", "complete", False),
        ("c2", "Xét", None, None, "2024-03-04 11:00:00", "complete", False),
        ("c2", "Xét", "B", "bình", "2024-03-05 09:00:00", "complete", False),
        ("c2", "Duyệt", "A", "an", "2024-03-05 10:00:00", "complete", False),
        ("c3", "Nhận", "A", "dũng", "2024-03-04 09:00:00", "complete", False),
        ("c3", "Xét", "B", "chi", "2024-03-11 09:00:00", "complete", False),
        ("c3", "Giải trình", "B", "chi", "2024-03-20 09:00:00", "complete", False),
        ("c3", "Duyệt", "A", "an", "2024-04-02 09:00:00", "complete", False),
        ("c4", "Tiếp nhận", "C", "em", "2024-03-05 08:00:00", "complete", False),
        ("c4", "Thẩm định", "D", "giang", "2024-03-05 15:00:00", "complete", False),
        ("c4", "Tiếp nhận", "C", "em", "2024-03-06 08:00:00", "complete", False),
        ("c4", "Thẩm định", "D", "giang", "2024-03-18 08:00:00", "complete", False),
        ("c5", "Tiếp nhận", "C", "em", "2024-03-07 08:00:00", "complete", False),
        ("c5", "Thẩm định", "D", None, "2024-03-07 10:00:00", "complete", False),
        ("c5", "Tiếp nhận", "C", "em", "2024-03-08 08:00:00", "complete", False),
    ]
    log = pd.DataFrame(
        rows,
        columns=[
            "case:concept:name", "concept:name", "org:group", "org:resource", "time:timestamp",
            "lifecycle:transition", engines.SIDE_COPY,
        ],
    )  # fmt: skip
    log["time:timestamp"] = pd.to_datetime(log["time:timestamp"], format="ISO8601").dt.tz_localize(
        "Asia/Ho_Chi_Minh"
    )
    log["case:procedure"] = np.where(log["case:concept:name"] <= "c3", "P1", "P2")
    # c1 has its own due date (a date: due by the end of that day); the others the catalog's.
    log["case:deadline"] = pd.Series(
        np.where(log["case:concept:name"] == "c1", "2024-03-08", None), dtype=object
    )
    log["case:deadline"] = pd.to_datetime(log["case:deadline"]).dt.tz_localize("Asia/Ho_Chi_Minh")
    catalog = pd.DataFrame(
        {
            "procedure": ["P1"] * 4,
            "step": [1, 2, 3, 4],
            "activity": ["Nhận", "Xét", "Duyệt", "Giải trình"],
            "department": ["A", "B", "A", "B"],
            "deadline_working_days": [3.0] * 4,
            "step_deadline_working_days": [0.5, np.nan, np.nan, np.nan],
        }
    )
    return log, catalog


@pytest.fixture(scope="module")
def datasets(request: pytest.FixtureRequest) -> dict[str, tuple[pd.DataFrame, Any]]:
    sample = pm.event_table(pm.datasets.load_sample()), pm.datasets.load_sample_catalog()
    log, catalog = _hand_log()
    found = {"sample": sample, "hand": (log, catalog)}
    try:
        shared = request.getfixturevalue("shared_datasets")
    except pytest.skip.Exception:  # ../shared is absent: the other data sets still run
        return found
    # A real public log without a catalog: every reference is a most frequent sequence.
    found["receipt"] = pm.event_table(pm.read_log(shared / "receipt.csv.gz")), None
    return found


def _network(log: pd.DataFrame, catalog: pd.DataFrame, engine: Any) -> list[pd.DataFrame]:
    graph = pm.handoff_network(log, engine=engine)
    return list(pm.network_frames(graph))


def _map(log: pd.DataFrame, catalog: pd.DataFrame, engine: Any) -> list[Any]:
    found = pm.discover_map(log, engine=engine)
    return [found.nodes, found.edges, found.cases, found.events]


def _conformance(log: pd.DataFrame, catalog: pd.DataFrame, engine: Any) -> list[Any]:
    found = pm.check_conformance(log, catalog, engine=engine)
    summary = pm.conformance.deviation_summary(found)
    return [found.cases, found.deviations, found.unchecked, found.fitness, summary]


def _model(log: pd.DataFrame, engine: Any, from_dfg: bool) -> list[Any]:
    found = pm.discover_model(log, from_dfg=from_dfg, engine=engine)
    return [str(found.tree), found.source, found.events, found.cases]


Figure = Callable[[pd.DataFrame, pd.DataFrame, Any], Any]
FIGURES: dict[str, Figure] = {
    "handoff_network": _network,
    **{
        f"ping_pong[{by}]": lambda log, catalog, engine, by=by: pm.ping_pong(
            log, catalog, by=by, engine=engine
        )
        for by in ("pair", "ordered", "procedure", "case")
    },
    "bounce_table": lambda log, catalog, engine: pm.bounce_table(log, catalog, engine=engine),
    "handoff_table": lambda log, catalog, engine: pm.handoff_table(log, engine=engine),
    "department_runs": lambda log, catalog, engine: pm.department_runs(log, engine=engine),
    "reference_sequences": lambda log, catalog, engine: pm.reference_sequences(
        log, catalog, engine=engine
    ),
    **{
        f"bottlenecks[{by}]": lambda log, catalog, engine, by=by: pm.bottlenecks(
            log, by, engine=engine
        )
        for by in ("activity", "department", "handoff", "procedure")
    },
    **{
        f"bottleneck_cases[{by}]": lambda log, catalog, engine, by=by: pm.bottleneck_cases(
            log, by, engine=engine
        )
        for by in ("activity", "department", "handoff", "procedure")
    },
    **{
        f"bottleneck_cases[{by}, top]": lambda log, catalog, engine, by=by: pm.bottleneck_cases(
            log, by, top=3, engine=engine
        )
        for by in ("department", "handoff")
    },
    "on_time": lambda log, catalog, engine: pm.on_time(log, catalog, engine=engine),
    "on_time_rate": lambda log, catalog, engine: pm.on_time_rate(log, catalog, engine=engine),
    "late_without_explanation": lambda log, catalog, engine: pm.late_without_explanation(
        log, catalog, engine=engine
    ),
    "slow_units": lambda log, catalog, engine: pm.slow_units(log, catalog, engine=engine),
    # Open cases: the hand log's P1 closes at "Giải trình" (its catalog's last step), so its
    # cases are open above; closing every case restores the completed paths, and a moment
    # inside the log cuts it there (overdue cases, pending ones).
    **{
        f"{name}[{variant}]": lambda log, catalog, engine, figure=figure, kw=kw: figure(
            log, catalog, engine=engine, **kw
        )
        for name, figure in (
            ("on_time", pm.on_time),
            ("late_without_explanation", pm.late_without_explanation),
            ("slow_units", pm.slow_units),
            ("step_allotments", pm.step_allotments),
        )
        for variant, kw in (
            ("closed", {"closing_activities": ["Duyệt", "Thẩm định", "Tiếp nhận"]}),
            ("at", {"at": "2024-03-08", "closing_activities": ["Thẩm định"]}),
        )
    },
    "slow_units[agency]": lambda log, catalog, engine: pm.slow_units(
        log, catalog, by="agency", engine=engine
    ),
    "slow_units[resource]": lambda log, catalog, engine: pm.slow_units(
        log, catalog, by="resource", engine=engine
    ),
    "case_status": lambda log, catalog, engine: pm.case_status(log, catalog, engine=engine),
    "open_cases": lambda log, catalog, engine: pm.open_cases(log, catalog, engine=engine),
    "sojourns": lambda log, catalog, engine: pm.sojourns(log, engine=engine),
    "step_allotments": lambda log, catalog, engine: pm.step_allotments(log, catalog, engine=engine),
    "discover_map": _map,
    **{
        f"discover_model[{source}]": lambda log, catalog, engine, dfg=dfg: _model(log, engine, dfg)
        for source, dfg in (("dfg", True), ("variants", False))
    },
    "variants": lambda log, catalog, engine: pm.variants(log, engine=engine),
    "deviations": lambda log, catalog, engine: pm.conformance.deviations(
        log, catalog, engine=engine
    ),
    "check_conformance": _conformance,
    **{
        f"compliance_cost[{by}]": lambda log, catalog, engine, by=by: pm.compliance_cost(
            log, catalog, by=by, engine=engine
        )
        for by in ("procedure", "step", "case", "department")
    },
    "step_costs": lambda log, catalog, engine: pm.step_costs(log, catalog, engine=engine),
    "seen_steps": lambda log, catalog, engine: pm.cost.seen_steps(log, catalog, engine=engine),
}


def _assert_same(spark_result: Any, duckdb_result: Any) -> None:
    if isinstance(duckdb_result, list):
        assert len(spark_result) == len(duckdb_result)
        for ours, theirs in zip(spark_result, duckdb_result, strict=True):
            _assert_same(ours, theirs)
    elif isinstance(duckdb_result, pd.DataFrame):
        pd.testing.assert_frame_equal(spark_result, duckdb_result, check_exact=False, rtol=1e-9)
        assert spark_result.attrs == duckdb_result.attrs
    else:
        assert spark_result == duckdb_result


# The deadline figures need a catalog or a deadline column, and conformance a catalog, which the
# receipt log lacks.
_DEADLINE_NAMES = (
    "on_time", "on_time_rate", "late_without_explanation", "slow_units", "step_allotments",
)  # fmt: skip
DEADLINE_FIGURES = {name for name in FIGURES if name.split("[")[0] in _DEADLINE_NAMES}
CATALOG_FIGURES = {"deviations", "check_conformance"}


@pytest.mark.parametrize("dataset", ["sample", "hand", "receipt"])
@pytest.mark.parametrize("figure", sorted(FIGURES))
def test_figure_on_spark_equals_duckdb(spark: Any, datasets: dict, dataset: str, figure: str):
    if dataset not in datasets:
        pytest.skip(f"../shared is absent: no {dataset} log")
    if dataset == "receipt" and figure in DEADLINE_FIGURES:
        pytest.skip("the receipt log has no deadlines (no catalog, no deadline column)")
    if dataset == "receipt" and figure in CATALOG_FIGURES:
        pytest.skip("the receipt log has no catalog to check conformance against")
    log, catalog = datasets[dataset]
    expected = FIGURES[figure](log, catalog, None)
    _assert_same(FIGURES[figure](log, catalog, spark), expected)


_TYPED_SQL = """
SELECT k, ts, code, n, b,
  ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts) AS place,
  (EPOCH(ts) - EPOCH(LAG(ts) OVER (PARTITION BY k ORDER BY ts))) / 3600.0 AS hours,
  COUNT(*) OVER (PARTITION BY k) / 3.0 AS third
FROM t
ORDER BY k, ts"""


def _typed_table() -> pd.DataFrame:
    """Columns whose handoff to Spark and back needs care: an int32 key, wall-clock timestamps
    with microseconds (02:30 on 10 March 2024 does not exist in New York), coded text that is
    all null, and nullable integers and booleans."""
    return pd.DataFrame(
        {
            "k": np.array([1, 1, 2, 2], dtype=np.int32),
            "ts": pd.to_datetime(
                [
                    "2024-03-10 02:30:00.250",
                    "2024-03-10 04:00:00",
                    "2024-03-10 01:00:00.000001",
                    "2024-03-11 01:00:00",
                ],
                format="ISO8601",
            ),
            "wm": [np.nan, 2.0, 3.0, 4.0],
            "code": pd.Categorical([None] * 4, categories=pd.Index([], dtype=str)),
            "n": pd.array([1, None, 3, 4], dtype="Int64"),
            "b": pd.array([True, None, False, True], dtype="boolean"),
        }
    )


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_query_on_spark_gives_the_duckdb_frame(spark: Any, zone: str) -> None:
    table = _typed_table()
    spark.conf.set("spark.sql.session.timeZone", zone)
    try:
        found = engines.query(_TYPED_SQL, spark, t=table)
        empty = engines.query(_TYPED_SQL, spark, t=table.iloc[:0])
        first_wm = engines.query(
            "SELECT k, ARG_MIN(wm, ts) AS first, ARG_MAX(wm, ts) AS last FROM t GROUP BY k"
            " ORDER BY k",
            spark,
            t=table,
        )
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
    expected = engines.query(_TYPED_SQL, t=table)
    pd.testing.assert_frame_equal(found, expected, check_exact=True)
    pd.testing.assert_frame_equal(empty, engines.query(_TYPED_SQL, t=table.iloc[:0]))
    # The values themselves, independently of DuckDB: wall-clock differences to the microsecond.
    assert found["ts"].tolist() == table["ts"].iloc[[0, 1, 2, 3]].tolist()
    hours = [5399.75 / 3600, 86399.999999 / 3600]
    assert found["hours"].iloc[[1, 3]].tolist() == pytest.approx(hours, rel=1e-12, abs=0)
    assert found["place"].dtype == "int64" and found["place"].tolist() == [1, 2, 1, 2]
    assert found["third"].tolist() == [2 / 3] * 4
    assert str(found["n"].dtype) == "Int64" and str(found["b"].dtype) == "boolean"
    assert found["code"].dtype == "str" and found["code"].isna().all()
    # ARG_MIN/ARG_MAX skip a null value, as DuckDB's.
    assert first_wm.to_dict("list") == {"k": [1, 2], "first": [2.0, 3.0], "last": [2.0, 4.0]}
    pd.testing.assert_frame_equal(
        first_wm,
        engines.query(
            "SELECT k, ARG_MIN(wm, ts) AS first, ARG_MAX(wm, ts) AS last FROM t GROUP BY k"
            " ORDER BY k",
            t=table,
        ),
    )


def test_the_report_on_spark_equals_duckdb(spark):
    """The report's headline and monthly list, computed on Spark, are DuckDB's (issue 17)."""
    log, catalog = pm.datasets.example_log(), pm.datasets.example_catalog()
    on_duckdb = pm.reports.build_report(log, catalog, lang="en")
    on_spark = pm.reports.build_report(log, catalog, lang="en", engine=spark)
    assert on_spark.summary == on_duckdb.summary
    for page_duckdb, page_spark in zip(on_duckdb.pages, on_spark.pages, strict=True):
        tables = [(a, b) for a, b in zip(page_duckdb.blocks, page_spark.blocks, strict=True)
                  if isinstance(a, pm.reports.Table)]  # fmt: skip
        for duckdb_table, spark_table in tables:
            pd.testing.assert_frame_equal(duckdb_table.shown("en"), spark_table.shown("en"))


# A transfer history (issue 18): the figures that need no steps, on Spark as on DuckDB.
TRANSFER_FIGURES = sorted(
    name for name in FIGURES
    if name.split("[")[0] in {
        "handoff_network", "ping_pong", "bounce_table", "handoff_table", "department_runs",
        "on_time", "slow_units", "case_status", "open_cases", "sojourns",
    } or name in {"bottlenecks[department]", "bottlenecks[handoff]"}
)  # fmt: skip


@pytest.fixture(scope="module")
def transfers() -> tuple[pd.DataFrame, pd.DataFrame]:
    history = pm.read_log(pm.datasets.sample_path("sample_transfers.csv.gz"))
    return pm.event_table(history), pm.datasets.load_sample_catalog()


@pytest.mark.parametrize("figure", TRANSFER_FIGURES)
def test_transfer_history_figure_on_spark_equals_duckdb(spark: Any, transfers, figure: str):
    log, catalog = transfers
    _assert_same(FIGURES[figure](log, catalog, spark), FIGURES[figure](log, catalog, None))


# ------------------------------------------------- the events table built on Spark (issue 20)
# Every figure reads an events table kept on Spark (procmine.clock_sql.spark_events) where it is:
# handoffs, ping-pong, bottlenecks, sojourns and deadlines, the process map, variants, model
# discovery (from the graph or the variants counted there), conformance (its deviations, and its
# fitness from the variants of each procedure counted there) and the compliance cost (the steps
# seen and each view's SQL read there; the step costs and procedures uploaded).
ENGINE_TABLE_FIGURES = sorted(FIGURES)


def write_months(log: pd.DataFrame, directory: Any) -> Any:
    """``log`` as a Parquet dataset partitioned by month (hive folders ``month=YYYY-MM``, the
    layout of pm.write_log(log, directory, partition_by="month")), written with pyarrow."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = log.assign(month=log["time:timestamp"].dt.strftime("%Y-%m"))
    rows.attrs = {}  # the rows only (a load report is no Parquet metadata)
    table = pa.Table.from_pandas(rows, preserve_index=False)
    # Microsecond stamps: Spark reads no Parquet TIMESTAMP(NANOS).
    pq.write_to_dataset(table, directory, partition_cols=["month"], coerce_timestamps="us")
    return directory


class Gathered:
    """What the driver receives from Spark and sends it while the spy is on: the rows of every
    result collected (toArrow, toPandas, collect, first) and of every pandas frame uploaded."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from pyspark.sql import SparkSession

        try:  # Spark 4: the DataFrame of a session on the JVM (pyspark.sql's is its base)
            from pyspark.sql.classic.dataframe import DataFrame
        except ImportError:
            from pyspark.sql import DataFrame

        self.received: list[int] = []
        self.sent: list[int] = []
        for name in ("toArrow", "toPandas", "collect"):
            original = getattr(DataFrame, name)

            def spy(frame: Any, *args: Any, _original: Callable = original, **kw: Any) -> Any:
                found = _original(frame, *args, **kw)
                self.received.append(found.num_rows if hasattr(found, "num_rows") else len(found))
                return found

            monkeypatch.setattr(DataFrame, name, spy)
        create = SparkSession.createDataFrame

        def upload(session: Any, data: Any, *args: Any, **kw: Any) -> Any:
            self.sent.append(len(data) if hasattr(data, "__len__") else -1)
            return create(session, data, *args, **kw)

        monkeypatch.setattr(SparkSession, "createDataFrame", upload)


@pytest.fixture(scope="module")
def engine_tables(
    spark: Any, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> dict[str, tuple[Any, pd.DataFrame, Any]]:
    """Per data set: the events table built on Spark, the pandas log, its catalog — the sample
    from a dataset partitioned by month, the hand log from a Spark DataFrame, the receipt log
    (a foreign clock) from a Parquet file."""
    from procmine import clock_sql

    sample = pm.datasets.load_sample()
    directory = write_months(sample, tmp_path_factory.mktemp("months") / "events")
    hand, hand_catalog = _hand_log()
    found = {
        "sample": (clock_sql.spark_events(directory, engines.own_clock(sample), spark), sample,
                   pm.datasets.load_sample_catalog()),
        "hand": (clock_sql.spark_events(spark.createDataFrame(hand), None, spark), hand,
                 hand_catalog),
    }  # fmt: skip
    try:
        shared = request.getfixturevalue("shared_datasets")
    except pytest.skip.Exception:
        return found
    receipt = pm.read_log(shared / "receipt.csv.gz")
    path = tmp_path_factory.mktemp("receipt") / "receipt.parquet"
    pa_receipt = receipt.copy()
    pa_receipt.attrs = {}
    pa_receipt.to_parquet(path, coerce_timestamps="us")
    found["receipt"] = (clock_sql.spark_events(str(path), engines.own_clock(receipt), spark),
                        receipt, None)  # fmt: skip
    return found


@pytest.mark.parametrize("dataset", ["sample", "hand", "receipt"])
def test_the_events_table_built_on_spark_equals_numpy(engine_tables: dict, dataset: str):
    from test_clock_sql import assert_same_table

    if dataset not in engine_tables:
        pytest.skip(f"../shared is absent: no {dataset} log")
    events, log, _ = engine_tables[dataset]
    calendar = engines.table_calendar(events)
    assert_same_table(engines.spark_rows(events.frame.orderBy("idx")), log, calendar)
    assert len(events) == len(log) and engines.is_event_table(events)


@pytest.mark.parametrize("dataset", ["sample", "hand", "receipt"])
@pytest.mark.parametrize("figure", ENGINE_TABLE_FIGURES)
def test_figure_of_the_table_on_spark_equals_duckdb(
    engine_tables: dict, monkeypatch: pytest.MonkeyPatch, dataset: str, figure: str
):
    if dataset not in engine_tables:
        pytest.skip(f"../shared is absent: no {dataset} log")
    if dataset == "receipt" and figure in DEADLINE_FIGURES:
        pytest.skip("the receipt log has no deadlines (no catalog, no deadline column)")
    if dataset == "receipt" and figure in CATALOG_FIGURES:
        pytest.skip("the receipt log has no catalog to check conformance against")
    events, log, catalog = engine_tables[dataset]
    expected = FIGURES[figure](log, catalog, None)  # DuckDB, over the pandas log
    spied = Gathered(monkeypatch)
    found = FIGURES[figure](events, catalog, None)
    _assert_same(found, expected)
    assert_kept_there(spied, found, log)


def assert_kept_there(spied: Gathered, found: Any, log: pd.DataFrame) -> None:
    """No event was sent (only small tables: a cost figure's step costs and procedures), and
    what came back is the figure's rows (one per event only for sojourns), one row a case (the
    cases' own deadlines, conformance), or a few distinct names at most: the table stayed
    there."""
    parts = found if isinstance(found, list) else [found]
    shown = max((len(part) for part in parts if isinstance(part, pd.DataFrame)), default=0)
    cases = log["case:concept:name"].nunique()
    assert max(spied.received, default=0) <= max(shown, cases, 100), (spied.received, shown)
    assert max(spied.sent, default=0) < len(log) / 2, spied.sent


def test_a_partitioned_dataset_is_read_where_it_lies(spark: Any, tmp_path, monkeypatch):
    # The driver sends the days and the return names, and receives aggregates: never the rows.
    from procmine import clock_sql

    log = pm.datasets.example_log()
    later = log.assign(
        **{
            "case:concept:name": log["case:concept:name"] + "b",
            "time:timestamp": log["time:timestamp"] + pd.Timedelta(days=40),
        }
    )
    directory = write_months(pd.concat([log, later], ignore_index=True), tmp_path / "ev")
    assert len(list(directory.glob("month=*"))) == 2
    spied = Gathered(monkeypatch)
    events = clock_sql.spark_events(str(directory), engine=spark)
    assert max(spied.received) < len(log) and max(spied.sent) < 60, (spied.received, spied.sent)
    assert [row.case_id for row in events.case_ids().orderBy("case_no").collect()] == [
        "HS1", "HS2", "HS3", "HS1b", "HS2b", "HS3b",
    ]  # fmt: skip
    pairs = pm.ping_pong(events, pm.datasets.example_catalog())
    assert pairs["handoffs"].sum() == 2 * pm.ping_pong(log)["handoffs"].sum()
    edges = pm.discover_map(events).edges.set_index(["source", "target"])["frequency"]
    assert edges.to_dict() == (2 * pm.discover_map(log).edges.set_index(["source", "target"])[
        "frequency"]).to_dict()  # fmt: skip
    # Fitness against a model, per variant counted there, one row per case back.
    model = pm.discover_model(log)
    fitting = pm.conformance.conformance_to_model(events, model)
    assert fitting.cases["case_id"].tolist() == ["HS1", "HS2", "HS3", "HS1b", "HS2b", "HS3b"]
    assert fitting.fitness == pm.conformance.conformance_to_model(log, model).fitness


def test_discovery_on_the_table_gathers_the_graph_and_the_variants(
    engine_tables: dict, monkeypatch: pytest.MonkeyPatch
):
    # The map, the model and the variants of one procedure, and the variants of the whole log,
    # computed over the sample's table kept on Spark: equal to DuckDB over the pandas log, and
    # the driver receives the map's rows (an arc or an activity each) and one row a variant,
    # fewer than the cases; it sends nothing.
    events, log, _ = engine_tables["sample"]
    procedure = log["case:procedure"].value_counts().index[0]
    spied = Gathered(monkeypatch)
    pmap = pm.discover_map(events, procedure)
    models = [pm.discover_model(events, procedure, from_dfg=dfg) for dfg in (True, False)]
    counts = pm.discovery.variant_counts(events)
    shown = pm.variants(events, procedure)
    received, sent = list(spied.received), list(spied.sent)
    monkeypatch.undo()
    expected = pm.discover_map(log, procedure)
    _assert_same([pmap.nodes, pmap.edges, pmap.cases, pmap.events],
                 [expected.nodes, expected.edges, expected.cases, expected.events])  # fmt: skip
    for model, dfg in zip(models, (True, False), strict=True):
        theirs = pm.discover_model(log, procedure, from_dfg=dfg)
        assert (str(model.tree), model.cases, model.events) == (
            str(theirs.tree), theirs.cases, theirs.events)  # fmt: skip
    _assert_same(shown, pm.variants(log, procedure))
    _assert_same(counts, pm.discovery.variant_counts(pm.event_table(log)))
    assert len(counts) < log["case:concept:name"].nunique()
    assert max(received) <= max(len(pmap.edges) + len(pmap.nodes), len(counts)), received
    assert not sent, sent


def test_a_database_table_is_read_by_spark_through_jdbc(engine_tables: dict, postgres_url: str):
    from sqlalchemy import create_engine

    from procmine import clock_sql

    _, log, catalog = engine_tables["hand"]
    database = create_engine(postgres_url)
    try:
        log.to_sql("nhat_ky", database, index=True, index_label="row_no", if_exists="replace")
    finally:
        database.dispose()
    spark = engine_tables["hand"][0].session
    events = clock_sql.spark_events(postgres_url, None, spark, table="nhat_ky", order="row_no")
    for figure in ("ping_pong[case]", "bottlenecks[department]", "on_time", "handoff_table"):
        _assert_same(FIGURES[figure](events, catalog, None), FIGURES[figure](log, catalog, None))


def test_a_table_without_procedures_takes_the_catalogs_one_on_spark(spark: Any):
    # A log without a procedure column and a one-procedure catalog: the table kept on Spark gets
    # the catalog's procedure there (engines.with_text), and conformance equals DuckDB's.
    from procmine import clock_sql

    log, catalog = _hand_log()
    log = log[log["case:procedure"] == "P1"].drop(columns="case:procedure")
    events = clock_sql.spark_events(spark.createDataFrame(log), None, spark)
    with_procedure = pm.catalog.with_catalog_procedure(events, catalog)
    assert engines.distinct(with_procedure["procedure"]) == ["P1"]
    _assert_same(_conformance(events, catalog, None), _conformance(log, catalog, None))
    assert _conformance(events, catalog, None)[0]["procedure"].eq("P1").all()
