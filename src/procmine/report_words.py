"""The report's own words — titles, the question each page answers, notes and the methods
appendix — in Vietnamese and English, under the same keys (a test checks both languages have
every key). Column labels live in :mod:`procmine.labels`.

>>> WORDS["vi"]["headline_title"], WORDS["en"]["headline_title"]
('Tổng quan', 'At a glance')
"""

from __future__ import annotations

__all__ = ["WORDS"]

_VI = {
    "title": "Báo cáo phân tích quy trình xử lý hồ sơ nội bộ",
    "subtitle": "Dữ liệu từ {start} đến {end}",
    "contents": "Nội dung",
    "notes": "Lưu ý",
    "whole_period": "Cả kỳ",
    "change": "Thay đổi so với tháng trước",
    "month_rule": "Hồ sơ được tính vào tháng hoàn thành.",
    "no_closing": "Không biết bước kết thúc của thủ tục (không có danh mục quy trình, không cấu"
    " hình closing_activities): mọi hồ sơ được coi là đã hoàn thành ở sự kiện cuối cùng, nên"
    " không có hồ sơ đang giải quyết.",
    "some_unclosed": "{n} thủ tục không có trong danh mục quy trình: hồ sơ của chúng được coi là"
    " đã hoàn thành ở sự kiện cuối cùng.",
    "headline_title": "Tổng quan",
    "headline_lead": "Các chỉ số chính của kỳ báo cáo và của tháng gần nhất so với tháng trước.",
    "headline_table": "Chỉ số chính",
    "figure_cases": "Số hồ sơ",
    "figure_events": "Số bước đã thực hiện",
    "figure_procedures": "Số thủ tục",
    "figure_on_time_rate": "Tỷ lệ hồ sơ đúng hạn",
    "figure_late_cases": "Số hồ sơ trễ hạn",
    "figure_open_cases": "Số hồ sơ đang giải quyết",
    "figure_overdue_cases": "Số hồ sơ đang giải quyết đã quá hạn",
    "figure_median_working_days": "Thời gian giải quyết (trung vị, ngày làm việc)",
    "figure_pingpong_cases": "Số hồ sơ bị đùn đẩy giữa các phòng",
    "figure_working_hours_lost": "Giờ làm việc mất do đùn đẩy",
    "on_time_title": "Tỷ lệ đúng hạn",
    "on_time_lead": "Hồ sơ có được giải quyết đúng hạn không, theo tháng và theo đơn vị?",
    "no_deadlines": "Không có thời hạn giải quyết (danh mục quy trình hoặc cột hạn của dữ liệu)"
    " nên không tính được tỷ lệ đúng hạn.",
    "on_time_chart": "Tỷ lệ đúng hạn theo tháng hoàn thành",
    "on_time_by_unit": "Tỷ lệ đúng hạn theo đơn vị (thấp nhất trước)",
    "monthly_title": "Danh sách đơn vị, cá nhân xử lý hồ sơ trễ hạn",
    "monthly_lead": "Đơn vị và cán bộ nào để hồ sơ trễ hạn trong tháng? (danh sách công khai"
    " hằng tháng)",
    "monthly_by_department": "Đơn vị xử lý trễ hạn, tháng {month}",
    "monthly_by_resource": "Cán bộ xử lý trễ hạn, tháng {month}",
    "agency": "Toàn cơ quan",
    "status_optimal": "Các biện pháp được chọn đạt các chỉ tiêu với ít công sức nhất.",
    "status_unreachable": "Không bộ biện pháp nào đạt đủ các chỉ tiêu; đây là bộ gần chỉ tiêu"
    " nhất.",
    "weekdays": ["thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật"],
    "holidays_of": "ngày lễ, Tết của {country}",
    "no_holidays": "không trừ ngày lễ",
    "calendar_text": "giờ hành chính {hours} ({minutes} phút/ngày); nghỉ {weekend}; {holidays}",
    "monthly_rule": "Hồ sơ thuộc đơn vị khi đơn vị thực hiện ít nhất một bước của hồ sơ."
    " Trước hạn: hoàn thành trước ngày đến hạn; đúng hạn: trong ngày đến hạn; trễ hạn: sau hạn."
    " Tỷ lệ tính trên số hồ sơ đã giải quyết có thời hạn.",
    "monthly_officials": "Trang này liệt kê tối đa {n} cán bộ có hồ sơ trễ hạn hoặc đang quá"
    " hạn; danh sách đầy đủ trong tables.xlsx.",
    "open_title": "Hồ sơ sắp đến hạn, quá hạn",
    "open_lead": "Hồ sơ nào đang giải quyết đã quá hạn hoặc sắp đến hạn, đang nằm ở đâu?",
    "no_open": "Không có hồ sơ đang giải quyết tại thời điểm báo cáo.",
    "open_count": "{open} hồ sơ đang giải quyết; {risk} hồ sơ đã quá hạn hoặc còn không quá"
    " {soon} ngày làm việc (ít ngày còn lại nhất trước).",
    "open_table": "Hồ sơ cần đôn đốc",
    "open_by_unit": "Hồ sơ đang giải quyết theo đơn vị đang giữ",
    "pseudonymised": "Tên cán bộ được thay bằng mã (Nghị định 13/2023/NĐ-CP về bảo vệ dữ liệu"
    " cá nhân); cùng một người luôn có cùng một mã.",
    "late_title": "Hồ sơ trễ hạn chưa có văn bản giải trình",
    "late_lead": "Hồ sơ nào trễ hạn mà chưa có giải trình, xin lỗi hoặc xin gia hạn?",
    "late_count": "{n} hồ sơ trễ hạn chưa giải trình; trễ nhiều nhất trước.",
    "late_table": "Hồ sơ cần yêu cầu giải trình",
    "pingpong_title": "Đùn đẩy giữa các phòng ban",
    "pingpong_lead": "Hồ sơ bị chuyển qua chuyển lại giữa những phòng nào, mất bao nhiêu thời"
    " gian?",
    "reference_most_frequent": "Không có danh mục quy trình được phê duyệt: đường đi chuẩn của"
    " mỗi thủ tục là đường đi thường gặp nhất; nếu đường đó không chuyển qua lại thì mọi lượt"
    " trả qua trả lại đều tính là vượt quy trình.",
    "reference_catalog": "Danh mục quy trình nội bộ được phê duyệt",
    "network_title": "Chuyển hồ sơ giữa các phòng ban và các cặp đùn đẩy",
    "pingpong_table": "Các cặp phòng ban đùn đẩy nhiều nhất",
    "no_departments": "Dữ liệu không có cột phòng ban nên không tính được chuyển giao và đùn đẩy.",
    "why_late_title": "Vì sao hồ sơ trễ hạn",
    "why_late_lead": "Điều gì khiến hồ sơ trễ hạn, và những thủ tục nào có chung vấn đề để một "
    "biện pháp giải quyết được nhiều thủ tục?",
    "drivers_chart": "Các yếu tố làm hồ sơ trễ hạn (mức ảnh hưởng và khoảng tin cậy 95%)",
    "drivers_table": "Các yếu tố làm hồ sơ trễ hạn, đo trên những tháng gần nhất",
    "drivers_method": "Mô hình học từ các hồ sơ đã hoàn thành (gradient boosting), kiểm tra trên "
    "các tháng tiếp nhận gần nhất chưa dùng để học; mức ảnh hưởng là phần điểm số mất đi khi "
    "xáo trộn yếu tố đó. Tỷ lệ có/không có yếu tố là mối liên hệ, chưa phải quan hệ nhân quả.",
    "clusters_table": "Nhóm thủ tục có đặc điểm giống nhau",
    "bottleneck_title": "Điểm nghẽn",
    "bottleneck_lead": "Thời gian làm việc bị giữ lại ở bước, phòng ban và khâu chuyển giao nào?",
    "bottleneck_by_activity": "Theo bước xử lý",
    "bottleneck_by_department": "Theo phòng ban",
    "bottleneck_by_handoff": "Theo khâu chuyển giao giữa hai phòng",
    "procedures_title": "Từng thủ tục",
    "procedures_lead": "Mỗi thủ tục chạy thế nào so với quy trình được phê duyệt, và tốn bao"
    " nhiêu?",
    "procedures_table": "Thủ tục: đúng hạn, sai lệch so với quy trình, chi phí tuân thủ",
    "map_title": "Bản đồ quy trình (thời gian: trung vị giờ làm việc mỗi bước và mỗi lần"
    " chuyển): {procedure}",
    "maps_note": "Bản đồ của {n} thủ tục nhiều hồ sơ nhất; ô và mũi tên càng đỏ càng giữ hồ sơ"
    " lâu.",
    "bottleneck_examples": "Hồ sơ ví dụ: những hồ sơ bị giữ lâu nhất ở đó.",
    "portfolio_title": "Phương án đơn giản hóa so với chỉ tiêu",
    "portfolio_lead": "Những biện pháp nào đạt chỉ tiêu đơn giản hóa 20% thủ tục và cắt giảm 20%"
    " chi phí tuân thủ?",
    "no_steps_portfolio": "Nhật ký luân chuyển hồ sơ chỉ ghi hồ sơ được chuyển giữa các đơn vị, "
    "không ghi các bước xử lý: chi phí tuân thủ, phương án đơn giản hóa và danh mục phương án cần "
    "nhật ký các bước xử lý.",
    "no_steps_explanations": "Nhật ký luân chuyển hồ sơ không ghi các bước xử lý, nên không biết "
    "hồ sơ nào đã có văn bản giải trình: danh sách này gồm mọi hồ sơ trễ hạn.",
    "no_steps_maps": "Nhật ký luân chuyển hồ sơ không ghi các bước xử lý, nên không có bản đồ quy "
    "trình, đối chiếu với quy trình được phê duyệt hay thời hạn từng bước; các số liệu theo đơn "
    "vị, lượt chuyển, trả lại và đúng hạn ở trên được tính từ chuỗi luân chuyển.",
    "no_catalog_portfolio": "Cần danh mục quy trình được phê duyệt để tính chi phí tuân thủ và"
    " phương án đơn giản hóa.",
    "portfolio_chart": "Tiến độ so với chỉ tiêu (vạch đen: mức yêu cầu)",
    "portfolio_summary": "Kết quả so với chỉ tiêu",
    "portfolio_measures": "Các biện pháp đề xuất thực hiện",
    "target_simplified_share": "Tỷ lệ thủ tục nội bộ được đơn giản hóa",
    "target_cost_cut": "Tỷ lệ cắt giảm chi phí tuân thủ",
    "target_reviewed_share": "Tỷ lệ thủ tục nội bộ được rà soát",
    "methods_title": "Phương pháp",
    "methods_lead": "Các định nghĩa, lịch làm việc và dữ liệu dùng cho báo cáo.",
    "methods_facts": "Dữ liệu và lịch làm việc",
    "methods_definitions": "Định nghĩa",
    "method_reference": "Đường đi chuẩn",
    "method_department": "Cột phòng ban",
    "method_form": "Dạng nhật ký",
    "form_steps": "các bước xử lý (mỗi dòng một bước)",
    "form_transfers": "luân chuyển hồ sơ (mỗi dòng một lần chuyển): {main} lượt chuyển xử lý, "
    "{returns} lượt trả lại, {side} lượt gửi phối hợp hoặc để biết (không tính vào chuỗi), "
    "{closing} lượt hoàn thành; {out_of_chain} lượt chuyển bởi đơn vị không giữ hồ sơ",
    "method_timezone": "Múi giờ",
    "method_calendar": "Lịch làm việc",
    "method_rows": "Số dòng dữ liệu",
    "rows_text": "đọc {read}, dùng {kept}, cách ly {quarantined}",
    "definitions": [
        ("Chuyển giao", "Hai phòng ban liên tiếp trong chuỗi phòng ban của hồ sơ (A → B)."),
        ("Trả qua trả lại", "Hồ sơ đi từ phòng A sang phòng B rồi quay lại A."),
        (
            "Vượt quy trình",
            "Lượt trả qua trả lại ngoài những lượt quy trình được phê duyệt quy"
            " định; hồ sơ có ít nhất một lượt như vậy là hồ sơ bị đùn đẩy.",
        ),
        (
            "Giờ làm việc",
            "Tính theo lịch làm việc: giờ hành chính, trừ ngày nghỉ cuối tuần, lễ,"
            " Tết (xem lịch làm việc ở trên).",
        ),
        (
            "Đúng hạn",
            "Hồ sơ hoàn thành không muộn hơn hạn giải quyết: ngày tiếp nhận cộng số"
            " ngày làm việc của thời hạn.",
        ),
        (
            "Trễ hạn chưa giải trình",
            "Hồ sơ trễ hạn không có bước giải trình, xin lỗi hoặc xin gia hạn.",
        ),
        (
            "Chi phí tuân thủ",
            "Thời gian làm việc của cán bộ theo quy trình × chi phí một giờ"
            " theo ngạch, bậc (Thông tư 02/2017/TT-VPCP) × số lần thực hiện một năm.",
        ),
        ("Thủ tục được đơn giản hóa", "Thủ tục có ít nhất một biện pháp được chọn."),
    ],
}

_EN = {
    "title": "Internal procedures: process analysis report",
    "subtitle": "Data from {start} to {end}",
    "contents": "Contents",
    "notes": "Notes",
    "whole_period": "Whole period",
    "change": "Change on the month before",
    "month_rule": "A case counts in the month it was completed in.",
    "no_closing": "No closing step is known (no catalog, no closing_activities configured): every"
    " case counts as complete at its last event, so none is open.",
    "some_unclosed": "{n} procedures are not in the catalog: their cases count as complete at"
    " their last event.",
    "headline_title": "At a glance",
    "headline_lead": "The main figures of the period, and of the last month against the one"
    " before.",
    "headline_table": "Main figures",
    "figure_cases": "Cases",
    "figure_events": "Steps done",
    "figure_procedures": "Procedures",
    "figure_on_time_rate": "On-time rate",
    "figure_late_cases": "Late cases",
    "figure_open_cases": "Open cases",
    "figure_overdue_cases": "Open cases past their due date",
    "figure_median_working_days": "Time to complete (median, working days)",
    "figure_pingpong_cases": "Cases bounced between departments (ping-pong)",
    "figure_working_hours_lost": "Working hours lost to ping-pong",
    "on_time_title": "On time",
    "on_time_lead": "Are cases completed on time, month by month and unit by unit?",
    "no_deadlines": "No deadlines (neither a catalog nor a deadline column in the data), so no"
    " on-time figure.",
    "on_time_chart": "On-time rate by month of completion",
    "on_time_by_unit": "On-time rate by unit (lowest first)",
    "monthly_title": "Units and officials that process late",
    "monthly_lead": "Which units and officials let cases run late this month? (the public"
    " monthly list)",
    "monthly_by_department": "Units processing late, {month}",
    "monthly_by_resource": "Officials processing late, {month}",
    "agency": "Whole agency",
    "status_optimal": "The chosen measures meet the targets with the least effort.",
    "status_unreachable": "No set of measures meets every target; this is the closest.",
    "weekdays": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "holidays_of": "public holidays of {country}",
    "no_holidays": "no public holidays",
    "calendar_text": "office hours {hours} ({minutes} min a day); weekend {weekend}; {holidays}",
    "monthly_rule": "A case belongs to a unit when the unit did one of its steps. Early:"
    " completed before the due date's day; on time: on that day; late: after the due date."
    " Shares are of the cases done that have a deadline.",
    "monthly_officials": "This page lists at most {n} officials with late or overdue cases;"
    " the full list is in tables.xlsx.",
    "open_title": "Open dossiers at risk",
    "open_lead": "Which open dossiers are past or near their due date, and where are they?",
    "no_open": "No dossier is open at the moment of the report.",
    "open_count": "{open} open dossiers; {risk} of them are overdue or due within {soon} working"
    " days (fewest days left first).",
    "open_table": "Dossiers to chase",
    "open_by_unit": "Open dossiers by the unit holding them",
    "pseudonymised": "Officials' names are replaced by codes (Decree 13/2023/NĐ-CP on personal"
    " data); one person always has the same code.",
    "late_title": "Late cases without an explanation",
    "late_lead": "Which late cases carry no explanation, apology or extension request?",
    "late_count": "{n} late cases without an explanation; the largest overrun first.",
    "late_table": "Cases to ask an explanation for",
    "pingpong_title": "Ping-pong between departments",
    "pingpong_lead": "Between which departments is work bounced back and forth, and what does it"
    " cost in time?",
    "reference_most_frequent": "No approved-procedure catalog: each procedure's reference path"
    " is its most frequent one; where that path has no round trip, every bounce counts as"
    " excess.",
    "reference_catalog": "The approved internal-procedure catalog",
    "network_title": "Handoffs between departments and the ping-pong pairs",
    "pingpong_table": "The worst ping-pong pairs",
    "no_departments": "The data has no department column, so there are no handoffs and no"
    " ping-pong figures.",
    "why_late_title": "Why dossiers are late",
    "why_late_lead": "What makes dossiers late, and which procedures share a problem, so that one "
    "measure fixes several?",
    "drivers_chart": "What makes dossiers late (importance and its 95% interval)",
    "drivers_table": "The drivers of lateness, measured on the latest months",
    "drivers_method": "A model learnt from the completed dossiers (gradient boosting), tested on "
    "the latest months of receipts it did not learn from; a driver's importance is the score lost "
    "when it is shuffled. The late rates with and without it are an association, not a cause.",
    "clusters_table": "Groups of procedures that behave alike",
    "bottleneck_title": "Bottlenecks",
    "bottleneck_lead": "Where is working time held: at which step, department and handoff?",
    "bottleneck_by_activity": "By step",
    "bottleneck_by_department": "By department",
    "bottleneck_by_handoff": "By handoff between two departments",
    "procedures_title": "Procedure by procedure",
    "procedures_lead": "How does each procedure run against its approved path, and what does it"
    " cost?",
    "procedures_table": "Procedures: on time, deviations from the approved path, compliance cost",
    "map_title": "Process map (time: median working hours of each step and each transition):"
    " {procedure}",
    "maps_note": "The maps of the {n} procedures with the most cases; the redder a box or an"
    " arrow, the longer it holds cases.",
    "bottleneck_examples": "Example cases: those held there the longest.",
    "portfolio_title": "Simplification portfolio against the targets",
    "portfolio_lead": "Which measures simplify 20% of the procedures and cut 20% of their"
    " compliance cost?",
    "no_steps_portfolio": "A transfer history records how dossiers moved between departments, "
    "not their steps: the compliance cost, the simplification candidates and the portfolio need "
    "a step log.",
    "no_steps_explanations": "A transfer history records no steps, so it cannot tell which late "
    "dossiers were explained: this list holds every late dossier.",
    "no_steps_maps": "A transfer history has no steps, so there are no process maps, no "
    "conformance to the approved procedure and no step allotments; the department, handoff, "
    "return and on-time figures above come from the chain of custody.",
    "no_catalog_portfolio": "The compliance cost and the portfolio need the approved-procedure"
    " catalog.",
    "portfolio_chart": "Progress against the targets (black mark: what is required)",
    "portfolio_summary": "Against the targets",
    "portfolio_measures": "The measures to adopt",
    "target_simplified_share": "Internal procedures simplified",
    "target_cost_cut": "Compliance cost cut",
    "target_reviewed_share": "Internal procedures reviewed",
    "methods_title": "Methods",
    "methods_lead": "The definitions, the working calendar and the data behind this report.",
    "methods_facts": "Data and working calendar",
    "methods_definitions": "Definitions",
    "method_reference": "Reference path",
    "method_department": "Department column",
    "method_form": "Form of the log",
    "form_steps": "steps (one row per step)",
    "form_transfers": "transfer history (one row per transfer): {main} main transfers, "
    "{returns} returns, {side} side copies (left out of the chain), {closing} closings; "
    "{out_of_chain} sent by a department that did not hold the dossier",
    "method_timezone": "Time zone",
    "method_calendar": "Working calendar",
    "method_rows": "Rows of data",
    "rows_text": "read {read}, used {kept}, quarantined {quarantined}",
    "definitions": [
        ("Handoff", "Two consecutive departments in a case's department sequence (A → B)."),
        ("Bounce", "The work went from department A to B and came back to A."),
        (
            "Excess bounce",
            "A bounce beyond those the approved path prescribes; a case with at"
            " least one is a ping-pong case.",
        ),
        (
            "Working hours",
            "Measured on the working calendar: office hours, without weekends,"
            " public holidays and Tết (see the calendar above).",
        ),
        (
            "On time",
            "Completed no later than the due date: received plus the deadline in working days.",
        ),
        ("Late without explanation", "A late case with no explanation, apology or extension step."),
        (
            "Compliance cost",
            "Officials' working time the procedure requires × their hourly cost"
            " by grade (Circular 02/2017/TT-VPCP) × runs a year.",
        ),
        ("Simplified procedure", "A procedure with at least one adopted measure."),
    ],
}

WORDS = {"vi": _VI, "en": _EN}
