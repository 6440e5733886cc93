"""The period and the scope (procmine.scope.filter_log) against plain pandas: whole cases kept,
a case belonging to the period it completed in, or open at its end."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import procmine as pm
from independent import ACT, CASE, DEP, TS
from test_deadlines import CATALOG_OPEN, open_log


def expected_cases(
    log: pd.DataFrame, since: dt.datetime | None, until: dt.datetime, closing: set[str] | None
) -> list[str]:
    """Plain pandas: the cases completed within [since, until] or open at until, as the log
    stood at until (``closing`` None: no closing step known, complete at the last event)."""
    kept = []
    for case, group in log[log[TS] <= until].groupby(CASE, sort=True):
        last = group.iloc[-1]
        is_open = closing is not None and last[ACT] not in closing
        if is_open or since is None or last[TS] >= since:
            kept.append(case)
    return kept


END_OF_MARCH = dt.datetime(2024, 3, 31, 23, 59, 59, 999999)
END_OF_APRIL = dt.datetime(2024, 4, 30, 23, 59, 59, 999999)


@pytest.mark.parametrize(
    ("since", "until", "catalog"),
    [
        ("2024-04-01", "2024-04-30", CATALOG_OPEN),
        ("2024-04-01", "2024-04", CATALOG_OPEN),
        (None, "2024-03", CATALOG_OPEN),
        (None, "2024-03-31", None),
        ("2024-04-01", None, None),
        ("2024-03-06", "2024-03-29 09:00", CATALOG_OPEN),
    ],
)
def test_the_period_keeps_whole_cases(since, until, catalog):
    log = open_log()
    log.attrs["procmine_load_report"] = {"rows_read": len(log)}
    kept = pm.filter_log(log, since, until, catalog=catalog, calendar=pm.WorkCalendar(country=None))
    ends = {"2024-03": END_OF_MARCH, "2024-03-31": END_OF_MARCH, "2024-04": END_OF_APRIL,
            "2024-04-30": END_OF_APRIL, None: log[TS].max()}  # fmt: skip
    end = ends.get(until, pd.Timestamp(until))
    start = None if since is None else pd.Timestamp(since)
    closing = None if catalog is None else {"Trả kết quả"}
    assert sorted(kept[CASE].unique()) == expected_cases(log, start, end, closing)
    # Whole cases: every event of a kept case, the log's columns and its load report.
    expected = log[log[CASE].isin(kept[CASE].unique())].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, expected)
    assert kept.attrs["procmine_load_report"] == {"rows_read": len(log)}
    assert kept.attrs["procmine_scope"]["until"] == (None if until is None else str(until))


def test_the_period_by_hand():
    log = open_log()
    weekdays = pm.WorkCalendar(country=None)
    # April: x completed in it (its March events kept), v and o open at its end.
    april = pm.filter_log(log, "2024-04-01", "2024-04", catalog=CATALOG_OPEN, calendar=weekdays)
    assert april[CASE].unique().tolist() == ["x", "v", "o"]
    assert len(april[april[CASE] == "x"]) == 3
    # Without a catalog, v is complete at its last event (26/3), so not in April.
    without = pm.filter_log(log, "2024-04-01", "2024-04", calendar=weekdays)
    assert without[CASE].unique().tolist() == ["x", "o"]
    # March: e, d, l completed in it; x and v open at its end (x completes on 2/4, kept whole).
    march = pm.filter_log(log, "2024-03-01", "2024-03", catalog=CATALOG_OPEN, calendar=weekdays)
    assert march[CASE].unique().tolist() == ["e", "d", "l", "x", "v"]
    assert march[TS].max() == pd.Timestamp("2024-04-02 10:00")


def test_the_scope_procedures_departments_variants():
    log = open_log()
    assert pm.filter_log(log, departments="C")[CASE].unique().tolist() == ["v"]
    assert pm.filter_log(log, departments=["C", "B"])[CASE].nunique() == 6
    both = [("Tiếp nhận", "Thẩm định")]
    assert pm.filter_log(log, variants=both)[CASE].unique().tolist() == ["v", "o"]
    assert pm.filter_log(log, variants="Tiếp nhận → Thẩm định").equals(
        pm.filter_log(log, variants=both)
    )
    # Independent: the cases' activity sequences in log order.
    sequences = log.groupby(CASE, sort=False)[ACT].agg(tuple)
    assert sequences[sequences == both[0]].index.tolist() == ["v", "o"]
    assert len(pm.filter_log(log, procedures="P")) == len(log)
    kept = pm.filter_log(log, procedures=["P"], departments="B", variants=both)
    assert kept[CASE].unique().tolist() == ["o"]


def test_a_side_copy_makes_no_department_part_of_a_case():
    log = open_log()
    log[pm.engines.SIDE_COPY] = False
    copy = log[log[CASE] == "e"].iloc[[0]].assign(**{DEP: "E", pm.engines.SIDE_COPY: True})
    log = pd.concat([log, copy], ignore_index=True)
    assert pm.filter_log(log, departments="E").empty


def test_arguments_are_checked_with_clear_errors():
    log = open_log()
    with pytest.raises(ValueError, match="unknown procedure 'Q': the log has 'P'"):
        pm.filter_log(log, procedures="Q")
    with pytest.raises(ValueError, match="unknown department 'Z': the log has 'A', 'B', 'C'"):
        pm.filter_log(log, departments=["A", "Z"])
    with pytest.raises(ValueError, match="activities the log lacks: 'Ký'"):
        pm.filter_log(log, variants=[("Tiếp nhận", "Ký")])
    with pytest.raises(ValueError, match="after until"):
        pm.filter_log(log, since="2024-05-01", until="2024-04-30")
    with pytest.raises(ValueError, match="not a date"):
        pm.filter_log(log, since="đầu tháng")
    with pytest.raises(ValueError, match="no procedure column"):
        pm.filter_log(log.drop(columns="case:procedure"), procedures="P")
