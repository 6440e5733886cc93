"""What-if by replay: apply simplification measures to the observed cases, recompute the figures.

A **measure** is a mapping (a row of the candidates table, or a dict) with at least ``procedure``
and ``change``, a dict whose ``kind`` is one of :data:`CHANGE_KINDS` — the one vocabulary of
changes that candidates and what-if share (docs/CONTRACTS.md, ``whatif.py``):

================================================  ===============================================
change                                            what the replay does to the procedure's cases
================================================  ===============================================
``{"kind": "remove_step", "activity": S}``        S's events removed; S's catalog row removed
``{"kind": "end_pingpong", "pair": [A, B]}``      for each excess bounce on {A, B} at position j:
                                                  the extra events of runs j + 1 and j + 2 removed
``{"kind": "merge_steps", "activities": [S1,      S2's events removed; catalog: S2's row removed,
S2]}``                                            S1's standard_minutes = max + share × min
``{"kind": "parallel", "activities": [S1, S2]}``  S2's sojourn cut by min(sojourn S1, sojourn S2)
``{"kind": "delegate", "activity": S,             catalog: S's grade → G; S's sojourns capped at c
"to_grade": G, "cap_minutes": c}``
``{"kind": "cap_waiting", "activity": S,          S's sojourns capped at c working minutes
"cap_minutes": c}``
``{"kind": "set_deadline",                        catalog: the procedure's deadline → d
"deadline_working_days": d}``
================================================  ===============================================

**Moving events earlier.** Removing an event takes its sojourn (the working time since the
previous event of its case) out of the case; cutting a sojourn by s takes s out. Every later
event of the case moves earlier by what was taken before it and at it, on the working clock:
new reading = reading − the case's cumulative removed and cut minutes up to the event, new
timestamp = ``calendar.from_working_minutes(new reading)`` (events that do not move keep their
timestamps exactly). Received and completed are the first and last remaining events; a case
whose every event is removed leaves the log. The rows stay in the log's case order, each case
in time order (a side copy, which holds no time, is placed among its case's events by its new
reading).

**Decisions** (documented in the functions below): each measure reads the cases as observed
(the bounce table, the approved path, the first occurrences) minus what the measures before it
removed, and the sojourns as the measures before it cut them; so several measures of one
procedure apply jointly, in the order given. An event without a department, or a side copy, is
in no run of the department sequence (it neither starts nor breaks one), so in no round trip:
``end_pingpong`` never removes it (:func:`round_trip_events`, the one definition the candidates'
evidence reads too).

>>> import procmine as pm
>>> log, catalog = pm.datasets.example_log(), pm.datasets.example_catalog()
>>> log2, catalog2 = apply_measures(log, catalog, [
...     {"procedure": "Cấp phép", "change": {"kind": "end_pingpong",
...                                          "pair": ["Văn phòng", "Phòng Tư pháp"]}}])
>>> log2[log2["case:concept:name"] == "HS2"][["concept:name", "time:timestamp"]]
  concept:name            time:timestamp
3    Tiếp nhận 2024-05-06 08:30:00+07:00
4    Thẩm định 2024-05-06 14:00:00+07:00
5    Phê duyệt 2024-05-09 09:00:00+07:00
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import union_categoricals

from procmine import engines, schema, sequences
from procmine.calendar import as_calendar
from procmine.catalog import (
    approved_paths,
    deadline_tables,
    depends_on_steps,
    with_catalog_procedure,
)
from procmine.cost import compliance_cost, read_costs, seen_steps, step_costs
from procmine.deadlines import on_time
from procmine.handoffs import bounce_table

__all__ = [
    "CHANGE_KINDS",
    "WHAT_IF_COLUMNS",
    "MeasureError",
    "Replayer",
    "apply_measures",
    "check_measures",
    "observed_figures",
    "round_trip_events",
    "what_if",
]

CHANGE_KINDS = (
    "remove_step", "end_pingpong", "merge_steps", "parallel", "delegate", "cap_waiting",
    "set_deadline",
)  # fmt: skip
"""The kinds of change a measure's ``change`` may name (the vocabulary of docs/CONTRACTS.md)."""

# What each kind must name beside its kind; optional keys are read where they are used.
_REQUIRED_KEYS = {
    "remove_step": ("activity",),
    "end_pingpong": ("pair",),
    "merge_steps": ("activities",),
    "parallel": ("activities",),
    "delegate": ("activity",),
    "cap_waiting": ("activity", "cap_minutes"),
    "set_deadline": ("deadline_working_days",),
}

WHAT_IF_COLUMNS = (
    "procedure", "cases", "working_days_before", "working_days_after", "working_days_after_low",
    "working_days_after_high", "observed_cost_before", "observed_cost_after",
    "observed_yearly_before", "observed_yearly_after", "saving_yearly", "saving_yearly_low",
    "saving_yearly_high", "saving_share", "on_time_rate_before", "on_time_rate_after",
    "on_time_rate_after_low", "on_time_rate_after_high",
)  # fmt: skip
"""The columns of :func:`what_if`, in order."""

# The key apply_measures keeps what it did under, in the edited log's ``attrs``.
WHATIF_ATTR = "procmine_whatif"


class MeasureError(ValueError):
    """A measure that cannot be applied: unknown kind, procedure or activity, bad parameter."""


# ------------------------------------------------------------------------- the measures
def check_measures(
    measures: Any, catalog: pd.DataFrame, log: pd.DataFrame | None = None
) -> list[dict[str, Any]]:
    """The measures as plain dicts ``{"procedure", "change", …}``, checked: each names a change
    kind of :data:`CHANGE_KINDS` with its parameters, a procedure of the catalog, and activities
    (departments, for ``end_pingpong``) of that procedure — in the catalog or, when ``log`` (a
    log or its events table) is given, in its cases; ``merge_steps`` needs both steps in the
    catalog. Otherwise a :class:`MeasureError` names the measure, what is wrong and the fix.

    ``measures`` is a list of mappings (or Series), one mapping, or a DataFrame of them (the
    candidates table); other keys are kept.

    >>> import procmine as pm
    >>> check_measures([{"procedure": "Cấp phép", "change": {"kind": "skip_step"}}],
    ...                pm.datasets.example_catalog())
    Traceback (most recent call last):
    ...
    procmine.whatif.MeasureError: measure 1 (procedure 'Cấp phép'): unknown change kind \
'skip_step'; use one of remove_step, end_pingpong, merge_steps, parallel, delegate, \
cap_waiting, set_deadline.
    """
    return _checked_against(measures, catalog, None if log is None else _log_names(log, catalog))


def _checked_against(
    measures: Any, catalog: pd.DataFrame, log_names: pd.DataFrame | None
) -> list[dict[str, Any]]:
    """:func:`check_measures` with the log's names (:func:`_log_names`) given."""
    schema.require_columns(catalog, ("procedure", "step", "activity"), what="the catalog")
    names = _catalog_names(catalog)
    procedures = frozenset(names["procedure"])
    if log_names is not None:
        names = pd.concat([names, log_names], ignore_index=True)
    return [
        _checked(number, measure, procedures, names)
        for number, measure in enumerate(_as_list(measures), start=1)
    ]


def _as_list(measures: Any) -> list[Mapping[str, Any]]:
    """The measures given as a list of mappings."""
    if measures is None:
        return []
    if isinstance(measures, pd.DataFrame):
        return measures.to_dict("records")
    if isinstance(measures, Mapping | pd.Series):
        measures = [measures]
    rows = [m.to_dict() if isinstance(m, pd.Series) else m for m in measures]
    bad = [i for i, m in enumerate(rows, start=1) if not isinstance(m, Mapping)]
    if bad:
        raise MeasureError(
            f"measure {bad[0]} is a {type(rows[bad[0] - 1]).__name__}, not a mapping: give each "
            "measure as {'procedure': ..., 'change': {'kind': ..., ...}} (or the candidates table)."
        )
    return rows


def _checked(
    number: int, measure: Mapping[str, Any], procedures: frozenset[str], names: pd.DataFrame
) -> dict[str, Any]:
    """One measure checked and normalised (see :func:`check_measures`)."""
    procedure, change = measure.get("procedure"), measure.get("change")
    where = f"measure {number} (procedure {procedure!r})"
    if not isinstance(procedure, str) or not isinstance(change, Mapping):
        raise MeasureError(
            f"measure {number} needs 'procedure' (text) and 'change' (a dict with 'kind'); got "
            f"procedure={procedure!r}, change={change!r}."
        )
    kind = change.get("kind")
    if kind not in CHANGE_KINDS:
        raise MeasureError(
            f"{where}: unknown change kind {kind!r}; use one of {', '.join(CHANGE_KINDS)}."
        )
    missing = [key for key in _REQUIRED_KEYS[kind] if change.get(key) is None]
    if missing:
        raise MeasureError(f"{where}: a {kind} change needs {missing}; it has {dict(change)}.")
    if procedure not in procedures:
        raise MeasureError(
            f"{where}: the procedure is not in the catalog (the universe is the catalog); name "
            f"one of {sorted(procedures)[:5]}… or add it to the catalog."
        )
    change = {**change, **_parameters(where, kind, change)}
    _check_names(where, kind, change, names[names["procedure"] == procedure])
    return {**measure, "procedure": procedure, "change": change}


def _parameters(where: str, kind: str, change: Mapping[str, Any]) -> dict[str, Any]:
    """The change's parameters in their types: pairs as tuples of two different names, numbers
    as floats (a bad one is a :class:`MeasureError`)."""
    found: dict[str, Any] = {}
    for key in ("pair", "activities"):
        if key in _REQUIRED_KEYS[kind]:
            value = change[key]
            two = tuple(value) if isinstance(value, list | tuple | np.ndarray) else ()
            if len(two) != 2 or len(set(two)) != 2 or not all(isinstance(v, str) for v in two):
                raise MeasureError(
                    f"{where}: {kind} needs {key} = two different names; got {value!r}."
                )
            found[key] = two
    for key in ("cap_minutes", "deadline_working_days"):
        value = change.get(key)
        if value is None:
            continue
        positive = key == "deadline_working_days"
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not math.isfinite(value)
            or value < 0
            or (positive and value == 0)
        ):
            raise MeasureError(
                f"{where}: {key} must be a number {'> 0' if positive else '>= 0'}; got {value!r}."
            )
        found[key] = float(value)
    if kind == "delegate" and not isinstance(change.get("to_grade", ""), str):
        raise MeasureError(f"{where}: to_grade must be a grade's name; got {change['to_grade']!r}.")
    return found


def _check_names(where: str, kind: str, change: Mapping[str, Any], known: pd.DataFrame) -> None:
    """The activities (departments) a change names are its procedure's."""
    if kind == "set_deadline":
        return
    if kind == "end_pingpong":
        wanted, what, have = change["pair"], "department", known[known["kind"] == "department"]
    else:
        wanted, what = change.get("activities") or (change["activity"],), "activity"
        allowed = ("step",) if kind == "merge_steps" else ("step", "activity")
        have = known[known["kind"].isin(allowed)]
    names = set(have["name"])
    unknown = [name for name in wanted if name not in names]
    if unknown:
        source = "catalog" if kind == "merge_steps" else "catalog or its cases"
        raise MeasureError(
            f"{where}: {kind} names the {what} {unknown[0]!r}, which the procedure does not have "
            f"in the {source} (names are compared exactly, as NFC text); it has "
            f"{sorted(names)[:8]}."
        )


def _catalog_names(catalog: pd.DataFrame) -> pd.DataFrame:
    """Per catalog procedure, its steps' activities (kind "step") and departments."""
    procedure = catalog["procedure"].astype(str)
    parts = [pd.DataFrame({"procedure": procedure, "name": catalog["activity"], "kind": "step"})]
    if "department" in catalog.columns:
        parts.append(
            pd.DataFrame(
                {"procedure": procedure, "name": catalog["department"], "kind": "department"}
            )
        )
    return pd.concat(parts, ignore_index=True).dropna().astype({"name": str})


def _log_names(log: pd.DataFrame, catalog: pd.DataFrame) -> pd.DataFrame:
    """Per procedure of a log (as the catalog reads it), the activities and departments of its
    events; from the coded columns of its events table, so the distinct pairs are cheap."""
    columns = ("procedure", "activity", "department")
    events = log if engines.is_event_table(log) else engines.event_table(log, columns=columns)
    events = with_catalog_procedure(events, catalog)
    parts = [
        events[["procedure", kind]]
        .drop_duplicates()
        .dropna()
        .set_axis(["procedure", "name"], axis=1)
        .astype(str)
        .assign(kind=kind)
        for kind in ("activity", "department")
    ]
    return pd.concat(parts, ignore_index=True)


# ------------------------------------------------------------------------- the replay
def apply_measures(
    log: pd.DataFrame,
    catalog: pd.DataFrame,
    measures: Any,
    costs: Any = None,
    *,
    calendar: Any = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The log and the catalog as they would be with the measures adopted (module docstring).

    Returns ``(log2, catalog2)``: the canonical log with the same columns, the removed events'
    rows gone and the later events' timestamps moved earlier (rows renumbered from 0), and the
    catalog with the measures' changes (a removed step's row gone and the procedure's steps
    renumbered 1…n, ``depends_on`` following them: a step that depended on a removed one
    depends on what that one depended on). ``log2.attrs["procmine_whatif"]`` says how many
    events were removed and moved and which cases lost every event (they are not in log2).

    ``costs`` (default :func:`procmine.cost.read_costs`) is read by ``merge_steps`` (the
    ``smaller_share``; the steps' minutes come from the catalog's ``standard_minutes``, else
    from :func:`procmine.cost.step_costs`) and by ``delegate`` without ``to_grade``
    (``costs.delegate_to_grade``). ``calendar``: the working clock to move events on (default:
    the log's own, :func:`procmine.engines.own_clock`).

    Per kind, in detail: ``remove_step`` removes every event of the activity (also one not on
    the approved path). ``end_pingpong`` reads :func:`procmine.handoffs.bounce_table` on the
    observed log: for each excess bounce on the pair at position j, the in-sequence events of
    runs j + 1 and j + 2 that are extra — an activity not on the approved path, or an approved
    activity the case did before (an earlier step: complete or lifecycle-less, not a side copy)
    — are removed (:func:`round_trip_events`).
    ``parallel`` takes each case's first remaining event of each activity. ``delegate`` changes
    the grade of an approved step (a step not in the catalog has none to change), and caps
    sojourns only when ``cap_minutes`` is given. Caps apply to every event of the activity
    (both the start and the complete of a lifecycle log). ``set_deadline`` changes the
    catalog's deadline, not a case's own ``case:deadline``.

    HS2 without its extra Trả lại hồ sơ: Thẩm định and Phê duyệt move 210 working minutes earlier
    (Thẩm định's 120-minute sojourn is its own):

    >>> import procmine as pm
    >>> log, catalog = pm.datasets.example_log(), pm.datasets.example_catalog()
    >>> log2, _ = apply_measures(log, catalog, {"procedure": "Cấp phép",
    ...     "change": {"kind": "remove_step", "activity": "Trả lại hồ sơ"}})
    >>> log2[log2["case:concept:name"] == "HS2"][["concept:name", "time:timestamp"]]
      concept:name            time:timestamp
    3    Tiếp nhận 2024-05-06 08:30:00+07:00
    4    Thẩm định 2024-05-06 14:00:00+07:00
    5    Thẩm định 2024-05-06 16:00:00+07:00
    6    Phê duyệt 2024-05-09 11:00:00+07:00
    >>> log2.attrs["procmine_whatif"]["removed_events"]
    1
    """
    _require_log(log)
    calendar = engines.own_clock(log) if calendar is None else as_calendar(calendar)
    events = with_catalog_procedure(engines.event_table(log, calendar), catalog)
    checked = check_measures(measures, catalog, events)
    return _replayed(log, events, catalog, checked, costs, calendar)


def _replayed(
    log: pd.DataFrame,
    events: pd.DataFrame,
    catalog: pd.DataFrame,
    checked: list[dict[str, Any]],
    costs: Any,
    calendar: Any,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`apply_measures` of checked measures, on the log's events table (as the catalog
    reads it) built by the caller."""
    replay = _Replay(events=events, catalog=catalog.copy(), observed_catalog=catalog, costs=costs)
    for measure in checked:
        _CHANGES[measure["change"]["kind"]](replay, measure["procedure"], measure["change"])
    return _edited_log(log, replay, calendar), replay.catalog.reset_index(drop=True)


def _require_log(log: pd.DataFrame) -> None:
    """The replay edits the canonical log (its rows and stamps), not an events table."""
    if schema.CASE not in log.columns and engines.is_event_table(log):
        raise schema.MissingColumnError(
            "what-if replays the canonical log, and this is an events table: pass the log "
            "(pm.read_log(...)) itself."
        )
    schema.require_columns(log, schema.REQUIRED)


@dataclass
class _Replay:
    """A replay under way: the observed events and catalog, what the measures so far removed,
    the sojourns as they cut them, and the catalog as they changed it."""

    events: pd.DataFrame
    catalog: pd.DataFrame
    observed_catalog: pd.DataFrame
    costs: Any
    known_bounces: pd.DataFrame | None = None  # the events' bounce table, when already made

    def __post_init__(self) -> None:
        self.held = np.nan_to_num(self.events["sojourn"].to_numpy(dtype="float64"), nan=0.0)
        self.left = self.held.copy()  # each event's sojourn after the cuts so far
        self.removed = np.zeros(len(self.events), dtype=bool)
        self.case_no = self.events["case_no"].to_numpy()

    @functools.cached_property
    def cost_model(self) -> Any:
        return read_costs() if self.costs is None else self.costs

    @functools.cached_property
    def bounces(self) -> pd.DataFrame:
        """The observed log's bounces (one table for every end_pingpong measure)."""
        if self.known_bounces is not None:
            return self.known_bounces
        return bounce_table(self.events, self.observed_catalog)

    def subset(self, rows: np.ndarray) -> _Replay:
        """The replay of the events at ``rows`` (whole cases): what :func:`_edited_events` reads."""
        part = _Replay(
            events=self.events.iloc[rows],
            catalog=self.catalog,
            observed_catalog=self.observed_catalog,
            costs=self.costs,
            known_bounces=self.known_bounces,
        )
        part.held, part.left = self.held[rows], self.left[rows]
        part.removed, part.case_no = self.removed[rows], self.case_no[rows]
        return part

    def rows(self, procedure: str, activity: str | None = None) -> np.ndarray:
        """Which events are of the procedure (and the activity)."""
        chosen = _equals(self.events["procedure"], procedure)
        return chosen if activity is None else chosen & _equals(self.events["activity"], activity)

    def cap(self, rows: np.ndarray, minutes: float) -> None:
        """Cap the sojourns of ``rows`` at ``minutes``."""
        self.left = np.where(rows, np.minimum(self.left, minutes), self.left)

    def first_events(self, procedure: str, activity: str) -> tuple[np.ndarray, np.ndarray]:
        """Each case's first remaining event of the activity (not a side copy): (case_no, row)."""
        side_copy = self.events["side_copy"].to_numpy(dtype=bool)
        rows = np.flatnonzero(self.rows(procedure, activity) & ~self.removed & ~side_copy)
        cases, first = np.unique(self.case_no[rows], return_index=True)
        return cases, rows[first]


def _equals(values: pd.Series, value: str) -> np.ndarray:
    """``values == value`` as a bool array, on the codes of a coded column."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        code = values.cat.categories.get_indexer([value])[0]
        if code < 0:
            return np.zeros(len(values), dtype=bool)
        return values.cat.codes.to_numpy() == code
    return (values == value).to_numpy(dtype=bool, na_value=False)


def _remove_step(replay: _Replay, procedure: str, change: Mapping[str, Any]) -> None:
    replay.removed |= replay.rows(procedure, change["activity"])
    replay.catalog = _without_step(replay.catalog, procedure, change["activity"])


def _end_pingpong(replay: _Replay, procedure: str, change: Mapping[str, Any]) -> None:
    replay.removed |= _round_trip_extras(replay, procedure, change["pair"])


def _merge_steps(replay: _Replay, procedure: str, change: Mapping[str, Any]) -> None:
    first, second = change["activities"]
    minutes = _step_minutes(replay, procedure, (first, second))
    share = float(replay.cost_model.measure("merge_steps")["smaller_share"])
    merged = max(minutes) + share * min(minutes)
    replay.removed |= replay.rows(procedure, second)
    catalog = _with_value(replay.catalog, procedure, first, "standard_minutes", merged)
    replay.catalog = _without_step(catalog, procedure, second)


def _parallel(replay: _Replay, procedure: str, change: Mapping[str, Any]) -> None:
    # Both consultations start when the first could; the pair takes the longer of the two, not
    # the sum: the second's sojourn loses the shorter one.
    (cases_1, rows_1), (cases_2, rows_2) = (
        replay.first_events(procedure, activity) for activity in change["activities"]
    )
    _, at_1, at_2 = np.intersect1d(cases_1, cases_2, assume_unique=True, return_indices=True)
    first, second = rows_1[at_1], rows_2[at_2]
    replay.left[second] -= np.minimum(replay.left[first], replay.left[second])


def _delegate(replay: _Replay, procedure: str, change: Mapping[str, Any]) -> None:
    grade = change.get("to_grade") or replay.cost_model.delegate_to_grade
    replay.catalog = _with_value(replay.catalog, procedure, change["activity"], "grade", grade)
    if change.get("cap_minutes") is not None:
        replay.cap(replay.rows(procedure, change["activity"]), change["cap_minutes"])


def _cap_waiting(replay: _Replay, procedure: str, change: Mapping[str, Any]) -> None:
    replay.cap(replay.rows(procedure, change["activity"]), change["cap_minutes"])


def _set_deadline(replay: _Replay, procedure: str, change: Mapping[str, Any]) -> None:
    days = change["deadline_working_days"]
    replay.catalog = _with_value(replay.catalog, procedure, None, "deadline_working_days", days)


_CHANGES = {
    "remove_step": _remove_step,
    "end_pingpong": _end_pingpong,
    "merge_steps": _merge_steps,
    "parallel": _parallel,
    "delegate": _delegate,
    "cap_waiting": _cap_waiting,
    "set_deadline": _set_deadline,
}


def _round_trip_extras(replay: _Replay, procedure: str, pair: tuple[str, str]) -> np.ndarray:
    """The extra events of the excess round trips on ``pair`` (see :func:`apply_measures`)."""
    bounces = replay.bounces
    chosen = bounces[
        (bounces["procedure"] == procedure).to_numpy(dtype=bool)
        & bounces["excess"].to_numpy(dtype=bool)
        & bounces["source"].isin(pair).to_numpy()
        & bounces["target"].isin(pair).to_numpy()  # source ≠ target: a bounce is on two
    ]
    trips = round_trip_events(replay.events, chosen, replay.observed_catalog)
    found = np.zeros(len(replay.events), dtype=bool)
    found[trips["row"].to_numpy()[trips["extra"].to_numpy()]] = True
    return found


def round_trip_events(
    events: pd.DataFrame, bounces: pd.DataFrame, catalog: pd.DataFrame | None
) -> pd.DataFrame:
    """The events of the excess round trips: for each excess bounce at position j (a row of
    :func:`procmine.handoffs.bounce_table` on ``events``), the events of runs j + 1 and j + 2 of
    its case's department sequence. An event without a department, or a side copy, is in no
    run (docs/definitions.md), so in no round trip. One row per (bounce, event): ``bounce`` (the
    bounce's row label), ``row`` (the event's position in ``events``) and ``extra``: its activity
    is off its procedure's approved path, or a step its case did before (an earlier event of the
    activity that is not a side copy, complete or without lifecycle) — what ``end_pingpong``
    removes. ``events`` is an events table (as the catalog reads it); a ``case_no`` column of
    ``bounces``, when present, is taken as each bounce's case in it.

    >>> import procmine as pm
    >>> log, catalog = pm.datasets.example_log(), pm.datasets.example_catalog()
    >>> events = pm.event_table(log)
    >>> trips = round_trip_events(events, pm.bounce_table(events, catalog), catalog)
    >>> trips.assign(activity=events["activity"].iloc[trips["row"]].to_numpy())
       bounce  row  extra       activity
    0       2    5   True  Trả lại hồ sơ
    1       2    6   True      Thẩm định
    2       3    6   True      Thẩm định
    3       3    7  False      Phê duyệt

    HS2 goes VP → TP → VP → TP → VP where the path prescribes one VP → TP → VP: its bounces at
    positions 1 and 2 (rows 2 and 3) are excess. The second Thẩm định is in both round trips;
    Phê duyệt closes the second but is the case's first approval, so not extra.
    """
    excess = bounces[bounces["excess"].to_numpy(dtype=bool)]
    case_no = events["case_no"].to_numpy()
    if "case_no" in excess.columns:
        bounce_case = excess["case_no"].to_numpy()
    else:
        ids = engines.case_ids(events)
        where = pd.Index(ids["case_id"]).get_indexer(excess["case_id"].astype(str))
        bounce_case = ids["case_no"].to_numpy()[where]
    # Only the events of the cases with an excess bounce, each case's in time order.
    bounced = np.zeros(int(case_no.max(initial=-1)) + 1, dtype=bool)
    bounced[bounce_case] = True
    rows = np.flatnonzero(bounced[case_no])
    order = sequences.case_order(case_no[rows], events["idx"].to_numpy()[rows])
    rows = rows if order is None else rows[order]
    run, extra = _runs(events, rows, catalog)
    # Each bounce's runs j + 1 and j + 2 as (case, run) keys; the in-sequence events' keys are
    # in order (cases in order, runs rising within a case), so each key's events are a range.
    entry = np.flatnonzero(events["in_sequence"].to_numpy(dtype=bool)[rows])
    width = int(run.max(initial=0)) + 3
    keys = case_no[rows][entry].astype(np.int64) * width + run[entry]
    start = bounce_case.astype(np.int64) * width + excess["position"].to_numpy(dtype=np.int64)
    wanted = np.concatenate([start + 1, start + 2])
    low, high = np.searchsorted(keys, wanted, "left"), np.searchsorted(keys, wanted, "right")
    counts = high - low
    at = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    found = entry[np.repeat(low, counts) + at]
    bounce = np.repeat(np.tile(np.arange(len(excess)), 2), counts)
    order = np.argsort(bounce, kind="stable")  # by bounce, each one's events in time order
    found, bounce = found[order], bounce[order]
    return pd.DataFrame(
        {"bounce": excess.index.to_numpy()[bounce], "row": rows[found], "extra": extra[found]}
    )


def _runs(
    events: pd.DataFrame, rows: np.ndarray, catalog: pd.DataFrame | None
) -> tuple[np.ndarray, np.ndarray]:
    """For the events at ``rows`` (whole cases, each in time order): each one's department run
    (the handoffs before it in its case: the handing-off event ends its run) and whether it is
    extra (see :func:`round_trip_events`)."""
    case_no = events["case_no"].to_numpy()[rows]
    hands_off = (events["handoff_position"].to_numpy()[rows] >= 0).astype(np.int64)
    before = np.cumsum(hands_off) - hands_off  # over every case so far
    first = np.r_[True, case_no[1:] != case_no[:-1]][: len(rows)]
    run = before - np.maximum.accumulate(np.where(first, before, 0))
    # Done before: an earlier step of the activity in the case (the first step of each
    # (case, activity) is the one not done before).
    (procedure, procedures), (activity, activities) = (
        _codes(events[column].iloc[rows]) for column in ("procedure", "activity")
    )
    step = ~_equals(events["lifecycle"].iloc[rows], "start")
    step &= ~events["side_copy"].to_numpy(dtype=bool)[rows]
    key = case_no.astype(np.int64) * (len(activities) + 1) + activity
    steps = np.flatnonzero(step)
    firsts, at = np.unique(key[steps], return_index=True)
    where = np.minimum(np.searchsorted(firsts, key), len(firsts) - 1)
    done = np.zeros(len(rows), dtype=bool)
    if len(firsts):
        done = (firsts[where] == key) & (steps[at][where] < np.arange(len(rows)))
    # On the path: the (procedure, activity) codes of the approved steps (-1, none: the last).
    on_path = np.zeros((len(procedures) + 1, len(activities) + 1), dtype=bool)
    if catalog is not None:
        approved = approved_paths(catalog)
        p = procedures.get_indexer(approved["procedure"].astype(str))
        a = activities.get_indexer(approved["activity"].astype(str))
        on_path[p[(p >= 0) & (a >= 0)], a[(p >= 0) & (a >= 0)]] = True
    return run, ~on_path[procedure, activity] | done


def _codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """A column's integer codes (-1 for none) and its distinct values as text."""
    coded = values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype("category")
    return coded.cat.codes.to_numpy(), pd.Index(coded.cat.categories.astype(str))


def _step_minutes(replay: _Replay, procedure: str, activities: tuple[str, str]) -> list[float]:
    """The working minutes of two approved steps: the catalog's standard_minutes, else the cost
    model's (:func:`procmine.cost.step_costs`: the log's, or the default)."""
    catalog = replay.catalog
    rows = catalog[catalog["procedure"].astype(str) == procedure].drop_duplicates("activity")
    rows.index = pd.Index(rows["activity"].astype(str))
    gone = [a for a in activities if a not in rows.index]
    if gone:
        raise MeasureError(
            f"merge_steps on {procedure!r}: the step {gone[0]!r} is no longer in the catalog (an "
            "earlier measure removed or merged it); drop one of the two measures."
        )
    minutes = (
        rows["standard_minutes"].reindex(list(activities))
        if "standard_minutes" in rows.columns
        else pd.Series(np.nan, index=list(activities))
    )
    if minutes.isna().any():
        steps = step_costs(replay.events, replay.catalog, replay.cost_model)
        steps = steps[steps["procedure"].astype(str) == procedure]
        model = steps.drop_duplicates("activity").set_index("activity")["minutes"]
        minutes = minutes.fillna(model.reindex(list(activities)))
    return [float(m) for m in minutes]


# ------------------------------------------------------------------------- the catalog
def _with_value(
    catalog: pd.DataFrame, procedure: str, activity: str | None, column: str, value: Any
) -> pd.DataFrame:
    """The catalog with ``column`` set to ``value`` on the procedure's rows (of ``activity``
    only, when given); a column it lacks is added, empty elsewhere."""
    rows = (catalog["procedure"].astype(str) == procedure).to_numpy()
    if activity is not None:
        rows = rows & (catalog["activity"].astype(str) == activity).to_numpy()
    changed = catalog.copy()
    if column not in changed.columns:
        changed[column] = pd.Series(None, index=changed.index, dtype=object)
    if isinstance(value, str):
        changed[column] = changed[column].astype(object)
    changed.loc[rows, column] = value
    return changed


def _without_step(catalog: pd.DataFrame, procedure: str, activity: str) -> pd.DataFrame:
    """The catalog without the procedure's rows of ``activity``, its steps renumbered 1…n in
    order and ``depends_on`` following them (a step that depended on the removed one depends on
    what that one depended on)."""
    own = (catalog["procedure"].astype(str) == procedure).to_numpy()
    gone = own & (catalog["activity"].astype(str) == activity).to_numpy()
    if not gone.any():
        return catalog
    kept, mine = catalog[~gone].copy(), own[~gone]
    old = kept.loc[mine, "step"].astype("int64")
    new = old.rank(method="dense").astype("int64")
    if "depends_on" in kept.columns:
        removed = catalog.loc[gone, ["step", "depends_on"]]
        kept.loc[mine, "depends_on"] = _renumbered_dependencies(
            kept.loc[mine, "depends_on"], removed, dict(zip(old, new, strict=True))
        )
    kept.loc[mine, "step"] = new
    return kept


def _renumbered_dependencies(
    texts: pd.Series, removed: pd.DataFrame, renumbered: dict[int, int]
) -> pd.Series:
    """``depends_on`` texts after removing the ``removed`` steps (step, depends_on) and
    renumbering the others: a removed step named is replaced by the steps it named."""
    named = depends_on_steps(texts).rename("named").rename_axis("row").reset_index()
    inherited = depends_on_steps(removed["depends_on"]).rename("inherited")
    named_by = removed["step"].astype("int64").loc[inherited.index].to_numpy()
    inherited = pd.DataFrame({"named": named_by, "inherited": inherited.to_numpy()})
    through = named.merge(inherited, on="named", how="left")
    through["named"] = through["inherited"].fillna(through["named"]).astype("int64")
    through["named"] = through["named"].map(renumbered)
    through = through.dropna(subset=["named"]).astype({"named": "int64"})
    through = through.drop_duplicates(["row", "named"]).sort_values(["row", "named"])
    joined = through.groupby("row")["named"].agg(lambda steps: "; ".join(map(str, steps)))
    return joined.reindex(texts.index).astype(object).where(lambda t: t.notna(), None)


# ------------------------------------------------------------------------- the edited log
def _in_case_order(case_no: np.ndarray, reading: np.ndarray) -> bool:
    """Whether rows are already sorted by case and, within a case, by reading (nulls last
    count as out of order): the sort that would put them so is then the identity.

    >>> _in_case_order(np.array([0, 0, 1]), np.array([1.0, 2.0, 0.5]))
    True
    >>> _in_case_order(np.array([0, 0, 1]), np.array([2.0, 1.0, 0.5]))
    False
    """
    if len(case_no) < 2:
        return True
    step = np.diff(case_no)
    with np.errstate(invalid="ignore"):
        rising = np.diff(reading) >= 0
    return bool(np.all((step > 0) | ((step == 0) & rising)))


@dataclass(frozen=True)
class _Moves:
    """Where a replay's events go: each event's clock reading after the time taken before it in
    its case (``reading``), the kept events in their new order (``kept``: cases keep their
    order, each in time order), which of them moved (``moved``: positions in ``kept``), and the
    ids of the cases that lost every event (``gone``)."""

    reading: np.ndarray
    kept: np.ndarray
    moved: np.ndarray
    gone: list[str]

    @classmethod
    def of(cls, replay: _Replay) -> _Moves:
        events, case_no = replay.events, replay.case_no
        taken = np.where(replay.removed, replay.held, replay.held - replay.left)
        taken_so_far = pd.Series(taken).groupby(case_no, sort=False).cumsum().to_numpy()
        reading = events["wm"].to_numpy(dtype="float64") - taken_so_far
        kept = np.flatnonzero(~replay.removed)
        # A side copy, which holds no time, may now fall after an event moved earlier past it.
        if not _in_case_order(case_no[kept], reading[kept]):
            kept = kept[np.lexsort((kept, reading[kept], case_no[kept]))]
        moved = np.flatnonzero(taken_so_far[kept] > 0)
        remaining = np.bincount(case_no[kept], minlength=int(case_no.max(initial=-1)) + 1)
        ids = engines.case_ids(events)
        gone = ids.loc[remaining[ids["case_no"].to_numpy()] == 0, "case_id"]
        return cls(reading, kept, moved, [str(case) for case in gone])

    def stamps(self, dtype: Any, calendar: Any) -> pd.Series:
        """The moved events' stamps in the edited log, of the log's stamp ``dtype``: naive
        stamps are the clock's local time, aware ones keep their zone, the unit is the log's."""
        new = calendar.from_working_minutes(self.reading[self.kept[self.moved]])
        like = pd.Series([], dtype=dtype)
        zone = like.dt.tz
        new = new.dt.tz_localize(None) if zone is None else new.dt.tz_convert(zone)
        return new.dt.as_unit(like.dt.unit)


def _edited_log(log: pd.DataFrame, replay: _Replay, calendar: Any) -> pd.DataFrame:
    """The log with the replay's removals and moves (see the module docstring)."""
    moves = _Moves.of(replay)
    stamps = log[schema.TIMESTAMP].reset_index(drop=True)
    if len(moves.moved):
        new = moves.stamps(stamps.dtype, calendar)
        stamps = stamps.copy()
        stamps.iloc[moves.kept[moves.moved]] = new.array  # not objects: 400× faster
    edited = log.reset_index(drop=True).assign(**{schema.TIMESTAMP: stamps})
    edited = edited.iloc[moves.kept].reset_index(drop=True)
    edited.attrs = {
        **log.attrs,
        WHATIF_ATTR: {
            "removed_events": int(replay.removed.sum()),
            "moved_events": len(moves.moved),
            "dropped_cases": moves.gone,
        },
    }
    return edited


# What an event's row of the events table holds of its own, in the table's order (idx, the
# sequence flag, case_no, the sojourn and the department-sequence links are read off its case).
_TEXT_EVENT_COLUMNS = ("activity", "department", "resource", "procedure", "lifecycle")
_OWN_COLUMNS = ("case_id", *_TEXT_EVENT_COLUMNS, "ts", "wm", "side_copy", "returned", "deadline")


def _edited_events(replay: _Replay, stamps: Any, calendar: Any) -> tuple[pd.DataFrame, list[str]]:
    """The replay's edit as its events' own columns (:data:`_OWN_COLUMNS`), in the edited log's
    order (:func:`_edited_log`), the moved events' readings and wall times read from the stamps
    the edited log gives them (``stamps``: the log's stamp dtype) as
    :func:`procmine.engines.event_table` reads a log's; and the ids of the cases gone.
    :func:`_reread` makes the edited log's events table from them: the edited log itself is
    never made."""
    moves = _Moves.of(replay)
    own = [column for column in _OWN_COLUMNS if column in replay.events.columns]
    edited = replay.events[own].iloc[moves.kept].reset_index(drop=True)
    if len(moves.moved):
        local = calendar.localize(moves.stamps(stamps, calendar).reset_index(drop=True))
        wm = edited["wm"].to_numpy(dtype="float64", copy=True)
        wm[moves.moved] = calendar.working_minutes(local)
        ts = edited["ts"].copy()
        ts.iloc[moves.moved] = calendar.wall_time(local).dt.as_unit(ts.dt.unit).array
        edited = edited.assign(wm=wm, ts=ts)
    edited.attrs = replay.events.attrs
    return edited, moves.gone


def _reread(own: pd.DataFrame) -> pd.DataFrame:
    """The events table of the edited log whose events' own columns are ``own`` (its rows in
    order, :func:`_edited_events`), as :func:`procmine.engines.event_table` builds it, less the
    department-sequence links, which the figures after (cost and deadlines) do not read:
    positions and cases numbered in that order (:func:`procmine.engines.case_numbers`), the
    sequence flag (:func:`procmine.sequences.in_sequence`) and the sojourns
    (:func:`procmine.engines.complete_events`)."""
    department = own["department"]
    if isinstance(department.dtype, pd.CategoricalDtype):
        codes = department.cat.codes.to_numpy()
    else:
        codes = pd.factorize(department)[0]
    side_copy = own["side_copy"].to_numpy(dtype=bool)
    table = engines.complete_events(
        own.assign(
            idx=np.arange(len(own), dtype=np.int64),
            in_sequence=sequences.in_sequence(codes, side_copy),
            case_no=engines.case_numbers(own["case_id"]),
        )
    )
    present = set(own.columns)
    order = [
        "idx", "case_id", *[c for c in _TEXT_EVENT_COLUMNS if c in present], "ts", "wm",
        "side_copy", "in_sequence", *(["returned"] if "returned" in present else []), "case_no",
        *(["deadline"] if "deadline" in present else []), "sojourn",
    ]  # fmt: skip
    table = table[order]
    table.attrs = own.attrs
    return table


# ------------------------------------------------------------------------- what-if
def what_if(
    log: pd.DataFrame,
    catalog: pd.DataFrame,
    measures: Any,
    costs: Any = None,
    *,
    calendar: Any = None,
    boot: int = 200,
    seed: int = 0,
    events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The figures of each procedure a measure touches, before and after replaying the measures.

    The same figure functions run on (log, catalog) and on :func:`apply_measures`'s (log2,
    catalog2): :func:`procmine.cost.compliance_cost` by procedure and by case and
    :func:`procmine.deadlines.on_time` (on log2's events table, read off the edited events:
    log2 itself is not made). One row per procedure touched (in the order the measures
    first name them; other procedures are not replayed), columns :data:`WHAT_IF_COLUMNS`:
    ``cases`` (observed), ``working_days_before``/``_after`` (mean working days per case,
    received to completed), ``observed_cost_before``/``_after`` (VND per run),
    ``observed_yearly_before``/``_after``, ``saving_yearly`` (VND a year, before − after),
    ``saving_share`` (of the yearly cost before), ``on_time_rate_before``/``_after`` (share of
    the cases with a deadline that are on time), and 95 % bootstrap intervals ``_low``/``_high``
    of saving_yearly, working_days_after and on_time_rate_after: ``boot`` resamples of the
    procedure's cases with replacement (each case before and after together), seeded by
    ``seed``, percentile intervals (``boot=0``: none).

    Runs a year are the observed log's in both (a measure does not change how many dossiers
    arrive): ``costs.runs_per_year`` where it names the procedure, else
    ``compliance_cost(log, by="procedure")`` on the whole log (pass costs with runs_per_year
    set to skip that pass, or ``events``, the log's events table ``pm.event_table(log,
    calendar)`` when the caller has it: the pass then reads it, not the log; the same result).
    A case whose every event is removed leaves the after figures
    (``result.attrs["dropped_cases"]``: {procedure: [case ids]}); ``result.attrs["notes"]`` says
    so, and names touched procedures without cases (their rows have 0 cases). No measures: an
    empty table with the columns.

    >>> import procmine as pm
    >>> log, catalog = pm.datasets.example_log(), pm.datasets.example_catalog()
    >>> measures = [{"procedure": "Cấp phép", "change": {
    ...     "kind": "end_pingpong", "pair": ["Văn phòng", "Phòng Tư pháp"]}}]
    >>> found = what_if(log, catalog, measures)
    >>> found[["procedure", "cases", "working_days_before", "working_days_after"]]
      procedure  cases  working_days_before  working_days_after
    0  Cấp phép      3             2.708333            2.479167
    >>> bool(found["saving_yearly"].iloc[0] > 0)
    True
    >>> what_if(log, catalog, measures, events=pm.event_table(log)).equals(found)
    True
    """
    if not len(measures):
        return _empty_result()
    _require_log(log)
    if events is None:
        calendar = engines.own_clock(log) if calendar is None else as_calendar(calendar)
    else:
        calendar = engines.same_clock(log_events(events, log), calendar)
    costs = read_costs() if costs is None else costs
    replayer = Replayer(log, catalog, costs, calendar=calendar, events=events)
    return replayer.what_if(measures, boot=boot, seed=seed)


def log_events(events: pd.DataFrame, log: pd.DataFrame) -> pd.DataFrame:
    """``events``, checked to be an events table with a row per event of ``log`` (what a
    figure's ``events=`` takes: ``pm.event_table(log, calendar)``).

    >>> import procmine as pm
    >>> log = pm.datasets.example_log()
    >>> log_events(pm.event_table(log.head(3)), log)
    Traceback (most recent call last):
    ...
    ValueError: events= must be the log's events table (pm.event_table(log, calendar)): it has 3 \
rows for the log's 12 events.
    """
    if not engines.is_event_table(events) or len(events) != len(log):
        raise ValueError(
            "events= must be the log's events table (pm.event_table(log, calendar)): it has "
            f"{len(events):,} rows for the log's {len(log):,} events"
            + ("" if engines.is_event_table(events) else ", and not its columns")
            + "."
        )
    return events


_DTYPES = {column: "float64" for column in WHAT_IF_COLUMNS} | {"procedure": str, "cases": "int64"}


def _empty_result() -> pd.DataFrame:
    result = pd.DataFrame({column: [] for column in WHAT_IF_COLUMNS}).astype(_DTYPES)
    result.attrs = {"dropped_cases": {}, "notes": ["no measures: nothing replayed."]}
    return result


def _with_observed_runs(
    log: pd.DataFrame, catalog: pd.DataFrame, costs: Any, touched: list[str], calendar: Any
) -> Any:
    """``costs`` with runs a year of every touched procedure fixed at the observed log's (the
    replay looks at the touched procedures' cases only, whose receipts span fewer years)."""
    configured = dict(costs.runs_per_year or {})
    missing = [procedure for procedure in touched if procedure not in configured]
    if missing:
        whole = compliance_cost(log, catalog, costs, by="procedure", calendar=calendar)
        runs = whole.drop_duplicates("procedure").set_index("procedure")["runs_per_year"]
        configured |= {p: float(runs[p]) for p in missing if p in runs.index}
    return costs.replace(runs_per_year=configured)


def observed_figures(
    events: pd.DataFrame,
    catalog: pd.DataFrame,
    costs: Any,
    *,
    calendar: Any = None,
    deadlines: pd.DataFrame | None = None,
    cost: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The figures the what-if compares, from a log (or its events table; the clock read once
    for the three): :func:`procmine.cost.compliance_cost` by procedure, and per case case_id,
    procedure, working_days, on_time, observed_cost. ``deadlines``: the log's
    :func:`procmine.deadlines.on_time`, and ``cost``: its compliance cost by procedure with
    ``costs``, when the caller has them. A case's figures are its own,
    so a :class:`Replayer` given the whole log's (``before=``) reads each procedure's from them.

    >>> import procmine as pm
    >>> cost, cases = observed_figures(pm.datasets.example_log(), pm.datasets.example_catalog(),
    ...                                read_costs())
    >>> cases[["case_id", "working_days", "on_time"]]
      case_id  working_days  on_time
    0     HS1         1.125     True
    1     HS2         3.750    False
    2     HS3         3.250    False
    """
    events, calendar = engines.clocked(events, calendar)
    if cost is None:
        cost = compliance_cost(events, catalog, costs, by="procedure", calendar=calendar)
    cases = _case_figures(events, catalog, costs, calendar, deadlines)
    return cost.astype({"procedure": str}), cases


def _figures(
    events: pd.DataFrame, catalog: pd.DataFrame, costs: Any, calendar: Any, *, cases: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """:func:`observed_figures` of an events table (``cases=False``: the cost by procedure
    only)."""
    cost = compliance_cost(events, catalog, costs, by="procedure", calendar=calendar)
    found = _case_figures(events, catalog, costs, calendar) if cases else None
    return cost.astype({"procedure": str}), found


def _case_figures(
    events: pd.DataFrame,
    catalog: pd.DataFrame,
    costs: Any,
    calendar: Any,
    deadlines: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per case: case_id, procedure, working_days, on_time, observed_cost."""
    by_case = compliance_cost(events, catalog, costs, by="case", calendar=calendar)
    if deadlines is None:
        deadlines = on_time(events, catalog, calendar=calendar)
    cases = deadlines[["case_id", "procedure", "working_days", "on_time"]].reset_index(drop=True)
    # Each case's cost (one row per case on both sides; NaN for a case the cost lacks).
    where = _positions(cases["case_id"], by_case["case_id"])
    cost = np.append(by_case["observed_cost"].to_numpy(dtype="float64", na_value=np.nan), np.nan)
    cases["observed_cost"] = cost[where]
    return cases.astype({"procedure": str})


def _positions(keys: pd.Series, values: pd.Series) -> np.ndarray:
    """Where each of ``keys`` is among ``values`` (texts, unique), ``len(values)`` where it is
    not: a hash lookup on the texts as Arrow holds them (pandas' merge on text keys makes
    Python strings of both sides first).

    >>> _positions(pd.Series(["b", "z", "a"]), pd.Series(["a", "b"])).tolist()
    [1, 2, 0]
    """
    found = pc.index_in(_arrow_text(keys), value_set=_arrow_text(values).combine_chunks())
    return found.fill_null(len(values)).to_numpy().astype(np.intp)


def _arrow_text(values: pd.Series) -> pa.ChunkedArray:
    """``values`` (texts) as Arrow large strings, without a copy when Arrow holds them."""
    array = values.array
    if hasattr(array, "__arrow_array__"):
        return pa.chunked_array(array.__arrow_array__()).cast(pa.large_string())
    return pa.chunked_array([pa.array(values.astype(object), type=pa.large_string())])


# ------------------------------------------------------------------------- replays of one log
@dataclass
class _Edit:
    """One procedure's measures applied: its edited cases (the ones they change, or all when
    ``whole``) as their events' own columns (:func:`_edited_events`), the catalog after them
    (and the measures before), the ids of the cases that lost every event."""

    procedure: str
    events: pd.DataFrame
    catalog: pd.DataFrame
    whole: bool
    gone: list[str]


@dataclass
class _Observed:
    """One procedure of the observed log, as every replay of it reads it: its events table (as
    the catalog reads it), its figures before any measure, its activities and departments, and
    (once asked for) its bounce table."""

    events: pd.DataFrame
    before: tuple[pd.DataFrame, pd.DataFrame]
    names: pd.DataFrame
    bounces: pd.DataFrame | None = None
    step_costs: pd.DataFrame | None = None
    seen_steps: pd.DataFrame | None = None


class Replayer:
    """What-if replays of one log: :func:`what_if`'s figures for measure after measure, each
    procedure's events table and figures before read once, not once a replay.

    Measures of different procedures replay independently (each changes its own procedure's
    cases and catalog rows), so each procedure replays on its own cases; and when the measures
    leave the procedure's deadlines as they were, the log has no start events there (no
    working time taken from the log) and its runs a year are fixed, only the cases the measures
    change — an event removed or moved, or an activity whose step costs otherwise under the new
    catalog — are recomputed: every other case's figures are the ones before.
    The procedure's cost a run after is then the mean of its cases', as compliance_cost takes
    it. ``Replayer(log, catalog, costs).what_if(measures)`` equals ``what_if(log, catalog,
    measures, costs)``. ``bounces``: the log's :func:`procmine.handoffs.bounce_table` (as the
    catalog reads it; its excess bounces at least), ``before``: its :func:`observed_figures`
    with ``costs``, and ``events``: its events table (:func:`log_events`), when the caller has
    them, instead of each procedure's made on its own (a procedure's events are then the
    table's rows of its cases, :func:`_own_events`).

    >>> import procmine as pm
    >>> log, catalog = pm.datasets.example_log(), pm.datasets.example_catalog()
    >>> replayer = Replayer(log, catalog, read_costs())
    >>> found = replayer.what_if([{"procedure": "Cấp phép", "change": {
    ...     "kind": "end_pingpong", "pair": ["Văn phòng", "Phòng Tư pháp"]}}], boot=0)
    >>> round(float(found["working_days_after"].iloc[0]), 6)
    2.479167
    """

    def __init__(
        self,
        log: pd.DataFrame,
        catalog: pd.DataFrame,
        costs: Any,
        *,
        calendar: Any = None,
        bounces: pd.DataFrame | None = None,
        before: tuple[pd.DataFrame, pd.DataFrame] | None = None,
        events: pd.DataFrame | None = None,
    ) -> None:
        _require_log(log)
        self.log, self.catalog, self.costs = log, catalog, costs
        # The log's bounce table (at least its excess bounces), figures before and events
        # table, when the caller has them.
        self.bounces, self.before = bounces, before
        self.events = None if events is None else log_events(events, log)
        if events is not None:
            calendar = engines.same_clock(events, calendar)
        self.calendar = engines.own_clock(log) if calendar is None else as_calendar(calendar)
        self._procedures: tuple[np.ndarray, pd.Index] | None = None
        self._observed: dict[str, _Observed] = {}

    def __deepcopy__(self, memo: dict) -> Replayer:
        return self  # holds the log; never changed by a replay

    def positions(self, procedure: str) -> np.ndarray:
        """The positions of the procedure's events in the log, in log order (all of a log
        without a procedure column: it is the catalog's one procedure)."""
        if schema.PROCEDURE not in self.log.columns:
            return np.arange(len(self.log))
        if self._procedures is None:
            # An events table is in log order, its procedure coded (the log's texts).
            known = self.log[schema.PROCEDURE] if self.events is None else self.events["procedure"]
            codes, names = pd.factorize(known)
            self._procedures = codes, pd.Index([str(name) for name in names])
        codes, names = self._procedures
        number = names.get_indexer([procedure])[0]
        return np.flatnonzero(codes == number) if number >= 0 else np.array([], dtype=np.intp)

    def part(self, rows: np.ndarray) -> pd.DataFrame:
        """The log's rows at ``rows`` (positions), with the log's attrs (its own clock)."""
        part = _rows_of(self.log, rows)
        part.attrs = self.log.attrs
        return part

    def observed(self, procedure: str) -> _Observed:
        """The procedure as observed (read once; its runs a year must be in ``costs``)."""
        if procedure not in self._observed:
            rows = self.positions(procedure)
            events = None if self.events is None else _own_events(self.events, rows)
            if events is None:
                events = engines.event_table(self.part(rows), self.calendar)
            if self.before is None:
                cost, cases = _figures(events, self.catalog, self.costs, self.calendar)
            else:  # the whole log's: the procedure's cases
                cost, cases = self.before
                cases = cases[(cases["procedure"] == procedure).to_numpy()].reset_index(drop=True)
            own = with_catalog_procedure(events, self.catalog)
            self._observed[procedure] = _Observed(
                events=own,
                before=(_own_row(cost, procedure), cases),
                names=_log_names(own, self.catalog),
            )
        return self._observed[procedure]

    def what_if(self, measures: Any, *, boot: int = 200, seed: int = 0) -> pd.DataFrame:
        """:func:`what_if` of ``measures`` on this log (same columns, rows, attrs)."""
        if not len(measures):
            return _empty_result()
        named = [m.get("procedure") for m in _as_list(measures) if isinstance(m, Mapping)]
        known = set(self.catalog["procedure"].dropna().astype(str))
        named = [p for p in dict.fromkeys(named) if isinstance(p, str) and p in known]
        self._fix_runs(named)
        seen = {procedure: self.observed(procedure) for procedure in named}
        names = [item.names for item in seen.values()]
        checked = _checked_against(
            measures, self.catalog, pd.concat(names, ignore_index=True) if names else None
        )
        if isinstance(boot, bool) or not isinstance(boot, numbers.Integral) or boot < 0:
            raise ValueError(f"boot must be a whole number of resamples >= 0; got {boot!r}.")
        touched = list(dict.fromkeys(measure["procedure"] for measure in checked))
        edits: list[_Edit] = []
        for procedure in touched:  # each on the catalog as the measures before left it
            own = [measure for measure in checked if measure["procedure"] == procedure]
            catalog = edits[-1].catalog if edits else self.catalog
            edits.append(self._edit(procedure, own, catalog))
        after = self._after(edits)
        rng = np.random.default_rng(seed)
        rows = [_compared(p, seen[p].before, after[p], int(boot), rng) for p in touched]
        gone = [case for edit in edits for case in edit.gone]
        result = pd.DataFrame(rows, columns=list(WHAT_IF_COLUMNS)).astype(_DTYPES)
        before = pd.concat([seen[p].before[1] for p in touched], ignore_index=True)
        dropped = _dropped_by_procedure(gone, before.sort_values("case_id", kind="stable"))
        result.attrs = {"dropped_cases": dropped, "notes": _notes(result, dropped)}
        return result

    def what_ifs(
        self, batches: Iterable[Any], *, boot: int = 200, seed: int = 0, threads: int = 2
    ) -> Iterator[pd.DataFrame]:
        """:meth:`what_if` of each batch of measures, in order, ``threads`` at a time: the
        batches are independent (each replays its own measures on the log as observed), and
        their SQL and array work runs outside Python's lock. Each procedure is read once,
        before the threads start.

        >>> import procmine as pm
        >>> log, catalog = pm.datasets.example_log(), pm.datasets.example_catalog()
        >>> measure = {"procedure": "Cấp phép", "change": {"kind": "remove_step",
        ...            "activity": "Thẩm định"}}
        >>> [len(found) for found in Replayer(log, catalog, read_costs()).what_ifs(
        ...     [[measure], [measure]], boot=0)]
        [1, 1]
        """
        batches = [_as_list(batch) for batch in batches]
        known = set(self.catalog["procedure"].dropna().astype(str))
        named = [m.get("procedure") for batch in batches for m in batch if isinstance(m, Mapping)]
        named = [p for p in dict.fromkeys(named) if isinstance(p, str) and p in known]
        self._fix_runs(named)
        for procedure in named:
            self.observed(procedure)
        if threads <= 1 or len(batches) < 2:
            yield from (self.what_if(batch, boot=boot, seed=seed) for batch in batches)
            return
        with ThreadPoolExecutor(max_workers=threads) as pool:
            yield from pool.map(lambda batch: self.what_if(batch, boot=boot, seed=seed), batches)

    def _fix_runs(self, procedures: list[str]) -> None:
        """Runs a year of ``procedures`` fixed at the whole log's, as :func:`what_if` does."""
        missing = [p for p in procedures if p not in (self.costs.runs_per_year or {})]
        if missing:
            whole = self.log if self.events is None else self.events
            self.costs = _with_observed_runs(
                whole, self.catalog, self.costs, missing, self.calendar
            )

    def _edit(self, procedure: str, checked: list[dict[str, Any]], catalog: pd.DataFrame) -> _Edit:
        """The procedure's measures applied: its cases they change (all of them when its
        figures must be recomputed whole), edited, and the catalog after them."""
        seen = self.observed(procedure)
        if seen.bounces is None and any(m["change"]["kind"] == "end_pingpong" for m in checked):
            seen.bounces = self._bounces(procedure, seen.events)
        replay = _Replay(
            events=seen.events,
            catalog=catalog.copy(),
            observed_catalog=self.catalog,
            costs=self.costs,
            known_bounces=seen.bounces,
        )
        for measure in checked:
            _CHANGES[measure["change"]["kind"]](replay, procedure, measure["change"])
        catalog2 = replay.catalog.reset_index(drop=True)
        repriced = self._repriced(procedure, seen, catalog2)
        if repriced is not None:
            taken = np.where(replay.removed, replay.held, replay.held - replay.left)
            changed = np.zeros(int(replay.case_no.max(initial=-1)) + 1, dtype=bool)
            changed[replay.case_no[replay.removed | (taken > 0) | repriced]] = True
            replay = replay.subset(np.flatnonzero(changed[replay.case_no]))
        stamps = self.log[schema.TIMESTAMP].dtype
        edited, gone = _edited_events(replay, stamps, self.calendar)
        return _Edit(procedure, edited, catalog2, repriced is None, gone)

    def _bounces(self, procedure: str, events: pd.DataFrame) -> pd.DataFrame:
        """The procedure's bounces (the log's table given, or made on its events), each with
        its case's number in the procedure's events table."""
        if self.bounces is None:
            table = bounce_table(events, self.catalog)
        else:
            table = self.bounces[(self.bounces["procedure"] == procedure).to_numpy(dtype=bool)]
        ids = engines.case_ids(events)
        where = pd.Index(ids["case_id"]).get_indexer(table["case_id"].astype(str))
        return table[where >= 0].assign(case_no=ids["case_no"].to_numpy()[where[where >= 0]])

    def _after(self, edits: list[_Edit]) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
        """Per procedure, its figures after (compliance cost row, cases): one pass of the
        figures over every procedure's edited cases (a case's figures are its own), the cases
        left alone taken from before."""
        if not edits:
            return {}
        # The events table of the edited cases, read off the edited events (not of an edited
        # log: the clock is read again only for the moved events, in _edited_events).
        union = _stacked([edit.events for edit in edits])
        union.attrs = edits[0].events.attrs
        events, catalog = _reread(union), edits[-1].catalog
        cases = _case_figures(events, catalog, self.costs, self.calendar)
        cost, found = None, {}
        for edit in edits:
            mine = cases[(cases["procedure"] == edit.procedure).to_numpy()]
            before = self.observed(edit.procedure).before
            composed = None if edit.whole else _composed(edit.procedure, before, mine, edit.gone)
            if composed is None:
                # Recomputed whole, or every case gone (the figure is then the approved path's,
                # as compliance_cost gives it for a procedure without cases): the union's row,
                # figured only then.
                if cost is None:
                    cost = _figures(events, catalog, self.costs, self.calendar, cases=False)[0]
                composed = (_own_row(cost, edit.procedure), mine)
            found[edit.procedure] = composed
        return found

    def _repriced(
        self, procedure: str, seen: _Observed, catalog2: pd.DataFrame
    ) -> np.ndarray | None:
        """Which of the procedure's events cost otherwise under ``catalog2`` (their cases are
        recomputed), or None when every case must be: the log times steps from its start
        events, the runs a year are not fixed, or the procedure's deadlines changed (see the
        class docstring)."""
        runs = (self.costs.runs_per_year or {}).get(procedure)
        if runs is None or not math.isfinite(runs):
            return None
        if _equals(seen.events["lifecycle"], "start").any():
            return None
        unchanged = np.zeros(len(seen.events), dtype=bool)
        if _catalog_rows(self.catalog, procedure).equals(_catalog_rows(catalog2, procedure)):
            return unchanged
        if "deadline_working_days" not in catalog2.columns:
            return None
        for before, after in zip(
            deadline_tables(self.catalog), deadline_tables(catalog2), strict=True
        ):
            if not _catalog_rows(before, procedure).equals(_catalog_rows(after, procedure)):
                return None
        if seen.step_costs is None:  # what the steps done cost under each catalog: read once
            seen.seen_steps = seen_steps(seen.events, self.catalog)
            seen.step_costs = step_costs(None, self.catalog, self.costs, seen=seen.seen_steps)
        now = step_costs(None, catalog2, self.costs, seen=seen.seen_steps)
        keys = ["procedure", "activity"]
        both = seen.step_costs[[*keys, "cost"]].merge(
            now[[*keys, "cost"]], on=keys, how="outer", suffixes=("", "_now")
        )
        differ = ~(both["cost"] == both["cost_now"]).fillna(False).to_numpy(dtype=bool)
        activities = both.loc[differ & (both["procedure"] == procedure), "activity"]
        return seen.events["activity"].isin(activities.astype(str)).to_numpy(dtype=bool)


def _stacked(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The parts one below the other, a column coded in each coded in the union of their
    categories, sorted as :func:`procmine.engines.text_codes` sorts them (``pd.concat`` would
    turn it into objects).

    >>> one = pd.DataFrame({"a": pd.Categorical(["y"])})
    >>> _stacked([one, pd.DataFrame({"a": pd.Categorical(["x"])})])["a"].cat.categories.tolist()
    ['x', 'y']
    """
    first = parts[0]
    coded = [c for c in first.columns if isinstance(first[c].dtype, pd.CategoricalDtype)]
    if len(parts) < 2 or not coded:
        return pd.concat(parts, ignore_index=True)
    stacked = pd.concat([part.drop(columns=coded) for part in parts], ignore_index=True)
    for column in coded:
        values = [part[column].array for part in parts]
        categories = values[0].dtype.categories
        if all(value.dtype.categories.equals(categories) for value in values):  # the codes
            codes = np.concatenate([value.codes for value in values])
            stacked[column] = pd.Categorical.from_codes(codes, dtype=values[0].dtype)
        else:
            stacked[column] = union_categoricals(values, sort_categories=True)
    return stacked[list(first.columns)]


def _own_events(events: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame | None:
    """The events table of the log's rows at ``rows`` (whole cases, in log order), from the
    whole log's ``events``: its rows there, their ``idx`` and ``case_no`` renumbered as
    :func:`procmine.engines.event_table` numbers them (a row's position; cases in order of
    first appearance) — every other column is a case's own. None when a case of ``rows`` has
    events elsewhere (the log changes its procedure midway): its table must be built.

    >>> import procmine as pm
    >>> log = pm.datasets.example_log()
    >>> events = pm.event_table(log)
    >>> built = pm.event_table(log.iloc[3:12].reset_index(drop=True))  # HS2 and HS3
    >>> _own_events(events, np.arange(3, 12)).astype(object).equals(built.astype(object))
    True
    >>> _own_events(events, np.arange(3, 10)) is None  # HS3 cut
    True
    """
    case_no = events["case_no"].to_numpy()
    mine = case_no[rows]
    counts = np.bincount(case_no, minlength=int(case_no.max(initial=-1)) + 1)
    if not np.array_equal(np.bincount(mine, minlength=len(counts))[mine], counts[mine]):
        return None
    numbers, first = np.unique(mine, return_index=True)
    renumber = np.empty(len(numbers), dtype=case_no.dtype)
    renumber[np.argsort(first, kind="stable")] = np.arange(len(numbers), dtype=case_no.dtype)
    own = _rows_of(events, rows).reset_index(drop=True)
    own["idx"] = np.arange(len(rows), dtype=own["idx"].dtype)
    own["case_no"] = renumber[np.searchsorted(numbers, mine)]
    own.attrs = events.attrs
    return own


def _rows_of(frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """``frame.iloc[rows]`` for ascending positions ``rows``, each Arrow-backed column taken
    chunk by chunk: pyarrow's take on a chunked column joins its chunks first, so a take of a few
    rows of a log read from Parquet would copy the whole column.

    >>> frame = pd.DataFrame({"a": pd.array(["x", "y", "z"], dtype="string[pyarrow]")})
    >>> _rows_of(frame, np.array([0, 2]))["a"].tolist()
    ['x', 'z']
    """
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) > 1 and np.any(np.diff(rows) < 0):
        return frame.iloc[rows]
    columns = {}
    for number in range(frame.shape[1]):
        values = frame.iloc[:, number].array
        arrow = isinstance(values.dtype, pd.ArrowDtype) or (
            isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"
        )
        if not arrow:
            columns[number] = values.take(rows)
            continue
        chunks = values.__arrow_array__().chunks
        ends = np.cumsum([len(chunk) for chunk in chunks], dtype=np.int64)
        cut = np.searchsorted(rows, ends)
        parts = [
            chunk.take(pa.array(rows[low:high] - (end - len(chunk))))
            for chunk, low, high, end in zip(chunks, np.r_[0, cut[:-1]], cut, ends, strict=True)
            if high > low
        ]
        taken = pa.chunked_array(parts, type=values.__arrow_array__().type)
        columns[number] = pd.array(taken, dtype=values.dtype)
    part = pd.DataFrame(columns, index=frame.index[rows])
    part.columns = frame.columns
    return part


def _catalog_rows(catalog: pd.DataFrame, procedure: str) -> pd.DataFrame:
    return catalog[(catalog["procedure"].astype(str) == procedure).to_numpy()].reset_index(
        drop=True
    )


def _own_row(cost: pd.DataFrame, procedure: str) -> pd.DataFrame:
    """The compliance cost's row of the procedure (a figure on one procedure's cases lists every
    catalog procedure)."""
    return cost[cost["procedure"] == procedure].head(1)


def _composed(
    procedure: str,
    before: tuple[pd.DataFrame, pd.DataFrame],
    changed: pd.DataFrame,
    gone: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The procedure's figures after, from the cases the measures changed (``changed``, their
    figures recomputed; ``gone``, the ones that left) and the others' figures before; None when
    no case remains."""
    cost_before, cases_before = before
    mine = cases_before[cases_before["procedure"] == procedure]
    recomputed = set(changed["case_id"]) | set(gone)
    cases = pd.concat([mine[~mine["case_id"].isin(recomputed)], changed], ignore_index=True)
    if not len(cases):
        return None
    # compliance_cost's observed cost a run is the mean of the cases' (each with the direct
    # cost): the mean before, moved by what the changed cases now cost more or less and less
    # the cases gone — exactly the cost before when no case's cost changed.
    was = mine.set_index("case_id")["observed_cost"]
    delta = float(np.sum(changed["observed_cost"].to_numpy() - was.reindex(changed["case_id"])))
    row = cost_before.copy()
    if len(cases) == len(mine):
        row["observed_cost"] = row["observed_cost"] + delta / len(cases)
    else:
        total = row["observed_cost"] * len(mine) - float(was.reindex(gone).sum()) + delta
        row["observed_cost"] = total / len(cases)
    row["observed_yearly"] = row["observed_cost"] * row["runs_per_year"]
    return row, cases


def _compared(
    procedure: str,
    before: tuple[pd.DataFrame, pd.DataFrame],
    after: tuple[pd.DataFrame, pd.DataFrame],
    boot: int,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """One row of :func:`what_if`."""
    (cost_before, cases_before), (cost_after, cases_after) = before, after
    mine = cases_before[cases_before["procedure"] == procedure].reset_index(drop=True)
    # Each case's after figures beside its before ones (NaN for a case that left the log).
    paired = cases_after.set_index("case_id").reindex(mine["case_id"]).reset_index(drop=True)
    yearly = {}
    for name, table in (("before", cost_before), ("after", cost_after)):
        row = table[table["procedure"] == procedure].head(1)
        yearly[name] = {
            key: float(row[key].iloc[0]) if len(row) else np.nan
            for key in ("observed_cost", "observed_yearly", "runs_per_year")
        }
    saving = yearly["before"]["observed_yearly"] - yearly["after"]["observed_yearly"]
    per_case_after = {
        key: paired[key].to_numpy(dtype="float64", na_value=np.nan)
        for key in ("observed_cost", "working_days", "on_time")
    }
    per_case_cost = mine["observed_cost"].to_numpy(dtype="float64", na_value=np.nan)
    runs = yearly["before"]["runs_per_year"]
    low_high = _bootstrap(per_case_cost, per_case_after, runs, boot, rng)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = saving / yearly["before"]["observed_yearly"]
    return {
        "procedure": procedure,
        "cases": len(mine),
        "working_days_before": _mean(mine["working_days"]),
        "working_days_after": _mean(paired["working_days"]),
        "observed_cost_before": yearly["before"]["observed_cost"],
        "observed_cost_after": yearly["after"]["observed_cost"],
        "observed_yearly_before": yearly["before"]["observed_yearly"],
        "observed_yearly_after": yearly["after"]["observed_yearly"],
        "saving_yearly": saving,
        "saving_share": float(share) if np.isfinite(share) else np.nan,
        "on_time_rate_before": _mean(mine["on_time"]),
        "on_time_rate_after": _mean(paired["on_time"]),
        **low_high,
    }


def _mean(values: pd.Series) -> float:
    """The mean of the values present (NaN when none)."""
    present = values.dropna().astype("float64")
    return float(present.mean()) if len(present) else np.nan


def _bootstrap(
    cost_before: np.ndarray,
    after: dict[str, np.ndarray],
    runs: float,
    boot: int,
    rng: np.random.Generator,
) -> dict[str, float]:
    """95 % percentile intervals of the saving a year, the working days after and the on-time
    rate after, over ``boot`` resamples of the cases (rows of the arrays) with replacement."""
    n = len(cost_before)
    names = {"saving_yearly": [], "working_days_after": [], "on_time_rate_after": []}
    if n and boot:
        # Resamples in blocks of about two million drawn cases: memory stays flat.
        block = max(1, min(boot, 2_000_000 // n))
        for start in range(0, boot, block):
            draws = rng.integers(0, n, size=(min(block, boot - start), n))
            before_cost = _means(cost_before, draws)
            names["saving_yearly"].append(
                runs * (before_cost - _means(after["observed_cost"], draws))
            )
            names["working_days_after"].append(_means(after["working_days"], draws))
            names["on_time_rate_after"].append(_means(after["on_time"], draws))
    found = {}
    for name, parts in names.items():
        values = np.concatenate(parts) if parts else np.array([])
        values = values[np.isfinite(values)]
        low, high = np.quantile(values, [0.025, 0.975]) if len(values) else (np.nan, np.nan)
        found |= {f"{name}_low": float(low), f"{name}_high": float(high)}
    return found


def _means(values: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Per resample (row of ``draws``), the mean of the drawn values present (NaN when none)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if not np.isnan(values).any():  # every value present: the same sums, no mask to make
            return values[draws].sum(axis=1) / draws.shape[1]
        drawn = values[draws]
        present = ~np.isnan(drawn)
        return np.where(present, drawn, 0.0).sum(axis=1) / present.sum(axis=1)


def _dropped_by_procedure(dropped: list[str], cases: pd.DataFrame) -> dict[str, list[str]]:
    """The cases that lost every event (their ids), by procedure (in the order of ``cases``)."""
    found = cases[cases["case_id"].isin(dropped)]
    return {p: list(ids) for p, ids in found.groupby("procedure", sort=False)["case_id"]}


def _notes(result: pd.DataFrame, dropped: dict[str, list[str]]) -> list[str]:
    """What a reader of the what-if should know beside its figures."""
    notes = [
        "runs a year are the observed log's before and after: a measure changes what a run "
        "costs, not how many dossiers arrive."
    ]
    for procedure in result.loc[result["cases"] == 0, "procedure"]:
        notes.append(f"{procedure}: no case in the log; only its catalog changes.")
    for procedure, ids in dropped.items():
        shown = ", ".join(ids[:5]) + (", …" if len(ids) > 5 else "")
        notes.append(
            f"{procedure}: {len(ids)} case(s) lost every event to the measures and are left out "
            f"of the after figures ({shown})."
        )
    return notes
