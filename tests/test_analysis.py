"""The whole analysis in one call equals its figures called one by one, and writes them all."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import procmine as pm


@pytest.fixture(scope="module")
def small():
    log = pm.datasets.load_sample()
    cases = log["case:concept:name"].drop_duplicates().iloc[:200]
    return log[log["case:concept:name"].isin(cases)].reset_index(drop=True)


def test_analyze_gives_each_figure_as_its_verb_does(small):
    catalog = pm.datasets.load_sample_catalog()
    stages = []
    found = pm.analyze(small, catalog, progress=stages.append)
    assert stages == list(pm.analysis.STAGES)
    pd.testing.assert_frame_equal(found.ping_pong, pm.ping_pong(small, catalog))
    for by in pm.analysis.BOTTLENECK_KEYS:
        pd.testing.assert_frame_equal(found.bottlenecks[by], pm.bottlenecks(small, by=by))
    pd.testing.assert_frame_equal(
        found.late_without_explanation, pm.late_without_explanation(small, catalog)
    )
    summary = pm.deviation_summary(pm.check_conformance(small, catalog), by="procedure")
    assert found.conformance["total"].is_monotonic_decreasing
    pd.testing.assert_frame_equal(found.conformance.sort_index(), summary.sort_index())
    counts = small["case:procedure"].value_counts()
    assert counts[found.largest_procedure] == counts.max()
    assert set(found.network.nodes) == set(small["org:group"].dropna())


def test_write_analysis_writes_tables_maps_model_and_network(small, tmp_path: Path):
    found = pm.analyze(small, pm.datasets.load_sample_catalog())
    written = pm.write_analysis(found, tmp_path)
    names = {path.name for path in written}
    assert {f"{name}.csv" for name in pm.analysis.figure_frames(found)} <= names
    assert {"frequency_map.svg", "performance_map.png", "model_bpmn.png", "network.svg"} <= names
    assert all(path.stat().st_size > 0 for path in written)
    again = pd.read_csv(tmp_path / "ping_pong_pairs.csv")
    assert again["excess_bounces"].tolist() == found.ping_pong["excess_bounces"].tolist()


def test_simplify_reports_its_stages_and_each_replay():
    # The example's ping-pong (HS2) is a candidate once its thresholds are lowered.
    costs = pm.read_costs()
    pingpong = {**costs.measure("end_pingpong"), "min_excess_bounces": 2}
    costs = costs.replace(measures={**costs.measures, "end_pingpong": pingpong})
    stages, replays = [], []
    found = pm.analysis.simplify(
        pm.datasets.example_log(),
        pm.datasets.example_catalog(),
        costs,
        progress=stages.append,
        replayed=lambda done, total: replays.append((done, total)),
    )
    assert stages == list(pm.analysis.SIMPLIFY_STAGES)
    assert len(found.candidates) >= 1
    assert replays[-1] == (len(found.candidates), len(found.candidates))


def test_simplify_with_the_figures_given_equals_simplify_from_the_log(small):
    catalog = pm.datasets.load_sample_catalog()
    events = pm.event_table(small)
    given = {"deadlines": pm.on_time(events, catalog), "bounces": pm.bounce_table(events, catalog)}
    found = pm.analysis.simplify(small, catalog, events=events, **given)
    alone = pm.analysis.simplify(small, catalog)
    pd.testing.assert_frame_equal(found.cost, alone.cost)
    pd.testing.assert_frame_equal(found.candidates, alone.candidates)
    pd.testing.assert_frame_equal(found.portfolio.options, alone.portfolio.options)
    pd.testing.assert_frame_equal(found.portfolio.summary, alone.portfolio.summary)


def test_zoned_date_times_are_written_as_pandas_writes_them():
    """zoned_text formats a column at once; the CSV must be byte for byte pandas' own, for every
    zone (DST, negative and half-hour offsets), unit, missing value and date-only column, and a
    column pandas must format (fractions of a second, 1900's offsets in seconds) is left to it."""
    from procmine.analysis import zoned_text

    rng = np.random.default_rng(1)
    zones = ["Asia/Ho_Chi_Minh", "Europe/Amsterdam", "America/St_Johns", "UTC", "Asia/Kolkata"]
    formatted = 0
    for trial in range(150):
        n = int(rng.integers(1, 40))
        start = pd.Timestamp("1900-01-01" if trial % 7 == 0 else "2020-01-01")
        seconds = rng.integers(0, 10 * 365 * 86400, n)
        if trial % 3 == 0:  # dates only
            seconds -= seconds % 86400
        stamps = pd.Series(start + pd.to_timedelta(seconds, unit="s"))
        stamps[rng.random(n) < 0.2] = pd.NaT
        if trial % 5 == 0:
            stamps += pd.to_timedelta(rng.integers(0, 1000, n), unit="ms")
        zoned = stamps.astype(f"datetime64[{['ns', 'us', 's'][trial % 3]}]").dt.tz_localize(
            zones[trial % 5], ambiguous="NaT", nonexistent="NaT"
        )
        frame = pd.DataFrame({"at": zoned, "n": range(n)})
        text = zoned_text(frame)
        assert text.to_csv(index=False) == frame.to_csv(index=False), (trial, frame)
        formatted += text["at"].dtype == object
    assert formatted > 100  # most columns took the fast path


def test_workbooks_hold_the_cells_pandas_writes(tmp_path: Path):
    """write_workbook writes, cell for cell and with the same date-time format, what
    DataFrame.to_excel writes with openpyxl."""
    import openpyxl

    frame = pd.DataFrame(
        {
            "number": [1.5, np.nan, np.inf, -np.inf, 0.1 + 0.2],
            "count": np.arange(5, dtype="int64"),
            "flag": [True, False, True, True, False],
            "nullable": pd.array([1, None, 3, 4, 5], dtype="Int64"),
            "maybe": pd.array([True, None, False, True, None], dtype="boolean"),
            "text": pd.array(["a", None, "=1+1", "ă ơ", "http://x.vn"], dtype="string"),
            "at": pd.to_datetime(["2024-01-02 08:30:00", None, "2024-05-06 00:00:00",
                                  "2024-05-06 17:00:01", "1999-12-31 00:00:00"]),
            "mixed": pd.Series([1, "b", 2.5, None, pd.Timestamp("2024-01-01")], dtype=object),
            "kind": pd.Categorical(["x", "y", None, "x", "y"]),
        }
    )  # fmt: skip
    numbers = pd.DataFrame(
        {
            "x": [1e-05, 1.2345678901234567e20, 2 / 3, -0.1 - 0.2, np.nan],
            "at": pd.to_datetime(["2024-02-29 23:59:59.999999", "1900-03-01 00:00:00",
                                  "2024-05-06 08:30:00.5", None, None], format="ISO8601"),
        }
    )  # fmt: skip
    sheets = {"one": frame, "empty": frame.head(0), "Nhóm": frame[["text"]], "numbers": numbers}
    mine = pm.analysis.write_workbook(sheets, tmp_path / "mine.xlsx")
    with pd.ExcelWriter(tmp_path / "pandas.xlsx", engine="openpyxl") as workbook:
        for name, table in sheets.items():
            table.to_excel(workbook, sheet_name=name, index=False)

    def cells(path: Path) -> list:
        book = openpyxl.load_workbook(path)
        return [
            (sheet.title, cell.coordinate, cell.value, cell.is_date and cell.number_format)
            for sheet in book.worksheets
            for row in sheet.iter_rows()
            for cell in row
        ]

    assert cells(mine) == cells(tmp_path / "pandas.xlsx")
    ours, theirs = (openpyxl.load_workbook(path) for path in (mine, tmp_path / "pandas.xlsx"))
    assert [list(sheet.values) for sheet in ours] == [list(sheet.values) for sheet in theirs]
