"""Delay drivers (issue 19, item 1): what makes a completed dossier late, learnt from its cases.

The acceptance: a driver planted in a generated log (the cases that bounce between one pair of
departments are late far more often) ranks first, and a random feature added on purpose ranks
near zero; too few cases give a message and no model; the same log gives the same result; the
test set is the last months of arrivals. The features are checked against plain per-case loops.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import procmine as pm
from procmine import drivers
from procmine.datasets import PINGPONG_PAIRS

PAIR = PINGPONG_PAIRS[1]  # (Phòng Quản lý đô thị, Phòng Tài chính - Kế hoạch)


def _delayed(log: pd.DataFrame, cases: set[str], days: int) -> pd.DataFrame:
    """The log with the last event of each of ``cases`` moved ``days`` calendar days later."""
    log = log.copy()
    last = ~log["case:concept:name"].duplicated(keep="last")
    moved = last & log["case:concept:name"].isin(cases)
    log.loc[moved, "time:timestamp"] += pd.Timedelta(days=days)
    return log


@pytest.fixture(scope="module")
def planted():
    """A generated log in which 80 % of the cases that bounce between the two departments of
    PAIR are a month late (the others late as the generator makes them, ~15 %), a random
    per-case feature, and the drivers found with it."""
    generated = pm.datasets.generate(3000, seed=11, truth=False)
    catalog = generated.catalog
    pairs = pm.ping_pong(generated.log, catalog, by="case")
    on_pair = (pairs["department_a"] == PAIR[0]) & (pairs["department_b"] == PAIR[1])
    bouncing = np.array(sorted(pairs.loc[on_pair & (pairs["bounces"] > 0), "case_id"]))
    chosen = bouncing[np.random.default_rng(0).random(len(bouncing)) < 0.8]
    log = _delayed(generated.log, set(chosen), days=30)
    ids = pd.Index(sorted(log["case:concept:name"].unique()))
    noise = pd.DataFrame({"noise": np.random.default_rng(1).random(len(ids))}, index=ids)
    features = drivers.delay_features(log, catalog, extra_features=noise)
    found = drivers.fit_delay_drivers(features)
    return {"log": log, "catalog": catalog, "bouncing": set(bouncing), "noise": noise,
            "features": features, "found": found}  # fmt: skip


def test_the_planted_pair_ranks_first(planted):
    found = planted["found"]
    assert found.attrs["clears"] and found.attrs["score"] > 0.6
    top = found.iloc[0]
    assert top["driver"] == f"bounces between {PAIR[0]} and {PAIR[1]}"
    assert top["low"] > 0 and top["importance"] > 2 * found.iloc[1]["importance"]
    # What the driver is, for a program (the candidates' evidence), row by row.
    assert found.attrs["drivers"][0] == {
        "key": "pair", "subject": f"{PAIR[0]} | {PAIR[1]}", "level": None,
        "columns": [f"bounces: {PAIR[0]} | {PAIR[1]}"],
    }  # fmt: skip
    assert len(found.attrs["drivers"]) == len(found)
    # The plain effect is read from the cases: late rate with and without the bounce.
    late = planted["features"].set_index("case_id")["late"]
    having = late.index.isin(list(planted["bouncing"]))
    assert top["cases_with"] == having.sum()
    assert top["rate_with"] == pytest.approx(late[having].mean())
    assert top["rate_without"] == pytest.approx(late[~having].mean())
    assert top["ratio"] == pytest.approx(top["rate_with"] / top["rate_without"])
    assert top["rate_with"] > 0.75 and top["ratio"] > 4
    assert top["text"].startswith(f"cases that bounce between {PAIR[0]} and {PAIR[1]}: ")
    assert top["text"].endswith(f"late vs {round(100 * top['rate_without'])}%, "
                                f"{top['ratio']:.1f}×")  # fmt: skip


def test_a_random_feature_ranks_near_zero(planted):
    found = planted["found"]
    noise = found[found["driver"] == "noise"]
    assert len(noise) == 1
    row = noise.iloc[0]
    assert abs(row["importance"]) < 0.2 * found.iloc[0]["importance"]
    assert row["high"] < found.iloc[0]["low"]
    assert noise.index[0] >= 10  # far from the top of the ranking
    assert row["text"].startswith("cases whose noise is more than 0.5")


def test_the_test_set_is_the_last_months_of_arrivals(planted):
    found, features = planted["found"], planted["features"]
    split = found.attrs["split"]
    received = features["received"].dt.tz_localize(None)
    assert split["test_to"] == received.max().date().isoformat() == "2025-06-30"
    assert split["test_from"] == "2025-04-01"  # the last three calendar months
    assert split["train_to"] < split["test_from"] <= split["test_to"]
    assert split["train_from"] == received.min().date().isoformat()
    in_test = received >= pd.Timestamp(split["test_from"])
    assert found.attrs["n_test"] == in_test.sum()
    assert found.attrs["n_train"] == (~in_test).sum()
    assert received[~in_test].max() < received[in_test].min()
    assert found.attrs["late_test"] == features.loc[in_test.to_numpy(), "late"].sum()


def test_the_result_says_what_it_did(planted):
    attrs = planted["found"].attrs
    assert attrs["target"] == "late" and attrs["metric"] == "roc_auc"
    assert attrs["baseline"] == 0.5 and attrs["interval"][0] > 0.5
    assert attrs["interval"][0] <= attrs["score"] <= attrs["interval"][1]
    assert not attrs["sampled"]
    assert attrs["importance_cases"] == attrs["n_test"]
    parameters = attrs["parameters"]
    assert parameters["model"] == "HistGradientBoostingClassifier"
    assert parameters["random_state"] == 0 and parameters["n_repeats"] == 10
    assert parameters["n_bootstrap"] == 200 and parameters["n_iter"] >= 1
    assert attrs["message"].startswith("Held-out ROC AUC ")
    assert "trained on 2," in attrs["message"]
    assert list(planted["found"].columns) == list(drivers.DRIVER_COLUMNS)


def test_the_same_log_gives_the_same_result():
    generated = pm.datasets.generate(1200, seed=4, truth=False)
    runs = [
        drivers.delay_drivers(generated.log, generated.catalog, n_repeats=3, n_bootstrap=30)
        for _ in range(2)
    ]
    pd.testing.assert_frame_equal(runs[0], runs[1])
    assert runs[0].attrs == runs[1].attrs
    assert len(runs[0]) > 10


def test_too_few_cases_give_a_message_and_no_model():
    generated = pm.datasets.generate(150, seed=2, truth=False)
    found = drivers.delay_drivers(generated.log, generated.catalog)
    assert found.empty and list(found.columns) == list(drivers.DRIVER_COLUMNS)
    assert found.attrs["score"] is None and found.attrs["n_cases"] == 150
    assert found.attrs["message"].startswith("Only 150 completed cases with a deadline")
    vi = drivers.delay_drivers(generated.log, generated.catalog, lang="vi")
    assert vi.attrs["message"].startswith("Chỉ có 150 hồ sơ")


def test_too_few_late_cases_give_a_message_and_no_model():
    generated = pm.datasets.generate(600, seed=2, truth=False)
    generous = generated.catalog.assign(deadline_working_days=500)  # no case is late
    found = drivers.delay_drivers(generated.log, generous)
    assert found.empty and found.attrs["score"] is None
    assert found.attrs["late_train"] == 0 and found.attrs["late_test"] == 0
    assert found.attrs["message"].startswith("Too few late cases: 0 in the training set")


def test_a_score_that_does_not_clear_the_baseline_names_no_driver():
    """Late cases drawn at random, whatever the case: the model learns nothing."""
    generated = pm.datasets.generate(1500, seed=8, truth=False)
    generous = generated.catalog.assign(deadline_working_days=400)
    ids = np.array(sorted(generated.log["case:concept:name"].unique()))
    chosen = ids[np.random.default_rng(5).random(len(ids)) < 0.2]
    log = _delayed(generated.log, set(chosen), days=800)
    found = drivers.delay_drivers(log, generous, n_repeats=2, n_bootstrap=100)
    assert found.empty and found.attrs["score"] is not None
    assert found.attrs["interval"][0] <= 0.5 and not found.attrs["clears"]
    assert "does not clear the baseline, so no driver is named" in found.attrs["message"]


def test_the_overrun_is_modelled_in_working_days(planted):
    found = drivers.fit_delay_drivers(planted["features"], target="overrun", n_repeats=3)
    attrs = found.attrs
    assert attrs["metric"] == "mae" and attrs["clears"]
    assert attrs["score"] < attrs["baseline"]
    assert attrs["parameters"]["model"] == "HistGradientBoostingRegressor"
    top = found.iloc[0]
    assert top["driver"] == f"bounces between {PAIR[0]} and {PAIR[1]}"
    assert "working days over the deadline on average" in top["text"]
    overrun = planted["features"].set_index("case_id")["overrun_working_days"]
    having = overrun.index.isin(list(planted["bouncing"]))
    assert top["rate_with"] == pytest.approx(overrun[having].mean())


def test_above_max_cases_the_model_fits_a_seeded_sample(planted):
    found = drivers.fit_delay_drivers(planted["features"], max_cases=2000, n_repeats=2)
    assert found.attrs["sampled"] and found.attrs["n_train"] + found.attrs["n_test"] == 2000
    assert (
        "fitted on a seeded sample (seed 0) of 2,000 of the 3,000 completed cases"
        in (found.attrs["message"])
    )
    again = drivers.fit_delay_drivers(planted["features"], max_cases=2000, n_repeats=2)
    pd.testing.assert_frame_equal(found, again)


def test_the_words_in_vietnamese(planted):
    found = drivers.fit_delay_drivers(planted["features"], lang="vi", n_repeats=2)
    top = found.iloc[0]
    assert top["driver"] == f"chuyển qua lại giữa {PAIR[0]} và {PAIR[1]}"
    assert " trễ hạn so với " in top["text"] and ", gấp " in top["text"]
    assert found.attrs["message"].startswith("ROC AUC trên tập kiểm tra ")


# ------------------------------------------------------------------ the features, by hand
@pytest.fixture(scope="module")
def small():
    generated = pm.datasets.generate(400, seed=3, truth=False)
    events = pm.event_table(generated.log)
    features = drivers.delay_features(events, generated.catalog)
    return {"generated": generated, "events": events, "features": features,
            "judged": pm.on_time(events, generated.catalog).set_index("case_id")}  # fmt: skip


def _runs(events: pd.DataFrame, judged: pd.DataFrame) -> list[tuple[str, str, float, float]]:
    """Each case's runs (case, department, start, end), case by case: a run lasts from its
    first event to the next run's first event, the last one to the case's last event."""
    runs = []
    for case, group in events.groupby("case_id", sort=False):
        entries = group[group["in_sequence"]]
        departments, readings = entries["department"].astype(str).tolist(), entries["wm"].tolist()
        starts = [
            i for i in range(len(departments)) if i == 0 or departments[i] != departments[i - 1]
        ]
        for k, i in enumerate(starts):
            end = readings[starts[k + 1]] if k + 1 < len(starts) else group["wm"].max()
            if bool(judged.loc[case, "open"]) and k + 1 == len(starts):
                end = np.inf
            runs.append((case, departments[i], readings[i], end))
    return runs


def test_workload_counts_the_cases_the_first_department_held(small):
    events, features, judged = small["events"], small["features"], small["judged"]
    runs = pd.DataFrame(_runs(events, judged), columns=["case", "department", "start", "end"])
    first = runs.groupby("case", sort=False).first()
    arrival = events.groupby("case_id")["wm"].min()
    expected = [
        int(((runs["department"] == first.loc[case, "department"]) & (runs["start"] < arrival[case])
             & (runs["end"] > arrival[case])).sum())
        for case in features["case_id"]
    ]  # fmt: skip
    assert features["workload"].tolist() == expected
    assert max(expected) > 3


def test_days_off_are_the_calendar_days_that_are_not_working_days(small):
    features, judged = small["features"].set_index("case_id"), small["judged"]
    calendar = pm.WorkCalendar()
    for case in features.index[:60]:
        start = judged.loc[case, "received"].tz_localize(None).normalize()
        end = judged.loc[case, "due"].tz_localize(None).normalize()
        days = pd.date_range(start + pd.Timedelta(days=1), end, freq="D")
        expected = int((~calendar.is_working_day(days)).sum()) if len(days) else 0
        assert features.loc[case, "days_off"] == expected, case
    assert features["days_off"].max() >= 6  # Tết 2024 or 2025 falls in the log's period


def test_steps_not_in_the_procedure_by_hand(small):
    generated, features = small["generated"], small["features"].set_index("case_id")
    approved = set(zip(generated.catalog["procedure"], generated.catalog["activity"], strict=True))
    explanations = set(pm.vocabulary.EXPLANATIONS)
    log = generated.log
    expected = {
        case: sum((p, a) not in approved and a not in explanations
                  for p, a in zip(group["case:procedure"], group["concept:name"], strict=True))
        for case, group in log.groupby("case:concept:name")
    }  # fmt: skip
    assert features["steps_not_in_procedure"].to_dict() == pytest.approx(
        {case: expected[case] for case in features.index}
    )


def test_handoffs_bounces_and_pairs_sum_the_ping_pong_figures(small):
    generated, features = small["generated"], small["features"].set_index("case_id")
    pairs = pm.ping_pong(small["events"], generated.catalog, by="case")
    sums = pairs.groupby("case_id")[["handoffs", "bounces", "excess_bounces"]].sum()
    sums = sums.reindex(features.index, fill_value=0)
    for name in ("handoffs", "bounces", "excess_bounces"):
        assert features[name].tolist() == sums[name].tolist()
    pair_columns = [c for c in features.columns if c.startswith("bounces: ") and "|" in c]
    assert pair_columns
    for column in pair_columns:
        a, b = column.removeprefix("bounces: ").split(" | ")
        on = pairs[(pairs["department_a"] == a) & (pairs["department_b"] == b)]
        expected = on.groupby("case_id")["bounces"].sum().reindex(features.index, fill_value=0)
        assert features[column].tolist() == expected.tolist()


def test_the_tables_given_give_the_same_features(small):
    # The report hands on its per-case deadline table and its ping-pong by case.
    events, catalog = small["events"], small["generated"].catalog
    cases = pm.deadlines.per_case_table(events, catalog)
    pairs = pm.ping_pong(events, catalog, by="case")
    given = drivers.delay_features(events, catalog, per_case=cases, pingpong=pairs)
    pd.testing.assert_frame_equal(given, small["features"])
    assert given.attrs == small["features"].attrs
    named = pm.deadlines.per_case_table(events, catalog, explanation_activities=["x"])
    with pytest.raises(ValueError, match="another explanation_activities than"):
        drivers.delay_features(events, catalog, per_case=named)


def test_one_hot_groups_and_explanation_steps(small):
    features = small["features"]
    specs = features.attrs[drivers.FEATURES_ATTR]
    kinds = {spec["key"]: spec["kind"] for spec in specs}
    assert kinds["procedure"] == "levels" and kinds["official_at"] == "levels"
    procedure = [c for c in features.columns if c.startswith("procedure = ")]
    assert (features[procedure].sum(axis=1) == 1).all()  # one procedure per case
    # A late case writes its explanation because it is late: no feature reads one.
    for name in pm.vocabulary.EXPLANATIONS:
        assert not any(name in column for column in features.columns)
    official = next(spec for spec in specs if spec["key"] == "official_at")
    for column, label in zip(official["columns"], official["labels"], strict=True):
        assert column == f"official at: {official['subject']} = {label}"
        assert features[column].isin([0.0, 1.0]).all()
        threshold = features.attrs["min_level_cases"]
        assert features[column].sum() >= threshold


def test_without_a_catalog_the_log_s_deadlines_serve(small):
    log = small["generated"].log
    judged = small["judged"]
    deadline = log["case:concept:name"].map(judged["deadline_working_days"])
    features = drivers.delay_features(log.assign(**{"case:deadline": deadline}))
    assert "steps_not_in_procedure" not in features.columns
    assert features.attrs["notes"] == ["No catalog: steps not in the procedure are left out."]
    assert len(features) == len(small["features"])
    nothing = drivers.delay_drivers(log)  # neither a catalog nor a deadline column
    assert nothing.attrs["message"].startswith("Only 0 completed cases with a deadline")


# ------------------------------------------------------------------ the pieces
def test_permutation_drops_are_scikit_learn_s_for_single_columns():
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.inspection import permutation_importance

    rng = np.random.default_rng(0)
    X = np.column_stack([rng.random(400), rng.random(400), rng.integers(0, 2, 400)])
    y = (X[:, 0] + 0.3 * X[:, 2] + 0.3 * rng.random(400) > 0.8).astype(int)
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(X, y)
    ours = drivers.permutation_drops(
        lambda rows: model.predict_proba(rows)[:, 1], X, y, [[0], [1], [2]], drivers.roc_auc,
        n_repeats=5, seed=3,
    )  # fmt: skip
    theirs = permutation_importance(model, X, y, scoring="roc_auc", n_repeats=5, random_state=3)
    np.testing.assert_allclose(ours, theirs.importances, atol=1e-12)
    grouped = drivers.permutation_drops(
        lambda rows: model.predict_proba(rows)[:, 1], X, y, [[0, 2]], drivers.roc_auc,
        n_repeats=5, seed=3,
    )  # fmt: skip
    assert grouped.mean() > ours[0].mean()  # the two informative columns shuffled together


def test_roc_auc_is_scikit_learn_s_with_ties():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 500)
    score = rng.integers(0, 7, 500) / 7  # many ties
    assert drivers.roc_auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    assert np.isnan(drivers.roc_auc(np.zeros(3), np.arange(3.0)))


def test_arguments_are_checked(small):
    with pytest.raises(ValueError, match="target must be one of"):
        drivers.fit_delay_drivers(small["features"], target="lateness")
    with pytest.raises(ValueError, match="test_months must be a whole number"):
        drivers.fit_delay_drivers(small["features"], test_months=0)
    with pytest.raises(ValueError, match="extra_features column 'kind' holds"):
        drivers.delay_features(
            small["generated"].log,
            small["generated"].catalog,
            extra_features=pd.DataFrame({"kind": ["a"]}, index=["HS-2024-000001"]),
        )


def test_what_the_log_cannot_give_is_left_out_and_said(small):
    log, catalog = small["generated"].log, small["generated"].catalog
    features = drivers.delay_features(log.drop(columns="org:group"), catalog)
    left_out = ("visits", "bounces", "department at", "handoffs", "excess", "workload")
    assert not any(column.startswith(left_out) for column in features.columns)
    assert features.attrs["notes"][0].startswith("No event has a department")
    assert any(column.startswith("official at") for column in features.columns)
    transfers = pm.read_log(pm.datasets.sample_path("sample_transfers.csv.gz"))
    features = drivers.delay_features(transfers, pm.datasets.load_sample_catalog())
    assert features.attrs["notes"] == [
        "A transfer history has no steps: the department and official at each step and the "
        "steps not in the procedure are left out."
    ]
    assert not any(" at: " in column for column in features.columns)
    assert {"handoffs", "bounces", "workload"} <= set(features.columns)
