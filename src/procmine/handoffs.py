"""Department handoffs, bounces and ping-pong (đùn đẩy trách nhiệm), and the handoff network.

Every figure follows the definitions of ``docs/definitions.md`` and is one SQL text (DuckDB
dialect, transpiled by SQLGlot for Spark) over the ``events`` table of
:func:`procmine.engines.event_table`:

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
  run j + 2; ping-pong time lost sums it over excess bounces (:func:`ping_pong`);
- **return**: a handoff B → A whose leaving event (the last event of B's run) is a return event —
  the system's own record of work sent back: a transfer of kind "return" in a transfer history,
  else a step named as a return (:data:`procmine.vocabulary.RETURNS`, ``return_activities=``). It
  belongs to the ordered pair (A, B), whose bounce A → B → A it makes, and to {A, B}; a return
  event that does not hand off counts for no pair (:func:`ping_pong`'s ``returns``).

Department names are compared in binary (code point) order in DuckDB, Spark and Python alike, so
``department_a < department_b`` means the same in the SQL and in ``sorted()``. The network's
picture is drawn by :func:`procmine.drawing.draw_network`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any, Literal

import networkx as nx
import numpy as np
import pandas as pd

from procmine import engines, schema
from procmine.catalog import approved_events, with_catalog_procedure
from procmine.engines import with_ctes, with_sequence_links
from procmine.sequences import BOUNCES, HANDOFFS, MARKED, RUNS, sequences

# The columns of the events table these figures read; a frame that has them is used as it is.
_EVENT_COLUMNS = ("idx", "case_id", "procedure", "department", "wm", "in_sequence")
TABLE_COLUMNS = ("procedure", "department", "in_sequence", "returned", *engines.SEQUENCE_LINKS)
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

REFERENCE_SEQUENCES_SQL = with_ctes(
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

    A return is a handoff whose leaving row is ``returned``; on an unordered pair it is counted
    with the handoffs. On the ordered pairs it counts on (target, source) — a return B → A on
    (A, B) — so each return adds a row keyed the other way round, which counts as no handoff: an
    ordered pair with returns and no handoff of its own has a row with 0 handoffs and cases.

    >>> "JOIN case_ids" in ping_pong_sql("case"), "JOIN case_ids" in ping_pong_sql("pair")
    (True, False)
    """
    pair_kind, groups = _PING_PONG_KEYS[by]
    pairs = _PAIR_COLUMNS[pair_kind]
    by_case = by == "case"
    keys = groups.replace("case_no", "case_id") if by_case else groups
    if pair_kind == "ordered":
        # Each handoff on (source, target), each return also on (target, source).
        pair_handoffs = f"""
  SELECT {groups}, SUM(handoff) AS handoff_count,
         COUNT(DISTINCT CASE WHEN handoff = 1 THEN case_no END) AS case_count,
         SUM(is_return) AS return_count
  FROM (
    SELECT case_no, procedure, source, target, 1 AS handoff, 0 AS is_return FROM handoffs
    UNION ALL
    SELECT case_no, procedure, target AS source, source AS target, 0 AS handoff, 1 AS is_return
    FROM handoffs WHERE returned
  ) AS keyed
  GROUP BY {groups}"""
    else:
        pair_handoffs = f"""
  SELECT {groups}, COUNT(*) AS handoff_count, COUNT(DISTINCT case_no) AS case_count,
         SUM(CASE WHEN returned THEN 1 ELSE 0 END) AS return_count
  FROM (SELECT case_no, procedure, {pairs}, returned FROM handoffs) AS keyed
  GROUP BY {groups}"""
    return with_ctes(
        *_CLASSIFIED,
        ("pair_handoffs", pair_handoffs),
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
       CAST(COALESCE(h.return_count, 0) AS BIGINT) AS returns,
       CAST(COALESCE(b.excess_cases, 0) AS BIGINT) AS pingpong_cases,
       CAST(COALESCE(b.excess_minutes, 0) AS DOUBLE) / 60.0 AS working_hours_lost,
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
       working_hours_held AS working_hours, NULL AS p90_working_hours
FROM nodes
UNION ALL
SELECT FALSE AS is_node, source, target, cases, handoffs AS count,
       waits[1] / 60.0 AS working_hours, waits[2] / 60.0 AS p90_working_hours
FROM edges
ORDER BY is_node DESC, source, target""",
)
"""The handoff network: per department (is_node) cases, events (``count``) and the working hours
held (``working_hours``: sum of its events' sojourns); per ordered pair cases, handoffs
(``count``), the median (``working_hours``) and 90th-percentile (``p90_working_hours``) wait in
working hours."""


def figure_sqls() -> dict[str, str]:
    """Every SQL text of this module by name (the Spark path transpiles exactly these).

    >>> sorted(figure_sqls())[:4]
    ['bounces', 'department_runs', 'handoffs', 'network']
    """
    sqls = {
        "department_runs": DEPARTMENT_RUNS_SQL,
        "handoffs": HANDOFFS_SQL,
        "reference_counts": REFERENCE_COUNTS_SQL,
        "sequences": SEQUENCES_SQL,
        "reference_sequences": REFERENCE_SEQUENCES_SQL,
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

    Case a goes Văn phòng → Tư pháp → Văn phòng → Tư pháp, b once there, and c's first two
    events are one run (8:00 to 16:00, an event an hour):

    >>> import procmine as pm
    >>> log = pd.DataFrame({"case:concept:name": list("aaaabbccc"), "concept:name": "Xử lý",
    ...     "org:group": ["Văn phòng", "Tư pháp"] * 3 + ["Văn phòng", "Văn phòng", "Tư pháp"],
    ...     "time:timestamp": pd.date_range("2024-05-06 08:00", periods=9, freq="h")})
    >>> pm.department_runs(log)[["case_id", "run_no", "department", "events"]].tail(4)
      case_id  run_no department  events
    4       b       0  Văn phòng       1
    5       b       1    Tư pháp       1
    6       c       0  Văn phòng       2
    7       c       1    Tư pháp       1
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

    The log of :func:`department_runs` (b's handoff, 12:00 to 13:00, spans the lunch break: no
    working time):

    >>> import procmine as pm
    >>> log = pd.DataFrame({"case:concept:name": list("aaaabbccc"), "concept:name": "Xử lý",
    ...     "org:group": ["Văn phòng", "Tư pháp"] * 3 + ["Văn phòng", "Văn phòng", "Tư pháp"],
    ...     "time:timestamp": pd.date_range("2024-05-06 08:00", periods=9, freq="h")})
    >>> pm.handoff_table(log)[["case_id", "position", "source", "target", "wait_minutes"]]
      case_id  position     source     target  wait_minutes
    0       a         0  Văn phòng    Tư pháp          60.0
    1       a         1    Tư pháp  Văn phòng          60.0
    2       a         2  Văn phòng    Tư pháp          60.0
    3       b         0  Văn phòng    Tư pháp           0.0
    4       c         0  Văn phòng    Tư pháp          60.0
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

    Without a catalog the reference is the most frequent sequence, Văn phòng → Tư pháp (cases b
    and c), so both bounces of case a are excess:

    >>> import procmine as pm
    >>> log = pd.DataFrame({"case:concept:name": list("aaaabbccc"), "concept:name": "Xử lý",
    ...     "org:group": ["Văn phòng", "Tư pháp"] * 3 + ["Văn phòng", "Văn phòng", "Tư pháp"],
    ...     "time:timestamp": pd.date_range("2024-05-06 08:00", periods=9, freq="h")})
    >>> pm.bounce_table(log)[["case_id", "position", "source", "target", "rank", "excess"]]
      case_id  position     source     target  rank  excess
    0       a         0  Văn phòng    Tư pháp     1    True
    1       a         1    Tư pháp  Văn phòng     1    True
    """
    events = with_catalog_procedure(_events(log, calendar), catalog)
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
    return_activities: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Ping-pong between departments: handoffs, bounces, excess bounces, returns and the time
    they lose.

    ``by="pair"`` gives one row per unordered pair with at least one handoff (``department_a <
    department_b`` in code point order, as Python's ``sorted``); ``"ordered"`` per (source,
    target), a bounce A → B → A counting on (A, B); ``"procedure"`` per procedure and pair;
    ``"case"`` per case and pair, the cases behind every figure. Columns after the keys:

    - handoffs: handoffs in either direction (``"ordered"``: source → target);
    - bounces, excess_bounces: see the module docstring (``docs/definitions.md``);
    - returns: handoffs B → A that leave from a return event (the work sent back), on {A, B}
      (``"ordered"``: on (A, B), the pair whose bounce A → B → A the return makes; such a row
      may have no handoff of its own);
    - pingpong_cases: cases with at least one excess bounce on the pair;
    - working_hours_lost: working hours lost to the excess bounces (round trips A → B → A);
    - cases: cases with at least one handoff on the pair.

    Rows are sorted by excess_bounces, then bounces, then handoffs, largest first.
    ``result.attrs["reference"]`` is ``"catalog"``, ``"most frequent sequence"`` or, when the
    catalog lacks some procedures of the log, says which procedures fell back to the most frequent
    sequence; ``result.attrs["references"]`` maps each procedure to its reference.

    Returns are the system's own record: in a transfer history (a log with the column
    ``schema.TRANSFER``) the transfers of kind ``"return"``; in a step log the steps whose
    activity matches ``return_activities`` (:func:`procmine.vocabulary.matches`; None: those of
    the events table given, :data:`procmine.vocabulary.RETURNS` for a log).
    ``result.attrs["returns"]`` says which: ``"transfer history"`` or the list of names (None
    for an events table built by hand: its ``returned`` column, false where it has none).

    Example
    -------
    The log of :func:`department_runs`: case a's two bounces are beyond the most frequent
    sequence, and each lost a round trip of two working hours:

    >>> import procmine as pm
    >>> log = pd.DataFrame({"case:concept:name": list("aaaabbccc"), "concept:name": "Xử lý",
    ...     "org:group": ["Văn phòng", "Tư pháp"] * 3 + ["Văn phòng", "Văn phòng", "Tư pháp"],
    ...     "time:timestamp": pd.date_range("2024-05-06 08:00", periods=9, freq="h")})
    >>> pairs = pm.ping_pong(log)
    >>> pairs[["department_a", "department_b", "handoffs", "excess_bounces", "working_hours_lost"]]
      department_a department_b  handoffs  excess_bounces  working_hours_lost
    0      Tư pháp    Văn phòng         5               2                 4.0
    >>> pairs.attrs["reference"]
    'most frequent sequence'

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
    events = with_catalog_procedure(_events(log, calendar, return_activities), catalog)
    tables, reference = _reference_tables(events, catalog)
    result = engines.query(
        ping_pong_sql(by), engine, with_case_ids=by == "case", events=events, **tables
    )
    result.attrs.update(reference)
    result.attrs["returns"] = _returns_read_from(events)
    return result


def _returns_read_from(events: pd.DataFrame) -> str | list[str] | None:
    """What the returns of ``events`` were read from, for ``attrs``: ``"transfer history"``, the
    return names, or None for a table built by hand (its ``returned`` column, else none)."""
    source = engines.table_returns(events)
    if source is None or source == schema.TRANSFER:
        return None if source is None else "transfer history"
    return list(source)


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
    >>> log = pd.DataFrame({"case:concept:name": list("aaaabbccc"), "concept:name": "Xử lý",
    ...     "org:group": ["Văn phòng", "Tư pháp"] * 3 + ["Văn phòng", "Văn phòng", "Tư pháp"],
    ...     "time:timestamp": pd.date_range("2024-05-06 08:00", periods=9, freq="h")})
    >>> pm.reference_sequences(log)[["reference", "sequence", "cases", "procedure_cases"]]
                    reference              sequence  cases  procedure_cases
    0  most frequent sequence  (Văn phòng, Tư pháp)      2                3
    """
    events = with_catalog_procedure(_events(log, calendar), catalog)
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
        REFERENCE_SEQUENCES_SQL, engine, events=events, catalog_sequences=catalog_sequences
    )
    result["sequence"] = [tuple(text.split("\x01")) for text in result["sequence"]]
    return result


def handoff_network(log: pd.DataFrame, calendar: Any = None, engine: Any = None) -> nx.DiGraph:
    """The department handoff network as a networkx DiGraph.

    Nodes are departments with attributes ``cases``, ``events`` and ``working_hours_held`` (the
    sum of its events' sojourns: working time since the previous event of the case, in hours).
    Edges are handoffs A → B with attributes ``handoffs``, ``cases``,
    ``median_wait_working_hours`` and ``p90_wait_working_hours`` (the handoff wait: working hours
    from the last event in A to the first in
    B). Quantiles interpolate linearly between order statistics — position (n − 1)·p over the
    sorted waits, numpy's default and DuckDB's ``quantile_cont``.

    The log of :func:`department_runs`:

    >>> import procmine as pm
    >>> log = pd.DataFrame({"case:concept:name": list("aaaabbccc"), "concept:name": "Xử lý",
    ...     "org:group": ["Văn phòng", "Tư pháp"] * 3 + ["Văn phòng", "Văn phòng", "Tư pháp"],
    ...     "time:timestamp": pd.date_range("2024-05-06 08:00", periods=9, freq="h")})
    >>> graph = pm.handoff_network(log)
    >>> graph.edges["Văn phòng", "Tư pháp"]
    {'handoffs': 4, 'cases': 3, 'median_wait_working_hours': 1.0, 'p90_wait_working_hours': 1.0}
    >>> graph.nodes["Tư pháp"]
    {'cases': 3, 'events': 4, 'working_hours_held': 3.0}

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
        columns={"source": "department", "count": "events", "working_hours": "working_hours_held"}
    )[["department", "cases", "events", "working_hours_held"]]
    waits = {
        "working_hours": "median_wait_working_hours",
        "p90_working_hours": "p90_wait_working_hours",
    }
    edges = rows[~is_node].rename(columns={"count": "handoffs", **waits})[
        ["source", "target", "handoffs", "cases", *waits.values()]
    ]
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
    - ``pair_balance``: per unordered pair with a handoff, department_a < department_b,
      handoffs_ab, handoffs_ba and balance = min/max of the two counts (1: as many handoffs back
      as forth, 0: one way only); sorted by balance then volume;
    - ``edge_reciprocity``: the share of the network's edges (directions A → B, however many
      handoffs each) whose reverse edge exists — networkx's ``overall_reciprocity``; a single
      handoff back counts as much as a thousand (NaN without edges);
    - ``components``: strongly connected groups of two or more departments (work can circulate
      among them), largest first, each a sorted list;
    - ``cycles``: simple cycles of at most ``max_cycle_length`` departments, each a list;
    - ``communities``: greedy-modularity communities of the undirected graph weighted by
      handoffs in both directions, largest first, each a sorted list.

    Three handoffs A → B and one back, two B → C and none back:

    >>> g = nx.DiGraph([("A", "B", {"handoffs": 3}), ("B", "A", {"handoffs": 1}),
    ...                 ("B", "C", {"handoffs": 2})])
    >>> summary = network_summary(g)
    >>> summary["pair_balance"]
      department_a department_b  handoffs_ab  handoffs_ba   balance
    0            A            B            3            1  0.333333
    1            B            C            2            0  0.000000
    >>> summary["edge_reciprocity"]  # A → B and B → A of the three edges
    0.6666666666666666
    >>> summary["hubs"]["department"].tolist(), summary["components"], summary["cycles"]
    (['B', 'A', 'C'], [['A', 'B']], [['A', 'B']])
    """
    return {
        "hubs": _hubs(graph),
        "pair_balance": _pair_balance(graph),
        "edge_reciprocity": (
            nx.overall_reciprocity(graph) if graph.number_of_edges() else float("nan")
        ),
        "components": _largest_first(
            c for c in nx.strongly_connected_components(graph) if len(c) > 1
        ),
        "cycles": sorted(
            (_from_smallest(c) for c in nx.simple_cycles(graph, length_bound=max_cycle_length)),
            key=lambda c: (len(c), c),
        ),
        "communities": _largest_first(_communities(graph)),
    }


def _pair_balance(graph: nx.DiGraph) -> pd.DataFrame:
    """How evenly each department pair's handoffs go both ways.

    One row per unordered pair with a handoff (loops left out): department_a < department_b,
    handoffs_ab (A → B), handoffs_ba (B → A) and balance = min/max of the two (1: as many back as
    forth, 0: one way only). Sorted by balance, then by the pair's handoffs, largest first.

    >>> g = nx.DiGraph([("A", "B", {"handoffs": 4}), ("B", "A", {"handoffs": 1}),
    ...                 ("C", "B", {"handoffs": 2}), ("B", "C", {"handoffs": 2})])
    >>> _pair_balance(g)[["department_a", "department_b", "balance"]].values.tolist()
    [['B', 'C', 1.0], ['A', 'B', 0.25]]
    """
    pairs: dict[tuple[str, str], list[int]] = {}
    for u, v, attrs in graph.edges(data=True):
        if u == v:
            continue
        a, b = sorted((u, v))
        pairs.setdefault((a, b), [0, 0])[0 if u == a else 1] += attrs.get("handoffs", 1)
    balance = pd.DataFrame(
        [(a, b, ab, ba) for (a, b), (ab, ba) in pairs.items()],
        columns=["department_a", "department_b", "handoffs_ab", "handoffs_ba"],
    )
    balance["balance"] = np.minimum(balance["handoffs_ab"], balance["handoffs_ba"]) / np.maximum(
        balance["handoffs_ab"], balance["handoffs_ba"]
    )
    return (
        balance.assign(total=balance["handoffs_ab"] + balance["handoffs_ba"])
        .sort_values(
            ["balance", "total", "department_a", "department_b"],
            ascending=[False, False, True, True],
            ignore_index=True,
        )
        .drop(columns="total")
    )


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _hubs(graph: nx.DiGraph) -> pd.DataFrame:
    """Each department's betweenness (normalised, directed, unweighted) and degrees, the
    coordination hubs first."""
    betweenness = nx.betweenness_centrality(graph, normalized=True)
    return pd.DataFrame(
        {
            "department": list(graph.nodes),
            "betweenness": [betweenness[n] for n in graph.nodes],
            "in_degree": [graph.in_degree(n) for n in graph.nodes],
            "out_degree": [graph.out_degree(n) for n in graph.nodes],
        }
    ).sort_values(["betweenness", "department"], ascending=[False, True], ignore_index=True)


def _communities(graph: nx.DiGraph) -> list[set[str]]:
    """Greedy-modularity communities of the undirected network, each pair weighted by its
    handoffs in both directions (every department alone when there is no handoff)."""
    undirected = nx.Graph()
    undirected.add_nodes_from(graph.nodes)
    for u, v, attrs in graph.edges(data=True):
        if u != v:
            weight = undirected.get_edge_data(u, v, {"weight": 0})["weight"]
            undirected.add_edge(u, v, weight=weight + attrs.get("handoffs", 1))
    if not undirected.number_of_edges():
        return [{n} for n in undirected.nodes]
    return nx.community.greedy_modularity_communities(undirected, weight="weight")


def _largest_first(groups: Any) -> list[list[str]]:
    """Groups of departments as sorted lists, the largest first (ties by their names)."""
    return sorted((sorted(g) for g in groups), key=lambda g: (-len(g), g))


def _from_smallest(cycle: list[str]) -> list[str]:
    """A cycle rotated to start at its smallest department, so each cycle reads one way."""
    start = cycle.index(min(cycle))
    return cycle[start:] + cycle[:start]


def _events(
    log: pd.DataFrame, calendar: Any, return_activities: Iterable[str] | None = None
) -> pd.DataFrame:
    """The events table with its sequence links: ``log`` itself when it already is one (or has
    the columns these figures read), else built from the log; its returns read with
    ``return_activities`` (:func:`procmine.engines.with_returns`)."""
    if schema.DEPARTMENT not in log.columns and "department" not in log.columns:
        raise schema.MissingColumnError(
            f"Handoffs need the department column '{schema.DEPARTMENT}'; the log has "
            f"{[str(c) for c in log.columns]}. Map your department header onto it when loading "
            "(pm.read_log(..., mapping={'Đơn vị xử lý': 'org:group'}))."
        )
    # From a log, only what these figures read is built (no activity, official or lifecycle).
    built, _ = engines.clocked(
        log, calendar, _EVENT_COLUMNS, build=TABLE_COLUMNS, return_activities=return_activities
    )
    if len(built) and not _has_departments(built["department"]):
        raise schema.MissingColumnError(
            "No event has a department (the log has no department column, or only empty or "
            "placeholder values in it): handoff and ping-pong figures are unavailable. Map the "
            "export's department header when loading (pm.read_log(..., mapping={'Đơn vị xử lý': "
            "'org:group'})); pm.load_report(log) says which column it chose."
        )
    return with_sequence_links(engines.with_returns(built, return_activities))


def has_departments(log: pd.DataFrame) -> bool:
    """Whether any event of ``log`` (or of its events table) has a department: the handoff and
    ping-pong figures need one.

    >>> import procmine as pm
    >>> log = pm.datasets.example_log()
    >>> has_departments(log), has_departments(log.drop(columns="org:group"))
    (True, False)
    """
    column = "department" if engines.is_event_table(log) else schema.DEPARTMENT
    return column in log.columns and _has_departments(log[column])


def _has_departments(department: pd.Series) -> bool:
    """Whether any event has a department (a coded column: read from its categories, which hold
    only the values present)."""
    if isinstance(department.dtype, pd.CategoricalDtype):
        return len(department.cat.categories) > 0
    if not isinstance(department, pd.Series):  # a table kept on an engine: asked there
        return bool(engines.distinct(department))
    return bool(department.notna().any())


def _catalog_events(catalog: pd.DataFrame | None) -> pd.DataFrame | None:
    """The catalog's approved paths as an events table with its sequence links, so the approved
    sequence goes through exactly the same run and bounce SQL as the cases."""
    if catalog is None:
        return None
    return with_sequence_links(approved_events(catalog))


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
    procedures = engines.distinct(events["procedure"])
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
