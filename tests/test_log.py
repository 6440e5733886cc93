"""Loading exports: sources, encodings, header mapping, timestamps, quarantine, order."""

from __future__ import annotations

import gzip
import re
import unicodedata
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from procmine import schema
from procmine.calendar import CalendarError, WorkCalendar
from procmine.log import (
    MISSING_VALUES,
    NO_DEPARTMENT,
    REASONS,
    LogReadError,
    detect_encoding,
    detect_mapping,
    infer_timezone,
    load_report,
    parse_timestamps,
    read_log,
)
from procmine.log.canonical import _case_time_order, _stable_argsort
from procmine.log.clock import Offsets
from procmine.log.parallel import gather
from procmine.log.text import encode_text, materialise
from procmine.log.xes import is_rust_panic

CASE, ACT, TS, DEPT, RES = (
    schema.CASE,
    schema.ACTIVITY,
    schema.TIMESTAMP,
    schema.DEPARTMENT,
    schema.RESOURCE,
)
TZ = "Asia/Ho_Chi_Minh"
TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"
REPO = Path(__file__).resolve().parents[1]


def cp1258_bytes(text: str) -> bytes:
    """Encode Vietnamese as Windows-1258 writes it: letters with horn, breve or circumflex are
    precomposed (ơ, ư, ă, â, ê, ô), tone marks follow as combining characters."""
    decomposed = unicodedata.normalize("NFD", text)
    out, cluster, tones = [], "", ""
    for ch in decomposed + "\0":
        if unicodedata.combining(ch) and ch in TONE_MARKS:
            tones += ch
        elif unicodedata.combining(ch):
            cluster += ch
        else:
            out.append(unicodedata.normalize("NFC", cluster) + tones)
            cluster, tones = ch, ""
    return "".join(out).encode("cp1258")


def local(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


def vietnamese_export() -> pd.DataFrame:
    """A small export as an agency writes it: Vietnamese headers, dd/mm/yyyy stamps."""
    return pd.DataFrame(
        {
            "Mã hồ sơ": ["000123", "000456", "000123", "000456", "000123"],
            "Bước xử lý": ["Tiếp nhận", "Tiếp nhận", "Thẩm định", "Phê duyệt", "Phê duyệt"],
            "Thời điểm": [
                "01/03/2024 08:00",
                "01/03/2024 09:15",
                "04/03/2024 14:30:05",
                "05/03/2024 10:00",
                "06/03/2024 16:45",
            ],
            "Đơn vị xử lý": [
                "Bộ phận một cửa",
                "Bộ phận một cửa",
                "Phòng Tài chính - Kế hoạch",
                "Lãnh đạo UBND",
                "Lãnh đạo UBND",
            ],
            "Người xử lý": [
                "Nguyễn Văn An",
                "Trần Thị Bình",
                "Lê Hữu Đức",
                "Phạm Quốc Việt",
                "Phạm Quốc Việt",
            ],
            "Ghi chú": ["", "khẩn", "", "", "đã ký"],
        }
    )


EXPECTED_CASES = ["000123"] * 3 + ["000456"] * 2
EXPECTED_STEPS = ["Tiếp nhận", "Thẩm định", "Phê duyệt", "Tiếp nhận", "Phê duyệt"]
EXPECTED_TIMES = [
    local("2024-03-01 08:00"),
    local("2024-03-04 14:30:05"),
    local("2024-03-06 16:45"),
    local("2024-03-01 09:15"),
    local("2024-03-05 10:00"),
]


def check_vietnamese(log: pd.DataFrame) -> None:
    assert list(log.columns[:5]) == [CASE, ACT, TS, DEPT, RES]
    assert log[CASE].tolist() == EXPECTED_CASES
    assert log[ACT].tolist() == EXPECTED_STEPS
    assert log[TS].tolist() == EXPECTED_TIMES
    assert str(log[TS].dtype) == f"datetime64[us, {TZ}]"
    assert log[DEPT].iloc[1] == "Phòng Tài chính - Kế hoạch"


# ------------------------------------------------------------------------------------ sources


def test_dataframe_with_vietnamese_headers():
    log = read_log(vietnamese_export())
    check_vietnamese(log)
    report = load_report(log)
    assert report["mapping"] == {
        "Mã hồ sơ": CASE,
        "Bước xử lý": ACT,
        "Thời điểm": TS,
        "Đơn vị xử lý": DEPT,
        "Người xử lý": RES,
    }
    assert report["date_format"] == "%d/%m/%Y %H:%M:%S; %d/%m/%Y %H:%M"
    assert (report["rows_read"], report["rows_kept"], report["rows_quarantined"]) == (5, 5, 0)
    assert report["cases"] == 2
    assert report["transfer_history"] is False
    assert log["Ghi chú"].tolist()[3:] == ["khẩn", ""]  # other columns kept as they are


def test_csv_utf8_bom_semicolon(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(vietnamese_export().to_csv(index=False, sep=";").encode("utf-8-sig"))
    log = read_log(path)
    check_vietnamese(log)
    report = load_report(log)
    assert (report["encoding"], report["delimiter"], report["format"]) == ("utf-8-sig", ";", "csv")


def test_csv_windows_1258(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(cp1258_bytes(vietnamese_export().to_csv(index=False)))
    log = read_log(path)
    check_vietnamese(log)
    assert load_report(log)["encoding"] == "cp1258"
    assert log[RES].tolist()[:2] == ["Nguyễn Văn An", "Lê Hữu Đức"]


def test_cp1258_helper_round_trips():
    text = "Thẩm định hồ sơ, Ủy ban, Người xử lý, Nguyễn, ưu tiên, Đắk Lắk"
    decoded = cp1258_bytes(text).decode("cp1258")
    assert decoded != text  # tone marks are separate characters in Windows-1258
    assert unicodedata.normalize("NFC", decoded) == text


def test_tsv_utf16_and_gzip(tmp_path):
    utf16 = tmp_path / "export.tsv"
    utf16.write_bytes(vietnamese_export().to_csv(index=False, sep="\t").encode("utf-16"))
    log = read_log(utf16)
    check_vietnamese(log)
    assert (load_report(log)["encoding"], load_report(log)["delimiter"]) == ("utf-16", "\t")
    zipped = tmp_path / "export.csv.gz"
    with gzip.open(zipped, "wb") as handle:
        handle.write(vietnamese_export().to_csv(index=False).encode())
    check_vietnamese(read_log(zipped))


def test_xlsx_and_parquet(tmp_path):
    frame = vietnamese_export()
    xlsx = tmp_path / "export.xlsx"
    with pd.ExcelWriter(xlsx, engine="openpyxl") as writer:
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="Ghi chú", index=False)
        frame.to_excel(writer, sheet_name="Nhật ký", index=False)
    check_vietnamese(read_log(xlsx, sheet="Nhật ký"))
    parquet = tmp_path / "export.parquet"
    frame.to_parquet(parquet)
    log = read_log(parquet)
    check_vietnamese(log)
    assert load_report(log)["format"] == "parquet"


def test_xes_running_example(shared_datasets):
    log = read_log(shared_datasets / "running-example.xes")
    assert len(log) == 42
    assert log[CASE].nunique() == 6
    first = log.iloc[0]
    # <date value="2010-12-30T14:32:00.000+01:00"/>: the same instant, in the zone its offsets
    # imply (issue 15: a log keeps its own clock), or in Vietnam's when asked.
    assert (first[CASE], first[ACT], first[RES]) == ("3", "register request", "Pete")
    assert first[TS] == pd.Timestamp("2010-12-30T14:32:00+01:00")
    assert str(first[TS].tz) == "Europe/Amsterdam"
    assert load_report(log)["format"] == "xes"
    vietnam = read_log(shared_datasets / "running-example.xes", timezone=TZ)
    assert str(vietnam[TS].iloc[0].tz) == TZ and vietnam[TS].iloc[0] == first[TS]


def test_receipt_log_department_and_empty(shared_datasets):
    path = shared_datasets / "receipt.csv.gz"
    log = read_log(path)
    plain = pd.read_csv(path, dtype=str, keep_default_na=False)
    empty = int((plain["org:group"] == "EMPTY").sum())
    assert empty == 1936 and round(empty / len(plain), 3) == 0.226
    report = load_report(log)
    assert report["mapping"]["org:group"] == DEPT  # the event attribute, not case:department
    assert "case:department" not in report["mapping"]
    assert report["rows_read"] == len(plain) == report["rows_kept"] == len(log)
    assert report["missing_department"] == empty == int(log[DEPT].isna().sum())
    assert (
        log[DEPT].dropna().nunique()
        == plain.loc[plain["org:group"] != "EMPTY", "org:group"].nunique()
    )
    assert log["case:department"].tolist().count("General") == int(
        (plain["case:department"] == "General").sum()
    )
    # Same events as a plain read: each (case, step, instance) once.
    assert sorted(log["concept:instance"]) == sorted(plain["concept:instance"])
    assert log[TS].iloc[0] == pd.Timestamp("2011-10-11 13:45:40.276+02:00")


@pytest.mark.postgres
def test_postgresql_round_trip(postgres_url):
    import sqlalchemy

    frame = vietnamese_export()
    engine = sqlalchemy.create_engine(postgres_url)
    with engine.begin() as connection:
        frame.to_sql("nhat_ky_xu_ly", connection, index=False, if_exists="replace")
    engine.dispose()
    expected = read_log(frame)
    by_table = read_log(postgres_url, table="nhat_ky_xu_ly")
    pd.testing.assert_frame_equal(by_table, expected)
    by_query = read_log(
        postgres_url, query="SELECT * FROM nhat_ky_xu_ly WHERE \"Mã hồ sơ\" = '000456'"
    )
    pd.testing.assert_frame_equal(
        by_query, expected[expected[CASE] == "000456"].reset_index(drop=True)
    )
    assert load_report(by_table)["source"].endswith("(table nhat_ky_xu_ly)")
    with pytest.raises(ValueError, match="exactly one of table"):
        read_log(postgres_url)


# ------------------------------------------------------------------------- text and headers


def test_nfd_names_equal_nfc_names():
    frame = vietnamese_export()
    frame.loc[3, "Đơn vị xử lý"] = unicodedata.normalize("NFD", "  Lãnh   đạo UBND ")
    frame.columns = [unicodedata.normalize("NFD", c) for c in frame.columns]
    log = read_log(frame)
    check_vietnamese(log)
    assert log[DEPT].nunique() == 3  # one Lãnh đạo UBND, not two
    assert log["Ghi chú"].tolist()[3:] == ["khẩn", ""]  # headers are NFC too


@pytest.mark.parametrize(
    "header",
    [
        "Mã_hồ_sơ",
        "MÃ HỒ SƠ",
        "mã  hồ sơ",
        unicodedata.normalize("NFD", "Mã hồ sơ"),
        "Ma ho so",
        "case id",
        "Case_ID",
    ],
)
def test_header_spellings(header):
    frame = vietnamese_export().rename(columns={"Mã hồ sơ": header})
    assert detect_mapping(frame)[header] == CASE


def test_duration_column_is_not_the_timestamp():
    frame = vietnamese_export().rename(columns={"Thời điểm": "Ngày xử lý"})
    frame["Thời gian xử lý"] = ["2 ngày", "1 ngày", "3 ngày", "0,5 ngày", "1 ngày"]
    frame["Thời gian"] = [3.5, 1.0, 2.0, 0.5, 4.0]
    log = read_log(frame)
    check_vietnamese(log)
    assert load_report(log)["mapping"]["Ngày xử lý"] == TS
    assert log["Thời gian"].tolist() == [3.5, 2.0, 4.0, 1.0, 0.5]


def test_priority_among_timestamp_candidates():
    frame = vietnamese_export()
    frame["Ngày xử lý"] = "01/01/2020"
    assert detect_mapping(frame)["Thời điểm"] == TS  # Thời điểm ranks before Ngày xử lý
    frame["time:timestamp"] = frame.pop("Thời điểm")
    assert detect_mapping(frame)["time:timestamp"] == TS


def test_explicit_mapping_wins():
    frame = vietnamese_export().rename(columns={"Mã hồ sơ": "Số đăng ký"})
    frame["Mã HS"] = "khác"
    log = read_log(frame, mapping={"Số đăng ký": CASE})
    assert log[CASE].tolist() == EXPECTED_CASES
    assert log["Mã HS"].tolist() == ["khác"] * 5
    assert read_log(frame, mapping={CASE: "Số đăng ký"})[CASE].tolist() == EXPECTED_CASES


def test_missing_column_error_names_found_and_closest():
    frame = vietnamese_export().rename(columns={"Bước xử lý": "Buoc xu li"})
    frame["Thời gian xử lý"] = "2 ngày"
    frame = frame.drop(columns=["Thời điểm"])
    with pytest.raises(schema.MissingColumnError) as caught:
        read_log(frame)
    message = str(caught.value)
    assert "'concept:name'" in message and "'time:timestamp'" in message
    assert "closest headers: 'Buoc xu li'" in message
    assert "Columns found: ['Mã hồ sơ', 'Buoc xu li', 'Đơn vị xử lý'" in message
    assert "'Thời gian xử lý' was not taken as time:timestamp: only 0% of its values" in message
    with pytest.raises(schema.MissingColumnError, match="closest: 'Buoc xu li'"):
        read_log(frame, mapping={"Buoc xu ly": ACT})


def test_missing_values_in_department_and_resource_become_null():
    frame = vietnamese_export()
    frame["Đơn vị xử lý"] = ["EMPTY", "-", " NULL ", None, "Lãnh đạo UBND"]
    frame["Người xử lý"] = ["None", "nan", "", "Lê Hữu Đức", "NaN"]
    log = read_log(frame)
    report = load_report(log)
    assert len(log) == 5
    assert log[DEPT].isna().tolist() == [True, True, False, True, True]
    assert (report["missing_department"], report["missing_resource"]) == (4, 4)
    assert report["missing_values_nulled"][DEPT] == 3  # None was null already
    assert report["missing_values_nulled"][RES] == 4
    kept = read_log(frame, missing_values=("EMPTY",))
    assert kept[DEPT].tolist()[1:4] == ["NULL", "Lãnh đạo UBND", "-"]


# -------------------------------------------------------------------------------- timestamps


def test_timestamp_formats():
    values = pd.Series(
        [
            "15/03/2024 08:30:00",
            "15/03/2024 08:30",
            "15/03/2024",
            "2024-03-15",
            "2024-03-15T08:30:00+02:00",
            "2024-03-15 08:30:00.250",
            "45366.354166666664",
            "08:30 15/03/2024",
            "31/02/2024",
            "15-03-2024 08:30",
            "hôm qua",
            None,
        ]
    )
    stamps, fmt = parse_timestamps(values)
    assert stamps.tolist()[:11] == [
        local("2024-03-15 08:30"),
        local("2024-03-15 08:30"),
        local("2024-03-15"),
        local("2024-03-15"),
        local("2024-03-15 13:30"),
        local("2024-03-15 08:30:00.250"),
        local("2024-03-15 08:30"),
        local("2024-03-15 08:30"),
        pd.NaT,
        local("2024-03-15 08:30"),
        pd.NaT,
    ]
    assert pd.isna(stamps.iloc[11])
    assert "ISO 8601" in fmt and "Excel serial" in fmt and "%d/%m/%Y %H:%M:%S" in fmt


def test_month_first_when_it_fits_better():
    stamps, fmt = parse_timestamps(pd.Series(["03/15/2024 08:30", "12/31/2024 17:00"]))
    assert stamps.tolist() == [local("2024-03-15 08:30"), local("2024-12-31 17:00")]
    assert fmt == "%m/%d/%Y %H:%M"
    stamps, _ = parse_timestamps(pd.Series(["03/04/2024"]), dayfirst=False)
    assert stamps.tolist() == [local("2024-03-04")]
    stamps, _ = parse_timestamps(pd.Series(["03/04/2024"]))
    assert stamps.tolist() == [local("2024-04-03")]


def test_excel_serial_numbers_column():
    frame = vietnamese_export()
    # Excel's 1900 system: 45352 is 01/03/2024; 0.34375 of a day is 08:15.
    frame["Thời điểm"] = [
        45352.333333333336,
        45352.385416666664,
        45355.60422453704,
        45356.416666666664,
        45357.697916666664,
    ]
    log = read_log(frame)
    assert log[TS].tolist() == [
        local("2024-03-01 08:00"),
        local("2024-03-04 14:30:05"),
        local("2024-03-06 16:45"),
        local("2024-03-01 09:15"),
        local("2024-03-05 10:00"),
    ]
    assert load_report(log)["date_format"] == "Excel serial"


def test_aware_and_datetime_columns_are_converted():
    frame = vietnamese_export()
    frame["Thời điểm"] = pd.to_datetime(frame["Thời điểm"], format="mixed", dayfirst=True)
    check_vietnamese(read_log(frame))
    frame["Thời điểm"] = frame["Thời điểm"].dt.tz_localize(TZ).dt.tz_convert("Europe/Amsterdam")
    # Stamps in a named zone keep it (issue 15); the same instants in Vietnam's clock when asked.
    amsterdam = read_log(frame)
    assert str(amsterdam[TS].dtype) == "datetime64[us, Europe/Amsterdam]"
    assert amsterdam[TS].tolist() == EXPECTED_TIMES
    assert load_report(amsterdam)["timezone_source"] == "stamps"
    check_vietnamese(read_log(frame, timezone=TZ))
    assert str(read_log(frame, timezone="UTC")[TS].dtype) == "datetime64[us, UTC]"


def test_localising_wall_clock_stamps_in_fixed_and_dst_zones():
    wall = pd.Series(
        pd.to_datetime(["2024-10-27 02:30", "2024-03-31 02:30", "2024-06-01 12:00", None])
    )
    # One offset over the span: plain arithmetic; 1970 (+08:00 then) forces pandas' path.
    assert [str(v) for v in parse_timestamps(wall[2:])[0]] == [
        "2024-06-01 12:00:00+07:00",
        "NaT",
    ]
    both = parse_timestamps(pd.concat([wall[2:3], pd.Series(pd.to_datetime(["1970-01-01"]))]))
    assert [str(v) for v in both[0]] == [
        "2024-06-01 12:00:00+07:00",
        "1970-01-01 00:00:00+08:00",
    ]
    # Europe/Berlin: a fall-back hour takes the earlier (summer) instant, a skipped one moves on.
    berlin = parse_timestamps(wall, timezone="Europe/Berlin")[0]
    assert [str(v) for v in berlin] == [
        "2024-10-27 02:30:00+02:00",
        "2024-03-31 03:00:00+02:00",
        "2024-06-01 12:00:00+02:00",
        "NaT",
    ]
    assert str(berlin.dtype) == "datetime64[us, Europe/Berlin]"


# ------------------------------------------------------------------------ quarantine and order


def dirty_export() -> pd.DataFrame:
    rows = [
        ("HS1", "Tiếp nhận", "01/03/2024 08:00", "Bộ phận một cửa"),  # kept
        ("HS1", "Thẩm định", "02/03/2024 09:00", "Phòng Tài chính"),  # kept
        ("HS1", "Thẩm định", "02/03/2024 09:00", "Phòng Tài chính"),  # exact duplicate
        ("", "Phê duyệt", "03/03/2024 10:00", "Lãnh đạo"),  # missing case id
        (None, None, None, None),  # missing case id
        ("HS2", "", "03/03/2024 10:00", "Lãnh đạo"),  # missing activity
        ("HS2", "NULL", "03/03/2024 10:00", "Lãnh đạo"),  # missing activity
        ("HS2", "Tiếp nhận", "", "Bộ phận một cửa"),  # missing timestamp
        ("HS2", "Tiếp nhận", "31/02/2024 10:00", "Bộ phận một cửa"),  # unparseable
        ("HS2", "Tiếp nhận", "hôm qua", "Bộ phận một cửa"),  # unparseable
        ("HS2", "Tiếp nhận", "05/03/2024 10:00", "EMPTY"),  # kept, no department
        ("HS2", "Trình ký", "05/03/2024 10:00", "-"),  # kept (tie in time)
        (" HS1 ", "Thẩm  định", "02/03/2024 09:00", "Phòng Tài chính"),  # duplicate once clean
        ("HS2", "Tiếp nhận", "05/03/2024 10:00", None),  # duplicate of row 11
        ("HS1", "Lưu hồ sơ", "01/03/2024 07:00", "Văn thư"),  # kept, earlier time
    ]
    return pd.DataFrame(rows, columns=["Mã hồ sơ", "Bước xử lý", "Thời điểm", "Phòng ban"])


# What dirty_export() holds, reason by reason (counted by hand from its rows).
DIRTY_REASONS = {
    "malformed row": 0,
    "missing case id": 2,
    "missing activity": 2,
    "missing timestamp": 1,
    "unparseable timestamp": 2,
    "transfer without a sender": 0,
    "transfer without a recipient": 0,
    "exact duplicate": 3,
}
# The (case, activity) rows it keeps: cases in order of first appearance, each by time, export
# order for ties.
DIRTY_KEPT = [
    ["HS1", "Lưu hồ sơ"],
    ["HS1", "Tiếp nhận"],
    ["HS1", "Thẩm định"],
    ["HS2", "Tiếp nhận"],
    ["HS2", "Trình ký"],
]


def test_dirty_file_counts_reason_by_reason(tmp_path):
    path = tmp_path / "dirty.csv"
    dirty_export().to_csv(path, index=False)
    log = read_log(path)
    report = load_report(log)
    assert report["quarantined_by_reason"] == DIRTY_REASONS
    assert (report["rows_read"], report["rows_kept"], report["rows_quarantined"]) == (15, 5, 10)
    assert report["rows_read"] == report["rows_kept"] + report["rows_quarantined"]
    quarantine = report["quarantine"]
    assert quarantine["source_row"].tolist() == [3, 4, 5, 6, 7, 8, 9, 10, 13, 14]
    assert quarantine["reason"].value_counts().to_dict() == {
        k: v for k, v in report["quarantined_by_reason"].items() if v
    }
    assert quarantine.loc[quarantine["source_row"] == 13, "Bước xử lý"].item() == "Thẩm  định"
    assert list(quarantine.columns) == [
        "reason",
        "source_row",
        "Mã hồ sơ",
        "Bước xử lý",
        "Thời điểm",
        "Phòng ban",
    ]
    # Cases in order of first appearance, each by time, export order for the tie.
    assert log[[CASE, ACT]].values.tolist() == DIRTY_KEPT
    assert log[DEPT].isna().tolist() == [False, False, False, True, True]
    assert report["missing_department"] == 2


@pytest.mark.parametrize("halves", [False, True])
def test_case_ids_hashed_whole_or_in_halves_give_the_same_log(monkeypatch, halves):
    import procmine.log.parallel

    if halves:  # long columns are hashed in two halves, then merged: force it on 15 rows
        monkeypatch.setattr(procmine.log.parallel, "_PARALLEL_ROWS", 2)
    log = read_log(dirty_export())  # object columns: hashed by Arrow, not read as categories
    report = load_report(log)
    assert report["quarantined_by_reason"] == DIRTY_REASONS
    # " HS1 " first appears in the second half and still merges into HS1.
    assert log[[CASE, ACT]].values.tolist() == DIRTY_KEPT
    assert report["cases"] == 2
    # "" (case), "" and "NULL" (step), "EMPTY" and "-" (department); None is no value to null.
    assert report["missing_values_nulled"] == {CASE: 1, ACT: 2, DEPT: 2}


def test_ties_keep_export_order_and_cases_first_appearance():
    frame = pd.DataFrame(
        {
            "case": ["B", "A", "B", "A", "B", "B"],
            "activity": ["b3", "a1", "b1", "a2", "b2", "b0"],
            "timestamp": [
                "2024-01-03",
                "2024-01-01",
                "2024-01-02",
                "2024-01-01",
                "2024-01-02",
                "2024-01-01",
            ],
        }
    )
    log = read_log(frame)
    assert log[ACT].tolist() == ["b0", "b1", "b2", "b3", "a1", "a2"]


def test_malformed_csv_rows_are_quarantined_with_their_text(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text(
        "Mã hồ sơ,Bước xử lý,Thời điểm,Phòng ban\n"
        "HS1,Tiếp nhận,01/03/2024 08:00,Một cửa\n"
        "HS1,Thẩm định,02/03/2024 09:00\n"  # a field short
        'HS2,"Tiếp nhận\nlại",03/03/2024 10:00,Một cửa\n'  # a quoted line break: fine
        "HS2,Duyệt,04/03/2024 10:00,Lãnh đạo,thừa\n"  # a field too many
        ",Duyệt,05/03/2024 10:00,Lãnh đạo\n",  # missing case id
        encoding="utf-8",
    )
    log = read_log(path)
    report = load_report(log)
    assert log[[CASE, ACT]].values.tolist() == [["HS1", "Tiếp nhận"], ["HS2", "Tiếp nhận lại"]]
    assert report["quarantined_by_reason"] == {r: 0 for r in REASONS} | {
        "malformed row": 2,
        "missing case id": 1,
    }
    assert (report["rows_read"], report["rows_kept"], report["rows_quarantined"]) == (5, 2, 3)
    quarantine = report["quarantine"]
    assert quarantine["source_row"].tolist() == [2, 4, 5]
    assert quarantine["reason"].tolist() == ["malformed row", "malformed row", "missing case id"]
    assert quarantine["row_text"].tolist()[:2] == [
        "HS1,Thẩm định,02/03/2024 09:00",
        "HS2,Duyệt,04/03/2024 10:00,Lãnh đạo,thừa",
    ]
    assert quarantine.loc[2, "Bước xử lý"] == "Duyệt"


def test_order_matches_a_lexicographic_sort():
    rng = np.random.default_rng(3)
    # Unsorted, time-sorted (the order-by-case shortcut) and already in case-time order.
    for cases, layout in ((5, "any"), (70_000, "any"), (300, "by time"), (300, "by case")):
        codes = rng.integers(0, cases, 5_000).astype(np.int32)
        stamps = rng.integers(0, 50, 5_000).astype(np.int64)  # many ties
        if layout == "by time":
            stamps.sort()
        if layout == "by case":
            codes.sort()
            stamps = stamps[np.lexsort((stamps, codes))]
        first_seen = pd.factorize(codes)[0]
        expected = np.lexsort((np.arange(len(codes)), stamps, first_seen))
        # Codes that already are first-appearance ranks give the same order without re-ranking.
        for keys, ranked in ((codes, False), (first_seen.astype(np.int32), True)):
            order, ranks, times = _case_time_order(keys, stamps, ranked=ranked)
            assert order.tolist() == expected.tolist()
            assert ranks.tolist() == first_seen[expected].tolist()
            assert times.tolist() == stamps[expected].tolist()
        order, sizes = _stable_argsort(codes)
        assert order.tolist() == np.argsort(codes, kind="stable").tolist()
        assert sizes.tolist() == np.bincount(codes).tolist()


def test_gathers_in_halves_are_writable_and_exact(monkeypatch):
    import procmine.log.parallel

    values = np.arange(100, 111, dtype=np.int64)
    order = np.array([10, 0, 5, 5, 3, 9, 1])
    monkeypatch.setattr(procmine.log.parallel, "_PARALLEL_ROWS", 2)  # the two-core path on 7 rows
    gathered = gather(values, order)
    assert gathered.tolist() == [110, 100, 105, 105, 103, 109, 101]
    assert gathered.flags.writeable
    # The time column built from them stays an ordinary, editable pandas column.
    frame = pd.DataFrame(
        {CASE: ["b", "a", "b", "a"], ACT: ["x"] * 4, TS: ["02/01/2024", "01/01/2024"] * 2}
    )
    log = read_log(frame)
    assert log[TS].dtype == "datetime64[us, Asia/Ho_Chi_Minh]"
    assert log[TS].array._ndarray.flags.writeable
    log.loc[0, TS] = pd.Timestamp("2025-05-05", tz="Asia/Ho_Chi_Minh")
    assert str(log.loc[0, TS]) == "2025-05-05 00:00:00+07:00"


@pytest.mark.parametrize("clean", [True, False])
def test_codes_of_clean_and_dirty_text(clean):
    # Clean text skips the second hashing; dirty text merges variants and nulls tokens.
    raw = ["Tiếp nhận", "Thẩm định", "Tiếp nhận", None, "Trình ký"]
    if not clean:
        raw += [" Tiếp  nhận ", unicodedata.normalize("NFD", "Thẩm định"), "NULL"]
    coded = encode_text(pd.Series(raw, dtype=object), ["NULL"])
    dictionary, codes, nulled, first_seen, by_value = coded
    assert dictionary.to_pylist() == ["Tiếp nhận", "Thẩm định", "Trình ký"]
    assert codes.tolist() == [0, 1, 0, -1, 2] + ([] if clean else [0, 1, -1])
    assert nulled == (0 if clean else 1)
    assert by_value == ({} if clean else {"NULL": 1})
    assert first_seen


def test_text_columns_built_from_codes_are_exact_str_columns():
    import pyarrow as pa

    # Rows that hold the longer values: more text than Arrow's size estimate (padding case).
    dictionary = pa.array(["a", "Phòng Lao động - Thương binh và Xã hội", "bb"], pa.large_string())
    codes = np.array([1, 1, -1, 0, 1, 2, 1], dtype=np.int32)
    column = materialise(dictionary, codes)
    expected = [dictionary[c].as_py() if c >= 0 else None for c in codes]
    assert [None if pd.isna(v) else v for v in column.tolist()] == expected
    assert column.dtype == pd.StringDtype(na_value=np.nan)  # pandas' "str", not categorical
    assert column.dtype == "str"
    # No padding value leaks in when the estimate already suffices, nor with no nulls.
    assert materialise(dictionary, np.array([0, 2], dtype=np.int32)).tolist() == ["a", "bb"]


def test_text_columns_taken_at_an_order_are_the_gathered_values():
    import pyarrow as pa

    dictionary = pa.array(["a", "Phòng Lao động - Thương binh và Xã hội", "bb"], pa.large_string())
    codes = np.array([0, 1, -1, 0, 1, 2, 0], dtype=np.int32)
    # A subset in a new order, holding mostly the long value (the padding case) and a null.
    order = np.array([4, 2, 1, 6], dtype=np.int64)
    column = materialise(dictionary, codes, pa.array(order))
    assert [None if pd.isna(v) else v for v in column.tolist()] == [
        "Phòng Lao động - Thương binh và Xã hội",
        None,
        "Phòng Lao động - Thương binh và Xã hội",
        "a",
    ]
    assert column.dtype == "str"
    assert materialise(dictionary, codes, pa.array(np.zeros(0, np.int64))).tolist() == []


def test_receipt_log_goes_straight_into_pm4py(shared_datasets):
    import sys

    sys._pm4py_welcome_shown = True
    import pm4py

    path = shared_datasets / "receipt.csv.gz"
    log = read_log(path)
    own = pm4py.format_dataframe(
        pd.read_csv(path), case_id=CASE, activity_key=ACT, timestamp_key=TS
    )
    assert pm4py.discover_dfg(log) == pm4py.discover_dfg(own)
    start = pm4py.discover_dfg(log)[1]
    assert sum(start.values()) == own[CASE].nunique() == 1434


# ------------------------------------------------------------------ the agencies' re-export


def reexport(log: pd.DataFrame, tmp_path: Path) -> list[Path]:
    """The canonical log written the way agencies export it, in two encodings."""
    headers = {
        CASE: "Mã hồ sơ",
        ACT: "Bước xử lý",
        TS: "Thời điểm",
        DEPT: "Đơn vị xử lý",
        RES: "Người xử lý",
        schema.PROCEDURE: "Tên thủ tục",
        schema.DEADLINE: "Hạn xử lý",
    }
    export = log.rename(columns=headers)
    export["Thời điểm"] = log[TS].dt.tz_convert(TZ).dt.strftime("%d/%m/%Y %H:%M:%S")
    if "Hạn xử lý" in export:
        export["Hạn xử lý"] = (
            log[schema.DEADLINE].dt.tz_convert(TZ).dt.strftime("%d/%m/%Y %H:%M:%S")
        )
    odd = export.index % 3 == 0  # some names typed with a decomposing input method
    for column in ("Bước xử lý", "Đơn vị xử lý"):
        if column in export:
            nfd = export[column].dropna().map(lambda v: unicodedata.normalize("NFD", v))
            export.loc[odd & export[column].notna(), column] = nfd[odd[nfd.index]]
    text = export.to_csv(index=False)
    bom, legacy = tmp_path / "export-utf8.csv", tmp_path / "export-cp1258.csv"
    bom.write_bytes(text.encode("utf-8-sig"))
    legacy.write_bytes(cp1258_bytes(text))
    return [bom, legacy]


def synthetic_log(cases: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    steps = ["Tiếp nhận hồ sơ", "Thẩm định", "Trình ký", "Phê duyệt", "Trả kết quả"]
    units = [
        "Bộ phận một cửa",
        "Phòng Tài nguyên và Môi trường",
        "Phòng Tư pháp",
        "Lãnh đạo UBND",
        "Văn phòng HĐND và UBND",
    ]
    case = np.repeat([f"HS-{i:05d}" for i in range(cases)], len(steps))
    start = np.datetime64("2024-03-01T07:30") + rng.integers(0, 60 * 24 * 90, cases).astype(
        "timedelta64[m]"
    )
    offsets = np.cumsum(rng.integers(1, 3000, (cases, len(steps))), axis=1) * 60
    stamps = np.repeat(start, len(steps)) + offsets.ravel().astype("timedelta64[s]")
    frame = pd.DataFrame(
        {
            CASE: case,
            ACT: np.tile(steps, cases),
            TS: stamps,
            DEPT: np.tile(units, cases),
            RES: rng.choice(["Nguyễn Văn An", "Trần Thị Bình"], case.size),
        }
    )
    frame.loc[rng.random(len(frame)) < 0.05, DEPT] = None
    return read_log(frame)


def test_synthetic_reexport_loads_into_the_same_log(tmp_path):
    original = synthetic_log()
    for path in reexport(original, tmp_path):
        pd.testing.assert_frame_equal(read_log(path), original)


def test_sample_reexport_loads_into_the_same_log(tmp_path):
    sample = REPO / "datasets" / "sample_log.csv.gz"
    if not sample.exists():
        pytest.skip("datasets/sample_log.csv.gz not generated yet (procmine.datasets)")
    original = read_log(sample)
    for path in reexport(original, tmp_path):
        pd.testing.assert_frame_equal(read_log(path), original)


# ----------------------------------------------------------------------------- properties

CELLS = {
    "case": st.sampled_from(["HS1", "HS2", " HS1", "hs3", "", None, "EMPTY"]),
    "step": st.sampled_from(
        ["Tiếp nhận", unicodedata.normalize("NFD", "Tiếp nhận"), "Duyệt", "", None, "-"]
    ),
    "time": st.sampled_from(
        [
            "01/03/2024 08:00",
            "01/03/2024 08:00:00",
            "02/03/2024 09:30",
            "31/02/2024",
            "2024-03-01T08:00:00+07:00",
            "",
            None,
            "x",
        ]
    ),
    "unit": st.sampled_from(["Phòng A", "Phòng  A", "EMPTY", None, "Phòng B"]),
}
row_lists = st.lists(st.tuples(*CELLS.values()), min_size=1, max_size=40)


def expected_reasons(frame: pd.DataFrame) -> list[str] | None:
    """One reason (or '') per row, computed row by row in plain Python; None when fewer than
    half of the filled time cells are date-times (no usable timestamp column)."""

    def clean(value):
        if value is None:
            return None
        text = " ".join(unicodedata.normalize("NFC", value).split())
        return None if text in MISSING_VALUES else text

    def stamp(value):
        for fmt in ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y", "%Y-%m-%dT%H:%M:%S%z"):
            try:
                parsed = datetime.strptime(value, fmt)
                return parsed.replace(tzinfo=None) if parsed.tzinfo else parsed
            except (TypeError, ValueError):
                continue
        return None

    seen, reasons = set(), []
    filled = [t for t in frame.iloc[:, 2] if t is not None and t.strip()]
    if not filled or sum(stamp(t) is not None for t in filled) < 0.5 * len(filled):
        return None  # not a usable timestamp column: the load must fail
    for case, step, time, unit in frame.itertuples(index=False):
        if clean(case) is None:
            reasons.append("missing case id")
        elif clean(step) is None:
            reasons.append("missing activity")
        elif clean(time) is None:
            reasons.append("missing timestamp")
        elif stamp(time) is None:
            reasons.append("unparseable timestamp")
        else:
            key = (clean(case), clean(step), stamp(time), clean(unit))
            reasons.append("exact duplicate" if key in seen else "")
            seen.add(key)
    return reasons


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=row_lists)
def test_property_counts_add_up_and_loading_is_idempotent(rows, tmp_path_factory):
    frame = pd.DataFrame(
        rows, columns=["Mã hồ sơ", "Tên bước", "Ngày giờ xử lý", "Đơn vị"], dtype=object
    )
    expected = expected_reasons(frame)
    if expected is None:
        with pytest.raises(schema.MissingColumnError, match="'Ngày giờ xử lý' was not taken"):
            read_log(frame)
        return
    log = read_log(frame)
    report = load_report(log)
    assert report["rows_read"] == len(frame) == report["rows_kept"] + report["rows_quarantined"]
    assert report["quarantined_by_reason"] == {r: expected.count(r) for r in REASONS}
    assert report["rows_kept"] == expected.count("") == len(log)
    assert sum(report["quarantined_by_reason"].values()) == report["rows_quarantined"]
    # Loading a written-out canonical log gives the same log back.
    if len(log):
        path = tmp_path_factory.mktemp("idempotent") / "log.csv"
        log.to_csv(path, index=False)
        pd.testing.assert_frame_equal(read_log(path), log)
        pd.testing.assert_frame_equal(read_log(log), log)


def test_detect_encoding():
    assert detect_encoding("Bước xử lý".encode()) == "utf-8"
    assert detect_encoding(cp1258_bytes("Bước xử lý, Phòng Tư pháp")) == "cp1258"
    assert detect_encoding("Bước".encode("utf-16")) == "utf-16"


# ----------------------------------------------------------------- the log's own clock (#15)


def small_log(stamps: list, **columns) -> pd.DataFrame:
    """A log of one case, one step per stamp, with any other ``columns``."""
    n = len(stamps)
    return pd.DataFrame(
        {"case": ["c1"] * n, "activity": [f"a{i}" for i in range(n)], "time": stamps, **columns}
    )


def test_receipt_log_keeps_its_dutch_clock(shared_datasets):
    path = shared_datasets / "receipt.csv.gz"
    log = read_log(path)
    report = load_report(log)
    assert report["timezone"] == "Europe/Amsterdam" and report["timezone_source"] == "offsets"
    assert report["utc_offsets"] == ["+01:00", "+02:00"]
    assert "inferred from the stamps' UTC offsets" in report["clock"]
    assert "timezone=" in report["clock"]
    assert report["calendar"] == WorkCalendar(country=None, timezone="Europe/Amsterdam")
    assert report["calendar"].country is None
    (warning,) = [w for w in report["warnings"] if "country=" in w]
    assert "pm.WorkCalendar(country='NL', timezone='Europe/Amsterdam')" in warning
    # Wall-clock time as written (13:45:40+02:00), not moved to Vietnam's 18:45.
    assert str(log[TS].dtype) == "datetime64[us, Europe/Amsterdam]"
    assert str(log[TS].iloc[0]) == "2011-10-11 13:45:40.276000+02:00"
    # The deadline column is in the log's zone too.
    assert str(log[schema.DEADLINE].dtype) == "datetime64[us, Europe/Amsterdam]"


def test_receipt_log_with_its_country_or_another_zone(shared_datasets):
    path = shared_datasets / "receipt.csv.gz"
    dutch = load_report(read_log(path, country="NL"))
    assert dutch["calendar"] == WorkCalendar(country="NL", timezone="Europe/Amsterdam")
    assert not any("country=" in w for w in dutch["warnings"])
    log = read_log(path, timezone=TZ)  # timezone= overrides the zone the offsets imply
    report = load_report(log)
    assert (report["timezone"], report["timezone_source"]) == (TZ, "timezone=")
    assert report["calendar"] == WorkCalendar()
    assert str(log[TS].dtype) == f"datetime64[us, {TZ}]"
    assert log[TS].iloc[0] == pd.Timestamp("2011-10-11 13:45:40.276+02:00")


def test_vietnamese_offsets_naive_stamps_and_utc_keep_the_default_clock():
    for stamps in (
        ["2024-03-01T08:00:00+07:00", "2024-07-01T08:00:00+07:00"],
        ["01/03/2024 08:00", "01/07/2024 08:00"],
    ):
        report = load_report(read_log(small_log(stamps)))
        assert report["calendar"] == WorkCalendar() and report["timezone"] == TZ
        assert report["warnings"] == [f"{schema_no_department()}"]
    utc = load_report(read_log(small_log(["2024-03-01T01:00:00Z", "2024-07-01T01:00:00+00:00"])))
    assert utc["calendar"] == WorkCalendar() and utc["timezone_source"] == "default"
    assert any("UTC (+00:00)" in w and "timezone=" in w for w in utc["warnings"])


def schema_no_department() -> str:
    return (
        "no department column: handoff and ping-pong figures are unavailable; name yours with "
        "mapping={'your column': 'org:group'}."
    )


@pytest.mark.parametrize(
    ("stamps", "zone"),
    [
        (["2024-01-15T09:00:00+01:00", "2024-07-15T09:00:00+02:00"], "Europe/Amsterdam"),
        (["2024-01-15T09:00:00+00:00", "2024-07-15T09:00:00+01:00"], "Europe/"),
        (["2024-01-15T09:00:00-05:00", "2024-07-15T09:00:00-04:00"], "America/"),
        (["2024-01-15T09:00:00+11:00", "2024-07-15T09:00:00+10:00"], "Australia/"),
        (["2024-01-15T09:00:00+05:30", "2024-07-15T09:00:00+05:30"], "Asia/"),
    ],
)
def test_a_zone_is_inferred_whose_offsets_are_the_stamps(stamps, zone):
    log = read_log(small_log(stamps))
    report = load_report(log)
    assert report["timezone"].startswith(zone) and report["timezone_source"] == "offsets"
    # The zone found has the stamps' own offsets: wall-clock 09:00 stays 09:00.
    assert [t.strftime("%H:%M") for t in log[TS]] == ["09:00", "09:00"]
    assert report["calendar"] == WorkCalendar(country=None, timezone=report["timezone"])
    assert any("pm.WorkCalendar(country=" in w for w in report["warnings"])


def test_naive_stamps_beside_offsets_are_taken_in_the_inferred_zone():
    log = read_log(small_log(["2024-06-03T09:00:00+02:00", "2024-12-02T09:00:00+01:00",
                              "04/06/2024 10:00"]))  # fmt: skip
    assert load_report(log)["timezone"] == "Europe/Amsterdam"
    assert str(log[TS].iloc[-1]) == "2024-12-02 09:00:00+01:00"
    assert str(log[TS].iloc[1]) == "2024-06-04 10:00:00+02:00"  # 10:00 in Amsterdam, naive


def test_a_named_zone_is_kept_and_a_bad_zone_or_country_refused():
    stamps = pd.to_datetime(["2024-06-03 09:00", "2024-06-04 10:00"]).tz_localize("Europe/Rome")
    report = load_report(read_log(small_log(list(stamps))))
    assert (report["timezone"], report["timezone_source"]) == ("Europe/Rome", "stamps")
    report = load_report(read_log(small_log(stamps)))
    assert report["calendar"] == WorkCalendar(country=None, timezone="Europe/Rome")
    utc = load_report(read_log(small_log(stamps.tz_convert("UTC"))))
    assert utc["timezone"] == TZ  # UTC names no office's zone: the default clock, said so
    with pytest.raises(CalendarError, match="IANA zone"):
        read_log(small_log(["2024-06-03 09:00"]), timezone="Mars/Base")
    with pytest.raises(CalendarError, match="not known to the holidays package"):
        read_log(small_log(["2024-06-03 09:00"]), country="XX")


def test_infer_timezone_prefers_europe_then_alphabetical():
    summer = pd.Timestamp("2011-07-01 10:00", tz="UTC").value
    winter = pd.Timestamp("2011-12-01 10:00", tz="UTC").value
    offsets = Offsets(instants=np.array([summer, winter]), minutes=np.array([120, 60]))
    assert infer_timezone(offsets) == ("Europe/Amsterdam", "NL")
    # A summer-only sample fits central Europe too (+02:00 in summer), before any other region.
    assert infer_timezone(Offsets(instants=np.array([summer]), minutes=np.array([120])))[0] == (
        "Europe/Amsterdam"
    )
    # Offsets no zone has at those dates: none.
    odd = Offsets(instants=np.array([summer, winter]), minutes=np.array([60 * 9 + 17, 60]))
    assert infer_timezone(odd) == (None, None)


# ------------------------------------------------------------- the department column (#15)


def test_org_role_is_the_department_and_the_report_says_so():
    log = read_log(small_log(["2024-06-03 09:00", "2024-06-04 10:00"], **{"org:role": ["A", "B"]}))
    report = load_report(log)
    assert log[DEPT].tolist() == ["A", "B"]
    assert (report["department_column"], report["department_alternatives"]) == ("org:role", [])
    assert report["mapping"]["org:role"] == DEPT
    both = small_log(["2024-06-03 09:00"], **{"org:role": ["A"], "Phòng ban": ["P"]})
    both["org:group"] = "G"
    report = load_report(read_log(both))
    assert report["department_column"] == "org:group"
    assert report["department_alternatives"] == ["org:role", "Phòng ban"]


def test_no_department_column_is_said():
    report = load_report(read_log(small_log(["2024-06-03 09:00"])))
    assert report["department_column"] is None and report["missing_department"] is None
    assert any(w.startswith(NO_DEPARTMENT) for w in report["warnings"])
    assert NO_DEPARTMENT == "no department column: handoff and ping-pong figures are unavailable"


def test_a_mapping_onto_a_name_that_is_not_canonical_is_an_error():
    frame = small_log(["2024-06-03 09:00"], **{"org:role": ["A"]})
    with pytest.raises(ValueError, match="not a canonical column") as caught:
        read_log(frame, mapping={"org:role": "department"})
    message = str(caught.value)
    assert "did you mean 'org:group'?" in message
    assert all(name in message for name in schema.CANONICAL)
    with pytest.raises(ValueError, match="2 headers onto 'org:group'"):
        read_log(frame.assign(unit="u"), mapping={"org:role": DEPT, "unit": DEPT})


def test_an_explicit_mapping_wins_over_a_column_of_that_name():
    frame = small_log(["2024-06-03 09:00", "2024-06-04 10:00"], **{"org:role": ["A", "B"]})
    frame["org:group"] = ["G", "G"]
    log = read_log(frame, mapping={"org:role": "org:group"})
    report = load_report(log)
    assert log[DEPT].tolist() == ["A", "B"]
    assert log["export:org:group"].tolist() == ["G", "G"]  # the export's own, kept aside
    assert report["department_column"] == "org:role"
    assert any("kept as 'export:org:group'" in w for w in report["warnings"])
    # The reverse direction is the same mapping.
    assert read_log(frame, mapping={"org:group": "org:role"})[DEPT].tolist() == ["A", "B"]


def test_common_placeholders_are_null_and_counted_per_value():
    units = ["UNDEFINED", "MISSING", "?", "N/A", "n/a", "NA", "none", "unknown", "EMPTY", "P"]
    people = ["?", "?", "An", "unknown", "-", "NaN", "null", "An", "An", "An"]
    frame = small_log([f"0{i}/03/2024 08:00" for i in range(1, 10)] + ["10/03/2024 08:00"])
    frame["Đơn vị xử lý"], frame["Người xử lý"] = units, people
    log = read_log(frame)
    report = load_report(log)
    assert len(log) == 10 and log[DEPT].tolist()[-1] == "P" and log[DEPT].isna().sum() == 9
    assert report["missing_values_nulled"][DEPT] == 9
    assert report["missing_values_by_value"][DEPT] == {value: 1 for value in sorted(units[:-1])}
    assert report["missing_values_by_value"][RES] == {"?": 2, "-": 1, "NaN": 1, "null": 1,
                                                       "unknown": 1}  # fmt: skip
    assert CASE not in report["missing_values_by_value"]
    kept = read_log(frame, missing_values=("EMPTY",))  # configurable as before
    assert kept[DEPT].isna().sum() == 1 and load_report(kept)["missing_values_by_value"] == {
        DEPT: {"EMPTY": 1}
    }


# ------------------------------------------------------------- faults as errors (#15)

XES_EVENT = (
    '<event><string key="concept:name" value="{step}"/>{more}'
    '<date key="time:timestamp" value="{stamp}"/></event>'
)


def xes_text(events: list[str], header: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0" '
        f'xmlns="http://www.xes-standard.org/">{header}<trace><string key="concept:name" '
        f'value="c1"/>{"".join(events)}</trace></log>\n'
    )


def xes_events(n: int = 3, more: str = "") -> list[str]:
    return [
        XES_EVENT.format(step=f"a{i}", stamp=f"2020-03-0{i + 2}T09:00:00.000+01:00", more=more)
        for i in range(n)
    ]


def test_truncated_empty_and_non_xml_xes_are_clear_errors(tmp_path, capfd):
    whole = gzip.compress(xes_text(xes_events(2000)).encode())
    truncated = tmp_path / "cut.xes.gz"
    truncated.write_bytes(whole[: len(whole) // 2])
    empty, text = tmp_path / "empty.xes", tmp_path / "text.xes"
    empty.write_bytes(b"")
    text.write_text("hello, this is not XML\n")
    for path, message in [
        (truncated, "cut.xes.gz is not a readable XES file: the gzip stream ends early"),
        (empty, "empty.xes is empty"),
        (text, "text.xes is not a readable XES file: it is not well-formed XML"),
    ]:
        with pytest.raises(LogReadError, match=re.escape(message)):
            read_log(path)
    assert "panicked" not in capfd.readouterr().err  # no Rust backtrace on stderr


def test_readable_xes_the_fast_reader_refuses_is_read_in_python(tmp_path):
    prefixed = xes_text(xes_events()).replace(
        "<log ", "<x:log xmlns:x='http://www.xes-standard.org/' "
    )
    for tag in ("trace", "event", "string", "date"):
        prefixed = prefixed.replace(f"<{tag} ", f"<x:{tag} ").replace(f"<{tag}>", f"<x:{tag}>")
        prefixed = prefixed.replace(f"</{tag}>", f"</x:{tag}>")
    prefixed = prefixed.replace("</log>", "</x:log>")
    path = tmp_path / "prefixed.xes"
    path.write_text(prefixed)
    log = read_log(path)
    report = load_report(log)
    assert log[ACT].tolist() == ["a0", "a1", "a2"] and log[CASE].tolist() == ["c1"] * 3
    assert report["reader"] == "xml.etree" and report["timezone"] == "Europe/Amsterdam"
    assert any("did not take the file" in w for w in report["warnings"])
    assert str(log[TS].iloc[0]) == "2020-03-02 09:00:00+01:00"


def test_an_xes_event_without_its_timestamp_is_quarantined(tmp_path):
    default = (
        '<global scope="event"><date key="time:timestamp" value="1970-01-01T00:00:00.000+01:00"/>'
        "</global>"
    )
    events = xes_events(3)
    events.insert(1, '<event><string key="concept:name" value="no time"/></event>')
    path = tmp_path / "log.xes"
    for header in (default, ""):  # with the file's global default stamp, and without one
        path.write_text(xes_text(events, header))
        log = read_log(path)
        report = load_report(log)
        assert report["quarantined_by_reason"]["missing timestamp"] == 1
        assert report["quarantine"]["concept:name"].tolist() == ["no time"]
        assert log[TS].min() > pd.Timestamp("2000-01-01", tz="UTC")  # never 1970-01-01
        assert len(log) == 3


def test_the_fast_readers_messages_go_to_the_report_not_stderr(tmp_path, capfd):
    pytest.importorskip("rustxes")
    events = xes_events(2, more='<int key="x" value="3"/>')
    events.append(XES_EVENT.format(step="b", stamp="2020-03-09T09:00:00+01:00",
                                   more='<string key="x" value="abc"/>'))  # fmt: skip
    path = tmp_path / "mixed.xes"
    path.write_text(xes_text(events))
    capfd.readouterr()
    report = load_report(read_log(path))
    assert report["reader"] == "rustxes"
    assert any("Attribute x contains values of different dtypes" in w for w in report["warnings"])
    assert capfd.readouterr().err == ""


def test_rust_panics_are_told_apart_from_interrupts():
    try:
        import rustxes
    except ImportError:
        pytest.skip("rustxes is not installed")
    with pytest.raises(BaseException) as caught:
        rustxes.import_xes("/nonexistent/file.xes")
    assert is_rust_panic(caught.value) and not isinstance(caught.value, Exception)
    assert not is_rust_panic(KeyboardInterrupt())


def test_a_csv_with_a_header_and_no_rows_says_so(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("Mã hồ sơ,Bước xử lý,Thời điểm\n", encoding="utf-8")
    with pytest.raises(LogReadError, match="has no data rows") as caught:
        read_log(path)
    assert "date-times" not in str(caught.value)
    (tmp_path / "blank.csv").write_bytes(b"")
    with pytest.raises(LogReadError, match=r"blank\.csv is empty"):
        read_log(tmp_path / "blank.csv")
    with pytest.raises(LogReadError, match="no data rows"):
        read_log(vietnamese_export().iloc[:0])
