"""Handoffs, bounces and ping-pong against hand-worked examples, plain-Python counts and pm4py."""

from __future__ import annotations

import json
import sys
from collections import Counter
from itertools import pairwise
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import sqlglot

from procmine import engines, handoffs, schema
from procmine.calendar import WorkCalendar

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_TRUTH = ROOT / "datasets" / "sample_truth.json"
START = pd.Timestamp("2024-03-04 08:00")  # a Monday; March 2024 has no Vietnamese holiday


def make_log(cases: dict, procedure: str | dict | None = None) -> pd.DataFrame:
    """A canonical log: ``{case: [department or None, ...]}`` one event an hour (wall clock), or
    ``{case: [(department, "YYYY-MM-DD HH:MM"), ...]}`` with explicit local times."""
    rows = []
    for case, events in cases.items():
        for k, event in enumerate(events):
            department, when = event if isinstance(event, tuple) else (event, None)
            stamp = pd.Timestamp(when) if when else START + pd.Timedelta(hours=len(rows) + k)
            rows.append((case, f"step {k}", stamp, department))
    log = pd.DataFrame(rows, columns=[schema.CASE, schema.ACTIVITY, schema.TIMESTAMP, "dept"])
    log[schema.DEPARTMENT] = log.pop("dept").astype("string")
    if isinstance(procedure, dict):
        log[schema.PROCEDURE] = log[schema.CASE].map(procedure)
    elif procedure is not None:
        log[schema.PROCEDURE] = procedure
    return log


def catalog_of(**paths: list[str]) -> pd.DataFrame:
    rows = [
        (procedure, step, f"step {step}", department, 10.0)
        for procedure, departments in paths.items()
        for step, department in enumerate(departments, start=1)
    ]
    return pd.DataFrame(
        rows, columns=["procedure", "step", "activity", "department", "deadline_working_days"]
    )


def plain_counts(sequences: list[list]) -> tuple[Counter, Counter]:
    """Handoffs and bounces per ordered pair, by the definitions of docs/definitions.md, in plain
    Python."""
    handoff_counts: Counter = Counter()
    bounce_counts: Counter = Counter()
    for departments in sequences:
        seq: list = []
        for department in departments:
            if department is None or (seq and seq[-1] == department):
                continue
            seq.append(department)
        for j in range(len(seq) - 1):
            handoff_counts[seq[j], seq[j + 1]] += 1
            if j + 2 < len(seq) and seq[j + 2] == seq[j]:
                bounce_counts[seq[j], seq[j + 1]] += 1
    return handoff_counts, bounce_counts


def by_key(frame: pd.DataFrame, keys: list[str], column: str) -> dict:
    rows = frame[[*keys, column]].itertuples(index=False)
    if len(keys) == 1:
        return {row[0]: row[1] for row in rows}
    return {tuple(row[:-1]): row[-1] for row in rows}


# ------------------------------------------------------------------------------ hand examples


def test_runs_collapse_repeats_and_skip_missing_departments():
    log = make_log({"c": ["A", "A", None, "A", "B", None, "B", "A"]})
    runs = handoffs.department_runs(log)
    assert runs["department"].tolist() == ["A", "B", "A"]
    assert runs["run_no"].tolist() == [0, 1, 2]
    assert runs["events"].tolist() == [3, 2, 1]
    assert runs["first_idx"].tolist() == [0, 4, 7]
    assert runs["last_idx"].tolist() == [3, 6, 7]


def test_abab_holds_two_bounces_one_per_direction():
    log = make_log({"c": ["A", "B", "A", "B"]})
    bounces = handoffs.bounce_table(log)
    assert bounces[["position", "source", "target"]].values.tolist() == [
        [0, "A", "B"],
        [1, "B", "A"],
    ]
    pair = handoffs.ping_pong(log)
    assert pair[["department_a", "department_b", "handoffs", "bounces"]].values.tolist() == [
        ["A", "B", 3, 2]
    ]
    ordered = handoffs.ping_pong(log, by="ordered")
    assert by_key(ordered, ["source", "target"], "bounces") == {("A", "B"): 1, ("B", "A"): 1}
    assert by_key(ordered, ["source", "target"], "handoffs") == {("A", "B"): 2, ("B", "A"): 1}


def test_repeats_collapse_before_bounces_are_counted():
    log = make_log({"c": ["A", "A", "B", "B", "A"]})
    pair = handoffs.ping_pong(log)
    assert pair[["handoffs", "bounces", "cases"]].values.tolist() == [[2, 1, 1]]


def test_missing_department_neither_starts_nor_breaks_a_run():
    log = make_log({"c1": ["A", None, "B"], "c2": ["A", None, "A", "B"], "c3": [None, None]})
    table = handoffs.handoff_table(log)
    assert table[["case_id", "position", "source", "target"]].values.tolist() == [
        ["c1", 0, "A", "B"],
        ["c2", 0, "A", "B"],
    ]
    assert handoffs.bounce_table(log).empty


def test_handoff_table_columns_are_stable():
    table = handoffs.handoff_table(make_log({"c": ["A", "B"]}, procedure="P"))
    assert table.columns.tolist() == [
        "case_id",
        "procedure",
        "position",
        "source",
        "target",
        "wait_minutes",
    ]
    assert table["procedure"].tolist() == ["P"]


def test_wait_and_time_lost_are_working_minutes():
    # Mon 10:30 in A, Mon 14:00 in B (lunch 11:30-13:00 is not working time), back in A Tue 08:30;
    # then B on Fri 16:00 and A on Mon 08:00 across the weekend.
    log = make_log(
        {
            "c": [
                ("A", "2024-03-04 09:00"),
                ("A", "2024-03-04 10:30"),
                ("B", "2024-03-04 14:00"),
                ("A", "2024-03-05 08:30"),
                ("B", "2024-03-08 16:00"),
                ("A", "2024-03-11 08:00"),
            ]
        }
    )
    table = handoffs.handoff_table(log, WorkCalendar())
    # 10:30→11:30 + 13:00→14:00; 14:00→17:00 + 07:30→08:30; Tue 08:30 → Fri 16:00 (180 + 240
    # + 2 × 480 + 420); Fri 16:00→17:00 + Mon 07:30→08:00
    assert table["wait_minutes"].tolist() == [120.0, 240.0, 1800.0, 90.0]
    bounces = handoffs.bounce_table(log, calendar=WorkCalendar())
    # A,B,A,B,A: (A,B) at 0: 10:30 Mon → 08:30 Tue; (B,A) at 1: 14:00 Mon → Fri 16:00;
    # (A,B) at 2: 08:30 Tue → 08:00 Mon.
    assert bounces[["position", "source", "target", "minutes_lost"]].values.tolist() == [
        [0, "A", "B", 360.0],
        [1, "B", "A", 2040.0],
        [2, "A", "B", 1890.0],
    ]
    assert bounces["rank"].tolist() == [1, 1, 2]


def test_prescribed_consultation_is_not_ping_pong():
    catalog = catalog_of(P=["A", "B", "A"])
    log = make_log({"ok": ["A", "B", "A"], "pp": ["A", "B", "A", "B", "A"]}, procedure="P")
    ordered = handoffs.ping_pong(log, catalog, by="ordered")
    assert by_key(ordered, ["source", "target"], "bounces") == {("A", "B"): 3, ("B", "A"): 1}
    assert by_key(ordered, ["source", "target"], "excess_bounces") == {("A", "B"): 1, ("B", "A"): 1}
    per_case = handoffs.ping_pong(log, catalog, by="case")
    assert by_key(per_case, ["case_id"], "excess_bounces") == {"ok": 0, "pp": 2}
    assert by_key(per_case, ["case_id"], "pingpong_cases") == {"ok": 0, "pp": 1}
    pair = handoffs.ping_pong(log, catalog)
    assert pair[["bounces", "excess_bounces", "pingpong_cases", "cases"]].values.tolist() == [
        [4, 2, 1, 2]
    ]
    assert pair.attrs["reference"] == "catalog"


def test_the_first_m_bounces_in_time_order_are_the_prescribed_ones():
    catalog = catalog_of(P=["A", "B", "A", "C"])
    # A,B,A,C,A,B,A: (A,B) at j=0 is prescribed, (A,C) at 2 and (A,B) at 4 are excess.
    log = make_log(
        {
            "c": [
                ("A", "2024-03-04 08:00"),
                ("B", "2024-03-04 09:00"),
                ("A", "2024-03-04 10:00"),  # round trip of the prescribed bounce: 120 min
                ("C", "2024-03-04 10:30"),
                ("A", "2024-03-04 11:00"),  # (A,C) round trip 10:00 → 11:00: 60 min
                ("B", "2024-03-05 08:00"),
                ("A", "2024-03-05 09:30"),  # 11:00 Mon → 09:30 Tue: 30 + 240 + 120 = 390 min
            ]
        },
        procedure="P",
    )
    bounces = handoffs.bounce_table(log, catalog, calendar=WorkCalendar())
    assert bounces[
        ["position", "source", "target", "rank", "prescribed", "excess"]
    ].values.tolist() == [
        [0, "A", "B", 1, 1, False],
        [2, "A", "C", 1, 0, True],
        [4, "A", "B", 2, 1, True],
    ]
    assert bounces["minutes_lost"].tolist() == [120.0, 60.0, 390.0]
    ordered = handoffs.ping_pong(log, catalog, by="ordered", calendar=WorkCalendar())
    assert by_key(ordered, ["source", "target"], "working_hours_lost") == {
        ("A", "B"): 390 / 60,
        ("A", "C"): 1.0,
        ("B", "A"): 0.0,
        ("C", "A"): 0.0,
    }


def test_without_catalog_the_most_frequent_sequence_is_the_reference():
    log = make_log(
        {
            "c1": ["X", "Y", "X"],
            "c2": ["X", "Y", "X", "Y"],
            "c3": ["Z", "X", "Z"],
            "c4": ["X", "Y", "X"],
        }
    )
    references = handoffs.reference_sequences(log)
    assert references.to_dict("records") == [
        {
            "procedure": "(all)",
            "reference": "most frequent sequence",
            "sequence": ("X", "Y", "X"),
            "cases": 2,
            "procedure_cases": 4,
        }
    ]
    bounces = handoffs.bounce_table(log)
    assert bounces.attrs["reference"] == "most frequent sequence"
    excess = bounces.loc[bounces["excess"], ["case_id", "source", "target"]].values.tolist()
    assert excess == [["c2", "Y", "X"], ["c3", "Z", "X"]]


def test_ties_go_to_the_lexicographically_smallest_sequence():
    # ("A B", "X") and ("A", "B X") tie with one case each; as lists, ("A", ...) < ("A B", ...).
    # Each sequence is padded so that both hold one bounce: A B→X→A B and A→B X→A.
    sequences = {
        "c1": ["A B", "X", "A B"],
        "c2": ["A", "B X", "A"],
        "c3": ["Đội", "Ban", "Đội"],
        "c4": ["Ban", "Đội", "Ban"],
    }
    log = make_log(sequences, procedure={"c1": "P", "c2": "P", "c3": "Q", "c4": "Q"})
    references = handoffs.reference_sequences(log)
    expected = {
        "P": min(tuple(sequences["c1"]), tuple(sequences["c2"])),
        "Q": min(tuple(sequences["c3"]), tuple(sequences["c4"])),
    }
    assert dict(zip(references["procedure"], references["sequence"], strict=True)) == expected
    assert expected == {"P": ("A", "B X", "A"), "Q": ("Ban", "Đội", "Ban")}
    excess = handoffs.bounce_table(log).query("excess")["case_id"].tolist()
    assert excess == ["c1", "c3"]


def test_catalog_missing_a_procedure_falls_back_and_says_so():
    log = make_log({"c1": ["A", "B", "A"], "c2": ["A", "B", "A"]}, procedure={"c1": "P", "c2": "Q"})
    result = handoffs.ping_pong(log, catalog_of(P=["A", "B"]), by="procedure")
    assert result.attrs["references"] == {"P": "catalog", "Q": "most frequent sequence"}
    assert result.attrs["reference"] == (
        "catalog; most frequent sequence for procedures not in it: Q"
    )
    assert by_key(result, ["procedure"], "excess_bounces") == {"P": 1, "Q": 0}
    references = handoffs.reference_sequences(log, catalog_of(P=["A", "B"]))
    assert references[["procedure", "reference", "cases"]].values.tolist() == [
        ["P", "catalog", 0],
        ["Q", "most frequent sequence", 1],
    ]


def test_catalog_departments_and_procedures_the_log_lacks_change_nothing():
    # The approved path A, B, X, B, A bounces on (B, X) and (X, B) only: none on (A, B). Were X
    # dropped before its runs are formed, B, B would merge and A, B, A prescribe one (A, B).
    catalog = pd.concat([catalog_of(P=["A", "B", "X", "B", "A"]), catalog_of(R=["A", "B", "A"])])
    log = make_log({"c1": ["A", "B", "A"], "c2": ["A", "B", "A", "B", "A"]}, procedure="P")
    ordered = handoffs.ping_pong(log, catalog, by="ordered")
    assert by_key(ordered, ["source", "target"], "excess_bounces") == {("A", "B"): 3, ("B", "A"): 1}
    pair = handoffs.ping_pong(log, catalog)
    assert pair[["bounces", "excess_bounces", "pingpong_cases", "cases"]].values.tolist() == [
        [4, 4, 2, 2]
    ]
    assert pair.attrs["reference"] == "catalog"
    assert handoffs.bounce_table(log, catalog)["prescribed"].tolist() == [0, 0, 0, 0]


def test_pairs_without_bounces_appear_with_zeros_and_sort_by_excess():
    log = make_log({"c1": ["A", "B", "C"], "c2": ["C", "B", "C", "B", "C"], "c3": ["C", "B"]})
    pair = handoffs.ping_pong(log)
    assert pair.columns.tolist() == [
        "department_a",
        "department_b",
        "handoffs",
        "bounces",
        "excess_bounces",
        "returns",
        "pingpong_cases",
        "working_hours_lost",
        "cases",
    ]
    # Reference (most frequent; one case each, smallest first): A,B,C — no bounce prescribed.
    # No step is named as a return.
    assert pair.drop(columns="working_hours_lost").values.tolist() == [
        ["B", "C", 6, 3, 3, 0, 1, 3],
        ["A", "B", 1, 0, 0, 0, 0, 1],
    ]


def test_pair_order_is_python_string_order_for_vietnamese_names():
    names = ["Văn phòng", "Phòng Tư pháp", "Đội quản lý", "Ủy ban", "Phòng Tài chính", "Ban"]
    rng = np.random.default_rng(7)
    cases = {f"c{k}": list(rng.choice(names, size=6)) for k in range(40)}
    pair = handoffs.ping_pong(make_log(cases))
    for a, b in pair[["department_a", "department_b"]].itertuples(index=False):
        assert a < b
    expected_handoffs, _ = plain_counts(list(cases.values()))
    unordered: Counter = Counter()
    for (a, b), n in expected_handoffs.items():
        unordered[tuple(sorted((a, b)))] += n
    assert by_key(pair, ["department_a", "department_b"], "handoffs") == dict(unordered)
    # DuckDB's default ordering of VARCHAR is Python's code point order.
    frame = pd.DataFrame({"name": names})
    ordered = engines.query("SELECT name FROM frame ORDER BY name", frame=frame)["name"].tolist()
    assert ordered == sorted(names)


def test_bad_arguments_are_explained():
    log = make_log({"c": ["A", "B"]})
    with pytest.raises(ValueError, match="by must be one of"):
        handoffs.ping_pong(log, by="department")
    with pytest.raises(schema.MissingColumnError, match="org:group"):
        handoffs.handoff_table(log.drop(columns=schema.DEPARTMENT))
    with pytest.raises(schema.MissingColumnError, match="the catalog"):
        handoffs.ping_pong(log, pd.DataFrame({"procedure": ["P"], "step": [1]}))


# ----------------------------------------------------------------------------- pm4py's anchors


def _pm4py():
    sys._pm4py_welcome_shown = True
    return pytest.importorskip("pm4py")


def for_pm4py(log: pd.DataFrame) -> pd.DataFrame:
    """pm4py 2.7 builds variants with pandas groupby, which fails on pandas 3's Arrow-backed
    strings (list<string> cannot be dictionary-encoded): hand it object columns."""
    return log.astype({schema.CASE: object, schema.DEPARTMENT: object, schema.ACTIVITY: object})


def test_issue_example_counts_every_bounce_where_pm4py_subcontracting_drops_some():
    sequences = {
        "c1": ["X", "Y", "X"],
        "c2": ["X", "Y", "X", "Y"],
        "c3": ["Z", "X", "Z"],
        "c4": ["X", "Y", "X"],
    }
    log = make_log(sequences)
    ordered = handoffs.ping_pong(log, by="ordered")
    bounces = by_key(ordered, ["source", "target"], "bounces")
    assert bounces == {("X", "Y"): 3, ("Y", "X"): 1, ("Z", "X"): 1, ("X", "Z"): 0}
    assert bounces[("X", "Y")] / len(sequences) == 0.75
    pair = handoffs.ping_pong(log)
    assert by_key(pair, ["department_a", "department_b"], "bounces") == {
        ("X", "Y"): 4,
        ("X", "Z"): 1,
    }

    pm4py = _pm4py()
    network = pm4py.discover_subcontracting_network(
        for_pm4py(log), n=2, resource_key=schema.DEPARTMENT
    )
    # pm4py adds X → Y only for the first variant where X starts a pattern (X,Y,X: 2 cases) and
    # skips X,Y,X,Y's, then divides by the 4 cases.
    assert network.connections[("X", "Y")] == 0.5
    assert network.connections[("Y", "X")] == 0.25


def _read_receipt(path: Path) -> pd.DataFrame:
    """The receipt log read with pandas alone (not the loader), `EMPTY` departments as nulls."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    log = pd.DataFrame(
        {
            schema.CASE: raw[schema.CASE],
            schema.ACTIVITY: raw[schema.ACTIVITY],
            schema.TIMESTAMP: pd.to_datetime(raw[schema.TIMESTAMP], utc=True, format="ISO8601"),
            schema.DEPARTMENT: raw[schema.DEPARTMENT].replace("EMPTY", None).astype("string"),
        }
    )
    # The canonical order: by case, then time, export order for ties.
    return log.sort_values([schema.CASE, schema.TIMESTAMP], kind="stable", ignore_index=True)


@pytest.fixture(scope="module")
def receipt(shared_datasets) -> pd.DataFrame:
    return _read_receipt(shared_datasets / "receipt.csv.gz")


@pytest.fixture(scope="module")
def receipt_calendar() -> WorkCalendar:
    return WorkCalendar(country="NL", timezone="Europe/Amsterdam")


@pytest.fixture(scope="module")
def receipt_plain(receipt) -> tuple[Counter, Counter]:
    groups = receipt.groupby(schema.CASE, sort=False)[schema.DEPARTMENT]
    sequences = [[None if pd.isna(d) else d for d in values] for _, values in groups]
    return plain_counts(sequences)


def test_receipt_counts_equal_a_plain_python_count(receipt, receipt_calendar, receipt_plain):
    plain_handoffs, plain_bounces = receipt_plain
    ordered = handoffs.ping_pong(receipt, by="ordered", calendar=receipt_calendar)
    assert by_key(ordered, ["source", "target"], "handoffs") == dict(plain_handoffs)
    assert {k: v for k, v in by_key(ordered, ["source", "target"], "bounces").items() if v} == dict(
        plain_bounces
    )
    pair = handoffs.ping_pong(receipt, calendar=receipt_calendar)
    unordered_bounces: Counter = Counter()
    for (a, b), n in plain_bounces.items():
        unordered_bounces[tuple(sorted((a, b)))] += n
    assert {
        k: v for k, v in by_key(pair, ["department_a", "department_b"], "bounces").items() if v
    } == dict(unordered_bounces)
    assert sum(plain_bounces.values()) > 0
    table = handoffs.handoff_table(receipt, receipt_calendar)
    assert len(table) == sum(plain_handoffs.values())
    assert (table["wait_minutes"] >= 0).all()


def test_receipt_handover_of_work_is_a_share_of_uncollapsed_pairs(receipt, receipt_plain):
    pm4py = _pm4py()
    known = receipt.dropna(subset=[schema.DEPARTMENT])
    network = pm4py.discover_handover_of_work_network(
        for_pm4py(known), beta=0, resource_key=schema.DEPARTMENT
    )
    # pm4py divides by all directly-following pairs, self-handovers (repeats) included.
    pairs = len(known) - known[schema.CASE].nunique()
    counts = {k: round(v * pairs) for k, v in network.connections.items()}
    plain_handoffs, _ = receipt_plain
    assert {k: v for k, v in counts.items() if k[0] != k[1]} == dict(plain_handoffs)
    assert sum(v for k, v in counts.items() if k[0] == k[1]) > 0  # repeats we collapse


def test_receipt_subcontracting_drops_bounces(receipt, receipt_plain):
    pm4py = _pm4py()
    known = receipt.dropna(subset=[schema.DEPARTMENT])
    network = pm4py.discover_subcontracting_network(
        for_pm4py(known), n=2, resource_key=schema.DEPARTMENT
    )
    cases = known[schema.CASE].nunique()
    pm4py_bounces = {k: round(v * cases) for k, v in network.connections.items() if k[0] != k[1]}
    _, plain_bounces = receipt_plain
    assert set(pm4py_bounces) <= set(plain_bounces)
    assert all(pm4py_bounces[k] <= plain_bounces[k] for k in pm4py_bounces)
    assert sum(pm4py_bounces.values()) < sum(plain_bounces.values())


# ----------------------------------------------------------------------------- generated sample


def test_sample_pairs_equal_the_ground_truth():
    if not SAMPLE_TRUTH.exists():
        pytest.skip("datasets/sample_truth.json is not generated yet")
    from procmine import datasets

    truth = json.loads(SAMPLE_TRUTH.read_text(encoding="utf-8"))["counts"]["pairs"]
    catalog = datasets.load_sample_catalog()
    pair = handoffs.ping_pong(datasets.load_sample(), catalog)
    assert pair.attrs["reference"] == "catalog"
    columns = ["handoffs", "bounces", "excess_bounces", "pingpong_cases"]
    ours = {
        (row["department_a"], row["department_b"]): {c: int(row[c]) for c in columns}
        for row in pair.to_dict("records")
    }
    expected = {
        (row["department_a"], row["department_b"]): {c: int(row[c]) for c in columns}
        for row in truth
    }
    assert ours == expected
    planted = json.loads(SAMPLE_TRUTH.read_text(encoding="utf-8"))["planted"]["pingpong_pairs"]
    top = pair[["department_a", "department_b"]].head(len(planted)).values.tolist()
    assert sorted(top) == sorted(planted)


# ----------------------------------------------------------------------------- network


def test_handoff_network_nodes_and_edges():
    log = make_log(
        {
            "c1": [("A", "2024-03-04 08:00"), ("B", "2024-03-04 09:00"), ("A", "2024-03-04 09:30")],
            "c2": [
                ("A", "2024-03-05 08:00"),
                ("A", "2024-03-05 08:15"),
                ("B", "2024-03-05 10:15"),
                ("C", "2024-03-05 10:45"),
            ],
            "c3": [("A", "2024-03-06 08:00"), ("B", "2024-03-06 11:00")],
        }
    )
    graph = handoffs.handoff_network(log, WorkCalendar())
    assert dict(graph.nodes(data=True)) == {
        "A": {"cases": 3, "events": 5, "working_hours_held": 0.75},  # 30 + 15 minutes
        "B": {"cases": 3, "events": 3, "working_hours_held": 6.0},  # 60 + 120 + 180
        "C": {"cases": 1, "events": 1, "working_hours_held": 0.5},
    }
    edges = {(u, v): a for u, v, a in graph.edges(data=True)}
    assert set(edges) == {("A", "B"), ("B", "A"), ("B", "C")}
    waits_ab = np.array([60.0, 120.0, 180.0]) / 60
    assert edges[("A", "B")]["handoffs"] == 3
    assert edges[("A", "B")]["cases"] == 3
    assert edges[("A", "B")]["median_wait_working_hours"] == pytest.approx(
        np.quantile(waits_ab, 0.5)
    )
    assert edges[("A", "B")]["p90_wait_working_hours"] == pytest.approx(np.quantile(waits_ab, 0.9))
    assert edges[("B", "A")] == {
        "handoffs": 1,
        "cases": 1,
        "median_wait_working_hours": 0.5,
        "p90_wait_working_hours": 0.5,
    }
    nodes, edge_frame = handoffs.network_frames(graph)
    assert nodes.columns.tolist() == ["department", "cases", "events", "working_hours_held"]
    assert edge_frame.columns.tolist() == [
        "source",
        "target",
        "handoffs",
        "cases",
        "median_wait_working_hours",
        "p90_wait_working_hours",
    ]
    assert len(edge_frame) == 3


def test_wait_quantiles_equal_numpy_and_duckdb():
    rng = np.random.default_rng(3)
    waits = {("A", "B"): rng.exponential(90, 37).round(1), ("B", "C"): rng.exponential(30, 2)}
    rows = []
    for k, ((a, b), values) in enumerate(waits.items()):
        for i, wait in enumerate(values):
            case = f"c{k}-{i}"
            rows += [(case, a, 0.0), (case, b, float(wait))]
    events = pd.DataFrame(rows, columns=["case_id", "department", "wm"])
    events["idx"] = np.arange(len(events))
    events["procedure"] = "P"
    events["in_sequence"] = True
    graph = handoffs.handoff_network(events)
    for (a, b), values in waits.items():
        for p, name in ((0.5, "median_wait_working_hours"), (0.9, "p90_wait_working_hours")):
            expected = np.quantile(values, p) / 60
            assert graph.edges[a, b][name] == pytest.approx(expected, rel=1e-12)
            frame = pd.DataFrame({"w": values})
            duck = engines.query(f"SELECT quantile_cont(w, {p}) AS q FROM t", t=frame)["q"].item()
            duck /= 60
            assert graph.edges[a, b][name] == pytest.approx(duck, rel=1e-12)


def test_network_summary():
    graph = nx.DiGraph()
    for u, v, n in [
        ("A", "B", 4),
        ("B", "A", 1),
        ("B", "C", 2),
        ("C", "D", 2),
        ("D", "C", 2),
        ("E", "F", 3),
    ]:
        graph.add_edge(u, v, handoffs=n)
    summary = handoffs.network_summary(graph)
    hubs = summary["hubs"]
    # B lies on the shortest routes A→C and A→D, C on A→D and B→D: 2 / ((6 - 1)(6 - 2)) each.
    assert hubs["department"].tolist()[:2] == ["B", "C"]
    assert dict(zip(hubs["department"], hubs["betweenness"], strict=True)) == pytest.approx(
        {"A": 0.0, "B": 0.1, "C": 0.1, "D": 0.0, "E": 0.0, "F": 0.0}
    )
    balance = summary["pair_balance"]
    assert balance[["department_a", "department_b", "balance"]].values.tolist() == [
        ["C", "D", 1.0],
        ["A", "B", 0.25],
        ["E", "F", 0.0],
        ["B", "C", 0.0],
    ]
    assert summary["edge_reciprocity"] == pytest.approx(4 / 6)
    assert summary["components"] == [["A", "B"], ["C", "D"]]
    assert summary["cycles"] == [["A", "B"], ["C", "D"]]
    assert summary["communities"] == [["A", "B"], ["C", "D"], ["E", "F"]]


# ----------------------------------------------------------------------------- Spark path


@pytest.mark.parametrize("name", sorted(handoffs.figure_sqls()))
def test_every_figure_transpiles_to_spark(name):
    sql = handoffs.figure_sqls()[name]
    spark_sql = engines.to_spark_sql(sql)
    # The Spark text parses back as Spark SQL, with exact percentiles only.
    sqlglot.parse_one(spark_sql, read="spark")
    assert "PERCENTILE_APPROX" not in spark_sql and "PERCENTILE_CONT" not in spark_sql


def test_sequence_links_equal_a_plain_python_walk():
    # Rows out of order, two cases interleaved, a side copy and a missing department (not in
    # sequence), repeats (no handoff), and a bounce X → Y → X.
    rows = [  # idx, case, department, wm, in_sequence
        (4, "b", "Y", 40.0, True),
        (0, "a", "X", 0.0, True),
        (6, "a", "X", 60.0, True),
        (1, "b", "Y", 10.0, True),
        (2, "a", None, 20.0, False),
        (3, "a", "Y", 30.0, True),
        (5, "a", "Z", 50.0, False),
        (7, "b", "X", 70.0, True),
        (8, "a", "Y", 80.0, True),
        # c bounces on (X, Y) twice: X, Y, X, Y, X.
        (9, "c", "X", 1.0, True),
        (12, "c", "Y", 4.0, True),
        (10, "c", "Y", 2.0, True),
        (11, "c", "X", 3.0, True),
        (13, "c", "X", 5.0, True),
    ]
    table = pd.DataFrame(rows, columns=["idx", "case_id", "department", "wm", "in_sequence"])
    linked = engines.with_sequence_links(
        table.assign(department=table["department"].astype("category"))
    )

    expected = {}
    for case in ("a", "b", "c"):
        entries = sorted((r for r in rows if r[1] == case and r[4]), key=lambda r: r[0])
        handoffs_of_case = [
            (this, following) for this, following in pairwise(entries) if this[2] != following[2]
        ]
        for this, following in pairwise(entries):
            expected[this[0]] = {"next_department": following[2], "next_wm": following[3]}
        bounced = []  # (A, B) of the case's bounces so far
        for j, (this, target) in enumerate(handoffs_of_case):
            after = handoffs_of_case[j + 1][1] if j + 1 < len(handoffs_of_case) else None
            expected[this[0]].update(
                handoff_position=j,
                return_department=after[2] if after else None,
                return_first_wm=after[3] if after else None,
            )
            if after and after[2] == this[2]:
                bounced.append((this[2], target[2]))
                expected[this[0]]["bounce_rank"] = bounced.count((this[2], target[2]))
    for row in linked.itertuples():
        want = expected.get(row.idx, {})
        assert (row.next_department if pd.notna(row.next_department) else None) == want.get(
            "next_department"
        ), row.idx
        assert (row.next_wm if pd.notna(row.next_wm) else None) == want.get("next_wm"), row.idx
        assert row.handoff_position == want.get("handoff_position", -1), row.idx
        got_return = row.return_department if pd.notna(row.return_department) else None
        assert got_return == want.get("return_department"), row.idx
        got_wm = row.return_first_wm if pd.notna(row.return_first_wm) else None
        assert got_wm == want.get("return_first_wm"), row.idx
        assert row.bounce_rank == want.get("bounce_rank", 0), row.idx
    # Hand-worked: a's sequence X, Y, X, Y (60 → 80); b's Y, Y, X.
    assert linked.set_index("idx").loc[[0, 3, 6, 1, 4], "handoff_position"].tolist() == [
        0, 1, 2, -1, 0,
    ]  # fmt: skip
    # c: X → Y → X at 9 and 11 (ranks 1, 2 on (X, Y)), Y → X → Y at 10 (rank 1 on (Y, X)).
    assert linked.set_index("idx").loc[[9, 10, 11, 12, 13], "bounce_rank"].tolist() == [
        1, 1, 2, 0, 0,
    ]  # fmt: skip
    # Text departments (a hand-built frame) link the same way.
    plain = engines.with_sequence_links(
        table.assign(department=table["department"].astype("string"))
    )
    pd.testing.assert_frame_equal(
        plain.drop(columns=["department", "next_department", "return_department"]),
        linked.drop(columns=["department", "next_department", "return_department"]),
    )
    for column in ("next_department", "return_department"):
        as_list = [[v if pd.notna(v) else None for v in t[column]] for t in (plain, linked)]
        assert as_list[0] == as_list[1], column


def test_event_table_holds_the_sequence_links_once():
    log = make_log({"c1": ["X", "Y", None, "X", "Y"], "c2": ["Y", "Y", "X"]})
    events = engines.event_table(log)
    # The links are in the table; a figure reuses them instead of computing them again.
    assert set(engines.SEQUENCE_LINKS) <= set(events.columns)
    assert engines.with_sequence_links(events) is events
    relinked = engines.with_sequence_links(events.drop(columns=list(engines.SEQUENCE_LINKS)))
    pd.testing.assert_frame_equal(relinked, events)
    # c1: X, Y, X, Y -> handoffs at positions 0, 1, 2; c2: Y, Y, X -> one handoff.
    assert events["handoff_position"].tolist() == [0, 1, -1, 2, -1, -1, 0, -1]


def test_figures_from_the_log_equal_those_from_the_whole_events_table():
    # From a log the figures build only the columns they read; the figures are the same as on
    # the events table every figure shares.
    from procmine import datasets

    log, catalog = datasets.load_sample(), datasets.load_sample_catalog()
    events = engines.event_table(log)
    for by in ("pair", "case"):
        pd.testing.assert_frame_equal(
            handoffs.ping_pong(log, catalog, by=by), handoffs.ping_pong(events, catalog, by=by)
        )
    from_log = handoffs.network_frames(handoffs.handoff_network(log))
    from_table = handoffs.network_frames(handoffs.handoff_network(events))
    for got, expected in zip(from_log, from_table, strict=True):
        pd.testing.assert_frame_equal(got, expected)
    pd.testing.assert_frame_equal(handoffs.department_runs(log), handoffs.department_runs(events))


# ----------------------------------------------------------------------------- returns


def step_log(cases: dict, **columns: dict) -> pd.DataFrame:
    """A canonical log: ``{case: [(department or None, activity), ...]}``, one event an hour
    from ``START`` (each case on its own day); ``columns`` adds a column per event, given as
    ``{case: [value, ...]}``."""
    rows = []
    for day, (case, events) in enumerate(cases.items()):
        for k, (department, activity) in enumerate(events):
            stamp = START + pd.Timedelta(days=day, hours=k)
            extra = [columns[name][case][k] for name in columns]
            rows.append((case, activity, stamp, department, *extra))
    log = pd.DataFrame(
        rows, columns=[schema.CASE, schema.ACTIVITY, schema.TIMESTAMP, "dept", *columns]
    )
    log[schema.DEPARTMENT] = log.pop("dept").astype("string")
    return log


# docs/definitions.md, "Returns": the worked example.
RETURNS_EXAMPLE = {
    # A, B, A, B, A: B → A leaves from "Trả lại hồ sơ": a return, on (A, B).
    "r1": [
        ("A", "Tiếp nhận"),
        ("B", "Thẩm định"),
        ("B", "Trả lại hồ sơ"),
        ("A", "Bổ sung hồ sơ"),
        ("B", "Thẩm định"),
        ("A", "Phê duyệt"),
    ],
    # A, B, A: "Trả lại hồ sơ" is followed by B itself, and the last one has no department.
    "r2": [
        ("A", "Tiếp nhận"),
        ("B", "Trả lại hồ sơ"),
        ("B", "Thẩm định"),
        ("A", "Phê duyệt"),
        (None, "Trả lại hồ sơ"),
    ],
    # C, B, A: B → A leaves from "Chuyển lại để bổ sung" (on (A, B), though no A → B here);
    # A's "Trả lại hồ sơ" is the case's last entry.
    "r3": [
        ("C", "Tiếp nhận"),
        ("B", "Xét"),
        ("B", "Chuyển lại để bổ sung"),
        ("A", "Xử lý"),
        ("A", "Trả lại hồ sơ"),
    ],
}
COUNTS = ["handoffs", "bounces", "excess_bounces", "returns", "pingpong_cases", "cases"]


def test_returns_worked_example():
    log = step_log(RETURNS_EXAMPLE)
    pair = handoffs.ping_pong(log)
    # Reference: A, B, A (three sequences once each, the smallest first): m(A, B) = 1.
    assert pair[["department_a", "department_b", *COUNTS]].values.tolist() == [
        ["A", "B", 7, 4, 2, 2, 1, 3],
        ["B", "C", 1, 0, 0, 0, 0, 1],
    ]
    assert pair.attrs["returns"] == ["Trả lại", "Chuyển lại"]
    ordered = handoffs.ping_pong(log, by="ordered")
    assert ordered[["source", "target", *COUNTS]].values.tolist() == [
        ["A", "B", 3, 3, 1, 2, 1, 2],
        ["B", "A", 4, 1, 1, 0, 1, 3],
        ["C", "B", 1, 0, 0, 0, 0, 1],
    ]
    per_case = handoffs.ping_pong(log, by="case")
    assert by_key(per_case, ["case_id", "department_a", "department_b"], "returns") == {
        ("r1", "A", "B"): 1,
        ("r2", "A", "B"): 0,
        ("r3", "A", "B"): 1,
        ("r3", "B", "C"): 0,
    }
    per_procedure = handoffs.ping_pong(log, by="procedure")
    assert by_key(per_procedure, ["department_a", "department_b"], "returns") == {
        ("A", "B"): 2,
        ("B", "C"): 0,
    }
    # The other figures are those of the same log without any return step.
    renamed = log.assign(**{schema.ACTIVITY: "Xử lý"})
    for by in ("pair", "ordered", "procedure", "case"):
        with_returns = handoffs.ping_pong(log, by=by)
        without = handoffs.ping_pong(renamed, by=by)
        assert without["returns"].eq(0).all()
        pd.testing.assert_frame_equal(
            with_returns.drop(columns="returns"), without.drop(columns="returns")
        )


def test_a_return_that_does_not_hand_off_counts_for_no_pair():
    log = step_log(
        {
            "last": [("A", "Tiếp nhận"), ("B", "Trả lại hồ sơ")],  # the case's last entry
            "own": [("A", "Tiếp nhận"), ("B", "Trả lại hồ sơ"), ("B", "Xét"), ("A", "Ký")],
            "none": [("A", "Tiếp nhận"), (None, "Trả lại hồ sơ"), ("B", "Xét")],  # no department
            # Across an event without a department, the return still hands off B → A.
            "across": [("A", "Tiếp nhận"), ("B", "Trả lại hồ sơ"), (None, "Xét"), ("A", "Ký")],
        }
    )
    per_case = handoffs.ping_pong(log, by="case")
    assert by_key(per_case, ["case_id"], "returns") == {
        "last": 0,
        "own": 0,
        "none": 0,
        "across": 1,
    }
    events = engines.event_table(log)
    assert int(events["returned"].sum()) == 4  # four return events, one return


def transfer_history() -> pd.DataFrame:
    """A transfer history as the reader gives it: one event per transfer, done by the sender at
    the transfer time, with its kind; a side copy flagged; an open case's holder marker."""
    cases = {
        "t1": [
            ("A", "Chuyển xử lý", schema.MAIN, False),  # A → B
            ("B", "Chuyển phối hợp", schema.SIDE, True),  # B copies C: no part in sequences
            ("B", "Trả lại", schema.RETURN, False),  # B → A: a return, on (A, B)
            ("A", "Chuyển xử lý", schema.MAIN, False),  # A → B
            ("B", "Chuyển lại", schema.MAIN, False),  # B → A: its kind says it is no return
            ("A", "Hoàn thành", schema.CLOSING, False),
        ],
        "t2": [
            ("A", "Chuyển xử lý", schema.MAIN, False),  # A → B
            ("B", "Chuyển xử lý", schema.MAIN, False),  # B → C
            ("C", "Chuyển xử lý", schema.RETURN, False),  # C → B: a return, on (B, C)
            ("B", "Đang xử lý", schema.HOLDER, False),  # B holds it now
        ],
    }
    return step_log(
        {case: [(d, a) for d, a, _, _ in events] for case, events in cases.items()},
        **{
            schema.TRANSFER: {case: [k for *_, k, _ in events] for case, events in cases.items()},
            schema.SIDE_COPY: {case: [s for *_, s in events] for case, events in cases.items()},
        },
    )


def test_returns_of_a_transfer_history_are_its_transfers_of_kind_return():
    log = transfer_history()
    pair = handoffs.ping_pong(log)
    assert by_key(pair, ["department_a", "department_b"], "returns") == {
        ("A", "B"): 1,
        ("B", "C"): 1,
    }
    assert pair.attrs["returns"] == "transfer history"
    ordered = handoffs.ping_pong(log, by="ordered")
    assert by_key(ordered, ["source", "target"], "returns") == {
        ("A", "B"): 1,
        ("B", "A"): 0,
        ("B", "C"): 1,
        ("C", "B"): 0,
    }
    # The kinds decide, not the names (whatever names are asked for).
    again = handoffs.ping_pong(log, by="ordered", return_activities=["Chuyển lại", "Trả lại"])
    pd.testing.assert_frame_equal(again, ordered)
    events = engines.event_table(log)
    assert events["returned"].tolist() == [
        False, False, True, False, False, False, False, False, True, False,
    ]  # fmt: skip
    assert engines.table_returns(events) == schema.TRANSFER
    # Without the kinds, the same events as a step log: "Trả lại" and "Chuyển lại" hand off.
    steps = handoffs.ping_pong(log.drop(columns=schema.TRANSFER), by="ordered")
    assert by_key(steps, ["source", "target"], "returns")[("A", "B")] == 2


def test_return_names_come_from_the_config_and_reach_the_table():
    from procmine import vocabulary

    log = step_log(RETURNS_EXAMPLE)
    names = vocabulary.from_config({"return_activities": ["Bổ sung hồ sơ"]})
    assert names["return_activities"] == ("Bổ sung hồ sơ",)
    # r1's "Bổ sung hồ sơ" hands off A → B: a return on (B, A) alone.
    expected = {("A", "B"): 0, ("B", "A"): 1, ("C", "B"): 0}
    asked = {"by": "ordered", "return_activities": names["return_activities"]}
    from_log = handoffs.ping_pong(log, **asked)
    assert by_key(from_log, ["source", "target"], "returns") == expected
    assert from_log.attrs["returns"] == ["Bổ sung hồ sơ"]
    # A table built with the defaults is read again for other names; one built with these
    # names is used as it is.
    default_table = engines.event_table(log)
    pd.testing.assert_frame_equal(handoffs.ping_pong(default_table, **asked), from_log)
    named_table = engines.event_table(log, return_activities=names["return_activities"])
    assert engines.with_returns(named_table, ["BỔ SUNG HỒ SƠ"]) is named_table  # the rule's case
    pd.testing.assert_frame_equal(handoffs.ping_pong(named_table, by="ordered"), from_log)
    # The defaults, whatever the table was built with, when asked for.
    pd.testing.assert_frame_equal(
        handoffs.ping_pong(named_table, by="ordered", return_activities=vocabulary.RETURNS),
        handoffs.ping_pong(log, by="ordered"),
    )
    # A table of the handoff figures' columns has no activity to read other names from.
    narrow = engines.event_table(log, columns=handoffs.TABLE_COLUMNS)
    assert narrow["returned"].tolist() == default_table["returned"].tolist()
    with pytest.raises(schema.MissingColumnError, match="return_activities"):
        handoffs.ping_pong(narrow, **asked)


def test_a_table_built_by_hand_without_returns_has_none():
    log = step_log(RETURNS_EXAMPLE)
    events = engines.event_table(log)
    hand = pd.DataFrame(events.drop(columns=["returned", *engines.SEQUENCE_LINKS]))
    hand.attrs = {}
    pair = handoffs.ping_pong(hand)
    assert pair["returns"].tolist() == [0, 0] and pair.attrs["returns"] is None
    expected = handoffs.ping_pong(log).drop(columns="returns")
    pd.testing.assert_frame_equal(pair.drop(columns="returns"), expected)
    # Names asked for are read from its activities.
    assert handoffs.ping_pong(hand, return_activities=["Trả lại"])["returns"].tolist() == [1, 0]


def _plain_returns(log: pd.DataFrame) -> Counter:
    """Returns per ordered pair (A, B) in plain pandas: each event with a department (no side
    copy in a generated log), its case's next such event; a return where that one is in
    another department and the activity is "Trả lại"/"Chuyển lại" (case-folded, alone or
    followed by a character that is not a letter or digit)."""
    assert schema.SIDE_COPY not in log.columns
    entries = log[log[schema.DEPARTMENT].notna()]
    following = entries.groupby(schema.CASE, sort=False)[schema.DEPARTMENT].shift(-1)
    named = (
        entries[schema.ACTIVITY]
        .str.normalize("NFC")
        .str.casefold()
        .str.contains(r"^(?:trả lại|chuyển lại)(?:[^\w]|_|$)", regex=True)
    )
    hands_off = following.notna() & (following != entries[schema.DEPARTMENT])
    returns = entries[named & hands_off]
    pairs = zip(following[named & hands_off], returns[schema.DEPARTMENT], strict=True)
    return Counter(pairs)


def test_sample_returns_equal_a_plain_pandas_count():
    from procmine import datasets

    sample = datasets.generate(400, seed=11)
    expected = _plain_returns(sample.log)
    assert sum(expected.values()) > 20  # the sample sends work back
    ordered = handoffs.ping_pong(sample.log, sample.catalog, by="ordered")
    found = by_key(ordered[ordered["returns"] > 0], ["source", "target"], "returns")
    assert found == dict(expected)
    unordered: Counter = Counter()
    for (a, b), n in expected.items():
        unordered[tuple(sorted((a, b)))] += n
    pair = handoffs.ping_pong(sample.log, sample.catalog)
    assert by_key(pair[pair["returns"] > 0], ["department_a", "department_b"], "returns") == (
        dict(unordered)
    )
    # Some return steps hand off nothing (a check sent back within its own department).
    events = engines.event_table(sample.log)
    assert int(events.loc[events["in_sequence"], "returned"].sum()) > sum(expected.values())
    per_case = handoffs.ping_pong(sample.log, sample.catalog, by="case")
    assert per_case["returns"].sum() == sum(expected.values())


def test_returns_of_a_transfer_export_equal_those_planted(tmp_path):
    # The generated sample written as a transfer history (returns planted on bounce-backs,
    # side copies, open cases), read back by pm.read_log: each planted return (sender B,
    # recipient A) counts once on (A, B).
    from procmine import datasets, read_log
    from procmine.datasets import transfers

    history = transfers.as_transfers(datasets.generate(200, seed=3).log, open_share=0.2)
    log = read_log(transfers.write_transfers(history, tmp_path / "transfers.csv"))
    planted = {
        (row["recipient"], row["sender"]): row["returns"]
        for row in history.attrs["planted"]["returns"]
    }
    assert sum(planted.values()) > 20
    ordered = handoffs.ping_pong(log, by="ordered")
    assert by_key(ordered[ordered["returns"] > 0], ["source", "target"], "returns") == planted
    assert ordered.attrs["returns"] == "transfer history"


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")
    import shutil

    if shutil.which("java") is None:
        pytest.skip("Spark needs Java: no `java` on PATH")
    session = engines.spark_session("local[2]", **{"spark.sql.shuffle.partitions": "1"})
    yield session
    session.stop()


@pytest.mark.parametrize("by", ["pair", "ordered", "procedure", "case"])
def test_returns_on_spark_equal_duckdb(spark, by):
    for log in (step_log(RETURNS_EXAMPLE), transfer_history()):
        expected = handoffs.ping_pong(log, by=by)
        assert expected["returns"].sum() > 0
        found = handoffs.ping_pong(log, by=by, engine=spark)
        pd.testing.assert_frame_equal(found, expected, check_exact=False, rtol=1e-9)
        assert found.attrs == expected.attrs
