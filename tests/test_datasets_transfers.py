"""The generated sample written as a transfer history (procmine.datasets.as_transfers).

Each check rebuilds what the export should say from the step log with its own plain pandas
computation (or takes it from the generator's oracle, procmine.datasets.reference_counts), and
compares with the rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from procmine import datasets, schema
from procmine.cli import app
from procmine.datasets import TRANSFER_COLUMNS, as_transfers, example_log

CASE, SENDER, SENDER_OFFICIAL, RECIPIENT, RECIPIENT_OFFICIAL, TIME, ACTION, COMMENT = (
    "Mã hồ sơ",
    "Đơn vị chuyển",
    "Người chuyển",
    "Đơn vị nhận",
    "Người nhận",
    "Thời gian chuyển",
    "Hình thức chuyển",
    "Ý kiến xử lý",
)
SIDE_ACTIONS = ("Chuyển phối hợp", "Để biết")
TRANSFERS = ("Chuyển xử lý", "Trả lại")
runner = CliRunner()


@pytest.fixture(scope="module")
def sample() -> datasets.Generated:
    return datasets.generate(300, seed=3)


@pytest.fixture(scope="module")
def runs(sample: datasets.Generated) -> pd.DataFrame:
    """The department runs of the step log, one row per run, in order: the case, the
    department, the official and time of its first and last events, and its place."""
    log = sample.log[sample.log[schema.DEPARTMENT].notna()]
    log = log.sort_values([schema.CASE, schema.TIMESTAMP], kind="stable")
    case, department = log[schema.CASE], log[schema.DEPARTMENT]
    new_run = (case != case.shift()) | (department != department.shift())
    grouped = log.groupby(new_run.cumsum(), sort=True)
    table = pd.DataFrame(
        {
            "case": grouped[schema.CASE].first(),
            "department": grouped[schema.DEPARTMENT].first(),
            "first_official": grouped[schema.RESOURCE].first(),
            "last_official": grouped[schema.RESOURCE].last(),
            "first_time": grouped[schema.TIMESTAMP].first(),
        }
    ).reset_index(drop=True)
    table["place"] = table.groupby("case").cumcount()
    return table


def _transfers_expected(runs: pd.DataFrame) -> pd.DataFrame:
    """The main transfers the runs imply: R_j → R_{j+1}, with whether it bounces back."""
    following = runs.groupby("case").shift(-1)
    before = runs.groupby("case")["department"].shift(1)
    has_next = following["department"].notna()
    return pd.DataFrame(
        {
            CASE: runs["case"],
            SENDER: runs["department"],
            SENDER_OFFICIAL: runs["last_official"],
            RECIPIENT: following["department"],
            RECIPIENT_OFFICIAL: following["first_official"],
            TIME: following["first_time"].dt.strftime("%d/%m/%Y %H:%M:%S"),
            "bounce_back": following["department"] == before,
        }
    )[has_next].reset_index(drop=True)


def _holder_sequences(history: pd.DataFrame) -> pd.Series:
    """Each case's holder sequence from the rows alone: the first sender, then the recipient
    of each main transfer or return, in time order."""
    rows = history.assign(when=pd.to_datetime(history[TIME], format="%d/%m/%Y %H:%M:%S"))
    moves = rows[rows[ACTION].isin(TRANSFERS)].sort_values([CASE, "when"], kind="stable")
    first = rows.sort_values([CASE, "when"], kind="stable").groupby(CASE)[SENDER].first()
    recipients = moves.groupby(CASE)[RECIPIENT].agg(tuple)
    return pd.Series(
        {case: (sender, *recipients.get(case, ())) for case, sender in first.items()}
    ).sort_index()


def test_holder_sequence_is_the_department_sequence(sample, runs):
    history = as_transfers(sample.log, open_share=0, side_copy_share=0, shuffle=False)
    assert list(history.columns) == list(TRANSFER_COLUMNS)
    expected = runs.groupby("case")["department"].agg(tuple).sort_index()
    assert len(expected) == 300  # every case of the sample has a department
    pd.testing.assert_series_equal(_holder_sequences(history), expected, check_names=False)
    # One row per run: a main transfer or return per handoff, one closing per case.
    assert len(history) == len(runs) == 907 + 300  # the oracle counts 907 handoffs
    assert (history[ACTION] == "Hoàn thành").sum() == 300
    # Senders, recipients, their officials and the times are the runs' ends.
    moves = history[history[ACTION].isin(TRANSFERS)].reset_index(drop=True)
    want = _transfers_expected(runs)
    pd.testing.assert_frame_equal(moves[want.columns[:-1]], want[want.columns[:-1]])
    assert set(history[TIME].str.fullmatch(r"\d\d/\d\d/20\d\d \d\d:\d\d:\d\d")) == {True}


def test_handoffs_per_pair_match_the_oracle(sample):
    history = as_transfers(sample.log, side_copy_share=0, return_share=1)
    moves = history[history[ACTION].isin(TRANSFERS)]
    pair = moves[[SENDER, RECIPIENT]].apply(sorted, axis=1, result_type="expand")
    handoffs = pair.value_counts().sort_index()
    oracle = pd.DataFrame(sample.truth["counts"]["pairs"]).set_index(
        ["department_a", "department_b"]
    )
    assert handoffs.to_dict() == oracle["handoffs"].to_dict()
    # With return_share=1 every bounce-back is a return: the oracle's bounces, pair by pair.
    returned = pair[moves[ACTION] == "Trả lại"].value_counts()
    bounced = oracle.loc[oracle["bounces"] > 0, "bounces"]
    assert returned.sort_index().to_dict() == bounced.to_dict()
    assert int(bounced.sum()) == 391


def test_returns_are_exactly_the_bounce_backs_chosen(sample, runs):
    want = _transfers_expected(runs)
    assert int(want["bounce_back"].sum()) == 391  # as many as the oracle counts bounces
    bounce_backs = set(map(tuple, want.loc[want["bounce_back"], [CASE, TIME]].to_numpy()))
    for share, low, high in ((0.0, 0, 0), (0.5, 150, 250), (1.0, 391, 391)):
        history = as_transfers(sample.log, return_share=share, side_copy_share=0)
        returns = history[history[ACTION] == "Trả lại"]
        assert set(map(tuple, returns[[CASE, TIME]].to_numpy())) <= bounce_backs
        assert low <= len(returns) <= high, (share, len(returns))
        # attrs: the returns by ordered (sender, recipient) pair, as the rows count them.
        counted = returns.groupby([SENDER, RECIPIENT]).size()
        planted = {
            (r["sender"], r["recipient"]): r["returns"] for r in history.attrs["planted"]["returns"]
        }
        assert planted == counted.to_dict()
        assert set(returns[COMMENT]) <= {
            "Hồ sơ thiếu giấy tờ, đề nghị bổ sung",
            "Trả lại để hoàn thiện hồ sơ",
            "Đề nghị làm rõ, bổ sung thông tin",
        }


def test_open_cases_have_no_closing_and_keep_a_prefix(sample, runs):
    full = as_transfers(sample.log, side_copy_share=0, shuffle=False)
    history = as_transfers(sample.log, open_share=0.2, side_copy_share=0, shuffle=False)
    open_cases = history.attrs["planted"]["open_cases"]
    assert len(open_cases) == 60 and open_cases == sorted(open_cases)
    closings = history[history[ACTION] == "Hoàn thành"].groupby(CASE).size()
    assert not set(open_cases) & set(closings.index)
    assert set(closings) == {1} and len(closings) == 240
    assert set(history[CASE]) == set(runs["case"])  # every open case keeps ≥ 1 transfer
    # An open case's rows are the first of its full history's (comments aside).
    columns = [c for c in TRANSFER_COLUMNS if c != COMMENT]
    for case in open_cases:
        cut = history.loc[history[CASE] == case, columns].reset_index(drop=True)
        whole = full.loc[full[CASE] == case, columns].reset_index(drop=True)
        assert 1 <= len(cut) < len(whole), case
        pd.testing.assert_frame_equal(cut, whole.head(len(cut)))
    closed = history[~history[CASE].isin(open_cases)][columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        closed, full[~full[CASE].isin(open_cases)][columns].reset_index(drop=True)
    )


def test_side_copies_never_change_the_holder(sample, runs):
    history = as_transfers(sample.log, side_copy_share=0.5, seed=11)
    side = history[history[ACTION].isin(SIDE_ACTIONS)]
    assert history.attrs["planted"]["side_copies"] == len(side)
    assert 400 < len(side) < 1000 and set(side[ACTION]) == set(SIDE_ACTIONS)
    expected = runs.groupby("case")["department"].agg(tuple).sort_index()
    pd.testing.assert_series_equal(_holder_sequences(history), expected, check_names=False)
    # Each copy goes with a transfer: same case, sender, official and instant, another
    # department than the transfer's recipient and than the sender.
    moves = history[history[ACTION].isin(TRANSFERS)]
    key = [CASE, SENDER, SENDER_OFFICIAL, TIME]
    paired = side.merge(moves, on=key, how="left", suffixes=("", "_main"), validate="1:1")
    assert paired[f"{RECIPIENT}_main"].notna().all()
    assert (paired[RECIPIENT] != paired[f"{RECIPIENT}_main"]).all()
    assert (paired[RECIPIENT] != paired[SENDER]).all()
    # Its official works in the department it is copied to.
    works_in = set(map(tuple, sample.log[[schema.DEPARTMENT, schema.RESOURCE]].to_numpy()))
    assert set(map(tuple, side[[RECIPIENT, RECIPIENT_OFFICIAL]].to_numpy())) <= works_in
    # Without the copies, the same rows as an export without any (comments aside).
    columns = [c for c in TRANSFER_COLUMNS if c != COMMENT]
    without = as_transfers(sample.log, side_copy_share=0, seed=11)
    rest = history[~history[ACTION].isin(SIDE_ACTIONS)][columns]
    assert sorted(map(tuple, rest.fillna("").to_numpy())) == sorted(
        map(tuple, without[columns].fillna("").to_numpy())
    )


def test_same_seed_same_frame_and_rows_are_shuffled(sample):
    options = {"open_share": 0.1, "side_copy_share": 0.2, "seed": 5}
    first, again = as_transfers(sample.log, **options), as_transfers(sample.log, **options)
    pd.testing.assert_frame_equal(first, again)
    assert first.attrs == again.attrs
    other = as_transfers(sample.log, **(options | {"seed": 6}))
    assert not first.equals(other)
    ordered = as_transfers(sample.log, **(options | {"shuffle": False}))
    assert not first[CASE].is_monotonic_increasing and ordered[CASE].is_monotonic_increasing
    columns = [c for c in TRANSFER_COLUMNS if c != COMMENT]
    assert sorted(map(tuple, first[columns].fillna("").to_numpy())) == sorted(
        map(tuple, ordered[columns].fillna("").to_numpy())
    )


def test_times_deadline_and_the_moment_of_the_export():
    log = example_log()
    log[schema.DEADLINE] = pd.Timestamp("2024-05-10 17:00", tz=schema.DEFAULT_TIMEZONE)
    log[schema.TIMESTAMP] = (
        log[schema.TIMESTAMP].dt.tz_convert("UTC").dt.tz_convert(schema.DEFAULT_TIMEZONE)
    )
    history = as_transfers(log, shuffle=False, side_copy_share=0, at="2024-05-07 09:00")
    assert list(history.columns) == [*TRANSFER_COLUMNS, "Hạn xử lý"]
    assert history[TIME].tolist() == [
        "06/05/2024 10:00:00",  # HS1 Văn phòng → Tư pháp
        "07/05/2024 09:00:00",  # HS1 back
        "07/05/2024 09:00:00",  # HS1 closed
        "06/05/2024 14:00:00",  # HS2 Văn phòng → Tư pháp
        "07/05/2024 08:00:00",  # HS2 back; the rest is after 09:00 and HS3 moves on 8 May
    ]
    assert set(history["Hạn xử lý"]) == {"10/05/2024 17:00:00"}
    assert history.attrs["planted"]["open_cases"] == ["HS2"]


def test_a_case_without_any_department_has_no_row():
    log = example_log()
    log.loc[log[schema.CASE] == "HS3", schema.DEPARTMENT] = None
    history = as_transfers(log)
    assert set(history[CASE]) == {"HS1", "HS2"} and len(history) >= 3 + 5


def test_bad_shares_are_refused():
    with pytest.raises(ValueError, match="open_share must be between 0 and 1"):
        as_transfers(example_log(), open_share=1.5)


@pytest.mark.parametrize("name", ["history.xlsx", "history.csv.gz", "history.parquet"])
def test_cli_writes_a_transfer_history(tmp_path: Path, name: str):
    path = tmp_path / name
    result = runner.invoke(
        app, ["generate", str(path), "--as", "transfers", "--cases", "40", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    read = {
        ".xlsx": lambda path: pd.read_excel(path, engine="openpyxl"),
        ".gz": pd.read_csv,
        ".parquet": pd.read_parquet,
    }
    history = read[path.suffix](path)
    assert list(history.columns) == list(TRANSFER_COLUMNS)
    # Exported at the last receipt: the case received then has no transfer yet.
    log = datasets.generate(40, seed=3).log
    at = log.groupby("case:concept:name")["time:timestamp"].min().max()
    same = as_transfers(log, seed=3, open_share=0.02, at=at)
    assert history[CASE].nunique() == same[CASE].nunique() == 39
    closed = history.loc[history[ACTION] == "Hoàn thành", CASE]
    open_cases = set(history[CASE]) - set(closed)
    assert closed.is_unique and open_cases == set(same.attrs["planted"]["open_cases"])
    assert 0 < len(open_cases) < 39  # stuck (2 %) and still in progress at the export
    assert pd.to_datetime(history[TIME], format="%d/%m/%Y %H:%M:%S").notna().all()
    assert np.array_equal(history[TIME].to_numpy(), same[TIME].to_numpy())


def test_cli_writes_a_transfer_sample_folder_and_keeps_steps(tmp_path: Path):
    options = ["--as", "transfers", "--cases", "40", "--open-share", "0.25"]
    result = runner.invoke(app, ["generate", str(tmp_path), *options])
    assert result.exit_code == 0, result.output
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {"sample_transfers.csv.gz", "sample_catalog.csv", "sample_truth.json"}
    truth = json.loads((tmp_path / "sample_truth.json").read_text(encoding="utf-8"))
    assert len(truth["transfers"]["open_cases"]) == 10 and truth["transfers"]["seed"] == 7
    history = pd.read_csv(tmp_path / "sample_transfers.csv.gz")
    assert list(history.columns) == list(TRANSFER_COLUMNS)
    assert set(history[CASE]) - set(history.loc[history[ACTION] == "Hoàn thành", CASE]) == set(
        truth["transfers"]["open_cases"]
    )
    refused = runner.invoke(app, ["generate", str(tmp_path), "--open-share", "0.1"])
    assert refused.exit_code == 2
    wrong = runner.invoke(app, ["generate", str(tmp_path / "x.json"), "--as", "transfers"])
    assert wrong.exit_code == 2 and "Cannot write" in wrong.output


def test_committed_transfer_sample_is_the_generator_output(tmp_path):
    from procmine import datasets

    written = datasets.write_transfer_sample(tmp_path / "sample_transfers.csv.gz")
    assert written[0].read_bytes() == datasets.sample_path("sample_transfers.csv.gz").read_bytes()
