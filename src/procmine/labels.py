"""The words people read instead of column names: each figure's column in Vietnamese or English,
and how its values are written.

The report's tables (HTML, PDF, XLSX) show no snake_case name: :func:`readable` renames the
columns with :data:`COLUMNS` and writes every value as the reader's language writes it (numbers
``1.234,5``, shares ``12,5%``, dates ``dd/mm/yyyy`` in Vietnamese), by the column's kind
(:func:`column_kind`). The CSV files keep the stable column names for programs.

>>> frame = pd.DataFrame({"department": ["Văn phòng"], "excess_bounces": [1234],
...                       "on_time_rate": [0.875]})
>>> readable(frame, "vi").iloc[0].tolist()
['Văn phòng', '1.234', '87,5%']
>>> list(readable(frame, "en").columns)
['Department', 'Excess bounces', 'On-time rate (early included)']
"""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd

from procmine.formats import LANGUAGES, MISSING, format_date, format_number, format_percent

__all__ = ["COLUMNS", "column_kind", "label", "readable"]

Kind = Literal["text", "count", "hours", "days", "share", "vnd", "date", "datetime", "number"]

# Every column a report table shows: (Vietnamese, English).
COLUMNS: dict[str, tuple[str, str]] = {
    # keys
    "procedure": ("Thủ tục", "Procedure"),
    "department": ("Phòng ban", "Department"),
    "department_a": ("Phòng ban A", "Department A"),
    "department_b": ("Phòng ban B", "Department B"),
    "resource": ("Cán bộ", "Official"),
    "activity": ("Bước xử lý", "Step"),
    "source": ("Phòng chuyển", "From department"),
    "target": ("Phòng nhận", "To department"),
    "month": ("Tháng", "Month"),
    "case_id": ("Mã hồ sơ", "Case"),
    "rank": ("Hạng", "Rank"),
    "figure": ("Chỉ số", "Figure"),
    "value": ("Giá trị", "Value"),
    # volumes
    "cases": ("Số hồ sơ", "Cases"),
    "events": ("Số bước đã thực hiện", "Events"),
    "judged": ("Hồ sơ có thời hạn", "Cases with a deadline"),
    "handoffs": ("Lượt chuyển", "Handoffs"),
    "bounces": ("Lượt trả qua trả lại", "Bounces"),
    "excess_bounces": ("Lượt trả qua trả lại vượt quy trình", "Excess bounces"),
    "returns": ("Lượt trả lại (hệ thống ghi)", "Returns (recorded)"),
    "pingpong_cases": ("Hồ sơ bị đùn đẩy", "Ping-pong cases"),
    "example_cases": ("Hồ sơ ví dụ", "Example cases"),
    # time
    "working_hours": ("Giờ làm việc nắm giữ", "Working hours held"),
    "working_hours_lost": ("Giờ làm việc mất do đùn đẩy", "Working hours lost"),
    "median_working_hours": ("Trung vị (giờ làm việc)", "Median (working hours)"),
    "p90_working_hours": ("Phân vị 90 (giờ làm việc)", "90th percentile (working hours)"),
    "share": ("Tỷ trọng thời gian", "Share of working time"),
    "median_working_days": ("Trung vị thời gian giải quyết (ngày làm việc)",
                            "Median time to complete (working days)"),
    "overrun_working_days": ("Số ngày làm việc trễ", "Working days late"),
    "completed": ("Ngày hoàn thành", "Completed"),
    "received_on": ("Ngày tiếp nhận", "Received"),
    "held_since": ("Giữ từ", "Held since"),
    "working_hours_held": ("Giờ làm việc đã giữ đến nay", "Working hours held so far"),
    "working_days_left": ("Số ngày làm việc còn lại", "Working days left"),
    "open_cases": ("Hồ sơ đang giải quyết", "Open dossiers"),
    "overdue_cases": ("Đã quá hạn", "Overdue"),
    "due_soon_cases": ("Sắp đến hạn", "Due soon"),
    "median_working_hours_held": ("Trung vị giờ làm việc đang giữ", "Median working hours held"),
    "due": ("Hạn giải quyết", "Due"),
    # deadlines
    "on_time": ("Đúng hạn", "On time"),
    "early": ("Trước hạn", "Early"),
    "open": ("Chưa hoàn thành", "Open"),
    "overdue": ("Quá hạn", "Overdue"),
    "explained": ("Có giải trình", "Explained"),
    "pingpong": ("Bị đùn đẩy", "Ping-pong case"),
    "working_days": ("Thời gian giải quyết (ngày làm việc)", "Working days taken"),
    "deadline_working_days": ("Thời hạn (ngày làm việc)", "Deadline (working days)"),
    "late": ("Trễ hạn", "Late"),
    "on_time_rate": ("Tỷ lệ trước và đúng hạn", "On-time rate (early included)"),
    "late_share": ("Tỷ lệ trễ hạn", "Late share"),
    "carried_over": ("Kỳ trước chuyển sang", "Carried over"),
    "received": ("Tiếp nhận mới", "Received"),
    "done": ("Đã giải quyết", "Done"),
    "pending": ("Đang giải quyết", "Pending"),
    "pending_overdue": ("Đang giải quyết, quá hạn", "Pending, overdue"),
    "early_cases": ("Trước hạn", "Early"),
    "early_share": ("Tỷ lệ trước hạn", "Early share"),
    "on_time_cases": ("Đúng hạn", "On time"),
    "on_time_share": ("Tỷ lệ đúng hạn", "On-time share"),
    "late_cases": ("Trễ hạn", "Late"),
    "late_cases_held": ("Hồ sơ trễ hạn do đơn vị gây ra", "Late cases it held"),
    "department_held_overrun": ("Phòng ban gây trễ", "Department that held the overrun"),
    "resource_held_overrun": ("Cán bộ gây trễ", "Official who held the overrun"),
    # conformance
    "skipped_step": ("Bỏ bước", "Skipped step"),
    "step_not_in_procedure": ("Bước ngoài quy trình", "Step not in the procedure"),
    "wrong_department": ("Sai phòng ban", "Wrong department"),
    "repeated_step": ("Lặp bước", "Repeated step"),
    "out_of_order": ("Sai thứ tự", "Out of order"),
    "total": ("Tổng sai lệch", "Deviations"),
    "cases_checked": ("Hồ sơ được đối chiếu", "Cases checked"),
    "mean_fitness": ("Mức phù hợp trung bình", "Mean fitness"),
    # cost
    "runs_per_year": ("Số lần thực hiện/năm", "Runs a year"),
    "prescribed_minutes": ("Phút làm việc theo quy trình/lần", "Prescribed minutes a run"),
    "prescribed_cost": ("Chi phí theo quy trình/lần (đồng)", "Prescribed cost a run (VND)"),
    "observed_minutes": ("Phút làm việc thực tế/lần", "Observed minutes a run"),
    "observed_cost": ("Chi phí thực tế/lần (đồng)", "Observed cost a run (VND)"),
    "in_catalog": ("Có trong danh mục", "In the catalog"),
    "prescribed_yearly": ("Chi phí tuân thủ theo quy trình (đồng/năm)",
                          "Prescribed compliance cost (VND/year)"),
    "observed_yearly": ("Chi phí tuân thủ thực tế (đồng/năm)",
                        "Observed compliance cost (VND/year)"),
    "extra_share": ("Phần phát sinh ngoài quy trình", "Extra beyond the procedure"),
    # portfolio
    "title": ("Phương án", "Measure"),
    "measure_saving_yearly": ("Tiết kiệm (đồng/năm)", "Saving (VND/year)"),
    "working_days_saved": ("Ngày làm việc rút ngắn/hồ sơ", "Working days saved per case"),
    "effort_person_days": ("Công sức (ngày công)", "Effort (person-days)"),
    "evidence_text": ("Bằng chứng", "Evidence"),
    "target_name": ("Chỉ tiêu", "Target"),
    "achieved": ("Đạt được", "Achieved"),
    "required": ("Yêu cầu", "Required"),
    "met": ("Đạt", "Met"),
    "if_lower": ("Nếu tiết kiệm thấp hơn 30%", "If savings are 30% lower"),
    "target_key": ("Mã chỉ tiêu", "Target key"),
    "gap": ("Còn thiếu", "Gap"),
    "amount": ("Đạt được (số lượng)", "Achieved (amount)"),
    "required_amount": ("Yêu cầu (số lượng)", "Required (amount)"),
    "base": ("Tổng số", "Base"),
    "unit": ("Đơn vị tính", "Unit"),
    "measure_id": ("Mã biện pháp", "Measure id"),
    "measure": ("Loại biện pháp", "Measure type"),
    "activities": ("Các bước", "Steps"),
    "departments": ("Các phòng ban", "Departments"),
    "change": ("Nội dung thay đổi", "Change"),
    "evidence": ("Số liệu bằng chứng", "Evidence figures"),
    "case_ids": ("Mã hồ sơ liên quan", "Cases behind it"),
    "saving_yearly": ("Tiết kiệm khi thực hiện riêng (đồng/năm)", "Saving alone (VND/year)"),
    "saving_yearly_low": ("Tiết kiệm, cận dưới (đồng/năm)", "Saving, low (VND/year)"),
    "saving_yearly_high": ("Tiết kiệm, cận trên (đồng/năm)", "Saving, high (VND/year)"),
    "saving_share": ("Tỷ lệ tiết kiệm", "Saving share"),
    "on_time_rate_before": ("Tỷ lệ đúng hạn trước", "On-time rate before"),
    "on_time_rate_after": ("Tỷ lệ đúng hạn sau", "On-time rate after"),
    "risk": ("Rủi ro", "Risk"),
    "option": ("Phương án của thủ tục", "Procedure's option"),
    "option_saving_yearly": ("Tiết kiệm của phương án (đồng/năm)", "Option's saving (VND/year)"),
    "option_working_days_saved": ("Ngày làm việc rút ngắn của phương án",
                                  "Option's working days saved"),
    "option_effort_person_days": ("Công sức của phương án (ngày công)",
                                  "Option's effort (person-days)"),
    # why dossiers are late (drivers, clusters)
    "driver": ("Yếu tố", "Driver"),
    "importance_text": ("Mức ảnh hưởng (AUC giảm khi xáo trộn yếu tố; khoảng 95%)",
                        "Importance (AUC lost when it is shuffled; 95% interval)"),
    "text": ("Trễ hạn khi có và khi không có yếu tố", "Late with and without it"),
    "cluster": ("Nhóm", "Group"),
    "members": ("Các thủ tục", "Procedures"),
    "pingpong_share": ("Tỷ lệ hồ sơ bị đùn đẩy", "Ping-pong share"),
    "rework_share": ("Tỷ lệ hồ sơ làm lại bước", "Rework share"),
    "suggestion": ("Đặc điểm và biện pháp phù hợp", "Profile and the measures that suit it"),
}  # fmt: skip

_SHARES = {"share", "on_time_rate", "late_share", "early_share", "on_time_share", "extra_share",
           "mean_fitness", "achieved", "required", "if_lower", "gap", "saving_share",
           "on_time_rate_before", "on_time_rate_after", "pingpong_share",
           "rework_share"}  # fmt: skip
_VND = {"prescribed_yearly", "observed_yearly", "measure_saving_yearly", "prescribed_cost",
        "observed_cost", "saving_yearly", "saving_yearly_low", "saving_yearly_high",
        "option_saving_yearly"}  # fmt: skip


def label(column: str, lang: str = "vi") -> str:
    """The reader's word for ``column`` (the name itself when it has none).

    >>> label("excess_bounces"), label("excess_bounces", "en"), label("unknown_column")
    ('Lượt trả qua trả lại vượt quy trình', 'Excess bounces', 'unknown_column')
    """
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {list(LANGUAGES)}; got {lang!r}.")
    words = COLUMNS.get(column)
    return column if words is None else words[LANGUAGES.index(lang)]


def column_kind(column: str, values: pd.Series) -> Kind:
    """How a column's values are written: a share as a percentage, an amount in đồng, working
    hours and days with one decimal, a count as a whole number, a date as a date.

    >>> column_kind("on_time_rate", pd.Series([0.5])), column_kind("cases", pd.Series([3]))
    ('share', 'count')
    """
    if column in _SHARES:
        return "share"
    if column in _VND:
        return "vnd"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "date"
    if "hours" in column:
        return "hours"
    if "days" in column:
        return "days"
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return "text"
    return "count" if pd.api.types.is_integer_dtype(values) else "number"


def _written(value: Any, kind: Kind, lang: str) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return MISSING
    if kind == "share":
        return format_percent(value, lang)
    if kind == "date":
        return format_date(value, lang)
    if kind in ("hours", "days", "number"):
        return format_number(value, lang, 1)
    if kind in ("count", "vnd"):
        return format_number(value, lang)
    if isinstance(value, bool):
        return {True: ("có", "yes"), False: ("không", "no")}[value][LANGUAGES.index(lang)]
    return str(value)


def readable(frame: pd.DataFrame, lang: str = "vi") -> pd.DataFrame:
    """``frame`` as a reader sees it: columns named in ``lang`` (:func:`label`) and every value
    written as text the way ``lang`` writes it (see the module's example)."""
    shown = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        kind = column_kind(str(column), frame[column])
        shown[label(str(column), lang)] = [_written(v, kind, lang) for v in frame[column]]
    return shown.reset_index(drop=True)
