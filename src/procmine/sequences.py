"""The department sequence of a case, its handoffs and bounces: the one home of their definitions.

The definitions (docs/definitions.md), as procmine computes them:

- an event is **in sequence** when it has a department and is not a side copy of a transfer
  history (:func:`in_sequence`); the others neither start nor break a run;
- the **department sequence** of a case: the departments of its in-sequence events in time
  (``idx``) order, consecutive repeats collapsed into one **run**;
- a **handoff** at position j: run j → run j + 1;
- a **bounce** at position j: run j + 2 is back in the department of run j (A → B → A); it
  belongs to the ordered pair (A, B) and to the unordered pair {A, B}; its **rank** is 1 for the
  case's first bounce on (A, B) in time order, 2 for the next, …;
- the **time lost** to a bounce: the working time from the last event of run j to the first
  event of run j + 2 (the round trip);
- a **return**: a handoff B → A whose leaving event (the last event of B's run) is a return
  event (the events table's ``returned``: a transfer of kind "return", or a step named as a
  return); it belongs to the ordered pair (A, B) — the pair whose bounce A → B → A it makes —
  and to the unordered pair {A, B}. A return event that does not hand off counts for no pair.

Each definition has two faces, both here: the links between consecutive entries that the events
table carries (:func:`links`, numpy over the table's case order, so no figure sorts every event
in a window), and the SQL common table expressions that the figures compose from those links
(:data:`RUNS`, :data:`HANDOFFS`, :data:`BOUNCES`, :func:`sequences`). ``procmine.engines``
builds the links into the table; ``procmine.handoffs`` and the bottlenecks compose the CTEs.
A CTE is a pair ``(name, body)``, composed by :func:`procmine.engines.with_ctes`.

One case whose events are in departments A, B, B, A (codes 0, 1, 1, 0): runs A, B, A; handoffs
leave from its first and third events (positions 0 and 1), and a bounce A → B → A starts at the
first, the case's first on (A, B):

>>> import numpy as np
>>> found = links(np.zeros(4, int), np.arange(4), np.array([0, 1, 1, 0]), np.ones(4, bool))
>>> found.handoff_position.tolist(), found.bounce_rank.tolist()
([0, -1, 1, -1], [1, 0, 0, 0])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "BOUNCES",
    "ENDS_RUN",
    "HANDOFFS",
    "MARKED",
    "RUNS",
    "SequenceLinks",
    "case_order",
    "in_sequence",
    "links",
    "ranks",
    "sequences",
]


# ------------------------------------------------------------------------- the links, numpy
def in_sequence(department_codes: np.ndarray, side_copy: np.ndarray) -> np.ndarray:
    """Whether each event takes part in its case's department sequence: it has a department
    (code ≥ 0) and is not a side copy.

    >>> in_sequence(np.array([0, -1, 1]), np.array([False, False, True])).tolist()
    [True, False, False]
    """
    return (department_codes >= 0) & ~side_copy


def case_order(case_no: np.ndarray, idx: np.ndarray) -> np.ndarray | None:
    """The permutation that puts rows in (case, idx) order — each case's events in time order —
    or None when they are in it already (an events table is: its cases are contiguous and in
    ``idx`` order).

    >>> case_order(np.array([1, 0, 1]), np.array([0, 1, 2])).tolist()
    [1, 0, 2]
    """
    steps = np.diff(case_no)
    if np.all((steps > 0) | ((steps == 0) & (np.diff(idx) > 0))):
        return None
    return np.lexsort((idx, case_no))


@dataclass(frozen=True)
class SequenceLinks:
    """The links of :func:`links`, as rows of the table.

    ``entry``, ``next_entry``: each in-sequence event and the next in-sequence event of its case.
    ``handoff_position``: per row, the handoff's position j among the case's handoffs where the
    row hands off (its next entry is in another department), else -1. ``handoff``,
    ``return_entry``: each handoff but the case's last, and the first event of the case's next
    handoff's target (a bounce when that is back in the handoff's department).
    ``bounce_rank``: per row, the rank of the bounce A → B → A that starts there, else 0.
    """

    entry: np.ndarray
    next_entry: np.ndarray
    handoff_position: np.ndarray
    handoff: np.ndarray
    return_entry: np.ndarray
    bounce_rank: np.ndarray


def links(
    case_no: np.ndarray, idx: np.ndarray, codes: np.ndarray, entries: np.ndarray
) -> SequenceLinks:
    """The links between consecutive entries of each case's department sequence.

    ``codes`` are the departments as integers equal where the names are equal (-1 for none),
    ``entries`` the :func:`in_sequence` flags; rows may come in any order (``idx`` is time).
    """
    n = len(case_no)
    rows = np.flatnonzero(entries)
    row_case = case_no[rows]
    order = case_order(row_case, idx[rows])
    if order is not None:
        rows, row_case = rows[order], row_case[order]
    # Consecutive entries: each entry and the next one of its case.
    same_case = row_case[1:] == row_case[:-1]
    this, following = rows[:-1][same_case], rows[1:][same_case]
    hands_off = (codes[this] != codes[following]) & (codes[this] >= 0) & (codes[following] >= 0)
    # Handoffs of a case in order: their positions, and each one's next handoff in the case.
    handoff, target_entry = this[hands_off], following[hands_off]
    handoff_case = case_no[handoff]
    first = np.r_[True, handoff_case[1:] != handoff_case[:-1]][: len(handoff)]
    counter = np.arange(len(handoff), dtype=np.int32)
    position = np.full(n, -1, dtype=np.int32)
    position[handoff] = counter - np.maximum.accumulate(np.where(first, counter, 0))
    returning = ~first[1:]
    returns, return_entry = handoff[:-1][returning], target_entry[1:][returning]
    # A bounce: the next handoff returns to this one's department (A → B → A). Its rank on its
    # ordered pair (A, B) within the case, in time order, tells the prescribed bounces from the
    # excess ones.
    back = codes[return_entry] == codes[returns]
    bounces, bounce_target = returns[back], target_entry[:-1][returning][back]
    width = int(codes.max(initial=-1)) + 1
    pair = codes[bounces].astype(np.int32) * width + codes[bounce_target]
    return SequenceLinks(
        entry=this,
        next_entry=following,
        handoff_position=position,
        handoff=returns,
        return_entry=return_entry,
        bounce_rank=ranks(n, bounces, case_no[bounces], pair),
    )


def ranks(n: int, rows: np.ndarray, case_no: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """A column of ``n`` rows: at each of ``rows`` (positions in (case, idx) order), 1 + the
    number of earlier ``rows`` of its case with the same key; 0 elsewhere.

    >>> ranks(6, np.array([0, 1, 2, 4, 5]), np.array([0, 0, 0, 1, 1]),
    ...       np.array([7, 8, 7, 7, 7])).tolist()
    [1, 1, 2, 0, 1, 2]
    """
    if len(keys) and keys.max() < 2**15 and keys.min() >= 0:
        keys = keys.astype(np.int16)  # a stable sort of 16-bit keys is a radix sort
    order = np.argsort(keys, kind="stable")  # stable: time order kept within each key
    key, case = keys[order], case_no[order]
    starts = np.r_[True, (key[1:] != key[:-1]) | (case[1:] != case[:-1])][: len(key)]
    at = np.arange(len(key))
    ranked = at - np.maximum.accumulate(np.where(starts, at, 0)) + 1
    rank = np.zeros(n, dtype=np.int16 if ranked.max(initial=0) < 2**15 else np.int32)
    rank[rows[order]] = ranked
    return rank


# ---------------------------------------------------------------------- the same, in SQL
# The CTEs read the events table with its links (next_department, next_wm, handoff_position,
# return_department, return_first_wm, bounce_rank: built from :func:`links`). A run ends where
# the department differs from the next one, or at the case's last in-sequence event, so each run
# has exactly one end.
ENDS_RUN = "next_department IS DISTINCT FROM department"

MARKED = (
    "marked",
    f"""
  SELECT case_no, procedure, idx, department, wm,
         CASE WHEN {ENDS_RUN} THEN 1 ELSE 0 END AS ends_run
  FROM events
  WHERE in_sequence""",
)

# An event's run number is the count of run ends before it: runs 0, 1, ... (reads ``marked``).
RUNS = (
    "runs",
    """
  SELECT case_no, MIN(procedure) AS procedure, run_no, department,
         MIN(idx) AS first_idx, MAX(idx) AS last_idx,
         ARG_MIN(wm, idx) AS first_wm, ARG_MAX(wm, idx) AS last_wm,
         COUNT(*) AS events
  FROM (
    SELECT case_no, procedure, idx, department, wm,
           CAST(SUM(ends_run) OVER (PARTITION BY case_no ORDER BY idx
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
                AS BIGINT) - ends_run AS run_no
    FROM marked
  ) AS numbered
  GROUP BY case_no, run_no, department""",
)

# A handoff leaves from the last event of run j (its department differs from the next one) to the
# first event of run j + 1; the handoffs of a case in order are its runs' ends, so the j-th is at
# position j. Each handoff carries the next one of its case: a bounce is a handoff A → B followed
# by B → A (runs j, j+1, j+2 in A, B, A), whose round trip ends at the next handoff's first event.
# ``returned`` says whether the leaving event is a return event: the handoff is then a return,
# which belongs to the ordered pair (target, source).
# An event hands off exactly where its handoff_position is set (>= 0: in sequence, and the next
# entry is in another department), so the handoffs are read straight from the events (a CTE
# between them that two figures' parts read would be materialised: a copy of every in-sequence
# event).
HANDOFFS = (
    "handoffs",
    """
  SELECT case_no, procedure, department AS source, next_department AS target,
         next_wm - wm AS wait_minutes, idx AS last_idx, wm AS last_wm,
         next_wm AS target_first_wm, CAST(handoff_position AS BIGINT) AS position,
         return_department, return_first_wm, bounce_rank, returned
  FROM events
  WHERE handoff_position >= 0""",
)

# Consecutive runs always differ, so return_department = source implies A ≠ B. A bounce's rank is
# the link ``bounce_rank``: a window numbering the bounces of each (case, A, B) cost more than the
# rest of ping_pong together (reads ``handoffs``).
BOUNCES = (
    "bounces",
    """
  SELECT case_no, procedure, position, source, target,
         return_first_wm - last_wm AS minutes_lost, last_idx, CAST(bounce_rank AS BIGINT) AS rank
  FROM handoffs
  WHERE return_department = source""",
)


def sequences(where: str = "") -> tuple[str, str]:
    """The CTE ``sequences``: per case, its department sequence as one text, the departments of
    its run ends in order joined by CHR(1) — which sorts below every printable character, so
    comparing joined sequences compares the lists element by element (a prefix sorts first).
    ``where`` narrows the cases (a condition on the events, joined with AND).

    >>> sequences("procedure = 'A'")[1].strip().splitlines()[-2].strip()
    "WHERE in_sequence AND next_department IS DISTINCT FROM department AND procedure = 'A'"
    """
    narrowed = f" AND {where}" if where else ""
    return (
        "sequences",
        f"""
  SELECT case_no, MIN(procedure) AS procedure,
         STRING_AGG(department, CHR(1) ORDER BY idx) AS sequence
  FROM events
  WHERE in_sequence AND {ENDS_RUN}{narrowed}
  GROUP BY case_no""",
    )
