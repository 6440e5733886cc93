"""The portfolio: the measures that meet the reform's targets for the fewest person-days.

docs/definitions.md (Simplified procedure, Compliance cost): the universe is the catalog; a
procedure is **simplified** when at least one measure on it is adopted (a measure that saves
time but no VND counts too); the cost target is a cut of the catalog procedures' **observed**
yearly cost. :func:`portfolio` reads the table of ``pm.simplification_candidates`` (its
``attrs`` carry the universe, the costs and the replay):

- **options**: per procedure, every set of non-conflicting candidates (two measures conflict
  when their ``activities`` intersect), each with its jointly replayed saving; beyond
  :data:`MAX_SUBSET_CANDIDATES` candidates, only the nested sets by saving per person-day;
- **choice**: an exact integer program (:func:`scipy.optimize.milp`, HiGHS): at most one option
  per procedure, the fewest person-days that meet both targets (ties: the larger saving); when no
  choice meets them, the largest smaller ratio achieved ÷ target, then the fewest person-days;
- **review coverage**: what the catalog's ``reviewed`` says, set beside its target, not chosen;
- **sensitivity**: the same summary with every saving 30 % lower, and whether choosing again
  would still meet the targets.

>>> import pandas as pd
>>> from procmine.portfolios import portfolio
>>> candidates = pd.DataFrame({
...     "measure_id": ["M001", "M002", "M003"],
...     "procedure": ["Cấp phép", "Cấp phép", "Đăng ký"],
...     "measure": ["end_pingpong", "remove_check", "cut_waiting"],
...     "activities": [("Thẩm định", "Phê duyệt"), ("Thẩm định",), ("Ký",)],
...     "saving_yearly": [4_500_000.0, 1_000_000.0, 0.0],
...     "effort_person_days": [5.0, 2.0, 1.0]})
>>> candidates.attrs["universe"] = pd.DataFrame({
...     "procedure": ["Cấp phép", "Đăng ký", "Chứng thực"], "reviewed": [True, True, False],
...     "observed_yearly": [10_000_000.0, 5_000_000.0, 5_000_000.0], "in_catalog": True})
>>> result = portfolio(candidates, targets={"simplified_share": 0.5})
>>> result.measures[["measure_id", "procedure", "saving_yearly"]]
  measure_id procedure  saving_yearly
0       M001  Cấp phép      4500000.0
2       M003   Đăng ký            0.0
>>> result.summary[["target", "achieved", "required", "met"]]
             target  achieved  required   met
0  simplified_share  0.666667       0.5  True
1          cost_cut  0.225000       0.2  True
2    reviewed_share  0.666667       0.5  True

(Two of three procedures must be simplified and 4 of 20 million VND a year saved: M002 conflicts
with M001 on "Thẩm định" and saves too little alone; M003 saves no VND but simplifies Đăng ký.)
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

if TYPE_CHECKING:  # cost sits below in the flow; only its type is named here
    from procmine.cost import Costs

__all__ = [
    "DEFAULT_TARGETS",
    "MAX_SUBSET_CANDIDATES",
    "SENSITIVITY_FACTOR",
    "STATUS_OPTIMAL",
    "STATUS_UNREACHABLE",
    "Portfolio",
    "PortfolioError",
    "choose",
    "conflict_free_subsets",
    "nested_sets",
    "portfolio",
    "target_summary",
]

DEFAULT_TARGETS = {"simplified_share": 0.20, "cost_cut": 0.20, "reviewed_share": 0.50}
MAX_SUBSET_CANDIDATES = 8  # 2**8 - 1 sets a procedure at most, each one replay
SENSITIVITY_FACTOR = 0.7  # "every saving 30 % lower"
STATUS_OPTIMAL = "optimal"
STATUS_UNREACHABLE = "targets unreachable: max-min ratio"
ALL_SUBSETS = "all subsets"
NESTED = "nested by saving per effort"
REQUIRED_COLUMNS = ("measure_id", "procedure", "activities", "saving_yearly", "effort_person_days")
RISK_ORDER = {"low": 0, "medium": 1, "high": 2}
RISK_NAMES = {level: name for name, level in RISK_ORDER.items()}
# Sums of float VND compared with a target: equal up to rounding is met.
_RELATIVE_TOLERANCE = 1e-9
# HiGHS stops at a 1e-4 relative gap by default; the brute-force equality needs the optimum.
_SOLVER_OPTIONS = {"mip_rel_gap": 0.0, "presolve": True, "time_limit": 120.0}


class PortfolioError(ValueError):
    """The candidates table or the targets cannot make a portfolio (the message says the fix)."""


@dataclass(frozen=True, eq=False, repr=False)
class Portfolio:
    """The chosen measures and how they stand against the targets (see :func:`portfolio`).

    ``measures``: the chosen candidate rows; ``saving_yearly`` is the joint saving of the
    procedure's option (repeated on each of its rows: sum ``procedures.saving_yearly``, not it),
    ``measure_saving_yearly`` the measure's own. ``summary``/``sensitivity``: one row per target.
    ``options``: every option considered (``chosen`` marks the portfolio). ``procedures``: one row
    per procedure of the universe, before and after. ``notes``: what a reader must know (nested
    sets, procedures outside the catalog, unreachable targets, the sensitivity in words).
    ``status``: :data:`STATUS_OPTIMAL` or :data:`STATUS_UNREACHABLE`. ``targets``: the three
    shares used; ``universe``: ``candidates.attrs["universe"]`` as read (all its columns).
    """

    measures: pd.DataFrame
    summary: pd.DataFrame
    sensitivity: pd.DataFrame
    options: pd.DataFrame
    procedures: pd.DataFrame
    notes: list[str]
    status: str
    targets: dict[str, float] = field(default_factory=dict)
    universe: pd.DataFrame = field(default_factory=pd.DataFrame)

    def headline(self) -> str:
        """One line: the status, how many measures on how many procedures, the person-days."""
        chosen = self.options[self.options["chosen"]]
        catalog = int(self.procedures["in_catalog"].sum())
        count = int(chosen["measures"].sum())
        return (
            f"Portfolio ({self.status}): {count} measure{'' if count == 1 else 's'} on "
            f"{len(chosen)} of {catalog} catalog procedures, "
            f"{float(chosen['effort_person_days'].sum()):g} person-days"
        )

    def __repr__(self) -> str:
        table = readable_summary(self.summary).to_string(index=False)
        lines = [self.headline(), *("  " + row for row in table.splitlines())]
        return "\n".join(lines + [f"  note: {note}" for note in self.notes])

    def _repr_html_(self) -> str:
        notes = "".join(f"<li>{html.escape(note)}</li>" for note in self.notes)
        return (
            f"<p><b>{html.escape(self.headline())}</b></p>"
            f"{readable_summary(self.summary).to_html(index=False)}"
            + (f"<ul>{notes}</ul>" if notes else "")
        )


def portfolio(
    candidates: pd.DataFrame,
    targets: Mapping[str, float] | None = None,
    costs: Costs | None = None,
) -> Portfolio:
    """Choose at most one set of measures per procedure: the fewest person-days that simplify
    ``simplified_share`` of the catalog procedures and cut ``cost_cut`` of their observed yearly
    cost; when no choice does, the one with the largest smaller ratio achieved ÷ target.

    ``candidates``: the table of ``pm.simplification_candidates`` (columns measure_id,
    procedure, activities, saving_yearly, effort_person_days; optional working_days_saved,
    on_time_rate_after, risk) with ``attrs["universe"]`` (procedure, observed_yearly, reviewed,
    in_catalog), optionally ``attrs["replay"]`` (``saving(procedure, measure_ids)`` → dict with
    saving_yearly, working_days_saved, on_time_rate_after) and ``attrs["costs"]``. ``targets``
    overrides keys of ``costs.targets`` (default 0.20 / 0.20 / 0.50).

    >>> import pandas as pd
    >>> table = pd.DataFrame({"measure_id": ["M001"], "procedure": ["Cấp phép"],
    ...                       "activities": [("Thẩm định",)], "saving_yearly": [3e6],
    ...                       "effort_person_days": [2.0]})
    >>> table.attrs["universe"] = pd.DataFrame({"procedure": ["Cấp phép"], "reviewed": [True],
    ...                                         "observed_yearly": [1e7], "in_catalog": [True]})
    >>> portfolio(table).status
    'optimal'
    """
    goals = resolve_targets(targets, costs, candidates)
    universe, notes = read_universe(candidates)
    table = checked_candidates(candidates)
    catalog = universe.loc[universe["in_catalog"], "procedure"]
    notes += outside_catalog_notes(table, catalog)
    inside = table[table["procedure"].isin(catalog)]
    replay = candidates.attrs.get("replay")
    options, option_notes = build_options(inside, list(catalog), replay)
    notes += option_notes
    if replay is None and (options["measures"] > 1).any():
        notes.append(
            "no replay in candidates.attrs: a set's saving is the sum of its measures' savings "
            "(overlaps not netted out)"
        )
    need_count, need_saving = requirements(universe, goals)
    chosen, ratio = choose(options, need_count, need_saving)
    status = STATUS_OPTIMAL if ratio is None else STATUS_UNREACHABLE
    if ratio is not None:
        notes.append(
            "the candidates cannot meet both targets: the portfolio maximises the smaller of "
            f"the ratios achieved ÷ target ({ratio:.3f}), then spends the fewest person-days"
        )
    options = options.assign(chosen=chosen)
    summary = target_summary(options[chosen], universe, goals)
    sensitivity = sensitivity_summary(options, universe, goals, need_count, need_saving)
    notes.append(sensitivity_sentence(sensitivity))
    return Portfolio(
        measures=chosen_measures(inside, options),
        summary=summary,
        sensitivity=sensitivity,
        options=options,
        procedures=procedure_table(universe, table, options),
        notes=notes,
        status=status,
        targets=goals,
        universe=universe,
    )


# ------------------------------------------------------------------------------ inputs
def resolve_targets(
    targets: Mapping[str, float] | None, costs: Costs | None, candidates: pd.DataFrame
) -> dict[str, float]:
    """The three targets: ``targets`` over ``costs.targets`` (or the candidates' costs) over
    :data:`DEFAULT_TARGETS`; each a share between 0 and 1.

    >>> resolve_targets({"cost_cut": 0.3}, None, pd.DataFrame())
    {'simplified_share': 0.2, 'cost_cut': 0.3, 'reviewed_share': 0.5}
    """
    costs = costs if costs is not None else candidates.attrs.get("costs")
    goals = dict(DEFAULT_TARGETS)
    goals.update({k: v for k, v in (getattr(costs, "targets", None) or {}).items() if k in goals})
    for key, value in (targets or {}).items():
        if key not in goals:
            raise PortfolioError(
                f"unknown target {key!r}: targets= takes {sorted(DEFAULT_TARGETS)}"
            )
        goals[key] = value
    for key, value in goals.items():
        if not isinstance(value, int | float) or not 0 <= value <= 1 or math.isnan(value):
            raise PortfolioError(f"target {key!r} is {value!r}: give a share between 0 and 1")
        goals[key] = float(value)
    return goals


def read_universe(candidates: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """``candidates.attrs["universe"]`` checked: procedure, observed_yearly, reviewed (bool),
    in_catalog (bool), prescribed_yearly; missing reviewed/in_catalog said in the notes."""
    universe = candidates.attrs.get("universe")
    if not isinstance(universe, pd.DataFrame):
        raise PortfolioError(
            "candidates.attrs['universe'] is missing: pass the table pm.simplification_candidates "
            "returns, or set attrs['universe'] to a DataFrame with columns procedure, "
            "observed_yearly, reviewed, in_catalog (one row per catalog procedure)"
        )
    missing = [c for c in ("procedure", "observed_yearly") if c not in universe.columns]
    if missing:
        raise PortfolioError(
            f"candidates.attrs['universe'] lacks column(s) {missing}: one row per catalog "
            "procedure with its observed_yearly cost (VND) is needed"
        )
    if universe["procedure"].duplicated().any():
        twice = sorted(universe.loc[universe["procedure"].duplicated(), "procedure"].astype(str))
        raise PortfolioError(f"candidates.attrs['universe'] lists {twice} twice: one row each")
    notes = []
    universe = universe.reset_index(drop=True).copy()
    for column, default in (("in_catalog", True), ("reviewed", False)):
        if column not in universe.columns:
            notes.append(f"the universe has no {column!r} column: taken as {default} for all")
            universe[column] = default
        universe[column] = universe[column].fillna(False).astype(bool)
    if "prescribed_yearly" not in universe.columns:
        universe["prescribed_yearly"] = np.nan
    universe["observed_yearly"] = universe["observed_yearly"].astype(float).fillna(0.0)
    return universe, notes


def checked_candidates(candidates: pd.DataFrame) -> pd.DataFrame:
    """The candidates with the columns the portfolio reads, activities as frozensets in
    ``activity_set``; a missing column or an unknown effort/saving is an error naming it."""
    missing = [c for c in REQUIRED_COLUMNS if c not in candidates.columns]
    if missing:
        raise PortfolioError(
            f"the candidates table lacks column(s) {missing}: pass the table "
            "pm.simplification_candidates returns"
        )
    # A saving may be negative (a measure that costs more); a person-day count may not.
    for column, floor in (("saving_yearly", -np.inf), ("effort_person_days", 0.0)):
        values = pd.to_numeric(candidates[column], errors="coerce")
        bad = candidates.loc[values.isna() | (values < floor), "measure_id"]
        if len(bad):
            raise PortfolioError(
                f"candidates' {column} is missing{' or negative' if floor == 0 else ''} for "
                f"{list(bad)}: give a number (0 when none) on every row"
            )
    if candidates["measure_id"].duplicated().any():
        raise PortfolioError("candidates' measure_id repeats: each measure needs its own id")
    table = candidates.copy()
    table["activity_set"] = [as_activity_set(value) for value in table["activities"]]
    return table


def as_activity_set(value: Any) -> frozenset[str]:
    """The activities a measure touches (a tuple, a list, one name, or none)."""
    if isinstance(value, str):
        return frozenset([value])
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return frozenset()
    return frozenset(str(item) for item in value)


def outside_catalog_notes(table: pd.DataFrame, catalog: pd.Series) -> list[str]:
    """One note per procedure with candidates that the catalog does not list."""
    outside = table.loc[~table["procedure"].isin(catalog), "procedure"].value_counts(sort=False)
    return [
        f"procedure {name} is not in the catalog: its {count} candidate(s) are listed, not counted"
        for name, count in outside.items()
    ]


def requirements(universe: pd.DataFrame, goals: Mapping[str, float]) -> tuple[int, float]:
    """Procedures to simplify (a whole number) and VND a year to save, over the catalog."""
    catalog = universe[universe["in_catalog"]]
    return (
        required_count(goals["simplified_share"], len(catalog)),
        goals["cost_cut"] * float(catalog["observed_yearly"].sum()),
    )


def required_count(share: float, total: int) -> int:
    """The fewest of ``total`` that make ``share`` (0.2 × 25 → 5; 0.1 × 30 is 3, not 4).

    >>> required_count(0.2, 25), required_count(0.1, 30), required_count(0.2, 3)
    (5, 3, 1)
    """
    return max(0, math.ceil(share * total - 1e-9))


# ------------------------------------------------------------------------------ options
def conflict_free_subsets(activities: Sequence[frozenset[str]]) -> np.ndarray:
    """Bit masks (bit i = candidate i) of every non-empty set of candidates whose activities are
    pairwise disjoint (a measure touching no activity conflicts with none).

    >>> conflict_free_subsets([frozenset("a"), frozenset("ab"), frozenset()]).tolist()
    [1, 2, 4, 5, 6]
    """
    k = len(activities)
    masks = np.arange(1, 1 << k, dtype=np.int64)
    clash = np.zeros(len(masks), dtype=bool)
    for i in range(k):
        rivals = sum(1 << j for j in range(k) if j != i and activities[i] & activities[j])
        clash |= (((masks >> i) & 1) == 1) & ((masks & rivals) != 0)
    return masks[~clash]


def nested_sets(
    activities: Sequence[frozenset[str]], saving: np.ndarray, effort: np.ndarray
) -> list[tuple[int, ...]]:
    """The candidates in order of saving per person-day (free measures first, ties in table
    order), each added unless it conflicts with one taken: {1}, {1, 2}, … (positions, sorted).

    >>> nested_sets([frozenset("a"), frozenset("a"), frozenset("b")],
    ...             np.array([10.0, 30.0, 5.0]), np.array([1.0, 1.0, 1.0]))
    [(1,), (1, 2)]
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(
            effort > 0, saving / np.where(effort > 0, effort, 1), np.sign(saving) * np.inf
        )
    ratio = np.nan_to_num(ratio, nan=0.0)
    taken: list[int] = []
    used: frozenset[str] = frozenset()
    sets = []
    for i in np.argsort(-ratio, kind="stable"):
        if activities[i] & used:
            continue
        taken.append(int(i))
        used |= activities[i]
        sets.append(tuple(sorted(taken)))
    return sets


def build_options(
    table: pd.DataFrame, catalog: Sequence[str], replay: Any
) -> tuple[pd.DataFrame, list[str]]:
    """Every option (a set of one procedure's non-conflicting candidates) with its saving, in
    catalog order; notes for the procedures whose options are only the nested sets."""
    frames, notes, chosen = [], [], []
    for procedure, group in table.groupby("procedure", sort=False, observed=True):
        activities = list(group["activity_set"])
        if len(group) <= MAX_SUBSET_CANDIDATES:
            masks = conflict_free_subsets(activities)
            members = (masks[:, None] >> np.arange(len(group))) & 1 == 1
            how = ALL_SUBSETS
        else:
            saving = group["saving_yearly"].to_numpy(float)
            sets = nested_sets(activities, saving, group["effort_person_days"].to_numpy(float))
            members = np.zeros((len(sets), len(group)), dtype=bool)
            for row, positions in enumerate(sets):
                members[row, list(positions)] = True
            how = NESTED
            notes.append(
                f"procedure {procedure} has {len(group)} candidates: its options are the "
                f"{len(sets)} nested sets by saving per person-day, not every subset"
            )
        chosen.append((procedure, group, members, how))
    if replay is not None and hasattr(replay, "prefetch"):  # every joint set, replayed in rounds
        replay.prefetch(
            (procedure, tuple(group["measure_id"].astype(str).to_numpy()[row]))
            for procedure, group, members, _ in chosen
            for row in members[members.sum(axis=1) > 1]
        )
    for procedure, group, members, how in chosen:
        frames.append(procedure_options(procedure, group, members, replay).assign(enumeration=how))
    options = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    options = options.reindex(columns=OPTION_COLUMNS)
    order = {name: position for position, name in enumerate(catalog)}
    options = options.sort_values("procedure", key=lambda s: s.map(order), kind="stable")
    return options.reset_index(drop=True).assign(option=lambda o: np.arange(len(o))), notes


OPTION_COLUMNS = [
    "option", "procedure", "measure_ids", "measures", "effort_person_days", "saving_yearly",
    "working_days_saved", "on_time_rate_after", "risk", "saving_source", "enumeration",
]  # fmt: skip


def procedure_options(
    procedure: str, group: pd.DataFrame, members: np.ndarray, replay: Any
) -> pd.DataFrame:
    """The options of one procedure, ``members`` (options × its candidates, bool) saying which
    candidates each holds. A single measure keeps its own row's figures (its own replay); a set
    is replayed jointly when a replay is given, else its savings and days are summed."""
    ids = group["measure_id"].astype(str).to_numpy()
    column = {
        name: pd.to_numeric(group.get(name, pd.Series(np.nan, index=group.index))).to_numpy(float)
        for name in ("saving_yearly", "working_days_saved", "on_time_rate_after")
    }
    size = members.sum(axis=1)
    figures = {name: members @ np.nan_to_num(values) for name, values in column.items()}
    figures["working_days_saved"][members @ ~np.isnan(column["working_days_saved"]) == 0] = np.nan
    single = size == 1
    figures["on_time_rate_after"] = np.where(single, figures["on_time_rate_after"], np.nan)
    figures["on_time_rate_after"][single & (members @ np.isnan(column["on_time_rate_after"]))] = (
        np.nan
    )
    measure_ids = [tuple(ids[row]) for row in members]
    source = np.where(single, "row", "replay" if replay is not None else "sum")
    for row in np.flatnonzero(~single) if replay is not None else ():
        joint = dict(replay.saving(procedure, measure_ids[row]))
        if "saving_yearly" not in joint:
            raise PortfolioError(
                f"candidates.attrs['replay'].saving({procedure!r}, {measure_ids[row]}) returned "
                "no 'saving_yearly': it must return a dict with saving_yearly (VND a year)"
            )
        for name in figures:
            figures[name][row] = float(joint.get(name, np.nan))
    risk = group.get("risk", pd.Series(None, index=group.index, dtype=object))
    rank = risk.map(RISK_ORDER).fillna(-1).to_numpy(int)
    worst = np.where(members, rank, -1).max(axis=1)
    return pd.DataFrame({
        "procedure": procedure,
        "measure_ids": measure_ids,
        "measures": size,
        "effort_person_days": members @ group["effort_person_days"].to_numpy(float),
        **figures,
        "risk": [RISK_NAMES.get(int(level)) for level in worst],
        "saving_source": source,
    })  # fmt: skip


# ------------------------------------------------------------------------------ choice
def choose(
    options: pd.DataFrame, need_count: float, need_saving: float
) -> tuple[np.ndarray, float | None]:
    """The chosen options (a boolean mask) and, when the targets cannot both be met, the best
    smaller ratio achieved ÷ target (``None`` when they are met).

    Met: the fewest person-days with ≥ ``need_count`` options (≤ 1 per procedure) saving ≥
    ``need_saving``, then the largest saving. Not met: the largest t with t ≤ count/need_count
    and t ≤ saving/need_saving (a ratio with a zero need is left out), then the same two steps
    with the needs scaled by t.
    """
    groups = pd.factorize(options["procedure"])[0]
    saving = options["saving_yearly"].to_numpy(float)
    effort = options["effort_person_days"].to_numpy(float)
    chosen = cheapest(groups, saving, effort, need_count, need_saving)
    if chosen is not None:
        return chosen, None
    ratio = best_ratio(groups, saving, need_count, need_saving)
    # The optimum itself must stay admissible: the needs are scaled a hair below t.
    relaxed = ratio * (1 - _RELATIVE_TOLERANCE)
    chosen = cheapest(groups, saving, effort, need_count * relaxed, need_saving * relaxed)
    if chosen is None:  # only if HiGHS disagrees with itself; the ratio's own choice stands
        chosen = best_ratio(groups, saving, need_count, need_saving, mask=True)
    return chosen, ratio


def one_per_group(groups: np.ndarray, extra_columns: int = 0) -> sparse.csr_array:
    """Rows of the "at most one option per procedure" constraints."""
    n = len(groups)
    shape = (int(groups.max()) + 1 if n else 0, n + extra_columns)
    return sparse.csr_array((np.ones(n), (groups, np.arange(n))), shape=shape)


def solve(objective: np.ndarray, rows: Any, lower: Sequence[float], upper: Sequence[float],
          binaries: int) -> np.ndarray | None:  # fmt: skip
    """HiGHS on ``min objective·x`` with ``lower ≤ rows·x ≤ upper``; the first ``binaries``
    variables 0/1, the rest in [0, 1]; ``None`` when infeasible."""
    integrality = np.zeros(len(objective))
    integrality[:binaries] = 1
    result = milp(
        objective,
        constraints=LinearConstraint(sparse.csr_array(rows), lower, upper),
        integrality=integrality,
        bounds=Bounds(0, 1),
        options=_SOLVER_OPTIONS,
    )
    return None if result.x is None else result.x


def cheapest(
    groups: np.ndarray, saving: np.ndarray, effort: np.ndarray, need_count: float,
    need_saving: float,
) -> np.ndarray | None:  # fmt: skip
    """The fewest person-days meeting both needs, then the largest saving; ``None`` if none."""
    n = len(saving)
    if n == 0:
        return np.zeros(0, dtype=bool) if need_count <= 0 and need_saving <= 0 else None
    # Scaled to about 1 so HiGHS's absolute tolerances mean the same for VND and person-days.
    scale = max(need_saving, float(np.abs(saving).max()), 1.0)
    effort_scale = float(effort.max()) if effort.max() > 0 else 1.0
    rows = sparse.vstack([one_per_group(groups), np.ones((1, n)), saving[None, :] / scale])
    groups_count = rows.shape[0] - 2
    lower = [-np.inf] * groups_count + [need_count, need_saving / scale]
    upper = [1.0] * groups_count + [np.inf, np.inf]
    first = solve(effort / effort_scale, rows, lower, upper, n)
    if first is None:
        return None
    spent = float(effort @ first.round()) / effort_scale
    rows = sparse.vstack([rows, effort[None, :] / effort_scale])
    second = solve(
        -saving / scale, rows, [*lower, -np.inf], [*upper, spent * (1 + 1e-9) + 1e-12], n
    )
    return (first if second is None else second).round().astype(bool)


def best_ratio(
    groups: np.ndarray, saving: np.ndarray, need_count: float, need_saving: float,
    mask: bool = False,
) -> Any:  # fmt: skip
    """The largest t ≤ each ratio achieved ÷ need (the mask of its choice when ``mask``); with
    no VND to save, the saving must still not be negative."""
    n = len(saving)
    if n == 0:
        return np.zeros(0, dtype=bool) if mask else 0.0
    scale = max(need_saving, float(np.abs(saving).max()), 1.0)
    rows = [one_per_group(groups, extra_columns=1)]
    lower, upper = [-np.inf] * rows[0].shape[0], [1.0] * rows[0].shape[0]
    if need_count > 0:  # t − count/need ≤ 0
        rows.append(np.append(-np.ones(n) / need_count, 1.0)[None, :])
        lower, upper = [*lower, -np.inf], [*upper, 0.0]
    if need_saving > 0:  # t − saving/need ≤ 0
        rows.append(np.append(-saving / need_saving, 1.0)[None, :])
        lower, upper = [*lower, -np.inf], [*upper, 0.0]
    else:
        rows.append(np.append(saving / scale, 0.0)[None, :])
        lower, upper = [*lower, 0.0], [*upper, np.inf]
    x = solve(np.append(np.zeros(n), -1.0), sparse.vstack(rows), lower, upper, n)
    chosen = x[:n].round().astype(bool)
    if mask:
        return chosen
    ratios = []
    if need_count > 0:
        ratios.append(chosen.sum() / need_count)
    if need_saving > 0:
        ratios.append(float(saving[chosen].sum()) / need_saving)
    return float(min(ratios))


# ------------------------------------------------------------------------------ results
def target_summary(
    chosen: pd.DataFrame, universe: pd.DataFrame, goals: Mapping[str, float], factor: float = 1.0
) -> pd.DataFrame:
    """One row per target: the share achieved by the ``chosen`` options (savings × ``factor``)
    over the catalog procedures, the share required, met, the gap (0 when met), and the amounts
    behind them (procedures, or VND a year)."""
    catalog = universe[universe["in_catalog"]]
    total, base = len(catalog), float(catalog["observed_yearly"].sum())
    rows = [
        ("simplified_share", chosen["procedure"].nunique(),
         required_count(goals["simplified_share"], total), total, "procedures"),
        ("cost_cut", factor * float(chosen["saving_yearly"].sum()),
         goals["cost_cut"] * base, base, "VND a year"),
        ("reviewed_share", int(catalog["reviewed"].sum()),
         required_count(goals["reviewed_share"], total), total, "procedures"),
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["target", "amount", "required_amount", "base", "unit"])
    frame["amount"] = frame["amount"].astype(float)
    frame["required_amount"] = frame["required_amount"].astype(float)
    frame["base"] = frame["base"].astype(float)
    achieved = np.where(
        frame["base"] > 0, frame["amount"] / frame["base"].where(frame["base"] > 0, 1), 0.0
    )
    required = frame["target"].map(goals).astype(float)
    slack = _RELATIVE_TOLERANCE * np.maximum(frame["required_amount"].abs(), 1.0)
    met = frame["amount"] >= frame["required_amount"] - slack
    frame.insert(1, "achieved", achieved)
    frame.insert(2, "required", required)
    frame.insert(3, "met", met.astype(bool))
    frame.insert(4, "gap", np.where(met, 0.0, np.maximum(required - achieved, 0.0)))
    return frame


def sensitivity_summary(
    options: pd.DataFrame, universe: pd.DataFrame, goals: Mapping[str, float],
    need_count: int, need_saving: float,
) -> pd.DataFrame:  # fmt: skip
    """:func:`target_summary` of the chosen options with every saving × :data:`SENSITIVITY_FACTOR`,
    and ``met_if_reoptimised``: met by the choice made again on the lower savings
    (``attrs["reoptimised"]``: its status, measures and person-days)."""
    frame = target_summary(options[options["chosen"]], universe, goals, SENSITIVITY_FACTOR)
    lower = options.assign(saving_yearly=options["saving_yearly"] * SENSITIVITY_FACTOR)
    again, ratio = choose(lower, need_count, need_saving)
    frame["met_if_reoptimised"] = target_summary(lower[again], universe, goals)["met"].to_numpy()
    frame.attrs["factor"] = SENSITIVITY_FACTOR
    frame.attrs["reoptimised"] = {
        "status": STATUS_OPTIMAL if ratio is None else STATUS_UNREACHABLE,
        "measure_ids": tuple(i for ids in lower.loc[again, "measure_ids"] for i in ids),
        "effort_person_days": float(lower.loc[again, "effort_person_days"].sum()),
        "saving_yearly": float(lower.loc[again, "saving_yearly"].sum()),
    }
    return frame


def sensitivity_sentence(sensitivity: pd.DataFrame) -> str:
    """The sensitivity in one sentence: do the chosen measures still meet the two targets the
    portfolio chooses for, and would a choice made again."""
    factor = sensitivity.attrs.get("factor", SENSITIVITY_FACTOR)
    head = f"with every saving {1 - factor:.0%} lower"
    chosen_for = sensitivity[sensitivity["target"] != "reviewed_share"]
    missed = chosen_for[~chosen_for["met"]]
    if missed.empty:
        return f"{head}, the chosen measures still meet the simplification and cost targets"
    gaps = ", ".join(
        f"{row.target} {row.achieved:.1%} < {row.required:.1%}" for row in missed.itertuples()
    )
    again = sensitivity.attrs.get("reoptimised", {})
    if chosen_for["met_if_reoptimised"].all():
        tail = (
            f"chosen again, {len(again.get('measure_ids', ()))} measures "
            f"({again.get('effort_person_days', float('nan')):g} person-days) would meet them"
        )
    else:
        tail = "chosen again, no set of these candidates would meet them"
    return f"{head}, the chosen measures miss {gaps}; {tail}"


def chosen_measures(table: pd.DataFrame, options: pd.DataFrame) -> pd.DataFrame:
    """The candidate rows of the chosen options; ``saving_yearly`` is the option's joint saving,
    ``measure_saving_yearly`` the measure's own (candidates' order and index kept)."""
    chosen = options[options["chosen"]].explode("measure_ids")
    chosen = chosen.set_index(chosen["measure_ids"].astype(str))
    keys = table["measure_id"].astype(str)
    rows = table[keys.isin(chosen.index)].drop(columns="activity_set")
    keys = keys[rows.index]
    rows["measure_saving_yearly"] = rows["saving_yearly"].astype(float)
    rows["saving_yearly"] = keys.map(chosen["saving_yearly"]).astype(float)
    rows["option"] = keys.map(chosen["option"]).astype(int)
    rows["option_saving_yearly"] = rows["saving_yearly"]
    rows["option_working_days_saved"] = keys.map(chosen["working_days_saved"]).astype(float)
    rows["option_effort_person_days"] = keys.map(chosen["effort_person_days"]).astype(float)
    rows.attrs = {}  # the replay and universe stay with the candidates, not copied per result
    return rows


def procedure_table(
    universe: pd.DataFrame, table: pd.DataFrame, options: pd.DataFrame
) -> pd.DataFrame:
    """One row per procedure of the universe (its columns kept, e.g. a ``document``): its
    candidates and options, whether it is simplified, the chosen measures, and its observed
    yearly cost before and after."""
    chosen = options[options["chosen"]].set_index("procedure")
    first = ["procedure", "in_catalog", "reviewed", "observed_yearly", "prescribed_yearly"]
    frame = universe[first + [c for c in universe.columns if c not in first]].copy()
    name = frame["procedure"]
    frame["candidates"] = name.map(table["procedure"].value_counts()).fillna(0).astype(int)
    frame["options"] = name.map(options["procedure"].value_counts()).fillna(0).astype(int)
    frame["enumeration"] = name.map(options.groupby("procedure")["enumeration"].first())
    frame["simplified"] = name.isin(chosen.index)
    frame["measure_ids"] = [chosen["measure_ids"].get(p, ()) for p in name]
    frame["measures"] = frame["measure_ids"].map(len)
    frame["effort_person_days"] = name.map(chosen["effort_person_days"]).fillna(0.0)
    frame["saving_yearly"] = name.map(chosen["saving_yearly"]).fillna(0.0)
    frame["observed_yearly_after"] = frame["observed_yearly"] - frame["saving_yearly"]
    observed = frame["observed_yearly"].where(frame["observed_yearly"] > 0)
    frame["saving_share"] = frame["saving_yearly"] / observed
    frame["working_days_saved"] = name.map(chosen["working_days_saved"])
    return frame


def readable_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary as a reader sees it: percentages, yes/no, and the amounts behind them."""

    def detail(row: Any) -> str:
        if row.unit == "procedures":
            return f"{row.amount:.0f} of {row.base:.0f} procedures (need {row.required_amount:.0f})"
        return f"{row.amount:,.0f} of {row.base:,.0f} VND a year (need {row.required_amount:,.0f})"

    return pd.DataFrame({
        "target": summary["target"],
        "achieved": summary["achieved"].map("{:.1%}".format),
        "required": summary["required"].map("{:.1%}".format),
        "met": summary["met"].map({True: "yes", False: "no"}),
        "gap": summary["gap"].map("{:.1%}".format),
        "detail": [detail(row) for row in summary.itertuples()],
    })  # fmt: skip
