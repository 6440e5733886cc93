"""Text columns: NFC, whitespace trimmed and collapsed, missing-value placeholders made null, and
each canonical text column coded as integers into its cleaned distinct values (the checks, the
sort and the duplicate search work on the codes; the strings are built once, in log order)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from procmine.log.parallel import in_parallel, split_point

__all__ = [
    "MISSING_VALUES",
    "arrow_text",
    "encode_text",
    "materialise",
    "nfc_column",
    "nfc_text",
    "non_empty",
    "raw_codes",
]


# Placeholders exports write for "no value". In the department and resource columns they become
# nulls (the event stays); in the case and step columns they make the row quarantined.
MISSING_VALUES: tuple[str, ...] = (
    "",
    "EMPTY",
    "NaN",
    "nan",
    "null",
    "NULL",
    "-",
    "None",
    "none",
    "UNDEFINED",
    "undefined",
    "MISSING",
    "missing",
    "?",
    "N/A",
    "n/a",
    "NA",
    "unknown",
    "Unknown",
    "UNKNOWN",
)


_SPACES = r"[\s\p{Z}\x{200B}\x{FEFF}]+"


def arrow_text(values: pd.Series, *, flat: bool = True) -> pa.Array | pa.ChunkedArray:
    """A column as one Arrow large_string array (numbers become their text: 12.0 → '12');
    ``flat=False`` leaves it chunked as read (Parquet row groups), for callers that cut it."""
    dtype = values.dtype
    if pd.api.types.is_float_dtype(dtype):
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
        finite = numbers[np.isfinite(numbers)]
        if np.array_equal(finite, np.round(finite)):  # ids read as floats because of blanks
            values = values.astype("Int64")
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        array = pc.cast(pa.array(values, from_pandas=True), pa.large_string())
    else:
        try:
            array = pa.array(values, type=pa.large_string(), from_pandas=True)
        except (pa.ArrowTypeError, pa.ArrowInvalid):  # mixed Python objects
            array = pa.array(
                values.where(values.isna(), values.astype(str)).astype(object),
                type=pa.large_string(),
                from_pandas=True,
            )
    if flat:
        return _flat(array)
    return array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array])


def _flat(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(array, pa.ChunkedArray):
        return array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    return array


def _normalised(values: pa.Array) -> pa.Array:
    """NFC, inner whitespace runs collapsed, trimmed."""
    values = pc.utf8_normalize(pc.cast(values, pa.large_string()), form="NFC")
    return pc.utf8_trim_whitespace(pc.replace_substring_regex(values, _SPACES, " "))


def _clean_values(values: pa.Array, missing: Sequence[str]) -> tuple[pa.Array, pa.Array]:
    """(the values normalised, empty and missing tokens null; the values normalised)."""
    values = _normalised(values)
    tokens = pa.array(
        sorted({unicodedata.normalize("NFC", t).strip() for t in missing} | {""}),
        type=pa.large_string(),
    )
    cleaned = pc.if_else(
        pc.is_in(values, value_set=tokens), pa.scalar(None, pa.large_string()), values
    )
    return cleaned, values


def encode_text(
    values: pd.Series, missing: Sequence[str]
) -> tuple[pa.Array, np.ndarray, int, bool, dict[str, int]]:
    """(distinct cleaned values, codes with -1 for null, non-null values turned null, whether
    the codes number the values in order of first appearance, {placeholder: values it turned
    null}).

    Cleaning runs on the distinct raw values only; variants that clean to the same text (NFD vs
    NFC, extra spaces) merge into one code.

    >>> dictionary, codes, nulled, _, by_value = encode_text(
    ...     pd.Series(["Phòng A", " ? ", "Phòng  A", "?", "N/A"]), MISSING_VALUES)
    >>> dictionary.to_pylist(), codes.tolist(), nulled, by_value
    (['Phòng A'], [0, -1, 0, -1, -1], 3, {'?': 2, 'N/A': 1})
    """
    categorical = isinstance(values.dtype, pd.CategoricalDtype)
    raw_dictionary, pieces = _pieces(values)
    cleaned_values, normalised = _clean_values(raw_dictionary, missing)
    if cleaned_values.null_count == 0 and cleaned_values.equals(raw_dictionary):
        # Cleaning changed nothing: the distinct raw values stay distinct, no second hashing.
        dictionary, clean = cleaned_values, np.arange(len(cleaned_values), dtype=np.int32)
    else:
        cleaned = pc.dictionary_encode(cleaned_values)
        dictionary = cleaned.dictionary
        clean = cleaned.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
    codes = np.empty(len(values), dtype=np.int32)  # int32: half the memory of int64
    start = 0
    for raw, remap in pieces:
        # Raw null (-1) picks the appended last entry, -1.
        table = np.append(clean[remap], np.int32(-1))
        np.take(table, raw, out=codes[start : start + len(raw)])
        start += len(raw)
    raw_nulls = sum(int(np.count_nonzero(raw < 0)) for raw, _ in pieces)
    nulled = int(np.count_nonzero(codes < 0)) - raw_nulls
    by_value = (
        _nulled_by_value(raw_dictionary, cleaned_values, normalised, pieces) if nulled else {}
    )
    return dictionary, codes, nulled, not categorical, by_value


def _pieces(values: pd.Series) -> tuple[pa.Array, list[tuple[np.ndarray, np.ndarray]]]:
    """(the distinct raw values as text, [(raw codes, their index into those values)] per piece
    of the column): a categorical's categories and codes, else the column hashed."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        raw_dictionary = arrow_text(pd.Series(values.cat.categories))
        return raw_dictionary, [(values.cat.codes.to_numpy(), np.arange(len(raw_dictionary)))]
    # Hashed in two halves on two cores (Arrow releases the GIL), then the halves' distinct
    # values once more. Arrow numbers values as they first appear and the first half's come
    # first, so the codes keep first-appearance order (and cleaning keeps it too).
    text = arrow_text(values, flat=False)
    middle = split_point(len(text))
    # Each half made one array first: Arrow hashes a chunked column chunk by chunk, slower.
    halves = in_parallel(
        lambda half: pc.dictionary_encode(_flat(half)),
        [text.slice(0, middle), text.slice(middle)],
    )
    merged = pc.dictionary_encode(pa.concat_arrays([half.dictionary for half in halves]))
    to_merged = np.split(merged.indices.to_numpy(), [len(halves[0].dictionary)])
    return merged.dictionary, [
        (half.indices.fill_null(-1).to_numpy(), remap)
        for half, remap in zip(halves, to_merged, strict=True)
    ]


def raw_codes(values: pd.Series) -> tuple[pa.Array, np.ndarray]:
    """(the distinct values of a column as read, as text; per row the code of its value, -1 for
    null): a categorical's categories and codes, else the column hashed. No cleaning: for work
    that must see the values as they are (NFC of a column kept as it is).

    >>> dictionary, codes = raw_codes(pd.Series(["b", None, "a", "b"]))
    >>> dictionary.to_pylist(), codes.tolist()
    (['b', 'a'], [0, -1, 1, 0])
    """
    dictionary, pieces = _pieces(values)
    codes = np.empty(len(values), dtype=np.int32)
    start = 0
    for raw, remap in pieces:
        table = np.append(remap.astype(np.int32), np.int32(-1))  # raw null (-1): the last slot
        np.take(table, raw, out=codes[start : start + len(raw)])
        start += len(raw)
    return dictionary, codes


def _nulled_by_value(
    raw_dictionary: pa.Array,
    cleaned: pa.Array,
    normalised: pa.Array,
    pieces: list[tuple[np.ndarray, np.ndarray]],
) -> dict[str, int]:
    """{placeholder (as normalised): rows it turned null}, from the raw codes of each piece
    (``pieces``: raw codes and their index into ``raw_dictionary``); most frequent first."""
    turned = pc.and_(pc.is_valid(raw_dictionary), pc.is_null(cleaned))
    entries = np.flatnonzero(turned.to_numpy(zero_copy_only=False))
    counts = np.zeros(len(raw_dictionary), dtype=np.int64)
    for raw, remap in pieces:
        per_code = np.bincount(raw + 1, minlength=len(remap) + 1)[1:]  # raw null (-1) dropped
        np.add.at(counts, remap, per_code)
    found: dict[str, int] = {}
    for entry in entries:
        token = normalised[int(entry)].as_py()
        found[token] = found.get(token, 0) + int(counts[entry])
    return dict(sorted(found.items(), key=lambda item: (-item[1], item[0])))


def materialise(
    dictionary: pa.Array, codes: np.ndarray, order: pa.Array | None = None
) -> pd.Series:
    """The text of ``codes`` (-1 = null) at the rows ``order`` (None: as they are) as a pandas
    ``str`` column (Arrow ``large_string``, wrapped without a copy)."""
    nulls = codes < 0
    indices = pa.array(codes, mask=nulls if nulls.any() else None, type=pa.int32())
    if order is not None:  # Arrow's gather: 2x numpy's on 10 M rows, and no numpy temporary
        indices = pc.take(indices, order)
    # Arrow sizes take's text buffer as rows x the mean length of the values taken from; when
    # the rows hold longer values than that mean, the buffer grows step by step, each step a
    # fresh copy (4-20x slower, 2x the memory). A padding value, never taken, lifts the mean
    # to what the rows need.
    lengths = pc.binary_length(dictionary).to_numpy(zero_copy_only=False).astype(np.int64)
    # Rows per value: Arrow's count holds no row-sized temporary (bincount's would be int64).
    counted = pc.value_counts(indices)
    valid = pc.is_valid(counted.field("values"))
    taken = pc.filter(counted.field("values"), valid).to_numpy()
    needed = int(pc.filter(counted.field("counts"), valid).to_numpy() @ lengths[taken]) + 1
    padding = -(-needed * (len(dictionary) + 1) // max(len(indices), 1)) - int(lengths.sum())
    if padding > 0:
        dictionary = pa.concat_arrays([dictionary, pa.array(["x" * padding], dictionary.type)])
    return pd.Series(pc.take(dictionary, indices).to_pandas(), copy=False)


_STR = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default text dtype


def nfc_text(
    values: pd.Series, order: np.ndarray, encoded: bool, nulls: np.ndarray | None = None
) -> pd.Series | None:
    """What :func:`nfc_column` gives for the rows ``order`` (-1, or where ``nulls``: a null
    row) of a text column kept as it is (``encoded``: read as a dictionary, given back as
    ``str``), worked out on its distinct values: NFC of each, then one sized gather. None where
    that does not apply (a categorical of the caller's own, a dtype other than ``str``, or plain
    ASCII text that NFC leaves as it is, in rows all taken): the caller takes the column as it
    is.

    >>> nfc_text(pd.Series(["Pho\u0300ng", None, "Pho\u0300ng"]), np.array([2, 1]), False).tolist()
    ['Phòng', nan]
    """
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        if not encoded or not pd.api.types.is_string_dtype(dtype.categories):
            return None
    elif dtype != _STR:
        return None
    gaps = order < 0 if nulls is None else nulls
    some = bool(gaps.any())
    if dtype == _STR and pc.all(pc.string_is_ascii(pa.array(values))).as_py() is not False:
        if not some:
            return None
        rows = pa.array(order, mask=gaps)
        return pd.Series(pc.take(_flat(pa.array(values)), rows).to_pandas(), copy=False)
    if isinstance(dtype, pd.CategoricalDtype):  # its codes as they are: the narrowest gather
        dictionary, codes = arrow_text(pd.Series(dtype.categories)), values.cat.codes.to_numpy()
    else:
        dictionary, codes = raw_codes(values)
    picked = codes[order]
    if some:
        picked[gaps] = -1
    return materialise(pc.utf8_normalize(pc.cast(dictionary, pa.large_string()), "NFC"), picked)


def nfc_column(values: pd.Series) -> pd.Series:
    """NFC for a column kept as it is: text only, numbers and dates untouched."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = values.cat.categories
        if categories.dtype == object or pd.api.types.is_string_dtype(categories.dtype):
            fixed = pd.Index(
                [unicodedata.normalize("NFC", c) if isinstance(c, str) else c for c in categories]
            )
            if fixed.is_unique:
                return values.cat.rename_categories(fixed)
            return values.astype(object).map(dict(zip(categories, fixed, strict=True)))
        return values
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        array = _flat(pa.array(values, from_pandas=True))
        if pc.all(pc.string_is_ascii(array)).as_py() is not False:
            return values
        return pd.Series(
            pc.utf8_normalize(array, "NFC").to_pandas(), index=values.index, name=values.name
        ).astype(dtype)
    if pd.api.types.is_object_dtype(dtype):
        try:
            distinct = values.dropna().unique()
        except TypeError:  # unhashable cells (lists from XES): leave them
            return values
        fixes = {v: unicodedata.normalize("NFC", v) for v in distinct if isinstance(v, str)}
        fixes = {k: v for k, v in fixes.items() if k != v}
        return values.replace(fixes) if fixes else values
    return values


def non_empty(values: pd.Series, missing: Sequence[str]) -> np.ndarray:
    """Cells holding something other than blank or a missing-value token."""
    present = values.notna().to_numpy()
    if values.dtype != object and not pd.api.types.is_string_dtype(values.dtype):
        return present
    try:
        text = pc.utf8_trim_whitespace(arrow_text(values))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return present
    tokens = pa.array(sorted({t.strip() for t in missing} | {""}), type=pa.large_string())
    blank = pc.is_in(text, value_set=tokens)
    return pc.and_(pc.is_valid(text), pc.invert(blank)).to_numpy(zero_copy_only=False)
