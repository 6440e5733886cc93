"""The period and the scope of an analysis: which whole cases a report or an analyst looks at.

:func:`filter_log` keeps whole cases — never a part of a case's events — so every figure on the
filtered log is the figure of those cases (docs/definitions.md, The period):

- **the period** ``[since, until]``: a case belongs to the month it completed in, or is open;
  a case is kept when it completed within the period, or is open at ``until`` (open as in
  :func:`procmine.deadlines.case_status`, as the log stood at ``until``);
- **the scope**: ``procedures`` (the case's procedure), ``departments`` (the department took
  part: did one of the case's events, side copies aside), ``variants`` (the case's activities in
  log order are one of them).

>>> import procmine as pm
>>> log = pm.datasets.example_log()
>>> pm.filter_log(log, until="2024-05-09")["case:concept:name"].unique().tolist()
['HS1', 'HS2', 'HS3']
>>> pm.filter_log(log, since="2024-05-09", variants=[("Tiếp nhận", "Thẩm định", "Phê duyệt")])[
...     "case:concept:name"].unique().tolist()
[]
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

from procmine import engines, schema, vocabulary
from procmine.deadlines import case_status
from procmine.discovery import ARROW

__all__ = ["SCOPE_KEY", "filter_log"]

# Where the filtered log keeps what it was filtered by (beside the load report).
SCOPE_KEY = "procmine_scope"
_MONTH = re.compile(r"^\d{4}-\d{2}$")


def filter_log(
    log: pd.DataFrame,
    since: Any = None,
    until: Any = None,
    procedures: str | Iterable[str] | None = None,
    departments: str | Iterable[str] | None = None,
    variants: Iterable[Any] | None = None,
    *,
    catalog: pd.DataFrame | None = None,
    closing_activities: Iterable[str] = vocabulary.CLOSINGS,
    calendar: Any = None,
) -> pd.DataFrame:
    """The whole cases of ``log`` in the period and the scope (docs/definitions.md, The period).

    ``since``/``until``: date-times or dates (``until`` as a date means the end of that day; as
    ``"YYYY-MM"`` the end of that month). A case is kept when it **completed** within
    ``[since, until]``, or is **open** at ``until`` (default: the log's last timestamp); open
    means its last event by then is not a closing step (``catalog``, ``closing_activities``:
    :func:`procmine.deadlines.case_status`; with neither, a case is complete at its last event,
    so only a case with events after ``until`` is open then). ``procedures``: the cases of
    these procedures; ``departments``: the cases in which one of them did an event (side
    copies aside); ``variants``: the cases whose activities, in log order, are one of these
    (tuples of activities, or the text of :func:`procmine.variants`). Returns the rows of the
    kept cases, with the log's columns and ``attrs`` (the load report), and what it was
    filtered by in ``attrs["procmine_scope"]``.

    >>> import procmine as pm
    >>> log = pm.datasets.example_log()
    >>> kept = pm.filter_log(log, departments="Văn phòng", procedures=["Cấp phép"])
    >>> len(kept) == len(log)
    True
    >>> pm.filter_log(log, procedures="Khác")
    Traceback (most recent call last):
    ...
    ValueError: unknown procedure 'Khác': the log has 'Cấp phép'.
    """
    schema.require_columns(log, schema.REQUIRED, "the log")
    if variants is not None:
        variants = [variants] if isinstance(variants, str) else list(variants)
    cases = log[schema.CASE]
    kept = pd.Series(True, index=pd.Index(cases.unique()))
    if procedures is not None:
        kept &= _having(log, schema.PROCEDURE, "procedure", procedures, kept.index)
    if departments is not None:
        main = log if engines.SIDE_COPY not in log.columns else log[~_side_copies(log)]
        kept &= _having(main, schema.DEPARTMENT, "department", departments, kept.index, log)
    if variants is not None:
        kept &= _of_variants(log, variants, kept.index)
    if since is not None or until is not None:
        kept &= _in_period(log, since, until, catalog, closing_activities, calendar, kept.index)
    result = log[cases.isin(kept.index[kept.to_numpy()])].reset_index(drop=True)
    result.attrs = {**log.attrs, SCOPE_KEY: _scope(since, until, procedures, departments, variants)}
    return result


def _names(value: str | Iterable[str], what: str) -> list[str]:
    """One name or several, as a list of text."""
    names = [value] if isinstance(value, str) else list(value)
    if not all(isinstance(name, str) for name in names):
        raise ValueError(f"{what}s are given as text, found {names!r}.")
    return names


def _having(
    log: pd.DataFrame,
    column: str,
    what: str,
    value: str | Iterable[str],
    index: pd.Index,
    whole: pd.DataFrame | None = None,
) -> pd.Series:
    """Per case (``index``), whether one of its events in ``log`` has one of the names in
    ``column``; a name the log (``whole``) lacks is an error that lists what it has."""
    names = _names(value, what)
    whole = log if whole is None else whole
    if column not in whole.columns:
        raise ValueError(f"the log has no {what} column ({column!r}): cannot keep by {what}.")
    present = set(whole[column].dropna().astype(str))
    unknown = [name for name in names if name not in present]
    if unknown:
        listed = ", ".join(repr(name) for name in sorted(present)) or "none"
        raise ValueError(
            f"unknown {what} {', '.join(repr(n) for n in unknown)}: the log has {listed}."
        )
    hit = log.loc[log[column].astype("string").isin(names), schema.CASE]
    return pd.Series(index.isin(hit.unique()), index=index)


def _side_copies(log: pd.DataFrame) -> pd.Series:
    """Whether each event is a side copy of a transfer history."""
    return log[engines.SIDE_COPY].fillna(False).astype(bool)


def _of_variants(log: pd.DataFrame, variants: Iterable[Any], index: pd.Index) -> pd.Series:
    """Per case, whether its activities in log order are one of ``variants``."""
    wanted = set()
    for variant in variants:
        steps = variant.split(ARROW) if isinstance(variant, str) else list(variant)
        if not steps or not all(isinstance(step, str) for step in steps):
            raise ValueError(f"a variant is a sequence of activity names, found {variant!r}.")
        wanted.add(tuple(steps))
    present = set(log[schema.ACTIVITY].astype(str))
    unknown = sorted({step for variant in wanted for step in variant} - present)
    if unknown:
        raise ValueError(
            f"the variants name activities the log lacks: {', '.join(map(repr, unknown))}."
        )
    sequences = log.groupby(schema.CASE, sort=False)[schema.ACTIVITY].agg(
        lambda steps: tuple(steps.astype(str))
    )
    return pd.Series(sequences.reindex(index).isin(wanted).to_numpy(), index=index)


def _in_period(
    log: pd.DataFrame,
    since: Any,
    until: Any,
    catalog: pd.DataFrame | None,
    closing_activities: Iterable[str],
    calendar: Any,
    index: pd.Index,
) -> pd.Series:
    """Per case, whether it completed within ``[since, until]`` or is open at ``until``."""
    if isinstance(until, str) and _MONTH.match(until.strip()):
        until = pd.Period(until.strip(), "M").end_time
    status = case_status(
        log, catalog, at=until, closing_activities=closing_activities, calendar=calendar
    )
    zone = status.attrs["at"].tz
    start = _moment(since, zone, "since") if since is not None else None
    if start is not None and start > status.attrs["at"]:
        raise ValueError(f"since ({since}) is after until ({until}): the period is empty.")
    completed = status["completed"]
    inside = ~status["open"] & (completed >= start if start is not None else True)
    keep = status["open"] | inside
    by_case = pd.Series(keep.to_numpy(), index=status["case_id"].astype(str).to_numpy())
    return pd.Series(
        by_case.reindex(index.astype(str)).fillna(False).astype(bool).to_numpy(), index=index
    )


def _moment(value: Any, zone: Any, name: str) -> pd.Timestamp:
    """A ``since`` as a tz-aware instant (naive: local time in ``zone``)."""
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{name}={value!r} is not a date or a date-time ({error}).") from None
    return stamp.tz_convert(zone) if stamp.tzinfo else stamp.tz_localize(zone)


def _scope(since: Any, until: Any, procedures: Any, departments: Any, variants: Any) -> dict:
    """What a log was filtered by, as plain values."""
    return {
        "since": None if since is None else str(since),
        "until": None if until is None else str(until),
        "procedures": None if procedures is None else _names(procedures, "procedure"),
        "departments": None if departments is None else _names(departments, "department"),
        "variants": None
        if variants is None
        else [v if isinstance(v, str) else ARROW.join(v) for v in variants],
    }
