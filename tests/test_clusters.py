"""Procedure clusters (issue 19, item 2): on the generated sample the planted ping-pong
procedures form their own cluster, a hand-built set of two obvious behaviours is split in two
with k = 2 chosen, the same log gives the same output, too few procedures give a message, and
one procedure's figures equal a plain pandas count made case by case."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pytest

import procmine as pm
from procmine import engines, vocabulary
from procmine.candidates import MEASURE_TYPES, candidate_measures, facts
from procmine.clusters import (
    CASE_STEPS_SQL,
    FEATURES,
    TRAITS,
    case_features,
    leadership_steps,
    procedure_clusters,
)

CASE, ACT, TS, DEP, PROC = (
    "case:concept:name",
    "concept:name",
    "time:timestamp",
    "org:group",
    "case:procedure",
)
VP, TP = "Văn phòng", "Phòng Tư pháp"
LEADERS = ("Chủ tịch", "Phó Chủ tịch")  # costs.yaml's leadership_grades
PINGPONG_PROCEDURE = "Thẩm định hồ sơ giao đất, cho thuê đất"


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def generated() -> pm.datasets.Generated:
    return pm.datasets.generate(2000, seed=7, truth=False)


@pytest.fixture(scope="module")
def sample_clusters(generated: pm.datasets.Generated) -> pm.clusters.ProcedureClusters:
    return procedure_clusters(generated.log, generated.catalog)


def _stamp(day: int, hour: int, minute: int = 0) -> str:
    return f"2024-05-{day:02d} {hour:02d}:{minute:02d}"


def hand_set(procedures: Iterable[str] = ("P1", "P2", "P3", "P4", "P5", "P6")) -> tuple:
    """Six procedures of one shape: Tiếp nhận (Văn phòng) → Thẩm định (Tư pháp) → Phê duyệt
    (Văn phòng, by a Phó Chủ tịch), deadline 3 working days. P1–P3 run it straight within a
    day; P4–P6 bounce the dossier back (Trả lại hồ sơ), redo the Thẩm định and take the week.
    Each procedure's approval comes a few minutes later than the previous one's, so no two
    procedures have the same figures. Four cases each, on the Mondays of May 2024 from the
    6th (no holiday in those weeks)."""
    rows = []
    for number, procedure in enumerate(procedures):
        late = number * 10  # minutes
        messy = procedure in {"P4", "P5", "P6"}
        for week, monday in enumerate((6, 13, 20, 27)):
            case = f"{procedure}-{week}"
            if messy:
                steps = [
                    ("Tiếp nhận", VP, _stamp(monday, 8)),
                    ("Thẩm định", TP, _stamp(monday, 14)),
                    ("Trả lại hồ sơ", VP, _stamp(monday + 1, 8)),
                    ("Thẩm định", TP, _stamp(monday + 2, 8)),
                    ("Phê duyệt", VP, _stamp(monday + 4, 14, late)),
                ]
            else:
                steps = [
                    ("Tiếp nhận", VP, _stamp(monday, 8)),
                    ("Thẩm định", TP, _stamp(monday, 9)),
                    ("Phê duyệt", VP, _stamp(monday, 14, late)),
                ]
            rows += [(case, activity, dep, stamp, procedure) for activity, dep, stamp in steps]
    log = pd.DataFrame(rows, columns=[CASE, ACT, DEP, TS, PROC])
    log[TS] = pd.to_datetime(log[TS]).dt.tz_localize("Asia/Ho_Chi_Minh")
    catalog = pd.DataFrame(
        [
            (procedure, step, activity, department, 3.0, grade)
            for procedure in procedures
            for step, (activity, department, grade) in enumerate(
                [
                    ("Tiếp nhận", VP, "Văn thư"),
                    ("Thẩm định", TP, "Chuyên viên"),
                    ("Phê duyệt", VP, "Phó Chủ tịch"),
                ],
                start=1,
            )
        ],
        columns=["procedure", "step", "activity", "department", "deadline_working_days", "grade"],
    )
    return log, catalog


def _groups(found: pm.clusters.ProcedureClusters) -> set[tuple[str, ...]]:
    return set(found.clusters["members"])


# ------------------------------------------------------------------------------ the sample
def test_sample_puts_the_planted_pingpong_procedures_together(
    generated: pm.datasets.Generated, sample_clusters: pm.clusters.ProcedureClusters
):
    planted = {
        row["procedure"] for row in generated.truth["planted"]["opportunities"]["end_pingpong"]
    }
    found = sample_clusters
    assert found.message is None and found.attrs["k_chosen_by"] == "silhouette"
    assert found.attrs["features"] == FEATURES and not found.attrs["unavailable"]
    assert set(found.attrs["silhouette"]) == set(range(2, 9))
    best = max(found.attrs["silhouette"].values())
    assert found.attrs["silhouette"][found.attrs["k"]] == best
    assert len(found.procedures) == 25 and found.procedures["cluster"].notna().all()
    # The cluster of the planted procedures holds them and no other, and ends their ping-pong.
    mine = found.clusters[[planted <= set(members) for members in found.clusters["members"]]]
    assert len(mine) == 1 and set(mine["members"].iloc[0]) == planted
    row = mine.iloc[0]
    assert row["traits"][0] == ("pingpong_share", "high")
    assert row["measures"][0] == "end_pingpong"
    assert "end_pingpong" not in {
        m for ms in found.clusters["measures"].drop(mine.index) for m in ms
    }
    assert "many ping-pong cases" in row["suggestion_en"] and "(end_pingpong)" in row["suggestion"]
    # Profiles are the means of the raw figures over the members.
    members = found.procedures[found.procedures["procedure"].isin(planted)]
    for feature in FEATURES:
        assert row[feature] == pytest.approx(members[feature].mean())
    assert row["cases"] == members["cases"].sum()


def test_the_tables_given_give_the_same_clusters(
    generated: pm.datasets.Generated, sample_clusters: pm.clusters.ProcedureClusters
):
    # The report hands on its per-case deadline table and its ping-pong by case.
    events = pm.event_table(generated.log)
    cases = pm.deadlines.per_case_table(events, generated.catalog)
    pairs = pm.ping_pong(events, generated.catalog, by="case")
    given = {"per_case": cases, "pingpong": pairs}
    alone = case_features(events, generated.catalog)
    found = case_features(events, generated.catalog, **given)
    pd.testing.assert_frame_equal(found, alone)
    assert found.attrs == alone.attrs
    clustered = procedure_clusters(events, generated.catalog, **given)
    pd.testing.assert_frame_equal(clustered.procedures, sample_clusters.procedures)
    pd.testing.assert_frame_equal(clustered.clusters, sample_clusters.clusters)


def test_every_trait_suits_measure_types_that_exist():
    assert {kind for kinds in TRAITS.values() for kind in kinds} <= set(MEASURE_TYPES)
    assert {feature for feature, _ in TRAITS} == set(FEATURES)


def test_leadership_share_is_the_delegation_rules_time_share(generated: pm.datasets.Generated):
    """The planted signature: the leadership share of its procedure is the time share the
    delegate_signing rule reports (the procedure has one leadership step)."""
    found = candidate_measures(generated.log, generated.catalog)
    signing = found[found["measure"] == "delegate_signing"]
    assert len(signing) == 1
    procedure = signing["procedure"].iloc[0]
    steps = leadership_steps(generated.catalog)
    assert steps.loc[steps["procedure"] == procedure, "activity"].tolist() == list(
        signing["activities"].iloc[0]
    )
    table = pm.clusters.procedure_features(
        case_features(generated.log, generated.catalog), generated.catalog
    )
    share = table.set_index("procedure").loc[procedure, "leadership_wait_share"]
    assert share == pytest.approx(signing["evidence"].iloc[0]["time_share"], rel=1e-12)


# ------------------------------------------------------------------------------ independent
def _collapse(departments: Iterable) -> list[str]:
    sequence: list[str] = []
    for department in departments:
        if pd.isna(department):
            continue
        if not sequence or sequence[-1] != department:
            sequence.append(department)
    return sequence


def _bounces(sequence: list[str]) -> Counter:
    return Counter(
        (sequence[j], sequence[j + 1])
        for j in range(len(sequence) - 2)
        if sequence[j] == sequence[j + 2] != sequence[j + 1]
    )


def independent_figures(log: pd.DataFrame, catalog: pd.DataFrame, procedure: str) -> dict:
    """One procedure's figures counted case by case in plain pandas and Python, from the
    definitions (docs/clusters.md); durations on the working clock's readings."""
    calendar = pm.WorkCalendar()
    events = log[log[PROC] == procedure].copy()
    events["wm"] = calendar.working_minutes(events[TS])
    path = catalog[catalog["procedure"] == procedure].sort_values("step")
    deadline = float(path["deadline_working_days"].iloc[0])
    leaders = set(path.loc[path["grade"].isin(LEADERS), "activity"])
    prescribed = _bounces(_collapse(path["department"]))
    rows = []
    for _, case in events.groupby(CASE, sort=False):
        case = case.sort_values(TS, kind="stable")
        activities, wm = case[ACT].tolist(), case["wm"].to_numpy()
        sojourns = np.diff(wm)
        last = activities[-1]
        completed = (
            last == path["activity"].iloc[-1] or vocabulary.matches([last], vocabulary.CLOSINGS)[0]
        )
        bounces = _bounces(_collapse(case[DEP]))
        rows.append(
            {
                "completed": completed,
                "pingpong": any(n > prescribed[pair] for pair, n in bounces.items()),
                "rework": len(set(activities)) < len(activities),
                "days": (wm[-1] - wm[0]) / calendar.minutes_per_day,
                "on_time": wm[-1] <= wm[0] + deadline * calendar.minutes_per_day + 1e-6,
                "steps": len(activities),
                "departments": case[DEP].dropna().nunique(),
                "minutes": sojourns.sum(),
                "leadership": sum(
                    s for s, a in zip(sojourns, activities[1:], strict=True) if a in leaders
                ),
            }
        )
    cases = pd.DataFrame(rows)
    done = cases[cases["completed"]]
    return {
        "cases": len(cases),
        "completed_cases": len(done),
        "pingpong_share": cases["pingpong"].mean(),
        "rework_share": cases["rework"].mean(),
        "on_time_rate": done["on_time"].mean(),
        "median_working_days": done["days"].median(),
        "steps_per_case": done["steps"].mean(),
        "departments_per_case": done["departments"].mean(),
        "leadership_wait_share": cases["leadership"].sum() / cases["minutes"].sum(),
    }


def test_one_procedures_figures_against_a_plain_count(
    generated: pm.datasets.Generated, sample_clusters: pm.clusters.ProcedureClusters
):
    expected = independent_figures(generated.log, generated.catalog, PINGPONG_PROCEDURE)
    row = sample_clusters.procedures.set_index("procedure").loc[PINGPONG_PROCEDURE]
    for figure, value in expected.items():
        assert row[figure] == pytest.approx(value, rel=1e-9), figure
    assert 0.2 < row["pingpong_share"] < 0.5  # the planted ping-pong is there to be counted
    assert row["rework_share"] > 0 and row["leadership_wait_share"] > 0


def steps_log() -> tuple[pd.DataFrame, pd.DataFrame]:
    """One case with a start event and a side copy, neither of them a step."""
    log = pd.DataFrame(
        [
            ("c", "Nhận", VP, "2024-05-06 08:00", "complete", False),
            ("c", "Xét", TP, "2024-05-06 09:00", "start", False),
            ("c", "Xét", TP, "2024-05-06 10:00", "complete", False),
            ("c", "Sao gửi", "Phòng Tài chính", "2024-05-06 10:30", "complete", True),
            ("c", "Duyệt", VP, "2024-05-06 11:00", "complete", False),
        ],
        columns=[CASE, ACT, DEP, TS, "lifecycle:transition", engines.SIDE_COPY],
    )
    log[TS] = pd.to_datetime(log[TS]).dt.tz_localize("Asia/Ho_Chi_Minh")
    catalog = pd.DataFrame(
        {
            "procedure": "P",
            "step": [1, 2, 3],
            "activity": ["Nhận", "Xét", "Duyệt"],
            "department": [VP, TP, VP],
            "deadline_working_days": 1.0,
            "grade": ["Văn thư", "Chuyên viên", "Chủ tịch"],
        }
    )
    return log, catalog


def test_case_figures_read_steps_not_starts_or_side_copies():
    """A start event and a side copy are no steps: the sojourn of Xét runs from Nhận, of Duyệt
    from Xét's complete; the side copy's department takes no part."""
    log, catalog = steps_log()
    row = case_features(log, catalog).iloc[0]
    assert (row["steps"], row["departments"], bool(row["rework"])) == (3, 2, False)
    assert (row["step_minutes"], row["leadership_minutes"]) == (180.0, 60.0)
    assert row["on_time"] and not row["open"] and not row["pingpong"]
    # The same step time as the delegation rule reads.
    stats = facts(log, catalog).activities.set_index("activity")["total_sojourn"]
    assert stats["Duyệt"] == row["leadership_minutes"] and stats.sum() == row["step_minutes"]


# ------------------------------------------------------------------------------ hand-built
def test_two_obvious_behaviours_are_split_with_k_two():
    log, catalog = hand_set()
    found = procedure_clusters(log, catalog)
    assert found.attrs["k"] == 2 and found.attrs["k_chosen_by"] == "silhouette"
    assert set(found.attrs["silhouette"]) == {2, 3, 4, 5}  # 2 … min(8, n − 1)
    assert _groups(found) == {("P1", "P2", "P3"), ("P4", "P5", "P6")}
    messy = found.clusters[found.clusters["members"] == ("P4", "P5", "P6")].iloc[0]
    assert messy["pingpong_share"] == 1.0 and messy["rework_share"] == 1.0
    assert messy["on_time_rate"] == 0.0 and messy["steps_per_case"] == 5.0
    assert {("pingpong_share", "high"), ("on_time_rate", "low")} <= set(messy["traits"])
    assert {"end_pingpong", "cut_waiting", "merge_steps"} <= set(messy["measures"])
    clean = found.clusters[found.clusters["members"] == ("P1", "P2", "P3")].iloc[0]
    assert "end_pingpong" not in clean["measures"]
    assert clean["suggestion_en"].startswith("Cluster ")
    assert clean["suggestion"].startswith("Nhóm ")
    # Ties in size: the cluster of the first procedure is number 1.
    assert found.procedures.set_index("procedure")["cluster"].to_dict() == {
        "P1": 1, "P2": 1, "P3": 1, "P4": 2, "P5": 2, "P6": 2,
    }  # fmt: skip


def test_without_catalog_or_departments_the_figures_left_are_used():
    log, catalog = hand_set()
    bare = procedure_clusters(log)
    assert set(bare.attrs["unavailable"]) == {"on_time_rate", "leadership_wait_share"}
    assert bare.procedures[["on_time_rate", "leadership_wait_share"]].isna().all().all()
    assert bare.attrs["reference"] == "most frequent sequence"
    assert _groups(bare) == {("P1", "P2", "P3"), ("P4", "P5", "P6")}
    blind = procedure_clusters(log.drop(columns=DEP), catalog)
    assert set(blind.attrs["unavailable"]) == {"pingpong_share", "departments_per_case"}
    assert "pingpong_share" not in blind.attrs["features"]
    assert _groups(blind) == {("P1", "P2", "P3"), ("P4", "P5", "P6")}


def test_a_missing_figure_takes_the_mean_and_says_so():
    log, catalog = hand_set()
    found = procedure_clusters(log, catalog[catalog["procedure"] != "P6"])
    row = found.procedures.set_index("procedure").loc["P6"]
    assert not row["in_catalog"] and np.isnan(row["leadership_wait_share"])
    assert np.isnan(row["on_time_rate"])
    assert found.attrs["imputed"] == {"on_time_rate": ["P6"], "leadership_wait_share": ["P6"]}
    assert found.procedures["cluster"].notna().all() and found.message is None
    # Ping-pong of a procedure the catalog lacks is against its most frequent sequence: P6's
    # cases all bounce alike, so none bounces beyond it.
    assert row["pingpong_share"] == 0.0 and row["rework_share"] == 1.0
    assert found.attrs["reference"].endswith("most frequent sequence for procedures not in it: P6")


def test_k_given():
    log, catalog = hand_set()
    found = procedure_clusters(log, catalog, k=3)
    assert found.attrs["k"] == 3 and found.attrs["k_chosen_by"] == "given"
    assert len(found.clusters) == 3 and found.clusters["procedures"].sum() == 6
    with pytest.raises(ValueError, match="k must be from 2"):
        procedure_clusters(log, catalog, k=6)


def test_the_same_log_gives_the_same_output(
    sample_clusters: pm.clusters.ProcedureClusters, generated: pm.datasets.Generated
):
    again = procedure_clusters(generated.log, generated.catalog)
    pd.testing.assert_frame_equal(again.procedures, sample_clusters.procedures)
    pd.testing.assert_frame_equal(again.clusters, sample_clusters.clusters)
    assert again.attrs == sample_clusters.attrs
    # The same cases in another order are the same log.
    log, catalog = hand_set()
    first = procedure_clusters(log, catalog, seed=3)
    shuffled = procedure_clusters(
        log.sort_values(CASE, ascending=False, kind="stable"), catalog, seed=3
    )
    pd.testing.assert_frame_equal(first.procedures, shuffled.procedures)
    pd.testing.assert_frame_equal(first.clusters, shuffled.clusters)


# ------------------------------------------------------------------------------ no clustering
def test_too_few_procedures_give_a_message_and_no_clusters():
    log, catalog = hand_set(("P1", "P4"))
    found = procedure_clusters(log, catalog)
    assert found.message == (
        "Clustering needs at least 3 procedures; the log has 2 (P1, P4). Their figures are in "
        ".procedures; no cluster was formed."
    )
    assert found.clusters.empty and found.attrs["k"] is None
    assert found.procedures["procedure"].tolist() == ["P1", "P4"]
    assert found.procedures["cluster"].isna().all()
    assert found.procedures.loc[1, "pingpong_share"] == 1.0
    assert "not clustered" in repr(found)


def test_procedures_that_behave_the_same_are_not_grouped():
    log, catalog = hand_set(("P1", "P2", "P3"))
    same = log.assign(**{TS: log[TS] - pd.to_timedelta(
        np.where(log[ACT] == "Phê duyệt", log[PROC].str[1].astype(int) * 10 - 10, 0), unit="min"
    )})  # fmt: skip
    found = procedure_clusters(same, catalog)
    assert found.message == "All procedures have the same figures: there is nothing to group."
    assert found.clusters.empty and found.procedures["cluster"].isna().all()


# ------------------------------------------------------------------------------ engines
def test_the_case_sql_transpiles_for_spark():
    assert "LAG(wm) OVER (PARTITION BY case_no ORDER BY idx" in engines.to_spark_sql(CASE_STEPS_SQL)


@pytest.mark.slow
def test_spark_gives_the_same_case_figures():
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java: no `java` on PATH")
    session = engines.spark_session("local[2]", **{"spark.sql.shuffle.partitions": "1"})
    try:
        for log, catalog in (hand_set(), steps_log()):
            on_spark = case_features(log, catalog, engine=session)
            expected = case_features(log, catalog)
            pd.testing.assert_frame_equal(on_spark, expected, check_dtype=False)
    finally:
        session.stop()
