"""Shared fixtures: the public datasets beside the repository and a throw-away PostgreSQL."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATASETS = REPO.parent / "shared" / "datasets" / "public"
POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The public event logs in ../shared/datasets/public (skipped, and said so, when absent)."""
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"../shared is absent: no public datasets at {SHARED_DATASETS}")
    return SHARED_DATASETS


@pytest.fixture(scope="session")
def receipt_frame(shared_datasets: Path):
    """The public receipt log read with pandas alone, as pm4py users read it (not with procmine's
    loader): pm4py's column names, UTC stamps, sorted by case then time. A fresh copy per test."""
    import pandas as pd

    log = pd.read_csv(shared_datasets / "receipt.csv.gz")
    log["time:timestamp"] = pd.to_datetime(log["time:timestamp"], utc=True, format="ISO8601")
    log = log.sort_values(["case:concept:name", "time:timestamp"], kind="stable")
    return log.reset_index(drop=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_postgres(*command: str | Path) -> list[str]:
    # initdb refuses to run as root, and CI runs as root.
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return prefix + [str(part) for part in command]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL of a PostgreSQL 15 cluster on loopback, created for this test session."""
    initdb = POSTGRES_BIN / "initdb"
    if not initdb.exists():
        message = f"PostgreSQL 15 is not installed ({initdb} is absent): apt-get install postgresql"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    directory = Path(tempfile.mkdtemp(prefix="procmine-pg-"))
    data = directory / "data"
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    port = _free_port()
    log_file = directory / "server.log"
    quiet = {"check": True, "capture_output": True, "text": True}
    try:
        subprocess.run(
            _as_postgres(initdb, "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8"),
            **quiet,
        )
        subprocess.run(
            _as_postgres(
                POSTGRES_BIN / "pg_ctl",
                "-D",
                data,
                "-l",
                log_file,
                "-w",
                "-t",
                "60",
                "-o",
                f"-p {port} -c listen_addresses=127.0.0.1 -k {directory}",
                "start",
            ),
            **quiet,
        )
    except subprocess.CalledProcessError as error:
        shutil.rmtree(directory, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL: {error.stderr or error.stdout}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_postgres(POSTGRES_BIN / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop"),
            capture_output=True,
        )
        shutil.rmtree(directory, ignore_errors=True)
