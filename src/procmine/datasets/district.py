"""The sample district: its departments, grades and officials, and its procedures as approved.

A district People's Committee (UBND huyện): thirteen departments (:data:`DEPARTMENTS`), the
grades of its officials (:data:`GRADES`), the officials themselves (:func:`roster`, the same
whatever the seed), and 25 internal procedures (:data:`PROCEDURES`), whose catalog is
:func:`sample_catalog`. What the generator plants by name lives here too: the bottleneck step
and department, the ping-pong pairs and the simplification opportunities (:data:`OPPORTUNITIES`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from procmine.catalog import read_catalog

__all__ = [
    "BOTTLENECK_ACTIVITY",
    "BOTTLENECK_DEPARTMENT",
    "BOTTLENECK_PROCEDURE",
    "DEPARTMENTS",
    "GRADES",
    "HABIT_ACTIVITY",
    "OPPORTUNITIES",
    "PINGPONG_PAIRS",
    "PROCEDURES",
    "SIGNING_ACTIVITY",
    "Step",
    "roster",
    "sample_catalog",
]

# --- the district: departments, grades, officials -----------------------------------------

VP = "Văn phòng HĐND và UBND"
NV = "Phòng Nội vụ"
TC = "Phòng Tài chính - Kế hoạch"
TP = "Phòng Tư pháp"
TN = "Phòng Tài nguyên và Môi trường"
KT = "Phòng Kinh tế"
QL = "Phòng Quản lý đô thị"
VH = "Phòng Văn hóa và Thông tin"
GD = "Phòng Giáo dục và Đào tạo"
YT = "Phòng Y tế"
LD = "Phòng Lao động - Thương binh và Xã hội"
TTR = "Thanh tra huyện"
BQL = "Ban Quản lý dự án đầu tư xây dựng huyện"
DEPARTMENTS = (VP, NV, TC, TP, TN, KT, QL, VH, GD, YT, LD, TTR, BQL)

VT, CV, CVC, TRP, PCT, CT = (
    "Văn thư",
    "Chuyên viên",
    "Chuyên viên chính",
    "Trưởng phòng",
    "Phó Chủ tịch",
    "Chủ tịch",
)
GRADES = (VT, CV, CVC, TRP, PCT, CT)
# Officials per grade in every department; the Office also holds the committee's leaders, and
# two clerks (it receives, registers and issues every document of the committee).
_STAFF = {VT: 1, CV: 4, CVC: 2, TRP: 1}
_OFFICE = {VT: 2, PCT: 2, CT: 1}

# Name pools of the officials, drawn family, middle, given.
FAMILY_NAMES = (
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
    "Hồ", "Ngô", "Dương", "Lý",
)  # fmt: skip
MIDDLE_NAMES = (
    "Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Quốc", "Ngọc", "Thu", "Xuân", "Hoài", "Kim",
)  # fmt: skip
GIVEN_NAMES = (
    "An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Hương",
    "Khánh", "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Phong", "Phương", "Quân", "Sơn", "Tâm",
    "Thảo", "Thắng", "Trang", "Tuấn", "Vân", "Yến",
)  # fmt: skip


def roster() -> tuple[np.ndarray, dict[tuple[str, str], tuple[int, int]]]:
    """Officials of the district: names (fixed, whatever the seed) and, per (department, grade),
    their (first index, count) in the name array."""
    rng = np.random.default_rng(20240102)
    names: list[str] = []
    blocks = {}
    for department in DEPARTMENTS:
        staff = {**_STAFF, **(_OFFICE if department == VP else {})}
        for grade, count in staff.items():
            first = len(names)
            blocks[(department, grade)] = (first, count)
            while len(names) < first + count:
                name = _draw_name(rng)
                if name not in names:
                    names.append(name)
    return np.array(names, dtype=object), blocks


def _draw_name(rng: np.random.Generator) -> str:
    """One full name: a family, a middle and a given name, drawn in that order."""
    return " ".join(
        pool[rng.integers(len(pool))] for pool in (FAMILY_NAMES, MIDDLE_NAMES, GIVEN_NAMES)
    )


# --- what the generator plants by name ----------------------------------------------------

BOTTLENECK_PROCEDURE = "Thẩm định hồ sơ giao đất, cho thuê đất"
BOTTLENECK_ACTIVITY = "Kiểm tra hiện trạng sử dụng đất"
BOTTLENECK_DEPARTMENT = VP
PINGPONG_PAIRS = tuple(sorted(tuple(sorted(p)) for p in ((TC, QL), (TN, VP), (LD, TC))))

# The simplification opportunities planted, one of each measure type of the candidates
# (``end_pingpong`` is planted wherever a pair of PINGPONG_PAIRS hands over on an approved
# path). The bottleneck step is both: the site inspection holds cases for days (cut_waiting)
# and never sends a dossier back (remove_check), while every other check returns a few percent.
SIGNING_ACTIVITY = "Ký văn bản trả lời"
HABIT_ACTIVITY = "In, sao lưu hồ sơ giấy"
OPPORTUNITIES: dict[str, dict] = {
    "remove_check": {"procedure": BOTTLENECK_PROCEDURE, "activity": BOTTLENECK_ACTIVITY},
    # The clerk who receives an incoming document registers it too.
    "merge_steps": {
        "procedure": "Tiếp nhận và xử lý văn bản đến",
        "activities": ["Tiếp nhận văn bản đến", "Vào sổ văn bản đến"],
    },
    # Two consultations one after the other, though neither needs the other's answer.
    "parallel": {
        "procedure": "Thẩm định kế hoạch sử dụng đất hằng năm",
        "activities": ["Phòng Quản lý đô thị cho ý kiến", "Phòng Kinh tế cho ý kiến"],
    },
    "delegate_signing": {
        "procedure": "Xử lý đơn phản ánh, kiến nghị",
        "activity": SIGNING_ACTIVITY,
    },
    "cut_waiting": {"procedure": BOTTLENECK_PROCEDURE, "activity": BOTTLENECK_ACTIVITY},
    # A deadline set long ago, far above what the cases take.
    "shorten_deadline": {
        "procedure": "Nâng bậc lương thường xuyên cho cán bộ, công chức",
        "deadline_working_days": 30.0,
    },
    # A paper copy of the electronic dossier, printed and filed after the appraisal.
    "drop_extra_step": {
        "procedure": "Cấp giấy phép xây dựng công trình",
        "activity": HABIT_ACTIVITY,
        "after": "Thẩm định hồ sơ xây dựng",
    },
}

# --- the procedures as approved -----------------------------------------------------------
# Each step: (activity, department, standard minutes, grade, typical sojourn in working days).
# The typical sojourn (waiting + work since the previous event) drives the generator only; the
# catalog carries the standard minutes. The first step's sojourn is the case's arrival.
Step = tuple[str, str, float, str, float]


def _intake(department: str, name: str = "Tiếp nhận hồ sơ") -> Step:
    return (name, department, 15, VT, 0.0)


def _submit(department: str, hold: float = 0.4) -> Step:
    return ("Trình ký", department, 30, TRP, hold)


# Leaders sign within a working day or so: no ordinary signature holds a procedure up (only the
# planted one); the Office then numbers, seals and sends the document out.
def _approve(name: str = "Phê duyệt", grade: str = PCT, hold: float = 0.8) -> Step:
    return (name, VP, 20, grade, hold)


def _issue(name: str = "Ban hành văn bản", hold: float = 0.8) -> Step:
    return (name, VP, 20, VT, hold)


# (procedure, share of cases, reviewed on, steps); deadlines follow from the typical sojourns.
PROCEDURES: tuple[tuple[str, float, str | None, tuple[Step, ...]], ...] = (
    (
        "Tiếp nhận và xử lý văn bản đến",
        17,
        "2024-03-15",
        (
            _intake(VP, "Tiếp nhận văn bản đến"),
            ("Vào sổ văn bản đến", VP, 5, VT, 0.2),
            ("Trình lãnh đạo cho ý kiến chỉ đạo", VP, 15, TRP, 0.5),
            ("Cho ý kiến chỉ đạo", VP, 10, PCT, 0.5),
            ("Chuyển văn bản đến đơn vị xử lý", VP, 5, VT, 0.4),
        ),
    ),
    (
        BOTTLENECK_PROCEDURE,
        12,
        "2024-06-20",
        (
            _intake(VP),
            ("Kiểm tra tính hợp lệ của hồ sơ", TN, 60, CV, 0.6),
            (BOTTLENECK_ACTIVITY, TN, 480, CVC, 8.0),  # a working day on site
            ("Xin ý kiến Phòng Quản lý đô thị", TN, 30, CV, 0.3),
            ("Cho ý kiến về quy hoạch", QL, 90, CVC, 1.2),
            ("Tổng hợp, hoàn thiện hồ sơ", TN, 60, CV, 0.4),
            _submit(TN),
            _approve(),
            _issue("Ban hành quyết định"),
        ),
    ),
    (
        "Thẩm định dự toán ngân sách",
        5,
        "2024-05-10",
        (
            _intake(TC),
            ("Thẩm định dự toán", TC, 240, CVC, 1.5),
            _submit(TC),
            _approve("Phê duyệt dự toán", CT),
            _issue("Ban hành quyết định"),
        ),
    ),
    (
        "Thẩm định quyết toán vốn đầu tư dự án hoàn thành",
        4,
        "2025-02-14",
        (
            _intake(BQL, "Lập hồ sơ quyết toán"),
            ("Tiếp nhận hồ sơ", TC, 15, VT, 0.5),
            ("Thẩm tra quyết toán", TC, 360, CVC, 2.0),
            ("Xác nhận khối lượng hoàn thành", QL, 120, CV, 1.0),
            ("Lập báo cáo thẩm tra", TC, 120, CVC, 0.8),
            _submit(TC),
            _approve("Phê duyệt quyết toán"),
            _issue("Ban hành quyết định"),
        ),
    ),
    (
        "Thẩm định thiết kế bản vẽ thi công và dự toán xây dựng",
        4,
        None,
        (
            _intake(BQL, "Trình hồ sơ thiết kế"),
            ("Tiếp nhận hồ sơ", QL, 15, VT, 0.5),
            ("Thẩm định thiết kế", QL, 300, CVC, 1.8),
            ("Thẩm định dự toán xây dựng", TC, 240, CVC, 1.5),
            ("Tổng hợp kết quả thẩm định", QL, 60, CV, 0.5),
            _submit(QL),
            _approve(),
            _issue("Ban hành quyết định"),
        ),
    ),
    (
        "Phê duyệt kế hoạch lựa chọn nhà thầu",
        3,
        None,
        (
            _intake(BQL, "Trình kế hoạch lựa chọn nhà thầu"),
            ("Tiếp nhận hồ sơ", TC, 15, VT, 0.4),
            ("Thẩm định kế hoạch lựa chọn nhà thầu", TC, 180, CVC, 1.5),
            _submit(TC),
            _approve(),
            _issue("Ban hành quyết định"),
        ),
    ),
    (
        "Phê duyệt kế hoạch mua sắm tài sản công",
        3,
        "2024-09-05",
        (
            _intake(GD, "Lập kế hoạch mua sắm"),
            ("Tiếp nhận hồ sơ", TC, 15, VT, 0.4),
            ("Thẩm định kế hoạch mua sắm", TC, 120, CV, 1.2),
            _submit(TC),
            _approve(),
            _issue(),
        ),
    ),
    (
        "Thẩm định dự thảo văn bản quy phạm pháp luật",
        4,
        "2024-04-02",
        (
            _intake(VP),
            ("Thẩm định dự thảo", TP, 300, CVC, 1.6),
            ("Ban hành báo cáo thẩm định", TP, 30, TRP, 0.4),
            ("Tổng hợp, trình lãnh đạo", VP, 30, CV, 0.5),
            _approve("Ký ban hành"),
            _issue(),
        ),
    ),
    (
        "Tuyển dụng viên chức",
        2,
        "2025-04-22",
        (
            _intake(NV, "Tiếp nhận hồ sơ dự tuyển"),
            ("Kiểm tra điều kiện dự tuyển", NV, 120, CV, 1.0),
            ("Xin ý kiến Phòng Giáo dục và Đào tạo", NV, 20, CV, 0.3),
            ("Cho ý kiến về nhu cầu tuyển dụng", GD, 60, TRP, 1.2),
            ("Tổng hợp kết quả xét tuyển", NV, 120, CVC, 0.8),
            _submit(NV),
            _approve("Phê duyệt kết quả tuyển dụng", CT),
            _issue("Ban hành quyết định"),
        ),
    ),
    (
        "Nâng bậc lương thường xuyên cho cán bộ, công chức",
        3,
        None,
        (
            _intake(NV),
            ("Thẩm định hồ sơ nâng lương", NV, 90, CV, 1.0),
            ("Xác nhận nguồn kinh phí", TC, 30, CV, 0.8),
            _submit(NV),
            _approve(),
            _issue("Ban hành quyết định"),
        ),
    ),
    (
        "Xét khen thưởng thành tích thi đua",
        3,
        "2024-11-12",
        (
            _intake(NV, "Tiếp nhận hồ sơ khen thưởng"),
            ("Thẩm định hồ sơ khen thưởng", NV, 90, CV, 1.2),
            _submit(NV),
            _approve("Ký quyết định khen thưởng", CT),
            _issue("Ban hành quyết định"),
        ),
    ),
    (
        "Giải quyết khiếu nại lần đầu",
        2,
        "2025-03-11",
        (
            _intake(VP, "Tiếp nhận đơn khiếu nại"),
            ("Xác minh nội dung khiếu nại", TTR, 480, CVC, 1.6),
            ("Xin ý kiến Phòng Tư pháp", TTR, 20, CV, 0.3),
            ("Cho ý kiến pháp lý", TP, 90, CVC, 1.0),
            ("Dự thảo quyết định giải quyết khiếu nại", TTR, 120, CVC, 0.8),
            _submit(TTR),
            _approve("Ký quyết định giải quyết khiếu nại", CT),
            _issue("Ban hành quyết định"),
        ),
    ),
    (
        "Xử lý đơn phản ánh, kiến nghị",
        4,
        None,
        (
            _intake(VP, "Tiếp nhận đơn"),
            ("Phân loại, xử lý đơn", TTR, 60, CV, 1.4),
            _submit(TTR),
            # Planted (delegate_signing): the Vice-Chairman signs every reply and holds it.
            _approve(SIGNING_ACTIVITY, hold=2.4),
            _issue("Ban hành văn bản trả lời"),
        ),
    ),
    (
        "Cấp giấy phép kinh doanh bán lẻ sản phẩm rượu",
        3,
        "2024-07-01",
        (
            _intake(VP),
            ("Thẩm định hồ sơ", KT, 60, CV, 0.8),
            ("Kiểm tra thực tế cơ sở kinh doanh", KT, 120, CV, 1.2),
            _submit(KT),
            _approve("Ký giấy phép"),
            _issue("Cấp giấy phép"),
        ),
    ),
    (
        "Thẩm định hồ sơ hỗ trợ phát triển sản xuất nông nghiệp",
        3,
        None,
        (
            _intake(KT),
            ("Thẩm định hồ sơ hỗ trợ", KT, 90, CV, 1.0),
            ("Thẩm định kinh phí hỗ trợ", TC, 60, CV, 1.0),
            _submit(KT),
            _approve(),
            _issue("Ban hành quyết định"),
        ),
    ),
    (
        "Cấp giấy phép xây dựng công trình",
        5,
        "2024-08-19",
        (
            _intake(VP),
            ("Thẩm định hồ sơ xây dựng", QL, 120, CV, 1.0),
            ("Kiểm tra thực địa", QL, 180, CV, 1.2),
            ("Xin ý kiến Phòng Tài nguyên và Môi trường", QL, 20, CV, 0.3),
            ("Cho ý kiến về đất đai", TN, 60, CVC, 1.0),
            ("Dự thảo giấy phép", QL, 60, CV, 0.4),
            _submit(QL),
            _approve("Ký giấy phép"),
            _issue("Cấp giấy phép"),
        ),
    ),
    (
        "Cấp phép sử dụng tạm thời một phần hè phố",
        2,
        None,
        (
            _intake(VP),
            ("Thẩm định hồ sơ", QL, 60, CV, 0.8),
            _submit(QL),
            _approve("Ký giấy phép"),
            _issue("Cấp giấy phép"),
        ),
    ),
    (
        "Cấp giấy phép tổ chức lễ hội",
        2,
        None,
        (
            _intake(VP),
            ("Thẩm định nội dung lễ hội", VH, 90, CV, 1.0),
            _submit(VH),
            _approve("Ký giấy phép"),
            _issue("Cấp giấy phép"),
        ),
    ),
    (
        "Thẩm định, công nhận trường đạt chuẩn quốc gia",
        2,
        "2024-10-07",
        (
            _intake(GD),
            ("Kiểm tra thực tế tại trường", GD, 240, CVC, 1.5),
            ("Lập biên bản đánh giá", GD, 60, CV, 0.5),
            _submit(GD),
            _approve("Ký quyết định công nhận"),
            _issue("Ban hành quyết định"),
        ),
    ),
    (
        "Thẩm định điều kiện an toàn thực phẩm",
        2,
        None,
        (
            _intake(VP),
            ("Thẩm định hồ sơ an toàn thực phẩm", YT, 60, CV, 0.8),
            ("Kiểm tra thực tế cơ sở", YT, 120, CV, 1.0),
            _submit(YT),
            _approve("Ký giấy chứng nhận"),
            _issue("Cấp giấy chứng nhận"),
        ),
    ),
    (
        "Xét duyệt hồ sơ trợ cấp xã hội hằng tháng",
        6,
        "2024-02-26",
        (
            _intake(LD),
            ("Thẩm định hồ sơ trợ cấp", LD, 60, CV, 1.0),
            ("Xác nhận nguồn kinh phí chi trả", TC, 30, CV, 0.8),
            _submit(LD),
            _approve(),
            _issue("Ban hành quyết định"),
        ),
    ),
    (
        "Xác nhận hồ sơ hưởng chế độ người có công",
        3,
        None,
        (
            _intake(LD),
            ("Thẩm định hồ sơ người có công", LD, 90, CVC, 1.2),
            ("Thẩm định kinh phí", TC, 30, CV, 0.8),
            _submit(LD),
            _approve(),
            _issue("Ban hành quyết định"),
        ),
    ),
    (
        "Lập báo cáo tình hình kinh tế - xã hội hằng tháng",
        2,
        None,
        (
            _intake(TC, "Tiếp nhận số liệu của các phòng"),
            ("Tổng hợp dự thảo báo cáo", TC, 240, CVC, 1.0),
            ("Cho ý kiến dự thảo báo cáo", VP, 30, TRP, 0.6),
            ("Hoàn thiện báo cáo", TC, 90, CV, 0.5),
            _submit(TC),
            _approve("Ký báo cáo"),
            _issue(),
        ),
    ),
    (
        "Thẩm định kế hoạch sử dụng đất hằng năm",
        1,
        None,
        (
            _intake(TN),
            ("Thẩm định kế hoạch sử dụng đất", TN, 300, CVC, 1.6),
            ("Phòng Quản lý đô thị cho ý kiến", QL, 60, TRP, 1.0),
            ("Phòng Kinh tế cho ý kiến", KT, 60, TRP, 1.0),
            ("Tổng hợp, hoàn thiện kế hoạch", TN, 120, CV, 0.6),
            _submit(TN),
            _approve(),
            _issue("Ban hành quyết định"),
        ),
    ),
    (
        "Thẩm định đề án vị trí việc làm",
        1,
        None,
        (
            _intake(NV),
            ("Thẩm định đề án", NV, 240, CVC, 1.2),
            ("Xin ý kiến Phòng Tư pháp", NV, 20, CV, 0.3),
            ("Cho ý kiến pháp lý", TP, 60, CVC, 1.0),
            ("Hoàn thiện đề án", NV, 90, CV, 0.5),
            _submit(NV),
            _approve(),
            _issue("Ban hành quyết định"),
        ),
    ),
)


# Deadlines are round numbers of working days that leave an ordinary case room to spare.
_ROUND_DEADLINES = (2, 3, 5, 7, 10, 12, 15, 20, 25, 30, 45, 60)
_DEADLINE_SLACK = 1.6


def _deadline(procedure: str, steps: tuple[Step, ...]) -> float:
    planted = OPPORTUNITIES["shorten_deadline"]
    if procedure == planted["procedure"]:
        return float(planted["deadline_working_days"])
    need = _DEADLINE_SLACK * sum(hold for *_, hold in steps[1:])
    return float(next((d for d in _ROUND_DEADLINES if d >= need), math.ceil(need)))


def _depends_on(procedure: str, number: int, steps: tuple[Step, ...]) -> str | None:
    """The steps step ``number`` needs done first: the one before it, but for the planted
    consultations, which both need only the step before the first and are both needed next."""
    if number == 1:
        return None
    activities = [activity for activity, *_ in steps]
    planted = OPPORTUNITIES["parallel"]
    if procedure == planted["procedure"]:
        first, second = (activities.index(a) + 1 for a in planted["activities"])
        if number == second:
            return str(first - 1)
        if number == second + 1:
            return f"{first}; {second}"
    return str(number - 1)


def _document(index: int) -> str:
    """The decision that approved the ``index``-th procedure, about a month apart in 2022–2023,
    numbered as a district numbers its decisions (from 1 each year, a dozen a working day): a
    plausible text, not a real decision."""
    day = pd.Timestamp("2022-01-10") + pd.offsets.BDay(21 * index)
    number = 12 * day.day_of_year + index % 7
    return f"Quyết định số {number}/QĐ-UBND ngày {day.day}/{day.month}/{day.year}"


def sample_catalog() -> pd.DataFrame:
    """The approved-procedure catalog of the sample district (25 procedures, 4–9 steps each),
    with the steps each step needs done first (``depends_on``) and the approving ``document``.

    >>> catalog = sample_catalog()
    >>> catalog["procedure"].nunique(), catalog.loc[1, "depends_on"]
    (25, '1')
    """
    documents = [_document(index) for index in range(len(PROCEDURES))]
    rows = [
        {
            "procedure": procedure,
            "step": number,
            "activity": activity,
            "department": department,
            "deadline_working_days": _deadline(procedure, steps),
            "standard_minutes": float(minutes),
            "grade": grade,
            "reviewed": reviewed,
            "depends_on": _depends_on(procedure, number, steps),
            "document": documents[index],
        }
        for index, (procedure, _, reviewed, steps) in enumerate(PROCEDURES)
        for number, (activity, department, minutes, grade, _) in enumerate(steps, start=1)
    ]
    return read_catalog(pd.DataFrame(rows))
