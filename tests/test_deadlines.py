"""Deadlines, held overruns and explanations against independent computations.

The expected values come from plain Python (tests/independent.py): a day-by-day office-minute
count (not the working clock) and per-case loops over sorted events.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

import numpy as np
import pandas as pd
import pytest
import sqlglot

import procmine as pm
from independent import (
    ACT,
    CASE,
    DEP,
    PROC,
    REPO,
    TET_2024,
    TS,
    WEEKDAYS,
    add_office_minutes,
    make_log,
    office_minutes,
)  # fmt: skip
from procmine import deadlines as dl
from procmine import engines, schema


# ------------------------------------------------------------------------------ deadlines
def tet_log() -> pd.DataFrame:
    # Received Wed 7/2/2024 16:00; 8–14/2 are days off: 1 working day later is 15/2 16:00.
    return make_log(
        [
            ("exact", "Tiếp nhận", "2024-02-07 16:00", "A", "an", "P"),
            ("exact", "Trả kết quả", "2024-02-15 16:00", "B", "bình", "P"),
            ("late", "Tiếp nhận", "2024-02-07 16:00", "A", "an", "P"),
            ("late", "Trả kết quả", "2024-02-15 16:30", "B", "bình", "P"),
        ]
    )


CATALOG_P = pd.DataFrame(
    {
        "procedure": ["P", "P"],
        "step": [1, 2],
        "activity": ["Tiếp nhận", "Trả kết quả"],
        "department": ["A", "B"],
        "deadline_working_days": [1.0, 1.0],
    }
)


def test_due_date_across_tet_2024_and_on_time_at_exactly_the_deadline():
    result = dl.on_time(tet_log(), CATALOG_P).set_index("case_id")
    for case, end in (
        ("exact", dt.datetime(2024, 2, 15, 16)),
        ("late", dt.datetime(2024, 2, 15, 16, 30)),
    ):
        taken = office_minutes(dt.datetime(2024, 2, 7, 16), end, TET_2024) / 480
        assert result.loc[case, "working_days"] == taken
        assert str(result.loc[case, "due"]) == "2024-02-15 16:00:00+07:00"
        assert result.loc[case, "deadline_working_days"] == 1.0
    assert bool(result.loc["exact", "on_time"])
    assert result.loc["exact", "overrun_working_days"] == 0.0
    assert not result.loc["late", "on_time"]
    assert result.loc["late", "overrun_working_days"] == 30 / 480
    assert result.loc["late", "department_held_overrun"] == "B"
    assert result.loc["late", "resource_held_overrun"] == "bình"
    assert pd.isna(result.loc["exact", "department_held_overrun"])


def test_deadline_column_date_time_date_only_and_number():
    log = tet_log()
    stamps = ["2024-02-15 16:10", "2024-02-15 16:10", "2024-02-15", "2024-02-15"]
    log[schema.DEADLINE] = pd.to_datetime(stamps, format="ISO8601")
    result = dl.on_time(log).set_index("case_id")
    assert bool(result.loc["exact", "on_time"])
    assert str(result.loc["exact", "due"]) == "2024-02-15 16:10:00+07:00"
    # A date at 00:00 means by the end of that day (17:00): 16:30 is on time.
    assert bool(result.loc["late", "on_time"])
    assert str(result.loc["late", "due"]) == "2024-02-15 17:00:00+07:00"
    log[schema.DEADLINE] = [np.nan, np.nan, 2.0, 2.0]
    result = dl.on_time(log, CATALOG_P).set_index("case_id")
    assert result.loc["exact", "deadline_working_days"] == 1.0  # from the catalog
    assert result.loc["late", "deadline_working_days"] == 2.0  # the column wins
    assert str(result.loc["late", "due"]) == "2024-02-16 16:00:00+07:00"
    with pytest.raises(ValueError, match="need deadlines"):
        dl.on_time(tet_log())


def test_cases_whose_events_interleave_keep_their_ids_and_deadlines():
    # The two cases' events alternate in the log; the case ids and the deadline column must still
    # reach the right case (the deadline figures number the cases and join the ids back).
    log = tet_log().iloc[[2, 0, 3, 1]].reset_index(drop=True)
    log[schema.DEADLINE] = [2.0, np.nan, 2.0, np.nan]
    result = dl.on_time(log, CATALOG_P)
    assert result["case_id"].tolist() == ["exact", "late"]
    rows = result.set_index("case_id")
    assert rows.loc["exact", "deadline_working_days"] == 1.0  # from the catalog
    assert rows.loc["late", "deadline_working_days"] == 2.0  # from the column
    assert str(rows.loc["late", "due"]) == "2024-02-16 16:00:00+07:00"
    assert rows["on_time"].tolist() == [True, True]
    late = dl.late_without_explanation(log.drop(columns=schema.DEADLINE), CATALOG_P)
    assert late[["case_id", "department_held_overrun"]].values.tolist() == [["late", "B"]]
    assert late["overrun_working_days"].tolist() == [30 / 480]


def test_the_events_table_carries_the_deadline_column():
    # Passing the events table instead of the log must not lose the export's own deadlines.
    log = tet_log()
    log[schema.DEADLINE] = pd.to_datetime(
        ["2024-02-15 16:10", "2024-02-15 16:10", "2024-02-15", "2024-02-15"], format="ISO8601"
    )
    events = engines.event_table(log)
    pd.testing.assert_frame_equal(dl.on_time(events), dl.on_time(log))
    with pytest.raises(ValueError, match="need deadlines"):
        dl.on_time(engines.event_table(tet_log()))


def held_log() -> tuple[pd.DataFrame, pd.DataFrame]:
    catalog = pd.DataFrame(
        {
            "procedure": ["P"] * 3,
            "step": [1, 2, 3],
            "activity": ["Tiếp nhận", "Thẩm định", "Phê duyệt"],
            "department": ["A", "B", "C"],
            "deadline_working_days": [2.0] * 3,
            "step_deadline_working_days": [0.0, 1.0, 0.5],
        }
    )
    log = make_log(
        [
            # k1: Thẩm định 600 min (allot 480, excess 120, B); Phê duyệt 960 (allot 240,
            # excess 720, C) → C held it.
            ("k1", "Tiếp nhận", "2024-03-04 08:00", "A", "an"),
            ("k1", "Thẩm định", "2024-03-05 10:00", "B", "bình"),
            ("k1", "Phê duyệt", "2024-03-07 10:00", "C", "chi"),
            # k2: Thẩm định by B 210 min then redone by D 750 min: excess 480 shared 105 / 375;
            # Phê duyệt 120 min, no excess → D held it.
            ("k2", "Tiếp nhận", "2024-03-04 08:00", "A", "an"),
            ("k2", "Thẩm định", "2024-03-04 12:00", "B", "bình"),
            ("k2", "Thẩm định", "2024-03-06 08:00", "D", "dung"),
            ("k2", "Phê duyệt", "2024-03-06 10:00", "C", "chi"),
            # k3: on time (1.5 days)
            ("k3", "Tiếp nhận", "2024-03-04 08:00", "A", "an"),
            ("k3", "Thẩm định", "2024-03-05 08:00", "B", "bình"),
            ("k3", "Phê duyệt", "2024-03-05 11:00", "C", "chi"),
        ]
    )
    log[PROC] = "P"
    return log, catalog


def test_department_that_held_the_overrun():
    log, catalog = held_log()
    result = dl.on_time(log, catalog, calendar=WEEKDAYS).set_index("case_id")
    assert office_minutes(dt.datetime(2024, 3, 4, 12), dt.datetime(2024, 3, 6, 8)) == 750
    assert result["on_time"].tolist() == [False, False, True]
    assert result.loc["k1", "department_held_overrun"] == "C"
    assert result.loc["k2", "department_held_overrun"] == "D"
    assert result.loc["k2", "resource_held_overrun"] == "dung"
    assert result.loc["k1", "overrun_working_days"] == (1560 - 960) / 480
    assert result.loc["k2", "overrun_working_days"] == (1080 - 960) / 480
    units = dl.slow_units(log, catalog, calendar=WEEKDAYS)
    assert units[["department", "late_cases_held", "late_cases", "cases"]].values.tolist() == [
        ["C", 1, 2, 3], ["D", 1, 1, 1], ["A", 0, 2, 3], ["B", 0, 2, 3],
    ]  # fmt: skip
    assert units["month"].unique().tolist() == ["2024-03"]
    assert units["late_share"].tolist() == pytest.approx([2 / 3, 1.0, 2 / 3, 2 / 3])
    assert units["overrun_working_days"].tolist() == pytest.approx([1.25, 0.25, 0, 0])
    assert units["rank"].tolist() == [1, 2, 3, 4]
    assert dl.slow_units(log, catalog, month="2024-04", calendar=WEEKDAYS).empty
    rates = dl.on_time_rate(log, catalog, by="department", calendar=WEEKDAYS)
    assert rates.set_index("department")["on_time_rate"].to_dict() == pytest.approx(
        {"A": 1 / 3, "B": 1 / 3, "C": 1 / 3, "D": 0.0}
    )
    rates = dl.on_time_rate(log, catalog, by="month", calendar=WEEKDAYS)
    assert rates[["month", "cases", "judged", "on_time", "late"]].values.tolist() == [
        ["2024-03", 3, 3, 1, 2]
    ]


def test_a_side_copy_takes_no_part_in_the_units_of_a_case():
    # A copy for information (Để biết) moves no responsibility (DESIGN.md, Transfer histories):
    # the department it went to is not among the units that processed the late case.
    log, catalog = held_log()
    copy = make_log([("k1", "Để biết", "2024-03-06 09:00", "E", "em")]).assign(**{PROC: "P"})
    log = pd.concat(
        [log.assign(**{engines.SIDE_COPY: False}), copy.assign(**{engines.SIDE_COPY: True})],
        ignore_index=True,
    )
    units = dl.slow_units(log, catalog, calendar=WEEKDAYS)
    assert units["department"].tolist() == ["C", "D", "A", "B"]
    assert (
        "em"
        not in dl.slow_units(log, catalog, by="resource", calendar=WEEKDAYS)["resource"].tolist()
    )
    rates = dl.on_time_rate(log, catalog, by="department", calendar=WEEKDAYS)
    assert rates["department"].tolist() == ["A", "B", "C", "D"]
    # The copy holds no time: who held the overrun is unchanged.
    result = dl.on_time(log, catalog, calendar=WEEKDAYS).set_index("case_id")
    assert result["department_held_overrun"].tolist()[:2] == ["C", "D"]


def test_an_events_frame_is_used_as_it_is(monkeypatch):
    # The clock is read once for several figures: given engines.event_table's frame, no figure
    # builds it again, and each gives what it gives on the log itself.
    log, catalog = held_log()
    events = engines.event_table(log, WEEKDAYS)
    expected = {
        "on_time": dl.on_time(log, catalog, calendar=WEEKDAYS),
        "late": dl.late_without_explanation(log, catalog, calendar=WEEKDAYS),
        "handoff": pm.bottlenecks(log, "handoff", calendar=WEEKDAYS),
        "department": pm.bottlenecks(log, "department", calendar=WEEKDAYS),
    }

    def rebuilt(*args, **kwargs):
        raise AssertionError("event_table was called again")

    monkeypatch.setattr(engines, "event_table", rebuilt)
    pd.testing.assert_frame_equal(
        dl.on_time(events, catalog, calendar=WEEKDAYS), expected["on_time"]
    )
    pd.testing.assert_frame_equal(
        dl.late_without_explanation(events, catalog, calendar=WEEKDAYS), expected["late"]
    )
    for by in ("handoff", "department"):
        pd.testing.assert_frame_equal(pm.bottlenecks(events, by), expected[by])
    assert expected["late"]["case_id"].tolist() == ["k1", "k2"]


def test_step_allotments_from_medians_of_on_time_cases():
    # On-time cases (deadline 3 days): b takes 120, 60, 180 min; c takes 240, 480, 360 min.
    rows = [
        ("o1", "a", "2024-03-04 07:30"), ("o1", "b", "2024-03-04 09:30"),
        ("o1", "c", "2024-03-04 15:00"),
        ("o2", "a", "2024-03-04 07:30"), ("o2", "b", "2024-03-04 08:30"),
        ("o2", "c", "2024-03-05 08:30"),
        ("o3", "a", "2024-03-04 07:30"), ("o3", "b", "2024-03-04 10:30"),
        ("o3", "c", "2024-03-05 08:30"),
        ("late", "a", "2024-03-04 07:30"), ("late", "b", "2024-03-11 07:30"),
        ("late", "c", "2024-03-11 08:00"),
    ]  # fmt: skip
    log = make_log(rows)
    log[PROC], log[DEP] = "Q", "X"
    catalog = pd.DataFrame(
        {"procedure": "Q", "step": [1, 2, 3], "activity": ["a", "b", "c"], "department": "X",
         "deadline_working_days": 3.0}
    )  # fmt: skip
    # Independent: the step times of the on-time cases, by hand.
    times = {"b": [], "c": []}
    for _, group in log[log[CASE] != "late"].groupby(CASE):
        stamps = group[TS].tolist()
        times["b"].append(office_minutes(stamps[0], stamps[1]))
        times["c"].append(office_minutes(stamps[1], stamps[2]))
    assert times == {"b": [120, 60, 180], "c": [240, 480, 360]}
    table = dl.step_allotments(log, catalog, calendar=WEEKDAYS).set_index("activity")
    assert table["basis"].tolist() == ["median", "median", "median"]
    assert table["weight"].tolist() == pytest.approx([0.0, 0.25, 0.75])
    assert table["allotment_working_days"].tolist() == pytest.approx([0.0, 0.75, 2.25])
    assert table["median_working_hours"].tolist() == pytest.approx([0.0, 2.0, 6.0])
    assert table["on_time_cases"].tolist() == [3, 3, 3]
    # A step with its own allotment keeps it; the rest of the deadline is split by median.
    catalog["step_deadline_working_days"] = [0.5, np.nan, np.nan]
    table = dl.step_allotments(log, catalog, calendar=WEEKDAYS).set_index("activity")
    assert table["basis"].tolist() == ["catalog", "median", "median"]
    assert table["allotment_working_days"].tolist() == pytest.approx([0.5, 0.625, 1.875])
    # The late case: b took 5 days against 0.625; every step is X's.
    result = dl.on_time(log, catalog, calendar=WEEKDAYS).set_index("case_id")
    assert result.loc["late", "department_held_overrun"] == "X"


def test_explanation_matching_nfc_case_and_prefix():
    nfd = lambda text: unicodedata.normalize("NFD", text)  # noqa: E731
    names = {
        "e1": nfd("GIẢI TRÌNH lý do chậm"),  # upper case, decomposed, a prefix + space
        "e2": nfd("Báo cáo giải trình"),
        "e3": "Xin gia hạn lần 2",
        "e4": "Văn bản xin lỗi.",  # followed by punctuation
        "n1": "Giải trìnhX",  # not a whole word
        "n2": "Dự thảo văn bản xin lỗi",  # not a prefix
    }
    rows = []
    for case, name in names.items():
        rows += [
            (case, "Tiếp nhận", "2024-03-04 08:00", "A", "an", "P"),
            (case, name, "2024-03-08 08:00", "B", "bình", "P"),
            (case, "Trả kết quả", "2024-03-08 09:00", "B", "bình", "P"),
        ]
    log = make_log(rows)
    result = dl.on_time(log, CATALOG_P).set_index("case_id")
    assert result["explained"].to_dict() == {
        "e1": True, "e2": True, "e3": True, "e4": True, "n1": False, "n2": False
    }  # fmt: skip
    assert not result["on_time"].any()
    missing = dl.late_without_explanation(log, CATALOG_P)
    assert sorted(missing["case_id"]) == ["n1", "n2"]
    assert missing["department_held_overrun"].tolist() == ["B", "B"]
    only = dl.late_without_explanation(log, CATALOG_P, explanation_activities=["xin gia hạn"])
    assert sorted(only["case_id"]) == ["e1", "e2", "e4", "n1", "n2"]


# ---------------------------------------------------------------------------- cross-checks


def test_every_figure_transpiles_to_spark_sql():
    texts = dl.figure_sqls()
    assert {"on_time", "slow_units[resource]", "on_time_rate[department]"} <= set(texts)
    for name, sql in texts.items():
        spark = engines.to_spark_sql(sql)
        sqlglot.parse_one(spark, read="spark")
        for inexact in ("PERCENTILE_APPROX", "PERCENTILE_CONT", "QUANTILE"):
            assert inexact not in spark.upper(), name


# -------------------------------------------------------------------------- generated sample
SAMPLE = REPO / "datasets" / "sample_log.csv.gz"


@pytest.mark.skipif(not SAMPLE.exists(), reason=f"generated sample absent: {SAMPLE}")
def test_sample_planted_bottlenecks_and_late_cases():
    from procmine import datasets

    log, catalog, truth = (
        datasets.load_sample(),
        datasets.load_sample_catalog(),
        datasets.load_sample_truth(),
    )
    planted = truth["planted"]
    assert pm.bottlenecks(log, "activity")["activity"].iloc[0] == planted["bottleneck_activity"]
    assert (
        pm.bottlenecks(log, "department")["department"].iloc[0] == planted["bottleneck_department"]
    )
    listed = set(dl.late_without_explanation(log, catalog)["case_id"])
    assert set(planted["late_without_explanation"]) <= listed
    result = dl.on_time(log, catalog)
    if "late_cases" in truth.get("counts", {}):
        assert int((~result["on_time"].fillna(True)).sum()) == truth["counts"]["late_cases"]
        if "late_with_explanation" in planted:
            assert listed == set(planted["late_without_explanation"])


# ------------------------------------------------------------------- open cases, the month
CATALOG_OPEN = pd.DataFrame(
    {
        "procedure": ["P"] * 3,
        "step": [1, 2, 3],
        "activity": ["Tiếp nhận", "Thẩm định", "Trả kết quả"],
        "department": ["A", "B", "A"],
        "deadline_working_days": [3.0] * 3,
    }
)


def open_log() -> pd.DataFrame:
    """Six cases over March and April 2024 (deadline 3 working days, Mon–Fri, no holidays):
    e early, d on its due day, l late, x received in March and completed late in April (carried
    over), v open and overdue, o open and not overdue at the log's last timestamp (9/4 10:00)."""
    rows = [
        ("e", "Tiếp nhận", "2024-03-04 08:00", "A", "an"),
        ("e", "Thẩm định", "2024-03-04 10:00", "B", "bình"),
        ("e", "Trả kết quả", "2024-03-05 10:00", "A", "an"),
        ("d", "Tiếp nhận", "2024-03-04 08:00", "A", "an"),
        ("d", "Thẩm định", "2024-03-06 10:00", "B", "bình"),
        ("d", "Trả kết quả", "2024-03-07 08:00", "A", "an"),
        ("l", "Tiếp nhận", "2024-03-04 08:00", "A", "an"),
        ("l", "Thẩm định", "2024-03-07 10:00", "B", "bình"),
        ("l", "Trả kết quả", "2024-03-08 09:00", "A", "an"),
        ("x", "Tiếp nhận", "2024-03-28 09:00", "A", "an"),
        ("x", "Thẩm định", "2024-03-29 09:00", "B", "bình"),
        ("x", "Trả kết quả", "2024-04-02 10:00", "A", "an"),
        ("v", "Tiếp nhận", "2024-03-25 08:00", "A", "an"),
        ("v", "Thẩm định", "2024-03-26 08:00", "C", "chi"),
        ("o", "Tiếp nhận", "2024-04-08 08:00", "A", "an"),
        ("o", "Thẩm định", "2024-04-09 10:00", "B", "bình"),
    ]
    log = make_log(rows)
    log[PROC] = "P"
    return log


def independent_cases(log: pd.DataFrame, at: dt.datetime, closing: set[str]) -> pd.DataFrame:
    """Per case, from plain pandas over the events known at ``at``: received, completed (None
    while open), due, open, overdue, on time, early (at least the due day's office minutes left
    at completion)."""
    known = log[log[TS] <= at]
    rows = []
    for case, group in known.groupby(CASE, sort=True):
        received, last = group[TS].iloc[0].to_pydatetime(), group[TS].iloc[-1].to_pydatetime()
        is_open = group[ACT].iloc[-1] not in closing
        due = add_office_minutes(received, 3 * 480)
        completed = None if is_open else last
        due_day = dt.datetime.combine(due.date(), dt.time())
        on_time = None if is_open else completed <= due
        early = None if is_open else office_minutes(completed, due) >= office_minutes(due_day, due)
        rows.append(
            {"case_id": case, "received": received, "completed": completed, "due": due,
             "open": is_open, "overdue": is_open and at > due, "on_time": on_time,
             "early": early and on_time, "units": set(group[DEP])}
        )  # fmt: skip
    return pd.DataFrame(rows)


def independent_month(cases: pd.DataFrame, start: dt.datetime, end: dt.datetime, at) -> dict:
    """The monthly list's counts over ``cases`` (rows of :func:`independent_cases`)."""
    on_hand = cases[(cases["received"] < end) & cases["completed"].map(
        lambda c: pd.isna(c) or c >= start)]  # fmt: skip
    done = on_hand[on_hand["completed"].map(lambda c: not pd.isna(c) and c < end)]
    pending = on_hand.drop(done.index)
    as_of = min(end, at)
    return {
        "carried_over": int((on_hand["received"] < start).sum()),
        "received": int((on_hand["received"] >= start).sum()),
        "done": len(done),
        "pending": len(pending),
        "pending_overdue": int((pending["due"] < as_of).sum()),
        "early_cases": int(done["early"].sum()),
        "on_time_cases": int((done["on_time"] & ~done["early"].astype(bool)).sum()),
        "late_cases": int((~done["on_time"].astype(bool)).sum()),
    }


AT = dt.datetime(2024, 4, 9, 10)  # the open log's last timestamp
MONTHS = {
    "2024-03": (dt.datetime(2024, 3, 1), dt.datetime(2024, 4, 1)),
    "2024-04": (dt.datetime(2024, 4, 1), dt.datetime(2024, 5, 1)),
}


def test_open_cases_overdue_and_early_against_pandas():
    log = open_log()
    found = dl.on_time(log, CATALOG_OPEN, calendar=WEEKDAYS).set_index("case_id")
    expected = independent_cases(log, AT, {"Trả kết quả"}).set_index("case_id")
    assert found["open"].to_dict() == expected["open"].to_dict() == {
        "d": False, "e": False, "l": False, "o": True, "v": True, "x": False
    }  # fmt: skip
    assert found["overdue"].to_dict() == expected["overdue"].to_dict()
    assert found.loc[["v"], "overdue"].tolist() == [True]
    assert not found.loc["o", "overdue"]
    for column in ("on_time", "early"):
        assert found[column].to_dict() == {
            case: (pd.NA if value is None else bool(value))
            for case, value in expected[column].items()
        } or found[column].isna().equals(expected[column].isna())
    assert found["on_time"].astype(object).where(found["open"].eq(False)).dropna().to_dict() == {
        "d": True, "e": True, "l": False, "x": False
    }  # fmt: skip
    assert found["early"].dropna().to_dict() == {"d": False, "e": True, "l": False, "x": False}
    for case in expected.index:
        assert found.loc[case, "due"].tz_localize(None) == expected.loc[case, "due"]
    assert found["completed"].isna().to_dict() == expected["completed"].isna().to_dict()
    # While open, the working days run to the last event, the overrun to the moment of the
    # report (overdue by so many working days).
    v_last = dt.datetime(2024, 3, 26, 8)
    assert (
        found.loc["v", "working_days"] == office_minutes(dt.datetime(2024, 3, 25, 8), v_last) / 480
    )
    assert (
        found.loc["v", "overrun_working_days"] == office_minutes(expected.loc["v", "due"], AT) / 480
    )
    assert found.loc["o", "overrun_working_days"] == 0.0
    assert pd.isna(found.loc["v", "department_held_overrun"])
    assert found.attrs["closing_steps"] == "catalog"
    assert found.attrs["at"] == pd.Timestamp(AT, tz="Asia/Ho_Chi_Minh")
    assert found.attrs["procedures_without_closing_steps"] == []


def test_open_cases_are_not_rated():
    log = open_log()
    rates = dl.on_time_rate(log, CATALOG_OPEN, calendar=WEEKDAYS)
    assert rates[["cases", "judged", "on_time", "late"]].values.tolist() == [[4, 4, 2, 2]]
    by_unit = dl.on_time_rate(log, CATALOG_OPEN, by="department", calendar=WEEKDAYS)
    assert by_unit["department"].tolist() == ["A", "B"]  # C took part in the open case only
    late = dl.late_without_explanation(log, CATALOG_OPEN, calendar=WEEKDAYS)
    assert late["case_id"].tolist() == ["l", "x"] or sorted(late["case_id"]) == ["l", "x"]
    allotted = dl.step_allotments(log, CATALOG_OPEN, calendar=WEEKDAYS)
    assert allotted["on_time_cases"].tolist() == [2, 2, 2]  # e and d only


def test_the_moment_of_the_report_cuts_the_log():
    log = open_log()
    at = dt.datetime(2024, 3, 31, 23, 59, 59, 999999)
    found = dl.on_time(log, CATALOG_OPEN, calendar=WEEKDAYS, at="2024-03-31")
    expected = independent_cases(log, at, {"Trả kết quả"})
    assert found["case_id"].tolist() == expected["case_id"].tolist() == ["d", "e", "l", "v", "x"]
    assert found["open"].tolist() == expected["open"].tolist() == [False, False, False, True, True]
    assert found["overdue"].tolist() == expected["overdue"].tolist()
    assert found.set_index("case_id").loc["x", "overdue"] == False  # noqa: E712 (due 2/4 09:00)
    with pytest.raises(ValueError, match="not a date"):
        dl.on_time(log, CATALOG_OPEN, calendar=WEEKDAYS, at="31 thg 3")


def test_closing_activities_and_no_closing_step_at_all():
    log = open_log()
    # No catalog, no closing activity: every case is complete at its last event.
    log[schema.DEADLINE] = 3.0
    found = dl.on_time(log, calendar=WEEKDAYS)
    assert not found["open"].any() and found["on_time"].notna().all()
    assert found.attrs["closing_steps"] == "none"
    assert found.attrs["procedures_without_closing_steps"] == ["P"]
    # A configured closing activity, matched by the vocabulary's rule (prefix + punctuation).
    log.loc[log[ACT].eq("Trả kết quả"), ACT] = "Kết thúc hồ sơ: trả kết quả"
    found = dl.on_time(log, calendar=WEEKDAYS, closing_activities=["kết thúc hồ sơ"])
    assert found.loc[found["open"], "case_id"].tolist() == ["o", "v"]
    assert found.attrs["closing_steps"] == "closing_activities"
    status = dl.case_status(log, CATALOG_OPEN, closing_activities=["Kết thúc hồ sơ"])
    assert status.attrs["closing_steps"] == "catalog and closing_activities"
    assert status.loc[status["open"], "case_id"].tolist() == ["o", "v"]


def test_the_monthly_list_against_pandas():
    log = open_log()
    cases = independent_cases(log, AT, {"Trả kết quả"})
    agency = dl.slow_units(log, CATALOG_OPEN, by="agency", calendar=WEEKDAYS).set_index("month")
    for month, (start, end) in MONTHS.items():
        expected = independent_month(cases, start, end, AT)
        assert agency.loc[month, list(expected)].to_dict() == expected, month
    assert agency.loc["2024-03", ["carried_over", "received", "done", "pending"]].tolist() == [
        0, 5, 3, 2
    ]  # fmt: skip
    assert agency.loc["2024-04", ["carried_over", "received", "done", "pending"]].tolist() == [
        2, 1, 1, 2
    ]  # fmt: skip
    assert agency.loc["2024-03", ["early_share", "on_time_share", "late_share"]].tolist() == (
        pytest.approx([1 / 3, 1 / 3, 1 / 3])
    )
    units = dl.slow_units(log, CATALOG_OPEN, calendar=WEEKDAYS)
    for (month, unit), row in units.set_index(["month", "department"]).iterrows():
        mine = cases[cases["units"].map(lambda taken, unit=unit: unit in taken)]
        expected = independent_month(mine, *MONTHS[month], AT)
        assert row[list(expected)].to_dict() == expected, (month, unit)
    # Worst first: B held l's overrun (Thẩm định), A held x's (Trả kết quả); then the
    # overdue pending case: A and C hold v, A before C by late cases, B before C likewise.
    assert units[["month", "department", "late_cases_held"]].values.tolist() == [
        ["2024-03", "B", 1], ["2024-03", "A", 0], ["2024-03", "C", 0],
        ["2024-04", "A", 1], ["2024-04", "B", 0], ["2024-04", "C", 0],
    ]  # fmt: skip
    held = dl.on_time(log, CATALOG_OPEN, calendar=WEEKDAYS).set_index("case_id")
    assert held.loc[["l", "x"], "department_held_overrun"].tolist() == ["B", "A"]
    # Carried over + received = done + pending, in every row.
    for table in (units, agency):
        assert (
            (table["carried_over"] + table["received"]).eq(table["done"] + table["pending"]).all()
        )
    april = dl.slow_units(log, CATALOG_OPEN, month="2024-04", calendar=WEEKDAYS)
    assert april["rank"].tolist() == [1, 2, 3]


def test_a_figure_given_the_per_case_table_equals_the_figure_computed_alone():
    log = open_log()
    log.loc[log[CASE] == "l", ACT] = log.loc[log[CASE] == "l", ACT].replace(
        "Thẩm định", "Giải trình lý do chậm"
    )  # l is explained: late without explanation leaves it out
    events = engines.event_table(log, WEEKDAYS)
    for at in (None, "2024-04-02"):
        options = {"at": at, "closing_activities": ["Trả kết quả"]}
        cases = dl.per_case_table(events, CATALOG_OPEN, **options)
        assert cases["open"].any() and cases["overdue"].any()
        figures = [
            (dl.on_time, {}),
            (dl.late_without_explanation, {}),
            *[(dl.on_time_rate, {"by": by}) for by in ("procedure", "department", "month")],
            *[(dl.slow_units, {"by": by}) for by in ("department", "resource", "agency")],
        ]
        for figure, by in figures:
            alone = figure(events, CATALOG_OPEN, **by, **options)
            given = figure(events, CATALOG_OPEN, **by, **options, per_case=cases)
            pd.testing.assert_frame_equal(given, alone)
            assert given.attrs == alone.attrs, (figure.__name__, by)
        late = dl.late_without_explanation(events, CATALOG_OPEN, **options, per_case=cases)
        assert late["case_id"].tolist() == ["x"]  # l is late too, and explained


def test_a_per_case_table_of_another_log_or_other_options_is_refused():
    log = open_log()
    cases = dl.per_case_table(log, CATALOG_OPEN, calendar=WEEKDAYS)
    other = log[log[CASE] != "o"]
    with pytest.raises(ValueError, match=r"per_case= must be the per-case table of this log.*"
                       r"made from 16 events, and the log has 14"):  # fmt: skip
        dl.slow_units(other, CATALOG_OPEN, calendar=WEEKDAYS, per_case=cases)
    with pytest.raises(ValueError, match="no log we know of"):
        dl.on_time(log, CATALOG_OPEN, calendar=WEEKDAYS, per_case=dl.on_time(log, CATALOG_OPEN))
    with pytest.raises(ValueError, match="has 2 rows for the 6 cases"):
        dl.on_time_rate(log, CATALOG_OPEN, calendar=WEEKDAYS, per_case=cases.head(2))
    with pytest.raises(ValueError, match="another at than"):
        dl.on_time(log, CATALOG_OPEN, calendar=WEEKDAYS, at="2024-04-02", per_case=cases)
    with pytest.raises(ValueError, match="another catalog, calendar than"):
        dl.late_without_explanation(log, CATALOG_OPEN.assign(deadline_working_days=9),
                                    per_case=cases)  # fmt: skip
    with pytest.raises(ValueError, match="another explanation_activities than"):
        dl.on_time(log, CATALOG_OPEN, calendar=WEEKDAYS, explanation_activities=["x"],
                   per_case=cases)  # fmt: skip
    # The figures that show no explanation take a table made with other explanation names.
    named = dl.per_case_table(log, CATALOG_OPEN, calendar=WEEKDAYS, explanation_activities=["x"])
    assert dl.on_time_rate(log, CATALOG_OPEN, calendar=WEEKDAYS, per_case=named).equals(
        dl.on_time_rate(log, CATALOG_OPEN, calendar=WEEKDAYS)
    )


def test_made_with_says_which_options_a_per_case_table_was_asked_for():
    log = open_log()
    cases = dl.per_case_table(log, CATALOG_OPEN, calendar=WEEKDAYS)
    assert dl.made_with(cases)  # on_time's defaults: what the report hands on to its models
    assert not dl.made_with(cases, at="2024-04-02")
    assert not dl.made_with(cases, closing_activities=["Trả kết quả"])
    assert not dl.made_with(cases, explanation_activities=["x"])
    assert not dl.made_with(dl.on_time(log, CATALOG_OPEN, calendar=WEEKDAYS))  # not such a table
    named = dl.per_case_table(
        log, CATALOG_OPEN, calendar=WEEKDAYS, at="2024-04-02", closing_activities=["Trả kết quả"]
    )
    assert dl.made_with(named, at="2024-04-02", closing_activities=("Trả kết quả",))
    assert not dl.made_with(named)


def test_the_committed_sample_has_no_open_case_and_its_list_adds_up():
    from procmine import datasets

    events = engines.event_table(datasets.load_sample())
    catalog = datasets.load_sample_catalog()
    assert not dl.case_status(events, catalog)["open"].any()
    agency = dl.slow_units(events, catalog, by="agency").set_index("month")
    rates = dl.on_time_rate(events, catalog, by="month").set_index("month")
    assert agency.loc[~agency.index.isin(rates.index), "done"].eq(0).all()
    agency = agency.loc[rates.index]
    assert agency["cases"].tolist() == rates["judged"].tolist()
    assert (agency["early_cases"] + agency["on_time_cases"]).tolist() == rates["on_time"].tolist()
    assert agency["late_cases"].tolist() == rates["late"].tolist()
    assert (
        (agency["carried_over"] + agency["received"]).eq(agency["done"] + agency["pending"]).all()
    )
    assert agency["pending"].iloc[-1] == 0


def test_vocabulary_reads_the_sample_config():
    from procmine import datasets, vocabulary

    names = vocabulary.from_config(datasets.sample_path("config.yaml"))
    assert names == {
        "explanation_activities": vocabulary.EXPLANATIONS,
        "closing_activities": vocabulary.CLOSINGS,
        "return_activities": vocabulary.RETURNS,
    }
    with pytest.raises(ValueError, match="closing_activities"):
        vocabulary.from_config({"closing_activities": "Kết thúc"})
