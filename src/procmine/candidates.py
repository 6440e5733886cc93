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
from procmine.handoffs import bounce_table, department_runs
from procmine.whatif import Replayer

__all__ = [
    "COLUMNS",
    "MEASURE_TYPES",
    "Replay",
    "candidate_measures",
    "simplification_candidates",
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
    bounces and the events of their round trips, the cases per procedure, the deadlines."""

    steps: pd.DataFrame
    approved: pd.DataFrame
    bounces: pd.DataFrame
    trips: pd.DataFrame
    activities: pd.DataFrame
    procedures: pd.DataFrame
    on_time: pd.DataFrame
    catalog: pd.DataFrame


def facts(log: pd.DataFrame, catalog: pd.DataFrame, *, calendar: Any = None) -> Facts:
    """The tables the rules read, from the log (or its events table) and the catalog.

    >>> import procmine as pm
    >>> found = facts(pm.datasets.example_log(), pm.datasets.example_catalog())
    >>> found.steps[["case_id", "activity", "sojourn", "approved", "in_trip"]].iloc[3:6]
      case_id       activity  sojourn  approved  in_trip
    3     HS2      Tiếp nhận      NaN      True    False
    4     HS2      Thẩm định    240.0      True    False
    5     HS2  Trả lại hồ sơ    210.0     False     True
    """
    events, calendar = engines.clocked(log, calendar)
    events = with_catalog_procedure(events, catalog)
    approved = approved_steps(catalog)
    steps = _steps(events, approved)
    bounces = bounce_table(events, catalog)
    bounces = bounces[bounces["excess"]].reset_index(drop=True)
    pair = np.sort(bounces[["source", "target"]].to_numpy(dtype=object), axis=1)
    bounces = bounces.assign(department_a=pair[:, 0], department_b=pair[:, 1])
    trips = _trip_events(events, bounces, steps)
    steps = steps.assign(in_trip=steps["idx"].isin(trips["idx"]).to_numpy())
    activities, procedures = _stats(steps, approved)
    return Facts(
        steps=steps,
        approved=approved,
        bounces=bounces[bounces["procedure"].isin(procedures["procedure"])],
        trips=trips,
        activities=activities,
        procedures=procedures,
        on_time=on_time(events, catalog),
        catalog=catalog,
    )


def _stats(steps: pd.DataFrame, approved: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per (procedure, activity) of the catalog's procedures: key, approved, cases, events,
    median_sojourn, total_sojourn, in_trip_share, departments (tuple); and per procedure: cases,
    median_sojourn, total_sojourn (working minutes)."""
    steps = steps[steps["procedure"].isin(approved["procedure"].unique()).to_numpy()]
    sojourn = {"median_sojourn": ("sojourn", "median"), "total_sojourn": ("sojourn", "sum")}
    activities = steps.groupby(["procedure", "activity", "key", "approved"], observed=True).agg(
        cases=("case_no", "nunique"),
        events=("idx", "size"),
        in_trip_share=("in_trip", "mean"),
        **sojourn,
    )
    activities = activities.reset_index().astype({"procedure": str, "activity": str})
    done_by = steps[["key", "department"]].dropna().drop_duplicates().astype({"department": str})
    done_by = done_by.sort_values(["key", "department"]).groupby("key")["department"].agg(tuple)
    activities["departments"] = activities["key"].map(done_by)
    activities["departments"] = [
        d if isinstance(d, tuple) else () for d in activities["departments"]
    ]
    procedures = steps.groupby("procedure", observed=True).agg(
        cases=("case_no", "nunique"), **sojourn
    )
    return activities, procedures.reset_index().astype({"procedure": str})


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
    """The step events in (case, time) order with their sojourn since the case's previous step,
    whether the case did the activity before (``seen_before``), the next step's activity code
    (``next_code``, -1 at the end) and whether the next step repeats an earlier activity, and
    whether the step is on its procedure's approved path."""
    keep = ~events["side_copy"].to_numpy(dtype=bool)
    lifecycle = events["lifecycle"].astype("category")  # coded in an events table: no copy
    if lifecycle.notna().any():  # start events are not steps; their complete is
        complete = [i for i, name in enumerate(lifecycle.cat.categories) if name == "complete"]
        keep &= lifecycle.isna().to_numpy() | np.isin(lifecycle.cat.codes.to_numpy(), complete)
    columns = ["idx", "case_no", "case_id", "procedure", "activity", "department", "resource"]
    steps = events.loc[keep, [*columns, "wm"]]
    order = sequences.case_order(steps["case_no"].to_numpy(), steps["idx"].to_numpy())
    steps = (steps if order is None else steps.iloc[order]).reset_index(drop=True)
    case = steps["case_no"].to_numpy()
    same = np.r_[False, case[1:] == case[:-1]]
    wm = steps["wm"].to_numpy(dtype="float64", na_value=np.nan)
    code = steps["activity"].cat.codes.to_numpy(np.int64)
    seen = steps.groupby(["case_no", "activity"], observed=True, sort=False).cumcount().to_numpy()
    followed = np.r_[same[1:], False]
    key = _keys(steps)
    return steps.assign(
        sojourn=np.where(same, wm - np.r_[np.nan, wm[:-1]], np.nan),
        seen_before=seen > 0,
        next_code=np.where(followed, np.r_[code[1:], -1], -1),
        next_seen=followed & np.r_[seen[1:] > 0, False],
        key=key,
        approved=np.isin(key, _keys(approved, like=steps)),
    )


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


def _trip_events(events: pd.DataFrame, bounces: pd.DataFrame, steps: pd.DataFrame) -> pd.DataFrame:
    """The step events inside excess round trips — runs j + 1 and j + 2 of an excess bounce at
    j — with the bounce's procedure and pair, and whether each is extra (off the approved path,
    or an activity its case already did): what ``end_pingpong`` removes."""
    # Only the cases with an excess bounce: their runs, numbered as in the whole table.
    numbers = engines.case_ids(events).astype({"case_id": str})
    trips = bounces[["case_id", "procedure", "department_a", "department_b", "position"]]
    trips = trips.astype({"case_id": str}).merge(numbers, on="case_id")
    bounced = trips["case_no"].unique()
    runs = department_runs(events[np.isin(events["case_no"].to_numpy(), bounced)])
    runs = runs[["case_id", "run_no", "first_idx", "last_idx"]].astype({"case_id": str})
    trips = trips.assign(
        first_run=trips["position"].to_numpy(np.int64) + 1,
        last_run=trips["position"].to_numpy(np.int64) + 2,
    )
    first = runs.rename(columns={"run_no": "first_run", "first_idx": "low"})
    last = runs.rename(columns={"run_no": "last_run", "last_idx": "high"})
    trips = trips.merge(first[["case_id", "first_run", "low"]], on=["case_id", "first_run"])
    trips = trips.merge(last[["case_id", "last_run", "high"]], on=["case_id", "last_run"])
    inside = trips[["procedure", "department_a", "department_b", "case_no", "low", "high"]].merge(
        steps.loc[
            np.isin(steps["case_no"].to_numpy(), bounced),
            ["case_no", "case_id", "idx", "activity", "approved", "seen_before"],
        ],
        on="case_no",
    )
    inside = inside[(inside["idx"] >= inside["low"]) & (inside["idx"] <= inside["high"])]
    extra = ~inside["approved"].to_numpy() | inside["seen_before"].to_numpy()
    return inside.drop(columns=["low", "high", "approved", "seen_before"]).assign(extra=extra)


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


def _case_ids(steps: pd.DataFrame, keys: Iterable[int], where: Any = True) -> dict[int, tuple]:
    """The sorted case ids of the steps at each of ``keys`` (and ``where``), by key."""
    at = np.isin(steps["key"].to_numpy(), np.fromiter(keys, dtype=np.int64)) & where
    rows = steps.loc[at, ["key", "case_id"]].astype({"case_id": str}).drop_duplicates()
    return rows.sort_values(["key", "case_id"]).groupby("key")["case_id"].agg(tuple).to_dict()


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
    keys = ["procedure", "department_a", "department_b"]
    pairs = facts.bounces.groupby(keys).agg(
        excess_bounces=("case_id", "size"),
        pingpong_cases=("case_id", "nunique"),
        minutes_lost=("minutes_lost", "sum"),
    )
    pairs = pairs[pairs["excess_bounces"] >= least].reset_index()
    pairs = pairs.merge(facts.procedures, on="procedure", suffixes=("", "_procedure"))
    pairs = pairs[pairs["pingpong_cases"] >= share * pairs["cases"]]
    bounced = facts.bounces[[*keys, "case_id"]].astype({"case_id": str}).drop_duplicates()
    case_ids = bounced.sort_values([*keys, "case_id"]).groupby(keys)["case_id"].agg(tuple)
    extra = facts.trips[facts.trips["extra"]].astype({"activity": str})
    extra_events = extra.drop_duplicates([*keys, "idx"]).groupby(keys).size()
    activities = extra[[*keys, "activity"]].drop_duplicates().sort_values([*keys, "activity"])
    activities = activities.groupby(keys)["activity"].agg(tuple)
    found = []
    for pair in pairs.itertuples(index=False):
        key = (pair.procedure, pair.department_a, pair.department_b)
        a, b = pair.department_a, pair.department_b
        evidence = {
            "excess_bounces": pair.excess_bounces,
            "pingpong_cases": pair.pingpong_cases,
            "working_hours_lost": pair.minutes_lost / 60,
            "extra_events": extra_events.get(key, 0),
            "case_share": pair.pingpong_cases / pair.cases,
            "min_excess_bounces": least,
            "min_case_share": share,
        }
        text = (
            f"{format_number(pair.excess_bounces)} lần chuyển qua lại vượt quy trình giữa {a} "
            f"và {b} trong {format_number(pair.pingpong_cases)} hồ sơ, mất "
            f"{_hours(pair.minutes_lost)} giờ làm việc"
        )
        found.append(
            _candidate(
                pair.procedure,
                "end_pingpong",
                {"kind": "end_pingpong", "pair": [a, b]},
                evidence,
                (f"Chấm dứt chuyển qua lại giữa {a} và {b}", text),
                case_ids[key],
                activities.get(key, ()),
                (a, b),
            )
        )
    return found


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
    case_ids = _case_ids(steps, stats["key"])
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


def _adjacent(facts: Facts, same_department: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Consecutive approved steps (of one department, or of two), and per pair the cases having
    both: the first occurrence's official and sojourn of each (``resource_1``, ``sojourn_1``,
    ``resource_2``, ``sojourn_2``)."""
    steps, pairs = facts.steps, facts.approved[facts.approved["next_activity"].notna()]
    same = (pairs["department"] == pairs["next_department"]).fillna(False).to_numpy(dtype=bool)
    pairs = pairs[same == same_department]
    pairs = pairs.assign(
        first_key=_keys(pairs, like=steps),
        second_key=_keys(pairs.assign(activity=pairs["next_activity"]), like=steps),
    ).astype({"procedure": str, "activity": str, "next_activity": str})
    pairs = pairs[(pairs["first_key"] >= 0) & (pairs["second_key"] >= 0)]
    firsts = steps[steps["approved"]].drop_duplicates(["case_no", "key"])
    firsts = firsts[["case_no", "case_id", "key", "resource", "sojourn"]]
    both = pairs[["first_key", "second_key"]].merge(
        firsts.rename(
            columns={"key": "first_key", "resource": "resource_1", "sojourn": "sojourn_1"}
        ),
        on="first_key",
    )
    second = {"key": "second_key", "resource": "resource_2", "sojourn": "sojourn_2"}
    both = both.merge(
        firsts.drop(columns="case_id").rename(columns=second), on=["case_no", "second_key"]
    )
    return pairs, both.astype({"case_id": str}).sort_values(["first_key", "second_key", "case_id"])


def _merge_steps(facts: Facts, costs: Any) -> list[dict[str, Any]]:
    least = costs.measure("merge_steps")["min_same_official_share"]
    pairs, both = _adjacent(facts, same_department=True)
    same = (both["resource_1"] == both["resource_2"]).fillna(False).to_numpy(dtype=bool)
    per = both.assign(same=same).groupby(["first_key", "second_key"])
    pairs = pairs.merge(
        per.agg(cases=("case_no", "size"), same_cases=("same", "sum")).reset_index()
    )
    pairs = pairs[pairs["same_cases"] >= least * pairs["cases"]]
    case_ids = per["case_id"].agg(tuple)
    found = []
    for pair in pairs.itertuples(index=False):
        first, second, share = pair.activity, pair.next_activity, pair.same_cases / pair.cases
        evidence = {
            "cases": pair.cases,
            "same_official_cases": pair.same_cases,
            "same_official_share": share,
            "min_same_official_share": least,
        }
        text = (
            f"Hai bước liền nhau {_quoted(first)} và {_quoted(second)} cùng do {pair.department} "
            f"thực hiện; {format_number(pair.same_cases)} trong {format_number(pair.cases)} hồ sơ "
            f"({format_percent(share)}) do cùng một cán bộ làm cả hai bước"
        )
        found.append(
            _candidate(
                pair.procedure,
                "merge_steps",
                {"kind": "merge_steps", "activities": [first, second]},
                evidence,
                (f"Gộp bước {_quoted(first)} và {_quoted(second)}", text),
                case_ids[(pair.first_key, pair.second_key)],
                (first, second),
                (pair.department,),
            )
        )
    return found


def _parallel(facts: Facts, costs: Any) -> list[dict[str, Any]]:
    if "depends_on" not in facts.catalog.columns:
        return []
    pairs, both = _adjacent(facts, same_department=False)
    independent = [
        needs is not None and step not in needs
        for step, needs in zip(pairs["step"], pairs["next_depends_on"], strict=True)
    ]  # per catalog step, not per event
    pairs = pairs[np.array(independent, dtype=bool)]
    overlap = np.fmin(both["sojourn_1"].to_numpy(), both["sojourn_2"].to_numpy())
    per = both.assign(overlap=overlap).groupby(["first_key", "second_key"])
    pairs = pairs.merge(
        per.agg(cases=("case_no", "size"), overlap=("overlap", "mean")).reset_index()
    )
    case_ids = per["case_id"].agg(tuple)
    found = []
    for pair in pairs.itertuples(index=False):
        first, second = pair.activity, pair.next_activity
        overlap = 0.0 if math.isnan(pair.overlap) else pair.overlap
        needs = "; ".join(str(step) for step in sorted(pair.next_depends_on)) or "không"
        evidence = {
            "cases": pair.cases,
            "mean_overlap_working_hours": overlap / 60,
            "later_depends_on": sorted(pair.next_depends_on),
        }
        text = (
            f"Theo quy trình, bước {_quoted(second)} ({pair.next_department}) không cần kết quả "
            f"của bước {_quoted(first)} ({pair.department}) (chỉ cần bước {needs}); "
            f"{format_number(pair.cases)} hồ sơ làm hai bước nối tiếp nhau, làm song song rút ngắn "
            f"trung bình {_hours(overlap)} giờ làm việc mỗi hồ sơ"
        )
        found.append(
            _candidate(
                pair.procedure,
                "parallel",
                {"kind": "parallel", "activities": [first, second]},
                evidence,
                (f"Thực hiện song song {_quoted(first)} và {_quoted(second)}", text),
                case_ids[(pair.first_key, pair.second_key)],
                (first, second),
                (pair.department, pair.next_department),
            )
        )
    return found


def _delegate_signing(facts: Facts, costs: Any) -> list[dict[str, Any]]:
    least = costs.measure("delegate_signing")["min_time_share"]
    leaders = {vocabulary.normal_name(grade) for grade in costs.leadership_grades}
    target = costs.delegate_to_grade
    stats = _approved_stats(facts)
    led = [
        isinstance(grade, str) and vocabulary.normal_name(grade) in leaders
        for grade in stats["grade"]
    ]  # per catalog step, not per event
    stats = stats[np.array(led, dtype=bool) & (stats["grade"] != target).fillna(True).to_numpy()]
    share = stats["total_sojourn"] / stats["total_sojourn_procedure"].where(lambda t: t > 0)
    stats = stats.assign(share=share)[share >= least]
    case_ids = _case_ids(facts.steps, stats["key"])
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
    steps = facts.steps
    cap = steps["key"].map(stats.set_index("key")["median_sojourn_procedure"])
    over = (steps["sojourn"] > cap).to_numpy(dtype=bool)
    above = (steps["sojourn"] - cap)[over].groupby(steps["key"][over]).sum()
    case_ids = _case_ids(steps, stats["key"], over)
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
    case_ids = cases.sort_values("case_id").groupby("procedure")["case_id"].agg(tuple)
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
    case_ids = _case_ids(facts.steps, extra["key"])
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
    log: pd.DataFrame, catalog: pd.DataFrame, costs: Any = None, *, calendar: Any = None
) -> pd.DataFrame:
    """The candidates the eight rules find, with their evidence but without their savings: the
    columns of :func:`simplification_candidates` up to ``cases``, then effort_person_days and
    risk, in measure_id order. ``result.attrs["notes"]`` says what was not looked for and why.

    ``log`` may be the log or its events table (``pm.event_table``). The example's case HS2
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
    found = facts(log, catalog, calendar=calendar)
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
    """
    schema.require_columns(log, schema.REQUIRED, what="the log (the replay edits the log)")
    costs = read_costs() if costs is None else costs
    calendar = engines.own_clock(log) if calendar is None else calendar
    table = candidate_measures(log, catalog, costs, calendar=calendar)
    notes = table.attrs["notes"]
    costed = compliance_cost(log, catalog, costs, by="procedure", calendar=calendar)
    # Runs a year are the whole log's: named once, so no replay computes them again.
    runs = costed.drop_duplicates("procedure").set_index("procedure")["runs_per_year"]
    runs = runs[np.isfinite(runs.astype(float))]  # none for a log received in one instant
    replayed = costs.replace(
        runs_per_year=runs.astype(float).to_dict() | dict(costs.runs_per_year or {})
    )
    # One replayer for every replay: each procedure's events and figures before are read once.
    replayer = Replayer(log, catalog, replayed, calendar=calendar)
    saved = _savings(replayer, table, progress)
    table = table.merge(saved, on="measure_id", how="left", validate="one_to_one")
    # Ranked on whole VND: a time-only measure's replayed saving is 0 up to rounding noise,
    # and those rank by the working days they save.
    order = table.assign(rank_vnd=table["saving_yearly"].round(0)).sort_values(
        ["rank_vnd", "working_days_saved", "measure_id"],
        ascending=[False, False, True],
        kind="stable",
        na_position="last",
    )
    table = table.loc[order.index]
    result = table[list(COLUMNS)].reset_index(drop=True)
    measures = table[["measure_id", "procedure", "change", "on_time_rate_before"]]
    result.attrs = {
        "cost": costed,
        "universe": _universe(costed, catalog),
        "costs": costs,
        "replay": Replay(
            log, catalog, measures.to_dict("records"), replayed, calendar, replayer=replayer
        ),
        "notes": notes,
    }
    return result


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
    for number in range(int(rounds.max()) + 1 if len(table) else 0):
        batch = table[(rounds == number).to_numpy()]
        measures = batch[["measure_id", "procedure", "change"]].to_dict("records")
        replayed = replayer.what_if(measures)
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
        for number in range(max(map(len, pending.values()), default=0)):
            batch = [(p, queued[number]) for p, queued in pending.items() if number < len(queued)]
            chosen = [self.measures[i] for _, ids in batch for i in ids]
            replayed = self.replayer.what_if(chosen, boot=0).set_index("procedure")
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
