"""Where cases lose working time: each event's sojourn and the ranking of bottlenecks.

docs/definitions.md (Sojourns, Bottlenecks): an event's **sojourn** is the working time since
the previous event of its case (the ``sojourn`` column of the events table, defined once in
:func:`procmine.engines.complete_events`); a **bottleneck** is a step, department, official,
handoff or procedure ranked by the working time it holds cases. Every figure is one SQL text
(DuckDB dialect, transpiled by SQLGlot for Spark) composed with :func:`procmine.engines.with_ctes`
over the events table:

- :func:`sojourns`: each event's sojourn (working minutes and hours, calendar hours beside it),
  and with start/complete lifecycles its waiting and processing parts;
- :func:`bottlenecks` / :func:`bottleneck_cases`: the ranking, and the cases behind each row.

The exact rules (percentiles, pairing of starts and completes) are in ``docs/definitions.md``.

>>> import procmine as pm
>>> log = pd.DataFrame({"case:concept:name": ["a", "a", "a"],
...                     "concept:name": ["Nhận", "Thẩm định", "Trả kết quả"],
...                     "org:group": ["Văn phòng", "Phòng Tư pháp", "Văn phòng"],
...                     "time:timestamp": pd.to_datetime(["2024-05-06 08:00", "2024-05-06 10:00",
...                                                       "2024-05-07 08:00"])})
>>> pm.bottlenecks(log, by="department")[["department", "working_hours", "share"]]
      department  working_hours  share
0      Văn phòng            6.0   0.75
1  Phòng Tư pháp            2.0   0.25

(Mon 10:00 → Tue 08:00 holds 1.5 + 4 + 0.5 working hours in Văn phòng: office hours 07:30–11:30
and 13:00–17:00.)
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from procmine import engines, schema
from procmine.engines import Cte, with_ctes, with_sequence_links
from procmine.sequences import HANDOFFS

__all__ = ["bottleneck_cases", "bottlenecks", "figure_sqls", "sojourns"]

By = Literal["activity", "department", "handoff", "procedure", "resource"]
_KEYS: dict[str, tuple[str, ...]] = {
    "activity": ("activity",),
    "department": ("department",),
    "resource": ("resource",),
    "handoff": ("source", "target"),
    "procedure": ("procedure",),
}
EVENT_COLUMNS = engines.FIGURE_COLUMNS  # what these figures read of an events table


# ------------------------------------------------------------------------------ SQL
def sojourned(split: bool, calendar_time: bool = False) -> tuple[Cte, ...]:
    """CTEs ending in ``sojourned``: every event with its sojourn, its calendar hours since the
    previous event of the case when ``calendar_time``, and its ``waiting`` and ``processing``
    minutes (null unless ``split``: see :func:`sojourns`, Notes).

    >>> [name for name, _ in sojourned(split=True)]
    ['timed', 'phased', 'numbered', 'starts', 'sojourned']
    """
    timed = ("timed", "SELECT * FROM events")
    if calendar_time:
        timed = (
            "timed",
            """
  SELECT *,
    (EPOCH(ts) - EPOCH(LAG(ts) OVER (PARTITION BY case_no ORDER BY idx))) / 3600.0
      AS calendar_hours
  FROM events""",
        )
    if not split:
        return timed, ("sojourned", "SELECT *, NULL AS waiting, NULL AS processing FROM timed")
    return (
        timed,
        (
            "phased",
            """
  SELECT *,
    CASE WHEN lifecycle = 'start' THEN 'start'
         WHEN lifecycle IS NULL OR lifecycle = 'complete' THEN 'complete' END AS phase
  FROM timed""",
        ),
        (
            "numbered",
            """
  SELECT *,
    ROW_NUMBER() OVER (PARTITION BY case_no, activity, phase ORDER BY idx) AS instance,
    MAX(CASE WHEN phase = 'complete' THEN wm END) OVER (
      PARTITION BY case_no ORDER BY idx ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) AS previous_complete_wm
  FROM phased""",
        ),
        (
            "starts",
            """
  SELECT case_no, activity, instance, idx AS start_idx, wm AS start_wm
  FROM numbered WHERE phase = 'start'""",
        ),
        (
            "sojourned",
            """
  SELECT n.*,
    CASE WHEN n.phase = 'start' OR (n.phase = 'complete' AND s.start_idx IS NULL)
         THEN n.wm - n.previous_complete_wm END AS waiting,
    CASE WHEN n.phase = 'complete' THEN COALESCE(n.wm - s.start_wm, 0.0) END AS processing
  FROM numbered AS n
  LEFT JOIN starts AS s
    ON n.phase = 'complete' AND s.case_no = n.case_no AND s.activity = n.activity
    AND s.instance = n.instance AND s.start_idx < n.idx""",
        ),
    )


def units(by: str, split: bool) -> tuple[Cte, ...]:
    """CTEs ending in ``units``: the units whose working time a ranking row holds — one row per
    event (activity, department, resource), per handoff, or per case (procedure) — with its key,
    case, minutes, the events it counts and its waiting/processing minutes."""
    if by == "handoff":
        return HANDOFFS, (
            "units",
            """
  SELECT source, target, case_no, wait_minutes AS minutes, 1 AS events,
    NULL AS waiting, NULL AS processing
  FROM handoffs""",
        )
    if by == "procedure":
        return *sojourned(split), (
            "units",
            """
  SELECT procedure, case_no, SUM(COALESCE(sojourn, 0.0)) AS minutes, COUNT(*) AS events,
    SUM(waiting) AS waiting, SUM(processing) AS processing
  FROM sojourned
  GROUP BY procedure, case_no""",
        )
    (key,) = _KEYS[by]
    return *sojourned(split), (
        "units",
        f"""
  SELECT {key}, case_no, sojourn AS minutes, 1 AS events, waiting, processing
  FROM sojourned
  WHERE sojourn IS NOT NULL""",
    )


def bottleneck_sql(by: str, split: bool) -> str:
    """The SQL of :func:`bottlenecks` for one ``by`` (``split``: with waiting and processing)."""
    keys = ", ".join(_KEYS[by])
    # All working time is the sum of every event's sojourn. Activity, department, resource and
    # procedure units partition the events, so it is the sum of the rows' totals and the events
    # are not read (and their sojourns computed) a second time; handoff units hold only the time
    # between departments, so that ranking reads it from the events.
    if by == "handoff":
        total = (("total", "SELECT SUM(sojourn) AS all_minutes FROM events"),)
        all_minutes, from_units = "MAX(all_minutes)", "units CROSS JOIN total"
    else:
        total, all_minutes, from_units = (), "SUM(SUM(minutes)) OVER ()", "units"
    return with_ctes(
        *units(by, split),
        *total,
        select=f"""
SELECT {keys},
  SUM(minutes) / 60.0 AS working_hours,
  SUM(minutes) / NULLIF({all_minutes}, 0) AS share,
  MEDIAN(minutes) / 60.0 AS median_working_hours,
  QUANTILE_CONT(minutes, 0.9) / 60.0 AS p90_working_hours,
  COUNT(DISTINCT case_no) AS cases,
  CAST(SUM(events) AS BIGINT) AS events,
  SUM(waiting) / 60.0 AS waiting_working_hours,
  SUM(processing) / 60.0 AS processing_working_hours
FROM {from_units}
GROUP BY {keys}
ORDER BY working_hours DESC, {keys}""",
    )


def bottleneck_cases_sql(by: str, split: bool, top: int | None = None) -> str:
    """The SQL of :func:`bottleneck_cases` for one ``by`` (``top``: the first ``top`` cases of
    each key only, in the order shown)."""
    keys = ", ".join(_KEYS[by])
    columns = "case_id, working_hours, events, waiting_working_hours, processing_working_hours"
    order = f"{keys}, working_hours DESC, case_id"
    if top is None:
        shown = f"SELECT {keys}, {columns}\nFROM per_case JOIN case_ids USING (case_no)"
    else:  # ranked within each key where the cases are, so only the first few come back
        ranked = f"ROW_NUMBER() OVER (PARTITION BY {keys} ORDER BY working_hours DESC, case_id)"
        shown = f"""SELECT {keys}, {columns}
FROM (
  SELECT per_case.*, case_id, {ranked} AS place
  FROM per_case JOIN case_ids USING (case_no)
) AS ranked
WHERE place <= {int(top)}"""
    return with_ctes(
        *units(by, split),
        (
            "per_case",
            f"""
  SELECT {keys}, case_no, SUM(minutes) / 60.0 AS working_hours,
    CAST(SUM(events) AS BIGINT) AS events, SUM(waiting) / 60.0 AS waiting_working_hours,
    SUM(processing) / 60.0 AS processing_working_hours
  FROM units
  GROUP BY {keys}, case_no""",
        ),
        select=f"{shown}\nORDER BY {order}",
    )


SOJOURNS_SQL = {
    split: with_ctes(
        *sojourned(split, calendar_time=True), select="SELECT * FROM sojourned ORDER BY idx"
    )
    for split in (False, True)
}


def figure_sqls() -> dict[str, str]:
    """Every figure's SQL text of this module, by name (for review and for the Spark check).

    >>> "bottlenecks[activity]" in figure_sqls()
    True
    """
    texts = {"sojourns": SOJOURNS_SQL[False], "sojourns[split]": SOJOURNS_SQL[True]}
    for by in _KEYS:
        texts[f"bottlenecks[{by}]"] = bottleneck_sql(by, split=by != "handoff")
        texts[f"bottleneck_cases[{by}]"] = bottleneck_cases_sql(by, split=by != "handoff")
        texts[f"bottleneck_cases[{by}, top]"] = bottleneck_cases_sql(by, by != "handoff", top=3)
    return texts


# ------------------------------------------------------------------------------ sojourns
def sojourns(log: pd.DataFrame, calendar: Any = None, engine: Any = None) -> pd.DataFrame:
    """Each event's sojourn: the working time since the previous event of its case.

    Returns one row per event, in log order: ``case_id``, ``activity``, ``department``,
    ``resource``, ``procedure``, ``lifecycle``, ``timestamp`` (tz-aware, the calendar's zone),
    ``sojourn_minutes`` and ``sojourn_working_hours`` (working time), ``calendar_hours``
    (wall-clock time, side by side), and, when the log has start events,
    ``waiting_minutes``/``waiting_working_hours`` and
    ``processing_minutes``/``processing_working_hours``. A case's first event has no sojourn
    (null).

    >>> import procmine as pm
    >>> table = sojourns(pm.datasets.example_log())
    >>> table[["case_id", "activity", "sojourn_working_hours"]].head(3)
      case_id   activity  sojourn_working_hours
    0     HS1  Tiếp nhận                    NaN
    1     HS1  Thẩm định                    2.0
    2     HS1  Phê duyệt                    7.0

    Notes
    -----
    *Start/complete.* A ``complete`` event pairs with the start of the same activity instance:
    within a case, the k-th ``start`` of an activity pairs with its k-th ``complete`` (in log
    order), provided the start comes first. **Processing** is the working time from the start to
    its complete, on the complete's row. **Waiting** is on the start's row: the working time from
    the latest ``complete`` before it in the case (the previous work done) to the start; null when
    nothing was completed before. A ``complete`` without a paired start (or an event without a
    lifecycle) is instantaneous: it waits since the latest complete before it, processing 0.
    Other transitions (schedule, suspend, …) get neither. In a sequential log
    (start, complete, start, complete, …) waiting + processing of a case add up to its sojourns;
    where activity instances overlap, processing counts the overlap once per instance.

    *Calendar hours* are the difference of local wall-clock times (an hour off across a
    daylight-saving change).
    """
    events, calendar = engines.clocked(log, calendar, EVENT_COLUMNS)
    split = _has_lifecycle_pairs(events)
    table = engines.query(SOJOURNS_SQL[split], engine, events=events)
    result = pd.DataFrame(
        {
            "case_id": table["case_id"],
            "activity": table["activity"],
            "department": table["department"],
            "resource": table["resource"],
            "procedure": table["procedure"],
            "lifecycle": table["lifecycle"],
            "timestamp": engines.local_time(table["ts"], calendar),
            "sojourn_minutes": table["sojourn"].astype("float64"),
            "sojourn_working_hours": table["sojourn"].astype("float64") / 60.0,
            "calendar_hours": table["calendar_hours"].astype("float64"),
        }
    )
    if split:
        for part in ("waiting", "processing"):
            result[f"{part}_minutes"] = table[part].astype("float64")
            result[f"{part}_working_hours"] = table[part].astype("float64") / 60.0
    return result


# --------------------------------------------------------------------------- bottlenecks
def _bottleneck_query(
    kind: str, log: pd.DataFrame, by: str, calendar: Any, engine: Any, top: int | None = None
) -> pd.DataFrame:
    schema.check_choice("by", by, _KEYS)
    events, _ = engines.clocked(log, calendar, EVENT_COLUMNS)
    split = by != "handoff" and _has_lifecycle_pairs(events)
    ranking = kind == "ranking"
    sql = bottleneck_sql(by, split) if ranking else bottleneck_cases_sql(by, split, top)
    if by == "handoff":  # the handoff CTEs read each event's next sequence entry
        events = with_sequence_links(events)
    table = engines.query(sql, engine, with_case_ids=kind == "cases", events=events)
    if not split:
        table = table.drop(columns=["waiting_working_hours", "processing_working_hours"])
    for column in _KEYS[by]:
        table[column] = table[column].astype("string")
    return table


def bottlenecks(
    log: pd.DataFrame,
    by: By = "activity",
    *,
    calendar: Any = None,
    engine: Any = None,
    catalog: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Rank steps, departments, handoffs, procedures or officials by the working time they hold
    cases (docs/definitions.md: Bottlenecks).

    Returns one row per key (``activity``; ``department``; ``source``, ``target``;
    ``procedure``; ``resource``), largest first: ``working_hours`` (total working hours held),
    ``share`` (of all working time in the log), ``median_working_hours`` and
    ``p90_working_hours``, ``cases`` and ``events``, and
    ``waiting_working_hours``/``processing_working_hours`` when the log has start/complete
    lifecycles (not for handoffs). ``catalog`` is accepted for symmetry with the other analyses;
    the ranking does not depend on it. ``log`` is the canonical log, or the frame of
    :func:`procmine.engines.event_table` (then used as it is: the clock is read once for several
    figures).

    >>> import procmine as pm
    >>> ranked = pm.bottlenecks(pm.datasets.example_log(), by="department")
    >>> columns = ["working_hours", "share", "median_working_hours", "cases", "events"]
    >>> ranked[["department", *columns]].round(3)
          department  working_hours  share  median_working_hours  cases  events
    0      Văn phòng           33.0  0.508                  5.25      3       4
    1  Phòng Tư pháp           32.0  0.492                  4.00      3       5

    Notes
    -----
    *Attribution.* An event's sojourn (working time since the previous event of its case, the time
    the step waited and took) belongs to its activity, its department or its official; a case's
    first event holds nothing and is not counted in ``events``. A handoff A → B holds the
    ``wait_minutes`` of :func:`procmine.handoffs.handoff_table` (``events`` counts handoffs). A
    procedure holds each of its cases' working duration (first to last event; ``events`` counts
    all their events, and a one-event case counts with 0 working hours).

    *Missing departments/officials* form one row whose key is null (the report labels it), so the
    shares of activity, department, resource and procedure rows add up to 1. Handoff shares are of
    the same total, all working time, and add up to the part of it spent between departments.

    *Median and p90* are of the per-unit values (per event; per handoff; per case for procedures),
    with linear interpolation between order statistics (numpy's default): with the n values sorted
    x[0] ≤ … ≤ x[n-1] and h = (n - 1)·p, x[⌊h⌋] + (h - ⌊h⌋)·(x[⌊h⌋+1] - x[⌊h⌋]).
    """
    if catalog is not None:
        schema.require_columns(catalog, ("procedure", "activity"), what="the catalog")
    return _bottleneck_query("ranking", log, by, calendar, engine)


def bottleneck_cases(
    log: pd.DataFrame,
    by: By = "activity",
    key: Any = None,
    *,
    top: int | None = None,
    calendar: Any = None,
    engine: Any = None,
) -> pd.DataFrame:
    """The cases behind each row of :func:`bottlenecks`: one row per key and case with the working
    hours the case spent there (``working_hours``) and the ``events`` counted (and its waiting
    and processing working hours when the log has start/complete pairs), largest first within each
    key (ties by case id).

    ``key`` keeps one row of the ranking: a name, or a ``(source, target)`` pair for handoffs.
    ``top`` keeps the first ``top`` cases of each key (the examples a report shows), ranked where
    the events are: the same rows as the first ``top`` of the whole table.

    >>> import procmine as pm
    >>> bottleneck_cases(pm.datasets.example_log(), "department", "Phòng Tư pháp")
          department case_id  working_hours  events
    0  Phòng Tư pháp     HS3           24.0       2
    1  Phòng Tư pháp     HS2            6.0       2
    2  Phòng Tư pháp     HS1            2.0       1
    """
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise ValueError(f"top must be a whole number of cases >= 1; got {top!r}.")
    table = _bottleneck_query("cases", log, by, calendar, engine, top)
    if key is None:
        return table
    keys = _KEYS[by]
    wanted = tuple(key) if isinstance(key, list | tuple) else (key,)
    if len(wanted) != len(keys):
        raise ValueError(f"key for by={by!r} must give {len(keys)} value(s) {keys}, found {key!r}.")
    mask = np.ones(len(table), dtype=bool)
    for column, value in zip(keys, wanted, strict=True):
        mask &= (table[column] == value).fillna(False).to_numpy(dtype=bool)
    return table[mask].reset_index(drop=True)


def _has_lifecycle_pairs(events: pd.DataFrame) -> bool:
    # A schema decision (which columns the answer has), not a figure: any start event at all.
    return "start" in engines.distinct(events["lifecycle"])
