"""Simplification candidates (issue 16, item 2): each rule fires at its threshold and not just
past it, with evidence figures computed here by hand; on the sample, every planted opportunity
is found and no other, ids are stable, every change is one the what-if applies, and the
portfolio meets the targets."""

from __future__ import annotations

import copy
import unicodedata

import pandas as pd
import pytest

import procmine as pm
from procmine.candidates import (
    MEASURE_TYPES,
    candidate_measures,
    facts,
    simplification_candidates,
)
from procmine.cost import read_costs
from procmine.whatif import apply_measures, check_measures, what_if

VP, TP, TC = "Văn phòng", "Phòng Tư pháp", "Phòng Tài chính"
P = "Cấp phép"


def make_log(rows: list[tuple], procedure: str = P) -> pd.DataFrame:
    """A canonical log from (case, activity, department, official, local time) rows; the week
    of Monday 6 May 2024 has no holiday, so working minutes within a morning are clock minutes."""
    log = pd.DataFrame(
        rows, columns=["case:concept:name", "concept:name", "org:group", "org:resource", "t"]
    )
    stamps = pd.to_datetime(log.pop("t")).dt.tz_localize("Asia/Ho_Chi_Minh")
    log["time:timestamp"] = stamps
    log["case:procedure"] = procedure
    return log


def make_catalog(steps: list[tuple], deadline: float = 10.0, **columns: list) -> pd.DataFrame:
    """A catalog of procedure P from (activity, department) steps, with optional columns."""
    catalog = pd.DataFrame(
        {
            "procedure": P,
            "step": range(1, len(steps) + 1),
            "activity": [activity for activity, _ in steps],
            "department": [department for _, department in steps],
            "deadline_working_days": deadline,
            **columns,
        }
    )
    return catalog


@pytest.fixture(scope="module")
def costs():
    return read_costs()


def with_thresholds(costs, kind: str, **values):
    """The costs with the thresholds of one measure type changed."""
    measures = {name: dict(costs.measure(name)) for name in MEASURE_TYPES}
    measures[kind].update(values)
    return costs.replace(measures=measures)


def found(log, catalog, costs, kind: str) -> pd.DataFrame:
    """The candidates of one type, each checked to be a change the what-if replay applies."""
    table = candidate_measures(log, catalog, costs)
    check_measures(table, catalog, log)  # raises MeasureError on a change it cannot apply
    return table[table["measure"] == kind].reset_index(drop=True)


# ------------------------------------------------------------------------- end_pingpong
PATH = [("Tiếp nhận", VP), ("Thẩm định", TP), ("Phê duyệt", VP)]  # prescribes VP → TP → VP
PINGPONG_LOG = [
    # departments VP, TP, VP, TP, VP: bounces at 0 (prescribed), 1 (TP→VP→TP, excess: lost
    # 08:30 → 09:20 = 50 min) and 2 (VP→TP→VP, second on the pair, excess: 09:00 → 10:00 = 60)
    ("c1", "Tiếp nhận", VP, "An", "2024-05-06 08:00"),
    ("c1", "Thẩm định", TP, "Bình", "2024-05-06 08:30"),
    ("c1", "Trả lại hồ sơ", VP, "Chi", "2024-05-06 09:00"),
    ("c1", "Thẩm định", TP, "Bình", "2024-05-06 09:20"),
    ("c1", "Phê duyệt", VP, "Chi", "2024-05-06 10:00"),
    # VP, TP, VP, TP: one excess bounce at 1 (13:30 → 14:45 = 75 min)
    ("c2", "Tiếp nhận", VP, "An", "2024-05-06 13:00"),
    ("c2", "Thẩm định", TP, "Bình", "2024-05-06 13:30"),
    ("c2", "Chuyển lại để bổ sung", VP, "Chi", "2024-05-06 14:00"),
    ("c2", "Thẩm định", TP, "Bình", "2024-05-06 14:45"),
    # the approved path
    ("c3", "Tiếp nhận", VP, "An", "2024-05-07 08:00"),
    ("c3", "Thẩm định", TP, "Bình", "2024-05-07 08:30"),
    ("c3", "Phê duyệt", VP, "Chi", "2024-05-07 09:00"),
]


def test_end_pingpong_fires_at_its_threshold_with_the_hand_counted_evidence(costs):
    log, catalog = make_log(PINGPONG_LOG), make_catalog(PATH)
    rows = found(
        log, catalog, with_thresholds(costs, "end_pingpong", min_excess_bounces=3), "end_pingpong"
    )
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["change"] == {"kind": "end_pingpong", "pair": [TP, VP]}
    assert row["departments"] == (TP, VP)
    assert row["case_ids"] == ("c1", "c2") and row["cases"] == 2
    evidence = row["evidence"]
    assert evidence["excess_bounces"] == 3 and evidence["pingpong_cases"] == 2
    assert evidence["working_hours_lost"] == pytest.approx((50 + 60 + 75) / 60)
    # extra events in the round trips: c1's return and second Thẩm định, c2's return and second
    # Thẩm định; c1's Phê duyệt closes the second trip but is its first approval, not extra
    assert evidence["extra_events"] == 4
    assert row["activities"] == ("Chuyển lại để bổ sung", "Thẩm định", "Trả lại hồ sơ")
    assert row["title"] == f"Chấm dứt chuyển qua lại giữa {TP} và {VP}"
    assert row["evidence_text"] == (
        f"3 lần chuyển qua lại vượt quy trình giữa {TP} và {VP} trong 2 hồ sơ, mất 3,1 giờ làm việc"
    )
    # the same count as the ping-pong figure
    pairs = pm.ping_pong(log, catalog, by="procedure")
    assert pairs["excess_bounces"].sum() == evidence["excess_bounces"]


def test_an_event_without_a_department_is_in_no_round_trip(costs):
    # DESIGN.md's definitions: a bounce is on the department sequence, and an event without a
    # department is not in it (it neither starts nor breaks a run). So it is in no round trip:
    # not an extra event of end_pingpong's evidence, and the replay keeps it — the evidence and
    # the replay read one definition (whatif.round_trip_events).
    rows = [*PINGPONG_LOG]
    rows.insert(3, ("c1", "Ghi chú", None, "Chi", "2024-05-06 09:10"))  # inside c1's trips
    log, catalog = make_log(rows), make_catalog(PATH)
    settings = with_thresholds(costs, "end_pingpong", min_excess_bounces=3)
    row = found(log, catalog, settings, "end_pingpong").iloc[0]
    assert row["evidence"]["extra_events"] == 4 and row["evidence"]["excess_bounces"] == 3
    assert row["activities"] == ("Chuyển lại để bổ sung", "Thẩm định", "Trả lại hồ sơ")
    log2, _ = apply_measures(log, catalog, [row.to_dict()])
    assert (log2["concept:name"] == "Ghi chú").sum() == 1
    assert len(log) - len(log2) == row["evidence"]["extra_events"]


def test_end_pingpong_needs_its_share_of_the_procedures_cases(costs):
    # Two of the three cases ping-pong: a share of 2/3 fires, a share above it does not.
    log, catalog = make_log(PINGPONG_LOG), make_catalog(PATH)
    at = with_thresholds(costs, "end_pingpong", min_excess_bounces=3, min_case_share=0.66)
    above = with_thresholds(costs, "end_pingpong", min_excess_bounces=3, min_case_share=0.67)
    rows = found(log, catalog, at, "end_pingpong")
    assert len(rows) == 1 and rows.iloc[0]["evidence"]["case_share"] == pytest.approx(2 / 3)
    assert found(log, catalog, above, "end_pingpong").empty


def test_end_pingpong_not_below_its_threshold(costs):
    log, catalog = make_log(PINGPONG_LOG), make_catalog(PATH)
    rows = found(
        log, catalog, with_thresholds(costs, "end_pingpong", min_excess_bounces=4), "end_pingpong"
    )
    assert rows.empty


# ------------------------------------------------------------------------- remove_check
CHECK_PATH = [("Tiếp nhận", VP), ("Kiểm tra hồ sơ", TP), ("Thẩm định", TP), ("Phê duyệt", VP)]


def check_log() -> pd.DataFrame:
    rows = []
    for number, day in enumerate(["06", "07", "08", "09"], start=1):
        case, stamp = f"c{number}", f"2024-05-{day}"
        rows += [
            (case, "Tiếp nhận", VP, "An", f"{stamp} 08:00"),
            (case, "Kiểm tra hồ sơ", TP, "Bình", f"{stamp} 08:30"),
        ]
        if number == 3:  # sent back: a return activity follows the check
            rows.append((case, "Trả lại hồ sơ", TP, "Bình", f"{stamp} 08:40"))
        if number == 4:  # redone: the next step is one the case already did
            rows.append((case, "Tiếp nhận", VP, "An", f"{stamp} 08:40"))
        rows += [
            (case, "Thẩm định", TP, "Bình", f"{stamp} 09:00"),
            (case, "Phê duyệt", VP, "Chi", f"{stamp} 10:00"),
        ]
    return make_log(rows)


def test_remove_check_fires_when_returns_stay_within_the_share(costs):
    log, catalog = check_log(), make_catalog(CHECK_PATH)
    rows = found(
        log, catalog, with_thresholds(costs, "remove_check", max_return_share=0.5), "remove_check"
    )
    # Thẩm định never sends work back either, but it is no check (no check prefix)
    assert rows["activities"].tolist() == [("Kiểm tra hồ sơ",)]
    row = rows.iloc[0]
    assert row["change"] == {"kind": "remove_step", "activity": "Kiểm tra hồ sơ"}
    assert row["evidence"]["cases"] == 4 and row["evidence"]["returned_cases"] == 2
    assert row["evidence"]["return_share"] == 0.5
    assert row["case_ids"] == ("c1", "c2", "c3", "c4")
    assert row["title"] == "Bỏ bước kiểm tra “Kiểm tra hồ sơ”"
    assert "2 trong 4 hồ sơ (50,0%)" in row["evidence_text"]


def test_remove_check_not_when_returns_exceed_the_share(costs):
    log, catalog = check_log(), make_catalog(CHECK_PATH)
    rows = found(
        log, catalog, with_thresholds(costs, "remove_check", max_return_share=0.49), "remove_check"
    )
    assert rows.empty


# -------------------------------------------------------------------------- merge_steps
MERGE_PATH = [("Tiếp nhận", VP), ("Vào sổ", VP), ("Thẩm định", TP), ("Phê duyệt", VP)]


def merge_log() -> pd.DataFrame:
    rows = []
    officials = ["An", "An", "An", "An", "Chi"]  # who enters it in the register; An receives
    for number, (day, registrar) in enumerate(
        zip(["06", "07", "08", "09", "10"], officials, strict=True), 1
    ):
        case, stamp = f"c{number}", f"2024-05-{day}"
        rows += [
            (case, "Tiếp nhận", VP, "An", f"{stamp} 08:00"),
            (case, "Vào sổ", VP, registrar, f"{stamp} 08:10"),
            (case, "Thẩm định", TP, "An" if number == 1 else "Bình", f"{stamp} 09:00"),
            (case, "Phê duyệt", VP, "An" if number == 1 else "Chi", f"{stamp} 10:00"),
        ]
    rows.append(("c6", "Tiếp nhận", VP, "An", "2024-05-10 13:00"))  # has only one of the two
    return make_log(rows)


def test_merge_steps_fires_at_the_same_official_share(costs):
    log, catalog = merge_log(), make_catalog(MERGE_PATH)
    rows = found(
        log,
        catalog,
        with_thresholds(costs, "merge_steps", min_same_official_share=0.8),
        "merge_steps",
    )
    # Thẩm định → Phê duyệt: same official in c1 only, and two departments: never merged
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["change"] == {"kind": "merge_steps", "activities": ["Tiếp nhận", "Vào sổ"]}
    assert row["evidence"]["cases"] == 5 and row["evidence"]["same_official_cases"] == 4
    assert row["evidence"]["same_official_share"] == pytest.approx(0.8)
    assert row["case_ids"] == ("c1", "c2", "c3", "c4", "c5") and row["departments"] == (VP,)
    assert row["title"] == "Gộp bước “Tiếp nhận” và “Vào sổ”"


def test_merge_steps_not_below_the_share(costs):
    log, catalog = merge_log(), make_catalog(MERGE_PATH)
    rows = found(
        log,
        catalog,
        with_thresholds(costs, "merge_steps", min_same_official_share=0.81),
        "merge_steps",
    )
    assert rows.empty


# ----------------------------------------------------------------------------- parallel
PARALLEL_PATH = [("Tiếp nhận", VP), ("Xin ý kiến pháp lý", TP), ("Xác nhận kinh phí", TC),
                 ("Phê duyệt", VP)]  # fmt: skip
PARALLEL_LOG = [
    ("c1", "Tiếp nhận", VP, "An", "2024-05-06 08:00"),
    ("c1", "Xin ý kiến pháp lý", TP, "Bình", "2024-05-06 09:00"),  # 60
    ("c1", "Xác nhận kinh phí", TC, "Dũng", "2024-05-06 09:40"),  # 40: overlap min(60, 40) = 40
    ("c1", "Phê duyệt", VP, "Chi", "2024-05-06 10:00"),
    ("c2", "Tiếp nhận", VP, "An", "2024-05-07 08:00"),
    ("c2", "Xin ý kiến pháp lý", TP, "Bình", "2024-05-07 08:20"),  # 20
    ("c2", "Xác nhận kinh phí", TC, "Dũng", "2024-05-07 09:50"),  # 90: overlap 20
    ("c2", "Phê duyệt", VP, "Chi", "2024-05-07 10:30"),
]


def test_parallel_fires_where_the_later_step_does_not_need_the_earlier(costs):
    catalog = make_catalog(PARALLEL_PATH, depends_on=["", "1", "1", "2; 3"])
    rows = found(make_log(PARALLEL_LOG), catalog, costs, "parallel")
    assert len(rows) == 1  # 1 → 2 and 3 → 4 are dependencies
    row = rows.iloc[0]
    assert row["change"] == {
        "kind": "parallel",
        "activities": ["Xin ý kiến pháp lý", "Xác nhận kinh phí"],
    }
    assert row["departments"] == (TP, TC) and row["case_ids"] == ("c1", "c2")
    assert row["evidence"]["mean_overlap_working_hours"] == pytest.approx((40 + 20) / 2 / 60)
    assert row["title"] == "Thực hiện song song “Xin ý kiến pháp lý” và “Xác nhận kinh phí”"


def test_parallel_not_where_the_catalog_links_the_steps_or_says_nothing(costs):
    linked = make_catalog(PARALLEL_PATH, depends_on=["", "1", "2", "3"])
    assert found(make_log(PARALLEL_LOG), linked, costs, "parallel").empty
    silent = make_catalog(PARALLEL_PATH, depends_on=["", "1", None, "2; 3"])
    assert found(make_log(PARALLEL_LOG), silent, costs, "parallel").empty
    table = candidate_measures(make_log(PARALLEL_LOG), make_catalog(PARALLEL_PATH), costs)
    assert "parallel" not in set(table["measure"])
    assert any("depends_on" in note for note in table.attrs["notes"])


# ------------------------------------------------------------ delegate_signing, cut_waiting
SIGNING_LOG = [
    # sojourns: Thẩm định 30 and 20, Phê duyệt 60 and 90 → Phê duyệt holds 150 of 200 minutes
    # (0.75); the procedure's median sojourn is median(30, 60, 20, 90) = 45, Phê duyệt's 75
    ("c1", "Tiếp nhận", VP, "An", "2024-05-06 08:00"),
    ("c1", "Thẩm định", TP, "Bình", "2024-05-06 08:30"),
    ("c1", "Phê duyệt", VP, "Chi", "2024-05-06 09:30"),
    ("c2", "Tiếp nhận", VP, "An", "2024-05-07 08:00"),
    ("c2", "Thẩm định", TP, "Bình", "2024-05-07 08:20"),
    ("c2", "Phê duyệt", VP, "Chi", "2024-05-07 09:50"),
]
GRADES = ["Văn thư", "Chuyên viên", "Phó Chủ tịch"]


def test_delegate_signing_fires_at_the_time_share(costs):
    catalog = make_catalog(PATH, grade=GRADES)
    rows = found(
        make_log(SIGNING_LOG),
        catalog,
        with_thresholds(costs, "delegate_signing", min_time_share=0.75),
        "delegate_signing",
    )
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["change"] == {"kind": "delegate", "activity": "Phê duyệt",
                             "to_grade": costs.delegate_to_grade, "cap_minutes": 45.0}  # fmt: skip
    assert row["evidence"]["time_share"] == pytest.approx(0.75)
    assert row["evidence"]["working_hours"] == pytest.approx(150 / 60)
    assert row["title"] == f"Ủy quyền ký “Phê duyệt” cho {costs.delegate_to_grade}"
    assert "75,0%" in row["evidence_text"]


def test_delegate_signing_not_below_the_share_nor_for_other_grades(costs):
    catalog = make_catalog(PATH, grade=GRADES)
    strict = with_thresholds(costs, "delegate_signing", min_time_share=0.76)
    assert found(make_log(SIGNING_LOG), catalog, strict, "delegate_signing").empty
    staff = make_catalog(PATH, grade=["Văn thư", "Chuyên viên", "Chuyên viên"])
    loose = with_thresholds(costs, "delegate_signing", min_time_share=0.1)
    assert found(make_log(SIGNING_LOG), staff, loose, "delegate_signing").empty


def test_cut_waiting_fires_at_the_ratio_with_the_median_as_cap(costs):
    log, catalog = make_log(SIGNING_LOG), make_catalog(PATH)
    rows = found(
        log, catalog, with_thresholds(costs, "cut_waiting", min_ratio=75 / 45), "cut_waiting"
    )
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["change"] == {"kind": "cap_waiting", "activity": "Phê duyệt", "cap_minutes": 45.0}
    evidence = row["evidence"]
    assert evidence["ratio"] == pytest.approx(75 / 45)
    assert evidence["working_hours_over_cap"] == pytest.approx((15 + 45) / 60)
    assert row["case_ids"] == ("c1", "c2")
    assert row["title"] == "Giảm thời gian chờ tại bước “Phê duyệt”"


def test_cut_waiting_not_below_the_ratio(costs):
    log, catalog = make_log(SIGNING_LOG), make_catalog(PATH)
    rows = found(log, catalog, with_thresholds(costs, "cut_waiting", min_ratio=1.7), "cut_waiting")
    assert rows.empty


def test_start_events_are_not_steps(costs):
    """A start/complete log gives the figures of its completes alone: a step's sojourn runs from
    the previous step's complete."""
    plain = make_log(SIGNING_LOG)
    starts = plain.assign(**{"time:timestamp": plain["time:timestamp"] - pd.Timedelta("5min")})
    both = pd.concat([starts.assign(**{"lifecycle:transition": "start"}),
                      plain.assign(**{"lifecycle:transition": "complete"})])  # fmt: skip
    both = both.sort_values(["case:concept:name", "time:timestamp"], kind="stable")
    loose = with_thresholds(costs, "cut_waiting", min_ratio=1.5)
    expected = found(plain, make_catalog(PATH), loose, "cut_waiting")
    got = found(both.reset_index(drop=True), make_catalog(PATH), loose, "cut_waiting")
    assert got["evidence"].tolist() == expected["evidence"].tolist()
    assert got["change"].tolist() == expected["change"].tolist() != []


# --------------------------------------------------------------------- shorten_deadline
DEADLINE_LOG = [  # 1 and 2 working days: the 90th percentile is 1 + 0.9 × 1 = 1.9
    ("c1", "Tiếp nhận", VP, "An", "2024-05-06 08:00"),
    ("c1", "Phê duyệt", VP, "Chi", "2024-05-07 08:00"),
    ("c2", "Tiếp nhận", VP, "An", "2024-05-07 08:00"),
    ("c2", "Phê duyệt", VP, "Chi", "2024-05-09 08:00"),
]


def test_shorten_deadline_fires_at_the_share_and_rounds_up(costs):
    log, catalog = make_log(DEADLINE_LOG), make_catalog([PATH[0], PATH[2]], deadline=10)
    rows = found(
        log,
        catalog,
        with_thresholds(costs, "shorten_deadline", max_p90_share=0.19),
        "shorten_deadline",
    )
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["change"] == {"kind": "set_deadline", "deadline_working_days": 2}
    assert row["evidence"]["p90_working_days"] == pytest.approx(1.9)
    assert row["title"] == "Rút ngắn thời hạn giải quyết từ 10 xuống 2 ngày làm việc"
    assert row["activities"] == () and row["case_ids"] == ("c1", "c2")


def test_shorten_deadline_not_above_the_share_nor_when_nothing_shortens(costs):
    log = make_log(DEADLINE_LOG)
    strict = with_thresholds(costs, "shorten_deadline", max_p90_share=0.18)
    assert found(
        log, make_catalog([PATH[0], PATH[2]], deadline=10), strict, "shorten_deadline"
    ).empty
    loose = with_thresholds(costs, "shorten_deadline", max_p90_share=1.0)
    assert found(log, make_catalog([PATH[0], PATH[2]], deadline=2), loose, "shorten_deadline").empty


# ---------------------------------------------------------------------- drop_extra_step
def extra_log() -> list[tuple]:
    rows = []
    for number, day in enumerate(["06", "07", "08", "09"], start=1):
        case, stamp = f"c{number}", f"2024-05-{day}"
        rows += [(case, "Tiếp nhận", VP, "An", f"{stamp} 08:00"),
                 (case, "Thẩm định", TP, "Bình", f"{stamp} 08:30")]  # fmt: skip
        if number == 1:  # a step the path does not prescribe, in TP's own run
            rows.append((case, "Rà soát lại hồ sơ", TP, "Bình", f"{stamp} 08:50"))
        if number in (1, 2):  # explanations and returns are never dropped as extra steps
            rows += [(case, "Giải trình", TP, "Bình", f"{stamp} 08:55"),
                     (case, "Trả lại hồ sơ", TP, "Bình", f"{stamp} 08:58")]  # fmt: skip
        if number == 4:  # inside an excess round trip VP → TP: end_pingpong's, not a step
            rows += [(case, "Xem lại", VP, "Chi", f"{stamp} 09:00"),
                     (case, "Thẩm định", TP, "Bình", f"{stamp} 09:30")]  # fmt: skip
        rows.append((case, "Phê duyệt", VP, "Chi", f"{stamp} 10:00"))
    return rows


def test_drop_extra_step_fires_at_the_case_share(costs):
    log, catalog = make_log(extra_log()), make_catalog(PATH)
    rows = found(
        log,
        catalog,
        with_thresholds(costs, "drop_extra_step", min_case_share=0.25),
        "drop_extra_step",
    )
    assert rows["activities"].tolist() == [("Rà soát lại hồ sơ",)]
    row = rows.iloc[0]
    assert row["change"] == {"kind": "remove_step", "activity": "Rà soát lại hồ sơ"}
    assert row["evidence"]["cases"] == 1 and row["evidence"]["procedure_cases"] == 4
    assert row["departments"] == (TP,) and row["case_ids"] == ("c1",)
    assert row["title"] == "Bỏ bước ngoài quy trình “Rà soát lại hồ sơ”"


def test_drop_extra_step_not_below_the_case_share(costs):
    log, catalog = make_log(extra_log()), make_catalog(PATH)
    rows = found(
        log,
        catalog,
        with_thresholds(costs, "drop_extra_step", min_case_share=0.26),
        "drop_extra_step",
    )
    assert rows.empty


def test_drop_extra_step_saves_its_sojourn(costs):
    """Replayed: c1 loses Rà soát lại hồ sơ (20 working minutes after Thẩm định), so its later
    events and its end move 20 minutes earlier; over 4 cases that is 5 minutes a case."""
    log, catalog = make_log(extra_log()), make_catalog(PATH)
    table = simplification_candidates(
        log, catalog, with_thresholds(costs, "drop_extra_step", min_case_share=0.25)
    )
    row = table[table["measure"] == "drop_extra_step"].iloc[0]
    assert row["working_days_saved"] == pytest.approx(20 / 4 / 480)
    assert row["saving_yearly"] > 0


# ------------------------------------------------------------------------ the whole table
def test_ids_text_and_columns(costs):
    table = candidate_measures(make_log(extra_log()), make_catalog(PATH, grade=GRADES), costs)
    assert table["measure_id"].tolist() == [f"M{n:03d}" for n in range(1, len(table) + 1)]
    assert set(table["measure"]) <= set(MEASURE_TYPES)
    for text in [*table["title"], *table["evidence_text"]]:
        assert unicodedata.is_normalized("NFC", text)
    assert (table["cases"] == table["case_ids"].map(len)).all()
    effort = {kind: costs.measure(kind)["effort_person_days"] for kind in MEASURE_TYPES}
    assert (table["effort_person_days"] == table["measure"].map(effort)).all()


# ------------------------------------------------------------------------ the savings
def test_each_saving_is_the_replay_of_that_measure_alone(costs):
    """Two measures of one procedure (end the ping-pong; shorten the deadline from 10 to 1 working
    day): each row's saving is what_if of it alone, not of both; the replay gives both jointly."""
    log, catalog = make_log(PINGPONG_LOG), make_catalog(PATH)
    costs = with_thresholds(costs, "end_pingpong", min_excess_bounces=3)
    table = simplification_candidates(log, catalog, costs)
    assert table["measure"].tolist() == ["end_pingpong", "shorten_deadline"]  # ranked by saving
    for row in table.to_dict("records"):
        alone = what_if(log, catalog, [row], costs).iloc[0]
        assert row["saving_yearly"] == pytest.approx(alone["saving_yearly"])
        assert row["working_days_saved"] == pytest.approx(
            alone["working_days_before"] - alone["working_days_after"]
        )
        assert row["on_time_rate_after"] == pytest.approx(alone["on_time_rate_after"])
    # a deadline saves time at most, no VND
    assert table["saving_yearly"].iloc[0] > 0 and table["saving_yearly"].iloc[1] == 0
    replay = table.attrs["replay"]
    assert copy.deepcopy(replay) is replay
    assert copy.deepcopy(table).attrs["replay"] is replay
    both = replay.saving(P, table["measure_id"].tolist())
    jointly = what_if(log, catalog, table.sort_values("measure_id").to_dict("records"), costs)
    assert both["saving_yearly"] == pytest.approx(jointly["saving_yearly"].iloc[0])
    assert both["on_time_rate_after"] == pytest.approx(jointly["on_time_rate_after"].iloc[0])
    assert replay.saving(P, [])["saving_yearly"] == 0.0


def test_universe_lists_the_catalog_then_log_only_procedures(costs):
    log = pd.concat([make_log(DEADLINE_LOG), make_log(DEADLINE_LOG, "Ngoài danh mục").assign(
        **{"case:concept:name": ["x1", "x1", "x2", "x2"]})], ignore_index=True)  # fmt: skip
    catalog = make_catalog([PATH[0], PATH[2]], reviewed=["2024-03-01", "2024-03-01"])
    table = simplification_candidates(log, catalog, costs)
    universe = table.attrs["universe"]
    assert universe[["procedure", "reviewed", "in_catalog"]].values.tolist() == [
        [P, True, True],
        ["Ngoài danh mục", False, False],
    ]
    assert table.attrs["costs"] is costs
    assert (table["procedure"] == P).all()
    assert any("Ngoài danh mục" in note for note in table.attrs["notes"])


def test_the_example_universe_and_the_cost_the_candidates_were_measured_against(costs):
    log, catalog = pm.datasets.example_log(), pm.datasets.example_catalog()
    table = simplification_candidates(log, catalog, costs)
    universe = table.attrs["universe"]
    assert universe[["procedure", "reviewed", "in_catalog"]].values.tolist() == [
        ["Cấp phép", False, True]
    ]
    expected = pm.compliance_cost(log, catalog, costs, by="procedure")
    pd.testing.assert_frame_equal(table.attrs["cost"], expected)


# ------------------------------------------------------------------------------ the sample
@pytest.fixture(scope="module")
def sample():
    return pm.datasets.load_sample(), pm.datasets.load_sample_catalog()


@pytest.fixture(scope="module")
def sample_candidates(sample, costs):
    return simplification_candidates(*sample, costs)


def test_the_planted_pingpong_pairs_are_end_pingpong_candidates(sample_candidates):
    planted = pm.datasets.load_sample_truth()["planted"]["pingpong_pairs"]
    pairs = sample_candidates.loc[sample_candidates["measure"] == "end_pingpong", "departments"]
    assert {tuple(sorted(pair)) for pair in planted} <= set(pairs)


def test_ids_are_stable_across_runs(sample, sample_candidates, costs):
    again = candidate_measures(*sample, costs)
    first = sample_candidates.sort_values("measure_id")
    columns = ["measure_id", "procedure", "measure", "title", "case_ids"]
    assert first[columns].values.tolist() == again[columns].values.tolist()
    assert [str(c) for c in first["change"]] == [str(c) for c in again["change"]]


def test_every_change_is_accepted_by_the_replay(sample, sample_candidates):
    log, catalog = sample
    rounds = sample_candidates.groupby("procedure").cumcount()
    for number in range(int(rounds.max()) + 1):
        batch = sample_candidates[rounds == number]
        apply_measures(log, catalog, batch.to_dict("records"))  # raises on a bad change
    assert sample_candidates["saving_yearly"].notna().all()


# ------------------------------------------------------- the sample's planted opportunities
@pytest.fixture(scope="module")
def planted():
    return pm.datasets.load_sample_truth()["planted"]["opportunities"]


def is_planted(row, opportunity) -> bool:
    """Whether a candidate is the planted opportunity: its procedure and what it changes."""
    change = row["change"]
    if row["procedure"] != opportunity["procedure"]:
        return False
    if "pair" in opportunity:
        return sorted(change["pair"]) == sorted(opportunity["pair"])
    if "activities" in opportunity:
        return list(change["activities"]) == opportunity["activities"]
    if "deadline_working_days" in opportunity:  # the new deadline is shorter
        return change["deadline_working_days"] < opportunity["deadline_working_days"]
    return change["activity"] == opportunity["activity"]


def test_every_planted_opportunity_is_found(sample_candidates, planted):
    assert list(planted) == list(MEASURE_TYPES)
    for kind, opportunities in planted.items():
        rows = sample_candidates[sample_candidates["measure"] == kind].to_dict("records")
        for opportunity in opportunities:
            assert sum(is_planted(row, opportunity) for row in rows) == 1, (kind, opportunity)


def test_only_the_planted_procedures_get_a_candidate_of_each_type(sample_candidates, planted):
    """A procedure planted without a type yields no candidate of that type: the sample's
    ordinary procedures give no rule a reason to fire."""
    for kind in MEASURE_TYPES:
        rows = sample_candidates[sample_candidates["measure"] == kind]
        assert set(rows["procedure"]) == {o["procedure"] for o in planted[kind]}, kind
        assert len(rows) == len(planted[kind]), kind
    # end_pingpong: the procedures where the ping-pong pairs were planted, one pair each.
    assert len(planted["end_pingpong"]) == 6
    assert {tuple(o["pair"]) for o in planted["end_pingpong"]} == {
        tuple(pair) for pair in pm.datasets.load_sample_truth()["planted"]["pingpong_pairs"]
    }


def test_the_sample_portfolio_meets_the_targets_with_pingpong_procedures(
    sample_candidates, planted
):
    chosen = pm.portfolio(sample_candidates)
    summary = chosen.summary.set_index("target")
    assert chosen.status == "optimal"
    assert summary.loc["simplified_share", "achieved"] >= 0.2
    assert summary.loc["cost_cut", "achieved"] >= 0.2
    assert summary.loc[["simplified_share", "cost_cut", "reviewed_share"], "met"].all()
    assert summary.loc["reviewed_share", "achieved"] == pytest.approx(13 / 25)
    # The least-effort portfolio takes measures on procedures with planted ping-pong.
    pingpong = {o["procedure"] for o in planted["end_pingpong"]}
    assert pingpong & set(chosen.measures["procedure"])


def test_lateness_drivers_join_the_evidence_of_the_measures_they_touch(sample, sample_candidates):
    log, catalog = sample
    drivers = pm.delay_drivers(pm.event_table(log), catalog, lang="vi")
    assert drivers.attrs["clears"] and drivers["driver"].iloc[0] == "bước ngoài quy trình"
    found = pm.candidates.with_lateness_drivers(sample_candidates, drivers)
    touched = found["evidence"].map(lambda e: "lateness_drivers" in e)
    extra = found["measure"] == "drop_extra_step"
    assert extra.any() and touched[extra].all()
    first = found.loc[extra, "evidence"].map(lambda e: e["lateness_drivers"][0]["driver"])
    assert (first == "bước ngoài quy trình").all()
    assert (
        found.loc[extra, "evidence_text"]
        .str.contains("yếu tố trễ hạn: hồ sơ có ít nhất một bước ngoài quy trình: 38% trễ hạn")
        .all()
    )
    # The others: only measures on a step a driver names; nothing else changes.
    steps = {k["subject"] for k, low in zip(drivers.attrs["drivers"], drivers["low"], strict=True)
             if k["key"] in ("department_at", "official_at") and low > 0}  # fmt: skip
    on_steps = found["activities"].map(lambda a: bool(steps & set(a)))
    assert (touched == (extra | on_steps)).all()
    untouched = sample_candidates[~touched.to_numpy()]
    pd.testing.assert_frame_equal(found[~touched], untouched)


def test_the_figures_given_give_the_same_candidates(sample, sample_candidates, costs):
    # An analysis that has the events table, the on-time table and the bounces passes them:
    # the detection, the savings and the joint replays are those computed from the log.
    log, catalog = sample
    events = pm.event_table(log)
    given = {"deadlines": pm.on_time(events, catalog), "bounces": pm.bounce_table(events, catalog)}
    found = simplification_candidates(log, catalog, costs, events=events, **given)
    pd.testing.assert_frame_equal(found, sample_candidates)
    pd.testing.assert_frame_equal(found.attrs["cost"], sample_candidates.attrs["cost"])
    pd.testing.assert_frame_equal(
        candidate_measures(events, catalog, costs, **given), candidate_measures(log, catalog, costs)
    )
    procedure, group = next(iter(found.groupby("procedure")))
    ids = list(group["measure_id"].head(3))
    assert found.attrs["replay"].saving(procedure, ids) == sample_candidates.attrs["replay"].saving(
        procedure, ids
    )


def test_the_per_case_table_given_gives_the_same_candidates(sample, sample_candidates, costs):
    # The report hands on its per-case deadline table: on_time reads it instead of computing it.
    log, catalog = sample
    events = pm.event_table(log)
    cases = pm.deadlines.per_case_table(events, catalog)
    found = simplification_candidates(log, catalog, costs, events=events, per_case=cases)
    pd.testing.assert_frame_equal(found, sample_candidates)
    pd.testing.assert_frame_equal(found.attrs["cost"], sample_candidates.attrs["cost"])
    given = facts(events, catalog, per_case=cases).on_time
    pd.testing.assert_frame_equal(given, pm.on_time(events, catalog))
    # A table asked for another moment is refused, not read.
    other = pm.deadlines.per_case_table(events, catalog, at="2024-06-30")
    with pytest.raises(ValueError, match="another at than"):
        candidate_measures(events, catalog, costs, per_case=other)


def test_events_of_another_log_are_refused(costs):
    log, catalog = pm.datasets.example_log(), pm.datasets.example_catalog()
    with pytest.raises(ValueError, match="the log's events table"):
        simplification_candidates(log, catalog, costs, events=pm.event_table(log.head(5)))
