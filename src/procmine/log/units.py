"""Units that were renamed or merged: a ``units:`` list in the config renames or merges
departments, optionally from a date, so that a unit's history stays one line.

Agencies reorganise (the 2025 reform merged and abolished whole administrative levels), and the
export keeps whatever name a unit had when the event was recorded. Each rule of ``units:`` names
one unit or a list of them (a merger) and the name they carry in the log from then on:

.. code-block:: yaml

    units:
      - from: Phòng Nội vụ                      # a rename, over the whole history
        to: Phòng Nội vụ - Lao động
      - from:                                   # a merger
          - Phòng Lao động - Thương binh và Xã hội
          - Phòng Y tế
        to: Phòng Văn hóa - Xã hội
        since: 2025-03-01   # optional: only events at or after 00:00 of that day, in the
                            # log's time zone, are renamed; earlier ones keep their name

Rules, checked by :func:`read_units` (a :class:`ValueError` names the file, the rule and the key):

- ``from`` is a name or a non-empty list of names, ``to`` a name, ``since`` a date
  (``2025-03-01``, or ``01/03/2025`` day first); no other key. Names are cleaned as the loader
  cleans department names: Unicode NFC, whitespace runs made one space, trimmed.
- **Names match case-insensitively** (after that cleaning, case-folded): a rule for
  ``Phòng Nội vụ`` also renames ``PHÒNG NỘI VỤ`` and ``Phòng nội vụ``, the same unit typed
  differently. The new name is written exactly as ``to`` spells it.
- A merger may list the unit that survives it (``from: [A, B]``, ``to: B``): B's events are
  counted, and keep their name. A rule that only maps a unit to itself is an error, unless it
  fixes the spelling (``from: PHÒNG TƯ PHÁP``, ``to: Phòng Tư pháp``).
- A unit is renamed by one rule at most, and one unit is spelled one way in every ``to``.
- **Chains are followed**: with A → B and B → C, A's events become C. Each rule applies to the
  name an event carries after the rules before it in the chain, so with dates an A event
  becomes B from A's date and C from the later of the two dates. A cycle (A → B, B → A) is an
  error.

:func:`rename_units` applies the rules to the department column (``org:group``) and any other
department column named (a transfer history's recipient), on the column's distinct values and
one date mask per link of a chain: no loop over events. Other columns, the order, the index and
``attrs`` (the load report) are kept. Its summary lists every rule, with the events it renamed
per column (0: the name is in no event, perhaps a typo, and :func:`unit_warnings` says so).

>>> import pandas as pd
>>> rules = read_units({"units": [
...     {"from": "Phòng Nội vụ", "to": "Phòng Nội vụ - Lao động"},
...     {"from": ["Phòng Lao động - TB&XH", "Phòng Y tế"], "to": "Phòng Văn hóa - Xã hội",
...      "since": "2025-03-01"}]})
>>> log = pd.DataFrame({
...     "org:group": ["PHÒNG NỘI VỤ", "Phòng Lao động - TB&XH", "Phòng Lao động - TB&XH"],
...     "time:timestamp": pd.to_datetime(["2025-02-28 16:00", "2025-02-28 16:00",
...                                       "2025-03-01 00:00"]).tz_localize("Asia/Ho_Chi_Minh")})
>>> renamed, summary = rename_units(log, rules)
>>> renamed["org:group"].tolist()
['Phòng Nội vụ - Lao động', 'Phòng Lao động - TB&XH', 'Phòng Văn hóa - Xã hội']
>>> print(summary.drop(columns="column").to_string(index=False))
                  from                      to      since  events
          Phòng Nội vụ Phòng Nội vụ - Lao động       None       1
Phòng Lao động - TB&XH  Phòng Văn hóa - Xã hội 2025-03-01       1
            Phòng Y tế  Phòng Văn hóa - Xã hội 2025-03-01       0
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from procmine import schema

__all__ = [
    "CONFIG_KEY",
    "SUMMARY_COLUMNS",
    "UnitRule",
    "check_rules",
    "read_units",
    "rename_units",
    "unit_key",
    "unit_name",
    "unit_warnings",
]

CONFIG_KEY = "units"
SUMMARY_COLUMNS = ("from", "to", "since", "column", "events")
_RULE_KEYS = ("from", "to", "since")
# The loader's whitespace (procmine.log.text): Unicode spaces, zero-width space, BOM.
_SPACES = re.compile(r"[\s\u200b\ufeff]+")
_NEVER = np.iinfo(np.int64).max  # a threshold no stamp reaches
_ALWAYS = np.iinfo(np.int64).min  # an undated link: every stamp (NaT too) is at or after it


@dataclass(frozen=True)
class UnitRule:
    """One rule: the units ``sources`` carry the name ``target`` (from ``since``, a local date,
    when given). Built by :func:`read_units`, which cleans the names."""

    sources: tuple[str, ...]
    target: str
    since: dt.date | None = None


def unit_name(name: str) -> str:
    """A unit's name cleaned as the loader cleans department names: NFC, whitespace runs made
    one space, trimmed.

    >>> unit_name("  Phòng\\u00a0 Tư pháp ")
    'Phòng Tư pháp'
    """
    return _SPACES.sub(" ", unicodedata.normalize("NFC", name)).strip()


def unit_key(name: str) -> str:
    """What rules compare: :func:`unit_name`, case-folded (NFC again after folding).

    >>> unit_key("PHÒNG TƯ PHÁP") == unit_key("Phòng tư pháp")
    True
    """
    return unicodedata.normalize("NFC", unit_name(name).casefold())


def read_units(config: str | Path | Mapping[str, Any] | None) -> tuple[UnitRule, ...]:
    """The ``units:`` rules of a config: a YAML file such as ``datasets/config.yaml``, its dict,
    or None (no rules). Names are cleaned (:func:`unit_name`) and the rules checked together
    (module docstring); a :class:`ValueError` names the file, the rule and the key at fault.

    >>> read_units({"units": [{"from": " Phòng  Y tế", "to": "Phòng Văn hóa - Xã hội"}]})
    (UnitRule(sources=('Phòng Y tế',), target='Phòng Văn hóa - Xã hội', since=None),)
    >>> read_units(None), read_units({"calendar": {"country": "VN"}})
    ((), ())
    """
    where = "config"
    data: Any = config
    if isinstance(config, str | Path):
        import yaml

        path = Path(config)
        where = f"config file {str(path)!r}"
        if not path.is_file():
            raise FileNotFoundError(f"{where} not found")
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_text_dates_loader())
        except yaml.YAMLError as error:
            raise ValueError(f"{where} is not valid YAML: {error}") from None
    data = {} if data is None else data
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: a config is a mapping of settings, found {data!r}")
    entries = data.get(CONFIG_KEY)
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise ValueError(
            f"{where}: {CONFIG_KEY!r} is a list of rules, each with 'from', 'to' and optionally "
            f"'since' (e.g. '- from: Phòng Y tế' / '  to: Phòng Văn hóa - Xã hội'); found "
            f"{entries!r}"
        )
    rules = tuple(
        _read_rule(entry, f"{where}: {CONFIG_KEY}, rule {n}")
        for n, entry in enumerate(entries, start=1)
    )
    check_rules(rules, f"{where}: {CONFIG_KEY}")
    return rules


def _text_dates_loader() -> type:
    """YAML's safe loader, dates left as text: a bad date (2025-13-01) is then reported by
    :func:`_read_date`, with the rule, not by YAML with no place."""
    import yaml

    class TextDates(yaml.SafeLoader):
        pass

    TextDates.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return TextDates


def _read_rule(entry: object, where: str) -> UnitRule:
    """One rule of the config, its names cleaned; ``where`` names it in errors."""
    if not isinstance(entry, Mapping):
        raise ValueError(f"{where}: expected a mapping with 'from' and 'to', found {entry!r}")
    unknown = [key for key in entry if key not in _RULE_KEYS]
    if unknown:
        raise ValueError(
            f"{where}: unknown key {unknown[0]!r} (a rule has 'from', 'to' and optionally 'since')"
        )
    for key in ("from", "to"):
        if entry.get(key) is None:
            raise ValueError(f"{where}: {key!r} is missing")
    sources = entry["from"]
    sources = [sources] if isinstance(sources, str) else sources
    if not isinstance(sources, list) or not sources:
        raise ValueError(f"{where}: 'from' is a unit's name or a list of them, found {sources!r}")
    names = [_read_name(name, f"{where}: 'from'") for name in sources]
    target = _read_name(entry["to"], f"{where}: 'to'")
    return UnitRule(tuple(names), target, _read_date(entry.get("since"), f"{where}: 'since'"))


def _read_name(name: object, where: str) -> str:
    if not isinstance(name, str):
        raise ValueError(f"{where}: a unit's name is text, found {name!r} (quote it in YAML)")
    cleaned = unit_name(name)
    if not cleaned:
        raise ValueError(f"{where}: an empty name")
    return cleaned


def _read_date(value: object, where: str) -> dt.date | None:
    """A date from YAML (which reads 2025-03-01 as one) or text: ISO, or day/month/year."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0) or value.tzinfo is not None:
            raise ValueError(f"{where}: a date, without a time or zone; found {value!r}")
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        for parse in (dt.date.fromisoformat, lambda t: dt.datetime.strptime(t, "%d/%m/%Y").date()):
            try:
                return parse(text)
            except ValueError:
                pass
    raise ValueError(f"{where}: {value!r} is not a date (write it as YYYY-MM-DD, e.g. 2025-03-01)")


def check_rules(rules: Sequence[UnitRule], where: str = "units") -> None:
    """A :class:`ValueError` when the rules, together, cannot be applied: an empty name, a
    rule that maps a unit to itself, a unit renamed by two rules or listed twice, one unit
    spelled two ways as a ``to``, or a cycle. Chains are fine (module docstring)."""
    renamed: dict[str, int] = {}
    spelled: dict[str, tuple[str, int]] = {}
    for n, rule in enumerate(rules, start=1):
        at = f"{where}, rule {n}"
        if not rule.sources or any(not unit_name(s) for s in (*rule.sources, rule.target)):
            raise ValueError(f"{at}: an empty unit name")
        if len(rule.sources) == 1 and unit_name(rule.sources[0]) == unit_name(rule.target):
            raise ValueError(f"{at}: maps {rule.target!r} to itself")
        for source in rule.sources:
            key = unit_key(source)
            if key in renamed:
                again = "twice in its 'from'" if renamed[key] == n else f"by rule {renamed[key]}"
                raise ValueError(f"{at}: {source!r} is already renamed {again}")
            renamed[key] = n
        target = unit_key(rule.target)
        spelling, first = spelled.setdefault(target, (unit_name(rule.target), n))
        if spelling != unit_name(rule.target):
            raise ValueError(
                f"{at}: 'to' spells {rule.target!r}, rule {first} spells it {spelling!r}; "
                "write the unit one way"
            )
    _check_cycles(rules, where)


def _check_cycles(rules: Sequence[UnitRule], where: str) -> None:
    """A :class:`ValueError` naming the units and rules of a cycle A → B → … → A."""
    step = {
        unit_key(s): (unit_key(rule.target), n, rule.target)
        for n, rule in enumerate(rules, start=1)
        for s in rule.sources
        if unit_key(s) != unit_key(rule.target)
    }
    names = {unit_key(s): unit_name(s) for rule in rules for s in rule.sources}
    done: set[str] = set()
    for start in step:
        path: list[str] = []
        key = start
        while key in step and key not in done:
            if key in path:
                cycle = [*path[path.index(key) :], key]
                numbers = sorted({step[k][1] for k in cycle[:-1]})
                raise ValueError(
                    f"{where}, rules {', '.join(map(str, numbers))}: the units are renamed in "
                    f"a cycle, {' → '.join(names[k] for k in cycle)}; a unit cannot be renamed "
                    "back"
                )
            path.append(key)
            key = step[key][0]
        done.update(path)


@dataclass(frozen=True)
class _Link:
    """One link of a chain: the rule entry (index into the plan's entries), the name it gives,
    and the threshold (the latest ``since`` of the chain so far, or None)."""

    entry: int
    target: str
    since: dt.date | None


def _chains(rules: Sequence[UnitRule]) -> tuple[list[tuple[int, str]], dict[str, list[_Link]]]:
    """(the rule entries: (rule number, source) in config order; {key of a source: its chain of
    links}). A chain ends with a unit no rule renames, or with a rule keeping its unit."""
    entries = [(n, unit_name(s)) for n, rule in enumerate(rules, start=1) for s in rule.sources]
    first = {unit_key(s): (i, rules[n - 1]) for i, (n, s) in enumerate(entries)}
    chains: dict[str, list[_Link]] = {}
    for key in first:
        links: list[_Link] = []
        at, since = key, None
        while at in first and len(links) <= len(entries):
            entry, rule = first[at]
            if rule.since is not None:
                since = rule.since if since is None else max(since, rule.since)
            links.append(_Link(entry, unit_name(rule.target), since))
            if unit_key(rule.target) in {unit_key(s) for s in rule.sources}:
                break  # the unit that survives the merger: its own rule is not applied again
            at = unit_key(rule.target)
        chains[key] = links
    return entries, chains


def rename_units(
    log: pd.DataFrame,
    rules: Sequence[UnitRule],
    *,
    columns: Iterable[str] = (schema.DEPARTMENT,),
    timestamps: str = schema.TIMESTAMP,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the log with its units renamed, the summary). ``rules``: from :func:`read_units`.

    ``columns``: the department columns to rename, those absent skipped (a transfer history
    adds its recipient's, e.g. ``columns=("org:group", "Đơn vị nhận")``). Dated rules compare
    the ``timestamps`` column with 00:00 of their date in its zone (naive stamps: as they are).
    The log is a new frame (a shallow copy), with the same columns, dtypes (categorical or
    text), index, order and ``attrs``; null departments stay null.

    The summary has one row per unit in a ``from`` and per column present (config order):
    ``from``, ``to``, ``since`` (a date or None), ``column``, ``events`` (events the rule
    renamed in that column; the surviving unit of a merger: the events it kept; in a chain, an
    event counts for each rule it passes). With no column present, ``column`` is None, and
    ``events`` 0.
    """
    check_rules(rules)
    entries, chains = _chains(rules)
    present = [c for c in dict.fromkeys(columns) if c in log.columns]
    out = log.copy(deep=False)
    counts = np.zeros((len(entries), len(present)), dtype=np.int64)
    for j, column in enumerate(present):
        renamed, counts[:, j] = _rename_column(log, column, chains, len(entries), timestamps)
        if renamed is not None:
            out[column] = renamed
    summary = pd.DataFrame(
        [
            (source, unit_name(rules[n - 1].target), rules[n - 1].since, column, int(count))
            for i, (n, source) in enumerate(entries)
            for column, count in (zip(present, counts[i], strict=True) if present else [(None, 0)])
        ],
        columns=list(SUMMARY_COLUMNS),
    )
    summary["events"] = summary["events"].astype(np.int64)
    return out, summary


def _rename_column(
    log: pd.DataFrame, column: str, chains: dict[str, list[_Link]], n_entries: int, stamps: str
) -> tuple[pd.Series | None, np.ndarray]:
    """(the column renamed, or None when no event changes; events per rule entry)."""
    values = log[column]
    categorical = isinstance(values.dtype, pd.CategoricalDtype)
    if categorical:
        codes = values.cat.codes.to_numpy().astype(np.intp)
        uniques = list(values.cat.categories)
    else:
        codes, found = pd.factorize(values)
        uniques = list(found)
    names = list(uniques)
    index = {name: i for i, name in enumerate(uniques) if isinstance(name, str)}
    matched = {i: chains[unit_key(name)] for name, i in index.items() if unit_key(name) in chains}
    counts = np.zeros(n_entries, dtype=np.int64)
    if not matched:
        return None, counts
    depth = max(len(links) for links in matched.values())
    # Per link depth, per distinct value (the last slot: null): the entry, the name, the
    # threshold; a value with a shorter chain never reaches the deeper links.
    entry = np.zeros((depth, len(uniques) + 1), dtype=np.intp)
    name = np.zeros((depth, len(uniques) + 1), dtype=np.intp)
    threshold = np.full((depth, len(uniques) + 1), _NEVER, dtype=np.int64)
    for value, links in matched.items():
        for d, link in enumerate(links):
            if link.target not in index:
                index[link.target] = len(names)
                names.append(link.target)
            entry[d, value], name[d, value] = link.entry, index[link.target]
            threshold[d, value] = _ALWAYS if link.since is None else _threshold(log, stamps, link)
    lookup = np.zeros(len(uniques) + 1, dtype=bool)
    lookup[list(matched)] = True
    rows = np.flatnonzero(lookup[codes])  # codes of -1 (null) pick the last slot: False
    value_codes = codes[rows]
    new_codes = value_codes.copy()
    dated = bool((threshold[threshold != _NEVER] != _ALWAYS).any())
    times = _stamps(log, stamps)[rows] if dated else np.zeros(len(rows), dtype=np.int64)
    for d in range(depth):
        hit = times >= threshold[d, value_codes]
        counts += np.bincount(entry[d, value_codes][hit], minlength=n_entries)
        new_codes = np.where(hit, name[d, value_codes], new_codes)
    changed = new_codes != value_codes
    if not changed.any():
        return None, counts
    all_codes = codes.copy()
    all_codes[rows] = new_codes
    return _rebuilt(values, names, all_codes, rows[changed], categorical), counts


def _threshold(log: pd.DataFrame, stamps: str, link: _Link) -> int:
    """00:00 of the link's date in the zone of the ``stamps`` column, as that column's integers."""
    index = _stamp_index(log, stamps)
    midnight = pd.Timestamp(link.since)
    if index.tz is not None:
        midnight = midnight.tz_localize(index.tz, ambiguous=True, nonexistent="shift_forward")
    return int(pd.DatetimeIndex([midnight]).as_unit(index.unit).asi8[0])


def _stamps(log: pd.DataFrame, stamps: str) -> np.ndarray:
    return _stamp_index(log, stamps).asi8


def _stamp_index(log: pd.DataFrame, stamps: str) -> pd.DatetimeIndex:
    """The ``stamps`` column as a DatetimeIndex (no copy for a datetime64 column)."""
    if stamps not in log.columns:
        raise ValueError(f"dated unit rules need the time stamps: the log has no {stamps!r}")
    values = log[stamps]
    if not pd.api.types.is_datetime64_any_dtype(values.dtype):
        raise TypeError(
            f"dated unit rules compare dates: {stamps!r} holds {values.dtype}, not date-times "
            "(load the log with pm.read_log)"
        )
    return pd.DatetimeIndex(values)


def _rebuilt(
    values: pd.Series, names: list[Any], codes: np.ndarray, changed: np.ndarray, categorical: bool
) -> pd.Series:
    """``values`` with the value ``names[codes]`` at the rows ``changed``, its dtype kept; a
    categorical column gains the new names and loses the renamed ones no event keeps."""
    if categorical:
        # Kept in their order (pandas' remove_categories would sort them).
        # Kept: the names events carry, and the categories no event carried before.
        keep = np.bincount(codes[codes >= 0], minlength=len(names)) > 0
        keep[: len(values.cat.categories)] |= ~_was_used(values)
        recode = np.append(np.cumsum(keep) - 1, -1)  # the last slot: null (-1) stays null
        categories = pd.Index([n for n, k in zip(names, keep, strict=True) if k])
        cats = pd.Categorical.from_codes(
            recode[codes], categories=categories, ordered=values.cat.ordered
        )
        return pd.Series(cats, index=values.index, name=values.name)
    if pd.api.types.is_string_dtype(values.dtype) and not pd.api.types.is_object_dtype(
        values.dtype
    ):
        array = pd.array(names, dtype=values.dtype).take(codes, allow_fill=True)
        return pd.Series(array, index=values.index, name=values.name, copy=False)
    renamed = values.copy()
    renamed.iloc[changed] = np.array(names, dtype=object)[codes[changed]]
    return renamed


def _was_used(values: pd.Series) -> np.ndarray:
    """Per category of a categorical column, whether an event carries it."""
    codes = values.cat.codes.to_numpy()
    return np.bincount(codes[codes >= 0], minlength=len(values.cat.categories)) > 0


def unit_warnings(summary: pd.DataFrame) -> list[str]:
    """Sentences for the load report's warnings: each unit of a rule that no event carries,
    in any column (a typo, or a unit absent from this export).

    >>> summary = pd.DataFrame([("Phòng Nôi vụ", "Phòng Nội vụ", None, "org:group", 0)],
    ...                        columns=list(SUMMARY_COLUMNS))
    >>> print(*unit_warnings(summary))
    units: no event has 'Phòng Nôi vụ' (a rule renames it to 'Phòng Nội vụ'): check the spelling
    """
    if summary.empty:
        return []
    totals = summary.groupby(["from", "to"], sort=False, dropna=False)["events"].sum()
    return [
        f"units: no event has {source!r} (a rule renames it to {target!r}): check the spelling"
        for (source, target), events in totals.items()
        if events == 0
    ]
