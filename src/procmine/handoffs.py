"""Department handoffs, bounces and ping-pong (đùn đẩy trách nhiệm), and the handoff network.

Every figure follows the Definitions of DESIGN.md and is one SQL text (DuckDB dialect, transpiled
by SQLGlot for Spark) over the ``events`` table of :func:`procmine.engines.event_table`:

- **department sequence** of a case: its departments in time order, consecutive repeats collapsed
  into one *run*; events without a department (or side copies) are left out, so they neither start
  nor break a run (:data:`DEPARTMENT_RUNS_SQL`);
- **handoff** at position j: run j → run j + 1 (:func:`handoff_table`);
- **bounce** at position j: run j + 2 is back in the department of run j (A → B → A); it belongs to
  the ordered pair (A, B) and the unordered pair {A, B};
- **excess bounce**: on each ordered pair, a case's bounces beyond the m bounces of its procedure's
  reference department sequence, the first m in time order being the prescribed ones
  (:func:`bounce_table`). The reference is the catalog's approved sequence, or, for a procedure the
  catalog lacks (or with no catalog), the procedure's most frequent sequence over its cases, ties
  going to the lexicographically smallest (:func:`reference_sequences`);
- **time lost** to a bounce at j: working time from the last event of run j to the first event of
  run j + 2; ping-pong time lost sums it over excess bounces (:func:`ping_pong`).

Department names are compared in binary (code point) order in DuckDB, Spark and Python alike, so
``department_a < department_b`` means the same in the SQL and in ``sorted()``.
"""

from __future__ import annotations

import functools
import html
import unicodedata
from pathlib import Path
from typing import Any, Literal

import networkx as nx
import numpy as np
import pandas as pd

from procmine import engines, schema
from procmine.drawing import (
    BLUES,
    ENGINES,
    FONT,
    GREYS,
    REDS,
    hours_label,
    quote,
    render,
    shade,
    wrap_label,
)
from procmine.engines import with_ctes, with_sequence_links
from procmine.sequences import BOUNCES, HANDOFFS, MARKED, RUNS, sequences

# The columns of the events table these figures read; a frame that has them is used as it is.
_EVENT_COLUMNS = ("idx", "case_id", "procedure", "department", "wm", "in_sequence")
TABLE_COLUMNS = ("procedure", "department", "in_sequence", *engines.SEQUENCE_LINKS)
"""What these figures build from a log, beyond the columns every table has: one table of them
serves several handoff figures (``pm.event_table(log, columns=pm.handoffs.TABLE_COLUMNS)``)."""

# ---------------------------------------------------------------------------------------------
# The figures, composed from the definitions of procmine.sequences (runs, handoffs, bounces,
# sequences) and the CTEs below, each written once.
# ---------------------------------------------------------------------------------------------

MOST_FREQUENT = (
    (
        "sequence_counts",
        """
  SELECT procedure, sequence, COUNT(*) AS cases, MIN(case_no) AS example_case
  FROM sequences
  GROUP BY procedure, sequence""",
    ),
    (
        "most_frequent",
        """
  SELECT procedure, sequence, cases, example_case
  FROM (
    SELECT procedure, sequence, cases, example_case,
           ROW_NUMBER() OVER (PARTITION BY procedure ORDER BY cases DESC, sequence) AS choice
    FROM sequence_counts
  ) AS ranked
  WHERE choice = 1""",
    ),
)
"""Per procedure, the most frequent department sequence (ties: the smallest) and one case that
follows it (reads ``sequences``)."""

# m per (procedure, A, B): the catalog's (table catalog_bounces, computed by REFERENCE_COUNTS_SQL
# on the catalog itself), else the bounces of one case that follows the most frequent sequence.
# Table fallback_procedures lists the log's procedures that the catalog lacks (all of them without
# a catalog): when it is empty, DuckDB skips the sequences of every case.
_FALLBACK = "procedure IN (SELECT procedure FROM fallback_procedures)"
REFERENCE_BOUNCES = (
    "reference_bounces",
    f"""
  SELECT b.procedure, b.source, b.target, COUNT(*) AS prescribed
  FROM bounces AS b
  JOIN most_frequent AS f ON b.case_no = f.example_case
  WHERE b.{_FALLBACK}
  GROUP BY b.procedure, b.source, b.target
  UNION ALL
  SELECT procedure, source, target, prescribed
  FROM catalog_bounces""",
)

CLASSIFIED_BOUNCES = (
    "classified_bounces",
    """
  SELECT b.case_no, b.procedure, b.position, b.source, b.target, b.minutes_lost, b.rank,
         COALESCE(r.prescribed, 0) AS prescribed,
         b.rank > COALESCE(r.prescribed, 0) AS excess,
         b.last_idx
  FROM bounces AS b
  LEFT JOIN reference_bounces AS r
    ON b.procedure = r.procedure AND b.source = r.source AND b.target = r.target""",
)

# Every bounce with its prescribed count and excess flag: what ping-pong and the bounce table read.
_CLASSIFIED = (
    HANDOFFS,
    BOUNCES,
    sequences(_FALLBACK),
    *MOST_FREQUENT,
    REFERENCE_BOUNCES,
    CLASSIFIED_BOUNCES,
)

DEPARTMENT_RUNS_SQL = with_ctes(
    MARKED,
    RUNS,
    select="""
SELECT case_id, procedure, run_no, department, first_idx, last_idx, first_wm, last_wm, events
FROM runs JOIN case_ids USING (case_no) ORDER BY first_idx""",
)
"""One row per run of a case's department sequence."""

HANDOFFS_SQL = with_ctes(
    HANDOFFS,
    select="""
SELECT case_id, procedure, position, source, target, wait_minutes
FROM handoffs JOIN case_ids USING (case_no) ORDER BY last_idx""",
)
"""One row per handoff; ``wait_minutes`` = first reading in B − last reading in A."""

REFERENCE_COUNTS_SQL = with_ctes(
    HANDOFFS,
    BOUNCES,
    select="""
SELECT procedure, source, target, COUNT(*) AS prescribed
FROM bounces GROUP BY procedure, source, target""",
)
"""Per procedure and ordered pair, the bounces of a table's cases (run on the catalog itself)."""

SEQUENCES_SQL = with_ctes(sequences(), select="SELECT procedure, sequence FROM sequences")
"""Per case, its procedure and its department sequence (joined by CHR(1))."""

REFERENCESEQUENCES_SQL = with_ctes(
    sequences(),
    *MOST_FREQUENT,
    ("totals", "SELECT procedure, COUNT(*) AS cases FROM sequences GROUP BY procedure"),
    (
        "chosen",
        """
  SELECT procedure, 'catalog' AS reference, sequence FROM catalog_sequences
  UNION ALL
  SELECT procedure, 'most frequent sequence' AS reference, sequence FROM most_frequent
  WHERE procedure NOT IN (SELECT procedure FROM catalog_sequences)""",
    ),
    select="""
SELECT c.procedure, c.reference, c.sequence, COALESCE(s.cases, 0) AS cases,
       t.cases AS procedure_cases
FROM chosen AS c
JOIN totals AS t ON c.procedure = t.procedure
LEFT JOIN sequence_counts AS s ON c.procedure = s.procedure AND c.sequence = s.sequence
ORDER BY c.procedure""",
)
"""Per procedure: the reference sequence, which reference it is, how many cases follow it."""

BOUNCES_SQL = with_ctes(
    *_CLASSIFIED,
    select="""
SELECT case_id, procedure, position, source, target, minutes_lost, rank, prescribed, excess
FROM classified_bounces JOIN case_ids USING (case_no) ORDER BY last_idx""",
)
"""One row per bounce with its rank on its ordered pair within the case and its excess flag."""

# The unordered pair of a handoff, A < B in code point order; CASE keeps a coded department a
# code (LEAST and GREATEST compare codes as text), so grouping hashes codes, not strings.
_PAIR_COLUMNS = {
    "unordered": (
        "CASE WHEN source < target THEN source ELSE target END AS department_a,"
        " CASE WHEN source < target THEN target ELSE source END AS department_b"
    ),
    "ordered": "source, target",
}
# by: (pair kind, the keys it groups by). A case is grouped by its case_no and shown by its
# case_id, joined once to the grouped rows.
_PING_PONG_KEYS = {
    "pair": ("unordered", "department_a, department_b"),
    "ordered": ("ordered", "source, target"),
    "procedure": ("unordered", "procedure, department_a, department_b"),
    "case": ("unordered", "case_no, procedure, department_a, department_b"),
}


def ping_pong_sql(by: str) -> str:
    """The SQL of :func:`ping_pong` for one ``by``.

    Every bounce on (A, B) implies a handoff A → B in its case, so the handoffs carry all pairs
    (and a case has a handoff on every pair it has a bounce on). The cases of a pair are counted
    distinct rather than summed per case and pair: one hash of (pair, case) keys, not one
    carrying four sums over every handoff and bounce.

    >>> "JOIN case_ids" in ping_pong_sql("case"), "JOIN case_ids" in ping_pong_sql("pair")
    (True, False)
    """
    pair_kind, groups = _PING_PONG_KEYS[by]
    pairs = _PAIR_COLUMNS[pair_kind]
    by_case = by == "case"
    keys = groups.replace("case_no", "case_id") if by_case else groups
    return with_ctes(
        *_CLASSIFIED,
        (
            "pair_handoffs",
            f"""
  SELECT {groups}, COUNT(*) AS handoff_count, COUNT(DISTINCT case_no) AS case_count
  FROM (SELECT case_no, procedure, {pairs} FROM handoffs) AS keyed
  GROUP BY {groups}""",
        ),
        (
            "pair_bounces",
            f"""
  SELECT {groups}, COUNT(*) AS bounce_count,
         SUM(CASE WHEN excess THEN 1 ELSE 0 END) AS excess_count,
         COUNT(DISTINCT CASE WHEN excess THEN case_no END) AS excess_cases,
         SUM(CASE WHEN excess THEN minutes_lost ELSE 0 END) AS excess_minutes
  FROM (
    SELECT case_no, procedure, {pairs}, excess, minutes_lost FROM classified_bounces
  ) AS keyed
  GROUP BY {groups}""",
        ),
        select=f"""
SELECT {keys},
       CAST(h.handoff_count AS BIGINT) AS handoffs,
       CAST(COALESCE(b.bounce_count, 0) AS BIGINT) AS bounces,
       CAST(COALESCE(b.excess_count, 0) AS BIGINT) AS excess_bounces,
       CAST(COALESCE(b.excess_cases, 0) AS BIGINT) AS pingpong_cases,
       CAST(COALESCE(b.excess_minutes, 0) AS DOUBLE) / 60.0 AS hours_lost,
       CAST(h.case_count AS BIGINT) AS cases
FROM pair_handoffs AS h
LEFT JOIN pair_bounces AS b USING ({groups}){" JOIN case_ids USING (case_no)" if by_case else ""}
ORDER BY excess_bounces DESC, bounces DESC, handoffs DESC, {keys}""",
    )


# Nodes and edges in one query, one read of the events: node rows (is_node) have no target and
# carry events and held hours where edge rows carry handoffs and waits. The median and the 90th
# percentile come from one exact quantile aggregate (each pair's waits are gathered once).
NETWORK_SQL = with_ctes(
    HANDOFFS,
    (
        "nodes",
        """
  SELECT department, COUNT(DISTINCT case_no) AS cases, COUNT(*) AS events,
         CAST(COALESCE(SUM(sojourn), 0) AS DOUBLE) / 60.0 AS working_hours_held
  FROM events
  WHERE in_sequence
  GROUP BY department""",
    ),
    (
        "edges",
        """
  SELECT source, target, COUNT(*) AS handoffs, COUNT(DISTINCT case_no) AS cases,
         QUANTILE_CONT(wait_minutes, [0.5, 0.9]) AS waits
  FROM handoffs
  GROUP BY source, target""",
    ),
    select="""
SELECT TRUE AS is_node, department AS source, NULL AS target, cases, events AS count,
       working_hours_held AS hours, NULL AS p90_hours
FROM nodes
UNION ALL
SELECT FALSE AS is_node, source, target, cases, handoffs AS count,
       waits[1] / 60.0 AS hours, waits[2] / 60.0 AS p90_hours
FROM edges
ORDER BY is_node DESC, source, target""",
)
"""The handoff network: per department (is_node) cases, events (``count``) and the working hours
held (``hours``: sum of its events' sojourns); per ordered pair cases, handoffs (``count``), the
median (``hours``) and 90th-percentile (``p90_hours``) wait in working hours."""


def figure_sqls() -> dict[str, str]:
    """Every SQL text of this module by name (the Spark path transpiles exactly these)."""
    sqls = {
        "department_runs": DEPARTMENT_RUNS_SQL,
        "handoffs": HANDOFFS_SQL,
        "reference_counts": REFERENCE_COUNTS_SQL,
        "sequences": SEQUENCES_SQL,
        "reference_sequences": REFERENCESEQUENCES_SQL,
        "bounces": BOUNCES_SQL,
        "network": NETWORK_SQL,
    }
    for by in _PING_PONG_KEYS:
        sqls[f"ping_pong_{by}"] = ping_pong_sql(by)
    return sqls


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------


def department_runs(log: pd.DataFrame, calendar: Any = None, engine: Any = None) -> pd.DataFrame:
    """The runs of each case's department sequence, in log order.

    Columns: case_id, procedure, run_no (0, 1, …), department, first_idx, last_idx, first_wm,
    last_wm (working-clock readings of the run's first and last events), events.

    >>> import procmine as pm
    >>> runs = pm.handoffs.department_runs(log)  # doctest: +SKIP
    """
    return engines.query(
        DEPARTMENT_RUNS_SQL, engine, with_case_ids=True, events=_events(log, calendar)
    )


def handoff_table(log: pd.DataFrame, calendar: Any = None, engine: Any = None) -> pd.DataFrame:
    """One row per handoff between departments, in log order.

    ``log`` is the canonical event log or an ``events`` frame from :func:`pm.event_table`.
    Columns: case_id, procedure, position (j: the handoff goes from run j to run j + 1 of the
    case's department sequence), source, target, wait_minutes (working minutes from the last event
    of run j to the first event of run j + 1).

    >>> import procmine as pm
    >>> pm.handoffs.handoff_table(log)[["source", "target"]].value_counts()  # doctest: +SKIP
    """
    return engines.query(HANDOFFS_SQL, engine, with_case_ids=True, events=_events(log, calendar))


def bounce_table(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None = None,
    *,
    calendar: Any = None,
    engine: Any = None,
) -> pd.DataFrame:
    """One row per bounce (A → B → A), in log order, each classified prescribed or excess.

    Columns: case_id, procedure, position (j: runs j and j + 2 in A, run j + 1 in B), source (A),
    target (B), minutes_lost (working minutes from the last event of run j to the first of run
    j + 2), rank (1 for the case's first bounce on (A, B) in time order, 2 for the next, …),
    prescribed (m: bounces on (A, B) in the procedure's reference sequence), excess
    (rank > prescribed). ``result.attrs["reference"]`` says which reference was used.

    >>> import procmine as pm
    >>> pm.handoffs.bounce_table(log, catalog).query("excess")  # doctest: +SKIP
    """
    events = _events(log, calendar)
    tables, reference = _reference_tables(events, catalog)
    result = engines.query(BOUNCES_SQL, engine, with_case_ids=True, events=events, **tables)
    result["excess"] = result["excess"].astype(bool)
    result.attrs.update(reference)
    return result


def ping_pong(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None = None,
    *,
    by: Literal["pair", "ordered", "procedure", "case"] = "pair",
    calendar: Any = None,
    engine: Any = None,
) -> pd.DataFrame:
    """Ping-pong between departments: handoffs, bounces, excess bounces and the time they lose.

    ``by="pair"`` gives one row per unordered pair with at least one handoff (``department_a <
    department_b`` in code point order, as Python's ``sorted``); ``"ordered"`` per (source,
    target), a bounce A → B → A counting on (A, B); ``"procedure"`` per procedure and pair;
    ``"case"`` per case and pair, the cases behind every figure. Columns after the keys:

    - handoffs: handoffs in either direction (``"ordered"``: source → target);
    - bounces, excess_bounces: see the module docstring (DESIGN.md, Definitions);
    - pingpong_cases: cases with at least one excess bounce on the pair;
    - hours_lost: working hours lost to the excess bounces (round trips A → B → A);
    - cases: cases with at least one handoff on the pair.

    Rows are sorted by excess_bounces, then bounces, then handoffs, largest first.
    ``result.attrs["reference"]`` is ``"catalog"``, ``"most frequent sequence"`` or, when the
    catalog lacks some procedures of the log, says which procedures fell back to the most frequent
    sequence; ``result.attrs["references"]`` maps each procedure to its reference.

    Example
    -------
    >>> import procmine as pm
    >>> log = pm.datasets.load_sample()  # doctest: +SKIP
    >>> pm.ping_pong(log, pm.datasets.load_sample_catalog()).head()  # doctest: +SKIP

    Notes
    -----
    pm4py's ``discover_subcontracting_network(log, n=2, resource_key="org:group")`` is the nearest
    pm4py figure and differs from the bounce count in three ways: it does not collapse repeats
    (A, B, B, A is no bounce for it, and A, A, A counts as A → A); it adds a bounce pattern A → B
    only the first time department A starts one anywhere in the log (the first variant, in its
    variant order, where A is followed two steps later by A), so later ones are dropped; and it
    divides by the number of cases. The four cases X,Y,X · X,Y,X,Y · Z,X,Z · X,Y,X give pm4py
    X → Y = 0.5 (the X,Y,X variant only) where the log holds 3 bounces on (X, Y) in 4 cases
    (0.75), plus 1 on (Y, X) and 1 on (Z, X). pm4py has no notion of prescribed bounces.
    """
    if by not in _PING_PONG_KEYS:
        raise ValueError(
            f"by must be one of {sorted(_PING_PONG_KEYS)}; got {by!r}. Use 'pair' for one row per "
            "department pair, 'ordered' per direction, 'procedure' or 'case' to drill down."
        )
    events = _events(log, calendar)
    tables, reference = _reference_tables(events, catalog)
    result = engines.query(
        ping_pong_sql(by), engine, with_case_ids=by == "case", events=events, **tables
    )
    result.attrs.update(reference)
    return result


def reference_sequences(
    log: pd.DataFrame,
    catalog: pd.DataFrame | None = None,
    *,
    calendar: Any = None,
    engine: Any = None,
) -> pd.DataFrame:
    """The reference department sequence of each procedure, against which bounces are excess.

    Columns: procedure, reference (``"catalog"`` or ``"most frequent sequence"``), sequence (tuple
    of departments, repeats collapsed), cases (cases of the procedure whose department sequence is
    exactly the reference), procedure_cases (cases of the procedure with a department sequence).

    >>> import procmine as pm
    >>> pm.handoffs.reference_sequences(log)  # doctest: +SKIP
    """
    events = _events(log, calendar)
    catalog_events = _catalog_events(catalog)
    catalog_sequences = (
        engines.query(SEQUENCES_SQL, engine, events=catalog_events)
        if catalog_events is not None
        # No catalog: no catalog sequences, typed as text (an empty list would be floats).
        else pd.DataFrame(
            {column: pd.Series([], dtype="string") for column in ("procedure", "sequence")}
        )
    )
    result = engines.query(
        REFERENCESEQUENCES_SQL, engine, events=events, catalog_sequences=catalog_sequences
    )
    result["sequence"] = [tuple(text.split("\x01")) for text in result["sequence"]]
    return result


def handoff_network(log: pd.DataFrame, calendar: Any = None, engine: Any = None) -> nx.DiGraph:
    """The department handoff network as a networkx DiGraph.

    Nodes are departments with attributes ``cases``, ``events`` and ``working_hours_held`` (the
    sum of its events' sojourns: working time since the previous event of the case, in hours).
    Edges are handoffs A → B with attributes ``handoffs``, ``cases``, ``median_wait_hours`` and
    ``p90_wait_hours`` (the handoff wait: working hours from the last event in A to the first in
    B). Quantiles interpolate linearly between order statistics — position (n − 1)·p over the
    sorted waits, numpy's default and DuckDB's ``quantile_cont``.

    >>> import procmine as pm
    >>> graph = pm.handoff_network(log)  # doctest: +SKIP
    >>> nodes, edges = pm.handoffs.network_frames(graph)  # doctest: +SKIP

    Notes
    -----
    pm4py's ``discover_handover_of_work_network(log, resource_key="org:group")`` is the nearest
    pm4py figure: it works on resources unless given ``resource_key="org:group"``; it does not
    collapse repeats, so a department handing to itself is an A → A handover; with the default
    ``beta=0`` it counts directly-following pairs, each weighted by its variant's frequency, and
    divides by the total number of directly-following pairs in the log (a share, not a count);
    it has no waits. On a log without missing departments, its A → B value times that total
    equals our handoff count on A → B.
    """
    rows = engines.query(NETWORK_SQL, engine, events=_events(log, calendar))
    is_node = rows["is_node"].astype(bool).to_numpy()
    nodes = rows[is_node].rename(
        columns={"source": "department", "count": "events", "hours": "working_hours_held"}
    )[["department", "cases", "events", "working_hours_held"]]
    edges = rows[~is_node].rename(
        columns={"count": "handoffs", "hours": "median_wait_hours", "p90_hours": "p90_wait_hours"}
    )[["source", "target", "handoffs", "cases", "median_wait_hours", "p90_wait_hours"]]
    graph = nx.DiGraph()
    graph.add_nodes_from((row.pop("department"), row) for row in nodes.to_dict("records"))
    graph.add_edges_from(
        (row.pop("source"), row.pop("target"), row) for row in edges.to_dict("records")
    )
    return graph


def network_frames(graph: nx.DiGraph) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The nodes and edges of a handoff network as DataFrames (``department``; ``source``,
    ``target``; then their attributes).

    >>> g = nx.DiGraph(); g.add_edge("A", "B", handoffs=2)
    >>> network_frames(g)[1].to_dict("records")
    [{'source': 'A', 'target': 'B', 'handoffs': 2}]
    """
    nodes = pd.DataFrame([{"department": n, **attrs} for n, attrs in graph.nodes(data=True)])
    edges = pd.DataFrame([{"source": u, "target": v, **a} for u, v, a in graph.edges(data=True)])
    if nodes.empty:
        nodes = pd.DataFrame({"department": []})
    if edges.empty:
        edges = pd.DataFrame({"source": [], "target": []})
    return nodes, edges


def network_summary(graph: nx.DiGraph, *, max_cycle_length: int = 3) -> dict[str, Any]:
    """What the handoff network tells leadership, as plain DataFrames and lists.

    Returns a dict with:

    - ``hubs``: department, betweenness (networkx's normalised betweenness centrality on the
      directed, unweighted graph: the share of shortest handoff routes between other departments
      that pass through it — the coordination hubs), in_degree, out_degree; sorted by betweenness;
    - ``reciprocity``: per unordered pair with a handoff, department_a < department_b,
      handoffs_ab, handoffs_ba and reciprocity = min/max of the two (1: as much back as forth,
      0: one way only); sorted by reciprocity then volume;
    - ``overall_reciprocity``: the share of edges whose reverse edge exists (networkx);
    - ``components``: strongly connected groups of two or more departments (work can circulate
      among them), largest first, each a sorted list;
    - ``cycles``: simple cycles of at most ``max_cycle_length`` departments, each a list;
    - ``communities``: greedy-modularity communities of the undirected graph weighted by
      handoffs in both directions, largest first, each a sorted list.

    >>> g = nx.DiGraph([("A", "B", {"handoffs": 3}), ("B", "A", {"handoffs": 1})])
    >>> network_summary(g)["reciprocity"]["reciprocity"].tolist()
    [0.3333333333333333]
    """
    betweenness = nx.betweenness_centrality(graph, normalized=True)
    hubs = pd.DataFrame(
        {
            "department": list(graph.nodes),
            "betweenness": [betweenness[n] for n in graph.nodes],
            "in_degree": [graph.in_degree(n) for n in graph.nodes],
            "out_degree": [graph.out_degree(n) for n in graph.nodes],
        }
    ).sort_values(["betweenness", "department"], ascending=[False, True], ignore_index=True)

    pairs: dict[tuple[str, str], list[int]] = {}
    for u, v, attrs in graph.edges(data=True):
        if u == v:
            continue
        a, b = sorted((u, v))
        pairs.setdefault((a, b), [0, 0])[0 if u == a else 1] += attrs.get("handoffs", 1)
    reciprocity = pd.DataFrame(
        [(a, b, ab, ba) for (a, b), (ab, ba) in pairs.items()],
        columns=["department_a", "department_b", "handoffs_ab", "handoffs_ba"],
    )
    reciprocity["reciprocity"] = np.minimum(
        reciprocity["handoffs_ab"], reciprocity["handoffs_ba"]
    ) / np.maximum(reciprocity["handoffs_ab"], reciprocity["handoffs_ba"])
    reciprocity = (
        reciprocity.assign(total=reciprocity["handoffs_ab"] + reciprocity["handoffs_ba"])
        .sort_values(
            ["reciprocity", "total", "department_a", "department_b"],
            ascending=[False, False, True, True],
            ignore_index=True,
        )
        .drop(columns="total")
    )

    undirected = nx.Graph()
    undirected.add_nodes_from(graph.nodes)
    for u, v, attrs in graph.edges(data=True):
        if u != v:
            weight = undirected.get_edge_data(u, v, {"weight": 0})["weight"]
            undirected.add_edge(u, v, weight=weight + attrs.get("handoffs", 1))
    communities = (
        nx.community.greedy_modularity_communities(undirected, weight="weight")
        if undirected.number_of_edges()
        else [{n} for n in undirected.nodes]
    )

    def largest_first(groups: Any) -> list[list[str]]:
        return sorted((sorted(g) for g in groups), key=lambda g: (-len(g), g))

    return {
        "hubs": hubs,
        "reciprocity": reciprocity,
        "overall_reciprocity": (
            nx.overall_reciprocity(graph) if graph.number_of_edges() else float("nan")
        ),
        "components": largest_first(
            c for c in nx.strongly_connected_components(graph) if len(c) > 1
        ),
        "cycles": sorted(
            (_from_smallest(c) for c in nx.simple_cycles(graph, length_bound=max_cycle_length)),
            key=lambda c: (len(c), c),
        ),
        "communities": largest_first(communities),
    }


# ---------------------------------------------------------------------------------------------
# Drawing the network
# ---------------------------------------------------------------------------------------------

# The words of the picture; a department head reads Vietnamese, an outside reviewer English.
# ``{reference}`` is what excess is measured against (the ping-pong table's attrs["reference"]).
_NETWORK_WORDS = {
    "vi": {
        "pair": "{excess:,} lượt vượt, mất {hours}",
        "nodes": "Ô: phòng ban và số giờ làm việc hồ sơ nằm tại phòng (màu càng đậm càng nhiều).",
        "edges": "Mũi tên: số lượt chuyển hồ sơ (nét càng dày càng nhiều).",
        "pairs": "Đỏ: cặp đùn đẩy — số lượt trả qua trả lại vượt {reference}"
        " và số giờ làm việc bị mất (màu càng đậm càng nhiều).",
        "some pairs": "Chỉ tô {pairs} cặp nặng nhất ({shown:,} trên {total:,} lượt vượt).",
        "hidden": "Ẩn {edges} mũi tên ít lượt ({handoffs:,} lượt chuyển, {share:.1%} tổng số).",
        "catalog": "quy trình được phê duyệt",
        "most frequent sequence": "trình tự phổ biến nhất của thủ tục",
        "other": "trình tự tham chiếu",
    },
    "en": {
        "pair": "{excess:,} excess, {hours} lost",
        "nodes": "Boxes: departments and the working hours cases spent with them (darker: more).",
        "edges": "Arrows: handoffs of cases (thicker: more).",
        "pairs": "Red: ping-pong pairs — bounces beyond {reference}"
        " and the working hours they lost (darker: more).",
        "some pairs": "Only the {pairs} worst pairs ({shown:,} of {total:,} excess bounces).",
        "hidden": "{edges} arrows with few handoffs hidden ({handoffs:,} handoffs,"
        " {share:.1%} of all).",
        "catalog": "the approved procedure",
        "most frequent sequence": "the procedure's most frequent sequence",
        "other": "the reference sequence",
    },
}


def network_to_dot(
    graph: nx.DiGraph,
    ping_pong: pd.DataFrame | None = None,
    *,
    paths: float = 0.9,
    min_handoffs: int = 1,
    min_excess_bounces: int = 1,
    top_pairs: int | None = 5,
    title: str | None = None,
    engine: str = "dot",
    language: Literal["vi", "en"] = "vi",
    wrap: int = 20,
    legend: bool = True,
) -> str:
    """The DOT text of a handoff network drawing (the options: see :func:`draw_network`).

    >>> g = nx.DiGraph([("A", "B", {"handoffs": 3}), ("B", "A", {"handoffs": 2})])
    >>> print(network_to_dot(g, paths=1.0, legend=False).splitlines()[-3])
      "A" -> "B" [label="3", penwidth=6.00, color="#252525", fontcolor="#404040"];
    """
    if not 0.0 <= paths <= 1.0:
        raise ValueError(f"paths must be in [0, 1]; got {paths!r}.")
    if top_pairs is not None and top_pairs < 0:
        raise ValueError(f"top_pairs must be a count of pairs (0 or more); got {top_pairs!r}.")
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {list(ENGINES)}; got {engine!r}.")
    if language not in _NETWORK_WORDS:
        raise ValueError(f"language must be one of {sorted(_NETWORK_WORDS)}; got {language!r}.")
    words = _NETWORK_WORDS[language]

    def nfc(text: Any) -> str:
        return unicodedata.normalize("NFC", str(text))

    # The excess pairs, keyed by their two departments in code point order (as ping_pong's
    # department_a < department_b), in NFC so a name typed another way still finds its edges;
    # the worst first.
    pairs: dict[tuple[str, str], tuple[int, float]] = {}
    all_excess = 0
    if ping_pong is not None:
        needed = ["department_a", "department_b", "excess_bounces", "hours_lost"]
        missing = [c for c in needed if c not in ping_pong.columns]
        if missing:
            raise ValueError(
                f"ping_pong lacks the column(s) {missing}; pass the table of "
                "pm.ping_pong(events, catalog) with by='pair' (one row per department pair). "
                f"Columns found: {[str(c) for c in ping_pong.columns]}."
            )
        all_excess = int(ping_pong["excess_bounces"].sum())
        chosen = ping_pong[ping_pong["excess_bounces"] >= max(min_excess_bounces, 1)]
        chosen = chosen.sort_values(
            ["excess_bounces", "hours_lost"], ascending=False, kind="stable"
        ).head(len(chosen) if top_pairs is None else top_pairs)
        for a, b, excess, hours in zip(
            chosen["department_a"],
            chosen["department_b"],
            chosen["excess_bounces"],
            chosen["hours_lost"],
            strict=True,
        ):
            pairs[tuple(sorted((nfc(a), nfc(b))))] = (int(excess), float(hours))

    edges = pd.DataFrame(
        [(u, v, attrs.get("handoffs", 1)) for u, v, attrs in graph.edges(data=True)],
        columns=["source", "target", "handoffs"],
    )
    edges["pair"] = [
        tuple(sorted((nfc(u), nfc(v))))
        for u, v in zip(edges["source"], edges["target"], strict=True)
    ]
    edges["highlighted"] = edges["pair"].isin(pairs.keys()) & (edges["source"] != edges["target"])
    # The most frequent edges until they cover ``paths`` of all handoffs (draw_map's slider),
    # those with at least ``min_handoffs``; each department's busiest edge, so none floats
    # unconnected; the ping-pong pairs always, they are the point.
    edges = edges.sort_values(
        ["handoffs", "source", "target"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
    total = float(edges["handoffs"].sum())
    covered = edges["handoffs"].cumsum().shift(fill_value=0)
    # Sorted busiest first: a department's busiest edge is the first row it is an end of.
    ends = pd.DataFrame(
        {
            "department": pd.concat([edges["source"], edges["target"]], ignore_index=True),
            "edge": np.tile(edges.index.to_numpy(), 2),
        }
    )
    busiest = edges.index.isin(ends.groupby("department")["edge"].min())
    kept = (
        edges["highlighted"]
        | busiest
        | ((covered < paths * total) & (edges["handoffs"] >= min_handoffs))
    )
    shown, hidden = edges[kept], edges[~kept]
    # A pair's figures are written once, beside its department_a → department_b edge (or the
    # other one when only that exists). Graphviz paints in the order given: the ping-pong
    # arrows last, the labelled one of each pair after its twin, so no arrow crosses the
    # figures.
    names = list(zip(shown["source"].map(nfc), shown["target"].map(nfc), strict=True))
    labelled = {pair: pair if pair in set(names) else pair[::-1] for pair in pairs}
    shown = shown.assign(
        labelled=[labelled.get(pair) == st for pair, st in zip(shown["pair"], names, strict=True)]
    )
    shown = shown.assign(order=shown["highlighted"].astype(int) + shown["labelled"].astype(int))
    shown = shown.sort_values("order", kind="stable")

    # circo's spline router crashes now and then (Graphviz 2.43): it draws straight lines.
    splines = "" if engine == "circo" else " splines=true,"
    lines = [
        "digraph procmine_network {",
        f'  graph [layout={engine}, charset="UTF-8", {FONT}, fontsize=14, overlap=false,'
        f'{splines} sep="+16", esep="+6", nodesep=0.4, ranksep=0.6, mindist=0.5, pad=0.3];',
        f'  node [{FONT}, fontsize=16, shape=box, style="rounded,filled", penwidth=1,'
        ' margin="0.15,0.08"];',
        f"  edge [{FONT}, fontsize=16, arrowsize=0.8];",
    ]
    caption = []
    if title:
        caption.append(f'<FONT POINT-SIZE="22"><B>{html.escape(nfc(title))}</B></FONT>')
    if legend:
        reference = (ping_pong.attrs.get("reference") if ping_pong is not None else None) or ""
        notes = [words["nodes"], words["edges"]]
        if pairs:
            note = words["pairs"].format(reference=words.get(reference, words["other"]))
            shown_excess = sum(excess for excess, _ in pairs.values())
            notes.append(note)
            if shown_excess < all_excess:
                notes.append(
                    words["some pairs"].format(
                        pairs=len(pairs), shown=shown_excess, total=all_excess
                    )
                )
        if len(hidden):
            notes.append(
                words["hidden"].format(
                    edges=len(hidden),
                    handoffs=int(hidden["handoffs"].sum()),
                    share=hidden["handoffs"].sum() / total,
                )
            )
        caption.extend(f'<FONT POINT-SIZE="16">{html.escape(nfc(n))}</FONT>' for n in notes)
    if caption:
        rows = "".join(f'<TR><TD ALIGN="LEFT">{line}</TD></TR>' for line in caption)
        table = f'<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="2">{rows}</TABLE>'
        lines.insert(2, f"  graph [label=<{table}>, labelloc=t, labeljust=l];")

    held = {
        node: float(attrs.get("working_hours_held") or 0.0)
        for node, attrs in graph.nodes(data=True)
    }
    top_held = max(max(held.values(), default=0.0), 1e-12)
    for node, hours in held.items():
        share = hours / top_held
        label = f"{wrap_label(nfc(node), wrap)}\n{hours_label(hours)}"
        font_colour = "white" if share > 0.6 else "black"
        lines.append(
            f"  {quote(node)} [label={quote(label)}, "
            f'fillcolor="{shade(share, BLUES)}", fontcolor={font_colour}];'
        )
    top_handoffs = max(float(edges["handoffs"].max()) if len(edges) else 0.0, 1e-12)
    top_excess = max((excess for excess, _ in pairs.values()), default=1)
    for source, target, count, pair, highlighted, with_figures in zip(
        shown["source"],
        shown["target"],
        shown["handoffs"],
        shown["pair"],
        shown["highlighted"],
        shown["labelled"],
        strict=True,
    ):
        share = count / top_handoffs
        width = 1.0 + 5.0 * share
        label = quote(f"{count:,}")
        if highlighted:
            excess, hours = pairs[pair]
            colour = font_colour = shade(0.45 + 0.55 * excess / top_excess, REDS)
            if with_figures:
                # On a white ground: the pair's figures are read across the arrows they sit on.
                figures = html.escape(words["pair"].format(excess=excess, hours=hours_label(hours)))
                label = (
                    '<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1" BGCOLOR="white">'
                    f"<TR><TD>{count:,}</TD></TR><TR><TD><B>{figures}</B></TD></TR></TABLE>>"
                )
            width = max(width, 3.0)
            style = "style=bold, "
        else:
            # Light grey for a thin arrow, but its number dark enough to read on paper.
            colour, font_colour, style = shade(share, GREYS), "#404040", ""
        lines.append(
            f"  {quote(source)} -> {quote(target)} [label={label}, {style}"
            f'penwidth={width:.2f}, color="{colour}", fontcolor="{font_colour}"];'
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def draw_network(
    graph: nx.DiGraph,
    ping_pong: pd.DataFrame | None = None,
    *,
    path: str | Path | None = None,
    title: str | None = None,
    paths: float = 0.9,
    min_handoffs: int = 1,
    min_excess_bounces: int = 1,
    top_pairs: int | None = 5,
    engine: str = "dot",
    language: Literal["vi", "en"] = "vi",
    wrap: int = 20,
    legend: bool = True,
) -> Path | str:
    """Draw the handoff network with Graphviz, the ping-pong pairs in red.

    Departments are boxes shaded blue by the working hours they held (label: name and hours);
    arrows are handoffs, as wide as their number of handoffs (label: that number). The
    ``top_pairs`` worst pairs of ``ping_pong`` (the table of :func:`ping_pong`, ``by="pair"``)
    with at least ``min_excess_bounces`` excess bounces have both arrows red and bold, darker
    the more excess bounces, labelled once with the excess bounces and the working hours they
    lost (``top_pairs=None``: every such pair).

    ``paths`` and ``min_handoffs`` thin a dense network, like :func:`procmine.discovery.draw_map`:
    arrows are kept from the busiest down until they cover ``paths`` of all handoffs, those with
    at least ``min_handoffs``; every department is drawn with at least its busiest arrow, and
    the red arrows always. The legend says what is hidden. ``engine`` is the Graphviz layout
    (``dot``: layered, the most legible; ``circo``: a circle; ``neato``/``fdp``: springs);
    ``wrap`` breaks names longer than that many characters (0: never); ``language`` is the
    legend's, ``"vi"`` or ``"en"``. Writes ``path`` (svg, png or pdf by its suffix) and returns
    it; without a path returns the SVG text (Jupyter: ``IPython.display.SVG``).

    >>> import procmine as pm
    >>> events = pm.event_table(pm.datasets.load_sample())  # doctest: +SKIP
    >>> pairs = pm.ping_pong(events, pm.datasets.load_sample_catalog())  # doctest: +SKIP
    >>> pm.draw_network(pm.handoff_network(events), pairs, path="network.png")  # doctest: +SKIP
    PosixPath('network.png')
    """
    dot_text = network_to_dot(
        graph,
        ping_pong,
        paths=paths,
        min_handoffs=min_handoffs,
        min_excess_bounces=min_excess_bounces,
        top_pairs=top_pairs,
        title=title,
        engine=engine,
        language=language,
        wrap=wrap,
        legend=legend,
    )
    return render(dot_text, path, engine=engine)


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _from_smallest(cycle: list[str]) -> list[str]:
    """A cycle rotated to start at its smallest department, so each cycle reads one way."""
    start = cycle.index(min(cycle))
    return cycle[start:] + cycle[:start]


def _events(log: pd.DataFrame, calendar: Any) -> pd.DataFrame:
    """The events table with its sequence links: ``log`` itself when it already is one (or has
    the columns these figures read), else built from the log."""
    if schema.DEPARTMENT not in log.columns and "department" not in log.columns:
        raise schema.MissingColumnError(
            f"Handoffs need the department column '{schema.DEPARTMENT}'; the log has "
            f"{[str(c) for c in log.columns]}. Map your department header onto it when loading "
            "(pm.read_log(..., mapping={'Đơn vị xử lý': 'org:group'}))."
        )
    # From a log, only what these figures read is built (no activity, official or lifecycle).
    built, _ = engines.clocked(log, calendar, _EVENT_COLUMNS, build=TABLE_COLUMNS)
    return with_sequence_links(built)


def _catalog_events(catalog: pd.DataFrame | None) -> pd.DataFrame | None:
    """The catalog as a pseudo events table, one case per procedure, so the approved sequence goes
    through exactly the same run and bounce SQL as the cases."""
    if catalog is None:
        return None
    schema.require_columns(catalog, ("procedure", "step", "department"), what="the catalog")
    ordered = catalog.sort_values(["procedure", "step"], kind="stable", ignore_index=True)
    department = ordered["department"].astype("string")
    table = pd.DataFrame(
        {
            "idx": np.arange(len(ordered), dtype=np.int64),
            "case_id": ordered["procedure"].astype("string"),
            "procedure": ordered["procedure"].astype("string"),
            "department": department,
            "wm": ordered["step"].astype("float64"),
            "in_sequence": department.notna().to_numpy(),
        }
    )
    return with_sequence_links(table)


def _reference_tables(
    events: pd.DataFrame, catalog: pd.DataFrame | None
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The catalog's prescribed bounce counts and the log's procedures that fall back to the most
    frequent sequence (tables for the SQL, coded as the events are), and what reference each
    procedure of the log uses (for ``attrs``)."""
    if catalog is None:
        catalog_bounces = pd.DataFrame(
            {
                "procedure": pd.Series([], dtype="string"),
                "source": pd.Series([], dtype="string"),
                "target": pd.Series([], dtype="string"),
                "prescribed": pd.Series([], dtype="int64"),
            }
        )
        covered: frozenset[str] = frozenset()
    else:
        schema.require_columns(catalog, ("procedure", "step", "department"), what="the catalog")
        steps = catalog[["procedure", "step", "department"]].astype(object)
        catalog_bounces, covered = _catalog_bounces(
            tuple(steps.where(steps.notna(), None).itertuples(index=False, name=None))
        )
    procedures = _distinct(events["procedure"])
    references = {p: ("catalog" if p in covered else "most frequent sequence") for p in procedures}
    fallback = [p for p in procedures if p not in covered]
    if catalog is None or not covered.intersection(procedures):
        summary = "most frequent sequence"
    elif not fallback:
        summary = "catalog"
    else:
        summary = "catalog; most frequent sequence for procedures not in it: " + ", ".join(fallback)
    tables = {
        "catalog_bounces": _coded_like(
            events, catalog_bounces, source="department", target="department"
        ),
        "fallback_procedures": _coded_like(
            events, pd.DataFrame({"procedure": pd.Series(fallback, dtype="string")})
        ),
    }
    return tables, {"reference": summary, "references": references}


@functools.lru_cache(maxsize=16)
def _catalog_bounces(
    steps: tuple[tuple[Any, Any, Any], ...],
) -> tuple[pd.DataFrame, frozenset[str]]:
    """The prescribed bounces of each procedure of a catalog given as its (procedure, step,
    department) rows, and the procedures it covers. The same SQL as the cases' bounces, run
    once per catalog: ping-pong asks for them on every call (~10 ms of planning and running a
    query on a few rows), and a catalog's rows are its identity. Callers must not modify the
    returned frame."""
    catalog = pd.DataFrame(list(steps), columns=["procedure", "step", "department"])
    catalog_events = _catalog_events(catalog)
    bounces = engines.query(REFERENCE_COUNTS_SQL, events=catalog_events)
    return bounces, frozenset(catalog_events["procedure"].dropna())


def _distinct(values: pd.Series) -> list[str]:
    """The distinct non-null values of a column, sorted; of a coded column, its categories in use
    (counted on the codes, without a pass over a million values' hashes).

    >>> _distinct(pd.Series(pd.Categorical(["b", None, "a"], categories=["a", "b", "c"])))
    ['a', 'b']
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = values.cat.categories
        codes = values.cat.codes.to_numpy()
        used = np.bincount(codes[codes >= 0], minlength=len(categories)) > 0
        return sorted(categories[used].tolist())
    return sorted(pd.unique(values.dropna()))


def _coded_like(events: pd.DataFrame, table: pd.DataFrame, **like: str) -> pd.DataFrame:
    """``table`` with its ``procedure`` column (and each column named in ``like``, coded as the
    events' column it names) coded as the events' column when that is coded: DuckDB then joins
    the same ENUM on both sides instead of casting every event's code to text. A row whose value
    is not among the events' categories is dropped: it equals no event.

    >>> ev = pd.DataFrame({"procedure": pd.Categorical(["P"]), "department": pd.Categorical(["A"])})
    >>> _coded_like(ev, pd.DataFrame({"procedure": ["P", "Q"]}))["procedure"].tolist()
    ['P']
    """
    columns = {"procedure": "procedure", **like}
    codes = {
        column: events[source].cat.categories.get_indexer(table[column])
        for column, source in columns.items()
        if isinstance(events[source].dtype, pd.CategoricalDtype)
    }
    if not codes:
        return table
    coded = {
        column: pd.Categorical.from_codes(values, dtype=events[columns[column]].dtype)
        for column, values in codes.items()
    }
    known = np.logical_and.reduce([values >= 0 for values in codes.values()])
    return table.assign(**coded)[known].reset_index(drop=True)
