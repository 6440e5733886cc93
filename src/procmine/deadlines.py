"""Which cases miss their deadline, who held the overrun, which late cases lack an explanation.

The definitions (docs/definitions.md, Deadlines) and the catalog's deadlines and allotments: a
case is **on time** when it is completed by its due date — received plus its deadline in working
days on the working clock; the department that **held the overrun** of a late case is the one
whose steps exceeded their allotments by the most working time; a late case is **explained**
when it has an explanation step (:mod:`procmine.vocabulary`). Every figure is one SQL text
(DuckDB dialect, transpiled by SQLGlot for Spark) composed with :func:`procmine.engines.with_ctes`
from the CTEs below, each written once, over the events table:

- :func:`case_status`: which cases are **open** at the moment of the report (their last event is
  not a closing step: the catalog's last step, or a configured closing activity);
- :func:`on_time`: each case against its deadline (open, overdue, on time, early);
- :func:`step_allotments`: the working days each step may take within its procedure's deadline;
- :func:`on_time_rate`, :func:`slow_units`: the on-time share of completed cases by procedure,
  department or month, and the monthly list (carried over, received, done, pending; early, on
  time, late) of units, worst first;
- :func:`late_without_explanation`: the late cases that carry no explanation step;
- :func:`per_case_table`: the per-case table the figures above select from, for a caller that
  asks several of them (their ``per_case=``): computed once, not once a figure (a table of
  another log, catalog or options is refused; :func:`made_with` says which options it has).

The exact rules (due dates, allotments, explanation matching) are in ``docs/definitions.md``.

>>> import procmine as pm
>>> log = pd.DataFrame({"case:concept:name": ["a", "a", "b", "b"],
...                     "concept:name": ["Nhận", "Trả kết quả", "Nhận", "Trả kết quả"],
...                     "case:procedure": ["P"] * 4,
...                     "time:timestamp": pd.to_datetime(["2024-05-06 08:00", "2024-05-06 15:00",
...                                                       "2024-05-06 08:00", "2024-05-08 08:00"])})
>>> catalog = pd.DataFrame({"procedure": ["P", "P"], "step": [1, 2],
...                         "activity": ["Nhận", "Trả kết quả"], "department": ["VP", "VP"],
...                         "deadline_working_days": [1, 1]})
>>> pm.on_time(log, catalog)[["case_id", "working_days", "on_time", "overrun_working_days"]]
  case_id  working_days  on_time  overrun_working_days
0       a        0.6875     True                   0.0
1       b        2.0000    False                   1.0

(Case a took 3.5 + 2 of the day's 8 working hours; b took two working days of its one.)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from procmine import engines, schema, vocabulary
from procmine.catalog import deadline_tables, with_catalog_procedure
from procmine.engines import Cte, with_ctes

__all__ = [
    "case_deadlines",
    "case_status",
    "closing_tables",
    "figure_sqls",
    "has_deadlines",
    "late_without_explanation",
    "made_with",
    "on_time",
    "on_time_rate",
    "per_case_table",
    "slow_units",
    "status_tables",
    "step_allotments",
]

EVENT_COLUMNS = engines.FIGURE_COLUMNS  # what these figures read of an events table
# The columns the deadline SQL reads, beside the unit columns a figure names. DuckDB's scan of a
# pandas frame copies the codes of every categorical column of the frame, read or not, once per
# mention of the table (pandas 3's `.cat.codes` copies them: ~10 MB a column at 10 M events;
# on_time mentions `events` six times), so these figures are given only what they read.
_READ_COLUMNS = ("idx", "case_no", "activity", "procedure", "ts", "wm", "sojourn", "side_copy")
# Working-clock readings are float minutes; a completion this close to the due reading is on time.
_EPSILON_MINUTES = 1e-6
_HELD_UNITS = ("department", "resource")


# ------------------------------------------------------------------------------ SQL
def judged(minutes_per_day: float) -> tuple[Cte, ...]:
    """CTEs ending in ``judged``: per case received, completed (null while open), the due
    reading, working days, on time, early, overdue and overrun.

    The case ids come from the ``case_ids`` table (one row per case), not from the events: an
    aggregate carrying each case's id text held ~100 MB more at 10 M events. They read the
    tables ``closing_procedures``, ``closing_steps`` (see :func:`status`) and ``moment`` (one
    row: ``at_wm``, the reading of the moment of the report).

    >>> [name for name, _ in judged(480)]
    ['cases', 'status', 'numbered_deadlines', 'due', 'timely', 'judged']
    """
    mpd = float(minutes_per_day)
    numbered_deadlines = """
  SELECT i.case_no, d.due_wm, d.deadline_days
  FROM case_deadlines AS d JOIN case_ids AS i ON i.case_id = d.case_id"""
    due = f"""
  SELECT c.*,
    COALESCE(d.due_wm,
             c.received_wm + COALESCE(d.deadline_days, p.deadline_working_days) * {mpd}) AS due_wm
  FROM status AS c
  LEFT JOIN numbered_deadlines AS d ON d.case_no = c.case_no
  LEFT JOIN procedure_deadlines AS p ON p.procedure = c.procedure"""
    # The one test of "on time" (null without a due reading, and for an open case); the overrun
    # follows from it. An open case past its due reading at the moment of the report is overdue.
    timely = f"""
  SELECT d.*, m.at_wm,
    CASE WHEN d.due_wm IS NOT NULL AND NOT d.open
      THEN d.completed_wm <= d.due_wm + {_EPSILON_MINUTES} END AS on_time,
    COALESCE(d.open AND m.at_wm > d.due_wm + {_EPSILON_MINUTES}, FALSE) AS overdue
  FROM due AS d CROSS JOIN moment AS m"""
    # Early: completed by the start of the due date's day, whose reading is a whole number of
    # working days since the clock's origin (the origin is a midnight): the largest multiple of
    # the day below the due reading.
    judged = f"""
  SELECT *,
    (due_wm - received_wm) / {mpd} AS deadline_working_days,
    CASE WHEN on_time IS NOT NULL THEN on_time AND completed_wm
      <= {mpd} * (CEIL((due_wm - {_EPSILON_MINUTES}) / {mpd}) - 1) + {_EPSILON_MINUTES}
    END AS early,
    CASE WHEN due_wm IS NULL THEN NULL
         WHEN on_time THEN 0.0
         WHEN open THEN GREATEST(at_wm - due_wm, 0.0) / {mpd}
         ELSE (completed_wm - due_wm) / {mpd} END AS overrun_working_days
  FROM timely"""
    return (
        *status(mpd),
        ("numbered_deadlines", numbered_deadlines),
        ("due", due),
        ("timely", timely),
        ("judged", judged),
    )


def status(minutes_per_day: float) -> tuple[Cte, ...]:
    """CTEs ending in ``status``: per case its procedure, received (first event), last event,
    whether it is **open**, completed (its last event; null while open) and ``working_days``
    (from the first event to the last, open or not).

    A case is open when its procedure's closing steps are known (the procedure is in the table
    ``closing_procedures``) and its last event in log order, side copies aside, is none of them
    (``closing_steps``: procedure, activity); see :func:`closing_tables`.

    >>> [name for name, _ in status(480)]
    ['cases', 'status']
    """
    mpd = float(minutes_per_day)
    cases = """
  SELECT case_no, MIN(procedure) AS procedure, MIN(ts) AS received, MAX(ts) AS last_ts,
    MIN(wm) AS received_wm, MAX(wm) AS last_wm,
    ARG_MAX(CASE WHEN NOT side_copy THEN activity END, idx) AS last_activity
  FROM events GROUP BY case_no"""
    status = f"""
  SELECT *,
    (last_wm - received_wm) / {mpd} AS working_days,
    CASE WHEN NOT open THEN last_ts END AS completed,
    CASE WHEN NOT open THEN last_wm END AS completed_wm
  FROM (
    SELECT c.*, k.procedure IS NOT NULL AND s.activity IS NULL AS open
    FROM cases AS c
    LEFT JOIN closing_procedures AS k ON k.procedure = c.procedure
    LEFT JOIN closing_steps AS s ON s.procedure = c.procedure AND s.activity = c.last_activity
  ) AS closed"""
    return (("cases", cases), ("status", status))


def allotments() -> tuple[Cte, ...]:
    """CTEs ending in ``allotments``: per procedure and step (activity), the catalog's allotment,
    or the weight of the step in the split of what the catalog leaves of the deadline; they
    read ``judged``.

    A step's time in a case (the sum of its events' sojourns) is grouped here for on-time cases
    only, and for late ones in ``excess_steps``: one shared table of every case's steps would be
    kept whole to the end of the query, beside its largest grouping (~9.6 M steps at 10 M events).
    """
    on_time_steps = """
  SELECT j.procedure, t.activity, SUM(COALESCE(t.sojourn, 0.0)) AS minutes
  FROM events AS t JOIN judged AS j ON j.case_no = t.case_no AND j.on_time
  GROUP BY t.case_no, t.activity, j.procedure"""
    step_medians = """
  SELECT procedure, activity, MEDIAN(minutes) AS median_minutes, COUNT(*) AS on_time_cases
  FROM on_time_steps
  GROUP BY procedure, activity"""
    steps = """
  SELECT procedure, activity, given_days FROM catalog_steps
  UNION ALL
  SELECT procedure, activity, CAST(NULL AS DOUBLE) AS given_days FROM step_medians
  WHERE procedure NOT IN (SELECT procedure FROM catalog_steps)"""
    weighed = """
  SELECT s.procedure, s.activity, s.given_days, m.median_minutes, m.on_time_cases,
    SUM(CASE WHEN s.given_days IS NULL THEN COALESCE(m.median_minutes, 0.0) END)
      OVER (PARTITION BY s.procedure) AS median_total,
    COUNT(CASE WHEN s.given_days IS NULL THEN 1 END) OVER (PARTITION BY s.procedure) AS derived,
    COALESCE(SUM(s.given_days) OVER (PARTITION BY s.procedure), 0.0) AS given_total
  FROM steps AS s
  LEFT JOIN step_medians AS m ON m.procedure = s.procedure AND m.activity = s.activity"""
    allotments = """
  SELECT procedure, activity, given_days, given_total, median_minutes,
    COALESCE(on_time_cases, 0) AS on_time_cases,
    CASE WHEN given_days IS NOT NULL THEN NULL
         WHEN median_total > 0 THEN COALESCE(median_minutes, 0.0) / median_total
         ELSE 1.0 / derived END AS weight,
    CASE WHEN given_days IS NOT NULL THEN 'catalog'
         WHEN median_total > 0 THEN 'median'
         ELSE 'equal' END AS basis
  FROM weighed"""
    return (
        ("on_time_steps", on_time_steps),
        ("step_medians", step_medians),
        ("steps", steps),
        ("weighed", weighed),
        ("allotments", allotments),
    )


def excess_steps(minutes_per_day: float) -> Cte:
    """The CTE ``excess_steps``: per step of a late case that exceeded its allotment, its time
    and the excess; it reads ``judged`` and ``allotments``. Only late cases are read.

    The events are joined to their allotment before they are grouped into steps, so the grouping
    waits for the allotments and never holds memory beside the on-time cases' grouping."""
    mpd = float(minutes_per_day)
    return (
        "excess_steps",
        f"""
  SELECT case_no, activity, minutes, minutes - allotted * {mpd} AS excess
  FROM (
    SELECT case_no, activity, allotted, SUM(COALESCE(sojourn, 0.0)) AS minutes
    FROM (
      SELECT t.case_no, t.activity, t.sojourn,
        COALESCE(
          a.given_days, GREATEST(j.deadline_working_days - a.given_total, 0.0) * a.weight, 0.0
        ) AS allotted
      FROM events AS t
      JOIN judged AS j ON j.case_no = t.case_no AND NOT j.on_time
      LEFT JOIN allotments AS a ON a.procedure = j.procedure AND a.activity = t.activity
    ) AS late_events
    GROUP BY case_no, activity, allotted
  ) AS steps
  WHERE minutes - allotted * {mpd} > 0.0""",
    )


def held(unit: str) -> tuple[Cte, ...]:
    """CTEs ending in ``held_<unit>``: per late case, the ``unit`` (department or resource)
    whose steps exceeded their allotments by the most working time; they read
    ``excess_steps``. Only the events of steps that exceeded their allotment are read."""
    unit_steps = f"""
  SELECT t.case_no, t.{unit} AS unit, x.excess, x.minutes AS step_minutes,
    SUM(COALESCE(t.sojourn, 0.0)) AS minutes
  FROM events AS t
  JOIN excess_steps AS x ON x.case_no = t.case_no AND x.activity = t.activity
  WHERE t.{unit} IS NOT NULL
  GROUP BY t.case_no, t.activity, t.{unit}, x.excess, x.minutes"""
    unit_excess = f"""
  SELECT case_no, unit, SUM(excess * minutes / step_minutes) AS excess
  FROM unit_steps_{unit}
  GROUP BY case_no, unit"""
    held = f"""
  SELECT case_no, unit, excess FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY case_no ORDER BY excess DESC, unit) AS place
    FROM unit_excess_{unit} WHERE excess > 0
  ) AS ordered WHERE place = 1"""
    return (
        (f"unit_steps_{unit}", unit_steps),
        (f"unit_excess_{unit}", unit_excess),
        (f"held_{unit}", held),
    )


EXPLAINED = (
    "explained",
    """
  SELECT DISTINCT case_no FROM events
  WHERE activity IN (SELECT activity FROM explanation_activities)""",
)


def per_case(minutes_per_day: float, units: tuple[str, ...] = _HELD_UNITS) -> tuple[Cte, ...]:
    """CTEs ending in ``per_case``: one row per case with the deadline figures, who held the
    overrun (for the ``units``; null for the others, which a figure that does not show them need
    not compute), and whether it is explained; the public functions select from it."""
    held_columns = ", ".join(
        f"h_{unit}.unit AS {unit}_held_overrun"
        if unit in units
        else f"CAST(NULL AS VARCHAR) AS {unit}_held_overrun"
        for unit in _HELD_UNITS
    )
    held_joins = "".join(
        f"\n  LEFT JOIN held_{unit} AS h_{unit} ON h_{unit}.case_no = j.case_no" for unit in units
    )
    per_case = f"""
  SELECT j.case_no, i.case_id, j.procedure, j.received, j.completed, j.due_wm,
    j.working_days, j.deadline_working_days, j.open, j.overdue, j.on_time, j.early,
    j.overrun_working_days,
    {held_columns},
    x.case_no IS NOT NULL AS explained,
    STRFTIME(j.completed, '%Y-%m') AS month
  FROM judged AS j
  JOIN case_ids AS i ON i.case_no = j.case_no{held_joins}
  LEFT JOIN explained AS x ON x.case_no = j.case_no"""
    return (
        *judged(minutes_per_day),
        *allotments(),
        excess_steps(minutes_per_day),
        *(cte for unit in units for cte in held(unit)),
        EXPLAINED,
        ("per_case", per_case),
    )


_ON_TIME_SELECT = """
SELECT case_id, procedure, received, completed, due_wm, working_days,
  deadline_working_days, open, overdue, on_time, early, overrun_working_days,
  department_held_overrun, resource_held_overrun, explained
FROM per_case ORDER BY case_id"""

# The cases the on-time figures count: completed ones (an open case is not judged yet).
CLOSED = ("closed_cases", "\n  SELECT * FROM per_case WHERE NOT open")


def _took_part(unit: str) -> Cte:
    """The CTE ``took_part``: each case and each ``unit`` that did one of its events (a side copy,
    for coordination or information, makes no unit part of a case)."""
    return (
        "took_part",
        f"""
  SELECT DISTINCT case_no, {unit} AS unit FROM events WHERE {unit} IS NOT NULL AND NOT side_copy""",
    )


def _rate_select(key: str, source: str) -> str:
    """The on-time counts by ``key`` over ``source`` (which has ``on_time``) — cases, judged
    (with a deadline), on time, late and the rate: written once."""
    return f"""
SELECT {key}, COUNT(*) AS cases, COUNT(on_time) AS judged,
  COUNT(CASE WHEN on_time THEN 1 END) AS on_time,
  COUNT(CASE WHEN NOT on_time THEN 1 END) AS late,
  COUNT(CASE WHEN on_time THEN 1 END) / NULLIF(CAST(COUNT(on_time) AS DOUBLE), 0) AS on_time_rate
FROM {source} GROUP BY {key} ORDER BY {key}"""


def _source(minutes_per_day: float, units: tuple[str, ...], given: bool) -> tuple[Cte, ...]:
    """The CTEs ending in ``per_case`` (:func:`per_case`), or none when ``given``: the table
    ``per_case`` is then given (:func:`per_case_table`), and a figure's SQL is the rest."""
    return () if given else per_case(minutes_per_day, units)


def rate_sql(by: str, minutes_per_day: float, given: bool = False) -> str:
    """The SQL of :func:`on_time_rate` for one ``by``: a completed case counts for its
    procedure, the month it completed in, or every department that took part in it
    (``given``: over the table ``per_case``, see :func:`_source`)."""
    if by == "department":
        took_part = _took_part("department")
        unit_cases = (
            "unit_cases",
            """
  SELECT t.unit AS department, c.on_time
  FROM took_part AS t JOIN closed_cases AS c ON c.case_no = t.case_no""",
        )
        return with_ctes(
            *_source(minutes_per_day, (), given),
            CLOSED,
            took_part,
            unit_cases,
            select=_rate_select("department", "unit_cases"),
        )
    return with_ctes(
        *_source(minutes_per_day, (), given), CLOSED, select=_rate_select(by, "closed_cases")
    )


MONTH_CASES = (
    "month_cases",
    """
  SELECT m.month, m.month_start, m.month_end, m.as_of_wm, c.case_no, c.received, c.completed,
    c.due_wm, c.on_time, c.early, c.overrun_working_days, c.department_held_overrun,
    c.resource_held_overrun
  FROM months AS m
  JOIN per_case AS c
    ON c.received < m.month_end AND (c.completed IS NULL OR c.completed >= m.month_start)""",
)
"""Each month (the table ``months``: month, month_start, month_end, as_of_wm) and each case on
hand in it: received before its end and not completed before its start."""


def month_figures(held: str) -> str:
    """The counts of the monthly list over ``month_cases`` (as ``x``): carried over, received,
    done, pending (and overdue among them), judged, early, on time, late, and the late cases
    for which ``held`` is true with their overruns."""
    done = "x.completed < x.month_end"
    pending = "(x.completed IS NULL OR x.completed >= x.month_end)"
    return f"""
    COUNT(CASE WHEN x.received < x.month_start THEN 1 END) AS carried_over,
    COUNT(CASE WHEN x.received >= x.month_start THEN 1 END) AS received,
    COUNT(CASE WHEN {done} THEN 1 END) AS done,
    COUNT(CASE WHEN {pending} THEN 1 END) AS pending,
    COUNT(CASE WHEN {pending} AND x.due_wm < x.as_of_wm - {_EPSILON_MINUTES} THEN 1 END)
      AS pending_overdue,
    COUNT(CASE WHEN {done} THEN x.on_time END) AS cases,
    COUNT(CASE WHEN {done} AND x.early THEN 1 END) AS early_cases,
    COUNT(CASE WHEN {done} AND x.on_time AND NOT x.early THEN 1 END) AS on_time_cases,
    COUNT(CASE WHEN {done} AND NOT x.on_time THEN 1 END) AS late_cases,
    COUNT(CASE WHEN {done} AND NOT x.on_time AND {held} THEN 1 END) AS late_cases_held,
    COALESCE(SUM(CASE WHEN {done} AND NOT x.on_time AND {held} THEN x.overrun_working_days END),
             0.0) AS overrun_working_days"""


def _shares(unit: str | None) -> str:
    """The monthly list's columns in the order shown, shares of the judged cases done."""
    share = "/ NULLIF(CAST(cases AS DOUBLE), 0)"
    return f"""{unit + ", " if unit else ""}carried_over, received, done, pending, pending_overdue,
  cases, early_cases, early_cases {share} AS early_share,
  on_time_cases, on_time_cases {share} AS on_time_share,
  late_cases, late_cases {share} AS late_share, late_cases_held, overrun_working_days"""


def slow_units_sql(unit: str, minutes_per_day: float, given: bool = False) -> str:
    """The SQL of :func:`slow_units` for one ``unit`` (department or resource; ``agency``: the
    whole agency, one row per month; ``given``: over the table ``per_case``)."""
    if unit == "agency":
        return with_ctes(
            *_source(minutes_per_day, (), given),
            MONTH_CASES,
            ("per_unit", f"SELECT x.month,{month_figures('TRUE')}\n  FROM month_cases AS x\n"
                         "  GROUP BY x.month"),
            select=f"SELECT month, {_shares(None)}\nFROM per_unit ORDER BY month",
        )  # fmt: skip
    per_unit = f"""
  SELECT x.month, t.unit AS {unit},{month_figures(f"x.{unit}_held_overrun = t.unit")}
  FROM took_part AS t JOIN month_cases AS x ON x.case_no = t.case_no
  GROUP BY x.month, t.unit"""
    return with_ctes(
        *_source(minutes_per_day, (unit,), given),
        _took_part(unit),
        MONTH_CASES,
        ("per_unit", per_unit),
        select=f"""
SELECT month,
  ROW_NUMBER() OVER (PARTITION BY month ORDER BY late_cases_held DESC, overrun_working_days DESC,
    late_cases DESC, pending_overdue DESC, {unit}) AS rank,
  {_shares(unit)}
FROM per_unit
ORDER BY month, rank""",
    )


def case_status_sql(minutes_per_day: float = 480) -> str:
    """The SQL of :func:`case_status`."""
    return with_ctes(
        *status(minutes_per_day),
        select="""
SELECT i.case_id, s.procedure, s.received, s.completed, s.last_activity, s.open, s.working_days
FROM status AS s JOIN case_ids AS i ON i.case_no = s.case_no
ORDER BY i.case_id""",
    )


_LATE_UNEXPLAINED_SELECT = """
SELECT case_id, procedure, completed, overrun_working_days, department_held_overrun
FROM per_case WHERE NOT on_time AND NOT explained
ORDER BY overrun_working_days DESC, case_id"""

_ALLOTMENTS_SELECT = """
SELECT a.procedure, a.activity, a.basis, a.on_time_cases,
  a.median_minutes / 60.0 AS median_working_hours, a.weight,
  COALESCE(a.given_days, GREATEST(p.deadline_working_days - a.given_total, 0.0) * a.weight)
    AS allotment_working_days
FROM allotments AS a LEFT JOIN procedure_deadlines AS p ON p.procedure = a.procedure
ORDER BY a.procedure, a.activity"""


def on_time_sql(minutes_per_day: float, given: bool = False) -> str:
    """The SQL of :func:`on_time` (``given``: over the table ``per_case``)."""
    return with_ctes(*_source(minutes_per_day, _HELD_UNITS, given), select=_ON_TIME_SELECT)


def per_case_sql(minutes_per_day: float) -> str:
    """The SQL of :func:`per_case_table`: the rows of ``per_case``, every column."""
    return with_ctes(*per_case(minutes_per_day), select="SELECT * FROM per_case")


def allotments_sql(minutes_per_day: float) -> str:
    """The SQL of :func:`step_allotments`."""
    return with_ctes(*judged(minutes_per_day), *allotments(), select=_ALLOTMENTS_SELECT)


def late_without_explanation_sql(minutes_per_day: float, given: bool = False) -> str:
    """The SQL of :func:`late_without_explanation` (``given``: over the table ``per_case``)."""
    return with_ctes(
        *_source(minutes_per_day, ("department",), given), select=_LATE_UNEXPLAINED_SELECT
    )


def figure_sqls(minutes_per_day: float = 480) -> dict[str, str]:
    """Every figure's SQL text of this module, by name (for review and for the Spark check).

    >>> sorted(figure_sqls())[:2]
    ['case_status', 'late_without_explanation']
    """
    texts = {
        "case_status": case_status_sql(minutes_per_day),
        "on_time": on_time_sql(minutes_per_day),
        "step_allotments": allotments_sql(minutes_per_day),
        "late_without_explanation": late_without_explanation_sql(minutes_per_day),
        "per_case_table": per_case_sql(minutes_per_day),
    }
    for by in _RATE_KEYS:
        texts[f"on_time_rate[{by}]"] = rate_sql(by, minutes_per_day)
    for unit in _LIST_UNITS:
        texts[f"slow_units[{unit}]"] = slow_units_sql(unit, minutes_per_day)
    return texts


_RATE_KEYS = ("procedure", "department", "month")
_LIST_UNITS = ("department", "resource", "agency")


# ------------------------------------------------------------------------------ figures
@dataclass(frozen=True)
class _Asked:
    """What a deadline figure was asked for besides the log and the catalog."""

    calendar: Any = None
    engine: Any = None
    deadline_column: str | None = schema.DEADLINE
    explanation_activities: Iterable[str] = ()
    at: Any = None
    closing_activities: Iterable[str] = vocabulary.CLOSINGS


def on_time(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None = None,
    *,
    calendar: Any = None,
    engine: Any = None,
    deadline_column: str | None = schema.DEADLINE,
    explanation_activities: Iterable[str] = vocabulary.EXPLANATIONS,
    at: Any = None,
    closing_activities: Iterable[str] = vocabulary.CLOSINGS,
    per_case: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Each case against its deadline (docs/definitions.md: Deadlines, Open cases).

    Returns one row per case: ``case_id``, ``procedure``, ``received`` (first event),
    ``completed`` (last event; null while open), ``working_days`` taken (first to last
    event, open or not), ``deadline_working_days``, ``due``, ``open``, ``overdue`` (open and
    past its due date at ``at``), ``on_time`` (null while open or without a deadline),
    ``early`` (completed before the due date's day), ``overrun_working_days`` (0 when on time;
    while open, the time past the due date at ``at``), ``department_held_overrun`` and
    ``resource_held_overrun`` (late cases), ``explained`` (has an explanation step).
    ``attrs``: ``at``, ``closing_steps`` and ``procedures_without_closing_steps`` (see
    :func:`case_status`). ``log`` may be the frame of :func:`procmine.engines.event_table`
    (used as it is, on its own clock); it carries the log's ``case:deadline`` as ``deadline``.
    ``per_case``: the log's :func:`per_case_table` with these options, when the caller has it
    (it is not computed again).

    >>> import procmine as pm
    >>> log, catalog = pm.datasets.example_log(), pm.datasets.example_catalog()
    >>> found = on_time(log, catalog)
    >>> found[["case_id", "working_days", "on_time", "overrun_working_days", "explained"]]
      case_id  working_days  on_time  overrun_working_days  explained
    0     HS1         1.125     True                  0.00      False
    1     HS2         3.750    False                  1.75      False
    2     HS3         3.250    False                  1.25       True
    >>> found["due"].iloc[1]
    Timestamp('2024-05-08 08:30:00+0700', tz='Asia/Ho_Chi_Minh')

    Notes
    -----
    *Deadline.* The ``deadline_column`` value of the case where it has one — a date-time is the
    due instant (a date at 00:00 means by the end of that day), a number is working days — else
    the catalog's ``deadline_working_days`` of the case's procedure. The due date is
    ``calendar.add_working_days(received, N)``: received's clock reading plus N working days.

    *Open* while its last event is not a closing step (:func:`case_status`); the figures that
    rate cases (on-time rates, slow units, allotments, late without explanation) count
    completed cases only. ``at`` (default: the log's last timestamp; a date means the end of
    that day) is the moment of the report: events after it are not known yet.

    *On time* when the completion's clock reading is at most the due reading: a case finished
    exactly at the deadline is on time, and so is one finished after office hours on the due day
    (no working time has passed). ``overrun_working_days`` is the working time past the due
    reading.

    *Held the overrun.* Each step (activity) of a late case holds the sum of its events' sojourns;
    its excess is what exceeds its allotment (:func:`step_allotments`; a step without one has 0).
    A step's excess is shared among the departments (officials) that did its events in proportion
    to the time each held; the department with the largest excess held the overrun (ties: the
    first name). Events without a department are left out of this choice.

    *Explained* when the case has an activity that matches an explanation name: compared on
    NFC-normalised, case-folded text, equal to the name or starting with it followed by a
    non-letter, non-digit character (:func:`procmine.vocabulary.matches`). Defaults:
    :data:`procmine.vocabulary.EXPLANATIONS`.
    """
    asked = _Asked(
        calendar, engine, deadline_column, explanation_activities, at, closing_activities
    )
    table, calendar, notes = _per_case_query(
        on_time_sql, log, catalog, asked, _HELD_UNITS, per_case
    )
    return _noted(_on_time_frame(table, calendar), notes)


def per_case_table(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None = None,
    *,
    calendar: Any = None,
    engine: Any = None,
    deadline_column: str | None = schema.DEADLINE,
    explanation_activities: Iterable[str] = vocabulary.EXPLANATIONS,
    at: Any = None,
    closing_activities: Iterable[str] = vocabulary.CLOSINGS,
) -> pd.DataFrame:
    """The per-case deadline table every deadline figure selects from (the rows of the CTE
    ``per_case``, as the SQL reads them: case number, clock readings, naive local times),
    computed once for the figures that take it as ``per_case=`` — :func:`on_time`,
    :func:`on_time_rate`, :func:`slow_units`, :func:`late_without_explanation` — with the same
    log, catalog and options (a table of another log, catalog or options is refused).

    >>> import procmine as pm
    >>> log, catalog = pm.datasets.example_log(), pm.datasets.example_catalog()
    >>> cases = per_case_table(log, catalog)
    >>> on_time_rate(log, catalog, per_case=cases).equals(on_time_rate(log, catalog))
    True
    """
    asked = _Asked(
        calendar, engine, deadline_column, explanation_activities, at, closing_activities
    )
    return _per_case_query(per_case_sql, log, catalog, asked, _HELD_UNITS)[0]


def _on_time_frame(table: pd.DataFrame, calendar: Any) -> pd.DataFrame:
    """The rows of :func:`on_time`'s SQL, typed, with the due date-time mapped back from its
    reading: received's reading + N working days, so this is ``calendar.add_working_days(received,
    N)`` without reading the clock twice (a date-time deadline maps back to itself, to the end of
    the office day for a date)."""
    return pd.DataFrame(
        {
            "case_id": table["case_id"].astype("string"),
            "procedure": table["procedure"].astype("string"),
            "received": engines.local_time(table["received"], calendar),
            "completed": engines.local_time(table["completed"], calendar),
            "working_days": table["working_days"].astype("float64"),
            "deadline_working_days": table["deadline_working_days"].astype("float64"),
            "due": calendar.from_working_minutes(table["due_wm"].astype("float64")),
            "open": table["open"].astype(bool),
            "overdue": table["overdue"].astype(bool),
            "on_time": table["on_time"].astype("boolean"),
            "early": table["early"].astype("boolean"),
            "overrun_working_days": table["overrun_working_days"].astype("float64"),
            "department_held_overrun": table["department_held_overrun"].astype("string"),
            "resource_held_overrun": table["resource_held_overrun"].astype("string"),
            "explained": table["explained"].astype(bool),
        }
    )


def step_allotments(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None = None,
    *,
    calendar: Any = None,
    engine: Any = None,
    deadline_column: str | None = schema.DEADLINE,
    at: Any = None,
    closing_activities: Iterable[str] = vocabulary.CLOSINGS,
) -> pd.DataFrame:
    """Each step's allotment: the working days a step may take within its procedure's deadline.

    Returns one row per procedure and activity: ``basis`` (``catalog``, ``median`` or
    ``equal``), ``on_time_cases`` (on-time cases that have the step), ``median_working_hours``
    (the step's median working time in them), ``weight`` (its part of the deadline the catalog
    leaves unallotted) and ``allotment_working_days`` (null when the procedure's deadline comes
    only from the cases' deadline column: it is then the weight times each case's deadline).

    >>> import procmine as pm
    >>> log, catalog = pm.datasets.example_log(), pm.datasets.example_catalog()
    >>> allotted = step_allotments(log, catalog)
    >>> allotted[["activity", "basis", "median_working_hours", "allotment_working_days"]]
        activity   basis  median_working_hours  allotment_working_days
    0  Phê duyệt  median                   7.0                1.555556
    1  Thẩm định  median                   2.0                0.444444
    2  Tiếp nhận  median                   0.0                0.000000

    Notes
    -----
    The catalog's ``step_deadline_working_days`` where given (``catalog``); the rest of the
    procedure deadline (deadline minus the given allotments, at least 0) is split among the other
    steps in proportion to their median working time in the procedure's on-time cases
    (``median``): a step's working time in a case is the sum of its events' sojourns there, and the
    median is over the on-time cases that have the step. Where those medians are all 0 or there is
    no on-time case, the rest is split equally (``equal``). The steps are the catalog's for a
    procedure the catalog lists, else the activities seen in its on-time cases. Open cases
    (:func:`case_status`) are not on time: they take no part.
    """
    asked = _Asked(calendar, engine, deadline_column, (), at, closing_activities)
    table, _, notes = _per_case_query(allotments_sql, log, catalog, asked)
    table = table.astype(
        {
            "procedure": "string",
            "activity": "string",
            "basis": "string",
            "on_time_cases": "int64",
            "median_working_hours": "float64",
            "weight": "float64",
            "allotment_working_days": "float64",
        }
    )
    return _noted(table, notes)


def _per_case_query(
    sql_of: Callable[..., str],
    log: pd.DataFrame,
    catalog: pd.DataFrame | None,
    asked: _Asked,
    units: tuple[str, ...] = (),
    given: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, Any, dict[str, Any]]:
    """A deadline figure's rows — ``sql_of(minutes_per_day)`` over the deadline tables, reading
    the unit columns ``units`` of the events besides — the clock it was measured with, and the
    notes for its ``attrs`` (the moment, where the closing steps came from). ``given``: the
    :func:`per_case_table` of this log (checked with :func:`_check_given`), which
    ``sql_of(minutes_per_day, True)`` reads instead of computing it."""
    events, calendar = engines.clocked(log, asked.calendar, EVENT_COLUMNS)
    events = engines.complete_events(with_catalog_procedure(events, catalog))
    record = given is not None or sql_of is per_case_sql  # a per-case table, given or made
    known = len(events) if record else 0  # the log's events, before the moment cuts them
    events, tables, notes = status_tables(
        events, catalog, asked.at, asked.closing_activities, calendar
    )
    made = _made(known, catalog, asked, calendar, notes["at"]) if record else {}
    if given is not None:
        _check_given(given, made, bool(asked.explanation_activities))
        read = list(dict.fromkeys(("case_no", "side_copy", "sojourn", *units)))
        tables |= {"events": events[read], "per_case": given}
        sql = sql_of(calendar.minutes_per_day, True)
        return engines.query(sql, asked.engine, **tables), calendar, notes
    tables |= _deadline_tables(
        log, catalog, calendar, asked.deadline_column, asked.explanation_activities, events, units
    )
    sql = sql_of(calendar.minutes_per_day)
    table = engines.query(sql, asked.engine, **tables)
    if sql_of is per_case_sql:  # the table figures are given: what it is made from
        table.attrs[_MADE] = made | {"cases": len(table), "asked": _options(asked)}
    return table, calendar, notes


# The attrs key of a per-case table: what it was made from, checked when a figure is given it.
_MADE = "per_case_of"


def _made(events: int, catalog: Any, asked: _Asked, calendar: Any, at: Any) -> dict[str, Any]:
    """What a per-case table is made from: the log's number of events, the catalog (a hash of
    its rows), the clock, the moment ``at`` and the options that change its rows."""
    hashed = None if catalog is None else pd.util.hash_pandas_object(catalog, index=False)
    options = _options(asked)
    del options["at"]  # the moment as the log resolves it, below
    return {
        "events": events,
        "catalog": None if hashed is None else int(hashed.sum()),
        "calendar": calendar,
        **options,
        "at": str(at),
    }


def _options(asked: _Asked) -> dict[str, Any]:
    """The options asked of a per-case table that change its rows, as compared: ``at`` as
    asked (None: the log's last timestamp), not as the log resolves it."""
    return {
        "deadline_column": asked.deadline_column,
        "closing_activities": tuple(str(name) for name in asked.closing_activities),
        "explanation_activities": tuple(str(n) for n in asked.explanation_activities),
        "at": None if asked.at is None else str(asked.at),
    }


def made_with(
    per_case: pd.DataFrame,
    *,
    deadline_column: str | None = schema.DEADLINE,
    explanation_activities: Iterable[str] = vocabulary.EXPLANATIONS,
    at: Any = None,
    closing_activities: Iterable[str] = vocabulary.CLOSINGS,
) -> bool:
    """Whether ``per_case`` (a :func:`per_case_table`) was asked for with these options (their
    defaults are :func:`on_time`'s): a caller that hands a table on to figures asked with other
    options checks here first, and computes nothing twice where it is. Its log, catalog and
    clock are checked when a figure is given it.

    >>> import procmine as pm
    >>> cases = per_case_table(pm.datasets.example_log(), pm.datasets.example_catalog())
    >>> made_with(cases), made_with(cases, at="2024-05-31")
    (True, False)
    """
    own = per_case.attrs.get(_MADE)
    asked = _Asked(None, None, deadline_column, explanation_activities, at, closing_activities)
    return isinstance(own, dict) and own.get("asked") == _options(asked)


def _check_given(given: pd.DataFrame, made: dict[str, Any], explained: bool) -> None:
    """Raise a ``ValueError`` unless ``given`` is the :func:`per_case_table` of what a figure is
    made from (``made``); the explanation names count where the figure shows ``explained``."""
    own = given.attrs.get(_MADE)
    if not isinstance(own, dict) or own.get("events") != made["events"]:
        had = f"{own['events']:,} events" if isinstance(own, dict) else "no log we know of"
        raise ValueError(
            "per_case= must be the per-case table of this log (pm.deadlines.per_case_table(log, "
            f"catalog, ...)): it was made from {had}, and the log has {made['events']:,}."
        )
    if len(given) != own["cases"]:
        raise ValueError(
            f"per_case= has {len(given):,} rows for the {own['cases']:,} cases it was made with: "
            "pass the table per_case_table returned, whole."
        )
    skip = () if explained else ("explanation_activities",)
    differs = [key for key in made if key not in skip and own.get(key) != made[key]]
    if differs:
        raise ValueError(
            f"per_case= was made with another {', '.join(differs)} than this figure asks for: "
            "make it with the figure's catalog and options, or leave per_case= out."
        )


def _noted(frame: pd.DataFrame, notes: dict[str, Any]) -> pd.DataFrame:
    """``frame`` with the notes of its figure in ``attrs``."""
    frame.attrs.update(notes)
    return frame


def case_status(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None = None,
    *,
    at: Any = None,
    closing_activities: Iterable[str] = vocabulary.CLOSINGS,
    calendar: Any = None,
    engine: Any = None,
) -> pd.DataFrame:
    """Which cases are open at ``at``: one row per case, ``case_id``, ``procedure``,
    ``received`` (first event), ``completed`` (last event; null while open), ``last_activity``,
    ``open`` and ``working_days`` (first event to last, as in :func:`on_time`). Needs no
    deadline.

    A case is **open** when its last event (log order) is not a closing step of its procedure:
    the activities at the last step number of the procedure in the catalog, and the log's
    activities that match ``closing_activities`` (the rule of
    :func:`procmine.vocabulary.matches`). A procedure with neither has no open case: its cases
    count as complete at their last event, and ``attrs["procedures_without_closing_steps"]``
    lists it (``attrs["closing_steps"]`` says where the closing steps came from: ``catalog``,
    ``closing_activities``, both joined by " and ", or ``none``). ``at`` (default: the log's
    last timestamp; a date means the end of that day) is the moment: events after it are not
    known yet (``attrs["at"]``).

    >>> import procmine as pm
    >>> log = pm.datasets.example_log()
    >>> log = log[~((log["case:concept:name"] == "HS3") & (log["concept:name"] == "Phê duyệt"))]
    >>> case_status(log, pm.datasets.example_catalog())[["case_id", "last_activity", "open"]]
      case_id          last_activity   open
    0     HS1              Phê duyệt  False
    1     HS2              Phê duyệt  False
    2     HS3  Giải trình lý do chậm   True
    """
    events, calendar = engines.clocked(log, calendar, EVENT_COLUMNS)
    events = engines.complete_events(with_catalog_procedure(events, catalog))
    events, tables, notes = status_tables(events, catalog, at, closing_activities, calendar)
    tables["events"] = events[["idx", "case_no", "activity", "procedure", "ts", "wm", "side_copy"]]
    tables["case_ids"] = engines.case_ids(events)
    table = engines.query(case_status_sql(calendar.minutes_per_day), engine, **tables)
    found = pd.DataFrame(
        {
            "case_id": table["case_id"].astype("string"),
            "procedure": table["procedure"].astype("string"),
            "received": engines.local_time(table["received"], calendar),
            "completed": engines.local_time(table["completed"], calendar),
            "last_activity": table["last_activity"].astype("string"),
            "open": table["open"].astype(bool),
            "working_days": table["working_days"].astype("float64"),
        }
    )
    return _noted(found, notes)


def on_time_rate(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None = None,
    by: Literal["procedure", "department", "month"] = "procedure",
    *,
    calendar: Any = None,
    engine: Any = None,
    deadline_column: str | None = schema.DEADLINE,
    at: Any = None,
    closing_activities: Iterable[str] = vocabulary.CLOSINGS,
    per_case: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The share of completed cases done on time, by procedure, department or month of
    completion.

    Returns ``cases`` (completed), ``judged`` (with a deadline), ``on_time`` (early ones
    included), ``late`` and ``on_time_rate`` (on time ÷ judged). A case counts for every
    department that did at least one of its events (a side copy is no part of a case);
    ``month`` is the month of its completion (``"YYYY-MM"``). Open cases are not counted
    (:func:`case_status`; ``at`` and ``closing_activities`` as there). ``per_case`` as in
    :func:`on_time`.

    >>> import procmine as pm
    >>> on_time_rate(pm.datasets.example_log(), pm.datasets.example_catalog())
      procedure  cases  judged  on_time  late  on_time_rate
    0  Cấp phép      3       3        1     2      0.333333
    """
    schema.check_choice("by", by, _RATE_KEYS)
    units = ("department",) if by == "department" else ()
    asked = _Asked(calendar, engine, deadline_column, (), at, closing_activities)
    table, _, notes = _per_case_query(
        lambda *sql: rate_sql(by, *sql), log, catalog, asked, units, per_case
    )
    return _noted(table.astype({by: "string", "on_time_rate": "float64"}), notes)


def slow_units(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None = None,
    by: Literal["department", "resource", "agency"] = "department",
    month: str | None = None,
    *,
    calendar: Any = None,
    engine: Any = None,
    deadline_column: str | None = schema.DEADLINE,
    at: Any = None,
    closing_activities: Iterable[str] = vocabulary.CLOSINGS,
    per_case: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The monthly list of units (or officials) and how they process cases, worst first: the
    public list, shaped like the national service index's tables.

    Per month (``"YYYY-MM"``, from the first receipt to ``at``; ``month`` keeps one) and unit
    that took part in a case on hand in it (``by="agency"``: one row per month for the whole
    agency, without ``rank``): ``rank`` within the month, ``carried_over`` (open at the
    month's start), ``received`` (in the month), ``done`` (completed in it), ``pending`` (open
    at its end, or at ``at``), ``pending_overdue`` (of those, past their due date then);
    among the cases done with a deadline (``cases``): ``early_cases`` (completed before the
    due date's day), ``on_time_cases`` (on the due date's day, by the due time) and
    ``late_cases``, disjoint, each with its share of ``cases``; ``late_cases_held`` (late cases
    whose overrun it held, see :func:`on_time`) and ``overrun_working_days`` (their overruns).
    Carried over + received = done + pending. Ranked by late cases held, then overrun, late
    cases, pending overdue. A unit takes part in a case by doing one of its events; a side copy
    (for coordination or information) makes no unit part of it. Open cases as in
    :func:`case_status`; ``per_case`` as in :func:`on_time`.

    >>> import procmine as pm
    >>> listed = slow_units(pm.datasets.example_log(), pm.datasets.example_catalog())
    >>> listed[["month", "department", "done", "early_cases", "late_cases", "late_cases_held"]]
         month     department  done  early_cases  late_cases  late_cases_held
    0  2024-05      Văn phòng     3            1           2                1
    1  2024-05  Phòng Tư pháp     3            1           2                1
    """
    schema.check_choice("by", by, _LIST_UNITS)
    units = () if by == "agency" else (by,)
    asked = _Asked(calendar, engine, deadline_column, (), at, closing_activities)
    table, _, notes = _per_case_query(
        lambda *sql: slow_units_sql(by, *sql), log, catalog, asked, units, per_case
    )
    shares = {f"{kind}_share": "float64" for kind in ("early", "on_time", "late")}
    table = table.astype(
        {"month": "string", **({} if by == "agency" else {by: "string"}), **shares}
    )
    if month is not None:
        table = table[table["month"] == str(month)[:7]].reset_index(drop=True)
    return _noted(table, notes)


def late_without_explanation(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None = None,
    *,
    calendar: Any = None,
    engine: Any = None,
    deadline_column: str | None = schema.DEADLINE,
    explanation_activities: Iterable[str] = vocabulary.EXPLANATIONS,
    at: Any = None,
    closing_activities: Iterable[str] = vocabulary.CLOSINGS,
    per_case: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Late cases that carry no explanation step (apology, reason, new date): ``case_id``,
    ``procedure``, ``completed``, ``overrun_working_days``, ``department_held_overrun``,
    largest overrun first. Matching of explanation names as in :func:`on_time`; completed cases
    only (an open case past its due date is overdue: :func:`on_time`); ``per_case`` as there.

    >>> import procmine as pm
    >>> late = late_without_explanation(pm.datasets.example_log(), pm.datasets.example_catalog())
    >>> late[["case_id", "overrun_working_days", "department_held_overrun"]]
      case_id  overrun_working_days department_held_overrun
    0     HS2                  1.75               Văn phòng
    """
    asked = _Asked(
        calendar, engine, deadline_column, explanation_activities, at, closing_activities
    )
    table, calendar, notes = _per_case_query(
        late_without_explanation_sql, log, catalog, asked, ("department",), per_case
    )
    table = table.assign(
        case_id=table["case_id"].astype("string"),
        procedure=table["procedure"].astype("string"),
        completed=engines.local_time(table["completed"], calendar),
        department_held_overrun=table["department_held_overrun"].astype("string"),
    )
    return _noted(table, notes)


# ------------------------------------------------------------------------------ tables
def closing_tables(
    catalog: pd.DataFrame | None,
    procedures: Iterable[str],
    activities: Iterable[str],
    closing_activities: Iterable[str] = vocabulary.CLOSINGS,
    *,
    every_procedure: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The closing steps as the open-case test reads them, for a log's distinct ``procedures``
    and ``activities``: ``closing_procedures`` (procedure: those whose closing steps are
    known) and ``closing_steps`` (procedure, activity). ``every_procedure``: every procedure's
    closing is known even when no activity closes it (a transfer history, whose closing rows
    say which cases are complete: without any, every case is open).

    The catalog's closing steps of a procedure are the activities at its highest step number;
    ``closing_activities`` close a case of any procedure, matched on the log's activity names
    by :func:`procmine.vocabulary.matches`.

    >>> import procmine as pm
    >>> known, steps = closing_tables(pm.datasets.example_catalog(), ["Cấp phép", "Khác"],
    ...                               ["Phê duyệt", "Kết thúc hồ sơ"], ["Kết thúc"])
    >>> known["procedure"].tolist(), steps.values.tolist()
    (['Cấp phép', 'Khác'], [['Cấp phép', 'Phê duyệt'], ['Cấp phép', 'Kết thúc hồ sơ'], \
['Khác', 'Kết thúc hồ sơ']])
    """
    procedures = [str(p) for p in procedures]
    names = [n for n in closing_activities if vocabulary.normal_name(str(n))]
    pairs: list[pd.DataFrame] = []
    known: list[str] = []
    if catalog is not None:
        schema.require_columns(catalog, ("procedure", "step", "activity"), what="the catalog")
        rows = catalog[["procedure", "step", "activity"]].dropna()
        rows = rows.assign(
            procedure=rows["procedure"].astype(str),
            activity=rows["activity"].astype(str),
            step=pd.to_numeric(rows["step"], errors="raise"),
        )
        last = rows["step"] == rows.groupby("procedure")["step"].transform("max")
        pairs.append(rows.loc[last, ["procedure", "activity"]])
        known += rows["procedure"].tolist()
    if names:
        distinct = pd.Series(list(dict.fromkeys(activities)), dtype=object)
        hits = vocabulary.matches(distinct, names)
        closing = [a for a, hit in zip(distinct, hits, strict=True) if hit]
        pairs += [pd.DataFrame({"procedure": p, "activity": closing}) for p in procedures]
        known += procedures
    if every_procedure:
        known += procedures
    steps = pd.concat(
        [pd.DataFrame({"procedure": [], "activity": []}, dtype=str), *pairs], ignore_index=True
    )
    return (
        pd.DataFrame({"procedure": list(dict.fromkeys(known))}, dtype=str),
        steps.drop_duplicates().astype(str).reset_index(drop=True),
    )


def report_moment(events: pd.DataFrame, at: Any, calendar: Any) -> tuple[pd.Timestamp, float]:
    """The moment of a report as the events table reads it: its local wall-clock time (naive,
    as ``ts``) and its clock reading. ``at=None`` is the events' last timestamp; a date
    (00:00) means the end of that day.

    >>> import procmine as pm
    >>> events = pm.event_table(pm.datasets.example_log())
    >>> report_moment(events, "2024-05-07", pm.WorkCalendar())[0]
    Timestamp('2024-05-07 23:59:59.999999')
    """
    if at is None:
        if not len(events):
            return pd.NaT, float("nan")
        return pd.Timestamp(events["ts"].max()), float(events["wm"].max())
    try:
        stamp = calendar.localize(pd.Series([pd.Timestamp(at)]))
    except (ValueError, TypeError) as error:
        raise ValueError(f"at={at!r} is not a date or a date-time ({error}).") from None
    if stamp[0] == stamp[0].normalize():
        stamp = stamp + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    return pd.Timestamp(calendar.wall_time(stamp)[0]), float(calendar.working_minutes(stamp)[0])


def month_table(first: pd.Timestamp, at: pd.Timestamp, at_wm: float, calendar: Any) -> pd.DataFrame:
    """The months from the one of ``first`` to the one of ``at`` (naive local times): ``month``
    (``YYYY-MM``), ``month_start``, ``month_end`` (the next month's start) and ``as_of_wm``,
    the reading at the month's end, or at ``at`` for the month that holds it.

    >>> import procmine as pm
    >>> month_table(pd.Timestamp("2024-01-31"), pd.Timestamp("2024-02-10"), 0.0,
    ...             pm.WorkCalendar())[["month", "as_of_wm"]].values.tolist()
    [['2024-01', 2908320.0], ['2024-02', 0.0]]
    """
    if pd.isna(first) or pd.isna(at):
        starts = pd.DatetimeIndex([], dtype="datetime64[us]")
    else:
        starts = pd.date_range(first.to_period("M").start_time, at, freq="MS", unit="us")
    ends = starts + pd.offsets.MonthBegin(1)
    readings = calendar.working_minutes(calendar.localize(pd.Series(ends)))
    return pd.DataFrame(
        {
            "month": starts.strftime("%Y-%m").astype(str),
            "month_start": starts,
            "month_end": ends,
            "as_of_wm": np.where(ends > at, at_wm, readings).astype("float64"),
        }
    )


def status_tables(
    events: pd.DataFrame,
    catalog: pd.DataFrame | None,
    at: Any,
    closing: Iterable[str],
    calendar: Any,
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], dict[str, Any]]:
    """The events known at ``at``, the tables the open-case test and the monthly list read
    (``moment``, ``months``, ``closing_procedures``, ``closing_steps``) and the notes for the
    figure's ``attrs``."""
    at_ts, at_wm = report_moment(events, at, calendar)
    if at is not None:
        events = events[events["ts"] <= at_ts]
    transfers = engines.transfer_closings(events)  # None: a step log
    closing = tuple(closing) + (transfers or ())
    procedures = engines.distinct(events["procedure"])
    known, steps = closing_tables(
        catalog, procedures, engines.distinct(events["activity"]), closing,
        every_procedure=transfers is not None,
    )  # fmt: skip
    named = any(vocabulary.normal_name(str(name)) for name in closing)
    sources = [
        source
        for source, given in (
            ("catalog", catalog is not None and transfers is None),
            ("closing_activities", named and transfers is None),
            ("transfer history", transfers is not None),
        )
        if given
    ]
    notes = {
        "at": engines.local_time(pd.Series([at_ts]), calendar)[0],
        "closing_steps": " and ".join(sources) or "none",
        "procedures_without_closing_steps": sorted(set(procedures) - set(known["procedure"])),
    }
    first = pd.Timestamp(events["ts"].min()) if len(events) else pd.NaT
    tables = {
        "moment": pd.DataFrame({"at_wm": [at_wm]}),
        "months": month_table(first, at_ts, at_wm, calendar),
        "closing_procedures": known,
        "closing_steps": steps,
    }
    return events, tables, notes


def _explanation_activities(activities: pd.Series, names: Iterable[str]) -> pd.DataFrame:
    """The log's activity names that count as an explanation step, by the one rule of
    :func:`procmine.vocabulary.matches`, over the distinct names (a few hundred at most)."""
    distinct = pd.Series(engines.distinct(activities), dtype="string")
    chosen = np.array(vocabulary.matches(distinct, names), dtype=bool)
    return pd.DataFrame({"activity": distinct[chosen].astype(str)})


def _deadline_source(log: pd.DataFrame, column: str | None) -> tuple[str, str | None]:
    """(case column, deadline column) to read case deadlines from: the log's own, or the
    ``deadline`` that an events table carries for the log's ``case:deadline``."""
    if engines.is_event_table(log):
        carried = column == schema.DEADLINE and "deadline" in log.columns
        return "case_id", "deadline" if carried else None
    return schema.CASE, column if column is not None and column in log.columns else None


def case_deadlines(log: pd.DataFrame, calendar: Any, column: str | None) -> pd.DataFrame:
    """Per case with a value in ``column``: ``due_wm`` (a date-time deadline, read on the working
    clock) or ``deadline_days`` (a number of working days)."""
    case_column, column = _deadline_source(log, column)
    empty = pd.DataFrame(
        {
            "case_id": pd.Series(dtype=str),
            "due_wm": pd.Series(dtype="float64"),
            "deadline_days": pd.Series(dtype="float64"),
        }
    )
    if column is None:
        return empty
    if isinstance(log, engines.SparkEvents):  # one row per case, asked where the table is
        values = log.first_per_case(column)
    else:
        values = log.groupby(log[case_column].astype(str), sort=False)[column].first().dropna()
    if values.empty:
        return empty
    frame = pd.DataFrame({"case_id": values.index.astype(str)})
    if pd.api.types.is_bool_dtype(values.dtype):
        raise ValueError(f"the deadline column {column!r} holds true/false, not dates or days.")
    is_datetime = pd.api.types.is_datetime64_any_dtype(values.dtype)
    numeric = None if is_datetime else pd.to_numeric(values, errors="coerce")
    if numeric is not None and numeric.notna().all():
        return frame.assign(due_wm=np.nan, deadline_days=numeric.to_numpy(dtype="float64"))
    try:
        stamps = values if is_datetime else pd.to_datetime(values, format="mixed", dayfirst=True)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"the deadline column {column!r} holds values that are neither date-times nor numbers "
            f"of working days ({error}); fix them or pass deadline_column=None."
        ) from None
    local = calendar.localize(pd.Series(stamps.to_numpy(), index=values.index))
    # A deadline stamped at 00:00 is a date: the case is due by the end of that day.
    midnight = local == local.dt.normalize()
    local = local.where(~midnight, local + pd.Timedelta(days=1))
    return frame.assign(due_wm=calendar.working_minutes(local), deadline_days=np.nan)


def has_deadlines(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None = None,
    deadline_column: str | None = schema.DEADLINE,
) -> bool:
    """Whether the deadline figures can judge any case: a catalog (its deadlines), or a deadline
    column in the log (or the ``deadline`` its events table carries).

    >>> import procmine as pm
    >>> has_deadlines(pm.datasets.example_log()), has_deadlines(pm.datasets.example_log(),
    ...                                                         pm.datasets.example_catalog())
    (False, True)
    """
    return catalog is not None or _deadline_source(log, deadline_column)[1] is not None


def _deadline_tables(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None,
    calendar: Any,
    deadline_column: str | None,
    explanation_activities: Iterable[str],
    events: pd.DataFrame,
    units: Iterable[str] = (),
) -> dict[str, pd.DataFrame]:
    """The tables of the deadline SQL; ``units`` are the unit columns (department, resource)
    the query reads from the events."""
    deadlines, steps = deadline_tables(catalog)
    if not has_deadlines(log, catalog, deadline_column):
        raise ValueError(
            "on-time figures need deadlines: pass a catalog (deadline_working_days per "
            f"procedure) or a log with a deadline column ({deadline_column!r} not found)."
        )
    by_case = case_deadlines(log, calendar, deadline_column)
    events = engines.complete_events(events)
    _warn_without_deadlines(events["procedure"], deadlines, by_case)
    read = list(dict.fromkeys((*_READ_COLUMNS, *units)))
    return {
        "events": events[read],
        # The figures show cases: their ids, from the whole table (the read columns lack them).
        "case_ids": engines.case_ids(events),
        "procedure_deadlines": deadlines,
        "catalog_steps": steps,
        "case_deadlines": by_case,
        "explanation_activities": _explanation_activities(
            events["activity"], explanation_activities
        ),
    }


def _warn_without_deadlines(
    procedure: pd.Series, deadlines: pd.DataFrame, case_deadlines: pd.DataFrame
) -> None:
    """Warn when no case can have a deadline: no case deadline in the log, and none of its
    procedures in the catalog (the on-time figures would be empty or null, not wrong)."""
    if len(case_deadlines) or not len(procedure):
        return
    found = set(engines.distinct(procedure))
    listed = set(deadlines["procedure"].astype(str))
    if found & listed:
        return
    warnings.warn(
        f"No case has a deadline: the log's procedures ({_some(found)}) are not in the catalog "
        f"({_some(listed)}), and the log has no deadline column. Check the procedure names, map "
        "the export's procedure column when loading, or pass a catalog of these procedures.",
        UserWarning,
        stacklevel=5,  # the figure's caller: figure → _per_case_query → _deadline_tables → here
    )


def _some(names: set[str], limit: int = 3) -> str:
    """A few names of a set, for a message."""
    shown = sorted(names)[:limit]
    more = f", … {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(repr(name) for name in shown) + more if shown else "none"
