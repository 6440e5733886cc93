"""The simplification plan as agencies hand it in: a Word document and the same table as XLSX/CSV.

:func:`write_plan` writes a portfolio's adopted measures as a "Phương án đơn giản hóa thủ tục
hành chính nội bộ": A4, Times New Roman 14 pt (13 pt in tables), the margins of Decree
30/2020/NĐ-CP, the national header and a title, then one section per procedure — 1. the content
of the simplification and its reason (the evidence), 2. the recommendation to implement it (which
step changes, and the approving document where the catalog's ``document`` column names it),
3. the benefit (observed yearly compliance cost before and after, the saving, the percentage
cut) — and the summary against the targets. :func:`plan_table` is the table written beside it.
Every figure is written by one small function per kind (:func:`format_vnd`,
:func:`format_percent`, :func:`format_number`), so the document and its tables agree.

>>> format_vnd(1234567.4), format_vnd(1234567.4, lang="en")
('1.234.567 đồng', '1,234,567 VND')
>>> format_percent(0.2346), format_percent(0.2346, lang="en")
('23,5%', '23.5%')
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from procmine.formats import LANGUAGES, MISSING, format_number, format_percent, format_vnd

__all__ = [
    "FONT",
    "MARGINS_MM",
    "PAGE_MM",
    "describe_change",
    "format_number",
    "format_percent",
    "format_vnd",
    "plan_table",
    "write_plan",
]

FONT = "Times New Roman"  # Decree 30/2020/NĐ-CP, Appendix I; fonts-liberation2 has its metrics
BODY_PT, TABLE_PT = 14, 13  # the decree allows 13–14 pt
PAGE_MM = (210, 297)  # A4
MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}  # the decree's lower bounds

# The table's columns (stable keys) and their headers in each language.
COLUMNS = {
    "procedure": ("Thủ tục", "Procedure"),
    "measure_id": ("Mã biện pháp", "Measure id"),
    "title": ("Biện pháp", "Measure"),
    "change": ("Nội dung thay đổi (bước)", "Change (step)"),
    "reason": ("Lý do", "Reason"),
    "document": ("Văn bản phê duyệt cần sửa đổi", "Approving document to amend"),
    "cost_before": ("Chi phí tuân thủ trước (đồng/năm)", "Compliance cost before (VND/year)"),
    "cost_after": ("Chi phí tuân thủ sau (đồng/năm)", "Compliance cost after (VND/year)"),
    "saving": ("Chi phí tiết kiệm (đồng/năm)", "Saving (VND/year)"),
    "cut_share": ("Tỷ lệ cắt giảm", "Cost cut"),
    "working_days_saved": ("Ngày làm việc tiết kiệm/hồ sơ", "Working days saved per case"),
    "effort_person_days": ("Công sức (ngày công)", "Effort (person-days)"),
    "procedure_saving": (
        "Tiết kiệm của thủ tục, các biện pháp cùng thực hiện (đồng/năm)",
        "Procedure's saving, its measures together (VND/year)",
    ),
    "risk": ("Rủi ro", "Risk"),
}
VND_COLUMNS = ("cost_before", "cost_after", "saving", "procedure_saving")

WORDS: dict[str, dict[str, str]] = {
    "vi": {
        "country": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "motto": "Độc lập - Tự do - Hạnh phúc",
        "date": "………, ngày …… tháng …… năm ……",
        "title": "PHƯƠNG ÁN",
        "subtitle": "Đơn giản hóa thủ tục hành chính nội bộ",
        "part_procedures": "A. PHƯƠNG ÁN ĐƠN GIẢN HÓA TỪNG THỦ TỤC",
        "part_summary": "B. TỔNG HỢP KẾT QUẢ SO VỚI CHỈ TIÊU",
        "content": "1. Nội dung đơn giản hóa",
        "reason": "Lý do:",
        "recommend": "2. Kiến nghị thực thi",
        "amend": "Sửa đổi, bổ sung quy trình nội bộ đã được phê duyệt tại {document}:",
        "amend_unknown": "Sửa đổi, bổ sung quy trình nội bộ (văn bản phê duyệt chưa có trong"
        " danh mục quy trình):",
        "benefit": "3. Lợi ích phương án đơn giản hóa",
        "before": "Chi phí tuân thủ thủ tục trước khi đơn giản hóa: {value}/năm.",
        "after": "Chi phí tuân thủ thủ tục sau khi đơn giản hóa: {value}/năm.",
        "saving": "Chi phí tiết kiệm: {value}/năm.",
        "cut": "Tỷ lệ cắt giảm chi phí: {value}.",
        "days": "rút ngắn bình quân {value} ngày làm việc/hồ sơ",
        "joint": "(Các biện pháp của thủ tục được tính đồng thời trên các hồ sơ đã giải quyết.)",
        "none": "Không có biện pháp nào được chọn.",
        "target": "Chỉ tiêu",
        "required": "Yêu cầu",
        "achieved": "Đạt được",
        "verdict": "Đánh giá",
        "gap": "Còn thiếu",
        "sensitivity": "Nếu tiết kiệm thấp hơn 30%",
        "met": "Đạt",
        "not_met": "Chưa đạt",
        "simplified_share": "Tỷ lệ thủ tục nội bộ được đơn giản hóa",
        "cost_cut": "Tỷ lệ cắt giảm chi phí tuân thủ",
        "reviewed_share": "Tỷ lệ thủ tục nội bộ được rà soát",
        "totals": "Tổng chi phí tuân thủ của {n} thủ tục trong danh mục: trước {before}/năm,"
        " sau {after}/năm, tiết kiệm {saving}/năm ({cut}); {simplified} thủ tục được đơn giản"
        " hóa, {reviewed} thủ tục đã rà soát.",
        "status": "Lưu ý: {status}.",
        "notes": "Ghi chú",
        "risk_low": "thấp",
        "risk_medium": "trung bình",
        "risk_high": "cao",
    },
    "en": {
        "country": "SOCIALIST REPUBLIC OF VIETNAM",
        "motto": "Independence - Freedom - Happiness",
        "date": "………, date ……",
        "title": "PLAN",
        "subtitle": "Simplification of internal administrative procedures",
        "part_procedures": "A. THE SIMPLIFICATION OF EACH PROCEDURE",
        "part_summary": "B. SUMMARY AGAINST THE TARGETS",
        "content": "1. Content of the simplification",
        "reason": "Reason:",
        "recommend": "2. Recommendation to implement it",
        "amend": "Amend the internal procedure approved by {document}:",
        "amend_unknown": "Amend the internal procedure (its approving document is not in the"
        " catalog):",
        "benefit": "3. Benefit of the simplification",
        "before": "Compliance cost before the simplification: {value} a year.",
        "after": "Compliance cost after the simplification: {value} a year.",
        "saving": "Saving: {value} a year.",
        "cut": "Cost cut: {value}.",
        "days": "saves {value} working days per case on average",
        "joint": "(The procedure's measures are replayed together on the observed cases.)",
        "none": "No measure was adopted.",
        "target": "Target",
        "required": "Required",
        "achieved": "Achieved",
        "verdict": "Verdict",
        "gap": "Gap",
        "sensitivity": "If savings are 30% lower",
        "met": "Met",
        "not_met": "Not met",
        "simplified_share": "Share of internal procedures simplified",
        "cost_cut": "Compliance cost cut",
        "reviewed_share": "Share of internal procedures reviewed",
        "totals": "Total compliance cost of the catalog's {n} procedures: before {before} a"
        " year, after {after} a year, saving {saving} a year ({cut}); {simplified} procedures"
        " simplified, {reviewed} reviewed.",
        "status": "Note: {status}.",
        "notes": "Notes",
        "risk_low": "low",
        "risk_medium": "medium",
        "risk_high": "high",
    },
}

# What each change kind (the vocabulary of procmine.whatif) says, with the step it touches.
CHANGES = {
    "vi": {
        "remove_step": "Bỏ bước {activity}",
        "end_pingpong": "Chấm dứt chuyển hồ sơ qua lại giữa {pair}: một đơn vị chịu trách nhiệm,"
        " danh mục hồ sơ cần kiểm tra ngay từ đầu",
        "merge_steps": "Gộp các bước {activities} thành một bước",
        "parallel": "Thực hiện song song các bước {activities}",
        "delegate": "Phân cấp, ủy quyền bước {activity} cho {to_grade};"
        " thời gian chờ tối đa {cap_hours} giờ làm việc",
        "cap_waiting": "Giới hạn thời gian chờ tại bước {activity} ở mức {cap_hours} giờ làm việc",
        "set_deadline": "Rút ngắn thời hạn giải quyết còn {deadline_working_days} ngày làm việc",
    },
    "en": {
        "remove_step": "Remove step {activity}",
        "end_pingpong": "End the back and forth between {pair}: one responsible unit and a"
        " checklist up front",
        "merge_steps": "Merge steps {activities} into one",
        "parallel": "Run steps {activities} in parallel",
        "delegate": "Delegate step {activity} to {to_grade}; waiting capped at {cap_hours}"
        " working hours",
        "cap_waiting": "Cap the waiting at step {activity} at {cap_hours} working hours",
        "set_deadline": "Shorten the deadline to {deadline_working_days} working days",
    },
}


def words_for(lang: str) -> dict[str, str]:
    """The document's words in ``lang`` (``"vi"`` or ``"en"``)."""
    if lang not in WORDS:
        raise ValueError(f"lang must be one of {list(LANGUAGES)}; got {lang!r}.")
    return WORDS[lang]


def nfc(text: Any) -> str:
    """Text as written into the plan: a string in Unicode NFC (a missing value is empty)."""
    if text is None or (pd.api.types.is_scalar(text) and pd.isna(text)):
        return ""
    return unicodedata.normalize("NFC", str(text))


def describe_change(change: Any, lang: str = "vi", fallback: str = "") -> str:
    """What a change (a dict of the what-if vocabulary) does, naming the steps it touches.

    >>> describe_change({"kind": "merge_steps", "activities": ["Thẩm định", "Trình ký"]})
    'Gộp các bước “Thẩm định”, “Trình ký” thành một bước'
    >>> describe_change({"kind": "cap_waiting", "activity": "Ký", "cap_minutes": 90}, "en")
    'Cap the waiting at step “Ký” at 1.5 working hours'
    """
    words_for(lang)
    if not isinstance(change, Mapping) or change.get("kind") not in CHANGES[lang]:
        return nfc(fallback)  # a kind this version does not know: the measure's own title

    def quoted(names: Any) -> str:
        names = [names] if isinstance(names, str) else list(names)
        return ", ".join(f"“{nfc(name)}”" for name in names)

    values = {
        "activity": quoted(change.get("activity", "")),
        "activities": quoted(change.get("activities", ())),
        "pair": " và ".join(quoted(name) for name in change.get("pair", ()))
        if lang == "vi"
        else " and ".join(quoted(name) for name in change.get("pair", ())),
        "to_grade": nfc(change.get("to_grade", "")),
        "cap_hours": format_number(change.get("cap_minutes", math.nan) / 60, lang, 1),
        "deadline_working_days": format_number(change.get("deadline_working_days"), lang),
    }
    return nfc(CHANGES[lang][change["kind"]].format(**values))


def plan_table(portfolio: Any, lang: str = "vi") -> pd.DataFrame:
    """The adopted measures of ``portfolio``, one row each, with headers in ``lang``: the
    procedure, the measure, the change (which step), the reason (the evidence), the approving
    document to amend, the procedure's observed yearly compliance cost before the measure and
    after it, its saving (VND a year), the share cut, the working days saved per case, the effort
    and the risk; and the procedure's saving with all its adopted measures replayed together
    (what the document's benefit and the totals add up). VND are whole đồng; the cut is a share
    (0.2 = 20 %).

    >>> from types import SimpleNamespace
    >>> universe = pd.DataFrame({"procedure": ["P"], "observed_yearly": [1e6],
    ...                          "prescribed_yearly": [8e5], "reviewed": [True],
    ...                          "in_catalog": [True]})
    >>> measures = pd.DataFrame({"measure_id": ["M001"], "procedure": ["P"],
    ...     "title": ["Bỏ bước Rà soát"], "evidence_text": ["Không hồ sơ nào bị trả lại."],
    ...     "change": [{"kind": "remove_step", "activity": "Rà soát"}],
    ...     "saving_yearly": [250_000.0], "option_saving_yearly": [250_000.0],
    ...     "working_days_saved": [0.5], "effort_person_days": [2.0], "risk": ["low"]})
    >>> chosen = SimpleNamespace(measures=measures, universe=universe, documents={})
    >>> plan_table(chosen, lang="en")[["Change (step)", "Saving (VND/year)", "Cost cut"]]
               Change (step)  Saving (VND/year)  Cost cut
    0  Remove step “Rà soát”             250000      0.25
    """
    return measure_rows(portfolio, lang).rename(columns=headers(lang))


def headers(lang: str) -> dict[str, str]:
    """The table's headers in ``lang``, by column key."""
    words_for(lang)  # a language the plan does not speak is an error, not English
    index = LANGUAGES.index(lang)
    return {key: labels[index] for key, labels in COLUMNS.items()}


def measure_rows(portfolio: Any, lang: str = "vi") -> pd.DataFrame:
    """:func:`plan_table` with the column keys of :data:`COLUMNS` as headers."""
    words = words_for(lang)
    measures = checked_measures(portfolio)
    costs = procedure_costs(portfolio)
    documents = portfolio_documents(portfolio)
    before = measures["procedure"].map(costs["observed_yearly"]).astype(float)
    saving = measures["own_saving"]
    rows = pd.DataFrame(
        {
            "procedure": measures["procedure"],
            "measure_id": measures["measure_id"].map(nfc),
            "title": measures["title"].map(nfc),
            "change": [
                describe_change(change, lang, title)
                for change, title in zip(measures["change"], measures["title"], strict=True)
            ],
            "reason": measures["evidence_text"].map(nfc),
            "document": measures["procedure"].map(lambda name: documents.get(name, "")),
            "cost_before": before.round(),
            "cost_after": (before - saving).round(),
            "saving": saving.round(),
            "cut_share": saving / before.where(before > 0),
            "working_days_saved": measures["working_days_saved"].astype(float),
            "effort_person_days": measures["effort_person_days"].astype(float),
            "procedure_saving": measures["procedure_saving"].round(),
            "risk": measures["risk"].map(lambda risk: words.get(f"risk_{risk}", nfc(risk))),
        }
    )
    for column in VND_COLUMNS:  # whole đồng; a procedure missing from the universe stays empty
        rows[column] = rows[column].astype("Int64")
    return rows.reset_index(drop=True)


REQUIRED = ("measure_id", "procedure", "saving_yearly")
# What a hand-made candidates table may lack: the plan then says less, not nothing.
OPTIONAL = {"change": None, "evidence_text": "", "working_days_saved": math.nan,
            "effort_person_days": math.nan, "risk": ""}  # fmt: skip


def checked_measures(portfolio: Any) -> pd.DataFrame:
    """The portfolio's measures, in plan order: procedures by their saving (largest first, then
    by name), each procedure's measures by id; a missing required column is an error."""
    measures = getattr(portfolio, "measures", None)
    if not isinstance(measures, pd.DataFrame):
        raise TypeError("portfolio.measures must be a DataFrame (procmine.portfolios.Portfolio).")
    missing = [column for column in REQUIRED if column not in measures.columns]
    if missing:
        raise KeyError(
            f"portfolio.measures lacks the columns {missing}: pass the Portfolio that "
            "pm.portfolio(candidates) returns, whose rows are those of the candidates table."
        )
    measures = measures.assign(
        **{key: value for key, value in OPTIONAL.items() if key not in measures.columns},
        procedure=measures["procedure"].map(nfc),
        title=measures.get("title", measures.get("measure", measures["measure_id"])),
    )
    measures[["own_saving", "procedure_saving"]] = procedure_savings(measures)
    order = measures.sort_values(
        ["procedure_saving", "procedure", "measure_id"], ascending=[False, True, True]
    )
    return order.reset_index(drop=True)


def procedure_savings(measures: pd.DataFrame) -> pd.DataFrame:
    """Each row's own saving and its procedure's (VND a year). The procedure's is its option's
    joint saving: ``option_saving_yearly`` where given; ``saving_yearly`` where the row's own is
    ``measure_saving_yearly`` (what :class:`procmine.portfolios.Portfolio` writes); else the sum of
    the procedure's savings."""
    columns = measures.columns
    own = measures[
        "measure_saving_yearly" if "measure_saving_yearly" in columns else "saving_yearly"
    ]
    by_procedure = measures.groupby("procedure", sort=False)
    if "option_saving_yearly" in columns:
        joint = by_procedure["option_saving_yearly"].transform("max")
    elif "measure_saving_yearly" in columns:
        joint = by_procedure["saving_yearly"].transform("max")
    else:
        joint = by_procedure["saving_yearly"].transform("sum")
    return pd.DataFrame({"own_saving": own.astype(float), "procedure_saving": joint.astype(float)})


def procedure_costs(portfolio: Any) -> pd.DataFrame:
    """The portfolio's universe, per procedure (the index): observed_yearly, reviewed,
    in_catalog and the approving ``document`` (empty where the catalog names none)."""
    universe = next(
        (table for table in (getattr(portfolio, "universe", None),
                             getattr(portfolio, "procedures", None))
         if isinstance(table, pd.DataFrame)),
        None,
    )  # fmt: skip
    if universe is None:
        raise TypeError(
            "portfolio.universe (or .procedures) must be a DataFrame with one row per procedure: "
            "procedure, observed_yearly, reviewed, in_catalog (candidates.attrs['universe'])."
        )
    missing = [c for c in ("procedure", "observed_yearly") if c not in universe.columns]
    if missing:
        raise KeyError(f"portfolio.universe lacks the columns {missing}: the plan's costs.")
    defaults = {"reviewed": False, "in_catalog": True, "document": ""}
    table = universe.assign(
        procedure=universe["procedure"].map(nfc),
        observed_yearly=universe["observed_yearly"].astype(float),
        **{key: universe.get(key, pd.Series(value, index=universe.index)).fillna(value)
           for key, value in defaults.items()},
    )  # fmt: skip
    table["document"] = table["document"].map(nfc)
    return table.drop_duplicates("procedure").set_index("procedure")


def portfolio_documents(portfolio: Any) -> dict[str, str]:
    """The approving document of each procedure, where the catalog names one: the portfolio's
    ``documents`` (procedure → text) over its universe's ``document`` column."""
    documents = procedure_costs(portfolio)["document"].to_dict()
    documents.update(
        {
            nfc(name): nfc(text)
            for name, text in (getattr(portfolio, "documents", None) or {}).items()
        }
    )
    return {name: text for name, text in documents.items() if text.strip()}


def procedure_benefits(portfolio: Any) -> pd.DataFrame:
    """Per procedure with a measure: the observed yearly cost before, the joint saving, the
    cost after and the share cut (largest saving first)."""
    measures = checked_measures(portfolio)
    costs = procedure_costs(portfolio)
    table = measures.groupby("procedure", sort=False).agg(saving=("procedure_saving", "first"))
    table["before"] = costs["observed_yearly"].reindex(table.index).astype(float)
    table["after"] = table["before"] - table["saving"]
    table["cut_share"] = table["saving"] / table["before"].where(table["before"] > 0)
    table["in_catalog"] = costs["in_catalog"].reindex(table.index).fillna(False).astype(bool)
    return table


def plan_totals(portfolio: Any) -> dict[str, float]:
    """The catalog's totals the summary states: its procedures, their observed yearly cost
    before and after, the saving and the share cut, the procedures simplified and reviewed."""
    costs = procedure_costs(portfolio)
    catalog = costs[costs["in_catalog"].astype(bool)]
    benefits = procedure_benefits(portfolio)
    counted = benefits[benefits.index.isin(catalog.index)]
    before = float(catalog["observed_yearly"].sum())
    saving = float(counted["saving"].sum())
    return {
        "procedures": len(catalog),
        "before": before,
        "saving": saving,
        "after": before - saving,
        "cut_share": saving / before if before > 0 else math.nan,
        "simplified": len(counted),
        "reviewed": int(catalog["reviewed"].astype(bool).sum()),
    }


def write_plan(portfolio: Any, path: str | Path, lang: str = "vi") -> list[Path]:
    """Write the simplification plan of ``portfolio`` to ``path`` (.docx) and the table of
    :func:`plan_table` beside it (same name, .xlsx and .csv); returns the three paths.

    The portfolio is what :func:`procmine.portfolio` returns: ``measures``, ``summary``,
    ``sensitivity``, ``notes``, ``status``, and ``universe`` (per procedure: observed_yearly,
    reviewed, in_catalog) and ``documents`` (procedure → approving document, may be empty).

    >>> import tempfile
    >>> from types import SimpleNamespace
    >>> summary = pd.DataFrame({"target": ["cost_cut"], "achieved": [0.25], "required": [0.2],
    ...                         "met": [True], "gap": [0.0]})
    >>> chosen = SimpleNamespace(measures=pd.DataFrame(columns=list(REQUIRED)), summary=summary,
    ...     universe=pd.DataFrame({"procedure": ["P"], "observed_yearly": [1e6]}))
    >>> [p.suffix for p in write_plan(chosen, Path(tempfile.mkdtemp()) / "plan.docx")]
    ['.docx', '.xlsx', '.csv']
    """
    path = Path(path)
    if path.suffix.lower() != ".docx":
        raise ValueError(f"path must name a .docx file; got {str(path)!r}.")
    table = plan_table(portfolio, lang)  # checks lang and the portfolio before writing anything
    path.parent.mkdir(parents=True, exist_ok=True)
    document = new_document(lang)
    write_heading(document, words_for(lang))
    write_procedures(document, portfolio, lang)
    write_summary(document, portfolio, lang)
    document.save(path)
    return [path, *write_table(table, path)]


def write_table(table: pd.DataFrame, path: Path) -> list[Path]:
    """The plan's table beside ``path``: .xlsx (VND grouped, the cut as a percentage) and .csv
    (UTF-8 with a byte order mark, so Excel reads the Vietnamese right)."""
    xlsx, csv = path.with_suffix(".xlsx"), path.with_suffix(".csv")
    formats = {COLUMNS[key][i]: "#,##0" for key in VND_COLUMNS for i in range(2)}
    formats.update({COLUMNS["cut_share"][i]: "0.0%" for i in range(2)})
    with pd.ExcelWriter(xlsx, engine="openpyxl") as writer:
        table.to_excel(writer, index=False, sheet_name="plan")
        sheet = writer.sheets["plan"]
        for index, name in enumerate(table.columns, start=1):
            letter = sheet.cell(row=1, column=index).column_letter
            sheet.column_dimensions[letter].width = 14 if name in formats else 40
            for row in range(2, len(table) + 2):
                sheet.cell(row=row, column=index).number_format = formats.get(name, "General")
    table.to_csv(csv, index=False, encoding="utf-8-sig")
    return [xlsx, csv]


def new_document(lang: str) -> Any:
    """An empty A4 document set up per Decree 30/2020/NĐ-CP: the margins, Times New Roman 14 pt
    everywhere (the headings too), justified text, the page number at the top from page 2."""
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    for side, millimetres in MARGINS_MM.items():
        setattr(section, f"{side}_margin", Mm(millimetres))
    styles = document.styles
    defaults = styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    set_font(defaults, BODY_PT)
    language = defaults.find(qn("w:lang"))
    if language is not None:  # Word's proofing language
        language.set(qn("w:val"), "vi-VN" if lang == "vi" else "en-US")
    normal = styles["Normal"]
    set_font(normal.element.get_or_add_rPr(), BODY_PT)
    normal.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    normal.paragraph_format.space_before, normal.paragraph_format.space_after = Pt(3), Pt(3)
    normal.paragraph_format.line_spacing = 1.15
    for name in ("Heading 1", "Heading 2"):
        style = styles[name]
        set_font(style.element.get_or_add_rPr(), BODY_PT)
        style.font.color.rgb = RGBColor(0, 0, 0)  # the template's blue is no official colour
        style.paragraph_format.space_before = Pt(12 if name == "Heading 1" else 6)
        style.paragraph_format.space_after = Pt(3)
    page_number_at_top(section)
    return document


def set_font(rpr: Any, size_pt: int) -> None:
    """Times New Roman at ``size_pt`` on a run-properties element, for every script: the
    template's theme fonts would otherwise win over the name (Word reads ``asciiTheme`` first)."""
    fonts = rpr.get_or_add_rFonts()
    for attribute in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts.attrib.pop(qn(f"w:{attribute}"), None)
    for attribute in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{attribute}"), FONT)
    rpr.sz_val = Pt(size_pt)
    size_cs = rpr.find(qn("w:szCs"))
    if size_cs is not None:
        size_cs.set(qn("w:val"), str(2 * size_pt))


def page_number_at_top(section: Any) -> None:
    """The page number centred in the header, not on the first page (Decree 30, Appendix I)."""
    section.different_first_page_header_footer = True
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    paragraph._p.append(field)  # python-docx has no public API for fields


def add_paragraph(document: Any, text: str, **options: Any) -> Any:
    """A paragraph of ``text`` (NFC), with options ``bold``, ``italic``, ``align`` ("center",
    "right", "left"), ``style`` and ``indent`` (a first-line indent, on by default in prose)."""
    paragraph = document.add_paragraph(style=options.get("style"))
    run = paragraph.add_run(nfc(text))
    run.bold, run.italic = options.get("bold"), options.get("italic")
    align = options.get("align")
    if align:
        paragraph.alignment = getattr(WD_ALIGN_PARAGRAPH, align.upper())
    if options.get("indent", not align and not options.get("style")):
        paragraph.paragraph_format.first_line_indent = Mm(10)
    return paragraph


def write_heading(document: Any, words: dict[str, str]) -> None:
    """The national header (quốc hiệu and tiêu ngữ), the place-and-date line and the title."""
    add_paragraph(document, words["country"], bold=True, align="center")
    motto = add_paragraph(document, words["motto"], bold=True, align="center")
    motto.runs[0].underline = True
    add_paragraph(document, words["date"], italic=True, align="right")
    add_paragraph(document, words["title"], bold=True, align="center")
    add_paragraph(document, words["subtitle"], bold=True, align="center")


def write_procedures(document: Any, portfolio: Any, lang: str) -> None:
    """Part A: one section (a level-1 heading) per procedure with an adopted measure."""
    words = words_for(lang)
    rows = measure_rows(portfolio, lang)
    benefits = procedure_benefits(portfolio)
    documents = portfolio_documents(portfolio)
    add_paragraph(document, words["part_procedures"], bold=True, align="left")
    if rows.empty:
        add_paragraph(document, words["none"])
    for number, (procedure, measures) in enumerate(rows.groupby("procedure", sort=False), 1):
        document.add_heading(nfc(f"{roman(number)}. {procedure}"), level=1)
        document.add_heading(words["content"], level=2)
        for measure in measures.itertuples(index=False):  # a loop over measures, not events
            days = format_number(measure.working_days_saved, lang, 2)
            add_paragraph(document, f"- {measure.title} ({words['days'].format(value=days)})")
            add_paragraph(document, f"{words['reason']} {measure.reason}", italic=True)
        document.add_heading(words["recommend"], level=2)
        named = documents.get(procedure)
        add_paragraph(
            document, words["amend"].format(document=named) if named else words["amend_unknown"]
        )
        for change in measures["change"]:
            add_paragraph(document, f"- {change}.")
        write_benefit(document, benefits.loc[procedure], len(measures) > 1, lang)


def write_benefit(document: Any, benefit: pd.Series, joint: bool, lang: str) -> None:
    """Section 3 of a procedure: the cost before, after, the saving and the share cut."""
    words = words_for(lang)
    document.add_heading(words["benefit"], level=2)
    for key in ("before", "after", "saving"):
        add_paragraph(document, "- " + words[key].format(value=format_vnd(benefit[key], lang)))
    cut = format_percent(benefit["cut_share"], lang)
    add_paragraph(document, "- " + words["cut"].format(value=cut))
    if joint:
        add_paragraph(document, words["joint"], italic=True)


def write_summary(document: Any, portfolio: Any, lang: str) -> None:
    """Part B: each target with what the portfolio achieves, met or not, the gap, and the same
    if every saving came 30 % lower; then the catalog's totals, the status and the notes."""
    words = words_for(lang)
    add_paragraph(document, words["part_summary"], bold=True, align="left")
    summary = getattr(portfolio, "summary", None)
    summary = summary if isinstance(summary, pd.DataFrame) else pd.DataFrame()
    sensitivity = getattr(portfolio, "sensitivity", None)
    lower = (
        sensitivity.set_index("target")
        if isinstance(sensitivity, pd.DataFrame) and "target" in sensitivity.columns
        else pd.DataFrame()
    )

    def verdict(met: Any) -> str:
        return MISSING if met is None or pd.isna(met) else words["met" if met else "not_met"]

    header = [words[key] for key in ("target", "required", "achieved", "verdict", "gap")]
    body = []
    for target in summary.itertuples(index=False):  # a loop over the three targets
        row = lower.loc[target.target] if target.target in lower.index else None
        gap = target.gap if pd.notna(target.gap) and target.gap > 0 else None
        body.append(
            [words.get(target.target, nfc(target.target)), format_percent(target.required, lang),
             format_percent(target.achieved, lang), verdict(target.met),
             format_percent(gap, lang),
             MISSING if row is None else
             f"{format_percent(row['achieved'], lang)} ({verdict(row['met'])})"]
        )  # fmt: skip
    add_table(document, [*header, words["sensitivity"]], body)
    totals = plan_totals(portfolio)
    add_paragraph(document, words["totals"].format(
        n=totals["procedures"], before=format_vnd(totals["before"], lang),
        after=format_vnd(totals["after"], lang), saving=format_vnd(totals["saving"], lang),
        cut=format_percent(totals["cut_share"], lang), simplified=totals["simplified"],
        reviewed=totals["reviewed"],
    ))  # fmt: skip
    status = nfc(getattr(portfolio, "status", ""))
    if status and status != "optimal":
        add_paragraph(document, words["status"].format(status=status), italic=True)
    notes = [nfc(note) for note in getattr(portfolio, "notes", None) or []]
    if notes:
        add_paragraph(document, words["notes"], bold=True, align="left")
        for note in notes:
            add_paragraph(document, f"- {note}")


def add_table(document: Any, header: list[str], body: list[list[str]]) -> Any:
    """A bordered table, its header row bold, its text Times New Roman 13 pt, left-aligned."""
    table = document.add_table(rows=1 + len(body), cols=len(header))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for row_index, values in enumerate([header, *body]):
        for cell, value in zip(table.rows[row_index].cells, values, strict=True):
            paragraph = cell.paragraphs[0]
            paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT
            run = paragraph.add_run(nfc(value))
            run.font.size = Pt(TABLE_PT)
            run.bold = row_index == 0 or None
    return table


def roman(number: int) -> str:
    """``number`` in Roman numerals, as the plan numbers its procedures.

    >>> roman(4), roman(14)
    ('IV', 'XIV')
    """
    numerals = zip(
        (1000, 900, 500, 400, 100, 90, 50, 40, 10, 9, 5, 4, 1),
        ("M", "CM", "D", "CD", "C", "XC", "L", "XL", "X", "IX", "V", "IV", "I"),
        strict=True,
    )
    text = ""
    for value, numeral in numerals:
        count, number = divmod(number, value)
        text += numeral * count
    return text
