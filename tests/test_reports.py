"""The leadership report (issue 17): its figures against independent computations, a page a
browser can open offline, every label in the reader's language, log content escaped."""

from __future__ import annotations

import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

import procmine as pm
from procmine.labels import COLUMNS
from procmine.report_words import WORDS

SUMMARY_KEYS = {
    "cases", "events", "procedures", "departments", "on_time_rate", "late_cases",
    "median_working_days", "pingpong_cases", "pingpong_share", "working_hours_lost",
    "late_without_explanation", "reference", "timezone", "month",
}  # fmt: skip


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory) -> tuple[pm.reports.Report, Path]:
    out = tmp_path_factory.mktemp("report")
    log = pm.read_log(pm.datasets.sample_path("sample_log.csv.gz"))
    built = pm.report(log, pm.datasets.load_sample_catalog(), out=out, pdf=False)
    return built, out


def _pingpong_cases_by_hand(log: pd.DataFrame, catalog: pd.DataFrame) -> set[str]:
    """Cases with a bounce beyond their procedure's approved path, counted case by case."""

    def bounces(departments: list) -> Counter:
        runs = [d for i, d in enumerate(departments) if i == 0 or d != departments[i - 1]]
        return Counter((runs[j], runs[j + 1]) for j in range(len(runs) - 2)
                       if runs[j] == runs[j + 2])  # fmt: skip

    approved = {
        procedure: bounces(steps.sort_values("step")["department"].tolist())
        for procedure, steps in catalog.groupby("procedure")
    }
    found = set()
    for case, events in log.sort_values("time:timestamp", kind="stable").groupby(
        "case:concept:name"
    ):
        departments = events["org:group"].dropna().tolist()
        observed = bounces(departments)
        if observed - approved.get(events["case:procedure"].iloc[0], Counter()):
            found.add(str(case))
    return found


def test_headline_figures_equal_an_independent_count(sample_report):
    built, _ = sample_report
    log = pm.read_log(pm.datasets.sample_path("sample_log.csv.gz"))
    catalog = pm.datasets.load_sample_catalog()
    summary = built.summary
    assert summary["cases"] == log["case:concept:name"].nunique()
    assert summary["events"] == len(log)
    assert summary["procedures"] == log["case:procedure"].nunique()
    assert summary["pingpong_cases"] == len(_pingpong_cases_by_hand(log, catalog))
    oracle = pm.datasets.oracle.reference_counts(log, catalog)
    judged = oracle["on_time_cases"] + oracle["late_cases"]
    assert summary["on_time_rate"] == pytest.approx(oracle["on_time_cases"] / judged)
    assert summary["late_without_explanation"] == len(
        oracle["late_cases_by_explanation"]["without"]
    )


def test_summary_json_has_the_stable_keys(sample_report):
    built, out = sample_report
    written = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert set(written) >= SUMMARY_KEYS
    assert written["cases"] == built.summary["cases"] == 2000
    assert written["portfolio"]["cost_cut_met"] is True
    assert written["month"] == "2025-06"  # the last month a case was received in


def test_the_month_compares_with_the_month_before(sample_report):
    built, out = sample_report
    cases = pd.read_csv(out / "cases.csv")
    for key, month in (("month_figures", "2025-06"), ("previous_month_figures", "2025-05")):
        completed = cases[cases["month"] == month]
        assert built.summary[key]["cases"] == len(completed)
        rate = completed["on_time"].dropna().astype(bool).mean()
        assert built.summary[key]["on_time_rate"] == pytest.approx(rate)


class _Page(HTMLParser):
    """What a browser would fetch and show: every address, the header cells, the scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.addresses: list[str] = []
        self.headers: list[str] = []
        self.scripts = 0
        self._in_header = False

    def handle_starttag(self, tag, attrs):
        self.scripts += tag == "script"
        self.addresses += [value for name, value in attrs if name in ("src", "href") and value]
        self._in_header = tag == "th"

    def handle_endtag(self, tag):
        self._in_header = self._in_header and tag != "th"

    def handle_data(self, data):
        if self._in_header:
            self.headers.append(data)


def test_the_page_is_self_contained_and_says_no_column_name(sample_report):
    _, out = sample_report
    html = (out / "report.html").read_text(encoding="utf-8")
    page = _Page()
    page.feed(html)
    assert page.scripts == 0
    assert page.addresses and all(a.startswith(("data:", "#")) for a in page.addresses)
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not [h for h in page.headers if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", h.strip())]
    assert COLUMNS["excess_bounces"][0] in page.headers
    for page_key in ("headline", "on_time", "monthly_list", "late_without_explanation",
                     "open_dossiers", "ping_pong", "bottlenecks", "procedures", "portfolio",
                     "methods"):  # fmt: skip
        assert f'id="{page_key}"' in html


def test_vietnamese_numbers_and_dates(sample_report):
    built, _ = sample_report
    headline = built.pages[0].blocks[0].shown("vi")
    rate = headline.iloc[3, 1]  # on-time rate, whole period
    assert rate == pm.formats.format_percent(built.summary["on_time_rate"], "vi")
    assert "," in rate and "." not in rate
    late = built.pages[3].blocks[0].shown("vi")
    assert late[COLUMNS["completed"][0]].str.fullmatch(r"\d\d/\d\d/\d{4}").all()


def test_both_languages_have_every_word():
    assert set(WORDS["vi"]) == set(WORDS["en"])
    assert len(WORDS["vi"]["definitions"]) == len(WORDS["en"]["definitions"])


def test_log_content_is_escaped(tmp_path):
    log = pm.datasets.example_log()
    evil = "<script>alert(1)</script>"
    log["org:group"] = log["org:group"].replace("Văn phòng", evil)
    catalog = pm.datasets.example_catalog()
    catalog["department"] = catalog["department"].replace("Văn phòng", evil)
    pm.report(log, catalog, out=tmp_path, pdf=False, lang="en")
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert evil not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_officials_can_be_pseudonymised(tmp_path):
    log = pm.read_log(pm.datasets.sample_path("sample_log.csv.gz"))
    built = pm.reports.build_report(log, pm.datasets.load_sample_catalog(),
                                    pseudonymise_officials=True)  # fmt: skip
    officials = built.pages[2].blocks[1].frame["resource"]
    assert len(officials) and officials.str.fullmatch(r"CB-[0-9A-F]{6}").all()
    assert not set(officials) & set(log["org:resource"].dropna())


def test_without_a_catalog_the_report_says_what_it_used(tmp_path):
    log = pm.datasets.example_log()
    built = pm.report(log, out=tmp_path, pdf=False, lang="en")
    assert built.summary["reference"] == "most frequent sequence"
    notes = [note for page in built.pages for note in page.notes]
    assert WORDS["en"]["reference_most_frequent"] in notes
    assert WORDS["en"]["no_catalog_portfolio"] in notes
    assert WORDS["en"]["no_closing"] in notes  # every case complete, and the report says so


def test_the_worked_example_of_the_definitions():
    built = pm.reports.build_report(pm.datasets.example_log(), pm.datasets.example_catalog())
    summary = built.summary
    assert (summary["cases"], summary["late_cases"], summary["late_without_explanation"]) == (
        3,
        2,
        1,
    )
    assert summary["on_time_rate"] == pytest.approx(1 / 3)
    assert summary["median_working_days"] == pytest.approx(3.25)
    assert (summary["pingpong_cases"], summary["working_hours_lost"]) == (1, 28.0)
    assert summary["month"] == "2024-05" and summary["previous_month_figures"]["cases"] == 0
    assert summary["previous_month_figures"]["on_time_rate"] is None


def test_open_cases_are_counted_and_listed_as_overdue():
    log = pm.datasets.example_log()
    # HS2 without its last step is open, and long past its due date at the log's last stamp.
    last = log[log["case:concept:name"] == "HS2"].index[-1]
    built = pm.reports.build_report(log.drop(index=last), pm.datasets.example_catalog())
    assert (built.summary["open_cases"], built.summary["overdue_cases"]) == (1, 1)
    assert built.summary["late_cases"] == 1  # HS3 only: an open case is not judged
    at_risk = next(page for page in built.pages if page.key == "open_dossiers")
    chase, by_unit = (block.frame for block in at_risk.blocks)
    assert chase["case_id"].tolist() == ["HS2"] and chase["department"].tolist() == [
        "Phòng Tư pháp"
    ]
    assert by_unit[["open_cases", "overdue_cases"]].values.tolist() == [[1, 1]]


PUBLIC_LOGS = ["receipt.csv.gz", "bpic2012.xes.gz", "helpdesk.xes.gz",
               "roadtraffic100traces.xes.gz", "running-example.xes"]  # fmt: skip


@pytest.mark.parametrize("name", PUBLIC_LOGS)
def test_any_public_log_gets_a_report_that_says_what_is_missing(name, shared_datasets, tmp_path):
    log = pm.read_log(shared_datasets / name)
    built = pm.report(log, out=tmp_path, pdf=False, lang="en")
    assert built.summary["cases"] == log["case:concept:name"].nunique()
    assert built.summary["events"] == len(log)
    notes = {note for page in built.pages for note in page.notes}
    deadlines = pm.deadlines.has_deadlines(log)
    assert (WORDS["en"]["no_deadlines"] in notes) is not deadlines
    assert (built.summary["on_time_rate"] is None) is not deadlines
    if pm.handoffs.has_departments(log):
        assert built.summary["pingpong_cases"] is not None
    else:
        assert built.summary["pingpong_cases"] is None
        assert WORDS["en"]["no_departments"] in notes
    page = _Page()
    page.feed((tmp_path / "report.html").read_text(encoding="utf-8"))
    assert page.scripts == 0 and all(a.startswith(("data:", "#")) for a in page.addresses)


def test_every_column_a_reader_sees_has_its_words(sample_report):
    built, _ = sample_report
    shown = [block.frame for page in built.pages for block in page.blocks
             if isinstance(block, pm.reports.Table)]  # fmt: skip
    for frame in [*built.tables.values(), *shown]:
        for lang in ("vi", "en"):
            names = [pm.labels.label(str(column), lang) for column in frame.columns]
            assert len(set(names)) == len(names), names  # no two columns read alike
        unnamed = [c for c in frame.columns if c not in COLUMNS and "_" in str(c)]
        assert not unnamed, unnamed


def test_a_transfer_history_gets_a_report_without_steps(tmp_path):
    path = pm.datasets.sample_path("sample_transfers.csv.gz")
    history = pm.read_log(path)
    built = pm.report(history, pm.datasets.load_sample_catalog(), out=tmp_path, pdf=False)
    raw = pd.read_csv(path, dtype=str)
    closed = set(raw.loc[raw["Hình thức chuyển"] == "Hoàn thành", "Mã hồ sơ"])
    assert built.summary["cases"] == raw["Mã hồ sơ"].nunique() == 1988
    assert built.summary["open_cases"] == raw["Mã hồ sơ"].nunique() - len(closed) > 0
    assert built.simplification is None and "observed_yearly_cost" not in built.summary
    pages = {page.key: page for page in built.pages}
    assert WORDS["vi"]["no_steps_maps"] in pages["procedures"].notes
    assert not any(isinstance(b, pm.reports.Picture) for b in pages["procedures"].blocks)
    assert WORDS["vi"]["no_steps_portfolio"] in pages["portfolio"].notes
    assert WORDS["vi"]["no_steps_explanations"] in pages["late_without_explanation"].notes
    pairs = next(b.frame for b in pages["ping_pong"].blocks if isinstance(b, pm.reports.Table))
    assert "returns" in pairs.columns and pairs["returns"].sum() > 0
    facts = pages["methods"].blocks[0].frame.set_index("figure")["value"]
    assert "luân chuyển hồ sơ" in facts[WORDS["vi"]["method_form"]]
    assert "activity" not in built.analysis.bottlenecks  # a transfer is no step


def test_why_dossiers_are_late_page(sample_report):
    built, _ = sample_report
    page = next(page for page in built.pages if page.key == "why_late")
    log, catalog = pm.datasets.load_sample(), pm.datasets.load_sample_catalog()
    drivers = pm.delay_drivers(pm.event_table(log), catalog, lang="vi")
    assert drivers.attrs["message"] in page.notes  # the score beside its baseline, in words
    tables = [block.frame for block in page.blocks if isinstance(block, pm.reports.Table)]
    named, grouped = tables
    assert named["driver"].tolist() == drivers.loc[drivers["low"] > 0, "driver"].head(10).tolist()
    assert named["driver"].iloc[0] == "bước ngoài quy trình"
    assert any(isinstance(block, pm.reports.Picture) for block in page.blocks)
    assert len(grouped) == 2 and grouped["members"].map(len).sum() == 25


def test_bottleneck_examples_are_the_largest_cases_of_the_whole_log(sample_report):
    """The page finds its example cases among the events of the rows it shows only: they are
    those of the cases behind each row over the whole log (largest first, three)."""
    built, _ = sample_report
    log = pm.read_log(pm.datasets.sample_path("sample_log.csv.gz"))
    page = next(page for page in built.pages if page.key == "bottlenecks")
    tables = [block.frame for block in page.blocks if isinstance(block, pm.reports.Table)]
    assert len(tables) == len(built.analysis.bottlenecks)
    for (by, ranked), shown in zip(built.analysis.bottlenecks.items(), tables, strict=True):
        keys = ["source", "target"] if by == "handoff" else [by]
        behind = pm.bottleneck_cases(log, by)
        for row in shown.itertuples(index=False):
            key = tuple(getattr(row, column) for column in keys)
            if any(pd.isna(value) for value in key):
                assert pd.isna(row.example_cases)  # the row of missing departments
                continue
            mask = (behind[keys] == pd.Series(key, index=keys)).all(axis=1)
            assert row.example_cases == ", ".join(behind.loc[mask, "case_id"].head(3))
        assert len(shown) == min(len(ranked), pm.reports.TOP)


def test_completion_months_are_what_strftime_gives():
    stamps = pd.Series(pd.to_datetime(["2024-03-31 23:59:59", None, "2023-12-01 00:00:00",
                                       "2024-10-27 02:30:00", "1969-12-31 12:00:00"]))  # fmt: skip
    for zone in ("Asia/Ho_Chi_Minh", "Europe/Paris", "America/St_Johns"):
        local = stamps.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
        expected = local.dt.strftime("%Y-%m")
        found = pm.reports.completion_months(local)
        pd.testing.assert_series_equal(found, expected)


def _counted_queries(monkeypatch) -> Counter:
    """Count the engine's queries of the per-case deadline table and of ping-pong."""
    from procmine import deadlines, engines, handoffs

    asked, query = Counter(), engines.query
    table = dict(deadlines.per_case(480))["per_case"]  # the default clock's 480 minutes a day
    kinds = {"ping_pong_case": handoffs.ping_pong_sql("case"),
             "ping_pong_pair": handoffs.ping_pong_sql("pair")}  # fmt: skip

    def spy(sql: str, *args, **kwargs):
        asked["per_case"] += table in sql
        asked.update(kind for kind, text in kinds.items() if sql == text)
        return query(sql, *args, **kwargs)

    monkeypatch.setattr(engines, "query", spy)
    return asked


def test_the_report_computes_the_per_case_table_and_ping_pong_by_case_once(monkeypatch):
    # Every deadline figure of the report — its cases, the monthly lists, the on-time page, the
    # late cases, the models' judged cases and the simplification's on-time table — reads one
    # per-case table, and the models read the report's ping-pong by case.
    log, catalog = pm.datasets.example_log(), pm.datasets.example_catalog()
    asked = _counted_queries(monkeypatch)
    built = pm.reports.build_report(log, catalog)
    assert built.simplification is not None  # the simplification ran, and asked no more
    assert asked["per_case"] == 1
    assert asked["ping_pong_case"] == 1
    assert asked["ping_pong_pair"] == 1


def test_a_report_with_its_own_moment_leaves_the_models_their_own_tables(monkeypatch):
    # The models and the simplification judge cases at the log's last event with the default
    # names: a report asked for another moment does not hand them its table (nothing refused).
    log, catalog = pm.datasets.example_log(), pm.datasets.example_catalog()
    asked = _counted_queries(monkeypatch)
    built = pm.reports.build_report(log, catalog, until="2024-05-31")
    alone = pm.reports.build_report(log, catalog)
    assert asked["per_case"] == 1 + 1 + 3  # each report's own, then drivers, clusters, candidates
    assert built.summary["on_time_rate"] == alone.summary["on_time_rate"]
    pd.testing.assert_frame_equal(built.simplification.candidates, alone.simplification.candidates)
