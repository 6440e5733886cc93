"""Where figures are computed: one SQL definition per figure, run on DuckDB (default) or Spark.

Every set-based figure of procmine is a SQL query written once, in DuckDB's dialect, over the
tables prepared here. :func:`query` runs it on an embedded DuckDB connection, or transpiles it with
SQLGlot to Spark SQL and runs it on a ``SparkSession`` passed as ``engine``. No figure is written
twice.

The table every analysis reads is ``events`` (see :func:`event_table`):

===============  ===========================================================================
``idx``          position in the canonical log order (cases sorted by time, ties in export order)
``case_id``      the case
``activity``     the step
``department``   the department (null when the export had none)
``resource``     the official (null when absent)
``procedure``    the procedure (``DEFAULT_PROCEDURE`` when the log has no procedure column)
``lifecycle``    ``start``/``complete`` or null
``ts``           the timestamp in the working clock's local time, naive
``wm``           the working clock reading: working minutes since the calendar's origin
``side_copy``    whether the event is a side copy of a transfer history (for coordination or
                 information: it moves no responsibility)
``in_sequence``  whether the event takes part in department sequences (has a department and is
                 not a side copy)
``sojourn``      working minutes since the previous event of the case that is not a side copy
                 (null for the first, and for side copies: they hold no time)
===============  ===========================================================================
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from procmine import schema

DEFAULT_PROCEDURE = "(all)"
SIDE_COPY = "procmine:side_copy"

# The sojourn is defined here, once: the working time since the previous event of the case.
# Side copies of a transfer history take no part in sojourns (DESIGN.md, Transfer histories).
# The window is the plain (case_id ORDER BY idx) one that most figures use too, so DuckDB can
# share its sort with theirs.
_EVENTS_VIEW = """
SELECT *,
       CASE WHEN side_copy THEN NULL
            ELSE wm - LAG(CASE WHEN side_copy THEN NULL ELSE wm END IGNORE NULLS)
                      OVER (PARTITION BY case_id ORDER BY idx) END AS sojourn
FROM events_raw
"""


EVENT_COLUMNS = (
    "idx", "case_id", "activity", "department", "resource", "procedure", "lifecycle", "ts", "wm",
    "side_copy", "in_sequence",
)  # fmt: skip


def is_event_table(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` already is an events table (so the clock need not be read again)."""
    return all(column in frame.columns for column in EVENT_COLUMNS)


def event_table(log: pd.DataFrame, calendar: Any = None) -> pd.DataFrame:
    """The narrow, clocked frame behind the ``events`` table of every figure.

    Reading the working clock is the costliest step of a figure on a large log: build the table
    once and pass it instead of the log to every analysis (they accept either). An events table
    passed in is returned as it is — its clock was read with the calendar it was built with.

    >>> import procmine as pm
    >>> events = event_table(pm.datasets.load_sample())  # doctest: +SKIP
    """
    from procmine.calendar import WorkCalendar

    if is_event_table(log):
        return log
    schema.require_columns(log, schema.REQUIRED)
    calendar = calendar or WorkCalendar()
    n = len(log)

    def text(column: str) -> pd.Series:
        if column in log.columns:
            return log[column].astype("string").reset_index(drop=True)
        return pd.Series(pd.NA, index=range(n), dtype="string")

    timestamps = pd.to_datetime(log[schema.TIMESTAMP].reset_index(drop=True))
    local = calendar.localize(timestamps)
    department = text(schema.DEPARTMENT)
    side_copy = (
        log[SIDE_COPY].fillna(False).astype(bool).to_numpy()
        if SIDE_COPY in log.columns
        else np.zeros(n, dtype=bool)
    )
    procedure = text(schema.PROCEDURE).fillna(DEFAULT_PROCEDURE)
    return pd.DataFrame(
        {
            "idx": np.arange(n, dtype=np.int64),
            "case_id": text(schema.CASE),
            "activity": text(schema.ACTIVITY),
            "department": department,
            "resource": text(schema.RESOURCE),
            "procedure": procedure,
            "lifecycle": text(schema.LIFECYCLE).str.lower(),
            "ts": local.dt.tz_localize(None),
            "wm": calendar.working_minutes(local),
            "side_copy": side_copy,
            "in_sequence": department.notna().to_numpy() & ~side_copy,
        }
    )


def query(sql: str, engine: Any = None, **tables: pd.DataFrame) -> pd.DataFrame:
    """Run one figure's SQL (DuckDB dialect) over the given tables and return a DataFrame.

    ``engine`` is None for embedded DuckDB, or a ``pyspark.sql.SparkSession``. A table named
    ``events`` gets the ``sojourn`` column of the shared events view.

    >>> query("SELECT SUM(x) AS s FROM t", t=pd.DataFrame({"x": [1, 2]}))["s"].item()
    3
    """
    events = tables.get("events")
    if isinstance(events, pd.DataFrame) and "side_copy" not in events.columns:
        # Hand-built or pseudo events tables (a catalog's approved path) have no side copies.
        tables = {**tables, "events": events.assign(side_copy=False)}
    if engine is None:
        return _query_duckdb(sql, tables)
    return _query_spark(sql, engine, tables)


def _query_duckdb(sql: str, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    import duckdb

    with duckdb.connect() as con:
        for name, frame in tables.items():
            if name == "events":
                con.register("events_raw", frame)
                con.execute(f"CREATE TEMP VIEW events AS {_EVENTS_VIEW}")
            else:
                con.register(name, frame)
        return con.execute(sql).df()


def to_spark_sql(sql: str) -> str:
    """The Spark SQL of a figure written in DuckDB's dialect.

    SQLGlot does the dialect; one mapping is ours: DuckDB's exact ``QUANTILE_CONT(x, p)`` (linear
    interpolation, numpy's default) becomes Spark's exact ``PERCENTILE(x, p)`` — SQLGlot would write
    ``PERCENTILE_CONT(x, p)``, a form Spark rejects. ``MEDIAN`` exists in both.

    >>> to_spark_sql("SELECT QUANTILE_CONT(x, 0.9) AS q FROM t")
    'SELECT PERCENTILE(x, 0.9) AS q FROM t'
    """
    import sqlglot
    from sqlglot import exp

    def exact_percentile(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.PercentileCont) and node.expression is not None:
            return exp.Anonymous(this="PERCENTILE", expressions=[node.this, node.expression])
        return node

    statements = sqlglot.parse(sql, read="duckdb")
    return ";\n".join(
        statement.transform(exact_percentile).sql(dialect="spark", unsupported_level="raise")
        for statement in statements
    )


def _query_spark(sql: str, spark: Any, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    to_spark = to_spark_sql
    for name, frame in tables.items():
        data = frame if not isinstance(frame, pd.DataFrame) else spark.createDataFrame(frame)
        if name == "events":
            data.createOrReplaceTempView("events_raw")
            spark.sql(to_spark(_EVENTS_VIEW)).createOrReplaceTempView("events")
        else:
            data.createOrReplaceTempView(name)
    return spark.sql(to_spark(sql)).toPandas()
