import pandas as pd

from procmine import engines


def test_query_runs_sql_over_named_frames():
    left = pd.DataFrame({"k": ["a", "b", "b"], "v": [1, 2, 3]})
    out = engines.query("SELECT k, SUM(v) AS total FROM t GROUP BY k ORDER BY k", t=left)
    assert out.to_dict("list") == {"k": ["a", "b"], "total": [1, 5]}


def test_events_view_defines_sojourn_per_case():
    raw = pd.DataFrame(
        {
            "idx": [0, 1, 2, 3],
            "case_id": ["c1", "c1", "c1", "c2"],
            "wm": [10.0, 25.0, 26.5, 100.0],
        }
    )
    out = engines.query("SELECT idx, sojourn FROM events ORDER BY idx", events=raw)
    assert out["sojourn"].isna().tolist() == [True, False, False, True]
    assert out["sojourn"].dropna().tolist() == [15.0, 1.5]


def test_side_copies_hold_no_time():
    raw = pd.DataFrame(
        {
            "idx": [0, 1, 2, 3],
            "case_id": ["c1"] * 4,
            "wm": [10.0, 20.0, 40.0, 45.0],
            "side_copy": [False, True, False, False],
        }
    )
    out = engines.query("SELECT sojourn FROM events ORDER BY idx", events=raw)
    # The side copy at 20 neither holds time nor shortens the next event's sojourn.
    assert out["sojourn"].tolist()[2:] == [30.0, 5.0]
    assert out["sojourn"].isna().tolist()[:2] == [True, True]


def test_events_view_transpiles_to_spark():
    spark_sql = engines.to_spark_sql(engines._EVENTS_VIEW)
    assert "IGNORE NULLS OVER (PARTITION BY case_id ORDER BY idx" in spark_sql


def test_spark_sql_maps_quantiles_to_exact_percentile():
    sql = "SELECT k, MEDIAN(x) AS m, QUANTILE_CONT(x, 0.9) AS q FROM t GROUP BY k"
    assert engines.to_spark_sql(sql) == (
        "SELECT k, MEDIAN(x) AS m, PERCENTILE(x, 0.9) AS q FROM t GROUP BY k"
    )


def test_duckdb_quantiles_interpolate_like_numpy():
    import numpy as np

    values = [3.0, 1.0, 10.0, 7.5, 2.0, 2.0]
    out = engines.query(
        "SELECT MEDIAN(x) AS m, QUANTILE_CONT(x, 0.9) AS q FROM t", t=pd.DataFrame({"x": values})
    )
    assert out["m"].item() == np.percentile(values, 50)
    assert out["q"].item() == np.percentile(values, 90)
