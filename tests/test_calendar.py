"""The working clock, checked against hand-counted minutes, a slow reference and pm4py."""

from __future__ import annotations

import datetime as dt
import sys

import holidays
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from procmine.calendar import CalendarError, WorkCalendar

VN = WorkCalendar()


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def reading(cal: WorkCalendar, text: str) -> float:
    return cal.working_minutes(text)


# --------------------------------------------------------------------------- hand-checked
def test_default_settings():
    assert VN.minutes_per_day == 480
    assert VN.country == "VN"
    assert VN.timezone == "Asia/Ho_Chi_Minh"
    assert VN.office_hours == (("07:30", "11:30"), ("13:00", "17:00"))
    assert VN.weekend == (5, 6)
    assert repr(VN) == (
        "WorkCalendar(country='VN', timezone='Asia/Ho_Chi_Minh', office_hours=07:30–11:30, "
        "13:00–17:00 (480 min/day), weekend=Sat, Sun, origin=2000-01-01)"
    )


def test_tet_2024_is_off():
    # VN days off 08/02–14/02/2024: Wed 07/02 16:00–17:00 (60) + Thu 15/02 07:30–08:30 (60).
    assert VN.working_duration("2024-02-07 16:00", "2024-02-15 08:30") == 120.0
    days = pd.date_range("2024-02-07", "2024-02-15", freq="D")
    assert VN.is_working_day(days).tolist() == [True] + [False] * 7 + [True]


def test_reunification_bridge_2024():
    # Sat 27/4, Sun 28/4 weekend; Mon 29/4 off (swapped with Sat 4/5), Tue 30/4, Wed 1/5 off;
    # Sat 4/5/2024 a make-up working day.
    days = pd.date_range("2024-04-26", "2024-05-06", freq="D")
    expected = [True, False, False, False, False, False, True, True, True, False, True]
    assert VN.is_working_day(days).tolist() == expected
    # Fri 26/4 16:00 → Thu 2/5 08:00: 60 + 30.
    assert VN.working_duration("2024-04-26 16:00", "2024-05-02 08:00") == 90.0
    # Fri 3/5 16:30 → Mon 6/5 08:30: 30 + 480 (Sat 4/5) + 60.
    assert VN.working_duration("2024-05-03 16:30", "2024-05-06 08:30") == 570.0
    # On the make-up Saturday itself: 10:00–11:30 + 13:00–14:00.
    assert VN.working_duration("2024-05-04 10:00", "2024-05-04 14:00") == 150.0
    # Sunday 5/5 reads as Saturday 17:00.
    assert reading(VN, "2024-05-05 12:00") == reading(VN, "2024-05-04 17:00")
    # Without public holidays the same span holds Mon, Tue, Wed in full and no Saturday.
    plain = WorkCalendar(country=None)
    assert plain.working_duration("2024-04-26 16:00", "2024-05-02 08:00") == 60 + 3 * 480 + 30
    assert plain.working_duration("2024-05-03 16:30", "2024-05-06 08:30") == 90.0


def test_lunch_break_not_counted():
    assert VN.working_duration("2024-05-06 11:00", "2024-05-06 13:30") == 60.0
    noon = [reading(VN, f"2024-05-06 {t}") for t in ("11:30", "12:00", "12:59:59", "13:00")]
    assert noon == [noon[0]] * 4


def test_weekend_not_counted():
    # Fri 10/5/2024 16:00 → Mon 13/5 08:00: 60 + 30.
    assert VN.working_duration("2024-05-10 16:00", "2024-05-13 08:00") == 90.0
    assert VN.working_duration("2024-05-11 09:00", "2024-05-12 15:00") == 0.0


def test_outside_office_hours_clamps():
    friday_end = reading(VN, "2024-05-10 17:00")
    for text in ("2024-05-10 18:00", "2024-05-10 23:59:59", "2024-05-13 00:00", "2024-05-13 07:29"):
        assert reading(VN, text) == friday_end
    assert reading(VN, "2024-05-13 07:30") == friday_end
    assert reading(VN, "2024-05-13 07:31") == friday_end + 1


def test_seconds_are_kept():
    assert VN.working_duration("2024-05-13 07:30", "2024-05-13 07:30:30") == 0.5
    assert VN.working_duration("2024-05-13 08:00", "2024-05-13 09:30", unit="hours") == 1.5
    assert VN.working_duration("2024-05-13 07:30", "2024-05-14 09:30", unit="days") == 1.25


def test_readings_from_origin():
    # Origin Mon 2024-01-01 is New Year's Day (off): Tue 2/1 10:00 reads 150.
    cal = WorkCalendar(origin="2024-01-01")
    assert reading(cal, "2024-01-01 10:00") == 0.0
    assert reading(cal, "2024-01-02 10:00") == 150.0
    assert reading(cal, "2024-01-08 07:30") == 4 * 480.0  # Tue–Fri


def test_add_working_days_across_tet():
    # Wed 07/02/2024 16:00 + 1 working day: Tết 08–14/02 off → Thu 15/02 16:00.
    assert VN.add_working_days("2024-02-07 16:00", 1) == ts("2024-02-15 16:00+07:00")
    # + 3: Thu 15, Fri 16, Mon 19/02.
    assert VN.add_working_days("2024-02-07 16:00", 3) == ts("2024-02-19 16:00+07:00")
    # Half a day (240 min): 60 on Wed, 180 on Thu → Thu 15/02 10:30.
    assert VN.add_working_days("2024-02-07 16:00", 0.5) == ts("2024-02-15 10:30+07:00")
    # Received during Tết: the clock stands at Wed 07/02 17:00, one day later is Thu 15/02 17:00.
    assert VN.add_working_days("2024-02-10 10:00", 1) == ts("2024-02-15 17:00+07:00")
    # Vectorised, keeping the index, with one n per stamp.
    received = pd.Series(pd.to_datetime(["2024-02-07 16:00", "2024-04-26 10:00"]), index=[7, 9])
    due = VN.add_working_days(received, np.array([1, 3]))
    assert due.index.tolist() == [7, 9]
    assert due.tolist() == [ts("2024-02-15 16:00+07:00"), ts("2024-05-04 10:00+07:00")]


def test_from_working_minutes_is_earliest_instant():
    end_of_wed = reading(VN, "2024-02-07 17:00")
    assert VN.from_working_minutes(end_of_wed) == ts("2024-02-07 17:00+07:00")
    assert VN.from_working_minutes(end_of_wed + 0.5) == ts("2024-02-15 07:30:30+07:00")
    morning = reading(VN, "2024-05-06 11:30")
    assert VN.from_working_minutes(morning) == ts("2024-05-06 11:30+07:00")
    assert VN.from_working_minutes(morning + 1) == ts("2024-05-06 13:01+07:00")
    assert VN.from_working_minutes(0) == ts("2000-01-01 00:00+07:00")
    out = VN.from_working_minutes(pd.Series([end_of_wed, np.nan], index=["a", "b"]))
    assert out.index.tolist() == ["a", "b"]
    assert out["a"] == ts("2024-02-07 17:00+07:00")
    assert pd.isna(out["b"])
    assert str(out.dtype) == "datetime64[us, Asia/Ho_Chi_Minh]"


def test_naive_and_aware_stamps_agree():
    naive = pd.Series(pd.to_datetime(["2024-03-05 09:15:30", "2024-03-06 16:59:00"]))
    utc = pd.Series(pd.to_datetime(["2024-03-05 02:15:30", "2024-03-06 09:59:00"], utc=True))
    strings = ["2024-03-05T09:15:30+07:00", "2024-03-06T17:59:00+08:00"]
    np.testing.assert_array_equal(VN.working_minutes(naive), VN.working_minutes(utc))
    np.testing.assert_array_equal(VN.working_minutes(naive), VN.working_minutes(strings))
    assert reading(VN, "2024-03-05 09:15:30") == VN.working_minutes(
        pd.Timestamp("2024-03-05 02:15:30", tz="UTC")
    )
    assert VN.working_minutes(np.datetime64("2024-03-05T09:15:30")) == VN.working_minutes(naive)[0]
    local = VN.localize(utc)
    assert local.tolist() == [ts("2024-03-05 09:15:30+07:00"), ts("2024-03-06 16:59+07:00")]


@pytest.mark.parametrize(
    ("zone", "origin"),
    [
        ("Asia/Ho_Chi_Minh", "2000-01-01"),
        ("Asia/Ho_Chi_Minh", "1970-01-01"),
        ("Europe/Amsterdam", "2000-01-01"),
    ],
)
def test_wall_time_and_localize_equal_pandas_zone_lookups(zone, origin):
    # Vietnam keeps +07:00 from 1975 on: the clock shifts stamps instead of looking each one up
    # in the zone database; from a 1970 origin (+08:00 until 1975) and in a zone with summer
    # time it must look them up. Either way the result is pandas' own.
    calendar = WorkCalendar(timezone=zone, origin=origin)
    rng = np.random.default_rng(3)
    seconds = rng.integers(0, 40 * 365 * 86400, 2000)
    naive = pd.Series(pd.Timestamp(origin) + pd.to_timedelta(seconds, unit="s"))
    naive[5] = pd.NaT
    expected_local = naive.dt.tz_localize(zone, ambiguous=True, nonexistent="shift_forward")
    pd.testing.assert_series_equal(calendar.localize(naive), expected_local)
    aware = expected_local.dt.tz_convert("UTC")
    pd.testing.assert_series_equal(calendar.wall_time(aware), expected_local.dt.tz_localize(None))
    # The shift is taken only where the offset never changes after the origin's year.
    shifted = zone == "Asia/Ho_Chi_Minh" and origin == "2000-01-01"
    assert calendar._steady_offset() == (pd.Timedelta(hours=7) if shifted else None)


def test_missing_stamps_read_nan():
    values = VN.working_minutes(pd.Series(pd.to_datetime(["2024-03-05 09:00", None])))
    assert values[0] == reading(VN, "2024-03-05 09:00")
    assert np.isnan(values[1])


def test_dutch_calendar_across_easter_and_summer_time():
    nl = WorkCalendar(country="NL", timezone="Europe/Amsterdam")
    # Thu 28/3/2024 16:00 (+01:00) → Tue 2/4 08:30 (+02:00): Good Friday, the weekend (clocks go
    # forward on Sunday 31/3) and Easter Monday are off: 60 + 60.
    start, end = "2024-03-28T16:00:00+01:00", "2024-04-02T08:30:00+02:00"
    assert nl.working_duration(start, end) == 120.0
    as_utc = pd.Series(pd.to_datetime(["2024-03-28 15:00", "2024-04-02 06:30"], utc=True))
    np.testing.assert_array_equal(
        nl.working_minutes(as_utc), nl.working_minutes(pd.Series([start, end]))
    )
    assert nl.add_working_days("2024-03-28 16:00", 1) == ts("2024-04-02 16:00+02:00")


def test_naive_stamps_at_clock_changes():
    # 02:30 does not exist on 31/3/2024 in Amsterdam (moved forward to 03:00) and happens twice
    # on 27/10/2024 (the first, summer-time one is taken).
    nl = WorkCalendar(country="NL", timezone="Europe/Amsterdam")
    naive = pd.Series(pd.to_datetime(["2024-03-31 02:30:00", "2024-10-27 02:30:00"]))
    assert nl.localize(naive).tolist() == [
        ts("2024-03-31 03:00+02:00"),
        ts("2024-10-27 02:30+02:00"),
    ]


# Zones with summer time, each with its clock changes of 2024 (spring forward, fall back) and
# the country whose holidays it keeps. Issue 15: every calendar reads naive and aware input alike.
DST_ZONES = {
    "Europe/Rome": ("IT", "2024-03-31 02:30", "2024-10-27 02:30"),
    "America/New_York": ("US", "2024-03-10 02:30", "2024-11-03 01:30"),
    "Australia/Sydney": ("AU", "2024-10-06 02:30", "2024-04-07 02:30"),
}


def test_rome_naive_input_across_ferragosto():
    rome = WorkCalendar(country="IT", timezone="Europe/Rome")
    # Fri 12/8/2005 09:00 → Tue 16/8 09:00: Fri 150 + 240, Ferragosto (Mon 15/8) off, Tue 90.
    assert rome.working_duration("2005-08-12 09:00", "2005-08-16 09:00") == 480.0
    aware = ("2005-08-12T09:00:00+02:00", "2005-08-16T07:00:00Z")
    assert rome.working_duration(*aware) == 480.0


@pytest.mark.parametrize("zone", list(DST_ZONES))
def test_naive_and_aware_input_agree_in_zones_with_summer_time(zone):
    country, forward, back = DST_ZONES[zone]
    calendar = WorkCalendar(country=country, timezone=zone)
    # Stamps on the clock-change days (a skipped and a repeated wall-clock time), around them and
    # in office hours on working days.
    wall = [forward, back, "2024-01-15 09:30", "2024-07-15 16:45"]
    wall += [f"{day[:10]} 23:00" for day in (forward, back)]
    naive = pd.Series(pd.to_datetime(wall))
    local = naive.dt.tz_localize(zone, ambiguous=True, nonexistent="shift_forward")
    expected = calendar.working_minutes(naive)
    for aware in (local, local.dt.tz_convert("UTC"), local.dt.tz_convert("Asia/Tokyo")):
        np.testing.assert_array_equal(calendar.working_minutes(aware), expected)
    iso = [t.isoformat() for t in local]  # text with the stamps' own offsets
    np.testing.assert_array_equal(calendar.working_minutes(iso), expected)
    for text, stamp in zip(wall, local, strict=True):  # one at a time, naive and aware
        assert calendar.working_minutes(text) == calendar.working_minutes(stamp)
    np.testing.assert_array_equal(calendar.working_minutes(pd.DatetimeIndex(naive)), expected)
    # The way back gives instants in the zone that read the same.
    back_again = calendar.from_working_minutes(expected)
    assert str(back_again.dtype) == f"datetime64[us, {zone}]"
    np.testing.assert_array_equal(calendar.working_minutes(back_again), expected)


@pytest.mark.parametrize("zone", list(DST_ZONES))
def test_durations_across_a_clock_change_count_office_hours(zone):
    # Office hours are wall-clock hours: a week with a clock change has as many working minutes
    # as any other, and a due date one working day later keeps its wall-clock time.
    _, forward, back = DST_ZONES[zone]
    calendar = WorkCalendar(country=None, timezone=zone)
    for change in (forward, back):
        sunday = pd.Timestamp(change[:10])
        friday, monday = sunday - pd.Timedelta(days=2), sunday + pd.Timedelta(days=1)
        start, end = f"{friday.date()} 16:00", f"{monday.date()} 10:00"
        assert calendar.working_duration(start, end) == 60 + 150
        aware = pd.Timestamp(start).tz_localize(zone)
        assert calendar.working_duration(aware, pd.Timestamp(end).tz_localize(zone)) == 210
        due = calendar.add_working_days(start, 1)
        assert due.strftime("%Y-%m-%d %H:%M") == f"{monday.date()} 16:00"
        assert calendar.add_working_days(aware, 1) == due
    # Stamps on a clock-change day itself, on a calendar whose every day is a working day.
    every_day = WorkCalendar(country=None, timezone=zone, office_hours=["00:00-24:00"], weekend=())
    for change in (forward, back):
        day = change[:10]
        naive = every_day.working_duration(f"{day} 00:00", f"{day} 23:00")
        first = pd.Timestamp(f"{day} 00:00").tz_localize(zone)
        last = pd.Timestamp(f"{day} 23:00").tz_localize(zone)
        assert naive == every_day.working_duration(first, last) == 23 * 60  # wall-clock hours


def test_config_days_off_and_workdays():
    base = ("2024-03-04 17:00", "2024-03-11 07:30")  # Mon evening → next Mon morning
    assert VN.working_duration(*base) == 4 * 480.0
    off = WorkCalendar.from_config({"days_off": ["2024-03-05"]})
    assert off.working_duration(*base) == 3 * 480.0
    on = WorkCalendar.from_config({"workdays": ["2024-03-09"]})
    assert on.working_duration(*base) == 5 * 480.0
    # A configured working day overrides a public holiday, a configured day off a make-up day.
    swap = WorkCalendar(days_off=["2024-05-04"], workdays=["2024-04-30"])
    assert swap.is_working_day(["2024-04-30", "2024-05-04"]).tolist() == [True, False]


def test_from_config_yaml_file(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(
        "calendar:\n"
        "  country: NL\n"
        "  timezone: Europe/Amsterdam\n"
        "  office_hours: ['08:30-12:30', '13:30-17:00']\n"
        "  weekend: [Sat, Sun]\n"
        "  days_off: [2024-12-24]\n"
        "  origin: 2020-01-01\n"
        "cost:\n"
        "  base_salary: 2340000\n",
        encoding="utf-8",
    )
    cal = WorkCalendar.from_config(path)
    assert cal.minutes_per_day == 450
    assert cal.office_hours == (("08:30", "12:30"), ("13:30", "17:00"))
    assert cal.days_off == (dt.date(2024, 12, 24),)
    assert cal.origin == dt.date(2020, 1, 1)
    assert cal.is_working_day(["2024-12-23", "2024-12-24", "2024-12-25"]).tolist() == [
        True,
        False,
        False,
    ]
    assert WorkCalendar.from_config(cal.to_config()).to_config() == cal.to_config()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"office_hours": ["07:30-25:00"]}, "between 00:00 and 24:00"),
        ({"office_hours": ["07:30-12:00", "11:30-17:00"]}, "overlap"),
        ({"office_hours": ["11:30-07:30"]}, "end after it starts"),
        ({"office_hours": [[450, 690]]}, "quoted strings"),
        ({"office_hours": []}, "at least one"),
        ({"weekend": [7]}, r"0 \(Monday\)"),
        ({"days_off": ["05/04/2024"]}, "YYYY-MM-DD"),
        ({"days_off": ["2024-05-04"], "workdays": ["2024-05-04"]}, "one or the other"),
        ({"country": "XX"}, "not known"),
        ({"country": False}, "in quotes"),
        ({"timezone": "Hanoi"}, "IANA"),
        ({"origin": "2000-01-01 08:00"}, "YYYY-MM-DD"),
        ({"holidays": "VN"}, "unknown setting"),
    ],
)
def test_bad_config_is_explained(config, message):
    with pytest.raises(CalendarError, match=message):
        WorkCalendar.from_config(config)


def test_bad_input_is_explained():
    with pytest.raises(CalendarError, match="before the calendar origin 2000-01-01"):
        VN.working_minutes(pd.Series(pd.to_datetime(["2024-01-01 00:00", "1999-12-31 09:00"])))
    with pytest.raises(CalendarError, match="must be >= 0"):
        VN.from_working_minutes([-1.0])
    with pytest.raises(CalendarError, match="unit must be one of"):
        VN.working_duration("2024-01-02", "2024-01-03", unit="weeks")
    never = WorkCalendar(country=None, weekend=range(7), workdays=["2024-01-03"])
    assert never.from_working_minutes(480) == ts("2024-01-03 17:00+07:00")
    with pytest.raises(CalendarError, match="no working day after"):
        never.from_working_minutes(481)
    with pytest.raises(CalendarError, match="ISO 8601"):
        VN.working_minutes(["05/04/2024 08:00"])


def test_table_extends_lazily():
    cal = WorkCalendar(origin="2024-01-01")
    first = reading(cal, "2024-03-01 08:00")
    later = reading(cal, "2031-03-03 08:00")  # beyond the first table
    assert later > first
    assert cal.from_working_minutes(later + 10 * 480) == cal.add_working_days(
        "2031-03-03 08:00", 10
    )


# ----------------------------------------------------------------- independent reference
REFERENCE_ORIGIN = dt.date(2023, 12, 1)
_VN_TABLE = holidays.country_holidays("VN", years=range(2023, 2026))


def reference_is_working(day: dt.date, weekend, days_off=(), workdays=()) -> bool:
    if day in workdays:
        return True
    if day in days_off:
        return False
    if day in _VN_TABLE.weekend_workdays:
        return True
    return day.weekday() not in weekend and day not in _VN_TABLE


def reference_reading(t: dt.datetime, hours, weekend=(5, 6), days_off=(), workdays=()) -> float:
    """Working minutes from REFERENCE_ORIGIN to t, interval by interval, day by day."""
    total = 0.0
    day = REFERENCE_ORIGIN
    while day <= t.date():
        if reference_is_working(day, weekend, days_off, workdays):
            midnight = dt.datetime.combine(day, dt.time())
            for start, end in hours:
                lo = midnight + dt.timedelta(minutes=start)
                hi = min(midnight + dt.timedelta(minutes=end), t)
                if hi > lo:
                    total += (hi - lo).total_seconds() / 60
        day += dt.timedelta(days=1)
    return total


instants = st.datetimes(
    min_value=dt.datetime(2023, 12, 1), max_value=dt.datetime(2025, 3, 31, 23, 59, 59)
).map(lambda t: t.replace(microsecond=0))


@st.composite
def office_hours(draw):
    """Random non-overlapping intervals at whole minutes."""
    cuts = sorted(draw(st.sets(st.integers(0, 24 * 60), min_size=2, max_size=6)))
    pairs = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2)]
    return [(a, b) for a, b in pairs if b > a] or [(450, 1020)]


def as_text(hours):
    return [f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in hours]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stamps=st.lists(instants, min_size=1, max_size=12),
    hours=office_hours(),
    weekend=st.sets(st.integers(0, 6), max_size=3),
    days_off=st.sets(st.dates(dt.date(2023, 12, 1), dt.date(2025, 3, 31)), max_size=3),
    workdays=st.sets(st.dates(dt.date(2023, 12, 1), dt.date(2025, 3, 31)), max_size=3),
)
def test_vectorised_reading_equals_reference(stamps, hours, weekend, days_off, workdays):
    workdays = workdays - days_off
    cal = WorkCalendar(
        office_hours=as_text(hours),
        weekend=weekend,
        days_off=days_off,
        workdays=workdays,
        origin=REFERENCE_ORIGIN,
    )
    got = cal.working_minutes(pd.Series(pd.to_datetime(stamps)))
    want = [reference_reading(t, hours, tuple(weekend), days_off, workdays) for t in stamps]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


@settings(max_examples=100, deadline=None)
@given(stamps=st.lists(instants, min_size=2, max_size=30))
def test_readings_are_monotone(stamps):
    ordered = pd.Series(pd.to_datetime(sorted(stamps)))
    assert (np.diff(VN.working_minutes(ordered)) >= 0).all()


@settings(max_examples=100, deadline=None)
@given(a=instants, b=instants, c=instants)
def test_durations_are_additive(a, b, c):
    a, b, c = sorted([a, b, c])
    whole = VN.working_duration(a, c)
    parts = VN.working_duration(a, b) + VN.working_duration(b, c)
    assert whole == pytest.approx(parts, abs=1e-9)
    assert VN.working_duration(c, a) == -whole


@settings(max_examples=100, deadline=None)
@given(t=instants)
def test_a_day_never_exceeds_minutes_per_day(t):
    midnight = pd.Timestamp(t.date())
    day_total = VN.working_duration(midnight, midnight + pd.Timedelta(days=1))
    assert day_total in (0.0, 480.0)
    assert day_total == 480.0 * VN.is_working_day(midnight)
    assert 0 <= VN.working_duration(midnight, t) <= day_total


@settings(max_examples=200, deadline=None)
@given(
    minutes=st.one_of(
        st.integers(0, 3_000_000).map(float),
        st.floats(0, 3_000_000, allow_nan=False, allow_infinity=False),
    )
)
def test_round_trip_of_from_working_minutes(minutes):
    instant = VN.from_working_minutes(minutes)
    back = VN.working_minutes(instant)
    if minutes.is_integer():
        assert back == minutes
        if minutes > 0:  # earliest: one second earlier reads less
            assert VN.working_minutes(instant - pd.Timedelta(seconds=1)) < minutes
    else:
        # The instant is rounded to whole microseconds: half a µs, plus float error.
        assert back == pytest.approx(minutes, abs=0.51e-6 / 60)


@settings(max_examples=100, deadline=None)
@given(stamps=st.lists(instants, min_size=1, max_size=20))
def test_inverse_of_reading_is_never_later(stamps):
    local = VN.localize(pd.Series(pd.to_datetime(stamps)))
    readings = VN.working_minutes(local)
    earliest = VN.from_working_minutes(readings)
    assert (earliest <= local).all()
    np.testing.assert_array_equal(VN.working_minutes(earliest), readings)


# ------------------------------------------------------------------------------- pm4py
def pm4py_business_seconds(start: str, end: str, cal: WorkCalendar) -> float:
    sys._pm4py_welcome_shown = True  # keep the test output free of the licence banner
    from pm4py.util.business_hours import BusinessHours

    day = 24 * 3600
    slots = [
        (weekday * day + start_min * 60, weekday * day + end_min * 60)
        for weekday in range(5)
        for start_min, end_min in ((450, 690), (780, 1020))
    ]
    hours = BusinessHours(
        pd.Timestamp(start).to_pydatetime(),
        pd.Timestamp(end).to_pydatetime(),
        business_hour_slots=slots,
        work_calendar=cal,
    )
    return hours.get_seconds()


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2024-02-07 16:00", "2024-02-15 08:30"),  # across Tết
        ("2024-05-06 11:00", "2024-05-06 13:30"),  # lunch break
        ("2024-05-10 16:00", "2024-05-13 08:00"),  # weekend
        ("2024-01-02 06:00:30", "2024-03-29 19:45:10"),  # a quarter, Tết inside
        ("2024-08-30 10:17", "2024-09-04 15:02"),  # National Day 2–3/9
    ],
)
def test_agrees_with_pm4py_on_weekday_spans(start, end):
    """pm4py's BusinessHours with one slot per office interval and weekday, and this calendar as
    its work_calendar, counts the same seconds on spans without a make-up Saturday.

    Notes
    -----
    Where pm4py differs (2.7.23.11): a make-up working Saturday never counts (only weekday slots
    count; see the test below); tz-aware stamps lose their zone and keep wall-clock time; without
    ``business_hour_slots`` it uses Mon–Fri 07:00–17:00 with no lunch break; without a
    ``work_calendar`` holidays count as working time.
    """
    assert pm4py_business_seconds(start, end, VN) == VN.working_duration(start, end) * 60


def test_pm4py_misses_the_make_up_saturday():
    start, end = "2024-05-03 16:30", "2024-05-06 08:30"
    assert VN.working_duration(start, end) == 570.0
    assert pm4py_business_seconds(start, end, VN) == 90 * 60
