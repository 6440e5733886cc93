"""A real Spark cluster (issue 20): a standalone master and two workers on 127.0.0.1, each its
own JVM started from pyspark's jars (tests/spark_cluster.py), run every figure of the committed
sample and of the public receipt log through ``engine="spark://127.0.0.1:PORT"`` — the name, as a
user passes it — and give DuckDB's results; so does ``procmine analyze --engine spark://…``.
The cluster is started once for the file and stopped by its process ids, leaving no JVM behind.

Skipped only where Java (or pyspark) is missing and CI is not set; in CI that is a failure."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

import procmine as pm
from procmine import clock_sql, engines
from spark_cluster import Cluster, group_members, java_missing, running_cluster
from test_clock_sql import assert_same_table
from test_spark import (
    CATALOG_FIGURES,
    DEADLINE_FIGURES,
    FIGURES,
    Gathered,
    _assert_same,
    assert_kept_there,
    write_months,
)

# One of each figure of the local Spark parity test (tests/test_spark.py): its variants that only
# change a figure's options (a moment, closing steps, another grouping) run there, on one JVM;
# here each query pays a cluster's scheduling, ~0.3 s to several seconds. The step costs and the
# steps seen are part of every compliance cost (its attrs), so they run there too.
CLUSTER_FIGURES = sorted(
    name for name in FIGURES
    if not any(variant in name for variant in ("[closed]", "[at]", "[agency]", "[resource]"))
    and name not in {"step_costs", "seen_steps"}
)  # fmt: skip

# Tiny tables: a few shuffle partitions (two executors), not Spark's 200; no waiting for a busy
# executor that holds a task's input (spark.locality.wait, 3 s a level by default: the uploaded
# tables have no place, but a shuffle's reducers prefer where its output lies, and with two
# one-core executors the other one is idle). The JVMs run each query's code a few times: most of
# their time goes to the JIT compiling it (a second pass over the figures takes 60 % of the
# first), so the quick compiler alone, and one GC thread (two cores here).
QUICK_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
SESSION_CONFIG = {
    "spark.executor.memory": "768m",
    "spark.executor.extraJavaOptions": QUICK_JVM,
    "spark.driver.extraJavaOptions": QUICK_JVM,
    "spark.sql.shuffle.partitions": "2",
    "spark.locality.wait": "0",
}


@pytest.fixture(scope="session")
def spark_cluster() -> Iterator[Cluster]:
    """A standalone cluster (a master and two workers of one core and 1 GB each) for the whole
    test session; stopped, by process id, when the session ends."""
    missing = java_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the cluster tests: {missing}")
        pytest.skip(missing)
    with running_cluster(workers=2, cores=1, memory="1g") as cluster:
        yield cluster
    # Stopped by their ids: none of the daemons, nor an executor one of them started, is left.
    started = {process.pid for process in cluster.processes.values()}
    assert all(process.poll() is not None for process in cluster.processes.values())
    assert group_members(started) == []


@pytest.fixture(scope="module")
def on_cluster(spark_cluster: Cluster) -> Iterator[str]:
    """The cluster's master URL, with this process's Spark session connected to it (the
    figures given the URL find it running and use it); stopped before the cluster is."""
    session = engines.spark_session(spark_cluster.url, **SESSION_CONFIG)
    try:
        yield spark_cluster.url
    finally:
        session.stop()


@pytest.fixture(scope="module")
def logs(shared_datasets: Path) -> dict[str, tuple[pd.DataFrame, Any]]:
    """The committed sample (with its catalog) and the public receipt log (none), as events
    tables built once."""
    return {
        "sample": (pm.event_table(LOGS["sample"]()), pm.datasets.load_sample_catalog()),
        "receipt": (pm.event_table(LOGS["receipt"](shared_datasets)), None),
    }


LOGS = {
    "sample": lambda shared=None: pm.datasets.load_sample(),
    "receipt": lambda shared: pm.read_log(shared / "receipt.csv.gz"),
}


def test_the_cluster_runs_the_work_on_both_workers(spark_cluster: Cluster, on_cluster: str):
    # A query through the URL, as a user names the engine, runs as one application of the
    # cluster with an executor on each worker (a standalone master never runs tasks itself).
    found = engines.query(
        "SELECT k % 3 AS r, COUNT(*) AS n FROM t GROUP BY r ORDER BY r",
        on_cluster,
        t=pd.DataFrame({"k": range(3000)}),
    )
    assert found["n"].tolist() == [1000, 1000, 1000]
    state = spark_cluster.state()
    assert state["aliveworkers"] == 2
    (app,) = state["activeapps"]
    assert app["name"] == "procmine" and app["state"] == "RUNNING" and app["cores"] == 2
    assert sorted(worker["coresused"] for worker in state["workers"]) == [1, 1]
    assert engines.engine_named(on_cluster).sparkContext.master == on_cluster
    with pytest.raises(ValueError, match="already runs a Spark session"):
        engines.engine_named("spark://127.0.0.1:1")


@pytest.mark.parametrize("dataset", ["sample", "receipt"])
def test_every_figure_on_the_cluster_equals_duckdb(on_cluster: str, logs: dict, dataset: str):
    log, catalog = logs[dataset]
    compared = 0
    for figure in CLUSTER_FIGURES:
        if catalog is None and figure in DEADLINE_FIGURES | CATALOG_FIGURES:
            continue  # the receipt log has no catalog, hence no deadlines nor a path to check
        expected = FIGURES[figure](log, catalog, None)
        try:
            _assert_same(FIGURES[figure](log, catalog, on_cluster), expected)
        except AssertionError as error:
            raise AssertionError(f"{figure} on {dataset}: {error}") from error
        compared += 1
    skipped = DEADLINE_FIGURES | CATALOG_FIGURES if catalog is None else set()
    assert compared == len(set(CLUSTER_FIGURES) - skipped) > 20


@pytest.mark.parametrize("dataset", ["sample", "receipt"])
def test_the_events_table_built_on_the_cluster_equals_numpy(
    on_cluster: str, shared_datasets: Path, dataset: str
):
    # The clock readings, sojourns and sequence links computed by the executors from the log's
    # rows (procmine.clock_sql), equal to the numpy table; the figures' SQL then reads the
    # table where it is, on the cluster, and gives what DuckDB gives over the numpy table.
    log = LOGS[dataset](shared_datasets)
    calendar = engines.own_clock(log)
    built = clock_sql.engine_events(clock_sql.stamped(log, calendar), calendar, on_cluster)
    assert not isinstance(built, pd.DataFrame)  # a Spark DataFrame, not collected
    built = built.cache()  # kept in the executors' memory: built once for the five queries
    try:
        assert_same_table(engines._spark_result(built), log, calendar)
        table = engines.event_table(log, calendar)
        for by in ("activity", "department", "handoff", "procedure"):
            sql = pm.bottleneck.bottleneck_sql(by, split=False)
            on_spark = engines.query(sql, on_cluster, events=built)
            pd.testing.assert_frame_equal(on_spark, engines.query(sql, events=table), rtol=1e-9)
    finally:
        built.unpersist()


def test_a_partitioned_dataset_is_read_and_measured_on_the_cluster(
    on_cluster: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # The sample as a dataset partitioned by month, read by the executors: the events table is
    # built and kept there (clock_sql.spark_events), and the figures read it where it is. The
    # driver sends the days and the return names, and receives only the figures' rows.
    log, catalog = LOGS["sample"](), pm.datasets.load_sample_catalog()
    directory = write_months(log, tmp_path / "events")
    spied = Gathered(monkeypatch)
    events = clock_sql.spark_events(str(directory), engines.own_clock(log), on_cluster)
    assert max(spied.received) < 1000 and max(spied.sent) < 1000, (spied.received, spied.sent)
    assert len(events) == len(log) and events.session.sparkContext.master == on_cluster
    for figure in (
        "ping_pong[pair]", "bounce_table", "handoff_network", "bottlenecks[department]",
        "bottlenecks[handoff]", "on_time", "slow_units", "discover_map", "variants",
        "check_conformance", "compliance_cost[procedure]", "compliance_cost[case]",
    ):  # fmt: skip
        spied.received.clear()
        spied.sent.clear()
        found = FIGURES[figure](events, catalog, None)
        try:
            _assert_same(found, FIGURES[figure](log, catalog, None))
            assert_kept_there(spied, found, log)
        except AssertionError as error:
            raise AssertionError(f"{figure}: {error}") from error


def test_analyze_on_the_cluster_writes_the_duckdb_report(
    on_cluster: str, shared_datasets: Path, tmp_path: Path
):
    # The public receipt log (no catalog): the report's figures without the cost stages, which
    # the sample's figures above cover.
    from procmine.cli import app

    source = shared_datasets / "receipt.csv.gz"
    written = {}
    for engine in ("duckdb", on_cluster):
        out = tmp_path / engine.replace("/", "_").replace(":", "_")
        started = time.perf_counter()
        result = CliRunner().invoke(
            app,
            ["analyze", str(source), "--engine", engine, "--lang", "en", "--no-pdf",
             "--out", str(out)],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        print(f"analyze --engine {engine}: {time.perf_counter() - started:.1f} s")
        written[engine] = out
    duckdb, cluster = written["duckdb"], written[on_cluster]
    summary = json.loads((duckdb / "summary.json").read_text(encoding="utf-8"))
    assert summary["cases"] == pd.read_csv(source)["case:concept:name"].nunique()
    assert json.loads((cluster / "summary.json").read_text(encoding="utf-8")) == summary
    tables = sorted(path.relative_to(duckdb) for path in duckdb.rglob("*.csv"))
    assert len(tables) >= 3
    for table in tables:
        pd.testing.assert_frame_equal(pd.read_csv(cluster / table), pd.read_csv(duckdb / table))
