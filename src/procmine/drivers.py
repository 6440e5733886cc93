"""What makes a dossier late: delay drivers learnt from the completed cases (issue 19, item 1).

Leadership asks "why are these late?". :func:`delay_drivers` answers with a model of the
completed cases that have a deadline — whether each was late (``target="late"``) or by how many
working days it overran (``"overrun"``) — from what the log holds about each case
(:func:`delay_features`, one row per case, built set-based from the events table and the figures
procmine already computes):

- its **procedure**; the **departments** it passed through; its **handoffs**, **bounces** and
  **excess bounces** (:func:`procmine.handoffs.ping_pong` by case, summed over its pairs) and its
  bounces on each **department pair** with enough cases (the other pairs pooled);
- its **steps not in the procedure** (events whose activity is not among the catalog's steps of
  its procedure; with a catalog only); the **department** and the **official at each step**
  (one-hot presence per activity, rare levels pooled into "other");
- the **workload at its arrival**: the cases its first department held at that moment;
- the **month** and **weekday** of its arrival, and the **days off** (calendar days that are not
  working days) between its arrival and its due date.

Explanation steps (an apology, a request for more time: ``explanation_activities``) take part in
no feature: a case writes them because it is late, so they would "explain" lateness by itself.

Gradient boosting (scikit-learn's ``HistGradientBoostingClassifier`` / ``Regressor``, seeded)
learns from the earlier arrivals and is scored on the last ``test_months`` months of arrivals —
never a random split, which would let the model learn from the future. The held-out score (ROC
AUC; mean absolute error for the overrun) has a bootstrap interval and stands beside a baseline
that always predicts the majority (AUC 0.5) or the training mean. The **drivers** are the
permutation importances on the held-out cases (a one-hot group is shuffled together, as one
driver), each beside a plain effect: the late rate of the cases with it and without it. When the
score's interval does not clear the baseline, no driver is named. The definitions and choices are
in ``docs/models.md`` (Delay drivers).

>>> import procmine as pm
>>> generated = pm.datasets.generate(1200, seed=5, truth=False)
>>> found = delay_drivers(generated.log, generated.catalog, n_repeats=2, n_bootstrap=20)
>>> found.attrs["n_train"] + found.attrs["n_test"], found.attrs["split"]["test_from"]
(1200, '2025-04-01')
>>> list(found.columns)[:4]
['driver', 'importance', 'low', 'high']
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from procmine import engines, sequences, vocabulary
from procmine.catalog import deadline_tables
from procmine.deadlines import has_deadlines, on_time
from procmine.formats import LANGUAGES, format_number, format_percent
from procmine.handoffs import has_departments, ping_pong

__all__ = [
    "DRIVER_COLUMNS",
    "FEATURES_ATTR",
    "MIN_CASES",
    "MIN_LATE",
    "MODEL_PARAMETERS",
    "OTHER",
    "SMALL_FIT",
    "TARGETS",
    "delay_drivers",
    "delay_features",
    "fit_delay_drivers",
    "permutation_drops",
    "roc_auc",
]

TARGETS = ("late", "overrun")
MIN_CASES = 200  # completed cases with a deadline: fewer, no model
MIN_LATE = 20  # late cases in the training and in the test set: fewer, no model
N_REPEATS = 10  # permutations of each driver
N_BOOTSTRAP = 200  # resamples of the held-out cases for the score's interval
# A level of a one-hot group (a department, an official, a department pair, a procedure) is a
# column of its own when at least this many cases have it (and as many lack it): max(30, 0.5 %).
MIN_LEVEL_CASES, LEVEL_SHARE = 30, 0.005
MAX_LEVELS = 10  # per one-hot group, the most frequent levels; the others pooled into OTHER
MAX_CATEGORIES = 250  # procedures with a column of their own, at most
OTHER = "(other)"  # the pooled level
IMPORTANCE_CASES = 5_000  # the held-out cases the permutations read at most (a seeded sample)
BATCH_CELLS = 10_000_000  # values the permutations predict at once (80 MB)
SMALL_FIT = 20_000  # training cases below which the boosting runs on one thread by default
VALIDATION_SHARE = 0.15  # the latest arrivals of the training months: early stopping's data
MODEL_PARAMETERS: dict[str, Any] = {
    "learning_rate": 0.1,
    "max_iter": 200,
    "max_leaf_nodes": 31,
    "min_samples_leaf": 20,
    "l2_regularization": 0.0,
    "early_stopping": True,
    "n_iter_no_change": 10,
}
DRIVER_COLUMNS = (
    "driver", "importance", "low", "high", "rate_with", "rate_without", "ratio", "cases_with",
    "text",
)  # fmt: skip
FEATURES_ATTR = "procmine_delay_features"  # where delay_features keeps its drivers
# The columns of delay_features that describe the case; every other column is a feature.
CASE_COLUMNS = ("case_id", "received", "late", "overrun_working_days")


# --------------------------------------------------------------------------- the drivers
@dataclass(frozen=True)
class _Driver:
    """One driver: a feature, or a one-hot group of columns that counts (and is shuffled) as one.

    ``kind``: ``category`` (one column whose number is the level: month, weekday), ``levels``
    (one column per level, present or not), ``flag`` (the case has it when the value is above
    0) or ``number`` (the case has it when the value is above the median). ``key`` names its words
    (:data:`_WORDS`), ``subject`` fills them (a department, a pair, an activity)."""

    key: str
    kind: str
    columns: tuple[str, ...]
    labels: tuple[str, ...] = ()
    subject: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "columns": self.columns,
            "labels": self.labels,
            "subject": self.subject,
        }


# Words per driver key: (name vi, name en, phrase vi, phrase en). A phrase names the cases that
# have the driver: {level} is a category's level, {more} a number's threshold ("more than 4").
_WORDS: dict[str, tuple[str, str, str, str]] = {
    "procedure": ("thủ tục", "procedure", "hồ sơ thủ tục “{level}”", "cases of “{level}”"),
    "month": (
        "tháng tiếp nhận",
        "month of arrival",
        "hồ sơ tiếp nhận vào {level}",
        "cases received in {level}",
    ),
    "weekday": (
        "ngày tiếp nhận trong tuần",
        "weekday of arrival",
        "hồ sơ tiếp nhận vào {level}",
        "cases received on a {level}",
    ),
    "days_off": (
        "ngày nghỉ đến hạn",
        "days off before the due date",
        "hồ sơ có {more} đến hạn",
        "cases with {more} before their due date",
    ),
    "visits": (
        "qua {subject}",
        "passes through {subject}",
        "hồ sơ qua {subject}",
        "cases that pass through {subject}",
    ),
    "handoffs": (
        "số lần chuyển giao",
        "handoffs",
        "hồ sơ có {more}",
        "cases with {more}",
    ),
    "bounces": (
        "số lần chuyển qua lại",
        "bounces",
        "hồ sơ có {more}",
        "cases with {more}",
    ),
    "excess_bounces": (
        "số lần chuyển qua lại ngoài quy trình",
        "excess bounces",
        "hồ sơ có {more}",
        "cases with {more}",
    ),
    "pair": (
        "chuyển qua lại giữa {subject}",
        "bounces between {subject}",
        "hồ sơ chuyển qua lại giữa {subject}",
        "cases that bounce between {subject}",
    ),
    "other_pairs": (
        "chuyển qua lại giữa các cặp đơn vị khác",
        "bounces on other pairs",
        "hồ sơ chuyển qua lại giữa các cặp đơn vị khác",
        "cases that bounce between other departments",
    ),
    "off_path": (
        "bước ngoài quy trình",
        "steps not in the procedure",
        "hồ sơ có {more}",
        "cases with {more}",
    ),
    "department_at": (
        "đơn vị thực hiện bước “{subject}”",
        "department at “{subject}”",
        "hồ sơ có bước “{subject}” do {level} thực hiện",
        "cases whose “{subject}” was done by {level}",
    ),
    "official_at": (
        "cán bộ thực hiện bước “{subject}”",
        "official at “{subject}”",
        "hồ sơ có bước “{subject}” do {level} thực hiện",
        "cases whose “{subject}” was done by {level}",
    ),
    "workload": (
        "số hồ sơ đơn vị đầu tiên đang giữ khi tiếp nhận",
        "workload at arrival",
        "hồ sơ đến khi đơn vị đầu tiên đang giữ {more}",
        "cases that arrived when their first department held {more}",
    ),
    "extra": ("{subject}", "{subject}", "hồ sơ có {subject} {more}", "cases with {subject} {more}"),
}
# What a number counts, for its threshold in words: (Vietnamese, English one, English several).
_UNITS: dict[str, tuple[str, str, str]] = {
    "days_off": ("ngày nghỉ", "day off", "days off"),
    "handoffs": ("lần chuyển giao", "handoff", "handoffs"),
    "bounces": ("lần chuyển qua lại", "bounce", "bounces"),
    "excess_bounces": ("lần chuyển qua lại ngoài quy trình", "excess bounce", "excess bounces"),
    "off_path": ("bước ngoài quy trình", "step not in the procedure", "steps not in the procedure"),
    "workload": ("hồ sơ", "case", "cases"),
}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip
_WEEKDAYS = {
    "vi": ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


# --------------------------------------------------------------------------- the features
def delay_features(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None = None,
    *,
    calendar: Any = None,
    engine: Any = None,
    extra_features: pd.DataFrame | None = None,
    explanation_activities: Iterable[str] = vocabulary.EXPLANATIONS,
    min_level_cases: int | None = None,
    per_case: pd.DataFrame | None = None,
    pingpong: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The features :func:`delay_drivers` learns from: one row per completed case with a
    deadline, in case id order.

    Columns: ``case_id``, ``received`` (first event), ``late``, ``overrun_working_days``
    (:func:`procmine.deadlines.on_time`), then one column per feature: ``procedure = <name>``
    (1 for the case's procedure), ``month`` (1–12) and ``weekday`` (0 = Monday) of arrival,
    ``days_off``, ``visits: <department>``,
    ``handoffs``, ``bounces``, ``excess_bounces``, ``bounces: <A> | <B>`` per pair with enough
    cases and ``bounces: other pairs``, ``steps_not_in_procedure`` (with a catalog; null for a
    procedure the catalog lacks), ``department at: <activity> = <department>`` and ``official
    at: <activity> = <official>`` (1 when the case did the activity there; ``(other)`` pools the
    rare ones), ``workload`` and one ``extra: <name>`` per column of ``extra_features`` (a frame
    indexed by case id, numbers or true/false; a case it lacks is null).

    A level (a department, a pair, an official at a step, a procedure) is a column of its own
    when at least ``min_level_cases`` cases have it and as many lack it (default: the larger
    of 30 and 0.5 % of the cases); the 10 most frequent such levels of a group are kept and the
    rest pooled. Features the log cannot give are left out and ``attrs["notes"]`` says why (no
    department column: no departments, ping-pong, workload; no catalog: no steps not in the
    procedure; a transfer history, which has no steps: no step features).
    ``attrs["procmine_delay_features"]`` lists the drivers: each feature, or each one-hot
    group, with its columns. ``attrs["reference"]`` is the ping-pong reference.

    The caller's tables are not computed again: ``per_case`` (the log's
    :func:`procmine.deadlines.per_case_table`, on_time's defaults) and ``pingpong`` (by case).

    >>> import procmine as pm
    >>> generated = pm.datasets.generate(300, seed=2, truth=False)
    >>> features = delay_features(generated.log, generated.catalog)
    >>> len(features), features[["handoffs", "bounces", "excess_bounces"]].ge(0).all().all()
    (300, np.True_)
    """
    events, calendar = engines.clocked(log, calendar)
    cases, status = _judged_cases(
        events, catalog, calendar, engine, explanation_activities, per_case
    )
    n = len(cases)
    threshold = min_level_cases or max(MIN_LEVEL_CASES, math.ceil(LEVEL_SHARE * n))
    row_of = np.full(len(status), -1, dtype=np.int64)
    row_of[cases["case_no"].to_numpy()] = np.arange(n)
    skip = _explanations(events["activity"], explanation_activities)
    blocks: list[tuple[list[_Driver], dict[str, Any]]] = [_case_drivers(cases, calendar, threshold)]
    notes: list[str] = []
    reference = None
    if has_departments(events):
        blocks.append(_visit_drivers(events, row_of, n, threshold))
        found, reference = _pingpong_drivers(events, catalog, engine, cases, threshold, pingpong)
        blocks.append(found)
        blocks.append(_workload_driver(events, status, row_of, n))
    else:
        notes.append(
            "No event has a department: departments visited, handoffs, bounces, workload and "
            "the department at each step are left out."
        )
    blocks += _step_blocks(events, catalog, cases, row_of, threshold, skip, notes)
    if extra_features is not None:
        blocks.append(_extra_drivers(extra_features, cases["case_id"]))
    return _assembled(
        cases, blocks, {"notes": notes, "reference": reference, "min_level_cases": threshold}
    )


def _step_blocks(
    events: pd.DataFrame,
    catalog: pd.DataFrame | None,
    cases: pd.DataFrame,
    row_of: np.ndarray,
    threshold: int,
    skip: np.ndarray,
    notes: list[str],
) -> list[tuple[list[_Driver], dict[str, Any]]]:
    """The step features of :func:`delay_features` (the department and official at each step,
    the steps not in the procedure), with a note in ``notes`` for those the log cannot give."""
    n, blocks = len(cases), []
    if engines.is_transfer_history(events):
        notes.append(
            "A transfer history has no steps: the department and official at each step and the "
            "steps not in the procedure are left out."
        )
        return blocks
    if has_departments(events):
        blocks.append(_step_drivers(events, "department", row_of, n, threshold, skip))
    if "resource" in events.columns and events["resource"].notna().any():
        blocks.append(_step_drivers(events, "resource", row_of, n, threshold, skip))
    if catalog is not None:
        blocks.append(_off_path_driver(events, catalog, cases, row_of, skip))
    else:
        notes.append("No catalog: steps not in the procedure are left out.")
    return blocks


def _judged_cases(
    events: pd.DataFrame,
    catalog: pd.DataFrame | None,
    calendar: Any,
    engine: Any,
    explanation: Iterable[str],
    per_case: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The completed cases with a deadline (``case_no``, ``case_id``, procedure, received and
    its reading, due, late, overrun), and every case's status by ``case_no`` (open, its first
    and last readings), which the workload reads (``per_case``: the per-case table
    ``on_time`` reads, when given)."""
    ids = engines.case_ids(events)
    readings = events.groupby("case_no", sort=True)["wm"].agg(["min", "max"])
    # By case_no, every number up to the largest (a filtered table may skip some).
    numbers = np.arange(int(ids["case_no"].max()) + 1 if len(ids) else 0)
    status = pd.DataFrame(
        {"received_wm": readings["min"], "last_wm": readings["max"], "open": False}
    ).reindex(numbers)
    if not has_deadlines(events, catalog):
        return _empty_cases(), status
    judged = on_time(
        events,
        catalog,
        calendar=calendar,
        engine=engine,
        explanation_activities=tuple(explanation),
        per_case=per_case,
    )
    number = pd.Series(ids["case_no"].to_numpy(), index=ids["case_id"].astype(str).to_numpy())
    judged["case_no"] = number.reindex(judged["case_id"].astype(str).to_numpy()).to_numpy()
    status.loc[judged.loc[judged["open"], "case_no"].to_numpy(), "open"] = True
    done = judged[~judged["open"] & judged["on_time"].notna()]
    cases = pd.DataFrame(
        {
            "case_no": done["case_no"].to_numpy(dtype=np.int64),
            "case_id": done["case_id"].astype(str).to_numpy(),
            "procedure": done["procedure"].astype(str).to_numpy(),
            "received": done["received"].reset_index(drop=True),
            "received_wm": status["received_wm"].to_numpy()[done["case_no"].to_numpy()],
            "due": done["due"].reset_index(drop=True),
            "late": ~done["on_time"].to_numpy(dtype=bool),
            "overrun_working_days": done["overrun_working_days"].to_numpy(dtype=np.float64),
        }
    )
    return cases, status


def _empty_cases() -> pd.DataFrame:
    """No case to model (no deadline at all)."""
    return pd.DataFrame(
        {
            "case_no": pd.Series(dtype=np.int64),
            "case_id": pd.Series(dtype=str),
            "procedure": pd.Series(dtype=str),
            "received": pd.Series(dtype="datetime64[us]"),
            "received_wm": pd.Series(dtype=np.float64),
            "due": pd.Series(dtype="datetime64[us]"),
            "late": pd.Series(dtype=bool),
            "overrun_working_days": pd.Series(dtype=np.float64),
        }
    )


def _explanations(activity: pd.Series, names: Iterable[str]) -> np.ndarray:
    """Per activity code of the events table, whether it is an explanation step (matched on
    the distinct names, :func:`procmine.vocabulary.matches`)."""
    categories = activity.cat.categories
    return np.array(vocabulary.matches(list(categories), tuple(names)), dtype=bool)


def _case_drivers(
    cases: pd.DataFrame, calendar: Any, threshold: int
) -> tuple[list[_Driver], dict[str, Any]]:
    """The procedure (one column per procedure with enough cases, the rest pooled), the month
    (1–12) and weekday (0 = Monday) of arrival, and the days off before the due date."""
    received = pd.Series(cases["received"]).reset_index(drop=True)
    if received.dt.tz is not None:
        received = received.dt.tz_convert(calendar.timezone).dt.tz_localize(None)
    codes, names = pd.factorize(cases["procedure"].to_numpy(), sort=True)
    per_level = np.bincount(codes, minlength=len(names))
    kept = _kept_levels(per_level, len(cases), threshold, MAX_CATEGORIES)
    level = np.where(kept[codes], codes, len(names))  # the rest pooled into OTHER
    labels = [*names, OTHER]
    shown = [c for c in np.unique(level) if c == len(names) or kept[c]] if kept.any() else []
    columns: dict[str, Any] = {}
    for c in shown:
        columns[f"procedure = {labels[c]}"] = (level == c).astype(np.float64)
    drivers = []
    if shown:
        procedure = _Driver("procedure", "levels", tuple(columns), tuple(labels[c] for c in shown))
        drivers.append(procedure)
    columns["month"] = received.dt.month.to_numpy(dtype=np.float64)
    columns["weekday"] = received.dt.day_of_week.to_numpy(dtype=np.float64)
    columns["days_off"] = _days_off(received, cases["due"], calendar)
    for name in ("month", "weekday"):
        present = tuple(str(int(v)) for v in np.unique(columns[name][~np.isnan(columns[name])]))
        drivers.append(_Driver(name, "category", (name,), present))
    drivers.append(_Driver("days_off", "number", ("days_off",)))
    return drivers, columns


def _days_off(received: pd.Series, due: pd.Series, calendar: Any) -> np.ndarray:
    """Calendar days that are not working days after the day of arrival, up to and including
    the due date's day: calendar days minus working days between them."""
    due = pd.Series(pd.to_datetime(due))
    if due.dt.tz is not None:
        due = due.dt.tz_convert(calendar.timezone).dt.tz_localize(None)
    start, end = received.dt.normalize(), due.dt.normalize()
    if not len(start) or end.isna().all():
        return np.full(len(start), np.nan)
    first, last = start.min(), max(end.max(), start.max())
    days = pd.date_range(first, last, freq="D")
    off = np.r_[0, np.cumsum(~np.asarray(calendar.is_working_day(days), dtype=bool))]
    at_start = ((start - first).dt.days + 1).to_numpy()
    at_end = (end - first).dt.days.fillna(-1).to_numpy(dtype=np.int64) + 1
    found = off[np.maximum(at_end, at_start)] - off[at_start]
    return np.where(end.isna().to_numpy(), np.nan, found).astype(np.float64)


def _presence(rows: np.ndarray, codes: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (row, code) pairs of the given events: which rows have which codes."""
    pairs = np.sort(rows.astype(np.int64) * width + codes)  # a sort: faster than np.unique
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if len(pairs) else pairs
    return pairs // width, pairs % width


def _kept_levels(
    cases_per_level: np.ndarray, n: int, threshold: int, most: int = MAX_LEVELS
) -> np.ndarray:
    """Which levels are columns of their own: at least ``threshold`` cases have them and as
    many lack them, and they are among the ``most`` most frequent such levels."""
    able = (cases_per_level >= threshold) & (n - cases_per_level >= threshold)
    order = np.lexsort((np.arange(len(cases_per_level)), -cases_per_level))
    ranked = order[able[order]][:most]
    kept = np.zeros(len(cases_per_level), dtype=bool)
    kept[ranked] = True
    return kept


def _visit_drivers(
    events: pd.DataFrame, row_of: np.ndarray, n: int, threshold: int
) -> tuple[list[_Driver], dict[str, Any]]:
    """Per department, whether the case passed through it (an in-sequence event there): a
    column for each department that enough cases pass through and as many do not."""
    names = list(events["department"].cat.categories)
    row = row_of[events["case_no"].to_numpy()]
    codes = events["department"].cat.codes.to_numpy().astype(np.int64)
    chosen = (row >= 0) & events["in_sequence"].to_numpy(dtype=bool) & (codes >= 0)
    rows, found = _presence(row[chosen], codes[chosen], len(names))
    per_level = np.bincount(found, minlength=len(names))
    kept = np.flatnonzero(_kept_levels(per_level, n, threshold))
    drivers, columns = [], {}
    for code in sorted(kept, key=lambda c: names[c]):
        column = f"visits: {names[code]}"
        values = np.zeros(n, dtype=np.float32)
        values[rows[found == code]] = 1.0
        columns[column] = values
        drivers.append(_Driver("visits", "flag", (column,), subject=names[code]))
    return drivers, columns


def _pingpong_drivers(
    events: pd.DataFrame,
    catalog: pd.DataFrame | None,
    engine: Any,
    cases: pd.DataFrame,
    threshold: int,
    pairs: pd.DataFrame | None = None,
) -> tuple[tuple[list[_Driver], dict[str, Any]], Any]:
    """Handoffs, bounces and excess bounces per case (:func:`procmine.handoffs.ping_pong` by
    case, summed over its pairs; ``pairs``: that table, when given), and the bounces on each
    pair with enough cases (the rest pooled); and the ping-pong reference."""
    n = len(cases)
    if pairs is None:
        pairs = ping_pong(events, catalog, by="case", engine=engine)
    where = pd.Series(np.arange(n), index=cases["case_id"].to_numpy())
    row = where.reindex(pairs["case_id"].astype(str).to_numpy()).to_numpy()
    known = ~np.isnan(row)
    pairs, row = pairs[known], row[known].astype(np.int64)
    columns: dict[str, Any] = {
        name: np.bincount(row, weights=pairs[name].to_numpy(dtype=np.float64), minlength=n)
        for name in ("handoffs", "bounces", "excess_bounces")
    }
    drivers = [_Driver(name, "number", (name,)) for name in columns]
    bounced = pairs["bounces"].to_numpy() > 0
    label = pairs["department_a"].astype(str) + " | " + pairs["department_b"].astype(str)
    codes, names = pd.factorize(label[bounced].to_numpy(), sort=True)
    if len(names):
        per_pair = np.bincount(codes, minlength=len(names))
        kept = _kept_levels(per_pair, n, threshold)
        counts = pairs["bounces"].to_numpy(dtype=np.float64)[bounced]
        rows = row[bounced]
        for code in np.flatnonzero(kept):
            column = f"bounces: {names[code]}"
            columns[column] = np.bincount(rows[codes == code], counts[codes == code], n)
            drivers.append(_Driver("pair", "flag", (column,), subject=str(names[code])))
        if (~kept[codes]).any():
            rest = ~kept[codes]
            columns["bounces: other pairs"] = np.bincount(rows[rest], counts[rest], n)
            drivers.append(_Driver("other_pairs", "flag", ("bounces: other pairs",)))
    return (drivers, columns), pairs.attrs.get("reference")


def _workload_driver(
    events: pd.DataFrame, status: pd.DataFrame, row_of: np.ndarray, n: int
) -> tuple[list[_Driver], dict[str, Any]]:
    """The cases the case's first department held at its arrival (docs/models.md): runs of
    that department (its consecutive in-sequence events in a case, from the run's first event
    to the next run's first event, or to the case's last event; an open case's last run lasts
    to the end) that began before the arrival and had not ended by then. Counted with sorted
    run starts and ends per department and ``searchsorted``: no loop over cases."""
    entries = events["in_sequence"].to_numpy(dtype=bool)
    case = events["case_no"].to_numpy()[entries]
    order = sequences.case_order(case, events["idx"].to_numpy()[entries])
    picked = np.flatnonzero(entries) if order is None else np.flatnonzero(entries)[order]
    case = events["case_no"].to_numpy()[picked]
    department = events["department"].cat.codes.to_numpy().astype(np.int64)[picked]
    wm = events["wm"].to_numpy(dtype=np.float64)[picked]
    starts = np.r_[True, (case[1:] != case[:-1]) | (department[1:] != department[:-1])]
    run_case, run_department, run_start = case[starts], department[starts], wm[starts]
    same_case = np.r_[run_case[1:] == run_case[:-1], False]
    last = np.where(status["open"].to_numpy(dtype=bool), np.inf, status["last_wm"].to_numpy())
    run_end = np.where(same_case, np.r_[run_start[1:], 0.0], last[run_case])
    held = run_end > run_start  # a run that holds the case for no time is never open
    first_run = np.r_[True, run_case[1:] != run_case[:-1]]
    first_department = np.full(len(status), -1, dtype=np.int64)
    first_department[run_case[first_run]] = run_department[first_run]
    modelled = np.flatnonzero(row_of >= 0)
    arrival = status["received_wm"].to_numpy()[modelled]
    counts = _open_runs(
        run_department[held], run_start[held], run_end[held], first_department[modelled], arrival
    )
    values = np.full(n, np.nan)
    values[row_of[modelled]] = counts
    return [_Driver("workload", "number", ("workload",))], {"workload": values}


def _open_runs(
    department: np.ndarray, start: np.ndarray, end: np.ndarray, at: np.ndarray, when: np.ndarray
) -> np.ndarray:
    """For each query (department ``at``, reading ``when``), the runs of that department with
    start < when < end — the runs begun before minus those ended by then (each run ends after
    it begins) — by ``searchsorted`` on keys that order runs by department, then time. A
    query without a department (-1) gets NaN."""
    if not len(department) or not len(at):
        return np.where(at >= 0, 0.0, np.nan)
    low = float(min(start.min(), when.min()))
    finite_end = np.where(np.isfinite(end), end, np.nan)
    high = float(np.nanmax([start.max(), when.max(), np.nanmax(finite_end, initial=low)]))
    span = high - low + 2.0
    end = np.where(np.isfinite(end), end, high + 1.0)
    starts = np.sort(department * span + (start - low))
    ends = np.sort(department * span + (end - low))
    base = np.maximum(at, 0) * span
    query = base + (when - low)
    begun = np.searchsorted(starts, query, "left") - np.searchsorted(starts, base, "left")
    ended = np.searchsorted(ends, query, "right") - np.searchsorted(ends, base, "left")
    return np.where(at >= 0, begun - ended, np.nan).astype(np.float64)


def _step_drivers(
    events: pd.DataFrame,
    unit: str,
    row_of: np.ndarray,
    n: int,
    threshold: int,
    skip: np.ndarray,
) -> tuple[list[_Driver], dict[str, Any]]:
    """Per activity, which department (``unit="department"``) or official (``"resource"``)
    did it in the case: one column per level with enough cases (among the cases with the
    activity; the rest pooled into :data:`OTHER`), one driver per activity. Side copies and
    explanation steps take no part."""
    activities = list(events["activity"].cat.categories)
    names = [*events[unit].cat.categories, OTHER]
    width = len(names)
    activity = events["activity"].cat.codes.to_numpy().astype(np.int64)
    codes = events[unit].cat.codes.to_numpy().astype(np.int64)
    row = row_of[events["case_no"].to_numpy()]
    chosen = (row >= 0) & (codes >= 0) & (activity >= 0) & ~events["side_copy"].to_numpy(bool)
    chosen[chosen] = ~skip[activity[chosen]]
    rows, keys = _presence(
        row[chosen], activity[chosen] * width + codes[chosen], len(activities) * width
    )
    order = np.argsort(keys, kind="stable")
    rows, keys = rows[order], keys[order]
    group, level = keys // width, keys % width
    bounds = np.searchsorted(group, np.arange(len(activities) + 1))
    per_level = np.bincount(keys, minlength=len(activities) * width).reshape(-1, width)
    with_activity = np.bincount(
        _presence(rows, group, len(activities))[1], minlength=len(activities)
    )
    prefix, key = ("department at", "department_at") if unit == "department" else (
        "official at", "official_at")  # fmt: skip
    drivers, columns = [], {}
    for a in sorted(range(len(activities)), key=lambda code: activities[code]):
        part = slice(bounds[a], bounds[a + 1])
        kept = _kept_levels(per_level[a], with_activity[a], threshold)
        kept &= per_level[a] <= n - threshold
        if not kept.any():
            continue
        pooled = np.where(kept[level[part]], level[part], width - 1)  # the rest: OTHER
        found_rows, found = _presence(rows[part], pooled, width)
        shown = [c for c in np.unique(found) if (found == c).sum() >= threshold]
        labels = tuple(names[c] for c in shown)
        names_of = tuple(f"{prefix}: {activities[a]} = {label}" for label in labels)
        for c, column in zip(shown, names_of, strict=True):
            values = np.zeros(n, dtype=np.float64)
            values[found_rows[found == c]] = 1.0
            columns[column] = values
        drivers.append(_Driver(key, "levels", names_of, labels, subject=activities[a]))
    return drivers, columns


def _off_path_driver(
    events: pd.DataFrame,
    catalog: pd.DataFrame,
    cases: pd.DataFrame,
    row_of: np.ndarray,
    skip: np.ndarray,
) -> tuple[list[_Driver], dict[str, Any]]:
    """Per case, its events whose activity is not among the catalog's steps of its procedure
    (side copies, explanation steps and the ``start`` of a start/complete pair left out); null
    for a case whose procedure the catalog lacks."""
    _, steps = deadline_tables(catalog)
    procedures = pd.Index(sorted(set(cases["procedure"])), dtype=object)
    activities = pd.Index(events["activity"].cat.categories, dtype=object)
    p = procedures.get_indexer(steps["procedure"].astype(str))
    a = activities.get_indexer(steps["activity"].astype(str))
    approved = np.zeros((len(procedures), len(activities)), dtype=bool)
    approved[p[(p >= 0) & (a >= 0)], a[(p >= 0) & (a >= 0)]] = True
    listed = np.zeros(len(procedures), dtype=bool)
    listed[p[p >= 0]] = True
    case_procedure = procedures.get_indexer(cases["procedure"])
    activity = events["activity"].cat.codes.to_numpy().astype(np.int64)
    row = row_of[events["case_no"].to_numpy()]
    chosen = (row >= 0) & (activity >= 0) & ~events["side_copy"].to_numpy(dtype=bool)
    if "lifecycle" in events.columns and len(events["lifecycle"].cat.categories):
        starts = events["lifecycle"].cat.categories.str.lower() == "start"
        codes = events["lifecycle"].cat.codes.to_numpy()
        chosen &= ~((codes >= 0) & np.append(starts, False)[codes])
    chosen[chosen] = ~skip[activity[chosen]]
    off = chosen.copy()
    off[chosen] = ~approved[case_procedure[row[chosen]], activity[chosen]]
    counts = np.bincount(row[off], minlength=len(cases)).astype(np.float64)
    counts[~listed[case_procedure]] = np.nan
    name = "steps_not_in_procedure"
    return [_Driver("off_path", "number", (name,))], {name: counts}


def _extra_drivers(
    extra: pd.DataFrame | pd.Series, case_id: pd.Series
) -> tuple[list[_Driver], dict[str, Any]]:
    """The caller's own features, a frame indexed by case id: numbers (``number`` drivers) or
    true/false (``flag``); a case the frame lacks is null."""
    frame = extra.to_frame() if isinstance(extra, pd.Series) else extra
    index = frame.index.astype(str)
    if index.has_duplicates:
        raise ValueError("extra_features must have one row per case id (its index has repeats).")
    frame = frame.set_axis(index).reindex(pd.Index(case_id.astype(str)))
    drivers, columns = [], {}
    for name in frame.columns:
        values = frame[name]
        if pd.api.types.is_bool_dtype(values.dtype):
            kind = "flag"
        elif pd.api.types.is_numeric_dtype(values.dtype):
            kind = "number"
        else:
            raise ValueError(
                f"extra_features column {name!r} holds {values.dtype} values; give numbers or "
                "true/false (one-hot encode a category first)."
            )
        column = f"extra: {name}"
        columns[column] = values.astype("float64").to_numpy(na_value=np.nan)
        drivers.append(_Driver("extra", kind, (column,), subject=str(name)))
    return drivers, columns


def _assembled(
    cases: pd.DataFrame, blocks: list[tuple[list[_Driver], dict[str, Any]]], notes: dict[str, Any]
) -> pd.DataFrame:
    """The features frame: the case columns, then every block's feature columns (as one block
    of floats: a frame of hundreds of columns is built at once, not column by column); the
    drivers and the notes in ``attrs``."""
    drivers = [driver for block, _ in blocks for driver in block]
    values: dict[str, Any] = {}
    for _, columns in blocks:
        values.update(columns)
    n = len(cases)
    frame = pd.DataFrame(
        {
            "case_id": pd.array(cases["case_id"].to_numpy(), dtype="string"),
            "received": cases["received"],
            "late": cases["late"].to_numpy(dtype=bool),
            "overrun_working_days": cases["overrun_working_days"].to_numpy(dtype=np.float64),
        }
    )
    block = np.empty((n, len(values)), dtype=np.float64)
    for position, column in enumerate(values.values()):
        block[:, position] = column
    features = pd.DataFrame(block, columns=list(values), index=frame.index, copy=False)
    frame = pd.concat([frame, features], axis=1)
    frame.attrs = {FEATURES_ATTR: [driver.as_dict() for driver in drivers], **notes}
    return frame


# --------------------------------------------------------------------------- the model
def delay_drivers(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None = None,
    *,
    target: Literal["late", "overrun"] = "late",
    calendar: Any = None,
    engine: Any = None,
    seed: int = 0,
    test_months: int = 3,
    max_cases: int = 200_000,
    extra_features: pd.DataFrame | None = None,
    explanation_activities: Iterable[str] = vocabulary.EXPLANATIONS,
    min_level_cases: int | None = None,
    n_repeats: int = N_REPEATS,
    n_bootstrap: int = N_BOOTSTRAP,
    lang: str = "en",
    n_threads: int | None = None,
    per_case: pd.DataFrame | None = None,
    pingpong: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """What makes the completed cases late: the drivers of a model of their lateness, ranked.

    ``target="late"``: whether a completed case with a deadline was late
    (``HistGradientBoostingClassifier``, scored by ROC AUC); ``"overrun"``: by how many working
    days it overran (0 when on time; ``HistGradientBoostingRegressor``, scored by the mean
    absolute error). The features are those of :func:`delay_features` (``extra_features``, a
    frame indexed by case id, adds the caller's own); the model and its report are those of
    :func:`fit_delay_drivers`: one row per driver, most important first — ``driver``,
    ``importance`` (the held-out score's mean drop when the driver is shuffled) with its
    interval ``low``–``high``, ``rate_with`` / ``rate_without`` (the late rate, or the mean
    overrun, of the cases with and without the driver), ``ratio``, ``cases_with`` and ``text``
    (in ``lang``, "vi" or "en"). ``attrs``: ``score`` with its ``interval`` beside the
    ``baseline``, ``split`` (the arrival dates of the training and test sets), ``n_train``,
    ``n_test``, ``parameters``, ``message`` and more (docs/models.md).

    Fewer than 200 completed cases with a deadline, or fewer than 20 late ones in the training
    or the test set: no model, an empty table, and ``attrs["message"]`` says why (a result, not
    an error, so a report can show it). Above ``max_cases`` completed cases the model is fitted
    on a seeded sample of that many, and the message says so. The same log and arguments give
    the same result. ``per_case`` and ``pingpong``, when the caller has them: as in
    :func:`delay_features`.
    """
    features = delay_features(
        log,
        catalog,
        calendar=calendar,
        engine=engine,
        extra_features=extra_features,
        explanation_activities=explanation_activities,
        min_level_cases=min_level_cases,
        per_case=per_case,
        pingpong=pingpong,
    )
    return fit_delay_drivers(
        features,
        target=target,
        seed=seed,
        test_months=test_months,
        max_cases=max_cases,
        n_repeats=n_repeats,
        n_bootstrap=n_bootstrap,
        lang=lang,
        n_threads=n_threads,
    )


@dataclass(frozen=True)
class _Split:
    """The cases the model reads (rows of the features, a seeded sample above ``max_cases``):
    those it learns from (``fit``), its early-stopping set (``validation``: the latest
    arrivals of the training months) and the held-out ``test`` set (the last months)."""

    fit: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    dates: dict[str, str]


def fit_delay_drivers(
    features: pd.DataFrame,
    *,
    target: Literal["late", "overrun"] = "late",
    seed: int = 0,
    test_months: int = 3,
    max_cases: int = 200_000,
    n_repeats: int = N_REPEATS,
    n_bootstrap: int = N_BOOTSTRAP,
    lang: str = "en",
    n_threads: int | None = None,
) -> pd.DataFrame:
    """The drivers of :func:`delay_drivers` from a frame of :func:`delay_features`.

    The last ``test_months`` calendar months of arrivals (from the first day of the month
    ``test_months - 1`` months before the last arrival's) are the test set; the earlier ones
    train the model, the latest 15 % of them (by arrival) deciding when boosting stops. The
    held-out score's 95 % interval is a percentile bootstrap over the test cases
    (``n_bootstrap`` seeded resamples); the driver importances are permutation importances on
    the test cases (at most 5,000, a seeded sample), each driver's columns shuffled together
    ``n_repeats`` times (:func:`permutation_drops`), ``low``/``high`` the mean ± 1.96 standard
    errors over the shuffles.

    ``attrs["drivers"]`` says, row by row, what each driver is for a program that looks one up
    (the candidates' evidence): ``key`` (``pair``, ``procedure``, ``official_at``, …: the keys of
    docs/models.md), ``subject`` (the pair ``"A | B"``, the activity, the department), ``level``
    (the level of a category or one-hot group its plain effect names) and its ``columns``.

    ``n_threads``: the OpenMP threads of scikit-learn's boosting. None: one below
    :data:`SMALL_FIT` training cases — there the threads' start-up costs more than they save,
    and on a busy machine ten times more — and scikit-learn's default (every core) above.
    The result does not depend on it.
    """
    _check_arguments(target, test_months, max_cases, n_repeats, n_bootstrap, lang)
    if FEATURES_ATTR not in features.attrs or not set(CASE_COLUMNS) <= set(features.columns):
        raise ValueError(
            "fit_delay_drivers reads a frame of delay_features (its attrs list the drivers); "
            "build one with procmine.drivers.delay_features(log, catalog)."
        )
    drivers = [_Driver(**spec) for spec in features.attrs[FEATURES_ATTR]]
    attrs = _base_attrs(features, target, seed, test_months, max_cases, n_repeats, n_bootstrap)
    late = features["late"].to_numpy(dtype=bool)
    if len(features) < MIN_CASES:
        return _without_drivers(attrs, _too_few(len(features), lang))
    split = _split(features["received"], seed, test_months, max_cases, lang, attrs)
    counts = {
        name: int(late[rows].sum())
        for name, rows in (("training", np.r_[split.fit, split.validation]), ("test", split.test))
    }
    attrs.update(
        split=split.dates,
        n_train=len(split.fit) + len(split.validation),
        n_test=len(split.test),
        late_train=counts["training"],
        late_test=counts["test"],
    )
    if min(counts.values()) < MIN_LATE:
        return _without_drivers(attrs, _too_few_late(counts, attrs, lang))
    if n_threads is None and attrs["n_train"] < SMALL_FIT:
        n_threads = 1
    attrs["parameters"]["n_threads"] = n_threads
    with _threads(n_threads):
        return _modelled_drivers(features, drivers, split, attrs, lang)


def _modelled_drivers(
    features: pd.DataFrame,
    drivers: list[_Driver],
    split: _Split,
    attrs: dict[str, Any],
    lang: str,
) -> pd.DataFrame:
    """The model fitted, scored against the baseline, and (when it clears it) its drivers."""
    target, parameters = attrs["target"], attrs["parameters"]
    seed = parameters["seed"]
    X = _matrix(features, drivers)
    late = features["late"].to_numpy(dtype=np.float64)
    y = late if target == "late" else features["overrun_working_days"].to_numpy(np.float64)
    model = _fitted(X, y, split, target, seed)
    parameters["n_iter"] = int(model.n_iter_)
    predict = _predictor(model, target)
    baseline = float(y[np.r_[split.fit, split.validation]].mean())
    attrs.update(
        _held_out(predict(X[split.test]), y[split.test], baseline, target, seed,
                  parameters["n_bootstrap"])
    )  # fmt: skip
    if not attrs["clears"]:
        return _without_drivers(attrs, _unclear(attrs, lang))
    rows = _importance_rows(split.test, seed)
    ends = np.cumsum([len(driver.columns) for driver in drivers])
    groups = [list(range(end - len(d.columns), end)) for d, end in zip(drivers, ends, strict=True)]
    drops = permutation_drops(
        predict, X[rows], y[rows], groups, _scorer(target),
        n_repeats=parameters["n_repeats"], seed=seed,
    )  # fmt: skip
    attrs["importance_cases"] = len(rows)
    table, attrs["drivers"] = _table(
        features, drivers, drops, y, target, parameters["min_level_cases"], lang
    )
    attrs["message"] = _modelled(attrs, lang)
    table.attrs = attrs
    return table


def _threads(n_threads: int | None) -> Any:
    """A context in which scikit-learn's boosting runs on ``n_threads`` OpenMP threads (None:
    its default, every core). scikit-learn is loaded first: a limit applies to the thread pools
    of the libraries loaded when it is set."""
    import sklearn.ensemble  # noqa: F401  (loads scikit-learn's OpenMP runtime)

    if n_threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=n_threads, user_api="openmp")


def _check_arguments(
    target: str, test_months: int, max_cases: int, n_repeats: int, n_bootstrap: int, lang: str
) -> None:
    """Refuse arguments the model cannot run with, saying which."""
    if target not in TARGETS:
        raise ValueError(f"target must be one of {list(TARGETS)}; got {target!r}.")
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {list(LANGUAGES)}; got {lang!r}.")
    for name, value, least in (
        ("test_months", test_months, 1),
        ("max_cases", max_cases, MIN_CASES),
        ("n_repeats", n_repeats, 1),
        ("n_bootstrap", n_bootstrap, 1),
    ):
        if not isinstance(value, int | np.integer) or value < least:
            raise ValueError(f"{name} must be a whole number of at least {least}; got {value!r}.")


def _base_attrs(
    features: pd.DataFrame,
    target: str,
    seed: int,
    test_months: int,
    max_cases: int,
    n_repeats: int,
    n_bootstrap: int,
) -> dict[str, Any]:
    """The result's ``attrs`` before the model: what was asked, with nothing measured yet."""
    model = (
        "HistGradientBoostingClassifier" if target == "late" else "HistGradientBoostingRegressor"
    )
    specs = features.attrs[FEATURES_ATTR]
    parameters = {
        "model": model,
        **MODEL_PARAMETERS,
        "random_state": seed,
        "n_iter": None,
        "validation": f"the latest {VALIDATION_SHARE:.0%} of the training arrivals",
        "seed": seed,
        "test_months": test_months,
        "max_cases": max_cases,
        "n_threads": None,
        "n_repeats": n_repeats,
        "n_bootstrap": n_bootstrap,
        "importance_cases_at_most": IMPORTANCE_CASES,
        "min_level_cases": features.attrs.get("min_level_cases", MIN_LEVEL_CASES),
        "features": sum(len(spec["columns"]) for spec in specs),
        "drivers": len(specs),
    }
    return {
        "target": target,
        "metric": "roc_auc" if target == "late" else "mae",
        "score": None,
        "interval": None,
        "baseline": 0.5 if target == "late" else None,
        "baseline_interval": None,
        "clears": False,
        "split": None,
        "n_cases": len(features),
        "n_train": 0,
        "n_test": 0,
        "late_train": None,
        "late_test": None,
        "sampled": False,
        "importance_cases": 0,
        "drivers": [],
        "parameters": parameters,
        "message": None,
        "notes": list(features.attrs.get("notes", [])),
        "reference": features.attrs.get("reference"),
    }


def _without_drivers(attrs: dict[str, Any], message: str) -> pd.DataFrame:
    """No driver named, and why."""
    table = pd.DataFrame({name: pd.Series(dtype=_DTYPES[name]) for name in DRIVER_COLUMNS})
    attrs["message"] = message + attrs.pop("sample_note", "")
    table.attrs = attrs
    return table


_DTYPES = {"driver": "string", "importance": "float64", "low": "float64", "high": "float64",
           "rate_with": "float64", "rate_without": "float64", "ratio": "float64",
           "cases_with": "int64", "text": "string"}  # fmt: skip


def _split(
    received: pd.Series,
    seed: int,
    test_months: int,
    max_cases: int,
    lang: str,
    attrs: dict[str, Any],
) -> _Split:
    """The time split (and the seeded sample above ``max_cases``): the test set is the last
    ``test_months`` calendar months of arrivals, the training set every earlier arrival, and its
    latest :data:`VALIDATION_SHARE` the early-stopping set."""
    n = len(received)
    rows = np.arange(n)
    if n > max_cases:
        rows = np.sort(np.random.default_rng(seed).choice(n, max_cases, replace=False))
        attrs["sampled"] = True
        attrs["sample_note"] = (
            f" Mô hình được khớp trên một mẫu ngẫu nhiên (seed {seed}) gồm "
            f"{format_number(max_cases, 'vi')} trong {format_number(n, 'vi')} hồ sơ đã hoàn thành."
            if lang == "vi"
            else f" The model was fitted on a seeded sample (seed {seed}) of "
            f"{format_number(max_cases, 'en')} of the {format_number(n, 'en')} completed cases."
        )
    local = pd.Series(pd.to_datetime(received)).iloc[rows]
    if local.dt.tz is not None:
        local = local.dt.tz_localize(None)
    when = local.to_numpy()
    last = pd.Timestamp(when.max())
    cutoff = (last.to_period("M") - (test_months - 1)).start_time
    in_test = when >= np.datetime64(cutoff)
    train, train_when = rows[~in_test], when[~in_test]
    by_time = train[np.lexsort((train, train_when))]
    held = round(VALIDATION_SHARE * len(train))
    day = lambda stamp: None if pd.isna(stamp) else pd.Timestamp(stamp).date().isoformat()  # noqa: E731
    dates = {
        "train_from": day(train_when.min()) if len(train) else None,
        "train_to": day(train_when.max()) if len(train) else None,
        "test_from": day(cutoff),
        "test_to": day(last),
    }
    return _Split(
        fit=np.sort(by_time[: len(by_time) - held]),
        validation=np.sort(by_time[len(by_time) - held :]),
        test=rows[in_test],
        dates=dates,
    )


def _matrix(features: pd.DataFrame, drivers: list[_Driver]) -> np.ndarray:
    """The feature columns as one float matrix (null as NaN), in the order of the drivers'
    columns."""
    names = [column for driver in drivers for column in driver.columns]
    return features[names].to_numpy(dtype=np.float64, na_value=np.nan)


def _fitted(X: np.ndarray, y: np.ndarray, split: _Split, target: str, seed: int) -> Any:
    """The gradient-boosting model, fitted on the training months; the latest of them stop the
    boosting (without them, or when the rest lacks late or on-time cases: 100 rounds). Every
    feature is a number (a one-hot column is 0 or 1): no categorical preprocessing, which would
    cost more than the trees on the permutations' predictions."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    kind = HistGradientBoostingClassifier if target == "late" else HistGradientBoostingRegressor
    parameters = {**MODEL_PARAMETERS, "random_state": seed}
    fit, validation = split.fit, split.validation
    two_classes = target != "late" or len(np.unique(y[fit])) == 2
    if len(validation) < 2 or not two_classes:
        fit, validation = np.sort(np.r_[fit, validation]), None
        parameters.update(early_stopping=False, max_iter=100)
    model = kind(**parameters)
    if validation is None:
        return model.fit(X[fit], y[fit])
    return model.fit(X[fit], y[fit], X_val=X[validation], y_val=y[validation])


def _predictor(model: Any, target: str) -> Callable[[np.ndarray], np.ndarray]:
    """What the score reads of the model: the probability of being late, or the overrun."""
    if target == "late":
        return lambda X: model.predict_proba(X)[:, 1]
    return model.predict


def _scorer(target: str) -> Callable[[np.ndarray, np.ndarray], float]:
    """The held-out score, larger is better: ROC AUC, or minus the mean absolute error."""
    if target == "late":
        return roc_auc
    return lambda y, p: -float(np.mean(np.abs(y - p)))


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """The area under the ROC curve of ``score`` for the true/false ``y``: the chance that a
    random positive scores above a random negative (ties count half), from the ranks of the
    scores — scikit-learn's ``roc_auc_score`` without its checks, which cost more than the
    area on this module's thousands of calls. NaN unless both classes occur.

    >>> roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.75
    """
    from scipy.stats import rankdata

    positive = np.asarray(y) > 0.5
    n_positive = int(positive.sum())
    n_negative = len(positive) - n_positive
    if not n_positive or not n_negative:
        return float("nan")
    ranks = rankdata(score)
    return float(
        (ranks[positive].sum() - n_positive * (n_positive + 1) / 2) / (n_positive * n_negative)
    )


def _held_out(
    predicted: np.ndarray, y: np.ndarray, baseline: float, target: str, seed: int, n_bootstrap: int
) -> dict[str, Any]:
    """The held-out score with its 95 % percentile-bootstrap interval (``n_bootstrap`` seeded
    resamples of the test cases), the baseline's, and whether the score clears the baseline:
    ROC AUC's interval above 0.5; for the overrun, the interval of the baseline's error minus
    the model's (the same resamples) above 0."""
    n = len(y)
    samples = np.random.default_rng(seed).integers(0, n, size=(n_bootstrap, n))
    if target == "late":
        score = _scorer("late")
        both = [s for s in samples if 0 < y[s].sum() < n]
        boot = np.array([score(y[s], predicted[s]) for s in both])
        low, high = np.percentile(boot, [2.5, 97.5]) if len(boot) else (np.nan, np.nan)
        return {
            "score": score(y, predicted),
            "interval": (float(low), float(high)),
            "baseline": 0.5,
            "baseline_interval": None,
            "clears": bool(low > 0.5),
        }
    error, base_error = np.abs(y - predicted), np.abs(y - baseline)
    boot, base_boot = error[samples].mean(axis=1), base_error[samples].mean(axis=1)
    low, high = np.percentile(boot, [2.5, 97.5])
    base_low, base_high = np.percentile(base_boot, [2.5, 97.5])
    gain_low = np.percentile(base_boot - boot, 2.5)
    return {
        "score": float(error.mean()),
        "interval": (float(low), float(high)),
        "baseline": float(base_error.mean()),
        "baseline_interval": (float(base_low), float(base_high)),
        "clears": bool(gain_low > 0),
    }


def _importance_rows(test: np.ndarray, seed: int) -> np.ndarray:
    """The held-out cases the permutations read: all, or a seeded sample of
    :data:`IMPORTANCE_CASES`."""
    if len(test) <= IMPORTANCE_CASES:
        return test
    return np.sort(np.random.default_rng(seed).choice(test, IMPORTANCE_CASES, replace=False))


def permutation_drops(
    predict: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    groups: list[list[int]],
    score: Callable[[np.ndarray, np.ndarray], float],
    *,
    n_repeats: int = N_REPEATS,
    seed: int = 0,
) -> np.ndarray:
    """Permutation importances of groups of columns: per group (rows) and repeat (columns), the
    drop of ``score(y, predict(X))`` when the group's columns are shuffled together, the same
    shuffle for each of its columns.

    The shuffles are those of :func:`sklearn.inspection.permutation_importance` with
    ``random_state=seed`` (each group's own ``RandomState`` from one seed drawn from ``seed``,
    each shuffle applied on top of the previous), so a group of one column gets exactly its
    importances. Only the rows whose values a shuffle changed are predicted again (a model
    predicts each row on its own: a one-hot level that few cases have costs few predictions),
    and they are predicted in large batches (one call per :data:`BATCH_CELLS` values, not one
    per shuffle).

    >>> X = np.array([[0.0, 1.0], [1.0, 1.0], [0.0, 0.0], [1.0, 0.0]] * 5)
    >>> drops = permutation_drops(lambda rows: rows[:, 0], X, X[:, 0], [[0], [1]],
    ...                           lambda y, p: -np.abs(y - p).mean(), n_repeats=3)
    >>> bool(drops[0].mean() > 0), float(drops[1].mean())
    (True, 0.0)
    """
    base_prediction = np.asarray(predict(X), dtype=np.float64)
    base = score(y, base_prediction)
    drops = np.zeros((len(groups), n_repeats), dtype=np.float64)
    limit = max(len(X), BATCH_CELLS // max(1, X.shape[1]))
    pending: list[tuple[int, int, np.ndarray, np.ndarray]] = []

    def flush() -> None:
        if not pending:
            return
        predicted = np.asarray(predict(np.concatenate([rows for *_, rows in pending])))
        ends = np.cumsum([len(rows) for *_, rows in pending])
        for (g, repeat, changed, _), part in zip(
            pending, np.split(predicted, ends[:-1]), strict=True
        ):
            shuffled = base_prediction.copy()
            shuffled[changed] = part
            drops[g, repeat] = base - score(y, shuffled)
        pending.clear()

    for g, repeat, changed, rows in _shuffled_rows(X, groups, n_repeats, seed):
        pending.append((g, repeat, changed, rows))
        if sum(len(rows) for *_, rows in pending) >= limit:
            flush()
    flush()
    return drops


def _shuffled_rows(
    X: np.ndarray, groups: list[list[int]], n_repeats: int, seed: int
) -> Iterable[tuple[int, int, np.ndarray, np.ndarray]]:
    """For each group and repeat that changes some row: the rows changed by the shuffle (their
    positions, and the rows with the group's columns shuffled), with the shuffles of
    :func:`sklearn.inspection.permutation_importance`."""
    group_seed = np.random.RandomState(seed).randint(np.iinfo(np.int32).max + 1)
    for g, columns in enumerate(groups):
        state = np.random.RandomState(group_seed)
        order = np.arange(len(X))
        original = X[:, columns]
        current = original
        for repeat in range(n_repeats):
            state.shuffle(order)
            current = current[order]
            same = (current == original) | (np.isnan(current) & np.isnan(original))
            changed = np.flatnonzero(~same.all(axis=1))
            if len(changed):
                rows = X[changed]
                rows[:, columns] = current[changed]
                yield g, repeat, changed, rows


# --------------------------------------------------------------------------- the words
def _table(
    features: pd.DataFrame,
    drivers: list[_Driver],
    drops: np.ndarray,
    y: np.ndarray,
    target: str,
    threshold: int,
    lang: str,
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """One row per driver, most important first: its importance with the interval of its mean
    over the shuffles, and its plain effect in words; and, row by row, what each driver is for
    a program (:func:`fit_delay_drivers`' ``attrs["drivers"]``)."""
    repeats = drops.shape[1]
    mean = drops.mean(axis=1)
    error = drops.std(axis=1, ddof=1) / math.sqrt(repeats) if repeats > 1 else np.zeros(len(mean))
    rows, levels = [], []
    for driver, importance, half in zip(drivers, mean, 1.96 * error, strict=True):
        having, words = _effect(features, driver, y, threshold)
        levels.append(words.get("level"))
        name = _name(driver, lang)
        rate_with, rate_without, ratio, count = _rates(y, having)
        rows.append(
            {
                "driver": name,
                "importance": float(importance),
                "low": float(importance - half),
                "high": float(importance + half),
                "rate_with": rate_with,
                "rate_without": rate_without,
                "ratio": ratio,
                "cases_with": count,
                "text": _text(driver, words, (rate_with, rate_without, ratio), target, lang),
            }
        )
    table = pd.DataFrame(rows, columns=list(DRIVER_COLUMNS)).astype(_DTYPES)
    order = np.lexsort((table["driver"].to_numpy(dtype=str), -table["importance"].to_numpy()))
    keys = [
        {"key": drivers[i].key, "subject": drivers[i].subject, "level": levels[i],
         "columns": list(drivers[i].columns)}
        for i in order
    ]  # fmt: skip
    return table.iloc[order].reset_index(drop=True), keys


def _rates(y: np.ndarray, having: np.ndarray | None) -> tuple[float, float, float, int]:
    """The late rate (or mean overrun) of the cases with and without, their ratio (infinite
    when only the cases with are ever late) and how many cases have it."""
    if having is None:
        return np.nan, np.nan, np.nan, 0
    rate_with, rate_without = float(y[having].mean()), float(y[~having].mean())
    ratio = rate_with / rate_without if rate_without > 0 else math.inf if rate_with > 0 else np.nan
    return rate_with, rate_without, ratio, int(having.sum())


def _effect(
    features: pd.DataFrame, driver: _Driver, y: np.ndarray, threshold: int
) -> tuple[np.ndarray | None, dict[str, Any]]:
    """Which cases have the driver, for its plain effect, and the words that say which:

    - a flag: its value is above 0;
    - a number: its value is above the median (``more``: the median);
    - a category or a one-hot group: the level whose cases are late most often relative to the
      others (``level``), among the levels that at least ``threshold`` cases have and as many
      lack.

    None when no such group of cases exists."""
    n = len(features)
    if driver.kind in ("flag", "number"):
        values = features[driver.columns[0]].to_numpy(dtype=np.float64, na_value=np.nan)
        if driver.kind == "flag":
            having = values > 0
            return (having if 0 < having.sum() < n else None), {}
        middle = float(np.nanmedian(values)) if np.isfinite(values).any() else np.nan
        having = values > middle
        return (having if 0 < having.sum() < n else None), {"more": middle}
    if driver.kind == "category":
        values = features[driver.columns[0]].to_numpy(dtype=np.float64, na_value=np.nan)
        options = [(values == float(label), label) for label in driver.labels]
    else:
        options = [
            (features[column].to_numpy() > 0, label)
            for column, label in zip(driver.columns, driver.labels, strict=True)
        ]
    best, best_ratio = None, -math.inf
    for having, label in options:
        count = int(having.sum())
        if count < threshold or n - count < threshold:
            continue
        ratio = _rates(y, having)[2]
        ratio = -math.inf if np.isnan(ratio) else ratio
        if best is None or ratio > best_ratio:
            best, best_ratio = (having, label), ratio
    if best is None:
        return None, {}
    return best[0], {"level": best[1]}


def _subject(driver: _Driver, lang: str) -> str:
    """The driver's subject as a reader writes it: a pair "A and B"."""
    if driver.key == "pair":
        first, second = driver.subject.split(" | ", 1)
        return f"{first} {'và' if lang == 'vi' else 'and'} {second}"
    return driver.subject


def _name(driver: _Driver, lang: str) -> str:
    """The driver's name in ``lang``."""
    return _WORDS[driver.key][0 if lang == "vi" else 1].format(subject=_subject(driver, lang))


def _level(driver: _Driver, label: str, lang: str) -> str:
    """A level of a category or one-hot group in words."""
    vi = lang == "vi"
    if label == OTHER:
        return {
            "procedure": "các thủ tục khác" if vi else "other procedures",
            "department_at": "đơn vị khác" if vi else "another department",
            "official_at": "cán bộ khác" if vi else "another official",
        }.get(driver.key, "khác" if vi else "other")
    if driver.key == "month":
        return f"tháng {label}" if vi else _MONTHS[int(label) - 1]
    if driver.key == "weekday":
        return _WEEKDAYS[lang][int(label)]
    return label


def _more(value: float, key: str, lang: str) -> str:
    """A number's threshold in words: "more than 4 handoffs", or "at least one handoff" above 0
    (a number of the caller's own: "more than 0.5")."""
    vi = lang == "vi"
    number = format_number(value, lang, 0 if float(value).is_integer() else 1)
    if key not in _UNITS:
        return f"{'hơn' if vi else 'more than'} {number}"
    noun, one, several = _UNITS[key]
    if value == 0:
        return f"ít nhất một {noun}" if vi else f"at least one {one}"
    if value == 1 and not vi:
        return f"more than one {one}"
    return f"hơn {number} {noun}" if vi else f"more than {number} {several}"


def _text(
    driver: _Driver,
    words: dict[str, Any],
    rates: tuple[float, float, float],
    target: str,
    lang: str,
) -> str:
    """The plain effect: "cases that bounce between A and B: 41% late vs 10%, 4.1×"."""
    vi = lang == "vi"
    if np.isnan(rates[0]):
        return (
            f"{_name(driver, lang)}: quá ít hồ sơ có và không có để so sánh"
            if vi
            else f"{_name(driver, lang)}: too few cases with and without it to compare"
        )
    template = _WORDS[driver.key][2 if vi else 3]
    if driver.key == "extra":
        template = (
            ("hồ sơ có {subject}" if vi else "cases with {subject}")
            if driver.kind == "flag"
            else ("hồ sơ có {subject} {more}" if vi else "cases whose {subject} is {more}")
        )
    phrase = template.format(
        subject=_subject(driver, lang),
        level=_level(driver, str(words.get("level", "")), lang),
        more=_more(words["more"], driver.key, lang) if "more" in words else "",
    )
    rate_with, rate_without, ratio = rates
    if target == "late":
        compared = (
            f"{format_percent(rate_with, lang, 0)} trễ hạn so với "
            f"{format_percent(rate_without, lang, 0)}"
            if vi
            else f"{format_percent(rate_with, lang, 0)} late vs "
            f"{format_percent(rate_without, lang, 0)}"
        )
    else:
        compared = (
            f"trễ trung bình {format_number(rate_with, lang, 1)} so với "
            f"{format_number(rate_without, lang, 1)} ngày làm việc"
            if vi
            else f"{format_number(rate_with, lang, 1)} vs {format_number(rate_without, lang, 1)}"
            " working days over the deadline on average"
        )
    if math.isfinite(ratio):
        times = format_number(ratio, lang, 1)
        compared += f", gấp {times} lần" if vi else f", {times}×"
    return f"{phrase}: {compared}"


def _too_few(n: int, lang: str) -> str:
    """Why there is no model: too few completed cases with a deadline."""
    if lang == "vi":
        return (
            f"Chỉ có {format_number(n, lang)} hồ sơ đã hoàn thành có thời hạn: cần ít nhất "
            f"{MIN_CASES} hồ sơ để tìm nguyên nhân trễ hạn; không lập mô hình."
        )
    return (
        f"Only {format_number(n, lang)} completed cases with a deadline: at least {MIN_CASES} "
        "are needed to learn what makes cases late; no model was fitted."
    )


def _too_few_late(counts: dict[str, int], attrs: dict[str, Any], lang: str) -> str:
    """Why there is no model: too few late cases in the training or the test set."""
    dates = attrs["split"]
    if lang == "vi":
        return (
            f"Quá ít hồ sơ trễ hạn: {counts['training']} trong tập huấn luyện (tiếp nhận "
            f"{dates['train_from']} – {dates['train_to']}) và {counts['test']} trong tập kiểm "
            f"tra ({dates['test_from']} – {dates['test_to']}); cần ít nhất {MIN_LATE} ở mỗi "
            "tập; không lập mô hình."
        )
    return (
        f"Too few late cases: {counts['training']} in the training set (received "
        f"{dates['train_from']} to {dates['train_to']}) and {counts['test']} in the test set "
        f"({dates['test_from']} to {dates['test_to']}); at least {MIN_LATE} in each are "
        "needed; no model was fitted."
    )


def _score_words(attrs: dict[str, Any], lang: str) -> str:
    """The held-out score with its interval and the baseline's, in words."""
    low, high = attrs["interval"]
    number = lambda value: format_number(value, lang, 2)  # noqa: E731
    if attrs["metric"] == "roc_auc":
        if lang == "vi":
            return (
                f"ROC AUC trên tập kiểm tra {number(attrs['score'])} (khoảng tin cậy 95% "
                f"{number(low)}–{number(high)}), so với {number(0.5)} của mô hình luôn dự "
                "đoán nhóm đông nhất"
            )
        return (
            f"Held-out ROC AUC {number(attrs['score'])} (95% interval {number(low)}–"
            f"{number(high)}) against {number(0.5)} for always predicting the majority"
        )
    if lang == "vi":
        return (
            f"Sai số tuyệt đối trung bình trên tập kiểm tra {number(attrs['score'])} ngày làm "
            f"việc (khoảng tin cậy 95% {number(low)}–{number(high)}), so với "
            f"{number(attrs['baseline'])} của mô hình luôn dự đoán giá trị trung bình"
        )
    return (
        f"Held-out mean absolute error {number(attrs['score'])} working days (95% interval "
        f"{number(low)}–{number(high)}) against {number(attrs['baseline'])} for always "
        "predicting the training mean"
    )


def _unclear(attrs: dict[str, Any], lang: str) -> str:
    """Why no driver is named: the score does not clear the baseline."""
    if lang == "vi":
        return (
            f"{_score_words(attrs, lang)}: mô hình không tốt hơn rõ rệt so với mức cơ sở, "
            "nên không nêu nguyên nhân nào."
        )
    return (
        f"{_score_words(attrs, lang)}: the interval does not clear the baseline, so no "
        "driver is named."
    )


def _modelled(attrs: dict[str, Any], lang: str) -> str:
    """What the model was fitted and scored on, in words."""
    dates = attrs["split"]
    if lang == "vi":
        text = (
            f"{_score_words(attrs, lang)}, trên {format_number(attrs['n_test'], lang)} hồ sơ "
            f"tiếp nhận từ {dates['test_from']} đến {dates['test_to']}; huấn luyện trên "
            f"{format_number(attrs['n_train'], lang)} hồ sơ tiếp nhận từ {dates['train_from']} "
            f"đến {dates['train_to']}."
        )
    else:
        text = (
            f"{_score_words(attrs, lang)}, on {format_number(attrs['n_test'], lang)} cases "
            f"received from {dates['test_from']} to {dates['test_to']}; trained on "
            f"{format_number(attrs['n_train'], lang)} cases received from "
            f"{dates['train_from']} to {dates['train_to']}."
        )
    return text + attrs.pop("sample_note", "")
