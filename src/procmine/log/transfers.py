"""Transfer histories: an export of a dossier's chain of custody read into the canonical log.

Many document-management systems export transfers, not steps: who sent the dossier to which
department, when, and how — main handling (Chuyển xử lý), a return (Trả lại), a side copy for
coordination or information (Chuyển phối hợp, Để biết) and the closing (Hoàn thành). Such an
export is recognised by its sender and recipient department headers (:data:`TRANSFER_HEADERS`)
and read, as ``docs/definitions.md`` ("Transfer histories") says, into one event per transfer,
done by the **sender's** department and official at the transfer time, ``concept:name`` the
action as the export wrote it, and two flags: ``procmine:transfer`` (its kind, by the action
vocabulary :data:`ACTIONS`) and ``procmine:side_copy``. The department sequence is then the
**holder sequence**: the first sender, then the recipient of each main transfer or return.

Three things happen here and nowhere else, in two passes around the step-log assembly of
:mod:`procmine.log.canonical`:

- before it (:func:`as_steps`): headers found, actions mapped to kinds on their distinct values,
  and the main transfers and returns without a sender or a recipient marked for quarantine;
- after it (:func:`with_custody`): transfers of one case at the same instant put in **chain of
  custody** order (each one's sender holds the case when it is sent), custody transfers whose
  sender is not the current holder flagged (``procmine:out_of_chain``, kept: it is what the
  system recorded; a holder marker of the department that did hold the dossier goes just
  before it, so the holder sequence keeps that department), and each open case — one whose
  last custody event is not a closing — given a **holder marker**: an event of kind ``holder``
  in the recipient's department at the time of its last transfer, so a dossier still open ends
  its sequence where it sits now.

>>> import pandas as pd
>>> from procmine.log import read_log, load_report
>>> export = pd.DataFrame({
...     "Mã hồ sơ": ["HS1", "HS1", "HS1"],
...     "Đơn vị chuyển": ["Văn phòng", "Phòng Tư pháp", "Văn phòng"],
...     "Đơn vị nhận": ["Phòng Tư pháp", "Văn phòng", "Phòng Tư pháp"],
...     "Thời gian chuyển": ["02/01/2024 08:00", "03/01/2024 09:00", "04/01/2024 10:00"],
...     "Hình thức chuyển": ["Chuyển xử lý", "Trả lại", "Chuyển xử lý"]})
>>> log = read_log(export)
>>> log[["org:group", "procmine:transfer"]].values.tolist()
[['Văn phòng', 'main'], ['Phòng Tư pháp', 'return'], ['Văn phòng', 'main'], \
['Phòng Tư pháp', 'holder']]
>>> load_report(log)["transfers_by_kind"]
{'main': 2, 'return': 1, 'side copy': 0, 'closing': 0, 'holder': 1}
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from procmine import schema
from procmine.log.headers import name_rank
from procmine.log.report import REASON_NO_RECIPIENT, REASON_NO_SENDER
from procmine.log.text import encode_text, materialise, non_empty
from procmine.vocabulary import named, normal_name, read_config

__all__ = [
    "ACTIONS",
    "HOLDER_ACTIVITY",
    "OUT_OF_CHAIN",
    "TRANSFER_HEADERS",
    "TransferFrame",
    "action_kinds",
    "as_steps",
    "read_transfer_actions",
    "transfer_headers",
    "with_custody",
]

OUT_OF_CHAIN = "procmine:out_of_chain"
# The activity of a holder marker: the department that holds an open dossier now.
HOLDER_ACTIVITY = "Đang giữ hồ sơ"

# Header names of a transfer history's columns, in priority order (matched like step-log headers:
# case, Unicode form, spaces and punctuation ignored; unaccented spellings as a fallback).
TRANSFER_HEADERS: dict[str, tuple[str, ...]] = {
    "sender_department": (
        "Đơn vị chuyển", "Đơn vị gửi", "Phòng chuyển", "Phòng gửi", "Đơn vị chuyển đi",
        "sender department", "sending department", "from department", "from unit",
        "sender unit", "from", "sender",
    ),
    "sender": (
        "Người chuyển", "Người gửi", "Cán bộ chuyển", "Cán bộ gửi",
        "sender official", "sent by", "from official", "sender name",
    ),
    "recipient_department": (
        "Đơn vị nhận", "Phòng nhận", "Đơn vị tiếp nhận", "recipient department",
        "receiving department", "to department", "to unit", "recipient unit", "to", "recipient",
    ),
    "recipient": (
        "Người nhận", "Cán bộ nhận", "recipient official", "received by", "to official",
        "recipient name",
    ),
    "sent_at": (
        "Thời gian chuyển", "Thời gian gửi", "Thời điểm chuyển", "Thời điểm gửi", "Ngày chuyển",
        "Ngày gửi", "Ngày giờ chuyển", "sent at", "sent", "time sent", "transfer time",
    ),
    "action": (
        "Hình thức chuyển", "Hình thức xử lý", "Hình thức", "Loại chuyển", "Hành động",
        "action", "transfer type", "transfer action", "how",
    ),
    "comment": ("Ý kiến xử lý", "Ý kiến", "Nội dung xử lý", "comment", "opinion", "note"),
}  # fmt: skip

# What each role becomes in the canonical log (the others stay as the export's own columns).
_CANONICAL_ROLE = {
    "sender_department": schema.DEPARTMENT,
    "sender": schema.RESOURCE,
    "sent_at": schema.TIMESTAMP,
    "action": schema.ACTIVITY,
}

# The action vocabulary: the words an export writes for each kind of transfer. An action is
# of the kind of the longest name it matches (by :func:`procmine.vocabulary.matches`' rule:
# equal, or a prefix followed by a non-letter), so "Chuyển phối hợp" is a side copy although it
# starts with "Chuyển". Configurable: ``transfer_actions:`` in the config adds names per kind.
ACTIONS: dict[str, tuple[str, ...]] = {
    schema.MAIN: (
        "Chuyển xử lý", "Chuyển", "Giao xử lý", "Giao", "Trình", "Trình ký", "Trình duyệt",
        "Chuyển trình", "Chuyển tiếp", "Xử lý chính", "main", "forward", "send", "assign",
        "submit",
    ),
    schema.RETURN: (
        "Trả lại", "Chuyển lại", "Trả về", "Trả hồ sơ", "Hoàn trả", "return", "send back",
        "returned", "reject",
    ),
    schema.SIDE: (
        "Chuyển phối hợp", "Phối hợp", "Để biết", "Chuyển để biết", "Đồng gửi", "Gửi để biết",
        "Xem để biết", "side copy", "copy", "cc", "for information", "coordination",
    ),
    schema.CLOSING: (
        "Hoàn thành", "Kết thúc", "Đóng hồ sơ", "Lưu hồ sơ", "Hoàn thành xử lý", "Kết thúc xử lý",
        "closing", "close", "closed", "complete", "completed", "done",
    ),
}  # fmt: skip
_CUSTODY = (schema.MAIN, schema.RETURN)


def transfer_headers(
    headers: Sequence[object], mapping: Mapping[str, str] | None = None
) -> dict[str, str]:
    """{role: export header} of a transfer history's columns; empty unless both a sender and a
    recipient department are found. ``mapping`` may name a role for a header
    (``{"Từ phòng": "sender_department"}``); it wins over the built-in names.

    >>> transfer_headers(["Mã HS", "Đơn vị chuyển", "Đơn vị nhận", "Thời gian chuyển"])
    {'sender_department': 'Đơn vị chuyển', 'recipient_department': 'Đơn vị nhận', \
'sent_at': 'Thời gian chuyển'}
    >>> transfer_headers(["case", "activity", "department"])
    {}
    """
    names = [str(h) for h in headers]
    found = {role: header for header, role in (mapping or {}).items() if role in TRANSFER_HEADERS}
    taken = set(found.values()) | {h for h in (mapping or {}) if h not in found.values()}
    for role, candidates in TRANSFER_HEADERS.items():
        if role in found:
            continue
        ranked = sorted(
            (rank, position, header)
            for position, header in enumerate(names)
            if header not in taken and (rank := name_rank(header, candidates)) is not None
        )
        if ranked:
            found[role] = ranked[0][2]
            taken.add(ranked[0][2])
    if "sender_department" not in found or "recipient_department" not in found:
        return {}
    return {role: found[role] for role in TRANSFER_HEADERS if role in found}


def action_kinds(
    actions: Sequence[object], vocabulary: Mapping[str, Sequence[str]] | None = None
) -> list[str | None]:
    """The kind of each action word (None: not in the vocabulary), by the longest name it
    matches among :data:`ACTIONS` and ``vocabulary``'s added names. Meant for distinct values.

    >>> action_kinds(["Chuyển xử lý", "Chuyển phối hợp", "Trả lại hồ sơ", "Hoàn thành", "Ký"])
    ['main', 'side copy', 'return', 'closing', None]
    """
    names = _vocabulary(vocabulary)
    found: list[str | None] = []
    for action in actions:
        if not isinstance(action, str) or not normal_name(action):
            found.append(None)
            continue
        text = normal_name(action)
        best: tuple[int, str] | None = None
        for name, kind in names:
            if named(text, name) and (best is None or len(name) > best[0]):
                best = (len(name), kind)
        found.append(best[1] if best else None)
    return found


def read_transfer_actions(config: str | Path | Mapping[str, Any] | None) -> dict[str, list[str]]:
    """The ``transfer_actions:`` of a config (a YAML file or its dict; None: none): {kind:
    [action words]}, checked (a kind that is not one, a word list that is not a list → a
    ``ValueError`` naming the key).

    >>> read_transfer_actions({"transfer_actions": {"return": ["Không đồng ý"]}})
    {'return': ['Không đồng ý']}
    """
    found = read_config(config).get("transfer_actions") or {}
    if not isinstance(found, Mapping):
        raise ValueError(f"config transfer_actions: expected {{kind: [words]}}, found {found!r}.")
    for kind, words in found.items():
        if words is not None and not isinstance(words, list):
            raise ValueError(f"config transfer_actions: {kind!r} takes a list of action words.")
    actions = {str(kind): [str(w) for w in (words or [])] for kind, words in found.items()}
    _vocabulary(actions)  # a kind that is none is refused
    return actions


def _vocabulary(added: Mapping[str, Sequence[str]] | None) -> list[tuple[str, str]]:
    """(normal name, kind) pairs: the configured names first, so on a tie they win."""
    pairs: list[tuple[str, str]] = []
    for kind, words in (added or {}).items():
        if kind not in ACTIONS:
            raise ValueError(
                f"transfer_actions: {kind!r} is not a kind of transfer; the kinds are "
                f"{', '.join(map(repr, ACTIONS))}."
            )
        if isinstance(words, str):
            raise ValueError(f"transfer_actions: {kind!r} takes a list of action words.")
        pairs += [(normal_name(str(w)), kind) for w in words if normal_name(str(w))]
    for kind, words in ACTIONS.items():
        pairs += [(normal_name(w), kind) for w in words]
    return pairs


class TransferFrame:
    """A transfer history prepared for the step-log assembly: ``frame`` (the export's columns,
    then ``procmine:transfer`` and ``procmine:side_copy``), ``mapping`` onto the canonical
    columns, ``faults`` ({quarantine reason: row mask}), ``headers`` ({role: header}) and the
    action words outside the vocabulary ({word: rows})."""

    def __init__(
        self,
        frame: pd.DataFrame,
        mapping: dict[str, str],
        faults: dict[str, np.ndarray],
        headers: dict[str, str],
        unknown: dict[str, int],
    ) -> None:
        self.frame, self.mapping, self.faults = frame, mapping, faults
        self.headers, self.unknown = headers, unknown


def as_steps(
    frame: pd.DataFrame,
    mapping: Mapping[str, str] | None,
    missing: Sequence[str],
    actions: Mapping[str, Sequence[str]] | None = None,
    *,
    transfers: bool | None = None,
) -> TransferFrame | None:
    """``frame`` prepared for :func:`procmine.log.canonical.canonical` when it is a transfer
    history (``transfers=None``: by its headers; True: it must be one), else None."""
    if transfers is False:
        return None
    headers = transfer_headers(frame.columns, mapping)
    if not headers:
        if transfers:
            raise ValueError(
                "transfers=True, but the export has no sender and recipient department columns "
                f"(e.g. 'Đơn vị chuyển' and 'Đơn vị nhận'). Columns found: "
                f"{[str(c) for c in frame.columns]}. Name them with mapping={{'your header': "
                "'sender_department'}} and 'recipient_department'."
            )
        return None
    given = {h: c for h, c in (mapping or {}).items() if c not in TRANSFER_HEADERS}
    chosen = {headers[role]: column for role, column in _CANONICAL_ROLE.items() if role in headers}
    taken = set(given.values()) | set(given)
    canonical_mapping = {h: c for h, c in chosen.items() if c not in taken and h not in taken}
    canonical_mapping.update(given)
    action_header = headers.get("action")
    if action_header is not None:
        kinds, unknown = _kinds(frame[action_header], missing, actions)
    else:  # no action column: every transfer with a recipient moves the dossier
        kinds, unknown = np.full(len(frame), schema.MAIN, dtype=object), {}
    sender = non_empty(frame[headers["sender_department"]], missing)
    recipient = non_empty(frame[headers["recipient_department"]], missing)
    # Without an action word, a transfer without a recipient is taken as the closing.
    kinds = np.where((kinds == "") & ~recipient, schema.CLOSING, kinds)
    kinds = np.where(kinds == "", schema.MAIN, kinds)
    custody = np.isin(kinds, _CUSTODY)
    prepared = frame.copy(deep=False)
    prepared[schema.TRANSFER] = pd.array(kinds, dtype="str")
    prepared[schema.SIDE_COPY] = kinds == schema.SIDE
    if action_header is None:
        activity = np.where(kinds == schema.CLOSING, "Hoàn thành", "Chuyển xử lý")
        prepared["procmine:action"] = pd.array(activity, dtype="str")
        canonical_mapping.setdefault("procmine:action", schema.ACTIVITY)
    faults = {
        REASON_NO_SENDER: custody & ~sender,
        REASON_NO_RECIPIENT: custody & ~recipient & sender,
    }
    return TransferFrame(prepared, canonical_mapping, faults, headers, unknown)


def _kinds(
    actions: pd.Series, missing: Sequence[str], vocabulary: Mapping[str, Sequence[str]] | None
) -> tuple[np.ndarray, dict[str, int]]:
    """Per row its kind ("" where the action is blank), and {unknown word: rows}; unknown words
    are taken as main transfers. Worked out on the distinct words."""
    dictionary, codes, _, _, _ = encode_text(actions, missing)
    words = dictionary.to_pylist()
    found = action_kinds(words, vocabulary)
    per_word = np.array([k or schema.MAIN for k in found] + [""], dtype=object)
    kinds = per_word[codes]  # code -1 (blank) takes the last entry
    unknown_codes = [i for i, k in enumerate(found) if k is None]
    counts = np.bincount(codes[codes >= 0], minlength=len(words))
    unknown = {words[i]: int(counts[i]) for i in unknown_codes if counts[i]}
    return kinds, dict(sorted(unknown.items(), key=lambda item: (-item[1], item[0])))


def with_custody(
    log: pd.DataFrame, prepared: TransferFrame, missing: Sequence[str]
) -> pd.DataFrame:
    """The canonical log of a transfer history: ties in chain-of-custody order, custody transfers
    out of the chain flagged, a holder marker for each open case, and the load report told."""
    headers = prepared.headers
    recipient_header = headers["recipient_department"]
    recipient = _clean(log[recipient_header], missing)
    kind = log[schema.TRANSFER].to_numpy(dtype=object)
    case_no = pd.factorize(log[schema.CASE])[0]
    department = log[schema.DEPARTMENT] if schema.DEPARTMENT in log.columns else None
    sender = pd.Series(pd.NA, index=log.index, dtype="str") if department is None else department
    # Codes in name order, so no order below depends on the export's row order.
    codes, _ = pd.factorize(pd.concat([sender, recipient], ignore_index=True), sort=True)
    sender_code, recipient_code = codes[: len(log)], codes[len(log) :]
    stamps = log[schema.TIMESTAMP].array.asi8
    order = _custody_order(case_no, stamps, kind, sender_code, recipient_code)
    if order is not None:
        log = log.take(order).reset_index(drop=True)
        case_no, kind, stamps = case_no[order], kind[order], stamps[order]
        sender_code, recipient_code = sender_code[order], recipient_code[order]
        recipient = recipient.take(order).reset_index(drop=True)
    custody = np.isin(kind, _CUSTODY)
    holder = _holder_before(case_no, custody, recipient_code)
    out_of_chain = custody & (holder >= 0) & (sender_code != holder)
    log[OUT_OF_CHAIN] = out_of_chain
    log[recipient_header] = recipient
    markers = _holder_markers(log, case_no, kind, out_of_chain, headers, missing)
    if len(markers):
        log = _inserted(log, markers)
    report = log.attrs.get("procmine_load_report")
    if report is not None:
        counts = pd.Series(log[schema.TRANSFER]).value_counts()
        report.update(
            transfer_history=True,
            transfer_headers=dict(headers),
            transfers_by_kind={k: int(counts.get(k, 0)) for k in schema.TRANSFER_KINDS},
            out_of_chain=int(out_of_chain.sum()),
            holder_markers=len(markers),
            unknown_actions=dict(prepared.unknown),
        )
        if prepared.unknown:
            words = ", ".join(f"{w!r} ({n})" for w, n in list(prepared.unknown.items())[:5])
            report["warnings"].append(
                f"{sum(prepared.unknown.values())} transfers have an action word procmine does "
                f"not know: {words}; they were taken as main transfers (Chuyển xử lý). Name "
                "their kind under transfer_actions: in the config."
            )
        if out_of_chain.any():
            report["warnings"].append(
                f"{int(out_of_chain.sum())} transfers were sent by a department that did not hold "
                "the dossier then; they are kept as the system recorded them (column "
                f"{OUT_OF_CHAIN!r})."
            )
    return log


def _clean(values: pd.Series, missing: Sequence[str]) -> pd.Series:
    """A text column cleaned as the canonical text columns are (NFC, spaces, placeholders)."""
    dictionary, codes, _, _, _ = encode_text(values, missing)
    return materialise(dictionary, codes)


def _custody_order(
    case_no: np.ndarray,
    stamps: np.ndarray,
    kind: np.ndarray,
    sender: np.ndarray,
    recipient: np.ndarray,
) -> np.ndarray | None:
    """The permutation that puts the transfers of each case at one instant in chain-of-custody
    order (main transfers and returns so that each one's sender is the recipient of the one
    before; a main transfer before a return, then by sender and recipient name, where the
    chain does not decide; then closings; then side copies, in log order), or None when every
    tie already is. Worked on the tied rows only, one step of every chain at a time."""
    n = len(case_no)
    if n < 2:
        return None
    same = (case_no[1:] == case_no[:-1]) & (stamps[1:] == stamps[:-1])
    if not same.any():
        return None
    starts = np.r_[True, ~same]
    group = np.cumsum(starts) - 1  # tie groups, in log order
    size = np.bincount(group)
    tied = np.flatnonzero(size[group] > 1)
    custody = np.isin(kind, _CUSTODY)
    # The holder before each tie group: the recipient of the case's last custody transfer
    # before the group's first row.
    holder_at = _holder_before(case_no, custody, recipient)
    first_row = np.flatnonzero(starts)
    state = holder_at[first_row]  # per group
    rank = np.zeros(n, dtype=np.int64)
    placed = np.zeros(n, dtype=bool)
    pending = tied[custody[tied]]
    step = 0
    while len(pending):
        g = group[pending]
        # Rows whose sender holds the case now; else the chain's start: a row whose sender is no
        # pending row's recipient in its group; else the first pending row.
        holds = sender[pending] == state[g]
        received = pd.MultiIndex.from_arrays([g, recipient[pending]])
        starts_chain = ~pd.MultiIndex.from_arrays([g, sender[pending]]).isin(received)
        score = np.where(holds, 0, np.where(starts_chain, 1, 2))
        frame = pd.DataFrame(
            {"g": g, "score": score, "returned": kind[pending] == schema.RETURN,
             "sender": sender[pending], "recipient": recipient[pending], "row": pending}
        )  # fmt: skip
        chosen = frame.sort_values(list(frame.columns), kind="stable").drop_duplicates("g")
        rows = chosen["row"].to_numpy()
        rank[rows] = step
        placed[rows] = True
        state[group[rows]] = recipient[rows]
        pending = pending[~placed[pending]]
        step += 1
    others = tied[~custody[tied]]
    rank[others] = step + np.where(kind[others] == schema.CLOSING, 0, 1)
    within = np.lexsort((np.arange(n), rank, group))
    return None if np.array_equal(within, np.arange(n)) else within


def _previous_custody(case_no: np.ndarray, custody: np.ndarray) -> np.ndarray:
    """Per row, its case's latest custody transfer (main or return) before it (-1: none)."""
    n = len(case_no)
    position = np.arange(n)
    latest = np.maximum.accumulate(np.where(custody, position, -1)) if n else position
    previous = np.r_[-1, latest[:-1]] if n else position
    first = np.r_[True, case_no[1:] != case_no[:-1]] if n else np.zeros(0, dtype=bool)
    case_start = np.maximum.accumulate(np.where(first, position, 0)) if n else position
    return np.where(previous >= case_start, previous, -1)


def _holder_before(case_no: np.ndarray, custody: np.ndarray, recipient: np.ndarray) -> np.ndarray:
    """Per row, the recipient code of its case's latest custody transfer before it (-1: none)."""
    previous = _previous_custody(case_no, custody)
    return np.where(previous >= 0, recipient[previous], -1)


def _holder_markers(
    log: pd.DataFrame,
    case_no: np.ndarray,
    kind: np.ndarray,
    out_of_chain: np.ndarray,
    headers: dict[str, str],
    missing: Sequence[str],
) -> pd.DataFrame:
    """The holder markers, with the row they go after (``after``; x.5 positions sort them in):

    - one per open case (its last custody-or-closing event is a main transfer or a return): the
      recipient at the time of that transfer, after the case's last row at that instant;
    - one before each out-of-chain transfer: the department that held the dossier then (the
      recipient of the case's custody transfer before), at the time of the out-of-chain one, so
      the holder sequence keeps it — it held the case until then, as far as the system knows.
    """
    custody = np.isin(kind, _CUSTODY)
    rows = np.flatnonzero(kind != schema.SIDE)
    last = rows[np.r_[case_no[rows][1:] != case_no[rows][:-1], True]] if len(rows) else rows
    last = last[custody[last]]
    broken = np.flatnonzero(out_of_chain)
    held_by = _previous_custody(case_no, custody)[broken]
    source = np.r_[last, held_by]  # the transfer whose recipient the marker stands for
    at = np.r_[last, broken]  # the row whose time and case the marker takes
    if not len(source):
        return pd.DataFrame()
    stamps = log[schema.TIMESTAMP].array.asi8
    after = np.r_[_tie_ends(case_no, stamps, last) + 0.5, broken - 0.5]
    taken, timed = log.iloc[source], log.iloc[at]
    marker = {
        schema.CASE: timed[schema.CASE].to_numpy(),
        schema.ACTIVITY: HOLDER_ACTIVITY,
        schema.TIMESTAMP: timed[schema.TIMESTAMP].to_numpy(),
        schema.DEPARTMENT: taken[headers["recipient_department"]].to_numpy(),
    }
    if "recipient" in headers:
        marker[schema.RESOURCE] = _clean(taken[headers["recipient"]], missing).to_numpy()
    for column in (schema.PROCEDURE, schema.DEADLINE):
        if column in log.columns:
            marker[column] = timed[column].to_numpy()
    markers = pd.DataFrame(marker)
    markers[schema.TRANSFER] = schema.HOLDER
    markers[schema.SIDE_COPY] = False
    markers[OUT_OF_CHAIN] = False
    markers["after"] = after
    return markers


def _tie_ends(case_no: np.ndarray, stamps: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each row in ``rows`` of a log in (case, time) order, the last row of its case at its
    instant: the rows after it are later."""
    n = len(case_no)
    ends = np.r_[(case_no[1:] != case_no[:-1]) | (stamps[1:] != stamps[:-1]), True]
    end_rows = np.flatnonzero(ends)
    return end_rows[np.searchsorted(end_rows, rows)] if n else rows


def _inserted(log: pd.DataFrame, markers: pd.DataFrame) -> pd.DataFrame:
    """``log`` with ``markers`` inserted at their positions ``after`` (row k + 0.5: just after
    row k; k - 0.5: just before it); the log's attrs kept."""
    after = markers.pop("after").to_numpy()
    attrs = log.attrs
    for column in markers.columns:
        with contextlib.suppress(TypeError, ValueError):
            markers[column] = markers[column].astype(log[column].dtype)
    position = np.r_[np.arange(len(log), dtype=np.float64), after]
    joined = pd.concat([log, markers], ignore_index=True)
    joined = joined.take(np.argsort(position, kind="stable")).reset_index(drop=True)
    joined.attrs = attrs
    return joined
