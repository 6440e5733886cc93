"""Open dossiers (issue 18, item 4) against an independent computation in plain pandas.

The expected values come from per-case walks over each case's sorted events and a day-by-day
office-minute count (tests/independent.py), not from the working clock or the SQL.
"""

from __future__ import annotations

import datetime as dt

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
    RES,
    TS,
    WEEKDAYS,
    add_office_minutes,
    make_log,
    office_minutes,
)
from procmine import dossiers, engines

CLOSING = "Trả kết quả"
CATALOG = pd.DataFrame(
    {
        "procedure": ["P"] * 3,
        "step": [1, 2, 3],
        "activity": ["Tiếp nhận", "Thẩm định", CLOSING],
        "department": ["A", "B", "A"],
        "deadline_working_days": [3.0] * 3,
    }
)
CASE_COLUMNS = [
    "case_id", "procedure", "received", "department", "resource", "held_since",
    "working_hours_held", "due", "working_days_left", "overdue",
]  # fmt: skip
DEPARTMENT_COLUMNS = [
    "department", "open_cases", "overdue_cases", "due_soon_cases", "median_working_hours_held",
]  # fmt: skip


def dossier_log() -> pd.DataFrame:
    """Mon–Fri, no holidays, deadline 3 working days; the log's last stamp is Tue 9/4 10:00.
    v: open, overdue, held by C. o: open, not yet due, handed to B at the last stamp.
    x: completed (left out). r: A → B → A, then A again by another official, an event without a
    department and a side copy to D: held by A (chi) since its return on 4/4 09:00."""
    rows = [
        ("v", "Tiếp nhận", "2024-03-25 08:00", "A", "an"),
        ("v", "Thẩm định", "2024-03-26 08:00", "C", "chi"),
        ("x", "Tiếp nhận", "2024-03-28 09:00", "A", "an"),
        ("x", "Thẩm định", "2024-03-29 09:00", "B", "bình"),
        ("x", CLOSING, "2024-04-02 10:00", "A", "an"),
        ("r", "Tiếp nhận", "2024-04-02 08:00", "A", "an"),
        ("r", "Thẩm định", "2024-04-03 08:00", "B", "bình"),
        ("r", "Bổ sung", "2024-04-04 09:00", "A", "an"),
        ("r", "Xem xét", "2024-04-05 10:00", "A", "chi"),
        ("r", "Ghi chú", "2024-04-08 09:00", None, "dũng"),
        ("r", "Để biết", "2024-04-08 14:00", "D", "em"),
        ("o", "Tiếp nhận", "2024-04-08 08:00", "A", "an"),
        ("o", "Thẩm định", "2024-04-09 10:00", "B", "bình"),
    ]
    log = make_log(rows).assign(**{PROC: "P"})
    log[engines.SIDE_COPY] = log[ACT].eq("Để biết")
    return log


# ------------------------------------------------------------------- independent reference


def signed_days(at: dt.datetime, due: dt.datetime) -> float:
    """Working days from ``at`` to ``due``, negative when ``due`` is earlier."""
    if due >= at:
        return office_minutes(at, due) / 480
    return -office_minutes(due, at) / 480


def holder_of(steps: pd.DataFrame) -> tuple:
    """(department, official, held since) of a case's events in order, side copies removed:
    the last event with a department, and the first event of that department's last run."""
    entries = steps[steps[DEP].notna()] if DEP in steps else steps.iloc[:0]
    if not len(entries):
        return None, None, None
    run = entries[DEP].ne(entries[DEP].shift()).cumsum()
    since = entries.loc[run == run.iloc[-1], TS].iloc[0]
    return entries[DEP].iloc[-1], entries[RES].iloc[-1], since.to_pydatetime()


def expected_cases(log: pd.DataFrame, at: dt.datetime, deadline_days: float | None) -> pd.DataFrame:
    """Per open case at ``at``, walking its known events: the holder is the last event with a
    department (side copies aside), held since the first event of that department's last run."""
    known = log[log[TS] <= at].sort_values([CASE, TS], kind="stable")
    rows = []
    for case, group in known.groupby(CASE, sort=True):
        steps = group[~group[engines.SIDE_COPY]] if engines.SIDE_COPY in group else group
        if steps[ACT].iloc[-1] == CLOSING:
            continue
        received = group[TS].iloc[0].to_pydatetime()
        holder, resource, since = holder_of(steps)
        hours = None if since is None else office_minutes(since, at) / 60
        due = None if deadline_days is None else add_office_minutes(received, deadline_days * 480)
        rows.append(
            {"case_id": case, "department": holder, "resource": resource, "held_since": since,
             "working_hours_held": hours, "due": due,
             "working_days_left": None if due is None else signed_days(at, due),
             "overdue": due is not None and at > due}
        )  # fmt: skip
    frame = pd.DataFrame(
        rows, columns=[c for c in CASE_COLUMNS if c not in ("procedure", "received")]
    )
    frame["left"] = frame["working_days_left"].astype("float64")
    return frame.sort_values(["left", "case_id"], na_position="last").drop(columns="left")


def expected_departments(cases: pd.DataFrame, soon: float) -> pd.DataFrame:
    rows = []
    for department, group in cases.groupby("department", dropna=False, sort=False):
        left = group["working_days_left"].astype("float64")
        rows.append(
            {"department": None if pd.isna(department) else department,
             "open_cases": len(group), "overdue_cases": int(group["overdue"].sum()),
             "due_soon_cases": int(((~group["overdue"]) & (left <= soon)).sum()),
             "median_working_hours_held": group["working_hours_held"].astype(float).median()}
        )  # fmt: skip
    frame = pd.DataFrame(rows, columns=DEPARTMENT_COLUMNS)
    frame["name"] = frame["department"].fillna("\U0010ffff")
    order = ["overdue_cases", "due_soon_cases", "open_cases", "name"]
    return frame.sort_values(order, ascending=[False, False, False, True]).drop(columns="name")


def local(values: pd.Series) -> list:
    """Timestamps as naive local datetimes (None for missing), for comparison."""
    return [None if pd.isna(v) else v.tz_localize(None).to_pydatetime() for v in values]


def assert_cases(found: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(found.columns) == CASE_COLUMNS
    assert found["case_id"].tolist() == expected["case_id"].tolist()
    for column in ("department", "resource"):
        assert found[column].astype(object).where(found[column].notna(), None).tolist() == (
            expected[column].astype(object).where(expected[column].notna(), None).tolist()
        ), column
    for column in ("held_since", "due"):
        assert local(found[column]) == [None if pd.isna(v) else v for v in expected[column]]
    for column in ("working_hours_held", "working_days_left"):
        assert found[column].to_numpy() == pytest.approx(
            expected[column].astype("float64").to_numpy(), nan_ok=True
        ), column
    assert found["overdue"].tolist() == expected["overdue"].tolist()


# ------------------------------------------------------------------------------------ tests
LAST = dt.datetime(2024, 4, 9, 10)


@pytest.mark.parametrize("at", [None, "2024-04-01 12:00", "2024-04-03 12:00"])
def test_open_cases_against_pandas(at):
    log = dossier_log()
    found = pm.open_cases(log, CATALOG, at=at, calendar=WEEKDAYS)
    moment = LAST if at is None else dt.datetime.fromisoformat(at)
    expected = expected_cases(log, moment, 3.0)
    assert_cases(found, expected)
    assert found.attrs["closing_steps"] == "catalog" and found.attrs["at"] == pd.Timestamp(
        moment, tz=WEEKDAYS.timezone
    )
    if at is None:
        assert found["case_id"].tolist() == ["v", "r", "o"]
        held = found.set_index("case_id")
        # r went A → B → A: A took it back at 4/4 09:00, and still holds it (chi's event last).
        assert held.loc["r", ["department", "resource"]].tolist() == ["A", "chi"]
        assert local(held["held_since"])[1] == dt.datetime(2024, 4, 4, 9)
        assert held.loc["o", "working_days_left"] == pytest.approx(1.75)  # due Thu 11/4 08:00
        assert held.loc["v", "overdue"] and not held.loc["o", "overdue"]
    elif at.startswith("2024-04-01"):  # x is still open (with B), r and o are not known yet
        assert found["case_id"].tolist() == ["v", "x"]
        assert found["department"].tolist() == ["C", "B"]
    else:  # at Wed 3/4 12:00, x is completed, r is with B since 8:00, o is not known yet
        assert found["case_id"].tolist() == ["v", "r"]
        assert found["department"].tolist() == ["C", "B"]


@pytest.mark.parametrize("soon", [2, 3])
def test_open_cases_by_department_against_pandas(soon):
    log = dossier_log()
    found = pm.open_cases(log, CATALOG, calendar=WEEKDAYS, by="department", soon=soon)
    expected = expected_departments(expected_cases(log, LAST, 3.0), soon)
    assert list(found.columns) == DEPARTMENT_COLUMNS
    assert found["department"].tolist() == expected["department"].tolist()
    for column in DEPARTMENT_COLUMNS[1:]:
        assert found[column].tolist() == pytest.approx(expected[column].tolist()), column
    assert found.attrs["soon"] == soon


def test_without_deadlines_due_and_days_left_are_null():
    log = dossier_log()
    found = pm.open_cases(log, closing_activities=[CLOSING], calendar=WEEKDAYS)
    assert_cases(found, expected_cases(log, LAST, None))
    assert found["due"].isna().all() and found["working_days_left"].isna().all()
    assert found["case_id"].tolist() == ["o", "r", "v"]  # all null: by case id
    assert found.attrs["closing_steps"] == "closing_activities"
    units = pm.open_cases(log, closing_activities=[CLOSING], calendar=WEEKDAYS, by="department")
    assert units[["overdue_cases", "due_soon_cases"]].eq(0).all().all()


def test_without_departments_the_holder_is_null():
    log = dossier_log().drop(columns=[DEP])
    found = pm.open_cases(log, CATALOG, calendar=WEEKDAYS)
    assert_cases(found, expected_cases(log, LAST, 3.0))
    assert found["department"].isna().all() and found["held_since"].isna().all()
    assert found["working_hours_held"].isna().all() and found["due"].notna().all()
    units = pm.open_cases(log, CATALOG, calendar=WEEKDAYS, by="department")
    assert units["department"].isna().all() and units["open_cases"].tolist() == [3]
    assert units["overdue_cases"].tolist() == [2]  # v and r


def test_across_tet_2024_by_hand():
    # Received Wed 7/2/2024 16:00 by A, handed to B at 16:30; 8–14/2 are days off (Vietnam's
    # calendar): 1 working day later is Thu 15/2 16:00. At 15/2 08:00, B has held it 0.5 + 0.5
    # working hours, and 3.5 + 3 working hours are left.
    log = make_log(
        [
            ("t", "Tiếp nhận", "2024-02-07 16:00", "A", "an", "P"),
            ("t", "Thẩm định", "2024-02-07 16:30", "B", "bình", "P"),
        ]
    )
    catalog = CATALOG.assign(deadline_working_days=1.0)
    found = pm.open_cases(log, catalog, at="2024-02-15 08:00").iloc[0]
    assert found["department"] == "B"
    assert found["working_hours_held"] == pytest.approx(1.0)  # 16:30–17:00 and 07:30–08:00
    assert found["due"] == pd.Timestamp("2024-02-15 16:00", tz="Asia/Ho_Chi_Minh")
    assert found["working_days_left"] == pytest.approx(6.5 / 8)  # 08:00–11:30, 13:00–16:00
    assert not found["overdue"]


def test_an_events_table_gives_the_same_and_the_clock_is_checked():
    log = dossier_log()
    events = pm.event_table(log, WEEKDAYS)
    for by in ("case", "department"):
        pd.testing.assert_frame_equal(
            pm.open_cases(events, CATALOG, by=by),
            pm.open_cases(log, CATALOG, calendar=WEEKDAYS, by=by),
        )
    with pytest.raises(pm.CalendarMismatchError):
        pm.open_cases(events, CATALOG, calendar=pm.WorkCalendar())


def test_bad_arguments():
    with pytest.raises(ValueError, match="by must be one of"):
        pm.open_cases(dossier_log(), CATALOG, by="resource")
    with pytest.raises(ValueError, match="soon"):
        pm.open_cases(dossier_log(), CATALOG, soon=-1)


def test_every_figure_transpiles_to_spark_sql():
    for name, sql in dossiers.figure_sqls().items():
        spark = engines.to_spark_sql(sql)
        sqlglot.parse_one(spark, read="spark")
        assert "PERCENTILE_APPROX" not in spark.upper(), name


SAMPLE = REPO / "datasets" / "sample_log.csv.gz"


@pytest.mark.skipif(not SAMPLE.exists(), reason=f"generated sample absent: {SAMPLE}")
def test_the_sample_has_no_open_case():
    events = pm.event_table(pm.datasets.load_sample())
    catalog = pm.datasets.load_sample_catalog()
    found = pm.open_cases(events, catalog)
    assert found.empty and list(found.columns) == CASE_COLUMNS
    assert str(found["due"].dtype).startswith("datetime64") and found["overdue"].dtype == bool
    units = pm.open_cases(events, catalog, by="department")
    assert units.empty and list(units.columns) == DEPARTMENT_COLUMNS


@pytest.mark.skipif(not SAMPLE.exists(), reason=f"generated sample absent: {SAMPLE}")
def test_the_sample_cut_inside_agrees_with_case_status_on_time_and_pandas():
    log, catalog = pm.datasets.load_sample(), pm.datasets.load_sample_catalog()
    events = pm.event_table(log)
    at = "2024-03-15"  # the end of that day
    found = pm.open_cases(events, catalog, at=at).set_index("case_id")
    status = pm.case_status(events, catalog, at=at)
    assert sorted(found.index) == sorted(status.loc[status["open"], "case_id"]) and len(found)
    judged = pm.on_time(events, catalog, at=at).set_index("case_id").loc[found.index]
    assert found["due"].tolist() == judged["due"].tolist()
    assert found["overdue"].tolist() == judged["overdue"].tolist()
    overrun = judged["overrun_working_days"].where(judged["overdue"], 0.0)
    assert (-found["working_days_left"].clip(upper=0)).to_numpy() == pytest.approx(overrun)
    known = log[log[TS] <= pd.Timestamp(at, tz="Asia/Ho_Chi_Minh") + pd.Timedelta(days=1)]
    for case, group in known.groupby(CASE, sort=False):
        if case in found.index:
            department, resource, since = holder_of(group)
            assert found.loc[case, "department"] == department
            got = found.loc[case, "resource"]
            assert (None if pd.isna(got) else got) == (None if pd.isna(resource) else resource)
            assert found.loc[case, "held_since"] == since
