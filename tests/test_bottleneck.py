"""Sojourns and bottlenecks against independent computations.

The expected values come from plain Python (tests/independent.py): a day-by-day office-minute
count (not the working clock), per-case loops over sorted events, and numpy's percentile for the
distribution.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sys
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
import sqlglot

from independent import (
    ACT,
    CASE,
    DEP,
    LC,
    PROC,
    RES,
    TS,
    WEEKDAYS,
    by_key,
    expected_units,
    make_log,
    office_minutes,
    random_log,
)  # fmt: skip
from procmine import bottleneck as bn
from procmine import engines
from procmine.calendar import WorkCalendar


# ------------------------------------------------------------------------------- sojourns
@pytest.mark.parametrize("key", ["activity", "department", "resource"])
def test_sojourn_attribution_matches_plain_python(key):
    log = random_log()
    column = {"activity": ACT, "department": DEP, "resource": RES}[key]
    expected = expected_units(log, column)
    total = sum(m for units in expected.values() for _, m in units)
    result = bn.bottlenecks(log, by=key, calendar=WEEKDAYS)
    rows = by_key(result, key)
    assert set(rows) == set(expected)
    for value, units in expected.items():
        minutes = [m for _, m in units]
        row = rows[value]
        assert row["working_hours"] == pytest.approx(sum(minutes) / 60, abs=1e-9)
        assert row["share"] == pytest.approx(sum(minutes) / total, abs=1e-12)
        assert row["median_working_hours"] == pytest.approx(
            np.percentile(minutes, 50) / 60, abs=1e-9
        )
        assert row["p90_working_hours"] == pytest.approx(np.percentile(minutes, 90) / 60, abs=1e-9)
        assert row["cases"] == len({c for c, _ in units})
        assert row["events"] == len(units)
    assert result["share"].sum() == pytest.approx(1.0, abs=1e-12)
    assert result["working_hours"].is_monotonic_decreasing
    assert "waiting_working_hours" not in result.columns  # no lifecycle in this log


def test_small_log_exact_values_and_null_department_row():
    # Mon 4/3/2024: A 08:00, B 10:00 (2 h), null 15:00 (3.5 h), A 16:00 (1 h)
    log = make_log(
        [
            ("c1", "Tiếp nhận", "2024-03-04 08:00", "A"),
            ("c1", "Thẩm định", "2024-03-04 10:00", "B"),
            ("c1", "Trình ký", "2024-03-04 15:00", None),
            ("c1", "Ký", "2024-03-04 16:00", "A"),
        ]
    )
    result = bn.bottlenecks(log, by="department", calendar=WEEKDAYS)
    assert result["department"].isna().tolist() == [True, False, False]
    rows = by_key(result, "department")
    assert (
        rows[None]["working_hours"] == 3.5
        and rows["B"]["working_hours"] == 2.0
        and rows["A"]["working_hours"] == 1.0
    )
    assert [rows[k]["share"] for k in (None, "B", "A")] == pytest.approx(
        [3.5 / 6.5, 2 / 6.5, 1 / 6.5]
    )


def test_median_and_p90_interpolate_linearly_between_order_statistics():
    # One activity with sojourns 1, 2, 3, 4 h (same day, no lunch crossing): h = 3·0.5 = 1.5
    # → 2.5 h; h = 3·0.9 = 2.7 → 3 + 0.7·(4 - 3) = 3.7 h.
    rows = []
    for i, hours in enumerate([1, 2, 3, 4]):
        rows += [(f"c{i}", "a", "2024-03-05 13:00"), (f"c{i}", "b", f"2024-03-05 {13 + hours}:00")]
    result = bn.bottlenecks(make_log(rows), by="activity", calendar=WEEKDAYS)
    row = result.set_index("activity").loc["b"]
    assert row["median_working_hours"] == pytest.approx(2.5)
    assert row["p90_working_hours"] == pytest.approx(3.7)
    assert row["working_hours"] == 10.0 and row["cases"] == 4 and row["events"] == 4


def test_working_and_calendar_time_across_a_weekend():
    # Fri 8/3/2024 16:00 → Mon 11/3 08:30: 60 + 60 working minutes, 64.5 calendar hours.
    log = make_log([("c", "a", "2024-03-08 16:00"), ("c", "b", "2024-03-11 08:30")])
    table = bn.sojourns(log)  # Vietnamese calendar: no holiday on these days
    expected = office_minutes(dt.datetime(2024, 3, 8, 16), dt.datetime(2024, 3, 11, 8, 30))
    assert expected == 120.0
    assert table["sojourn_minutes"].tolist()[1] == expected
    assert table["sojourn_working_hours"].tolist()[1] == 2.0
    assert table["calendar_hours"].tolist()[1] == 64.5
    assert table["sojourn_minutes"].isna().tolist() == [True, False]
    assert str(table["timestamp"].iloc[1]) == "2024-03-11 08:30:00+07:00"


def test_start_complete_split_into_waiting_and_processing():
    d = "2024-03-04 "
    rows = [
        # x: sequential; waiting of b = 10:00 - 09:00, processing a 60, b 30
        ("x", "a", d + "08:00", "start"), ("x", "a", d + "09:00", "complete"),
        ("x", "b", d + "10:00", "start"), ("x", "b", d + "10:30", "complete"),
        # y: a and b overlap; c is instantaneous (complete without start)
        ("y", "a", d + "08:00", "start"), ("y", "b", d + "08:30", "start"),
        ("y", "a", d + "09:00", "complete"), ("y", "b", d + "10:00", "complete"),
        ("y", "c", d + "10:15", "complete"),
        # z: a twice; the k-th start pairs with the k-th complete
        ("z", "a", d + "08:00", "start"), ("z", "a", d + "08:20", "complete"),
        ("z", "a", d + "09:00", "start"), ("z", "a", d + "09:40", "complete"),
    ]  # fmt: skip
    log = make_log(rows, (CASE, ACT, TS, LC))
    table = bn.sojourns(log, calendar=WEEKDAYS)
    assert table["waiting_minutes"].tolist() == pytest.approx(
        [np.nan, np.nan, 60, np.nan, np.nan, np.nan, np.nan, np.nan, 15, np.nan, np.nan, 40,
         np.nan], nan_ok=True)  # fmt: skip
    assert table["processing_minutes"].tolist() == pytest.approx(
        [np.nan, 60, np.nan, 30, np.nan, np.nan, 60, 90, 0, np.nan, 20, np.nan, 40], nan_ok=True
    )
    result = bn.bottlenecks(log, by="activity", calendar=WEEKDAYS).set_index("activity")
    assert result.loc["a", "waiting_working_hours"] == pytest.approx(40 / 60)
    assert result.loc["a", "processing_working_hours"] == pytest.approx(180 / 60)
    assert result.loc["b", "waiting_working_hours"] == pytest.approx(1.0)
    assert result.loc["b", "processing_working_hours"] == pytest.approx(2.0)
    assert result.loc["c", "waiting_working_hours"] == pytest.approx(0.25)
    assert result.loc["c", "processing_working_hours"] == 0
    # A sequential case: waiting + processing = its working duration.
    x = bn.bottleneck_cases(log, "procedure", calendar=WEEKDAYS).set_index("case_id").loc["x"]
    assert x["waiting_working_hours"] + x["processing_working_hours"] == x["working_hours"] == 2.5


@pytest.mark.parametrize("by", ["activity", "department", "resource", "handoff", "procedure"])
@pytest.mark.parametrize("top", [1, 3])
def test_top_cases_are_the_first_of_each_key(by, top):
    # Null keys form their own group; ties of working hours are broken by case id.
    log = random_log(seed=11, cases=60)
    log[TS] = log[TS].dt.floor("h")  # whole hours: many cases tie within a key
    keys = ["source", "target"] if by == "handoff" else [by]
    whole = bn.bottleneck_cases(log, by, calendar=WEEKDAYS)
    first = whole.groupby(keys, dropna=False, sort=False).head(top).reset_index(drop=True)
    found = bn.bottleneck_cases(log, by, top=top, calendar=WEEKDAYS)
    pd.testing.assert_frame_equal(found, first)
    assert len(found) < len(whole)


@pytest.mark.parametrize("top", [0, -1, 1.5, True])
def test_top_must_be_a_whole_number_of_cases(top):
    with pytest.raises(ValueError, match="top must be a whole number"):
        bn.bottleneck_cases(random_log(), "department", top=top)


def test_procedure_and_cases_behind_each_row():
    log = random_log(seed=3)
    ranking = bn.bottlenecks(log, by="procedure", calendar=WEEKDAYS).set_index("procedure")
    for procedure, group in log.groupby(PROC):
        durations = [office_minutes(g[TS].min(), g[TS].max()) for _, g in group.groupby(CASE)]
        assert ranking.loc[procedure, "working_hours"] == pytest.approx(sum(durations) / 60)
        assert ranking.loc[procedure, "median_working_hours"] == pytest.approx(
            np.percentile(durations, 50) / 60
        )
        assert ranking.loc[procedure, "cases"] == len(durations)
        assert ranking.loc[procedure, "events"] == len(group)
    assert ranking["share"].sum() == pytest.approx(1.0)
    ranking = bn.bottlenecks(log, by="department", calendar=WEEKDAYS)
    cases = bn.bottleneck_cases(log, "department", calendar=WEEKDAYS)
    totals = cases.groupby("department", dropna=False)["working_hours"].sum()
    for _, row in ranking.iterrows():
        key = row["department"]
        held = totals[np.nan] if pd.isna(key) else totals[key]
        assert held == pytest.approx(row["working_hours"])
    one = bn.bottleneck_cases(log, "department", "Phòng Nội vụ", calendar=WEEKDAYS)
    expected = defaultdict(float)
    for case, minutes in expected_units(log, DEP)["Phòng Nội vụ"]:
        expected[case] += minutes / 60
    assert dict(zip(one["case_id"], one["working_hours"], strict=True)) == pytest.approx(
        dict(expected)
    )
    assert one["working_hours"].is_monotonic_decreasing


def test_handoff_wait_is_the_handoff_tables_wait():
    log = random_log(seed=11)
    result = bn.bottlenecks(log, by="handoff", calendar=WEEKDAYS)
    # Independent: department sequence with nulls skipped and repeats collapsed; the wait of
    # A → B runs from the last event in A to the first event in B.
    waits = defaultdict(list)
    all_minutes = 0.0
    for case, group in log.groupby(CASE, sort=False):
        stamps, departments = group[TS].tolist(), group[DEP].tolist()
        all_minutes += office_minutes(stamps[0], stamps[-1])
        runs: list[list] = []  # [department, first, last]
        for t, d in zip(stamps, departments, strict=True):
            if pd.isna(d):
                continue
            if runs and runs[-1][0] == d:
                runs[-1][2] = t
            else:
                runs.append([d, t, t])
        for (a, _, last), (b, first, _) in itertools.pairwise(runs):
            waits[(a, b)].append((case, office_minutes(last, first)))
    rows = {(r.source, r.target): r for r in result.itertuples()}
    assert set(rows) == set(waits)
    for pair, units in waits.items():
        minutes = [m for _, m in units]
        assert rows[pair].working_hours == pytest.approx(sum(minutes) / 60)
        assert rows[pair].share == pytest.approx(sum(minutes) / all_minutes)
        assert rows[pair].p90_working_hours == pytest.approx(np.percentile(minutes, 90) / 60)
        assert rows[pair].events == len(units)
        assert rows[pair].cases == len({c for c, _ in units})


def test_case_durations_agree_with_pm4py_business_hours():
    sys._pm4py_welcome_shown = True
    import pm4py

    log = random_log(seed=5)
    calendar = WorkCalendar(country=None, office_hours=(("08:00", "12:00"), ("13:00", "17:00")))
    slots = [
        (day * 86400 + start * 3600, day * 86400 + end * 3600)
        for day in range(5)
        for start, end in ((8, 12), (13, 17))
    ]
    theirs = pm4py.get_all_case_durations(
        log[[CASE, ACT, TS]], business_hours=True, business_hour_slots=slots
    )
    ours = bn.bottleneck_cases(log, "procedure", calendar=calendar)["working_hours"] * 3600
    assert sorted(ours) == pytest.approx(sorted(theirs), abs=1e-6)


def test_every_figure_transpiles_to_spark_sql():
    texts = bn.figure_sqls()
    assert {"bottlenecks[handoff]", "sojourns[split]"} <= set(texts)
    for name, sql in texts.items():
        spark = engines.to_spark_sql(sql)
        sqlglot.parse_one(spark, read="spark")
        # Exact percentiles only: no approximate or Spark-less percentile function slips in.
        for inexact in ("PERCENTILE_APPROX", "PERCENTILE_CONT", "QUANTILE"):
            assert inexact not in spark.upper(), name
