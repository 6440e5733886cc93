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
"""

from __future__ import annotations

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
