"""The working clock and the events table's links in SQL (procmine.clock_sql) equal the numpy path
(engines.event_table) value for value: on the committed sample, on the public receipt log (a
foreign clock with summer time), and on generated logs whose stamps fall outside office hours,
on weekends, holidays and make-up Saturdays, across Tết, and on the edges of office intervals.
On DuckDB here; on a Spark cluster in tests/test_cluster.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import procmine as pm
from procmine import clock_sql, engines

COMPUTED = (
    "case_no", "ts", "wm", "in_sequence", "sojourn", *engines.SEQUENCE_LINKS,
)  # fmt: skip
PASSED = ("activity", "department", "resource", "procedure", "lifecycle", "side_copy", "returned")


def as_values(values: pd.Series) -> list[Any]:
    """A column as plain Python values, null as None (codes as their text)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = engines.as_text(values)
    return values.astype(object).where(values.notna(), None).tolist()


def assert_same_table(found: pd.DataFrame, log: pd.DataFrame, calendar: Any) -> None:
    """``found`` (built by the SQL) has the numpy events table's computed columns, exactly."""
    expected = engines.event_table(log, calendar)
    assert found["idx"].tolist() == expected["idx"].tolist()
    assert as_values(found["case_id"]) == as_values(expected["case_id"])
    for column in (*PASSED, *COMPUTED):
        assert as_values(found[column]) == as_values(expected[column]), column


def built_by_sql(log: pd.DataFrame, calendar: Any, engine: Any = None) -> pd.DataFrame:
    built = clock_sql.engine_events(clock_sql.stamped(log, calendar), calendar, engine)
    return built if isinstance(built, pd.DataFrame) else engines._spark_result(built)


def test_the_sample_read_by_sql_equals_numpy():
    log = pm.datasets.load_sample()
    calendar = engines.own_clock(log)
    assert_same_table(built_by_sql(log, calendar), log, calendar)


def test_the_receipt_log_read_by_sql_equals_numpy(shared_datasets: Path):
    log = pm.read_log(shared_datasets / "receipt.csv.gz")
    calendar = engines.own_clock(log)
    assert calendar.timezone.startswith("Europe/")  # summer time: no steady offset
    assert_same_table(built_by_sql(log, calendar), log, calendar)


def test_the_day_table_is_the_clock_at_midnight():
    calendar = pm.WorkCalendar()
    # Monday 5 to Monday 19 February 2024: Tết took Thursday 8 to Wednesday 14 off.
    days = calendar.day_table("2024-02-05", "2024-02-19")
    assert days["working"].tolist() == [
        True, True, True, False, False, False, False, False, False, False, True, True, False,
        False, True,
    ]  # fmt: skip
    midnights = pd.Series(days["day"].dt.as_unit("ns"))
    assert days["cum"].tolist() == calendar.working_minutes(midnights).tolist()
    assert np.diff(days["cum"]).tolist() == [480.0 if w else 0.0 for w in days["working"][:-1]]


# Stamps on and around the edges of office intervals, at midnight, with microseconds, over a
# span that holds Tết 2024, weekends, 30 April–1 May and a make-up Saturday (4 May 2024).
EDGES = ("00:00", "07:29:59.999999", "07:30", "07:30:00.000001", "11:30", "12:15", "13:00",
         "16:59:59", "17:00", "17:00:00.5", "23:59:59.999999")  # fmt: skip
days = st.dates(dt.date(2024, 1, 25), dt.date(2024, 5, 10))
edge = st.sampled_from(EDGES).map(lambda text: dt.time.fromisoformat(text))
anytime = st.times()
stamps = st.builds(dt.datetime.combine, days, st.one_of(edge, anytime))
events = st.tuples(
    st.sampled_from(["c1", "c2", "c3", "c4"]),
    stamps,
    st.one_of(st.none(), st.sampled_from(["A", "B", "C"])),
    st.booleans(),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(events, min_size=1, max_size=40), calendar=st.sampled_from(["VN", "short"]))
def test_generated_logs_read_by_sql_equal_numpy(rows: list, calendar: str):
    frame = pd.DataFrame(rows, columns=["case:concept:name", "time:timestamp", "org:group", "sc"])
    # A log in canonical order: each case's events together, in time order (ties as given).
    frame = frame.sort_values(["case:concept:name", "time:timestamp"], kind="stable")
    log = pd.DataFrame(
        {
            "case:concept:name": frame["case:concept:name"].to_numpy(),
            "concept:name": "Xét",
            "time:timestamp": pd.to_datetime(frame["time:timestamp"]).dt.tz_localize(
                "Asia/Ho_Chi_Minh"
            ),
            "org:group": frame["org:group"].to_numpy(),
            engines.SIDE_COPY: frame["sc"].to_numpy() & frame["org:group"].notna().to_numpy(),
        }
    )
    clock = (
        pm.WorkCalendar()
        if calendar == "VN"
        else pm.WorkCalendar(office_hours=["08:00-12:00", "12:00-12:30", "14:00-24:00"],
                             weekend=["Sunday"], days_off=["2024-03-08"])
    )  # fmt: skip
    assert_same_table(built_by_sql(log, clock), log, clock)


def test_the_sql_reads_the_calendar_it_is_given():
    # One office interval: the reading's SQL holds its edges, and so tells two clocks apart.
    assert "minute - 480, 0), 240)" in clock_sql.reading_sql(
        pm.WorkCalendar(office_hours=["08:00-12:00"])
    )
    log = pm.datasets.example_log()
    other = pm.WorkCalendar(office_hours=["08:00-12:00"])
    found = built_by_sql(log, other)
    assert as_values(found["wm"]) == as_values(engines.event_table(log, other)["wm"])
    assert as_values(found["wm"]) != as_values(engines.event_table(log)["wm"])
