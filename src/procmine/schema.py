"""The canonical event-log columns (pm4py's names) and the one check every analysis shares.

A log that passes :func:`require_columns` can be handed to pm4py unchanged.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import pandas as pd

CASE = "case:concept:name"
ACTIVITY = "concept:name"
TIMESTAMP = "time:timestamp"
DEPARTMENT = "org:group"
RESOURCE = "org:resource"
PROCEDURE = "case:procedure"
LIFECYCLE = "lifecycle:transition"
DEADLINE = "case:deadline"

REQUIRED = (CASE, ACTIVITY, TIMESTAMP)
CANONICAL = (CASE, ACTIVITY, TIMESTAMP, DEPARTMENT, RESOURCE, PROCEDURE, LIFECYCLE, DEADLINE)

# Transfer histories (docs/definitions.md, "Transfer histories"): each event's kind of transfer,
# and whether it is a side copy (which takes no part in department sequences or sojourns).
TRANSFER = "procmine:transfer"
SIDE_COPY = "procmine:side_copy"
MAIN, RETURN, SIDE, CLOSING, HOLDER = "main", "return", "side copy", "closing", "holder"
TRANSFER_KINDS = (MAIN, RETURN, SIDE, CLOSING, HOLDER)

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
# The procedure of every case of a log without a procedure column (one procedure assumed).
DEFAULT_PROCEDURE = "(all)"


class MissingColumnError(KeyError):
    """A column the analysis needs is not in the log; the message lists what was found."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


def require_columns(
    frame: pd.DataFrame, columns: Iterable[str], what: str = "the event log"
) -> None:
    """Raise :class:`MissingColumnError` naming each missing column, the columns found and the
    closest matches.

    >>> require_columns(pd.DataFrame({"case:concept:name": []}), ["case:concept:name"])
    """
    missing = [c for c in columns if c not in frame.columns]
    if not missing:
        return
    found = [str(c) for c in frame.columns]
    hints = []
    for column in missing:
        close = difflib.get_close_matches(column, found, n=3, cutoff=0.4)
        hints.append(
            f"'{column}'" + (f" (closest: {', '.join(map(repr, close))})" if close else "")
        )
    raise MissingColumnError(
        f"{what} lacks the column(s) {'; '.join(hints)}. Columns found: {found}. "
        "Rename them, or pass mapping={'your header': 'canonical name'} to pm.read_log."
    )


def check_choice(name: str, value: object, allowed: Iterable[str]) -> None:
    """Raise ValueError when an argument is not one of its allowed values, naming them.

    >>> check_choice("by", "unit", ["activity", "department"])
    Traceback (most recent call last):
    ...
    ValueError: by must be one of ['activity', 'department'], found 'unit'.
    """
    allowed = list(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, found {value!r}.")
