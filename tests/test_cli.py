"""The command line, run as a user would (typer's runner, same process)."""

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from procmine import datasets
from procmine.cli import app

runner = CliRunner()


def test_version_names_the_licence():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert "AGPL-3.0-or-later" in result.output


def test_validate_prints_the_load_report_of_the_sample():
    result = runner.invoke(app, ["validate", str(datasets.sample_path("sample_log.csv.gz"))])
    assert result.exit_code == 0, result.output
    assert "14,250" in result.output  # rows read and kept
    assert "Mã hồ sơ" in result.output and "case:concept:name" in result.output


def test_validate_quarantines_bad_rows_and_still_succeeds(tmp_path: Path):
    path = tmp_path / "export.csv"
    pd.DataFrame(
        {
            "Mã hồ sơ": ["HS1", "HS1", "", "HS2"],
            "Bước xử lý": ["Tiếp nhận", "Thẩm định", "Tiếp nhận", "Tiếp nhận"],
            "Thời điểm": ["02/01/2024 08:00", "03/01/2024 09:00", "02/01/2024 08:00", "hôm qua"],
        }
    ).to_csv(path, index=False)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "missing case id" in result.output and "unparseable timestamp" in result.output
    assert "Quarantined rows" in result.output and "hôm qua" in result.output


def test_validate_exits_non_zero_when_the_file_cannot_be_used(tmp_path: Path):
    path = tmp_path / "export.csv"
    pd.DataFrame({"Mã hồ sơ": ["HS1"], "Ghi chú": ["x"]}).to_csv(path, index=False)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "Cannot use" in result.output and "Columns found" in " ".join(result.output.split())


def test_generate_writes_log_catalog_and_truth(tmp_path: Path):
    result = runner.invoke(app, ["generate", str(tmp_path), "--cases", "40", "--seed", "3"])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in tmp_path.iterdir())
    assert {"sample_log.csv.gz", "sample_catalog.csv", "sample_truth.json"} <= set(written)


def test_demo_prints_the_figures_and_writes_maps(tmp_path: Path):
    result = runner.invoke(app, ["demo", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Worst ping-pong pairs" in result.output
    pairs = pd.read_csv(tmp_path / "ping_pong_pairs.csv")
    truth = datasets.load_sample_truth()
    planted = {tuple(pair) for pair in truth["planted"]["pingpong_pairs"]}
    top = set(zip(pairs["department_a"].head(3), pairs["department_b"].head(3), strict=True))
    assert top == planted
    for name in (
        "frequency_map.svg",
        "performance_map.svg",
        "model_bpmn.png",
        "model.bpmn",
        "network.svg",
        "network.png",
    ):
        assert (tmp_path / "maps" / name).stat().st_size > 1000, name
    svg = (tmp_path / "maps" / "frequency_map.svg").read_text(encoding="utf-8")
    assert "Tiếp nhận hồ sơ" in svg  # Vietnamese labels survive, in NFC
    # The department network: every department, and the planted pairs' figures in red.
    assert "network.png" in result.output and "network.svg" in result.output
    network = (tmp_path / "maps" / "network.svg").read_text(encoding="utf-8")
    assert (tmp_path / "maps" / "network.png").read_bytes()[:4] == b"\x89PNG"
    assert "Phòng Kinh tế" in network and "Thanh tra huyện" in network
    worst = pairs.iloc[0]
    assert f"{worst['excess_bounces']:,} lượt vượt" in network
    # The portfolio against the targets, and the plan (issue 16).
    assert "The portfolio against the targets" in result.output
    plan = tmp_path / "simplification"
    for name in ("compliance_cost.csv", "candidates.xlsx", "plan.docx"):
        assert (plan / name).stat().st_size > 500, name
    assert (plan / "portfolio_summary.csv").stat().st_size > 200  # a header and three targets
    summary = pd.read_csv(plan / "portfolio_summary.csv")
    assert summary.set_index("target").loc[["simplified_share", "cost_cut"], "met"].all()
    # The leadership report (issue 17), in Vietnamese, as HTML and PDF.
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert '<html lang="vi">' in html and "Danh sách đơn vị, cá nhân xử lý hồ sơ trễ hạn" in html
    assert (tmp_path / "report.pdf").read_bytes()[:5] == b"%PDF-"
    headline = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert headline["cases"] == 2000 and headline["reference"] == "catalog"
    # The same sample as a transfer history (issue 18): its report, with its open dossiers.
    assert "A transfer history (chain of custody)" in result.output
    transfers = tmp_path / "transfers"
    assert (transfers / "report.pdf").read_bytes()[:5] == b"%PDF-"
    headline = json.loads((transfers / "summary.json").read_text(encoding="utf-8"))
    assert headline["cases"] == 1988 and headline["open_cases"] == 70
    assert not (transfers / "simplification").exists()  # no steps, no cost


def test_analyze_a_foreign_log_without_a_catalog(tmp_path: Path, shared_datasets: Path):
    source = shared_datasets / "receipt.csv.gz"
    result = runner.invoke(
        app, ["analyze", str(source), "--lang", "en", "--out", str(tmp_path), "--no-pdf"]
    )
    assert result.exit_code == 0, result.output
    cases = pd.read_csv(source)["case:concept:name"].nunique()
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["cases"] == cases
    assert summary["reference"] == "most frequent sequence"
    assert summary["timezone"].startswith("Europe/")
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html and "most frequent one" in html


def test_analyze_says_what_is_wrong_with_the_input(tmp_path: Path):
    result = runner.invoke(app, ["analyze", str(tmp_path / "missing.csv"), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "Cannot use the input" in result.output


def test_validate_prints_the_clock_and_the_department_column(tmp_path: Path):
    path = tmp_path / "dutch.csv"
    pd.DataFrame(
        {
            "case:concept:name": ["c1", "c1"],
            "concept:name": ["a", "b"],
            "time:timestamp": ["2011-10-11T13:45:40+02:00", "2011-12-01T09:00:00+01:00"],
            "org:role": ["Group 1", "UNDEFINED"],
        }
    ).to_csv(path, index=False)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "clock: Europe/Amsterdam, inferred from the stamps' UTC offsets" in output
    assert "country=None" in output and "pm.WorkCalendar(country='NL'" in output
    assert "department column: 'org:role'" in output
    assert "'UNDEFINED' × 1" in output
    # The shared options: a zone, a country and a mapping.
    result = runner.invoke(
        app,
        ["validate", str(path), "--timezone", "Europe/Rome", "--country", "IT",
         "--mapping", "org:role=org:resource"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "clock: Europe/Rome, as given" in output
    assert "WorkCalendar(country='IT', timezone='Europe/Rome'" in output
    assert "department column: none" in output and "no department column" in output


def test_validate_refuses_bad_options_plainly(tmp_path: Path):
    path = tmp_path / "export.csv"
    pd.DataFrame({"case": ["c1"], "activity": ["a"], "time": ["01/03/2024 08:00"]}).to_csv(
        path, index=False
    )
    for options, message in [
        (["--mapping", "activity=step"], "not a canonical column"),
        (["--timezone", "Mars/Base"], "IANA zone"),
        (["--country", "XX"], "not known to the holidays package"),
    ]:
        result = runner.invoke(app, ["validate", str(path), *options])
        assert result.exit_code == 2, result.output
        assert message in " ".join(result.output.split()) and "Traceback" not in result.output
    result = runner.invoke(app, ["validate", str(path), "--mapping", "no-equals-sign"])
    assert result.exit_code == 2 and "COLUMN=ROLE" in result.output


def test_validate_exits_2_on_broken_xes_and_empty_csv(tmp_path: Path):
    import gzip

    log = (
        '<?xml version="1.0"?><log><trace><string key="concept:name" value="c1"/>'
        + '<event><string key="concept:name" value="a"/>'
        '<date key="time:timestamp" value="2020-03-02T09:00:00+01:00"/></event>'
        * 3000
        + "</trace></log>"
    )
    whole = gzip.compress(log.encode())
    files = {
        "cut.xes.gz": whole[: len(whole) // 2],
        "empty.xes": b"",
        "text.xes": b"not XML at all\n",
        "header.csv": "Mã hồ sơ,Bước xử lý,Thời điểm\n".encode(),
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
        result = runner.invoke(app, ["validate", str(tmp_path / name)])
        assert result.exit_code == 2, (name, result.output)
        assert "Cannot use" in result.output and "Traceback" not in result.output, name
        assert "panicked" not in result.output
    assert "no data rows" in " ".join(result.output.split())


def _example_files(folder: Path) -> tuple[Path, Path]:
    log = datasets.example_log()
    log.to_csv(folder / "log.csv", index=False)
    datasets.example_catalog().to_csv(folder / "catalog.csv", index=False)
    return folder / "log.csv", folder / "catalog.csv"


def test_simplify_writes_the_plan_and_prints_the_targets(tmp_path: Path):
    log, catalog = _example_files(tmp_path)
    out = tmp_path / "plan"
    result = runner.invoke(
        app, ["simplify", str(log), "--catalog", str(catalog), "--out", str(out), "--lang", "en"]
    )
    assert result.exit_code == 0, result.output
    assert "simplified_share" in result.output and "cost_cut" in result.output
    cost = pd.read_csv(out / "compliance_cost.csv")
    assert cost["procedure"].tolist() == ["Cấp phép"]
    assert (out / "plan.docx").read_bytes()[:2] == b"PK"  # a Word document is a zip
    assert {"plan.xlsx", "plan.csv", "candidates.csv", "portfolio_measures.csv"} <= {
        path.name for path in out.iterdir()
    }


def test_simplify_refuses_a_bad_costs_file_plainly(tmp_path: Path):
    log, catalog = _example_files(tmp_path)
    costs = tmp_path / "costs.yaml"
    text = datasets.sample_path("costs.yaml").read_text(encoding="utf-8")
    costs.write_text(text.replace("cost_cut:", "cost_cut: 1.5 #", 1), encoding="utf-8")
    result = runner.invoke(
        app, ["simplify", str(log), "--catalog", str(catalog), "--costs", str(costs)]
    )
    assert result.exit_code == 2, result.output
    assert "cost_cut" in result.output and "costs.yaml" in result.output
    assert "Traceback" not in result.output


def test_open_cases_lists_where_each_open_dossier_sits(tmp_path: Path):
    log = datasets.example_log()
    last = log[log["case:concept:name"] == "HS2"].index[-1]  # HS2 stops before its last step
    log.drop(index=last).to_csv(tmp_path / "log.csv", index=False)
    datasets.example_catalog().to_csv(tmp_path / "catalog.csv", index=False)
    out = tmp_path / "open.xlsx"
    result = runner.invoke(
        app,
        ["open-cases", str(tmp_path / "log.csv"), "--catalog", str(tmp_path / "catalog.csv"),
         "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 open dossiers written" in result.output
    held = pd.read_excel(out, sheet_name="open_cases", engine="calamine")
    assert held[["case_id", "department"]].values.tolist() == [["HS2", "Phòng Tư pháp"]]
    assert held["working_days_left"].iloc[0] < 0  # overdue at the log's last stamp


def test_validate_reads_a_period_of_a_month_partitioned_dataset(tmp_path: Path):
    import procmine as pm

    log = pm.read_log(datasets.sample_path("sample_log.csv.gz"))
    folder = pm.write_log(log, tmp_path / "events", partition_by="month")
    months = sorted(p.name.removeprefix("month=") for p in folder.iterdir())
    first, last = months[2], months[4]
    result = runner.invoke(app, ["validate", str(folder), "--months", f"{first}..{last}"])
    assert result.exit_code == 0, result.output
    assert f"Only the months {first} to {last} were read" in " ".join(result.output.split())
    expected = pm.read_log(folder, months=(first, last))
    assert f"{len(expected):,}" in result.output and len(expected) < len(log)
    result = runner.invoke(app, ["validate", str(folder), "--months", "2024-13"])
    assert result.exit_code == 2 and "months=" in result.output
