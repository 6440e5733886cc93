"""Sources: an export read into a DataFrame as it is, with what was found on the way (format,
encoding, delimiter, malformed CSV lines). CSV/TSV (gzip'd or not, encoding and delimiter
detected), XLSX, XES, Parquet (a file, or a dataset folder partitioned by month, as
:func:`write_log` writes it), a DataFrame, or a SQL table or query (PostgreSQL through Arrow)."""

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

from procmine import schema
from procmine.log.headers import TEXT_COLUMNS, TIME_COLUMNS, candidate_headers
from procmine.log.xes import (
    TIMESTAMP_KEY,
    XESError,
    captured_stderr,
    is_rust_panic,
    read_xes,
    xes_stamp_sample,
)

__all__ = [
    "PARTITION_KEY",
    "LogReadError",
    "dataset_files",
    "detect_encoding",
    "read_source",
    "write_log",
]

_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})\s*$")


_SMALL_DICTIONARY = 1 << 16  # bytes of a Parquet dictionary page: a column with few values


_SQL_SCHEMES = ("postgresql", "postgres", "mysql", "mariadb", "sqlite", "mssql", "oracle", "duckdb")
_POSTGRES_SCHEMES = ("postgresql", "postgres")  # read by ADBC, as Arrow record batches

# A partitioned dataset: hive folders month=YYYY-MM, the month of time:timestamp on the log's
# own clock (write_log writes them; read_source prunes them with months=).
PARTITION_KEY = "month"
_PARQUET_SUFFIXES = (".parquet", ".pq")


def read_source(
    source: Any,
    mapping: Mapping[str, str] | None,
    *,
    sheet: str | int | None,
    table: str | None,
    query: str | None,
    encoding: str | None,
    months: Any = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The export as a DataFrame, as it is, and what was found: ``source``, ``format``,
    ``encoding`` and ``delimiter`` (CSV only, else None), ``malformed`` (CSV lines with the
    wrong number of fields, as ``(data row, text)``, left out of the frame),
    ``dictionary_columns`` (text columns read as categoricals, to be given back as text) and,
    for a dataset folder, ``partitions`` (:func:`dataset_files`; ``months`` prunes its folders)."""
    info: dict[str, Any] = {"encoding": None, "delimiter": None}
    text = "DataFrame" if isinstance(source, pd.DataFrame) else str(source)
    scheme = text.split("://", 1)[0].split("+", 1)[0].lower() if "://" in text else ""
    if months is not None and (scheme or text == "DataFrame" or not Path(text).is_dir()):
        raise ValueError(
            f"months= picks the month folders of a partitioned Parquet dataset "
            f"(pm.write_log(log, folder, partition_by='month')); {text} is not one. To keep "
            "the whole cases of a period, use pm.filter_log(log, since=..., until=...)."
        )
    if isinstance(source, pd.DataFrame):
        return source, info | {"source": "DataFrame", "format": "dataframe"}
    if scheme in _POSTGRES_SCHEMES:
        frame, found = _read_postgres(text, table=table, query=query, mapping=mapping)
        return frame, info | found
    if scheme in _SQL_SCHEMES:
        frame = _read_sql(text, table=table, query=query)
        return frame, info | _sql_info(text, table, query) | {"reader": "sqlalchemy"}
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"No such file or folder: {path}")
    name = path.name.lower().removesuffix(".gz")
    info["source"] = str(path)
    if path.is_dir():
        files, partitions = dataset_files(path, months)
        frame, parquet_info = _read_parquet(files, mapping)
        warnings = _period_warnings(partitions)
        found = {"format": "parquet dataset", "partitions": partitions, "warnings": warnings}
        return frame, info | parquet_info | found
    if name.endswith((".xlsx", ".xlsm", ".xls", ".ods")):
        return _read_excel(path, sheet, mapping), info | {"format": "xlsx"}
    if name.endswith(".xes"):
        frame, xes_info = _read_xes(path)
        return frame, info | xes_info | {"format": "xes"}
    if name.endswith(_PARQUET_SUFFIXES):
        frame, parquet_info = _read_parquet([path], mapping)
        return frame, info | parquet_info | {"format": "parquet"}
    if name.endswith((".csv", ".tsv", ".txt", ".tab")):
        frame, csv_info = _read_csv(path, mapping, encoding)
        return frame, info | csv_info | {"format": "csv"}
    raise ValueError(
        f"Cannot tell the format of {path.name}: expected .csv, .tsv, .txt (optionally .gz), "
        ".xlsx, .xes, .xes.gz or .parquet, a folder of Parquet files, a pandas DataFrame, or a "
        "SQLAlchemy URL."
    )


def _sql_info(url: str, table: str | None, query: str | None) -> dict[str, Any]:
    from sqlalchemy.engine import make_url

    shown = make_url(url).render_as_string(hide_password=True)
    what = f"table {table}" if table else "query"
    return {"source": f"{shown} ({what})", "format": "sql"}


def _one_of(table: str | None, query: str | None) -> None:
    if (table is None) == (query is None):
        raise ValueError("A database source needs exactly one of table='name' or query='SELECT …'.")


def _read_sql(url: str, *, table: str | None, query: str | None) -> pd.DataFrame:
    import sqlalchemy

    _one_of(table, query)
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            if table is not None:
                return pd.read_sql_table(table, connection)
            return pd.read_sql_query(sqlalchemy.text(query), connection)
    finally:
        engine.dispose()


def _read_postgres(
    url: str, *, table: str | None, query: str | None, mapping: Mapping[str, str] | None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A PostgreSQL table or query read by ADBC (adbc-driver-postgresql) as Arrow record
    batches, never through Python objects: timestamps and numbers stay typed, and the text
    columns the loader cleans are dictionary-encoded batch by batch. A table is read in the
    server's order (``query=`` with ORDER BY fixes one)."""
    try:
        from adbc_driver_postgresql import dbapi
    except ImportError:
        raise ImportError(
            "Reading PostgreSQL needs adbc-driver-postgresql: pip install 'procmine[postgres]'."
        ) from None
    _one_of(table, query)
    uri, where = _postgres_uri(url)
    try:
        connection = dbapi.connect(uri)
    except dbapi.Error as error:
        raise LogReadError(
            f"Cannot connect to PostgreSQL at {where}: {_server_says(error)}"
        ) from None
    with connection, connection.cursor() as cursor:
        sql = query if table is None else f"SELECT * FROM {_postgres_table(cursor, table, where)}"
        try:
            cursor.execute(sql)
            frame, encoded = _arrow_frame(cursor.fetch_record_batch(), mapping)
        except dbapi.Error as error:
            raise LogReadError(
                f"Reading {f'table {table}' if table else 'the query'} from PostgreSQL at "
                f"{where} failed: {_server_says(error)}"
            ) from None
    return frame, _sql_info(url, table, query) | {"reader": "adbc", "dictionary_columns": encoded}


def _postgres_uri(url: str) -> tuple[str, str]:
    """The libpq URI ADBC takes for a SQLAlchemy-style URL, and where it points, for messages.

    >>> _postgres_uri("postgresql+psycopg://an:b%40d@db.local:5433/qlvb?sslmode=require")
    ('postgresql://an:b%40d@db.local:5433/qlvb?sslmode=require', 'db.local:5433, database qlvb')
    """
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    uri = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    host = parsed.host or parsed.query.get("host") or "localhost"
    return uri, f"{host}:{parsed.port or 5432}, database {parsed.database or parsed.username}"


def _server_says(error: Exception) -> str:
    """The server's or libpq's own words in an ADBC error, without the driver's prefixes."""
    line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    for prefix in ("ERROR:", "FATAL:", "Failed to connect:"):
        line = line.rsplit(prefix, 1)[-1]
    return line.strip()


def _postgres_table(cursor: Any, table: str, where: str) -> str:
    """``table`` (a name on the search path, or ``schema.name``) quoted for SQL; an unknown
    one is an error that names the tables and views the database has."""
    cursor.execute(
        "SELECT table_schema, table_name, table_schema = ANY(current_schemas(false)) "
        "FROM information_schema.tables "
        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
        "ORDER BY 3 DESC, 1, 2"
    )
    tables = cursor.fetchall()
    for namespace, name, visible in tables:
        if table == f"{namespace}.{name}" or (visible and table == name):
            return ".".join('"' + part.replace('"', '""') + '"' for part in (namespace, name))
    names = [name if visible else f"{namespace}.{name}" for namespace, name, visible in tables]
    listed = ", ".join(names[:30]) + (f" and {len(names) - 30} more" if len(names) > 30 else "")
    raise LogReadError(
        f"No table {table!r} in PostgreSQL at {where}. "
        + (f"Its tables: {listed}." if names else "It has no tables.")
    )


def _arrow_frame(
    batches: pa.RecordBatchReader, mapping: Mapping[str, str] | None
) -> tuple[pd.DataFrame, list[str]]:
    """Record batches as one DataFrame, and the text columns read as dictionaries: those the
    loader cleans, encoded batch by batch (the strings are not held twice). PostgreSQL types
    Arrow has no type for come as text (PostgreSQL's ``numeric`` as float64, as pandas does)."""
    names = batches.schema.names
    text = candidate_headers(names, mapping, TEXT_COLUMNS) | _transfer_text(
        names, mapping, batches.schema
    )
    fields = []
    for field in batches.schema:
        kind = field.type
        if isinstance(kind, pa.BaseExtensionType):  # arrow.opaque: kept as the server wrote it
            kind = (
                pa.float64() if getattr(kind, "type_name", "") == "numeric" else kind.storage_type
            )
        if field.name in text and (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            kind = pa.dictionary(pa.int32(), kind)
        fields.append(pa.field(field.name, kind))
    shape = pa.schema(fields)

    def converted(batch: pa.RecordBatch) -> pa.RecordBatch:
        columns = []
        for column, field in zip(batch.columns, shape, strict=True):
            if isinstance(column.type, pa.BaseExtensionType):
                column = column.storage
            columns.append(column if column.type == field.type else column.cast(field.type))
        return pa.RecordBatch.from_arrays(columns, schema=shape)

    table = pa.Table.from_batches((converted(batch) for batch in batches), schema=shape)
    encoded = [f.name for f in shape if pa.types.is_dictionary(f.type)]
    return table.to_pandas(), encoded


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
    files: Sequence[Path], mapping: Mapping[str, str] | None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A Parquet file, or a dataset's ``files`` (:func:`dataset_files`) read as one table whose
    columns are the first file's: folder names add no column."""
    import pyarrow.parquet as pq

    metadata = pq.read_metadata(files[0])
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
    source = files[0] if len(files) == 1 else [str(file) for file in files]
    table = pq.read_table(source, read_dictionary=[n for n in names if n in few], partitioning=None)
    encoded = [
        n for n in names if n in wanted and pa.types.is_dictionary(table.schema.field(n).type)
    ]
    return table.to_pandas(), {"dictionary_columns": encoded}


def dataset_files(folder: str | Path, months: Any = None) -> tuple[list[Path], dict[str, Any]]:
    """The Parquet files of a dataset folder in month order (hive folders ``month=YYYY-MM``,
    :func:`write_log`), and ``partitions``: the ``months`` read, the ``months_skipped``,
    ``files_read`` and the ``period`` asked. ``months`` (``"2024-03"`` or a pair, both ends
    included, either None for open) keeps the folders of those months: the others are pruned
    by their names, no file in them is opened.

    >>> import tempfile
    >>> from procmine.datasets import example_log
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = write_log(example_log(), folder, partition_by="month")
    ...     dataset_files(folder, ("2024-05", None))[1]
    {'months': ['2024-05'], 'months_skipped': [], 'files_read': 1, 'period': ('2024-05', None)}
    """
    import pyarrow.dataset as ds

    key = pa.schema([(PARTITION_KEY, pa.string())])
    # An explicit schema: discovery lists the files and parses folder names, opens none.
    found = ds.dataset(
        str(folder), schema=key, format="parquet", partitioning=ds.partitioning(key, flavor="hive")
    )
    listed = sorted(
        (ds.get_partition_keys(f.partition_expression).get(PARTITION_KEY) or "", f.path)
        for f in found.get_fragments()
        if f.path.lower().endswith(_PARQUET_SUFFIXES)
    )
    if not listed:
        raise LogReadError(f"{folder} holds no Parquet files (*.parquet): it is no dataset.")
    every = sorted({month for month, _ in listed if month})
    odd = [month for month in every if not _MONTH.match(month)]
    if odd:
        raise LogReadError(f"{folder} has month folders not named month=YYYY-MM: {odd[:5]}.")
    period = None if months is None else _period(months)
    kept = listed
    if period is not None:
        if not all(month for month, _ in listed):
            raise LogReadError(
                f"months= needs every file of {folder} in a month=YYYY-MM folder; some are not."
            )
        first, last = period[0] or "0000-00", period[1] or "9999-99"
        kept = [(month, path) for month, path in listed if first <= month <= last]
        if not kept:
            raise LogReadError(
                f"No month folder of {folder} is in the period {_shown(period)}: its months run "
                f"from {every[0]} to {every[-1]}."
            )
    read = sorted({month for month, _ in kept if month})
    partitions = {
        "months": read,
        "months_skipped": [month for month in every if month not in read],
        "files_read": len(kept),
        "period": period,
    }
    return [Path(path) for _, path in kept], partitions


_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_MONTH_TEXT = re.compile(r"^\d{4}-\d{1,2}(-\d{1,2})?$")  # what months= takes as text


def _period(months: Any) -> tuple[str | None, str | None]:
    """``months`` as (first, last) ``YYYY-MM`` strings, None for an open end."""
    pair = (months, months) if not isinstance(months, tuple | list) else tuple(months)
    if len(pair) != 2:
        raise ValueError(f"months= is a month or a pair (first, last), not {months!r}.")
    try:
        if any(isinstance(m, str) and not _MONTH_TEXT.match(m) for m in pair):
            raise ValueError
        first, last = (None if m is None else str(pd.Period(m, freq="M")) for m in pair)
    except ValueError:
        raise ValueError(f"months= takes months such as '2024-03', not {months!r}.") from None
    if first is not None and last is not None and first > last:
        raise ValueError(f"months=({first!r}, {last!r}): the first month is after the last.")
    return first, last


def _shown(period: tuple[str | None, str | None]) -> str:
    first, last = period
    return f"{first or 'the first month'} to {last or 'the last month'}"


def _period_warnings(partitions: dict[str, Any]) -> list[str]:
    """What a period read leaves out, in words, when it left month folders out."""
    skipped = partitions["months_skipped"]
    if not skipped:
        return []
    first, last = partitions["months"][0], partitions["months"][-1]
    cut = [
        *([f"a case that started before {first} lacks its earlier events"] * (skipped[0] < first)),
        *([f"one that went on after {last} its later ones"] * (skipped[-1] > last)),
    ]
    return [
        f"Only the months {first} to {last} were read ({len(skipped)} other months left out): "
        f"{', and '.join(cut)}. Read a few months more and keep the cases of the period with "
        "pm.filter_log(log, since=..., until=...)."
    ]


def write_log(log: pd.DataFrame, path: str | Path, *, partition_by: str | None = None) -> Path:
    """Write ``log`` (as :func:`~procmine.log.read_log` returns it) as Parquet: one file, or
    with ``partition_by="month"`` a dataset folder of hive folders ``month=YYYY-MM/part-0.parquet``
    (the month of ``time:timestamp`` on the log's own clock; the key is the folder's name,
    not a column). ``read_log`` reads either back, ``months=`` a period of the folders. The
    load report is not written. Returns ``path``; a dataset folder must be new or empty.

    >>> import tempfile
    >>> from procmine.log import read_log
    >>> log = read_log(pd.DataFrame({"case": ["a", "a", "b"], "activity": ["x", "y", "x"],
    ...                              "time": ["2024-01-31 16:00", "2024-02-01 08:00",
    ...                                       "2024-02-02 09:00"]}))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = write_log(log, folder, partition_by="month")
    ...     sorted(p.parent.name for p in Path(folder).rglob("*.parquet"))
    ...     read_log(folder, months="2024-02")["case:concept:name"].tolist()
    ['month=2024-01', 'month=2024-02']
    ['a', 'b']
    """
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    path = Path(path)
    plain = log.copy(deep=False)  # the same columns, without the load report in attrs
    plain.attrs = {}
    table = _in_microseconds(pa.Table.from_pandas(plain, preserve_index=False))
    if partition_by is None:
        pq.write_table(table, path)
        return path
    if partition_by != PARTITION_KEY:
        raise ValueError(f"partition_by={partition_by!r}: a log is partitioned by 'month'.")
    if PARTITION_KEY in log.columns:
        raise ValueError(f"The log has a column {PARTITION_KEY!r}: rename it to partition it.")
    if path.exists() and any(path.iterdir()):
        raise FileExistsError(f"{path} exists and is not empty: write the dataset to a new folder.")
    stamps = log[schema.TIMESTAMP]
    if stamps.isna().any():
        raise ValueError("Some events have no time:timestamp: they belong to no month folder.")
    wall = stamps.dt.tz_localize(None) if stamps.dt.tz is not None else stamps  # own clock
    month = wall.to_numpy().astype("datetime64[M]").view("int64")  # months since 1970-01
    codes, months = pd.factorize(month, sort=True)
    labels = pa.array(months.view("datetime64[M]").astype(str))  # "YYYY-MM", one per month
    table = table.append_column(
        PARTITION_KEY, pa.DictionaryArray.from_arrays(pa.array(codes.astype("int32")), labels)
    )
    ds.write_dataset(
        table,
        path,
        format="parquet",
        partitioning=[PARTITION_KEY],
        partitioning_flavor="hive",
        basename_template="part-{i}.parquet",
        preserve_order=True,  # each file in the log's order
        existing_data_behavior="overwrite_or_ignore",
    )
    return path


def _in_microseconds(table: pa.Table) -> pa.Table:
    """``table`` with its nanosecond time columns in microseconds where no value has a finer
    part (Spark reads no Parquet TIMESTAMP(NANOS)); a column that has one keeps nanoseconds.

    >>> stamps = pa.table({"t": pa.array([1_000, 2_000], pa.timestamp("ns", "UTC"))})
    >>> _in_microseconds(stamps).schema.field("t").type
    TimestampType(timestamp[us, tz=UTC])
    """
    for number, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.unit == "ns":
            try:
                column = table.column(number).cast(pa.timestamp("us", field.type.tz), safe=True)
            except pa.ArrowInvalid:  # a value in nanoseconds: kept as it is
                continue
            table = table.set_column(number, field.with_type(column.type), column)
    return table


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
