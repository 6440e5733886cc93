"""The analysts' notebooks run from top to bottom without error (executed, not just parsed), are
stored without outputs, write nothing into the repository, and show the sample's own figures: a
notebook that ran but computed nothing (an empty log, a figure gone silent) fails."""

import re
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from procmine import datasets

REPO = Path(__file__).parents[1]
FOLDER = REPO / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))
# The analysts' series (issue 17): read and check the log, maps and conformance, bottlenecks and
# ping-pong, compliance cost and the portfolio.
SERIES = (
    "01_load_and_validate.ipynb",
    "02_maps_and_conformance.ipynb",
    "03_bottlenecks_and_pingpong.ipynb",
    "04_cost_and_portfolio.ipynb",
)

_executed: dict[Path, nbformat.NotebookNode] = {}


def executed(path: Path) -> nbformat.NotebookNode:
    """The notebook run top to bottom in a fresh kernel, started in notebooks/ as Jupyter would
    (once per test session: the checks below share the run)."""
    if path not in _executed:
        notebook = nbformat.read(path, as_version=4)
        client = NotebookClient(
            notebook,
            timeout=600,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        )
        client.execute()
        _executed[path] = notebook
    return _executed[path]


def printed(notebook: nbformat.NotebookNode) -> str:
    """Everything the notebook's code cells printed to stdout."""
    return "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stdout"
    )


def figure(notebook: nbformat.NotebookNode, label: str) -> str:
    """The value printed on the notebook's line ``label: value``."""
    found = re.findall(rf"^{re.escape(label)}: (.+)$", printed(notebook), flags=re.M)
    assert found, f"the notebook prints no line '{label}: …'"
    return found[-1].strip()


def number(text: str) -> float:
    return float(re.match(r"[-\d,.]+", text).group().replace(",", ""))


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds the analysts' walkthroughs"


@pytest.mark.parametrize("name", SERIES)
def test_the_series_is_there(name: str):
    assert (FOLDER / name).is_file(), f"notebooks/{name} is missing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path: Path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    dirty = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, f"cells {dirty} keep outputs: clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes(path: Path):
    before = _untracked_files()
    notebook = executed(path)
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors
    assert _untracked_files() <= before, "the notebook wrote into the repository (use tempfile)"


def _untracked_files() -> set[str]:
    """Files under notebooks/ that git does not know (what a notebook writing beside itself
    leaves; the other engineers' work elsewhere in the tree is not counted)."""
    listed = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard", "--", "notebooks"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    return set(listed.stdout.split()) if listed.returncode == 0 else set()


@pytest.fixture(scope="module")
def truth() -> dict:
    return datasets.load_sample_truth()


def test_01_reads_the_whole_sample():
    notebook = executed(FOLDER / SERIES[0])
    assert int(figure(notebook, "cases")) == 2000
    assert int(figure(notebook, "rows read")) == int(figure(notebook, "rows kept")) == 14_250
    assert int(figure(notebook, "catalog procedures")) == 25
    # The messy export: nine rows, four of them quarantined each for its own reason.
    assert figure(notebook, "messy rows read") == "9 = kept 5 + quarantined 4"


def test_02_finds_the_sample_deviations(truth: dict):
    notebook = executed(FOLDER / SERIES[1])
    planted = sum(sum(counts.values()) for counts in truth["counts"]["deviations"].values())
    assert int(figure(notebook, "cases checked")) == 2000
    assert int(figure(notebook, "deviations")) == planted


def test_03_finds_the_worst_pingpong_pair(truth: dict):
    notebook = executed(FOLDER / SERIES[2])
    worst = max(truth["counts"]["pairs"], key=lambda pair: pair["excess_bounces"])
    assert int(figure(notebook, "worst pair excess bounces")) == worst["excess_bounces"]
    assert figure(notebook, "worst pair") == f"{worst['department_a']} ↔ {worst['department_b']}"
    assert int(figure(notebook, "late without explanation")) > 0


def test_04_chooses_a_portfolio_and_writes_the_plan():
    notebook = executed(FOLDER / SERIES[3])
    assert number(figure(notebook, "observed compliance cost")) > 0
    assert int(figure(notebook, "candidates")) > 0
    counted = figure(notebook, "procedures simplified")
    simplified, of = re.fullmatch(r"(\d+) of (\d+)", counted).groups()
    assert int(of) == 25 and int(simplified) >= 1
    assert number(figure(notebook, "compliance cost cut")) > 0
    written = re.findall(r"^written: (\S+) \((\d+) bytes\)$", printed(notebook), flags=re.M)
    assert {Path(name).suffix for name, _ in written} == {".docx", ".xlsx", ".csv"}
    assert all(int(size) > 0 for _, size in written)
