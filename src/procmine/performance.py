"""Where cases lose working time, and which cases miss their deadline.

Every figure here is one SQL text (DuckDB dialect, transpilable to Spark SQL by SQLGlot) run by
:func:`procmine.engines.query` over the ``events`` table of :func:`procmine.engines.event_table`,
whose ``sojourn`` column is the one definition of an event's sojourn (DESIGN.md, Definitions).
The SQL texts are built from the fragments below, each written once, and composed per question:

- :func:`sojourns`: each event's sojourn (working minutes and hours, calendar hours beside it), and
  with start/complete lifecycles its waiting and processing parts.
- :func:`bottlenecks` / :func:`bottleneck_cases`: the ranking of steps, departments, handoffs,
  procedures or officials by the working time they hold cases, and the cases behind each row.
- :func:`on_time`, :func:`step_allotments`, :func:`on_time_rate`, :func:`slow_units`,
  :func:`late_without_explanation`: deadlines, the department that held each overrun, the monthly
  list of units processing late and the late cases that lack an explanation.

The exact rules (percentiles, pairing of starts and completes, due dates, allotments, explanation
matching) are in ``docs/definitions.md`` and in each function's Notes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any, Literal

import numpy as np
import pandas as pd

from procmine import engines, schema
from procmine.engines import with_sequence_links
from procmine.handoffs import HANDOFF_CTES

__all__ = [
    "DEFAULT_EXPLANATIONS",
    "bottleneck_cases",
    "bottlenecks",
    "figure_sql",
    "late_without_explanation",
    "on_time",
    "on_time_rate",
    "slow_units",
    "sojourns",
    "step_allotments",
]

DEFAULT_EXPLANATIONS: tuple[str, ...] = (
    "Giải trình",
    "Báo cáo giải trình",
    "Xin gia hạn",
    "Văn bản xin lỗi",
)

By = Literal["activity", "department", "handoff", "procedure", "resource"]
_KEYS: dict[str, tuple[str, ...]] = {
    "activity": ("activity",),
    "department": ("department",),
    "resource": ("resource",),
    "handoff": ("source", "target"),
    "procedure": ("procedure",),
}
# The columns of the events table these figures read; a frame that has them is used as it is.
_EVENT_COLUMNS = (
    "idx",
    "case_id",
    "activity",
    "department",
    "resource",
    "procedure",
    "lifecycle",
    "ts",
    "wm",
)
# The columns of the events table the deadline figures read, beside the unit columns a figure
# names. DuckDB's scan of a pandas frame copies the codes of every categorical column of the
# frame, read or not, once per mention of the table (pandas 3's `.cat.codes` copies them: ~10 MB
# a column at 10 M events; on_time mentions `events` six times), so these figures are given only
# what they read.
_DEADLINE_EVENT_COLUMNS = ("case_no", "activity", "procedure", "ts", "wm", "sojourn", "side_copy")
# Working-clock readings are float minutes; a completion this close to the due reading is on time.
_EPSILON_MINUTES = 1e-6


# ------------------------------------------------------------------------------ SQL fragments
def _sojourn_sql(split: bool, calendar_time: bool = False) -> str:
    """Per event: its sojourn, its calendar time since the previous event of the case when
    ``calendar_time``, and its waiting and processing minutes when ``split`` (see
    :func:`sojourns`, Notes)."""
    base = "SELECT * FROM events"
    if calendar_time:
        base = """
SELECT *,
  (EPOCH(ts) - EPOCH(LAG(ts) OVER (PARTITION BY case_no ORDER BY idx))) / 3600.0
    AS calendar_hours
FROM events"""
    if not split:
        return f"SELECT *, NULL AS waiting, NULL AS processing FROM ({base}) AS timed"
    return f"""
WITH phased AS (
  SELECT *,
    CASE WHEN lifecycle = 'start' THEN 'start'
         WHEN lifecycle IS NULL OR lifecycle = 'complete' THEN 'complete' END AS phase
  FROM ({base}) AS timed
),
numbered AS (
  SELECT *,
    ROW_NUMBER() OVER (PARTITION BY case_no, activity, phase ORDER BY idx) AS instance,
    MAX(CASE WHEN phase = 'complete' THEN wm END) OVER (
      PARTITION BY case_no ORDER BY idx ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) AS previous_complete_wm
  FROM phased
),
starts AS (
  SELECT case_no, activity, instance, idx AS start_idx, wm AS start_wm
  FROM numbered WHERE phase = 'start'
)
SELECT n.*,
  CASE WHEN n.phase = 'start' OR (n.phase = 'complete' AND s.start_idx IS NULL)
       THEN n.wm - n.previous_complete_wm END AS waiting,
  CASE WHEN n.phase = 'complete' THEN COALESCE(n.wm - s.start_wm, 0.0) END AS processing
FROM numbered AS n
LEFT JOIN starts AS s
  ON n.phase = 'complete' AND s.case_no = n.case_no AND s.activity = n.activity
  AND s.instance = n.instance AND s.start_idx < n.idx"""


def _units_sql(by: str, split: bool) -> str:
    """The units whose working time a ranking row holds: one row per event (activity, department,
    resource), per handoff, or per case (procedure), with its key, case, minutes, the events it
    counts and its waiting/processing minutes."""
    if by == "handoff":
        return """
SELECT source, target, case_no, wait_minutes AS minutes, 1 AS events,
  NULL AS waiting, NULL AS processing
FROM handoffs"""  # the CTE of procmine.handoffs.HANDOFF_CTES, composed by the caller
    if by == "procedure":
        return f"""
SELECT procedure, case_no, SUM(COALESCE(sojourn, 0.0)) AS minutes, COUNT(*) AS events,
  SUM(waiting) AS waiting, SUM(processing) AS processing
FROM ({_sojourn_sql(split)}) AS sojourned
GROUP BY procedure, case_no"""
    (key,) = _KEYS[by]
    return f"""
SELECT {key}, case_no, sojourn AS minutes, 1 AS events, waiting, processing
FROM ({_sojourn_sql(split)}) AS sojourned
WHERE sojourn IS NOT NULL"""


def _with_units(by: str, split: bool) -> str:
    """``WITH`` the units of a ranking (and, for handoffs, the handoff CTEs they come from)."""
    handoff_ctes = f"{HANDOFF_CTES},\n" if by == "handoff" else ""
    return f"WITH {handoff_ctes}units AS ({_units_sql(by, split)})"


def _bottleneck_sql(by: str, split: bool) -> str:
    keys = ", ".join(_KEYS[by])
    # All working time is the sum of every event's sojourn. Activity, department, resource and
    # procedure units partition the events, so it is the sum of the rows' totals and the events
    # are not read (and their sojourns computed) a second time; handoff units hold only the time
    # between departments, so that ranking reads it from the events.
    if by == "handoff":
        total_cte = ",\ntotal AS (SELECT SUM(sojourn) AS all_minutes FROM events)"
        all_minutes, from_units = "MAX(all_minutes)", "units CROSS JOIN total"
    else:
        total_cte, all_minutes, from_units = "", "SUM(SUM(minutes)) OVER ()", "units"
    return f"""
{_with_units(by, split)}{total_cte}
SELECT {keys},
  SUM(minutes) / 60.0 AS hours,
  SUM(minutes) / NULLIF({all_minutes}, 0) AS share,
  MEDIAN(minutes) / 60.0 AS median_hours,
  QUANTILE_CONT(minutes, 0.9) / 60.0 AS p90_hours,
  COUNT(DISTINCT case_no) AS cases,
  CAST(SUM(events) AS BIGINT) AS events,
  SUM(waiting) / 60.0 AS waiting_hours,
  SUM(processing) / 60.0 AS processing_hours
FROM {from_units}
GROUP BY {keys}
ORDER BY hours DESC, {keys}"""


def _bottleneck_cases_sql(by: str, split: bool) -> str:
    keys = ", ".join(_KEYS[by])
    return f"""
{_with_units(by, split)},
per_case AS (
  SELECT {keys}, case_no, SUM(minutes) / 60.0 AS hours, CAST(SUM(events) AS BIGINT) AS events,
    SUM(waiting) / 60.0 AS waiting_hours, SUM(processing) / 60.0 AS processing_hours
  FROM units
  GROUP BY {keys}, case_no
)
SELECT {keys}, case_id, hours, events, waiting_hours, processing_hours
FROM per_case JOIN case_ids USING (case_no)
ORDER BY {keys}, hours DESC, case_id"""


def _deadline_ctes(minutes_per_day: float) -> str:
    """Per case: received, completed, due reading, working days, on time and overrun
    (CTEs ``cases`` and ``judged``).

    The case ids come from the ``case_ids`` table (one row per case), not from the events: an
    aggregate carrying each case's id text held ~100 MB more at 10 M events."""
    mpd = float(minutes_per_day)
    return f"""
cases AS (
  SELECT case_no, MIN(procedure) AS procedure, MIN(ts) AS received, MAX(ts) AS completed,
    MIN(wm) AS received_wm, MAX(wm) AS completed_wm
  FROM events GROUP BY case_no
),
numbered_deadlines AS (
  SELECT i.case_no, d.due_wm, d.deadline_days
  FROM case_deadlines AS d JOIN case_ids AS i ON i.case_id = d.case_id
),
due AS (
  SELECT c.*,
    COALESCE(d.due_wm,
             c.received_wm + COALESCE(d.deadline_days, p.deadline_working_days) * {mpd}) AS due_wm
  FROM cases AS c
  LEFT JOIN numbered_deadlines AS d ON d.case_no = c.case_no
  LEFT JOIN procedure_deadlines AS p ON p.procedure = c.procedure
),
judged AS (
  SELECT *,
    (completed_wm - received_wm) / {mpd} AS working_days,
    (due_wm - received_wm) / {mpd} AS deadline_working_days,
    CASE WHEN due_wm IS NOT NULL THEN completed_wm <= due_wm + {_EPSILON_MINUTES} END AS on_time,
    CASE WHEN due_wm IS NULL THEN NULL
         WHEN completed_wm <= due_wm + {_EPSILON_MINUTES} THEN 0.0
         ELSE (completed_wm - due_wm) / {mpd} END AS overrun_working_days
  FROM due
)"""


def _allotment_ctes() -> str:
    """Per procedure and step (activity): the catalog's allotment, or the weight of the step in
    the split of what the catalog leaves of the deadline (CTE ``allotments``); needs ``judged``.

    A step's time in a case (the sum of its events' sojourns) is grouped here for on-time cases
    only, and for late ones in ``excess_steps``: one shared table of every case's steps would be
    kept whole to the end of the query, beside its largest grouping (~9.6 M steps at 10 M events).
    """
    return """
on_time_steps AS (
  SELECT j.procedure, t.activity, SUM(COALESCE(t.sojourn, 0.0)) AS minutes
  FROM events AS t JOIN judged AS j ON j.case_no = t.case_no AND j.on_time
  GROUP BY t.case_no, t.activity, j.procedure
),
step_medians AS (
  SELECT procedure, activity, MEDIAN(minutes) AS median_minutes, COUNT(*) AS on_time_cases
  FROM on_time_steps
  GROUP BY procedure, activity
),
steps AS (
  SELECT procedure, activity, given_days FROM catalog_steps
  UNION ALL
  SELECT procedure, activity, CAST(NULL AS DOUBLE) AS given_days FROM step_medians
  WHERE procedure NOT IN (SELECT procedure FROM catalog_steps)
),
weighed AS (
  SELECT s.procedure, s.activity, s.given_days, m.median_minutes, m.on_time_cases,
    SUM(CASE WHEN s.given_days IS NULL THEN COALESCE(m.median_minutes, 0.0) END)
      OVER (PARTITION BY s.procedure) AS median_total,
    COUNT(CASE WHEN s.given_days IS NULL THEN 1 END) OVER (PARTITION BY s.procedure) AS derived,
    COALESCE(SUM(s.given_days) OVER (PARTITION BY s.procedure), 0.0) AS given_total
  FROM steps AS s
  LEFT JOIN step_medians AS m ON m.procedure = s.procedure AND m.activity = s.activity
),
allotments AS (
  SELECT procedure, activity, given_days, given_total, median_minutes,
    COALESCE(on_time_cases, 0) AS on_time_cases,
    CASE WHEN given_days IS NOT NULL THEN NULL
         WHEN median_total > 0 THEN COALESCE(median_minutes, 0.0) / median_total
         ELSE 1.0 / derived END AS weight,
    CASE WHEN given_days IS NOT NULL THEN 'catalog'
         WHEN median_total > 0 THEN 'median'
         ELSE 'equal' END AS basis
  FROM weighed
)"""


def _excess_steps_cte(minutes_per_day: float) -> str:
    """Per step of a late case that exceeded its allotment: its time and the excess (CTE
    ``excess_steps``); needs ``judged`` and ``allotments``. Only late cases are read.

    The events are joined to their allotment before they are grouped into steps, so the grouping
    waits for the allotments and never holds memory beside the on-time cases' grouping."""
    mpd = float(minutes_per_day)
    return f"""
excess_steps AS (
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
  WHERE minutes - allotted * {mpd} > 0.0
)"""


def _held_ctes(unit: str) -> str:
    """Per late case: the ``unit`` (department or resource) whose steps exceeded their allotments
    by the most working time (CTE ``held_<unit>``); needs ``excess_steps``. Only the events of
    steps that exceeded their allotment are read.
    """
    return f"""
unit_steps_{unit} AS (
  SELECT t.case_no, t.{unit} AS unit, x.excess, x.minutes AS step_minutes,
    SUM(COALESCE(t.sojourn, 0.0)) AS minutes
  FROM events AS t
  JOIN excess_steps AS x ON x.case_no = t.case_no AND x.activity = t.activity
  WHERE t.{unit} IS NOT NULL
  GROUP BY t.case_no, t.activity, t.{unit}, x.excess, x.minutes
),
unit_excess_{unit} AS (
  SELECT case_no, unit, SUM(excess * minutes / step_minutes) AS excess
  FROM unit_steps_{unit}
  GROUP BY case_no, unit
),
held_{unit} AS (
  SELECT case_no, unit, excess FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY case_no ORDER BY excess DESC, unit) AS place
    FROM unit_excess_{unit} WHERE excess > 0
  ) AS ordered WHERE place = 1
)"""


def _explained_cte() -> str:
    return """
explained AS (
  SELECT DISTINCT case_no FROM events
  WHERE activity IN (SELECT activity FROM explanation_activities)
)"""


_HELD_UNITS = ("department", "resource")


def _on_time_sql(minutes_per_day: float, held: tuple[str, ...] = _HELD_UNITS) -> str:
    """One row per case: the deadline figures, who held the overrun (for the units in ``held``;
    null for the others, which a figure that does not show them need not compute), and whether it
    is explained (CTE ``per_case``); the public functions select from it."""
    held_ctes = "".join(f"{_held_ctes(unit)},\n" for unit in held)
    held_columns = ", ".join(
        f"h_{unit}.unit AS {unit}_held_overrun"
        if unit in held
        else f"CAST(NULL AS VARCHAR) AS {unit}_held_overrun"
        for unit in ("department", "resource")
    )
    held_joins = "".join(
        f"\n  LEFT JOIN held_{unit} AS h_{unit} ON h_{unit}.case_no = j.case_no" for unit in held
    )
    return f"""
WITH {_deadline_ctes(minutes_per_day)},
{_allotment_ctes()},
{_excess_steps_cte(minutes_per_day)},
{held_ctes}{_explained_cte()},
per_case AS (
  SELECT j.case_no, i.case_id, j.procedure, j.received, j.completed, j.due_wm,
    j.working_days, j.deadline_working_days, j.on_time, j.overrun_working_days,
    {held_columns},
    x.case_no IS NOT NULL AS explained,
    STRFTIME(j.completed, '%Y-%m') AS month
  FROM judged AS j
  JOIN case_ids AS i ON i.case_no = j.case_no{held_joins}
  LEFT JOIN explained AS x ON x.case_no = j.case_no
)"""


_ON_TIME_SELECT = """
SELECT case_id, procedure, received, completed, due_wm, working_days,
  deadline_working_days, on_time, overrun_working_days, department_held_overrun,
  resource_held_overrun, explained
FROM per_case ORDER BY case_id"""

_RATE_SELECT = {
    "procedure": """
SELECT procedure, COUNT(*) AS cases, COUNT(on_time) AS judged,
  COUNT(CASE WHEN on_time THEN 1 END) AS on_time,
  COUNT(CASE WHEN NOT on_time THEN 1 END) AS late,
  COUNT(CASE WHEN on_time THEN 1 END) / NULLIF(CAST(COUNT(on_time) AS DOUBLE), 0) AS on_time_rate
FROM per_case GROUP BY procedure ORDER BY procedure""",
    "month": """
SELECT month, COUNT(*) AS cases, COUNT(on_time) AS judged,
  COUNT(CASE WHEN on_time THEN 1 END) AS on_time,
  COUNT(CASE WHEN NOT on_time THEN 1 END) AS late,
  COUNT(CASE WHEN on_time THEN 1 END) / NULLIF(CAST(COUNT(on_time) AS DOUBLE), 0) AS on_time_rate
FROM per_case GROUP BY month ORDER BY month""",
    "department": """
SELECT t.department, COUNT(*) AS cases, COUNT(c.on_time) AS judged,
  COUNT(CASE WHEN c.on_time THEN 1 END) AS on_time,
  COUNT(CASE WHEN NOT c.on_time THEN 1 END) AS late,
  COUNT(CASE WHEN c.on_time THEN 1 END) / NULLIF(CAST(COUNT(c.on_time) AS DOUBLE), 0)
    AS on_time_rate
FROM (
  SELECT DISTINCT case_no, department FROM events WHERE department IS NOT NULL AND NOT side_copy
) AS t
JOIN per_case AS c ON c.case_no = t.case_no
GROUP BY t.department ORDER BY t.department""",
}


def _slow_units_select(unit: str) -> str:
    held = f"{unit}_held_overrun"
    return f"""
, took_part AS (
  SELECT DISTINCT case_no, {unit} AS unit FROM events WHERE {unit} IS NOT NULL AND NOT side_copy
),
per_unit AS (
  SELECT c.month, t.unit AS {unit}, COUNT(c.on_time) AS cases,
    COUNT(CASE WHEN NOT c.on_time THEN 1 END) AS late_cases,
    COUNT(CASE WHEN c.{held} = t.unit THEN 1 END) AS late_cases_held,
    COALESCE(SUM(CASE WHEN c.{held} = t.unit THEN c.overrun_working_days END), 0.0)
      AS overrun_working_days
  FROM took_part AS t JOIN per_case AS c ON c.case_no = t.case_no
  GROUP BY c.month, t.unit
)
SELECT month,
  ROW_NUMBER() OVER (PARTITION BY month ORDER BY late_cases_held DESC, overrun_working_days DESC,
    late_cases DESC, {unit}) AS rank,
  {unit}, late_cases_held, late_cases, cases,
  late_cases / CAST(cases AS DOUBLE) AS late_share, overrun_working_days
FROM per_unit WHERE late_cases > 0
ORDER BY month, rank"""


_LATE_UNEXPLAINED_SELECT = """
SELECT case_id, procedure, completed, overrun_working_days, department_held_overrun
FROM per_case WHERE NOT on_time AND NOT explained
ORDER BY overrun_working_days DESC, case_id"""

_ALLOTMENTS_SELECT = """
SELECT a.procedure, a.activity, a.basis, a.on_time_cases, a.median_minutes / 60.0 AS median_hours,
  a.weight,
  COALESCE(a.given_days, GREATEST(p.deadline_working_days - a.given_total, 0.0) * a.weight)
    AS allotment_working_days
FROM allotments AS a LEFT JOIN procedure_deadlines AS p ON p.procedure = a.procedure
ORDER BY a.procedure, a.activity"""


def figure_sql() -> dict[str, str]:
    """Every figure's SQL text of this module, by name (for review and for the Spark check).

    >>> "bottlenecks[activity]" in figure_sql()
    True
    """
    texts = {
        "sojourns": _sojourn_sql(split=False, calendar_time=True),
        "sojourns[split]": _sojourn_sql(split=True, calendar_time=True),
    }
    for by in _KEYS:
        texts[f"bottlenecks[{by}]"] = _bottleneck_sql(by, split=by != "handoff")
        texts[f"bottleneck_cases[{by}]"] = _bottleneck_cases_sql(by, split=by != "handoff")
    head = _on_time_sql(480)
    texts["on_time"] = head + _ON_TIME_SELECT
    texts["step_allotments"] = f"WITH {_deadline_ctes(480)},\n{_allotment_ctes()}" + (
        _ALLOTMENTS_SELECT
    )
    for by, select in _RATE_SELECT.items():
        texts[f"on_time_rate[{by}]"] = _on_time_sql(480, ()) + select
    for unit in ("department", "resource"):
        texts[f"slow_units[{unit}]"] = _on_time_sql(480, (unit,)) + _slow_units_select(unit)
    texts["late_without_explanation"] = _on_time_sql(480, ("department",)) + (
        _LATE_UNEXPLAINED_SELECT
    )
    return texts


# ------------------------------------------------------------------------------- helpers
def _events(log: pd.DataFrame, calendar: Any) -> tuple[pd.DataFrame, Any]:
    """The events table and the clock it was read with: ``log`` itself when it already is one
    (the clock is then read once for several figures), else built from the log on ``calendar``
    (:func:`procmine.engines.clocked`)."""
    return engines.clocked(log, calendar, _EVENT_COLUMNS)


def _has_lifecycle_pairs(events: pd.DataFrame) -> bool:
    # A schema decision (which columns the answer has), not a figure: any start event at all.
    return bool((events["lifecycle"] == "start").any())


def _check_by(by: str, allowed: Iterable[str]) -> None:
    allowed = list(allowed)
    if by not in allowed:
        raise ValueError(f"by must be one of {allowed}, found {by!r}.")


def _localize(naive: pd.Series, calendar: Any) -> pd.Series:
    return calendar.localize(pd.Series(pd.to_datetime(naive)).astype("datetime64[ns]"))


def _normal(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold().strip()


def _explanation_activities(activities: pd.Series, names: Iterable[str]) -> pd.DataFrame:
    """The log's activity names that count as an explanation step.

    Matched over the vocabulary (the distinct names, a few hundred at most), not over events:
    NFC-normalised and case-folded, an activity matches a name when it equals it or starts with it
    followed by a character that is not a letter or digit ("Giải trình lý do chậm" matches
    "Giải trình"; "Giải trìnhX" does not).
    """
    wanted = [_normal(n) for n in names if _normal(n)]
    vocabulary = pd.Series(activities.dropna().unique(), dtype="string")
    normal = vocabulary.map(_normal)

    def matches(name: str) -> bool:
        return any(name == w or (name.startswith(w) and not name[len(w)].isalnum()) for w in wanted)

    return pd.DataFrame({"activity": vocabulary[normal.map(matches).astype(bool)].astype(str)})


def _catalog_tables(catalog: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``procedure_deadlines`` (procedure, deadline_working_days) and ``catalog_steps``
    (procedure, activity, given_days) from the catalog (empty without one)."""
    if catalog is None:
        return (
            pd.DataFrame({"procedure": pd.Series(dtype=str), "deadline_working_days": []}),
            pd.DataFrame(
                {
                    "procedure": pd.Series(dtype=str),
                    "activity": pd.Series(dtype=str),
                    "given_days": pd.Series(dtype="float64"),
                }
            ),
        )
    schema.require_columns(
        catalog, ("procedure", "activity", "deadline_working_days"), what="the catalog"
    )
    frame = catalog.assign(
        procedure=catalog["procedure"].astype(str),
        activity=catalog["activity"].astype(str),
        deadline_working_days=pd.to_numeric(catalog["deadline_working_days"], errors="raise"),
        given_days=(
            pd.to_numeric(catalog["step_deadline_working_days"], errors="raise")
            if "step_deadline_working_days" in catalog.columns
            else np.nan
        ),
    )
    deadlines = frame.groupby("procedure", as_index=False)["deadline_working_days"].max()
    steps = frame.groupby(["procedure", "activity"], as_index=False)["given_days"].sum(min_count=1)
    return deadlines, steps.astype({"given_days": "float64"})


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
    deadlines, steps = _catalog_tables(catalog)
    if catalog is None and _deadline_source(log, deadline_column)[1] is None:
        raise ValueError(
            "on-time figures need deadlines: pass a catalog (deadline_working_days per "
            f"procedure) or a log with a deadline column ({deadline_column!r} not found)."
        )
    case_deadlines = _case_deadlines(log, calendar, deadline_column)
    events = engines.complete_events(events)
    read = list(dict.fromkeys((*_DEADLINE_EVENT_COLUMNS, *units)))
    return {
        "events": events[read],
        "case_ids": engines.case_ids(events),
        "procedure_deadlines": deadlines,
        "catalog_steps": steps,
        "case_deadlines": case_deadlines,
        "explanation_activities": _explanation_activities(
            events["activity"], explanation_activities
        ),
    }


# ------------------------------------------------------------------------------ sojourns
def sojourns(log: pd.DataFrame, calendar: Any = None, engine: Any = None) -> pd.DataFrame:
    """Each event's sojourn: the working time since the previous event of its case.

    Returns one row per event, in log order: ``case_id``, ``activity``, ``department``,
    ``resource``, ``procedure``, ``lifecycle``, ``timestamp`` (tz-aware, the calendar's zone),
    ``sojourn_minutes`` and ``sojourn_hours`` (working time), ``calendar_hours`` (wall-clock time,
    side by side), and, when the log has start events, ``waiting_minutes``/``waiting_hours`` and
    ``processing_minutes``/``processing_hours``. A case's first event has no sojourn (null).

    >>> import procmine as pm
    >>> sojourns(pm.datasets.load_sample())[["activity", "sojourn_hours"]]  # doctest: +SKIP

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
    events, calendar = _events(log, calendar)
    split = _has_lifecycle_pairs(events)
    sql = f"SELECT * FROM ({_sojourn_sql(split, calendar_time=True)}) AS s ORDER BY idx"
    table = engines.query(sql, engine, events=events)
    result = pd.DataFrame(
        {
            "case_id": table["case_id"],
            "activity": table["activity"],
            "department": table["department"],
            "resource": table["resource"],
            "procedure": table["procedure"],
            "lifecycle": table["lifecycle"],
            "timestamp": _localize(table["ts"], calendar),
            "sojourn_minutes": table["sojourn"].astype("float64"),
            "sojourn_hours": table["sojourn"].astype("float64") / 60.0,
            "calendar_hours": table["calendar_hours"].astype("float64"),
        }
    )
    if split:
        for part in ("waiting", "processing"):
            result[f"{part}_minutes"] = table[part].astype("float64")
            result[f"{part}_hours"] = table[part].astype("float64") / 60.0
    return result


# --------------------------------------------------------------------------- bottlenecks
def _bottleneck_query(
    kind: str, log: pd.DataFrame, by: str, calendar: Any, engine: Any
) -> pd.DataFrame:
    _check_by(by, _KEYS)
    events, _ = _events(log, calendar)
    split = by != "handoff" and _has_lifecycle_pairs(events)
    build = _bottleneck_sql if kind == "ranking" else _bottleneck_cases_sql
    if by == "handoff":  # the handoff CTEs read each event's next sequence entry
        events = with_sequence_links(events)
    table = engines.query(build(by, split), engine, events=events)
    if not split:
        table = table.drop(columns=["waiting_hours", "processing_hours"])
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
    cases (DESIGN.md: Bottleneck).

    Returns one row per key (``activity``; ``department``; ``source``, ``target``;
    ``procedure``; ``resource``), largest first: ``hours`` (total working hours held), ``share``
    (of all working time in the log), ``median_hours`` and ``p90_hours``, ``cases`` and ``events``,
    and ``waiting_hours``/``processing_hours`` when the log has start/complete lifecycles (not
    for handoffs). ``catalog`` is accepted for symmetry with the other analyses; the ranking does
    not depend on it. ``log`` is the canonical log, or the frame of
    :func:`procmine.engines.event_table` (then used as it is: the clock is read once for several
    figures).

    >>> import procmine as pm
    >>> pm.bottlenecks(pm.datasets.load_sample(), by="department").head(3)  # doctest: +SKIP

    Notes
    -----
    *Attribution.* An event's sojourn (working time since the previous event of its case, the time
    the step waited and took) belongs to its activity, its department or its official; a case's
    first event holds nothing and is not counted in ``events``. A handoff A → B holds the
    ``wait_minutes`` of :func:`procmine.handoffs.handoff_table` (``events`` counts handoffs). A
    procedure holds each of its cases' working duration (first to last event; ``events`` counts
    all their events, and a one-event case counts with 0 hours).

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
    calendar: Any = None,
    engine: Any = None,
) -> pd.DataFrame:
    """The cases behind each row of :func:`bottlenecks`: one row per key and case with the working
    ``hours`` the case spent there and the ``events`` counted (and waiting/processing hours when
    the log has start/complete pairs), largest first within each key.

    ``key`` keeps one row of the ranking: a name, or a ``(source, target)`` pair for handoffs.

    >>> import procmine as pm
    >>> log = pm.datasets.load_sample()  # doctest: +SKIP
    >>> bottleneck_cases(log, "department", "Phòng Tài chính")  # doctest: +SKIP
    """
    table = _bottleneck_query("cases", log, by, calendar, engine)
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


# ------------------------------------------------------------------------------ deadlines
def on_time(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None = None,
    *,
    calendar: Any = None,
    engine: Any = None,
    deadline_column: str | None = schema.DEADLINE,
    explanation_activities: Iterable[str] = DEFAULT_EXPLANATIONS,
) -> pd.DataFrame:
    """Each case against its deadline (DESIGN.md: On time, Explained late case).

    Returns one row per case: ``case_id``, ``procedure``, ``received`` (first event),
    ``completed`` (last event), ``working_days`` taken, ``deadline_working_days``, ``due``,
    ``on_time``, ``overrun_working_days`` (0 when on time), ``department_held_overrun`` and
    ``resource_held_overrun`` (late cases), ``explained`` (has an explanation step).
    Cases without a deadline have null ``on_time``. ``log`` may be the frame of
    :func:`procmine.engines.event_table` (used as it is); it has no deadline column, so the
    deadlines then come from the catalog.

    >>> import procmine as pm
    >>> on_time(pm.datasets.load_sample(), pm.datasets.load_sample_catalog())  # doctest: +SKIP

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
    non-letter, non-digit character. Defaults: :data:`DEFAULT_EXPLANATIONS`.
    """
    events, calendar = _events(log, calendar)
    tables = _deadline_tables(
        log, catalog, calendar, deadline_column, explanation_activities, events, _HELD_UNITS
    )
    table = engines.query(
        _on_time_sql(calendar.minutes_per_day) + _ON_TIME_SELECT, engine, **tables
    )
    # The due reading is received's reading + N working days, so mapping it back is
    # calendar.add_working_days(received, N) without reading the clock twice; a date-time
    # deadline maps back to itself (to the end of the office day for a date).
    due = calendar.from_working_minutes(table["due_wm"].astype("float64"))
    return pd.DataFrame(
        {
            "case_id": table["case_id"].astype("string"),
            "procedure": table["procedure"].astype("string"),
            "received": _localize(table["received"], calendar),
            "completed": _localize(table["completed"], calendar),
            "working_days": table["working_days"].astype("float64"),
            "deadline_working_days": table["deadline_working_days"].astype("float64"),
            "due": due,
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
    ``equal``), ``on_time_cases`` (on-time cases that have the step), ``median_hours`` (the step's
    median working time in them), ``weight`` (its part of the deadline the catalog leaves
    unallotted) and ``allotment_working_days`` (null when the procedure's deadline comes only from
    the cases' deadline column: it is then the weight times each case's deadline).

    >>> import procmine as pm
    >>> catalog = pm.datasets.load_sample_catalog()  # doctest: +SKIP
    >>> step_allotments(pm.datasets.load_sample(), catalog)  # doctest: +SKIP

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
    events, calendar = _events(log, calendar)
    tables = _deadline_tables(log, catalog, calendar, deadline_column, (), events)
    sql = f"WITH {_deadline_ctes(calendar.minutes_per_day)},\n{_allotment_ctes()}" + (
        _ALLOTMENTS_SELECT
    )
    table = engines.query(sql, engine, **tables)
    return table.astype(
        {
            "procedure": "string",
            "activity": "string",
            "basis": "string",
            "on_time_cases": "int64",
            "median_hours": "float64",
            "weight": "float64",
            "allotment_working_days": "float64",
        }
    )


def _per_case_query(
    select: str,
    log: pd.DataFrame,
    catalog: pd.DataFrame | None,
    calendar: Any,
    engine: Any,
    deadline_column: str | None,
    explanation_activities: Iterable[str],
    held: tuple[str, ...] = (),
    units: tuple[str, ...] = (),
) -> tuple[pd.DataFrame, Any]:
    """``select`` over ``per_case``, with the held overrun of the ``held`` units, and the clock
    it was measured with; ``units`` are the unit columns of the events the select reads
    besides."""
    events, calendar = _events(log, calendar)
    tables = _deadline_tables(
        log, catalog, calendar, deadline_column, explanation_activities, events, (*held, *units)
    )
    sql = _on_time_sql(calendar.minutes_per_day, held) + select
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
    >>> on_time_rate(pm.datasets.load_sample(), pm.datasets.load_sample_catalog())  # doctest: +SKIP
    """
    _check_by(by, _RATE_SELECT)
    units = ("department",) if by == "department" else ()
    table, _ = _per_case_query(
        _RATE_SELECT[by], log, catalog, calendar, engine, deadline_column, (), units=units
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
    >>> slow_units(pm.datasets.load_sample(), pm.datasets.load_sample_catalog())  # doctest: +SKIP
    """
    _check_by(by, ("department", "resource"))
    table, _ = _per_case_query(
        _slow_units_select(by), log, catalog, calendar, engine, deadline_column, (), (by,)
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
    explanation_activities: Iterable[str] = DEFAULT_EXPLANATIONS,
) -> pd.DataFrame:
    """Late cases that carry no explanation step (apology, reason, new date): ``case_id``,
    ``procedure``, ``completed``, ``overrun_working_days``, ``department_held_overrun``,
    largest overrun first. Matching of explanation names as in :func:`on_time`.

    >>> import procmine as pm
    >>> late_without_explanation(pm.datasets.load_sample(),
    ...                          pm.datasets.load_sample_catalog())  # doctest: +SKIP
    """
    table, calendar = _per_case_query(
        _LATE_UNEXPLAINED_SELECT,
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
        completed=_localize(table["completed"], calendar),
        department_held_overrun=table["department_held_overrun"].astype("string"),
    )
