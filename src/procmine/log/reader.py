"""Reading a log: :func:`read_log`, the loader's entry point, reads a source
(:mod:`procmine.log.sources`) and assembles the canonical log (:mod:`procmine.log.canonical`);
a transfer-history reader takes its turn here, between the two."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from procmine import schema
from procmine.log.canonical import canonical
from procmine.log.sources import read_source
from procmine.log.text import MISSING_VALUES

__all__ = ["read_log"]


def read_log(
    source: str | Path | pd.DataFrame,
    mapping: Mapping[str, str] | None = None,
    *,
    sheet: str | int | None = None,
    table: str | None = None,
    query: str | None = None,
    encoding: str | None = None,
    timezone: str = schema.DEFAULT_TIMEZONE,
    missing_values: Iterable[str] = MISSING_VALUES,
    dayfirst: bool = True,
) -> pd.DataFrame:
    """Read an export into the canonical event log; its load report is
    :func:`~procmine.log.load_report`.

    ``source`` is a file (``.csv``/``.tsv``/``.txt`` optionally ``.gz``, ``.xlsx``, ``.xes``/
    ``.xes.gz``, ``.parquet``), a pandas DataFrame, or a SQLAlchemy URL with ``table=`` or
    ``query=``. ``mapping`` maps export headers to canonical columns (``{"Mã HS":
    "case:concept:name"}``); headers it does not name are recognised from a built-in dictionary
    of Vietnamese and English names. The encoding and delimiter of a CSV file are detected;
    ``encoding`` overrides the detection. Naive timestamps are taken in ``timezone``; aware
    ones are converted to it. ``missing_values`` in the department/resource columns become
    nulls (the event stays). ``dayfirst`` decides ambiguous dates such as 03/04/2024.

    Rows without a case, a step or a parseable time, and exact duplicates (the first is kept),
    go to the quarantine table of the report. Cases come in order of first appearance in the
    export, each sorted by time, export order kept for ties.

    >>> from procmine.log import load_report
    >>> log = read_log(pd.DataFrame({"Mã hồ sơ": ["HS1"], "Bước xử lý": ["Tiếp nhận"],
    ...                                 "Thời điểm": ["15/03/2024 08:30"]}))
    >>> str(log["time:timestamp"].iloc[0])
    '2024-03-15 08:30:00+07:00'
    >>> load_report(log)["rows_kept"]
    1
    """
    missing = tuple(missing_values)
    frame, info = read_source(
        source, mapping, sheet=sheet, table=table, query=query, encoding=encoding
    )
    return canonical(frame, info, mapping, timezone=timezone, missing=missing, dayfirst=dayfirst)
