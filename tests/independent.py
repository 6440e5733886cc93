"""Independent references for the bottleneck and deadline tests: plain Python written here — a
day-by-day office-minute count (not the working clock), per-case loops over sorted events — and
the small logs they are checked on."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from pathlib import Path

import pandas as pd

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


def add_office_minutes(start: dt.datetime, minutes: float) -> dt.datetime:
    """The earliest instant ``minutes`` office minutes after ``start`` (Mon–Fri), stepping over
    office intervals day by day: independent of the working clock."""
    day, left = start.date(), minutes
    while True:
        if day.weekday() < 5:
            midnight = dt.datetime.combine(day, dt.time())
            for begin, end in ((7 * 60 + 30, 11 * 60 + 30), (13 * 60, 17 * 60)):
                low = max(midnight + dt.timedelta(minutes=begin), start)
                high = midnight + dt.timedelta(minutes=end)
                if high > low:
                    if (high - low).total_seconds() / 60 >= left:
                        return low + dt.timedelta(minutes=left)
                    left -= (high - low).total_seconds() / 60
        day += dt.timedelta(days=1)
