"""The README's notebook example runs as written, on the sample exported as a user would have it."""

import gzip
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from procmine import datasets

README = Path(__file__).parents[1] / "README.md"


def test_readme_python_example_runs(tmp_path: Path):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, "README.md shows a Python example"
    with gzip.open(datasets.sample_path("sample_log.csv.gz")) as packed:
        (tmp_path / "export.csv").write_bytes(packed.read())
    shutil.copy(datasets.sample_path("sample_catalog.csv"), tmp_path / "catalog.csv")
    with gzip.open(datasets.sample_path("sample_transfers.csv.gz")) as packed:
        (tmp_path / "transfers.csv").write_bytes(packed.read())
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        namespace: dict = {}
        exec(compile(blocks[0], "README.md", "exec"), namespace)
    finally:
        os.chdir(cwd)
    assert (tmp_path / "map.svg").stat().st_size > 1000
    assert (tmp_path / "report" / "report.html").stat().st_size > 10_000
    assert len(namespace["log"]) == 14_250
    assert pd.api.types.is_bool_dtype(namespace["history"]["procmine:side_copy"])
    # The Spark example, in the same session: the same table as on DuckDB.
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs a Java runtime (make test installs one)")
    (spark_block,) = [block for block in blocks if 'engine="spark"' in block]
    try:
        exec(compile(spark_block, "README.md", "exec"), namespace)
        pm, events, catalog = namespace["pm"], namespace["events"], namespace["catalog"]
        pd.testing.assert_frame_equal(
            namespace["on_spark"], pm.ping_pong(events, catalog), check_exact=False, rtol=1e-9
        )
    finally:
        from pyspark.sql import SparkSession

        running = SparkSession.getActiveSession()
        if running is not None:
            running.stop()
