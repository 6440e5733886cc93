"""Open dossiers: who holds each open case now, since when, and how many working days are left.

The definitions (docs/definitions.md, "Open dossiers"): a case is **open** at the moment of the
report ``at`` as :func:`procmine.deadlines.case_status` says (its last event is not a closing
step); its **holder** is the department of the last entry of its department sequence by ``at``
(the last event that has a department, side copies aside) and the official of that same event;
the holder **took it** at the first event of that last run (``held_since``); its **due** date
and **overdue** flag are those of :func:`procmine.deadlines.on_time`. One SQL text (DuckDB
dialect, transpiled by SQLGlot for Spark) composed with :func:`procmine.engines.with_ctes` from
the deadline CTEs (:func:`procmine.deadlines.judged`), the runs of
:mod:`procmine.sequences` and the two CTEs below.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import pandas as pd

from procmine import deadlines, engines, schema, vocabulary
from procmine.catalog import deadline_tables, with_catalog_procedure
from procmine.engines import Cte, with_ctes, with_sequence_links
from procmine.sequences import MARKED, RUNS

__all__ = [
    "HOLDERS",
    "figure_sqls",
    "open_by_department",
    "open_cases",
    "open_cases_sql",
    "open_dossiers",
]

# What the figure reads of an events table (status, runs, the holder's event).
_READ_COLUMNS = (
    "idx", "case_no", "activity", "procedure", "ts", "wm", "side_copy", "department", "resource",
    "in_sequence", "next_department",
)  # fmt: skip
_BY = ("case", "department")
# Working-clock readings are float minutes (as in procmine.deadlines).
_EPSILON_MINUTES = 1e-6

# Per case, the last run of its department sequence (reads ``runs``): the holder department, the
# events where the run starts and ends, and the reading at its start.
HOLDERS = (
    "holders",
    """
  SELECT case_no, ARG_MAX(department, run_no) AS department,
    ARG_MAX(first_idx, run_no) AS first_idx, ARG_MAX(last_idx, run_no) AS last_idx,
    ARG_MAX(first_wm, run_no) AS held_since_wm
  FROM runs GROUP BY case_no""",
)


def open_dossiers(minutes_per_day: float) -> tuple[Cte, ...]:
    """CTEs ending in ``open_dossiers``: one row per open case with its holder, since when, the
    working hours held to the moment of the report, its due reading and working days left.

    >>> [name for name, _ in open_dossiers(480)][-4:]
    ['marked', 'runs', 'holders', 'open_dossiers']
    """
    mpd = float(minutes_per_day)
    body = f"""
  SELECT j.case_no, i.case_id, j.procedure, j.received, h.department, run_end.resource,
    run_start.ts AS held_since, (j.at_wm - h.held_since_wm) / 60.0 AS working_hours_held,
    j.due_wm, (j.due_wm - j.at_wm) / {mpd} AS working_days_left, j.overdue
  FROM judged AS j
  JOIN case_ids AS i ON i.case_no = j.case_no
  LEFT JOIN holders AS h ON h.case_no = j.case_no
  LEFT JOIN events AS run_start ON run_start.idx = h.first_idx
  LEFT JOIN events AS run_end ON run_end.idx = h.last_idx
  WHERE j.open"""
    return (*deadlines.judged(mpd), MARKED, RUNS, HOLDERS, ("open_dossiers", body))


_CASE_SELECT = """
SELECT case_id, procedure, received, department, resource, held_since, working_hours_held,
  due_wm, working_days_left, overdue
FROM open_dossiers
ORDER BY working_days_left ASC NULLS LAST, case_id"""


def _department_select(minutes_per_day: float, soon: float) -> str:
    """The per-department select: open, overdue and due-soon cases, median hours held."""
    within = float(soon) * float(minutes_per_day) + _EPSILON_MINUTES
    return f"""
SELECT department, COUNT(*) AS open_cases,
  COUNT(CASE WHEN overdue THEN 1 END) AS overdue_cases,
  COUNT(CASE WHEN NOT overdue AND working_days_left * {float(minutes_per_day)} <= {within}
    THEN 1 END) AS due_soon_cases,
  MEDIAN(working_hours_held) AS median_working_hours_held
FROM open_dossiers
GROUP BY department
ORDER BY overdue_cases DESC, due_soon_cases DESC, open_cases DESC, department ASC NULLS LAST"""


def open_cases_sql(by: str = "case", minutes_per_day: float = 480, soon: float = 2) -> str:
    """The SQL of :func:`open_cases`."""
    schema.check_choice("by", by, _BY)
    select = _CASE_SELECT if by == "case" else _department_select(minutes_per_day, soon)
    return with_ctes(*open_dossiers(minutes_per_day), select=select)


def figure_sqls(minutes_per_day: float = 480) -> dict[str, str]:
    """Every figure's SQL text of this module, by name (for review and for the Spark check).

    >>> sorted(figure_sqls())
    ['open_cases[case]', 'open_cases[department]']
    """
    return {f"open_cases[{by}]": open_cases_sql(by, minutes_per_day) for by in _BY}


def open_cases(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None = None,
    *,
    at: Any = None,
    closing_activities: Iterable[str] = vocabulary.CLOSINGS,
    calendar: Any = None,
    engine: Any = None,
    by: Literal["case", "department"] = "case",
    soon: float = 2,
    deadline_column: str | None = schema.DEADLINE,
) -> pd.DataFrame:
    """The open dossiers at ``at`` and who holds them (docs/definitions.md: Open dossiers).

    ``by="case"``: one row per open case, ``case_id``, ``procedure``, ``received``, the current
    holder's ``department`` and ``resource`` (official), ``held_since`` (when that department
    took the case: the first event of the last run of the department sequence),
    ``working_hours_held`` (held_since → ``at``, working time), ``due`` (as
    :func:`procmine.deadlines.on_time`; null without a deadline), ``working_days_left`` (due →
    ``at`` in working days, negative when overdue; null without a deadline) and ``overdue``;
    fewest working days left first (nulls last), then by case id.

    ``by="department"``: per holder department, ``open_cases``, ``overdue_cases``,
    ``due_soon_cases`` (not overdue, due within ``soon`` working days) and
    ``median_working_hours_held``; most overdue first, then most due soon, most open, name.

    Open cases, ``at`` and the closing steps are those of :func:`procmine.deadlines.case_status`
    (``attrs`` the same). Without deadlines (no catalog deadline, no deadline column) the due
    columns are null; a case without a department in any event by ``at`` has a null holder.

    >>> import procmine as pm
    >>> log = pm.datasets.example_log()
    >>> log = log[~((log["case:concept:name"] == "HS3") & (log["concept:name"] == "Phê duyệt"))]
    >>> found = open_cases(log, pm.datasets.example_catalog())
    >>> found[["case_id", "department", "resource", "held_since", "working_hours_held"]]
      case_id     department resource                held_since  working_hours_held
    0     HS3  Phòng Tư pháp     Dũng 2024-05-08 08:00:00+07:00                16.0
    >>> found[["due", "working_days_left", "overdue"]]
                            due  working_days_left  overdue
    0 2024-05-09 08:00:00+07:00               -1.0     True

    (HS3 came to Phòng Tư pháp on Wed 8/5 08:00 and is still there at the log's last stamp, Fri
    10/5 08:00: two working days, 16 hours; due Thu 9/5 08:00, one working day ago.)
    """
    schema.check_choice("by", by, _BY)
    if not float(soon) >= 0:
        raise ValueError(f"soon must be a number of working days >= 0, found {soon!r}.")
    events, calendar = engines.clocked(log, calendar, (*engines.FIGURE_COLUMNS, "in_sequence"))
    events = engines.complete_events(with_catalog_procedure(events, catalog))
    tables, notes = _tables(log, events, catalog, at, closing_activities, calendar, deadline_column)
    sql = open_cases_sql(by, calendar.minutes_per_day, soon)
    table = engines.query(sql, engine, **tables)
    found = _case_frame(table, calendar) if by == "case" else _department_frame(table)
    found.attrs.update(notes)
    if by == "department":
        found.attrs["soon"] = soon
    return found


def open_by_department(
    held: pd.DataFrame,
    *,
    minutes_per_day: float = 480,
    soon: float = 2,
    engine: Any = None,
) -> pd.DataFrame:
    """:func:`open_cases` by department from its table by case (``held``), measured with a
    working day of ``minutes_per_day`` (the calendar's): the same select over the open
    dossiers, without finding them a second time. ``attrs`` those of ``held`` and ``soon``.

    >>> import procmine as pm
    >>> log = pm.datasets.example_log()
    >>> log = log[~((log["case:concept:name"] == "HS3") & (log["concept:name"] == "Phê duyệt"))]
    >>> held = open_cases(log, pm.datasets.example_catalog())
    >>> open_by_department(held).equals(open_cases(log, pm.datasets.example_catalog(),
    ...                                            by="department"))
    True
    """
    if not float(soon) >= 0:
        raise ValueError(f"soon must be a number of working days >= 0, found {soon!r}.")
    columns = ["department", "overdue", "working_days_left", "working_hours_held"]
    select = _department_select(minutes_per_day, soon)
    found = _department_frame(engines.query(select, engine, open_dossiers=held[columns]))
    found.attrs.update(held.attrs)
    found.attrs["soon"] = soon
    return found


def _tables(
    log: pd.DataFrame,
    events: pd.DataFrame,
    catalog: pd.DataFrame | None,
    at: Any,
    closing: Iterable[str],
    calendar: Any,
    deadline_column: str | None,
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The tables of the SQL and the notes for ``attrs``: the events known at ``at`` (with their
    department-sequence links), the open-case and moment tables of the deadline figures, and the
    deadlines (empty without any: every due reading is then null)."""
    # The deadline figures' own readings of the moment, the closing steps and the deadline
    # column: open cases and due dates have one definition.
    events, moment, notes = deadlines.status_tables(events, catalog, at, closing, calendar)
    events = with_sequence_links(events)
    procedure_deadlines, _ = deadline_tables(catalog)
    tables = {
        "events": events[list(_READ_COLUMNS)],
        "case_ids": engines.case_ids(events),
        "moment": moment["moment"],
        "closing_procedures": moment["closing_procedures"],
        "closing_steps": moment["closing_steps"],
        "procedure_deadlines": procedure_deadlines,
        "case_deadlines": deadlines.case_deadlines(log, calendar, deadline_column),
    }
    return tables, notes


def _case_frame(table: pd.DataFrame, calendar: Any) -> pd.DataFrame:
    """The rows of the per-case SQL, typed; the due date-time mapped back from its reading as
    :func:`procmine.deadlines.on_time` does."""
    return pd.DataFrame(
        {
            "case_id": table["case_id"].astype("string"),
            "procedure": table["procedure"].astype("string"),
            "received": engines.local_time(table["received"], calendar),
            "department": table["department"].astype("string"),
            "resource": table["resource"].astype("string"),
            "held_since": engines.local_time(table["held_since"], calendar),
            "working_hours_held": table["working_hours_held"].astype("float64"),
            "due": calendar.from_working_minutes(table["due_wm"].astype("float64")),
            "working_days_left": table["working_days_left"].astype("float64"),
            "overdue": table["overdue"].astype(bool),
        }
    )


def _department_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of the per-department SQL, typed."""
    return table.astype(
        {
            "department": "string",
            "open_cases": "int64",
            "overdue_cases": "int64",
            "due_soon_cases": "int64",
            "median_working_hours_held": "float64",
        }
    ).reset_index(drop=True)
