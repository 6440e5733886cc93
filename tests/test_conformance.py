"""Conformance: typed deviations counted by hand and by a plain-Python reading of the contract,
fitness checked against pm4py's own calls and against arithmetic done by hand."""

from __future__ import annotations

import random
import sys
from collections import Counter

import pandas as pd
import pytest
import sqlglot

from procmine import conformance as c
from procmine import discovery as d
from procmine.calendar import WorkCalendar
from procmine.catalog import approved_paths

sys._pm4py_welcome_shown = True
pm4py = pytest.importorskip("pm4py")

RECEIPT_CALENDAR = WorkCalendar(
    country="NL", timezone="Europe/Amsterdam", office_hours=(("08:00", "17:00"),)
)

CATALOG = pd.DataFrame(
    {
        "procedure": ["P", "P", "P"],
        "step": [1, 2, 3],
        "activity": ["A", "B", "C"],
        "department": ["D1", "D2", "D3"],
        "deadline_working_days": [5.0, 5.0, 5.0],
    }
)
DEPARTMENT = {"A": "D1", "B": "D2", "C": "D3"}


def make_log(cases: dict[str, list], procedure: str | None = "P") -> pd.DataFrame:
    """One event an hour from Monday 4 March 2024 08:00; an activity is 'A' (catalog department)
    or ('A', department)."""
    rows = []
    for case, steps in cases.items():
        for i, step in enumerate(steps):
            activity, department = step if isinstance(step, tuple) else (step, DEPARTMENT.get(step))
            rows.append(
                (
                    case,
                    activity,
                    pd.Timestamp("2024-03-04 08:00") + pd.Timedelta(hours=i),
                    department,
                )
            )
    frame = pd.DataFrame(
        rows, columns=["case:concept:name", "concept:name", "time:timestamp", "org:group"]
    )
    frame["time:timestamp"] = frame["time:timestamp"].dt.tz_localize("Asia/Ho_Chi_Minh")
    if procedure is not None:
        frame["case:procedure"] = procedure
    return frame


HAND = {
    "ok": ["A", "B", "C"],
    "skip": ["A", "C"],
    "extra": ["A", "X", "B", "C"],
    "wrong": ["A", ("B", "D9"), "C"],
    "nulldept": ["A", ("B", None), "C"],
    "repeat": ["A", "B", "B", "B", "C"],
    "swap": ["B", "A", "C"],
    "reverse": ["C", "B", "A"],
    "again": ["A", "B", "C", "A"],
}


def test_each_deviation_type_on_hand_built_cases():
    dev = c.deviations(make_log(HAND), CATALOG)
    got = sorted(zip(dev["case_id"], dev["type"].astype(str), dev["activity"], strict=True))
    assert got == sorted(
        [
            ("skip", "skipped_step", "B"),
            ("extra", "step_not_in_procedure", "X"),
            ("wrong", "wrong_department", "B"),
            ("repeat", "repeated_step", "B"),
            ("repeat", "repeated_step", "B"),
            ("swap", "out_of_order", "A"),
            ("reverse", "out_of_order", "B"),
            ("reverse", "out_of_order", "A"),
            ("again", "repeated_step", "A"),
        ]
    )
    wrong = dev[dev["type"] == "wrong_department"].iloc[0]
    assert (wrong["department"], wrong["expected_department"], wrong["step"]) == ("D9", "D2", 2)
    skipped = dev[dev["type"] == "skipped_step"].iloc[0]
    assert pd.isna(skipped["idx"]) and skipped["expected_department"] == "D2"
    repeats = dev[(dev["case_id"] == "repeat")]["idx"].tolist()
    log = make_log(HAND)
    assert log.loc[repeats, "concept:name"].tolist() == ["B", "B"]  # idx points at the events


def test_fitness_alignments_and_token_replay_by_hand():
    log = make_log({k: HAND[k] for k in ("ok", "skip", "extra", "wrong")})
    aligned = c.conformance(log, CATALOG).cases.set_index("case_id")
    assert set(aligned["method"]) == {"alignments"}
    # Alignment fitness = 1 - moves / (trace length + shortest model run).
    assert aligned["fitness"].to_dict() == pytest.approx(
        {"ok": 1.0, "skip": 1 - 1 / 5, "extra": 1 - 1 / 7, "wrong": 1.0}
    )
    assert aligned["deviations"].to_dict() == {"ok": 0, "skip": 1, "extra": 1, "wrong": 1}
    assert aligned["fits"].to_dict() == {"ok": True, "skip": False, "extra": False, "wrong": True}
    replayed = c.conformance(log, CATALOG, method="token_replay").cases.set_index("case_id")
    assert set(replayed["method"]) == {"token_replay"}
    # A, C on p0→A→p1→B→p2→C→p3: C misses a token in p2, p1 keeps one; 3 consumed, 3 produced.
    assert replayed.loc["skip", "fitness"] == pytest.approx(0.5 * (1 - 1 / 3) + 0.5 * (1 - 1 / 3))
    assert replayed.loc["ok", "fitness"] == 1.0


def test_sequence_alignments_equal_pm4py_alignments_on_random_traces():
    """The closed form (a longest common subsequence) gives pm4py's A* figures exactly — fitness,
    cost and worst cost — on random traces and paths, a path naming an activity twice included."""
    from pm4py.algo.conformance.alignments.petri_net import algorithm as alignments
    from pm4py.objects.log.obj import Event, EventLog, Trace

    rng = random.Random(3)
    alphabet = [f"s{i}" for i in range(9)] + ["Thẩm định", "Ký duyệt"]
    for trial in range(60):
        path = [rng.choice(alphabet) for _ in range(rng.randint(1, 7))]
        if trial % 3:
            path = list(dict.fromkeys(path))
        traces = [tuple(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(6)]
        traces.append(tuple(path))
        net, im, fm = c.approved_net(path)
        log = EventLog([Trace([Event({"concept:name": a}) for a in t]) for t in traces])
        theirs = alignments.apply(log, net, im, fm, parameters={"show_progress_bar": False})
        mine = c.sequence_alignments(pd.Series(traces), path)
        for key in ("fitness", "cost", "bwc"):
            assert mine[key].tolist() == [float(a[key]) for a in theirs], (trial, key, path)


def test_conformance_fitness_equals_pm4py_alignments_on_the_sample():
    """Per procedure of the committed sample, the closed form's per-variant table and log-level
    figures equal those of pm4py's alignments on the same approved net."""
    import procmine as pm
    from procmine.discovery import variant_counts

    log, catalog = pm.datasets.load_sample(), pm.datasets.load_sample_catalog()
    events = c.with_catalog_procedure(pm.event_table(log), catalog)
    paths = approved_paths(catalog)
    for procedure, path in list(paths.groupby("procedure", sort=True))[:6]:
        counts = variant_counts(events[events["procedure"] == procedure])
        steps = path.sort_values("step")["activity"].tolist()
        net, im, fm = c.approved_net(steps)
        fast = c._fitness_of_variants(counts, net, im, fm, "alignments", path=steps)
        slow = c._fitness_of_variants(counts, net, im, fm, "alignments")
        pd.testing.assert_frame_equal(fast[0], slow[0])
        assert fast[1] == slow[1], procedure


def contract_counts(cases: dict[str, list], catalog: pd.DataFrame) -> Counter:
    """The deviation types of docs/CONTRACTS.md, read literally, in plain Python."""
    steps = dict(zip(catalog["activity"], catalog["step"], strict=True))
    departments = dict(zip(catalog["activity"], catalog["department"], strict=True))
    counts: Counter = Counter()
    for events in cases.values():
        pairs = [e if isinstance(e, tuple) else (e, DEPARTMENT.get(e)) for e in events]
        acts = [a for a, _ in pairs]
        for activity in steps:
            n = acts.count(activity)
            counts["repeated_step"] += max(n - 1, 0)
            counts["skipped_step"] += n == 0
        counts["step_not_in_procedure"] += sum(a not in steps for a in acts)
        counts["wrong_department"] += sum(
            a in steps and g is not None and g != departments[a] for a, g in pairs
        )
        seen: list[str] = []
        highest = 0
        for a in acts:
            if a in steps and a not in seen:
                seen.append(a)
                counts["out_of_order"] += steps[a] < highest
                highest = max(highest, steps[a])
    return counts


def test_deviations_equal_plain_python_on_random_cases():
    rng = random.Random(7)
    alphabet = ["A", "B", "C", "X", "Y"]
    cases = {}
    for i in range(300):
        events = []
        for _ in range(rng.randint(1, 8)):
            activity = rng.choice(alphabet)
            department = rng.choice(
                [DEPARTMENT.get(activity, "D9"), "D9", None, DEPARTMENT.get(activity)]
            )
            events.append((activity, department))
        cases[f"r{i:03d}"] = events
    dev = c.deviations(make_log(cases), CATALOG)
    got = Counter(dev["type"].astype(str))
    expected = contract_counts(cases, CATALOG)
    assert {t: got.get(t, 0) for t in c.DEVIATION_TYPES} == {
        t: expected[t] for t in c.DEVIATION_TYPES
    }
    assert sum(expected.values()) > 300  # the random log exercises every type
    assert all(expected[t] > 0 for t in c.DEVIATION_TYPES)


def test_summaries_by_procedure_and_department():
    result = c.conformance(make_log(HAND), CATALOG)
    by_procedure = c.deviation_summary(result, by="procedure")
    row = by_procedure.iloc[0]
    assert row["procedure"] == "P"
    assert row[list(c.DEVIATION_TYPES)].to_dict() == {
        "skipped_step": 1,
        "step_not_in_procedure": 1,
        "wrong_department": 1,
        "repeated_step": 3,
        "out_of_order": 3,
    }
    assert (row["total"], row["cases"], row["cases_checked"]) == (9, 7, 9)
    assert row["mean_fitness"] == pytest.approx(result.cases["fitness"].mean())
    by_department = c.deviation_summary(result.deviations, by="department").set_index("department")
    # The skipped B counts for D2 (the catalog's), the wrong B for D9 (who did it); X was done by
    # no department (null) and has no department to count against.
    assert by_department["total"].to_dict() == {"D2": 4, "D1": 3, "D9": 1}
    assert by_department.loc["D2", "repeated_step"] == 2
    assert by_department.loc["D2", "skipped_step"] == 1
    assert by_department.loc["D9", "wrong_department"] == 1
    assert (
        by_department.loc["D1", "out_of_order"] == 2
        and by_department.loc["D1", "repeated_step"] == 1
    )


def test_procedures_missing_from_catalog_and_logs_without_procedure():
    log = pd.concat([make_log({"p1": ["A", "B", "C"]}), make_log({"q1": ["A"]}, procedure="Q")])
    result = c.conformance(log, CATALOG)
    assert result.unchecked == ["Q"]
    cases = result.cases.set_index("case_id")
    assert cases.loc["p1", "fitness"] == 1.0 and pd.isna(cases.loc["q1", "fitness"])
    assert result.deviations["case_id"].tolist() == []
    bare = make_log({"n1": ["A", "C"]}, procedure=None)
    assert c.deviations(bare, CATALOG)["type"].astype(str).tolist() == ["skipped_step"]
    two = pd.concat([CATALOG, CATALOG.assign(procedure="Q")])
    with pytest.raises(ValueError, match="no procedure column"):
        c.deviations(bare, two)


def test_fitness_has_the_same_keys_whatever_the_method():
    # pm4py names the figures percFitTraces/averageFitness (alignments) and perc_fit_traces
    # (token replay); procmine gives both methods the same keys, for a catalog and for a model.
    log = make_log({k: HAND[k] for k in ("ok", "skip", "extra", "wrong")})
    net, im, fm = c.approved_net(["A", "B", "C"])
    frame = log[["case:concept:name", "concept:name", "time:timestamp"]]
    pm4py_figures = {
        "alignments": pm4py.fitness_alignments(frame, net, im, fm, multi_processing=False),
        "token_replay": pm4py.fitness_token_based_replay(frame, net, im, fm),
    }
    keys = {}
    for method, expected in pm4py_figures.items():
        found = c.conformance_to_model(log, (net, im, fm), method=method)
        checked = c.conformance(log, CATALOG, method=method)
        assert found.method == method and set(checked.cases["method"]) == {method}
        assert list(checked.fitness) == ["P"]
        keys[method] = (tuple(found.fitness), tuple(checked.fitness["P"]))
        assert found.fitness == pytest.approx(checked.fitness["P"])  # the same net, same cases
        assert found.fitness == pytest.approx({key: expected[key] for key in c.FITNESS_KEYS})
        assert 0.0 < found.fitness["log_fitness"] < 1.0
    assert keys["alignments"] == keys["token_replay"] == (c.FITNESS_KEYS, c.FITNESS_KEYS)
    assert c.FITNESS_KEYS == (
        "log_fitness",
        "average_trace_fitness",
        "percentage_of_fitting_traces",
    )
    aligned = c.conformance_to_model(log, (net, im, fm), method="alignments").fitness
    # Alignment fitness per case, by hand (test above): 1, 1 - 1/5, 1 - 1/7, 1; 2 of 4 fit.
    assert aligned["average_trace_fitness"] == pytest.approx((4 - 1 / 5 - 1 / 7) / 4)
    assert aligned["percentage_of_fitting_traces"] == pytest.approx(50.0)


def test_conformance_without_a_catalog_says_what_to_pass():
    import procmine as pm
    from procmine.catalog import CatalogError

    log = make_log({"ok": ["A", "B", "C"]}, procedure=None)
    for check in (pm.check_conformance, c.deviations):
        with pytest.raises(CatalogError, match="catalog of approved procedures") as raised:
            check(log, None)
        assert "no catalog (None)" in str(raised.value)
        assert "pm.conformance_to_model(log, pm.discover_model(log))" in str(raised.value)
    with pytest.raises(ValueError, match="got str"):  # CatalogError is a ValueError
        pm.check_conformance(log, "catalog.csv")


def test_activity_named_twice_in_catalog_is_one_step():
    catalog = pd.DataFrame(
        {
            "procedure": "P",
            "step": [1, 2, 3],
            "activity": ["A", "B", "A"],
            "department": ["D1", "D2", "D1"],
        }
    )
    paths = approved_paths(catalog)
    assert paths["activity"].tolist() == ["A", "B"] and paths["step"].tolist() == [1, 2]
    dev = c.deviations(make_log({"k": ["A", "B", "A"]}), catalog)
    assert dev["type"].astype(str).tolist() == ["repeated_step"]


def test_deviation_sql_transpiles_to_spark():
    spark = sqlglot.transpile(c.DEVIATIONS_SQL, read="duckdb", write="spark")[0]
    assert "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING" in spark


def test_receipt_against_its_bpmn_equals_pm4py_alignments(receipt_frame, shared_datasets):
    log = receipt_frame.copy()
    bpmn = shared_datasets / "receipt.bpmn"
    found = c.conformance_to_model(log, bpmn, calendar=RECEIPT_CALENDAR)
    assert found.method == "alignments"
    net, im, fm = pm4py.convert_to_petri_net(pm4py.read_bpmn(str(bpmn)))
    expected = pm4py.fitness_alignments(log, net, im, fm, multi_processing=False)
    # pm4py's figures under procmine's keys (pm4py's camel-case duplicates left out).
    assert tuple(found.fitness) == c.FITNESS_KEYS
    for key in c.FITNESS_KEYS:
        assert found.fitness[key] == pytest.approx(expected[key], abs=1e-12), key
    assert found.fitness["log_fitness"] < 1.0  # a non-trivial figure
    assert len(found.cases) == log["case:concept:name"].nunique()


def test_receipt_token_replay_equals_pm4py(receipt_frame):
    log = receipt_frame.copy()
    # The receipt BPMN replays every case perfectly; a noisy model gives figures below 1.
    model = d.discover_model(log, noise=0.3, from_dfg=False, calendar=RECEIPT_CALENDAR)
    found = c.conformance_to_model(log, model, method="token_replay", calendar=RECEIPT_CALENDAR)
    expected = pm4py.fitness_token_based_replay(log, model.net, model.im, model.fm)
    assert tuple(found.fitness) == c.FITNESS_KEYS
    assert found.fitness == pytest.approx({key: expected[key] for key in c.FITNESS_KEYS}, abs=1e-12)
    assert found.fitness["log_fitness"] < 1.0
    per_case = pm4py.conformance_diagnostics_token_based_replay(log, model.net, model.im, model.fm)
    assert sorted(found.cases["fitness"]) == pytest.approx(
        sorted(r["trace_fitness"] for r in per_case)
    )


def test_sample_deviations_equal_the_truth():
    datasets = pytest.importorskip("procmine.datasets")
    try:
        log = datasets.load_sample()
        catalog = datasets.load_sample_catalog()
        truth = datasets.load_sample_truth()
    except FileNotFoundError as missing:
        pytest.skip(f"sample not generated: {missing}")
    dev = c.deviations(log, catalog)
    got = dev.groupby(["procedure", "type"], observed=False).size()
    expected = truth["counts"]["deviations"]
    found = {
        procedure: {t: int(got.get((procedure, t), 0)) for t in c.DEVIATION_TYPES}
        for procedure in expected
    }
    assert found == {
        p: {t: int(n.get(t, 0)) for t in c.DEVIATION_TYPES} for p, n in expected.items()
    }
    assert set(dev["procedure"]) <= set(expected)


def test_generated_deviations_equal_the_generator_truth():
    datasets = pytest.importorskip("procmine.datasets")
    sample = datasets.generate(300, seed=3, truth=True)
    dev = c.deviations(sample.log, sample.catalog)
    got = dev.groupby(["procedure", "type"], observed=False).size()
    expected = sample.truth["counts"]["deviations"]
    found = {p: {t: int(got.get((p, t), 0)) for t in c.DEVIATION_TYPES} for p in expected}
    assert found == {
        p: {t: int(n.get(t, 0)) for t in c.DEVIATION_TYPES} for p, n in expected.items()
    }
    assert sum(map(sum, (n.values() for n in expected.values()))) > 50


def test_variants_per_procedure_are_counted_in_sql_as_the_cases_run():
    # Each procedure's variants, counted once on the engine (most frequent first, then by
    # sequence) and numbered, equal the cases' own sequences counted in plain Python; and each
    # case carries the number of its own variant, cases in log order.
    import procmine as pm
    from procmine.discovery import SEQUENCE_SEPARATOR

    log, catalog = pm.datasets.load_sample(), pm.datasets.load_sample_catalog()
    events = c.with_catalog_procedure(pm.event_table(log), catalog)
    counts, cases = c._case_variants(events, None)
    own = {
        case: (str(trail["procedure"].iloc[0]), SEQUENCE_SEPARATOR.join(trail["activity"]))
        for case, trail in events.sort_values("idx").groupby("case_id", sort=False)
    }
    expected = Counter(own.values())
    ranked = sorted(expected.items(), key=lambda item: (item[0][0], -item[1], item[0][1]))
    assert list(zip(counts["procedure"], counts["sequence"], counts["cases"], strict=True)) == [
        (procedure, sequence, n) for (procedure, sequence), n in ranked
    ]
    assert counts["variant"].tolist() == list(range(len(counts)))
    assert cases["case_id"].tolist() == list(own)  # log order: first appearance
    sequence_of = dict(zip(counts["variant"], counts["sequence"], strict=True))
    found = {
        case: (procedure, sequence_of[variant])
        for case, procedure, variant in cases.itertuples(index=False)
    }
    assert found == own
    assert len(counts) < len(cases)  # fewer variants than cases: the point of counting them


@pytest.mark.parametrize("name", ["CASE_PATHS_SQL", "PROCEDURE_VARIANTS_SQL", "CASE_VARIANTS_SQL"])
def test_variant_sqls_transpile_to_spark(name):
    from procmine import engines

    spark = engines.to_spark_sql(getattr(c, name))
    sqlglot.parse_one(spark, read="spark")
    if name == "CASE_PATHS_SQL":
        assert "MIN_BY(procedure" in spark
