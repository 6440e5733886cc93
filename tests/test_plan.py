"""The simplification plan (procmine.plan): the Word document as agencies hand it in, and its table.

The figures are checked against literals computed by hand from the portfolio below, not against
the module's own arithmetic: 12,345,678.6 VND a year observed on P1, whose two measures save
3,000,000 and 1,500,000 alone and 4,115,226.2 together (a third of P1); P2 saves time only; P3 has
no measure; P4 is in the log but not the catalog.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt

from procmine import plan

FONT = "Times New Roman"
# Names typed decomposed (NFD), as an input method may: the plan must write them composed.
P1 = unicodedata.normalize("NFD", "Tiếp nhận và xử lý văn bản đến")
P2 = "Cấp giấy phép xây dựng"
P3 = "Thẩm định đề án"
P4 = "Thủ tục ngoài danh mục"
P1_NFC = unicodedata.normalize("NFC", P1)
DOCUMENT_P1 = "Quyết định số 1234/QĐ-UBND ngày 15/3/2024"


@dataclass(frozen=True)
class StandIn:
    """What the plan reads of a Portfolio (procmine.portfolios.Portfolio), built by hand."""

    measures: pd.DataFrame
    summary: pd.DataFrame
    sensitivity: pd.DataFrame
    universe: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    status: str = "optimal"
    documents: dict[str, str] = field(default_factory=dict)


def stand_in(**changes) -> StandIn:
    measures = pd.DataFrame(
        {
            "measure_id": ["M002", "M001", "M007"],
            "procedure": [P1, P1, P2],
            "measure": ["remove_check", "end_pingpong", "cut_waiting"],
            "title": [
                "Bỏ bước kiểm tra “Rà soát hồ sơ”",
                "Chấm dứt đùn đẩy giữa Văn phòng và Phòng Tư pháp",
                "Cắt thời gian chờ ký",
            ],
            "activities": [("Rà soát hồ sơ",), ("Thẩm định", "Phê duyệt"), ("Ký",)],
            "change": [
                {"kind": "remove_step", "activity": "Rà soát hồ sơ"},
                {"kind": "end_pingpong", "pair": ["Văn phòng", "Phòng Tư pháp"]},
                {"kind": "cap_waiting", "activity": "Ký", "cap_minutes": 150},
            ],
            "evidence_text": [
                "Sau bước Rà soát hồ sơ, 0/180 hồ sơ bị trả lại.",
                "41 lần chuyển qua lại vượt quy trình trên 180 hồ sơ.",
                "Trung vị chờ ký 2,5 ngày làm việc, gấp 6 lần bước trung vị.",
            ],
            "saving_yearly": [1_500_000.0, 3_000_000.0, 0.0],
            "option_saving_yearly": [4_115_226.2, 4_115_226.2, 0.0],
            "working_days_saved": [0.25, 1.5, 2.0],
            "effort_person_days": [1.0, 5.0, 2.0],
            "risk": ["low", "medium", "low"],
        }
    )
    summary = pd.DataFrame(
        {
            "target": ["simplified_share", "cost_cut", "reviewed_share"],
            "achieved": [2 / 3, 4_115_226.2 / 20_345_678.6, 2 / 3],
            "required": [0.5, 0.2, 0.5],
            "met": [True, True, True],
            "gap": [0.0, 0.0, 0.0],
        }
    )
    sensitivity = summary.assign(
        achieved=[2 / 3, 0.7 * 4_115_226.2 / 20_345_678.6, 2 / 3], met=[True, False, True]
    ).assign(gap=[0.0, 0.2 - 0.7 * 4_115_226.2 / 20_345_678.6, 0.0])
    universe = pd.DataFrame(
        {
            "procedure": [P1, P2, P3, P4],
            "observed_yearly": [12_345_678.6, 6_000_000.0, 2_000_000.0, 9_000_000.0],
            "prescribed_yearly": [10_000_000.0, 5_000_000.0, 2_000_000.0, float("nan")],
            "reviewed": [True, False, True, False],
            "in_catalog": [True, True, True, False],
        }
    )
    values = {
        "measures": measures,
        "summary": summary,
        "sensitivity": sensitivity,
        "universe": universe,
        "documents": {P1: DOCUMENT_P1, P2: ""},
    }
    return StandIn(**{**values, **changes})


class JointReplay:
    """A replay (candidates.attrs["replay"]) whose joint saving of M001 + M002 is not the sum."""

    def __deepcopy__(self, memo):
        return self  # pandas deep-copies attrs; a replay is shared, as the candidates' is

    def saving(self, procedure, measure_ids):
        assert set(measure_ids) == {"M001", "M002"}, measure_ids
        return {"saving_yearly": 4_115_226.2, "working_days_saved": 1.6, "on_time_rate_after": 0.9}


def real_portfolio():
    """pm.portfolio on the stand-in's measures as candidates: it chooses the same three."""
    from procmine.portfolios import Portfolio, portfolio

    chosen = stand_in()
    candidates = chosen.measures.drop(columns="option_saving_yearly")
    candidates.attrs["universe"] = chosen.universe
    candidates.attrs["replay"] = JointReplay()
    result = portfolio(candidates, targets={"simplified_share": 0.5})
    assert isinstance(result, Portfolio)
    return result


@pytest.fixture(scope="module", params=["stand-in", "portfolio"])
def chosen(request):
    """The hand-made portfolio (universe, documents) and pm.portfolio's own (procedures)."""
    return stand_in() if request.param == "stand-in" else real_portfolio()


@pytest.fixture(scope="module")
def written(chosen, tmp_path_factory) -> list[Path]:
    return plan.write_plan(chosen, tmp_path_factory.mktemp("plan") / "phuong_an.docx")


@pytest.fixture(scope="module")
def document(written):
    return Document(str(written[0]))


def body_texts(document) -> list[str]:
    """Every paragraph of the body and of its tables' cells, in order."""
    texts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        texts += [cell.text for row in table.rows for cell in row.cells]
    return texts


def sections(document) -> dict[str, list[str]]:
    """The paragraphs under each level-1 heading (a procedure), until the next heading 1 or
    the summary part."""
    found: dict[str, list[str]] = {}
    current = None
    for paragraph in document.paragraphs:
        if paragraph.style.name == "Heading 1":
            current = paragraph.text
            found[current] = []
        elif paragraph.text.startswith("B. "):
            current = None
        elif current is not None:
            found[current].append(paragraph.text)
    return found


# ------------------------------------------------------------------------------ numbers
def test_numbers_are_written_the_vietnamese_way_and_the_english_way():
    assert plan.format_vnd(1_234_567) == "1.234.567 đồng"
    assert plan.format_vnd(1_234_567.5, "en") == "1,234,568 VND"
    assert plan.format_vnd(999.4) == "999 đồng"
    assert plan.format_vnd(-2_500_000) == "-2.500.000 đồng"
    assert plan.format_vnd(-0.3) == "0 đồng"
    assert plan.format_vnd(float("nan")) == "—"
    assert plan.format_percent(1 / 3) == "33,3%"
    assert plan.format_percent(1 / 3, "en") == "33.3%"
    assert plan.format_percent(0.2, digits=0) == "20%"
    assert plan.format_number(1234.567, "vi", 2) == "1.234,57"


def test_an_unknown_language_is_an_error_naming_it():
    with pytest.raises(ValueError, match=r"lang must be one of.*'fr'"):
        plan.format_vnd(1, "fr")
    with pytest.raises(ValueError, match="'fr'"):
        plan.plan_table(stand_in(), lang="fr")


# ------------------------------------------------------------------------------ the table
def test_the_table_has_one_row_per_measure_with_the_figures_by_hand():
    table = plan.plan_table(stand_in())
    headers = plan.headers("vi")
    assert list(table.columns) == [headers[key] for key in plan.COLUMNS]
    # P1 first (the larger saving), its measures by id; then P2.
    assert table[headers["measure_id"]].tolist() == ["M001", "M002", "M007"]
    assert table[headers["procedure"]].tolist() == [P1_NFC, P1_NFC, P2]
    assert table[headers["cost_before"]].tolist() == [12_345_679, 12_345_679, 6_000_000]
    assert table[headers["saving"]].tolist() == [3_000_000, 1_500_000, 0]
    assert table[headers["cost_after"]].tolist() == [9_345_679, 10_845_679, 6_000_000]
    assert table[headers["cut_share"]].tolist() == pytest.approx(
        [3_000_000 / 12_345_678.6, 1_500_000 / 12_345_678.6, 0.0]
    )
    assert table[headers["procedure_saving"]].tolist() == [4_115_226, 4_115_226, 0]
    assert table[headers["document"]].tolist() == [DOCUMENT_P1, DOCUMENT_P1, ""]
    assert table[headers["reason"]].iloc[2].startswith("Trung vị chờ ký")
    assert table[headers["risk"]].tolist() == ["trung bình", "thấp", "thấp"]
    assert table[headers["working_days_saved"]].tolist() == [1.5, 0.25, 2.0]
    assert table[headers["effort_person_days"]].tolist() == [5.0, 1.0, 2.0]


def test_the_change_names_the_step():
    table = plan.plan_table(stand_in())
    changes = table[plan.headers("vi")["change"]].tolist()
    assert changes == [
        "Chấm dứt chuyển hồ sơ qua lại giữa “Văn phòng” và “Phòng Tư pháp”: một đơn vị chịu "
        "trách nhiệm, danh mục hồ sơ cần kiểm tra ngay từ đầu",
        "Bỏ bước “Rà soát hồ sơ”",
        "Giới hạn thời gian chờ tại bước “Ký” ở mức 2,5 giờ làm việc",
    ]
    english = plan.plan_table(stand_in(), lang="en")
    assert english["Change (step)"].iloc[2] == "Cap the waiting at step “Ký” at 2.5 working hours"


def test_the_xlsx_and_csv_equal_the_table(chosen, written):
    docx, xlsx, csv = written
    assert (docx.suffix, xlsx, csv) == (
        ".docx",
        docx.with_suffix(".xlsx"),
        docx.with_suffix(".csv"),
    )
    expected = plan.plan_table(chosen)
    expected = expected.astype({column: "int64" for column in expected.select_dtypes("Int64")})
    text = {plan.headers("vi")["document"]: str}  # an empty cell reads back as missing
    from_excel = pd.read_excel(xlsx, engine="openpyxl", dtype=text).fillna("")
    from_csv = pd.read_csv(csv, encoding="utf-8-sig", dtype=text).fillna("")
    pd.testing.assert_frame_equal(from_excel, expected, check_dtype=False)
    pd.testing.assert_frame_equal(from_csv, expected, check_dtype=False)
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf")  # so Excel reads the Vietnamese right


# ------------------------------------------------------------------------------ the document
def test_the_page_is_a4_with_the_margins_of_decree_30(document):
    assert len(document.sections) == 1
    section = document.sections[0]
    millimetres = {
        "width": section.page_width.mm,
        "height": section.page_height.mm,
        "top": section.top_margin.mm,
        "bottom": section.bottom_margin.mm,
        "left": section.left_margin.mm,
        "right": section.right_margin.mm,
    }
    expected = {"width": 210, "height": 297, "top": 20, "bottom": 20, "left": 30, "right": 15}
    assert millimetres == pytest.approx(expected, abs=0.1)
    # Decree 30's ranges: top/bottom 20–25 mm, left 30–35 mm, right 15–20 mm.
    assert 20 <= round(millimetres["top"]) <= 25 and 30 <= round(millimetres["left"]) <= 35
    assert section.different_first_page_header_footer  # page numbers from page 2


def test_every_text_is_times_new_roman_13_to_14_pt(document):
    for name in ("Normal", "Heading 1", "Heading 2"):
        style = document.styles[name]
        fonts = style.element.rPr.rFonts
        for attribute in ("ascii", "hAnsi", "eastAsia", "cs"):
            assert fonts.get(qn(f"w:{attribute}")) == FONT, (name, attribute)
        for theme in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
            assert fonts.get(qn(f"w:{theme}")) is None, (name, theme)  # a theme would win
        assert style.font.size == Pt(14)
    defaults = document.styles.element.find(qn("w:docDefaults"))
    assert defaults.find(".//" + qn("w:rFonts")).get(qn("w:ascii")) == FONT
    paragraphs = list(document.paragraphs)
    paragraphs += [p for table in document.tables for cell in table._cells for p in cell.paragraphs]
    runs = [run for paragraph in paragraphs for run in paragraph.runs]
    assert len(runs) > 40
    for paragraph in paragraphs:
        assert paragraph.style.name in {"Normal", "Heading 1", "Heading 2"}
    for run in runs:
        assert run.font.name in (None, FONT)
        assert run.font.size in (None, Pt(13), Pt(14))


def test_the_national_header_and_the_title_come_first(document):
    first = [paragraph.text for paragraph in document.paragraphs[:5]]
    assert first[0] == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert first[1] == "Độc lập - Tự do - Hạnh phúc"
    assert first[3:] == ["PHƯƠNG ÁN", "Đơn giản hóa thủ tục hành chính nội bộ"]
    assert all(run.bold for paragraph in document.paragraphs[:2] for run in paragraph.runs)


def test_one_section_per_procedure_in_order_of_saving(document):
    found = sections(document)
    assert list(found) == [f"I. {P1_NFC}", f"II. {P2}"]  # P3 has no measure, P4 none either
    headings = [
        paragraph.text for paragraph in document.paragraphs if paragraph.style.name == "Heading 2"
    ]
    parts = [
        "1. Nội dung đơn giản hóa",
        "2. Kiến nghị thực thi",
        "3. Lợi ích phương án đơn giản hóa",
    ]
    assert headings == parts * 2


def test_each_section_has_content_reason_recommendation_and_benefit(chosen, document):
    first, second = sections(document).values()
    text = "\n".join(first)
    assert "- Chấm dứt đùn đẩy giữa Văn phòng và Phòng Tư pháp (rút ngắn bình quân 1,50" in text
    assert "Lý do: 41 lần chuyển qua lại vượt quy trình trên 180 hồ sơ." in first
    if isinstance(chosen, StandIn):  # pm.portfolio's Portfolio does not carry documents (yet)
        assert f"Sửa đổi, bổ sung quy trình nội bộ đã được phê duyệt tại {DOCUMENT_P1}:" in first
    assert "- Bỏ bước “Rà soát hồ sơ”." in first
    # The benefit: the two measures replayed together save a third of 12,345,678.6 VND.
    assert "- Chi phí tuân thủ thủ tục trước khi đơn giản hóa: 12.345.679 đồng/năm." in first
    assert "- Chi phí tuân thủ thủ tục sau khi đơn giản hóa: 8.230.452 đồng/năm." in first
    assert "- Chi phí tiết kiệm: 4.115.226 đồng/năm." in first
    assert "- Tỷ lệ cắt giảm chi phí: 33,3%." in first
    # P2 has no approving document in the catalog, and saves time only.
    assert any("văn bản phê duyệt chưa có trong danh mục" in line for line in second)
    assert "- Chi phí tiết kiệm: 0 đồng/năm." in second
    assert "- Tỷ lệ cắt giảm chi phí: 0,0%." in second


def test_the_summary_states_the_portfolios_figures(chosen, document):
    summary = document.tables[-1]
    rows = [[cell.text for cell in row.cells] for row in summary.rows]
    assert rows[0][:5] == ["Chỉ tiêu", "Yêu cầu", "Đạt được", "Đánh giá", "Còn thiếu"]
    assert rows[1:] == [
        ["Tỷ lệ thủ tục nội bộ được đơn giản hóa", "50,0%", "66,7%", "Đạt", "—", "66,7% (Đạt)"],
        ["Tỷ lệ cắt giảm chi phí tuân thủ", "20,0%", "20,2%", "Đạt", "—", "14,2% (Chưa đạt)"],
        ["Tỷ lệ thủ tục nội bộ được rà soát", "50,0%", "66,7%", "Đạt", "—", "66,7% (Đạt)"],
    ]
    # The totals: the catalog's three procedures (P4 is not in it), 20,345,678.6 VND a year, of
    # which 4,115,226.2 saved = the portfolio's achieved cost cut × the catalog's cost.
    totals = (
        "Tổng chi phí tuân thủ của 3 thủ tục trong danh mục: trước 20.345.679 đồng/năm, sau "
        "16.230.452 đồng/năm, tiết kiệm 4.115.226 đồng/năm (20,2%); 2 thủ tục được đơn giản "
        "hóa, 2 thủ tục đã rà soát."
    )
    assert totals in [paragraph.text for paragraph in document.paragraphs]
    cut = chosen.summary.set_index("target").loc["cost_cut", "achieved"]
    assert plan.format_vnd(cut * 20_345_678.6) == "4.115.226 đồng"
    assert plan.plan_totals(chosen)["saving"] == pytest.approx(cut * 20_345_678.6)


def test_vietnamese_text_is_nfc_and_intact(document):
    texts = body_texts(document)
    assert all(unicodedata.is_normalized("NFC", text) for text in texts)
    joined = "\n".join(texts)
    assert P1_NFC in joined and P1 not in joined
    for phrase in ("Lợi ích phương án đơn giản hóa", "Kiến nghị thực thi", "Độc lập"):
        assert phrase in joined


def test_an_unreachable_portfolio_says_so_and_lists_its_notes(tmp_path):
    notes = ["procedure X has 11 candidates: nested sets by saving per effort"]
    chosen = stand_in(status="targets unreachable: max-min ratio", notes=notes)
    docx = plan.write_plan(chosen, tmp_path / "plan.docx")[0]
    texts = [paragraph.text for paragraph in Document(str(docx)).paragraphs]
    assert "Lưu ý: targets unreachable: max-min ratio." in texts
    assert f"- {notes[0]}" in texts


def test_english_labels_with_lang_en(tmp_path):
    docx, xlsx, _ = plan.write_plan(stand_in(), tmp_path / "plan.docx", lang="en")
    document = Document(str(docx))
    texts = "\n".join(body_texts(document))
    assert "SOCIALIST REPUBLIC OF VIETNAM" in texts
    assert "- Compliance cost before the simplification: 12,345,679 VND a year." in texts
    assert "- Cost cut: 33.3%." in texts
    assert "Nội dung đơn giản hóa" not in texts and "đồng" not in texts
    assert pd.read_excel(xlsx, engine="openpyxl").columns[0] == "Procedure"


def test_an_empty_portfolio_still_makes_a_plan(tmp_path):
    chosen = stand_in(measures=stand_in().measures.iloc[:0])
    docx, _, csv = plan.write_plan(chosen, tmp_path / "plan.docx")
    texts = [paragraph.text for paragraph in Document(str(docx)).paragraphs]
    assert "Không có biện pháp nào được chọn." in texts
    assert pd.read_csv(csv, encoding="utf-8-sig").empty


def test_errors_name_the_attribute_or_column_and_write_nothing(tmp_path):
    with pytest.raises(ValueError, match=r"\.docx"):
        plan.write_plan(stand_in(), tmp_path / "plan.pdf")
    with pytest.raises(KeyError, match="saving_yearly"):
        plan.write_plan(
            stand_in(measures=stand_in().measures.drop(columns="saving_yearly")),
            tmp_path / "plan.docx",
        )
    with pytest.raises(TypeError, match="universe"):
        plan.write_plan(stand_in(universe=None), tmp_path / "plan.docx")
    assert list(tmp_path.iterdir()) == []


def test_the_plan_of_a_real_portfolio(tmp_path):
    """pm.portfolio's own object (procedures, measures with measure_saving_yearly) makes the same
    plan as the hand-made one; its summary's figures are the plan's."""
    chosen = real_portfolio()
    assert sorted(chosen.measures["measure_id"]) == ["M001", "M002", "M007"]
    docx, _, csv = plan.write_plan(chosen, tmp_path / "plan.docx")
    document = Document(str(docx))
    found = sections(document)
    assert list(found) == [f"I. {P1_NFC}", f"II. {P2}"]
    first = found[f"I. {P1_NFC}"]
    assert "- Chi phí tuân thủ thủ tục sau khi đơn giản hóa: 8.230.452 đồng/năm." in first
    assert "- Chi phí tiết kiệm: 4.115.226 đồng/năm." in first
    assert "- Tỷ lệ cắt giảm chi phí: 33,3%." in first
    # The portfolio's own figures, as the plan formats them.
    procedures = chosen.procedures.set_index("procedure")
    after = procedures.loc[P1, "observed_yearly_after"]
    assert (
        f"- Chi phí tuân thủ thủ tục sau khi đơn giản hóa: {plan.format_vnd(after)}/năm." in first
    )
    rows = [[cell.text for cell in row.cells] for row in document.tables[-1].rows][1:]
    summary = chosen.summary
    assert [row[2] for row in rows] == [plan.format_percent(a) for a in summary["achieved"]]
    assert [row[3] for row in rows] == ["Đạt" if met else "Chưa đạt" for met in summary["met"]]
    cost = summary.set_index("target").loc["cost_cut"]
    totals = plan.plan_totals(chosen)
    assert totals["saving"] == pytest.approx(cost["amount"])
    assert totals["before"] == pytest.approx(cost["base"])
    texts = [paragraph.text for paragraph in document.paragraphs]
    assert any(plan.format_vnd(cost["amount"]) in text and "Tổng chi phí" in text for text in texts)
    table = pd.read_csv(csv, encoding="utf-8-sig")
    headers = plan.headers("vi")
    assert table[headers["saving"]].tolist() == [3_000_000, 1_500_000, 0]  # each measure's own
    assert table[headers["procedure_saving"]].tolist() == [4_115_226, 4_115_226, 0]
