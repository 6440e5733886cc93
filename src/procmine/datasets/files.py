"""The sample's files: the agency-style export, writing a sample, and loading the committed one.

The committed sample lives in the repository's ``datasets/`` directory next to ``src/``
(:data:`DATASETS_DIR`): the samples ship with the source tree, not with an installed wheel;
:func:`write_sample` (``procmine generate``) writes them anywhere.
"""

from __future__ import annotations

import gzip
import io
import json
import unicodedata
from pathlib import Path

import pandas as pd

from procmine import schema
from procmine.calendar import WorkCalendar, as_calendar
from procmine.catalog import read_catalog, write_catalog
from procmine.datasets.generator import generate
from procmine.vocabulary import CLOSINGS, EXPLANATIONS, RETURNS

__all__ = [
    "AGENCY_HEADERS",
    "DATASETS_DIR",
    "SAMPLE_FILES",
    "export_like_agency",
    "load_sample",
    "load_sample_catalog",
    "load_sample_truth",
    "sample_path",
    "write_sample",
]

# src/procmine/datasets/files.py → the repository root, then its datasets/ folder.
DATASETS_DIR = Path(__file__).resolve().parents[3] / "datasets"

SAMPLE_FILES = {
    "log": "sample_log.csv.gz",
    "catalog": "sample_catalog.csv",
    "truth": "sample_truth.json",
    "config": "config.yaml",
}

AGENCY_HEADERS = {
    schema.CASE: "Mã hồ sơ",
    schema.PROCEDURE: "Tên thủ tục",
    schema.ACTIVITY: "Bước xử lý",
    schema.DEPARTMENT: "Đơn vị xử lý",
    schema.RESOURCE: "Người xử lý",
    schema.TIMESTAMP: "Thời điểm",
}
_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def _for_cp1258(text: str) -> str:
    """Vietnamese text in the form Windows-1258 can hold: letters precomposed except their tone
    marks, which follow as combining characters (Python's codec has no precomposed toned
    letters, nor every decomposed form)."""
    out: list[str] = []
    tones: list[str] = []
    for char in unicodedata.normalize("NFD", text):
        if char in _TONE_MARKS:
            tones.append(char)
        elif unicodedata.combining(char) and out:
            out[-1] = unicodedata.normalize("NFC", out[-1] + char)
        else:
            out.extend(tones)
            tones = []
            out.append(char)
    return "".join(out + tones)


def export_like_agency(
    log: pd.DataFrame,
    path: str | Path,
    encoding: str = "utf-8-sig",
    date_format: str = "%d/%m/%Y %H:%M:%S",
) -> Path:
    """Write a canonical log as an agency's document system exports it: Vietnamese headers (Mã
    hồ sơ, Tên thủ tục, Bước xử lý, Đơn vị xử lý, Người xử lý, Thời điểm), local wall-clock
    times in ``date_format``, empty cells for missing values; gzip when ``path`` ends in ``.gz``
    (reproducible bytes). ``encoding="cp1258"`` writes Windows-1258 with tone marks split off.

    >>> import tempfile
    >>> from procmine.datasets import example_log
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = export_like_agency(example_log(), Path(folder) / "export.csv")
    ...     path.read_text(encoding="utf-8-sig").splitlines()[0]
    'Mã hồ sơ,Tên thủ tục,Bước xử lý,Đơn vị xử lý,Người xử lý,Thời điểm'
    """
    path = Path(path)
    columns = [c for c in AGENCY_HEADERS if c in log.columns]
    frame = log[columns].rename(columns=AGENCY_HEADERS)
    frame["Thời điểm"] = log[schema.TIMESTAMP].dt.strftime(date_format)
    if encoding.replace("-", "").replace("_", "").lower() in ("cp1258", "windows1258"):
        for header in frame.columns[:-1]:
            values = frame[header].astype("string")
            unique = values.dropna().unique()  # convert the vocabulary, not every event
            frame[header] = values.map(dict(zip(unique, map(_for_cp1258, unique), strict=True)))
        frame.columns = [_for_cp1258(h) for h in frame.columns]
    if path.suffix != ".gz":
        frame.to_csv(path, index=False, encoding=encoding)
        return path
    # Written through GzipFile by hand: no file name and no time in the header, so the same
    # log always gives the same bytes (pandas would store the file name).
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed,
        io.TextIOWrapper(packed, encoding=encoding, newline="") as text,
    ):
        frame.to_csv(text, index=False)
    return path


def write_sample(
    out_dir: str | Path = DATASETS_DIR,
    n_cases: int = 2000,
    seed: int = 7,
    calendar: WorkCalendar | None = None,
) -> list[Path]:
    """Generate a sample and write its log (agency export), catalog, truth and config.

    What ``procmine generate`` calls. Returns the paths written: log, catalog, truth, config.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     [path.name for path in write_sample(folder, n_cases=20)]
    ['sample_log.csv.gz', 'sample_catalog.csv', 'sample_truth.json', 'config.yaml']
    """
    import yaml

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    calendar = as_calendar(calendar)
    sample = generate(n_cases=n_cases, seed=seed, calendar=calendar)
    paths = {kind: out / name for kind, name in SAMPLE_FILES.items()}
    export_like_agency(sample.log, paths["log"])
    write_catalog(sample.catalog, paths["catalog"])
    paths["truth"].write_text(
        json.dumps(sample.truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    config = {
        "calendar": calendar.to_config(),
        "explanation_activities": list(EXPLANATIONS),
        "closing_activities": list(CLOSINGS),
        "return_activities": list(RETURNS),
        "transfer_actions": {},
        "units": [],
    }
    paths["config"].write_text(
        "# procmine settings for the sample: the working clock, the names of explanation\n"
        "# steps of late cases, of closing steps beyond each procedure's last approved step and\n"
        "# of return steps (docs/calendar.md, docs/definitions.md); action words a transfer\n"
        "# history writes, by kind, beyond the built-in ones, and units renamed or merged\n"
        "# (docs/loading.md). Edit for your agency.\n"
        + yaml.safe_dump(config, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    return list(paths.values())


def sample_path(name: str) -> Path:
    """Path of a file of the committed sample in the repository's ``datasets/`` directory.

    >>> sample_path("sample_catalog.csv").name
    'sample_catalog.csv'
    """
    path = DATASETS_DIR / name
    if not path.exists():
        raise FileNotFoundError(
            f"No sample file {path}. The samples ship with the source repository (datasets/); "
            "write them anywhere with `procmine generate` or procmine.datasets.write_sample()."
        )
    return path


def load_sample() -> pd.DataFrame:
    """The committed sample log (2,000 cases), loaded from its agency export by ``read_log``.

    >>> len(load_sample())
    14250
    """
    from procmine.log import read_log

    return read_log(sample_path(SAMPLE_FILES["log"]))


def load_sample_catalog() -> pd.DataFrame:
    """The sample's approved-procedure catalog.

    >>> load_sample_catalog()["procedure"].nunique()
    25
    """
    return read_catalog(sample_path(SAMPLE_FILES["catalog"]))


def load_sample_truth() -> dict:
    """The sample's ground truth (keys in docs/CONTRACTS.md).

    >>> load_sample_truth()["planted"]["bottleneck_department"]
    'Văn phòng HĐND và UBND'
    """
    return json.loads(sample_path(SAMPLE_FILES["truth"]).read_text(encoding="utf-8"))
