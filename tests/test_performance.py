"""Bottlenecks, sojourns and deadlines against independent computations.

The expected values come from plain Python written here: a day-by-day office-minute count (not the
working clock), per-case loops over sorted events, and numpy's percentile for the distribution.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlglot

from procmine import engines
from procmine import performance as bn
from procmine.calendar import WorkCalendar

REPO = Path(__file__).resolve().parents[1]
OFFICE = ((7 * 60 + 30, 11 * 60 + 30), (13 * 60, 17 * 60))
TET_2024 = {dt.date(2024, 2, d) for d in range(8, 15)}
CASE, ACT, TS, DEP, RES, PROC, LC = (
    "case:concept:name",
    "concept:name",
    "time:timestamp",
    "org:group",
    "org:resource",
    "case:procedure",
    "lifecycle:transition",
)


# ------------------------------------------------------------------- independent references
def office_minutes(
    a: dt.datetime, b: dt.datetime, days_off: set[dt.date] = frozenset(), office=OFFICE
) -> float:
    """Office minutes between two naive local datetimes, Mon–Fri, counted day by day."""
    total = 0.0
    day = a.date()
    while day <= b.date():
        if day.weekday() < 5 and day not in days_off:
            midnight = dt.datetime.combine(day, dt.time())
            for start, end in office:
                low = max(midnight + dt.timedelta(minutes=start), a)
                high = min(midnight + dt.timedelta(minutes=end), b)
                if high > low:
                    total += (high - low).total_seconds() / 60
        day += dt.timedelta(days=1)
    return total


def make_log(rows: list[tuple], columns=(CASE, ACT, TS, DEP, RES, PROC)) -> pd.DataFrame:
    log = pd.DataFrame(rows, columns=list(columns[: len(rows[0])]))
    log[TS] = pd.to_datetime(log[TS])
    return log


def random_log(seed: int = 7, cases: int = 40) -> pd.DataFrame:
    """Cases of 2–7 events, strictly increasing stamps over nights and weekends of March 2024."""
    rng = random.Random(seed)
    activities = ["Tiếp nhận", "Thẩm định", "Trình ký", "Phê duyệt", "Phát hành"]
    departments = ["Văn phòng", "Phòng Tài chính", "Phòng Nội vụ", None]
    rows = []
    for c in range(cases):
        t = dt.datetime(2024, 3, 1 + rng.randrange(10), 7 + rng.randrange(10), rng.randrange(60))
        procedure = rng.choice(["P1", "P2"])
        for _ in range(rng.randrange(2, 8)):
            rows.append(
                (f"c{c:02d}", rng.choice(activities), t, rng.choice(departments),
                 rng.choice(["an", "bình", None]), procedure)
            )  # fmt: skip
            t += dt.timedelta(minutes=rng.randrange(1, 60 * 60))
    return make_log(rows)


def expected_units(log: pd.DataFrame, key: str, days_off=frozenset()) -> dict:
    """key value -> list of (case, sojourn minutes), by walking each case's events in order."""
    units: dict = defaultdict(list)
    for case, group in log.groupby(CASE, sort=False):
        stamps = group[TS].tolist()
        values = group[key].tolist()
        for i in range(1, len(stamps)):
            value = None if pd.isna(values[i]) else values[i]
            units[value].append((case, office_minutes(stamps[i - 1], stamps[i], days_off)))
    return units


def by_key(frame: pd.DataFrame, column: str) -> dict:
    return {(None if pd.isna(k) else k): row for k, row in frame.set_index(column).iterrows()}


WEEKDAYS = WorkCalendar(country=None)


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
        assert row["hours"] == pytest.approx(sum(minutes) / 60, abs=1e-9)
        assert row["share"] == pytest.approx(sum(minutes) / total, abs=1e-12)
        assert row["median_hours"] == pytest.approx(np.percentile(minutes, 50) / 60, abs=1e-9)
        assert row["p90_hours"] == pytest.approx(np.percentile(minutes, 90) / 60, abs=1e-9)
        assert row["cases"] == len({c for c, _ in units})
        assert row["events"] == len(units)
    assert result["share"].sum() == pytest.approx(1.0, abs=1e-12)
    assert result["hours"].is_monotonic_decreasing
    assert "waiting_hours" not in result.columns  # no lifecycle in this log


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
    assert rows[None]["hours"] == 3.5 and rows["B"]["hours"] == 2.0 and rows["A"]["hours"] == 1.0
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
    assert row["median_hours"] == pytest.approx(2.5)
    assert row["p90_hours"] == pytest.approx(3.7)
    assert row["hours"] == 10.0 and row["cases"] == 4 and row["events"] == 4


def test_working_and_calendar_time_across_a_weekend():
    # Fri 8/3/2024 16:00 → Mon 11/3 08:30: 60 + 60 working minutes, 64.5 calendar hours.
    log = make_log([("c", "a", "2024-03-08 16:00"), ("c", "b", "2024-03-11 08:30")])
    table = bn.sojourns(log)  # Vietnamese calendar: no holiday on these days
    expected = office_minutes(dt.datetime(2024, 3, 8, 16), dt.datetime(2024, 3, 11, 8, 30))
    assert expected == 120.0
    assert table["sojourn_minutes"].tolist()[1] == expected
    assert table["sojourn_hours"].tolist()[1] == 2.0
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
    assert result.loc["a", "waiting_hours"] == pytest.approx(40 / 60)
    assert result.loc["a", "processing_hours"] == pytest.approx(180 / 60)
    assert result.loc["b", "waiting_hours"] == pytest.approx(1.0)
    assert result.loc["b", "processing_hours"] == pytest.approx(2.0)
    assert result.loc["c", "waiting_hours"] == pytest.approx(0.25)
    assert result.loc["c", "processing_hours"] == 0
    # A sequential case: waiting + processing = its working duration.
    x = bn.bottleneck_cases(log, "procedure", calendar=WEEKDAYS).set_index("case_id").loc["x"]
    assert x["waiting_hours"] + x["processing_hours"] == x["hours"] == 2.5


def test_procedure_and_cases_behind_each_row():
    log = random_log(seed=3)
    ranking = bn.bottlenecks(log, by="procedure", calendar=WEEKDAYS).set_index("procedure")
    for procedure, group in log.groupby(PROC):
        durations = [office_minutes(g[TS].min(), g[TS].max()) for _, g in group.groupby(CASE)]
        assert ranking.loc[procedure, "hours"] == pytest.approx(sum(durations) / 60)
        assert ranking.loc[procedure, "median_hours"] == pytest.approx(
            np.percentile(durations, 50) / 60
        )
        assert ranking.loc[procedure, "cases"] == len(durations)
        assert ranking.loc[procedure, "events"] == len(group)
    assert ranking["share"].sum() == pytest.approx(1.0)
    ranking = bn.bottlenecks(log, by="department", calendar=WEEKDAYS)
    cases = bn.bottleneck_cases(log, "department", calendar=WEEKDAYS)
    totals = cases.groupby("department", dropna=False)["hours"].sum()
    for _, row in ranking.iterrows():
        key = row["department"]
        held = totals[np.nan] if pd.isna(key) else totals[key]
        assert held == pytest.approx(row["hours"])
    one = bn.bottleneck_cases(log, "department", "Phòng Nội vụ", calendar=WEEKDAYS)
    expected = defaultdict(float)
    for case, minutes in expected_units(log, DEP)["Phòng Nội vụ"]:
        expected[case] += minutes / 60
    assert dict(zip(one["case_id"], one["hours"], strict=True)) == pytest.approx(dict(expected))
    assert one["hours"].is_monotonic_decreasing


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
        assert rows[pair].hours == pytest.approx(sum(minutes) / 60)
        assert rows[pair].share == pytest.approx(sum(minutes) / all_minutes)
        assert rows[pair].p90_hours == pytest.approx(np.percentile(minutes, 90) / 60)
        assert rows[pair].events == len(units)
        assert rows[pair].cases == len({c for c, _ in units})


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
    result = bn.on_time(tet_log(), CATALOG_P).set_index("case_id")
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
    log[bn.schema.DEADLINE] = pd.to_datetime(stamps, format="ISO8601")
    result = bn.on_time(log).set_index("case_id")
    assert bool(result.loc["exact", "on_time"])
    assert str(result.loc["exact", "due"]) == "2024-02-15 16:10:00+07:00"
    # A date at 00:00 means by the end of that day (17:00): 16:30 is on time.
    assert bool(result.loc["late", "on_time"])
    assert str(result.loc["late", "due"]) == "2024-02-15 17:00:00+07:00"
    log[bn.schema.DEADLINE] = [np.nan, np.nan, 2.0, 2.0]
    result = bn.on_time(log, CATALOG_P).set_index("case_id")
    assert result.loc["exact", "deadline_working_days"] == 1.0  # from the catalog
    assert result.loc["late", "deadline_working_days"] == 2.0  # the column wins
    assert str(result.loc["late", "due"]) == "2024-02-16 16:00:00+07:00"
    with pytest.raises(ValueError, match="need deadlines"):
        bn.on_time(tet_log())


def test_cases_whose_events_interleave_keep_their_ids_and_deadlines():
    # The two cases' events alternate in the log; the case ids and the deadline column must still
    # reach the right case (the deadline figures number the cases and join the ids back).
    log = tet_log().iloc[[2, 0, 3, 1]].reset_index(drop=True)
    log[bn.schema.DEADLINE] = [2.0, np.nan, 2.0, np.nan]
    result = bn.on_time(log, CATALOG_P)
    assert result["case_id"].tolist() == ["exact", "late"]
    rows = result.set_index("case_id")
    assert rows.loc["exact", "deadline_working_days"] == 1.0  # from the catalog
    assert rows.loc["late", "deadline_working_days"] == 2.0  # from the column
    assert str(rows.loc["late", "due"]) == "2024-02-16 16:00:00+07:00"
    assert rows["on_time"].tolist() == [True, True]
    late = bn.late_without_explanation(log.drop(columns=bn.schema.DEADLINE), CATALOG_P)
    assert late[["case_id", "department_held_overrun"]].values.tolist() == [["late", "B"]]
    assert late["overrun_working_days"].tolist() == [30 / 480]


def test_the_events_table_carries_the_deadline_column():
    # Passing the events table instead of the log must not lose the export's own deadlines.
    log = tet_log()
    log[bn.schema.DEADLINE] = pd.to_datetime(
        ["2024-02-15 16:10", "2024-02-15 16:10", "2024-02-15", "2024-02-15"], format="ISO8601"
    )
    events = engines.event_table(log)
    pd.testing.assert_frame_equal(bn.on_time(events), bn.on_time(log))
    with pytest.raises(ValueError, match="need deadlines"):
        bn.on_time(engines.event_table(tet_log()))


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
    result = bn.on_time(log, catalog, calendar=WEEKDAYS).set_index("case_id")
    assert office_minutes(dt.datetime(2024, 3, 4, 12), dt.datetime(2024, 3, 6, 8)) == 750
    assert result["on_time"].tolist() == [False, False, True]
    assert result.loc["k1", "department_held_overrun"] == "C"
    assert result.loc["k2", "department_held_overrun"] == "D"
    assert result.loc["k2", "resource_held_overrun"] == "dung"
    assert result.loc["k1", "overrun_working_days"] == (1560 - 960) / 480
    assert result.loc["k2", "overrun_working_days"] == (1080 - 960) / 480
    units = bn.slow_units(log, catalog, calendar=WEEKDAYS)
    assert units[["department", "late_cases_held", "late_cases", "cases"]].values.tolist() == [
        ["C", 1, 2, 3], ["D", 1, 1, 1], ["A", 0, 2, 3], ["B", 0, 2, 3],
    ]  # fmt: skip
    assert units["month"].unique().tolist() == ["2024-03"]
    assert units["late_share"].tolist() == pytest.approx([2 / 3, 1.0, 2 / 3, 2 / 3])
    assert units["overrun_working_days"].tolist() == pytest.approx([1.25, 0.25, 0, 0])
    assert units["rank"].tolist() == [1, 2, 3, 4]
    assert bn.slow_units(log, catalog, month="2024-04", calendar=WEEKDAYS).empty
    rates = bn.on_time_rate(log, catalog, by="department", calendar=WEEKDAYS)
    assert rates.set_index("department")["on_time_rate"].to_dict() == pytest.approx(
        {"A": 1 / 3, "B": 1 / 3, "C": 1 / 3, "D": 0.0}
    )
    rates = bn.on_time_rate(log, catalog, by="month", calendar=WEEKDAYS)
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
    units = bn.slow_units(log, catalog, calendar=WEEKDAYS)
    assert units["department"].tolist() == ["C", "D", "A", "B"]
    assert (
        "em"
        not in bn.slow_units(log, catalog, by="resource", calendar=WEEKDAYS)["resource"].tolist()
    )
    rates = bn.on_time_rate(log, catalog, by="department", calendar=WEEKDAYS)
    assert rates["department"].tolist() == ["A", "B", "C", "D"]
    # The copy holds no time: who held the overrun is unchanged.
    result = bn.on_time(log, catalog, calendar=WEEKDAYS).set_index("case_id")
    assert result["department_held_overrun"].tolist()[:2] == ["C", "D"]


def test_an_events_frame_is_used_as_it_is(monkeypatch):
    # The clock is read once for several figures: given engines.event_table's frame, no figure
    # builds it again, and each gives what it gives on the log itself.
    log, catalog = held_log()
    events = engines.event_table(log, WEEKDAYS)
    expected = {
        "on_time": bn.on_time(log, catalog, calendar=WEEKDAYS),
        "late": bn.late_without_explanation(log, catalog, calendar=WEEKDAYS),
        "handoff": bn.bottlenecks(log, "handoff", calendar=WEEKDAYS),
        "department": bn.bottlenecks(log, "department", calendar=WEEKDAYS),
    }

    def rebuilt(*args, **kwargs):
        raise AssertionError("event_table was called again")

    monkeypatch.setattr(engines, "event_table", rebuilt)
    pd.testing.assert_frame_equal(
        bn.on_time(events, catalog, calendar=WEEKDAYS), expected["on_time"]
    )
    pd.testing.assert_frame_equal(
        bn.late_without_explanation(events, catalog, calendar=WEEKDAYS), expected["late"]
    )
    for by in ("handoff", "department"):
        pd.testing.assert_frame_equal(bn.bottlenecks(events, by), expected[by])
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
    table = bn.step_allotments(log, catalog, calendar=WEEKDAYS).set_index("activity")
    assert table["basis"].tolist() == ["median", "median", "median"]
    assert table["weight"].tolist() == pytest.approx([0.0, 0.25, 0.75])
    assert table["allotment_working_days"].tolist() == pytest.approx([0.0, 0.75, 2.25])
    assert table["median_hours"].tolist() == pytest.approx([0.0, 2.0, 6.0])
    assert table["on_time_cases"].tolist() == [3, 3, 3]
    # A step with its own allotment keeps it; the rest of the deadline is split by median.
    catalog["step_deadline_working_days"] = [0.5, np.nan, np.nan]
    table = bn.step_allotments(log, catalog, calendar=WEEKDAYS).set_index("activity")
    assert table["basis"].tolist() == ["catalog", "median", "median"]
    assert table["allotment_working_days"].tolist() == pytest.approx([0.5, 0.625, 1.875])
    # The late case: b took 5 days against 0.625; every step is X's.
    result = bn.on_time(log, catalog, calendar=WEEKDAYS).set_index("case_id")
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
    result = bn.on_time(log, CATALOG_P).set_index("case_id")
    assert result["explained"].to_dict() == {
        "e1": True, "e2": True, "e3": True, "e4": True, "n1": False, "n2": False
    }  # fmt: skip
    assert not result["on_time"].any()
    missing = bn.late_without_explanation(log, CATALOG_P)
    assert sorted(missing["case_id"]) == ["n1", "n2"]
    assert missing["department_held_overrun"].tolist() == ["B", "B"]
    only = bn.late_without_explanation(log, CATALOG_P, explanation_activities=["xin gia hạn"])
    assert sorted(only["case_id"]) == ["e1", "e2", "e4", "n1", "n2"]


# ---------------------------------------------------------------------------- cross-checks
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
    ours = bn.bottleneck_cases(log, "procedure", calendar=calendar)["hours"] * 3600
    assert sorted(ours) == pytest.approx(sorted(theirs), abs=1e-6)


def test_every_figure_transpiles_to_spark_sql():
    texts = bn.figure_sql()
    assert {"bottlenecks[handoff]", "on_time", "slow_units[resource]"} <= set(texts)
    for name, sql in texts.items():
        spark = engines.to_spark_sql(sql)
        sqlglot.parse_one(spark, read="spark")
        # Exact percentiles only: no approximate or Spark-less percentile function slips in.
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
    assert bn.bottlenecks(log, "activity")["activity"].iloc[0] == planted["bottleneck_activity"]
    assert (
        bn.bottlenecks(log, "department")["department"].iloc[0] == planted["bottleneck_department"]
    )
    listed = set(bn.late_without_explanation(log, catalog)["case_id"])
    assert set(planted["late_without_explanation"]) <= listed
    result = bn.on_time(log, catalog)
    if "late_cases" in truth.get("counts", {}):
        assert int((~result["on_time"].fillna(True)).sum()) == truth["counts"]["late_cases"]
        if "late_with_explanation" in planted:
            assert listed == set(planted["late_without_explanation"])
