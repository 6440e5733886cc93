"""Reading a log: :func:`read_log`, the loader's entry point, reads a source
(:mod:`procmine.log.sources`) and assembles the canonical log (:mod:`procmine.log.canonical`);
a transfer-history reader takes its turn here, between the two."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from procmine import schema
from procmine.calendar import WorkCalendar
from procmine.log.canonical import canonical
from procmine.log.report import REPORT_KEY
from procmine.log.sources import read_source
from procmine.log.text import MISSING_VALUES
from procmine.log.transfers import CustodyPlan, TransferFrame, as_steps, with_custody
from procmine.log.units import read_units, rename_units, unit_warnings
from procmine.schema import DEFAULT_TIMEZONE

__all__ = ["read_log"]


def read_log(
    source: str | Path | pd.DataFrame,
    mapping: Mapping[str, str] | None = None,
    *,
    sheet: str | int | None = None,
    table: str | None = None,
    query: str | None = None,
    months: str | tuple[str | None, str | None] | None = None,
    encoding: str | None = None,
    timezone: str | None = None,
    country: str | None = None,
    missing_values: Iterable[str] = MISSING_VALUES,
    dayfirst: bool = True,
    transfers: bool | None = None,
    transfer_actions: Mapping[str, Iterable[str]] | None = None,
    units: str | Path | Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Read an export into the canonical event log; its load report is
    :func:`~procmine.log.load_report`.

    ``source`` is a file (``.csv``/``.tsv``/``.txt`` optionally ``.gz``, ``.xlsx``, ``.xes``/
    ``.xes.gz``, ``.parquet``), a dataset folder (:func:`~procmine.log.write_log`), a pandas
    DataFrame, or a SQLAlchemy URL with ``table=`` or ``query=`` (PostgreSQL: through Arrow).
    ``months`` (``"2024-03"``, ``("2024-01", "2024-06")``) reads only those month folders of a
    dataset: events, not cases, so a case begun earlier lacks its earlier events (the report's
    ``partitions`` and a warning say so; :func:`procmine.filter_log` keeps whole cases).
    ``mapping`` maps export headers to canonical columns (``{"Mã HS":
    "case:concept:name"}``); headers it does not name are recognised from a built-in dictionary
    of Vietnamese and English names; a mapping always wins over them, and a mapping onto a
    name that is not a canonical column is an error. The encoding and delimiter of a CSV file
    are detected; ``encoding`` overrides the detection.

    The log keeps the zone its stamps carry (:mod:`procmine.log.clock`): a named zone, else the
    one their UTC offsets imply (+07:00 is Vietnam; other offsets, the first IANA zone that has
    them all), else Vietnam's for naive stamps. ``timezone`` (an IANA name) overrides: naive
    stamps are taken in it, aware ones converted to it. The report's ``calendar`` is the clock to
    measure the log on: Vietnam's for a Vietnamese log, else the same office hours in the log's
    zone with the public holidays of ``country`` (None: none, and a warning says so).
    ``missing_values`` in the department/resource columns become nulls (the event stays).
    ``dayfirst`` decides ambiguous dates such as 03/04/2024.

    A **transfer history** (sender and recipient departments, time and kind of each transfer)
    is recognised by its headers (``transfers=True``/``False`` decides) and read into one event
    per transfer by the sender's department (:mod:`procmine.log.transfers`);
    ``transfer_actions`` ({kind: [words]}) adds action words. ``units`` (a config with a
    ``units:`` list, :mod:`procmine.log.units`) renames or merges departments.

    Rows without a case, a step or a parseable time, and exact duplicates (the first is kept),
    go to the quarantine table of the report. Cases come in order of first appearance in the
    export, each sorted by time, export order kept for ties.

    >>> import procmine as pm
    >>> from procmine.log import load_report
    >>> log = read_log(pd.DataFrame({"Mã hồ sơ": ["HS1"], "Bước xử lý": ["Tiếp nhận"],
    ...                                 "Thời điểm": ["15/03/2024 08:30"]}))
    >>> str(log["time:timestamp"].iloc[0])
    '2024-03-15 08:30:00+07:00'
    >>> load_report(log)["rows_kept"], load_report(log)["calendar"] == pm.WorkCalendar()
    (1, True)
    >>> dutch = read_log(pd.DataFrame({"case": ["a"], "activity": ["x"],
    ...                                "time": ["2011-10-11T13:45:40+02:00"]}))
    >>> str(dutch["time:timestamp"].iloc[0]), load_report(dutch)["calendar"].country
    ('2011-10-11 13:45:40+02:00', None)
    """
    missing = tuple(missing_values)
    rules = read_units(units)  # a bad config fails before the file is read
    # A zone or country the clock does not know is refused before the file is read.
    WorkCalendar(country=country, timezone=timezone or DEFAULT_TIMEZONE)
    frame, info = read_source(
        source, mapping, sheet=sheet, table=table, query=query, encoding=encoding, months=months
    )
    encoded = tuple(info.get("dictionary_columns", ()))
    prepared = as_steps(
        frame, mapping, missing, transfer_actions, transfers=transfers, encoded=encoded
    )
    options = {"timezone": timezone, "country": country, "missing": missing, "dayfirst": dayfirst}
    if prepared is None:
        log = canonical(frame, info, mapping, **options)
        return _units_renamed(log, rules, (schema.DEPARTMENT,))[0]
    return _transfer_log(prepared, info | {"dictionary_columns": encoded}, rules, options)


def _transfer_log(
    prepared: TransferFrame, info: dict[str, Any], rules: tuple, options: dict[str, Any]
) -> pd.DataFrame:
    """The canonical log of a transfer history (:mod:`procmine.log.transfers`): assembled as a
    step log, its units renamed, then its chains of custody worked out."""
    kept: dict[str, Any] = {}
    log = canonical(
        prepared.frame,
        # procmine:transfer is a categorical of the kinds' codes: given back as text.
        info | {"dictionary_columns": [*info["dictionary_columns"], schema.TRANSFER]},
        prepared.mapping,
        **options,
        faults=prepared.faults,
        kept=kept,
        # Without units to rename, the custody work runs inside the assembly, on its codes.
        arrange=None if rules else CustodyPlan(prepared, options["missing"], kept),
    )
    recipient = prepared.headers["recipient_department"]
    log, renamed = _units_renamed(log, rules, (schema.DEPARTMENT, recipient))
    return with_custody(log, prepared, options["missing"], kept, renamed=renamed, units=rules)


def _units_renamed(
    log: pd.DataFrame, rules: tuple, columns: tuple[str, ...]
) -> tuple[pd.DataFrame, bool]:
    """(``log`` with the ``units:`` rules applied to its department ``columns``, whether any
    event was renamed), said in the load report (``units_renamed``, and a warning per unit no
    event has). Without rules, nothing is looked at: the summary is that of no rule."""
    if rules:
        log, renamed = rename_units(log, rules, columns=columns)
    else:
        renamed = rename_units(log.iloc[:0], rules, columns=columns)[1]
    report = log.attrs[REPORT_KEY]
    report["units_renamed"] = renamed
    report["warnings"].extend(unit_warnings(renamed))
    return log, bool(renamed["events"].sum())
