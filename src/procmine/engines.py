"""Where figures are computed: one SQL definition per figure, run on DuckDB (default) or Spark.

Every set-based figure of procmine is a SQL query written once, in DuckDB's dialect, over the
tables prepared here. :func:`query` runs it on an embedded DuckDB connection, or transpiles it with
SQLGlot to Spark SQL and runs it on a ``SparkSession`` passed as ``engine``. No figure is written
twice.

The table every analysis reads is ``events`` (see :func:`event_table`):

===============  ===========================================================================
``idx``          position in the canonical log order (cases sorted by time, ties in export order)
``case_id``      the case
``activity``     the step (coded, see below)
``department``   the department (null when the export had none; coded)
``resource``     the official (null when absent; coded)
``procedure``    the procedure (``DEFAULT_PROCEDURE`` when the log has no procedure column; coded)
``lifecycle``    ``start``/``complete`` or null (coded)
``ts``           the timestamp in the working clock's local time, naive
``wm``           the working clock reading: working minutes since the calendar's origin
``side_copy``    whether the event is a side copy of a transfer history (for coordination or
                 information: it moves no responsibility)
``in_sequence``  whether the event takes part in department sequences (has a department and is
                 not a side copy)
``returned``     whether the event is a return (docs/definitions.md, Returns): in a transfer
                 history (a log with ``schema.TRANSFER``) a transfer of kind ``"return"``, else a
                 step whose activity matches a return name (``vocabulary.RETURNS`` by default,
                 ``return_activities=``); false in a table built by hand without it
``case_no``      the case as an integer (one-to-one with ``case_id``): figures partition and
                 group by it, and read ``case_id`` only where their output shows it
``deadline``     the log's ``case:deadline`` as the export gave it (only when the log has one)
``sojourn``      working minutes since the previous event of the case that is not a side copy
                 (null for the first, and for side copies: they hold no time)
===============  ===========================================================================

``case_no`` and ``sojourn`` are computed once, when the table is built (:func:`complete_events`);
a hand-built ``events`` frame passed to :func:`query` gets them there (and ``returned``, false).
So are the handoff figures' links between consecutive entries of each case's department
sequence (``next_department``, ``next_wm``, ``handoff_position``, ``return_department``,
``return_first_wm``, ``bounce_rank``: :func:`with_sequence_links`, the one definition of
consecutive entries of a department sequence); the handoff figures add them to a table
without. The process map adds the links between consecutive events it reads
(:func:`with_activity_links`: 40 ms a million events, paid only by the map); a table kept on
Spark gets them there, from :data:`ACTIVITY_LINKS_SQL`.

The *coded* text columns are pandas categoricals (DuckDB reads them as ENUMs): the figures' joins,
windows and groupings then hash and move one- or two-byte codes instead of strings. Their
categories are in code point order (Python's ``sorted``), so ORDER BY, MIN and LEAST on a code
agree with the text; comparisons with text columns and literals compare the text.
:func:`query` returns text, never codes: a categorical result column comes back as ``str``.
"""

from __future__ import annotations

import functools
import os
import textwrap
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from procmine import schema, sequences, vocabulary
from procmine.calendar import CalendarMismatchError, as_calendar
from procmine.log.report import REPORT_KEY

DEFAULT_PROCEDURE = schema.DEFAULT_PROCEDURE  # the events table's procedure without a column
SIDE_COPY = schema.SIDE_COPY

# Every figure orders its rows with ORDER BY, so DuckDB need not keep the scan's order. No
# memory limit: at 10 M events a 3 GB limit made DuckDB spill and took twice the time for about
# the same peak (benchmarks/results/analyses.md).
_DUCKDB_CONFIG = {"preserve_insertion_order": False}
# Figures partition and group by the integer case_no; those that show a case join its case_id
# once, at the end, from the table ``case_ids`` (one row per case: :func:`case_ids`), which
# :func:`query` provides when asked (``with_case_ids=True``).
CASE_IDS_TABLE = "case_ids"

EVENT_COLUMNS = (
    "idx", "case_id", "activity", "department", "resource", "procedure", "lifecycle", "ts", "wm",
    "side_copy", "in_sequence", "case_no", "sojourn",
)  # fmt: skip


# What the bottleneck and deadline figures read of an events table; a frame that has these is
# used as it is (the rest, case_no, sojourn and side_copy, complete_events derives).
FIGURE_COLUMNS = EVENT_COLUMNS[:9]


ENGINES = ("duckdb", "spark")  # by name, for the command line; "spark://HOST:7077" too


def engine_named(name: str | None) -> Any:
    """The engine a name means: ``None`` or ``"duckdb"`` is embedded DuckDB (``None`` to the
    figures); ``"spark"`` a local Spark session and ``"spark://HOST:PORT"`` one on that
    standalone master (:func:`spark_session`).

    >>> engine_named("duckdb") is None
    True
    """
    if name is None or name == "duckdb":
        return None
    if name == "spark":
        return _running_session("local[*]")
    if name.startswith("spark://"):
        return _running_session(name)
    raise ValueError(f"engine must be one of {list(ENGINES)} or spark://HOST:PORT; got {name!r}.")


def _running_session(master: str) -> Any:
    """The process's Spark session on ``master``: the one running when there is one (Spark
    allows one context a process, so a figure given ``engine="spark://…"`` reuses it rather
    than paying a new start), else a new one (:func:`spark_session`). A session running on
    another master is an error, not silently used in its place; ``"local[*]"`` takes any local
    one."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    context = getattr(SparkContext, "_active_spark_context", None)
    if context is None:
        return spark_session(master)
    running = context.master
    if running != master and not (master == "local[*]" and running.startswith("local")):
        raise ValueError(
            f"This process already runs a Spark session on {running}, and Spark allows one a "
            f"process: stop it (session.stop()) before asking for {master}."
        )
    return SparkSession.builder.getOrCreate()


# Debian's PostgreSQL JDBC driver (libpostgresql-jdbc-java): a session gets it where it is
# installed, so Spark reads a database table through JDBC (procmine.clock_sql.spark_events).
POSTGRESQL_JAR = "/usr/share/java/postgresql.jar"


def spark_session(master: str = "local[*]", **config: str) -> Any:
    """A Spark session for the figures (``pip install "procmine[spark]"``, Java 17+): its SQL
    clock in UTC (the figures pass local readings), no web UI, Arrow transfers, Debian's
    PostgreSQL JDBC driver where it is installed (:data:`POSTGRESQL_JAR`); ``config`` adds
    or overrides settings (``spark.sql.shuffle.partitions`` …).

    The driver listens on the loopback address for a local session and a master on this
    machine (``spark://127.0.0.1:…``); for a master elsewhere Spark's own choice (this
    machine's address), which the cluster's executors must reach — set ``spark.driver.host``
    when it is not the right one.

    >>> _driver_on_loopback("spark://127.0.0.1:7077"), _driver_on_loopback("spark://node1:7077")
    (True, False)
    """
    from pyspark.sql import SparkSession

    loopback = {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"}
    jdbc = {"spark.jars": POSTGRESQL_JAR} if os.path.exists(POSTGRESQL_JAR) else {}
    settings = {
        **jdbc,
        "spark.sql.session.timeZone": "UTC",
        **(loopback if _driver_on_loopback(master) else {}),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        **config,
    }
    builder = SparkSession.builder.master(master).appName("procmine")
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def _driver_on_loopback(master: str) -> bool:
    """Whether a session on ``master`` keeps its driver on the loopback address: a local one, or
    a standalone master on this machine's loopback address."""
    from urllib.parse import urlparse

    if master.startswith("local"):
        return True
    return urlparse(master).hostname in {"127.0.0.1", "localhost", "::1"}


def is_event_table(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` already is an events table (so the clock need not be read again)."""
    return all(column in frame.columns for column in EVENT_COLUMNS)


# The working clock an events table was read with, kept in its ``attrs``: pandas carries it
# through filters, selections and ``assign`` (a copy of a table is read with the same clock), so
# a figure can check that it measures with the clock the table was read with.
CALENDAR_ATTR = "procmine_calendar"


def table_calendar(events: pd.DataFrame) -> Any:
    """The working clock ``events`` was read with, or None for a table built by hand.

    >>> import procmine as pm
    >>> log = pd.DataFrame({"case:concept:name": ["a"], "concept:name": ["Nhận"],
    ...                     "time:timestamp": pd.to_datetime(["2024-05-06 08:00"])})
    >>> table_calendar(event_table(log)) == pm.WorkCalendar()
    True
    """
    return events.attrs.get(CALENDAR_ATTR)


def clocked(
    log: pd.DataFrame,
    calendar: Any = None,
    columns: tuple[str, ...] = EVENT_COLUMNS,
    *,
    build: tuple[str, ...] | None = None,
    return_activities: Iterable[str] | None = None,
) -> tuple[pd.DataFrame, Any]:
    """What a figure reads, and the working clock to measure it with — the one place where a
    figure's ``calendar=`` is resolved.

    ``log`` is returned itself when it has the ``columns`` the figure needs (an events table
    built once and passed to several figures, or a hand-built frame), with the clock it was read
    with: ``calendar=None`` means that clock, and another calendar raises
    :class:`~procmine.calendar.CalendarMismatchError` — a figure never mixes readings of one
    clock with due dates or day lengths of another. Otherwise the table is built from the log
    (of only the ``build`` columns when given, for a figure that builds a table for itself
    alone) on ``calendar``, or when None on the log's own clock (:func:`own_clock`), its
    returns found with ``return_activities`` (:func:`event_table`). A hand-built table records
    no clock: it is taken to be read with ``calendar`` (or the default).

    >>> frame = pd.DataFrame({"idx": [0], "case_id": ["a"], "wm": [1.0]})
    >>> clocked(frame, columns=("idx", "case_id", "wm"))[0] is frame
    True
    """
    if all(column in log.columns for column in columns):
        return log, same_clock(log, calendar)
    if schema.CASE not in log.columns and "case_id" in log.columns and "wm" in log.columns:
        missing = [column for column in columns if column not in log.columns]
        raise schema.MissingColumnError(
            f"This events table lacks the column(s) {missing} this figure reads (a table built "
            "with event_table(..., columns=...) serves only the figure it was built for). Pass "
            "the log, or the whole table: pm.event_table(log, calendar)."
        )
    calendar = own_clock(log) if calendar is None else as_calendar(calendar)
    table = event_table(log, calendar, columns=build, return_activities=return_activities)
    return table, calendar


def own_clock(log: pd.DataFrame) -> Any:
    """The working clock a log should be measured on when no calendar is given: the one its load
    report chose (``pm.load_report(log)["calendar"]``: the zone of its stamps; Vietnam's for a
    Vietnamese log), else the default (Vietnam).

    >>> import procmine as pm
    >>> own_clock(pm.datasets.example_log()) == pm.WorkCalendar()
    True
    """
    report = log.attrs.get(REPORT_KEY)  # where pm.read_log keeps it
    chosen = report.get("calendar") if isinstance(report, dict) else None
    return as_calendar(chosen)


def same_clock(events: pd.DataFrame, calendar: Any = None) -> Any:
    """The clock ``events`` was read with, checked against the ``calendar`` a caller asks for.

    >>> import procmine as pm
    >>> log = pd.DataFrame({"case:concept:name": ["a"], "concept:name": ["Nhận"],
    ...                     "time:timestamp": pd.to_datetime(["2024-05-06 08:00"])})
    >>> same_clock(event_table(log), pm.WorkCalendar(office_hours=["08:00-12:00"]))
    Traceback (most recent call last):
    ...
    procmine.calendar.CalendarMismatchError: This events table was read with ...
    """
    own = table_calendar(events)
    if calendar is None:
        return own if own is not None else as_calendar(None)
    calendar = as_calendar(calendar)
    if own is not None and own != calendar:
        raise CalendarMismatchError(
            f"This events table was read with {own!r}, and the figure was asked for on "
            f"{calendar!r}: its durations and due dates would mix two clocks. Leave calendar= "
            "out to use the table's own clock, or build the table again from the log on the "
            "other one: pm.event_table(log, calendar)."
        )
    return calendar


def event_table(
    log: pd.DataFrame,
    calendar: Any = None,
    *,
    columns: Iterable[str] | None = None,
    return_activities: Iterable[str] | None = None,
) -> pd.DataFrame:
    """The narrow, clocked frame behind the ``events`` table of every figure.

    Reading the working clock is the costliest step of a figure on a large log: build the table
    once and pass it instead of the log to every analysis (they accept either, with the same
    results). The table keeps the calendar it was read with (:func:`table_calendar`), and every
    figure measures with that one: asking a figure for another calendar over it is an error
    (:func:`same_clock`), never a figure mixed from two clocks. An events table passed in is
    returned as it is, after the same check.

    ``return_activities``: the names of the steps that are returns (``returned``), matched by
    :func:`procmine.vocabulary.matches`; None is :data:`procmine.vocabulary.RETURNS`. A
    transfer history (a log with the column ``schema.TRANSFER``) records its returns itself:
    the names are not used. The table remembers what its returns were read from
    (:func:`table_returns`), so a figure asked for other names reads them again.

    ``columns`` is for a figure that builds a table for itself alone (the process map): the
    columns it reads, beyond the ones every table has (idx, case_id, case_no, ts, wm, side_copy,
    sojourn); only those are built, and the map's :data:`ACTIVITY_LINKS` only when named. Such a
    table is not an events table for the other figures.

    >>> import procmine as pm
    >>> events = event_table(pm.datasets.example_log())
    >>> events[["case_id", "activity", "department", "wm", "sojourn"]].head(3)
      case_id   activity     department         wm  sojourn
    0     HS1  Tiếp nhận      Văn phòng  2936670.0      NaN
    1     HS1  Thẩm định  Phòng Tư pháp  2936790.0    120.0
    2     HS1  Phê duyệt      Văn phòng  2937210.0    420.0
    >>> table_calendar(events) == pm.WorkCalendar()  # the clock it was read with
    True
    """
    if is_event_table(log):
        same_clock(log, calendar)
        if isinstance(log, SparkEvents):  # the activity links it gets there when read
            wanted = () if columns is None else tuple(columns)
            _spark_table_has(log, tuple(c for c in wanted if c not in ACTIVITY_LINKS))
        return log
    schema.require_columns(log, schema.REQUIRED)
    calendar = own_clock(log) if calendar is None else as_calendar(calendar)
    wanted = None if columns is None else frozenset(columns)
    source = _Source.of(log, calendar)
    returns = returns_source(log, return_activities)
    parts = _computed(_part_plan(log, source, calendar, wanted, returns), len(log))
    table = _assembled(log, source, parts, wanted)
    table.attrs[CALENDAR_ATTR] = calendar
    if "returned" in parts:
        table.attrs[RETURNS_ATTR] = returns
    closings = transfer_closings(log)
    if closings is not None:
        table.attrs[TRANSFER_ATTR] = closings
    return table


# An events table of a transfer history keeps the history's closing action words in its attrs.
TRANSFER_ATTR = "procmine_transfer_closings"


def is_transfer_history(frame: pd.DataFrame) -> bool:
    """Whether a log, or an events table built from one, is a transfer history: its events are
    transfers, not steps (no conformance, maps, allotments or cost; docs/definitions.md)."""
    return transfer_closings(frame) is not None


def transfer_closings(frame: pd.DataFrame) -> tuple[str, ...] | None:
    """The closing action words of a transfer history — its log (the rows whose
    ``procmine:transfer`` kind is ``closing``) or an events table built from it — or None for
    a step log. In a transfer history a case is complete when its last event is one of them.

    >>> log = pd.DataFrame({"concept:name": ["Chuyển xử lý", "Hoàn thành"],
    ...                     "procmine:transfer": ["main", "closing"]})
    >>> transfer_closings(log), transfer_closings(log.drop(columns="procmine:transfer"))
    (('Hoàn thành',), None)
    """
    if schema.TRANSFER in frame.columns:
        closing = (frame[schema.TRANSFER] == schema.CLOSING).to_numpy(dtype=bool, na_value=False)
        return tuple(sorted(pd.unique(frame[schema.ACTIVITY][closing].dropna().astype(str))))
    return frame.attrs.get(TRANSFER_ATTR)


# What an events table's ``returned`` was read from, kept in its ``attrs`` as its calendar is:
# ``schema.TRANSFER`` (a transfer history's kinds) or the tuple of return names.
RETURNS_ATTR = "procmine_returns"


def returns_source(
    log: pd.DataFrame, return_activities: Iterable[str] | None = None
) -> str | tuple[str, ...]:
    """What the returns of ``log`` are read from: ``schema.TRANSFER`` for a transfer history
    (its transfers of kind ``"return"``), else the return names (``return_activities``, or
    :data:`procmine.vocabulary.RETURNS` when None).

    >>> returns_source(pd.DataFrame({"procmine:transfer": ["main"]}))
    'procmine:transfer'
    >>> returns_source(pd.DataFrame({"concept:name": ["Nhận"]}), ["Trả về"])
    ('Trả về',)
    """
    if schema.TRANSFER in log.columns:
        return schema.TRANSFER
    return _return_names(vocabulary.RETURNS if return_activities is None else return_activities)


def _return_names(names: Iterable[str]) -> tuple[str, ...]:
    """A list of return names as a tuple (a single text is refused: it is not a list)."""
    if isinstance(names, str):
        raise ValueError(f"return_activities is a list of activity names, found {names!r}")
    return tuple(names)


def table_returns(events: pd.DataFrame) -> str | tuple[str, ...] | None:
    """What the ``returned`` column of ``events`` was read from (:func:`returns_source`), or
    None for a table built by hand or without the column.

    >>> log = pd.DataFrame({"case:concept:name": ["a"], "concept:name": ["Trả lại hồ sơ"],
    ...                     "time:timestamp": pd.to_datetime(["2024-05-06 08:00"])})
    >>> table_returns(event_table(log))
    ('Trả lại', 'Chuyển lại')
    """
    return events.attrs.get(RETURNS_ATTR)


def with_returns(
    events: pd.DataFrame, return_activities: Iterable[str] | None = None
) -> pd.DataFrame:
    """``events`` whose ``returned`` column follows ``return_activities``: the table itself when
    its returns were read with the same names (compared as the rule compares them), or from a
    transfer history (its kinds decide, not names), or when ``return_activities`` is None (the
    table's own; a table without the column has no return); else ``returned`` read again from
    its ``activity`` column (over the distinct names, cheap).

    >>> table = pd.DataFrame({"activity": ["Trả lại hồ sơ", "Xét", "Trả về"]})
    >>> with_returns(table, ["Trả về"])["returned"].tolist()
    [False, False, True]
    """
    if return_activities is None:
        return events
    own = table_returns(events)
    names = _return_names(return_activities)
    if own == schema.TRANSFER or (
        isinstance(own, tuple) and "returned" in events.columns and _same_names(own, names)
    ):
        return events
    if "activity" not in events.columns:
        read = "built by hand" if own is None else f"its returns read with {list(own)}"
        raise schema.MissingColumnError(
            f"This events table ({read}) has no activity column to find the return steps "
            f"{list(names)} in. Build the table with those names: pm.event_table(log, calendar, "
            "return_activities=[...]), or pass the log."
        )
    if isinstance(events, SparkEvents):  # the names matched over its distinct activities
        activities = events.distinct("activity")
        flags = return_flags(pd.Series(activities, dtype=object), names)
        found = events.with_returned(a for a, flag in zip(activities, flags, strict=True) if flag)
    else:
        found = events.assign(returned=return_flags(events["activity"], names))
    found.attrs[RETURNS_ATTR] = names
    return found


def _same_names(these: Iterable[str], those: Iterable[str]) -> bool:
    """Whether two name lists match the same activities (:func:`vocabulary.matches`' rule)."""

    def normal(names: Iterable[str]) -> frozenset[str]:
        return frozenset(n for n in (vocabulary.normal_name(str(name)) for name in names) if n)

    return normal(these) == normal(those)


def return_flags(activities: pd.Series | pd.Categorical, names: Iterable[str]) -> np.ndarray:
    """Whether each activity is a return step: one of ``names`` by
    :func:`procmine.vocabulary.matches`, asked of the distinct activities only.

    >>> return_flags(pd.Series(["Trả lại hồ sơ", None, "Trả lạiX"]), vocabulary.RETURNS).tolist()
    [True, False, False]
    """
    return _flagged(activities, lambda uniques: vocabulary.matches(uniques, names))


def returned_flags(log: pd.DataFrame, returns: Any) -> np.ndarray:
    """Whether each event of ``log`` is a return, by what :func:`returns_source` chose: a
    return transfer of a transfer history (``schema.TRANSFER``), else a step of one of the
    names ``returns``.

    >>> returned_flags(pd.DataFrame({"concept:name": ["Trả lại", "Nhận"]}), ["Trả lại"]).tolist()
    [True, False]
    """
    if returns == schema.TRANSFER:
        return _transfer_returns(log[schema.TRANSFER])
    return return_flags(log[schema.ACTIVITY], returns)


def _transfer_returns(kinds: pd.Series) -> np.ndarray:
    """Whether each transfer of a transfer history is a return (its kind is ``schema.RETURN``,
    trimmed and case-folded)."""

    def is_return(uniques: list[Any]) -> list[bool]:
        return [isinstance(k, str) and k.strip().casefold() == schema.RETURN for k in uniques]

    return _flagged(kinds, is_return)


def _flagged(
    values: pd.Series | pd.Categorical, chosen: Callable[[list[Any]], list[bool]]
) -> np.ndarray:
    """Per value, whether ``chosen`` picks it among the distinct values (null: never)."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        values = values.array
    if isinstance(values, pd.Categorical):
        codes, uniques = values.codes, values.categories
    else:
        codes, uniques = _factorize(values.reset_index(drop=True))
    picked = np.array(chosen(list(uniques)), dtype=bool).reshape(-1)
    return np.append(picked, False)[codes]  # code -1 (null) takes the last: False


# The coded text columns of the events table: (the log's column, the value for null).
_TEXTS = {
    "activity": (schema.ACTIVITY, None),
    "department": (schema.DEPARTMENT, None),
    "resource": (schema.RESOURCE, None),
    "procedure": (schema.PROCEDURE, DEFAULT_PROCEDURE),
    "lifecycle": (schema.LIFECYCLE, None),
}


def _needs(wanted: frozenset[str] | None, *names: str) -> bool:
    """Whether a table built for ``wanted`` columns (None: all) has any of ``names``."""
    return wanted is None or not wanted.isdisjoint(names)


def _builds_sequence(wanted: frozenset[str] | None) -> bool:
    """Whether a table for ``wanted`` columns gets the department-sequence links."""
    return _needs(wanted, "department", "in_sequence", *SEQUENCE_LINKS)


def _texts(wanted: frozenset[str] | None) -> dict[str, tuple[str, str | None]]:
    """The coded text columns a table for ``wanted`` builds (the department whenever the
    sequence links are built: they are computed from it)."""
    return {
        name: source
        for name, source in _TEXTS.items()
        if _needs(wanted, name) or (name == "department" and _builds_sequence(wanted))
    }


@dataclass(frozen=True)
class _Source:
    """What every part of the events table is computed from: the log's cases, local stamps,
    positions and side-copy flags."""

    case_id: pd.Series
    local: pd.Series
    idx: np.ndarray
    side_copy: np.ndarray

    @classmethod
    def of(cls, log: pd.DataFrame, calendar: Any) -> _Source:
        n = len(log)
        timestamps = pd.to_datetime(log[schema.TIMESTAMP].reset_index(drop=True))
        side_copy = (
            log[SIDE_COPY].fillna(False).astype(bool).to_numpy()
            if SIDE_COPY in log.columns
            else np.zeros(n, dtype=bool)
        )
        return cls(
            case_id=log[schema.CASE].astype("string").reset_index(drop=True),
            local=calendar.localize(timestamps),
            idx=np.arange(n, dtype=np.int64),
            side_copy=side_copy,
        )


def _coded(log: pd.DataFrame, column: str, default: str | None = None) -> pd.Categorical:
    """A text column of the log coded in code point order (:func:`text_codes`); a column the
    log lacks is all null, or all ``default``."""
    if column not in log.columns:
        return pd.Categorical.from_codes(
            np.full(len(log), 0 if default is not None else -1, dtype=np.int8),
            categories=pd.Index([default] if default is not None else [], dtype=str),
        )
    return text_codes(log[column], default, lower=column == schema.LIFECYCLE)


def _part_plan(
    log: pd.DataFrame,
    source: _Source,
    calendar: Any,
    wanted: frozenset[str] | None,
    returns: str | tuple[str, ...] = vocabulary.RETURNS,
) -> dict[str, tuple[tuple[str, ...], Callable[..., Any]]]:
    """The parts of the events table for :func:`_computed`, each with the parts it is computed
    from. Coding text is most of the table's time; Arrow's hashing and numpy's loops give up the
    interpreter lock, so on two or more cores the parts are computed side by side, each as soon
    as what it reads is ready (1 M events: ~165 ms one after another, ~95 ms side by side on two
    cores). The order is the priority: the parts others wait for, and those, first.
    ``returns`` is what the ``returned`` column is read from (:func:`returns_source`)."""
    idx, side_copy = source.idx, source.side_copy

    def sequence_links(case_no: np.ndarray, department: pd.Categorical, wm: np.ndarray) -> dict:
        in_sequence = sequences.in_sequence(department.codes, side_copy)
        linked = _sequence_links(
            pd.DataFrame(
                {"idx": idx, "case_no": case_no, "department": department, "wm": wm,
                 "in_sequence": in_sequence},
                copy=False,
            )
        )  # fmt: skip
        return {"in_sequence": in_sequence, **linked}

    def activity_links(case_no: np.ndarray, activity: pd.Categorical) -> dict:
        table = {"idx": idx, "case_no": case_no, "activity": activity}
        return _activity_links(pd.DataFrame(table, copy=False))

    texts = _texts(wanted)
    coding = {
        name: ((), functools.partial(_coded, log, column, default))
        for name, (column, default) in texts.items()
    }
    sequence = _builds_sequence(wanted)
    returned: dict[str, tuple[tuple[str, ...], Callable[..., Any]]] = {}
    if _needs(wanted, "returned"):
        if returns != schema.TRANSFER and "activity" in coding:  # the coded activities' names
            returned["returned"] = (("activity",), lambda a: return_flags(a, returns))
        else:
            returned["returned"] = ((), lambda: returned_flags(log, returns))
    return {
        "case_no": ((), lambda: case_numbers(source.case_id)),
        "wm": ((), lambda: calendar.working_minutes(source.local)),
        **({"department": coding["department"]} if "department" in coding else {}),
        "sojourn": (
            ("case_no", "wm"),
            lambda case_no, wm: _sojourns(case_no, idx, wm, side_copy),
        ),
        **({"sequence": (("case_no", "department", "wm"), sequence_links)} if sequence else {}),
        **coding,  # the department keeps its place above
        **(
            {"activity_links": (("case_no", "activity"), activity_links)}
            if wanted is not None and not wanted.isdisjoint(ACTIVITY_LINKS)
            else {}
        ),
        **returned,
        "ts": ((), lambda: calendar.wall_time(source.local)),
    }


def _assembled(
    log: pd.DataFrame, source: _Source, parts: dict[str, Any], wanted: frozenset[str] | None
) -> pd.DataFrame:
    """The events table from its computed parts, in the documented column order."""
    links = {**parts.get("sequence", {}), **parts.get("activity_links", {})}
    return pd.DataFrame(
        {
            "idx": source.idx,
            "case_id": source.case_id,
            **{name: parts[name] for name in _texts(wanted)},
            "ts": parts["ts"],
            "wm": parts["wm"],
            "side_copy": source.side_copy,
            **({"in_sequence": links.pop("in_sequence")} if "sequence" in parts else {}),
            **({"returned": parts["returned"]} if "returned" in parts else {}),
            "case_no": parts["case_no"],
            # Kept as the export gave it (a due date-time or a number of working days), so the
            # deadline figures read it from the events table as they would from the log.
            **(
                {"deadline": log[schema.DEADLINE].reset_index(drop=True)}
                if schema.DEADLINE in log.columns and _needs(wanted, "deadline")
                else {}
            ),
            "sojourn": parts["sojourn"],
            **links,
        },
        copy=False,  # the arrays are new: a copy of each would cost ~10 ms a million events
    )


# Above this many events the parts of the events table are computed one after the other: two
# parts at once hold two sets of transient arrays (~200 MB more at 10 M events, where the table
# takes a second or two anyway), and memory, not time, is then what runs short.
_SIDE_BY_SIDE_EVENTS = 2_000_000


def _computed(
    parts: dict[str, tuple[tuple[str, ...], Callable[..., Any]]], events: int
) -> dict[str, Any]:
    """Each part's result by name. A part is ``(inputs, call)``: ``call`` takes the results of
    the parts named in ``inputs``, in that order. Parts run in threads when the machine has cores
    to spare and the table is not large, each as soon as its inputs are ready, the earlier ones
    in ``parts`` first; else one after another.

    >>> _computed({"a": ((), lambda: 2), "b": (("a",), lambda a: a + 1)}, 10)
    {'a': 2, 'b': 3}
    """
    workers = min(len(parts), os.cpu_count() or 1)
    pending, results = dict(parts), {}

    def ready() -> Iterable[str]:
        return [name for name, (inputs, _) in pending.items() if set(inputs) <= results.keys()]

    if workers < 2 or events > _SIDE_BY_SIDE_EVENTS:
        while pending:
            name = next(iter(ready()))
            inputs, call = pending.pop(name)
            results[name] = call(*(results[i] for i in inputs))
        return {name: results[name] for name in parts}
    running: dict[Future, str] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while pending or running:
            for name in ready():
                if len(running) == workers:
                    break
                inputs, call = pending.pop(name)
                running[pool.submit(call, *(results[i] for i in inputs))] = name
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                results[running.pop(future)] = future.result()
    return {name: results[name] for name in parts}


def case_numbers(case_id: pd.Series) -> np.ndarray:
    """The cases as integers, one-to-one with the ids, in order of first appearance (a null id
    is a case of its own): what figures partition and group by.

    >>> case_numbers(pd.Series(["b", "a", "b"])).tolist()
    [0, 1, 0]
    """
    codes = _factorize(case_id, null_coded=True)[0]
    return codes.astype(np.int32, copy=False) if len(codes) < 2**31 else codes


def case_ids(events: pd.DataFrame) -> pd.DataFrame:
    """One row per case: ``case_no`` and its ``case_id`` (from the case's first event), in
    ``case_no`` order — the table figures join a case's id from, once, at the end.

    >>> events = pd.DataFrame({"case_no": [1, 0, 1], "case_id": ["b", "a", "b"]})
    >>> case_ids(events)["case_id"].tolist()
    ['a', 'b']
    """
    if isinstance(events, SparkEvents):  # a table kept on Spark: its own, there
        return events.case_ids()
    case_no = events["case_no"].to_numpy()
    cases = int(case_no.max()) + 1 if len(case_no) else 0
    numbers = np.arange(cases, dtype=case_no.dtype)
    # An events table holds each case's events together, cases in order of first appearance
    # (case_no's order): the first events are where case_no changes (a third of the time of the
    # general way below at 10 M events).
    first = np.flatnonzero(np.r_[True, case_no[1:] != case_no[:-1]]) if cases else numbers
    if len(first) != cases or not np.array_equal(case_no[first], numbers):
        first = np.full(cases, -1, dtype=np.int64)
        # Written last to first, so each case keeps the position of its first event.
        first[case_no[::-1]] = np.arange(len(case_no) - 1, -1, -1)
        numbers = np.flatnonzero(first >= 0).astype(case_no.dtype)
        first = first[numbers]
    return pd.DataFrame({"case_no": numbers, "case_id": events["case_id"].array.take(first)})


def _factorize(values: pd.Series, *, null_coded: bool = False) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(values)``: integer codes in order of first appearance and the distinct
    values; null is -1, or a value of its own when ``null_coded``.

    Text held by Arrow (pandas' ``str`` columns) is hashed by Arrow itself: pandas' factorize
    does the same and then converts, which costs about a quarter more, and Arrow's kernel gives
    up the interpreter lock throughout, so the events table's columns code side by side.
    """
    array = values.array
    if not isinstance(array, pd.arrays.ArrowStringArray):
        return pd.factorize(values, use_na_sentinel=not null_coded)
    import pyarrow as pa
    import pyarrow.compute as pc

    chunked = pa.chunked_array(array.__arrow_array__())
    if chunked.num_chunks != 1 and not pa.types.is_large_string(chunked.type):
        # Chunks of 32-bit offsets may not fit in one array: pandas codes them chunk by chunk.
        return pd.factorize(values, use_na_sentinel=not null_coded)
    whole = chunked.combine_chunks() if chunked.num_chunks != 1 else chunked.chunk(0)
    encoded = pc.dictionary_encode(whole, null_encoding="encode" if null_coded else "mask")
    indices = encoded.indices
    if indices.null_count:
        indices = pc.fill_null(indices, -1)
    uniques = pd.Index(pd.array(encoded.dictionary, dtype=values.dtype))
    return indices.to_numpy(zero_copy_only=False), uniques


def text_codes(
    values: pd.Series, default: str | None = None, *, lower: bool = False
) -> pd.Categorical:
    """``values`` as text coded in code point order: a categorical whose categories are the
    distinct texts (``str``), sorted as Python's ``sorted`` sorts them; null stays null, or
    becomes ``default``; ``lower`` lower-cases the texts (variants merge into one category).

    The text work (str, lower, sort) runs on the distinct values only.

    >>> text_codes(pd.Series(["Ánh", "B", None, "B"])).tolist()
    ['Ánh', 'B', nan, 'B']
    >>> list(text_codes(pd.Series(["Ánh", "B", "a"])).categories)
    ['B', 'a', 'Ánh']
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes, uniques = values.cat.codes.to_numpy(), pd.Index(values.cat.categories)
    else:
        codes, uniques = _factorize(values)
    names = uniques.astype("string") if len(uniques) else pd.Index([], dtype="string")
    if lower:
        names = names.str.lower()
    if default is not None:
        names = names.append(pd.Index([default], dtype="string"))
        codes = np.where(codes < 0, len(uniques), codes)
    # Distinct raw values that give the same text (1 and "1"; "Start" and "start") merge here.
    recode, categories = pd.factorize(names, sort=True)
    recode = np.append(recode, -1)  # code -1 (null) stays null
    small = np.int8 if len(categories) < 127 else np.int16 if len(categories) < 32767 else np.int32
    # Recoded in the small type, so the one pass over the events writes the final codes; they
    # are valid by construction (no validation pass).
    return pd.Categorical.from_codes(
        recode.astype(small)[codes],
        categories=pd.Index(categories, dtype=str),
        validate=False,
    )


def distinct(values: pd.Series) -> list[str]:
    """The distinct non-null values of a column, sorted; of a coded column, its categories in use
    (counted on the codes, without a pass over a million values' hashes).

    >>> distinct(pd.Series(pd.Categorical(["b", None, "a"], categories=["a", "b", "c"])))
    ['a', 'b']
    """
    if isinstance(values, SparkColumn):  # a column of a table kept on Spark: asked there
        return values.table.distinct(values.name)
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = values.cat.categories
        codes = values.cat.codes.to_numpy()
        used = np.bincount(codes[codes >= 0], minlength=len(categories)) > 0
        return sorted(categories[used].tolist())
    return sorted(pd.unique(values.dropna()))


def rows_with(events: pd.DataFrame, column: str, value: Any) -> pd.DataFrame:
    """The events whose ``column`` is ``value``: of a pandas table, numbered again from 0; of a
    table kept on Spark (:class:`SparkEvents`), selected there.

    >>> rows_with(pd.DataFrame({"procedure": ["P", "Q", "Q"]}), "procedure", "Q").index.tolist()
    [0, 1]
    """
    if isinstance(events, SparkEvents):
        return events.where_equal(column, value)
    return events[events[column] == value].reset_index(drop=True)


def null_count(events: pd.DataFrame, column: str) -> int:
    """How many events have no ``column``; of a table kept on Spark, counted there.

    >>> null_count(pd.DataFrame({"activity": ["Nhận", None]}), "activity")
    1
    """
    if isinstance(events, SparkEvents):
        return events.nulls(column)
    return int(events[column].isna().sum())


def coded(events: pd.DataFrame, column: str) -> pd.DataFrame:
    """``events`` with ``column`` coded (a categorical, which DuckDB reads as an ENUM: grouping
    hashes small integers instead of text); a table kept on Spark as it is (Spark reads text).

    >>> coded(pd.DataFrame({"activity": ["Nhận", "Ký"]}), "activity")["activity"].dtype
    CategoricalDtype(categories=['Ký', 'Nhận'], ordered=False, categories_dtype=str)
    """
    if isinstance(events, SparkEvents):
        return events
    return events.assign(**{column: events[column].astype("category")})


def with_text(events: pd.DataFrame, column: str, text: str) -> pd.DataFrame:
    """``events`` with ``column`` set to one ``text`` for every event (coded, as the table's
    texts are; on a table kept on Spark, there). The frame given is not changed.

    >>> with_text(pd.DataFrame({"procedure": ["_", "_"]}), "procedure", "P")["procedure"].tolist()
    ['P', 'P']
    """
    if isinstance(events, SparkEvents):
        return events.assign(**{column: str(text)})
    one = pd.Categorical.from_codes(
        np.zeros(len(events), dtype=np.int8), categories=pd.Index([str(text)], dtype=str)
    )
    return events.assign(**{column: one})


def only_text(values: pd.Series, text: str) -> bool:
    """Whether every value of a column is ``text``: of a coded column, read from its categories
    (the events table codes only the values present); of a column of a table kept on Spark,
    from its distinct values there.

    >>> only_text(pd.Series(["P", "P"]), "P"), only_text(pd.Series(["P", "Q"]), "P")
    (True, False)
    """
    if isinstance(values, SparkColumn):
        return values.table.distinct(values.name) == [text]
    if isinstance(values.dtype, pd.CategoricalDtype):
        return list(values.cat.categories) == [text]
    return bool((values == text).all())


def complete_events(events: pd.DataFrame) -> pd.DataFrame:
    """``events`` with the columns every figure derives from it, added where missing:
    ``side_copy`` and ``returned`` (false: hand-built tables have none), ``case_no`` and
    ``sojourn``.

    The sojourn is defined here, once: the working time since the previous event of the case,
    in ``idx`` order. Side copies of a transfer history hold no time and are not the previous
    event of anything (docs/definitions.md); nor is an event without a reading.

    >>> complete_events(pd.DataFrame({"idx": [0, 1], "case_id": ["a", "a"], "wm": [5.0, 7.5]}))[
    ...     "sojourn"].tolist()
    [nan, 2.5]
    """
    added: dict[str, Any] = {}
    if "side_copy" not in events.columns:
        added["side_copy"] = np.zeros(len(events), dtype=bool)
    if "returned" not in events.columns:
        added["returned"] = np.zeros(len(events), dtype=bool)
    if "case_no" not in events.columns:
        added["case_no"] = case_numbers(events["case_id"])
    if "sojourn" not in events.columns:
        added["sojourn"] = _sojourn_column(events.assign(**added))
    return events.assign(**added) if added else events


def _sojourn_column(events: pd.DataFrame) -> np.ndarray:
    """The sojourn of each event of a table that has ``case_no`` and ``side_copy``."""
    return _sojourns(
        events["case_no"].to_numpy(),
        events["idx"].to_numpy(),
        events["wm"].to_numpy(dtype="float64", na_value=np.nan),
        events["side_copy"].to_numpy(dtype=bool),
    )


def _sojourns(
    case_no: np.ndarray, idx: np.ndarray, wm: np.ndarray, side_copy: np.ndarray
) -> np.ndarray:
    """Each event's reading minus the reading of the latest earlier event of its case that holds
    time (not a side copy, has a reading); NaN for side copies and events with no such event."""
    sojourn = np.full(len(case_no), np.nan)
    if not len(case_no):
        return sojourn
    order = sequences.case_order(case_no, idx)
    if order is not None:
        case_no, wm, side_copy = case_no[order], wm[order], side_copy[order]
    position = np.arange(len(case_no))
    holds = ~side_copy & ~np.isnan(wm)
    # The latest position before each event that holds time, and where each event's case starts.
    previous = np.r_[-1, np.maximum.accumulate(np.where(holds, position, -1))[:-1]]
    first = np.r_[True, case_no[1:] != case_no[:-1]]
    case_start = np.maximum.accumulate(np.where(first, position, 0))
    has_previous = (previous >= case_start) & ~side_copy
    held = wm[has_previous] - wm[previous[has_previous]]
    sojourn[has_previous if order is None else order[has_previous]] = held
    return sojourn


ACTIVITY_LINKS = ("previous_activity", "is_last", "first_activity_in_case", "first_arc_in_case")


def with_activity_links(events: pd.DataFrame) -> pd.DataFrame:
    """``events`` with the links between consecutive events of each case in ``idx`` order, which
    the process map's directly-follows arcs read:

    - ``previous_activity``: the activity of the case's previous event (null for its first);
    - ``is_last``: the case has no later event;
    - ``first_activity_in_case``: the case's first event of this activity;
    - ``first_arc_in_case``: the case's first step from ``previous_activity`` to this activity
      (summing the two flags over a group counts its cases, without a distinct count).

    Computed in numpy over the table's (case, idx) order, so the map's SQL needs no window
    sorting every event (LAG … OVER (PARTITION BY case ORDER BY idx)) and no distinct count of
    (case, arc) keys. A table that has them is returned as it is.

    >>> table = pd.DataFrame({"idx": [0, 1, 2, 3], "case_id": ["a", "a", "a", "b"],
    ...                       "activity": ["Nhận", "Duyệt", "Nhận", "Nhận"],
    ...                       "wm": [1.0, 2.0, 3.0, 4.0]})
    >>> linked = with_activity_links(table)
    >>> linked[["previous_activity", "is_last", "first_activity_in_case"]].to_dict("list")
    {'previous_activity': [nan, 'Nhận', 'Duyệt', nan], 'is_last': [False, False, True, True], \
'first_activity_in_case': [True, True, False, True]}
    """
    return _with_links(events, ACTIVITY_LINKS, _activity_links, ACTIVITY_LINKS_SQL)


# The same links as set operations, for a table kept on an engine (:class:`SparkEvents`): windows
# partitioned by case in ``idx`` order, so each case's events meet in one task. Tested equal to
# the numpy definition (tests/test_discovery.py), which the pandas table keeps for its speed.
ACTIVITY_LINKS_SQL = """
SELECT *,
       ROW_NUMBER() OVER (PARTITION BY case_no, activity, previous_activity ORDER BY idx) = 1
         AS first_arc_in_case
FROM (
  SELECT *,
         LAG(activity) OVER (PARTITION BY case_no ORDER BY idx) AS previous_activity,
         LEAD(idx) OVER (PARTITION BY case_no ORDER BY idx) IS NULL AS is_last,
         ROW_NUMBER() OVER (PARTITION BY case_no, activity ORDER BY idx) = 1
           AS first_activity_in_case
  FROM events
) AS linked"""
"""The activity links of :func:`with_activity_links` (over ``events`` with ``case_no``)."""


def _activity_links(events: pd.DataFrame) -> dict[str, Any]:
    """The columns of :func:`with_activity_links` for a table that has ``case_no``."""
    n = len(events)
    case_no = events["case_no"].to_numpy()
    order = sequences.case_order(case_no, events["idx"].to_numpy())

    def row(positions: np.ndarray) -> np.ndarray:
        """Rows of the table at positions in (case, idx) order."""
        return positions if order is None else order[positions]

    in_order = case_no.astype(np.int64) if order is None else case_no[order].astype(np.int64)
    # Positions k - 1 and k (in case order) are consecutive events of one case.
    follows = np.flatnonzero(in_order[1:] == in_order[:-1]) + 1
    is_last = np.ones(n, dtype=bool)
    is_last[row(follows - 1)] = False
    activity = events["activity"]
    codes = _codes(activity)
    ordered_codes = codes if order is None else codes[order]
    # Keys (case, activity) and (case, activity, previous) in case order (code 0 stands for
    # "none", so null never collides). One stable sort by the finer key: its groups start at the
    # case's first step of an arc (the sort keeps time order among equals); within each group of
    # the coarser key, the earliest position is the case's first event of the activity. The keys
    # come nearly sorted (case first), which timsort takes in about linear time.
    width = int(codes.max(initial=-1)) + 2
    current = in_order * width + ordered_codes + 1
    previous = np.zeros(n, dtype=np.int64)
    previous[follows] = ordered_codes[follows - 1] + 1
    arc = current * width + previous
    by_arc = np.argsort(arc, kind="stable")
    arc_key, activity_key = arc[by_arc], current[by_arc]
    first_arc, first_activity = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    first_arc[row(by_arc[np.r_[True, arc_key[1:] != arc_key[:-1]]])] = True
    starts = np.flatnonzero(np.r_[True, activity_key[1:] != activity_key[:-1]])
    if n:
        first_activity[row(np.minimum.reduceat(by_arc, starts))] = True
    return {
        "previous_activity": _linked(activity, codes, row(follows), row(follows - 1)),
        "is_last": is_last,
        "first_activity_in_case": first_activity,
        "first_arc_in_case": first_arc,
    }


SEQUENCE_LINKS = (
    "next_department", "next_wm", "handoff_position", "return_department", "return_first_wm",
    "bounce_rank",
)  # fmt: skip


def with_sequence_links(events: pd.DataFrame) -> pd.DataFrame:
    """``events`` (an events table) with the links between consecutive entries of each case's
    department sequence, which the figures' SQL reads (``marked``, ``handoffs``):

    - ``next_department``, ``next_wm``: the department and clock reading of the next in-sequence
      event of the case in ``idx`` order; null for the case's last one and for events not in
      sequence;
    - ``handoff_position``: for an event that hands off (its next entry is in another
      department), the handoff's position j among the case's handoffs (0, 1, …); -1 otherwise;
    - ``return_department``, ``return_first_wm``: for a handoff, the target and first reading
      of the case's next handoff (a bounce when that target is this event's department); null
      for the case's last handoff and for other events;
    - ``bounce_rank``: for a bounce A → B → A, 1 for the case's first bounce on (A, B) in time
      order, 2 for the next, …; 0 for other events.

    Computed in numpy over the table's (case, idx) order: the SQL then needs no window sorting
    every event of the log (LEAD … OVER (PARTITION BY case ORDER BY idx)), which were the
    costliest steps of the handoff figures. :func:`event_table` adds them once;
    a table that has them is returned as it is.

    >>> table = pd.DataFrame({"idx": [0, 1, 2, 3], "case_id": ["a"] * 4,
    ...                       "department": ["X", None, "Y", "X"], "wm": [1.0, 2.0, 4.0, 9.0],
    ...                       "in_sequence": [True, False, True, True]})
    >>> linked = with_sequence_links(table)
    >>> linked[["next_department", "handoff_position", "return_department"]].to_dict("list")
    {'next_department': ['Y', nan, 'X', nan], 'handoff_position': [0, -1, 1, -1], \
'return_department': ['X', nan, nan, nan]}
    """
    return _with_links(events, SEQUENCE_LINKS, _sequence_links)


def _with_links(
    events: pd.DataFrame,
    names: tuple[str, ...],
    build: Callable[[pd.DataFrame], dict[str, Any]],
    sql: str | None = None,
) -> pd.DataFrame:
    """``events`` completed, with the link columns ``names`` that ``build`` computes, unless it
    has them already (then it is returned as it is); a table kept on Spark gets them from
    ``sql``, there (not computed until a figure reads them)."""
    events = complete_events(events)
    if all(column in events.columns for column in names):
        return events
    if isinstance(events, SparkEvents):
        if sql is None:
            _spark_table_has(events, names)
        return events.derived(sql)
    return events.assign(**build(events))


def _spark_table_has(events: SparkEvents, columns: tuple[str, ...]) -> None:
    """Raise a TypeError naming the ``columns`` a figure reads that a table on Spark lacks."""
    missing = [column for column in columns if column not in events.columns]
    if missing:
        raise TypeError(
            f"This figure reads {missing}, which this events table kept on Spark lacks: build "
            "it with procmine.clock_sql.spark_events, or pass the pandas log or "
            "pm.event_table(log) with engine=."
        )


def _sequence_links(events: pd.DataFrame) -> dict[str, Any]:
    """The columns of :func:`with_sequence_links` for a table that has ``case_no``: the links of
    :func:`procmine.sequences.links` as the table's columns."""
    n = len(events)
    department = events["department"]
    codes = _codes(department)
    found = sequences.links(
        events["case_no"].to_numpy(),
        events["idx"].to_numpy(),
        codes,
        events["in_sequence"].to_numpy(dtype=bool),
    )
    # Full-length columns hold codes and readings only (the events table's size is what costs).
    wm = events["wm"].to_numpy(dtype="float64", na_value=np.nan)
    next_wm, return_first_wm = np.full(n, np.nan), np.full(n, np.nan)
    next_wm[found.entry] = wm[found.next_entry]
    return_first_wm[found.handoff] = wm[found.return_entry]
    return {
        "next_department": _linked(department, codes, found.entry, found.next_entry),
        "next_wm": next_wm,
        "handoff_position": found.handoff_position,
        "return_department": _linked(department, codes, found.handoff, found.return_entry),
        "return_first_wm": return_first_wm,
        "bounce_rank": found.bounce_rank,
    }


def _linked(
    values: pd.Series, codes: np.ndarray, rows: np.ndarray, sources: np.ndarray
) -> pd.api.extensions.ExtensionArray:
    """The value of event ``sources[k]`` at row ``rows[k]``, null elsewhere (same dtype)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        linked = np.full(len(values), -1, dtype=codes.dtype)
        linked[rows] = codes[sources]
        return pd.Categorical.from_codes(linked, dtype=values.dtype)
    taken = np.full(len(values), -1, dtype=np.int64)
    taken[rows] = sources
    return values.array.take(taken, allow_fill=True)


def _codes(values: pd.Series) -> np.ndarray:
    """Integer codes equal where the texts are equal, -1 for null."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy()
    return _factorize(values)[0]


Cte = tuple[str, str]
"""A common table expression: its name and its body (a SELECT)."""


def with_ctes(*ctes: Cte, select: str) -> str:
    """One SQL text: ``WITH`` the named ``ctes``, in order, then the final ``select``.

    A figure is composed from the definitions it reads (``procmine.sequences``, a module's own
    CTEs); the same CTE given twice is written once, and two different bodies under one name
    are an error.

    >>> print(with_ctes(("a", "SELECT 1 AS x"), ("b", "SELECT x FROM a"), select="SELECT * FROM b"))
    WITH a AS (
      SELECT 1 AS x
    ),
    b AS (
      SELECT x FROM a
    )
    SELECT * FROM b
    """
    bodies: dict[str, str] = {}
    for name, body in ctes:
        if bodies.setdefault(name, body) != body:
            raise ValueError(f"two different definitions of the CTE {name!r}")
    if not bodies:
        return select.strip()
    written = ",\n".join(f"{name} AS (\n  {_dedented(body)}\n)" for name, body in bodies.items())
    return f"WITH {written}\n{select.strip()}"


def _dedented(body: str) -> str:
    """A CTE body as written inside ``AS (...)``: its lines indented by two spaces."""
    return textwrap.indent(textwrap.dedent(body).strip(), "  ")[2:]


def query(
    sql: str, engine: Any = None, *, with_case_ids: bool = False, **tables: pd.DataFrame
) -> pd.DataFrame:
    """Run one figure's SQL (DuckDB dialect) over the given tables and return a DataFrame.

    ``engine`` is None for embedded DuckDB, or a ``pyspark.sql.SparkSession``, or a name
    (:func:`engine_named`: ``"duckdb"``, ``"spark"``, ``"spark://HOST:PORT"``). A frame named
    ``events`` gets the columns :func:`complete_events` adds where it lacks them; a figure that
    shows cases asks ``with_case_ids`` for the table ``case_ids`` (:func:`case_ids` of the
    events), which it joins once, at the end. A table kept on Spark — an events table
    (:class:`SparkEvents`) or a result kept there (:func:`kept`) — is read where it is, on its
    own session, whatever ``engine`` says.

    >>> query("SELECT MAX(x) AS m FROM t", t=pd.DataFrame({"x": [1, 2]}))["m"].item()
    2
    """
    engine, tables = _placed(engine, tables, with_case_ids)
    if engine is None:
        tables = {name: _in_text_order(frame) for name, frame in tables.items()}
        result = _query_duckdb(sql, tables)
    else:
        result = _query_spark(sql, engine, tables)
    # The one place where codes become text again: every figure returns text columns.
    coded = {
        column: as_text(values)
        for column, values in result.items()
        if isinstance(values.dtype, pd.CategoricalDtype)
    }
    return result.assign(**coded) if coded else result


def kept(
    sql: str, engine: Any = None, *, with_case_ids: bool = False, **tables: pd.DataFrame
) -> Any:
    """A query's result (as :func:`query` runs it) kept where it was computed, for further
    queries to read as a table: on DuckDB the result itself, on Spark a cached Spark DataFrame
    that never comes to the driver. :func:`release` frees it.

    >>> found = kept("SELECT x * 2 AS y FROM t", t=pd.DataFrame({"x": [1, 2]}))
    >>> query("SELECT MAX(y) AS m FROM found", found=found)["m"].item()
    4
    """
    engine, placed = _placed(engine, tables, with_case_ids)
    if engine is None:
        return query(sql, None, **placed)
    return spark_frame(sql, engine, **placed).cache()


def release(table: Any) -> None:
    """Free what a table :func:`kept` on Spark holds on the executors (nothing on DuckDB)."""
    if _on_spark(table) and not isinstance(table, SparkEvents):
        table.unpersist()


def _placed(engine: Any, tables: dict[str, Any], with_case_ids: bool) -> tuple[Any, dict[str, Any]]:
    """The engine a query runs on and the tables it reads: ``events`` completed, ``case_ids``
    when asked; a table kept on Spark decides the engine (its session)."""
    if isinstance(engine, str):  # "duckdb", "spark", "spark://HOST:PORT"
        engine = engine_named(engine)
    events = tables.get("events")
    if isinstance(events, pd.DataFrame):
        tables = {**tables, "events": complete_events(events)}
    if with_case_ids and isinstance(events, pd.DataFrame | SparkEvents):
        tables = {**tables, CASE_IDS_TABLE: case_ids(tables["events"])}
    there = [frame for frame in tables.values() if _on_spark(frame)]
    if there:  # a table kept on Spark is read there
        engine = there[0].session if isinstance(there[0], SparkEvents) else there[0].sparkSession
    return engine, tables


def _on_spark(table: Any) -> bool:
    """Whether ``table`` is kept on Spark: a :class:`SparkEvents` or a Spark DataFrame."""
    return isinstance(table, SparkEvents) or (
        not isinstance(table, pd.DataFrame) and hasattr(table, "sparkSession")
    )


def local_time(naive: pd.Series, calendar: Any) -> pd.Series:
    """A result's naive timestamps (the events' ``ts``: local wall-clock time) as tz-aware
    timestamps in the calendar's zone, in nanoseconds as the log's are.

    >>> local_time(pd.Series(pd.to_datetime(["2024-05-06 08:00"])), as_calendar(None))[0]
    Timestamp('2024-05-06 08:00:00+0700', tz='Asia/Ho_Chi_Minh')
    """
    return calendar.localize(pd.Series(pd.to_datetime(naive)).astype("datetime64[ns]"))


def as_text(values: pd.Series) -> pd.Series:
    """A coded (categorical) column as ``str`` text, null where the code is null: what
    ``values.astype(str)`` gives, taken from the categories instead of value by value.

    >>> as_text(pd.Series(pd.Categorical(["b", None, "a"]))).tolist()
    ['b', nan, 'a']
    """
    categories = pd.array(values.cat.categories.astype(str), dtype=str)
    taken = categories.take(values.cat.codes.to_numpy(), allow_fill=True)
    return pd.Series(taken, index=values.index, name=values.name)


def _in_text_order(frame: Any) -> Any:
    """``frame`` with every categorical column coded by :func:`text_codes` unless it already is
    (text categories in code point order), so that an ENUM sorts as its text."""
    if not isinstance(frame, pd.DataFrame):
        return frame
    recoded = {
        column: text_codes(values)
        for column, values in frame.items()
        if isinstance(values.dtype, pd.CategoricalDtype) and not _in_code_point_order(values)
    }
    return frame.assign(**recoded) if recoded else frame


def _in_code_point_order(values: pd.Series) -> bool:
    categories = values.cat.categories
    if not pd.api.types.is_string_dtype(categories.dtype) or categories.dtype == object:
        return False
    listed = categories.tolist()
    return all(a < b for a, b in pairwise(listed))


_DATABASE: dict[int, Any] = {}  # process id -> the embedded database (a fork gets its own)
_DATABASE_LOCK = threading.Lock()
# Opening a database costs ~15 ms; closing one is the only way to give its memory back to the
# system: a database kept open holds on to what its largest query used (~450 MB after a figure
# over 10 M events). Queries over small tables share the process's database; a query over a
# table of many rows gets a database of its own, closed when it is done. Rows, not bytes: what
# DuckDB keeps grows with the rows a query groups, and figures pass only the columns they read.
_OWN_DATABASE_ROWS = 2_000_000


def _duckdb() -> Any:
    """The process's embedded DuckDB database, opened once: opening one costs ~15 ms, a cursor
    (a connection of its own, so registered frames and threads never meet) nothing."""
    import duckdb

    with _DATABASE_LOCK:
        database = _DATABASE.get(os.getpid())
        if database is None:
            _DATABASE.clear()
            database = _DATABASE[os.getpid()] = duckdb.connect(config=_DUCKDB_CONFIG)
        return database


def _query_duckdb(sql: str, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    import duckdb

    frames = [frame for frame in tables.values() if isinstance(frame, pd.DataFrame)]
    rows = max((len(frame) for frame in frames), default=0)
    large = rows >= _OWN_DATABASE_ROWS
    with duckdb.connect(config=_DUCKDB_CONFIG) if large else _duckdb().cursor() as con:
        for name, frame in tables.items():
            con.register(name, frame)
        return con.execute(sql).df()


def to_spark_sql(sql: str) -> str:
    """The Spark SQL of a figure written in DuckDB's dialect.

    SQLGlot does the dialect; these mappings are ours, each where Spark would give another
    result for the same text:

    - DuckDB's exact ``QUANTILE_CONT(x, p)`` (linear interpolation, numpy's default) becomes
      Spark's exact ``PERCENTILE(x, p)`` — SQLGlot would write ``PERCENTILE_CONT(x, p)``, a form
      Spark rejects. ``MEDIAN`` exists in both.
    - A literal with a decimal point (``60.0``) that divides or is divided is a DOUBLE: DuckDB
      divides decimals in floating point, Spark in decimal arithmetic rounded to as few as six
      decimals (``COUNT(*) / 60.0``).
    - ``ROW_NUMBER``, ``RANK`` and ``DENSE_RANK`` are BIGINT, as in DuckDB (Spark: INT).
    - ``ARG_MIN``/``ARG_MAX`` skip rows whose value is null, as in DuckDB (Spark's ``MIN_BY``
      would return it).
    - ``EPOCH(ts)`` of a timestamp without time zone (the events' ``ts``) keeps its microseconds
      and ignores Spark's session time zone (``UNIX_TIMESTAMP`` drops the fraction).

    >>> to_spark_sql("SELECT QUANTILE_CONT(x, 0.9) / 60.0 AS q FROM t")
    'SELECT PERCENTILE(x, 0.9) / CAST(60.0 AS DOUBLE) AS q FROM t'
    """
    import sqlglot

    statements = sqlglot.parse(sql, read="duckdb")
    return ";\n".join(
        _spark_tree(statement).sql(dialect="spark", unsupported_level="raise")
        for statement in statements
    )


def _spark_tree(tree: Any) -> Any:
    """The SQLGlot tree of a DuckDB statement with the mappings of :func:`to_spark_sql`."""
    from sqlglot import exp

    def double_literal(node: exp.Expression) -> exp.Expression:
        # Only where it divides: elsewhere decimal arithmetic is exact in both engines.
        parent = node.parent
        while isinstance(parent, exp.Paren | exp.Neg):
            parent = parent.parent
        if (
            isinstance(node, exp.Literal)
            and node.is_number
            and "." in node.this
            and not any(mark in node.this for mark in "eE")
            and isinstance(parent, exp.Div)
        ):
            return exp.cast(node.copy(), exp.DataType.Type.DOUBLE)
        return node

    def spark_function(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.PercentileCont) and node.expression is not None:
            return exp.Anonymous(this="PERCENTILE", expressions=[node.this, node.expression])
        if isinstance(node, exp.Window) and isinstance(
            node.this, exp.RowNumber | exp.Rank | exp.DenseRank
        ):
            return exp.cast(node.copy(), exp.DataType.Type.BIGINT)
        if isinstance(node, exp.ArgMin | exp.ArgMax) and node.expression is not None:
            value, key = node.this, node.expression
            known = exp.Case(ifs=[exp.If(this=exp.not_(value.is_(exp.null())), true=key.copy())])
            return node.__class__(this=value.copy(), expression=known)
        if isinstance(node, exp.TimeToUnix):
            since = exp.Sub(
                this=node.this.copy(),
                expression=exp.cast(exp.Literal.string("1970-01-01 00:00:00"), "TIMESTAMP_NTZ"),
            )
            # The interval in seconds, exact to the microsecond, then as DOUBLE like DuckDB's.
            seconds = exp.cast(since, exp.DataType.build("DECIMAL(30, 6)"))
            return exp.cast(seconds, exp.DataType.Type.DOUBLE)
        return node

    return tree.transform(double_literal).transform(spark_function)


def spark_schema(frame: pd.DataFrame) -> str:
    """The Spark schema (DDL) of a frame's columns, the types DuckDB reads them as: what Spark is
    given with the rows, since it cannot infer one from an empty frame (ping-pong's table of
    procedures without a catalog reference is empty whenever the catalog covers them all) nor
    from a column of nulls, and infers a timestamp without time zone as one with.

    Integers keep their width (unsigned ones get the next wider signed type: Spark has none),
    timestamps without time zone are ``TIMESTAMP_NTZ`` (wall-clock readings, as DuckDB's
    ``TIMESTAMP``; with one, ``TIMESTAMP``), coded text (categoricals) is ``STRING``.

    >>> spark_schema(pd.DataFrame({"procedure": pd.Series([], dtype="string"),
    ...                            "prescribed": pd.Series([], dtype="int64")}))
    '`procedure` STRING, `prescribed` BIGINT'
    """
    return _spark_ddl(frame.columns, [_spark_type(values) for _, values in frame.items()])


def _spark_ddl(columns: Iterable[str], types: Iterable[str]) -> str:
    return ", ".join(f"`{column}` {kind}" for column, kind in zip(columns, types, strict=True))


_SIGNED = {1: "TINYINT", 2: "SMALLINT", 4: "INT", 8: "BIGINT"}


def _spark_type(values: pd.Series) -> str:
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "STRING"  # coded text goes as its text
    if pd.api.types.is_bool_dtype(dtype):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(dtype):
        if pd.api.types.is_unsigned_integer_dtype(dtype):
            return _SIGNED.get(dtype.itemsize * 2, "DECIMAL(20, 0)")
        return _SIGNED[dtype.itemsize]
    if pd.api.types.is_float_dtype(dtype):
        return "FLOAT" if dtype.itemsize == 4 else "DOUBLE"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "TIMESTAMP" if getattr(dtype, "tz", None) is not None else "TIMESTAMP_NTZ"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "INTERVAL DAY TO SECOND"
    if pd.api.types.is_object_dtype(dtype):
        kind = pd.api.types.infer_dtype(values, skipna=True)
        return {"boolean": "BOOLEAN", "integer": "BIGINT", "floating": "DOUBLE"}.get(kind, "STRING")
    return "STRING"


def _spark_rows(frame: pd.DataFrame, types: list[str]) -> pd.DataFrame:
    """``frame`` as Spark takes it with the types of :func:`spark_schema`: coded columns and
    Python objects typed ``STRING`` as their text, unsigned integers in the wider signed type."""
    changed = {}
    for (column, values), kind in zip(frame.items(), types, strict=True):
        if isinstance(values.dtype, pd.CategoricalDtype):
            changed[column] = as_text(values)
        elif pd.api.types.is_object_dtype(values.dtype) and kind == "STRING":
            changed[column] = values.map(str, na_action="ignore").astype(str)
        elif pd.api.types.is_unsigned_integer_dtype(values.dtype):
            wider = {"SMALLINT": "int16", "INT": "int32", "BIGINT": "int64"}.get(kind, object)
            changed[column] = values.astype(wider)
    return frame.assign(**changed) if changed else frame


def _spark_result(result: Any) -> pd.DataFrame:
    """The rows of a Spark DataFrame as DuckDB's ``.df()`` gives the same rows: integers and
    booleans with nulls as pandas' nullable types (Spark's ``toPandas`` gives floats and
    objects), decimals as floats, text as ``str``; timestamps with time zone in the session's."""
    import pyarrow as pa

    nullable = {
        pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(),
        pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype(),
    }  # fmt: skip
    table = result.toArrow()
    columns = {}
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_decimal(field.type):
            column = column.cast(pa.float64())
        if column.null_count and field.type in nullable:
            values = column.to_pandas(types_mapper=nullable.get)
        else:
            values = column.to_pandas()
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            zone = result.sparkSession.conf.get("spark.sql.session.timeZone")
            values = values.dt.tz_convert(zone)
        columns[field.name] = values
    return pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows))


def _query_spark(sql: str, spark: Any, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return _spark_result(spark_frame(sql, spark, **tables))


def spark_frame(sql: str, spark: Any, **tables: Any) -> Any:
    """The Spark DataFrame of a query (DuckDB dialect) over ``tables`` — pandas frames,
    uploaded, or Spark DataFrames, read where they are — without collecting it: what a table
    built on a cluster (:func:`procmine.clock_sql.engine_events`) stays as."""
    for name, frame in tables.items():
        data = frame.frame if isinstance(frame, SparkEvents) else frame
        if isinstance(frame, pd.DataFrame):
            types = [_spark_type(values) for _, values in frame.items()]
            data = spark.createDataFrame(
                _spark_rows(frame, types),
                schema=_spark_ddl(frame.columns, types),
            )
        data.createOrReplaceTempView(name)
    return spark.sql(to_spark_sql(sql))


class SparkEvents:
    """An events table built and kept on a Spark engine (:func:`procmine.clock_sql.spark_events`):
    a cached Spark DataFrame with the events table's columns, which every figure takes in place
    of a log or a pandas events table and reads where it is.

    It answers the few questions a figure asks of its table before the SQL — its ``columns``,
    ``attrs`` (the clock it was read with, its returns), ``len``, the distinct values of a text
    column, the first and last reading — each with an aggregate on the engine (the first asked
    of the table's build are kept); ``table[column]`` is a :class:`SparkColumn`, ``table[list]``
    a projection, ``table[table["ts"] <= moment]`` the events up to a moment. The figures' SQL
    reads ``frame``; only its results, and these aggregates, come back to the driver.
    """

    def __init__(self, frame: Any, attrs: dict[str, Any], *, cases: Any = None,
                 facts: dict[str, Any] | None = None) -> None:  # fmt: skip
        self.frame = frame
        self.attrs = dict(attrs)
        self._cases = cases
        self._facts = {} if facts is None else facts

    @property
    def columns(self) -> pd.Index:
        return pd.Index(self.frame.columns)

    @property
    def session(self) -> Any:
        return self.frame.sparkSession

    def __len__(self) -> int:
        if "rows" not in self._facts:
            self._facts["rows"] = self.frame.count()
        return int(self._facts["rows"])

    def __repr__(self) -> str:
        return f"SparkEvents({len(self)} events on {self.session.sparkContext.master})"

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            if key not in self.frame.columns:
                raise KeyError(key)
            return SparkColumn(self, key)
        if isinstance(key, SparkCondition):
            return SparkEvents(self.frame.where(key.sql), self.attrs, cases=self._cases)
        kept = list(key)
        facts = {name: value for name, value in self._facts.items() if name == "rows"
                 or name.split(":", 1)[-1] in kept}  # fmt: skip
        chosen = self.frame.select(*(f"`{column}`" for column in kept))
        return SparkEvents(chosen, self.attrs, cases=self._cases, facts=facts)

    def learn(self, *columns: str) -> None:
        """Count the events and read the distinct values of the text ``columns`` and the
        extremes of ``ts`` and ``wm`` in one pass over the table, for the figures to ask."""
        from pyspark.sql import functions as F

        texts = [column for column in columns if column in self.frame.columns]
        row = self.frame.agg(
            F.count(F.lit(1)).alias("rows"),
            *(F.collect_set(f"`{column}`").alias(f"distinct:{column}") for column in texts),
            *(getattr(F, kind)(column).alias(f"{kind}:{column}")
              for kind in ("min", "max") for column in ("ts", "wm")),
        ).first()  # fmt: skip
        learnt = row.asDict()
        learnt.update({f"distinct:{c}": sorted(learnt[f"distinct:{c}"]) for c in texts})
        self._facts.update(learnt)

    def distinct(self, column: str) -> list[Any]:
        """The distinct non-null values of ``column``, sorted (:func:`distinct`)."""
        key = f"distinct:{column}"
        if key not in self._facts:
            rows = self.frame.select(f"`{column}`").where(f"`{column}` IS NOT NULL").distinct()
            self._facts[key] = sorted(row[0] for row in rows.collect())
        return list(self._facts[key])

    def extreme(self, kind: str, column: str) -> Any:
        """The ``"min"`` or ``"max"`` of ``column`` (None for an empty table)."""
        key = f"{kind}:{column}"
        if key not in self._facts:
            from pyspark.sql import functions as F

            self._facts[key] = self.frame.agg(getattr(F, kind)(f"`{column}`")).first()[0]
        return self._facts[key]

    def case_ids(self) -> Any:
        """The table's ``case_ids`` (:func:`case_ids`) on the engine: one row per case."""
        if self._cases is None:
            self._cases = self.frame.select("case_no", "case_id").dropDuplicates(["case_no"])
        return self._cases

    def with_case_ids(self, cases: Any) -> SparkEvents:
        """The table with ``cases`` as its :meth:`case_ids` (the same, kept on the engine)."""
        return SparkEvents(self.frame, self.attrs, cases=cases, facts=self._facts)

    def first_per_case(self, column: str) -> pd.Series:
        """Each case's first non-null value of ``column`` (in ``idx`` order), by case id: one
        row per case that has one, gathered (what ``groupby(case)[column].first()`` gives)."""
        from pyspark.sql import functions as F

        known = self.frame.where(f"`{column}` IS NOT NULL").groupBy("case_id")
        values = spark_rows(known.agg(F.min_by(f"`{column}`", "idx").alias(column)))
        return pd.Series(values[column].to_numpy(), index=pd.Index(values["case_id"]), name=column)

    def assign(self, **texts: str) -> SparkEvents:
        """The table with each named column set to one text for every event (a catalog's one
        procedure: :func:`procmine.catalog.with_catalog_procedure`)."""
        from pyspark.sql import functions as F

        frame = self.frame
        for column, text in texts.items():
            frame = frame.withColumn(column, F.lit(str(text)))
        facts = {"rows": self._facts["rows"]} if "rows" in self._facts else {}
        facts.update({f"distinct:{column}": [str(text)] for column, text in texts.items()})
        return SparkEvents(frame, self.attrs, cases=self._cases, facts=facts)

    def derived(self, sql: str) -> SparkEvents:
        """The table a query over it (as ``events``) gives, row for row with more columns,
        kept where it is: Spark computes it when a figure reads it."""
        frame = spark_frame(sql, self.session, events=self)
        return SparkEvents(frame, self.attrs, cases=self._cases, facts=dict(self._facts))

    def where_equal(self, column: str, value: Any) -> SparkEvents:
        """The events whose ``column`` is ``value`` (:func:`rows_with`)."""
        from pyspark.sql import functions as F

        chosen = self.frame.where(F.col(f"`{column}`") == F.lit(value))
        return SparkEvents(chosen, self.attrs, cases=self._cases,
                           facts={f"distinct:{column}": [value]})  # fmt: skip

    def nulls(self, column: str) -> int:
        """How many events have no ``column`` (:func:`null_count`), counted on the engine."""
        key = f"nulls:{column}"
        if key not in self._facts:
            self._facts[key] = self.frame.where(f"`{column}` IS NULL").count()
        return int(self._facts[key])

    def with_returned(self, activities: Iterable[str]) -> SparkEvents:
        """The table whose ``returned`` marks the events of these ``activities``."""
        from pyspark.sql import functions as F

        chosen = list(activities)
        frame = self.frame.withColumn("returned", F.col("activity").isin(chosen)
                                      & F.col("activity").isNotNull())  # fmt: skip
        return SparkEvents(frame, self.attrs, cases=self._cases, facts=dict(self._facts))

    def unpersist(self) -> None:
        """Free the executors' memory the table (and its case ids) holds."""
        self.frame.unpersist()
        if self._cases is not None:
            self._cases.unpersist()


@dataclass(frozen=True)
class SparkColumn:
    """A column of a :class:`SparkEvents` table: what a figure reads of one before its SQL —
    ``len``, ``min()``, ``max()``, ``unique()`` (its distinct values: :func:`distinct`), and
    ``<=`` a moment (``ts`` only), which selects events."""

    table: SparkEvents
    name: str

    @property
    def dtype(self) -> np.dtype:  # not coded: figures read its values through distinct()
        return np.dtype(object)

    def __len__(self) -> int:
        return len(self.table)

    def min(self) -> Any:
        return self.table.extreme("min", self.name)

    def max(self) -> Any:
        return self.table.extreme("max", self.name)

    def unique(self) -> np.ndarray:
        return np.array(self.table.distinct(self.name), dtype=object)

    def __le__(self, moment: Any) -> SparkCondition:
        if self.name != "ts":
            raise TypeError("a Spark events table is selected by its wall-clock time ts only")
        stamp = pd.Timestamp(moment)
        return SparkCondition(f"ts <= TIMESTAMP_NTZ '{stamp.isoformat(sep=' ')}'")


@dataclass(frozen=True)
class SparkCondition:
    """A condition on a :class:`SparkEvents` table's rows, as Spark SQL."""

    sql: str


def spark_rows(frame: Any) -> pd.DataFrame:
    """The rows of a Spark DataFrame (a figure's result, an aggregate) as DuckDB's ``.df()``
    gives the same rows."""
    return _spark_result(frame)
