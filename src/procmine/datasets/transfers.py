"""The generated sample written as a transfer history: a dossier's chain of custody.

Many Vietnamese document-management systems export one row per transfer of a dossier between
departments rather than one per step (docs/definitions.md, "Transfer histories"): who sent it
(department, official), who received it, when, how (:data:`HANDLING`, :data:`RETURNED`, a side
copy :data:`COORDINATION` or :data:`FOR_INFORMATION`, the closing :data:`CLOSED`) and the
sender's comment. :func:`as_transfers` turns a canonical step log into such an export, with
planted returns, side copies and open cases recorded in ``attrs["planted"]``;
:func:`write_transfers` writes it as CSV (optionally gzipped), Parquet or XLSX, and
:func:`write_transfer_sample` is what ``procmine generate --as transfers`` calls.

Set-based throughout (numpy over all events at once, no loop per case or event): each case's
department sequence is a run-length encoding of its dated events with a department, and every
run gives one row — a transfer to the next run, or the case's closing.
"""

from __future__ import annotations

import gzip
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from procmine import schema
from procmine.catalog import write_catalog
from procmine.datasets.generator import generate

__all__ = [
    "CLOSED",
    "COORDINATION",
    "DATE_FORMAT",
    "DEADLINE_HEADER",
    "FOR_INFORMATION",
    "HANDLING",
    "RETURNED",
    "TRANSFER_ACTIONS",
    "TRANSFER_COLUMNS",
    "TRANSFER_FORMATS",
    "as_transfers",
    "write_transfer_sample",
    "write_transfers",
]

TRANSFER_COLUMNS = (
    "Mã hồ sơ",
    "Thủ tục",
    "Đơn vị chuyển",
    "Người chuyển",
    "Đơn vị nhận",
    "Người nhận",
    "Thời gian chuyển",
    "Hình thức chuyển",
    "Ý kiến xử lý",
)
DEADLINE_HEADER = "Hạn xử lý"  # after the others, when the log has case:deadline
DATE_FORMAT = "%d/%m/%Y %H:%M:%S"

HANDLING, RETURNED, COORDINATION, FOR_INFORMATION, CLOSED = (
    "Chuyển xử lý",
    "Trả lại",
    "Chuyển phối hợp",
    "Để biết",
    "Hoàn thành",
)
# Each way of sending and the kind of transfer it is (schema.MAIN, RETURN, SIDE, CLOSING).
TRANSFER_ACTIONS = {
    HANDLING: schema.MAIN,
    RETURNED: schema.RETURN,
    COORDINATION: schema.SIDE,
    FOR_INFORMATION: schema.SIDE,
    CLOSED: schema.CLOSING,
}
_ACTIONS = (HANDLING, RETURNED, COORDINATION, FOR_INFORMATION, CLOSED)  # coded 0 .. 4
_MAIN, _RETURN, _COORDINATION, _INFORMATION, _CLOSING = range(5)
# The sender's comment (Ý kiến xử lý), drawn per row among those of its action.
_COMMENTS = (
    (
        "Đề nghị thẩm định",
        "Chuyển xử lý theo quy trình",
        "Đề nghị xem xét, cho ý kiến",
        "Đề nghị kiểm tra, xử lý",
        "Đề nghị xem xét, giải quyết",
    ),
    (
        "Hồ sơ thiếu giấy tờ, đề nghị bổ sung",
        "Trả lại để hoàn thiện hồ sơ",
        "Đề nghị làm rõ, bổ sung thông tin",
    ),
    ("Để phối hợp", "Đề nghị phối hợp cho ý kiến"),
    ("Để biết, theo dõi", "Để biết"),
    ("Hoàn thành xử lý", "Đã giải quyết xong, lưu hồ sơ"),
)
# The files write_transfers writes, by how the path ends.
TRANSFER_FORMATS = (".csv", ".csv.gz", ".parquet", ".xlsx")
_XLSX_ROWS = 1_048_575  # a worksheet's rows, but its header
_SAMPLE_NAME = "sample_transfers.csv.gz"


@dataclass(frozen=True)
class _Events:
    """The log's dated events in case and time order (ties in the log's order), as codes."""

    case: np.ndarray
    department: np.ndarray  # -1: no department
    resource: np.ndarray  # -1: no official
    instant: np.ndarray  # int64, for ordering and ``at``
    wall: np.ndarray  # datetime64, the local wall-clock time written
    row: np.ndarray  # the event's row in the log
    case_end: np.ndarray  # per case code: its last event (an index into these arrays)
    names: dict[str, pd.Index]  # the codes' values: case, department, resource


@dataclass(frozen=True)
class _Runs:
    """The department runs of every case, in order: R1 .. Rk of each case."""

    case: np.ndarray
    department: np.ndarray
    first: np.ndarray  # the run's first event
    last: np.ndarray  # the run's last event
    first_of_case: np.ndarray
    last_of_case: np.ndarray
    position: np.ndarray  # j - 1 for run R_j
    length: np.ndarray  # k of the run's case


@dataclass(frozen=True)
class _Rows:
    """The export's rows as codes: each run's own row (a transfer, or the closing), each
    followed by its side copy when it has one."""

    run: np.ndarray
    action: np.ndarray
    sender: np.ndarray
    sender_official: np.ndarray
    recipient: np.ndarray
    recipient_official: np.ndarray
    event: np.ndarray  # the event whose time the row carries


def as_transfers(
    log: pd.DataFrame,
    *,
    seed: int = 7,
    open_share: float = 0.0,
    side_copy_share: float = 0.1,
    return_share: float = 0.5,
    shuffle: bool = True,
    at: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """The log as a transfer history: one row per transfer of a dossier between departments.

    Per case, its events with a department and a time, in time order, are collapsed into runs
    R1 .. Rk of the same department (its department sequence). Each R_j, j < k, gives a main
    transfer ("Chuyển xử lý") from R_j's department and the official of its last event to
    R_{j+1}'s department and the official of its first event, at that event's time; R_k gives
    the closing row ("Hoàn thành", no recipient) at the case's last event. A case without any
    department gets no row. Times (and ``Hạn xử lý``, written when the log has
    ``case:deadline``) are text, dd/mm/yyyy HH:MM:SS, in the stamps' own time zone (the
    generated log's is Asia/Ho_Chi_Minh).

    Planted, drawn from ``seed``:

    - **returns**: a transfer back to the department the work just came from (the second
      handoff of a bounce A → B → A) is written "Trả lại" with probability ``return_share``;
      no other row is;
    - **side copies**: with probability ``side_copy_share`` a main transfer or return has a
      copy at the same instant from the same sender to a third department ("Chuyển phối hợp"
      or "Để biết"), which changes no holder;
    - **open cases**: ``open_share`` of the cases with rows (chosen among those with k ≥ 2)
      keep their first 1 .. k - 1 transfers and lose the rest, closing included. ``at`` (a
      moment; naive in the stamps' zone) also drops every row after it, leaving open the cases
      whose closing comes later.

    ``shuffle`` writes the rows in a random order (a reader must not rely on it); otherwise
    case by case, each row followed by its side copy. ``attrs["planted"]`` holds
    ``open_cases`` (the ids of the cases with rows and no closing row, sorted), ``returns``
    (records ``{"sender", "recipient", "returns"}``, one per ordered department pair, sorted)
    and ``side_copies`` (how many rows are side copies).

    >>> from procmine.datasets import example_log
    >>> history = as_transfers(example_log(), shuffle=False, side_copy_share=0, return_share=1)
    >>> history[history["Mã hồ sơ"] == "HS2"].iloc[:, [2, 4, 6, 7]]
       Đơn vị chuyển    Đơn vị nhận     Thời gian chuyển Hình thức chuyển
    3      Văn phòng  Phòng Tư pháp  06/05/2024 14:00:00     Chuyển xử lý
    4  Phòng Tư pháp      Văn phòng  07/05/2024 08:00:00          Trả lại
    5      Văn phòng  Phòng Tư pháp  07/05/2024 10:00:00          Trả lại
    6  Phòng Tư pháp      Văn phòng  09/05/2024 16:00:00          Trả lại
    7      Văn phòng            NaN  09/05/2024 16:00:00       Hoàn thành
    >>> history.attrs["planted"]["returns"]  # HS1 and HS3 go Văn phòng, Tư pháp, Văn phòng too
    [{'sender': 'Phòng Tư pháp', 'recipient': 'Văn phòng', 'returns': 4}, \
{'sender': 'Văn phòng', 'recipient': 'Phòng Tư pháp', 'returns': 1}]
    """
    for name, share in (
        ("open_share", open_share),
        ("side_copy_share", side_copy_share),
        ("return_share", return_share),
    ):
        if not 0 <= share <= 1:
            raise ValueError(f"{name} must be between 0 and 1, found {share!r}.")
    schema.require_columns(log, (schema.CASE, schema.TIMESTAMP, schema.DEPARTMENT))
    events = _sorted_events(log)
    runs = _runs(events)
    rng = np.random.default_rng(seed)
    rows = _rows(rng, events, runs, return_share, side_copy_share)
    keep = ~_cut_open(rng, runs, open_share)[rows.run]
    if at is not None:
        keep &= events.instant[rows.event] <= _instant(at, _stamps(log))
    order = np.flatnonzero(keep)
    if shuffle:
        order = order[rng.permutation(len(order))]
    rows = _Rows(*(getattr(rows, f)[order] for f in _Rows.__dataclass_fields__))
    comment = _comments(rng, rows.action)
    frame = _frame(log, events, runs, rows, comment)
    frame.attrs["planted"] = _planted(events, runs, rows)
    return frame


def _sorted_events(log: pd.DataFrame) -> _Events:
    """The dated events sorted by case and time (stable), their codes, and each case's end."""
    stamps = _stamps(log)
    case, case_names = pd.factorize(log[schema.CASE])
    department, department_names = pd.factorize(log[schema.DEPARTMENT])
    if schema.RESOURCE in log.columns:
        resource, resource_names = pd.factorize(log[schema.RESOURCE])
    else:
        resource, resource_names = np.full(len(log), -1), pd.Index([], dtype="str")
    dated = np.flatnonzero(stamps.notna().to_numpy())
    instant = _utc(stamps).view("int64")[dated]
    wall = _wall_clock(stamps).to_numpy()[dated]
    c = case[dated]
    ordered = bool(np.all((c[1:] > c[:-1]) | ((c[1:] == c[:-1]) & (instant[1:] >= instant[:-1]))))
    order = np.arange(len(dated)) if ordered else np.lexsort((instant, c))
    c = c[order]
    ends = np.flatnonzero(np.r_[c[1:] != c[:-1], len(c) > 0])
    case_end = np.full(len(case_names), -1)
    case_end[c[ends]] = ends
    row = dated[order]
    return _Events(
        case=c,
        department=department[row],
        resource=resource[row],
        instant=instant[order],
        wall=wall[order],
        row=row,
        case_end=case_end,
        names={"case": case_names, "department": department_names, "resource": resource_names},
    )


def _stamps(log: pd.DataFrame) -> pd.Series:
    """The log's time stamps, as date-times."""
    stamps = log[schema.TIMESTAMP]
    return stamps if pd.api.types.is_datetime64_any_dtype(stamps) else pd.to_datetime(stamps)


def _utc(stamps: pd.Series) -> np.ndarray:
    """The stamps as naive datetime64 instants (aware ones in UTC)."""
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        stamps = stamps.dt.tz_convert(None)
    return stamps.to_numpy()


def _wall_clock(stamps: pd.Series) -> pd.Series:
    """The stamps' local wall-clock times, naive (aware stamps in their own zone)."""
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        return stamps.dt.tz_localize(None)
    return pd.to_datetime(stamps)


def _instant(at: str | pd.Timestamp, stamps: pd.Series) -> int:
    """``at`` on the scale of the stamps' int64 instants (naive: in the stamps' zone)."""
    moment = pd.Timestamp(at)
    zone = getattr(stamps.dtype, "tz", None)
    if zone is not None:
        moment = moment.tz_localize(zone) if moment.tzinfo is None else moment.tz_convert(zone)
    elif moment.tzinfo is not None:
        moment = moment.tz_convert(None)
    # asm8: the moment's UTC instant (its wall clock, for a naive one).
    return int(moment.asm8.astype(_utc(stamps).dtype).view("int64"))


def _runs(events: _Events) -> _Runs:
    """Each case's runs of consecutive events in one department (events without one skipped:
    they neither start nor break a run)."""
    held = np.flatnonzero(events.department >= 0)
    c, d = events.case[held], events.department[held]
    start = np.flatnonzero(np.r_[len(c) > 0, (c[1:] != c[:-1]) | (d[1:] != d[:-1])])
    end = np.r_[start[1:], len(c)] - 1
    case = c[start]
    first_of_case = np.r_[len(case) > 0, case[1:] != case[:-1]]
    last_of_case = np.r_[case[1:] != case[:-1], len(case) > 0]
    case_first = np.flatnonzero(first_of_case)
    number = np.cumsum(first_of_case) - 1  # the run's case, numbered 0, 1, .. in order
    length = np.diff(np.r_[case_first, len(case)])
    return _Runs(
        case=case,
        department=d[start],
        first=held[start],
        last=held[end],
        first_of_case=first_of_case,
        last_of_case=last_of_case,
        position=np.arange(len(case)) - case_first[number],
        length=length[number],
    )


def _rows(
    rng: np.random.Generator,
    events: _Events,
    runs: _Runs,
    return_share: float,
    side_copy_share: float,
) -> _Rows:
    """One row per run (its transfer to the next run, or its case's closing), with returns
    planted on the bounce-backs, and after each transfer its side copy when it draws one."""
    n = len(runs.case)
    after = np.minimum(np.arange(n) + 1, max(n - 1, 0))
    before = np.maximum(np.arange(n) - 1, 0)
    closing = runs.last_of_case
    recipient = np.where(closing, -1, runs.department[after])
    bounce_back = ~runs.first_of_case & ~closing & (recipient == runs.department[before])
    action = np.where(closing, _CLOSING, _MAIN)
    action[bounce_back & (rng.random(n) < return_share)] = _RETURN
    sender_official = events.resource[runs.last]
    recipient_official = np.where(closing, -1, events.resource[runs.first[after]])
    event = np.where(closing, events.case_end[runs.case], runs.first[after])
    # Side copies: to a third department, neither the sender nor the recipient.
    n_departments = len(events.names["department"])
    side = ~closing & (rng.random(n) < side_copy_share) & (n_departments >= 3)
    low = np.minimum(runs.department, recipient)[side]
    high = np.maximum(runs.department, recipient)[side]
    third = (rng.random(len(low)) * (n_departments - 2)).astype(np.int64)
    third += third >= low
    third += third >= high
    side_action = np.where(rng.random(len(third)) < 0.5, _COORDINATION, _INFORMATION)
    side_official = _official_of(rng, events, third)
    # Each run's row, then its side copy.
    count = 1 + side
    run = np.repeat(np.arange(n), count)
    copy = np.zeros(len(run), dtype=bool)
    copy[(np.cumsum(count) - 1)[side]] = True

    def placed(own: np.ndarray, copied: np.ndarray) -> np.ndarray:
        values = own[run].copy()
        values[copy] = copied
        return values

    return _Rows(
        run=run,
        action=placed(action, side_action),
        sender=runs.department[run],
        sender_official=sender_official[run],
        recipient=placed(recipient, third),
        recipient_official=placed(recipient_official, side_official),
        event=event[run],
    )


def _official_of(rng: np.random.Generator, events: _Events, department: np.ndarray) -> np.ndarray:
    """For each department code, one official seen working in it in the log (-1: none)."""
    seen = (events.department >= 0) & (events.resource >= 0)
    n_resources = max(len(events.names["resource"]), 1)
    pairs = np.unique(events.department[seen] * n_resources + events.resource[seen])
    if len(pairs) == 0:
        return np.full(len(department), -1)
    owner, official = np.divmod(pairs, n_resources)
    n_departments = len(events.names["department"])
    first = np.searchsorted(owner, np.arange(n_departments))
    count = np.searchsorted(owner, np.arange(n_departments), side="right") - first
    pick = first[department] + (rng.random(len(department)) * count[department]).astype(np.int64)
    return np.where(count[department] > 0, official[np.minimum(pick, len(official) - 1)], -1)


def _cut_open(rng: np.random.Generator, runs: _Runs, open_share: float) -> np.ndarray:
    """Which runs lose their row: of ``open_share`` of the cases (those with k ≥ 2), every
    run after a drawn number 1 .. k - 1 of transfers kept."""
    first = np.flatnonzero(runs.first_of_case)
    eligible = first[runs.length[first] >= 2]
    n_open = min(len(eligible), round(open_share * len(first)))
    chosen = np.sort(rng.choice(eligible, size=n_open, replace=False))
    k = runs.length[chosen]
    kept = 1 + (rng.random(n_open) * (k - 1)).astype(np.int64)
    cut = np.zeros(len(runs.case), dtype=bool)
    number = np.cumsum(runs.first_of_case) - 1
    limit = np.full(len(first), np.iinfo(np.int64).max)
    limit[number[chosen]] = kept
    cut[runs.position >= limit[number]] = True
    return cut


def _comments(rng: np.random.Generator, action: np.ndarray) -> np.ndarray:
    """A comment code per row into the flattened :data:`_COMMENTS`, drawn among its action's."""
    size = np.array([len(pool) for pool in _COMMENTS])
    offset = np.cumsum(size) - size
    return offset[action] + (rng.random(len(action)) * size[action]).astype(np.int64)


def _text(values: Any, codes: np.ndarray) -> pd.Series:
    """A text column from codes into values (code -1 is a missing value)."""
    vocabulary = pa.array(np.asarray(values, dtype=object), type=pa.string())
    return pd.Series(vocabulary.take(pa.array(codes, mask=codes < 0)), dtype="str")


def _values_at(column: pd.Series, rows: np.ndarray) -> pd.Series:
    """A log column's values at the given rows, as text."""
    values = pa.array(column.astype("str"), type=pa.large_string())
    return pd.Series(values.take(pa.array(rows)), dtype="str")


def _times(wall: np.ndarray) -> pd.Series:
    """Wall-clock times as dd/mm/yyyy HH:MM:SS text (NaT: missing), byte by byte: each
    stamp's date and time of day looked up in tables of the days it spans and of a day's
    seconds (strftime per stamp takes seconds a million rows)."""
    unit, count = np.datetime_data(wall.dtype)
    per_second = int(np.timedelta64(1, "s") / np.timedelta64(count, unit))
    missing = np.isnat(wall)
    seconds = np.where(missing, 0, wall.view(np.int64)) // per_second
    days = seconds // 86400
    first = int(days.min(initial=0 if len(days) == 0 else days[0]))
    span = np.arange(first, int(days.max(initial=first)) + 1).astype("datetime64[D]")
    dates = np.datetime_as_string(span).astype("S10").view(np.uint8).reshape(-1, 10)
    dates = dates[:, [8, 9, 4, 5, 6, 4, 0, 1, 2, 3]]  # yyyy-mm-dd → dd-mm-yyyy
    dates[:, [2, 5]] = ord("/")
    clock = np.datetime_as_string(np.arange(86400).astype("datetime64[s]")).astype("S19")
    clock = clock.view(np.uint8).reshape(-1, 19)[:, 10:]  # "THH:MM:SS"
    text = np.empty((len(seconds), 19), dtype=np.uint8)
    text[:, :10] = dates[days - first]
    text[:, 10:] = clock[seconds - days * 86400]
    text[:, 10] = ord(" ")
    offsets = np.arange(0, 19 * (len(seconds) + 1), 19, dtype=np.int64)
    valid = pa.py_buffer(np.packbits(~missing, bitorder="little")) if missing.any() else None
    strings = pa.LargeStringArray.from_buffers(
        len(seconds), pa.py_buffer(offsets), pa.py_buffer(text), valid
    )
    return pd.Series(strings, dtype="str")


def _frame(
    log: pd.DataFrame, events: _Events, runs: _Runs, rows: _Rows, comment: np.ndarray
) -> pd.DataFrame:
    """The export's columns, under its Vietnamese headers."""
    names = events.names
    case = runs.case[rows.run]
    attribute_row = events.row[runs.first[rows.run]]  # case attributes: its first run's
    if schema.PROCEDURE in log.columns:
        procedure = _values_at(log[schema.PROCEDURE], attribute_row)
    else:
        procedure = _text([], np.full(len(case), -1))
    columns = [
        _text(names["case"], case),
        procedure,
        _text(names["department"], rows.sender),
        _text(names["resource"], rows.sender_official),
        _text(names["department"], rows.recipient),
        _text(names["resource"], rows.recipient_official),
        _times(events.wall[rows.event]),
        _text(_ACTIONS, rows.action),
        _text([text for pool in _COMMENTS for text in pool], comment),
    ]
    headers = list(TRANSFER_COLUMNS)
    if schema.DEADLINE in log.columns:
        deadline = log[schema.DEADLINE]
        if pd.api.types.is_datetime64_any_dtype(deadline):
            columns.append(_times(_wall_clock(deadline).to_numpy()[attribute_row]))
        else:
            columns.append(_values_at(deadline, attribute_row))
        headers.append(DEADLINE_HEADER)
    return pd.DataFrame(dict(zip(headers, columns, strict=True)))


def _planted(events: _Events, runs: _Runs, rows: _Rows) -> dict[str, Any]:
    """What the export holds by design: the open cases, the returns by ordered pair, the
    side copies."""
    n_cases = len(events.names["case"])
    case = runs.case[rows.run]
    has_rows = np.bincount(case, minlength=n_cases) > 0
    closed = np.bincount(case[rows.action == _CLOSING], minlength=n_cases) > 0
    open_cases = sorted(map(str, events.names["case"][has_rows & ~closed]))
    returned = rows.action == _RETURN
    departments = np.asarray(events.names["department"], dtype=object)
    pairs, counts = np.unique(
        rows.sender[returned] * len(departments) + rows.recipient[returned], return_counts=True
    )
    returns = sorted(
        (
            {"sender": str(departments[a]), "recipient": str(departments[b]), "returns": int(n)}
            for a, b, n in zip(*np.divmod(pairs, len(departments)), counts, strict=True)
        ),
        key=lambda record: (record["sender"], record["recipient"]),
    )
    copies = np.isin(rows.action, (_COORDINATION, _INFORMATION))
    return {"open_cases": open_cases, "returns": returns, "side_copies": int(copies.sum())}


def write_transfers(history: pd.DataFrame, path: str | Path) -> Path:
    """Write a transfer history as an agency exports it, by how ``path`` ends: ``.csv``
    (UTF-8 with BOM), ``.csv.gz`` (the same, gzipped, reproducible bytes), ``.parquet`` or
    ``.xlsx`` (at most 1,048,575 rows). Empty cells for missing values.

    >>> import tempfile
    >>> from procmine.datasets import example_log
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_transfers(as_transfers(example_log()), Path(folder) / "hs.csv")
    ...     path.read_text(encoding="utf-8-sig").splitlines()[0]
    'Mã hồ sơ,Thủ tục,Đơn vị chuyển,Người chuyển,Đơn vị nhận,Người nhận,Thời gian chuyển,\
Hình thức chuyển,Ý kiến xử lý'
    """
    path = Path(path)
    name = path.name.lower()
    if name.endswith(".csv"):
        history.to_csv(path, index=False, encoding="utf-8-sig")
    elif name.endswith(".csv.gz"):
        # By hand: no file name and no time in the gzip header, so the same bytes each time.
        with (
            path.open("wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed,
            io.TextIOWrapper(packed, encoding="utf-8-sig", newline="") as text,
        ):
            history.to_csv(text, index=False)
    elif name.endswith(".parquet"):
        history.to_parquet(path, index=False)
    elif name.endswith(".xlsx"):
        if len(history) > _XLSX_ROWS:
            raise ValueError(
                f"{len(history):,} rows do not fit in a worksheet ({_XLSX_ROWS:,} at most): "
                "write .csv.gz or .parquet."
            )
        history.to_excel(path, index=False)
    else:
        raise ValueError(
            f"Cannot tell the format of {path.name}: end it in one of {list(TRANSFER_FORMATS)}."
        )
    return path


def write_transfer_sample(
    out: str | Path, n_cases: int = 2000, seed: int = 7, open_share: float = 0.02
) -> list[Path]:
    """Generate a sample (:func:`generate`) and write it as a transfer history
    (:func:`as_transfers` with ``seed`` and ``open_share``, rows shuffled), exported at the
    moment of the last receipt: the cases still in progress then are open, beside the
    ``open_share`` left stuck earlier.

    What ``procmine generate --as transfers`` calls. ``out`` ending in one of
    :data:`TRANSFER_FORMATS` is the file to write; otherwise it is a folder, given
    ``sample_transfers.csv.gz``, the catalog ``sample_catalog.csv`` and ``sample_truth.json``:
    the generator's truth (its counts are the step log's, before any case was cut open) with
    ``transfers``, the parameters and ``attrs["planted"]`` of the export. Returns the paths.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     [path.name for path in write_transfer_sample(folder, n_cases=20)]
    ['sample_transfers.csv.gz', 'sample_catalog.csv', 'sample_truth.json']
    """
    out = Path(out)
    is_file = out.name.lower().endswith(TRANSFER_FORMATS)
    if not is_file and out.suffix and not out.is_dir():
        raise ValueError(
            f"Cannot tell the format of {out.name}: end it in one of {list(TRANSFER_FORMATS)}, "
            "or name a folder."
        )
    sample = generate(n_cases=n_cases, seed=seed)
    at = sample.log.groupby(schema.CASE)[schema.TIMESTAMP].min().max()  # the last receipt
    history = as_transfers(sample.log, seed=seed, open_share=open_share, at=at)
    if is_file:
        out.parent.mkdir(parents=True, exist_ok=True)
        return [write_transfers(history, out)]
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / _SAMPLE_NAME, out / "sample_catalog.csv", out / "sample_truth.json"]
    write_transfers(history, paths[0])
    write_catalog(sample.catalog, paths[1])
    parameters = {"seed": seed, "open_share": open_share, "side_copy_share": 0.1,
                  "return_share": 0.5, "at": str(at)}  # fmt: skip
    truth = sample.truth | {"transfers": parameters | history.attrs["planted"]}
    paths[2].write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return paths
