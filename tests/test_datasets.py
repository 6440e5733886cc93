"""The generator, its oracle and the committed sample (datasets/)."""

from __future__ import annotations

import itertools
import json
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from procmine import datasets, schema
from procmine.calendar import WorkCalendar
from procmine.catalog import read_catalog
from procmine.vocabulary import EXPLANATIONS

CAL = WorkCalendar()
CANONICAL = [
    schema.CASE, schema.ACTIVITY, schema.TIMESTAMP, schema.DEPARTMENT, schema.RESOURCE,
    schema.PROCEDURE,
]  # fmt: skip
DEVIATIONS = (
    "skipped_step", "step_not_in_procedure", "wrong_department", "repeated_step", "out_of_order",
)  # fmt: skip


@pytest.fixture(scope="module")
def sample() -> datasets.Generated:
    return datasets.generate(2000, seed=7)


@pytest.fixture(scope="module")
def clocked(sample: datasets.Generated) -> pd.DataFrame:
    """The sample with each event's reading and sojourn, computed here with plain pandas."""
    log = sample.log
    reading = pd.Series(CAL.working_minutes(log[schema.TIMESTAMP]), index=log.index)
    return log.assign(reading=reading, sojourn=reading.groupby(log[schema.CASE].to_numpy()).diff())


# --- the tiny logs of the oracle tests, with their counts worked out by hand ---------------


def tiny_log(cases: dict[str, list[tuple[str, str | None]]], procedure: str) -> pd.DataFrame:
    """One event a minute from Monday 6 May 2024 08:00, per case (activity, department)."""
    rows = []
    for case, events in cases.items():
        for minute, (activity, department) in enumerate(events):
            stamp = pd.Timestamp("2024-05-06 08:00", tz=schema.DEFAULT_TIMEZONE)
            rows.append((case, activity, stamp + pd.Timedelta(minutes=minute), department))
    log = pd.DataFrame(rows, columns=CANONICAL[:4])
    return log.assign(**{schema.PROCEDURE: procedure})


def tiny_catalog(procedure: str, steps: list[tuple[str, str]], deadline: float) -> pd.DataFrame:
    return read_catalog(
        pd.DataFrame(
            {
                "procedure": procedure,
                "step": range(1, len(steps) + 1),
                "activity": [a for a, _ in steps],
                "department": [d for _, d in steps],
                "deadline_working_days": deadline,
            }
        )
    )


def pair(counts: dict, a: str, b: str) -> dict:
    (row,) = [r for r in counts["pairs"] if (r["department_a"], r["department_b"]) == (a, b)]
    return {k: v for k, v in row.items() if not k.startswith("department")}


def test_oracle_counts_bounces_and_excess_by_hand() -> None:
    # Approved path X → Y → X: one prescribed consultation bounce (X, Y) per case.
    catalog = tiny_catalog("Q", [("s1", "X"), ("s2", "Y"), ("s3", "X")], deadline=10)
    cases = {
        "k1": [("s1", "X"), ("s2", "Y"), ("s3", "X")],  # X,Y,X: 1 bounce, prescribed
        "k2": [("s1", "X"), ("s2", "Y"), ("s3", "X"), ("s2", "Y")],  # (X,Y) + excess (Y,X)
        "k3": [("s1", "Z"), ("s2", "X"), ("s3", "Z")],  # Z,X,Z: 1 excess bounce on {X,Z}
        "k4": [("s1", "X"), ("s2", "Y"), ("s3", "X")],
        "k5": [("s1", "A"), ("s2", "B"), ("s3", "A"), ("s3", "B")],  # A,B,A,B: 2 bounces
        # Missing departments neither start nor break a run: both read X,Y,X.
        "k6": [("s1", "X"), ("s1", None), ("s2", "Y"), ("s2", None), ("s3", "X")],
        "k7": [("s1", "X"), ("s2", "Y"), ("s2", None), ("s2", "Y"), ("s3", "X")],
    }
    counts = datasets.reference_counts(tiny_log(cases, "Q"), catalog, CAL)
    assert [(r["department_a"], r["department_b"]) for r in counts["pairs"]] == [
        ("A", "B"), ("X", "Y"), ("X", "Z"),
    ]  # fmt: skip
    assert pair(counts, "A", "B") == {
        "handoffs": 3, "bounces": 2, "excess_bounces": 2, "pingpong_cases": 1,
    }  # fmt: skip
    # {X, Y}: handoffs 2 + 3 + 2 + 2 + 2; bounces 1 + 2 + 1 + 1 + 1; only k2's (Y, X) is excess.
    assert pair(counts, "X", "Y") == {
        "handoffs": 11, "bounces": 6, "excess_bounces": 1, "pingpong_cases": 1,
    }  # fmt: skip
    assert pair(counts, "X", "Z") == {
        "handoffs": 2, "bounces": 1, "excess_bounces": 1, "pingpong_cases": 1,
    }  # fmt: skip


def test_oracle_on_the_four_case_example() -> None:
    # X,Y,X · X,Y,X,Y · Z,X,Z · X,Y,X: bounces on {X, Y} are 1 + 2 + 0 + 1 = 4, in 3 cases;
    # against the most common path X,Y,X as reference only the (Y, X) of case 2 is excess.
    catalog = tiny_catalog("Q", [("s1", "X"), ("s2", "Y"), ("s3", "X")], deadline=10)
    sequences = {"c1": "XYX", "c2": "XYXY", "c3": "ZXZ", "c4": "XYX"}
    cases = {c: [("s", d) for d in seq] for c, seq in sequences.items()}
    counts = datasets.reference_counts(tiny_log(cases, "Q"), catalog, CAL)
    assert pair(counts, "X", "Y") == {
        "handoffs": 7, "bounces": 4, "excess_bounces": 1, "pingpong_cases": 1,
    }  # fmt: skip
    assert pair(counts, "X", "Z") == {
        "handoffs": 2, "bounces": 1, "excess_bounces": 1, "pingpong_cases": 1,
    }  # fmt: skip


def test_oracle_counts_each_deviation_type_by_hand() -> None:
    catalog = tiny_catalog("P", [("a", "X"), ("b", "Y"), ("c", "X"), ("d", "Z")], deadline=10)
    cases = {
        # c before b: out of order once; b twice and c twice: 2 repeats; e is not in P;
        # the second c is done by W: wrong department; d without a department is not.
        "c1": [("a", "X"), ("c", "X"), ("b", "Y"), ("b", "Y"), ("e", "Y"), ("c", "W"),
               ("d", None)],
        "c2": [("a", "X"), ("d", "Z")],  # b and c skipped
    }  # fmt: skip
    counts = datasets.reference_counts(tiny_log(cases, "P"), catalog, CAL)
    assert counts["deviations"] == {
        "P": {"skipped_step": 2, "step_not_in_procedure": 1, "wrong_department": 1,
              "repeated_step": 2, "out_of_order": 1},
    }  # fmt: skip


def test_oracle_late_cases_on_the_working_clock() -> None:
    catalog = tiny_catalog("P", [("a", "X"), ("b", "X")], deadline=1)
    stamps = {
        "on_time": ("2024-05-06 08:00", "2024-05-07 08:00"),  # exactly 480 working minutes
        "late": ("2024-05-06 08:00", "2024-05-07 08:01"),  # 481
        "weekend": ("2024-05-10 16:00", "2024-05-13 16:00"),  # Fri 60 + Mon 420 = 480
        "explained": ("2024-05-06 08:00", "2024-05-08 08:00"),
    }
    rows = []
    for case, (first, last) in stamps.items():
        rows.append((case, "a", first))
        if case == "explained":
            rows.append((case, "Báo cáo giải trình", "2024-05-07 09:00"))
        rows.append((case, "b", last))
    log = pd.DataFrame(rows, columns=CANONICAL[:3]).assign(
        **{
            schema.TIMESTAMP: lambda f: pd.to_datetime(f[schema.TIMESTAMP]).dt.tz_localize(
                schema.DEFAULT_TIMEZONE
            ),
            schema.DEPARTMENT: "X",
            schema.PROCEDURE: "P",
        }
    )
    counts = datasets.reference_counts(log, catalog, CAL)
    assert (counts["late_cases"], counts["on_time_cases"]) == (2, 2)
    assert counts["late_cases_by_explanation"] == {"with": ["explained"], "without": ["late"]}


def test_oracle_explanation_steps_match_by_the_vocabulary_rule() -> None:
    # Both cases are late (two working days against one); a name that goes on after the
    # explanation name with a space explains, one that runs on into a letter does not.
    catalog = tiny_catalog("P", [("a", "X"), ("b", "X")], deadline=1)
    log = pd.DataFrame(
        [
            (case, activity, pd.Timestamp(stamp, tz=schema.DEFAULT_TIMEZONE), "X", "P")
            for case, middle in (("suffix", "Giải trình lý do chậm"), ("run_on", "Giải trìnhX"))
            for activity, stamp in (
                ("a", "2024-05-06 08:00"),
                (middle, "2024-05-07 09:00"),
                ("b", "2024-05-08 08:00"),
            )
        ],
        columns=[*CANONICAL[:4], schema.PROCEDURE],
    )
    counts = datasets.reference_counts(log, catalog, CAL)
    assert counts["late_cases"] == 2
    assert counts["late_cases_by_explanation"] == {"with": ["suffix"], "without": ["run_on"]}


# --- the generator ------------------------------------------------------------------------


def test_same_seed_same_log_other_seed_other_log() -> None:
    first, again = datasets.generate(300, seed=3), datasets.generate(300, seed=3)
    pd.testing.assert_frame_equal(first.log, again.log)
    assert first.truth == again.truth
    other = datasets.generate(300, seed=4)
    assert not first.log[schema.TIMESTAMP].equals(other.log[schema.TIMESTAMP])


def test_log_schema_and_order(sample: datasets.Generated) -> None:
    log = sample.log
    assert list(log.columns) == CANONICAL
    assert str(log[schema.TIMESTAMP].dt.tz) == schema.DEFAULT_TIMEZONE
    for column in (schema.CASE, schema.ACTIVITY, schema.DEPARTMENT, schema.RESOURCE):
        assert pd.api.types.is_string_dtype(log[column])
    required = [schema.CASE, schema.ACTIVITY, schema.TIMESTAMP, schema.RESOURCE, schema.PROCEDURE]
    assert not log[required].isna().any().any()
    assert log[schema.CASE].nunique() == 2000
    # Cases are contiguous, numbered in arrival order, and strictly increasing in time.
    case = log[schema.CASE].to_numpy()
    starts = np.flatnonzero(np.r_[True, case[1:] != case[:-1]])
    assert len(starts) == 2000
    assert list(case[starts]) == sorted(case[starts])
    same_case = case[1:] == case[:-1]
    stamps = log[schema.TIMESTAMP].dt.tz_localize(None).to_numpy()
    assert (stamps[1:][same_case] > stamps[:-1][same_case]).all()
    assert (np.diff(stamps[starts]) >= np.timedelta64(0)).all()
    assert set(log[schema.DEPARTMENT].dropna()) <= set(datasets.DEPARTMENTS)
    assert set(log[schema.PROCEDURE]) == set(sample.catalog["procedure"])
    assert log[schema.CASE].iloc[0] == "HS-2024-000001"


def test_events_fall_in_office_hours_of_working_days(sample: datasets.Generated) -> None:
    local = sample.log[schema.TIMESTAMP]
    assert CAL.is_working_day(local).all()
    minute = (local.dt.hour * 60 + local.dt.minute).to_numpy()
    in_office = ((minute >= 450) & (minute <= 690)) | ((minute >= 780) & (minute <= 1020))
    assert in_office.all()
    assert (local.dt.second == 0).all()
    first = local.groupby(sample.log[schema.CASE].to_numpy(), sort=False).first()
    assert first.min() >= pd.Timestamp("2024-01-02", tz=schema.DEFAULT_TIMEZONE)
    assert first.max() <= pd.Timestamp("2025-06-30 17:00", tz=schema.DEFAULT_TIMEZONE)
    # Readings are whole minutes, so they survive an export at second precision.
    readings = CAL.working_minutes(local)
    assert (readings == np.round(readings)).all()


def test_catalog_is_a_district_of_at_least_20_procedures(sample: datasets.Generated) -> None:
    catalog = sample.catalog
    steps = catalog.groupby("procedure")["step"]
    assert catalog["procedure"].nunique() == 25
    assert steps.count().between(4, 9).all()
    assert (steps.apply(list) == steps.count().map(lambda n: list(range(1, n + 1)))).all()
    assert catalog.attrs["warnings"] == []
    assert set(catalog["department"]) == set(datasets.DEPARTMENTS)
    assert {"standard_minutes", "grade", "reviewed"} <= set(catalog.columns)
    assert catalog.groupby("procedure")["deadline_working_days"].nunique().eq(1).all()
    # Some approved paths prescribe a consultation A → B → A.
    prescribed = [
        procedure
        for procedure, rows in catalog.groupby("procedure")
        if any(
            a == c != b
            for a, b, c in _triples([d for d, _ in itertools.groupby(rows["department"])])
        )
    ]
    assert len(prescribed) == 18  # the 7 others never hand a case back to a department


def test_planted_bottlenecks_rank_first_by_working_time_held(clocked: pd.DataFrame) -> None:
    hours = {
        by: clocked.groupby(column)["sojourn"].sum().sort_values(ascending=False) / 60
        for by, column in (("activity", schema.ACTIVITY), ("department", schema.DEPARTMENT))
    }
    assert hours["activity"].index[0] == datasets.BOTTLENECK_ACTIVITY
    assert hours["activity"].iloc[0] > 2 * hours["activity"].iloc[1]
    assert hours["department"].index[0] == datasets.BOTTLENECK_DEPARTMENT
    assert hours["department"].iloc[0] > 1.3 * hours["department"].iloc[1]
    # The bottleneck step is slow in itself, not only frequent.
    median = clocked.groupby(schema.ACTIVITY)["sojourn"].median()
    assert median.idxmax() == datasets.BOTTLENECK_ACTIVITY


def test_planted_pairs_lead_on_excess_bounces(sample: datasets.Generated) -> None:
    pairs = pd.DataFrame(sample.truth["counts"]["pairs"])
    ranked = pairs.sort_values("excess_bounces", ascending=False)
    top = [[a, b] for a, b in ranked[["department_a", "department_b"]].head(3).to_numpy()]
    assert sorted(top) == sample.truth["planted"]["pingpong_pairs"]
    assert ranked["excess_bounces"].iloc[2] > 5 * ranked["excess_bounces"].iloc[3]
    assert (pairs["department_a"] < pairs["department_b"]).all()
    assert (pairs["handoffs"] > 0).all()
    assert (pairs["bounces"] >= pairs["excess_bounces"]).all()


def test_truth_counts_agree_with_a_second_plain_count(sample: datasets.Generated) -> None:
    """Handoffs and ping-pong cases per pair, recounted here with pandas and itertools."""
    log, catalog = sample.log, sample.catalog
    approved = {
        p: Counter(
            (a, b) for a, b, c in _triples([d for d, _ in itertools.groupby(rows["department"])])
            if a == c != b
        )
        for p, rows in catalog.groupby("procedure")
    }  # fmt: skip
    handoffs: Counter = Counter()
    pingpong: dict[tuple, set] = {}
    known = log.dropna(subset=[schema.DEPARTMENT])
    for (case, procedure), rows in known.groupby([schema.CASE, schema.PROCEDURE], sort=False):
        sequence = [d for d, _ in itertools.groupby(rows[schema.DEPARTMENT])]
        handoffs.update(tuple(sorted(p)) for p in itertools.pairwise(sequence))
        bounces = Counter((a, b) for a, b, c in _triples(sequence) if a == c != b)
        for (a, b), n in bounces.items():
            if n > approved[procedure][(a, b)]:
                pingpong.setdefault(tuple(sorted((a, b))), set()).add(case)
    truth = {(r["department_a"], r["department_b"]): r for r in sample.truth["counts"]["pairs"]}
    assert {k: r["handoffs"] for k, r in truth.items()} == dict(handoffs)
    assert {k: r["pingpong_cases"] for k, r in truth.items() if r["pingpong_cases"]} == {
        k: len(v) for k, v in pingpong.items()
    }
    planted = set(sample.truth["planted"]["pingpong_cases"])
    on_planted = set().union(
        *(pingpong[tuple(p)] for p in sample.truth["planted"]["pingpong_pairs"])
    )
    assert planted and planted <= on_planted


def _triples(sequence: list) -> list[tuple]:
    return list(zip(sequence, sequence[1:], sequence[2:], strict=False))


def test_truth_has_every_planted_kind(sample: datasets.Generated, clocked: pd.DataFrame) -> None:
    truth = sample.truth
    assert set(truth) == {"meta", "planted", "counts"}
    assert set(truth["counts"]) == {"pairs", "deviations", "late_cases", "on_time_cases"}
    assert truth["counts"]["late_cases"] + truth["counts"]["on_time_cases"] == 2000
    deviations = pd.DataFrame(truth["counts"]["deviations"]).T
    assert list(deviations.columns) == list(DEVIATIONS)
    assert set(deviations.index) == set(sample.catalog["procedure"])
    assert (deviations.sum() > 0).all()
    planted = truth["planted"]
    late_with, late_without = planted["late_with_explanation"], planted["late_without_explanation"]
    assert len(late_with) > 50 and len(late_without) > 50
    assert len(late_with) + len(late_without) == truth["counts"]["late_cases"]
    assert sample.log[schema.DEPARTMENT].isna().sum() > 20
    # A late case: its working span exceeds the catalog deadline; explained ones say so.
    span = clocked.groupby(schema.CASE)["reading"].agg(lambda r: r.iloc[-1] - r.iloc[0])
    deadline = (
        clocked.groupby(schema.CASE)[schema.PROCEDURE].first()
        .map(sample.catalog.groupby("procedure")["deadline_working_days"].first()) * 480
    )  # fmt: skip
    assert set(span.index[span > deadline]) == set(late_with) | set(late_without)
    activities = clocked.groupby(schema.CASE)[schema.ACTIVITY].agg(set)
    explained = activities.map(lambda a: bool(a & set(EXPLANATIONS)))
    assert explained[late_with].all() and not explained[late_without].any()


def test_truth_is_skipped_for_large_logs_unless_asked() -> None:
    assert "counts" not in datasets.generate(120, seed=1, truth=False).truth
    assert "counts" in datasets.generate(120, seed=1).truth


# --- files --------------------------------------------------------------------------------


def test_committed_sample_is_the_generator_output(tmp_path: Path) -> None:
    written = datasets.write_sample(tmp_path, n_cases=2000, seed=7)
    assert [p.name for p in written] == list(datasets.SAMPLE_FILES.values())
    for path in written:
        assert path.read_bytes() == datasets.sample_path(path.name).read_bytes(), path.name


def test_committed_sample_loads_into_the_generated_log(sample: datasets.Generated) -> None:
    pytest.importorskip("procmine.log")
    loaded = datasets.load_sample()
    pd.testing.assert_frame_equal(loaded, sample.log)
    pd.testing.assert_frame_equal(datasets.load_sample_catalog(), sample.catalog)
    assert datasets.load_sample_truth() == json.loads(json.dumps(sample.truth))


def test_sample_config_builds_the_calendar() -> None:
    import yaml

    path = datasets.sample_path("config.yaml")
    assert WorkCalendar.from_config(path).to_config() == CAL.to_config()
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert set(config) == {
        "calendar", "explanation_activities", "closing_activities", "return_activities",
        "transfer_actions", "units",
    }  # fmt: skip
    assert config["explanation_activities"] == list(EXPLANATIONS)


def test_agency_export_headers_dates_and_windows_1258(tmp_path: Path) -> None:
    log = datasets.generate(40, seed=2).log
    utf8 = datasets.export_like_agency(log, tmp_path / "export.csv")
    raw = utf8.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    header, first = text.splitlines()[:2]
    assert header == "Mã hồ sơ,Tên thủ tục,Bước xử lý,Đơn vị xử lý,Người xử lý,Thời điểm"
    stamp = log[schema.TIMESTAMP].iloc[0]
    assert first.endswith("," + stamp.strftime("%d/%m/%Y %H:%M:%S"))
    legacy = datasets.export_like_agency(log, tmp_path / "legacy.csv", encoding="cp1258")
    decoded = unicodedata.normalize("NFC", legacy.read_bytes().decode("cp1258"))
    assert decoded == text
    # Tone marks are split off the letters: "ẩ" is written as "â" + combining hook above.
    assert "ẩ" in text and "ẩ" not in legacy.read_bytes().decode("cp1258")


def test_gzip_export_is_reproducible(tmp_path: Path) -> None:
    log = datasets.generate(30, seed=5).log
    one = datasets.export_like_agency(log, tmp_path / "a.csv.gz").read_bytes()
    two = datasets.export_like_agency(log, tmp_path / "b.csv.gz").read_bytes()
    assert one == two


def test_sample_path_explains_a_missing_file() -> None:
    with pytest.raises(FileNotFoundError, match="procmine generate"):
        datasets.sample_path("no_such_file.csv")


def test_planted_opportunities_are_where_the_catalog_says(sample: datasets.Generated) -> None:
    """Each planted opportunity names steps of its procedure as the catalog approves them."""
    catalog, planted = sample.catalog, sample.truth["planted"]["opportunities"]
    steps = {
        p: rows.set_index("activity") for p, rows in catalog.astype(object).groupby("procedure")
    }
    assert len(planted["end_pingpong"]) == 6
    for kind, [opportunity] in ((k, v) for k, v in planted.items() if k != "end_pingpong"):
        rows = steps[opportunity["procedure"]]
        if kind == "parallel":  # consecutive steps of two departments, the later not needing
            first, second = (rows.loc[a] for a in opportunity["activities"])
            assert second["step"] == first["step"] + 1
            assert first["department"] != second["department"]
            assert str(first["step"]) not in second["depends_on"].split("; ")
        elif kind == "merge_steps":
            first, second = (rows.loc[a] for a in opportunity["activities"])
            assert second["step"] == first["step"] + 1
            assert second["department"] == first["department"]
        elif kind == "shorten_deadline":
            assert (rows["deadline_working_days"] == opportunity["deadline_working_days"]).all()
        elif kind == "drop_extra_step":
            assert opportunity["activity"] not in rows.index
            assert opportunity["after"] in rows.index
        else:
            assert opportunity["activity"] in rows.index
    # Elsewhere every step but the first needs the one before it.
    ordinary = catalog[catalog["procedure"] != planted["parallel"][0]["procedure"]]
    later = ordinary[ordinary["step"] > 1]
    assert (later["depends_on"] == (later["step"] - 1).astype(str)).all()
    assert ordinary.loc[ordinary["step"] == 1, "depends_on"].isna().all()
    reviewed = catalog.groupby("procedure")["reviewed"].first().notna()
    assert reviewed.sum() == 13 and catalog["document"].notna().all()
