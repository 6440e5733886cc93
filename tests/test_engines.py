import pandas as pd
import pyarrow as pa
import pytest

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


def test_sojourn_follows_idx_within_each_case_whatever_the_row_order():
    # Rows interleave two cases and are not in idx order; an event without a reading holds no
    # time and is not the previous event of the next one (as a side copy).
    raw = pd.DataFrame(
        {
            "idx": [5, 0, 3, 1, 4, 2],
            "case_id": ["b", "a", "a", "b", "a", "b"],
            "wm": [70.0, 10.0, 30.0, 50.0, 42.0, None],
        }
    )
    out = engines.complete_events(raw)
    expected = {0: None, 1: None, 2: None, 3: 20.0, 4: 12.0, 5: 20.0}  # by idx, in plain words
    by_idx = out.set_index("idx")["sojourn"]
    got = {i: (None if pd.isna(v) else v) for i, v in by_idx.items()}
    assert got == expected
    # case_no is one-to-one with case_id.
    assert out.groupby("case_id")["case_no"].nunique().tolist() == [1, 1]
    assert out["case_no"].nunique() == 2


def test_event_table_carries_case_no_and_sojourn():
    log = pd.DataFrame(
        {
            "case:concept:name": ["x", "x", "y"],
            "concept:name": ["A", "B", "A"],
            "time:timestamp": pd.to_datetime(
                ["2024-03-04 08:00", "2024-03-04 09:30", "2024-03-04 10:00"]
            ).tz_localize("Asia/Ho_Chi_Minh"),
        }
    )
    events = engines.event_table(log)
    assert events["case_no"].tolist() == [0, 0, 1]
    assert events["sojourn"].tolist()[1] == 90.0
    assert events["sojourn"].isna().tolist() == [True, False, True]


def test_case_ids_one_row_per_case_from_any_row_order():
    # In an events table the cases are contiguous (the fast path); shuffled, they are not.
    events = pd.DataFrame({"case_no": [0, 0, 1, 2, 2, 2], "case_id": list("aabccc")})
    for frame in (events, events.sample(frac=1, random_state=3)):
        table = engines.case_ids(frame)
        assert table.to_dict("list") == {"case_no": [0, 1, 2], "case_id": ["a", "b", "c"]}
    # A figure that shows cases asks query for the table.
    shown = engines.query(
        "SELECT i.case_id, COUNT(*) AS n FROM events AS e JOIN case_ids AS i USING (case_no)"
        " GROUP BY i.case_id ORDER BY i.case_id",
        with_case_ids=True,
        events=events.assign(idx=range(6), wm=0.0),
    )
    assert shown.to_dict("list") == {"case_id": ["a", "b", "c"], "n": [2, 1, 3]}


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


def test_event_table_codes_text_columns_in_code_point_order():
    log = pd.DataFrame(
        {
            "case:concept:name": ["x", "x", "x", "y"],
            "concept:name": ["Zeta", "Ánh", "an", "Zeta"],
            "time:timestamp": pd.to_datetime(
                ["2024-03-04 08:00", "2024-03-04 09:00", "2024-03-04 10:00", "2024-03-04 11:00"]
            ).tz_localize("Asia/Ho_Chi_Minh"),
            "org:group": ["Phòng B", None, "Phòng A", "Phòng B"],
            "lifecycle:transition": ["Start", "start", "COMPLETE", None],
        }
    )
    events = engines.event_table(log)
    for column in ("activity", "department", "resource", "procedure", "lifecycle"):
        assert isinstance(events[column].dtype, pd.CategoricalDtype), column
    # Categories sorted as Python sorts text (code points), so ENUM order is text order.
    assert list(events["activity"].cat.categories) == ["Zeta", "an", "Ánh"]
    assert events["activity"].tolist() == ["Zeta", "Ánh", "an", "Zeta"]
    assert events["department"].isna().tolist() == [False, True, False, False]
    assert list(events["lifecycle"].cat.categories) == ["complete", "start"]
    assert events["procedure"].tolist() == [engines.DEFAULT_PROCEDURE] * 4
    assert events["resource"].isna().all()
    assert events["in_sequence"].tolist() == [True, False, True, True]


def test_query_returns_text_and_orders_codes_as_text():
    events = pd.DataFrame(
        {
            "idx": [0, 1, 2, 3],
            "case_id": ["a", "a", "b", "b"],
            "wm": [0.0, 1.0, 2.0, 3.0],
            # Categories deliberately out of text order: the query recodes them first.
            "department": pd.Categorical(
                ["Ánh", "an", None, "Zeta"], categories=["Ánh", "an", "Zeta"]
            ),
        }
    )
    sql = """SELECT department, LEAST(department, 'b') AS least_b, COUNT(*) AS n FROM events
             GROUP BY department ORDER BY department NULLS LAST"""
    out = engines.query(sql, events=events)
    assert out["department"].dtype == "str"
    assert out["department"].tolist()[:3] == sorted(["Ánh", "an", "Zeta"])
    assert pd.isna(out["department"].iloc[3])
    assert out["least_b"].tolist()[:3] == ["Zeta", "an", "b"]


def test_text_codes_merge_values_with_the_same_text():
    codes = engines.text_codes(pd.Series([1, "1", None, "Start"], dtype=object), lower=True)
    assert list(codes.categories) == ["1", "start"]
    assert codes.codes.tolist() == [0, 0, -1, 1]
    assert engines.text_codes(pd.Series([None, "b"]), "(all)").tolist() == ["(all)", "b"]


def test_activity_links_follow_idx_within_each_case_whatever_the_row_order():
    # Rows interleave two cases out of idx order, as a hand-built frame may; case a repeats
    # "Nhận" and the arc Nhận → Ký.
    raw = pd.DataFrame(
        {
            "idx": [5, 0, 3, 1, 4, 2, 7, 6, 8],
            "case_id": ["b", "a", "a", "b", "a", "b", "a", "a", "a"],
            "activity": ["Ký", "Nhận", "Nhận", "Nhận", "Ký", "Thẩm định", "Ký", "Nhận", "Ký"],
            "wm": [70.0, 10.0, 30.0, 50.0, 42.0, 60.0, 80.0, 75.0, 90.0],
        }
    )
    out = engines.with_activity_links(raw)
    # Plain Python: each case's events in idx order, each one's predecessor, whether it ends the
    # case, and whether its activity and its arc occur earlier in the case.
    expected = {}
    for _, group in raw.sort_values("idx").groupby("case_id"):
        activities, positions = group["activity"].tolist(), group["idx"].tolist()
        for k, position in enumerate(positions):
            previous = activities[k - 1] if k else None
            arcs_before = {(activities[j - 1] if j else None, activities[j]) for j in range(k)}
            expected[position] = (
                previous,
                k == len(positions) - 1,
                activities[k] not in activities[:k],
                (previous, activities[k]) not in arcs_before,
            )
    got = {
        row.idx: (
            None if pd.isna(row.previous_activity) else row.previous_activity,
            row.is_last,
            row.first_activity_in_case,
            row.first_arc_in_case,
        )
        for row in out.itertuples()
    }
    assert got == expected
    # By hand: a runs Nhận(0), Nhận(3), Ký(4), Nhận(6), Ký(7), Ký(8).
    assert got[3] == ("Nhận", False, False, True)
    assert got[7] == ("Nhận", False, False, False)  # Nhận → Ký again
    assert got[8] == ("Ký", True, False, True)
    assert engines.with_activity_links(out) is out


def test_activity_links_of_an_events_table_keep_the_activity_codes():
    log = pd.DataFrame(
        {
            "case:concept:name": ["c1", "c1", "c1", "c2", "c2"],
            "concept:name": ["Nhận", "Duyệt", "Nhận", "Duyệt", "Ký"],
            "time:timestamp": pd.to_datetime(
                [
                    "2024-03-04 08:00",
                    "2024-03-04 09:00",
                    "2024-03-05 08:00",
                    "2024-03-04 08:00",
                    "2024-03-06 10:00",
                ]
            ),
        }
    )
    events = engines.with_activity_links(engines.event_table(log))
    assert events["previous_activity"].dtype == events["activity"].dtype
    assert [None if pd.isna(v) else v for v in events["previous_activity"]] == [
        None, "Nhận", "Duyệt", None, "Duyệt",
    ]  # fmt: skip
    assert events["is_last"].tolist() == [False, False, True, False, True]


def test_a_table_of_some_columns_equals_those_of_the_full_table():
    log = pd.DataFrame(
        {
            "case:concept:name": ["c1", "c1", "c2", "c2", "c1"],
            "concept:name": ["Nhận", "Duyệt", "Nhận", "Ký", "Ký"],
            "org:group": ["Phòng A", "Phòng B", None, "Phòng A", "Phòng A"],
            "case:procedure": ["P", "P", "Q", "Q", "P"],
            "time:timestamp": pd.to_datetime(
                [
                    "2024-03-04 08:00",
                    "2024-03-04 09:30",
                    "2024-03-05 08:00",
                    "2024-03-06 10:00",
                    "2024-03-07 14:00",
                ]
            ),
        }
    )
    full = engines.with_activity_links(engines.event_table(log))
    some = engines.event_table(log, columns=("activity", "procedure", *engines.ACTIVITY_LINKS))
    base = ["idx", "case_id", "ts", "wm", "side_copy", "case_no", "sojourn"]
    assert sorted(some.columns) == sorted([*base, "activity", "procedure", *engines.ACTIVITY_LINKS])
    pd.testing.assert_frame_equal(some, full[list(some.columns)])
    assert not engines.is_event_table(some)  # not an events table for the other figures


def test_event_table_marks_return_events_once():
    # docs/definitions.md, "Returns": return steps by name (the vocabulary's rule, over the
    # distinct names), or a transfer history's kind "return"; a hand-built table has none.
    from procmine import schema, vocabulary

    log = pd.DataFrame(
        {
            "case:concept:name": ["c1"] * 4 + ["c2"] * 2,
            "concept:name": [
                "Tiếp nhận", "Trả lại hồ sơ", "TRẢ LẠI: thiếu giấy tờ", "Trả lạiX",
                "Chuyển lại để bổ sung", None,
            ],
            "org:group": ["A", "B", "B", None, "B", "A"],
            "time:timestamp": pd.date_range("2024-03-04 08:00", periods=6, freq="h"),
        }
    )  # fmt: skip
    events = engines.event_table(log)
    assert events["returned"].tolist() == [False, True, True, False, True, False]
    assert engines.table_returns(events) == vocabulary.RETURNS
    columns = events.columns.tolist()
    assert columns.index("returned") == columns.index("in_sequence") + 1
    # Built alone (with the handoff figures' columns, without the activity's), the same column.
    narrow = engines.event_table(log, columns=("returned",))
    assert "activity" not in narrow.columns
    assert narrow["returned"].tolist() == events["returned"].tolist()
    # Other names, and a table that has none.
    named = engines.event_table(log, return_activities=["Tiếp nhận"])
    assert named["returned"].tolist() == [True, False, False, False, False, False]
    with pytest.raises(ValueError, match="list of activity names"):
        engines.event_table(log, return_activities="Trả lại")
    assert "returned" not in engines.event_table(log, columns=("activity",)).columns
    hand = engines.complete_events(pd.DataFrame({"idx": [0], "case_id": ["a"], "wm": [1.0]}))
    assert hand["returned"].tolist() == [False]
    # A transfer history: the kinds decide, whatever the activities are called.
    transfers = log.assign(
        **{schema.TRANSFER: ["main", "main", "return", "main", " Return ", None]}
    )
    found = engines.event_table(transfers, return_activities=["Tiếp nhận"])
    assert found["returned"].tolist() == [False, False, True, False, True, False]
    assert engines.table_returns(found) == schema.TRANSFER


def test_spark_schema_of_empty_figure_tables():
    # Spark infers no schema from an empty frame; the tables a figure passes (a catalog's
    # bounces, coded procedures, case deadlines) get one from their dtypes.
    events = engines.event_table(
        pd.DataFrame(
            {
                "case:concept:name": ["c1"],
                "concept:name": ["Nhận"],
                "time:timestamp": pd.to_datetime(["2024-03-04 08:00"]),
            }
        )
    )
    empty = events.iloc[:0][["case_id", "procedure", "wm", "ts", "in_sequence", "case_no"]]
    assert engines.spark_schema(empty) == (
        "`case_id` STRING, `procedure` STRING, `wm` DOUBLE, `ts` TIMESTAMP_NTZ, "
        "`in_sequence` BOOLEAN, `case_no` INT"
    )


@pytest.mark.parametrize("dtype", ["str", "string", "string[python]", object])
@pytest.mark.parametrize("null_coded", [False, True])
def test_factorize_agrees_with_pandas_for_every_text_storage(dtype, null_coded):
    values = pd.Series(["b", None, "a", "b", None, "c", "a"], dtype=dtype)
    chunks = [["b", None], ["a", "b", None, "c", "a"]]
    chunked = [
        pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(chunks, type=kind)))
        for kind in (pa.large_string(), pa.string())
    ]
    for series in [values, *chunked] if dtype == "str" else [values]:
        codes, uniques = engines._factorize(series, null_coded=null_coded)
        expected_codes, expected_uniques = pd.factorize(series, use_na_sentinel=not null_coded)
        assert codes.tolist() == expected_codes.tolist()
        assert [None if pd.isna(u) else u for u in uniques] == [
            None if pd.isna(u) else u for u in expected_uniques
        ]


# --- one clock per figure: a table carries the calendar it was read with ---------------------
HALF_DAY = {"office_hours": ["07:30-11:30"]}  # a 4-hour working day: every duration differs


def _figures() -> dict:
    """Every figure that takes ``calendar=``, as a call on (table or log, catalog, calendar)."""
    import procmine as pm

    return {
        "sojourns": lambda t, c, cal: pm.sojourns(t, calendar=cal),
        "bottlenecks": lambda t, c, cal: pm.bottlenecks(t, by="department", calendar=cal),
        "bottlenecks[handoff]": lambda t, c, cal: pm.bottlenecks(t, by="handoff", calendar=cal),
        "bottleneck_cases": lambda t, c, cal: pm.bottleneck_cases(t, calendar=cal),
        "on_time": lambda t, c, cal: pm.on_time(t, c, calendar=cal),
        "on_time_rate": lambda t, c, cal: pm.on_time_rate(t, c, "department", calendar=cal),
        "slow_units": lambda t, c, cal: pm.slow_units(t, c, calendar=cal),
        "late_without_explanation": lambda t, c, cal: pm.late_without_explanation(
            t, c, calendar=cal
        ),
        "step_allotments": lambda t, c, cal: pm.step_allotments(t, c, calendar=cal),
        "department_runs": lambda t, c, cal: pm.department_runs(t, calendar=cal),
        "handoff_table": lambda t, c, cal: pm.handoff_table(t, calendar=cal),
        "bounce_table": lambda t, c, cal: pm.bounce_table(t, c, calendar=cal),
        "ping_pong": lambda t, c, cal: pm.ping_pong(t, c, by="case", calendar=cal),
        "reference_sequences": lambda t, c, cal: pm.reference_sequences(t, c, calendar=cal),
        "handoff_network": lambda t, c, cal: pm.network_frames(pm.handoff_network(t, calendar=cal)),
        "discover_map": lambda t, c, cal: pm.discover_map(t, calendar=cal),
        "variants": lambda t, c, cal: pm.variants(t, calendar=cal),
        "check_conformance": lambda t, c, cal: pm.check_conformance(t, c, calendar=cal),
    }


@pytest.fixture(scope="module")
def small_sample():
    import procmine as pm

    log = pm.datasets.load_sample()
    cases = log["case:concept:name"].drop_duplicates().iloc[:150]
    chosen = log[log["case:concept:name"].isin(cases)].reset_index(drop=True)
    return chosen, pm.datasets.load_sample_catalog()


def _frames(result) -> list[pd.DataFrame]:
    """A figure's result as the frames it holds (a map's nodes and edges, a network's frames)."""
    if isinstance(result, pd.DataFrame):
        return [result]
    if isinstance(result, tuple):
        return list(result)
    return [value for value in vars(result).values() if isinstance(value, pd.DataFrame)]


def test_calendars_are_values():
    import procmine as pm

    assert pm.WorkCalendar() == pm.WorkCalendar(country="VN")
    assert hash(pm.WorkCalendar()) == hash(pm.as_calendar(None))
    assert pm.WorkCalendar() != pm.as_calendar(HALF_DAY)
    with pytest.raises(AttributeError, match="cannot change"):
        pm.WorkCalendar().office_hours = (("08:00", "12:00"),)


@pytest.mark.parametrize("figure", list(_figures()))
def test_a_figure_never_mixes_two_clocks(figure, small_sample):
    """Over a table read on one clock, asking a figure for another raises and names both; with
    no calendar the figure measures on the table's own clock, exactly as from the log."""
    import procmine as pm

    log, catalog = small_sample
    call = _figures()[figure]
    half = pm.as_calendar(HALF_DAY)
    with pytest.raises(pm.CalendarMismatchError, match=r"read with WorkCalendar.*480 min.*240 min"):
        call(pm.event_table(log), catalog, half)
    on_half = pm.event_table(log, half)
    for got, expected in zip(
        _frames(call(on_half, catalog, None)), _frames(call(log, catalog, half)), strict=True
    ):
        pd.testing.assert_frame_equal(got, expected)
    # The table's own clock, named again, is no mismatch.
    for got, expected in zip(
        _frames(call(on_half, catalog, pm.as_calendar(HALF_DAY))),
        _frames(call(on_half, catalog, None)),
        strict=True,
    ):
        pd.testing.assert_frame_equal(got, expected)


def test_the_clock_changes_the_figures(small_sample):
    """The check above is not vacuous: the half-day clock gives other figures."""
    import procmine as pm

    log, catalog = small_sample
    full, half = pm.on_time(log, catalog), pm.on_time(log, catalog, calendar=HALF_DAY)
    assert not full["working_days"].equals(half["working_days"])
    assert (half["working_days"] > full["working_days"]).any()


def test_a_table_keeps_its_clock_through_filters(small_sample):
    import procmine as pm

    log, _ = small_sample
    events = pm.event_table(log, HALF_DAY)
    chosen = events[events["case_id"] == events["case_id"].iloc[0]]
    assert engines.table_calendar(chosen) == pm.as_calendar(HALF_DAY)
    with pytest.raises(pm.CalendarMismatchError):
        pm.sojourns(chosen, calendar=pm.WorkCalendar())


def test_a_partial_table_is_refused_with_what_it_lacks(small_sample):
    import procmine as pm

    log, _ = small_sample
    narrow = engines.event_table(log, columns=("activity", "procedure"))
    with pytest.raises(pm.MissingColumnError, match="department"):
        pm.bottlenecks(narrow, by="department")


def test_the_worked_example_of_one_clock_per_figure():
    """docs/definitions.md, "One working clock per figure": HS1 runs Mon 08:00 → Tue 09:00."""
    import procmine as pm

    log, catalog = pm.datasets.example_log(), pm.datasets.example_catalog()
    half = pm.as_calendar(HALF_DAY)
    hs1 = {
        "default": pm.on_time(log, catalog).set_index("case_id").loc["HS1", "working_days"],
        "half": pm.on_time(pm.event_table(log, half), catalog)
        .set_index("case_id")
        .loc["HS1", "working_days"],
    }
    assert hs1 == {"default": (3.5 + 4 + 1.5) / 8, "half": (3.5 + 1.5) / 4}
