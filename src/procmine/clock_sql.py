"""The working clock and the events table's links in SQL: what the events table computes in numpy
(:func:`procmine.engines.event_table`), defined once more as set operations, so an engine — a
Spark cluster above all — builds the table where the log lives, and never needs the whole log on
the driver.

The SQL is DuckDB's dialect, run on a Spark session after :func:`procmine.engines.to_spark_sql`
like every figure. It reads two tables:

``stamped``  one row per event of the log: ``idx`` (its position in the canonical log order),
             ``case_id``, ``ts`` (the wall-clock time, naive: ``WorkCalendar.wall_time``),
             ``department`` (null when none) and ``side_copy``; other columns (the activity,
             procedure, ``returned`` …: :func:`stamped`) pass through;
``days``     the clock's table of days over the log's dates (``WorkCalendar.day_table``):
             ``day``, ``working``, ``cum`` (the reading at the day's 00:00).

and gives the events table's computed columns (the definitions are those of
:mod:`procmine.calendar`, :func:`procmine.engines.complete_events` and
:func:`procmine.sequences.links`, tested equal to them in tests/test_clock_sql.py):

- ``case_no``: the cases as integers in order of first appearance (``engines.case_numbers``);
- ``wm``: the clock reading, ``cum + (working ? Σ clip(m - start, 0, end - start) : 0)`` of the
  event's date joined in ``days``, ``m`` its minute of the day from whole microseconds (the
  same float operations as numpy, so the same float); null for a date the table lacks;
- ``in_sequence``: has a department and is not a side copy;
- ``sojourn``: the reading minus that of the case's latest earlier event that holds time (not a
  side copy, has a reading); null for side copies and for the case's first such event;
- the sequence links (:data:`procmine.engines.SEQUENCE_LINKS`): the next in-sequence event's
  department and reading (LEAD over each case's in-sequence events in ``idx`` order); for a
  handoff, its position among the case's handoffs and the target and first reading of the
  case's next handoff (ROW_NUMBER, LEAD over the handoffs); for a bounce A → B → A, its rank
  among the case's bounces on (A, B) in time order.

The windows partition by case and order by ``idx``: on Spark each case's events meet in one
task, not the log in one place (only the numbering of the cases, one row per case, is global).

:func:`spark_events` builds the whole table on Spark from rows Spark reads itself — a Parquet
file or a dataset partitioned by month, a database table through JDBC, a Spark DataFrame — with
``stamped`` computed there too (:func:`stamping_sql`: the canonical order, the wall-clock time),
and keeps it on the executors as a :class:`procmine.engines.SparkEvents`, which the figures take
in place of a log: the driver sends the days and the return names, and receives aggregates.
The process map's links between consecutive events are not part of it: the map adds them where
the table is when it reads it (:data:`procmine.engines.ACTIVITY_LINKS_SQL`).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from procmine import engines, schema
from procmine.calendar import as_calendar

STAMPED, DAYS = "stamped", "days"

# Microseconds in a minute: the minute of the day is whole microseconds ÷ this, one float
# division as numpy's nanoseconds ÷ 6e10 (both operands exact, so both give the same float).
_MICROSECONDS = 60_000_000


def reading_sql(calendar: Any = None) -> str:
    """The SQL expression of the clock reading of a row with ``minute`` (its minute of the day)
    and the day's ``working`` and ``cum``: the calendar's office intervals as literals.

    >>> print(reading_sql())
    cum + CASE WHEN working THEN LEAST(GREATEST(minute - 450, 0), 240) + \
LEAST(GREATEST(minute - 780, 0), 240) ELSE CAST(0 AS DOUBLE) END
    """
    calendar = as_calendar(calendar)
    clips = " + ".join(
        f"LEAST(GREATEST(minute - {int(start)}, 0), {int(length)})"
        for start, length in calendar.office_minutes
    )
    return f"cum + CASE WHEN working THEN {clips or 'CAST(0 AS DOUBLE)'} ELSE CAST(0 AS DOUBLE) END"


def events_sql(calendar: Any = None) -> str:
    """The query that gives ``stamped`` (every column) with ``case_no``, ``wm``,
    ``in_sequence``, ``sojourn`` and the sequence links, in ``idx`` order."""
    window = "PARTITION BY case_no ORDER BY idx"
    return engines.with_ctes(
        *_clock_ctes(calendar),
        (
            "entries",
            f"""
            SELECT idx, case_no, department, wm,
                   LEAD(department) OVER ({window}) AS next_department,
                   LEAD(wm) OVER ({window}) AS next_wm
            FROM clocked
            WHERE in_sequence
            """,
        ),
        (
            "handoff_links",
            f"""
            SELECT idx, case_no, department, next_department,
                   ROW_NUMBER() OVER ({window}) - 1 AS handoff_position,
                   LEAD(next_department) OVER ({window}) AS return_department,
                   LEAD(next_wm) OVER ({window}) AS return_first_wm
            FROM entries
            WHERE next_department <> department
            """,
        ),
        (
            "bounce_ranks",
            """
            SELECT idx, ROW_NUMBER() OVER (PARTITION BY case_no, department, next_department
                                           ORDER BY idx) AS bounce_rank
            FROM handoff_links
            WHERE return_department = department
            """,
        ),
        select="""
        SELECT c.*,
               CASE WHEN c.side_copy THEN NULL
                    ELSE c.wm - LAST_VALUE(CASE WHEN NOT c.side_copy THEN c.wm END IGNORE NULLS)
                                  OVER (PARTITION BY c.case_no ORDER BY c.idx
                                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
               END AS sojourn,
               e.next_department, e.next_wm,
               CAST(COALESCE(h.handoff_position, -1) AS INTEGER) AS handoff_position,
               h.return_department, h.return_first_wm,
               CAST(COALESCE(b.bounce_rank, 0) AS INTEGER) AS bounce_rank
        FROM clocked AS c
        LEFT JOIN entries AS e ON e.idx = c.idx
        LEFT JOIN handoff_links AS h ON h.idx = c.idx
        LEFT JOIN bounce_ranks AS b ON b.idx = c.idx
        ORDER BY c.idx
        """,
    )


def _clock_ctes(calendar: Any) -> tuple[tuple[str, str], ...]:
    """The CTEs of the case numbers and the clock readings (``clocked``: ``stamped`` with
    ``case_no``, ``wm`` and ``in_sequence``) of :func:`events_sql`."""
    return (
        (
            "cases",
            f"""
            SELECT case_id, CAST(ROW_NUMBER() OVER (ORDER BY first_idx) - 1 AS BIGINT) AS case_no
            FROM (SELECT case_id, MIN(idx) AS first_idx FROM {STAMPED} GROUP BY case_id) AS firsts
            """,
        ),
        (
            "minutes",
            f"""
            SELECT s.*, c.case_no,
                   CAST(DATE_DIFF('microsecond', CAST(CAST(s.ts AS DATE) AS TIMESTAMP), s.ts)
                        AS DOUBLE) / CAST({_MICROSECONDS} AS DOUBLE) AS minute,
                   d.working, d.cum
            FROM {STAMPED} AS s
            JOIN cases AS c ON c.case_id IS NOT DISTINCT FROM s.case_id
            LEFT JOIN (SELECT CAST(day AS DATE) AS day, working, cum FROM {DAYS}) AS d
              ON d.day = CAST(s.ts AS DATE)
            """,
        ),
        (
            "clocked",
            f"""
            SELECT * EXCLUDE (minute, working, cum),
                   {reading_sql(calendar)} AS wm,
                   department IS NOT NULL AND NOT side_copy AS in_sequence
            FROM minutes
            """,
        ),
    )


def stamped(
    log: pd.DataFrame, calendar: Any = None, *, return_activities: Any = None
) -> pd.DataFrame:
    """The ``stamped`` table of a canonical log (as ``pm.read_log`` gives it): what an engine is
    sent, row by row, to build the events table on — the wall-clock time and the ``returned``
    flag read per row (:func:`procmine.engines.returns_source`), the texts as text (``activity``,
    ``department``, ``resource``, ``procedure`` with its default, ``lifecycle`` lower-cased), the
    deadline as the export gave it."""
    calendar = as_calendar(calendar)
    stamps = pd.to_datetime(log[schema.TIMESTAMP].reset_index(drop=True))
    n = len(log)

    def text(column: str, default: str | None = None) -> pd.Series:
        if column not in log.columns:
            return pd.Series([default] * n, dtype="string")
        values = log[column].astype("string").reset_index(drop=True)
        if column == schema.LIFECYCLE:
            values = values.str.lower()
        return values.fillna(default) if default is not None else values

    side_copy = (
        log[engines.SIDE_COPY].fillna(False).astype(bool).reset_index(drop=True)
        if engines.SIDE_COPY in log.columns
        else pd.Series(False, index=range(n))
    )
    returned = engines.returned_flags(log, engines.returns_source(log, return_activities))
    table = pd.DataFrame(
        {
            "idx": np.arange(n, dtype=np.int64),
            "case_id": log[schema.CASE].astype("string").reset_index(drop=True),
            "activity": text(schema.ACTIVITY),
            "department": text(schema.DEPARTMENT),
            "resource": text(schema.RESOURCE),
            "procedure": text(schema.PROCEDURE, engines.DEFAULT_PROCEDURE),
            "lifecycle": text(schema.LIFECYCLE),
            "ts": calendar.wall_time(calendar.localize(stamps)).dt.as_unit("us"),
            "side_copy": side_copy.to_numpy(),
            "returned": np.asarray(returned, dtype=bool),
        }
    )
    if schema.DEADLINE in log.columns:
        table["deadline"] = log[schema.DEADLINE].reset_index(drop=True)
    return table


def day_table(calendar: Any, stamped_rows: Any, engine: Any = None) -> pd.DataFrame:
    """The ``days`` table over the dates of ``stamped_rows`` (a frame, or a Spark table: only
    its first and last wall-clock time are read, on the engine)."""
    calendar = as_calendar(calendar)
    span = engines.query(f"SELECT MIN(ts) AS first, MAX(ts) AS last FROM {STAMPED}", engine,
                         **{STAMPED: stamped_rows})  # fmt: skip
    first, last = span["first"].iloc[0], span["last"].iloc[0]
    if pd.isna(first):
        first = last = pd.Timestamp(calendar.origin)
    return calendar.day_table(first, last)


def engine_events(stamped_rows: Any, calendar: Any = None, engine: Any = None) -> Any:
    """The events table's computed columns built on ``engine`` from ``stamped_rows``: a pandas
    frame on DuckDB (``engine`` None), a Spark DataFrame — not collected — on Spark (the
    ``stamped`` rows a pandas frame, uploaded, or a Spark DataFrame already there)."""
    calendar = as_calendar(calendar)
    days = day_table(calendar, stamped_rows, engine)
    sql = events_sql(calendar)
    if isinstance(engine, str):
        engine = engines.engine_named(engine)
    if engine is None:
        return engines.query(sql, **{STAMPED: stamped_rows, DAYS: days})
    return engines.spark_frame(sql, engine, **{STAMPED: stamped_rows, DAYS: days})


# ---------------------------------------------------------------------- a log read by Spark
SOURCE = "source"  # the canonical log's rows where Spark reads them, with ``pos``
# A row's place in a Parquet source: the rank of its file (paths in order: hive folders
# ``month=YYYY-MM`` sort in time) times this, plus its row in the file.
_ROWS_PER_FILE = 1 << 40
_JDBC_DRIVERS = {"postgresql": "org.postgresql.Driver"}


def spark_events(
    source: Any,
    calendar: Any = None,
    engine: Any = "spark",
    *,
    table: str | None = None,
    order: str | None = None,
    return_activities: Any = None,
) -> engines.SparkEvents:
    """The events table of a canonical log built on a Spark engine from rows Spark reads itself,
    kept there (cached): what every figure takes in place of the log, so that only the figures'
    results come back to the driver.

    ``source`` is a Spark DataFrame of a canonical log (``pm.read_log``'s columns), a path to a
    Parquet file or dataset (hive folders such as ``month=2024-05`` are read as one log: a case
    may span folders), or a database URL with ``table=``: a JDBC URL
    (``jdbc:postgresql://HOST:PORT/DB?user=…``) or a SQLAlchemy one (``postgresql://…``),
    read by Spark through JDBC (:data:`procmine.engines.POSTGRESQL_JAR`). ``engine``: a Spark
    session or its name (:func:`procmine.engines.engine_named`).

    The rows are put in the canonical order on the engine — cases by first appearance, each in
    time order, ties kept in the source's order — which is, unless ``order`` names a column
    that holds it, a Parquet source's files in path order and rows in file order, else the
    order Spark holds the rows in. The clock (``calendar``; Vietnam's by default) reads the
    stamps' wall-clock time in its zone; naive stamps are taken as wall-clock time there. The
    driver sends the engine only the table of days and the names of the return steps, and
    gathers only aggregates (the events, the distinct texts, the first and last time).

    >>> import procmine as pm  # doctest: +SKIP
    >>> events = pm.clock_sql.spark_events("events/", engine="spark")  # doctest: +SKIP
    >>> pm.ping_pong(events, catalog)  # run on Spark, over the table there  # doctest: +SKIP
    """
    calendar = as_calendar(calendar)
    session = engines.engine_named(engine) if isinstance(engine, str | None) else engine
    if session is None:
        raise ValueError("spark_events builds the table on Spark: pass engine='spark' or a URL")
    if session.conf.get("spark.sql.session.timeZone") != "UTC":
        raise ValueError("the session's time zone must be UTC (engines.spark_session sets it)")
    rows = spark_source(source, session, table=table, order=order)
    returns = engines.returns_source(_columns_only(rows), return_activities)
    stamped_rows = session.sql(stamping_sql(rows, calendar, _return_values(rows, returns))).cache()
    try:
        # Kept on the executors without its lineage (a local checkpoint): a figure's query then
        # plans over a scan of the table, not over the SQL that built it (on_time of the sample
        # on a local session: 23 s over a cached table, 4.8 s over the checkpoint).
        built = engine_events(stamped_rows, calendar, session).localCheckpoint()
    finally:
        stamped_rows.unpersist()
    events = engines.SparkEvents(built, _table_attrs(rows, calendar, returns))
    events.learn("activity", "department", "procedure", "lifecycle")
    return events.with_case_ids(events.case_ids().localCheckpoint())


def _columns_only(rows: Any) -> pd.DataFrame:
    """An empty frame with the columns of a Spark DataFrame (what a rule reads of a log's
    columns, without its rows)."""
    return pd.DataFrame(columns=list(rows.columns))


def spark_source(
    source: Any, session: Any, *, table: str | None = None, order: str | None = None
) -> Any:
    """The rows of ``source`` (:func:`spark_events`) on ``session`` as a Spark DataFrame with
    ``pos``, their place in the source's order, registered as the view ``source``. A path
    may be any Spark reads (``hdfs://``, ``s3a://`` …); a ``postgresql`` or ``jdbc:`` URL is a
    database."""
    from pyspark.sql import functions as F

    parquet = False
    scheme = source.split("://", 1)[0].split("+", 1)[0] if isinstance(source, str) else ""
    if isinstance(source, str) and (source.startswith("jdbc:") or scheme in _JDBC_DRIVERS):
        if table is None:
            raise ValueError("a database source needs table= (the table or view to read)")
        url, properties = jdbc_url(source)
        rows = session.read.jdbc(url, table, properties=properties)
    elif isinstance(source, str | os.PathLike):
        rows, parquet = session.read.parquet(os.fspath(source)), order is None
    else:
        rows = source
    if parquet:
        files = rows.select(F.col("_metadata.file_path").alias("file")).distinct()
        ranks = files.selectExpr("file", "ROW_NUMBER() OVER (ORDER BY file) - 1 AS file_rank")
        rows = rows.select("*", F.col("_metadata.file_path").alias("__file"),
                           F.col("_metadata.row_index").alias("__row"))  # fmt: skip
        rows = rows.join(F.broadcast(ranks), rows["__file"] == ranks["file"]).select(
            *(rows[f"`{c}`"] for c in rows.columns if not c.startswith("__")),
            (ranks["file_rank"] * _ROWS_PER_FILE + rows["__row"]).alias("pos"),
        )  # fmt: skip
    elif order is not None:
        rows = rows.withColumn("pos", F.col(f"`{order}`"))
    else:  # the ids are fixed once (checkpointed): the query reads the rows twice
        rows = rows.withColumn("pos", F.monotonically_increasing_id()).localCheckpoint()
    schema.require_columns(_columns_only(rows), schema.REQUIRED)
    rows.createOrReplaceTempView(SOURCE)
    return rows


def jdbc_url(url: str) -> tuple[str, dict[str, str]]:
    """A JDBC URL and its connection properties from a JDBC or a SQLAlchemy URL.

    >>> jdbc_url("postgresql+psycopg://ana:pw@127.0.0.1:5432/nhatky")
    ('jdbc:postgresql://127.0.0.1:5432/nhatky', {'driver': 'org.postgresql.Driver', \
'user': 'ana', 'password': 'pw'})
    """
    from urllib.parse import unquote, urlsplit

    if url.startswith("jdbc:"):
        kind = url[5:].split(":", 1)[0]
        return url, {"driver": _JDBC_DRIVERS[kind]} if kind in _JDBC_DRIVERS else {}
    parts = urlsplit(url)
    kind = parts.scheme.split("+", 1)[0]
    if kind not in _JDBC_DRIVERS:
        raise ValueError(f"no JDBC driver known for {kind!r} URLs: pass a jdbc: URL")
    address = parts.hostname + (f":{parts.port}" if parts.port else "")
    properties = {"driver": _JDBC_DRIVERS[kind]}
    if parts.username:
        properties["user"] = unquote(parts.username)
    if parts.password:
        properties["password"] = unquote(parts.password)
    return f"jdbc:{kind}://{address}{parts.path}", properties


def _return_values(rows: Any, returns: Any) -> list[str]:
    """The values of the column a log's returns are read from (a transfer's kind, or the
    activity) that mark a return, by :func:`procmine.engines.returned_flags` over the distinct
    values, which the engine gives."""
    column = schema.TRANSFER if returns == schema.TRANSFER else schema.ACTIVITY
    values = [row[0] for row in rows.select(f"`{column}`").distinct().collect()]
    values = [value for value in values if value is not None]
    flags = engines.returned_flags(pd.DataFrame({column: pd.Series(values, dtype=object)}),
                                   returns)  # fmt: skip
    return [str(value) for value, flag in zip(values, flags, strict=True) if flag]


def _table_attrs(rows: Any, calendar: Any, returns: Any) -> dict[str, Any]:
    """What an events table built from ``rows`` keeps in ``attrs``: its clock, what its returns
    were read from and, for a transfer history, its closing actions."""
    attrs = {engines.CALENDAR_ATTR: calendar, engines.RETURNS_ATTR: returns}
    if schema.TRANSFER in rows.columns:
        closing = rows.where(f"`{schema.TRANSFER}` = '{schema.CLOSING}'")
        names = closing.select(f"`{schema.ACTIVITY}`").distinct().collect()
        attrs[engines.TRANSFER_ATTR] = tuple(sorted(str(r[0]) for r in names if r[0] is not None))
    return attrs


def _text(value: str) -> str:
    """A Spark SQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def stamping_sql(rows: Any, calendar: Any, returned: list[str]) -> str:
    """The Spark SQL that gives the ``stamped`` rows (:func:`stamped`) of the view ``source``
    (:func:`spark_source`): in the canonical order (``idx``: the cases numbered by their first
    row in ``pos`` order, each case's rows by time, then ``pos``; the offset of each case is a
    running sum over one row per case), the wall-clock time in the calendar's zone, the texts
    as text, ``returned`` for the ``returned`` values of the activity (a transfer's kind)."""
    present = set(rows.columns)
    stamp = f"`{schema.TIMESTAMP}`"
    naive = rows.schema[schema.TIMESTAMP].dataType.typeName() == "timestamp_ntz"
    wall = (
        stamp
        if naive
        else f"CAST(FROM_UTC_TIMESTAMP({stamp}, {_text(calendar.timezone)}) AS TIMESTAMP_NTZ)"
    )

    def text(column: str, default: str | None = None, lower: bool = False) -> str:
        value = f"CAST(`{column}` AS STRING)" if column in present else "CAST(NULL AS STRING)"
        value = f"LOWER({value})" if lower else value
        return f"COALESCE({value}, {_text(default)})" if default is not None else value

    side_copy = (f"COALESCE(CAST(`{schema.SIDE_COPY}` AS BOOLEAN), FALSE)"
                 if schema.SIDE_COPY in present else "FALSE")  # fmt: skip
    marks = schema.TRANSFER if schema.TRANSFER in present else schema.ACTIVITY
    listed = ", ".join(_text(value) for value in returned) or "NULL"
    deadline = f", `{schema.DEADLINE}` AS deadline" if schema.DEADLINE in present else ""
    return f"""
    WITH rows AS (
      SELECT CAST(`{schema.CASE}` AS STRING) AS case_id, {stamp} AS instant, pos,
             {text(schema.ACTIVITY)} AS activity, {text(schema.DEPARTMENT)} AS department,
             {text(schema.RESOURCE)} AS resource,
             {text(schema.PROCEDURE, engines.DEFAULT_PROCEDURE)} AS procedure,
             {text(schema.LIFECYCLE, lower=True)} AS lifecycle, {wall} AS ts,
             {side_copy} AS side_copy,
             COALESCE(CAST(`{marks}` AS STRING) IN ({listed}), FALSE) AS returned{deadline}
      FROM {SOURCE}
    ),
    cases AS (SELECT case_id, MIN(pos) AS first_pos, COUNT(*) AS n FROM rows GROUP BY case_id),
    starts AS (
      SELECT case_id, SUM(n) OVER (ORDER BY first_pos ROWS BETWEEN UNBOUNDED PRECEDING
                                   AND CURRENT ROW) - n AS start
      FROM cases
    )
    SELECT CAST(s.start + ROW_NUMBER() OVER (PARTITION BY r.case_id ORDER BY r.instant, r.pos)
                - 1 AS BIGINT) AS idx,
           r.case_id, r.activity, r.department, r.resource, r.procedure, r.lifecycle, r.ts,
           r.side_copy, r.returned{", r.deadline" if deadline else ""}
    FROM rows AS r
    JOIN starts AS s ON s.case_id <=> r.case_id
    """
