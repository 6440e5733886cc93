"""Which cases miss their deadline, who held the overrun, which late cases lack an explanation.

The definitions (docs/definitions.md, Deadlines) and the catalog's deadlines and allotments: a
case is **on time** when it is completed by its due date — received plus its deadline in working
days on the working clock; the department that **held the overrun** of a late case is the one
whose steps exceeded their allotments by the most working time; a late case is **explained**
when it has an explanation step (:mod:`procmine.vocabulary`). Every figure is one SQL text
(DuckDB dialect, transpiled by SQLGlot for Spark) composed with :func:`procmine.engines.with_ctes`
from the CTEs below, each written once, over the events table:

- :func:`on_time`: each case against its deadline;
- :func:`step_allotments`: the working days each step may take within its procedure's deadline;
- :func:`on_time_rate`, :func:`slow_units`: the on-time share by procedure, department or month,
  and the monthly list of units processing late;
- :func:`late_without_explanation`: the late cases that carry no explanation step.

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
from typing import Any, Literal

import numpy as np
import pandas as pd

from procmine import engines, schema, vocabulary
from procmine.catalog import deadline_tables, with_catalog_procedure
from procmine.engines import Cte, with_ctes

__all__ = [
    "figure_sqls",
    "late_without_explanation",
    "on_time",
    "on_time_rate",
    "slow_units",
    "step_allotments",
]

EVENT_COLUMNS = engines.FIGURE_COLUMNS  # what these figures read of an events table
# The columns the deadline SQL reads, beside the unit columns a figure names. DuckDB's scan of a
# pandas frame copies the codes of every categorical column of the frame, read or not, once per
# mention of the table (pandas 3's `.cat.codes` copies them: ~10 MB a column at 10 M events;
# on_time mentions `events` six times), so these figures are given only what they read.
_READ_COLUMNS = ("case_no", "activity", "procedure", "ts", "wm", "sojourn", "side_copy")
# Working-clock readings are float minutes; a completion this close to the due reading is on time.
_EPSILON_MINUTES = 1e-6
_HELD_UNITS = ("department", "resource")


# ------------------------------------------------------------------------------ SQL
def judged(minutes_per_day: float) -> tuple[Cte, ...]:
    """CTEs ending in ``judged``: per case received, completed, the due reading, working days,
    on time and overrun.

    The case ids come from the ``case_ids`` table (one row per case), not from the events: an
    aggregate carrying each case's id text held ~100 MB more at 10 M events.

    >>> [name for name, _ in judged(480)]
    ['cases', 'numbered_deadlines', 'due', 'timely', 'judged']
    """
    mpd = float(minutes_per_day)
    cases = """
  SELECT case_no, MIN(procedure) AS procedure, MIN(ts) AS received, MAX(ts) AS completed,
    MIN(wm) AS received_wm, MAX(wm) AS completed_wm
  FROM events GROUP BY case_no"""
    numbered_deadlines = """
  SELECT i.case_no, d.due_wm, d.deadline_days
  FROM case_deadlines AS d JOIN case_ids AS i ON i.case_id = d.case_id"""
    due = f"""
  SELECT c.*,
    COALESCE(d.due_wm,
             c.received_wm + COALESCE(d.deadline_days, p.deadline_working_days) * {mpd}) AS due_wm
  FROM cases AS c
  LEFT JOIN numbered_deadlines AS d ON d.case_no = c.case_no
  LEFT JOIN procedure_deadlines AS p ON p.procedure = c.procedure"""
    # The one test of "on time" (null without a due reading); the overrun follows from it.
    timely = f"""
  SELECT *,
    CASE WHEN due_wm IS NOT NULL THEN completed_wm <= due_wm + {_EPSILON_MINUTES} END AS on_time
  FROM due"""
    judged = f"""
  SELECT *,
    (completed_wm - received_wm) / {mpd} AS working_days,
    (due_wm - received_wm) / {mpd} AS deadline_working_days,
    CASE WHEN on_time THEN 0.0 ELSE (completed_wm - due_wm) / {mpd} END AS overrun_working_days
  FROM timely"""
    return (
        ("cases", cases),
        ("numbered_deadlines", numbered_deadlines),
        ("due", due),
        ("timely", timely),
        ("judged", judged),
    )


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
    j.working_days, j.deadline_working_days, j.on_time, j.overrun_working_days,
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
  deadline_working_days, on_time, overrun_working_days, department_held_overrun,
  resource_held_overrun, explained
FROM per_case ORDER BY case_id"""


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


def rate_sql(by: str, minutes_per_day: float) -> str:
    """The SQL of :func:`on_time_rate` for one ``by``: a case counts for its procedure, the month
    it completed in, or every department that took part in it."""
    if by == "department":
        took_part = _took_part("department")
        unit_cases = (
            "unit_cases",
            """
  SELECT t.unit AS department, c.on_time
  FROM took_part AS t JOIN per_case AS c ON c.case_no = t.case_no""",
        )
        return with_ctes(
            *per_case(minutes_per_day, ()),
            took_part,
            unit_cases,
            select=_rate_select("department", "unit_cases"),
        )
    return with_ctes(*per_case(minutes_per_day, ()), select=_rate_select(by, "per_case"))


def slow_units_sql(unit: str, minutes_per_day: float) -> str:
    """The SQL of :func:`slow_units` for one ``unit`` (department or resource)."""
    held = f"{unit}_held_overrun"
    per_unit = f"""
  SELECT c.month, t.unit AS {unit}, COUNT(c.on_time) AS cases,
    COUNT(CASE WHEN NOT c.on_time THEN 1 END) AS late_cases,
    COUNT(CASE WHEN c.{held} = t.unit THEN 1 END) AS late_cases_held,
    COALESCE(SUM(CASE WHEN c.{held} = t.unit THEN c.overrun_working_days END), 0.0)
      AS overrun_working_days
  FROM took_part AS t JOIN per_case AS c ON c.case_no = t.case_no
  GROUP BY c.month, t.unit"""
    return with_ctes(
        *per_case(minutes_per_day, (unit,)),
        _took_part(unit),
        ("per_unit", per_unit),
        select=f"""
SELECT month,
  ROW_NUMBER() OVER (PARTITION BY month ORDER BY late_cases_held DESC, overrun_working_days DESC,
    late_cases DESC, {unit}) AS rank,
  {unit}, late_cases_held, late_cases, cases,
  late_cases / CAST(cases AS DOUBLE) AS late_share, overrun_working_days
FROM per_unit WHERE late_cases > 0
ORDER BY month, rank""",
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


def on_time_sql(minutes_per_day: float) -> str:
    """The SQL of :func:`on_time`."""
    return with_ctes(*per_case(minutes_per_day), select=_ON_TIME_SELECT)


def allotments_sql(minutes_per_day: float) -> str:
    """The SQL of :func:`step_allotments`."""
    return with_ctes(*judged(minutes_per_day), *allotments(), select=_ALLOTMENTS_SELECT)


def late_without_explanation_sql(minutes_per_day: float) -> str:
    """The SQL of :func:`late_without_explanation`."""
    return with_ctes(*per_case(minutes_per_day, ("department",)), select=_LATE_UNEXPLAINED_SELECT)


def figure_sqls(minutes_per_day: float = 480) -> dict[str, str]:
    """Every figure's SQL text of this module, by name (for review and for the Spark check).

    >>> sorted(figure_sqls())[:2]
    ['late_without_explanation', 'on_time']
    """
    texts = {
        "on_time": on_time_sql(minutes_per_day),
        "step_allotments": allotments_sql(minutes_per_day),
        "late_without_explanation": late_without_explanation_sql(minutes_per_day),
    }
    for by in _RATE_KEYS:
        texts[f"on_time_rate[{by}]"] = rate_sql(by, minutes_per_day)
    for unit in ("department", "resource"):
        texts[f"slow_units[{unit}]"] = slow_units_sql(unit, minutes_per_day)
    return texts


_RATE_KEYS = ("procedure", "department", "month")


# ------------------------------------------------------------------------------ figures
def on_time(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None = None,
    *,
    calendar: Any = None,
    engine: Any = None,
    deadline_column: str | None = schema.DEADLINE,
    explanation_activities: Iterable[str] = vocabulary.EXPLANATIONS,
) -> pd.DataFrame:
    """Each case against its deadline (docs/definitions.md: Deadlines).

    Returns one row per case: ``case_id``, ``procedure``, ``received`` (first event),
    ``completed`` (last event), ``working_days`` taken, ``deadline_working_days``, ``due``,
    ``on_time``, ``overrun_working_days`` (0 when on time), ``department_held_overrun`` and
    ``resource_held_overrun`` (late cases), ``explained`` (has an explanation step).
    Cases without a deadline have null ``on_time``. ``log`` may be the frame of
    :func:`procmine.engines.event_table` (used as it is, on its own clock); it carries the
    log's ``case:deadline`` as ``deadline``.

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
    Every case in the log is taken as completed at its last event.

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
    table, calendar = _per_case_query(
        on_time_sql, log, catalog, calendar, engine, deadline_column, explanation_activities,
        _HELD_UNITS,
    )  # fmt: skip
    return _on_time_frame(table, calendar)


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
            "on_time": table["on_time"].astype("boolean"),
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
    procedure the catalog lists, else the activities seen in its on-time cases.
    """
    table, _ = _per_case_query(allotments_sql, log, catalog, calendar, engine, deadline_column, ())
    return table.astype(
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


def _per_case_query(
    sql_of: Callable[[float], str],
    log: pd.DataFrame,
    catalog: pd.DataFrame | None,
    calendar: Any,
    engine: Any,
    deadline_column: str | None,
    explanation_activities: Iterable[str],
    units: tuple[str, ...] = (),
) -> tuple[pd.DataFrame, Any]:
    """A deadline figure's rows — ``sql_of(minutes_per_day)`` over the deadline tables, reading
    the unit columns ``units`` of the events besides — and the clock it was measured with."""
    events, calendar = engines.clocked(log, calendar, EVENT_COLUMNS)
    events = with_catalog_procedure(events, catalog)
    tables = _deadline_tables(
        log, catalog, calendar, deadline_column, explanation_activities, events, units
    )
    sql = sql_of(calendar.minutes_per_day)
    return engines.query(sql, engine, **tables), calendar


def on_time_rate(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None = None,
    by: Literal["procedure", "department", "month"] = "procedure",
    *,
    calendar: Any = None,
    engine: Any = None,
    deadline_column: str | None = schema.DEADLINE,
) -> pd.DataFrame:
    """The share of cases completed on time, by procedure, department or month of completion.

    Returns ``cases``, ``judged`` (cases with a deadline), ``on_time``, ``late`` and
    ``on_time_rate`` (on time ÷ judged). A case counts for every department that did at least
    one of its events (a side copy is no part of a case); ``month`` is the month of its
    completion (``"YYYY-MM"``).

    >>> import procmine as pm
    >>> on_time_rate(pm.datasets.example_log(), pm.datasets.example_catalog())
      procedure  cases  judged  on_time  late  on_time_rate
    0  Cấp phép      3       3        1     2      0.333333
    """
    schema.check_choice("by", by, _RATE_KEYS)
    units = ("department",) if by == "department" else ()
    table, _ = _per_case_query(
        lambda mpd: rate_sql(by, mpd), log, catalog, calendar, engine, deadline_column, (), units
    )
    return table.astype({by: "string", "on_time_rate": "float64"})


def slow_units(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None = None,
    by: Literal["department", "resource"] = "department",
    month: str | None = None,
    *,
    calendar: Any = None,
    engine: Any = None,
    deadline_column: str | None = schema.DEADLINE,
) -> pd.DataFrame:
    """The monthly ranking of units (or officials) that process late: the public list.

    Per month of completion (``"YYYY-MM"``; ``month`` keeps one) and unit that took part in at
    least one late case: ``rank`` within the month, ``late_cases_held`` (late cases whose
    overrun it held, see :func:`on_time`), ``late_cases`` and ``cases`` it took part in (cases
    with a deadline), ``late_share`` (late ÷ cases) and ``overrun_working_days`` (the overruns of
    the late cases it held). Ranked by late cases held, then overrun, then late cases. A unit
    takes part in a case by doing one of its events; a side copy (for coordination or
    information) moves no responsibility and makes no unit part of the case.

    >>> import procmine as pm
    >>> listed = slow_units(pm.datasets.example_log(), pm.datasets.example_catalog())
    >>> listed[["month", "rank", "department", "late_cases_held", "overrun_working_days"]]
         month  rank     department  late_cases_held  overrun_working_days
    0  2024-05     1      Văn phòng                1                  1.75
    1  2024-05     2  Phòng Tư pháp                1                  1.25
    """
    schema.check_choice("by", by, ("department", "resource"))
    table, _ = _per_case_query(
        lambda mpd: slow_units_sql(by, mpd),
        log,
        catalog,
        calendar,
        engine,
        deadline_column,
        (),
        (by,),
    )
    table = table.astype({"month": "string", by: "string", "late_share": "float64"})
    if month is not None:
        table = table[table["month"] == str(month)[:7]].reset_index(drop=True)
    return table


def late_without_explanation(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None = None,
    *,
    calendar: Any = None,
    engine: Any = None,
    deadline_column: str | None = schema.DEADLINE,
    explanation_activities: Iterable[str] = vocabulary.EXPLANATIONS,
) -> pd.DataFrame:
    """Late cases that carry no explanation step (apology, reason, new date): ``case_id``,
    ``procedure``, ``completed``, ``overrun_working_days``, ``department_held_overrun``,
    largest overrun first. Matching of explanation names as in :func:`on_time`.

    >>> import procmine as pm
    >>> late = late_without_explanation(pm.datasets.example_log(), pm.datasets.example_catalog())
    >>> late[["case_id", "overrun_working_days", "department_held_overrun"]]
      case_id  overrun_working_days department_held_overrun
    0     HS2                  1.75               Văn phòng
    """
    table, calendar = _per_case_query(
        late_without_explanation_sql,
        log,
        catalog,
        calendar,
        engine,
        deadline_column,
        explanation_activities,
        ("department",),
    )
    return table.assign(
        case_id=table["case_id"].astype("string"),
        procedure=table["procedure"].astype("string"),
        completed=engines.local_time(table["completed"], calendar),
        department_held_overrun=table["department_held_overrun"].astype("string"),
    )


# ------------------------------------------------------------------------------ tables
def _explanation_activities(activities: pd.Series, names: Iterable[str]) -> pd.DataFrame:
    """The log's activity names that count as an explanation step, by the one rule of
    :func:`procmine.vocabulary.matches`, over the distinct names (a few hundred at most)."""
    distinct = pd.Series(activities.dropna().unique(), dtype="string")
    chosen = np.array(vocabulary.matches(distinct, names), dtype=bool)
    return pd.DataFrame({"activity": distinct[chosen].astype(str)})


def _deadline_source(log: pd.DataFrame, column: str | None) -> tuple[str, str | None]:
    """(case column, deadline column) to read case deadlines from: the log's own, or the
    ``deadline`` that an events table carries for the log's ``case:deadline``."""
    if engines.is_event_table(log):
        carried = column == schema.DEADLINE and "deadline" in log.columns
        return "case_id", "deadline" if carried else None
    return schema.CASE, column if column is not None and column in log.columns else None


def _case_deadlines(log: pd.DataFrame, calendar: Any, column: str | None) -> pd.DataFrame:
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
    if catalog is None and _deadline_source(log, deadline_column)[1] is None:
        raise ValueError(
            "on-time figures need deadlines: pass a catalog (deadline_working_days per "
            f"procedure) or a log with a deadline column ({deadline_column!r} not found)."
        )
    case_deadlines = _case_deadlines(log, calendar, deadline_column)
    events = engines.complete_events(events)
    _warn_without_deadlines(events["procedure"], deadlines, case_deadlines)
    read = list(dict.fromkeys((*_READ_COLUMNS, *units)))
    return {
        "events": events[read],
        # The figures show cases: their ids, from the whole table (the read columns lack them).
        "case_ids": engines.case_ids(events),
        "procedure_deadlines": deadlines,
        "catalog_steps": steps,
        "case_deadlines": case_deadlines,
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
