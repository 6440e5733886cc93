"""Header mapping: which export header becomes which canonical column. An explicit mapping wins;
other headers are recognised from :data:`HEADER_NAMES` (Vietnamese and English, in priority
order), and time columns also by their values (a candidate must parse as date-times)."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from procmine import schema
from procmine.log.text import non_empty
from procmine.log.timestamps import parse_timestamps

__all__ = [
    "HEADER_NAMES",
    "TEXT_COLUMNS",
    "TIME_COLUMNS",
    "candidate_headers",
    "department_choice",
    "detect_mapping",
    "header_key",
    "missing_column_error",
    "name_rank",
    "resolve_mapping",
]


# Header names per canonical column, in priority order (the first that fits wins). Matching
# ignores case, Unicode form, spaces and punctuation; unaccented spellings match as a fallback.
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    schema.CASE: (
        schema.CASE,
        "Mã hồ sơ",
        "Số hồ sơ",
        "Mã HS",
        "Số HS",
        "Mã hồ sơ công việc",
        "Mã văn bản",
        "case id",
        "case_id",
        "case",
        "caseid",
        "case number",
        "dossier id",
    ),
    schema.ACTIVITY: (
        schema.ACTIVITY,
        "Bước xử lý",
        "Tên bước",
        "Bước",
        "Công việc",
        "Tên công việc",
        "Hoạt động",
        "activity",
        "step",
        "activity name",
        "task",
        "event",
    ),
    schema.TIMESTAMP: (
        schema.TIMESTAMP,
        "Thời điểm",
        "Ngày giờ xử lý",
        "Ngày xử lý",
        "Thời gian xử lý",
        "Thời điểm xử lý",
        "Ngày giờ",
        "Thời gian",
        "timestamp",
        "time",
        "datetime",
        "date time",
        "event time",
        "date",
    ),
    schema.DEPARTMENT: (  # org:role is the department of the BPIC 2020 logs
        schema.DEPARTMENT,
        "org:role",
        "org:department",
        "Đơn vị xử lý",
        "Phòng ban",
        "Đơn vị",
        "Phòng ban xử lý",
        "Bộ phận",
        "Phòng",
        "department",
        "unit",
        "org unit",
        "group",
        "dept",
    ),
    schema.RESOURCE: (
        schema.RESOURCE,
        "Người xử lý",
        "Cán bộ xử lý",
        "Cán bộ",
        "Chuyên viên",
        "Người thực hiện",
        "resource",
        "user",
        "official",
        "performer",
        "handler",
    ),
    schema.PROCEDURE: (
        schema.PROCEDURE,
        "Tên thủ tục",
        "Thủ tục",
        "Tên quy trình",
        "Quy trình",
        "procedure",
        "procedure name",
        "process",
    ),
    schema.LIFECYCLE: (schema.LIFECYCLE, "lifecycle", "transition", "event type"),
    schema.DEADLINE: (
        schema.DEADLINE,
        "Hạn xử lý",
        "Hạn giải quyết",
        "Hạn hoàn thành",
        "deadline",
        "due date",
        "due",
    ),
}


TEXT_COLUMNS = (
    schema.CASE,
    schema.ACTIVITY,
    schema.DEPARTMENT,
    schema.RESOURCE,
    schema.PROCEDURE,
    schema.LIFECYCLE,
)
TIME_COLUMNS = (schema.TIMESTAMP, schema.DEADLINE)


_TIMESTAMP_SHARE = 0.95  # a timestamp candidate must parse for this share of its values
_TIMESTAMP_FALLBACK_SHARE = 0.5  # ... or this much when no candidate reaches the first


def header_key(name: object) -> str:
    """The form headers are compared in: NFC, case-folded, letters and digits only.

    >>> header_key("MÃ_HỒ  SƠ") == header_key("mã hồ sơ")
    True
    """
    text = unicodedata.normalize("NFC", str(name)).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def detect_mapping(
    frame: pd.DataFrame,
    mapping: Mapping[str, str] | None = None,
    *,
    timezone: str = schema.DEFAULT_TIMEZONE,
    dayfirst: bool = True,
) -> dict[str, str]:
    """The header mapping :func:`read_log` would use: {export header: canonical column}.

    >>> detect_mapping(pd.DataFrame({"Số hồ sơ": ["1"], "Tên bước": ["a"],
    ...                              "Thời gian xử lý": ["2 ngày"], "Ngày xử lý": ["02/01/2024"]}))
    {'Số hồ sơ': 'case:concept:name', 'Tên bước': 'concept:name', 'Ngày xử lý': 'time:timestamp'}
    """
    chosen, _, _ = resolve_mapping(frame, mapping, timezone=timezone, dayfirst=dayfirst)
    return chosen


def _strip_accents(key: str) -> str:
    decomposed = unicodedata.normalize("NFD", key.replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _header_rank(header: str, column: str) -> int | None:
    """Priority of ``header`` as ``column`` (lower wins), None when it is not a name for it."""
    return name_rank(header, HEADER_NAMES[column])


def name_rank(header: str, names: Sequence[str]) -> int | None:
    """Priority of ``header`` among ``names`` (lower wins; unaccented spellings after all
    accented ones), None when it is none of them.

    >>> name_rank("DON VI NHAN", ["Đơn vị chuyển", "Đơn vị nhận"])
    3
    """
    key = header_key(header)
    keys = [header_key(n) for n in names]
    if key in keys:
        return keys.index(key)
    bare = [_strip_accents(k) for k in keys]
    if _strip_accents(key) in bare:  # unaccented export headers ("Ma ho so") rank after accented
        return len(names) + bare.index(_strip_accents(key))
    return None


def candidate_headers(
    headers: Sequence[str], mapping: Mapping[str, str] | None, columns: Iterable[str]
) -> set[str]:
    columns = list(columns)
    found = {h for h in headers if any(_header_rank(h, c) is not None for c in columns)}
    for key, value in (mapping or {}).items():
        found.update({key, value})
    return found


def _explicit_mapping(frame: pd.DataFrame, mapping: Mapping[str, str]) -> dict[str, str]:
    headers = [str(c) for c in frame.columns]
    chosen: dict[str, str] = {}
    for key, value in mapping.items():
        if key in headers and value in schema.CANONICAL:
            chosen[key] = value
        elif value in headers and key in schema.CANONICAL:  # {"case:concept:name": "Mã HS"}
            chosen[value] = key
        elif key in headers:
            raise ValueError(_not_canonical(key, value))
        else:
            close = difflib.get_close_matches(str(key), headers, n=3, cutoff=0.5)
            raise schema.MissingColumnError(
                f"mapping names the header {key!r}, which the export does not have"
                + (f" (closest: {', '.join(map(repr, close))})" if close else "")
                + f". Columns found: {headers}."
            )
    targets = list(chosen.values())
    twice = sorted({c for c in targets if targets.count(c) > 1})
    if twice:
        headers_of = [h for h, c in chosen.items() if c == twice[0]]
        raise ValueError(
            f"mapping maps {len(headers_of)} headers onto {twice[0]!r} "
            f"({', '.join(map(repr, headers_of))}); a canonical column takes one header."
        )
    return chosen


def _not_canonical(header: str, name: str) -> str:
    """The message for a mapping of ``header`` onto ``name``, which is no canonical column."""
    meant = next((c for c in schema.CANONICAL if _header_rank(name, c) is not None), None)
    return (
        f"mapping maps {header!r} onto {name!r}, which is not a canonical column"
        + (f" (did you mean {meant!r}?)" if meant else "")
        + f". Map export headers onto one of: {', '.join(schema.CANONICAL)}."
    )


def department_choice(
    frame: pd.DataFrame, chosen: Mapping[str, str]
) -> tuple[str | None, list[str]]:
    """(the export header that became the department, the other headers that could have been
    it, in the order of :data:`HEADER_NAMES`: ``org:group``, ``org:role``, ``org:department``,
    then Vietnamese and English names).

    >>> frame = pd.DataFrame(columns=["case", "org:role", "Phòng ban"])
    >>> department_choice(frame, {"org:role": "org:group"})
    ('org:role', ['Phòng ban'])
    """
    header = next((h for h, c in chosen.items() if c == schema.DEPARTMENT), None)
    ranked = sorted(
        (rank, position, name)
        for position, name in enumerate(str(c) for c in frame.columns)
        if name != header and (rank := _header_rank(name, schema.DEPARTMENT)) is not None
    )
    return header, [name for _, _, name in ranked]


def resolve_mapping(
    frame: pd.DataFrame,
    mapping: Mapping[str, str] | None,
    *,
    timezone: str,
    dayfirst: bool,
) -> tuple[dict[str, str], dict[str, tuple[pd.Series, str]], dict[str, str]]:
    """(chosen {header: column}, parsed time columns {column: (stamps, format)}, rejections)."""
    chosen = _explicit_mapping(frame, mapping or {})
    parsed: dict[str, tuple[pd.Series, str]] = {}
    rejected: dict[str, str] = {}
    taken = set(chosen.values())
    for header, column in chosen.items():
        if column in TIME_COLUMNS:
            parsed[column] = parse_timestamps(frame[header], timezone, dayfirst)
    for column in schema.CANONICAL:
        if column in taken:
            continue
        ranked = sorted(
            (rank, position, header)
            for position, header in enumerate(str(c) for c in frame.columns)
            if header not in chosen and (rank := _header_rank(header, column)) is not None
        )
        fallback: tuple[str, pd.Series, str] | None = None
        for _, _, header in ranked:
            if column in TIME_COLUMNS:
                # Values decide: "Thời gian xử lý" may hold durations ("2 ngày", 3.5).
                stamps, fmt = parse_timestamps(frame[header], timezone, dayfirst)
                ok = stamps.notna().to_numpy()
                # A parsed stamp is never blank: blanks are looked for among the others only.
                filled = int(ok.sum()) + int(non_empty(frame[header].iloc[~ok], ()).sum())
                share = ok.sum() / filled if filled else 0.0
                if share < _TIMESTAMP_SHARE:
                    rejected[header] = (
                        f"{header!r} was not taken as {column}: only {share:.0%} of its "
                        "values are date-times"
                    )
                    if fallback is None and share >= _TIMESTAMP_FALLBACK_SHARE:
                        fallback = (header, stamps, fmt)
                    continue
                parsed[column] = (stamps, fmt)
            chosen[header] = column
            taken.add(column)
            break
        else:
            # No candidate is clean enough: a dirty export still loads from its best-ranked
            # mostly-dates column, and its bad stamps go to quarantine.
            if fallback is not None:
                header, stamps, fmt = fallback
                rejected.pop(header)
                parsed[column] = (stamps, fmt)
                chosen[header] = column
                taken.add(column)
    return chosen, parsed, rejected


def missing_column_error(
    frame: pd.DataFrame, missing: list[str], rejected: dict[str, str]
) -> schema.MissingColumnError:
    headers = [str(c) for c in frame.columns]
    keys = {header_key(h): h for h in headers}
    parts = []
    for column in missing:
        names = [_strip_accents(header_key(n)) for n in HEADER_NAMES[column]]
        close: list[str] = []
        for name in names:
            for key in difflib.get_close_matches(name, [_strip_accents(k) for k in keys], 3, 0.6):
                original = next(h for k, h in keys.items() if _strip_accents(k) == key)
                if original not in close:
                    close.append(original)
        parts.append(
            f"'{column}' (e.g. {', '.join(repr(n) for n in HEADER_NAMES[column][1:4])})"
            + (f", closest headers: {', '.join(map(repr, close[:3]))}" if close else "")
        )
    notes = "".join(f" {note}." for note in rejected.values())
    return schema.MissingColumnError(
        f"The export lacks the required column(s) {'; '.join(parts)}. Columns found: {headers}."
        f"{notes} Pass mapping={{'your header': 'canonical name'}} to pm.read_log."
    )
