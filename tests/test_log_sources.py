"""Data where it lives (issue 20, item 3): a Parquet dataset partitioned by month, written by
``write_log`` and read back by ``read_log`` (``months=`` prunes its folders), and a PostgreSQL
table read through Arrow by ADBC (``procmine.log.sources``)."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import procmine as pm
from procmine import schema
from procmine.log import LogReadError, load_report, read_log, write_log

CASE, ACT, TS, DEPT = schema.CASE, schema.ACTIVITY, schema.TIMESTAMP, schema.DEPARTMENT
TZ = "Asia/Ho_Chi_Minh"


def spanning_export() -> pd.DataFrame:
    """Vietnamese headers; case HS2 comes first but starts a month after HS1, which spans three
    months; 01/02/2024 00:30 in Vietnam is still 31 January in UTC; two events tie in time."""
    rows = [
        ("HS2", "Tiếp nhận", "05/02/2024 08:00", "Bộ phận một cửa"),
        ("HS1", "Tiếp nhận", "15/01/2024 09:00", "Bộ phận một cửa"),
        ("HS1", "Thẩm định", "01/02/2024 00:30", "Phòng Tài chính - Kế hoạch"),
        ("HS2", "Thẩm định", "05/02/2024 08:00", "Phòng Tư pháp"),
        ("HS3", "Tiếp nhận", "20/01/2024 14:00", "Bộ phận một cửa"),
        ("HS1", "Phê duyệt", "04/03/2024 10:00", "Lãnh đạo UBND"),
        ("HS3", "Trả kết quả", "31/01/2024 23:59", "Bộ phận một cửa"),
        ("HS2", "Phê duyệt", "02/04/2024 16:45", "Lãnh đạo UBND"),
    ]
    return pd.DataFrame(rows, columns=["Mã hồ sơ", "Bước xử lý", "Thời điểm", "Đơn vị xử lý"])


def months_of(log: pd.DataFrame) -> pd.Series:
    """Each event's month on the wall clock of the log's zone, as text."""
    return log[TS].dt.strftime("%Y-%m")


def in_month_order(log: pd.DataFrame) -> pd.DataFrame:
    """The log as read_log orders it once its events come month by month, each month in the
    log's order: cases by first appearance, each by time, ties in that order."""
    order = np.argsort(months_of(log).to_numpy(), kind="stable")
    return read_log(log.iloc[order].reset_index(drop=True))


# ---------------------------------------------------------------------- partitioned datasets


def test_a_dataset_written_by_month_reads_back_as_the_log(tmp_path: Path):
    log = read_log(spanning_export())
    folder = write_log(log, tmp_path / "events", partition_by="month")
    files = sorted(folder.rglob("*.parquet"))
    # Hive folders by the month of the stamp in the log's own zone: 01/02 00:30 is February.
    assert [f.relative_to(folder).as_posix() for f in files] == [
        "month=2024-01/part-0.parquet",
        "month=2024-02/part-0.parquet",
        "month=2024-03/part-0.parquet",
        "month=2024-04/part-0.parquet",
    ]
    hs1 = log[log[CASE] == "HS1"]
    assert hs1[TS].iloc[1] == pd.Timestamp("2024-02-01 00:30", tz=TZ)
    # Each file keeps the log's order: HS2 came first.
    february = pq.read_table(files[1]).to_pandas()
    assert february[[CASE, ACT]].values.tolist() == [
        ["HS2", "Tiếp nhận"],
        ["HS2", "Thẩm định"],
        ["HS1", "Thẩm định"],
    ]
    # The files hold the log's columns, the month only in the folder names.
    for file in files:
        assert pq.read_schema(file).names == list(log.columns)
    back = read_log(folder)
    assert list(back.columns) == list(log.columns) and "month" not in back.columns
    assert back.dtypes.to_dict() == log.dtypes.to_dict()
    pd.testing.assert_frame_equal(back, in_month_order(log))
    # HS2 came first in the log but starts in February: read back, HS1 and HS3 (January) lead.
    assert back[CASE].unique().tolist() == ["HS1", "HS3", "HS2"]
    assert back[DEPT].iloc[1] == "Phòng Tài chính - Kế hoạch"
    report = load_report(back)
    assert report["format"] == "parquet dataset" and report["source"] == str(folder)
    assert report["partitions"] == {
        "months": ["2024-01", "2024-02", "2024-03", "2024-04"],
        "months_skipped": [],
        "files_read": 4,
        "period": None,
    }
    assert report["rows_read"] == report["rows_kept"] == len(log)
    assert not [w for w in report["warnings"] if "months" in w]


def test_the_sample_round_trips_through_a_dataset(tmp_path: Path):
    log = pm.datasets.load_sample()  # cases in the order they were received: no reordering
    folder = pm.write_log(log, tmp_path / "events", partition_by="month")
    assert len(list(folder.iterdir())) == months_of(log).nunique() == 22
    pd.testing.assert_frame_equal(pm.read_log(folder), log)
    single = pm.write_log(log, tmp_path / "log.parquet")
    pd.testing.assert_frame_equal(pm.read_log(single), log)
    assert load_report(pm.read_log(single))["partitions"] is None


def test_months_reads_only_those_folders(tmp_path: Path):
    log = pm.datasets.load_sample()
    folder = write_log(log, tmp_path / "events", partition_by="month")
    # Out-of-period files made unreadable: reading them would fail.
    for month in ("2024-02", "2024-05", "2025-08"):
        (folder / f"month={month}" / "part-0.parquet").write_bytes(b"not parquet")
    with pytest.raises(Exception, match=r"(?i)parquet"):
        read_log(folder)
    part = read_log(folder, months=("2024-03", "2024-04"))
    wanted = months_of(log).isin(["2024-03", "2024-04"])
    assert len(part) == int(wanted.sum()) > 0
    pd.testing.assert_frame_equal(part, read_log(log[wanted].reset_index(drop=True)))
    report = load_report(part)
    assert report["partitions"] == {
        "months": ["2024-03", "2024-04"],
        "months_skipped": sorted(set(months_of(log)) - {"2024-03", "2024-04"}),
        "files_read": 2,
        "period": ("2024-03", "2024-04"),
    }
    assert report["rows_read"] == len(part)
    (warning,) = [w for w in report["warnings"] if w.startswith("Only the months")]
    assert "2024-03 to 2024-04 were read (20 other months left out)" in warning
    assert "earlier events" in warning and "later ones" in warning
    # A case received in February and still running in March: only its March events are read.
    month = months_of(log)
    cut = sorted(set(log[CASE][month == "2024-02"]) & set(log[CASE][month == "2024-03"]))[0]
    assert part.loc[part[CASE] == cut, TS].min() >= pd.Timestamp("2024-03-01", tz=TZ)
    assert len(part[part[CASE] == cut]) < len(log[log[CASE] == cut])
    # One month, an open end, a month written another way.
    june = read_log(folder, months="2024-06")
    assert set(months_of(june)) == {"2024-06"}
    tail = read_log(folder, months=("2025-09", None))
    assert set(months_of(tail)) == {"2025-09", "2025-10"}
    assert load_report(tail)["partitions"]["files_read"] == 2
    (warning,) = [w for w in load_report(tail)["warnings"] if w.startswith("Only the months")]
    assert "earlier events" in warning and "later ones" not in warning
    pd.testing.assert_frame_equal(read_log(folder, months=(pd.Timestamp("2024-06-15"),) * 2), june)


def test_months_and_dataset_errors_are_plain(tmp_path: Path):
    log = read_log(spanning_export())
    folder = write_log(log, tmp_path / "events", partition_by="month")
    with pytest.raises(LogReadError, match="2024-01 to 2024-04"):
        read_log(folder, months=("2023-01", "2023-12"))
    with pytest.raises(ValueError, match="first month is after the last"):
        read_log(folder, months=("2024-03", "2024-01"))
    with pytest.raises(ValueError, match="months such as"):
        read_log(folder, months="March")
    csv = tmp_path / "export.csv"
    spanning_export().to_csv(csv, index=False)
    with pytest.raises(ValueError, match="month folders of a partitioned Parquet dataset"):
        read_log(csv, months="2024-01")
    with pytest.raises(ValueError, match="filter_log"):
        read_log(spanning_export(), months="2024-01")
    with pytest.raises(FileExistsError, match="not empty"):
        write_log(log, folder, partition_by="month")
    with pytest.raises(ValueError, match="partitioned by 'month'"):
        write_log(log, tmp_path / "by_case", partition_by="case")
    (tmp_path / "empty").mkdir()
    with pytest.raises(LogReadError, match="no Parquet files"):
        read_log(tmp_path / "empty")
    odd = tmp_path / "odd" / "month=2024-1"
    odd.mkdir(parents=True)
    write_log(log, odd / "part-0.parquet")
    with pytest.raises(LogReadError, match="month=YYYY-MM"):
        read_log(tmp_path / "odd")


def test_a_folder_of_plain_parquet_files_is_one_log(tmp_path: Path):
    """Files not under month folders (another writer's) are read whole, in name order; a
    Spark-like _SUCCESS marker is no data."""
    log = read_log(spanning_export())
    (tmp_path / "plain").mkdir()
    write_log(log.iloc[:4], tmp_path / "plain" / "a.parquet")
    write_log(log.iloc[4:], tmp_path / "plain" / "b.parquet")
    (tmp_path / "plain" / "_SUCCESS").write_bytes(b"")
    back = read_log(tmp_path / "plain")
    pd.testing.assert_frame_equal(back, log)
    assert load_report(back)["partitions"]["months"] == []
    with pytest.raises(LogReadError, match="month=YYYY-MM folder"):
        read_log(tmp_path / "plain", months="2024-01")


# ------------------------------------------------------------------------------- PostgreSQL


def table_of(url: str, frame: pd.DataFrame, name: str, dtype: dict | None = None) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        frame.to_sql(name, connection, index=False, if_exists="replace", dtype=dtype)
    engine.dispose()


@pytest.fixture
def no_pandas_sql(monkeypatch):
    """pandas' SQL readers fail: whatever reads now is not them."""

    def refuse(*args, **kwargs):
        raise AssertionError("pandas' SQL reader was called")

    for name in ("read_sql", "read_sql_table", "read_sql_query"):
        monkeypatch.setattr(pd, name, refuse)


def pandas_read(url: str, table: str) -> pd.DataFrame:
    """The table as pandas reads it through SQLAlchemy (Python objects): the reference."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    with engine.connect() as connection:
        frame = pd.read_sql_table(table, connection)
    engine.dispose()
    return frame


@pytest.mark.postgres
def test_a_postgresql_table_is_read_through_arrow(postgres_url, monkeypatch):
    export = spanning_export()
    export.insert(0, "stt", np.arange(1, len(export) + 1))  # the export's row order
    table_of(postgres_url, export, "nhat_ky_xu_ly")
    by_pandas = read_log(pandas_read(postgres_url, "nhat_ky_xu_ly"))
    for name in ("read_sql", "read_sql_table", "read_sql_query"):
        monkeypatch.setattr(pd, name, lambda *a, **k: pytest.fail("pandas read the table"))
    by_table = read_log(postgres_url, table="nhat_ky_xu_ly")
    pd.testing.assert_frame_equal(by_table, by_pandas)
    by_query = read_log(postgres_url, query="SELECT * FROM nhat_ky_xu_ly ORDER BY stt")
    pd.testing.assert_frame_equal(by_query, read_log(export))
    assert by_query[DEPT].tolist().count("Phòng Tài chính - Kế hoạch") == 1
    report = load_report(by_table)
    assert (report["reader"], report["format"]) == ("adbc", "sql")
    assert report["source"].endswith("(table nhat_ky_xu_ly)")
    assert report["rows_read"] == report["rows_kept"] == len(export)
    pd.testing.assert_frame_equal(read_log(postgres_url, table="public.nhat_ky_xu_ly"), by_table)


@pytest.mark.postgres
def test_typed_columns_stay_typed_and_text_is_nfc(postgres_url, no_pandas_sql):
    """A canonical log stored with timestamptz: the stamps come typed, text stored in NFD
    comes back NFC, PostgreSQL's numeric comes as float64 (as pandas reads it)."""
    from sqlalchemy.types import Numeric

    log = pm.datasets.load_sample()
    stored = log.assign(**{"Số trang": np.arange(len(log)) % 7 + 0.5})
    stored.insert(0, "stt", np.arange(len(stored)))
    nfd = stored.assign(**{DEPT: stored[DEPT].str.normalize("NFD")})
    assert not nfd[DEPT].equals(stored[DEPT])
    table_of(postgres_url, nfd, "Nhật ký", dtype={"Số trang": Numeric(6, 2)})
    back = read_log(postgres_url, query='SELECT * FROM "Nhật ký" ORDER BY stt', timezone=TZ)
    pd.testing.assert_frame_equal(back, read_log(stored, timezone=TZ))
    assert back[TS].equals(log[TS])  # the same instants, in the log's zone
    assert str(back[TS].dtype) == f"datetime64[us, {TZ}]"
    assert back["Số trang"].dtype == np.float64
    assert back[DEPT].equals(log[DEPT])
    assert load_report(back)["reader"] == "adbc"


@pytest.mark.postgres
def test_bad_rows_from_postgresql_go_to_quarantine(postgres_url, no_pandas_sql):
    rows = pd.DataFrame(
        {
            "Mã hồ sơ": ["HS1", "HS1", "HS1", None, "HS2", "HS2"],
            "Bước xử lý": ["Tiếp nhận", "Thẩm định", "Thẩm định", "Phê duyệt", "Tiếp nhận", ""],
            "Thời điểm": pd.to_datetime(
                [
                    "2024-03-01 08:00",
                    "2024-03-02 09:00",
                    "2024-03-02 09:00",
                    "2024-03-03 10:00",
                    None,
                    "2024-03-04 10:00",
                ]
            ).tz_localize(TZ),
            "Đơn vị xử lý": ["Một cửa", "Tư pháp", "Tư pháp", "Lãnh đạo", "Một cửa", "Tư pháp"],
            "stt": range(6),
        }
    )
    table_of(postgres_url, rows, "ban")
    columns = ", ".join(f'"{name}"' for name in rows.columns[:-1])
    log = read_log(postgres_url, query=f"SELECT {columns} FROM ban ORDER BY stt")
    report = load_report(log)
    assert report["reader"] == "adbc"
    assert log[ACT].tolist() == ["Tiếp nhận", "Thẩm định"]
    by_reason = {k: v for k, v in report["quarantined_by_reason"].items() if v}
    assert by_reason == {
        "missing case id": 1,
        "missing activity": 1,
        "missing timestamp": 1,
        "exact duplicate": 1,
    }
    assert report["rows_read"] == 6 == report["rows_kept"] + report["rows_quarantined"]
    quarantine = report["quarantine"]
    missing = quarantine[quarantine["reason"] == "missing timestamp"]
    assert missing["source_row"].tolist() == [5] and missing["Mã hồ sơ"].tolist() == ["HS2"]
    assert missing["Thời điểm"].isna().all()


@pytest.mark.postgres
def test_postgresql_errors_say_what_and_where(postgres_url, no_pandas_sql):
    table_of(postgres_url, spanning_export(), "nhat_ky_loi")
    port = postgres_url.rsplit(":", 1)[1].split("/")[0]
    with pytest.raises(LogReadError, match="No table 'nhat_ky_xu_lý'") as error:
        read_log(postgres_url, table="nhat_ky_xu_lý")
    assert f"127.0.0.1:{port}, database postgres" in str(error.value)
    assert "nhat_ky_loi" in str(error.value)  # the tables it has
    with pytest.raises(LogReadError, match='relation "khong_co" does not exist'):
        read_log(postgres_url, query="SELECT * FROM khong_co")
    with pytest.raises(ValueError, match="exactly one of table"):
        read_log(postgres_url)
    # A name is quoted: quotes, spaces and capitals in it are the name's own.
    quoted = 'Nhật ký "cũ"; DROP TABLE nhat_ky_loi'
    table_of(postgres_url, spanning_export().iloc[:2], quoted)
    assert len(read_log(postgres_url, table=quoted)) == 2
    assert len(read_log(postgres_url, table="nhat_ky_loi")) == len(spanning_export())


def test_an_unreachable_server_is_named(no_pandas_sql):
    pytest.importorskip("adbc_driver_postgresql")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+psycopg://an:secret@127.0.0.1:{port}/qlvb"
    with pytest.raises(LogReadError, match=f"Cannot connect to PostgreSQL at 127.0.0.1:{port}"):
        read_log(url, table="nhat_ky")


def test_other_databases_still_go_through_sqlalchemy(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'nhat_ky.db'}"
    table_of(url, spanning_export(), "nhat_ky")
    log = read_log(url, table="nhat_ky")
    pd.testing.assert_frame_equal(log, read_log(spanning_export()))
    assert load_report(log)["reader"] == "sqlalchemy"
