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
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from procmine import schema
from procmine.log.canonical import RowPlan
from procmine.log.headers import name_rank
from procmine.log.report import REASON_NO_RECIPIENT, REASON_NO_SENDER
from procmine.log.text import encode_text, materialise, non_empty
from procmine.log.units import UnitRule, rename_units
from procmine.vocabulary import named, normal_name, read_config

__all__ = [
    "ACTIONS",
    "HOLDER_ACTIVITY",
    "OUT_OF_CHAIN",
    "TRANSFER_HEADERS",
    "CustodyPlan",
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
_STR = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default text dtype


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
    columns, ``faults`` ({quarantine reason: row mask}), ``headers`` ({role: header}), the
    action words outside the vocabulary ({word: rows}) and ``kind``: per row of ``frame`` the
    code of its kind, its index in :data:`procmine.schema.TRANSFER_KINDS`. ``procmine:transfer``
    is a categorical of those codes: the assembly gives it back as text, a dictionary column."""

    def __init__(
        self,
        frame: pd.DataFrame,
        mapping: dict[str, str],
        faults: dict[str, np.ndarray],
        headers: dict[str, str],
        unknown: dict[str, int],
        kind: np.ndarray,
    ) -> None:
        self.frame, self.mapping, self.faults = frame, mapping, faults
        self.headers, self.unknown, self.kind = headers, unknown, kind


# Kinds are worked on as small integer codes, their index in schema.TRANSFER_KINDS; the custody
# kinds (main transfers and returns) are the two lowest. The text column is written once.
_MAIN, _RETURN, _SIDE, _CLOSING, _HOLDER = range(len(schema.TRANSFER_KINDS))
_KIND_CODE = {kind: code for code, kind in enumerate(schema.TRANSFER_KINDS)}
_EXPORT_KINDS = pd.Index(schema.TRANSFER_KINDS[:_HOLDER], dtype="str")  # holders are added later


def as_steps(
    frame: pd.DataFrame,
    mapping: Mapping[str, str] | None,
    missing: Sequence[str],
    actions: Mapping[str, Sequence[str]] | None = None,
    *,
    transfers: bool | None = None,
    encoded: Sequence[str] = (),
) -> TransferFrame | None:
    """``frame`` prepared for :func:`procmine.log.canonical.canonical` when it is a transfer
    history (``transfers=None``: by its headers; True: it must be one), else None.
    ``encoded``: the text columns the source read as dictionaries (their blanks are looked for
    among their distinct values)."""
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
        kind, unknown = _kinds(frame[action_header], missing, actions)
    else:  # no action column: every transfer with a recipient moves the dossier
        kind, unknown = np.full(len(frame), _MAIN, dtype=np.int8), {}
    sender = _present(frame[headers["sender_department"]], missing, encoded)
    recipient = _present(frame[headers["recipient_department"]], missing, encoded)
    # Without an action word, a transfer without a recipient is taken as the closing.
    kind[(kind < 0) & ~recipient] = _CLOSING
    kind[kind < 0] = _MAIN
    custody = kind <= _RETURN
    prepared = frame.copy(deep=False)
    prepared[schema.TRANSFER] = pd.Categorical.from_codes(kind, categories=_EXPORT_KINDS)
    prepared[schema.SIDE_COPY] = kind == _SIDE
    if action_header is None:
        activity = np.where(kind == _CLOSING, "Hoàn thành", "Chuyển xử lý")
        prepared["procmine:action"] = pd.array(activity, dtype="str")
        canonical_mapping.setdefault("procmine:action", schema.ACTIVITY)
    faults = {
        REASON_NO_SENDER: custody & ~sender,
        REASON_NO_RECIPIENT: custody & ~recipient & sender,
    }
    return TransferFrame(prepared, canonical_mapping, faults, headers, unknown, kind)


def _present(values: pd.Series, missing: Sequence[str], encoded: Sequence[str]) -> np.ndarray:
    """:func:`~procmine.log.text.non_empty` of a column; for one the source read as a dictionary,
    worked out on its distinct values."""
    if values.name in encoded and isinstance(values.dtype, pd.CategoricalDtype):
        per_value = non_empty(pd.Series(values.cat.categories), missing)
        return np.append(per_value, False)[values.cat.codes.to_numpy()]  # code -1: null
    return non_empty(values, missing)


def _kinds(
    actions: pd.Series, missing: Sequence[str], vocabulary: Mapping[str, Sequence[str]] | None
) -> tuple[np.ndarray, dict[str, int]]:
    """Per row the code of its kind (-1 where the action is blank), and {unknown word: rows};
    unknown words are taken as main transfers. Worked out on the distinct words."""
    dictionary, codes, _, _, _ = encode_text(actions, missing)
    words = dictionary.to_pylist()
    found = action_kinds(words, vocabulary)
    per_word = np.array([_KIND_CODE[k or schema.MAIN] for k in found] + [-1], dtype=np.int8)
    kinds = per_word[codes]  # code -1 (blank) takes the last entry
    unknown_codes = [i for i, k in enumerate(found) if k is None]
    counts = np.bincount(codes[codes >= 0], minlength=len(words)) if unknown_codes else []
    unknown = {words[i]: int(counts[i]) for i in unknown_codes if counts[i]}
    return kinds, dict(sorted(unknown.items(), key=lambda item: (-item[1], item[0])))


def with_custody(
    log: pd.DataFrame,
    prepared: TransferFrame,
    missing: Sequence[str],
    kept: Mapping[str, Any],
    *,
    renamed: bool = False,
    units: Sequence[UnitRule] = (),
) -> pd.DataFrame:
    """The canonical log of a transfer history: ties in chain-of-custody order, custody transfers
    out of the chain flagged, a holder marker for each open case, and the load report told.

    ``kept``: what :func:`~procmine.log.canonical.canonical` kept of its work (``rows``: the
    export's rows in log order; ``case_rank``: their case ranks; ``department``: the
    ``org:group`` column's distinct values and codes, or None; ``plan``: the rows as
    :class:`CustodyPlan` arranged them, when it did: then the log is done, and only the report
    is told). The work runs on codes; ``renamed``: units were renamed since
    (:mod:`procmine.log.units`), so the departments are read from the log's text instead.
    ``units``: the rules of that renaming; with dated ones, the chain of custody compares the
    names as renamed at the time of the later transfer, the one that sends the dossier on (a
    unit received a dossier under its old name and sent it on under its new one: no gap), and
    a holder marker carries its department's name at its own time."""
    report = log.attrs.get("procmine_load_report")
    if kept.get("plan") is not None:
        if report is not None:
            _told(report, prepared, *kept["custody"])
        return log
    headers = prepared.headers
    recipient_header = headers["recipient_department"]
    case_no, kind = kept["case_rank"], prepared.kind[kept["rows"]]
    dated = tuple(units) if any(rule.since is not None for rule in units) else ()
    held = None
    if renamed or dated:
        recipient, sender_code, recipient_code, names = _named_departments(
            log, recipient_header, missing
        )
        if dated:
            held = partial(_held_later, log[schema.TIMESTAMP], recipient, names, dated)
    else:
        recipient, sender_code, recipient_code = _coded_departments(log, prepared, missing, kept)
    stamps = log[schema.TIMESTAMP].array.asi8
    order, kind, out_of_chain, custody = _custody(
        case_no, stamps, kind, sender_code, recipient_code, held
    )
    as_read = out_of_chain
    if order is not None:  # the rows are put in that order once, with the markers
        as_read = np.empty_like(out_of_chain)
        as_read[order] = out_of_chain
    log[OUT_OF_CHAIN] = as_read
    log[recipient_header] = recipient
    markers = _holder_markers(log, case_no, kind, out_of_chain, headers, missing, custody, order)
    if dated and len(markers):  # a marker takes its department's name at its own time
        markers = rename_units(markers, dated, columns=(schema.DEPARTMENT,))[0]
    if len(markers) or order is not None:
        log = _inserted(log, markers, order)
    if report is not None:
        counts = _kind_counts(kind)
        counts[_HOLDER] += len(markers)
        _told(report, prepared, counts, int(out_of_chain.sum()), len(markers))
    return log


def _custody(
    case_no: np.ndarray,
    stamps: np.ndarray,
    kind: np.ndarray,
    sender: np.ndarray,
    recipient: np.ndarray,
    held: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray, np.ndarray]:
    """(the chain-of-custody permutation of the rows, None when they are in that order; then,
    in that order: the kinds, which custody transfers are out of the chain, and the custody
    transfers' rows), from the rows' case numbers, stamps, kinds and department codes in name
    order. A custody transfer is out of the chain when the case's custody transfer before it
    has a recipient and that is not its sender. ``held(before, after)``: the codes of the
    recipients of the rows ``before`` as named at the times of the rows ``after`` (rows as
    given; None: ``recipient[before]``, names that do not change with time)."""
    custody = np.flatnonzero(kind <= _RETURN)
    order = _custody_order(case_no, stamps, kind, sender, recipient, custody, held)
    if order is not None:
        kind, sender, recipient = kind[order], sender[order], recipient[order]
        custody = np.flatnonzero(kind <= _RETURN)
    out_of_chain = np.zeros(len(kind), dtype=bool)
    after, before = custody[1:], custody[:-1]
    if held is None:
        holder = recipient[before]
    elif order is None:
        holder = held(before, after)
    else:
        holder = held(order[before], order[after])
    out_of_chain[after] = (
        (case_no[after] == case_no[before]) & (holder >= 0) & (sender[after] != holder)
    )
    return order, kind, out_of_chain, custody


class CustodyPlan:
    """The custody work done on codes inside the step-log assembly, before its columns are
    built (:func:`~procmine.log.canonical.canonical`'s ``arrange``): the chain-of-custody order
    and the holder markers become a :class:`~procmine.log.canonical.RowPlan`, so the log is
    built once, in its final order, and :func:`with_custody` only tells the report (from
    ``kept["custody"]``: events by kind, out-of-chain transfers, markers). Where the log would
    not be the one :func:`with_custody` works on (no department column, a recipient column that
    is not text or is mapped onto a canonical one), it gives no plan and leaves the work to it.
    Not for logs whose units are renamed: renaming runs on the built log."""

    def __init__(self, prepared: TransferFrame, missing: Sequence[str], kept: dict[str, Any]):
        self.prepared, self.missing, self.kept = prepared, missing, kept

    def __call__(
        self,
        frame: pd.DataFrame,
        chosen: dict[str, str],
        order: np.ndarray,
        case_rank: np.ndarray,
        dictionaries: dict[str, pa.Array],
        codes: dict[str, np.ndarray],
        times: np.ndarray,
    ) -> RowPlan | None:
        headers = self.prepared.headers
        recipient, official = headers["recipient_department"], headers.get("recipient")
        usable = [
            h is None or (h in frame.columns and h not in chosen and h not in schema.CANONICAL)
            for h in (recipient, official)
        ]
        if not (all(usable) and schema.DEPARTMENT in codes and _is_text(frame[recipient])):
            return None
        if official is not None and not _is_text(frame[official]):
            return None
        department = (dictionaries[schema.DEPARTMENT], codes[schema.DEPARTMENT])
        names, recipient_rows, ranks = _department_codes(frame[recipient], department, self.missing)
        kind = self.prepared.kind[order]
        sender_code = ranks[1][department[1][order]]
        recipient_rows = recipient_rows[order]  # of the kept rows, in log order
        recipient_code = ranks[0][recipient_rows]
        custody, kind_in_order, out_of_chain, transfers = _custody(
            case_rank, times, kind, sender_code, recipient_code
        )
        source, at, after = _marker_rows(case_rank, times, kind_in_order, out_of_chain, transfers)
        pick = _inserted_at(len(order), after)
        if custody is not None:  # back to the kept rows as the assembly numbers them
            rows = pick < len(order)
            pick[rows] = custody[pick[rows]]
            source, at = custody[source], custody[at]
            as_read = np.empty_like(out_of_chain)
            as_read[custody] = out_of_chain
            out_of_chain = as_read
        values = {
            schema.ACTIVITY: (
                pa.array([HOLDER_ACTIVITY], pa.large_string()),
                np.zeros(len(at), np.int32),
            ),
            schema.DEPARTMENT: (names, recipient_rows[source]),
        }
        people = None
        if official is not None:
            people = encode_text(frame[official].iloc[order[source]], self.missing)[:2]
            if schema.RESOURCE in codes:
                values[schema.RESOURCE] = people
        plan = RowPlan(pick, at, values, {})
        positions, _, _, added = plan.laid_out(order)
        if people is not None and schema.RESOURCE not in codes:
            # No sender official: the markers' officials are the log's only ones.
            officials = np.full(len(positions), -1, dtype=np.int32)
            officials[added] = people[1][pick[added] - len(order)]
            plan.columns[schema.RESOURCE] = partial(materialise, people[0], officials)
        kinds = kind[positions]
        kinds[added] = _HOLDER
        broken = out_of_chain[positions]
        broken[added] = False
        recipient_rows = recipient_rows[positions]
        recipient_rows[added] = -1
        kind_names = pa.array(schema.TRANSFER_KINDS, pa.large_string())
        plan.columns |= {  # the text ones built by the assembly, side by side with its own
            schema.TRANSFER: partial(materialise, kind_names, kinds),
            schema.SIDE_COPY: pd.Series(kinds == _SIDE),
            OUT_OF_CHAIN: pd.Series(broken),
            recipient: partial(materialise, names, recipient_rows),
        }
        counts = _kind_counts(kind)
        counts[_HOLDER] += len(at)
        self.kept["custody"] = (counts, int(out_of_chain.sum()), len(at))
        return plan


def _kind_counts(kind: np.ndarray) -> np.ndarray:
    """Events per kind (codes), in :data:`procmine.schema.TRANSFER_KINDS` order."""
    return np.array([np.count_nonzero(kind == code) for code in range(len(schema.TRANSFER_KINDS))])


def _inserted_at(rows: int, after: np.ndarray) -> np.ndarray:
    """Per row of the log once ``len(after)`` rows are inserted among ``rows`` rows, each at its
    ``after`` (k + 0.5: just after row k; k - 0.5: just before it; ties in their order): the row
    it is, ``rows + j`` for inserted row j. As ``np.argsort(np.r_[np.arange(rows), after],
    kind="stable")``, in one pass.

    >>> _inserted_at(3, np.array([2.5, -0.5, 0.5, 0.5])).tolist()
    [4, 0, 5, 6, 1, 2, 3]
    """
    inserted = np.argsort(after, kind="stable")
    slots = np.ceil(after[inserted]).astype(np.intp)
    dtype = np.int32 if rows + len(after) < 2**31 else np.int64  # half the memory of int64
    return np.insert(np.arange(rows, dtype=dtype), slots, rows + inserted)


def _is_text(values: pd.Series) -> bool:
    """Whether a column is text as read: pandas' ``str`` or a categorical of strings."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return pd.api.types.is_string_dtype(dtype.categories)
    return dtype == _STR


def _told(
    report: dict[str, Any], prepared: TransferFrame, counts: np.ndarray, broken: int, markers: int
) -> None:
    """The load report told of the transfer history: its headers, events by kind (``counts``,
    in :data:`procmine.schema.TRANSFER_KINDS` order), out-of-chain transfers and markers."""
    report.update(
        transfer_history=True,
        transfer_headers=dict(prepared.headers),
        transfers_by_kind={k: int(counts[i]) for i, k in enumerate(schema.TRANSFER_KINDS)},
        out_of_chain=broken,
        holder_markers=markers,
        unknown_actions=dict(prepared.unknown),
    )
    if prepared.unknown:
        words = ", ".join(f"{w!r} ({n})" for w, n in list(prepared.unknown.items())[:5])
        report["warnings"].append(
            f"{sum(prepared.unknown.values())} transfers have an action word procmine does "
            f"not know: {words}; they were taken as main transfers (Chuyển xử lý). Name "
            "their kind under transfer_actions: in the config."
        )
    if broken:
        report["warnings"].append(
            f"{broken} transfers were sent by a department that did not hold "
            "the dossier then; they are kept as the system recorded them (column "
            f"{OUT_OF_CHAIN!r})."
        )


def _department_codes(
    recipient: pd.Series,
    department: tuple[pa.Array, np.ndarray] | None,
    missing: Sequence[str],
) -> tuple[pa.Array, np.ndarray, list[np.ndarray]]:
    """(the recipient departments' distinct names once cleaned, per export row the code of its
    recipient among them, -1 null; the rank tables of the recipients' and the senders' codes:
    per code, its name's rank among all of them, in name order, the last entry -1 for null).
    ``recipient``: the export's column, as read (text); ``department``: the assembly's
    ``org:group`` distinct values and codes, or None. Worked out on the distinct names."""
    names, recipient_rows, _, _, _ = encode_text(recipient, missing)
    dictionaries = [names] if department is None else [names, department[0]]
    small = sum(len(d) for d in dictionaries) < 2**15  # names' ranks: the narrowest integers
    dtype = np.int16 if small else np.int32
    ranks = [np.append(rank, -1).astype(dtype) for rank in _name_ranks(dictionaries)]
    return names, recipient_rows, ranks


def _coded_departments(
    log: pd.DataFrame, prepared: TransferFrame, missing: Sequence[str], kept: Mapping[str, Any]
) -> tuple[pd.Series, np.ndarray, np.ndarray] | None:
    """(the recipient department column cleaned, per event the code of its sender and of its
    recipient department), the codes in name order, worked out on the distinct names: the
    sender's from the assembly's ``org:group`` codes, the recipient's from the export's column.
    None for a recipient column that is not text (its text then comes from the log)."""
    header = prepared.headers["recipient_department"]
    values = prepared.frame[header]
    if not _is_text(values):
        return None
    rows = kept["rows"]
    department = kept.get("department")
    names, recipient_rows, ranks = _department_codes(values, department, missing)
    recipient_code = ranks[0][recipient_rows[rows]]
    if department is None:
        sender_code = np.full(len(rows), -1, dtype=np.int64)
    else:
        sender_code = ranks[1][department[1][rows]]
    if header not in log.columns:  # as the other way fails, reading the column from the log
        raise KeyError(header)
    return materialise(names, recipient_rows, pa.array(rows)), sender_code, recipient_code


def _name_ranks(dictionaries: list[pa.Array]) -> list[np.ndarray]:
    """Per dictionary, each entry's rank among the distinct names of them all, in name order:
    equal names, equal ranks."""
    joined = pc.dictionary_encode(
        pa.concat_arrays([pc.cast(d, pa.large_string()) for d in dictionaries])
    )
    rank = np.empty(len(joined.dictionary), dtype=np.int64)
    rank[pc.array_sort_indices(joined.dictionary).to_numpy()] = np.arange(len(rank))
    codes = rank[joined.indices.to_numpy(zero_copy_only=False)]
    return np.split(codes, np.cumsum([len(d) for d in dictionaries])[:-1])


def _named_departments(
    log: pd.DataFrame, recipient_header: str, missing: Sequence[str]
) -> tuple[pd.Series, np.ndarray, np.ndarray, pd.Index]:
    """What :func:`_coded_departments` gives, worked out from the log's text columns, and the
    names the codes stand for."""
    recipient = _clean(log[recipient_header], missing)
    department = log[schema.DEPARTMENT] if schema.DEPARTMENT in log.columns else None
    sender = pd.Series(pd.NA, index=log.index, dtype="str") if department is None else department
    # Codes in name order, so no order below depends on the export's row order.
    codes, names = pd.factorize(pd.concat([sender, recipient], ignore_index=True), sort=True)
    return recipient, codes[: len(log)], codes[len(log) :], names


def _held_later(
    stamps: pd.Series,
    recipient: pd.Series,
    names: pd.Index,
    units: Sequence[UnitRule],
    before: np.ndarray,
    after: np.ndarray,
) -> np.ndarray:
    """The codes (into ``names``; -1 null, ``len(names)`` a name none has) of the
    ``recipient`` departments of the rows ``before`` as the ``units`` rules name them at the
    ``stamps`` of the rows ``after``. Renaming again a name renamed at an earlier time gives
    the name renamed at the later one (a chain's links only move on with time)."""
    pairs = pd.DataFrame(
        {"unit": recipient.array.take(before), schema.TIMESTAMP: stamps.array.take(after)}
    )
    named = rename_units(pairs, units, columns=("unit",))[0]["unit"]
    codes = names.get_indexer(named)
    codes[(codes < 0) & named.notna().to_numpy()] = len(names)
    return codes


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
    custody_rows: np.ndarray,
    held: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> np.ndarray | None:
    """The permutation that puts the transfers of each case at one instant in chain-of-custody
    order (main transfers and returns so that each one's sender is the recipient of the one
    before; a main transfer before a return, then by sender and recipient name, where the
    chain does not decide; then closings; then side copies, in log order), or None when every
    tie already is. Worked on the tied rows only, one step of every chain at a time.
    ``custody_rows``: the rows of the custody transfers; ``held``: as :func:`_custody`'s."""
    n = len(case_no)
    if n < 2:
        return None
    same = (case_no[1:] == case_no[:-1]) & (stamps[1:] == stamps[:-1])
    pairs = np.flatnonzero(same)
    if not len(pairs):
        return None
    in_tie = np.zeros(n, dtype=bool)
    in_tie[pairs] = in_tie[pairs + 1] = True
    tied = np.flatnonzero(in_tie)  # the rows of tie groups, in log order
    del in_tie
    starts = np.ones(len(tied), dtype=bool)
    later = tied > 0
    starts[later] = ~same[tied[later] - 1]
    group = np.cumsum(starts) - 1  # per tied row, its tie group
    custody = kind[tied] <= _RETURN
    rank = np.zeros(len(tied), dtype=np.int64)
    # A group's only custody transfer goes first; groups with more are put in chain order.
    many = np.bincount(group[custody], minlength=int(group[-1]) + 1) > 1
    chained = np.flatnonzero(custody & many[group])
    if len(chained):
        # The holder before each tie group: the recipient of the case's last custody transfer
        # before the group's first row.
        before = _previous_custody(case_no, custody_rows, tied[starts])
        if held is None:
            state = np.where(before >= 0, recipient[np.maximum(before, 0)], -1)
        else:  # named at the time of the group
            state = np.where(before >= 0, held(np.maximum(before, 0), tied[starts]), -1)
        steps = _chained(tied, group, chained, state, kind, sender, recipient, rank)
    else:
        steps = 1
    others = ~custody
    rank[others] = steps + (kind[tied[others]] != _CLOSING)
    if np.all((rank[1:] >= rank[:-1]) | starts[1:]):
        return None  # every tie group already in that order
    within = np.lexsort((tied, rank, group))
    order = np.arange(n)
    order[tied] = tied[within]
    return order


def _chained(
    tied: np.ndarray,
    group: np.ndarray,
    pending: np.ndarray,
    state: np.ndarray,
    kind: np.ndarray,
    sender: np.ndarray,
    recipient: np.ndarray,
    rank: np.ndarray,
) -> int:
    """Ranks ``rank`` (over ``tied``) the ``pending`` custody transfers (positions in ``tied``)
    of each tie group in chain order, one step of every group's chain at a time; ``state``: per
    group, the code of the department that holds the case. Returns the number of steps."""
    placed = np.zeros(len(tied), dtype=bool)
    step = 0
    while len(pending):
        g, rows = group[pending], tied[pending]
        # Rows whose sender holds the case now; else the chain's start: a row whose sender is no
        # pending row's recipient in its group; else the first pending row.
        holds = sender[rows] == state[g]
        received = pd.MultiIndex.from_arrays([g, recipient[rows]])
        starts_chain = ~pd.MultiIndex.from_arrays([g, sender[rows]]).isin(received)
        score = np.where(holds, 0, np.where(starts_chain, 1, 2))
        frame = pd.DataFrame(
            {"g": g, "score": score, "returned": kind[rows] == _RETURN,
             "sender": sender[rows], "recipient": recipient[rows], "row": rows}
        )  # fmt: skip
        chosen = frame.sort_values(list(frame.columns), kind="stable").drop_duplicates("g")
        picked = pending[chosen.index.to_numpy()]
        rank[picked] = step
        placed[picked] = True
        state[group[picked]] = recipient[tied[picked]]
        pending = pending[~placed[pending]]
        step += 1
    return step


def _previous_custody(
    case_no: np.ndarray, custody_rows: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """For each row of ``rows`` (a log in case order), its case's latest custody transfer (main
    or return) before it (-1: none). ``custody_rows``: the custody transfers' rows, in order.

    >>> _previous_custody(np.array([0, 0, 0, 1, 1]), np.array([0, 2, 3]), np.arange(5)).tolist()
    [-1, 0, 0, -1, 3]
    """
    at = np.searchsorted(custody_rows, rows) - 1
    found = custody_rows[np.maximum(at, 0)] if len(custody_rows) else np.zeros(len(rows), int)
    same_case = (at >= 0) & (case_no[found] == case_no[rows])
    return np.where(same_case, found, -1)


def _marker_rows(
    case_no: np.ndarray,
    stamps: np.ndarray,
    kind: np.ndarray,
    out_of_chain: np.ndarray,
    custody_rows: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The holder markers of rows in custody order, as (per marker: the row whose recipient it
    stands for, the row whose case and time it takes, the row it goes after: x.5 positions sort
    it in), from the rows' case numbers, stamps, kinds, out-of-chain flags and the custody
    transfers' rows:

    - one per open case (its last custody-or-closing event is a main transfer or a return): the
      recipient at the time of that transfer, after the case's last row at that instant;
    - one before each out-of-chain transfer: the department that held the dossier then (the
      recipient of the case's custody transfer before), at the time of the out-of-chain one, so
      the holder sequence keeps it — it held the case until then, as far as the system knows.
    """
    n = len(kind)
    # Per case, its last row that is not a side copy (found walking back from the case's last
    # row, a step for every side copy there), when that row is a custody transfer.
    last = np.r_[np.flatnonzero(case_no[1:] != case_no[:-1]), n - 1] if n else np.arange(0)
    first = np.r_[0, last[:-1] + 1]
    walking = np.flatnonzero(kind[last] == _SIDE)
    while len(walking):
        last[walking] -= 1
        walking = walking[(last[walking] >= first[walking]) & (kind[last[walking]] == _SIDE)]
    last = last[(last >= first) & (kind[np.maximum(last, 0)] <= _RETURN)]
    broken = np.flatnonzero(out_of_chain)
    source = np.r_[last, _previous_custody(case_no, custody_rows, broken)]
    at = np.r_[last, broken]
    after = np.r_[_tie_ends(case_no, stamps, last) + 0.5, broken - 0.5]
    return source, at, after


def _holder_markers(
    log: pd.DataFrame,
    case_no: np.ndarray,
    kind: np.ndarray,
    out_of_chain: np.ndarray,
    headers: dict[str, str],
    missing: Sequence[str],
    custody_rows: np.ndarray,
    order: np.ndarray | None = None,
) -> pd.DataFrame:
    """The holder markers (:func:`_marker_rows`) as rows of ``log``, with the row they go after
    (``after``). ``kind``, ``out_of_chain`` and ``custody_rows`` (the custody transfers) are of
    the rows in custody order, the rows of ``log`` at ``order`` (None: the log's own order)."""
    # Reordering moves rows within one case and instant only: the stamps stay where they are.
    stamps = log[schema.TIMESTAMP].array.asi8
    source, at, after = _marker_rows(case_no, stamps, kind, out_of_chain, custody_rows)
    if not len(source):
        return pd.DataFrame()
    if order is not None:
        source, at = order[source], order[at]
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
    instant: the rows after it are later. Worked on those rows, one row of their ties at a time.

    >>> _tie_ends(np.array([0, 0, 0, 1]), np.array([5, 5, 6, 6]), np.array([0, 2, 3])).tolist()
    [1, 2, 3]
    """
    ends = np.array(rows, dtype=np.intp)
    moving = np.arange(len(ends))
    while len(moving):
        at = ends[moving]
        after = np.minimum(at + 1, len(case_no) - 1)
        tied = (at + 1 < len(case_no)) & (case_no[after] == case_no[at])
        tied &= stamps[after] == stamps[at]
        moving = moving[tied]
        ends[moving] += 1
    return ends


def _inserted(
    log: pd.DataFrame, markers: pd.DataFrame, order: np.ndarray | None = None
) -> pd.DataFrame:
    """``log``, its rows at ``order`` (None: as they are), with ``markers`` inserted at their
    positions ``after`` (row k + 0.5: just after row k; k - 0.5: just before it), as
    ``pd.concat`` then ``take`` would give it but with one gather per column; the log's attrs
    kept."""
    after = markers.pop("after").to_numpy() if "after" in markers.columns else np.zeros(0)
    attrs = log.attrs
    for column in markers.columns:
        if column not in log.columns:  # org:resource without a sender official: null in events
            log = _with_null_text(log, column)
    for column in markers.columns:
        with contextlib.suppress(TypeError, ValueError):
            markers[column] = markers[column].astype(log[column].dtype)
    n = len(log)
    pick = _inserted_at(n, after)
    if order is not None:  # the log's rows as read: row r of the ordered log is order[r]
        rows = pick < n
        pick[rows] = order[pick[rows]]
    if any(markers[c].dtype != log[c].dtype for c in markers.columns):
        joined = pd.concat([log, markers], ignore_index=True).take(pick).reset_index(drop=True)
    else:
        columns = {c: _gathered(log[c], markers.get(c), pick) for c in log.columns}
        joined = pd.DataFrame(columns, copy=False)
    joined.attrs = attrs
    return joined


def _with_null_text(log: pd.DataFrame, column: str) -> pd.DataFrame:
    """``log`` (a new frame, a shallow copy) with a null text ``column``, in its place among the
    canonical columns (:data:`procmine.schema.CANONICAL`), as the assembly builds it."""
    before = schema.CANONICAL[: schema.CANONICAL.index(column)]
    place = max((log.columns.get_loc(c) + 1 for c in before if c in log.columns), default=0)
    out = log.copy(deep=False)
    out.insert(place, column, pd.Series(pa.nulls(len(log), pa.large_string()).to_pandas()))
    return out


def _gathered(values: pd.Series, extra: pd.Series | None, pick: np.ndarray) -> pd.Series:
    """``values`` followed by ``extra`` (None: nulls, as many as ``pick`` has rows beyond
    ``values``) at the rows ``pick``: the column ``pd.concat`` of the frames then ``take`` give."""
    if extra is not None:
        joined = pd.concat([values, extra], ignore_index=True)
    elif len(pick) > len(values):  # the frames' concatenation fills the column as it does
        filler = pd.DataFrame(index=pd.RangeIndex(len(pick) - len(values)))
        joined = pd.concat([values.to_frame(), filler], ignore_index=True).iloc[:, 0]
    else:
        joined = values
    return joined.take(pick).reset_index(drop=True)
