"""The oracle: the definitions of docs/definitions.md counted case by case in plain Python.

:func:`reference_counts` gives the handoff, bounce, deviation and on-time counts of a log
against its catalog. It is deliberately separate from procmine's analyses (it imports none of
them), so they can be tested against it, and it gives the generator's truth its counts. It
shares with the figures only the working clock and the rule that names an explanation step
(:func:`procmine.vocabulary.matches`). It loops over cases in Python: use it on small logs.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable
from typing import Any

import pandas as pd

from procmine import schema
from procmine.calendar import WorkCalendar, as_calendar
from procmine.vocabulary import EXPLANATIONS, matches

__all__ = ["reference_counts"]

# The deviation types of CONTRACTS.md, in the order the counts list them (restated from the
# contract, not imported from conformance: the oracle uses none of the analyses).
_DEVIATION_TYPES = (
    "skipped_step",
    "step_not_in_procedure",
    "wrong_department",
    "repeated_step",
    "out_of_order",
)
# An event as the oracle reads it: (activity, department, procedure, clock reading).
Event = tuple[Any, Any, Any, float]


def reference_counts(
    log: pd.DataFrame,
    catalog: pd.DataFrame,
    calendar: WorkCalendar | None = None,
    explanation_activities: Iterable[str] = EXPLANATIONS,
) -> dict[str, Any]:
    """The oracle: the handoff, bounce, deviation and on-time counts, case by case.

    Written plainly and independently of procmine's analyses (it imports none of them), for
    the ground truth of generated samples and for tests. It loops over cases in Python: use it
    on small logs. The log must be in canonical order (cases together, sorted by time). A late
    case is explained when one of its activities matches ``explanation_activities`` by
    :func:`procmine.vocabulary.matches`.

    Returns ``pairs`` (one row per unordered department pair with a handoff, A < B: handoffs,
    bounces, excess_bounces, pingpong_cases), ``deviations`` per procedure, ``late_cases``,
    ``on_time_cases`` and ``late_cases_by_explanation`` ({"with": [...], "without": [...]}).

    >>> from procmine.datasets import example_catalog, example_log
    >>> counts = reference_counts(example_log(), example_catalog())
    >>> counts["pairs"]
    [{'department_a': 'Phòng Tư pháp', 'department_b': 'Văn phòng', 'handoffs': 8, 'bounces': 5, \
'excess_bounces': 2, 'pingpong_cases': 1}]
    >>> counts["late_cases_by_explanation"]
    {'with': ['HS3'], 'without': ['HS2']}
    """
    calendar = as_calendar(calendar)
    approved = _approved_paths(catalog)
    cases = _events_by_case(log, approved, calendar)
    explaining = _explanation_names(log[schema.ACTIVITY], explanation_activities)
    pairs: dict[tuple[str, str], Counter] = {}
    deviations = {p: dict.fromkeys(_DEVIATION_TYPES, 0) for p in approved}
    late_with, late_without, on_time = [], [], 0
    for case, events in cases.items():
        procedure = events[0][2]
        reference = approved[procedure]
        sequence = _collapse(department for _, department, _, _ in events)
        _count_pairs(pairs, sequence, reference["bounces"])
        _count_deviations(deviations[procedure], events, reference)
        if events[-1][0] not in reference["closing"]:
            continue  # open: its last event is not the last approved step; not judged yet
        duration = events[-1][3] - events[0][3]
        if duration <= reference["deadline"] * calendar.minutes_per_day:
            on_time += 1
        elif any(activity in explaining for activity, *_ in events):
            late_with.append(case)
        else:
            late_without.append(case)
    return {
        "pairs": _pair_rows(pairs),
        "deviations": deviations,
        "late_cases": len(late_with) + len(late_without),
        "on_time_cases": on_time,
        "late_cases_by_explanation": {"with": late_with, "without": late_without},
    }


def _approved_paths(catalog: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per procedure: each approved activity's step and department, the approved path's
    bounces, and the deadline in working days."""
    approved: dict[str, dict[str, Any]] = {}
    for procedure, rows in catalog.sort_values("step", kind="stable").groupby(
        "procedure", sort=False
    ):
        approved[procedure] = {
            "step": dict(zip(rows["activity"], rows["step"], strict=True)),
            "department": dict(zip(rows["activity"], rows["department"], strict=True)),
            "bounces": _bounces(_collapse(rows["department"])),
            "deadline": float(rows["deadline_working_days"].iloc[0]),
            "closing": set(rows.loc[rows["step"] == rows["step"].max(), "activity"]),
        }
    return approved


def _events_by_case(
    log: pd.DataFrame, approved: dict[str, Any], calendar: WorkCalendar
) -> dict[str, list[Event]]:
    """The log's events per case, in log order, each with its clock reading."""
    schema.require_columns(log, (*schema.REQUIRED, schema.DEPARTMENT, schema.PROCEDURE))
    unknown = sorted(set(log[schema.PROCEDURE].dropna()) - set(approved))
    if unknown:
        raise ValueError(f"Procedures of the log missing from the catalog: {unknown[:5]}.")
    readings = calendar.working_minutes(log[schema.TIMESTAMP])
    cases: dict[str, list[Event]] = {}
    for case, activity, department, procedure, reading in zip(
        log[schema.CASE].tolist(),
        log[schema.ACTIVITY].tolist(),
        log[schema.DEPARTMENT].tolist(),
        log[schema.PROCEDURE].tolist(),
        readings.tolist(),
        strict=True,
    ):
        cases.setdefault(case, []).append((activity, department, procedure, reading))
    return cases


def _explanation_names(activities: pd.Series, names: Iterable[str]) -> set[str]:
    """The distinct activities of the log that are explanation steps."""
    distinct = list(dict.fromkeys(activities.tolist()))
    return {a for a, explains in zip(distinct, matches(distinct, names), strict=True) if explains}


def _missing(department: Any) -> bool:
    return department is None or (isinstance(department, float) and math.isnan(department))


def _collapse(departments: Iterable[Any]) -> list[str]:
    """Department sequence: missing departments skipped, consecutive repeats collapsed."""
    sequence: list[str] = []
    for department in departments:
        if _missing(department):
            continue
        if not sequence or sequence[-1] != department:
            sequence.append(department)
    return sequence


def _bounces(sequence: list[str]) -> Counter:
    """Bounces by ordered pair (A, B): positions j with g[j] = g[j+2] != g[j+1]."""
    found: Counter = Counter()
    for j in range(len(sequence) - 2):
        if sequence[j] == sequence[j + 2] != sequence[j + 1]:
            found[(sequence[j], sequence[j + 1])] += 1
    return found


def _count_pairs(
    pairs: dict[tuple[str, str], Counter], sequence: list[str], approved_bounces: Counter
) -> None:
    """Add one case's handoffs, bounces, excess bounces and ping-pong case to ``pairs``
    (unordered pairs, A < B); excess per ordered pair is max(0, n − m), m the approved path's."""
    for a, b in itertools.pairwise(sequence):
        pairs.setdefault(tuple(sorted((a, b))), Counter())["handoffs"] += 1
    excess_pairs = set()
    for (a, b), n in _bounces(sequence).items():
        key = tuple(sorted((a, b)))
        excess = max(0, n - approved_bounces[(a, b)])
        pairs[key]["bounces"] += n
        pairs[key]["excess_bounces"] += excess
        if excess:
            excess_pairs.add(key)
    for key in excess_pairs:
        pairs[key]["pingpong_cases"] += 1


def _count_deviations(counted: dict[str, int], events: list[Event], reference: dict) -> None:
    """Add one case's deviations (CONTRACTS.md, Deviation types) to its procedure's counts."""
    seen: Counter = Counter()
    highest = 0
    for activity, department, _, _ in events:
        if activity not in reference["step"]:
            counted["step_not_in_procedure"] += 1
            continue
        if not _missing(department) and department != reference["department"][activity]:
            counted["wrong_department"] += 1
        seen[activity] += 1
        if seen[activity] == 1:
            step = reference["step"][activity]
            if step < highest:
                counted["out_of_order"] += 1
            highest = max(highest, step)
    counted["repeated_step"] += sum(n - 1 for n in seen.values())
    counted["skipped_step"] += sum(1 for a in reference["step"] if a not in seen)


def _pair_rows(pairs: dict[tuple[str, str], Counter]) -> list[dict[str, Any]]:
    """The pair counts as rows, sorted by pair."""
    return [
        {
            "department_a": a,
            "department_b": b,
            "handoffs": counts["handoffs"],
            "bounces": counts["bounces"],
            "excess_bounces": counts["excess_bounces"],
            "pingpong_cases": counts["pingpong_cases"],
        }
        for (a, b), counts in sorted(pairs.items())
    ]
