"""Maps, variants and models: checked against pm4py on the public receipt log and against counts
written out by hand on small logs."""

from __future__ import annotations

import itertools
import sys
from collections import Counter

import pandas as pd
import pytest

from procmine import discovery as d
from procmine.calendar import WorkCalendar

sys._pm4py_welcome_shown = True
pm4py = pytest.importorskip("pm4py")

RECEIPT_CALENDAR = WorkCalendar(
    country="NL", timezone="Europe/Amsterdam", office_hours=(("08:00", "17:00"),)
)


@pytest.fixture(scope="module")
def receipt(receipt_frame) -> pd.DataFrame:
    return receipt_frame.copy()


def small_log(rows: list[tuple[str, str, str, str | None]], procedure: str = "P") -> pd.DataFrame:
    """(case, activity, 'YYYY-mm-dd HH:MM' local Vietnam time, department) rows."""
    frame = pd.DataFrame(rows, columns=["case:concept:name", "concept:name", "t", "org:group"])
    frame["time:timestamp"] = pd.to_datetime(frame.pop("t")).dt.tz_localize("Asia/Ho_Chi_Minh")
    frame["case:procedure"] = procedure
    return frame


# Monday 4 March 2024, a working day; office hours 07:30–11:30 and 13:00–17:00.
SMALL = small_log(
    [
        ("c1", "A", "2024-03-04 08:00", "D1"),
        ("c1", "B", "2024-03-04 09:00", "D2"),  # 1 h
        ("c1", "C", "2024-03-04 14:00", "D3"),  # 09:00→11:30 + 13:00→14:00 = 3.5 h
        ("c2", "A", "2024-03-04 08:00", "D1"),
        ("c2", "B", "2024-03-04 08:30", "D2"),  # 0.5 h
        ("c2", "B", "2024-03-04 10:30", "D2"),  # 2 h
        ("c2", "C", "2024-03-04 11:00", "D3"),  # 0.5 h
        ("c3", "A", "2024-03-04 08:00", "D1"),
        ("c3", "C", "2024-03-05 08:00", "D3"),  # one working day: 8 h
    ]
)


def test_receipt_edges_equal_pm4py_dfg(receipt):
    pmap = d.discover_map(receipt, calendar=RECEIPT_CALENDAR)
    edges = pmap.edges
    inner = edges[(edges["source"] != d.START) & (edges["target"] != d.END)]
    dfg, starts, ends = pm4py.discover_dfg(receipt)
    got = dict(
        zip(zip(inner["source"], inner["target"], strict=True), inner["frequency"], strict=True)
    )
    assert got == dict(dfg)
    first = edges[edges["source"] == d.START]
    last = edges[edges["target"] == d.END]
    assert dict(zip(first["target"], first["frequency"], strict=True)) == dict(starts)
    assert dict(zip(last["source"], last["frequency"], strict=True)) == dict(ends)
    # Cases per arc, counted in plain Python.
    cases: dict[tuple[str, str], set[str]] = {}
    for case, acts in receipt.groupby("case:concept:name", sort=False)["concept:name"]:
        trail = [d.START, *acts.tolist(), d.END]
        for pair in itertools.pairwise(trail):
            cases.setdefault(pair, set()).add(case)
    got_cases = dict(
        zip(zip(edges["source"], edges["target"], strict=True), edges["cases"], strict=True)
    )
    assert got_cases == {pair: len(found) for pair, found in cases.items()}
    assert pmap.cases == receipt["case:concept:name"].nunique() == 1434
    assert pmap.events == len(receipt)
    nodes = pmap.nodes.set_index("activity")
    assert nodes["events"].to_dict() == receipt["concept:name"].value_counts().to_dict()


# The arcs of SMALL and their frequencies, counted by hand.
SMALL_ARCS = {
    (d.START, "A"): 3,
    ("A", "B"): 2,
    ("B", "C"): 2,
    ("B", "B"): 1,
    ("A", "C"): 1,
    ("C", d.END): 3,
}


def test_small_map_counts_and_working_hour_waits():
    pmap = d.discover_map(SMALL)
    edges = pmap.edges.set_index(["source", "target"])
    assert edges["frequency"].to_dict() == SMALL_ARCS
    assert edges.loc[("A", "B"), "cases"] == 2
    assert edges.loc[("A", "B"), "median_wait_working_hours"] == pytest.approx(0.75)
    assert edges.loc[("A", "B"), "p90_wait_working_hours"] == pytest.approx(0.5 + 0.9 * 0.5)
    assert edges.loc[("B", "C"), "median_wait_working_hours"] == pytest.approx(
        2.0
    )  # of 3.5 and 0.5
    assert edges.loc[("A", "C"), "median_wait_working_hours"] == pytest.approx(8.0)
    assert pd.isna(edges.loc[(d.START, "A"), "median_wait_working_hours"])
    nodes = pmap.nodes.set_index("activity")
    assert nodes.loc["B", "events"] == 3 and nodes.loc["B", "cases"] == 2
    assert nodes.loc["B", "median_sojourn_working_hours"] == pytest.approx(1.0)  # of 1, 0.5, 2
    assert nodes.loc["C", "median_sojourn_working_hours"] == pytest.approx(3.5)  # of 3.5, 0.5, 8
    assert pd.isna(nodes.loc["A", "median_sojourn_working_hours"])  # always first


def test_map_of_one_procedure_and_unknown_procedure():
    other = small_log([("x1", "Z", "2024-03-04 08:00", "D9")], procedure="Q")
    log = pd.concat([SMALL, other], ignore_index=True)
    assert set(d.discover_map(log, "Q").nodes["activity"]) == {"Z"}
    assert d.discover_map(log, "P").cases == 3
    with pytest.raises(ValueError, match="Procedures in the log: \\['P', 'Q'\\]"):
        d.discover_map(log, "R")


def test_variants_small():
    found = d.variants(SMALL)
    assert found["variant"].tolist() == ["A → B → B → C", "A → B → C", "A → C"]
    assert found["cases"].tolist() == [1, 1, 1]
    assert found["length"].tolist() == [4, 3, 2]
    assert found["median_duration_working_hours"].tolist() == pytest.approx([3.0, 4.5, 8.0])
    assert found["median_duration_working_days"].tolist() == pytest.approx([3 / 8, 4.5 / 8, 1.0])
    assert found["share"].sum() == pytest.approx(1.0)


def test_variants_receipt_equal_pm4py(receipt):
    found = d.variants(receipt, calendar=RECEIPT_CALENDAR)
    expected = Counter({" → ".join(k): v for k, v in pm4py.get_variants(receipt).items()})
    assert dict(zip(found["variant"], found["cases"], strict=True)) == dict(expected)
    assert found["share"].sum() == pytest.approx(1.0)
    assert found["cases"].is_monotonic_decreasing


@pytest.mark.parametrize("noise", [0.0, 0.2])
def test_model_from_variants_equals_pm4py_on_the_log(receipt, noise):
    model = d.discover_model(receipt, noise=noise, from_dfg=False, calendar=RECEIPT_CALENDAR)
    assert model.source == "variants"
    assert str(model.tree) == str(
        pm4py.discover_process_tree_inductive(receipt, noise_threshold=noise)
    )


def test_model_from_dfg_equals_pm4py_on_its_dfg(receipt):
    model = d.discover_model(receipt, from_dfg=True, calendar=RECEIPT_CALENDAR)
    assert model.source == "dfg"
    reference = pm4py.discover_process_tree_inductive(pm4py.discover_dfg_typed(receipt))
    assert str(model.tree) == str(reference)
    visible = {t.label for t in model.net.transitions if t.label is not None}
    assert visible == set(receipt["concept:name"])


def test_dfg_noise_filter_drops_rare_arcs():
    edges = pd.DataFrame(
        {
            "source": [d.START, d.START, "A", "A", "B", "C"],
            "target": ["A", "C", "B", "C", d.END, d.END],
            "frequency": [90, 10, 80, 10, 80, 20],
        }
    )
    dfg = d._dfg_object(edges, noise=0.2)
    # A → C (10 ≤ 0.2 × 80) and ▶ → C (10 < 0.2 × 90) fall below the threshold, but C would then
    # have no way in: its widest way in comes back (A → C and ▶ → C tie; by name, A first).
    assert dict(dfg.graph) == {("A", "B"): 80, ("A", "C"): 10}
    assert dict(dfg.start_activities) == {"A": 90}
    assert dict(dfg.end_activities) == {"B": 80, "C": 20}
    assert dict(d._dfg_object(edges).graph) == {("A", "B"): 80, ("A", "C"): 10}  # no noise


def traces_log(traces: list[str]) -> pd.DataFrame:
    """One case per string, one event per letter, a minute apart."""
    rows = [
        (f"c{case}", activity, f"2024-03-04 08:{minute:02d}", "D1")
        for case, trace in enumerate(traces)
        for minute, activity in enumerate(trace)
    ]
    return small_log(rows)


def labels(model: d.ProcessModel) -> set[str]:
    return {t.label for t in model.net.transitions if t.label is not None}


def test_noise_on_the_graph_keeps_every_activity_reachable():
    # Issue 15: IMd with noise on the graph raised IndexError in pm4py's single_activity.py on
    # most public logs. The smallest shape: every arc into C (A → C, ▶ → C) is below the
    # threshold, so the filtered graph has an activity no arc enters; IMd splits it off as a
    # part with an end activity and no start activity, whose first start activity it reads.
    log = traces_log(["AB"] * 5 + ["AC", "C"])
    model = d.discover_model(log, noise=0.2, from_dfg=True)
    assert str(model.tree) == "->( 'A', X( 'C', 'B' ) )"
    assert labels(model) == {"A", "B", "C"}
    # The variants' IMf keeps every activity too.
    assert labels(d.discover_model(log, noise=0.2, from_dfg=False)) == {"A", "B", "C"}


def test_noise_on_the_graph_where_a_sequence_part_has_no_start():
    # A filtered graph where every activity lies on a path ▶ → … → ■ can still make pm4py's IMd
    # raise: the sequence cut gives the part {A, B, C} ends from its arcs into the next part only
    # (not C → ■), the concurrency cut leaves {A, C} with no arc between them, and the exclusive
    # choice of that leaves C alone, an end activity with no start activity. That part is C.
    log = traces_log(["BAB", "BCBA", "C"])
    dfg = d._dfg_object(d.discover_map(log).edges, noise=0.2)
    with pytest.raises(IndexError):  # pm4py's own IMd on this graph
        pm4py.discover_process_tree_inductive(dfg, multi_processing=False)
    model = d.discover_model(log, noise=0.2, from_dfg=True)
    assert str(model.tree) == "+( X( 'C', 'A' ), 'B' )"
    assert labels(model) == {"A", "B", "C"}


def test_noise_on_the_graph_mines_random_logs_with_every_activity():
    import random

    rng = random.Random(1)
    for _ in range(60):
        alphabet = "ABCDEFG"[: rng.randint(2, 7)]
        traces = [
            "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6)))
            for _ in range(rng.randint(1, 25))
        ]
        pmap = d.discover_map(traces_log(traces))
        for noise in (0.0, 0.2, 0.6, 0.9):
            model = d.discover_model(None, noise=noise, from_dfg=pmap)
            assert labels(model) == set("".join(traces)), (traces, noise)


def test_save_model(tmp_path, receipt):
    model = d.discover_model(receipt, from_dfg=False, calendar=RECEIPT_CALENDAR)
    paths = d.save_model(model, tmp_path, name="receipt")
    net, im, fm = pm4py.read_pnml(str(paths["pnml"]))
    assert len(net.transitions) == len(model.net.transitions)
    assert (len(im), len(fm)) == (len(model.im), len(model.fm))
    assert pm4py.read_bpmn(str(paths["bpmn"])) is not None


def test_model_from_a_map_equals_model_from_the_log_graph(receipt):
    pmap = d.discover_map(receipt, calendar=RECEIPT_CALENDAR)
    from_map = d.discover_model(None, from_dfg=pmap)
    direct = d.discover_model(receipt, from_dfg=True, calendar=RECEIPT_CALENDAR)
    assert str(from_map.tree) == str(direct.tree)
    assert (from_map.events, from_map.cases) == (len(receipt), 1434)


def test_map_follows_each_case_in_log_order_when_cases_interleave():
    # The rows of SMALL's cases interleaved (each case keeps its own order), plus a one-event
    # case: the arcs and waits are those of SMALL, plus ▶ → D → ■.
    single = small_log([("c4", "D", "2024-03-04 09:00", "D4")])
    order = [0, 3, 7, 1, 4, 8, 2, 5, 6]
    log = pd.concat([SMALL.iloc[order], single], ignore_index=True)
    pmap = d.discover_map(log)
    edges = pmap.edges.set_index(["source", "target"])
    assert edges["frequency"].to_dict() == {
        (d.START, "A"): 3,
        ("A", "B"): 2,
        ("B", "C"): 2,
        ("C", d.END): 3,
        ("A", "C"): 1,
        ("B", "B"): 1,
        (d.START, "D"): 1,
        ("D", d.END): 1,
    }
    assert edges["cases"].to_dict() == edges["frequency"].to_dict()  # no arc twice in a case
    assert edges.loc[("B", "C"), "median_wait_working_hours"] == pytest.approx(2.0)
    assert edges.loc[("A", "C"), "p90_wait_working_hours"] == pytest.approx(8.0)
    # Ordered by frequency, then source and target.
    assert list(pmap.edges[["source", "target"]].itertuples(index=False, name=None))[:4] == [
        ("C", d.END),
        (d.START, "A"),
        ("A", "B"),
        ("B", "C"),
    ]
    assert (pmap.cases, pmap.events) == (4, 10)
    nodes = pmap.nodes.set_index("activity")
    assert nodes.loc["D", ["cases", "events"]].tolist() == [1, 1]
    assert (
        nodes.loc[["D"], ["median_sojourn_working_hours", "p90_sojourn_working_hours"]]
        .isna()
        .all(axis=None)
    )


def test_map_counts_repeated_arcs_once_per_case():
    log = small_log(
        [
            ("c1", "A", "2024-03-04 08:00", "D1"),
            ("c1", "B", "2024-03-04 09:00", "D2"),
            ("c1", "A", "2024-03-04 10:00", "D1"),
            ("c1", "B", "2024-03-04 10:30", "D2"),
            ("c2", "A", "2024-03-04 08:00", "D1"),
            ("c2", "B", "2024-03-04 08:15", "D2"),
        ]
    )
    edges = d.discover_map(log).edges.set_index(["source", "target"])
    assert edges.loc[("A", "B"), ["frequency", "cases"]].tolist() == [3, 2]
    assert edges.loc[("A", "B"), "median_wait_working_hours"] == pytest.approx(
        0.5
    )  # of 1, 0.5, 0.25
    assert edges.loc[("B", "A"), ["frequency", "cases"]].tolist() == [1, 1]
    nodes = d.discover_map(log).nodes.set_index("activity")
    assert nodes.loc["A", ["events", "cases"]].tolist() == [3, 2]


def test_map_waits_are_the_sojourns_of_the_events_view_with_side_copies():
    # A side copy (transfer history) is a step of the map like any other, but it holds no time:
    # the arc into it has no wait, and the next arc waits from the last event that is not one.
    log = small_log(
        [
            ("c1", "A", "2024-03-04 08:00", "D1"),
            ("c1", "S", "2024-03-04 09:00", "D2"),
            ("c1", "B", "2024-03-04 10:00", "D3"),
        ]
    )
    log["procmine:side_copy"] = [False, True, False]
    pmap = d.discover_map(log)
    edges = pmap.edges.set_index(["source", "target"])
    assert edges["frequency"].to_dict() == {
        (d.START, "A"): 1,
        ("A", "S"): 1,
        ("S", "B"): 1,
        ("B", d.END): 1,
    }
    assert pd.isna(edges.loc[("A", "S"), "median_wait_working_hours"])
    assert edges.loc[("S", "B"), "median_wait_working_hours"] == pytest.approx(2.0)
    assert pd.isna(pmap.nodes.set_index("activity").loc["S", "median_sojourn_working_hours"])


def test_map_cases_and_waits_equal_plain_python_on_a_log_with_many_repeats():
    # Random cases over four activities, so activities recur in a case after the same and after
    # different predecessors (and the first activity recurs too): every figure of the map is
    # counted here case by case from the events table's sojourns, against the SQL's shortcuts.
    import numpy as np

    from procmine import engines

    rng = np.random.default_rng(3)
    rows = []
    for case in range(80):
        start = pd.Timestamp("2024-03-04 07:30") + pd.Timedelta(minutes=int(rng.integers(0, 600)))
        gaps = np.cumsum(rng.integers(5, 400, size=int(rng.integers(1, 9))))
        for gap in gaps:
            moment = (start + pd.Timedelta(minutes=int(gap))).strftime("%Y-%m-%d %H:%M")
            rows.append((f"c{case:02d}", str(rng.choice(list("ABCD"))), moment, "D1"))
    log = small_log(rows)
    events = engines.event_table(log, WorkCalendar())
    arc_cases: dict[tuple[str, str], set[str]] = {}
    waits: dict[tuple[str, str], list[float]] = {}
    node_cases: dict[str, set[str]] = {}
    sojourns: dict[str, list[float]] = {}
    for case, trail in events.sort_values("idx").groupby("case_id", sort=False):
        names = [d.START, *trail["activity"].astype(str), d.END]
        held = [np.nan, *trail["sojourn"], np.nan]
        for (source, target), minutes in zip(itertools.pairwise(names), held[1:], strict=True):
            arc_cases.setdefault((source, target), set()).add(case)
            waits.setdefault((source, target), [])
            if target != d.END:
                node_cases.setdefault(target, set()).add(case)
                sojourns.setdefault(target, [])
            if not np.isnan(minutes):
                waits[(source, target)].append(minutes / 60)
                sojourns[target].append(minutes / 60)
    pmap = d.discover_map(log)
    edges = pmap.edges.set_index(["source", "target"])
    assert edges["cases"].to_dict() == {arc: len(found) for arc, found in arc_cases.items()}
    assert (edges["frequency"] > edges["cases"]).sum() >= 5  # arcs repeated within cases
    for arc, values in waits.items():
        got = edges.loc[arc, ["median_wait_working_hours", "p90_wait_working_hours"]].to_numpy(
            dtype=float
        )
        expected = np.percentile(values, [50, 90]) if values else [np.nan, np.nan]
        assert got == pytest.approx(expected, rel=1e-12, nan_ok=True), arc
    nodes = pmap.nodes.set_index("activity")
    assert nodes["cases"].to_dict() == {name: len(found) for name, found in node_cases.items()}
    assert (nodes["events"] > nodes["cases"]).all()  # every activity recurs in some case
    for name, values in sojourns.items():
        got = nodes.loc[
            name, ["median_sojourn_working_hours", "p90_sojourn_working_hours"]
        ].to_numpy(dtype=float)
        assert got == pytest.approx(np.percentile(values, [50, 90]), rel=1e-12), name


def test_map_of_an_events_table_with_or_without_activity_links():
    # The map links the events it reads; a table linked already is read as it is.
    from procmine import engines

    bare = engines.event_table(SMALL, WorkCalendar())
    events = engines.with_activity_links(bare.assign(activity=bare["activity"]))
    assert set(engines.ACTIVITY_LINKS) <= set(events.columns) - set(bare.columns)
    linked, unlinked = d.discover_map(events), d.discover_map(bare)
    pd.testing.assert_frame_equal(unlinked.edges, linked.edges)
    pd.testing.assert_frame_equal(unlinked.nodes, linked.nodes)
    assert unlinked.edges.set_index(["source", "target"])["frequency"].to_dict() == SMALL_ARCS


def test_map_rejects_events_without_activity():
    log = SMALL.copy()
    log.loc[2, "concept:name"] = None
    with pytest.raises(ValueError, match="1 event\\(s\\) have no activity"):
        d.discover_map(log)


def test_compact_encoding_changes_no_figure(receipt):
    # Integer case codes and categorical activities are only a faster encoding for DuckDB.
    from procmine import engines

    events = d.procedure_events(receipt, None, RECEIPT_CALENDAR)
    text = events.assign(activity=engines.as_text(events["activity"]))
    plain = d._arcs(engines.query(d.MAP_SQL, events=engines.with_activity_links(text)))
    compact = d._arcs(engines.query(d.MAP_SQL, events=d._compact(events)))
    for got, expected in zip(compact, plain, strict=True):
        pd.testing.assert_frame_equal(got, expected)


@pytest.mark.parametrize("name", sorted(d.figure_sqls()))
def test_every_figure_transpiles_to_spark(name):
    import sqlglot

    from procmine import engines

    spark_sql = engines.to_spark_sql(d.figure_sqls()[name])
    sqlglot.parse_one(spark_sql, read="spark")
    assert "PERCENTILE_APPROX" not in spark_sql and "PERCENTILE_CONT" not in spark_sql
    if name == "map":
        assert "GROUPING SETS ((previous_activity, activity), (activity))" in spark_sql
        # One exact percentile aggregate for both figures; Spark's arrays count from 0.
        assert "PERCENTILE(sojourn, ARRAY(0.5, 0.9))" in spark_sql
        assert "waits[0] / CAST(60.0 AS DOUBLE) AS median_working_hours" in spark_sql
        assert "waits[1] / CAST(60.0 AS DOUBLE) AS p90_working_hours" in spark_sql


def _links_of_sql(events: pd.DataFrame) -> pd.DataFrame:
    """The activity links of ``engines.ACTIVITY_LINKS_SQL`` (the definition a table kept on
    Spark gets), run on DuckDB over ``events``, in the table's row order."""
    from procmine import engines

    found = engines.query(f"{engines.ACTIVITY_LINKS_SQL} ORDER BY idx", events=events)
    return found[list(engines.ACTIVITY_LINKS)].astype(
        {"previous_activity": "str", **dict.fromkeys(engines.ACTIVITY_LINKS[1:], bool)}
    )


@pytest.mark.parametrize("name", ["sample", "repeats", "interleaved"])
def test_activity_links_in_sql_equal_numpy(name):
    # The SQL of the links (windows by case in idx order) gives numpy's links value by value:
    # on the sample, on cases that repeat activities after the same and other predecessors, and
    # on rows whose cases interleave (case order is not row order).
    import numpy as np

    import procmine as pm
    from procmine import engines

    if name == "sample":
        log = pm.datasets.load_sample()
    else:
        rng = np.random.default_rng(5)
        rows = [
            (f"c{case}", str(rng.choice(list("ABC"))), f"2024-03-04 {8 + k}:00", "D1")
            for case in range(40)
            for k in range(int(rng.integers(1, 8)))
        ]
        log = small_log(rows)
        if name == "interleaved":
            log = log.sample(frac=1, random_state=1).sort_values("time:timestamp", kind="stable")
    events = engines.event_table(log, WorkCalendar())
    events = events.assign(activity=engines.as_text(events["activity"]))
    expected = engines.with_activity_links(events)[list(engines.ACTIVITY_LINKS)]
    expected = expected.assign(previous_activity=expected["previous_activity"].astype("str"))
    found = _links_of_sql(events)
    pd.testing.assert_frame_equal(found, expected.reset_index(drop=True), check_dtype=False)
    assert (~found["first_arc_in_case"]).any() and (~found["first_activity_in_case"]).any()


def test_activity_links_sql_transpiles_to_spark():
    import sqlglot

    from procmine import engines

    spark_sql = engines.to_spark_sql(engines.ACTIVITY_LINKS_SQL)
    sqlglot.parse_one(spark_sql, read="spark")
    assert "LAG(activity) OVER (PARTITION BY case_no ORDER BY idx" in spark_sql
