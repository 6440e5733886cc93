"""Timestamp columns: the format detected per column (dd/mm/yyyy or mm/dd/yyyy with or without a
time, ISO 8601 with or without offset, Excel serial numbers, datetimes) and parsed vectorised
(Arrow's ``strptime``, pandas' ISO 8601 parser); naive stamps localised by
:func:`procmine.calendar.localize`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from procmine import schema
from procmine.calendar import localize
from procmine.log.text import arrow_text

__all__ = ["parse_timestamps"]


# Excel's 1900 date system, as Excel counts it (its phantom 29/02/1900 makes day 0 = 30/12/1899).
_EXCEL_EPOCH = np.datetime64("1899-12-30", "ms")
# Serial numbers taken as dates: 1950-01-01 .. 2099-12-31 (keeps durations such as 3.5 out).
_EXCEL_RANGE = (18264.0, 73051.0)


def parse_timestamps(
    values: pd.Series,
    timezone: str = schema.DEFAULT_TIMEZONE,
    dayfirst: bool = True,
) -> tuple[pd.Series, str]:
    """Parse a column of time stamps, detecting its format; returns (stamps, format found).

    Understands ISO 8601 (with or without offset), dd/mm/yyyy with or without HH:MM[:SS]
    (``/``, ``-`` or ``.`` between the parts; mm/dd/yyyy when it fits better or
    ``dayfirst=False``), Excel serial numbers (1900 system, 1950–2099) and datetime columns.
    Naive stamps are taken in ``timezone``; the result is ``datetime64[us, timezone]`` with NaT
    where a value does not parse.

    >>> stamps, fmt = parse_timestamps(pd.Series(["15/03/2024 08:30", "45366.5"]))
    >>> [str(s) for s in stamps], fmt
    (['2024-03-15 08:30:00+07:00', '2024-03-15 12:00:00+07:00'], '%d/%m/%Y %H:%M; Excel serial')
    """
    values = values.reset_index(drop=True)
    dtype = values.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        return _zoned(pd.Series(values), timezone), "datetime"
    if pd.api.types.is_bool_dtype(dtype):
        return pd.Series(pd.NaT, index=values.index, dtype=f"datetime64[us, {timezone}]"), ""
    if pd.api.types.is_numeric_dtype(dtype):
        return _from_excel(values.to_numpy(dtype="float64", na_value=np.nan), timezone)
    if isinstance(dtype, pd.CategoricalDtype):
        values = values.astype(object)
    if pd.api.types.is_object_dtype(values.dtype):
        kind = pd.api.types.infer_dtype(values, skipna=True)
        if kind in ("datetime64", "datetime", "date"):
            return _zoned(pd.to_datetime(values, utc=_any_aware(values)), timezone), "datetime"
        if kind not in ("string", "empty"):
            return _parse_mixed(values, timezone, dayfirst)
    return _parse_text(arrow_text(values, flat=False), timezone, dayfirst)


def _zoned(stamps: pd.Series, timezone: str) -> pd.Series:
    """:func:`procmine.calendar.localize` in the log's unit (microseconds), unnamed."""
    return localize(stamps, timezone).astype(f"datetime64[us, {timezone}]").rename(None)


def _any_aware(values: pd.Series) -> bool:
    sample = values.dropna()
    return bool(len(sample)) and any(getattr(v, "tzinfo", None) is not None for v in sample[:50])


def _from_excel(serials: np.ndarray, timezone: str) -> tuple[pd.Series, str]:
    ok = np.isfinite(serials) & (serials >= _EXCEL_RANGE[0]) & (serials < _EXCEL_RANGE[1])
    # Rounded to the millisecond: serials carry float noise (08:30 is 0.35416666666666663).
    millis = np.round(np.where(ok, serials, 0.0) * 86_400_000).astype("int64")
    stamps = (_EXCEL_EPOCH + millis.astype("timedelta64[ms]")).astype("datetime64[us]")
    stamps = np.where(ok, stamps, np.datetime64("NaT", "us"))
    return _zoned(pd.Series(stamps), timezone), ("Excel serial" if ok.any() else "")


_DMY = (
    r"^(?:\d{1,2}:\d{2}(?::\d{2})? )?(?P<first>\d{1,2})(?P<sep>[/.-])(?P<second>\d{1,2})[/.-]\d{4}"
)
# The seconds written in a dd/mm/yyyy stamp, its time before or after the date.
_SECONDS = (
    r"^(?:\d{1,2}:\d{1,2}(?::(?P<lead>\d{1,2}))? )?\d{1,2}[/.-]\d{1,2}[/.-]\d{4}"
    r"(?: \d{1,2}:\d{1,2}:(?P<trail>\d{1,2}))?"
)
_ISO = r"^\d{4}-\d{1,2}-\d{1,2}"
_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"
_SERIAL = r"^\d+(?:\.\d+)?$"


def _day_formats(separator: str, dayfirst: bool) -> list[str]:
    date = f"%d{separator}%m{separator}%Y" if dayfirst else f"%m{separator}%d{separator}%Y"
    return [f"{date} %H:%M:%S", f"{date} %H:%M", date, f"%H:%M:%S {date}", f"%H:%M {date}"]


def _strptime_day_first(values: pa.Array, dayfirst: bool) -> tuple[np.ndarray, list[str]]:
    """Arrow's strptime, one format at a time, each tried only on the values the previous ones
    left unparsed (all of them usually parse with the first)."""
    result = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[us]")
    used: list[str] = []
    for separator in "/-.":
        for fmt in _day_formats(separator, dayfirst):
            pending = np.flatnonzero(np.isnat(result))
            if not len(pending):
                return result, used
            subset = values if len(pending) == len(values) else values.take(pa.array(pending))
            attempt = pc.strptime(subset, format=fmt, unit="us", error_is_null=True)
            parsed = attempt.to_numpy(zero_copy_only=False).astype("datetime64[us]")
            if not np.isnat(parsed).all():
                used.append(fmt)
                result[pending] = parsed
    return result, used


def _numbers(values: pa.Array) -> np.ndarray:
    """An Arrow array of numbers or digits as a new float64 array, NaN where null or empty:
    always a copy, so that writing into it never writes into another (a float64 view of
    ``days`` once made every rolled-over date pass as written whenever a stamp was unparsed)."""
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        values = pc.cast(pc.if_else(pc.equal(values, ""), None, values), pa.float64())
    return np.array(values.to_numpy(zero_copy_only=False), dtype="float64")


# The one layout most exports write, dd/mm/yyyy HH:MM:SS with every field padded: its rows are
# read straight from their bytes (fixed places), the others as text. Places of its digits.
_FIXED_WIDTH = 19
_FIXED_DIGITS = np.array([0, 1, 3, 4, 6, 7, 8, 9, 11, 12, 14, 15, 17, 18])
_FIXED_MARKS = ((2, ord("/")), (5, ord("/")), (10, ord(" ")), (13, ord(":")), (16, ord(":")))
_BLOCK = 1 << 16  # rows gathered at a time when a chunk's rows are not all of that width


class _Fixed:
    """The rows of a text column written exactly ``NN/NN/NNNN NN:NN:NN`` (digits; first and
    second number 1..31, year ≥ 1000, hour ≤ 23, minute ≤ 59, second ≤ 61: what strptime's
    first format, ``%d/%m/%Y %H:%M:%S`` or ``%m/%d/%Y %H:%M:%S``, reads for one of the two
    orders), found on the bytes: ``rows`` (sorted; None: every row) and their ``fields``, a
    list of int32 arrays, one row per row: first, second, year, hour, minute, second, as
    written (one array per chunk of the column: no copy into one)."""

    def __init__(self, values: pa.Array | pa.ChunkedArray) -> None:
        chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
        rows: list[np.ndarray] = []
        self.fields: list[np.ndarray] = []
        start = 0
        for chunk in chunks:
            found, read = _fixed_rows(chunk)
            rows.append(found + start)
            self.fields.append(read)
            start += len(chunk)
        self.count = sum(len(f) for f in self.fields)
        self.rows = None if self.count == len(values) else np.concatenate([np.zeros(0, int), *rows])


def _fixed_rows(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(the rows of one Arrow string array of :class:`_Fixed`'s layout, their fields)."""
    none = np.zeros(0, dtype=np.intp), np.zeros((0, 6), dtype=np.int32)
    n = len(chunk)
    if not n or not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
        return none
    _, offsets_buffer, data = chunk.buffers()
    if data is None:
        return none
    wide = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets = np.frombuffer(offsets_buffer, dtype=wide, count=chunk.offset + n + 1)
    offsets = offsets[chunk.offset :].astype(np.int64, copy=False)
    shaped = np.diff(offsets) == _FIXED_WIDTH
    if chunk.null_count:
        shaped &= chunk.is_valid().to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(shaped)
    if not len(rows):
        return none
    text = np.frombuffer(data, dtype=np.uint8)
    if len(rows) == n:  # every row of that width: one block of bytes, n x 19
        blocks = [text[offsets[0] : offsets[0] + n * _FIXED_WIDTH].reshape(n, _FIXED_WIDTH)]
    else:
        width = np.arange(_FIXED_WIDTH)
        blocks = [
            text[offsets[rows[i : i + _BLOCK], None] + width] for i in range(0, len(rows), _BLOCK)
        ]
    fields = np.concatenate([_fixed_fields(block) for block in blocks])
    good = fields[:, 0] >= 0
    return rows[good], fields[good]


def _fixed_fields(block: np.ndarray) -> np.ndarray:
    """The fields of each row of ``block`` (rows of 19 bytes), -1 in the first where a row is
    not of the layout."""
    digits = block[:, _FIXED_DIGITS] - np.uint8(ord("0"))  # not a digit: 10 and more
    good = (digits <= 9).all(axis=1)
    for place, mark in _FIXED_MARKS:
        good &= block[:, place] == mark
    d = digits.astype(np.int16)
    fields = np.empty((len(block), 6), dtype=np.int32)
    fields[:, 0] = d[:, 0] * 10 + d[:, 1]
    fields[:, 1] = d[:, 2] * 10 + d[:, 3]
    fields[:, 2] = d[:, 4] * 1000 + d[:, 5] * 100 + d[:, 6] * 10 + d[:, 7]
    fields[:, 3] = d[:, 8] * 10 + d[:, 9]
    fields[:, 4] = d[:, 10] * 10 + d[:, 11]
    fields[:, 5] = d[:, 12] * 10 + d[:, 13]
    first, second = fields[:, 0], fields[:, 1]
    good &= (first >= 1) & (first <= 31) & (second >= 1) & (second <= 31)
    good &= (fields[:, 2] >= 1000) & (fields[:, 3] <= 23) & (fields[:, 4] <= 59)
    good &= fields[:, 5] <= 61
    fields[~good, 0] = -1
    return fields


_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)


def _fixed_stamps(fields: list[np.ndarray], dayfirst: bool) -> tuple[np.ndarray, bool]:
    """(the stamps of :class:`_Fixed` rows read in that order, NaT where the date or time names
    no instant, as strptime then the checks of :func:`_parse_day_first` give them; whether
    strptime would have read any of them, even rolled over). Worked a block of rows at a time:
    small temporaries."""
    stamps = np.empty(sum(len(f) for f in fields), dtype="datetime64[us]")
    micros = stamps.view(np.int64)
    nat = np.datetime64("NaT").astype("datetime64[us]").view(np.int64)
    read_any = False
    blocks = (f[i : i + _BLOCK * 4] for f in fields for i in range(0, len(f), _BLOCK * 4))
    start = 0
    for block in blocks:
        day, month = (block[:, 0], block[:, 1]) if dayfirst else (block[:, 1], block[:, 0])
        year = block[:, 2]
        read = month <= 12  # else no format reads the row: the month is no month
        read_any = read_any or bool(read.any())
        month = np.where(read, month, 1)
        leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
        valid = read & (day <= _MONTH_DAYS[month] + ((month == 2) & leap)) & (block[:, 5] <= 59)
        # Days since 1970-01-01 of a (proleptic Gregorian) date: H. Hinnant's days_from_civil.
        y = year - (month <= 2)
        era = y // 400
        of_era = y - era * 400
        of_year = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
        days = era * 146097 + of_era * 365 + of_era // 4 - of_era // 100 + of_year - 719468
        seconds = days.astype(np.int64) * 86400
        seconds += block[:, 3] * 3600 + block[:, 4] * 60 + block[:, 5]
        micros[start : start + len(block)] = np.where(valid, seconds * 1_000_000, nat)
        start += len(block)
    return stamps, read_any


def _parse_day_first(
    values: pa.Array, dayfirst: bool, fixed: list[np.ndarray] | None = None
) -> tuple[pa.Array, list[str], np.ndarray | None]:
    """dd/mm/yyyy (or mm/dd/yyyy) stamps: the order that fits decides (13..31 can only be a
    day), ``dayfirst`` breaks the tie; impossible dates (31/02, 29/02/2023, 10:00:60) are null.
    ``fixed``: the fields of more such stamps (:class:`_Fixed`), read from them, not from text;
    their stamps come third (None without).

    strptime reads a day 1..31 whatever the month and seconds 0..61, and rolls what overflows
    into the next month or minute (31/02/2024 → 02/03, 31/04 → 01/05, 10:00:60 → 10:01:00). One
    rule keeps a stamp: its day, month and seconds are the written ones. Where strptime parsed
    exactly they are by construction; a roll-over leaves day 1..3 or a written ``:6`` (second
    60 or 61), so the regex (slow) reads the written fields of those rows (and of the unparsed
    ones, for the order) only.
    """
    fixed = [f for f in fixed or [] if len(f)]
    # The written first and second numbers of the fixed rows: they take part in the order.
    fixed_first = any(bool(np.any(f[:, 0] > 12)) for f in fixed)
    fixed_second = any(bool(np.any(f[:, 1] > 12)) for f in fixed)
    leap = pc.fill_null(pc.match_substring(values, ":6"), False).to_numpy(zero_copy_only=False)
    for attempt in range(2):
        result, used = _strptime_day_first(values, dayfirst)
        stamps = pa.array(result, type=pa.timestamp("us"))
        days, months = _numbers(pc.day(stamps)), _numbers(pc.month(stamps))
        unsure = np.flatnonzero(np.isnan(days) | (days <= 3))
        parts = pc.extract_regex(values.take(pa.array(unsure, type=pa.int64())), _DMY)
        first = days.copy() if dayfirst else months.copy()
        second = months.copy() if dayfirst else days.copy()
        first[unsure] = _numbers(pc.struct_field(parts, "first"))
        second[unsure] = _numbers(pc.struct_field(parts, "second"))
        first_is_day = fixed_first or bool(np.any(first > 12))
        second_is_day = fixed_second or bool(np.any(second > 12))
        if attempt or first_is_day in (second_is_day, dayfirst):
            break
        dayfirst = first_is_day  # the values say the other order: parse again that way
    written_day, written_month = (first, second) if dayfirst else (second, first)
    valid = np.ones(len(values), dtype=bool)
    valid[unsure] = (days[unsure] == written_day[unsure]) & (
        months[unsure] == written_month[unsure]
    )
    leaps = np.flatnonzero(leap & ~np.isnan(days))
    if len(leaps):
        rows = pa.array(leaps, type=pa.int64())
        seconds = _numbers(pc.second(stamps.take(rows)))
        written = pc.extract_regex(values.take(rows), _SECONDS)
        lead, trail = (_numbers(pc.struct_field(written, g)) for g in ("lead", "trail"))
        written_seconds = np.where(np.isnan(lead), trail, lead)
        valid[leaps] &= np.isnan(written_seconds) | (seconds == written_seconds)
    checked = pc.if_else(pa.array(valid), stamps, pa.scalar(None, pa.timestamp("us")))
    if not fixed:
        return checked, used, None
    fixed_stamps, read = _fixed_stamps(fixed, dayfirst)
    first_format = _day_formats("/", dayfirst)[0]  # the first strptime tries
    if read and first_format not in used:
        used.insert(0, first_format)
    return checked, used, fixed_stamps


def _parse_iso(values: pd.Series) -> tuple[pd.Series, pd.Series | None]:
    """ISO 8601 stamps: (naive ones, those with an offset in UTC or None when there are none)."""
    with_offset = values.str.contains(_OFFSET, regex=True, na=False).to_numpy()
    naive = pd.to_datetime(values.where(~with_offset), format="ISO8601", errors="coerce")
    naive = naive.astype("datetime64[us]")
    if not with_offset.any():
        return naive, None
    aware = pd.to_datetime(values.where(with_offset), format="ISO8601", errors="coerce", utc=True)
    return naive, aware.astype("datetime64[us, UTC]")


def _parse_text(
    values: pa.Array | pa.ChunkedArray, timezone: str, dayfirst: bool
) -> tuple[pd.Series, str]:
    n = len(values)
    # Rows of the common fixed layout are read from their bytes; the others as text, here.
    fixed = _Fixed(values)
    if fixed.rows is None:  # every row (the usual column)
        others: np.ndarray | None = np.zeros(0, dtype=np.intp)
        values = pa.array([], type=pa.large_string())
    elif len(fixed.rows):
        kept = np.ones(n, dtype=bool)
        kept[fixed.rows] = False
        others = np.flatnonzero(kept)
        values = values.take(pa.array(others))
    else:
        others = None  # every row
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    values = pc.cast(values, pa.large_string()) if len(values) else values
    m = len(values)
    # Double spaces are rare: plain replacements are cheaper than a regex over every stamp.
    values = pc.utf8_trim_whitespace(values)
    if pc.any(pc.match_substring(values, "  ")).as_py():
        for _ in range(2):
            values = pc.replace_substring(values, "  ", " ")
    found: list[str] = []
    local = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")  # wall-clock stamps
    utc = None  # stamps with an offset, when there are any
    rest = np.flatnonzero(values.is_valid().to_numpy(zero_copy_only=False))

    def take(pattern: str) -> tuple[np.ndarray, pa.Array]:
        """The rows still unparsed that match ``pattern`` (and drop them from ``rest``)."""
        nonlocal rest
        subset = values if len(rest) == m else values.take(pa.array(rest))
        hit = pc.fill_null(pc.match_substring_regex(subset, pattern), False)
        hit = hit.to_numpy(zero_copy_only=False)
        rows, rest = rest[hit], rest[~hit]
        found_rows = rows if others is None else others[rows]  # rows of the column
        return found_rows, subset if len(rows) == len(subset) else subset.filter(pa.array(hit))

    rows, subset = take(_DMY) if len(rest) else (rest, None)
    if len(rows) or fixed.count:
        if subset is None:
            subset = pa.array([], type=pa.large_string())
        stamps, used, fixed_stamps = _parse_day_first(subset, dayfirst, fixed.fields)
        found += used
        local[rows] = stamps.to_numpy(zero_copy_only=False)
        if fixed.rows is None:  # every row: the fixed stamps are the column
            local = fixed_stamps
        elif fixed_stamps is not None:
            local[fixed.rows] = fixed_stamps

    rows, subset = take(_ISO) if len(rest) else (rest, None)
    if len(rows):
        naive, aware = _parse_iso(pd.Series(subset.to_pandas()))
        if naive.notna().any() or (aware is not None and aware.notna().any()):
            found.append("ISO 8601")
        local[rows] = naive.to_numpy()
        if aware is not None:
            utc = _filled(utc, n)
            utc[rows] = aware.dt.tz_localize(None).to_numpy()

    rows, subset = take(_SERIAL) if len(rest) else (rest, None)
    if len(rows):
        stamps, fmt = _from_excel(pc.cast(subset, pa.float64()).to_numpy(), timezone)
        if fmt:
            found.append(fmt)
        utc = _filled(utc, n)
        utc[rows] = stamps.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()

    result = _zoned(pd.Series(local), timezone)
    if utc is not None and not np.isnat(utc).all():
        result = result.fillna(_zoned(pd.Series(utc).dt.tz_localize("UTC"), timezone))
    return result, "; ".join(found)


def _filled(stamps: np.ndarray | None, n: int) -> np.ndarray:
    """``stamps``, or ``n`` NaT stamps when None."""
    return np.full(n, np.datetime64("NaT"), dtype="datetime64[us]") if stamps is None else stamps


def _parse_mixed(values: pd.Series, timezone: str, dayfirst: bool) -> tuple[pd.Series, str]:
    """An object column of strings, numbers and datetimes (Excel sheets typed by hand)."""
    kinds = values.map(type)  # one C-level call per cell, only for such mixed columns
    is_text = kinds.eq(str).to_numpy()
    is_number = (
        kinds.isin([int, float, np.int64, np.float64]).to_numpy() & values.notna().to_numpy()
    )
    result = pd.Series(pd.NaT, index=values.index, dtype=f"datetime64[us, {timezone}]")
    found = []
    if is_text.any():
        stamps, fmt = _parse_text(arrow_text(values[is_text]), timezone, dayfirst)
        result[is_text] = stamps.to_numpy()
        found.append(fmt)
    if is_number.any():
        stamps, fmt = _from_excel(values[is_number].to_numpy(dtype="float64"), timezone)
        result[is_number] = stamps.to_numpy()
        found.append(fmt)
    others = ~(is_text | is_number) & values.notna().to_numpy()
    if others.any():
        converted = pd.to_datetime(values[others], errors="coerce", utc=_any_aware(values[others]))
        result[others] = _zoned(converted, timezone).to_numpy()
        found.append("datetime")
    return result, "; ".join(f for f in found if f)
