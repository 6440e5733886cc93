"""The generator: a realistic log of the district's procedures, with what was planted.

Vectorised (numpy over all cases at once, no loop per case) and deterministic per seed: the
steps of :func:`generate` draw from one random generator in a fixed order, so each step below
is a stage of one sequence of draws (cases, rows, events, clock, officials, missing
departments). Event times are placed on the working clock: each event's sojourn is drawn in
working minutes, readings are accumulated per case and mapped back with
:meth:`WorkCalendar.from_working_minutes`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from procmine import schema
from procmine.calendar import WorkCalendar, as_calendar
from procmine.datasets.district import (
    BOTTLENECK_ACTIVITY,
    BOTTLENECK_DEPARTMENT,
    BOTTLENECK_PROCEDURE,
    CV,
    DEPARTMENTS,
    GRADES,
    HABIT_ACTIVITY,
    OPPORTUNITIES,
    PINGPONG_PAIRS,
    PROCEDURES,
    TRP,
    roster,
    sample_catalog,
)
from procmine.datasets.oracle import reference_counts
from procmine.vocabulary import EXPLANATIONS, matches

__all__ = [
    "EXTRA_ACTIVITY",
    "RESUBMIT_ACTIVITY",
    "RETURN_ACTIVITIES",
    "TRUTH_LIMIT",
    "Generated",
    "generate",
]

# Activities the generator adds to the approved paths (besides the explanation steps).
RETURN_ACTIVITIES = ("Trả lại hồ sơ", "Chuyển lại để bổ sung")
RESUBMIT_ACTIVITY = "Bổ sung, hoàn thiện hồ sơ"
EXTRA_ACTIVITY = "Rà soát lại hồ sơ"
TRUTH_LIMIT = 100_000  # the most cases for which the truth's counts are computed by default

# How each case may deviate from its approved path (one kind per case, so a planted ping-pong
# case is never also a skipped-step case); ping-pong is drawn first, where a planted pair meets.
_KINDS = ("normal", "skipped", "swapped", "repeated", "extra", "wrong_department", "pingpong")
_KIND_SHARES = {
    "skipped": 0.04,
    "swapped": 0.04,
    "repeated": 0.06,
    "extra": 0.04,
    "wrong_department": 0.03,
}
_PINGPONG_SHARE = 0.35  # of the cases of a procedure with a planted pair in its approved path
_LATE_SHARE = 0.10
_EXPLAINED_SHARE = 0.55  # of the cases slowed down to be late
_MISSING_DEPARTMENT_SHARE = 0.006  # of the events of cases that are not planted ping-pong
# A check sends a few dossiers back: returned, supplemented, checked again, all in the checking
# department (the dossier goes back to whoever submitted it) — but for the planted check.
_CHECK_NAMES = ("Kiểm tra", "Xác minh", "Rà soát", "Đối chiếu")  # as costs.yaml names checks
_CHECK_RETURN_SHARE = 0.06
_HABIT_SHARE = 0.4  # of the cases of the procedure with the planted unprescribed step
_SOJOURN_SIGMA = 0.45  # lognormal spread of one event's sojourn around its typical value
# Typical sojourns (working days) of the events the generator adds.
_RETURN_DAYS, _RESUBMIT_DAYS, _EXPLANATION_DAYS, _EXTRA_DAYS = 1.0, 1.5, 0.5, 0.5
_HABIT_DAYS = 0.3


@dataclass(frozen=True)
class Generated:
    """What :func:`generate` returns: the canonical log, its catalog and the truth dict."""

    log: pd.DataFrame
    catalog: pd.DataFrame
    truth: dict


@dataclass(frozen=True)
class _Steps:
    """The catalog as flat arrays over all approved steps (global step s of procedure p is
    ``first[p] + s``), with codes into ``activities``, :data:`DEPARTMENTS` and :data:`GRADES`."""

    procedures: list[str]
    lengths: np.ndarray
    first: np.ndarray
    activities: list[str]  # the steps' activities, then the ones the generator adds
    activity: np.ndarray
    department: np.ndarray
    next_department: np.ndarray  # the next step's (-1 after the last step of all)
    grade: np.ndarray
    hold: np.ndarray  # typical sojourn, working minutes
    is_last: np.ndarray
    pingpong: np.ndarray  # the step hands over across a planted pair
    check: np.ndarray  # a check that sends a few dossiers back
    planted_check: np.ndarray  # the planted check, which never does
    habit: np.ndarray  # the planted unprescribed step follows this one in some cases
    merged: np.ndarray  # the second of the planted pair one official does (its first: s - 1)

    def code(self, activity: str) -> int:
        return self.activities.index(activity)


@dataclass(frozen=True)
class _Cases:
    """Per case: procedure, number of approved steps, planted ping-pong, kind of deviation,
    explained lateness, pace, the step a deviation targets, arrival reading."""

    procedure: np.ndarray
    length: np.ndarray
    pingpong: np.ndarray
    kind: np.ndarray
    explained: np.ndarray
    pace: np.ndarray
    target: np.ndarray
    arrival: np.ndarray


@dataclass(frozen=True)
class _Rows:
    """One row per (case, approved step) in the order done, with how many events it makes."""

    case: np.ndarray
    step: np.ndarray
    repeats: np.ndarray
    extra: np.ndarray
    wrong: np.ndarray
    round_trips: np.ndarray
    explanation: np.ndarray
    check_returns: np.ndarray
    habit: np.ndarray


@dataclass(frozen=True)
class _Events:
    """Per event: its row, step and case, and which part of its row's block it is (a return
    or resubmission of a ping-pong round trip or of a check's return)."""

    row: np.ndarray
    step: np.ndarray
    case: np.ndarray
    is_explanation: np.ndarray
    is_step: np.ndarray
    is_trip: np.ndarray
    is_return: np.ndarray
    is_resubmit: np.ndarray
    is_handback: np.ndarray  # a ping-pong return, by the next step's department
    is_habit: np.ndarray


def generate(
    n_cases: int = 2000,
    seed: int = 7,
    start: str = "2024-01-02",
    end: str = "2025-06-30",
    calendar: WorkCalendar | None = None,
    truth: bool | None = None,
) -> Generated:
    """A realistic log of a district People's Committee's internal procedures, with truth.

    Cases arrive uniformly over the working time from ``start`` to ``end`` (inclusive); each
    event's sojourn is drawn in working minutes of ``calendar`` (Vietnam by default). The
    truth's counts (:func:`reference_counts`) are computed when ``truth`` is True, or when it is
    None and ``n_cases`` is at most 100,000; otherwise the truth holds only what was planted by
    name (bottleneck step and department, ping-pong pairs and cases).

    >>> sample = generate(200, seed=1)
    >>> sample.truth["planted"]["bottleneck_activity"]
    'Kiểm tra hiện trạng sử dụng đất'
    """
    if n_cases < 1:
        raise ValueError(f"n_cases must be at least 1, found {n_cases}.")
    calendar = as_calendar(calendar)
    catalog = sample_catalog()
    rng = np.random.default_rng(seed)
    day = calendar.minutes_per_day
    steps = _flat_steps(day)
    cases = _draw_cases(rng, steps, n_cases, _working_window(calendar, start, end))
    rows = _lay_out_rows(rng, steps, cases)
    events = _expand_rows(rows)
    activity = _event_activities(rng, steps, events)
    department = _event_departments(rng, steps, rows, events)
    grade = np.where(events.is_step, steps.grade[events.step], GRADES.index(CV))
    hold = _typical_sojourns(steps, events, day)
    case_first, timestamps = _clock(rng, calendar, cases, events, hold)
    names, resource = _officials(rng, department, grade)
    resource = _one_official(steps, events, department, resource, n_cases)
    # Missing departments, never in a planted ping-pong case.
    kept = ~cases.pingpong[events.case]
    department[(rng.random(len(events.case)) < _MISSING_DEPARTMENT_SHARE) & kept] = -1
    case_ids = _case_ids(timestamps, case_first)
    log = pd.DataFrame(
        {
            schema.CASE: _strings(case_ids, events.case),
            schema.ACTIVITY: _strings(steps.activities, activity),
            schema.TIMESTAMP: timestamps.reset_index(drop=True),
            schema.DEPARTMENT: _strings(DEPARTMENTS, department),
            schema.RESOURCE: _strings(names, resource),
            schema.PROCEDURE: _strings(steps.procedures, cases.procedure[events.case]),
        }
    )
    on_trip = np.bincount(events.case, weights=events.is_trip, minlength=n_cases) > 0
    meta = {"n_cases": n_cases, "seed": seed, "start": str(start), "end": str(end)}
    counted = truth or (truth is None and n_cases <= TRUTH_LIMIT)
    result = _truth(log, catalog, calendar, meta, case_ids[on_trip].tolist(), counted)
    return Generated(log=log, catalog=catalog, truth=result)


def _flat_steps(day: float) -> _Steps:
    """The approved procedures as flat step arrays; typical sojourns in working minutes."""
    lengths = np.array([len(steps) for *_, steps in PROCEDURES])
    first = np.cumsum(lengths) - lengths
    all_steps = [step for *_, steps in PROCEDURES for step in steps]
    added = (*EXPLANATIONS, *RETURN_ACTIVITIES, RESUBMIT_ACTIVITY, EXTRA_ACTIVITY, HABIT_ACTIVITY)
    activities = list(dict.fromkeys([a for a, *_ in all_steps] + list(added)))
    act_id = {a: i for i, a in enumerate(activities)}
    dept_id = {d: i for i, d in enumerate(DEPARTMENTS)}
    grade_id = {g: i for i, g in enumerate(GRADES)}
    department = np.array([dept_id[d] for _, d, *_ in all_steps])
    is_last = np.zeros(len(all_steps), dtype=bool)
    is_last[first + lengths - 1] = True
    # A planted pair meets where a step hands over to the next step of the same procedure.
    planted = {frozenset((dept_id[a], dept_id[b])) for a, b in PINGPONG_PAIRS}
    next_department = np.append(department[1:], -1)
    pingpong = np.array(
        [
            not last and frozenset((d, n)) in planted and d != n
            for d, n, last in zip(department, next_department, is_last, strict=True)
        ]
    )
    procedure = np.repeat(np.arange(len(PROCEDURES)), lengths)
    names = [a for a, *_ in all_steps]
    return _Steps(
        procedures=[p for p, *_ in PROCEDURES],
        lengths=lengths,
        first=first,
        activities=activities,
        activity=np.array([act_id[a] for a, *_ in all_steps]),
        department=department,
        next_department=next_department,
        grade=np.array([grade_id[g] for *_, g, _ in all_steps]),
        hold=np.array([h for *_, h in all_steps]) * day,
        is_last=is_last,
        pingpong=pingpong,
        check=np.array(matches(names, _CHECK_NAMES)),
        planted_check=_planted(procedure, names, "remove_check"),
        habit=_planted(procedure, names, "drop_extra_step", "after"),
        merged=_planted(procedure, names, "merge_steps", "activities", 1),
    )


def _planted(
    procedure: np.ndarray, names: list[str], kind: str, key: str = "activity", item: int = -1
) -> np.ndarray:
    """Which approved steps are the planted opportunity ``kind``'s step (its ``key``, or
    the ``item``-th of a list there)."""
    planted = OPPORTUNITIES[kind]
    activity = planted[key] if item < 0 else planted[key][item]
    own = np.array([p == planted["procedure"] for p, *_ in PROCEDURES])[procedure]
    return own & (np.array(names, dtype=object) == activity)


def _working_window(calendar: WorkCalendar, start: str, end: str) -> tuple[int, int]:
    """The clock readings of ``start`` and of the end of ``end`` (whole minutes)."""
    w0 = int(calendar.working_minutes(pd.Timestamp(start)))
    w1 = int(calendar.working_minutes(pd.Timestamp(end) + pd.Timedelta(days=1)))
    if w1 <= w0:
        raise ValueError(f"No working time between {start} and {end}.")
    return w0, w1


def _draw_cases(
    rng: np.random.Generator, steps: _Steps, n_cases: int, window: tuple[int, int]
) -> _Cases:
    """Each case's procedure, kind of deviation, pace and arrival."""
    weights = np.array([w for _, w, *_ in PROCEDURES], dtype=float)
    procedure = rng.choice(len(PROCEDURES), size=n_cases, p=weights / weights.sum())
    length = steps.lengths[procedure]
    procedure_pingpong = np.add.reduceat(steps.pingpong, steps.first) > 0
    pingpong = procedure_pingpong[procedure] & (rng.random(n_cases) < _PINGPONG_SHARE)
    other = rng.choice(
        len(_KINDS) - 1,
        size=n_cases,
        p=[1 - sum(_KIND_SHARES.values()), *_KIND_SHARES.values()],
    )
    late = rng.random(n_cases) < _LATE_SHARE
    explained = late & (rng.random(n_cases) < _EXPLAINED_SHARE)
    pace = np.where(late, rng.uniform(2.2, 3.5, n_cases), rng.lognormal(0.0, 0.12, n_cases))
    # Deviations target a middle step (2 .. n-2), so the intake stays first and the last two
    # steps keep their order.
    target = 1 + (rng.random(n_cases) * (length - 3)).astype(np.int64)
    kind = np.where(pingpong, _KINDS.index("pingpong"), other)
    # The planted check is never done twice (a redo is work sent back): rework the next step.
    redo = kind == _KINDS.index("repeated")
    target = target + (redo & steps.planted_check[steps.first[procedure] + target])
    # Readings strictly after w0: a reading at a day boundary maps back to the previous day's end.
    arrival = np.sort(rng.integers(window[0] + 1, window[1] + 1, n_cases))
    return _Cases(
        procedure=procedure,
        length=length,
        pingpong=pingpong,
        kind=kind,
        explained=explained,
        pace=pace,
        target=target,
        arrival=arrival,
    )


def _lay_out_rows(rng: np.random.Generator, steps: _Steps, cases: _Cases) -> _Rows:
    """The (case, approved step) rows with each case's deviation applied at its target step."""
    n_rows = int(cases.length.sum())
    row_case = np.repeat(np.arange(len(cases.length)), cases.length)
    position = np.arange(n_rows) - np.repeat(np.cumsum(cases.length) - cases.length, cases.length)
    step = steps.first[cases.procedure][row_case] + position
    kind = cases.kind[row_case]
    at_target = position == cases.target[row_case]
    repeats = np.ones(n_rows, dtype=np.int64)
    repeats[at_target & (kind == _KINDS.index("skipped"))] = 0
    rework = at_target & (kind == _KINDS.index("repeated"))
    repeats[rework] = 2 + (rng.random(int(rework.sum())) < 0.25)
    extra = (at_target & (kind == _KINDS.index("extra"))).astype(np.int64)
    wrong = at_target & (kind == _KINDS.index("wrong_department"))
    round_trips = np.where(
        steps.pingpong[step] & (kind == _KINDS.index("pingpong")),
        (rng.random(n_rows) < 0.75) * (1 + (rng.random(n_rows) < 0.3)),
        0,
    )
    explanation = (steps.is_last[step] & cases.explained[row_case]).astype(np.int64)
    # A check done in its own department sends a few dossiers back; the planted check none.
    checked = steps.check[step] & ~steps.planted_check[step] & (repeats > 0) & ~wrong
    check_returns = _sent_back(rng, step, checked)
    habit = (steps.habit[step] & (repeats > 0) & (rng.random(n_rows) < _HABIT_SHARE)).astype(
        np.int64
    )
    # A swapped case does its target step after the next one.
    order = np.arange(n_rows)
    swap = np.flatnonzero(at_target & (kind == _KINDS.index("swapped")))
    order[swap], order[swap + 1] = swap + 1, swap
    columns = (step, repeats, extra, wrong, round_trips, explanation, check_returns, habit)
    return _Rows(row_case, *(a[order] for a in columns))


def _sent_back(rng: np.random.Generator, step: np.ndarray, checked: np.ndarray) -> np.ndarray:
    """Which rows' checks send the dossier back: of each check step's rows, a random
    :data:`_CHECK_RETURN_SHARE` of them (rounded, at least one) — a set share, so that no
    ordinary check of a small procedure happens to return nothing."""
    rows = np.flatnonzero(checked)
    order = np.lexsort((rng.random(len(rows)), step[rows]))
    rows, at = rows[order], step[rows[order]]
    first = np.r_[True, at[1:] != at[:-1]]
    start = np.flatnonzero(first)
    size = np.diff(np.r_[start, len(rows)])
    group = np.cumsum(first) - 1
    rank = np.arange(len(rows)) - start[group]
    chosen = rank < np.maximum(1, np.rint(_CHECK_RETURN_SHARE * size))[group]
    returns = np.zeros(len(step), dtype=np.int64)
    returns[rows[chosen]] = 1
    return returns


def _expand_rows(rows: _Rows) -> _Events:
    """Events per row, in parts: [explanation] [step × repeats] [(return, resubmit, step) ×
    check returns] [(return, resubmit) × round trips] [extra] [habit]."""
    parts = np.stack(
        [
            rows.explanation,
            rows.repeats,
            3 * rows.check_returns,
            2 * rows.round_trips,
            rows.extra,
            rows.habit,
        ],
        axis=1,
    )
    # One segment per (row, part), in order; each event is one of its segment's.
    counts = parts.ravel()
    segment = np.repeat(np.arange(len(counts)), counts)
    row, part = np.divmod(segment, parts.shape[1])
    k = np.arange(len(segment)) - (np.cumsum(counts) - counts)[segment]  # place in its part
    checking, trip = part == 2, part == 3
    return _Events(
        row=row,
        step=rows.step[row],
        case=rows.case[row],
        is_explanation=part == 0,
        is_step=(part == 1) | (checking & (k % 3 == 2)),
        is_trip=trip,
        is_return=((checking & (k % 3 == 0)) | (trip & (k % 2 == 0))),
        is_resubmit=((checking & (k % 3 == 1)) | (trip & (k % 2 == 1))),
        is_handback=trip & (k % 2 == 0),
        is_habit=part == 5,  # part 4, the extra step, is the default activity
    )


def _event_activities(rng: np.random.Generator, steps: _Steps, events: _Events) -> np.ndarray:
    """Activity codes: the step's own, or the added activity of the event's part of its row."""
    activity = np.full(len(events.row), steps.code(EXTRA_ACTIVITY))
    activity[events.is_step] = steps.activity[events.step[events.is_step]]
    activity[events.is_resubmit] = steps.code(RESUBMIT_ACTIVITY)
    activity[events.is_habit] = steps.code(HABIT_ACTIVITY)
    for mask, names in (
        (events.is_return, RETURN_ACTIVITIES),
        (events.is_explanation, EXPLANATIONS),
    ):
        codes = np.array([steps.code(a) for a in names])
        activity[mask] = codes[rng.integers(len(names), size=int(mask.sum()))]
    return activity


def _event_departments(
    rng: np.random.Generator, steps: _Steps, rows: _Rows, events: _Events
) -> np.ndarray:
    """Department codes: a ping-pong return's is the next step's; every other event is its
    own step's, but for the misplaced steps of wrong-department cases."""
    department = np.where(
        events.is_handback, steps.next_department[events.step], steps.department[events.step]
    )
    misplaced = events.is_step & rows.wrong[events.row]
    shift = 1 + rng.integers(len(DEPARTMENTS) - 1, size=int(misplaced.sum()))
    department[misplaced] = (department[misplaced] + shift) % len(DEPARTMENTS)
    return department


def _typical_sojourns(steps: _Steps, events: _Events, day: float) -> np.ndarray:
    """Each event's typical sojourn in working minutes, by what the event is."""
    return np.select(
        [
            events.is_step,
            events.is_return,
            events.is_resubmit,
            events.is_explanation,
            events.is_habit,
        ],
        [
            steps.hold[events.step],
            _RETURN_DAYS * day,
            _RESUBMIT_DAYS * day,
            _EXPLANATION_DAYS * day,
            _HABIT_DAYS * day,
        ],
        _EXTRA_DAYS * day,
    )


def _clock(
    rng: np.random.Generator,
    calendar: WorkCalendar,
    cases: _Cases,
    events: _Events,
    hold: np.ndarray,
) -> tuple[np.ndarray, pd.Series]:
    """Each case's first event, and the events' times: sojourns accumulate from the arrival."""
    per_case = np.bincount(events.case, minlength=len(cases.arrival))
    case_first = np.cumsum(per_case) - per_case
    noise = rng.lognormal(0.0, _SOJOURN_SIGMA, len(events.case))
    sojourn = np.maximum(1, np.rint(hold * cases.pace[events.case] * noise)).astype(np.int64)
    sojourn[case_first] = 0
    elapsed = np.cumsum(sojourn)
    reading = cases.arrival[events.case] + elapsed - elapsed[case_first][events.case]
    return case_first, calendar.from_working_minutes(reading.astype(np.float64))


def _officials(
    rng: np.random.Generator, department: np.ndarray, grade: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The officials' names, and for each event one official of its department and grade
    (a department without the grade, as leaders sit in the Office only: its head)."""
    names, blocks = roster()
    n_grades = len(GRADES)
    slot_first = np.zeros(len(DEPARTMENTS) * n_grades, dtype=np.int64)
    slot_count = np.zeros_like(slot_first)
    for d, dname in enumerate(DEPARTMENTS):
        for g, gname in enumerate(GRADES):
            first, count = blocks.get((dname, gname), blocks[(dname, TRP)])
            slot_first[d * n_grades + g], slot_count[d * n_grades + g] = first, count
    slot = department * n_grades + grade
    resource = slot_first[slot] + (rng.random(len(slot)) * slot_count[slot]).astype(np.int64)
    return names, resource


def _one_official(
    steps: _Steps, events: _Events, department: np.ndarray, resource: np.ndarray, n_cases: int
) -> np.ndarray:
    """The planted merge: in each case, whoever does the pair's first step (in its own
    department) does the second too."""
    own = events.is_step & (department == steps.department[events.step])
    first = own & np.append(steps.merged[1:], False)[events.step]
    official = np.full(n_cases, -1)
    official[events.case[first]] = resource[first]
    second = own & steps.merged[events.step] & (official[events.case] >= 0)
    return np.where(second, official[events.case], resource)


def _case_ids(timestamps: pd.Series, case_first: np.ndarray) -> pd.Series:
    """HS-<year of arrival>-<number within the year>, numbered in arrival order."""
    year = timestamps.dt.year.to_numpy()[case_first]
    year_first = np.searchsorted(year, year, side="left")
    number = np.arange(len(case_first)) - year_first + 1
    width = max(6, len(str(int(number.max()))))
    return (
        "HS-" + pd.Series(year).astype(str) + "-" + pd.Series(number).astype(str).str.zfill(width)
    )


def _strings(vocabulary: Iterable[str], codes: np.ndarray) -> pd.Series:
    """A string column from codes into a vocabulary (code -1 is a missing value)."""
    values = pa.array(list(vocabulary), type=pa.string())
    taken = values.take(pa.array(codes, mask=codes < 0))
    return pd.Series(taken, dtype="str")


def _opportunities() -> dict[str, list[dict[str, Any]]]:
    """The simplification opportunities planted, by measure type: ``end_pingpong`` wherever a
    planted pair hands over on an approved path (one entry per procedure and pair), then one
    of each other type (:data:`OPPORTUNITIES`)."""
    pairs = {frozenset(pair) for pair in PINGPONG_PAIRS}
    pingpong = [
        {"procedure": procedure, "pair": list(pair)}
        for procedure, _, _, path in PROCEDURES
        for pair in sorted(
            {
                tuple(sorted((a, b)))
                for (_, a, *_), (_, b, *_) in itertools.pairwise(path)
                if a != b and frozenset((a, b)) in pairs
            }
        )
    ]
    return {"end_pingpong": pingpong} | {
        kind: [dict(planted)] for kind, planted in OPPORTUNITIES.items()
    }


def _truth(
    log: pd.DataFrame,
    catalog: pd.DataFrame,
    calendar: WorkCalendar,
    meta: dict[str, Any],
    pingpong_cases: list[str],
    counted: bool,
) -> dict[str, Any]:
    """The truth dict: how the log was made, what was planted, and (``counted``) the oracle's
    counts with the late cases by explanation."""
    result: dict[str, Any] = {
        "meta": {
            "generator": "procmine.datasets.generate",
            "n_cases": meta["n_cases"],
            "n_events": len(log),
            "seed": meta["seed"],
            "start": meta["start"],
            "end": meta["end"],
            "calendar": calendar.to_config(),
            "explanation_activities": list(EXPLANATIONS),
        },
        "planted": {
            "bottleneck_activity": BOTTLENECK_ACTIVITY,
            "bottleneck_procedure": BOTTLENECK_PROCEDURE,
            "bottleneck_department": BOTTLENECK_DEPARTMENT,
            "pingpong_pairs": [list(p) for p in PINGPONG_PAIRS],
            "pingpong_cases": pingpong_cases,
            "opportunities": _opportunities(),
        },
    }
    if counted:
        counts = reference_counts(log, catalog, calendar, EXPLANATIONS)
        late = counts.pop("late_cases_by_explanation")
        result["planted"]["late_without_explanation"] = late["without"]
        result["planted"]["late_with_explanation"] = late["with"]
        result["counts"] = counts
    return result
