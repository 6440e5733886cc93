"""The load report: what loading did (rows read = kept + quarantined, by reason; the quarantine
table; header mapping; encoding; date formats), kept in the log's ``attrs``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from procmine import schema
from procmine.log.clock import Clock
from procmine.log.headers import department_choice

__all__ = [
    "NO_DEPARTMENT",
    "REASONS",
    "REASON_BAD_TIMESTAMP",
    "REASON_DUPLICATE",
    "REASON_MALFORMED",
    "REASON_MISSING_ACTIVITY",
    "REASON_MISSING_CASE",
    "REASON_MISSING_TIMESTAMP",
    "REASON_NO_RECIPIENT",
    "REASON_NO_SENDER",
    "REPORT_KEY",
    "LoadFindings",
    "LoadReport",
    "build_report",
    "load_report",
]

REASON_MALFORMED = "malformed row"  # a CSV line with too few or too many fields
REASON_MISSING_CASE = "missing case id"
REASON_MISSING_ACTIVITY = "missing activity"
REASON_MISSING_TIMESTAMP = "missing timestamp"
REASON_BAD_TIMESTAMP = "unparseable timestamp"
REASON_DUPLICATE = "exact duplicate"
# Transfer histories (procmine.log.transfers): a main transfer or return that names no sender or
# no recipient department.
REASON_NO_SENDER = "transfer without a sender"
REASON_NO_RECIPIENT = "transfer without a recipient"
# A row gets the first reason that applies, in this order.
REASONS: tuple[str, ...] = (
    REASON_MALFORMED,
    REASON_MISSING_CASE,
    REASON_MISSING_ACTIVITY,
    REASON_MISSING_TIMESTAMP,
    REASON_BAD_TIMESTAMP,
    REASON_NO_SENDER,
    REASON_NO_RECIPIENT,
    REASON_DUPLICATE,
)

REPORT_KEY = "procmine_load_report"


class LoadReport(dict):
    """The load report: a dict kept in ``log.attrs``, shared (not deep-copied) by derived frames,
    since pandas copies ``attrs`` on every operation and the quarantine table can be large."""

    def __deepcopy__(self, memo: dict) -> LoadReport:
        return self


def load_report(log: pd.DataFrame) -> dict[str, Any]:
    """The load report of a log returned by :func:`procmine.log.read_log`.

    Keys: ``source``, ``format``, ``reader`` (XES: ``"rustxes"`` or ``"xml.etree"``;
    PostgreSQL: ``"adbc"``, other databases ``"sqlalchemy"``; else None), ``partitions`` (a
    dataset folder: the ``months`` read, ``months_skipped``, ``files_read``, the ``period``
    asked; else None), ``encoding``, ``delimiter``, ``rows_read``, ``rows_kept``,
    ``rows_quarantined``, ``quarantined_by_reason`` ({reason: rows}, every reason listed),
    ``quarantine`` (the original rows with ``reason`` and ``source_row``, 1 = first data row),
    ``mapping`` ({export header: canonical column}), ``date_format``, ``deadline_format``,
    ``deadlines_unparseable`` (kept rows whose deadline cell is no date-time, such as
    31/02/2024: deadline null); the log's clock:
    ``timezone`` (the zone of its stamps), ``timezone_source`` (``"timezone="``, ``"stamps"``,
    ``"offsets"`` or ``"default"``), ``utc_offsets`` (the distinct offsets seen, ``+HH:MM``),
    ``clock`` (a sentence: the zone, why, how to set it), ``calendar`` (the
    :class:`~procmine.calendar.WorkCalendar` to measure the log on); ``department_column``
    (the export header that became ``org:group``, or None) and ``department_alternatives``
    (other headers that could have been it); ``cases``, ``missing_department`` /
    ``missing_resource`` (kept events without one; None when the column is absent),
    ``missing_values_nulled`` ({column: values turned to null}), ``missing_values_by_value``
    ({column: {placeholder: values}}, columns with any), ``transfer_history`` (whether the export
    is a transfer history, :mod:`procmine.log.transfers`; then also ``transfer_headers`` ({role:
    export header}), ``transfers_by_kind`` (events per kind, holder markers included),
    ``out_of_chain`` (custody transfers sent by a department that did not hold the dossier),
    ``holder_markers`` (events added: one per open case, so the log has ``rows_kept`` +
    ``holder_markers`` rows) and ``unknown_actions`` ({action word: rows})),
    ``units_renamed`` (per rule of ``units=`` and department column, the events it renamed:
    :mod:`procmine.log.units`), ``warnings`` (plain-language sentences: the clock, a missing
    department column, the XES reader's messages).

    >>> from procmine.log import read_log
    >>> load_report(read_log(pd.DataFrame({"case": ["a"], "activity": ["x"],
    ...                                    "time": ["2024-01-02"]})))["mapping"]["case"]
    'case:concept:name'
    """
    try:
        return log.attrs[REPORT_KEY]
    except KeyError:
        raise KeyError(
            "This DataFrame carries no load report: it was not returned by pm.read_log "
            "(or a pandas operation dropped its attrs). Load it with pm.read_log(...)."
        ) from None


@dataclass
class LoadFindings:
    """What assembling a log found, for its report: the header mapping (``chosen``), the parsed
    time columns, {column: (values turned null, {placeholder: values})}, the log's clock, the
    number of cases, and the warnings so far."""

    chosen: dict[str, str]
    parsed: dict[str, tuple[pd.Series, str]]
    nulled: dict[str, tuple[int, dict[str, int]]]
    clock: Clock
    cases: int
    warnings: list[str] = field(default_factory=list)
    deadlines_unparseable: int = 0


NO_DEPARTMENT = "no department column: handoff and ping-pong figures are unavailable"


def build_report(
    frame: pd.DataFrame,
    info: dict[str, Any],
    found: LoadFindings,
    reason: np.ndarray,
    log: pd.DataFrame,
) -> LoadReport:
    """The report of loading ``frame`` (as read, ``info`` from its source) into ``log``.
    ``reason``: per row of ``frame``, 0 for kept, else 1 + its index in :data:`REASONS`."""
    quarantined = np.flatnonzero(reason > 0)
    malformed = info.get("malformed", [])
    quarantine = _quarantine(frame, info, reason, quarantined, malformed)
    counts = np.bincount(reason[quarantined], minlength=len(REASONS) + 1)  # not over every row
    counts[REASONS.index(REASON_MALFORMED) + 1] += len(malformed)

    def lacking(column: str) -> int | None:
        if column not in log.columns:
            return None
        return int(pa.array(log[column], from_pandas=True).null_count)  # Arrow keeps the count

    department, alternatives = department_choice(frame, found.chosen)
    warnings = [*found.clock.warnings, *found.warnings]
    if department is None:
        hint = f" ({', '.join(map(repr, alternatives))} could be one)" if alternatives else ""
        warnings.append(
            f"{NO_DEPARTMENT}{hint}; name yours with mapping={{'your column': 'org:group'}}."
        )
    if found.deadlines_unparseable:
        warnings.append(
            f"{found.deadlines_unparseable} rows have a deadline that is no date (such as "
            "31/02/2024): their deadline is left empty, the rows are kept."
        )
    parsed = found.parsed
    return LoadReport(
        source=info.get("source"),
        format=info.get("format"),
        reader=info.get("reader"),
        partitions=info.get("partitions"),
        encoding=info.get("encoding"),
        delimiter=info.get("delimiter"),
        rows_read=len(frame) + len(malformed),
        rows_kept=len(log),
        rows_quarantined=len(quarantined) + len(malformed),
        quarantined_by_reason={r: int(counts[i + 1]) for i, r in enumerate(REASONS)},
        quarantine=quarantine,
        mapping=dict(found.chosen),
        date_format=parsed[schema.TIMESTAMP][1],
        deadline_format=parsed[schema.DEADLINE][1] if schema.DEADLINE in parsed else None,
        deadlines_unparseable=found.deadlines_unparseable,
        timezone=found.clock.timezone,
        timezone_source=found.clock.source,
        utc_offsets=list(found.clock.offsets),
        clock=found.clock.note,
        calendar=found.clock.calendar,
        department_column=department,
        department_alternatives=alternatives,
        cases=found.cases,
        missing_department=lacking(schema.DEPARTMENT),
        missing_resource=lacking(schema.RESOURCE),
        missing_values_nulled={c: count for c, (count, _) in found.nulled.items()},
        missing_values_by_value={c: values for c, (_, values) in found.nulled.items() if values},
        transfer_history=False,
        warnings=warnings,
    )


def _quarantine(
    frame: pd.DataFrame,
    info: dict[str, Any],
    reason: np.ndarray,
    quarantined: np.ndarray,
    malformed: list[tuple[int, str]],
) -> pd.DataFrame:
    """The quarantine table: the ``quarantined`` rows as read, with their reason and source row
    (1 = the first data row), and the ``malformed`` CSV lines (left out of the frame) with their
    text, in source order."""
    # Nothing quarantined: an empty slice (a take, even of no rows, concatenates the chunks of
    # the Arrow columns as read: 0.4 s and 160 MB at 10 M rows).
    rows = quarantined if len(quarantined) else slice(0, 0)
    quarantine = frame.iloc[rows].reset_index(drop=True)
    for header in info.get("dictionary_columns", ()):  # read as dictionaries: give back text
        if header in quarantine.columns:
            quarantine[header] = quarantine[header].astype(pd.StringDtype(na_value=np.nan))
    labels = np.array(("", *REASONS), dtype=object)
    bad_rows = np.array([row for row, _ in malformed], dtype=np.int64)
    source_rows = quarantined + 1
    if len(bad_rows):
        good_rows = np.setdiff1d(np.arange(1, len(frame) + len(bad_rows) + 1), bad_rows)
        source_rows = good_rows[quarantined]
    quarantine.insert(0, "source_row", source_rows)
    reason_column = "reason" if "reason" not in quarantine.columns else "procmine:reason"
    quarantine.insert(0, reason_column, labels[reason[quarantined]])
    if not len(bad_rows):
        return quarantine
    text_column = "row_text" if "row_text" not in quarantine.columns else "procmine:row_text"
    lines = pd.DataFrame(
        {
            reason_column: REASON_MALFORMED,
            "source_row": bad_rows,
            text_column: pd.array([text for _, text in malformed], dtype="str"),
        }
    )
    quarantine = pd.concat([quarantine, lines], ignore_index=True)
    return quarantine.sort_values("source_row", kind="stable", ignore_index=True)
