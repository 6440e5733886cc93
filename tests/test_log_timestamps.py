"""Timestamps that name no real instant (31/02, 29/02 of a common year, 10:00:60) parse to NaT on
every path of :func:`procmine.log.parse_timestamps`, never to a rolled-over date (31/02/2024 read
as 2 March), and :func:`procmine.log.read_log` quarantines their rows (issue #18, item 6)."""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from procmine import schema
from procmine.log import MISSING_VALUES, load_report, parse_timestamps, read_log
from procmine.log.text import non_empty
from test_log import cp1258_bytes

TZ = "Asia/Ho_Chi_Minh"
REASON = "unparseable timestamp"
# A stamp of the dd/mm/yyyy shape that strptime rejects outright: before the fix, one such row in
# a column made every rolled-over date of that column pass as written.
UNPARSED = "15/13/2024 10:00"

# Seeded damage: (day, month, year) that name no day; and times that name no instant.
IMPOSSIBLE_DAYS = [
    (29, 2, 2023),
    (29, 2, 2100),
    (30, 2, 2024),
    (31, 2, 2024),
    (31, 4, 2024),
    (31, 6, 2024),
    (31, 9, 2024),
    (31, 11, 2024),
    (0, 1, 2024),
    (32, 1, 2024),
    (15, 13, 2024),
    (15, 0, 2024),
]
IMPOSSIBLE_TIMES = ["24:00:00", "25:00:00", "10:60:00", "10:00:60", "10:00:61", "23:59:60"]


def _dates(day: int, month: int, year: int, dayfirst: bool = True, pad: bool = True) -> list[str]:
    """The date written every way the loader reads it (separators, time before or after)."""
    first, second = (day, month) if dayfirst else (month, day)
    shapes = []
    for sep in "/-.":
        date = (
            f"{first:02d}{sep}{second:02d}{sep}{year}"
            if pad
            else f"{first}{sep}{second}{sep}{year}"
        )
        shapes += [f"{date} 10:00:00", f"{date} 10:00", date, f"10:00:00 {date}", f"10:00 {date}"]
    return shapes


def _parse(values: list, **kwargs) -> pd.Series:
    return parse_timestamps(pd.Series(values), **kwargs)[0]


def _wall(stamp: pd.Timestamp) -> dt.datetime | None:
    return None if pd.isna(stamp) else stamp.tz_convert(TZ).tz_localize(None).to_pydatetime()


# -- explicit regression cases ---------------------------------------------------------------


@pytest.mark.parametrize("day, month, year", IMPOSSIBLE_DAYS)
@pytest.mark.parametrize("context", ["alone", "with valid", "with unparsed", "mostly valid"])
@pytest.mark.parametrize("dayfirst", [True, False])
def test_impossible_day_is_nat(day, month, year, context, dayfirst):
    valid = ["25/03/2024 08:30:00", "01/03/2024 10:00:00"]
    if not dayfirst:
        valid = ["03/25/2024 08:30:00", "03/01/2024 10:00:00"]
    unparsed = UNPARSED if dayfirst else "13/15/2024 10:00"
    for stamp in _dates(day, month, year, dayfirst) + _dates(day, month, year, dayfirst, pad=False):
        column = {
            "alone": [stamp],
            "with valid": [stamp, *valid],
            "with unparsed": [stamp, unparsed, *valid],
            "mostly valid": [*(valid * 200), unparsed, stamp],
        }[context]
        parsed = _parse(column, dayfirst=dayfirst)
        position = column.index(stamp)
        assert pd.isna(parsed[position]), (stamp, column[:3], parsed[position])
        kept = [s for s, v in zip(column, parsed, strict=True) if pd.notna(v)]
        assert set(kept) <= set(valid)
        if context != "alone":
            assert parsed[column.index(valid[0])] == pd.Timestamp("2024-03-25 08:30", tz=TZ)


@pytest.mark.parametrize("time", IMPOSSIBLE_TIMES)
@pytest.mark.parametrize("shape", ["{d} {t}", "{t} {d}", "{d_dash} {t}", "{d_dot} {t}"])
def test_impossible_time_is_nat(time, shape):
    stamp = shape.format(d="15/03/2024", d_dash="15-03-2024", d_dot="15.03.2024", t=time)
    for column in ([stamp], [stamp, "16/03/2024 10:00:00"], ["16/03/2024 10:00:00"] * 50 + [stamp]):
        parsed = _parse(column)
        assert pd.isna(parsed[column.index(stamp)]), (stamp, parsed[column.index(stamp)])


def test_the_issue_example_with_an_unparsed_sibling():
    """The seeded fault: one unparseable stamp made 31/04 → 1 May, 31/11 → 1 Dec and
    31/02/2024 → 2 March pass as real dates."""
    column = [
        "01/03/2024 10:00",
        "31/02/2024 10:00",
        "31/04/2024 08:15:00",
        "31/11/2024 14:00",
        "29/02/2023 09:00",
        UNPARSED,
        "31/12/2024 23:59:60",
        "15/03/2024 10:00:60",
    ]
    parsed = _parse(column)
    assert [_wall(s) for s in parsed] == [dt.datetime(2024, 3, 1, 10)] + [None] * 7


def test_month_first_columns_with_an_unparsed_sibling():
    """mm/dd/yyyy, chosen by dayfirst=False or by the values (with dayfirst=True a second field
    over 12 makes the second attempt, month first, the one kept)."""
    column = ["02/31/2024", "03/15/2024 10:00", "04/31/2024 10:00:00", "02/32/2024", "02/29/2023"]
    for dayfirst in (True, False):
        parsed = _parse(column, dayfirst=dayfirst)
        assert [_wall(s) for s in parsed] == [None, dt.datetime(2024, 3, 15, 10), None, None, None]


def test_valid_edges_still_parse():
    """The rule nulls what rolled over, never a real day 1..3, 29/02 of a leap year or :59."""
    column = [
        "29/02/2024 10:00:00",
        "01/03/2023 00:00",
        "02/02/2024",
        "03/01/2000 23:59:59",
        "31/12/2024 23:59:59",
        "29/02/2000",
        "30/04/2024 10:06",
        "10:00:59 31/01/2024",
        UNPARSED,
    ]
    parsed = _parse(column)
    assert [_wall(s) for s in parsed] == [
        dt.datetime(2024, 2, 29, 10),
        dt.datetime(2023, 3, 1),
        dt.datetime(2024, 2, 2),
        dt.datetime(2000, 1, 3, 23, 59, 59),
        dt.datetime(2024, 12, 31, 23, 59, 59),
        dt.datetime(2000, 2, 29),
        dt.datetime(2024, 4, 30, 10, 6),
        dt.datetime(2024, 1, 31, 10, 0, 59),
        None,
    ]


@pytest.mark.parametrize(
    "stamp",
    [
        "2024-02-30",
        "2023-02-29 10:00:00",
        "2024-04-31T10:00:00",
        "2024-06-31T10:00:00+07:00",
        "2024-09-31T10:00:00Z",
        "2024-11-31 10:00:00.5+0700",
        "2024-01-00",
        "2024-01-32",
        "2024-13-01",
        "2024-03-15T24:00:00",
        "2024-03-15T10:60:00",
        "2024-03-15T10:00:60",
        "2024-03-15T23:59:60Z",
    ],
)
def test_impossible_iso_8601_is_nat(stamp):
    for column in ([stamp], [stamp, "2024-03-01T10:00:00", "2024-03-01T10:00:00+07:00"]):
        parsed = _parse(column)
        assert pd.isna(parsed[0])
        assert parsed[1:].notna().all()


def test_other_column_types():
    """Mixed object columns (Excel sheets typed by hand), categoricals, string dtypes; 2-digit
    years, month names and am/pm are not read at all (NaT, never a wrong day)."""
    mixed = pd.Series(
        ["31/02/2024 10:00", 45366.5, dt.datetime(2024, 3, 15, 8), UNPARSED, "31/04/2024"],
        dtype=object,
    )
    stamps, _ = parse_timestamps(mixed)
    assert [_wall(s) for s in stamps] == [
        None,
        dt.datetime(2024, 3, 15, 12),
        dt.datetime(2024, 3, 15, 8),
        None,
        None,
    ]
    text = ["31/02/2024 10:00", UNPARSED, "15/03/2024 10:00", "31/06/2024"]
    for column in (
        pd.Series(pd.Categorical(text)),
        pd.Series(text, dtype="string"),
        pd.Series(text, dtype="string[pyarrow]"),
        pd.Series([*text, None, np.nan], dtype=object),
    ):
        stamps, _ = parse_timestamps(column)
        assert stamps.notna().tolist()[:4] == [False, False, True, False], column.dtype
    others = ["31/02/24 10:00", "31 Feb 2024", "Feb 31, 2024", "31/02/2024 10:00 AM", "25/03/24"]
    assert _parse(others).isna().all()


def test_excel_serials_and_datetimes_are_real_days():
    """Serial 60 is Excel's phantom 29/02/1900: out of the range read as dates."""
    assert _parse([60.0, 61.0]).isna().all()
    stamps = _parse([45351.0, 45352.0])  # 29/02/2024 and 01/03/2024
    assert [_wall(s) for s in stamps] == [dt.datetime(2024, 2, 29), dt.datetime(2024, 3, 1)]


def test_large_column_with_seeded_damage():
    """A column large enough to be parsed in bulk: exactly the damaged rows are NaT."""
    rng = np.random.default_rng(18)
    n = 60_000
    seconds = rng.integers(0, 2 * 365 * 86_400, n)
    truth = pd.Timestamp("2023-01-01") + pd.to_timedelta(seconds, unit="s")
    column = pd.Series(truth.strftime("%d/%m/%Y %H:%M:%S"), dtype=object)
    damaged = rng.choice(n, 400, replace=False)
    damage = [f"{d:02d}/{m:02d}/{y} 10:00:00" for d, m, y in IMPOSSIBLE_DAYS] + [
        f"15/03/2024 {t}" for t in IMPOSSIBLE_TIMES
    ]
    column.iloc[damaged] = [damage[i % len(damage)] for i in range(len(damaged))]
    stamps, fmt = parse_timestamps(column)
    assert fmt == "%d/%m/%Y %H:%M:%S"
    assert np.array_equal(np.flatnonzero(stamps.isna().to_numpy()), np.sort(damaged))
    good = np.setdiff1d(np.arange(n), damaged)
    expected = truth[good].tz_localize(TZ)
    assert (stamps.iloc[good].to_numpy() == expected.to_numpy()).all()


def test_deadline_column_counts_impossible_dates():
    """The deadline column is parsed by the same code: an impossible date is NaT, so a caller
    counts them as the NaT among the non-blank cells."""
    raw = pd.Series(["15/03/2024", "31/04/2024", "", None, "29/02/2023", "-", UNPARSED])
    stamps, fmt = parse_timestamps(raw)
    assert fmt == "%d/%m/%Y"
    unparseable = stamps.isna().to_numpy() & non_empty(raw, MISSING_VALUES)
    assert unparseable.tolist() == [False, True, False, False, True, False, True]


# -- properties ------------------------------------------------------------------------------


real_stamps = st.datetimes(
    min_value=dt.datetime(1950, 1, 1), max_value=dt.datetime(2099, 12, 31, 23, 59, 59)
).map(lambda d: d.replace(microsecond=0))

DAY_FIRST_SHAPES = [
    "%d/%m/%Y %H:%M:%S",
    "%d-%m-%Y %H:%M:%S",
    "%d.%m.%Y %H:%M:%S",
    "%H:%M:%S %d/%m/%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stamps=st.lists(real_stamps, min_size=1, max_size=20),
    shape=st.sampled_from(DAY_FIRST_SHAPES),
    unparsed=st.booleans(),
)
def test_any_real_stamp_parses_to_itself(stamps, shape, unparsed):
    # A day over 12 fixes the order whatever the generated days are.
    anchor = dt.datetime(2024, 12, 25, 9, 30)
    column = [s.strftime(shape) for s in [*stamps, anchor]] + ([UNPARSED] if unparsed else [])
    parsed = _parse(column)
    assert [_wall(s) for s in parsed] == [*stamps, anchor] + ([None] if unparsed else [])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stamps=st.lists(real_stamps, min_size=1, max_size=20), unparsed=st.booleans())
def test_any_real_month_first_stamp_parses_to_itself(stamps, unparsed):
    column = [s.strftime("%m/%d/%Y %H:%M") for s in stamps] + (["13/15/2024"] if unparsed else [])
    parsed = _parse(column, dayfirst=False)
    expected = [s.replace(second=0) for s in stamps] + ([None] if unparsed else [])
    assert [_wall(s) for s in parsed] == expected


@st.composite
def impossible_days(draw):
    """(day, month, year) past the end of a month, or day 0."""
    year = draw(st.integers(1950, 2099))
    month = draw(st.integers(1, 12))
    last = calendar.monthrange(year, month)[1]
    if last == 31:
        day = draw(st.sampled_from([0, 32]))
    else:
        day = draw(st.sampled_from([0, *range(last + 1, 32)]))
    return day, month, year


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    damage=impossible_days(),
    shape=st.integers(0, 14),
    valid=st.lists(real_stamps, min_size=0, max_size=10),
    unparsed=st.booleans(),
    dayfirst=st.booleans(),
)
def test_any_impossible_day_is_nat(damage, shape, valid, unparsed, dayfirst):
    stamp = _dates(*damage, dayfirst=dayfirst)[shape]
    written = "%d/%m/%Y %H:%M:%S" if dayfirst else "%m/%d/%Y %H:%M:%S"
    anchor = dt.datetime(2024, 12, 25, 9, 30)
    column = [stamp, *(s.strftime(written) for s in [*valid, anchor])]
    column += [UNPARSED if dayfirst else "13/15/2024"] if unparsed else []
    parsed = _parse(column, dayfirst=dayfirst)
    assert pd.isna(parsed[0]), (stamp, parsed[0])
    assert [_wall(s) for s in parsed[1 : len(valid) + 2]] == [*valid, anchor]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stamp=real_stamps,
    leap=st.sampled_from([60, 61]),
    time_first=st.booleans(),
    unparsed=st.booleans(),
)
def test_any_leap_second_is_nat(stamp, leap, time_first, unparsed):
    date, time = stamp.strftime("%d/%m/%Y"), stamp.strftime(f"%H:%M:{leap}")
    column = [f"{time} {date}" if time_first else f"{date} {time}", "25/12/2024 09:30:00"]
    parsed = _parse(column + ([UNPARSED] if unparsed else []))
    assert pd.isna(parsed[0]) and _wall(parsed[1]) == dt.datetime(2024, 12, 25, 9, 30)


# -- read_log end to end ---------------------------------------------------------------------

DAMAGED = ["31/02/2024 10:00", "29/02/2023 09:00", "31/04/2024 08:15:00", "31/11/2024 14:00"]
HEADERS = ["Mã hồ sơ", "Bước xử lý", "Thời điểm", "Đơn vị", "Hạn xử lý"]


def _export() -> pd.DataFrame:
    rows = [
        (f"HS{i}", "Tiếp nhận", f"{i + 1:02d}/03/2024 08:00", "Bộ phận một cửa", "28/03/2024")
        for i in range(12)
    ]
    rows[0] = (*rows[0][:4], "31/04/2024")  # an impossible deadline
    rows += [
        (f"HS{i}", "Thẩm định", s, "Phòng Tư pháp", "28/03/2024") for i, s in enumerate(DAMAGED)
    ]
    rows.append(("HS5", "Thẩm định", UNPARSED, "Phòng Tư pháp", "28/03/2024"))
    return pd.DataFrame(rows, columns=HEADERS)


def _write(export: pd.DataFrame, kind: str, tmp_path):
    if kind == "frame":
        return export
    if kind == "xlsx":
        path = tmp_path / "export.xlsx"
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(HEADERS)
        for row in export.itertuples(index=False):
            sheet.append(list(row))  # text cells, as typed
        book.save(path)
        return path
    path = tmp_path / f"export-{kind}.csv"
    text = export.to_csv(index=False)
    path.write_bytes(cp1258_bytes(text) if kind == "cp1258" else text.encode("utf-8"))
    return path


@pytest.mark.parametrize("kind", ["frame", "utf-8", "cp1258", "xlsx"])
def test_read_log_quarantines_impossible_dates(kind, tmp_path):
    export = _export()
    log = read_log(_write(export, kind, tmp_path))
    report = load_report(log)
    if kind in ("utf-8", "cp1258"):
        assert report["encoding"] == kind
    bad = len(DAMAGED) + 1
    assert report["rows_read"] == len(export)
    assert report["rows_quarantined"] == bad
    assert report["quarantined_by_reason"][REASON] == bad
    assert report["rows_read"] == report["rows_kept"] + report["rows_quarantined"]
    quarantine = report["quarantine"]
    assert set(quarantine.loc[quarantine["reason"] == REASON, "Thời điểm"]) == {*DAMAGED, UNPARSED}
    # No kept stamp is a rolled-over day (02/03, 01/05, 01/12, 01/03/2023).
    kept = log[schema.TIMESTAMP].dt.tz_convert(TZ).dt.tz_localize(None)
    assert set(kept) == {pd.Timestamp(2024, 3, d, 8) for d in range(1, 13)}
    # The impossible deadline is NaT; none reads as 1 May.
    deadlines = log[schema.DEADLINE]
    assert deadlines.isna().sum() == 1
    assert report["deadlines_unparseable"] == 1  # counted; its row is kept
    assert "HS0" in set(log.loc[deadlines.isna(), schema.CASE])
    assert any("31/02/2024" in w and "deadline" in w for w in report["warnings"])
    assert (deadlines.dropna().dt.tz_convert(TZ).dt.date == dt.date(2024, 3, 28)).all()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fields=st.lists(
        st.tuples(
            st.integers(0, 40),
            st.integers(0, 14),
            st.sampled_from([999, 1000, 1900, 2023, 2024, 2100, 9999]),
            st.integers(0, 25),
            st.integers(0, 61),
            st.integers(0, 62),
        ),
        min_size=1,
        max_size=30,
    ),
    dayfirst=st.booleans(),
)
def test_stamps_read_from_their_bytes_parse_as_the_text_parser_reads_them(fields, dayfirst):
    # dd/mm/yyyy HH:MM:SS with every field padded is read from the bytes; with a space in front
    # the same stamp goes through the text parser (strptime and its checks): same stamps, same
    # format, whatever the fields (impossible dates, months over 12, leap seconds, order).
    column = [f"{a:02d}/{b:02d}/{y:04d} {h:02d}:{m:02d}:{s:02d}" for a, b, y, h, m, s in fields]
    as_bytes = parse_timestamps(pd.Series(column), dayfirst=dayfirst)
    as_text = parse_timestamps(pd.Series([" " + c for c in column]), dayfirst=dayfirst)
    assert as_bytes[1] == as_text[1]
    pd.testing.assert_series_equal(as_bytes[0], as_text[0])
