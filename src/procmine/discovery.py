"""How each procedure really runs: process maps, variants and discovered models.

The map is the directly-follows graph of the log, one SQL definition over the ``events`` table
(:mod:`procmine.engines`): each event is followed by the next event of its case in the log's
order (``idx``), and an artificial start ``▶`` and end ``■`` open and close every case. Waits are
working time (the working clock), never calendar time. Models come from pm4py's inductive miner,
fed with the aggregated directly-follows graph when the log is large, so ten million events mine in
the time it takes to count the graph. The pictures of maps and models are drawn by
:mod:`procmine.drawing` (``pm.draw_map``, ``pm.draw_model``); how they read: ``docs/maps.md``.

>>> import procmine as pm
>>> log = pd.DataFrame({"case:concept:name": ["a", "a", "b", "b", "b"],
...     "concept:name": ["Nhận", "Ký", "Nhận", "Bổ sung", "Ký"],
...     "time:timestamp": pd.date_range("2024-05-06 08:00", periods=5, freq="h")})
>>> pm.discover_map(log).edges[["source", "target", "frequency", "cases"]]
    source   target  frequency  cases
0       Ký        ■          2      2
1        ▶     Nhận          2      2
2  Bổ sung       Ký          1      1
3     Nhận  Bổ sung          1      1
4     Nhận       Ký          1      1
>>> print(pm.discover_model(log).tree)
->( 'Nhận', X( tau, 'Bổ sung' ), 'Ký' )
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from procmine import engines
from procmine.engines import with_ctes

__all__ = [
    "DFG_THRESHOLD",
    "END",
    "START",
    "ProcessMap",
    "ProcessModel",
    "discover_map",
    "discover_model",
    "procedure_events",
    "save_model",
    "variants",
]

START = "▶"
END = "■"
# Above this many events discover_model mines the aggregated directly-follows graph (IMd) instead
# of the variants (IM): the variants of a large log are many and the recursion over them is slow.
DFG_THRESHOLD = 200_000
# Separator of activities inside a variant while it travels through SQL: a control character no
# activity name contains (loading trims and normalises text).
SEQUENCE_SEPARATOR = "\x1f"
ARROW = " → "


# One grouping of the events gives the arcs and the nodes. Each event is the target of the arc
# from the previous event of its case (from ▶ when it has none: ``previous_activity`` is null)
# and the wait of that arc is the event's sojourn. Both are read from the events table, defined
# once in engines (``with_activity_links``, ``complete_events``): no window sorts the events.
# Grouping the same rows by activity alone gives the nodes, and the count of last events per
# activity gives the arcs into ■. A group's cases are its events that are their case's first
# occurrence of the arc (or of the activity, for a node): no distinct count over (case, arc)
# keys. Arcs from ▶ and into ■ have as many cases as transitions (one start and one end per
# case). The median and the 90th percentile come from one exact quantile aggregate: each
# group's waits are gathered once, not twice.
def _arc_counts(*figures: str) -> str:
    """Per arc (previous activity → activity) and per activity (``is_node``): transitions and
    case ends, and the further aggregate columns ``figures``."""
    columns = ",\n       ".join(
        ("COUNT(*) AS frequency", "SUM(CASE WHEN is_last THEN 1 ELSE 0 END) AS ends", *figures)
    )
    return f"""
SELECT GROUPING(previous_activity) = 1 AS is_node,
       previous_activity AS previous,
       activity,
       {columns}
FROM events
GROUP BY GROUPING SETS ((previous_activity, activity), (activity))"""


MAP_SQL = with_ctes(
    (
        "arcs",
        _arc_counts(
            "SUM(CASE WHEN first_arc_in_case THEN 1 ELSE 0 END) AS arc_cases",
            "SUM(CASE WHEN first_activity_in_case THEN 1 ELSE 0 END) AS activity_cases",
            "QUANTILE_CONT(sojourn, [0.5, 0.9]) AS waits",
        ),
    ),
    select="""
SELECT is_node, previous, activity, frequency,
       CAST(CASE WHEN is_node THEN activity_cases ELSE arc_cases END AS BIGINT) AS cases,
       waits[1] / 60.0 AS median_working_hours,
       waits[2] / 60.0 AS p90_working_hours,
       ends
FROM arcs""",
)
"""The process map: every arc and activity with its counts, cases and waits."""

DFG_SQL = _arc_counts()
"""The directly-follows graph alone (what the model needs): the map's counts."""


def case_variants(*figures: str) -> engines.Cte:
    """The CTE ``per_case``: each case's ``case_no``, its variant ``sequence`` (its activities
    in log order, joined by :data:`SEQUENCE_SEPARATOR`) and the further aggregates ``figures``
    over its events — the one definition of a case's variant.

    >>> name, body = case_variants("MIN(wm) AS first")
    >>> name, [line.strip() for line in body.splitlines()[-3:]]
    ('per_case', ['MIN(wm) AS first', 'FROM events', 'GROUP BY case_no'])
    """
    columns = "".join(f",\n         {figure}" for figure in figures)
    return (
        "per_case",
        f"""
  SELECT case_no,
         STRING_AGG(activity, '{SEQUENCE_SEPARATOR}' ORDER BY idx) AS sequence{columns}
  FROM events
  GROUP BY case_no""",
    )


# A case's duration is the working time from its first to its last event.
CASE_VARIANTS = case_variants("MAX(wm) - MIN(wm) AS duration_minutes")

VARIANTS_SQL = with_ctes(
    CASE_VARIANTS,
    select="""
SELECT sequence,
       COUNT(*) AS cases,
       MEDIAN(duration_minutes) AS median_duration_minutes
FROM per_case
GROUP BY sequence
ORDER BY cases DESC, sequence""",
)
"""Per variant (activities joined by a control character): its cases and median duration."""

CASE_SEQUENCES_SQL = with_ctes(
    CASE_VARIANTS,
    select="""
SELECT case_id, sequence
FROM per_case JOIN case_ids USING (case_no)
ORDER BY case_no""",
)
"""Per case, its variant (read with ``with_case_ids``), cases in log order."""


def figure_sqls() -> dict[str, str]:
    """Every SQL text of this module by name (the Spark path transpiles exactly these).

    >>> sorted(figure_sqls())
    ['case_sequences', 'dfg', 'map', 'variants']
    """
    return {
        "map": MAP_SQL,
        "dfg": DFG_SQL,
        "variants": VARIANTS_SQL,
        "case_sequences": CASE_SEQUENCES_SQL,
    }


@dataclass
class ProcessMap:
    """A directly-follows map: ``nodes`` (one row per activity) and ``edges`` (one row per arc).

    ``nodes``: activity, cases, events, median_sojourn_working_hours, p90_sojourn_working_hours
    (working hours since the previous event of the case; the first event of a case has none).
    ``edges``: source, target, frequency (transitions), cases (cases with the arc at least once),
    median_wait_working_hours, p90_wait_working_hours (working hours; null on ``▶``/``■``
    arcs).
    """

    nodes: pd.DataFrame
    edges: pd.DataFrame
    procedure: str | None = None
    cases: int = 0
    events: int = 0


@dataclass
class ProcessModel:
    """A discovered model in pm4py's forms: process tree, Petri net (net, im, fm) and BPMN.

    ``source`` says what was mined: ``"dfg"`` (IMd on the directly-follows graph) or ``"variants"``
    (IM, or IMf when ``noise`` > 0, on the log's variants).
    """

    tree: Any
    net: Any
    im: Any
    fm: Any
    bpmn: Any
    procedure: str | None = None
    source: str = "variants"
    noise: float = 0.0
    events: int = 0
    cases: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def quiet_pm4py() -> Any:
    """Import pm4py without its licence banner (it belongs in the README and ``--version``).

    >>> quiet_pm4py().__name__
    'pm4py'
    """
    sys._pm4py_welcome_shown = True  # type: ignore[attr-defined]
    import pm4py

    return pm4py


# What the map and the directly-follows graph read of the events: a log given to them is turned
# into a table of these alone (no department, official or sequence links to build), with the
# map's links computed beside the sojourn; an events table passed in gets the links in _compact.
TABLE_COLUMNS = ("activity", "procedure", *engines.ACTIVITY_LINKS)


def procedure_events(
    log: pd.DataFrame,
    procedure: str | None = None,
    calendar: Any = None,
    columns: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """The ``events`` frame of :func:`procmine.engines.event_table` (only ``columns`` of it, when
    given, for a log), restricted to one procedure.

    >>> log = pd.DataFrame({"case:concept:name": list("aabbb"), "case:procedure": list("PPQQQ"),
    ...     "concept:name": ["Nhận", "Ký", "Nhận", "Thẩm định", "Ký"],
    ...     "time:timestamp": pd.date_range("2024-05-06 08:00", periods=5, freq="h")})
    >>> procedure_events(log, "Q")[["case_id", "procedure", "activity", "sojourn"]]
      case_id procedure   activity  sojourn
    0       b         Q       Nhận      NaN
    1       b         Q  Thẩm định     60.0
    2       b         Q         Ký     30.0
    """
    events = engines.event_table(log, calendar, columns=columns)
    if procedure is None:
        return events
    known = engines.distinct(events["procedure"])
    if procedure not in known:
        raise ValueError(
            f"No event of the log belongs to the procedure {procedure!r}. "
            f"Procedures in the log: {known}."
        )
    return engines.rows_with(events, "procedure", procedure)


def _compact(events: pd.DataFrame, engine: Any = None) -> pd.DataFrame:
    """The events as the map's SQL reads them: with the links between consecutive events of a
    case (``previous_activity``, ``is_last`` and first-occurrence flags:
    :func:`procmine.engines.with_activity_links`, which a table the map built from a log has
    already and any other table gets here) and, for DuckDB, the
    activities as a categorical (an ENUM): grouping hashes small integers instead of strings, as
    the integer ``case_no`` does for cases. The codes are one-to-one with the names, so every
    figure is the same; Spark gets the text (``engines.query`` gives it the frame as it is). A
    table kept on Spark gets the links there (``engines.ACTIVITY_LINKS_SQL``), so the map's
    counts and waits are computed where the events are and only the arcs come back."""
    missing = engines.null_count(events, "activity")
    if missing:
        raise ValueError(
            f"{missing} event(s) have no activity; a map needs one per event. Load the log with "
            "pm.read_log, which quarantines them, or drop them first."
        )
    if engine is None:
        # Coded before linking, so that previous_activity gets the same codes.
        events = engines.coded(events, "activity")
    return engines.with_activity_links(events)


def _arcs(grouped: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Edges and nodes from the rows of :data:`MAP_SQL` (or :data:`DFG_SQL`, which has only the
    counts): arc rows get their ``▶`` source, node rows give the arcs into ``■``. Most frequent
    first, ties by name."""
    full = "cases" in grouped.columns
    is_node = grouped["is_node"].astype(bool).to_numpy()
    inner, by_activity = grouped[~is_node], grouped[is_node]
    ends = by_activity[by_activity["ends"] > 0]
    into = pd.DataFrame(
        {
            "source": inner["previous"].astype("string").fillna(START).astype(str).to_numpy(),
            "target": inner["activity"].astype(str).to_numpy(),
            "frequency": inner["frequency"].to_numpy(),
        }
    )
    out = pd.DataFrame(
        {
            "source": ends["activity"].astype(str).to_numpy(),
            "target": END,
            "frequency": ends["ends"].to_numpy(),
        }
    )
    if full:
        into["cases"] = inner["cases"].to_numpy()
        into["median_wait_working_hours"] = inner["median_working_hours"].to_numpy()
        into["p90_wait_working_hours"] = inner["p90_working_hours"].to_numpy()
        out["cases"] = out["frequency"]  # one end per case: as many cases as transitions
        out["median_wait_working_hours"] = np.nan
        out["p90_wait_working_hours"] = np.nan
    edges = pd.concat([into, out], ignore_index=True)
    edges = edges.astype({"frequency": "int64"} | ({"cases": "int64"} if full else {}))
    edges = edges.sort_values(
        ["frequency", "source", "target"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
    if not full:
        return edges, pd.DataFrame()
    nodes = pd.DataFrame(
        {
            "activity": by_activity["activity"].astype(str).to_numpy(),
            "cases": by_activity["cases"].astype("int64").to_numpy(),
            "events": by_activity["frequency"].astype("int64").to_numpy(),
            "median_sojourn_working_hours": by_activity["median_working_hours"]
            .astype("float64")
            .to_numpy(),
            "p90_sojourn_working_hours": by_activity["p90_working_hours"]
            .astype("float64")
            .to_numpy(),
        }
    )
    nodes = nodes.sort_values(
        ["events", "activity"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)
    return edges, nodes


def discover_map(
    log: pd.DataFrame,
    procedure: str | None = None,
    *,
    calendar: Any = None,
    engine: Any = None,
) -> ProcessMap:
    """The directly-follows map of a procedure (or the whole log) with frequencies and waits.

    Edge counts equal ``pm4py.discover_dfg`` (arcs from ``▶``/to ``■`` are its start and end
    activities); waits and sojourns are in working hours of ``calendar`` (Vietnam by default).
    One SQL query over the events (:data:`MAP_SQL`) gives nodes and edges together; over an
    events table kept on Spark (:func:`procmine.clock_sql.spark_events`) it runs there, and only
    the arcs and activities come back.

    Two of three cases go Nhận → Thẩm định → Ký, one Nhận → Ký (an event an hour from 8:00; the
    lunch break 11:30–13:00 is no working time):

    >>> import procmine as pm
    >>> log = pd.DataFrame({"case:concept:name": list("aaabbccc"),
    ...     "concept:name": ["Nhận", "Thẩm định", "Ký", "Nhận", "Ký", "Nhận", "Thẩm định", "Ký"],
    ...     "time:timestamp": pd.date_range("2024-05-06 08:00", periods=8, freq="h")})
    >>> pmap = pm.discover_map(log)
    >>> print(pmap.edges.to_string())
          source     target  frequency  cases  median_wait_working_hours  p90_wait_working_hours
    0         Ký          ■          3      3                        NaN                     NaN
    1          ▶       Nhận          3      3                        NaN                     NaN
    2       Nhận  Thẩm định          2      2                        1.0                     1.0
    3  Thẩm định         Ký          2      2                        1.0                     1.0
    4       Nhận         Ký          1      1                        0.5                     0.5
    >>> pmap.nodes[["activity", "cases", "events", "median_sojourn_working_hours"]]
        activity  cases  events  median_sojourn_working_hours
    0         Ký      3       3                           1.0
    1       Nhận      3       3                           NaN
    2  Thẩm định      2       2                           1.0
    """
    events = procedure_events(log, procedure, calendar, TABLE_COLUMNS)
    grouped = engines.query(MAP_SQL, engine, events=_compact(events, engine))
    edges, nodes = _arcs(grouped)
    return ProcessMap(
        nodes=nodes,
        edges=edges,
        procedure=procedure,
        # Every case has exactly one arc from ▶.
        cases=int(edges.loc[edges["source"] == START, "frequency"].sum()),
        events=len(events),
    )


def variants(
    log: pd.DataFrame,
    procedure: str | None = None,
    *,
    calendar: Any = None,
    engine: Any = None,
) -> pd.DataFrame:
    """The variants of a procedure (or the whole log), most frequent first.

    Columns: ``variant`` (the activities in order joined by ``" → "``), ``length`` (number of
    events), ``cases``, ``share`` (of the cases; sums to 1), ``median_duration_working_hours``
    and ``median_duration_working_days`` (working time from a case's first to its last event; a
    working day is ``calendar.minutes_per_day``). Ties in ``cases`` are ordered by variant.

    The log of :func:`discover_map`:

    >>> import procmine as pm
    >>> log = pd.DataFrame({"case:concept:name": list("aaabbccc"),
    ...     "concept:name": ["Nhận", "Thẩm định", "Ký", "Nhận", "Ký", "Nhận", "Thẩm định", "Ký"],
    ...     "time:timestamp": pd.date_range("2024-05-06 08:00", periods=8, freq="h")})
    >>> columns = ["variant", "length", "cases", "share", "median_duration_working_hours"]
    >>> print(pm.variants(log)[columns].to_string())
                     variant  length  cases     share  median_duration_working_hours
    0  Nhận → Thẩm định → Ký       3      2  0.666667                            2.0
    1              Nhận → Ký       2      1  0.333333                            0.5
    """
    events = procedure_events(log, procedure, calendar)
    calendar = engines.same_clock(events, calendar)
    found = engines.query(VARIANTS_SQL, engine, events=events)
    cases = found["cases"].astype("int64")
    minutes = found["median_duration_minutes"].astype("float64")
    return pd.DataFrame(
        {
            "variant": found["sequence"].str.replace(SEQUENCE_SEPARATOR, ARROW, regex=False),
            "length": found["sequence"].str.count(SEQUENCE_SEPARATOR) + 1,
            "cases": cases,
            "share": cases / cases.sum(),
            "median_duration_working_hours": minutes / 60.0,
            "median_duration_working_days": minutes / calendar.minutes_per_day,
        }
    )


def variant_counts(events: pd.DataFrame, engine: Any = None) -> pd.DataFrame:
    """Variants as activity tuples with their case counts (for pm4py), most frequent first.

    >>> import procmine as pm
    >>> log = pd.DataFrame({"case:concept:name": list("aabbbcc"),
    ...     "concept:name": ["Nhận", "Ký", "Nhận", "Bổ sung", "Ký", "Nhận", "Ký"],
    ...     "time:timestamp": pd.date_range("2024-05-06 08:00", periods=7, freq="h")})
    >>> variant_counts(pm.event_table(log))[["activities", "cases"]]
                activities  cases
    0           (Nhận, Ký)      2
    1  (Nhận, Bổ sung, Ký)      1
    """
    found = engines.query(VARIANTS_SQL, engine, events=events)
    return pd.DataFrame(
        {
            "sequence": found["sequence"],
            "activities": found["sequence"].str.split(SEQUENCE_SEPARATOR, regex=False).map(tuple),
            "cases": found["cases"].astype("int64"),
        }
    )


def _dfg_object(dfg_edges: pd.DataFrame, noise: float = 0.0) -> Any:
    """A pm4py ``DFG`` from the map's arcs; with ``noise`` > 0 IMf's arc filter is applied once:
    an arc a → b stays when its count exceeds ``noise`` × the most frequent arc out of a, a start
    activity when its count reaches ``noise`` × the most frequent start (end activities all stay,
    as in IMf). The filter never takes an activity out of the graph: an activity it cuts off from
    ``▶`` or from ``■`` gets back its widest way in or out (:func:`_rejoined`)."""
    pm4py = quiet_pm4py()  # noqa: F841 (banner off before pm4py's submodules load)
    from pm4py.objects.dfg.obj import DFG

    edges = dfg_edges[["source", "target", "frequency"]]
    if noise > 0:
        edges = _rejoined(edges, _noise_filtered(edges, noise))
    starts = edges[edges["source"] == START]
    ends = edges[edges["target"] == END]
    inner = edges[(edges["source"] != START) & (edges["target"] != END)]
    return DFG(
        graph=dict(
            zip(
                zip(inner["source"], inner["target"], strict=True),
                inner["frequency"].tolist(),
                strict=True,
            )
        ),
        start_activities=dict(zip(starts["target"], starts["frequency"].tolist(), strict=True)),
        end_activities=dict(zip(ends["source"], ends["frequency"].tolist(), strict=True)),
    )


def _noise_filtered(edges: pd.DataFrame, noise: float) -> pd.DataFrame:
    """The arcs IMf's filter keeps (:func:`_dfg_object`), ``▶`` and ``■`` arcs included."""
    from_start, into_end = edges["source"] == START, edges["target"] == END
    out_max = edges[~from_start].groupby("source")["frequency"].max()
    inner = ~from_start & ~into_end
    keep = into_end.copy()
    keep |= inner & (edges["frequency"] > noise * edges["source"].map(out_max))
    keep |= from_start & (edges["frequency"] >= noise * edges.loc[from_start, "frequency"].max())
    return edges[keep]


def _rejoined(edges: pd.DataFrame, kept: pd.DataFrame) -> pd.DataFrame:
    """``kept`` and the arcs of ``edges`` that put every activity back on a path ▶ → … → ■.

    A graph counted from a log has every activity on such a path (each case is one); the noise
    filter can break that (all arcs into an activity rarer than their sources' busiest arc), and
    pm4py's IMd then splits off a part of the graph with no start activity and fails
    (``IndexError`` in ``single_activity.py``). The arcs added back are the widest (a maximum
    bottleneck tree grown from ``▶``, then towards ``■``): most frequent first, ties by name."""
    ordered = edges.sort_values(
        ["frequency", "source", "target"], ascending=[False, True, True], kind="stable"
    )
    arcs = list(zip(ordered["source"], ordered["target"], strict=True))
    chosen = set(zip(kept["source"], kept["target"], strict=True))
    for forward in (True, False):
        chosen |= _widest_joins(arcs, chosen, forward)
    pairs = zip(edges["source"], edges["target"], strict=True)
    return edges[[pair in chosen for pair in pairs]]


def _widest_joins(
    arcs: list[tuple[str, str]], chosen: set[tuple[str, str]], forward: bool
) -> set[tuple[str, str]]:
    """Arcs (of ``arcs``, widest first) to add to ``chosen`` so that every node is reached from
    ``▶`` (``forward``) or reaches ``■``: Prim's growth over the widest arc leaving the reached
    part, which joins each node by its widest path."""
    import heapq

    kept_next: dict[str, list[str]] = {}
    all_next: dict[str, list[tuple[int, str]]] = {}
    for rank, (source, target) in enumerate(arcs):
        here, there = (source, target) if forward else (target, source)
        all_next.setdefault(here, []).append((rank, there))
        if (source, target) in chosen:
            kept_next.setdefault(here, []).append(there)
    reached: set[str] = set()
    frontier: list[tuple[int, str]] = []
    added: set[tuple[str, str]] = set()

    def reach(node: str) -> None:
        stack = [node]
        while stack:
            current = stack.pop()
            if current not in reached:
                reached.add(current)
                stack.extend(kept_next.get(current, ()))
                for item in all_next.get(current, ()):
                    heapq.heappush(frontier, item)

    reach(START if forward else END)
    while frontier:
        rank, node = heapq.heappop(frontier)
        if node not in reached:
            added.add(arcs[rank])
            reach(node)
    return added


def discover_model(
    log: pd.DataFrame | None,
    procedure: str | None = None,
    *,
    noise: float = 0.0,
    from_dfg: bool | ProcessMap | None = None,
    calendar: Any = None,
    engine: Any = None,
) -> ProcessModel:
    """Mine a procedure's model with pm4py's inductive miner: process tree, Petri net and BPMN.

    ``from_dfg``: True mines the directly-follows graph counted in SQL (IMd; seconds for ten
    million events); False mines the log's variants, also counted in SQL (IM, or IMf with
    ``noise`` — the same model ``pm4py.discover_process_tree_inductive`` finds on the log); None
    (default) chooses the graph above :data:`DFG_THRESHOLD` events; a :class:`ProcessMap` of the
    same log and procedure is mined as it is (no second pass over the events; ``log`` may then be
    None). ``noise`` in [0, 1) drops infrequent arcs (IMf's rule; on a graph it is applied once,
    before mining, and leaves every activity a way in and out: :func:`_dfg_object`). Over an
    events table kept on Spark the graph and the variants are counted there; pm4py mines them here.

    The log of :func:`discover_map`: Thẩm định is optional between Nhận and Ký.

    >>> import procmine as pm
    >>> log = pd.DataFrame({"case:concept:name": list("aaabbccc"),
    ...     "concept:name": ["Nhận", "Thẩm định", "Ký", "Nhận", "Ký", "Nhận", "Thẩm định", "Ký"],
    ...     "time:timestamp": pd.date_range("2024-05-06 08:00", periods=8, freq="h")})
    >>> model = pm.discover_model(log)
    >>> print(model.tree)
    ->( 'Nhận', X( tau, 'Thẩm định' ), 'Ký' )
    >>> model.source, model.cases
    ('variants', 3)
    """
    if not 0.0 <= noise < 1.0:
        raise ValueError(f"noise must be in [0, 1); got {noise!r}.")
    if isinstance(from_dfg, ProcessMap):
        return _model(
            _dfg_tree(from_dfg.edges, noise),
            procedure=from_dfg.procedure if procedure is None else procedure,
            source="dfg",
            noise=noise,
            events=from_dfg.events,
            cases=from_dfg.cases,
        )
    events = procedure_events(log, procedure, calendar, TABLE_COLUMNS)
    count = len(events)
    if from_dfg is None:
        from_dfg = count > DFG_THRESHOLD
    if from_dfg:
        grouped = engines.query(DFG_SQL, engine, events=_compact(events, engine))
        edges = _arcs(grouped)[0]
        tree = _dfg_tree(edges, noise)
        cases = int(edges.loc[edges["source"] == START, "frequency"].sum())  # one start a case
    else:
        counts = variant_counts(events, engine)
        tree = _variants_tree(counts, noise)
        cases = int(counts["cases"].sum())
    return _model(
        tree,
        procedure=procedure,
        source="dfg" if from_dfg else "variants",
        noise=noise,
        events=count,
        cases=cases,
    )


def _dfg_tree(dfg_edges: pd.DataFrame, noise: float) -> Any:
    """The process tree IMd mines from the map's arcs (IMf's arc filter applied once): pm4py's
    own path from a typed DFG (inductive.algorithm.apply), with the miner of :func:`_imd_miner`."""
    quiet_pm4py()  # banner off before pm4py's submodules load
    from pm4py.algo.discovery.inductive.dtypes.im_dfg import InductiveDFG
    from pm4py.algo.discovery.inductive.dtypes.im_ds import IMDataStructureDFG
    from pm4py.objects.process_tree.utils import generic as tree_utils

    parameters = {"noise_threshold": noise, "multiprocessing": False}
    graph = InductiveDFG(dfg=_dfg_object(dfg_edges, noise), skip=False)
    tree = _imd_miner()(parameters).apply(IMDataStructureDFG(graph), parameters)
    tree = tree_utils.fold(tree)
    tree_utils.tree_sort(tree)
    return tree


@functools.cache
def _imd_miner() -> type:
    """pm4py's IMd with one base case more: a part of the graph that is one activity with no arc,
    an end activity but no start activity (pm4py's sequence cut gives a part the arcs from the
    part before it as start activities, so a noise-filtered graph can leave one without), is that
    activity, where pm4py's single-activity case reads the first start activity and raises
    ``IndexError``. Every other part is mined exactly as pm4py mines it."""
    quiet_pm4py()
    from pm4py.algo.discovery.inductive.variants.imd import IMD
    from pm4py.objects.process_tree.obj import ProcessTree

    class LenientIMD(IMD):
        def apply_base_cases(self, obj: Any, parameters: Any = None) -> Any:
            dfg = obj.dfg
            if not dfg.graph and not dfg.start_activities and len(dfg.end_activities) == 1:
                return ProcessTree(label=next(iter(dfg.end_activities)))
            return super().apply_base_cases(obj, parameters)

    return LenientIMD


def _variants_tree(counts: pd.DataFrame, noise: float) -> Any:
    """The process tree IM (IMf with ``noise``) mines from variants and their case counts
    (:func:`variant_counts`): pm4py's own path from a log (inductive.algorithm.apply), fed with
    the variants counted in SQL so the order of events is the log's (idx), not pm4py's re-sort."""
    quiet_pm4py()  # banner off before pm4py's submodules load
    from collections import Counter

    from pm4py.algo.discovery.inductive.dtypes.im_ds import IMDataStructureUVCL
    from pm4py.algo.discovery.inductive.variants.im import IMUVCL
    from pm4py.algo.discovery.inductive.variants.imf import IMFUVCL
    from pm4py.objects.process_tree.utils import generic as tree_utils

    uvcl = Counter(dict(zip(counts["activities"], counts["cases"].tolist(), strict=True)))
    parameters = {"noise_threshold": noise, "multiprocessing": False}
    miner = IMFUVCL(parameters) if noise > 0 else IMUVCL(parameters)
    tree = miner.apply(IMDataStructureUVCL(uvcl), parameters)
    tree = tree_utils.fold(tree)
    tree_utils.tree_sort(tree)
    return tree


def _model(tree: Any, **about: Any) -> ProcessModel:
    """A :class:`ProcessModel` of a process tree: its Petri net and BPMN beside it, and ``about``
    (procedure, source, noise, events, cases)."""
    pm4py = quiet_pm4py()
    net, im, fm = pm4py.convert_to_petri_net(tree)
    return ProcessModel(tree=tree, net=net, im=im, fm=fm, bpmn=pm4py.convert_to_bpmn(tree), **about)


def _slug(text: str | None) -> str:
    """A file name from a procedure name (Vietnamese letters kept, NFC)."""
    if not text:
        return "model"
    name = re.sub(r"[^\w\-]+", "_", unicodedata.normalize("NFC", text)).strip("_")
    return name or "model"


def save_model(model: ProcessModel, directory: str | Path, name: str | None = None) -> dict:
    """Write the model as ``<name>.bpmn`` and ``<name>.pnml`` (name: the procedure's by default).

    >>> import procmine as pm, tempfile
    >>> log = pd.DataFrame({"case:concept:name": list("aabb"), "case:procedure": "Cấp phép",
    ...     "concept:name": ["Nhận", "Ký"] * 2,
    ...     "time:timestamp": pd.date_range("2024-05-06 08:00", periods=4, freq="h")})
    >>> model = pm.discover_model(log, "Cấp phép")
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     {kind: path.name for kind, path in pm.save_model(model, folder).items()}
    {'bpmn': 'Cấp_phép.bpmn', 'pnml': 'Cấp_phép.pnml'}
    """
    pm4py = quiet_pm4py()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stem = _slug(name or model.procedure)
    paths = {"bpmn": directory / f"{stem}.bpmn", "pnml": directory / f"{stem}.pnml"}
    pm4py.write_bpmn(model.bpmn, str(paths["bpmn"]))
    pm4py.write_pnml(model.net, model.im, model.fm, str(paths["pnml"]))
    return paths
