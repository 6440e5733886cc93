"""The log's own clock: the time zone its stamps imply, and the working calendar to measure it on.

Stamps keep the zone they carry. A ``timezone=`` given to :func:`procmine.log.read_log` wins;
else a column of stamps in a named zone (a DataFrame or Parquet column in ``Europe/Rome``) is in
that zone; else stamps with UTC offsets are in the zone those offsets imply: +07:00 everywhere is
Vietnam, other offsets the first IANA zone (Europe/, America/, Asia/, … then alphabetical) whose
offset at each sampled stamp is the stamp's own; else (naive stamps, or UTC only) Vietnam's.
The calendar is Vietnam's for Vietnam, and for another zone the same office hours in that zone
without public holidays (``country=None``), with a warning naming ``country=`` as the fix.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from procmine import schema
from procmine.calendar import WorkCalendar
from procmine.log.timestamps import parse_timestamps

__all__ = [
    "VIETNAM",
    "Clock",
    "Offsets",
    "infer_timezone",
    "log_clock",
    "rezoned",
    "stamp_offsets",
]

VIETNAM = schema.DEFAULT_TIMEZONE
_SAMPLE = 2000  # stamps whose offsets are looked at
_CHECKED = 400  # of those, the ones each candidate zone is checked against
_REGIONS = (
    "Europe/",
    "America/",
    "Asia/",
    "Africa/",
    "Australia/",
    "Pacific/",
    "Atlantic/",
    "Indian/",
    "Antarctica/",
    "Arctic/",
)
_UTC_NAMES = {"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Universal", "Etc/Universal", "Zulu", "Etc/Zulu"}
_UTC_NAMES |= {"GMT", "Etc/GMT", "GMT0", "Etc/GMT0", "GMT+0", "GMT-0", "Greenwich", "Etc/Greenwich"}
_OFFSET_TEXT = r"^\s*\d{4}-\d{1,2}-\d{1,2}[T ].*?(Z|[+-]\d{2}:?\d{2})\s*$"


@dataclass(frozen=True)
class Offsets:
    """What a sample of stamps says about their zone: a named ``zone`` the column carries, or
    the UTC ``instants`` (int64 nanoseconds) of the sampled stamps that have an offset and
    those ``minutes`` east of UTC."""

    zone: str | None = None
    instants: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    minutes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def labels(self) -> list[str]:
        """The distinct offsets as ``+HH:MM``, in order.

        >>> Offsets(instants=np.array([0, 1]), minutes=np.array([120, 60])).labels()
        ['+01:00', '+02:00']
        """
        return [_label(int(m)) for m in np.unique(self.minutes)]


@dataclass(frozen=True)
class Clock:
    """The log's clock: its ``timezone``, where that came from (``source``: ``"timezone="``,
    ``"stamps"`` for a named zone, ``"offsets"``, ``"default"``), the distinct UTC ``offsets``
    seen, the ``calendar`` to measure the log on, a sentence saying all that (``note``), and
    ``warnings`` for the load report."""

    timezone: str
    source: str
    offsets: tuple[str, ...]
    calendar: WorkCalendar
    note: str
    warnings: tuple[str, ...] = ()


def _label(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _named_zone(tz: Any) -> str | None:
    """The IANA name of a pandas column's zone, None for UTC or a fixed offset."""
    name = getattr(tz, "key", None) or getattr(tz, "zone", None) or str(tz)
    if name in _UTC_NAMES:
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
    return name


def _spaced(n: int, size: int = _SAMPLE) -> np.ndarray:
    """Up to ``size`` positions spread evenly over ``n`` rows, the first and last among them."""
    if n <= size:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, size).round().astype(np.int64))


def stamp_offsets(values: pd.Series | Iterable[Any]) -> Offsets:
    """What a column of stamps, as read, says about its zone (:class:`Offsets`), from a sample of
    up to 2,000 stamps spread over the column. Text in ISO 8601 with an offset, tz-aware
    datetimes and datetime objects count; naive stamps and other text say nothing.

    >>> stamp_offsets(pd.Series(["2011-10-11T13:45:40+02:00", "2011-12-01 09:00:00+01:00",
    ...                          "01/03/2024 08:00"])).labels()
    ['+01:00', '+02:00']
    >>> stamp_offsets(pd.Series(pd.to_datetime(["2024-06-01"]).tz_localize("Europe/Rome"))).zone
    'Europe/Rome'
    """
    if not isinstance(values, pd.Series):
        values = pd.Series(list(values), dtype=object)
    dtype = values.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        zone = _named_zone(dtype.tz)
        if zone is not None:
            return Offsets(zone=zone)
        return _from_aware(values.iloc[_spaced(len(values))].dropna())
    if pd.api.types.is_datetime64_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return Offsets()
    # Sampled over the whole column, then the blanks dropped: no pass over every row.
    sample = values.iloc[_spaced(len(values))].astype(object).dropna()
    aware = [v for v in sample if isinstance(v, dt.datetime) and v.utcoffset() is not None]
    if aware:
        instants = np.array([pd.Timestamp(v).as_unit("ns").value for v in aware], dtype=np.int64)
        minutes = np.array([v.utcoffset() // dt.timedelta(minutes=1) for v in aware])
        return Offsets(instants=instants, minutes=minutes.astype(np.int64))
    text = pd.Series([v for v in sample if isinstance(v, str)], dtype=object)
    found = text.str.extract(_OFFSET_TEXT, expand=False).dropna() if len(text) else text
    if not len(found):
        return Offsets()
    instants = pd.to_datetime(text[found.index], format="ISO8601", utc=True, errors="coerce")
    ok = instants.notna().to_numpy()
    minutes = [_offset_minutes(o) for o in found[ok]]
    return Offsets(
        instants=np.asarray(instants[ok].dt.as_unit("ns").array.asi8, dtype=np.int64),
        minutes=np.array(minutes, dtype=np.int64),
    )


def _from_aware(stamps: pd.Series) -> Offsets:
    if not len(stamps):
        return Offsets()
    utc = stamps.dt.tz_convert("UTC").dt.tz_localize(None).dt.as_unit("ns")
    wall = stamps.dt.tz_localize(None).dt.as_unit("ns")
    minutes = ((wall - utc) // pd.Timedelta(minutes=1)).to_numpy(dtype=np.int64)
    return Offsets(instants=utc.to_numpy().view(np.int64), minutes=minutes)


def _offset_minutes(text: str) -> int:
    if text == "Z":
        return 0
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:])
    return -minutes if text[0] == "-" else minutes


@functools.lru_cache(maxsize=1)
def _candidate_zones() -> tuple[tuple[str, str | None], ...]:
    """(zone, its country in zone.tab) in order of preference: the regions of :data:`_REGIONS`
    in turn, alphabetical within each, then the rest; the zones of zone.tab (one per region of
    a country) when it is found, else every zone Python knows."""
    rows: dict[str, str | None] = {}
    for folder in [Path(p) for p in zoneinfo.TZPATH] + [_tzdata_folder()]:
        table = folder / "zone.tab" if folder else None
        if table is not None and table.is_file():
            for line in table.read_text(encoding="utf-8").splitlines():
                parts = line.split("\t")
                if line.startswith("#") or len(parts) < 3:
                    continue
                rows[parts[2]] = parts[0]
            break
    if not rows:
        rows = dict.fromkeys(sorted(zoneinfo.available_timezones()))

    def rank(zone: str) -> tuple[int, str]:
        region = next((i for i, r in enumerate(_REGIONS) if zone.startswith(r)), len(_REGIONS))
        return region, zone

    return tuple((zone, rows[zone]) for zone in sorted(rows, key=rank))


def _tzdata_folder() -> Path | None:
    try:
        import tzdata
    except ImportError:
        return None
    return Path(tzdata.__file__).parent / "zoneinfo"


def _zone_offsets(zone: str, instants: pd.DatetimeIndex) -> np.ndarray:
    local = instants.tz_convert(zone).tz_localize(None)
    return ((local - instants.tz_localize(None)) // pd.Timedelta(minutes=1)).to_numpy()


def _checked_sample(offsets: Offsets) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """The stamps each zone is checked against: for each offset seen, its earliest and latest
    stamps and others spread between, :data:`_CHECKED` in all."""
    keep: list[np.ndarray] = []
    distinct = np.unique(offsets.minutes)
    for minutes in distinct:
        rows = np.flatnonzero(offsets.minutes == minutes)
        rows = rows[np.argsort(offsets.instants[rows], kind="stable")]
        keep.append(rows[_spaced(len(rows), max(2, _CHECKED // len(distinct)))])
    rows = np.concatenate(keep)
    return pd.DatetimeIndex(offsets.instants[rows], tz="UTC"), offsets.minutes[rows]


def infer_timezone(offsets: Offsets) -> tuple[str | None, str | None]:
    """(the first IANA zone whose UTC offset at every sampled stamp is the stamp's own, in order
    of preference: Europe/, America/, Asia/, … then alphabetical; its country code in zone.tab),
    (None, None) when no zone fits them all.

    >>> summer = pd.Timestamp("2011-07-01 10:00", tz="UTC").value
    >>> winter = pd.Timestamp("2011-12-01 10:00", tz="UTC").value
    >>> infer_timezone(Offsets(instants=np.array([summer, winter]), minutes=np.array([120, 60])))
    ('Europe/Amsterdam', 'NL')
    """
    if not len(offsets.minutes):
        return None, None
    instants, minutes = _checked_sample(offsets)
    for zone, country in _candidate_zones():
        try:
            if np.array_equal(_zone_offsets(zone, instants), minutes):
                return zone, country
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, KeyError):
            continue
    distinct = np.unique(minutes)
    if len(distinct) == 1 and distinct[0] % 60 == 0 and abs(distinct[0]) <= 12 * 60:
        hours = -int(distinct[0]) // 60  # Etc/GMT-1 is one hour east of UTC (POSIX signs)
        return ("Etc/GMT" if hours == 0 else f"Etc/GMT{hours:+d}"), None
    return None, None


def log_clock(offsets: Offsets, timezone: str | None, country: str | None) -> Clock:
    """The clock of a log whose stamps say ``offsets`` (:func:`stamp_offsets`), with the
    ``timezone`` and ``country`` a caller gave (None: decided from the stamps).

    >>> clock = log_clock(stamp_offsets(["2011-10-11T13:45:40+02:00",
    ...                                  "2011-12-01T09:00:00+01:00"]), None, None)
    >>> clock.timezone, clock.source, clock.calendar.country
    ('Europe/Amsterdam', 'offsets', None)
    >>> log_clock(stamp_offsets(["01/03/2024 08:00"]), None, None).calendar == WorkCalendar()
    True
    """
    labels = tuple(offsets.labels())
    shown = ", ".join(labels)
    warnings: list[str] = []
    suggested = None
    if timezone is not None:
        zone, source = timezone, "timezone="
        note = f"{zone}, as given (timezone={zone!r})"
    elif offsets.zone is not None:
        zone, source = offsets.zone, "stamps"
        note = f"{zone}, the zone the stamps carry; set another with timezone=…"
    elif not len(offsets.minutes):
        zone, source = VIETNAM, "default"
        note = f"{zone} (the default: the stamps carry no zone); set another with timezone=…"
    elif set(labels) == {"+07:00"}:
        zone, source = VIETNAM, "offsets"
        note = f"{zone}, from the stamps' UTC offsets (+07:00)"
    elif set(labels) == {"+00:00"}:
        zone, source = VIETNAM, "default"
        note = f"{zone} (the default: the stamps are in UTC, which names no office's zone)"
        warnings.append(
            "The stamps are in UTC (+00:00), which does not tell where the office is: the log "
            f"is measured on {zone}'s clock. If it is not Vietnamese, pass its zone, e.g. "
            "pm.read_log(..., timezone='Europe/Rome')."
        )
    else:
        inferred, suggested = infer_timezone(offsets)
        zone, source = inferred or VIETNAM, "offsets"
        if inferred is None:
            note = f"{zone} (no time zone has the stamps' UTC offsets {shown})"
            warnings.append(
                f"No time zone has the UTC offsets of the stamps ({shown}) at the stamps' dates: "
                f"the log is measured on {zone}'s clock; pass timezone= to set another."
            )
        else:
            note = (
                f"{zone}, inferred from the stamps' UTC offsets ({shown}); pass "
                "pm.read_log(..., timezone=...) to set the zone yourself"
            )
    calendar = _calendar(zone, country)
    if country is None and zone != VIETNAM:
        example = suggested or "XX"
        warnings.append(
            f"The log's clock is {zone}: it is measured on the office hours "
            f"{', '.join(f'{s}–{e}' for s, e in calendar.office_hours)} in that zone without "
            f"public holidays (country=None). Give its country to count them: "
            f"pm.read_log(..., country={example!r}) or pm.WorkCalendar(country={example!r}, "
            f"timezone={zone!r})."
        )
    return Clock(zone, source, labels, calendar, note, tuple(warnings))


def _calendar(zone: str, country: str | None) -> WorkCalendar:
    if country is not None:
        return WorkCalendar(country=country, timezone=zone)
    if zone == VIETNAM:
        return WorkCalendar()
    return WorkCalendar(country=None, timezone=zone)


def rezoned(
    parsed: dict[str, tuple[pd.Series, str]],
    columns: dict[str, pd.Series],
    timezone: str,
    dayfirst: bool,
) -> dict[str, tuple[pd.Series, str]]:
    """The parsed time columns ``parsed`` ({column: (stamps, format)}) in ``timezone``: stamps
    read from tz-aware columns converted, the others (``columns``: as read) parsed again, since
    their naive stamps are wall-clock time in the log's zone.

    >>> raw = {"time:timestamp": pd.Series(["2024-06-01 09:00"])}
    >>> parsed = {"time:timestamp": parse_timestamps(raw["time:timestamp"])}
    >>> str(rezoned(parsed, raw, "Europe/Rome", True)["time:timestamp"][0][0])
    '2024-06-01 09:00:00+02:00'
    """
    result = {}
    for column, (stamps, fmt) in parsed.items():
        if str(stamps.dtype) == f"datetime64[us, {timezone}]":
            result[column] = (stamps, fmt)
        elif isinstance(columns[column].dtype, pd.DatetimeTZDtype):
            result[column] = (stamps.dt.tz_convert(timezone), fmt)
        else:
            result[column] = parse_timestamps(columns[column], timezone, dayfirst)
    return result
