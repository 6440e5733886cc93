"""Sources: an export read into a DataFrame as it is, with what was found on the way (format,
encoding, delimiter, malformed CSV lines). CSV/TSV (gzip'd or not, encoding and delimiter
detected), XLSX, XES, Parquet, a DataFrame, or a SQL table or query."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import unicodedata
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from procmine.log.headers import TEXT_COLUMNS, TIME_COLUMNS, candidate_headers
from procmine.log.xes import (
    TIMESTAMP_KEY,
    XESError,
    captured_stderr,
    is_rust_panic,
    read_xes,
    xes_stamp_sample,
)

__all__ = ["LogReadError", "detect_encoding", "read_source"]

_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})\s*$")


_SMALL_DICTIONARY = 1 << 16  # bytes of a Parquet dictionary page: a column with few values


_SQL_SCHEMES = ("postgresql", "postgres", "mysql", "mariadb", "sqlite", "mssql", "oracle", "duckdb")


def read_source(
    source: Any,
    mapping: Mapping[str, str] | None,
    *,
    sheet: str | int | None,
    table: str | None,
    query: str | None,
    encoding: str | None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The export as a DataFrame, as it is, and what was found: ``source``, ``format``,
    ``encoding`` and ``delimiter`` (CSV only, else None), ``malformed`` (CSV lines with the
    wrong number of fields, as ``(data row, text)``, left out of the frame) and
    ``dictionary_columns`` (text columns read as categoricals, to be given back as text)."""
    info: dict[str, Any] = {"encoding": None, "delimiter": None}
    if isinstance(source, pd.DataFrame):
        return source, info | {"source": "DataFrame", "format": "dataframe"}
    text = str(source)
    scheme = text.split("://", 1)[0].split("+", 1)[0].lower() if "://" in text else ""
    if scheme in _SQL_SCHEMES:
        return _read_sql(text, table=table, query=query), info | _sql_info(text, table, query)
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"No such file: {path}")
    name = path.name.lower().removesuffix(".gz")
    info["source"] = str(path)
    if name.endswith((".xlsx", ".xlsm", ".xls", ".ods")):
        return _read_excel(path, sheet, mapping), info | {"format": "xlsx"}
    if name.endswith(".xes"):
        frame, xes_info = _read_xes(path)
        return frame, info | xes_info | {"format": "xes"}
    if name.endswith((".parquet", ".pq")):
        frame, parquet_info = _read_parquet(path, mapping)
        return frame, info | parquet_info | {"format": "parquet"}
    if name.endswith((".csv", ".tsv", ".txt", ".tab")):
        frame, csv_info = _read_csv(path, mapping, encoding)
        return frame, info | csv_info | {"format": "csv"}
    raise ValueError(
        f"Cannot tell the format of {path.name}: expected .csv, .tsv, .txt (optionally .gz), "
        ".xlsx, .xes, .xes.gz or .parquet, a pandas DataFrame, or a SQLAlchemy URL."
    )


def _sql_info(url: str, table: str | None, query: str | None) -> dict[str, Any]:
    from sqlalchemy.engine import make_url

    shown = make_url(url).render_as_string(hide_password=True)
    what = f"table {table}" if table else "query"
    return {"source": f"{shown} ({what})", "format": "sql"}


def _read_sql(url: str, *, table: str | None, query: str | None) -> pd.DataFrame:
    import sqlalchemy

    if (table is None) == (query is None):
        raise ValueError("A database source needs exactly one of table='name' or query='SELECT …'.")
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            if table is not None:
                return pd.read_sql_table(table, connection)
            return pd.read_sql_query(sqlalchemy.text(query), connection)
    finally:
        engine.dispose()


def _read_excel(
    path: Path, sheet: str | int | None, mapping: Mapping[str, str] | None
) -> pd.DataFrame:
    sheet = 0 if sheet is None else sheet
    header = pd.read_excel(path, sheet_name=sheet, engine="calamine", nrows=0).columns
    # Ids stay text (000123); dates typed as text or Excel dates are both parsed later.
    text = candidate_headers([str(h) for h in header], mapping, TEXT_COLUMNS)
    return pd.read_excel(
        path,
        sheet_name=sheet,
        engine="calamine",
        dtype={h: object for h in header if str(h) in text},
    )


class LogReadError(ValueError):
    """An export that cannot be read as a log at all (empty, truncated, not the format its name
    says, no data rows); the message says which file and why."""


def _read_xes(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """An XES file, by rustxes when it takes the file (its messages, printed to stderr, become
    warnings), else by :func:`procmine.log.xes.read_xes` (pure Python). The fast reader fills
    an event without a timestamp with the file's global default and returns null for a date it
    cannot read: when it does either, the file is read again in Python, which tells missing
    from unparseable stamps. rustxes returns stamps converted to UTC without their offsets: a
    sample of the file's own stamps (``stamp_sample``) tells the log's zone."""
    try:
        if not _head_bytes(path, 1 << 10).strip():
            raise LogReadError(f"{path.name} is empty: there is no XES log in it.")
        sample = xes_stamp_sample(path)
    except EOFError:
        raise LogReadError(
            f"{path.name} is not a readable XES file: the gzip stream ends early, the file is "
            "truncated."
        ) from None
    except (OSError, zlib.error) as error:
        raise LogReadError(f"{path.name} cannot be read: {error}.") from None
    fast = _read_xes_fast(path, sample)
    if isinstance(fast, tuple):
        return fast
    try:
        frame = read_xes(path)
    except XESError as error:
        raise LogReadError(f"{path.name} is not a readable XES file: {error}") from None
    info: dict[str, Any] = {"reader": "xml.etree"}
    if fast:
        info["warnings"] = [
            f"The fast XES reader (rustxes) did not take the file ({fast}); "
            "it was read by Python's XML parser instead."
        ]
    return frame, info


def _read_xes_fast(path: Path, sample: list[str]) -> tuple[pd.DataFrame, dict[str, Any]] | str:
    """The file read by rustxes, or why it should be read in Python instead ("" when rustxes
    is not installed)."""
    try:
        import rustxes
    except ImportError:
        return ""
    offsets = [bool(_OFFSET.search(text)) for text in sample]
    if any(offsets) and not all(offsets):
        return "its stamps mix local times and UTC offsets"
    messages: list[str] = []
    try:
        with captured_stderr(messages):
            data, attributes = rustxes.import_xes(str(path))
    except BaseException as error:  # rustxes panics with pyo3's PanicException, a BaseException
        if not is_rust_panic(error):
            raise
        return f"{str(error).splitlines()[0] if str(error) else type(error).__name__}"
    frame = data.to_pandas()
    stamps = frame.get(TIMESTAMP_KEY)
    default = _global_default(attributes)
    if stamps is not None and (
        stamps.isna().any() or (default is not None and (stamps == default).any())
    ):
        return "some events have no timestamp of their own, or one it cannot read"
    for column in frame.columns:
        # rustxes converts stamps with an offset to UTC and drops the zone: say so.
        if pd.api.types.is_datetime64_dtype(frame[column].dtype) and (any(offsets) or not sample):
            frame[column] = frame[column].dt.tz_localize("UTC")
    warnings = [f"XES reader: {line.removeprefix('Warning: ')}" for line in messages if line]
    info = {"reader": "rustxes", "stamp_sample": sample, "warnings": warnings}
    return frame, info


def _global_default(attributes: str) -> pd.Timestamp | None:
    """The file's global default timestamp of events (naive UTC, as rustxes gives stamps)."""
    import json

    try:
        declared = json.loads(attributes).get("global_event_attrs") or []
    except (ValueError, AttributeError):
        return None
    for attribute in declared:
        if attribute.get("key") == TIMESTAMP_KEY:
            content = (attribute.get("value") or {}).get("content")
            stamp = pd.to_datetime(content, utc=True, errors="coerce", format="ISO8601")
            return None if pd.isna(stamp) else stamp.tz_localize(None)
    return None


def _read_parquet(
    path: Path, mapping: Mapping[str, str] | None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    import pyarrow.parquet as pq

    metadata = pq.read_metadata(path)
    names = metadata.schema.to_arrow_schema().names
    # Text columns we will clean are read as dictionaries (cleaning then touches distinct values
    # only) when they have few distinct values. Case ids have many: the writer's dictionary
    # overflows into plain pages, Arrow then builds one dictionary per page and merging those
    # is slower than hashing the column once.
    wanted = candidate_headers(names, mapping, TEXT_COLUMNS)
    wanted |= _transfer_text(names, mapping, metadata.schema.to_arrow_schema())
    few = set(wanted)
    if metadata.num_row_groups:
        group = metadata.row_group(0)
        for i in range(group.num_columns):
            chunk = group.column(i)
            page = chunk.data_page_offset - (chunk.dictionary_page_offset or chunk.data_page_offset)
            if not chunk.has_dictionary_page or page > _SMALL_DICTIONARY:
                few.discard(chunk.path_in_schema)
    table = pq.read_table(path, read_dictionary=[n for n in names if n in few])
    encoded = [
        n for n in names if n in wanted and pa.types.is_dictionary(table.schema.field(n).type)
    ]
    return table.to_pandas(), {"dictionary_columns": encoded}


def _transfer_text(
    names: Sequence[str], mapping: Mapping[str, str] | None, schema: pa.Schema | None = None
) -> set[str]:
    """A transfer history's text columns (:func:`procmine.log.transfers.transfer_headers`: sender
    and recipient departments and officials, action, comment), to be read as dictionaries like
    the canonical text columns: its cleaning, kinds and blanks then touch distinct values only.
    Time candidates stay text; ``schema`` (Parquet): only columns stored as strings."""
    from procmine.log.transfers import transfer_headers

    found = transfer_headers(names, mapping)
    found.pop("sent_at", None)
    headers = set(found.values()) - candidate_headers(
        names, _only(mapping, TIME_COLUMNS), TIME_COLUMNS
    )
    if schema is not None:
        text = (pa.types.is_string(t) or pa.types.is_large_string(t) for t in schema.types)
        headers &= {name for name, is_text in zip(schema.names, text, strict=True) if is_text}
    return headers


def _head_bytes(path: Path, size: int = 1 << 16) -> bytes:
    with path.open("rb") as handle:
        magic = handle.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    with opener(path, "rb") as handle:
        return handle.read(size)


def detect_encoding(raw: bytes) -> str:
    """The encoding of an export's first bytes: BOMs first, then strict UTF-8, then Windows-1258
    when it decodes into Vietnamese letters, else charset-normalizer's best guess. Logs and
    catalogs (:func:`procmine.catalog.read_catalog`) alike.

    >>> detect_encoding("Bước".encode("utf-8-sig")), detect_encoding(b"B\\xfd\\xf5\\xecc")
    ('utf-8-sig', 'cp1258')
    """
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for cut in range(4):  # the sample may end inside a multi-byte character
        try:
            raw[: len(raw) - cut].decode("utf-8")
            return "utf-8"
        except UnicodeDecodeError:
            continue
    try:
        text = raw.decode("cp1258")
        # Tone marks are combining characters in Windows-1258; horn/breve letters are its own.
        if re.search(
            "[ăâđêôơưĂÂĐÊÔƠƯ][\u0300\u0301\u0303\u0309\u0323]?|\\w[\u0300\u0301\u0303\u0309\u0323]",
            text,
        ):
            return "cp1258"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    return best.encoding if best is not None else "latin-1"


def _sniff_delimiter(text: str, path: Path) -> str:
    lines = [line for line in text.splitlines()[:30] if line.strip()]
    if len(lines) > 1:
        lines = lines[:-1]  # the last line of the sample may be cut short
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        if path.name.lower().removesuffix(".gz").endswith((".tsv", ".tab")):
            return "\t"
        counts = {d: lines[0].count(d) for d in ",;\t|"} if lines else {}
        return max(counts, key=counts.get) if counts and max(counts.values()) else ","


def _read_csv(
    path: Path, mapping: Mapping[str, str] | None, encoding: str | None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    import pyarrow.csv as pcsv

    try:
        raw = _head_bytes(path)
    except (EOFError, OSError, zlib.error) as error:
        raise LogReadError(f"{path.name} cannot be read: {error}.") from None
    if not raw.lstrip(codecs.BOM_UTF8).strip():
        raise LogReadError(f"{path.name} is empty: no header, no rows.")
    detected = encoding or detect_encoding(raw)
    text = raw.decode(detected, errors="replace").lstrip("\ufeff")
    delimiter = _sniff_delimiter(text, path)
    header = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    # Keyed by the headers as decoded (NFD tone marks in cp1258): Arrow matches them verbatim.
    # Canonical columns are read as text: case ids such as 000123 keep their zeros, and the
    # timestamp parser, not Arrow's guess, decides what a date is.
    time_columns = candidate_headers(header, _only(mapping, TIME_COLUMNS), TIME_COLUMNS)
    text_columns = candidate_headers(header, _only(mapping, TEXT_COLUMNS), TEXT_COLUMNS)
    # Canonical text columns are read as dictionaries (cleaning then touches distinct values
    # only, and the strings are not held twice); timestamp candidates as text, so the timestamp
    # parser, not Arrow's guess, decides what a date is.
    dictionary = pa.dictionary(pa.int32(), pa.large_string())
    text_columns |= _transfer_text(header, mapping) - time_columns
    column_types = {h: dictionary for h in header if h in text_columns}
    column_types |= {h: pa.large_string() for h in header if h in time_columns}
    # Arrow reads UTF-8 natively (and skips a UTF-8 BOM); other encodings go through a codec.
    arrow_encoding = "utf8" if codecs.lookup(detected).name in ("utf-8", "utf-8-sig") else detected
    convert = pcsv.ConvertOptions(column_types=column_types, strings_can_be_null=True)
    malformed: list[tuple[int, str]] = []

    def keep_aside(row: pcsv.InvalidRow) -> str:
        malformed.append((row.number - 1 if row.number else 0, row.text))
        return "skip"

    def read(newlines: bool) -> pa.Table:
        options = pcsv.ParseOptions(
            delimiter=delimiter, newlines_in_values=newlines, invalid_row_handler=keep_aside
        )
        return pcsv.read_csv(
            path,
            # Serial reading is the only way Arrow numbers the rows it sets aside.
            read_options=pcsv.ReadOptions(
                encoding=arrow_encoding, block_size=1 << 24, use_threads=not newlines
            ),
            parse_options=options,
            convert_options=convert,
        )

    try:
        # Parsing in parallel needs rows that never hold a line break. A quoted one, or a line
        # with the wrong number of fields, is set aside: then read again, serially, allowing
        # line breaks in values (3x slower); the lines still set aside are malformed.
        try:
            table = read(newlines=False)
            again = bool(malformed)
        except pa.ArrowInvalid:
            again = True
        if again:
            malformed.clear()
            table = read(newlines=True)
    except pa.ArrowInvalid as error:
        raise ValueError(f"{path.name} is not a well-formed CSV file: {error}") from None
    if detected == "cp1258":  # Arrow keeps the headers as decoded: NFD tone marks
        table = table.rename_columns([unicodedata.normalize("NFC", n) for n in table.column_names])
    encoded = [n for n in table.column_names if pa.types.is_dictionary(table.schema.field(n).type)]
    frame = table.to_pandas()
    return frame, {
        "encoding": detected,
        "delimiter": delimiter,
        "malformed": malformed,
        "dictionary_columns": encoded,
    }


def _only(mapping: Mapping[str, str] | None, columns: Sequence[str]) -> dict[str, str]:
    """The part of an explicit mapping that names one of ``columns`` (either direction)."""
    return {k: v for k, v in (mapping or {}).items() if k in columns or v in columns}
