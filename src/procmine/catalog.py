"""The approved-procedure catalog: each internal procedure as approved, one row per step.

Columns (docs/CONTRACTS.md, Catalog):

==============================  ==============================================================
``procedure``                   the internal procedure (str)
``step``                        the step's order in the procedure (int, 1, 2, ...)
``activity``                    the step's name, as the log names it (str)
``department``                  the department the step belongs to (str)
``deadline_working_days``       the **procedure's** deadline in working days (float, same on
                                each of its rows)
``standard_minutes``            optional: officials' working time the step takes (float)
``grade``                       optional: who does it, for the cost model (str)
``step_deadline_working_days``  optional: the step's own allotment (float)
``reviewed``                    optional: the date the procedure was reviewed
==============================  ==============================================================

Other columns are kept. Headers may be Vietnamese or English (``Thủ tục``, ``Bước``, ``Tên
bước``, ``Đơn vị``, ``Thời hạn`` ...); they are matched without regard to case, diacritics or
spacing. Problems that still leave a usable catalog are warnings (``catalog.attrs["warnings"]``,
also emitted with :func:`warnings.warn`); problems that do not are :class:`CatalogError`.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from procmine import engines, schema
from procmine.log import detect_encoding

REQUIRED = ("procedure", "step", "activity", "department", "deadline_working_days")
OPTIONAL = (
    "standard_minutes",
    "grade",
    "step_deadline_working_days",
    "reviewed",
    "depends_on",
    "document",
)
_TEXT = ("procedure", "activity", "department", "grade", "depends_on", "document")
_NUMBERS = ("deadline_working_days", "standard_minutes", "step_deadline_working_days")

# Header spellings, written here without diacritics: headers are compared after folding
# (see _fold), so "Thời hạn (ngày làm việc)" and "thoi han ngay lam viec" are the same header.
_ALIASES: dict[str, tuple[str, ...]] = {
    "procedure": (
        "procedure",
        "procedure name",
        "thu tuc",
        "ten thu tuc",
        "quy trinh",
        "ten quy trinh",
        "thu tuc noi bo",
        "thu tuc hanh chinh noi bo",
    ),
    "step": ("step", "step no", "step number", "order", "buoc", "buoc so", "thu tu", "stt buoc"),
    "activity": (
        "activity",
        "step name",
        "activity name",
        "ten buoc",
        "buoc xu ly",
        "ten buoc xu ly",
        "noi dung",
        "noi dung buoc",
        "cong viec",
    ),
    "department": (
        "department",
        "org group",
        "don vi",
        "don vi xu ly",
        "don vi thuc hien",
        "phong ban",
        "co quan",
        "bo phan",
    ),
    "deadline_working_days": (
        "deadline working days",
        "deadline",
        "deadline days",
        "thoi han",
        "thoi han ngay lam viec",
        "thoi han giai quyet",
        "thoi han giai quyet ngay lam viec",
        "thoi han xu ly",
        "so ngay lam viec",
    ),
    "standard_minutes": (
        "standard minutes",
        "minutes",
        "thoi gian chuan",
        "thoi gian chuan phut",
        "thoi gian xu ly chuan",
        "thoi gian xu ly chuan phut",
        "so phut",
    ),
    "grade": ("grade", "ngach", "chuc danh", "ngach chuc danh", "chuc vu"),
    "step_deadline_working_days": (
        "step deadline working days",
        "step deadline",
        "thoi han buoc",
        "thoi han cua buoc",
        "thoi han buoc ngay lam viec",
    ),
    "reviewed": ("reviewed", "review date", "ngay ra soat", "ra soat", "da ra soat"),
    # The steps this one needs done first (step numbers, e.g. "2" or "2; 3"): steps that do not
    # depend on each other may run in parallel.
    "depends_on": ("depends on", "depends", "phu thuoc", "buoc truoc", "can buoc"),
    # The document that approved the procedure (a simplification plan names it).
    "document": ("document", "approved by", "van ban", "quyet dinh", "van ban phe duyet"),
}
_STEP_LIST_KEYS = ("steps", "cac buoc", "buoc", "quy trinh")


class CatalogError(ValueError):
    """The catalog cannot be used as it is; the message says what is wrong and where."""


def _fold(text: Any) -> str:
    """A header folded for matching: no diacritics, đ → d, lower case, words split by one space."""
    decomposed = unicodedata.normalize("NFD", str(text)).replace("đ", "d").replace("Đ", "D")
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", bare.lower()).split())


_HEADER_OF = {_fold(alias): column for column, names in _ALIASES.items() for alias in names}


def read_catalog(
    source: str | Path | pd.DataFrame | Mapping | list,
    log: pd.DataFrame | None = None,
    sheet: str | int = 0,
) -> pd.DataFrame:
    """Read and validate an approved-procedure catalog.

    ``source`` is a CSV, YAML or XLSX file, a DataFrame, or the parsed YAML itself: a list of
    rows, or ``{procedure: {deadline_working_days: N, steps: [{activity, department, ...}]}}``.
    With ``log``, departments the log never mentions are reported too (see
    :func:`validate_catalog`).

    >>> catalog = read_catalog(pd.DataFrame({
    ...     "Thủ tục": ["Thẩm định dự toán"] * 2, "Bước": [1, 2],
    ...     "Tên bước": ["Tiếp nhận hồ sơ", "Thẩm định"],
    ...     "Đơn vị": ["Văn phòng HĐND và UBND", "Phòng Tài chính - Kế hoạch"],
    ...     "Thời hạn": [5, 5]}))
    >>> catalog[["procedure", "step", "activity"]].values.tolist()[1]
    ['Thẩm định dự toán', 2, 'Thẩm định']
    """
    frame = _read_source(source, sheet)
    frame = _rename_headers(frame)
    catalog, notes = _clean(frame)
    found = notes + validate_catalog(catalog, log)
    catalog.attrs["warnings"] = found
    for message in found:
        warnings.warn(message, UserWarning, stacklevel=2)
    return catalog


def write_catalog(catalog: pd.DataFrame, path: str | Path, encoding: str = "utf-8") -> Path:
    """Write the catalog as CSV with its canonical (English) headers; ``encoding="utf-8-sig"``
    adds the byte-order mark Excel needs to show Vietnamese.

    >>> import tempfile, procmine as pm
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_catalog(pm.datasets.example_catalog(), Path(folder) / "catalog.csv")
    ...     read_catalog(path)["activity"].tolist()
    ['Tiếp nhận', 'Thẩm định', 'Phê duyệt']
    """
    path = Path(path)
    catalog.to_csv(path, index=False, encoding=encoding)
    return path


def validate_catalog(catalog: pd.DataFrame, log: pd.DataFrame | None = None) -> list[str]:
    """Plain-language warnings about a cleaned catalog (and, with ``log``, about how it fits it).

    Checks: gaps or duplicates in a procedure's step order, an activity named at two steps of
    one procedure (conformance cannot tell them apart), catalog departments the log never
    mentions, and procedures of the log that the catalog lacks.

    >>> import procmine as pm
    >>> validate_catalog(pm.datasets.example_catalog())
    []
    >>> validate_catalog(pm.datasets.example_catalog().iloc[[0, 2]])
    ["Procedure 'Cấp phép' has no step 2 (steps found: 1, 3)."]
    """
    found: list[str] = []
    for procedure, rows in catalog.groupby("procedure", sort=False):
        steps = rows["step"].to_numpy()
        duplicated = sorted({int(s) for s in steps[pd.Series(steps).duplicated().to_numpy()]})
        if duplicated:
            found.append(
                f"Procedure '{procedure}' numbers more than one row as step "
                f"{', '.join(map(str, duplicated))}; their order is taken as written."
            )
        expected = set(range(1, int(steps.max()) + 1))
        gaps = sorted(expected - {int(s) for s in steps})
        if gaps:
            found.append(
                f"Procedure '{procedure}' has no step {', '.join(map(str, gaps))} "
                f"(steps found: {', '.join(map(str, sorted({int(s) for s in steps})))})."
            )
        repeated = rows.loc[rows["activity"].duplicated(keep=False)]
        for activity, same in repeated.groupby("activity", sort=False):
            found.append(
                f"Procedure '{procedure}' names activity '{activity}' at steps "
                f"{', '.join(map(str, same['step']))}; conformance treats them as one step."
            )
    if log is not None:
        found += _fit_to_log(catalog, log)
    return found


def _fit_to_log(catalog: pd.DataFrame, log: pd.DataFrame) -> list[str]:
    found = []
    if schema.DEPARTMENT in log.columns:
        known = set(log[schema.DEPARTMENT].dropna().astype(str).unique())
        unknown = [d for d in catalog["department"].unique() if d not in known]
        for department in unknown:
            close = difflib.get_close_matches(department, sorted(known), n=2, cutoff=0.6)
            hint = f" (closest in the log: {', '.join(map(repr, close))})" if close else ""
            found.append(f"Department '{department}' of the catalog never occurs in the log{hint}.")
    if schema.PROCEDURE in log.columns:
        listed = set(catalog["procedure"])
        absent = sorted(
            p for p in log[schema.PROCEDURE].dropna().astype(str).unique() if p not in listed
        )
        if absent:
            found.append(
                f"{len(absent)} procedure(s) of the log are not in the catalog: "
                f"{', '.join(map(repr, absent[:10]))}{' ...' if len(absent) > 10 else ''}."
            )
    return found


# --- reading -------------------------------------------------------------------------------


def _read_source(source: Any, sheet: str | int) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source.copy()
    if isinstance(source, Mapping | list):
        return _from_yaml_data(source)
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"No catalog at {path}.")
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix == ".gz" else path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        import yaml

        return _from_yaml_data(yaml.safe_load(path.read_text(encoding="utf-8-sig")))
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        return pd.read_excel(path, sheet_name=sheet, engine="calamine")
    if suffix in (".csv", ".tsv", ".txt", ".csv.gz"):
        return _read_csv(path)
    raise CatalogError(
        f"Cannot read a catalog from '{path.name}': expected a .csv, .yaml/.yml or .xlsx file."
    )


def _read_csv(path: Path) -> pd.DataFrame:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        import gzip

        raw = gzip.decompress(raw)
    encoding = detect_encoding(raw)  # as a log's is: BOM, UTF-8, Windows-1258, else a guess
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        raise CatalogError(f"Cannot read {path} as {encoding} text: {error}.") from None
    if encoding == "cp1258":  # tone marks are combining characters in Windows-1258
        text = unicodedata.normalize("NFC", text)
    try:
        delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    return pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False)


def _from_yaml_data(data: Any) -> pd.DataFrame:
    """Rows from a parsed YAML catalog: a list of rows, or procedures mapped to their steps."""
    if isinstance(data, list):
        return pd.DataFrame(data)
    if not isinstance(data, Mapping):
        raise CatalogError("A YAML catalog must be a list of rows or a mapping of procedures.")
    rows = []
    for procedure, body in data.items():
        if not isinstance(body, Mapping):
            raise CatalogError(
                f"Procedure '{procedure}' in the YAML catalog should map to its deadline and "
                f"steps, e.g. {{deadline_working_days: 5, steps: [...]}}; found {body!r}."
            )
        step_key = next((k for k in body if _fold(k) in _STEP_LIST_KEYS), None)
        if step_key is None or not isinstance(body[step_key], list):
            raise CatalogError(
                f"Procedure '{procedure}' in the YAML catalog has no list of steps "
                f"(a 'steps:' key); keys found: {list(body)}."
            )
        # Keys are made canonical here: procedures may spell them differently.
        shared = {_key(k): v for k, v in body.items() if k != step_key}
        for number, step in enumerate(body[step_key], start=1):
            if not isinstance(step, Mapping):
                raise CatalogError(
                    f"Step {number} of procedure '{procedure}' is {step!r}; give each step its "
                    "activity and department, e.g. {activity: Thẩm định, department: ...}."
                )
            rows.append(
                {"procedure": procedure, "step": number, **shared}
                | {_key(k): v for k, v in step.items()}
            )
    return pd.DataFrame(rows)


def _key(header: Any) -> Any:
    return _HEADER_OF.get(_fold(header), header)


def _rename_headers(frame: pd.DataFrame) -> pd.DataFrame:
    renames: dict[Any, str] = {}
    taken: dict[str, Any] = {}
    for header in frame.columns:
        target = _HEADER_OF.get(_fold(header))
        if target is None:
            continue
        if target in taken:
            raise CatalogError(
                f"Both '{taken[target]}' and '{header}' look like the catalog's {target} column; "
                "rename one of them."
            )
        taken[target] = header
        renames[header] = target
    frame = frame.rename(columns=renames)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        hints = []
        for column in missing:
            close = difflib.get_close_matches(
                column, [str(c) for c in frame.columns], n=2, cutoff=0.5
            )
            hints.append(column + (f" (closest: {', '.join(map(repr, close))})" if close else ""))
        raise CatalogError(
            f"The catalog lacks the column(s): {'; '.join(hints)}. Columns found: "
            f"{[str(c) for c in frame.columns]}. Expected: {list(REQUIRED)} (Vietnamese headers "
            "such as Thủ tục, Bước, Tên bước, Đơn vị, Thời hạn are recognised)."
        )
    return frame


# --- cleaning ------------------------------------------------------------------------------


def _blank(series: pd.Series) -> np.ndarray:
    text = series.astype("string").str.strip()
    return (text.isna() | (text == "")).to_numpy()


def _text(series: pd.Series) -> pd.Series:
    text = series.astype("string").str.normalize("NFC").str.strip()
    return text.mask(text == "")


def _where(frame: pd.DataFrame, rows: np.ndarray) -> str:
    shown = []
    for i in rows[:5]:
        label = f"row {i + 1}"
        if "procedure" in frame and not pd.isna(frame["procedure"].iat[i]):
            label += f" ('{frame['procedure'].iat[i]}'"
            label += f", step {frame['step'].iat[i]})" if "step" in frame else ")"
        shown.append(label)
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    return ", ".join(shown) + more


def _numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    """A numeric column; decimal commas (Vietnamese "2,5") are read as points."""
    raw = frame[column]
    text = raw.astype("string").str.strip().str.replace(",", ".", regex=False)
    values = pd.to_numeric(text.mask(text == ""), errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy() & ~_blank(raw))
    if len(bad):
        raise CatalogError(
            f"{column} must be a number; {_where(frame, bad)} holds "
            f"{', '.join(repr(str(raw.iat[i])) for i in bad[:5])}."
        )
    return values.astype("float64")


def _dates(raw: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Dates written ISO (2024-03-15) or Vietnamese-style (15/03/2024); the rows that are
    neither."""
    text = raw.astype("string").str.strip()
    text = text.mask(text == "")
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
    rest = parsed.isna() & text.notna()
    if rest.any():
        parsed[rest] = pd.to_datetime(text[rest], format="%d/%m/%Y", errors="coerce")
    bad = np.flatnonzero((parsed.isna() & text.notna()).to_numpy())
    return parsed.dt.date, bad


def _clean(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    notes: list[str] = []
    frame = frame.reset_index(drop=True)
    if frame.empty:
        raise CatalogError("The catalog has no rows.")
    for column in _TEXT:
        if column in frame:
            frame[column] = _text(frame[column])
    # Spreadsheets with merged cells leave the procedure name on its first row only.
    blank_procedure = frame["procedure"].isna()
    if blank_procedure.iloc[0]:
        raise CatalogError("Row 1 of the catalog has no procedure name.")
    if blank_procedure.any():
        frame["procedure"] = frame["procedure"].ffill()
        notes.append(
            f"{int(blank_procedure.sum())} row(s) had no procedure name and were given the one "
            "above them (merged cells)."
        )
    for column in ("activity", "department"):
        empty = np.flatnonzero(frame[column].isna().to_numpy())
        if len(empty):
            raise CatalogError(f"Every step needs its {column}; {_where(frame, empty)} has none.")

    step = _numbers(frame, "step")
    not_whole = np.flatnonzero(step.isna().to_numpy() | (step % 1 != 0).to_numpy())
    if len(not_whole):
        raise CatalogError(
            f"step must be a whole number (the step's order); {_where(frame, not_whole)} holds "
            f"{', '.join(repr(str(frame['step'].iat[i])) for i in not_whole[:5])}."
        )
    frame["step"] = step.astype("int64")

    for column in _NUMBERS:
        if column in frame:
            frame[column] = _numbers(frame, column)
    frame, deadline_notes = _one_deadline_per_procedure(frame)
    notes += deadline_notes
    if "reviewed" in frame:
        raw = frame["reviewed"]
        frame["reviewed"], bad = _dates(raw)
        if len(bad):
            notes.append(
                f"reviewed must be a date; {_where(frame, bad)} holds "
                f"{', '.join(repr(str(raw.iat[i])) for i in bad[:5])} "
                "(taken as not reviewed)."
            )

    # Step order within a procedure; procedures stay in the order they first appear.
    order = pd.Series(pd.factorize(frame["procedure"])[0], index=frame.index)
    frame = (
        frame.assign(_order=order)
        .sort_values(["_order", "step"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )
    canonical = [c for c in (*REQUIRED, *OPTIONAL) if c in frame]
    return frame[canonical + [c for c in frame.columns if c not in canonical]], notes


def _one_deadline_per_procedure(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Blank deadline cells take the procedure's; differing deadlines keep the first step's."""
    notes = []
    deadline = frame["deadline_working_days"]
    first_step_order = frame.sort_values("step", kind="stable").index
    chosen = deadline.loc[first_step_order].groupby(frame["procedure"], sort=False).first()
    without = [p for p in frame["procedure"].unique() if pd.isna(chosen.get(p))]
    if without:
        raise CatalogError(
            f"No deadline_working_days for procedure(s) {', '.join(map(repr, without))}; "
            "give each procedure its deadline in working days."
        )
    distinct = deadline.dropna().groupby(frame["procedure"], sort=False).unique()
    for procedure, values in distinct.items():
        if len(values) > 1:
            notes.append(
                f"Procedure '{procedure}' has different deadlines on its rows "
                f"({', '.join(f'{v:g}' for v in values)} working days); using "
                f"{chosen[procedure]:g}, the one on its first step."
            )
    frame["deadline_working_days"] = frame["procedure"].map(chosen).astype("float64")
    return frame, notes


# ------------------------------------------------------- the catalog as the figures read it
def approved_paths(catalog: pd.DataFrame) -> pd.DataFrame:
    """The approved path of each procedure: one row per (procedure, activity) in step order.

    An activity named at two steps of a procedure is one step (its first), as
    ``procmine.catalog.validate_catalog`` warns; rows with the same step keep the catalog's order.

    >>> import procmine as pm
    >>> approved_paths(pm.datasets.example_catalog())[["step", "activity", "department"]]
       step   activity     department
    0     1  Tiếp nhận      Văn phòng
    1     2  Thẩm định  Phòng Tư pháp
    2     3  Phê duyệt      Văn phòng
    """
    schema.require_columns(catalog, ("procedure", "step", "activity", "department"), "the catalog")
    rows = catalog[["procedure", "step", "activity", "department"]].copy()
    rows["_row"] = np.arange(len(rows))
    rows = rows.sort_values(["procedure", "step", "_row"], kind="stable")
    rows = rows.drop_duplicates(["procedure", "activity"], keep="first")
    rows["procedure"] = rows["procedure"].astype("string")
    rows["activity"] = rows["activity"].astype("string")
    rows["department"] = rows["department"].astype("string")
    rows["step"] = rows["step"].astype("int64")
    return rows.drop(columns="_row").reset_index(drop=True)


def deadline_tables(catalog: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The catalog's deadlines as the deadline figures read them: ``procedure_deadlines``
    (procedure, deadline_working_days) and ``catalog_steps`` (procedure, activity, given_days:
    the step's own allotment, or null); empty without a catalog.

    >>> import procmine as pm
    >>> deadlines, steps = deadline_tables(pm.datasets.example_catalog())
    >>> deadlines.values.tolist(), len(steps)
    ([['Cấp phép', 2.0]], 3)
    """
    if catalog is None:
        return (
            pd.DataFrame({"procedure": pd.Series(dtype=str), "deadline_working_days": []}),
            pd.DataFrame(
                {
                    "procedure": pd.Series(dtype=str),
                    "activity": pd.Series(dtype=str),
                    "given_days": pd.Series(dtype="float64"),
                }
            ),
        )
    schema.require_columns(
        catalog, ("procedure", "activity", "deadline_working_days"), what="the catalog"
    )
    frame = catalog.assign(
        procedure=catalog["procedure"].astype(str),
        activity=catalog["activity"].astype(str),
        deadline_working_days=pd.to_numeric(catalog["deadline_working_days"], errors="raise"),
        given_days=(
            pd.to_numeric(catalog["step_deadline_working_days"], errors="raise")
            if "step_deadline_working_days" in catalog.columns
            else np.nan
        ),
    )
    deadlines = frame.groupby("procedure", as_index=False)["deadline_working_days"].max()
    steps = frame.groupby(["procedure", "activity"], as_index=False)["given_days"].sum(min_count=1)
    return deadlines, steps.astype({"given_days": "float64"})


def approved_events(catalog: pd.DataFrame) -> pd.DataFrame:
    """The catalog as a pseudo events table, one case per procedure (its id is the procedure),
    one event per step in step order, done by the step's department, the clock reading being
    the step number: what the handoff figures read to count the bounces the approved path
    prescribes.

    >>> import procmine as pm
    >>> approved_events(pm.datasets.example_catalog())[["case_id", "department", "wm"]]
        case_id     department   wm
    0  Cấp phép      Văn phòng  1.0
    1  Cấp phép  Phòng Tư pháp  2.0
    2  Cấp phép      Văn phòng  3.0
    """
    schema.require_columns(catalog, ("procedure", "step", "department"), what="the catalog")
    ordered = catalog.sort_values(["procedure", "step"], kind="stable", ignore_index=True)
    department = ordered["department"].astype("string")
    return pd.DataFrame(
        {
            "idx": np.arange(len(ordered), dtype=np.int64),
            "case_id": ordered["procedure"].astype("string"),
            "procedure": ordered["procedure"].astype("string"),
            "department": department,
            "wm": ordered["step"].astype("float64"),
            "in_sequence": department.notna().to_numpy(),
        }
    )


def depends_on_steps(texts: pd.Series) -> pd.Series:
    """The step numbers ``depends_on`` cells name ("2; 3" or "2, 3"), one row per number,
    indexed by its cell's row; blank cells and parts that are not numbers name none. The one
    reading of the column, for the rules that look for steps to run in parallel and for the
    replay that renumbers them.

    >>> depends_on_steps(pd.Series(["1", "1; 2", None])).tolist()
    [1, 1, 2]
    """
    parts = texts.astype("string").str.split(r"[;,]", regex=True).explode().str.strip()
    return pd.to_numeric(parts, errors="coerce").dropna().astype("int64")


def with_catalog_procedure(events: pd.DataFrame, catalog: pd.DataFrame | None) -> pd.DataFrame:
    """The events (a table with a ``procedure`` column) as a catalog reads them: a log without a
    procedure column (every event's procedure :data:`procmine.schema.DEFAULT_PROCEDURE`) and a
    one-procedure catalog are that procedure; with a catalog of several procedures the cases
    cannot be matched, a :class:`CatalogError`. The one rule every figure with a catalog follows;
    the frame given is not changed.

    >>> import procmine as pm
    >>> log = pm.datasets.example_log().drop(columns="case:procedure")
    >>> events = with_catalog_procedure(pm.event_table(log), pm.datasets.example_catalog())
    >>> events["procedure"].unique().tolist()
    ['Cấp phép']
    """
    # Every event with the procedure of a log without one (engines.only_text: read from a coded
    # column's categories, or on the engine for a table kept there).
    if (
        catalog is None
        or not len(events)
        or not engines.only_text(events["procedure"], schema.DEFAULT_PROCEDURE)
    ):
        return events
    schema.require_columns(catalog, ("procedure",), what="the catalog")
    procedures = pd.unique(catalog["procedure"].dropna().astype(str))
    if len(procedures) != 1:
        raise CatalogError(
            f"The log has no procedure column ('{schema.PROCEDURE}') and the catalog describes "
            f"{len(procedures)} procedures, so cases cannot be matched to an approved path. "
            "Map the export's procedure column when loading, or pass a one-procedure catalog."
        )
    return engines.with_text(events, "procedure", str(procedures[0]))
