"""Reading transfer histories (procmine.log.transfers): headers, action kinds, quarantine, chain of
custody at one instant, out-of-chain senders, holder markers; order, side copies and Unicode form
change nothing."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import procmine as pm
from procmine import schema
from procmine.log import load_report
from procmine.log.report import REASON_NO_RECIPIENT, REASON_NO_SENDER
from procmine.log.transfers import HOLDER_ACTIVITY, OUT_OF_CHAIN, action_kinds, transfer_headers
from test_log import cp1258_bytes

VP, TP, TC = "Văn phòng", "Phòng Tư pháp", "Phòng Tài chính - Kế hoạch"
HEADERS = [
    "Mã hồ sơ", "Đơn vị chuyển", "Người chuyển", "Đơn vị nhận", "Người nhận",
    "Thời gian chuyển", "Hình thức chuyển", "Ý kiến xử lý",
]  # fmt: skip
ROWS = [
    # HS1: sent to Tư pháp and, at the same instant, sent back; a side copy to Tài chính;
    # sent again; closed by Tư pháp.
    ("HS1", VP, "An", TP, "Bình", "02/01/2024 08:00", "Chuyển xử lý", "Đề nghị thẩm định"),
    ("HS1", TP, "Bình", VP, "An", "02/01/2024 08:00", "Trả lại", "Thiếu giấy tờ"),
    ("HS1", VP, "An", TC, "Cúc", "02/01/2024 08:00", "Chuyển phối hợp", "Để phối hợp"),
    ("HS1", VP, "An", TP, "Bình", "03/01/2024 09:00", "Chuyển xử lý", "Đã bổ sung"),
    ("HS1", TP, "Bình", "", "", "04/01/2024 10:00", "Hoàn thành", "Hoàn thành xử lý"),
    # HS2: open; its second transfer is sent by Tài chính, which never held it.
    ("HS2", VP, "An", TP, "Bình", "05/01/2024 08:00", "Chuyển xử lý", ""),
    ("HS2", TC, "Cúc", VP, "An", "08/01/2024 08:00", "Chuyển xử lý", ""),
    # HS3: a main transfer without a recipient, one without a sender: quarantined.
    ("HS3", VP, "An", "", "", "05/01/2024 08:00", "Chuyển xử lý", ""),
    ("HS3", "", "An", TP, "Bình", "05/01/2024 09:00", "Chuyển xử lý", ""),
]


def export(rows=ROWS) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=HEADERS)


def sequences(log: pd.DataFrame) -> dict[str, list[str]]:
    """Each case's department sequence, computed here from the rows: in-sequence events (not
    side copies, with a department) in log order, repeats collapsed."""
    kept = log[~log[schema.SIDE_COPY] & log[schema.DEPARTMENT].notna()]
    found: dict[str, list[str]] = {}
    for case, department in zip(kept[schema.CASE], kept[schema.DEPARTMENT], strict=True):
        seq = found.setdefault(case, [])
        if not seq or seq[-1] != department:
            seq.append(department)
    return found


def test_recognised_from_its_headers_and_said_so():
    log = pm.read_log(export())
    report = load_report(log)
    assert report["transfer_history"] is True
    assert report["transfer_headers"] == {
        "sender_department": "Đơn vị chuyển", "sender": "Người chuyển",
        "recipient_department": "Đơn vị nhận", "recipient": "Người nhận",
        "sent_at": "Thời gian chuyển", "action": "Hình thức chuyển", "comment": "Ý kiến xử lý",
    }  # fmt: skip
    assert report["rows_read"] == 9 and report["rows_kept"] == 7
    assert report["rows_read"] == report["rows_kept"] + report["rows_quarantined"]
    assert len(log) == report["rows_kept"] + report["holder_markers"]
    assert report["quarantined_by_reason"][REASON_NO_RECIPIENT] == 1
    assert report["quarantined_by_reason"][REASON_NO_SENDER] == 1
    assert report["quarantine"]["source_row"].tolist() == [8, 9]
    assert (
        pm.read_log(pm.datasets.example_log()).attrs[pm.log.REPORT_KEY]["transfer_history"] is False
    )


def test_english_headers():
    frame = export().rename(
        columns={"Mã hồ sơ": "case id", "Đơn vị chuyển": "from", "Đơn vị nhận": "to",
                 "Thời gian chuyển": "sent at", "Hình thức chuyển": "action",
                 "Người chuyển": "sender official", "Người nhận": "recipient official"}
    )  # fmt: skip
    assert sequences(pm.read_log(frame)) == sequences(pm.read_log(export()))


def test_events_by_the_sender_and_the_holder_sequence():
    log = pm.read_log(export())
    hs1 = log[log[schema.CASE] == "HS1"]
    # The tie at 08:00 in chain order: the main transfer, the return, then the side copy.
    assert hs1[schema.ACTIVITY].tolist() == [
        "Chuyển xử lý", "Trả lại", "Chuyển phối hợp", "Chuyển xử lý", "Hoàn thành",
    ]  # fmt: skip
    assert hs1[schema.RESOURCE].tolist() == ["An", "Bình", "An", "An", "Bình"]
    assert hs1[schema.TRANSFER].tolist() == ["main", "return", "side copy", "main", "closing"]
    assert hs1[schema.SIDE_COPY].tolist() == [False, False, True, False, False]
    # HS2's holder sequence keeps Tư pháp, which held the dossier until Tài chính sent it on.
    assert sequences(log) == {"HS1": [VP, TP, VP, TP], "HS2": [VP, TP, TC, VP]}


def test_open_case_ends_with_a_marker_for_its_holder():
    log = pm.read_log(export())
    hs2 = log[log[schema.CASE] == "HS2"]
    marker = hs2.iloc[-1]
    assert marker[schema.ACTIVITY] == HOLDER_ACTIVITY and marker[schema.TRANSFER] == "holder"
    assert marker[schema.DEPARTMENT] == VP and marker[schema.RESOURCE] == "An"
    assert marker[schema.TIMESTAMP] == hs2.iloc[-2][schema.TIMESTAMP]
    assert (log[schema.TRANSFER] == "holder").sum() == 2  # HS2's, and the gap in its chain
    assert not (log.loc[log[schema.CASE] == "HS1", schema.TRANSFER] == "holder").any()


def test_out_of_chain_sender_kept_flagged_and_counted():
    log = pm.read_log(export())
    flagged = log[log[OUT_OF_CHAIN]]
    assert flagged[[schema.CASE, schema.DEPARTMENT]].values.tolist() == [["HS2", TC]]
    # Just before it, a marker of the holder then: Tư pháp (Bình), at the same instant.
    before = log.iloc[flagged.index[0] - 1]
    assert before[[schema.TRANSFER, schema.DEPARTMENT, schema.RESOURCE]].tolist() == [
        "holder", TP, "Bình",
    ]  # fmt: skip
    assert before[schema.TIMESTAMP] == flagged.iloc[0][schema.TIMESTAMP]
    report = load_report(log)
    assert report["out_of_chain"] == 1 and report["holder_markers"] == 2
    assert any("did not hold the dossier" in w for w in report["warnings"])


def test_action_vocabulary_longest_name_wins_and_is_configurable():
    assert action_kinds(["Chuyển phối hợp", "chuyển LẠI hồ sơ", "Để biết", "Trình ký"]) == [
        "side copy", "return", "side copy", "main",
    ]  # fmt: skip
    assert action_kinds(["Ký nháy"], {"main": ["Ký nháy"]}) == ["main"]
    with pytest.raises(ValueError, match="not a kind of transfer"):
        action_kinds(["x"], {"forward": ["x"]})
    rows = [(*r[:6], "Ký nháy", *r[7:]) if r[6] == "Chuyển xử lý" else r for r in ROWS]
    report = load_report(pm.read_log(export(rows)))
    assert report["unknown_actions"] == {"Ký nháy": 6}  # rows read, the quarantined too
    assert any("Ký nháy" in w and "transfer_actions" in w for w in report["warnings"])
    configured = pm.read_log(export(rows), transfer_actions={"main": ["Ký nháy"]})
    assert load_report(configured)["unknown_actions"] == {}


def test_mapping_names_roles_and_transfers_flag():
    frame = export().rename(columns={"Đơn vị chuyển": "Từ", "Đơn vị nhận": "Đến"})
    assert transfer_headers(frame.columns) == {}
    log = pm.read_log(frame, {"Từ": "sender_department", "Đến": "recipient_department"})
    assert sequences(log) == sequences(pm.read_log(export()))
    with pytest.raises(ValueError, match="sender and recipient department"):
        pm.read_log(pm.datasets.example_log(), transfers=True)
    with pytest.raises(schema.MissingColumnError, match="concept:name"):  # read as steps
        pm.read_log(export(), transfers=False)


def _canonical(log: pd.DataFrame) -> pd.DataFrame:
    """The log's rows in a fixed order (cases by id), for comparing logs read from exports
    whose rows came in another order."""
    columns = [schema.CASE, schema.ACTIVITY, schema.TIMESTAMP, schema.DEPARTMENT,
               schema.RESOURCE, schema.TRANSFER, OUT_OF_CHAIN]  # fmt: skip
    ordered = log[columns].copy()
    ordered["position"] = ordered.groupby(schema.CASE).cumcount()
    return ordered.sort_values([schema.CASE, "position"]).reset_index(drop=True)


@settings(max_examples=40, deadline=None)
@given(st.permutations(range(len(ROWS))), st.sets(st.integers(0, len(ROWS) - 1)))
def test_row_order_and_unicode_form_change_nothing(order, decomposed):
    rows = []
    for i in order:
        row = list(ROWS[i])
        if i in decomposed:
            row[1] = unicodedata.normalize("NFD", row[1])
            row[3] = unicodedata.normalize("NFD", row[3])
        rows.append(tuple(row))
    expected = _canonical(pm.read_log(export()))
    pd.testing.assert_frame_equal(_canonical(pm.read_log(export(rows))), expected)


def test_side_copies_change_no_figure():
    with_copies = pm.read_log(export())
    without = pm.read_log(export([r for r in ROWS if r[6] != "Chuyển phối hợp"]))
    assert sequences(with_copies) == sequences(without)
    for figure in (pm.handoff_table, pm.bounce_table):
        pd.testing.assert_frame_equal(
            figure(with_copies).drop(columns=["idx"], errors="ignore"),
            figure(without).drop(columns=["idx"], errors="ignore"),
            check_dtype=False,
        )
    assert np.isnan(pm.event_table(with_copies)["sojourn"].to_numpy()[2])


def test_csv_in_windows_1258(tmp_path):
    path = tmp_path / "luan_chuyen.csv"
    path.write_bytes(cp1258_bytes(export().to_csv(index=False)))
    log = pm.read_log(path)
    assert load_report(log)["encoding"].lower().replace("-", "") in {"cp1258", "windows1258"}
    assert sequences(log) == sequences(pm.read_log(export()))


def test_units_renamed_on_both_department_columns_before_the_chain_is_checked():
    # Tài chính was merged into Văn phòng: HS2 goes Văn phòng → Tư pháp → Văn phòng.
    units = {"units": [{"from": TC, "to": VP}]}
    log = pm.read_log(export(), units=units)
    report = load_report(log)
    assert report["out_of_chain"] == 1
    assert sequences(log) == {"HS1": [VP, TP, VP, TP], "HS2": [VP, TP, VP]}
    renamed = report["units_renamed"].set_index("column")["events"]
    assert renamed.to_dict() == {schema.DEPARTMENT: 1, "Đơn vị nhận": 1}
    with pytest.raises(ValueError, match="units"):
        pm.read_log(export(), units={"units": [{"from": TC}]})


# A units rule that renames no unit of the export: read_log then does the custody work on the
# built log (with_custody) instead of inside the assembly (CustodyPlan); the log is the same.
NO_RENAMING = {"units": [{"from": "Phòng không có", "to": "Sở không có"}]}


def test_recipient_officials_without_sender_officials_give_the_markers_their_official():
    # No Người chuyển: events have no official, but a holder marker is the recipient's, so it
    # takes the recipient official of the transfer that handed the dossier over, as when the
    # export has both columns; org:resource is null elsewhere.
    both = pm.read_log(export())
    for units in (None, NO_RENAMING):
        log = pm.read_log(export().drop(columns=["Người chuyển"]), units=units)
        assert list(log.columns) == list(both.columns)
        holder = (log[schema.TRANSFER] == "holder").to_numpy()
        markers = log.loc[holder, [schema.CASE, schema.DEPARTMENT, schema.RESOURCE]]
        assert markers.values.tolist() == [["HS2", TP, "Bình"], ["HS2", VP, "An"]]
        pd.testing.assert_series_equal(
            log.loc[holder, schema.RESOURCE], both.loc[holder, schema.RESOURCE]
        )
        assert log.loc[~holder, schema.RESOURCE].isna().all()
        pd.testing.assert_frame_equal(
            log.drop(columns=[schema.RESOURCE]), both.drop(columns=[schema.RESOURCE])
        )
        report = load_report(log)
        assert report["holder_markers"] == 2 and report["missing_resource"] is None
    plan, after = (
        pm.read_log(export().drop(columns=["Người chuyển"]), units=units)
        for units in (None, NO_RENAMING)
    )
    pd.testing.assert_frame_equal(plan, after)
    # Without a recipient official either, the log has no official at all.
    neither = pm.read_log(export().drop(columns=["Người chuyển", "Người nhận"]))
    assert schema.RESOURCE not in neither.columns
    assert load_report(neither)["holder_markers"] == 2


@pytest.mark.parametrize("merged", [(TP,), (TP, TC)])
def test_a_dated_units_rule_keeps_the_chain_across_its_date(merged):
    # Tư pháp (merged with Tài chính) is Sở Tư pháp from 04/01/2024. HS1 is received by
    # Tư pháp on 02/01 and sent on by Sở Tư pháp on 05/01: the same unit, no gap in its
    # chain. HS2 is received by Tư pháp on 02/01 and sent on by Văn phòng on 05/01: a gap.
    new = "Sở Tư pháp"
    units = {"units": [{"from": list(merged), "to": new, "since": "2024-01-04"}]}
    rows = [
        ("HS1", VP, "An", TP, "Bình", "02/01/2024 08:00", "Chuyển xử lý", ""),
        ("HS1", TP, "Bình", VP, "An", "05/01/2024 08:00", "Chuyển xử lý", ""),
        ("HS2", VP, "An", TP, "Bình", "02/01/2024 09:00", "Chuyển xử lý", ""),
        ("HS2", VP, "An", TC, "Cúc", "05/01/2024 09:00", "Chuyển xử lý", ""),
    ]
    log = pm.read_log(export(rows), units=units)
    flagged = log.loc[log[OUT_OF_CHAIN], [schema.CASE, schema.DEPARTMENT]].values.tolist()
    assert flagged == [["HS2", VP]]
    assert load_report(log)["out_of_chain"] == 1
    # The marker of HS2's holder before the gap is at 05/01: Tư pháp has its new name then.
    holder_then = new
    last = new if TC in merged else TC
    assert sequences(log) == {"HS1": [VP, new, VP], "HS2": [VP, holder_then, VP, last]}
    # Without the rule, the same chains: only the names differ.
    plain = pm.read_log(export(rows))
    assert plain[OUT_OF_CHAIN].tolist() == log[OUT_OF_CHAIN].tolist()
    # The export itself writes the new name after the date: no event is renamed, and the unit
    # that received HS1 under its old name sends it on under its new one.
    rows[1] = ("HS1", new, "Bình", VP, "An", "05/01/2024 08:00", "Chuyển xử lý", "")
    log = pm.read_log(export(rows[:2]), units=units)
    assert not log[OUT_OF_CHAIN].any() and load_report(log)["out_of_chain"] == 0
    assert sequences(log) == {"HS1": [VP, new, VP]}
    assert pm.read_log(export(rows[:2]))[OUT_OF_CHAIN].any()  # without the rule: a gap
    # Two transfers at one instant after the date, written out of order: the chain starts
    # with the unit that holds the dossier under its name at that instant.
    tied = [rows[0], ("HS1", VP, "An", TC, "Cúc", "05/01/2024 08:00", "Chuyển xử lý", ""), rows[1]]
    log = pm.read_log(export(tied), units=units)
    assert log[schema.DEPARTMENT].tolist() == [VP, new, VP, last]  # last: the holder marker
    assert not log[OUT_OF_CHAIN].any()


def test_open_dossiers_of_a_transfer_history_across_tet_2024_by_hand():
    # Vietnam's calendar: Thu 8/2 – Wed 14/2/2024 are Tết days off; 07:30–11:30, 13:00–17:00.
    # Deadline 2 working days (16 working hours) from the first transfer; at Thu 15/2 10:00:
    # t: sent to Tư pháp Wed 7/2 16:00, no more. Due: 7/2 1 h, 15/2 8 h, 16/2 07:30–16:00 7 h
    #    → Fri 16/2 16:00. Tư pháp (Bình) has held it 7/2 1 h + 15/2 2.5 h = 3.5 h; left: 15/2
    #    5.5 h + 16/2 7 h = 12.5 h = 1.5625 working days.
    # u: sent Fri 2/2 09:00, returned Tue 6/2 14:00. Due: 2/2 6.5 h, 5/2 8 h, 6/2 1.5 h → Tue
    #    6/2 09:00; overdue since by 6/2 6.5 h + 7/2 8 h + 15/2 2.5 h = 17 h = 2.125 days.
    #    Văn phòng (An) has held it 6/2 3 h + 7/2 8 h + 15/2 2.5 h = 13.5 h.
    # w: closed. Side copies and row order change nothing.
    rows = [
        ("u", TP, "Bình", VP, "An", "06/02/2024 14:00", "Trả lại", ""),
        ("t", VP, "An", TP, "Bình", "07/02/2024 16:00", "Chuyển xử lý", ""),
        ("w", TP, "Bình", "", "", "06/02/2024 10:00", "Hoàn thành", ""),
        ("u", VP, "An", TP, "Bình", "02/02/2024 09:00", "Chuyển xử lý", ""),
        ("t", VP, "An", TC, "Cúc", "07/02/2024 16:00", "Để biết", ""),
        ("w", VP, "An", TP, "Bình", "05/02/2024 08:00", "Chuyển xử lý", ""),
    ]
    frame = export(rows).assign(**{"Thủ tục": "P"})
    catalog = pd.DataFrame(
        {"procedure": ["P", "P"], "step": [1, 2], "activity": ["Tiếp nhận", "Xử lý"],
         "department": [VP, TP], "deadline_working_days": [2.0, 2.0]}
    )  # fmt: skip
    found = pm.open_cases(pm.read_log(frame), catalog, at="2024-02-15 10:00")
    zone = "Asia/Ho_Chi_Minh"
    assert found["case_id"].tolist() == ["u", "t"]  # fewest working days left first
    assert found["department"].tolist() == [VP, TP]
    assert found["resource"].tolist() == ["An", "Bình"]
    assert found["held_since"].tolist() == [
        pd.Timestamp("2024-02-06 14:00", tz=zone), pd.Timestamp("2024-02-07 16:00", tz=zone),
    ]  # fmt: skip
    assert found["working_hours_held"].tolist() == pytest.approx([13.5, 3.5])
    assert found["due"].tolist() == [
        pd.Timestamp("2024-02-06 09:00", tz=zone), pd.Timestamp("2024-02-16 16:00", tz=zone),
    ]  # fmt: skip
    assert found["working_days_left"].tolist() == pytest.approx([-2.125, 1.5625])
    assert found["overdue"].tolist() == [True, False]
    status = pm.case_status(pm.read_log(frame), catalog, at="2024-02-15 10:00")
    assert status.set_index("case_id")["open"].to_dict() == {"t": True, "u": True, "w": False}
    assert status.attrs["closing_steps"] == "transfer history"


PAIR_FIGURES = ["handoffs", "bounces", "excess_bounces", "pingpong_cases", "cases"]
KEYS = ("procedure", "department_a", "department_b", "source", "target")


@pytest.fixture(scope="module")
def generated():
    sample = pm.datasets.generate(400, seed=5)
    history = pm.datasets.as_transfers(sample.log, seed=5, side_copy_share=0.3, return_share=0.5)
    return sample, history


@pytest.mark.parametrize("by", ["pair", "ordered", "procedure"])
def test_the_generated_transfer_history_gives_the_step_logs_ping_pong(generated, by):
    sample, history = generated
    from_steps = pm.ping_pong(sample.log, sample.catalog, by=by)
    from_transfers = pm.ping_pong(pm.read_log(history), sample.catalog, by=by)
    keys = [c for c in from_steps.columns if c in KEYS]
    steps = from_steps.set_index(keys)[PAIR_FIGURES].sort_index()
    transfers = from_transfers.set_index(keys)[PAIR_FIGURES].sort_index()
    transfers = transfers[(transfers["handoffs"] > 0)]  # ordered: returned pairs without handoffs
    pd.testing.assert_frame_equal(transfers, steps)
    assert steps["excess_bounces"].sum() > 0 and steps["pingpong_cases"].sum() > 0


def test_the_generated_transfer_history_holds_the_returns_planted(generated):
    _, history = generated
    planted = pd.DataFrame(history.attrs["planted"]["returns"])
    # A return sent by B to A is on the ordered pair (A, B): its source is the recipient.
    expected = planted.set_index(["recipient", "sender"])["returns"]
    found = pm.ping_pong(pm.read_log(history), by="ordered")
    found = found[found["returns"] > 0].set_index(["source", "target"])["returns"]
    assert found.sort_index().to_dict() == expected.sort_index().to_dict()
    assert found.sum() > 0


def test_shuffling_side_copies_and_nfd_change_no_figure_of_the_generated_history(generated):
    sample, history = generated
    base = pm.ping_pong(pm.read_log(history), sample.catalog, by="case")
    plain = pm.datasets.as_transfers(sample.log, seed=5, side_copy_share=0.0, return_share=0.5,
                                     shuffle=False)  # fmt: skip
    altered = history.sample(frac=1.0, random_state=11).reset_index(drop=True)
    rows = altered.index[::3]
    for column in ("Đơn vị chuyển", "Đơn vị nhận"):
        altered.loc[rows, column] = altered.loc[rows, column].map(
            lambda name: unicodedata.normalize("NFD", name) if isinstance(name, str) else name
        )
    for other in (plain, altered):
        found = pm.ping_pong(pm.read_log(other), sample.catalog, by="case")
        pd.testing.assert_frame_equal(
            found.sort_values(["case_id", "department_a", "department_b"], ignore_index=True),
            base.sort_values(["case_id", "department_a", "department_b"], ignore_index=True),
        )
