"""The approved-procedure catalog: CSV/YAML/XLSX, Vietnamese headers, warnings and errors."""

from __future__ import annotations

import unicodedata
import warnings
from pathlib import Path

import pandas as pd
import pytest
import yaml

from procmine.catalog import CatalogError, read_catalog, validate_catalog, write_catalog
from test_log import cp1258_bytes

VP = "Văn phòng HĐND và UBND"
TC = "Phòng Tài chính - Kế hoạch"
TP = "Phòng Tư pháp"
BUDGET = "Thẩm định dự toán ngân sách"
DECREE = "Thẩm định dự thảo văn bản"

# The same two procedures, as an analyst would type them with Vietnamese headers.
VIETNAMESE_ROWS = [
    # Thủ tục, Bước, Tên bước, Đơn vị, Thời hạn (ngày làm việc), Thời gian chuẩn (phút), Ngạch
    (BUDGET, 1, "Tiếp nhận hồ sơ", TC, "5", "15", "Văn thư"),
    (BUDGET, 2, "Thẩm định dự toán", TC, "5", "240", "Chuyên viên chính"),
    (BUDGET, 3, "Phê duyệt", VP, "5", "20", "Phó Chủ tịch"),
    (DECREE, 1, "Tiếp nhận hồ sơ", VP, "7,5", "15", "Văn thư"),
    (DECREE, 2, "Thẩm định dự thảo", TP, "7,5", "300", "Chuyên viên chính"),
    (DECREE, 3, "Ký ban hành", VP, "7,5", "20", "Chủ tịch"),
]
VIETNAMESE_HEADERS = [
    "Thủ tục", "Bước", "Tên bước", "Đơn vị", "Thời hạn (ngày làm việc)",
    "Thời gian chuẩn (phút)", "Ngạch",
]  # fmt: skip


def expected_catalog() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "procedure": [BUDGET] * 3 + [DECREE] * 3,
            "step": [1, 2, 3, 1, 2, 3],
            "activity": [r[2] for r in VIETNAMESE_ROWS],
            "department": [r[3] for r in VIETNAMESE_ROWS],
            "deadline_working_days": [5.0] * 3 + [7.5] * 3,
            "standard_minutes": [15.0, 240.0, 20.0, 15.0, 300.0, 20.0],
            "grade": [r[6] for r in VIETNAMESE_ROWS],
        }
    ).astype({"procedure": "str", "activity": "str", "department": "str", "grade": "str"})


def assert_catalog(catalog: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        catalog.reset_index(drop=True), expected_catalog(), check_dtype=False
    )
    assert catalog["step"].dtype == "int64"
    assert catalog["deadline_working_days"].dtype == "float64"
    assert catalog.attrs["warnings"] == []


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def test_csv_with_vietnamese_headers_bom_semicolons_and_decomposed_text(tmp_path: Path) -> None:
    lines = [";".join(VIETNAMESE_HEADERS)]
    for row in VIETNAMESE_ROWS:
        # Decomposed Unicode and stray spaces, as another input method leaves them.
        lines.append(";".join(f"  {nfd(str(v))} " for v in row))
    path = tmp_path / "catalog.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    catalog = read_catalog(path)
    assert_catalog(catalog)
    assert catalog["activity"].iloc[1] == unicodedata.normalize("NFC", "Thẩm định dự toán")


def test_csv_in_windows_1258_reads_like_utf_8(tmp_path: Path) -> None:
    # Windows-1258 (older Vietnamese systems, Excel's "CSV" on a Vietnamese Windows) writes tone
    # marks as combining characters: detected as a log's encoding is, read as NFC text.
    note = "Ghi chú"  # a column kept as it is
    lines = [";".join([*VIETNAMESE_HEADERS, note])]
    lines += [";".join([*map(str, row), "Đã rà soát"]) for row in VIETNAMESE_ROWS]
    text = "\n".join(lines) + "\n"
    utf8, legacy = tmp_path / "catalog-utf8.csv", tmp_path / "catalog-cp1258.csv"
    utf8.write_text(text, encoding="utf-8")
    legacy.write_bytes(cp1258_bytes(text))
    catalog = read_catalog(legacy)
    pd.testing.assert_frame_equal(catalog, read_catalog(utf8))
    assert_catalog(catalog.drop(columns=note))
    assert catalog[note].tolist() == ["Đã rà soát"] * 6
    texts = [*catalog.columns, *catalog[["procedure", "activity", "department", note]].stack()]
    assert all(unicodedata.is_normalized("NFC", text) for text in texts)


def test_english_headers_from_a_dataframe_keep_extra_columns() -> None:
    frame = expected_catalog().assign(note=["a", "b", "c", "d", "e", "f"])
    catalog = read_catalog(frame)
    assert list(catalog.columns) == [*expected_catalog().columns, "note"]
    assert_catalog(catalog.drop(columns="note"))


def test_yaml_list_of_rows_and_procedure_mapping(tmp_path: Path) -> None:
    rows = [dict(zip(VIETNAMESE_HEADERS, row, strict=True)) for row in VIETNAMESE_ROWS]
    listed = tmp_path / "rows.yaml"
    listed.write_text(yaml.safe_dump(rows, allow_unicode=True), encoding="utf-8")
    assert_catalog(read_catalog(listed))

    mapping = {
        BUDGET: {
            "deadline_working_days": 5,
            "steps": [
                {"activity": r[2], "department": r[3], "standard_minutes": int(r[5]),
                 "grade": r[6]}
                for r in VIETNAMESE_ROWS[:3]
            ],
        },
        DECREE: {
            "thời hạn": 7.5,  # Vietnamese keys work at both levels
            "các bước": [
                {"tên bước": r[2], "đơn vị": r[3], "thời gian chuẩn": int(r[5]), "ngạch": r[6]}
                for r in VIETNAMESE_ROWS[3:]
            ],
        },
    }  # fmt: skip
    mapped = tmp_path / "procedures.yml"
    mapped.write_text(yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False), "utf-8")
    assert_catalog(read_catalog(mapped))


def test_xlsx_with_merged_procedure_cells(tmp_path: Path) -> None:
    frame = pd.DataFrame(VIETNAMESE_ROWS, columns=VIETNAMESE_HEADERS)
    frame.loc[[1, 2, 4, 5], "Thủ tục"] = None  # a merged cell keeps its value on the first row
    frame.loc[[1, 2], "Thời hạn (ngày làm việc)"] = None
    path = tmp_path / "catalog.xlsx"
    frame.to_excel(path, index=False, engine="openpyxl")
    with pytest.warns(UserWarning, match="4 row"):
        catalog = read_catalog(path)
    pd.testing.assert_frame_equal(catalog, expected_catalog(), check_dtype=False)
    assert catalog.attrs["warnings"] == [
        "4 row(s) had no procedure name and were given the one above them (merged cells)."
    ]


def test_write_then_read_gives_the_same_catalog(tmp_path: Path) -> None:
    catalog = read_catalog(expected_catalog().assign(reviewed=["2024-03-15"] * 3 + [None] * 3))
    path = write_catalog(catalog, tmp_path / "out.csv")
    again = read_catalog(path)
    pd.testing.assert_frame_equal(again, catalog)
    assert str(again["reviewed"].iloc[0]) == "2024-03-15"
    assert pd.isna(again["reviewed"].iloc[3])


def test_steps_are_sorted_within_each_procedure_in_order_of_appearance() -> None:
    shuffled = expected_catalog().iloc[[4, 2, 0, 5, 1, 3]]
    catalog = read_catalog(shuffled)
    assert catalog["procedure"].tolist() == [DECREE] * 3 + [BUDGET] * 3
    assert catalog["step"].tolist() == [1, 2, 3, 1, 2, 3]


def test_gaps_duplicates_and_differing_deadlines_warn_and_still_load() -> None:
    frame = expected_catalog()
    frame.loc[2, "step"] = 5  # budget: 1, 2, 5 — steps 3 and 4 missing
    frame.loc[5, "step"] = 2  # decree: 1, 2, 2 — step 2 twice, step 3 missing
    frame.loc[4, "deadline_working_days"] = 10
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        catalog = read_catalog(frame)
    expected = [
        f"Procedure '{DECREE}' has different deadlines on its rows (7.5, 10 working days); "
        "using 7.5, the one on its first step.",
        f"Procedure '{BUDGET}' has no step 3, 4 (steps found: 1, 2, 5).",
        f"Procedure '{DECREE}' numbers more than one row as step 2; their order is taken as "
        "written.",
    ]
    assert catalog.attrs["warnings"] == expected
    assert [str(w.message) for w in caught] == expected
    assert catalog["deadline_working_days"].tolist() == [5.0] * 3 + [7.5] * 3
    assert len(catalog) == 6


def test_an_activity_named_twice_in_one_procedure_warns() -> None:
    frame = expected_catalog()
    frame.loc[2, "activity"] = "Tiếp nhận hồ sơ"
    with pytest.warns(UserWarning, match="names activity 'Tiếp nhận hồ sơ' at steps 1, 3"):
        read_catalog(frame)


def test_missing_columns_list_what_was_found_and_expected() -> None:
    frame = pd.DataFrame({"Thủ tục": [BUDGET], "Tên bước": ["Thẩm định"], "Hạn": [5]})
    with pytest.raises(CatalogError) as error:
        read_catalog(frame)
    message = str(error.value)
    assert "lacks the column(s): step; department; deadline_working_days" in message
    assert "Columns found: ['procedure', 'activity', 'Hạn']" in message
    assert "Expected: ['procedure', 'step', 'activity', 'department', 'deadline_working_days']" in (
        message
    )


def test_non_numeric_deadline_names_the_row() -> None:
    frame = expected_catalog().astype({"deadline_working_days": object})
    frame.loc[4, "deadline_working_days"] = "bảy ngày"
    with pytest.raises(CatalogError) as error:
        read_catalog(frame)
    assert str(error.value) == (
        f"deadline_working_days must be a number; row 5 ('{DECREE}', step 2) holds 'bảy ngày'."
    )


def test_step_must_be_whole_and_every_step_needs_a_department() -> None:
    frame = expected_catalog().astype({"step": object})
    frame.loc[1, "step"] = "2.5"
    with pytest.raises(CatalogError, match=r"whole number.*row 2 .* holds '2.5'"):
        read_catalog(frame)
    frame = expected_catalog()
    frame.loc[3, "department"] = "  "
    with pytest.raises(CatalogError, match=rf"needs its department; row 4 \('{DECREE}', step 1\)"):
        read_catalog(frame)


def test_a_procedure_without_any_deadline_is_an_error() -> None:
    frame = expected_catalog()
    frame.loc[3:5, "deadline_working_days"] = None
    with pytest.raises(CatalogError, match=f"No deadline_working_days for procedure.*'{DECREE}'"):
        read_catalog(frame)


def test_unreadable_file_types_are_refused_plainly(tmp_path: Path) -> None:
    path = tmp_path / "catalog.docx"
    path.write_bytes(b"")
    with pytest.raises(CatalogError, match=r"expected a \.csv, \.yaml/\.yml or \.xlsx file"):
        read_catalog(path)


def test_validate_against_a_log_reports_unknown_departments_and_procedures() -> None:
    catalog = read_catalog(expected_catalog())
    log = pd.DataFrame(
        {
            "case:concept:name": ["c1", "c1", "c2"],
            "org:group": ["Văn phòng HĐND & UBND", TC, None],
            "case:procedure": [BUDGET, BUDGET, "Cấp giấy phép xây dựng"],
        }
    )
    assert validate_catalog(catalog, log) == [
        f"Department '{VP}' of the catalog never occurs in the log (closest in the log: "
        "'Văn phòng HĐND & UBND').",
        f"Department '{TP}' of the catalog never occurs in the log.",
        "1 procedure(s) of the log are not in the catalog: 'Cấp giấy phép xây dựng'.",
    ]
    with pytest.warns(UserWarning) as caught:
        read_catalog(expected_catalog(), log=log)
    assert len(caught) == 3


# --- one catalog rule in every figure (issue 15) ----------------------------------------------
def _figures_with_a_catalog() -> dict:
    import procmine as pm

    return {
        "ping_pong": lambda log, c: pm.ping_pong(log, c),
        "bounce_table": lambda log, c: pm.bounce_table(log, c),
        "reference_sequences": lambda log, c: pm.reference_sequences(log, c),
        "on_time": lambda log, c: pm.on_time(log, c),
        "on_time_rate": lambda log, c: pm.on_time_rate(log, c),
        "slow_units": lambda log, c: pm.slow_units(log, c),
        "late_without_explanation": lambda log, c: pm.late_without_explanation(log, c),
        "step_allotments": lambda log, c: pm.step_allotments(log, c),
        "check_conformance": lambda log, c: pm.check_conformance(log, c).cases,
        "deviations": lambda log, c: pm.conformance.deviations(log, c),
    }


@pytest.mark.parametrize("figure", list(_figures_with_a_catalog()))
def test_a_one_procedure_catalog_applies_to_a_log_without_procedures_in_every_figure(figure):
    """The example log without its procedure column and its one-procedure catalog give every
    figure exactly what the log with the column gives; a catalog of two procedures is the same
    clear error in every figure."""
    import procmine as pm

    call = _figures_with_a_catalog()[figure]
    log, catalog = pm.datasets.example_log(), pm.datasets.example_catalog()
    without = log.drop(columns="case:procedure")
    for frame in (without, pm.event_table(without)):
        pd.testing.assert_frame_equal(call(frame, catalog), call(log, catalog))
    two = pd.concat([catalog, catalog.assign(procedure="Thủ tục khác")], ignore_index=True)
    with pytest.raises(pm.CatalogError, match=r"no procedure column .* 2 procedures"):
        call(without, two)


def test_the_figures_say_when_no_case_has_a_deadline():
    import procmine as pm

    log = pm.datasets.example_log()
    other = pm.datasets.example_catalog().assign(procedure="Thủ tục khác")
    with pytest.warns(UserWarning, match=r"No case has a deadline.*'Cấp phép'.*'Thủ tục khác'"):
        rate = pm.on_time_rate(log, other)
    assert rate["judged"].tolist() == [0]
    with pytest.warns(UserWarning, match="No case has a deadline"):
        assert pm.late_without_explanation(log, other).empty
