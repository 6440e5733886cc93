"""Compliance cost (procmine.cost): the figure against hand computations and an independent pandas
computation on the sample, the settings file and its errors, and the Spark path.

The hand-made log (docs/cost.md, Worked example): with the base salary at 1,760,000 VND and 176
hours a month an hour costs 10,000 VND per point of coefficient + allowance, so every figure below
is a short sum written out beside its assertion."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import procmine as pm
from procmine.cost import (
    MEASURE_TYPES,
    Costs,
    CostsError,
    compliance_cost,
    read_costs,
    seen_steps,
    step_costs,
)

ZONE = "Asia/Ho_Chi_Minh"
DEFAULT_FILE = pm.datasets.sample_path("costs.yaml")


def hand_log() -> pd.DataFrame:
    """P (in the catalog): c1 follows the path; c2 is sent back once ("Trả lại hồ sơ", not in the
    catalog) and appraised again. R (not in the catalog): c3, two events without a lifecycle.
    Receipts from Mon 2024-03-04 08:00 to Tue 2025-03-04 14:00: 365 days 6 hours, one year."""
    rows = [  # case, procedure, activity, department, time, lifecycle
        ("c1", "P", "Nhận", "VP", "2024-03-04 08:00", "complete"),
        ("c1", "P", "Thẩm định", "TP", "2024-03-04 09:00", "start"),
        ("c1", "P", "Thẩm định", "TP", "2024-03-04 10:00", "complete"),  # 60 working minutes
        ("c1", "P", "Ký", "VP", "2024-03-05 08:00", "complete"),
        ("c2", "P", "Nhận", "VP", "2024-09-10 08:00", "complete"),
        ("c2", "P", "Thẩm định", "TP", "2024-09-10 09:00", "start"),
        ("c2", "P", "Thẩm định", "TP", "2024-09-10 10:30", "complete"),  # 90 working minutes
        ("c2", "P", "Trả lại hồ sơ", "VP", "2024-09-10 13:00", "complete"),
        ("c2", "P", "Thẩm định", "TP", "2024-09-11 08:00", "start"),
        ("c2", "P", "Thẩm định", "TP", "2024-09-11 08:40", "complete"),  # 40 working minutes
        ("c2", "P", "Ký", "VP", "2024-09-11 10:00", "complete"),
        ("c3", "R", "Tiếp nhận", "VP", "2025-03-04 14:00", None),
        ("c3", "R", "Xử lý", "TP", "2025-03-04 15:00", None),
    ]
    log = pd.DataFrame(
        rows,
        columns=[
            "case:concept:name", "case:procedure", "concept:name", "org:group", "time:timestamp",
            "lifecycle:transition",
        ],
    )  # fmt: skip
    log["time:timestamp"] = pd.to_datetime(log["time:timestamp"]).dt.tz_localize(ZONE)
    return log


def hand_catalog() -> pd.DataFrame:
    """P: Nhận 15 min (Văn thư), Thẩm định without standard minutes (Chuyên viên chính), Ký 20
    min (Chủ tịch). Q (no cases): Nhận 15 min (Văn thư), Duyệt 10 min without a grade."""
    return pd.DataFrame(
        {
            "procedure": ["P", "P", "P", "Q", "Q"],
            "step": [1, 2, 3, 1, 2],
            "activity": ["Nhận", "Thẩm định", "Ký", "Nhận", "Duyệt"],
            "department": ["VP", "TP", "VP", "VP", "VP"],
            "deadline_working_days": [5.0, 5.0, 5.0, 3.0, 3.0],
            "standard_minutes": [15.0, np.nan, 20.0, 15.0, 10.0],
            "grade": ["Văn thư", "Chuyên viên chính", "Chủ tịch", "Văn thư", None],
        }
    )


@pytest.fixture(scope="module")
def round_costs() -> Costs:
    # 1,760,000 ÷ 176 = 10,000 VND an hour per point: Văn thư 2.10 → 21,000; Chuyên viên 2.34 →
    # 23,400; Chuyên viên chính 4.40 → 44,000; Chủ tịch 4.40 + 0.70 → 51,000.
    return read_costs().replace(base_salary_vnd_per_month=1_760_000)


# Per occurrence (minutes ÷ 60 × VND an hour):
NHAN = 15 / 60 * 21_000  # 5,250 (catalog minutes, Văn thư)
THAM_DINH = 60 / 60 * 44_000  # 44,000 (median of the pairs 60, 90, 40 = 60; Chuyên viên chính)
KY = 20 / 60 * 51_000  # 17,000 (Chủ tịch)
DEFAULT_STEP = 30 / 60 * 23_400  # 11,700: 30 min by default, Chuyên viên by default
DUYET = 10 / 60 * 23_400  # 3,900: Q's step without a grade


# ------------------------------------------------------------------- hand computations
def test_cost_of_a_procedure_equals_the_hand_computation(round_costs: Costs) -> None:
    found = compliance_cost(hand_log(), hand_catalog(), round_costs).set_index("procedure")
    p = found.loc["P"]
    assert p["cases"] == 2
    assert p["prescribed_minutes"] == 15 + 60 + 20
    assert p["prescribed_cost"] == pytest.approx(NHAN + THAM_DINH + KY)  # 66,250
    # c1 = 66,250 (95 min); c2 = Nhận + 2 × Thẩm định + Trả lại + Ký = 121,950 (185 min).
    c1, c2 = NHAN + THAM_DINH + KY, NHAN + 2 * THAM_DINH + DEFAULT_STEP + KY
    assert c2 == pytest.approx(121_950)
    assert p["observed_minutes"] == pytest.approx((95 + 185) / 2)  # 140
    assert p["observed_cost"] == pytest.approx((c1 + c2) / 2)  # 94,100
    assert p["runs_per_year"] == pytest.approx(2.0)  # 2 cases over one year
    assert p["prescribed_yearly"] == pytest.approx(2 * 66_250)
    assert p["observed_yearly"] == pytest.approx(2 * 94_100)
    assert p["extra_share"] == pytest.approx(94_100 / 66_250 - 1)
    assert bool(p["in_catalog"])
    assert found.attrs["years"] == pytest.approx(1.0)


def test_a_repeated_step_costs_again_and_a_step_not_in_the_catalog_costs_the_default(
    round_costs: Costs,
) -> None:
    cases = compliance_cost(hand_log(), hand_catalog(), round_costs, by="case")
    by_case = cases.set_index("case_id")
    assert by_case.loc["c1", "events"] == 3  # the start event costs nothing: its complete does
    assert by_case.loc["c2", "events"] == 5
    assert by_case.loc["c2", "observed_cost"] == pytest.approx(121_950)
    assert by_case.loc["c3", "observed_cost"] == pytest.approx(2 * DEFAULT_STEP)  # 23,400
    steps = step_costs(hand_log(), hand_catalog(), round_costs).set_index(["procedure", "activity"])
    returned = steps.loc[("P", "Trả lại hồ sơ")]
    assert pd.isna(returned["step"])
    assert (returned["minutes"], returned["minutes_source"]) == (30.0, "default")
    assert (returned["grade"], returned["grade_source"]) == ("Chuyên viên", "default")
    appraisal = steps.loc[("P", "Thẩm định")]
    assert (appraisal["minutes"], appraisal["minutes_source"]) == (60.0, "log")
    assert appraisal["cost"] == pytest.approx(THAM_DINH)
    defaults = " ".join(cases.attrs["defaults"])
    assert "P: Trả lại hồ sơ" in defaults and "default_step_minutes" in defaults
    assert "P: Thẩm định (60.0 min)" in defaults  # timed from the pairs, and said so


def test_the_step_minutes_setting_comes_before_the_default(round_costs: Costs) -> None:
    costs = round_costs.replace(step_minutes={"Trả lại hồ sơ": 6})
    steps = step_costs(hand_log(), hand_catalog(), costs).set_index(["procedure", "activity"])
    assert steps.loc[("P", "Trả lại hồ sơ"), "minutes"] == 6.0
    assert steps.loc[("R", "Xử lý"), "minutes"] == 30.0


def test_runs_a_year_and_direct_costs_as_configured(round_costs: Costs) -> None:
    costs = round_costs.replace(runs_per_year={"P": 100}, direct_costs={"P": 10_000})
    p = compliance_cost(hand_log(), hand_catalog(), costs).set_index("procedure").loc["P"]
    assert p["runs_per_year"] == 100
    assert p["prescribed_cost"] == pytest.approx(66_250 + 10_000)
    assert p["observed_cost"] == pytest.approx(94_100 + 10_000)
    assert p["observed_yearly"] == pytest.approx(100 * 104_100)
    cases = compliance_cost(hand_log(), hand_catalog(), costs, by="case").set_index("case_id")
    assert cases.loc["c2", "observed_cost"] == pytest.approx(121_950 + 10_000)


def test_runs_a_year_share_one_span(round_costs: Costs) -> None:
    # Drop c3 (the last receipt): the span is then c1 → c2, 2024-03-04 08:00 → 2024-09-10 08:00.
    log = hand_log().query("`case:concept:name` != 'c3'")
    found = compliance_cost(log, hand_catalog(), round_costs).set_index("procedure")
    years = (pd.Timestamp("2024-09-10") - pd.Timestamp("2024-03-04")).days / 365.25
    assert found.attrs["years"] == pytest.approx(years)
    assert found.loc["P", "runs_per_year"] == pytest.approx(2 / years)


def test_the_universe_is_the_catalog(round_costs: Costs) -> None:
    found = compliance_cost(hand_log(), hand_catalog(), round_costs).set_index("procedure")
    assert found["in_catalog"].to_dict() == {"P": True, "Q": True, "R": False}
    r = found.loc["R"]  # a log procedure the catalog lacks: listed, no prescribed path
    assert pd.isna(r["prescribed_cost"]) and pd.isna(r["prescribed_yearly"])
    assert r["observed_cost"] == pytest.approx(23_400)
    assert r["observed_yearly"] == pytest.approx(23_400)  # 1 case over one year
    q = found.loc["Q"]  # a catalog procedure without cases: one run of its path, 0 a year
    assert q["cases"] == 0 and q["runs_per_year"] == 0
    assert q["prescribed_cost"] == pytest.approx(NHAN + DUYET)  # 9,150
    assert q["observed_cost"] == pytest.approx(NHAN + DUYET) and q["observed_yearly"] == 0
    defaults = " ".join(found.attrs["defaults"])
    assert "not in the catalog" in defaults and "R" in defaults
    assert "without cases" in defaults and "Q: Duyệt" in defaults  # Q's step without a grade


def test_a_catalog_without_standard_minutes_or_grade_gives_costs_and_names_the_defaults() -> None:
    log, catalog = pm.datasets.example_log(), pm.datasets.example_catalog()
    assert "standard_minutes" not in catalog and "grade" not in catalog
    found = compliance_cost(log, catalog)
    # Every step 30 min at Chuyên viên: 2,340,000 × 2.34 ÷ 176 ÷ 2 per step; 3 steps a run;
    # HS1, HS2, HS3 have 3, 5 and 4 events.
    per_step = 2_340_000 * 2.34 / 176 / 2
    assert found["prescribed_cost"].item() == pytest.approx(3 * per_step)
    assert found["observed_cost"].item() == pytest.approx((3 + 5 + 4) / 3 * per_step)
    steps = found.attrs["step_costs"]
    assert set(steps["minutes_source"]) == {"default"} and set(steps["grade_source"]) == {"default"}
    defaults = found.attrs["defaults"]
    assert any("default working time (30 min" in note for note in defaults)
    assert any("default grade Chuyên viên" in note for note in defaults)


def test_a_log_without_procedure_takes_the_one_procedure_of_the_catalog() -> None:
    log = pm.datasets.example_log()
    expected = compliance_cost(log, pm.datasets.example_catalog())
    found = compliance_cost(log.drop(columns="case:procedure"), pm.datasets.example_catalog())
    pd.testing.assert_frame_equal(found, expected)


def test_the_events_table_gives_what_the_log_gives(round_costs: Costs) -> None:
    for by in ("procedure", "step", "case", "department"):
        expected = compliance_cost(hand_log(), hand_catalog(), round_costs, by=by)
        found = compliance_cost(pm.event_table(hand_log()), hand_catalog(), round_costs, by=by)
        pd.testing.assert_frame_equal(found, expected)


# ------------------------------------------------------------------- the views add up
def _views(log: pd.DataFrame, catalog: pd.DataFrame, costs: Costs) -> dict[str, pd.DataFrame]:
    return {by: compliance_cost(log, catalog, costs, by=by) for by in _BY}


_BY = ("procedure", "step", "case", "department")


def _assert_views_agree(views: dict[str, pd.DataFrame], costs: Costs) -> None:
    """Steps add up to their procedure less its direct costs × runs; cases average to it;
    departments add up to the procedures with cases less their direct costs."""
    procedures = views["procedure"].set_index("procedure")
    direct = procedures.index.to_series().map(costs.direct_costs).astype("float64").fillna(0.0)
    direct_yearly = direct * procedures["runs_per_year"]
    steps = views["step"].groupby("procedure")["observed_yearly"].sum()
    pd.testing.assert_series_equal(
        steps.sort_index(),
        (procedures["observed_yearly"] - direct_yearly).sort_index(),
        check_names=False,
        check_index_type=False,
    )
    cases = views["case"].groupby("procedure")["observed_cost"].mean()
    with_cases = procedures[procedures["cases"] > 0]
    pd.testing.assert_series_equal(
        cases.sort_index(), with_cases["observed_cost"].sort_index(), check_names=False,
        check_index_type=False,
    )  # fmt: skip
    departments = views["department"]
    assert departments["observed_yearly"].sum() == pytest.approx(
        (with_cases["observed_yearly"] - direct_yearly[with_cases.index]).sum()
    )
    assert departments["share"].sum() == pytest.approx(1.0)
    minutes = (with_cases["observed_minutes"] * with_cases["cases"]).sum()
    assert departments["observed_minutes"].sum() == pytest.approx(minutes)


def test_by_step_case_and_department_add_up_to_by_procedure(round_costs: Costs) -> None:
    views = _views(hand_log(), hand_catalog(), round_costs)
    _assert_views_agree(views, round_costs)
    configured = round_costs.replace(runs_per_year={"P": 100}, direct_costs={"P": 10_000})
    _assert_views_agree(_views(hand_log(), hand_catalog(), configured), configured)
    # Departments by hand: VP does Nhận, Ký (c1); Nhận, Trả lại, Ký (c2); Tiếp nhận (c3).
    departments = views["department"].set_index("department")["observed_yearly"]
    assert departments["VP"] == pytest.approx(2 * NHAN + 2 * KY + 2 * DEFAULT_STEP)  # 67,900
    assert departments["TP"] == pytest.approx(3 * THAM_DINH + DEFAULT_STEP)  # 143,700
    steps = views["step"].set_index(["procedure", "activity"])
    assert steps.loc[("P", "Thẩm định"), "occurrences_per_case"] == 1.5
    assert steps.loc[("P", "Thẩm định"), "prescribed_runs"] == 1
    assert steps.loc[("P", "Trả lại hồ sơ"), "prescribed_runs"] == 0


# ------------------------------------------------------------------- the sample
@pytest.fixture(scope="module")
def sample() -> tuple[pd.DataFrame, pd.DataFrame]:
    return pm.event_table(pm.datasets.load_sample()), pm.datasets.load_sample_catalog()


def _independent_observed_yearly(
    log: pd.DataFrame, catalog: pd.DataFrame, costs: Costs
) -> pd.Series:
    """The observed yearly cost per procedure, computed without procmine's SQL: each event's
    step from the catalog (else 30 min at Chuyên viên), mean per case × cases ÷ years."""
    steps = catalog.drop_duplicates(["procedure", "activity"])
    hourly = {name: costs.hourly_cost(name) for name in costs.grades}
    steps = steps.assign(cost=steps["standard_minutes"] / 60 * steps["grade"].map(hourly))
    cost = log.merge(
        steps[["procedure", "activity", "cost"]],
        left_on=["case:procedure", "concept:name"],
        right_on=["procedure", "activity"],
        how="left",
    )["cost"].fillna(30 / 60 * hourly["Chuyên viên"])
    per_case = cost.groupby([log["case:procedure"], log["case:concept:name"]]).sum()
    received = log.groupby("case:concept:name")["time:timestamp"].min()
    years = (received.max() - received.min()).total_seconds() / (365.25 * 86400)
    by_procedure = per_case.groupby(level=0)
    return (by_procedure.mean() * by_procedure.size() / years).astype("float64")


def test_the_sample_costs_its_25_procedures(sample: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    events, catalog = sample
    found = compliance_cost(events, catalog)
    assert len(found) == 25 and found["in_catalog"].all()
    assert (found["cases"] > 0).all()
    for column in ("prescribed_cost", "observed_cost", "prescribed_yearly", "observed_yearly"):
        assert (found[column] > 0).all(), column
    expected = _independent_observed_yearly(pm.datasets.load_sample(), catalog, read_costs())
    pd.testing.assert_series_equal(
        found.set_index("procedure")["observed_yearly"].sort_index(),
        expected.sort_index(),
        check_names=False,
        check_index_type=False,
        rtol=1e-9,
    )
    # Every catalog step of the sample has standard minutes and a grade.
    steps = found.attrs["step_costs"]
    assert (steps.loc[steps["step"].notna(), "minutes_source"] == "catalog").all()


def test_the_sample_views_add_up(sample: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    events, catalog = sample
    _assert_views_agree(_views(events, catalog, read_costs()), read_costs())


def test_results_can_be_filtered_copied_and_concatenated(round_costs: Costs) -> None:
    first = compliance_cost(hand_log(), hand_catalog(), round_costs)
    second = compliance_cost(hand_log(), hand_catalog(), round_costs)
    both = pd.concat([first[first["cases"] > 0], second])  # attrs carry the step costs table
    assert len(both) == 5 and both.attrs["years"] == pytest.approx(1.0)
    assert isinstance(copy.deepcopy(first).attrs["step_costs"], pd.DataFrame)
    assert pickle.loads(pickle.dumps(first)).attrs["step_costs"] == first.attrs["step_costs"]


# ------------------------------------------------------------------- the settings
def test_the_default_file_gives_every_number_a_source() -> None:
    data = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))

    def unsourced(value: Any, key: str, sourced: bool) -> list[str]:
        if isinstance(value, dict):
            here = sourced or "source" in value
            found = [unsourced(item, f"{key}.{name}", here) for name, item in value.items()]
            return [bad for keys in found for bad in keys]
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        return [key] if is_number and not sourced else []

    assert unsourced(data, "costs", False) == []
    costs = read_costs()
    assert costs.sources["base_salary_vnd_per_month"].startswith("Decree 73/2024/NĐ-CP")
    assert set(costs.grades) >= {
        "Văn thư", "Chuyên viên", "Chuyên viên chính", "Trưởng phòng", "Phó Chủ tịch", "Chủ tịch",
    }  # fmt: skip
    assert set(costs.measures) == set(MEASURE_TYPES)
    assert costs.targets == {"simplified_share": 0.2, "cost_cut": 0.2, "reviewed_share": 0.5}
    assert costs.leadership_grades == ("Chủ tịch", "Phó Chủ tịch")
    assert costs.delegate_to_grade == "Trưởng phòng"


def test_hourly_cost_is_base_times_points_over_hours() -> None:
    costs = read_costs()
    assert costs.hourly_cost("Phó Chủ tịch") == pytest.approx(2_340_000 * (4.40 + 0.60) / 176)
    assert costs.hourly_cost("chuyên viên") == costs.hourly_cost("Chuyên viên")  # case-folded
    assert costs.hourly_cost(None) == costs.hourly_cost("Chuyên viên")  # the default grade


def test_costs_is_an_immutable_value() -> None:
    costs = read_costs()
    with pytest.raises(AttributeError):
        costs.default_grade = "Văn thư"  # type: ignore[misc]
    assert costs == read_costs() and hash(costs) == hash(read_costs())
    assert copy.deepcopy(costs) == costs and pickle.loads(pickle.dumps(costs)) == costs
    measure = costs.measure("merge_steps")
    measure["smaller_share"] = 0.9  # a copy: the settings do not change
    assert costs.measure("merge_steps")["smaller_share"] == 0.5
    with pytest.raises(CostsError, match="cost_cut"):
        costs.replace(targets={"simplified_share": 0.2, "cost_cut": 1.5, "reviewed_share": 0.5})
    with pytest.raises(CostsError, match="no setting"):
        costs.replace(salary=1)
    with pytest.raises(CostsError, match="measures has no type 'reorganise'"):
        costs.measure("reorganise")


def _edited(change) -> dict[str, Any]:
    data = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))
    change(data)
    return data


INVALID = {
    "missing key": (lambda d: d.pop("targets"), "targets"),
    "unknown key": (lambda d: d.update(salary=1), "salary"),
    "negative coefficient": (
        lambda d: d["grades"]["Chuyên viên"].update(coefficient=-2.34),
        "grades.Chuyên viên.coefficient",
    ),
    "negative allowance": (
        lambda d: d["grades"]["Chủ tịch"].update(allowance=-0.7),
        "grades.Chủ tịch.allowance",
    ),
    "coefficient not a number": (
        lambda d: d["grades"]["Văn thư"].update(coefficient="2,10"),
        "grades.Văn thư.coefficient",
    ),
    "grade without coefficient": (
        lambda d: d["grades"]["Văn thư"].pop("coefficient"),
        "grades.Văn thư",
    ),
    "target above 1": (lambda d: d["targets"].update(cost_cut=20), "targets.cost_cut"),
    "target below 0": (
        lambda d: d["targets"].update(reviewed_share=-0.5),
        "targets.reviewed_share",
    ),
    "missing target": (lambda d: d["targets"].pop("simplified_share"), "simplified_share"),
    "unknown measure type": (
        lambda d: d["measures"].update(reorganise={"effort_person_days": 1, "risk": "low"}),
        "reorganise",
    ),
    "missing measure type": (lambda d: d["measures"].pop("parallel"), "parallel"),
    "unknown risk": (
        lambda d: d["measures"]["parallel"].update(risk="severe"),
        "measures.parallel.risk",
    ),
    "missing threshold": (
        lambda d: d["measures"]["cut_waiting"].pop("min_ratio"),
        "measures.cut_waiting",
    ),
    "share above 1": (
        lambda d: d["measures"]["remove_check"].update(max_return_share=5),
        "measures.remove_check.max_return_share",
    ),
    "negative effort": (
        lambda d: d["measures"]["merge_steps"].update(effort_person_days=-1),
        "measures.merge_steps.effort_person_days",
    ),
    "zero base salary": (
        lambda d: d["base_salary_vnd_per_month"].update(value=0),
        "base_salary_vnd_per_month",
    ),
    "negative hours": (
        lambda d: d.update(working_hours_per_month=-176),
        "working_hours_per_month",
    ),
    "default grade not a grade": (
        lambda d: d["default_grade"].update(value="Cán sự"),
        "default_grade",
    ),
    "delegate grade not a grade": (lambda d: d.update(delegate_to_grade="Phó phòng"), "delegate"),
    "leadership grade not a grade": (
        lambda d: d.update(leadership_grades=["Bí thư"]),
        "leadership_grades",
    ),
    "negative direct cost": (lambda d: d.update(direct_costs={"P": -5}), "direct_costs.P"),
    "negative runs": (lambda d: d.update(runs_per_year={"P": -1}), "runs_per_year.P"),
    "step minutes not a number": (
        lambda d: d.update(step_minutes={"Trả lại hồ sơ": "ten"}),
        "step_minutes.Trả lại hồ sơ",
    ),
    "check names not a list": (lambda d: d.update(check_activities={"a": 1}), "check_activities"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_an_invalid_costs_file_names_the_key_and_the_file(case: str, tmp_path: Path) -> None:
    change, key = INVALID[case]
    path = tmp_path / "costs.yaml"
    path.write_text(yaml.safe_dump(_edited(change), allow_unicode=True), encoding="utf-8")
    with pytest.raises(CostsError) as raised:
        read_costs(path)
    assert str(path) in str(raised.value)
    assert key in str(raised.value)


def test_a_file_that_is_not_yaml_or_not_a_mapping_is_named(tmp_path: Path) -> None:
    path = tmp_path / "costs.yaml"
    path.write_text("grades: [unclosed\n", encoding="utf-8")
    with pytest.raises(CostsError, match="not valid YAML"):
        read_costs(path)
    path.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(CostsError, match=str(path).replace("\\", "\\\\")):
        read_costs(path)


def test_a_grade_the_catalog_uses_and_the_costs_lack_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "costs.yaml"
    path.write_text(
        yaml.safe_dump(_edited(lambda d: d["grades"].pop("Chuyên viên chính")), allow_unicode=True),
        encoding="utf-8",
    )
    costs = read_costs(path)
    with pytest.raises(CostsError) as raised:
        compliance_cost(hand_log(), hand_catalog(), costs)
    message = str(raised.value)
    assert str(path) in message and "grades" in message and "'Chuyên viên chính' (P)" in message


def test_by_must_be_one_of_the_views() -> None:
    with pytest.raises(ValueError, match="by must be one of"):
        compliance_cost(hand_log(), hand_catalog(), by="official")  # type: ignore[arg-type]


def test_step_costs_of_the_steps_seen_equal_step_costs_of_the_log():
    # A replay prices one log under several catalogs: the steps done are read once.
    log, catalog = pm.datasets.example_log(), pm.datasets.example_catalog()
    seen = seen_steps(log, catalog)
    assert seen["occurrences"].sum() == 12
    cheaper = catalog.assign(standard_minutes=10.0)
    for each in (catalog, cheaper):
        pd.testing.assert_frame_equal(step_costs(None, each, seen=seen), step_costs(log, each))
