"""The analysts' notebooks run from top to bottom without error (executed, not just parsed), are
stored without outputs, write nothing into the repository, and show the sample's own figures: a
notebook that ran but computed nothing (an empty log, a figure gone silent) fails."""

import re
import subprocess
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from procmine import datasets

REPO = Path(__file__).parents[1]
FOLDER = REPO / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))
# The analysts' series (issue 17): read and check the log, maps and conformance, bottlenecks and
# ping-pong, compliance cost and the portfolio; then transfer histories and open dossiers (issue
# 18) and why dossiers are late (issue 19).
SERIES = (
    "01_load_and_validate.ipynb",
    "02_maps_and_conformance.ipynb",
    "03_bottlenecks_and_pingpong.ipynb",
    "04_cost_and_portfolio.ipynb",
    "05_transfer_histories_and_open_dossiers.ipynb",
    "06_why_dossiers_are_late.ipynb",
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


def test_05_reads_the_transfer_history_and_lists_the_open_dossiers(truth: dict):
    notebook = executed(FOLDER / SERIES[4])
    # The figures against the export itself, read with pandas alone.
    raw = pd.read_csv(datasets.sample_path("sample_transfers.csv.gz"))
    case, action = raw["Mã hồ sơ"], raw["Hình thức chuyển"]
    closed = case[action == "Hoàn thành"].nunique()
    assert figure(notebook, "transfer history") == "True"
    assert int(figure(notebook, "rows read")) == int(figure(notebook, "rows kept")) == len(raw)
    assert int(figure(notebook, "cases")) == case.nunique()
    # Open: the cases without a "Hoàn thành" row; each gets one holder marker.
    assert int(figure(notebook, "open dossiers")) == case.nunique() - closed > 0
    markers = int(figure(notebook, "open dossiers")) + int(figure(notebook, "out of chain"))
    assert int(figure(notebook, "holder markers")) == markers
    # Returns per pair add up to the "Trả lại" rows that hand the dossier to another department.
    recipient, sender = raw["Đơn vị nhận"], raw["Đơn vị chuyển"]
    handing_back = (action == "Trả lại") & recipient.notna() & recipient.ne(sender)
    assert int(figure(notebook, "returns")) == int(handing_back.sum()) > 0
    worst = max(truth["counts"]["pairs"], key=lambda pair: pair["excess_bounces"])
    assert figure(notebook, "worst pair") == f"{worst['department_a']} ↔ {worst['department_b']}"
    # The closed dossiers give the step log's handoffs and bounces on every pair.
    assert int(figure(notebook, "closed cases compared")) == closed
    assert int(figure(notebook, "pairs compared")) > 0
    for counted in ("handoffs", "bounces", "excess_bounces"):
        assert int(figure(notebook, f"pairs whose {counted} differ")) == 0
    # The merger: the merged unit holds the open dossiers of both.
    units = figure(notebook, "open dossiers of the two units before")
    before = re.fullmatch(r"(\d+) \+ (\d+)", units)
    assert before, "the notebook prints the two units' open dossiers as 'a + b'"
    merged = int(figure(notebook, "open dossiers held by the merged unit"))
    assert merged == int(before[1]) + int(before[2]) > 0


def test_06_names_the_drivers_of_lateness_and_the_clusters(truth: dict):
    notebook = executed(FOLDER / SERIES[5])
    counts, planted = truth["counts"], truth["planted"]["opportunities"]
    assert int(figure(notebook, "cases modelled")) == counts["late_cases"] + counts["on_time_cases"]
    assert int(figure(notebook, "late cases modelled")) == counts["late_cases"]
    # The held-out score clears the baseline: its interval lies above 0.5.
    score = float(figure(notebook, "held-out ROC AUC"))
    low, high = (float(end) for end in figure(notebook, "AUC interval").split("–"))
    assert 0.5 < low <= score <= high
    # The top driver: the steps not in the procedure, its cases counted in pandas.
    assert figure(notebook, "top driver") == "bước ngoài quy trình"
    assert figure(notebook, "top driver key") == "off_path"
    log, catalog = datasets.load_sample(), datasets.load_sample_catalog()
    prescribed = set(zip(catalog["procedure"], catalog["activity"], strict=True))
    explanations = set(truth["meta"]["explanation_activities"])
    off_path = [
        (procedure, activity) not in prescribed and activity not in explanations
        for procedure, activity in zip(log["case:procedure"], log["concept:name"], strict=True)
    ]
    with_driver = log.loc[off_path, "case:concept:name"].nunique()
    assert int(figure(notebook, "top driver cases")) == with_driver > 0
    mae, baseline = figure(notebook, "overrun MAE"), figure(notebook, "overrun baseline MAE")
    assert number(mae) < number(baseline)
    # Two clusters; the ping-pong one holds the six procedures the generator plants ping-pong in.
    assert int(figure(notebook, "clusters")) == 2
    pingpong = {row["procedure"] for row in planted["end_pingpong"]}
    assert int(figure(notebook, "ping-pong cluster procedures")) == len(pingpong)
    assert set(re.findall(r"^  - (.+)$", printed(notebook), flags=re.M)) == pingpong
    # The drop of the planted extra step carries the top driver in its evidence.
    extra_steps = {row["procedure"] for row in planted["drop_extra_step"]}
    assert figure(notebook, "drop_extra_step procedure") in extra_steps
    assert "yếu tố trễ hạn: hồ sơ có ít nhất một bước ngoài quy trình" in printed(notebook)
    assert int(figure(notebook, "candidates with a lateness driver")) >= 1
