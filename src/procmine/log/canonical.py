"""Canonical assembly: an export's frame, as read, made the canonical log of
:mod:`procmine.schema`. Headers are mapped, text columns coded, each row that cannot be used gets
its quarantine reason, and the kept rows are ordered (cases by first appearance, each by time,
export order for ties) and built into columns once, with the load report in ``attrs``."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from procmine import schema
from procmine.log.clock import VIETNAM, Clock, log_clock, rezoned, stamp_offsets
from procmine.log.headers import TEXT_COLUMNS, missing_column_error, resolve_mapping
from procmine.log.parallel import gather, in_parallel
from procmine.log.report import (
    REASON_DUPLICATE,
    REASON_MISSING_CASE,
    REASONS,
    REPORT_KEY,
    LoadFindings,
    build_report,
)
from procmine.log.sources import LogReadError
from procmine.log.text import encode_text, materialise, nfc_column, nfc_text, non_empty

__all__ = ["RowPlan", "canonical"]


def canonical(
    frame: pd.DataFrame,
    info: dict[str, Any],
    mapping: Mapping[str, str] | None,
    *,
    timezone: str | None,
    country: str | None,
    missing: Sequence[str],
    dayfirst: bool,
    faults: Mapping[str, np.ndarray] | None = None,
    kept: dict[str, Any] | None = None,
    arrange: Callable[..., RowPlan | None] | None = None,
) -> pd.DataFrame:
    """The canonical log of ``frame`` (read by :func:`procmine.log.sources.read_source`, which
    says what it found in ``info``), its load report in ``attrs``. ``timezone`` and ``country``:
    the caller's, None to decide from the stamps (:mod:`procmine.log.clock`). ``faults``:
    {reason of :data:`REASONS`: row mask} found by the caller (a transfer history's), each
    applying to the rows no earlier reason took. ``kept``: a dict to fill with what the caller
    works on next (a transfer history's custody): ``rows`` (the rows of ``frame`` in log
    order), ``case_rank`` (their case ranks), ``department`` (the ``org:group`` column's
    distinct values and codes per row of ``frame``; None without one) and ``plan``.
    ``arrange(frame, chosen, rows, case_rank, dictionaries, codes, times)``: the caller's
    :class:`RowPlan` for the kept rows (None: none), worked out on the codes before any column
    is built; the report counts the kept rows only."""
    frame = frame.reset_index(drop=True)
    frame.columns = [unicodedata.normalize("NFC", str(c)) for c in frame.columns]
    _check_rows(frame, info)
    chosen, parsed, clock = _checked_mapping(frame, info, mapping, timezone, country, dayfirst)
    by_column = {column: header for header, column in chosen.items()}
    dictionaries, codes, nulled, case_ranked = _text_codes(frame, by_column, missing)
    stamps = parsed[schema.TIMESTAMP][0]
    reason = _reasons(frame[by_column[schema.TIMESTAMP]], codes, stamps, missing)
    for name, mask in sorted((faults or {}).items(), key=lambda item: REASONS.index(item[0])):
        reason[(reason == 0) & mask] = REASONS.index(name) + 1
    order, case_rank, times, ranked = _log_order(reason, codes[schema.CASE], stamps, case_ranked)
    # Ranks are sorted and a duplicate never removes the first row of a case.
    cases = int(case_rank[-1]) + 1 if len(case_rank) else 0
    duplicate = _duplicates(frame, chosen, codes, parsed, order, case_rank, times)
    if duplicate is not None:
        reason[order[duplicate]] = REASONS.index(REASON_DUPLICATE) + 1
        order, times, case_rank = order[~duplicate], times[~duplicate], case_rank[~duplicate]
    plan = None
    if arrange is not None:
        plan = arrange(frame, chosen, order, case_rank, dictionaries, codes, times)
    if kept is not None:
        department = schema.DEPARTMENT
        coded = (dictionaries[department], codes[department]) if department in codes else None
        kept.update(rows=order, case_rank=case_rank, department=coded, plan=plan)
    rank = case_rank if ranked else None
    if plan is None:
        texts: dict[str, Any] = _text_columns(dictionaries, codes, order, rank)
        counted = None
    else:  # built with the other columns, side by side
        plan.laid_out(order)
        texts = {
            c: partial(_planned_text, dictionaries[c], codes[c], c, order, rank, plan)
            for c in dictionaries
        }
        counted = _kept_view(codes, order)
    codes.clear()  # done with (but for those the plan's builders hold): freed before building
    del case_rank, rank
    log = _assemble(frame, info, chosen, parsed, texts, order, times, plan)
    found = LoadFindings(chosen, parsed, nulled, clock, cases, _warnings(frame, info, chosen))
    found.deadlines_unparseable = _unparseable_deadlines(frame, by_column, parsed, reason, missing)
    log.attrs[REPORT_KEY] = build_report(
        frame, info, found, reason, log if plan is None else counted
    )
    return log


@dataclass
class RowPlan:
    """The rows of the log as a caller arranges them before the columns are built (a transfer
    history's chain-of-custody order and holder markers): the columns are then built once, in
    that order.

    - ``pick``: per row of the log, its kept row (an index into the log order of the kept
      rows), or ``len(kept rows) + j`` for the added row j;
    - ``at``: per added row, the kept row whose case, time, procedure and deadline it takes;
    - ``values``: {canonical text column: (its text, per added row its code, -1 null)}; the
      other canonical columns but those four are null in added rows, as are the export's;
    - ``columns``: {name: column, or a function building it} the caller gives, in the log's
      row order: in place of the export's column of that name, a canonical column the log
      lacks in its canonical place, else after the export's.
    """

    pick: np.ndarray
    at: np.ndarray
    values: dict[str, tuple[pa.Array, np.ndarray]]
    columns: dict[str, Any]
    _laid: tuple[np.ndarray, ...] | None = field(default=None, repr=False, compare=False)

    def laid_out(self, order: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(per row of the log: the kept row its case, time, procedure and deadline are from,
        that row of the export, whether it is an added row; the added rows' places in the
        log), for the kept rows ``order``; worked out once."""
        if self._laid is None:
            added = np.flatnonzero(self.pick >= len(order))
            positions = self.pick.copy()
            positions[added] = self.at[self.pick[added] - len(order)]
            gaps = np.zeros(len(positions), dtype=bool)
            gaps[added] = True
            self._laid = (positions, order[positions], gaps, added)
        return self._laid  # type: ignore[return-value]


_TIMED = (schema.CASE, schema.TIMESTAMP, schema.PROCEDURE, schema.DEADLINE)  # added rows take


def _kept_view(codes: dict[str, np.ndarray], order: np.ndarray) -> pd.DataFrame:
    """What the load report reads of the log (its rows, how many departments and resources are
    null) for the kept rows only, when a :class:`RowPlan` added rows: per column, as many nulls
    as the kept rows have, in an Arrow column that holds nothing else."""
    columns = {}
    for column in (schema.DEPARTMENT, schema.RESOURCE):
        if column in codes:
            nulls = int(np.count_nonzero((codes[column] < 0)[order]))
            filled = pa.array(np.zeros(len(order) - nulls, dtype=np.int8))
            columns[column] = pd.arrays.ArrowExtensionArray(
                pa.concat_arrays([pa.nulls(nulls, pa.int8()), filled])
            )
    return pd.DataFrame(columns, index=pd.RangeIndex(len(order)))


def _unparseable_deadlines(
    frame: pd.DataFrame,
    by_column: dict[str, str],
    parsed: dict[str, tuple[pd.Series, str]],
    reason: np.ndarray,
    missing: Sequence[str],
) -> int:
    """Kept rows whose deadline cell holds something that is no date-time (31/02/2024): their
    deadline is null, the row stays."""
    if schema.DEADLINE not in parsed:
        return 0
    stamps = parsed[schema.DEADLINE][0].isna().to_numpy()
    kept = reason == 0
    candidates = np.flatnonzero(stamps & kept)
    if not len(candidates):
        return 0
    raw = frame[by_column[schema.DEADLINE]].iloc[candidates]
    return int(non_empty(raw, missing).sum())


def _check_rows(frame: pd.DataFrame, info: dict[str, Any]) -> None:
    """A :class:`~procmine.log.sources.LogReadError` when the export has no data row."""
    if len(frame):
        return
    name = info.get("source") or "The export"
    malformed = len(info.get("malformed", []))
    if malformed:
        raise LogReadError(
            f"{name} has no usable data rows: all {malformed} of them have the wrong number of "
            "fields (check the delimiter and the quoting)."
        )
    raise LogReadError(
        f"{name} has no data rows: only a header ({len(frame.columns)} columns), no events."
    )


def _checked_mapping(
    frame: pd.DataFrame,
    info: dict[str, Any],
    mapping: Mapping[str, str] | None,
    timezone: str | None,
    country: str | None,
    dayfirst: bool,
) -> tuple[dict[str, str], dict[str, tuple[pd.Series, str]], Clock]:
    """The header mapping, the parsed time columns in the log's zone, and the log's clock; an
    error when a required column is missing."""
    first = timezone or VIETNAM  # stamps are parsed in this zone until the log's is known
    chosen, parsed, rejected = resolve_mapping(frame, mapping, timezone=first, dayfirst=dayfirst)
    absent = [c for c in schema.REQUIRED if c not in chosen.values()]
    if absent:
        raise missing_column_error(frame, absent, rejected)
    by_column = {column: header for header, column in chosen.items()}
    header = by_column[schema.TIMESTAMP]
    sample = info.get("stamp_sample") if header == schema.TIMESTAMP else None
    offsets = stamp_offsets(frame[header] if sample is None else sample)
    clock = log_clock(offsets, timezone, country)
    if clock.timezone != first:
        raw = {column: frame[by_column[column]] for column in parsed}
        parsed = rezoned(parsed, raw, clock.timezone, dayfirst)
    return chosen, parsed, clock


def _displaced(frame: pd.DataFrame, chosen: dict[str, str]) -> dict[str, str]:
    """{export header: the name it is kept under} for headers that are named like a canonical
    column another header was mapped onto (``mapping={"org:role": "org:group"}`` on an export
    that has ``org:group`` too): kept as ``export:org:group``."""
    taken = set(chosen.values())
    names = {str(c) for c in frame.columns}
    moved = {}
    for header in frame.columns:
        if header in taken and header not in chosen:
            name = f"export:{header}"
            while name in names or name in taken:
                name = f"export:{name}"
            moved[header] = name
    return moved


def _warnings(frame: pd.DataFrame, info: dict[str, Any], chosen: dict[str, str]) -> list[str]:
    """The source's warnings, then one per displaced header."""
    found = list(info.get("warnings", ()))
    for header, name in _displaced(frame, chosen).items():
        mapped = next(h for h, c in chosen.items() if c == header)
        found.append(
            f"mapping= put {mapped!r} in the column {header!r}: the export's own {header!r} is "
            f"kept as {name!r}."
        )
    return found


def _text_codes(
    frame: pd.DataFrame, by_column: dict[str, str], missing: Sequence[str]
) -> tuple[dict[str, pa.Array], dict[str, np.ndarray], dict[str, tuple[int, dict[str, int]]], bool]:
    """The canonical text columns as codes into their cleaned distinct values, side by side:
    ({column: distinct values}, {column: codes, -1 = null}, {column: (values turned null,
    {placeholder: values})}, whether the case codes number the cases by first appearance). The
    checks, the sort and the duplicate search work on these integers; the strings are built
    once, in the final order."""
    present = [column for column in TEXT_COLUMNS if column in by_column]
    coded = dict(
        zip(
            present,
            in_parallel(lambda c: encode_text(frame[by_column[c]], missing), present),
            strict=True,
        )
    )
    dictionaries = {c: found[0] for c, found in coded.items()}
    codes = {c: found[1] for c, found in coded.items()}
    nulled = {c: (found[2], found[4]) for c, found in coded.items()}
    return dictionaries, codes, nulled, coded[schema.CASE][3]


def _reasons(
    stamp_column: pd.Series,
    codes: dict[str, np.ndarray],
    stamps: pd.Series,
    missing: Sequence[str],
) -> np.ndarray:
    """Per row, 0 or 1 + the index in :data:`REASONS` of the first reason it cannot be used
    (duplicates aside), worked out on the faulty rows only. ``stamp_column``: the timestamp
    column as read, ``stamps`` as parsed."""
    unparsed = stamps.isna().to_numpy()
    faulty = np.flatnonzero((codes[schema.CASE] < 0) | (codes[schema.ACTIVITY] < 0) | unparsed)
    reason = np.zeros(len(stamps), dtype=np.int8)
    if len(faulty):
        # A blank stamp is told apart from an unparseable one only where nothing parsed.
        blank = ~non_empty(stamp_column.iloc[faulty], missing)
        faults = [
            codes[schema.CASE][faulty] < 0,
            codes[schema.ACTIVITY][faulty] < 0,
            blank & unparsed[faulty],
            unparsed[faulty],
        ]
        first = REASONS.index(REASON_MISSING_CASE) + 1
        reason[faulty] = np.select(faults, range(first, first + len(faults)))
    return reason


def _log_order(
    reason: np.ndarray, case_codes: np.ndarray, stamps: pd.Series, case_ranked: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """The rows without a reason in log order: (rows, their case ranks, their UTC microseconds,
    whether the case codes are those ranks: every row kept and codes by first appearance)."""
    micros = stamps.array.asi8  # UTC microseconds: comparable across offsets
    if not reason.any():
        order, case_rank, times = _case_time_order(case_codes, micros, ranked=case_ranked)
        return order, case_rank, times, case_ranked
    kept = np.flatnonzero(reason == 0)
    order, case_rank, times = _case_time_order(case_codes[kept], micros[kept])
    return kept[order], case_rank, times, False


def _text_columns(
    dictionaries: dict[str, pa.Array],
    codes: dict[str, np.ndarray],
    order: np.ndarray,
    case_rank: np.ndarray | None,
) -> dict[str, pd.Series]:
    """The text columns at the rows ``order``, the largest part of the output: built side by
    side. ``case_rank``: given when the case codes are the ranks, so the sorted ranks of the
    rows are the case column's codes (no gather)."""
    columns = list(dictionaries)
    rows = pa.array(order)
    sources = {c: (codes[c], rows) for c in columns}
    if case_rank is not None:
        sources[schema.CASE] = (case_rank, None)
    texts = in_parallel(lambda c: materialise(dictionaries[c], *sources[c]), columns)
    return dict(zip(columns, texts, strict=True))


def _planned_text(
    dictionary: pa.Array,
    codes: np.ndarray,
    column: str,
    order: np.ndarray,
    case_rank: np.ndarray | None,
    plan: RowPlan,
) -> pd.Series:
    """A canonical text column at the rows of ``plan``: added rows take the values the plan
    gives, the kept row's (case, procedure), or null."""
    positions, timed, _, added = plan.laid_out(order)
    if column == schema.CASE and case_rank is not None:
        picked = case_rank[positions]
    else:
        picked = codes[timed]
    if column not in _TIMED:
        extra = plan.values.get(column)
        if extra is None:
            picked[added] = -1
        else:
            text, added_codes = extra
            added_codes = added_codes[plan.pick[added] - len(order)]
            picked[added] = np.where(added_codes >= 0, added_codes + len(dictionary), -1)
            dictionary = pa.concat_arrays([dictionary, pc.cast(text, dictionary.type)])
    return materialise(dictionary, picked)


def _assemble(
    frame: pd.DataFrame,
    info: dict[str, Any],
    chosen: dict[str, str],
    parsed: dict[str, tuple[pd.Series, str]],
    texts: dict[str, Any],
    order: np.ndarray,
    times: np.ndarray,
    plan: RowPlan | None = None,
) -> pd.DataFrame:
    """The log: canonical columns first (``texts``, the time columns; ``times`` the timestamps
    already in order), then the other columns as read (a header named like a canonical column
    another header was mapped onto is kept as ``export:<name>``); ``plan``: the rows as
    arranged, and the columns it built. Columns given as functions (``texts``, the plan's) are
    built side by side with the other columns."""
    encoded = info.get("dictionary_columns", ())
    positions, timed = (None, order) if plan is None else plan.laid_out(order)[:2]
    built = {} if plan is None else plan.columns
    # A canonical column only the plan builds (org:resource of holder markers) takes its place.
    columns = {c: built[c] for c in schema.CANONICAL if c in built and c not in texts} | texts
    for column, (values, _) in parsed.items():
        if column == schema.TIMESTAMP:  # the ordering gathered these stamps already
            stamps = times if positions is None else times[positions]
            columns[column] = pd.Series(stamps, dtype=values.dtype, copy=False)
        else:
            columns[column] = pd.Series(values.array.take(timed), copy=False)
    ordered = {c: columns[c] for c in schema.CANONICAL if c in columns}
    moved = _displaced(frame, chosen)
    for header in frame.columns:
        if header in built:
            ordered[moved.get(header, header)] = built[header]
        elif header not in chosen:
            name = moved.get(header, header)
            build = _other_column if plan is None else partial(_planned_column, plan=plan)
            ordered[name] = partial(build, frame[header], order, header in encoded)
    ordered.update({name: column for name, column in built.items() if name not in ordered})
    pending = [name for name, column in ordered.items() if callable(column)]
    ordered.update(zip(pending, in_parallel(lambda name: ordered[name](), pending), strict=True))
    return pd.DataFrame(ordered, copy=False)


def _other_column(values: pd.Series, order: np.ndarray, encoded: bool) -> pd.Series:
    """A column kept as it is, in the log's order; NFC for text. ``encoded``: read as a
    dictionary by the loader (a text column), given back as text."""
    built = nfc_text(values, order, encoded)
    if built is not None:
        return built
    values = values.take(order).reset_index(drop=True)
    if encoded:
        values = values.astype(pd.StringDtype(na_value=np.nan))
    return nfc_column(values)


def _planned_column(
    values: pd.Series, order: np.ndarray, encoded: bool, plan: RowPlan
) -> pd.Series:
    """A column kept as it is at the rows of ``plan`` (null in added rows): text built once from
    its distinct values; another column as :func:`_other_column` gives it, then null rows added
    as ``pd.concat`` adds them (ints become floats, bools objects)."""
    _, timed, gaps, _ = plan.laid_out(order)
    built = nfc_text(values, timed, encoded, gaps)
    if built is not None:
        return built
    kept = _other_column(values, order, encoded)
    joined = kept
    if len(plan.pick) > len(kept):
        filler = pd.DataFrame(index=pd.RangeIndex(len(plan.pick) - len(kept)))
        joined = pd.concat([kept.to_frame(), filler], ignore_index=True).iloc[:, 0]
    return joined.take(plan.pick).reset_index(drop=True)


def _case_time_order(
    case_codes: np.ndarray, stamps: np.ndarray, *, ranked: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stable order: cases by first appearance, then time; export order for ties. Also the case
    ranks (0 = the first case) and the stamps in that order, which the duplicate check and the
    time column reuse. ``ranked``: the codes already are those ranks.

    >>> [a.tolist() for a in _case_time_order(np.array([7, 3, 7]), np.array([5, 1, 2]))]
    [[2, 0, 1], [0, 0, 1], [2, 5, 1]]
    """
    n = len(case_codes)
    if n < 2:
        return np.arange(n), np.zeros(n, dtype=np.int32), stamps
    rank = case_codes
    if not ranked:  # cases numbered by first appearance (pd.unique keeps that order; no sort)
        first = pd.unique(case_codes)
        rank = np.zeros(int(case_codes.max()) + 1, dtype=np.int32)
        rank[first] = np.arange(len(first), dtype=np.int32)
        rank = rank[case_codes]
    if _in_case_time_order(rank, stamps):
        return np.arange(n), rank, stamps  # an export sorted by case
    # Exports are usually in time order: then ordering by case alone is enough.
    order, sizes = _stable_argsort(rank)
    rank_sorted = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)  # no gather needed
    times = gather(stamps, order)
    falls = np.flatnonzero(times[1:] < times[:-1])
    if np.all(rank_sorted[falls] != rank_sorted[falls + 1]):  # time goes back only between cases
        return order, rank_sorted, times
    order = np.argsort(stamps, kind="stable")
    order = order[_stable_argsort(rank[order])[0]]
    return order, rank_sorted, gather(stamps, order)


def _in_case_time_order(rank: np.ndarray, stamps: np.ndarray) -> bool:
    """Whether rows are in case/time order, checked a block at a time: an interleaved export
    fails in its first block, without full-length temporaries."""
    block = 1 << 18
    for start in range(0, len(rank) - 1, block):
        r, s = rank[start : start + block + 1], stamps[start : start + block + 1]
        same = r[1:] == r[:-1]
        if not (np.all(r[1:] >= r[:-1]) and np.all(~same | (s[1:] >= s[:-1]))):
            return False
    return True


def _stable_argsort(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.argsort(keys, kind="stable")`` for small non-negative integers (case ranks), and the
    number of rows per key: a counting sort, O(rows + largest key), 7x faster than numpy's at 10
    million rows.

    >>> [a.tolist() for a in _stable_argsort(np.array([4, 3, 4, 1, 3]))]
    [[3, 1, 4, 0, 2], [0, 1, 0, 2, 2]]
    """
    if not len(keys):
        return np.arange(0), np.zeros(0, dtype=np.intp)
    try:  # pandas' C counting sort, the one its groupby uses; not public, hence the fallback
        from pandas._libs.algos import groupsort_indexer
    except ImportError:
        return np.argsort(keys, kind="stable"), np.bincount(keys)
    order, counts = groupsort_indexer(keys.astype(np.intp, copy=False), int(keys.max()) + 1)
    return order, counts[1:]  # counts[0]: keys of -1, none here


def _duplicates(
    frame: pd.DataFrame,
    chosen: dict[str, str],
    codes: dict[str, np.ndarray],
    parsed: dict[str, tuple[pd.Series, str]],
    order: np.ndarray,
    case: np.ndarray,
    times: np.ndarray,
) -> np.ndarray | None:
    """Mask over ``order``: rows equal, once cleaned, in every column to an earlier one; None
    when there are none.
    ``case`` and ``times``: the case ranks and UTC stamps of the rows in ``order``."""
    if len(order) < 2:
        return None
    # Equal rows share case and time, so they sit in one run of the sorted order: only rows in
    # such runs are compared column by column.
    same_time = np.flatnonzero(times[1:] == times[:-1])
    tie = same_time[case[same_time] == case[same_time + 1]]
    if not len(tie):
        return None
    in_run = np.zeros(len(order), dtype=bool)
    in_run[tie] = in_run[tie + 1] = True
    keys = [*codes.values(), *(values.array.asi8 for values, _ in parsed.values())]
    others = [h for h in frame.columns if h not in chosen or chosen[h] not in (*codes, *parsed)]
    plain = all(frame[h].dtype != object for h in others)
    if plain:  # (object columns aside: their unhashable cells decide how every row compares)
        # Most ties are two rows alone at their case and instant (a transfer and its side
        # copy): when they differ in a coded column, neither is a duplicate.
        apart = _pairs_apart(tie, order, keys)
        in_run[apart] = in_run[apart + 1] = False
    at = np.flatnonzero(in_run)  # positions in ``order``
    if not len(at):
        return None
    rows = order[at]
    compared: list[Any] = [values[rows] for values in keys]
    if others and plain:
        # Rows equal in every column are equal in the coded ones: only rows tied there too are
        # compared on the other columns.
        tied = pd.DataFrame(dict(enumerate(compared))).duplicated(keep=False).to_numpy()
        at, rows, compared = at[tied], rows[tied], [values[tied] for values in compared]
    compared += [nfc_column(frame[h].iloc[rows].reset_index(drop=True)) for h in others]
    runs = pd.DataFrame(dict(enumerate(compared)))
    mask = np.zeros(len(order), dtype=bool)
    try:
        mask[at] = runs.duplicated(keep="first").to_numpy()
    except TypeError:  # unhashable cells: compare their text
        mask[at] = runs.astype(str).duplicated(keep="first").to_numpy()
    return mask if mask.any() else None


def _pairs_apart(tie: np.ndarray, order: np.ndarray, keys: list[np.ndarray]) -> np.ndarray:
    """The positions p (in ``order``) of the runs of equal case and time that are two rows, p
    and p + 1, which differ in one of ``keys`` (per row of the export). ``tie``: the positions
    whose next row shares their case and time.

    >>> keys = [np.array([1, 2, 1, 1, 5, 5, 5])]
    >>> _pairs_apart(np.array([0, 2, 4, 5]), np.arange(7), keys).tolist()
    [0]
    """
    linked = np.zeros(len(order), dtype=bool)
    linked[tie] = True
    # p and p + 1 are a run of two when p - 1 does not tie with p, nor p + 1 with p + 2.
    alone = ~linked[np.maximum(tie - 1, 0)] | (tie == 0)
    alone &= ~linked[tie + 1]
    pairs = tie[alone]
    differ = np.zeros(len(pairs), dtype=bool)
    first, second = order[pairs], order[pairs + 1]
    for values in keys:
        differ |= values[first] != values[second]
    return pairs[differ]
