"""The working clock: every timestamp as working minutes since an origin.

Deadlines of internal procedures are counted in working days, so every duration procmine reports
is the difference of two clock readings. The reading of an instant is the number of office-hour
minutes on working days between the calendar's ``origin`` (a date, 00:00 local) and the instant.
It is computed for a whole column at once from a day table (per day: working or not, and the
cumulative working minutes at its start), so it vectorises in pandas and, once stored as a column,
in SQL.

>>> cal = WorkCalendar()
>>> cal.working_duration("2024-02-07 16:00", "2024-02-15 08:30")  # across Tết 2024
120.0
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
import zoneinfo
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from procmine.schema import DEFAULT_TIMEZONE

__all__ = [
    "CalendarError",
    "CalendarMismatchError",
    "WorkCalendar",
    "as_calendar",
    "localize",
    "steady_offset",
]

_DAY_NS = 86_400 * 10**9
_MINUTE_NS = 60 * 10**9
_UNITS = ("minutes", "hours", "days")
_CONFIG_KEYS = ("country", "timezone", "office_hours", "weekend", "days_off", "workdays", "origin")
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


class CalendarError(ValueError):
    """A calendar setting or a timestamp the clock cannot read; the message says what was
    expected and what was found."""


class CalendarMismatchError(CalendarError):
    """A figure was asked for on one working clock over a table whose clock was read with
    another: the message names both."""


class WorkCalendar:
    """Office hours, weekend and public holidays of one country, in one time zone.

    Parameters
    ----------
    country
        ISO code for the ``holidays`` package (``"VN"``: Tết, Giỗ Tổ Hùng Vương, substitute days
        off and make-up working Saturdays), or None for no public holidays.
    timezone
        IANA zone; naive timestamps are taken in it, tz-aware ones converted to it.
    office_hours
        Non-overlapping ``(start, end)`` pairs of ``"HH:MM"`` (``"24:00"`` allowed as an end), or
        ``"HH:MM-HH:MM"`` strings. Their total is :attr:`minutes_per_day`, one working day.
    weekend
        Weekdays off, 0 = Monday … 6 = Sunday (English day names also accepted).
    days_off, workdays
        Extra days off and extra working days (make-up days); they override weekend and holidays.
    origin
        The date whose 00:00 local reads 0. Timestamps before it are refused.

    Examples
    --------
    >>> cal = WorkCalendar()
    >>> cal.minutes_per_day
    480
    >>> cal.working_minutes(pd.Series(pd.to_datetime(["2024-05-06 08:30"]))) - cal.working_minutes(
    ...     pd.Series(pd.to_datetime(["2024-05-03 16:30"])))   # Fri 16:30 → Sat 4/5 (make-up) → Mon
    array([570.])
    >>> str(cal.add_working_days("2024-02-07 16:00", 1))
    '2024-02-15 16:00:00+07:00'

    Notes
    -----
    *Reading.* With ``day`` the local date of an instant and ``m`` its wall-clock minute of the
    day, the reading is ``cum[day] + (working[day] ? Σ clip(m - start, 0, end - start) : 0)``,
    summed over the office intervals. Seconds are kept as fractions of a minute (float64). Office
    hours are wall-clock hours, so a daylight-saving change moves them with the clock; were office
    hours to cover the hour repeated when clocks go back, readings would step back in it (the
    default hours never do).

    *Inverse.* :meth:`from_working_minutes` returns the **earliest** instant with a given reading.
    A reading reached at the end of a working period maps to that end (the end of the last office
    interval of a working day, 17:00 by default, not 07:30 of the next working day); a reading
    of 0 maps to the origin at 00:00. Hence ``working_minutes(from_working_minutes(m)) == m``
    (exactly for whole minutes; to half a microsecond otherwise, as instants are rounded to
    whole microseconds), while ``from_working_minutes(working_minutes(t)) <= t``, equal when
    ``t`` is after the start of an office interval of a working day and not after its end.

    *Comparison with pm4py.* ``pm4py.util.business_hours.BusinessHours`` (2.7.23.11) counts the
    same minutes on weekdays when given the same slots (one per office interval and weekday) and a
    ``work_calendar`` (this class works as one: :meth:`is_working_day` takes a single date). It
    differs in that it drops the time zone of tz-aware stamps and keeps their wall-clock time (so
    UTC stamps are read seven hours off), defaults to Mon–Fri 07:00–17:00 without a lunch break,
    counts holidays as working time unless a ``work_calendar`` is passed, and never counts a
    make-up working Saturday, since only weekday slots count.
    """

    def __init__(
        self,
        country: str | None = "VN",
        timezone: str = DEFAULT_TIMEZONE,
        office_hours: Iterable[tuple[str, str] | str] = (("07:30", "11:30"), ("13:00", "17:00")),
        weekend: Iterable[int | str] = (5, 6),
        days_off: Iterable[Any] = (),
        workdays: Iterable[Any] = (),
        origin: Any = "2000-01-01",
    ) -> None:
        self.country = _check_country(country)
        self.timezone = _check_timezone(timezone)
        intervals = _parse_office_hours(office_hours)
        self.office_hours = tuple((_hhmm(s), _hhmm(e)) for s, e in intervals)
        self.weekend = _parse_weekend(weekend)
        self.days_off = _parse_dates(days_off, "days_off")
        self.workdays = _parse_dates(workdays, "workdays")
        both = sorted(set(self.days_off) & set(self.workdays))
        if both:
            raise CalendarError(
                f"days_off and workdays both list {', '.join(map(str, both))}; "
                "a date can be one or the other."
            )
        self.origin = _parse_origin(origin)

        self._starts = np.array([s for s, _ in intervals], dtype=np.float64)
        self._lengths = np.array([e - s for s, e in intervals], dtype=np.float64)
        # Working minutes of the day before each interval starts / once it has ended.
        self._ends_cum = np.cumsum(self._lengths)
        self._starts_cum = self._ends_cum - self._lengths
        self.minutes_per_day = int(sum(e - s for s, e in intervals))
        self._origin_ns = pd.Timestamp(self.origin).as_unit("ns").value
        # Day table, built on first use and extended when stamps fall beyond it.
        self._working = np.zeros(0, dtype=bool)
        self._cum = np.zeros(1, dtype=np.float64)

    # ----------------------------------------------------------------------------- building
    @classmethod
    def from_config(cls, config: str | Path | Mapping[str, Any]) -> WorkCalendar:
        """Build a calendar from a YAML file or a dict.

        Keys (all optional): ``country``, ``timezone``, ``office_hours`` (list of
        ``"HH:MM-HH:MM"``), ``weekend`` (weekday numbers or names), ``days_off``, ``workdays``
        (ISO dates), ``origin``. A file whose settings sit under a ``calendar:`` section (as in
        ``datasets/config.yaml``) is read from that section.

        >>> WorkCalendar.from_config({"country": "NL", "timezone": "Europe/Amsterdam",
        ...                           "office_hours": ["09:00-17:00"]}).minutes_per_day
        480
        """
        if isinstance(config, str | Path):
            import yaml

            path = Path(config)
            if not path.is_file():
                raise CalendarError(f"calendar config file not found: {str(path)!r}")
            with path.open(encoding="utf-8") as handle:
                data = yaml.safe_load(handle)
            where = f"calendar config {str(path)!r}"
        else:
            data, where = config, "calendar config"
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise CalendarError(f"{where}: expected a mapping of settings, found {data!r}")
        if isinstance(data.get("calendar"), Mapping):
            data = data["calendar"]
        unknown = sorted(str(k) for k in data if k not in _CONFIG_KEYS)
        if unknown:
            raise CalendarError(
                f"{where}: unknown setting(s) {unknown}; expected some of {list(_CONFIG_KEYS)}."
            )
        if "country" in data and isinstance(data["country"], bool):
            # YAML 1.1 reads an unquoted NO (Norway) as false.
            raise CalendarError(
                f"{where}: country is {data['country']!r}; write the country code in quotes "
                '(country: "NO"), or null for no public holidays.'
            )
        return cls(**dict(data))

    def to_config(self) -> dict[str, Any]:
        """The settings as a plain dict that :meth:`from_config` reads back.

        >>> WorkCalendar().to_config()["office_hours"]
        ['07:30-11:30', '13:00-17:00']
        """
        return {
            "country": self.country,
            "timezone": self.timezone,
            "office_hours": [f"{s}-{e}" for s, e in self.office_hours],
            "weekend": list(self.weekend),
            "days_off": [d.isoformat() for d in self.days_off],
            "workdays": [d.isoformat() for d in self.workdays],
            "origin": self.origin.isoformat(),
        }

    def __repr__(self) -> str:
        hours = ", ".join(f"{s}–{e}" for s, e in self.office_hours)
        weekend = ", ".join(_DAY_NAMES[d] for d in self.weekend) or "none"
        extra = ""
        if self.days_off:
            extra += f", days_off={len(self.days_off)}"
        if self.workdays:
            extra += f", workdays={len(self.workdays)}"
        return (
            f"WorkCalendar(country={self.country!r}, timezone={self.timezone!r}, "
            f"office_hours={hours} ({self.minutes_per_day} min/day), weekend={weekend}"
            f"{extra}, origin={self.origin.isoformat()})"
        )

    # ---------------------------------------------------------------------------- identity
    # A calendar is a value: two with the same settings read every instant the same, so they are
    # equal and hash alike, and a table can say which clock it was read with (engines.clocked).
    # The settings cannot change after it is built (the day table caches what they imply).
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WorkCalendar):
            return NotImplemented
        return self.to_config() == other.to_config()

    def __hash__(self) -> int:
        return hash(repr(sorted(self.to_config().items())))

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_") and name in self.__dict__:
            raise AttributeError(
                f"a WorkCalendar's {name} cannot change once it is built; make a new one: "
                f"WorkCalendar.from_config({{**calendar.to_config(), {name!r}: ...}})"
            )
        super().__setattr__(name, value)

    def __copy__(self) -> WorkCalendar:
        return self  # immutable: a copy is the same clock (pandas copies a table's attrs)

    def __deepcopy__(self, memo: dict) -> WorkCalendar:
        return self

    # ------------------------------------------------------------------------------ reading
    def localize(self, timestamps: Any) -> pd.Series:
        """The timestamps as a tz-aware Series in the calendar's zone (:func:`localize`).

        Naive stamps are local wall-clock time (a wall-clock time skipped when clocks go forward
        moves forward; one repeated when they go back is taken as the first, summer-time one);
        tz-aware stamps are converted. Text must be ISO 8601; mixed UTC offsets are fine.

        >>> WorkCalendar().localize(pd.Series(pd.to_datetime(["2024-01-01 00:00"], utc=True)))[0]
        Timestamp('2024-01-01 07:00:00+0700', tz='Asia/Ho_Chi_Minh')
        """
        return localize(_to_datetime_series(timestamps), self.timezone)

    def wall_time(self, timestamps: Any) -> pd.Series:
        """The local wall-clock time of each timestamp, naive (what an office clock showed).

        >>> WorkCalendar().wall_time(pd.Series(pd.to_datetime(["2024-01-01 00:00"], utc=True)))[0]
        Timestamp('2024-01-01 07:00:00')
        """
        local = self.localize(timestamps)
        offset = steady_offset(local, self.timezone)
        if offset is not None:
            return local.dt.tz_convert("UTC").dt.tz_localize(None) + offset
        return local.dt.tz_localize(None)

    def _steady_offset(self) -> pd.Timedelta | None:
        """The zone's one UTC offset from the year before the origin on, None when it changes:
        when there is one, :func:`localize` shifts every stamp this clock can read by it."""
        return _offset_since(self.timezone, self.origin.year - 1)

    def working_minutes(self, timestamps: Any) -> Any:
        """Clock reading: working minutes from the origin to each timestamp (float64 array;
        a float for a single timestamp; NaN for a missing one).

        >>> cal = WorkCalendar()
        >>> cal.working_minutes("2024-05-06 08:30") - cal.working_minutes("2024-05-06 07:00")
        60.0
        """
        local = self.localize(timestamps)
        wall = self.wall_time(local).dt.as_unit("ns").to_numpy().view(np.int64)
        missing = local.isna().to_numpy()
        since = wall - self._origin_ns
        since[missing] = 0
        if len(since) and since.min() < 0:
            first = local[~missing].iloc[int(np.argmin(np.where(missing, 0, since)[~missing]))]
            raise CalendarError(
                f"timestamp {first} is before the calendar origin {self.origin} (00:00 local); "
                "build the calendar with an earlier origin, e.g. WorkCalendar(origin='1990-01-01')."
            )
        day = since // _DAY_NS
        minute = (since - day * _DAY_NS) / _MINUTE_NS
        if len(day):
            self._extend_to(int(day.max()))
        within = np.zeros(len(day), dtype=np.float64)
        for start, length in zip(self._starts, self._lengths, strict=True):
            within += np.clip(minute - start, 0.0, length)
        reading = self._cum[day] + np.where(self._working[day], within, 0.0)
        reading[missing] = np.nan
        return float(reading[0]) if _is_scalar(timestamps) else reading

    def from_working_minutes(self, minutes: Any) -> Any:
        """The earliest local instant whose reading is each of ``minutes`` (tz-aware Series; a
        Timestamp for a single value; NaT for NaN). See Notes of the class for "earliest".

        >>> cal = WorkCalendar()
        >>> str(cal.from_working_minutes(cal.working_minutes("2024-02-07 17:00")))
        '2024-02-07 17:00:00+07:00'
        >>> str(cal.from_working_minutes(cal.working_minutes("2024-02-07 17:00") + 30))
        '2024-02-15 08:00:00+07:00'
        """
        index = minutes.index if isinstance(minutes, pd.Series) else None
        values = _to_float_array(minutes, "working minutes")
        missing = np.isnan(values)
        if np.isinf(values).any():
            raise CalendarError("working minutes must be finite numbers, found infinity.")
        if (values[~missing] < 0).any():
            bad = values[~missing][values[~missing] < 0][0]
            raise CalendarError(
                f"working minutes must be >= 0 (the origin {self.origin} reads 0), found {bad}."
            )
        values = np.where(missing, 0.0, values)
        top = values.max(initial=0.0)
        while self._cum[-1] < top:
            before = self._cum[-1]
            # Enough calendar days for the missing minutes at five working days a week or more.
            missing_days = (top - before) / self.minutes_per_day
            self._extend_to(len(self._working) + max(366, int(1.5 * missing_days)))
            horizon = self.origin + dt.timedelta(days=len(self._working))
            if self._cum[-1] == before and all(d < horizon for d in self.workdays):
                # Only weekend and days off from here on (every weekday in `weekend`).
                raise CalendarError(
                    f"no instant reads {top} working minutes: the calendar has no working day "
                    "after the last one it reads; check weekend, days_off and workdays."
                )
        day = np.searchsorted(self._cum, values, side="left") - 1
        # Reading 0 is reached at the origin itself; any other reading on the working day d
        # with cum[d] < m <= cum[d + 1].
        zero = values <= 0
        day = np.where(zero, 0, day)
        rest = np.where(zero, 0.0, values - self._cum[day])
        interval = np.minimum(
            np.searchsorted(self._ends_cum, rest, side="left"), len(self._starts) - 1
        )
        minute = np.where(zero, 0.0, self._starts[interval] + (rest - self._starts_cum[interval]))
        # Whole microseconds (pandas' default unit): a reading is exact to ~30 ns only (float64
        # at 25 years of minutes), and rounding gives back the very stamp it was read from.
        micros = np.rint(minute * (_MINUTE_NS // 1000)).astype(np.int64)
        wall = self._origin_ns // 1000 + day * (_DAY_NS // 1000) + micros
        naive = pd.Series(wall.astype("datetime64[us]"), index=index)
        naive[missing] = pd.NaT
        local = self.localize(naive)
        return local.iloc[0] if _is_scalar(minutes) else local

    def working_duration(self, start: Any, end: Any, unit: str = "minutes") -> Any:
        """Working time from ``start`` to ``end`` (negative when end is earlier), in ``"minutes"``,
        ``"hours"`` or ``"days"`` (working days of :attr:`minutes_per_day`).

        >>> WorkCalendar().working_duration("2024-05-03 16:30", "2024-05-06 08:30", unit="days")
        1.1875
        """
        if unit not in _UNITS:
            raise CalendarError(f"unit must be one of {list(_UNITS)}, found {unit!r}.")
        difference = self.working_minutes(end) - self.working_minutes(start)
        if unit == "hours":
            return difference / 60.0
        if unit == "days":
            return difference / self.minutes_per_day
        return difference

    def add_working_days(self, timestamps: Any, n: Any) -> Any:
        """Due dates: the reading of each timestamp plus ``n`` working days of
        :attr:`minutes_per_day`, mapped back with :meth:`from_working_minutes` (so a case received
        after hours counts from the end of the last working period).

        >>> str(WorkCalendar().add_working_days("2024-04-26 10:00", 3))  # 29/4–1/5 off, Sat 4/5 on
        '2024-05-04 10:00:00+07:00'
        """
        reading = self.working_minutes(timestamps)
        steps = float(n) if _is_scalar(n) else _to_float_array(n, "n")
        target = reading + steps * self.minutes_per_day
        if isinstance(timestamps, pd.Series):
            target = pd.Series(target, index=timestamps.index)
        return self.from_working_minutes(target)

    def is_working_day(self, dates: Any) -> Any:
        """Whether each date is a working day (bool array; a bool for a single date, so the
        calendar can serve as pm4py's ``work_calendar``). Datetimes count by their local date.

        >>> WorkCalendar().is_working_day(["2024-05-04", "2024-05-05", "2024-04-30"]).tolist()
        [True, False, False]
        """
        local = self.localize(dates)
        wall = self.wall_time(local).dt.as_unit("ns").to_numpy().view(np.int64)
        missing = local.isna().to_numpy()
        if missing.any():
            raise CalendarError("is_working_day got a missing date (NaT/None).")
        day = (wall - self._origin_ns) // _DAY_NS
        if len(day) and day.min() < 0:
            raise CalendarError(
                f"date {local.iloc[int(np.argmin(day))].date()} is before the calendar origin "
                f"{self.origin}; build the calendar with an earlier origin."
            )
        if len(day):
            self._extend_to(int(day.max()))
        flags = self._working[day]
        return bool(flags[0]) if _is_scalar(dates) else flags

    @property
    def office_minutes(self) -> list[tuple[float, float]]:
        """The office intervals as (start, length) in minutes of the day.

        >>> WorkCalendar().office_minutes
        [(450.0, 240.0), (780.0, 240.0)]
        """
        return list(zip(self._starts.tolist(), self._lengths.tolist(), strict=True))

    def day_table(self, first: Any, last: Any) -> pd.DataFrame:
        """The clock's table of days from the date of ``first`` to that of ``last`` (wall-clock
        dates, naive): ``day`` (the date, as a naive midnight), ``working`` (a working day) and
        ``cum`` (the reading at its 00:00: working minutes of the days before it since the
        origin). A reading is ``cum + (working ? Σ clip(m - start, 0, end - start) : 0)`` of its
        day (Notes): what an engine joins on the date to read the clock where the log lives
        (:mod:`procmine.clock_sql`).

        >>> WorkCalendar().day_table("2024-05-03", "2024-05-05").to_dict("list")["working"]
        [True, True, False]
        """
        start, end = (pd.Timestamp(value).normalize() for value in (first, last))
        if start.tzinfo is not None or end.tzinfo is not None:
            raise CalendarError("day_table takes wall-clock dates (naive), not instants.")
        origin = pd.Timestamp(self.origin)
        if start < origin:
            raise CalendarError(f"date {start.date()} is before the calendar origin {self.origin}.")
        days = pd.date_range(start, max(start, end), freq="D")
        index = (days - origin).days.to_numpy()
        self._extend_to(int(index[-1]))
        return pd.DataFrame(
            {
                "day": days.as_unit("us"),
                "working": self._working[index],
                "cum": self._cum[index],
            }
        )

    # ------------------------------------------------------------------------------- table
    def _extend_to(self, last_day: int) -> None:
        """Make the day table cover day index ``last_day`` (rebuilt to the end of the next year,
        so a column of stamps costs one build)."""
        if last_day < len(self._working):
            return
        last_date = self.origin + dt.timedelta(days=last_day)
        horizon = dt.date(last_date.year + 1, 12, 31)
        n_days = (horizon - self.origin).days + 1
        days = np.arange(n_days)
        weekday = (self.origin.weekday() + days) % 7
        working = ~np.isin(weekday, self.weekend)

        def set_days(dates: Iterable[dt.date], value: bool) -> None:
            index = np.array([(d - self.origin).days for d in dates], dtype=np.int64)
            index = index[(index >= 0) & (index < n_days)]
            working[index] = value

        if self.country is not None:
            for year in range(self.origin.year, horizon.year + 1):
                holidays_off, weekend_workdays = _public_holidays(self.country, year)
                set_days(holidays_off, False)
                set_days(weekend_workdays, True)
        set_days(self.days_off, False)
        set_days(self.workdays, True)
        cum = np.zeros(n_days + 1, dtype=np.float64)
        np.cumsum(working * float(self.minutes_per_day), out=cum[1:])
        self._working, self._cum = working, cum


def as_calendar(calendar: WorkCalendar | Mapping[str, Any] | str | Path | None) -> WorkCalendar:
    """The working clock a setting names: the default (Vietnam) for None, a calendar itself,
    or one built from a config dict or YAML file (:meth:`WorkCalendar.from_config`).

    >>> as_calendar(None) == WorkCalendar()
    True
    >>> as_calendar({"office_hours": ["08:00-12:00"]}).minutes_per_day
    240
    """
    if calendar is None:
        return WorkCalendar()
    if isinstance(calendar, WorkCalendar):
        return calendar
    if isinstance(calendar, Mapping | str | Path):
        return WorkCalendar.from_config(calendar)
    raise CalendarError(
        f"calendar must be a WorkCalendar, a config dict or file, or None; found {calendar!r}."
    )


def localize(stamps: pd.Series, timezone: str) -> pd.Series:
    """Datetime ``stamps`` as tz-aware ones in ``timezone``, index and name kept: the one
    definition of a stamp's instant, which the clock and the loader both use.

    Naive stamps are wall-clock time in ``timezone``: one skipped when clocks go forward moves
    forward, one repeated when they go back is the first (summer-time) one. Aware stamps are
    converted. Where the zone keeps one UTC offset over the stamps' period
    (:func:`steady_offset`; Vietnam: +07:00 since 1975) no wall-clock time is skipped or repeated
    and naive stamps are shifted by it, exactly (pandas' per-stamp zone lookup costs ~18 ms a
    million stamps, the shift ~2 ms).

    >>> naive = pd.Series(pd.to_datetime(["2024-06-01 12:00", "1970-01-01 00:00"]))
    >>> [str(t) for t in localize(naive.iloc[:1], "Asia/Ho_Chi_Minh")]
    ['2024-06-01 12:00:00+07:00']
    >>> [str(t) for t in localize(naive, "Asia/Ho_Chi_Minh")]  # +08:00 until 1975
    ['2024-06-01 12:00:00+07:00', '1970-01-01 00:00:00+08:00']
    """
    if stamps.dt.tz is not None:
        return stamps.dt.tz_convert(timezone)
    offset = steady_offset(stamps, timezone)
    if offset is None:
        return stamps.dt.tz_localize(
            timezone, ambiguous=np.ones(len(stamps), dtype=bool), nonexistent="shift_forward"
        )
    utc = stamps.to_numpy() - offset.to_timedelta64()  # NaT stays NaT
    zoned = pd.DatetimeTZDtype(np.datetime_data(utc.dtype)[0], timezone)
    return pd.Series(
        utc.view(np.int64), index=stamps.index, name=stamps.name, dtype=zoned, copy=False
    )


def steady_offset(stamps: pd.Series, timezone: str) -> pd.Timedelta | None:
    """The zone's UTC offset when it is one and the same over the period of the datetime
    ``stamps`` (from the year before the earliest to 2100: no summer time, no change of zone),
    else None (also when there is no stamp).

    >>> stamps = pd.Series(pd.to_datetime(["1990-06-01", "2024-06-01"]))
    >>> steady_offset(stamps, "Asia/Ho_Chi_Minh"), steady_offset(stamps, "Europe/Amsterdam")
    (Timedelta('0 days 07:00:00'), None)
    """
    first = stamps.min()
    if pd.isna(first) or not 1900 < first.year <= 2100:
        return None
    return _offset_since(timezone, first.year - 1)


# ----------------------------------------------------------------------------- helpers
@functools.lru_cache(maxsize=512)
def _public_holidays(country: str, year: int) -> tuple[tuple[dt.date, ...], tuple[dt.date, ...]]:
    """Days off and make-up working days (``weekend_workdays``, exposed for Vietnam and a few
    other countries) of one year; cached because the lunar dates take a while."""
    import holidays

    table = holidays.country_holidays(country, years=year)
    workdays = getattr(table, "weekend_workdays", set())
    return tuple(sorted(table)), tuple(sorted(workdays))


@functools.lru_cache(maxsize=64)
def _offset_since(zone: str, since_year: int) -> pd.Timedelta | None:
    """The zone's UTC offset when it is the same every day from 1 January ``since_year`` to
    2100 (no summer time, no change of zone), else None. Sampled at noon UTC each day: zones
    never change their offset twice within a day, and no UTC instant is skipped or repeated."""
    noon = pd.date_range(f"{since_year}-01-01 12:00", "2100-01-01", freq="D", tz="UTC")
    offsets = (noon.tz_convert(zone).tz_localize(None) - noon.tz_localize(None)).unique()
    return offsets[0] if len(offsets) == 1 else None


def _check_country(country: Any) -> str | None:
    if country is None:
        return None
    if not isinstance(country, str) or not country.strip():
        raise CalendarError(f"country must be an ISO code such as 'VN' or None, found {country!r}.")
    import holidays

    code = country.strip().upper()
    try:
        holidays.country_holidays(code, years=2000)
    except NotImplementedError:
        raise CalendarError(
            f"country {country!r} is not known to the holidays package; use an ISO 3166 code "
            "such as 'VN' or 'NL', or None for no public holidays."
        ) from None
    return code


def _check_timezone(timezone: Any) -> str:
    try:
        zoneinfo.ZoneInfo(str(timezone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise CalendarError(
            f"timezone must be an IANA zone such as 'Asia/Ho_Chi_Minh', found {timezone!r}."
        ) from None
    return str(timezone)


def _parse_time(text: Any, what: str) -> int:
    """Minutes after midnight of an ``HH:MM`` time (24:00 allowed)."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        raise CalendarError(
            f"{what}: expected a time 'HH:MM', found the number {text!r} (YAML reads an "
            "unquoted time such as 11:30 as a number; write office hours as quoted strings, "
            'e.g. "07:30-11:30").'
        )
    if isinstance(text, dt.time):
        return text.hour * 60 + text.minute
    match = _TIME.match(str(text))
    if not match:
        raise CalendarError(f"{what}: expected a time 'HH:MM', found {text!r}.")
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise CalendarError(f"{what}: {text!r} is not a time between 00:00 and 24:00.")
    return hours * 60 + minutes


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _parse_office_hours(office_hours: Any) -> list[tuple[int, int]]:
    if isinstance(office_hours, str):
        office_hours = [office_hours]
    intervals = []
    for item in office_hours:
        if isinstance(item, str):
            parts = re.split(r"\s*[-–]\s*", item.strip())
            if len(parts) != 2:
                raise CalendarError(f"office_hours: expected 'HH:MM-HH:MM', found {item!r}.")
        elif isinstance(item, list | tuple) and len(item) == 2:
            parts = list(item)
        else:
            raise CalendarError(
                f"office_hours: expected 'HH:MM-HH:MM' or a (start, end) pair, found {item!r}."
            )
        start = _parse_time(parts[0], "office_hours")
        end = _parse_time(parts[1], "office_hours")
        if end <= start:
            raise CalendarError(
                f"office_hours: an interval must end after it starts, found {item!r}."
            )
        intervals.append((start, end))
    intervals.sort()
    if not intervals:
        raise CalendarError(
            "office_hours: expected at least one 'HH:MM-HH:MM' interval, found none."
        )
    for (_, end), (start, _) in itertools.pairwise(intervals):
        if start < end:
            raise CalendarError(
                f"office_hours: intervals overlap ({_hhmm(start)} is before {_hhmm(end)}); "
                "list them without overlap."
            )
    return intervals


def _parse_weekend(weekend: Any) -> tuple[int, ...]:
    if isinstance(weekend, int | str):
        weekend = [weekend]
    days = set()
    for item in weekend:
        if isinstance(item, str) and item[:3].title() in _DAY_NAMES:
            days.add(_DAY_NAMES.index(item[:3].title()))
        elif isinstance(item, int | np.integer) and not isinstance(item, bool) and 0 <= item <= 6:
            days.add(int(item))
        else:
            raise CalendarError(
                "weekend: expected weekday numbers 0 (Monday) … 6 (Sunday) or day names, "
                f"found {item!r}."
            )
    return tuple(sorted(days))


def _parse_date(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.datetime | pd.Timestamp):
        if (value.hour, value.minute, value.second, value.microsecond) != (0, 0, 0, 0):
            raise CalendarError(f"{what}: expected a date, found the date-time {value}.")
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise CalendarError(f"{what}: expected a date 'YYYY-MM-DD', found {value!r}.")


def _parse_dates(values: Any, what: str) -> tuple[dt.date, ...]:
    if values is None:
        return ()
    if isinstance(values, str | dt.date):
        values = [values]
    return tuple(sorted({_parse_date(v, what) for v in values}))


def _parse_origin(origin: Any) -> dt.date:
    return _parse_date(origin, "origin")


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | dt.date | np.datetime64) or (
        pd.api.types.is_scalar(value) and not isinstance(value, bytes)
    )


def _to_datetime_series(timestamps: Any) -> pd.Series:
    if _is_scalar(timestamps):
        timestamps = [timestamps]
    if isinstance(timestamps, pd.Series) and (
        pd.api.types.is_datetime64_any_dtype(timestamps.dtype)
    ):
        return timestamps
    index = timestamps.index if isinstance(timestamps, pd.Series) else None
    # ISO 8601 only: a guess between dd/mm and mm/dd is the loader's job, with the whole column.
    try:
        try:
            parsed = pd.to_datetime(timestamps, format="ISO8601")
        except ValueError as error:
            if "utc=True" not in str(error):
                raise
            # Different UTC offsets (summer and winter time): the instant is what counts.
            parsed = pd.to_datetime(timestamps, format="ISO8601", utc=True)
    except (TypeError, ValueError) as error:
        first_line = str(error).splitlines()[0]
        raise CalendarError(
            "could not read the timestamps as date-times (the clock takes datetimes or ISO 8601 "
            f"text; read other formats with pm.read_log): {first_line}"
        ) from None
    series = pd.Series(parsed, index=index)
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        raise CalendarError(
            f"could not read the timestamps as date-times: found dtype {series.dtype}."
        )
    return series


def _to_float_array(values: Any, what: str) -> np.ndarray:
    try:
        if isinstance(values, pd.Series | pd.Index):
            values = values.to_numpy(dtype=np.float64, na_value=np.nan)
        array = np.atleast_1d(np.asarray(values, dtype=np.float64))
    except (TypeError, ValueError):
        raise CalendarError(f"{what}: expected numbers, found {values!r:.80}.") from None
    if array.ndim != 1:
        raise CalendarError(
            f"{what}: expected a one-dimensional column, found shape {array.shape}."
        )
    return array
