"""Sample logs with planted truth: a district People's Committee (UBND huyện) and its procedures.

:func:`generate` builds a realistic event log of internal procedures, its approved-procedure
catalog, and a ground-truth dict of what was planted and of the exact counts that follow from the
definitions of DESIGN.md. The committed sample (``datasets/``, 2,000 cases, seed 7) is its output,
written by :func:`write_sample` the way agencies export (Vietnamese headers, UTF-8 with BOM,
dd/mm/yyyy timestamps, gzip).

What is planted (see ``datasets/README.md``):

- a **bottleneck step**, :data:`BOTTLENECK_ACTIVITY`, in the high-volume land procedure, and a
  **bottleneck department**, :data:`BOTTLENECK_DEPARTMENT`, that holds cases longest in total;
- **excess ping-pong** on the pairs of :data:`PINGPONG_PAIRS`: extra round trips (the next
  department returns the dossier, "Trả lại hồ sơ"/"Chuyển lại để bổ sung", and it comes back,
  "Bổ sung, hoàn thiện hồ sơ") on top of consultations A → B → A that the catalog prescribes;
- **deviations** of every type of CONTRACTS.md: skipped, repeated (rework), swapped steps, steps
  done by the wrong department, activities not in the procedure;
- a few events **without a department**, and **late cases**, some with an explanation step.

Generation is vectorised (numpy over all cases at once, no loop per case) and deterministic per
seed. Event times are placed on the working clock: each event's sojourn is drawn in working
minutes, readings are accumulated per case and mapped back with
:meth:`WorkCalendar.from_working_minutes`.

The **counts** of the truth come from :func:`reference_counts`, a deliberately separate, plainly
written per-case implementation of DESIGN.md's definitions (the oracle the analyses are tested
against). It loops over cases in Python, so it runs only for small logs (``truth=None`` computes
it up to 100,000 cases).

Sample files are found in the repository's ``datasets/`` directory next to ``src/``
(``Path(__file__).parents[2] / "datasets"``): the samples ship with the source tree, not with
an installed wheel; :func:`write_sample` (``procmine generate``) writes them anywhere.
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import math
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from procmine import schema
from procmine.calendar import WorkCalendar, as_calendar
from procmine.catalog import read_catalog, write_catalog

__all__ = [
    "BOTTLENECK_ACTIVITY",
    "BOTTLENECK_DEPARTMENT",
    "DEPARTMENTS",
    "EXPLANATION_ACTIVITIES",
    "PINGPONG_PAIRS",
    "Generated",
    "export_like_agency",
    "generate",
    "load_sample",
    "load_sample_catalog",
    "load_sample_truth",
    "reference_counts",
    "sample_path",
    "write_sample",
]

DATASETS_DIR = Path(__file__).resolve().parents[2] / "datasets"
SAMPLE_FILES = {
    "log": "sample_log.csv.gz",
    "catalog": "sample_catalog.csv",
    "truth": "sample_truth.json",
    "config": "config.yaml",
}
TRUTH_LIMIT = 100_000

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
# Officials per grade in every department; only the Office holds the committee's leaders.
_STAFF = {VT: 1, CV: 4, CVC: 2, TRP: 1}
_LEADERS = {PCT: 2, CT: 1}

EXPLANATION_ACTIVITIES = ("Giải trình", "Báo cáo giải trình", "Xin gia hạn", "Văn bản xin lỗi")
RETURN_ACTIVITIES = ("Trả lại hồ sơ", "Chuyển lại để bổ sung")
RESUBMIT_ACTIVITY = "Bổ sung, hoàn thiện hồ sơ"
EXTRA_ACTIVITY = "Rà soát lại hồ sơ"

BOTTLENECK_PROCEDURE = "Thẩm định hồ sơ giao đất, cho thuê đất"
BOTTLENECK_ACTIVITY = "Kiểm tra hiện trạng sử dụng đất"
BOTTLENECK_DEPARTMENT = VP
PINGPONG_PAIRS = tuple(sorted(tuple(sorted(p)) for p in ((TC, QL), (TN, VP), (LD, TC))))

# --- the procedures as approved -----------------------------------------------------------
# Each step: (activity, department, standard minutes, grade, typical sojourn in working days).
# The typical sojourn (waiting + work since the previous event) drives the generator only; the
# catalog carries the standard minutes. The first step's sojourn is the case's arrival.
Step = tuple[str, str, float, str, float]


def _intake(department: str, name: str = "Tiếp nhận hồ sơ") -> Step:
    return (name, department, 15, VT, 0.0)


def _submit(department: str, hold: float = 0.4) -> Step:
    return ("Trình ký", department, 30, TRP, hold)


def _approve(name: str = "Phê duyệt", grade: str = PCT, hold: float = 1.2) -> Step:
    return (name, VP, 20, grade, hold)


def _issue(name: str = "Ban hành văn bản", hold: float = 0.6) -> Step:
    return (name, VP, 20, VT, hold)


# (procedure, share of cases, reviewed on, steps); deadlines follow from the typical sojourns.
_PROCEDURES: tuple[tuple[str, float, str | None, tuple[Step, ...]], ...] = (
    (
        "Tiếp nhận và xử lý văn bản đến",
        17,
        "2024-03-15",
        (
            _intake(VP, "Tiếp nhận văn bản đến"),
            ("Vào sổ văn bản đến", VP, 5, VT, 0.2),
            ("Trình lãnh đạo cho ý kiến chỉ đạo", VP, 15, TRP, 0.5),
            ("Cho ý kiến chỉ đạo", VP, 10, PCT, 0.9),
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
            (BOTTLENECK_ACTIVITY, TN, 240, CVC, 8.0),
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
        None,
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
            ("Thẩm định dự thảo", TP, 300, CVC, 2.0),
            ("Ban hành báo cáo thẩm định", TP, 30, TRP, 0.4),
            ("Tổng hợp, trình lãnh đạo", VP, 30, CV, 0.5),
            _approve("Ký ban hành"),
            _issue(),
        ),
    ),
    (
        "Tuyển dụng viên chức",
        2,
        None,
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
        None,
        (
            _intake(VP, "Tiếp nhận đơn khiếu nại"),
            ("Xác minh nội dung khiếu nại", TTR, 480, CVC, 3.0),
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
            ("Phân loại, xử lý đơn", TTR, 60, CV, 1.0),
            _submit(TTR),
            _approve("Ký văn bản trả lời"),
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
            ("Kiểm tra thực tế tại trường", GD, 240, CVC, 2.0),
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
            ("Thẩm định kế hoạch sử dụng đất", TN, 300, CVC, 2.0),
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
            ("Thẩm định đề án", NV, 240, CVC, 1.5),
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

# How each case may deviate from its approved path (one kind per case, so a planted ping-pong
# case is never also a skipped-step case); ping-pong is drawn first, where a planted pair meets.
_KINDS = ("normal", "skipped", "swapped", "repeated", "extra", "wrong_department", "pingpong")
_KIND_SHARES = {
    "skipped": 0.04,
    "swapped": 0.04,
    "repeated": 0.06,
    "extra": 0.04,
    "wrong_department": 0.03,
}
_PINGPONG_SHARE = 0.35  # of the cases of a procedure with a planted pair in its approved path
_LATE_SHARE = 0.10
_EXPLAINED_SHARE = 0.55  # of the cases slowed down to be late
_MISSING_DEPARTMENT_SHARE = 0.006  # of the events of cases that are not planted ping-pong
_SOJOURN_SIGMA = 0.45  # lognormal spread of one event's sojourn around its typical value
# Typical sojourns (working days) of the events the generator adds.
_RETURN_DAYS, _RESUBMIT_DAYS, _EXPLANATION_DAYS, _EXTRA_DAYS = 1.0, 1.5, 0.5, 0.5


@dataclass(frozen=True)
class Generated:
    """What :func:`generate` returns: the canonical log, its catalog and the truth dict."""

    log: pd.DataFrame
    catalog: pd.DataFrame
    truth: dict


# --- catalog ------------------------------------------------------------------------------


def _deadline(steps: tuple[Step, ...]) -> float:
    need = _DEADLINE_SLACK * sum(hold for *_, hold in steps[1:])
    return float(next((d for d in _ROUND_DEADLINES if d >= need), math.ceil(need)))


def sample_catalog() -> pd.DataFrame:
    """The approved-procedure catalog of the sample district (25 procedures, 4–9 steps each).

    >>> sample_catalog()["procedure"].nunique()
    25
    """
    rows = [
        {
            "procedure": procedure,
            "step": number,
            "activity": activity,
            "department": department,
            "deadline_working_days": _deadline(steps),
            "standard_minutes": float(minutes),
            "grade": grade,
            "reviewed": reviewed,
        }
        for procedure, _, reviewed, steps in _PROCEDURES
        for number, (activity, department, minutes, grade, _) in enumerate(steps, start=1)
    ]
    return read_catalog(pd.DataFrame(rows))


def _roster() -> tuple[np.ndarray, dict[tuple[str, str], tuple[int, int]]]:
    """Officials of the district: names (fixed, whatever the seed) and, per (department, grade),
    their (first index, count) in the name array."""
    family = (
        "Nguyễn",
        "Trần",
        "Lê",
        "Phạm",
        "Hoàng",
        "Huỳnh",
        "Phan",
        "Vũ",
        "Võ",
        "Đặng",
        "Bùi",
        "Đỗ",
        "Hồ",
        "Ngô",
        "Dương",
        "Lý",
    )
    middle = (
        "Văn",
        "Thị",
        "Hữu",
        "Đức",
        "Minh",
        "Thanh",
        "Quốc",
        "Ngọc",
        "Thu",
        "Xuân",
        "Hoài",
        "Kim",
    )
    given = (
        "An",
        "Bình",
        "Cường",
        "Dũng",
        "Giang",
        "Hà",
        "Hải",
        "Hạnh",
        "Hiếu",
        "Hoa",
        "Hùng",
        "Hương",
        "Khánh",
        "Lan",
        "Linh",
        "Long",
        "Mai",
        "Nam",
        "Nga",
        "Phong",
        "Phương",
        "Quân",
        "Sơn",
        "Tâm",
        "Thảo",
        "Thắng",
        "Trang",
        "Tuấn",
        "Vân",
        "Yến",
    )
    rng = np.random.default_rng(20240102)
    names: list[str] = []
    blocks = {}
    for department in DEPARTMENTS:
        staff = {**_STAFF, **(_LEADERS if department == VP else {})}
        for grade, count in staff.items():
            blocks[(department, grade)] = (len(names), count)
            while len(names) < blocks[(department, grade)][0] + count:
                name = " ".join(
                    (
                        family[rng.integers(len(family))],
                        middle[rng.integers(len(middle))],
                        given[rng.integers(len(given))],
                    )
                )
                if name not in names:
                    names.append(name)
    return np.array(names, dtype=object), blocks


# --- the generator ------------------------------------------------------------------------


def _strings(vocabulary: Iterable[str], codes: np.ndarray) -> pd.Series:
    """A string column from codes into a vocabulary (code -1 is a missing value)."""
    values = pa.array(list(vocabulary), type=pa.string())
    taken = values.take(pa.array(codes, mask=codes < 0))
    return pd.Series(taken, dtype="str")


def generate(
    n_cases: int = 2000,
    seed: int = 7,
    start: str = "2024-01-02",
    end: str = "2025-06-30",
    calendar: WorkCalendar | None = None,
    truth: bool | None = None,
) -> Generated:
    """A realistic log of a district People's Committee's internal procedures, with truth.

    Cases arrive uniformly over the working time from ``start`` to ``end`` (inclusive); each
    event's sojourn is drawn in working minutes of ``calendar`` (Vietnam by default). The
    truth's counts (:func:`reference_counts`) are computed when ``truth`` is True, or when it is
    None and ``n_cases`` is at most 100,000; otherwise the truth holds only what was planted by
    name (bottleneck step and department, ping-pong pairs and cases).

    >>> sample = generate(200, seed=1)
    >>> sample.truth["planted"]["bottleneck_activity"]
    'Kiểm tra hiện trạng sử dụng đất'
    """
    if n_cases < 1:
        raise ValueError(f"n_cases must be at least 1, found {n_cases}.")
    calendar = as_calendar(calendar)
    catalog = sample_catalog()
    rng = np.random.default_rng(seed)
    day = calendar.minutes_per_day

    # The catalog as flat arrays over all steps; global step s belongs to procedure step_proc[s].
    proc_names = [p for p, *_ in _PROCEDURES]
    lengths = np.array([len(steps) for *_, steps in _PROCEDURES])
    first_step = np.cumsum(lengths) - lengths
    all_steps = [step for *_, steps in _PROCEDURES for step in steps]
    extra_names = (*EXPLANATION_ACTIVITIES, *RETURN_ACTIVITIES, RESUBMIT_ACTIVITY, EXTRA_ACTIVITY)
    activities = list(dict.fromkeys([a for a, *_ in all_steps] + list(extra_names)))
    act_id = {a: i for i, a in enumerate(activities)}
    dept_id = {d: i for i, d in enumerate(DEPARTMENTS)}
    grade_id = {g: i for i, g in enumerate(GRADES)}
    step_act = np.array([act_id[a] for a, *_ in all_steps])
    step_dept = np.array([dept_id[d] for _, d, *_ in all_steps])
    step_grade = np.array([grade_id[g] for *_, g, _ in all_steps])
    step_hold = np.array([h for *_, h in all_steps]) * day
    is_last_step = np.zeros(len(all_steps), dtype=bool)
    is_last_step[first_step + lengths - 1] = True
    # A planted pair meets where a step hands over to the next step of the same procedure.
    planted = {frozenset((dept_id[a], dept_id[b])) for a, b in PINGPONG_PAIRS}
    next_dept = np.append(step_dept[1:], -1)
    step_pingpong = np.array(
        [
            not last and frozenset((d, n)) in planted and d != n
            for d, n, last in zip(step_dept, next_dept, is_last_step, strict=True)
        ]
    )
    proc_pingpong = np.add.reduceat(step_pingpong, first_step) > 0

    # --- cases: procedure, kind of deviation, pace, arrival
    weights = np.array([w for _, w, *_ in _PROCEDURES], dtype=float)
    case_proc = rng.choice(len(_PROCEDURES), size=n_cases, p=weights / weights.sum())
    case_len = lengths[case_proc]
    pingpong_case = proc_pingpong[case_proc] & (rng.random(n_cases) < _PINGPONG_SHARE)
    other = rng.choice(
        len(_KINDS) - 1,
        size=n_cases,
        p=[1 - sum(_KIND_SHARES.values()), *_KIND_SHARES.values()],
    )
    kind = np.where(pingpong_case, _KINDS.index("pingpong"), other)
    late = rng.random(n_cases) < _LATE_SHARE
    explained = late & (rng.random(n_cases) < _EXPLAINED_SHARE)
    pace = np.where(late, rng.uniform(2.2, 3.5, n_cases), rng.lognormal(0.0, 0.12, n_cases))
    # Deviations target a middle step (2 .. n-2), so the intake stays first and the last two
    # steps keep their order.
    target = 1 + (rng.random(n_cases) * (case_len - 3)).astype(np.int64)
    w0 = int(calendar.working_minutes(pd.Timestamp(start)))
    w1 = int(calendar.working_minutes(pd.Timestamp(end) + pd.Timedelta(days=1)))
    if w1 <= w0:
        raise ValueError(f"No working time between {start} and {end}.")
    # Readings strictly after w0: a reading at a day boundary maps back to the previous day's end.
    arrival = np.sort(rng.integers(w0 + 1, w1 + 1, n_cases))

    # --- rows: one per (case, approved step), in step order
    n_rows = int(case_len.sum())
    row_case = np.repeat(np.arange(n_cases), case_len)
    row_pos = np.arange(n_rows) - np.repeat(np.cumsum(case_len) - case_len, case_len)
    row_step = first_step[case_proc][row_case] + row_pos
    row_kind = kind[row_case]
    at_target = row_pos == target[row_case]
    repeats = np.ones(n_rows, dtype=np.int64)
    repeats[at_target & (row_kind == _KINDS.index("skipped"))] = 0
    rework = at_target & (row_kind == _KINDS.index("repeated"))
    repeats[rework] = 2 + (rng.random(int(rework.sum())) < 0.25)
    extra = (at_target & (row_kind == _KINDS.index("extra"))).astype(np.int64)
    wrong = at_target & (row_kind == _KINDS.index("wrong_department"))
    round_trips = np.where(
        step_pingpong[row_step] & (row_kind == _KINDS.index("pingpong")),
        (rng.random(n_rows) < 0.75) * (1 + (rng.random(n_rows) < 0.3)),
        0,
    )
    explanation = (is_last_step[row_step] & explained[row_case]).astype(np.int64)
    # A swapped case does its target step after the next one.
    order = np.arange(n_rows)
    swap = np.flatnonzero(at_target & (row_kind == _KINDS.index("swapped")))
    order[swap], order[swap + 1] = swap + 1, swap
    row_step, repeats, extra, wrong, round_trips, explanation = (
        a[order] for a in (row_step, repeats, extra, wrong, round_trips, explanation)
    )

    # --- events: per row, [explanation] [step × repeats] [(return, resubmit) × round trips] [extra]
    block = explanation + repeats + 2 * round_trips + extra
    n_events = int(block.sum())
    ev_row = np.repeat(np.arange(n_rows), block)
    k = np.arange(n_events) - np.repeat(np.cumsum(block) - block, block) - explanation[ev_row]
    ev_step = row_step[ev_row]
    ev_case = row_case[ev_row]
    is_explanation = k < 0
    is_step = (k >= 0) & (k < repeats[ev_row])
    k_trip = k - repeats[ev_row]
    is_trip = (k_trip >= 0) & (k_trip < 2 * round_trips[ev_row])
    is_return = is_trip & (k_trip % 2 == 0)
    is_resubmit = is_trip & (k_trip % 2 == 1)

    activity = np.full(n_events, act_id[EXTRA_ACTIVITY])
    activity[is_step] = step_act[ev_step[is_step]]
    activity[is_resubmit] = act_id[RESUBMIT_ACTIVITY]
    activity[is_return] = np.array([act_id[a] for a in RETURN_ACTIVITIES])[
        rng.integers(len(RETURN_ACTIVITIES), size=int(is_return.sum()))
    ]
    activity[is_explanation] = np.array([act_id[a] for a in EXPLANATION_ACTIVITIES])[
        rng.integers(len(EXPLANATION_ACTIVITIES), size=int(is_explanation.sum()))
    ]
    # The returning department is the next step's; every other event is its own step's.
    department = np.where(is_return, next_dept[ev_step], step_dept[ev_step])
    misplaced = is_step & wrong[ev_row]
    shift = 1 + rng.integers(len(DEPARTMENTS) - 1, size=int(misplaced.sum()))
    department[misplaced] = (department[misplaced] + shift) % len(DEPARTMENTS)
    grade = np.where(is_step, step_grade[ev_step], grade_id[CV])
    hold = np.select(
        [is_step, is_return, is_resubmit, is_explanation],
        [step_hold[ev_step], _RETURN_DAYS * day, _RESUBMIT_DAYS * day, _EXPLANATION_DAYS * day],
        _EXTRA_DAYS * day,
    )

    # --- working clock: sojourns accumulate per case from its arrival
    case_first = np.cumsum(np.bincount(ev_case, minlength=n_cases)) - np.bincount(
        ev_case, minlength=n_cases
    )
    sojourn = np.maximum(
        1, np.rint(hold * pace[ev_case] * rng.lognormal(0.0, _SOJOURN_SIGMA, n_events))
    ).astype(np.int64)
    sojourn[case_first] = 0
    elapsed = np.cumsum(sojourn)
    reading = arrival[ev_case] + elapsed - elapsed[case_first][ev_case]
    timestamps = calendar.from_working_minutes(reading.astype(np.float64))

    # --- officials and missing departments
    names, blocks = _roster()
    n_grades = len(GRADES)
    slot_first = np.zeros(len(DEPARTMENTS) * n_grades, dtype=np.int64)
    slot_count = np.zeros_like(slot_first)
    for d, dname in enumerate(DEPARTMENTS):
        for g, gname in enumerate(GRADES):
            # A department without the grade (leaders sit in the Office only): its head.
            first, count = blocks.get((dname, gname), blocks[(dname, TRP)])
            slot_first[d * n_grades + g], slot_count[d * n_grades + g] = first, count
    slot = department * n_grades + grade
    resource = slot_first[slot] + (rng.random(n_events) * slot_count[slot]).astype(np.int64)
    blank = (rng.random(n_events) < _MISSING_DEPARTMENT_SHARE) & ~pingpong_case[ev_case]
    department[blank] = -1

    # --- case ids: HS-<year of arrival>-<number within the year>, numbered in arrival order
    year = timestamps.dt.year.to_numpy()[case_first]
    year_first = np.searchsorted(year, year, side="left")
    number = np.arange(n_cases) - year_first + 1
    width = max(6, len(str(int(number.max()))))
    case_ids = (
        "HS-" + pd.Series(year).astype(str) + "-" + pd.Series(number).astype(str).str.zfill(width)
    )

    log = pd.DataFrame(
        {
            schema.CASE: _strings(case_ids, ev_case),
            schema.ACTIVITY: _strings(activities, activity),
            schema.TIMESTAMP: timestamps.reset_index(drop=True),
            schema.DEPARTMENT: _strings(DEPARTMENTS, department),
            schema.RESOURCE: _strings(names, resource),
            schema.PROCEDURE: _strings(proc_names, case_proc[ev_case]),
        }
    )
    planted_cases = case_ids[np.bincount(ev_case, weights=is_trip, minlength=n_cases) > 0]
    result: dict[str, Any] = {
        "meta": {
            "generator": "procmine.datasets.generate",
            "n_cases": n_cases,
            "n_events": n_events,
            "seed": seed,
            "start": str(start),
            "end": str(end),
            "calendar": calendar.to_config(),
            "explanation_activities": list(EXPLANATION_ACTIVITIES),
        },
        "planted": {
            "bottleneck_activity": BOTTLENECK_ACTIVITY,
            "bottleneck_procedure": BOTTLENECK_PROCEDURE,
            "bottleneck_department": BOTTLENECK_DEPARTMENT,
            "pingpong_pairs": [list(p) for p in PINGPONG_PAIRS],
            "pingpong_cases": planted_cases.tolist(),
        },
    }
    if truth or (truth is None and n_cases <= TRUTH_LIMIT):
        counts = reference_counts(log, catalog, calendar, EXPLANATION_ACTIVITIES)
        late = counts.pop("late_cases_by_explanation")
        result["planted"]["late_without_explanation"] = late["without"]
        result["planted"]["late_with_explanation"] = late["with"]
        result["counts"] = counts
    return Generated(log=log, catalog=catalog, truth=result)


# --- the oracle ---------------------------------------------------------------------------


def _collapse(departments: Iterable[Any]) -> list[str]:
    """Department sequence: missing departments skipped, consecutive repeats collapsed."""
    sequence: list[str] = []
    for department in departments:
        if department is None or (isinstance(department, float) and math.isnan(department)):
            continue
        if not sequence or sequence[-1] != department:
            sequence.append(department)
    return sequence


def _bounces(sequence: list[str]) -> Counter:
    """Bounces by ordered pair (A, B): positions j with g[j] = g[j+2] != g[j+1]."""
    found: Counter = Counter()
    for j in range(len(sequence) - 2):
        if sequence[j] == sequence[j + 2] != sequence[j + 1]:
            found[(sequence[j], sequence[j + 1])] += 1
    return found


def reference_counts(
    log: pd.DataFrame,
    catalog: pd.DataFrame,
    calendar: WorkCalendar | None = None,
    explanation_activities: Iterable[str] = EXPLANATION_ACTIVITIES,
) -> dict[str, Any]:
    """The oracle: DESIGN.md's handoff, bounce, deviation and on-time counts, case by case.

    Written plainly and independently of procmine's analyses (it imports none of them), for
    the ground truth of generated samples and for tests. It loops over cases in Python: use it
    on small logs. The log must be in canonical order (cases together, sorted by time).

    Returns ``pairs`` (one row per unordered department pair with a handoff, A < B: handoffs,
    bounces, excess_bounces, pingpong_cases), ``deviations`` per procedure, ``late_cases``,
    ``on_time_cases`` and ``late_cases_by_explanation`` ({"with": [...], "without": [...]}).

    >>> counts = reference_counts(generate(50).log, sample_catalog())  # doctest: +SKIP
    """
    calendar = as_calendar(calendar)
    explain = {unicodedata.normalize("NFC", a).strip().casefold() for a in explanation_activities}
    approved: dict[str, dict[str, Any]] = {}
    for procedure, rows in catalog.sort_values("step", kind="stable").groupby(
        "procedure", sort=False
    ):
        approved[procedure] = {
            "step": dict(zip(rows["activity"], rows["step"], strict=True)),
            "department": dict(zip(rows["activity"], rows["department"], strict=True)),
            "bounces": _bounces(_collapse(rows["department"])),
            "deadline": float(rows["deadline_working_days"].iloc[0]),
        }
    schema.require_columns(log, (*schema.REQUIRED, schema.DEPARTMENT, schema.PROCEDURE))
    unknown = sorted(set(log[schema.PROCEDURE].dropna()) - set(approved))
    if unknown:
        raise ValueError(f"Procedures of the log missing from the catalog: {unknown[:5]}.")
    readings = calendar.working_minutes(log[schema.TIMESTAMP])
    cases: dict[str, list[tuple]] = {}
    for case, activity, department, procedure, reading in zip(
        log[schema.CASE].tolist(),
        log[schema.ACTIVITY].tolist(),
        log[schema.DEPARTMENT].tolist(),
        log[schema.PROCEDURE].tolist(),
        readings.tolist(),
        strict=True,
    ):
        cases.setdefault(case, []).append((activity, department, procedure, reading))

    pairs: dict[tuple[str, str], Counter] = {}
    deviations = {
        p: dict.fromkeys(
            (
                "skipped_step",
                "step_not_in_procedure",
                "wrong_department",
                "repeated_step",
                "out_of_order",
            ),
            0,
        )
        for p in approved
    }
    late_with, late_without, on_time = [], [], 0
    for case, events in cases.items():
        procedure = events[0][2]
        reference = approved[procedure]
        sequence = _collapse(department for _, department, _, _ in events)
        for a, b in itertools.pairwise(sequence):
            pairs.setdefault(tuple(sorted((a, b))), Counter())["handoffs"] += 1
        excess_pairs = set()
        for (a, b), n in _bounces(sequence).items():
            key = tuple(sorted((a, b)))
            excess = max(0, n - reference["bounces"][(a, b)])
            pairs[key]["bounces"] += n
            pairs[key]["excess_bounces"] += excess
            if excess:
                excess_pairs.add(key)
        for key in excess_pairs:
            pairs[key]["pingpong_cases"] += 1

        counted = deviations[procedure]
        seen: Counter = Counter()
        highest = 0
        for activity, department, _, _ in events:
            if activity not in reference["step"]:
                counted["step_not_in_procedure"] += 1
                continue
            if (
                department is not None
                and not (isinstance(department, float) and math.isnan(department))
                and department != reference["department"][activity]
            ):
                counted["wrong_department"] += 1
            seen[activity] += 1
            if seen[activity] == 1:
                step = reference["step"][activity]
                if step < highest:
                    counted["out_of_order"] += 1
                highest = max(highest, step)
        counted["repeated_step"] += sum(n - 1 for n in seen.values())
        counted["skipped_step"] += sum(1 for a in reference["step"] if a not in seen)

        duration = events[-1][3] - events[0][3]
        if duration <= reference["deadline"] * calendar.minutes_per_day:
            on_time += 1
        elif any(
            unicodedata.normalize("NFC", str(a)).strip().casefold() in explain for a, *_ in events
        ):
            late_with.append(case)
        else:
            late_without.append(case)

    rows = [
        {
            "department_a": a,
            "department_b": b,
            "handoffs": counts["handoffs"],
            "bounces": counts["bounces"],
            "excess_bounces": counts["excess_bounces"],
            "pingpong_cases": counts["pingpong_cases"],
        }
        for (a, b), counts in sorted(pairs.items())
    ]
    return {
        "pairs": rows,
        "deviations": deviations,
        "late_cases": len(late_with) + len(late_without),
        "on_time_cases": on_time,
        "late_cases_by_explanation": {"with": late_with, "without": late_without},
    }


# --- files --------------------------------------------------------------------------------

AGENCY_HEADERS = {
    schema.CASE: "Mã hồ sơ",
    schema.PROCEDURE: "Tên thủ tục",
    schema.ACTIVITY: "Bước xử lý",
    schema.DEPARTMENT: "Đơn vị xử lý",
    schema.RESOURCE: "Người xử lý",
    schema.TIMESTAMP: "Thời điểm",
}
_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def _for_cp1258(text: str) -> str:
    """Vietnamese text in the form Windows-1258 can hold: letters precomposed except their tone
    marks, which follow as combining characters (Python's codec has no precomposed toned
    letters, nor every decomposed form)."""
    out: list[str] = []
    tones: list[str] = []
    for char in unicodedata.normalize("NFD", text):
        if char in _TONE_MARKS:
            tones.append(char)
        elif unicodedata.combining(char) and out:
            out[-1] = unicodedata.normalize("NFC", out[-1] + char)
        else:
            out.extend(tones)
            tones = []
            out.append(char)
    return "".join(out + tones)


def export_like_agency(
    log: pd.DataFrame,
    path: str | Path,
    encoding: str = "utf-8-sig",
    date_format: str = "%d/%m/%Y %H:%M:%S",
) -> Path:
    """Write a canonical log as an agency's document system exports it: Vietnamese headers (Mã
    hồ sơ, Tên thủ tục, Bước xử lý, Đơn vị xử lý, Người xử lý, Thời điểm), local wall-clock
    times in ``date_format``, empty cells for missing values; gzip when ``path`` ends in ``.gz``
    (reproducible bytes). ``encoding="cp1258"`` writes Windows-1258 with tone marks split off.

    >>> export_like_agency(generate(20).log, "export.csv.gz")  # doctest: +SKIP
    """
    path = Path(path)
    columns = [c for c in AGENCY_HEADERS if c in log.columns]
    frame = log[columns].rename(columns=AGENCY_HEADERS)
    frame["Thời điểm"] = log[schema.TIMESTAMP].dt.strftime(date_format)
    if encoding.replace("-", "").replace("_", "").lower() in ("cp1258", "windows1258"):
        for header in frame.columns[:-1]:
            values = frame[header].astype("string")
            unique = values.dropna().unique()  # convert the vocabulary, not every event
            frame[header] = values.map(dict(zip(unique, map(_for_cp1258, unique), strict=True)))
        frame.columns = [_for_cp1258(h) for h in frame.columns]
    if path.suffix != ".gz":
        frame.to_csv(path, index=False, encoding=encoding)
        return path
    # Written through GzipFile by hand: no file name and no time in the header, so the same
    # log always gives the same bytes (pandas would store the file name).
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed,
        io.TextIOWrapper(packed, encoding=encoding, newline="") as text,
    ):
        frame.to_csv(text, index=False)
    return path


def write_sample(
    out_dir: str | Path = DATASETS_DIR,
    n_cases: int = 2000,
    seed: int = 7,
    calendar: WorkCalendar | None = None,
) -> list[Path]:
    """Generate a sample and write its log (agency export), catalog, truth and config.

    What ``procmine generate`` calls. Returns the paths written: log, catalog, truth, config.

    >>> write_sample("out", n_cases=500)[0]  # doctest: +SKIP
    PosixPath('out/sample_log.csv.gz')
    """
    import yaml

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    calendar = as_calendar(calendar)
    sample = generate(n_cases=n_cases, seed=seed, calendar=calendar)
    paths = {kind: out / name for kind, name in SAMPLE_FILES.items()}
    export_like_agency(sample.log, paths["log"])
    write_catalog(sample.catalog, paths["catalog"])
    paths["truth"].write_text(
        json.dumps(sample.truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    config = {
        "calendar": calendar.to_config(),
        "explanation_activities": list(EXPLANATION_ACTIVITIES),
    }
    paths["config"].write_text(
        "# procmine settings for the sample: the working clock and the names of explanation\n"
        "# steps of late cases (DESIGN.md, Time and Definitions). Edit for your agency.\n"
        + yaml.safe_dump(config, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    return list(paths.values())


def sample_path(name: str) -> Path:
    """Path of a file of the committed sample in the repository's ``datasets/`` directory.

    >>> sample_path("sample_catalog.csv").name
    'sample_catalog.csv'
    """
    path = DATASETS_DIR / name
    if not path.exists():
        raise FileNotFoundError(
            f"No sample file {path}. The samples ship with the source repository (datasets/); "
            "write them anywhere with `procmine generate` or procmine.datasets.write_sample()."
        )
    return path


def load_sample() -> pd.DataFrame:
    """The committed sample log (2,000 cases), loaded from its agency export by ``read_log``.

    >>> log = load_sample()  # doctest: +SKIP
    """
    from procmine.log import read_log

    return read_log(sample_path(SAMPLE_FILES["log"]))


def load_sample_catalog() -> pd.DataFrame:
    """The sample's approved-procedure catalog.

    >>> load_sample_catalog()["procedure"].nunique()  # doctest: +SKIP
    25
    """
    return read_catalog(sample_path(SAMPLE_FILES["catalog"]))


def load_sample_truth() -> dict:
    """The sample's ground truth (keys in docs/CONTRACTS.md).

    >>> load_sample_truth()["planted"]["bottleneck_department"]  # doctest: +SKIP
    'Văn phòng HĐND và UBND'
    """
    return json.loads(sample_path(SAMPLE_FILES["truth"]).read_text(encoding="utf-8"))
