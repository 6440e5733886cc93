"""The portfolio (issue 16, item 4): options, the exact choice against brute force, the targets.

Every expected figure is computed here, independently: the options by itertools over the
candidates, the choice by trying every combination of options, the summary by hand.
"""

from __future__ import annotations

import itertools
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from procmine.portfolios import (
    NESTED,
    STATUS_OPTIMAL,
    STATUS_UNREACHABLE,
    PortfolioError,
    portfolio,
)

TOLERANCE = 1e-9


class FakeReplay:
    """A joint saving that is not the sum (an overlap of 3 VND per extra measure), and a record of
    the sets it was asked about. pandas deep-copies attrs: the copy must be this very object."""

    def __init__(self, savings: dict[str, float]):
        self.savings = savings
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def __deepcopy__(self, memo):
        return self

    def saving(self, procedure, measure_ids):
        self.calls.append((procedure, tuple(measure_ids)))
        return {
            "saving_yearly": joint_saving(self.savings, measure_ids),
            "working_days_saved": 0.5 * len(measure_ids),
            "on_time_rate_after": 0.9,
        }


def joint_saving(savings: dict[str, float], ids) -> float:
    return sum(savings[i] for i in ids) - 3.0 * (len(ids) - 1)


def make(rows, universe, replay=False, costs=None) -> pd.DataFrame:
    """rows: (measure_id, procedure, activities, saving_yearly, effort_person_days);
    universe: (procedure, observed_yearly, reviewed, in_catalog)."""
    table = pd.DataFrame(
        rows,
        columns=["measure_id", "procedure", "activities", "saving_yearly", "effort_person_days"],
    )
    table["activities"] = [tuple(sorted(a)) for a in table["activities"]]
    table["measure"] = "cut_waiting"
    table["risk"] = "low"
    table.attrs["universe"] = pd.DataFrame(
        universe, columns=["procedure", "observed_yearly", "reviewed", "in_catalog"]
    )
    if replay:
        table.attrs["replay"] = FakeReplay(
            dict(zip(table["measure_id"], table["saving_yearly"], strict=True))
        )
    if costs is not None:
        table.attrs["costs"] = costs
    return table


def chosen_options(result) -> pd.DataFrame:
    return result.options[result.options["chosen"]]


def summary_row(result, target: str, frame: str = "summary") -> pd.Series:
    table = getattr(result, frame)
    return table.set_index("target").loc[target]


# ------------------------------------------------------------------------------ brute force
def independent_options(rows, catalog, replay: bool):
    """{procedure: [(ids, saving, effort)]}: every non-empty pairwise-disjoint set."""
    savings = {r[0]: float(r[3]) for r in rows}
    by_procedure: dict[str, list] = {}
    for procedure in catalog:
        mine = [r for r in rows if r[1] == procedure]
        sets = []
        for size in range(1, len(mine) + 1):
            for combo in itertools.combinations(mine, size):
                if all(not set(a[2]) & set(b[2]) for a, b in itertools.combinations(combo, 2)):
                    ids = tuple(r[0] for r in combo)
                    if size == 1 or not replay:
                        saving = sum(savings[i] for i in ids)
                    else:
                        saving = joint_saving(savings, ids)
                    sets.append((ids, saving, float(sum(r[4] for r in combo))))
        by_procedure[procedure] = sets
    return by_procedure


def brute_force(by_procedure, need_count: int, need_saving: float):
    """(status, ratio, effort, saving) of the best combination of at most one option each."""
    combos = []
    for pick in itertools.product(*[[None, *opts] for opts in by_procedure.values()]):
        taken = [o for o in pick if o is not None]
        combos.append((len(taken), sum(o[1] for o in taken), sum(o[2] for o in taken)))
    slack = TOLERANCE * max(need_saving, 1.0)
    feasible = [c for c in combos if c[0] >= need_count and c[1] >= need_saving - slack]
    if feasible:
        effort = min(c[2] for c in feasible)
        saving = max(c[1] for c in feasible if c[2] <= effort + 1e-9)
        return STATUS_OPTIMAL, None, effort, saving

    def ratio(c):
        parts = [c[0] / need_count] if need_count > 0 else []
        parts += [c[1] / need_saving] if need_saving > 0 else []
        return min(parts)

    admissible = [c for c in combos if need_saving > 0 or c[1] >= 0]
    best = max(ratio(c) for c in admissible)
    tied = [c for c in admissible if ratio(c) >= best - 1e-9]
    effort = min(c[2] for c in tied)
    saving = max(c[1] for c in tied if c[2] <= effort + 1e-9)
    return STATUS_UNREACHABLE, best, effort, saving


@st.composite
def instances(draw):
    rows, universe = [], []
    for p in range(draw(st.integers(1, 6))):
        procedure = f"P{p}"
        in_catalog = draw(st.sampled_from([True, True, True, False]))
        universe.append((procedure, draw(st.integers(1, 400)), draw(st.booleans()), in_catalog))
        for k in range(draw(st.integers(0, 4))):
            activities = draw(st.sets(st.sampled_from("abcd"), max_size=2))
            saving, effort = draw(st.integers(0, 100)), draw(st.integers(0, 10))
            rows.append((f"M{p}{k}", procedure, activities, float(saving), float(effort)))
    targets = {
        "simplified_share": draw(st.sampled_from([0.0, 0.1, 0.2, 0.34, 0.5, 0.8, 1.0])),
        "cost_cut": draw(st.sampled_from([0.0, 0.05, 0.2, 0.4, 0.8])),
    }
    return rows, universe, targets, draw(st.booleans())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_the_choice_equals_brute_force(instance):
    rows, universe, targets, replay = instance
    result = portfolio(make(rows, universe, replay=replay), targets=targets)
    catalog = [u[0] for u in universe if u[3]]
    by_procedure = independent_options(rows, catalog, replay)

    considered = {
        (o.procedure, o.measure_ids): o.saving_yearly for o in result.options.itertuples()
    }
    expected = {(p, ids): s for p, opts in by_procedure.items() for ids, s, _ in opts}
    assert considered.keys() == expected.keys()
    assert considered == pytest.approx(expected)

    need_count = math.ceil(targets["simplified_share"] * len(catalog) - 1e-9)
    observed = sum(u[1] for u in universe if u[3])
    status, ratio, effort, saving = brute_force(
        by_procedure, need_count, targets["cost_cut"] * observed
    )
    chosen = chosen_options(result)
    assert result.status == status
    assert chosen["effort_person_days"].sum() == pytest.approx(effort)
    assert chosen["saving_yearly"].sum() == pytest.approx(saving)
    assert chosen["procedure"].is_unique and set(chosen["procedure"]) <= set(catalog)
    if ratio is not None:
        achieved = []
        if need_count > 0:
            achieved.append(len(chosen) / need_count)
        if targets["cost_cut"] * observed > 0:
            achieved.append(chosen["saving_yearly"].sum() / (targets["cost_cut"] * observed))
        assert min(achieved) == pytest.approx(ratio)

    simplified = summary_row(result, "simplified_share")
    assert simplified["achieved"] == pytest.approx(len(chosen) / len(catalog) if catalog else 0)
    assert bool(simplified["met"]) == (len(chosen) >= need_count)
    reviewed = sum(1 for u in universe if u[3] and u[2])
    assert summary_row(result, "reviewed_share")["amount"] == reviewed


# ------------------------------------------------------------------------------ rules
CONFLICTS = [
    ("M1", "P", {"A", "B"}, 50.0, 1.0),
    ("M2", "P", {"B", "C"}, 50.0, 1.0),
    ("M3", "P", set(), 10.0, 1.0),
]
ONE_PROCEDURE = [("P", 100.0, True, True)]


def test_conflicting_measures_are_never_one_option():
    result = portfolio(make(CONFLICTS, ONE_PROCEDURE), targets={"cost_cut": 0.6})
    assert set(result.options["measure_ids"]) == {
        ("M1",), ("M2",), ("M3",), ("M1", "M3"), ("M2", "M3"),
    }  # fmt: skip
    assert result.status == STATUS_OPTIMAL
    chosen = chosen_options(result)
    assert len(chosen) == 1 and chosen["measure_ids"].iloc[0] in {("M1", "M3"), ("M2", "M3")}
    assert summary_row(result, "cost_cut")["achieved"] == pytest.approx(0.6)


def test_unreachable_targets_maximise_the_smaller_ratio_and_say_so():
    # 60 of the 80 VND needed is the most two non-conflicting measures give: ratio 0.75.
    result = portfolio(make(CONFLICTS, ONE_PROCEDURE), targets={"cost_cut": 0.8})
    assert result.status == STATUS_UNREACHABLE
    assert chosen_options(result)["saving_yearly"].sum() == pytest.approx(60.0)
    assert any("0.750" in note and "smaller" in note for note in result.notes)
    cost = summary_row(result, "cost_cut")
    assert not cost["met"] and cost["gap"] == pytest.approx(0.8 - 0.6)


def test_more_than_eight_candidates_take_the_nested_sets_and_say_so():
    # Saving per person-day falls with the index; N02 conflicts with N01 (activity "x").
    rows = [(f"N{i:02d}", "Big", {f"a{i}"}, 100.0 - 5 * i, 1.0) for i in range(11)]
    rows[2] = ("N02", "Big", {"a1", "x"}, 90.0, 1.0)
    rows[1] = ("N01", "Big", {"a1"}, 95.0, 1.0)
    rows.append(("S1", "Small", {"s"}, 10.0, 1.0))
    universe = [("Big", 1000.0, True, True), ("Small", 100.0, False, True)]
    table = make(rows, universe, replay=True)
    result = portfolio(table)
    big = result.options[result.options["procedure"] == "Big"]
    order = ["N00", "N01", *(f"N{i:02d}" for i in range(3, 11))]  # N02 skipped: conflict
    expected = [tuple(sorted(order[: k + 1])) for k in range(len(order))]
    assert list(big["measure_ids"]) == expected
    assert set(big["enumeration"]) == {NESTED}
    assert any("Big has 11 candidates" in n and "nested" in n for n in result.notes)
    assert not any("Small" in n for n in result.notes)
    assert table.attrs["replay"].calls == [("Big", ids) for ids in expected[1:]]


def test_eight_candidates_still_take_every_subset():
    rows = [(f"M{i}", "P", set(), 1.0, 1.0) for i in range(8)]
    result = portfolio(make(rows, ONE_PROCEDURE))
    assert len(result.options) == 2**8 - 1
    assert not any("nested" in note for note in result.notes)


def test_procedures_outside_the_catalog_are_listed_not_counted():
    rows = [
        ("M1", "P", {"a"}, 40.0, 3.0),
        ("M9", "L", {"a"}, 5000.0, 0.0),  # free and huge, but L is not a catalog procedure
        ("M8", "Z", {"a"}, 5000.0, 0.0),  # Z is not even in the universe
    ]
    universe = [("P", 100.0, True, True), ("Q", 100.0, False, True), ("L", 10000.0, False, False)]
    result = portfolio(make(rows, universe), targets={"simplified_share": 0.5})
    assert set(result.options["procedure"]) == {"P"}
    assert list(result.measures["measure_id"]) == ["M1"]
    cost = summary_row(result, "cost_cut")
    assert cost["base"] == 200.0 and cost["achieved"] == pytest.approx(40 / 200)
    simplified = summary_row(result, "simplified_share")
    assert simplified["base"] == 2 and simplified["achieved"] == pytest.approx(0.5)
    assert any("L is not in the catalog" in n for n in result.notes)
    assert any("Z is not in the catalog" in n for n in result.notes)
    assert summary_row(result, "reviewed_share")["achieved"] == pytest.approx(0.5)
    assert list(result.procedures["in_catalog"]) == [True, True, False]


def test_a_measure_saving_no_vnd_still_simplifies_its_procedure():
    rows = [("M1", "P", {"Ký"}, 0.0, 1.0), ("M2", "Q", {"a"}, 30.0, 2.0)]
    universe = [("P", 100.0, True, True), ("Q", 100.0, False, True)]
    result = portfolio(make(rows, universe), targets={"simplified_share": 1.0, "cost_cut": 0.1})
    assert result.status == STATUS_OPTIMAL
    assert sorted(result.measures["measure_id"]) == ["M1", "M2"]
    simplified = summary_row(result, "simplified_share")
    assert simplified["amount"] == 2 and simplified["met"]
    assert result.procedures.set_index("procedure").loc["P", "simplified"]


def test_measures_carry_the_joint_saving_of_their_option():
    rows = [("M1", "P", {"a"}, 30.0, 1.0), ("M2", "P", {"b"}, 20.0, 1.0)]
    table = make(rows, ONE_PROCEDURE, replay=True)
    result = portfolio(table, targets={"cost_cut": 0.47})  # 47: only the pair (50 − 3) reaches
    measures = result.measures.set_index("measure_id")
    assert list(measures["saving_yearly"]) == [47.0, 47.0]
    assert list(measures["option_saving_yearly"]) == [47.0, 47.0]
    assert list(measures["measure_saving_yearly"]) == [30.0, 20.0]
    assert table.attrs["replay"].calls == [("P", ("M1", "M2"))]  # single measures: their rows
    options = result.options.set_index("measure_ids")
    assert list(options["saving_source"]) == ["row", "row", "replay"]
    assert options.loc[[("M1", "M2")], "working_days_saved"].item() == 1.0
    assert options.loc[[("M1", "M2")], "on_time_rate_after"].item() == 0.9
    assert set(options["risk"]) == {"low"}
    procedures = result.procedures.set_index("procedure")
    assert procedures.loc["P", "saving_yearly"] == 47.0
    assert procedures.loc["P", "observed_yearly_after"] == 53.0


def test_sensitivity_with_savings_thirty_percent_lower():
    # Chosen: M1 (1 person-day, 25 of the 20 needed). At 70 %: 17.5 < 20; M2 at 70 % gives 28.
    rows = [("M1", "P", {"a"}, 25.0, 1.0), ("M2", "Q", {"a"}, 40.0, 5.0)]
    universe = [("P", 50.0, True, True), ("Q", 50.0, True, True)]
    result = portfolio(make(rows, universe), targets={"simplified_share": 0.0})
    assert list(result.measures["measure_id"]) == ["M1"]
    cost = summary_row(result, "cost_cut", "sensitivity")
    assert cost["achieved"] == pytest.approx(0.175) and not cost["met"]
    assert cost["met_if_reoptimised"]
    again = result.sensitivity.attrs["reoptimised"]
    assert again["measure_ids"] == ("M2",) and again["effort_person_days"] == 5.0
    assert any("30% lower" in n and "5 person-days" in n for n in result.notes)


def test_targets_come_from_costs_then_the_argument():
    rows = [("M1", "P", {"a"}, 25.0, 1.0)]
    costs = SimpleNamespace(
        targets={"simplified_share": 0.0, "cost_cut": 0.1, "reviewed_share": 0.9}
    )
    result = portfolio(make(rows, ONE_PROCEDURE, costs=costs), targets={"cost_cut": 0.3})
    assert result.targets == {"simplified_share": 0.0, "cost_cut": 0.3, "reviewed_share": 0.9}
    other = SimpleNamespace(targets={"simplified_share": 1.0, "cost_cut": 0.0})
    assert portfolio(make(rows, ONE_PROCEDURE), costs=other).targets["simplified_share"] == 1.0
    assert portfolio(make(rows, ONE_PROCEDURE)).targets == {
        "simplified_share": 0.2, "cost_cut": 0.2, "reviewed_share": 0.5,
    }  # fmt: skip


def test_no_candidates_gives_an_empty_portfolio():
    result = portfolio(make([], ONE_PROCEDURE))
    assert result.status == STATUS_UNREACHABLE and result.measures.empty
    assert not summary_row(result, "simplified_share")["met"]
    assert (
        portfolio(make([], ONE_PROCEDURE), targets={"simplified_share": 0, "cost_cut": 0}).status
        == STATUS_OPTIMAL
    )


def test_it_reads_well_in_a_notebook():
    result = portfolio(make(CONFLICTS, ONE_PROCEDURE), targets={"cost_cut": 0.6})
    text = repr(result)
    assert text.startswith("Portfolio (optimal): 2 measures on 1 of 1 catalog procedures")
    assert "cost_cut" in text and "60.0%" in text and "60 of 100 VND a year (need 60)" in text
    assert "<table" in result._repr_html_() and "simplified_share" in result._repr_html_()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.attrs.pop("universe"), "attrs['universe'] is missing"),
        (lambda t: t.pop("activities"), "'activities'"),
        (lambda t: t.attrs["universe"].pop("observed_yearly"), "observed_yearly"),
        (lambda t: t.__setitem__("effort_person_days", [-1.0, 1.0, 1.0]), "effort_person_days"),
    ],
)  # fmt: skip
def test_bad_candidates_name_what_to_fix(change, message):
    table = make(CONFLICTS, ONE_PROCEDURE)
    change(table)
    with pytest.raises(PortfolioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        portfolio(table)


@pytest.mark.parametrize(
    ("targets", "message"),
    [({"cost": 0.2}, "unknown target 'cost'"), ({"cost_cut": 1.5}, "between 0 and 1")],
)
def test_bad_targets_name_the_key(targets, message):
    with pytest.raises(PortfolioError, match=message):
        portfolio(make(CONFLICTS, ONE_PROCEDURE), targets=targets)


def test_a_time_only_tie_is_broken_by_the_larger_saving():
    # Both options cost 2 person-days and meet the targets; the one saving more is chosen.
    rows = [("M1", "P", {"a"}, 30.0, 2.0), ("M2", "P", {"a"}, 45.0, 2.0)]
    result = portfolio(make(rows, ONE_PROCEDURE), targets={"cost_cut": 0.1})
    assert list(result.measures["measure_id"]) == ["M2"]
    assert np.isclose(summary_row(result, "cost_cut")["amount"], 45.0)
