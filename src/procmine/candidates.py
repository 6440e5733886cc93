"""Simplification candidates: what to change in an approved procedure, the evidence, the saving.

One rule per measure type, each set-based over the events table and the catalog, its thresholds
in ``costs.measure(type)`` (``datasets/costs.yaml``); each candidate's saving is the what-if
replay of that measure alone (:func:`procmine.whatif.what_if`):

- ``end_pingpong``: a department pair with at least ``min_excess_bounces`` excess bounces in
  the procedure (``pm.bounce_table``), in at least ``min_case_share`` of its cases (a count alone
  grows with the log); the change ends the excess round trips.
- ``remove_check``: an approved step whose activity starts with a check name
  (``costs.check_activities``) after which a return or redo — the next event is a return activity
  (``costs.return_activities``) or an activity the case already did — follows in at most
  ``max_return_share`` of the cases that have it.
- ``merge_steps``: adjacent approved steps of one department done by the same official (first
  occurrence of each) in at least ``min_same_official_share`` of the cases having both.
- ``parallel``: consecutive approved steps of different departments where the catalog's
  ``depends_on`` of the later states its prerequisites and does not name the earlier.
- ``delegate_signing``: an approved step of a leadership grade (``costs.leadership_grades``)
  holding at least ``min_time_share`` of its procedure's working time (sum of sojourns); it goes
  to ``costs.delegate_to_grade``, its sojourns capped at the procedure's median sojourn.
- ``cut_waiting``: an approved step whose median sojourn is at least ``min_ratio`` × its
  procedure's median sojourn; the cap is the procedure's median sojourn.
- ``shorten_deadline``: the procedure's 90th-percentile working days (``pm.on_time``) at most
  ``max_p90_share`` × its deadline; the new deadline is the 90th percentile rounded up.
- ``drop_extra_step``: an activity off the approved path, neither an explanation
  (``vocabulary.EXPLANATIONS``) nor a return, with at most half its events inside excess round
  trips (those belong to ``end_pingpong``), in at least ``min_case_share`` of the procedure's
  cases.

Steps are the events that are not side copies, with a ``complete`` lifecycle or none; a step's
sojourn is the working time since the case's previous step. Only catalog procedures get
candidates (the universe is the catalog); the others are listed in ``attrs["universe"]``.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from procmine import engines, schema, sequences, vocabulary
from procmine.catalog import (
    approved_paths,
    deadline_tables,
    depends_on_steps,
    with_catalog_procedure,
)
from procmine.cost import compliance_cost, read_costs
from procmine.deadlines import on_time
from procmine.formats import format_number, format_percent
from procmine.handoffs import bounce_table
from procmine.whatif import Replayer, log_events, observed_figures, round_trip_events

__all__ = [
    "COLUMNS",
    "MEASURE_TYPES",
    "Replay",
    "candidate_measures",
    "leadership_grade",
    "simplification_candidates",
    "with_lateness_drivers",
]

MEASURE_TYPES = (
    "end_pingpong",
    "remove_check",
    "merge_steps",
    "parallel",
    "delegate_signing",
    "cut_waiting",
    "shorten_deadline",
    "drop_extra_step",
)

DETECTED = (
    "measure_id",
    "procedure",
    "measure",
    "title",
    "activities",
    "departments",
    "change",
    "evidence",
    "evidence_text",
    "case_ids",
    "cases",
    "effort_person_days",
    "risk",
)
SAVINGS = (
    "saving_yearly",
    "saving_yearly_low",
    "saving_yearly_high",
    "saving_share",
    "working_days_saved",
    "on_time_rate_before",
    "on_time_rate_after",
)
COLUMNS = (*DETECTED[:10], "cases", *SAVINGS, "effort_person_days", "risk")

# An activity with more than this share of its events inside excess round trips is ping-pong,
# which end_pingpong removes; dropping it as a step of its own would count it twice.
_MOSTLY = 0.5


# ------------------------------------------------------------------------------ the facts
@dataclass(frozen=True)
class Facts:
    """What the rules read, computed once: the step events, the approved steps, the excess
    bounces (with their cases' numbers) and the step events of their round trips, the cases
    per procedure, the deadlines, and the cases' ids by number (``cases``)."""

    steps: pd.DataFrame
    approved: pd.DataFrame
    bounces: pd.DataFrame
    trips: pd.DataFrame
    activities: pd.DataFrame
    procedures: pd.DataFrame
    on_time: pd.DataFrame
    catalog: pd.DataFrame
    cases: pd.DataFrame

    def case_ids(self, case_no: Iterable[int]) -> tuple[str, ...]:
        """The ids of the cases numbered ``case_no`` (repeats dropped), sorted."""
        numbers = np.unique(np.asarray(case_no, dtype=np.int64))
        at = np.searchsorted(self.cases["case_no"].to_numpy(), numbers)
        names = self.cases["case_id"].array.take(at)
        if not hasattr(names, "__arrow_array__"):
            return tuple(sorted(str(name) for name in names))
        names = names.__arrow_array__()  # Arrow sorts UTF-8 bytes: code point order, as sorted
        return tuple(names.take(pc.sort_indices(names)).to_pylist())


def facts(
    log: pd.DataFrame,
    catalog: pd.DataFrame,
    *,
    calendar: Any = None,
    deadlines: pd.DataFrame | None = None,
    bounces: pd.DataFrame | None = None,
    per_case: pd.DataFrame | None = None,
) -> Facts:
    """The tables the rules read, from the log (or its events table) and the catalog.
    ``deadlines`` (:func:`procmine.deadlines.on_time`) and ``bounces``
    (:func:`procmine.handoffs.bounce_table`), of this log with this catalog, when the caller
    has them: they are not computed again; without ``deadlines``, ``per_case`` (the log's
    :func:`procmine.deadlines.per_case_table` with on_time's default options) is what
    ``on_time`` reads.

    >>> import procmine as pm
    >>> found = facts(pm.datasets.example_log(), pm.datasets.example_catalog())
    >>> found.steps[["case_no", "activity", "sojourn", "approved", "in_trip"]].iloc[3:6]
       case_no       activity  sojourn  approved  in_trip
    3        1      Tiếp nhận      NaN      True    False
    4        1      Thẩm định    240.0      True    False
    5        1  Trả lại hồ sơ    210.0     False     True
    >>> found.case_ids([1])
    ('HS2',)
    """
    events, calendar = engines.clocked(log, calendar)
    events = with_catalog_procedure(events, catalog)
    approved = approved_steps(catalog)
    cases = engines.case_ids(events)
    steps = _steps(events, approved)
    bounces = _excess_bounces(events, catalog, cases, bounces)
    trips = _trip_steps(events, bounces, steps, catalog)
    in_trip = np.zeros(len(steps), dtype=bool)
    in_trip[trips["step"].to_numpy()] = True
    steps = steps.assign(in_trip=in_trip)
    activities, procedures = _stats(steps, approved)
    return Facts(
        steps=steps,
        approved=approved,
        bounces=bounces[bounces["procedure"].isin(procedures["procedure"]).to_numpy()],
        trips=trips,
        activities=activities,
        procedures=procedures,
        on_time=on_time(events, catalog, per_case=per_case) if deadlines is None else deadlines,
        catalog=catalog,
        cases=cases,
    )


def _excess_bounces(
    events: pd.DataFrame,
    catalog: pd.DataFrame,
    cases: pd.DataFrame | None = None,
    bounces: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The excess bounces of :func:`procmine.handoffs.bounce_table` on an events table (as the
    catalog reads it; ``bounces``: that table, when given), with their unordered pair
    (``department_a`` < ``department_b``) and their cases' numbers (``case_no``; ``cases``:
    :func:`procmine.engines.case_ids` of the table).
    """
    cases = engines.case_ids(events) if cases is None else cases
    bounces = bounce_table(events, catalog) if bounces is None else bounces
    bounces = bounces[bounces["excess"].to_numpy(dtype=bool)].reset_index(drop=True)
    source, target = bounces["source"], bounces["target"]
    names = {str(name) for column in (source, target) for name in pd.unique(column)}
    names = pd.Index(sorted(names), dtype=object)
    codes = np.stack([names.get_indexer(source), names.get_indexer(target)])
    where = pd.Index(cases["case_id"]).get_indexer(bounces["case_id"].astype(str))
    return bounces.assign(
        department_a=names.take(codes.min(axis=0, initial=len(names))).to_numpy(),
        department_b=names.take(codes.max(axis=0, initial=-1)).to_numpy(),
        case_no=cases["case_no"].to_numpy()[where],
    )


def _stats(steps: pd.DataFrame, approved: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per (procedure, activity) of the catalog's procedures: key, approved, cases, events,
    median_sojourn, total_sojourn, in_trip_share, departments (tuple); and per procedure: cases,
    median_sojourn, total_sojourn (working minutes)."""
    procedure = steps["procedure"].cat.codes.to_numpy()
    listed = steps["procedure"].cat.categories.isin(approved["procedure"].unique())
    mine = (procedure >= 0) & np.r_[listed, False][procedure] & (steps["key"].to_numpy() >= 0)
    key, case_no = steps["key"].to_numpy()[mine], steps["case_no"].to_numpy(np.int64)[mine]
    sojourn = steps["sojourn"].to_numpy()[mine]
    per_key = pd.Series(sojourn).groupby(key).agg(["median", "sum"])
    keys = per_key.index.to_numpy(dtype=np.int64)
    # The cases at a key: their first steps there (keys are small numbers: counted in place).
    first = steps["first_at_key"].to_numpy()[mine]
    width = int(keys.max(initial=0)) + 1
    events = np.bincount(key, minlength=width)[keys]
    activities = pd.DataFrame(
        {"key": keys, "cases": np.bincount(key[first], minlength=width)[keys], "events": events}
    )
    trips = np.bincount(key, weights=steps["in_trip"].to_numpy()[mine], minlength=width)
    activities["in_trip_share"] = trips[keys] / events
    activities["median_sojourn"] = per_key["median"].to_numpy()
    activities["total_sojourn"] = per_key["sum"].to_numpy()
    names = _key_names(steps, keys)
    activities.insert(0, "procedure", names["procedure"])
    activities.insert(1, "activity", names["activity"])
    activities.insert(3, "approved", np.isin(keys, _keys(approved, like=steps)))
    activities["departments"] = _departments(steps, keys)
    own = procedure[mine]
    distinct = own[_firsts(case_no * (len(listed) + 1) + own)]  # each case once per procedure
    per = pd.Series(sojourn).groupby(own).agg(["median", "sum"])
    procedures = pd.DataFrame(
        {
            "procedure": steps["procedure"].cat.categories.astype(str)[per.index.to_numpy()],
            "cases": np.bincount(distinct, minlength=len(listed) + 1)[per.index.to_numpy()],
            "median_sojourn": per["median"].to_numpy(),
            "total_sojourn": per["sum"].to_numpy(),
        }
    )
    return activities, procedures


def _key_names(steps: pd.DataFrame, keys: np.ndarray) -> pd.DataFrame:
    """The procedure and activity (text) of each (procedure, activity) key of ``steps``."""
    width = len(steps["activity"].cat.categories) + 1
    return pd.DataFrame(
        {
            column: steps[column].cat.categories.astype(str).to_numpy()[codes]
            for column, codes in (("procedure", keys // width), ("activity", keys % width))
        }
    )


def _departments(steps: pd.DataFrame, keys: np.ndarray) -> list[tuple[str, ...]]:
    """Per key, the departments that did its steps (sorted)."""
    department = steps["department"].cat.codes.to_numpy()
    width = len(steps["department"].cat.categories) + 1
    pairs = np.unique(
        steps["key"].to_numpy()[department >= 0] * width + department[department >= 0]
    )
    names = steps["department"].cat.categories.astype(str).to_numpy()
    done_by = pd.DataFrame({"key": pairs // width, "department": names[pairs % width]})
    done_by = done_by.sort_values(["key", "department"]).groupby("key")["department"].agg(tuple)
    return [done_by.get(key, ()) for key in keys]


def approved_steps(catalog: pd.DataFrame) -> pd.DataFrame:
    """The approved path with what the rules read of each step: procedure, step, activity,
    department, grade, depends_on (frozenset of step numbers, None when not stated), position
    (0, 1, … along the path) and the next step's activity, department, step and depends_on.

    >>> import procmine as pm
    >>> approved_steps(pm.datasets.example_catalog())[["activity", "position", "next_activity"]]
        activity  position next_activity
    0  Tiếp nhận         0     Thẩm định
    1  Thẩm định         1     Phê duyệt
    2  Phê duyệt         2          <NA>
    """
    paths = approved_paths(catalog)
    extra = [column for column in ("grade", "depends_on") if column in catalog.columns]
    rows = catalog.assign(procedure=catalog["procedure"].astype(str))
    rows = rows.assign(activity=rows["activity"].astype(str)).sort_values("step", kind="stable")
    rows = rows.drop_duplicates(["procedure", "activity"])[["procedure", "activity", *extra]]
    paths = paths.merge(
        rows.astype({"procedure": paths["procedure"].dtype, "activity": paths["activity"].dtype}),
        on=["procedure", "activity"],
        how="left",
    )
    paths["grade"] = paths["grade"].astype("string") if "grade" in extra else pd.NA
    depends = paths["depends_on"] if "depends_on" in extra else pd.Series(pd.NA, paths.index)
    named = depends_on_steps(depends).groupby(level=0).agg(frozenset)
    paths["depends_on"] = [named.get(row) for row in paths.index]  # None: not stated
    by_procedure = paths.groupby("procedure", sort=False)
    paths["position"] = by_procedure.cumcount()
    for column in ("activity", "department", "step", "depends_on"):
        paths[f"next_{column}"] = by_procedure[column].shift(-1)
    return paths


def _steps(events: pd.DataFrame, approved: pd.DataFrame) -> pd.DataFrame:
    """The step events in (case, time) order — ``row``, their position in ``events`` — with
    their sojourn since the case's previous step, whether the case did the activity before
    (``seen_before``), the next step's activity code (``next_code``, -1 at the end) and whether
    the next step repeats an earlier activity, and whether the step is on its procedure's
    approved path (a case is its ``case_no``; :attr:`Facts.case_ids` names them)."""
    keep = ~events["side_copy"].to_numpy(dtype=bool)
    lifecycle = events["lifecycle"].astype("category")  # coded in an events table: no copy
    if lifecycle.notna().any():  # start events are not steps; their complete is
        complete = [i for i, name in enumerate(lifecycle.cat.categories) if name == "complete"]
        keep &= lifecycle.isna().to_numpy() | np.isin(lifecycle.cat.codes.to_numpy(), complete)
    rows = np.flatnonzero(keep)
    case = events["case_no"].to_numpy()[rows]
    order = sequences.case_order(case, events["idx"].to_numpy()[rows])
    rows, case = (rows, case) if order is None else (rows[order], case[order])
    columns = ["idx", "case_no", "procedure", "activity", "department", "resource"]
    steps = events[columns].iloc[rows].reset_index(drop=True)
    same = np.r_[False, case[1:] == case[:-1]]
    wm = events["wm"].to_numpy(dtype="float64", na_value=np.nan)[rows]
    code = steps["activity"].cat.codes.to_numpy(np.int64)
    width = len(steps["activity"].cat.categories) + 1
    seen = ~_firsts(case.astype(np.int64) * width + code)
    followed = np.r_[same[1:], False]
    key = _keys(steps)
    # A case's first step at each (procedure, activity): its first of the activity, unless
    # the log changes a case's procedure midway.
    procedure = steps["procedure"].cat.codes.to_numpy()
    starts = np.maximum.accumulate(np.where(same, 0, np.arange(len(case))))
    if np.array_equal(procedure, procedure[starts]):
        first_at_key = ~seen
    else:
        first_at_key = _firsts(case.astype(np.int64) * (int(key.max(initial=0)) + 2) + key + 1)
    return steps.assign(
        first_at_key=first_at_key,
        row=rows,
        sojourn=np.where(same, wm - np.r_[np.nan, wm[:-1]], np.nan),
        seen_before=seen,
        next_code=np.where(followed, np.r_[code[1:], -1], -1),
        next_seen=followed & np.r_[seen[1:], False],
        key=key,
        approved=np.isin(key, _keys(approved, like=steps)),
    )


def _firsts(keys: np.ndarray) -> np.ndarray:
    """Whether each value is the first of its equals in order. Keys of steps in case order are
    nearly sorted already, which a stable sort (Timsort) takes in a few passes: a few times
    quicker than hashing ten million of them."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    first = np.ones(len(keys), dtype=bool)
    first[order[1:]] = ordered[1:] != ordered[:-1]
    return first


def _keys(frame: pd.DataFrame, like: pd.DataFrame | None = None) -> np.ndarray:
    """One integer per (procedure, activity) in the codes of ``like``'s (default: ``frame``'s)
    categorical columns; -1 for a pair whose procedure or activity ``like`` never has."""
    like = frame if like is None else like
    codes = [
        frame[column].cat.codes.to_numpy()
        if like is frame
        else pd.Categorical(frame[column].astype(object), dtype=like[column].dtype).codes
        for column in ("procedure", "activity")
    ]
    width = len(like["activity"].cat.categories) + 1
    key = codes[0].astype(np.int64) * width + codes[1]
    return np.where((codes[0] < 0) | (codes[1] < 0), -1, key)


def _trip_steps(
    events: pd.DataFrame, bounces: pd.DataFrame, steps: pd.DataFrame, catalog: pd.DataFrame
) -> pd.DataFrame:
    """The steps inside excess round trips (:func:`procmine.whatif.round_trip_events`, the one
    definition that ``end_pingpong`` replays), one row per (bounce, step): the bounce's
    procedure and pair, the bounce (its row label), the step (its row in ``steps``), case_no,
    idx, activity and whether it is extra."""
    trips = round_trip_events(events, bounces, catalog)
    step_at = np.full(len(events), -1, dtype=np.int64)
    step_at[steps["row"].to_numpy()] = np.arange(len(steps))
    step = step_at[trips["row"].to_numpy()]
    trips, step = trips[step >= 0], step[step >= 0]  # start events and side copies are no steps
    bounce = bounces[["procedure", "department_a", "department_b"]].iloc[trips["bounce"]]
    return bounce.reset_index(drop=True).assign(
        bounce=trips["bounce"].to_numpy(),
        step=step,
        case_no=steps["case_no"].to_numpy()[step],
        idx=steps["idx"].to_numpy()[step],
        activity=steps["activity"].iloc[step].to_numpy(),
        extra=trips["extra"].to_numpy(),
    )


# ----------------------------------------------------------------------------- the words
def _hours(minutes: float) -> str:
    return format_number(minutes / 60, digits=0 if abs(minutes) >= 600 else 1)


def _quoted(activity: str) -> str:
    return f"“{activity}”"


def _candidate(
    procedure: str,
    measure: str,
    change: dict[str, Any],
    evidence: dict[str, Any],
    words: tuple[str, str],
    case_ids: Iterable[str],
    activities: Iterable[str] = (),
    departments: Iterable[str] = (),
) -> dict[str, Any]:
    """One candidate row (before its id and saving); ``words`` are its title and evidence text."""
    title, text = (unicodedata.normalize("NFC", part) for part in words)
    return {
        "procedure": procedure,
        "measure": measure,
        "title": title,
        "activities": tuple(activities),
        "departments": tuple(departments),
        "change": change,
        "evidence": {key: _plain(value) for key, value in evidence.items()},
        "evidence_text": text,
        "case_ids": tuple(case_ids),
    }


def _plain(value: Any) -> Any:
    """A figure as a plain Python value (evidence dicts are read, printed, written to YAML)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def _case_ids(facts: Facts, keys: Iterable[int], where: Any = True) -> dict[int, tuple]:
    """The sorted case ids of the steps at each of ``keys`` (and ``where``), by key."""
    key = facts.steps["key"].to_numpy()
    rows = np.flatnonzero(np.isin(key, np.fromiter(keys, dtype=np.int64)) & where)
    rows = rows[np.argsort(key[rows], kind="stable")]
    found, starts = np.unique(key[rows], return_index=True)
    if not len(rows):
        return {}
    case_no = facts.steps["case_no"].to_numpy()
    return {
        int(k): facts.case_ids(case_no[part])
        for k, part in zip(found, np.split(rows, starts[1:]), strict=True)
    }


def _matching(activities: pd.Series, names: Iterable[str]) -> np.ndarray:
    """Which of a few activity names (not events) match ``names`` by the vocabulary's rule."""
    return np.array(vocabulary.matches(activities, names), dtype=bool)


def _approved_stats(facts: Facts) -> pd.DataFrame:
    """The approved steps observed in the log with their figures and their procedure's."""
    approved = facts.approved.astype({"procedure": str, "activity": str})
    stats = approved.merge(
        facts.activities[facts.activities["approved"]].drop(columns="departments"),
        on=["procedure", "activity"],
    )
    return stats.merge(facts.procedures, on="procedure", suffixes=("", "_procedure"))


# ----------------------------------------------------------------------------- the rules
def _end_pingpong(facts: Facts, costs: Any) -> list[dict[str, Any]]:
    settings = costs.measure("end_pingpong")
    least, share = settings["min_excess_bounces"], settings["min_case_share"]
    pairs, pair = _bounced_pairs(facts.bounces)
    pairs = pairs[pairs["excess_bounces"] >= least]
    pairs = pairs.merge(facts.procedures, on="procedure", suffixes=("", "_procedure"))
    pairs = pairs[pairs["pingpong_cases"] >= share * pairs["cases"]]
    # The extra steps of each pair's round trips (a step in two of them counts once).
    of_bounce = np.full(int(facts.bounces.index.to_numpy().max(initial=-1)) + 1, -1, np.int64)
    of_bounce[facts.bounces.index.to_numpy()] = pair
    extra = facts.trips[facts.trips["extra"].to_numpy()]
    extra_pair = of_bounce[extra["bounce"].to_numpy()]
    case_no = facts.bounces["case_no"].to_numpy()
    found = []
    for row in pairs.itertuples(index=False):
        a, b = row.department_a, row.department_b
        trips = extra[extra_pair == row.pair]
        evidence = {
            "excess_bounces": row.excess_bounces,
            "pingpong_cases": row.pingpong_cases,
            "working_hours_lost": row.minutes_lost / 60,
            "extra_events": len(np.unique(trips["idx"].to_numpy())),
            "case_share": row.pingpong_cases / row.cases,
            "min_excess_bounces": least,
            "min_case_share": share,
        }
        text = (
            f"{format_number(row.excess_bounces)} lần chuyển qua lại vượt quy trình giữa {a} "
            f"và {b} trong {format_number(row.pingpong_cases)} hồ sơ, mất "
            f"{_hours(row.minutes_lost)} giờ làm việc"
        )
        found.append(
            _candidate(
                row.procedure,
                "end_pingpong",
                {"kind": "end_pingpong", "pair": [a, b]},
                evidence,
                (f"Chấm dứt chuyển qua lại giữa {a} và {b}", text),
                facts.case_ids(case_no[pair == row.pair]),
                sorted(str(name) for name in pd.unique(trips["activity"])),
                (a, b),
            )
        )
    return found


def _bounced_pairs(bounces: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Per (procedure, department_a, department_b) of the excess bounces, in that order: pair
    (its number), excess_bounces, pingpong_cases, minutes_lost; and each bounce's pair."""
    keys = ("procedure", "department_a", "department_b")
    factorized = [pd.factorize(bounces[key].astype(str), sort=True) for key in keys]
    codes, names = [found[0] for found in factorized], [found[1] for found in factorized]
    sizes = [max(len(values), 1) for values in names]
    pair = (codes[0].astype(np.int64) * sizes[1] + codes[1]) * sizes[2] + codes[2]
    lost = bounces["minutes_lost"].groupby(pair).sum()  # one sum per pair, in time order
    numbers = lost.index.to_numpy(dtype=np.int64)
    case_no = bounces["case_no"].to_numpy(np.int64)
    cases = np.unique(pair * (int(case_no.max(initial=0)) + 1) + case_no)
    cases //= int(case_no.max(initial=0)) + 1
    table = pd.DataFrame(
        {
            "procedure": np.asarray(names[0], dtype=object)[numbers // (sizes[1] * sizes[2])],
            "department_a": np.asarray(names[1], dtype=object)[numbers // sizes[2] % sizes[1]],
            "department_b": np.asarray(names[2], dtype=object)[numbers % sizes[2]],
            "pair": numbers,
            "excess_bounces": np.bincount(np.searchsorted(numbers, pair), minlength=len(numbers)),
            "pingpong_cases": np.bincount(np.searchsorted(numbers, cases), minlength=len(numbers)),
            "minutes_lost": lost.to_numpy(dtype="float64"),
        }
    )
    return table, pair


def _remove_check(facts: Facts, costs: Any) -> list[dict[str, Any]]:
    most = costs.measure("remove_check")["max_return_share"]
    stats = _approved_stats(facts)
    stats = stats[_matching(stats["activity"], costs.check_activities)]
    steps = facts.steps
    categories = steps["activity"].cat.categories
    returns = np.flatnonzero(vocabulary.matches(categories, costs.return_activities))
    sent_back = np.isin(steps["next_code"].to_numpy(), returns) | steps["next_seen"].to_numpy()
    at_check = np.isin(steps["key"].to_numpy(), stats["key"].to_numpy())
    returned = steps[at_check & sent_back].groupby("key")["case_no"].nunique()
    stats = stats.assign(returned_cases=stats["key"].map(returned).fillna(0).astype(int))
    stats = stats[stats["returned_cases"] <= most * stats["cases"]]
    case_ids = _case_ids(facts, stats["key"])
    found = []
    for step in stats.itertuples(index=False):
        share = step.returned_cases / step.cases
        evidence = {
            "cases": step.cases,
            "returned_cases": step.returned_cases,
            "return_share": share,
            "max_return_share": most,
        }
        returned = (
            f"{format_number(step.returned_cases)} trong {format_number(step.cases)} hồ sơ"
            if step.returned_cases
            else f"không hồ sơ nào trong {format_number(step.cases)} hồ sơ"
        )
        text = (
            f"Sau bước {_quoted(step.activity)} ({step.department}), {returned} "
            f"({format_percent(share)}) bị trả lại hoặc phải làm lại "
            f"(ngưỡng {format_percent(most)})"
        )
        found.append(
            _candidate(
                step.procedure,
                "remove_check",
                {"kind": "remove_step", "activity": step.activity},
                evidence,
                (f"Bỏ bước kiểm tra {_quoted(step.activity)}", text),
                case_ids[step.key],
                (step.activity,),
                (step.department,),
            )
        )
    return found


def _adjacent(facts: Facts, same_department: bool) -> tuple[pd.DataFrame, list[np.ndarray]]:
    """Consecutive approved steps (of one department, or of two), and per pair the cases having
    both: the rows in ``facts.steps`` of the first occurrence of each of the two in those cases
    (an array of two rows: first, second), in the order of the pairs."""
    steps, pairs = facts.steps, facts.approved[facts.approved["next_activity"].notna()]
    same = (pairs["department"] == pairs["next_department"]).fillna(False).to_numpy(dtype=bool)
    pairs = pairs[same == same_department]
    pairs = pairs.assign(
        first_key=_keys(pairs, like=steps),
        second_key=_keys(pairs.assign(activity=pairs["next_activity"]), like=steps),
    ).astype({"procedure": str, "activity": str, "next_activity": str})
    pairs = pairs[(pairs["first_key"] >= 0) & (pairs["second_key"] >= 0)].reset_index(drop=True)
    # Each case's first step at each key of the pairs, looked up by (case, key).
    key, case_no = steps["key"].to_numpy(), steps["case_no"].to_numpy(np.int64)
    wanted = np.union1d(pairs["first_key"].to_numpy(), pairs["second_key"].to_numpy())
    rows = np.flatnonzero(steps["first_at_key"].to_numpy() & np.isin(key, wanted))
    width = int(key.max(initial=0)) + 1
    looked_up = case_no[rows] * width + key[rows]
    order = np.argsort(looked_up, kind="stable")  # nearly in order: cases are
    looked_up, by_case = looked_up[order], rows[order]
    small = key[rows].astype(np.int16) if width < 2**15 else key[rows]  # a radix sort
    by_key = rows[np.argsort(small, kind="stable")]  # each key's firsts in case order
    starts = np.searchsorted(key[by_key], wanted)
    ends = np.r_[starts[1:], len(by_key)][: len(starts)]
    bounds = {k: (low, high) for k, low, high in zip(wanted.tolist(), starts, ends, strict=True)}
    both = []
    for first, second in zip(pairs["first_key"], pairs["second_key"], strict=True):
        low, high = bounds[first]
        firsts = by_key[low:high]
        target = case_no[firsts] * width + second
        at = np.minimum(np.searchsorted(looked_up, target), max(len(looked_up) - 1, 0))
        hit = looked_up[at] == target if len(looked_up) else np.zeros(len(firsts), bool)
        both.append(np.stack([firsts[hit], by_case[at[hit]]]))
    return pairs, both


def _merge_steps(facts: Facts, costs: Any) -> list[dict[str, Any]]:
    least = costs.measure("merge_steps")["min_same_official_share"]
    pairs, both = _adjacent(facts, same_department=True)
    resource = facts.steps["resource"].cat.codes.to_numpy()
    same = [int(np.sum((resource[f] == resource[s]) & (resource[f] >= 0))) for f, s in both]
    pairs = pairs.assign(cases=[rows.shape[1] for rows in both], same_cases=same)
    chosen = (pairs["cases"] > 0) & (pairs["same_cases"] >= least * pairs["cases"])
    case_no = facts.steps["case_no"].to_numpy()
    found = []
    for number in np.flatnonzero(chosen.to_numpy()):
        pair = pairs.iloc[number]
        first, second = pair["activity"], pair["next_activity"]
        share = pair["same_cases"] / pair["cases"]
        evidence = {
            "cases": pair["cases"],
            "same_official_cases": pair["same_cases"],
            "same_official_share": share,
            "min_same_official_share": least,
        }
        text = (
            f"Hai bước liền nhau {_quoted(first)} và {_quoted(second)} cùng do "
            f"{pair['department']} thực hiện; {format_number(pair['same_cases'])} trong "
            f"{format_number(pair['cases'])} hồ sơ ({format_percent(share)}) do cùng một cán bộ "
            "làm cả hai bước"
        )
        found.append(
            _candidate(
                pair["procedure"],
                "merge_steps",
                {"kind": "merge_steps", "activities": [first, second]},
                evidence,
                (f"Gộp bước {_quoted(first)} và {_quoted(second)}", text),
                facts.case_ids(case_no[both[number][0]]),
                (first, second),
                (pair["department"],),
            )
        )
    return found


def _parallel(facts: Facts, costs: Any) -> list[dict[str, Any]]:
    if "depends_on" not in facts.catalog.columns:
        return []
    pairs, both = _adjacent(facts, same_department=False)
    sojourn, case_no = facts.steps["sojourn"].to_numpy(), facts.steps["case_no"].to_numpy()
    found = []
    for number, pair in enumerate(pairs.itertuples(index=False)):
        needs, (firsts, seconds) = pair.next_depends_on, both[number]
        if needs is None or pair.step in needs or not len(firsts):  # per catalog step
            continue
        first, second = pair.activity, pair.next_activity
        overlap = np.fmin(sojourn[firsts], sojourn[seconds])
        overlap = float(np.mean(overlap[~np.isnan(overlap)])) if (~np.isnan(overlap)).any() else 0.0
        named = "; ".join(str(step) for step in sorted(needs)) or "không"
        evidence = {
            "cases": len(firsts),
            "mean_overlap_working_hours": overlap / 60,
            "later_depends_on": sorted(needs),
        }
        text = (
            f"Theo quy trình, bước {_quoted(second)} ({pair.next_department}) không cần kết quả "
            f"của bước {_quoted(first)} ({pair.department}) (chỉ cần bước {named}); "
            f"{format_number(len(firsts))} hồ sơ làm hai bước nối tiếp nhau, làm song song rút "
            f"ngắn trung bình {_hours(overlap)} giờ làm việc mỗi hồ sơ"
        )
        found.append(
            _candidate(
                pair.procedure,
                "parallel",
                {"kind": "parallel", "activities": [first, second]},
                evidence,
                (f"Thực hiện song song {_quoted(first)} và {_quoted(second)}", text),
                facts.case_ids(case_no[firsts]),
                (first, second),
                (pair.department, pair.next_department),
            )
        )
    return found


def leadership_grade(grades: Iterable[object], costs: Any) -> np.ndarray:
    """Whether each grade is one of ``costs.leadership_grades`` (compared as
    :func:`procmine.vocabulary.normal_name` compares names): the signatures the
    ``delegate_signing`` rule looks at. Meant for a catalog's steps, not for every event.

    >>> leadership_grade(["Phó Chủ tịch", "chuyên viên", None], read_costs()).tolist()
    [True, False, False]
    """
    leaders = {vocabulary.normal_name(grade) for grade in costs.leadership_grades}
    names = [isinstance(g, str) and vocabulary.normal_name(g) in leaders for g in grades]
    return np.array(names, dtype=bool)


def _delegate_signing(facts: Facts, costs: Any) -> list[dict[str, Any]]:
    least = costs.measure("delegate_signing")["min_time_share"]
    target = costs.delegate_to_grade
    stats = _approved_stats(facts)
    led = leadership_grade(stats["grade"], costs)  # per catalog step, not per event
    stats = stats[led & (stats["grade"] != target).fillna(True).to_numpy()]
    share = stats["total_sojourn"] / stats["total_sojourn_procedure"].where(lambda t: t > 0)
    stats = stats.assign(share=share)[share >= least]
    case_ids = _case_ids(facts, stats["key"])
    found = []
    for step in stats.itertuples(index=False):
        cap = float(step.median_sojourn_procedure)
        evidence = {
            "grade": step.grade,
            "cases": step.cases,
            "working_hours": step.total_sojourn / 60,
            "time_share": step.share,
            "min_time_share": least,
            "cap_working_hours": cap / 60,
        }
        text = (
            f"Bước {_quoted(step.activity)} do {step.grade} thực hiện chiếm "
            f"{format_percent(step.share)} "
            f"thời gian làm việc của thủ tục ({_hours(step.total_sojourn)} giờ làm việc trong "
            f"{format_number(step.cases)} hồ sơ; ngưỡng {format_percent(least)})"
        )
        change = {"kind": "delegate", "activity": step.activity, "to_grade": target}
        found.append(
            _candidate(
                step.procedure,
                "delegate_signing",
                {**change, "cap_minutes": cap},
                evidence,
                (f"Ủy quyền ký {_quoted(step.activity)} cho {target}", text),
                case_ids[step.key],
                (step.activity,),
                (step.department,),
            )
        )
    return found


def _cut_waiting(facts: Facts, costs: Any) -> list[dict[str, Any]]:
    ratio = costs.measure("cut_waiting")["min_ratio"]
    stats = _approved_stats(facts)
    typical = stats["median_sojourn_procedure"]
    stats = stats[(typical > 0) & (stats["median_sojourn"] >= ratio * typical)]
    key, sojourn = facts.steps["key"].to_numpy(), facts.steps["sojourn"].to_numpy()
    capped = stats.set_index("key")["median_sojourn_procedure"].sort_index()
    at = np.isin(key, capped.index.to_numpy())
    cap = np.full(len(key), np.nan)
    cap[at] = capped.to_numpy()[np.searchsorted(capped.index.to_numpy(), key[at])]
    over = sojourn > cap
    above = pd.Series(sojourn[over] - cap[over]).groupby(key[over]).sum()
    case_ids = _case_ids(facts, stats["key"], over)
    found = []
    for step in stats.itertuples(index=False):
        cap, waited = float(step.median_sojourn_procedure), float(above.get(step.key, 0.0))
        evidence = {
            "cases": step.cases,
            "median_working_hours": step.median_sojourn / 60,
            "procedure_median_working_hours": cap / 60,
            "ratio": step.median_sojourn / cap,
            "min_ratio": ratio,
            "cases_over_cap": len(case_ids.get(step.key, ())),
            "working_hours_over_cap": waited / 60,
        }
        text = (
            f"Thời gian lưu trung vị tại bước {_quoted(step.activity)} là "
            f"{_hours(step.median_sojourn)} giờ làm việc, gấp "
            f"{format_number(evidence['ratio'], digits=1)} "
            f"lần trung vị của thủ tục ({_hours(cap)} giờ); "
            f"{format_number(evidence['cases_over_cap'])} hồ sơ chờ lâu hơn mức này, tổng cộng "
            f"{_hours(waited)} giờ làm việc vượt mức"
        )
        found.append(
            _candidate(
                step.procedure,
                "cut_waiting",
                {"kind": "cap_waiting", "activity": step.activity, "cap_minutes": cap},
                evidence,
                (f"Giảm thời gian chờ tại bước {_quoted(step.activity)}", text),
                case_ids.get(step.key, ()),
                (step.activity,),
                (step.department,),
            )
        )
    return found


def _shorten_deadline(facts: Facts, costs: Any) -> list[dict[str, Any]]:
    most = costs.measure("shorten_deadline")["max_p90_share"]
    deadlines = deadline_tables(facts.catalog)[0].astype({"procedure": str})
    cases = facts.on_time.dropna(subset=["working_days"]).astype({"procedure": str, "case_id": str})
    cases = cases[cases["procedure"].isin(facts.procedures["procedure"])]
    per = cases.groupby("procedure").agg(
        cases=("case_id", "size"),
        p90=("working_days", lambda days: days.quantile(0.9)),
        on_time_rate=("on_time", "mean"),
    )
    per = per.reset_index().merge(deadlines, on="procedure")
    # Rounded first: a 90th percentile of 12.0000001 working days is 12 as a deadline.
    per["new_deadline"] = np.maximum(1.0, np.ceil(per["p90"].round(6)))
    deadline = per["deadline_working_days"]
    per = per[(per["p90"] <= most * deadline) & (per["new_deadline"] < deadline)]
    chosen = cases[cases["procedure"].isin(per["procedure"]).to_numpy()]
    case_ids = chosen.groupby("procedure")["case_id"].agg(lambda ids: tuple(sorted(ids)))
    found = []
    for row in per.itertuples(index=False):
        old, new = row.deadline_working_days, int(row.new_deadline)
        evidence = {
            "cases": row.cases,
            "p90_working_days": row.p90,
            "deadline_working_days": old,
            "p90_share": row.p90 / old,
            "max_p90_share": most,
            "on_time_rate": row.on_time_rate,
        }
        text = (
            f"90% hồ sơ (trên {format_number(row.cases)} hồ sơ) hoàn thành trong "
            f"{format_number(row.p90, digits=1)} ngày làm việc, chỉ bằng "
            f"{format_percent(row.p90 / old)} thời hạn "
            f"{_days(old)} ngày làm việc (ngưỡng {format_percent(most)})"
        )
        title = f"Rút ngắn thời hạn giải quyết từ {_days(old)} xuống {new} ngày làm việc"
        found.append(
            _candidate(
                row.procedure,
                "shorten_deadline",
                {"kind": "set_deadline", "deadline_working_days": new},
                evidence,
                (title, text),
                case_ids[row.procedure],
            )
        )
    return found


def _days(days: float) -> str:
    return format_number(days, digits=0 if float(days).is_integer() else 1)


def _drop_extra_step(facts: Facts, costs: Any) -> list[dict[str, Any]]:
    least = costs.measure("drop_extra_step")["min_case_share"]
    extra = facts.activities[~facts.activities["approved"]]
    names = extra["activity"]
    meaningful = _matching(names, [*vocabulary.EXPLANATIONS, *costs.return_activities])
    extra = extra[~meaningful & (extra["in_trip_share"] <= _MOSTLY)]
    extra = extra.merge(facts.procedures, on="procedure", suffixes=("", "_procedure"))
    extra = extra[extra["cases"] >= least * extra["cases_procedure"]]
    case_ids = _case_ids(facts, extra["key"])
    found = []
    for step in extra.itertuples(index=False):
        share = step.cases / step.cases_procedure
        evidence = {
            "cases": step.cases,
            "procedure_cases": step.cases_procedure,
            "case_share": share,
            "events": step.events,
            "in_excess_round_trips": step.in_trip_share,
            "min_case_share": least,
        }
        text = (
            f"Bước {_quoted(step.activity)} không có trong quy trình được phê duyệt nhưng được "
            f"thực hiện {format_number(step.events)} lần trong {format_number(step.cases)} trên "
            f"{format_number(step.cases_procedure)} hồ sơ ({format_percent(share)})"
        )
        found.append(
            _candidate(
                step.procedure,
                "drop_extra_step",
                {"kind": "remove_step", "activity": step.activity},
                evidence,
                (f"Bỏ bước ngoài quy trình {_quoted(step.activity)}", text),
                case_ids[step.key],
                (step.activity,),
                step.departments,
            )
        )
    return found


RULES = {
    "end_pingpong": _end_pingpong,
    "remove_check": _remove_check,
    "merge_steps": _merge_steps,
    "parallel": _parallel,
    "delegate_signing": _delegate_signing,
    "cut_waiting": _cut_waiting,
    "shorten_deadline": _shorten_deadline,
    "drop_extra_step": _drop_extra_step,
}


# --------------------------------------------------------------------------- the results
def candidate_measures(
    log: pd.DataFrame,
    catalog: pd.DataFrame,
    costs: Any = None,
    *,
    calendar: Any = None,
    deadlines: pd.DataFrame | None = None,
    bounces: pd.DataFrame | None = None,
    per_case: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The candidates the eight rules find, with their evidence but without their savings: the
    columns of :func:`simplification_candidates` up to ``cases``, then effort_person_days and
    risk, in measure_id order. ``result.attrs["notes"]`` says what was not looked for and why.

    ``log`` may be the log or its events table (``pm.event_table``); ``deadlines``
    (``pm.on_time``) and ``bounces`` (``pm.bounce_table``) of it with this catalog, when the
    caller has them, are not computed again (the same candidates), nor is the per-case table
    ``per_case`` (:func:`facts`). The example's case HS2
    bounces twice beyond its path; with ``min_excess_bounces`` at 2 that is a candidate:

    >>> import procmine as pm
    >>> costs = read_costs()
    >>> pingpong = {**costs.measure("end_pingpong"), "min_excess_bounces": 2}
    >>> costs = costs.replace(measures={**costs.measures, "end_pingpong": pingpong})
    >>> found = candidate_measures(pm.datasets.example_log(), pm.datasets.example_catalog(), costs)
    >>> found[["measure_id", "measure", "case_ids"]]
      measure_id       measure case_ids
    0       M001  end_pingpong   (HS2,)
    >>> found.loc[0, "title"]
    'Chấm dứt chuyển qua lại giữa Phòng Tư pháp và Văn phòng'
    """
    costs = read_costs() if costs is None else costs
    given = {"deadlines": deadlines, "bounces": bounces, "per_case": per_case}
    found = facts(log, catalog, calendar=calendar, **given)
    return _detected(found, costs)


def _detected(found: Facts, costs: Any) -> pd.DataFrame:
    """:func:`candidate_measures` from the facts."""
    rows = [row for rule in RULES.values() for row in rule(found, costs)]
    table = pd.DataFrame(rows, columns=list(DETECTED[1:10]))
    table["cases"] = [len(ids) for ids in table["case_ids"]]
    table = _numbered(table)
    measures = [costs.measure(kind) for kind in table["measure"]]
    table["effort_person_days"] = [float(m["effort_person_days"]) for m in measures]
    table["risk"] = pd.Series([str(m["risk"]) for m in measures], index=table.index, dtype=object)
    table = table.astype({"cases": "int64", "effort_person_days": "float64"})
    table.attrs["notes"] = _notes(found)
    return table[list(DETECTED)]


def _numbered(table: pd.DataFrame) -> pd.DataFrame:
    """The rows in a deterministic order (procedure, type, what they touch) with their ids."""
    order = pd.DataFrame(
        {
            "procedure": table["procedure"],
            "type": table["measure"].map(MEASURE_TYPES.index),
            "activities": ["\x01".join(names) for names in table["activities"]],
            "departments": ["\x01".join(names) for names in table["departments"]],
            "change": [repr(sorted(change.items())) for change in table["change"]],
        }
    ).sort_values(["procedure", "type", "activities", "departments", "change"], kind="stable")
    table = table.loc[order.index].reset_index(drop=True)
    width = max(3, len(str(len(table))))
    ids = [f"M{number:0{width}d}" for number in range(1, len(table) + 1)]
    table.insert(0, "measure_id", pd.Series(ids, index=table.index, dtype=object))
    return table


def _notes(found: Facts) -> list[str]:
    """What the rules could not look for, in words."""
    notes = []
    if "depends_on" not in found.catalog.columns:
        notes.append(
            "The catalog has no depends_on column: no 'parallel' candidate was looked for. Add "
            'the step numbers each step needs done first (e.g. "2; 3") to find steps that '
            "can run side by side."
        )
    if "grade" not in found.catalog.columns:
        notes.append(
            "The catalog has no grade column: no 'delegate_signing' candidate was looked for."
        )
    elif found.catalog["grade"].isna().any():
        notes.append("Some catalog steps have no grade: they are not looked at for signing.")
    outside = sorted(
        set(engines.distinct(found.steps["procedure"])) - set(found.approved["procedure"])
    )
    if outside:
        notes.append(
            f"{len(outside)} procedure(s) of the log are not in the catalog and get no "
            f"candidate (the universe is the catalog): {', '.join(outside[:5])}"
            + (", …" if len(outside) > 5 else "")
        )
    return notes


def simplification_candidates(
    log: pd.DataFrame,
    catalog: pd.DataFrame,
    costs: Any = None,
    *,
    calendar: Any = None,
    progress: Callable[[int, int], None] | None = None,
    events: pd.DataFrame | None = None,
    deadlines: pd.DataFrame | None = None,
    bounces: pd.DataFrame | None = None,
    per_case: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Ranked simplification candidates of the catalog's procedures: one row per concrete
    measure, its evidence and its saving (docs/CONTRACTS.md, ``candidates.py``).

    Columns: measure_id (stable: M001, … in the order procedure, type, what it touches),
    procedure, measure (one of :data:`MEASURE_TYPES`), title, activities, departments, change
    (the what-if vocabulary), evidence (dict), evidence_text (Vietnamese), case_ids, cases,
    saving_yearly (VND) with saving_yearly_low/high (95% bootstrap over cases), saving_share,
    working_days_saved (mean per case), on_time_rate_before/after, effort_person_days, risk.
    The saving of each row is the what-if replay of that measure alone; rows are ranked by
    saving_yearly, then working_days_saved.

    ``result.attrs``: "cost" (:func:`procmine.cost.compliance_cost` by procedure, the costs the
    savings are measured against), "universe" (per procedure: procedure, reviewed, observed_yearly,
    prescribed_yearly, in_catalog; document where the catalog has it), "costs", "replay"
    (:class:`Replay`: joint savings of a set of one procedure's measures) and "notes" (what was
    not looked for, in words).

    The figures they build on, when the caller has them, are not computed again (the same
    result): ``events``, the log's events table (``pm.event_table(log, calendar)``; ``log``
    itself is still needed: the replays edit it), and of it with this catalog ``deadlines``
    (``pm.on_time``) and ``bounces`` (``pm.bounce_table``), or instead of ``deadlines`` the
    per-case table ``per_case`` that ``pm.on_time`` reads (:func:`facts`).

    The example's ping-pong (case HS2), with ``min_excess_bounces`` lowered to 2:

    >>> import procmine as pm
    >>> costs = read_costs()
    >>> pingpong = {**costs.measure("end_pingpong"), "min_excess_bounces": 2}
    >>> costs = costs.replace(measures={**costs.measures, "end_pingpong": pingpong})
    >>> log, catalog = pm.datasets.example_log(), pm.datasets.example_catalog()
    >>> found = simplification_candidates(log, catalog, costs)
    >>> found.loc[0, "evidence_text"]
    '2 lần chuyển qua lại vượt quy trình giữa Phòng Tư pháp và Văn phòng trong 1 hồ sơ, mất 28 \
giờ làm việc'
    >>> round(float(found.loc[0, "working_days_saved"]), 3), bool(found.loc[0, "saving_yearly"] > 0)
    (0.229, True)

    With the figures an analysis already has (the same table):

    >>> events = pm.event_table(log)
    >>> given = simplification_candidates(log, catalog, costs, events=events,
    ...     deadlines=pm.on_time(events, catalog), bounces=pm.bounce_table(events, catalog))
    >>> given["saving_yearly"].equals(found["saving_yearly"])
    True
    """
    schema.require_columns(log, schema.REQUIRED, what="the log (the replay edits the log)")
    costs = read_costs() if costs is None else costs
    if events is None:
        calendar = engines.own_clock(log) if calendar is None else calendar
    else:
        calendar = engines.same_clock(log_events(events, log), calendar)
    given = {"events": events, "deadlines": deadlines, "bounces": bounces, "per_case": per_case}
    table, costed, replayer = _detected_and_replayer(log, catalog, costs, calendar, **given)
    notes = table.attrs["notes"]
    saved = _savings(replayer, table, progress)
    table = _ranked(table.merge(saved, on="measure_id", how="left", validate="one_to_one"))
    result = table[list(COLUMNS)].reset_index(drop=True)
    measures = table[["measure_id", "procedure", "change", "on_time_rate_before"]]
    result.attrs = {
        "cost": costed,
        "universe": _universe(costed, catalog),
        "costs": costs,
        "replay": Replay(
            log, catalog, measures.to_dict("records"), replayer.costs, calendar, replayer=replayer
        ),
        "notes": notes,
    }
    return result


def _ranked(table: pd.DataFrame) -> pd.DataFrame:
    """The candidates ranked on whole VND saved a year (a time-only measure's replayed saving
    is 0 up to rounding noise), then on the working days they save, then by measure id."""
    order = table.assign(rank_vnd=table["saving_yearly"].round(0)).sort_values(
        ["rank_vnd", "working_days_saved", "measure_id"],
        ascending=[False, False, True],
        kind="stable",
        na_position="last",
    )
    return table.loc[order.index]


def _detected_and_replayer(
    log: pd.DataFrame,
    catalog: pd.DataFrame,
    costs: Any,
    calendar: Any,
    *,
    events: pd.DataFrame | None = None,
    deadlines: pd.DataFrame | None = None,
    bounces: pd.DataFrame | None = None,
    per_case: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, Replayer]:
    """The candidates (:func:`candidate_measures`), the compliance cost by procedure they are
    measured against, and the replayer of their savings (its costs with the runs a year
    fixed). One events table (``events``, when given) serves the detection, the cost and the
    figures before the replays, and one bounce table the detection and the replays."""
    events, calendar = engines.clocked(log if events is None else events, calendar)
    given = {"deadlines": deadlines, "bounces": bounces, "per_case": per_case}
    found = facts(events, catalog, calendar=calendar, **given)
    table = _detected(found, costs)
    costed = compliance_cost(events, catalog, costs, by="procedure", calendar=calendar)
    # Runs a year are the whole log's: named once, so no replay computes them again.
    runs = costed.drop_duplicates("procedure").set_index("procedure")["runs_per_year"]
    runs = runs[np.isfinite(runs.astype(float))]  # none for a log received in one instant
    replayed = costs.replace(
        runs_per_year=runs.astype(float).to_dict() | dict(costs.runs_per_year or {})
    )
    before = None
    if len(table):  # a case's figures are its own: the whole log's once, not each procedure's
        # The cost by procedure is costed's: the runs a year fixed at its own.
        before = observed_figures(
            events, catalog, replayed, calendar=calendar, deadlines=found.on_time, cost=costed
        )
    # One replayer for every replay: each procedure's events and figures before are read once.
    replayer = Replayer(
        log, catalog, replayed, calendar=calendar, bounces=found.bounces, before=before,
        events=events,
    )  # fmt: skip
    return table, costed, replayer


def _savings(
    replayer: Replayer,
    table: pd.DataFrame,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Each measure's saving, replayed alone: measures of different procedures replay
    independently, so one what-if takes one measure of each procedure (round r: the r-th of
    each), as :func:`procmine.whatif.what_if` on the log would. ``progress`` is told the
    measures replayed so far and their total after each round."""
    rounds = table.groupby("procedure", sort=False).cumcount()
    parts = [pd.DataFrame({"measure_id": pd.Series(dtype=object)} | dict.fromkeys(SAVINGS, 0.0))]
    count = int(rounds.max()) + 1 if len(table) else 0
    batches = [table[(rounds == n).to_numpy()] for n in range(count)]
    columns = ["measure_id", "procedure", "change"]
    measures = [batch[columns].to_dict("records") for batch in batches]
    replays = zip(batches, replayer.what_ifs(measures), strict=True)
    for number, (batch, replayed) in enumerate(replays):
        parts.append(
            batch[["measure_id", "procedure"]]
            .merge(replayed, on="procedure", how="left")
            .assign(
                working_days_saved=lambda t: t["working_days_before"] - t["working_days_after"]
            )[["measure_id", *SAVINGS]]
        )
        if progress is not None:
            progress(int((rounds <= number).sum()), len(table))
    return pd.concat(parts, ignore_index=True).astype({key: "float64" for key in SAVINGS})


def _universe(costed: pd.DataFrame, catalog: pd.DataFrame) -> pd.DataFrame:
    """The universe from the compliance cost by procedure and the catalog's review dates (and
    its approving ``document``, where the catalog has the column)."""
    reviewed = catalog.get("reviewed", pd.Series(pd.NA, index=catalog.index)).notna()
    reviewed = reviewed.groupby(catalog["procedure"].astype(str)).any()
    rows = costed[["procedure", "observed_yearly", "prescribed_yearly", "in_catalog"]]
    rows = rows.astype({"procedure": str, "in_catalog": bool})
    rows.insert(1, "reviewed", rows["procedure"].map(reviewed).fillna(False).astype(bool))
    if "document" in catalog.columns:  # the plan names the decision to amend
        named = catalog["document"].astype("string").groupby(catalog["procedure"].astype(str))
        rows["document"] = rows["procedure"].map(named.first()).astype(object)
    rows = rows.sort_values(["in_catalog", "procedure"], ascending=[False, True], kind="stable")
    return rows.reset_index(drop=True)


class Replay:
    """The joint saving of a set of candidates of one procedure, replayed with what-if.

    Kept in ``candidates.attrs["replay"]``: pandas deep-copies ``attrs`` with the frame, and a
    replay holds the log, so a copy is the replay itself. Results are cached per set; the
    measures of a set apply in measure_id order.
    """

    def __init__(
        self,
        log: pd.DataFrame,
        catalog: pd.DataFrame,
        measures: Iterable[Mapping[str, Any]],
        costs: Any,
        calendar: Any,
        *,
        replayer: Replayer | None = None,
    ) -> None:
        self.log, self.catalog, self.costs, self.calendar = log, catalog, costs, calendar
        # A replayer reads each procedure once for all its sets (what_if would read it again
        # for each); one given must be of this log, catalog, costs and calendar.
        self.replayer = replayer or Replayer(log, catalog, costs, calendar=calendar)
        self.measures = {measure["measure_id"]: dict(measure) for measure in measures}
        self._cache: dict[tuple[str, ...], dict[str, float]] = {}

    def __deepcopy__(self, memo: dict) -> Replay:
        return self

    def __repr__(self) -> str:
        return f"Replay({len(self.measures)} measures)"

    def saving(self, procedure: str, measure_ids: Iterable[str]) -> dict[str, float]:
        """saving_yearly (VND), working_days_saved (mean per case) and on_time_rate_after of
        ``measure_ids`` (all of ``procedure``) applied together."""
        ids = self._ids(procedure, measure_ids)
        if ids not in self._cache:
            self._cache[ids] = self._replayed(procedure, ids)
        return dict(self._cache[ids])

    def prefetch(self, sets: Iterable[tuple[str, Iterable[str]]]) -> None:
        """Replay many (procedure, measure_ids) sets ahead of :meth:`saving`, which then reads
        them: sets of different procedures replay independently, so one what-if per round
        takes one set of each procedure, and a replay's fixed cost is paid once a round."""
        pending: dict[str, list[tuple[str, ...]]] = {}
        for procedure, measure_ids in sets:
            ids = self._ids(procedure, measure_ids)
            waiting = pending.setdefault(procedure, [])
            if ids and ids not in self._cache and ids not in waiting:
                waiting.append(ids)
        rounds = range(max(map(len, pending.values()), default=0))
        batches = [[(p, queued[n]) for p, queued in pending.items() if n < len(queued)]
                   for n in rounds]  # fmt: skip
        chosen = [[self.measures[i] for _, ids in batch for i in ids] for batch in batches]
        for batch, replayed in zip(batches, self.replayer.what_ifs(chosen, boot=0), strict=True):
            replayed = replayed.set_index("procedure")
            for procedure, ids in batch:
                self._cache[ids] = _joint(replayed.loc[procedure])

    def _ids(self, procedure: str, measure_ids: Iterable[str]) -> tuple[str, ...]:
        """The measure ids as a sorted tuple, checked to be candidates of the procedure."""
        ids = tuple(sorted(set(measure_ids)))
        unknown = [i for i in ids if i not in self.measures]
        others = [
            i for i in ids if i in self.measures and self.measures[i]["procedure"] != procedure
        ]
        if unknown or others:
            raise KeyError(
                f"measure ids {unknown or others} are not candidates of {procedure!r}; "
                "pass ids from the candidates table's measure_id of that procedure."
            )
        return ids

    def _replayed(self, procedure: str, ids: tuple[str, ...]) -> dict[str, float]:
        if not ids:
            rates = [m["on_time_rate_before"] for m in self.measures.values()
                     if m["procedure"] == procedure]  # fmt: skip
            rate = float(rates[0]) if rates else math.nan
            return {"saving_yearly": 0.0, "working_days_saved": 0.0, "on_time_rate_after": rate}
        chosen = [self.measures[i] for i in ids]
        # No intervals: a portfolio asks for many sets and reads the point figures only.
        replayed = self.replayer.what_if(chosen, boot=0)
        return _joint(replayed.set_index("procedure").loc[procedure])


def _joint(row: pd.Series) -> dict[str, float]:
    """What :meth:`Replay.saving` returns, from a procedure's row of what-if."""
    return {
        "saving_yearly": float(row["saving_yearly"]),
        "working_days_saved": float(row["working_days_before"] - row["working_days_after"]),
        "on_time_rate_after": float(row["on_time_rate_after"]),
    }


def with_lateness_drivers(candidates: pd.DataFrame, drivers: pd.DataFrame) -> pd.DataFrame:
    """``candidates`` whose measure touches a driver of lateness carry it in their evidence
    (``evidence["lateness_drivers"]``: driver, importance, low, high, text) and say it at the
    end of ``evidence_text``. ``drivers`` is :func:`procmine.drivers.delay_drivers`' result;
    only drivers whose importance interval clears zero, of a model that clears its baseline,
    count. A driver touches a measure that ends the ping-pong on its pair, a measure on the
    step it names (the department or official at a step), and the dropping of a step not in
    the procedure (the driver "steps not in the procedure"). Loops over candidates (a few
    hundred), not events.

    >>> found = pd.DataFrame({"measure": ["end_pingpong"], "activities": [()],
    ...                       "departments": [("A", "B")], "evidence": [{}],
    ...                       "evidence_text": ["2 lần chuyển qua lại"]})
    >>> drivers = pd.DataFrame({"driver": ["chuyển qua lại giữa A | B"], "importance": [0.1],
    ...                         "low": [0.08], "high": [0.12], "text": ["41% trễ hạn"]})
    >>> drivers.attrs = {"clears": True, "drivers": [{"key": "pair", "subject": "A | B"}]}
    >>> with_lateness_drivers(found, drivers).loc[0, "evidence_text"]
    '2 lần chuyển qua lại; yếu tố trễ hạn: 41% trễ hạn'
    """
    keys = drivers.attrs.get("drivers", [])
    if not drivers.attrs.get("clears") or not len(keys) or not len(candidates):
        return candidates
    found = drivers.assign(key=[k["key"] for k in keys], subject=[k["subject"] for k in keys])
    found = found[found["low"] > 0]
    evidence, texts = [], []
    for row in candidates.itertuples(index=False):
        touched = found[[_touches(row, key, subject) for key, subject in
                         zip(found["key"], found["subject"], strict=True)]]  # fmt: skip
        entries = touched[["driver", "importance", "low", "high", "text"]].to_dict("records")
        evidence.append({**row.evidence, "lateness_drivers": entries} if entries else row.evidence)
        said = "; ".join(entry["text"] for entry in entries)
        texts.append(f"{row.evidence_text}; yếu tố trễ hạn: {said}" if said else row.evidence_text)
    return candidates.assign(evidence=evidence, evidence_text=texts)


def _touches(candidate: Any, key: str, subject: str) -> bool:
    """Whether a driver (its key and subject, :func:`procmine.drivers.delay_drivers`) is about
    what a candidate measure changes."""
    if key == "pair":
        return (
            candidate.measure == "end_pingpong"
            and " | ".join(sorted(candidate.departments)) == subject
        )
    if key in ("department_at", "official_at"):
        return subject in candidate.activities
    return key == "off_path" and candidate.measure == "drop_extra_step"
