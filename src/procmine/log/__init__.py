"""Loading: turn an agency's export into the canonical event log, losing no row silently.

:func:`read_log` reads CSV/TSV (any delimiter, UTF-8 with or without BOM, UTF-16, Windows-1258,
gzip'd), XLSX, XES, Parquet (a file or a dataset partitioned by month, which :func:`write_log`
writes), a pandas DataFrame or a SQL table/query (PostgreSQL through Arrow); maps the export's
headers (Vietnamese or English) onto the canonical columns of :mod:`procmine.schema`; normalises
text to NFC; parses the timestamp formats Vietnamese exports use; puts the rows it cannot use in a
quarantine table with their reason; and sorts each case by time. :func:`load_report` returns what
happened (rows read = kept + quarantined, by reason; header mapping; encoding; date format).

Everything is set-based: text is cleaned on its distinct values (Arrow compute), timestamps are
parsed per detected format with Arrow's vectorised ``strptime`` or pandas' ISO 8601 parser.

One module per concern, each depending only on those above it: :mod:`~procmine.log.parallel`
(work on two cores), :mod:`~procmine.log.text` (cleaning and coding text),
:mod:`~procmine.log.timestamps` (parsing time stamps), :mod:`~procmine.log.clock` (the log's own
clock: the zone its stamps imply, the calendar to measure it on), :mod:`~procmine.log.headers`
(header mapping), :mod:`~procmine.log.xes` (the pure-Python XES reader and the fences around the
fast one), :mod:`~procmine.log.sources` (reading files, encodings), :mod:`~procmine.log.report`
(the load report), :mod:`~procmine.log.canonical` (assembling the log) and
:mod:`~procmine.log.reader` (:func:`read_log`).
"""

from procmine.log.clock import infer_timezone, stamp_offsets
from procmine.log.headers import HEADER_NAMES, detect_mapping, header_key
from procmine.log.reader import read_log
from procmine.log.report import (
    NO_DEPARTMENT,
    REASON_BAD_TIMESTAMP,
    REASON_DUPLICATE,
    REASON_MALFORMED,
    REASON_MISSING_ACTIVITY,
    REASON_MISSING_CASE,
    REASON_MISSING_TIMESTAMP,
    REASONS,
    REPORT_KEY,
    LoadReport,
    load_report,
)
from procmine.log.sources import LogReadError, detect_encoding, write_log
from procmine.log.text import MISSING_VALUES
from procmine.log.timestamps import parse_timestamps
from procmine.log.xes import read_xes

__all__ = [
    "HEADER_NAMES",
    "MISSING_VALUES",
    "NO_DEPARTMENT",
    "REASONS",
    "REASON_BAD_TIMESTAMP",
    "REASON_DUPLICATE",
    "REASON_MALFORMED",
    "REASON_MISSING_ACTIVITY",
    "REASON_MISSING_CASE",
    "REASON_MISSING_TIMESTAMP",
    "REPORT_KEY",
    "LoadReport",
    "LogReadError",
    "detect_encoding",
    "detect_mapping",
    "header_key",
    "infer_timezone",
    "load_report",
    "parse_timestamps",
    "read_log",
    "read_xes",
    "stamp_offsets",
    "write_log",
]
