"""Every public log in ../shared/datasets/public, as a practitioner brings it: the file alone, no
option (issue 15's acceptance). Each verb finishes, the drawings within 30 s, and the load report
states the clock and the department column it chose."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import procmine as pm

LOGS = [
    "receipt.csv.gz",
    "bpic2012.xes.gz",
    "helpdesk.xes.gz",
    "roadtraffic100traces.xes.gz",
    "running-example.xes",
]
DRAWING_SECONDS = 30


@pytest.fixture(scope="module", params=LOGS)
def public(request: pytest.FixtureRequest, shared_datasets: Path):
    path = shared_datasets / request.param
    log = pm.read_log(path)
    return request.param, log, pm.event_table(log)


def test_the_load_report_states_the_clock_and_the_department_column(public):
    name, log, events = public
    report = pm.load_report(log)
    assert isinstance(report["calendar"], pm.WorkCalendar)
    assert pm.engines.table_calendar(events) == report["calendar"]
    assert report["rows_read"] == report["rows_kept"] + report["rows_quarantined"]
    if name == "receipt.csv.gz":  # Dutch stamps: a Dutch zone, no Vietnamese holidays
        assert report["calendar"].timezone.startswith("Europe/")
        assert report["calendar"].country is None
        assert report["department_column"] == "org:group"
    else:
        assert "department_column" in report


def test_handoffs_ping_pong_and_bottlenecks(public):
    _, log, events = public
    if "org:group" in log.columns:
        assert pm.handoff_network(events).number_of_nodes() > 0
        assert len(pm.ping_pong(events)) > 0
        assert len(pm.bottlenecks(events, by="department")) > 0
    else:  # the load report says the handoff figures are unavailable, and they say why
        with pytest.raises(pm.MissingColumnError, match="department"):
            pm.ping_pong(events)
    ranking = pm.bottlenecks(events, by="activity")
    assert ranking["share"].sum() == pytest.approx(1.0)


@pytest.mark.parametrize("noise", [0.0, 0.2])
def test_map_and_model(public, noise):
    _, log, events = public
    pmap = pm.discover_map(events)
    assert pmap.cases == log["case:concept:name"].nunique()
    for from_dfg in (False, True):
        model = pm.discover_model(events, noise=noise, from_dfg=from_dfg)
        assert model.net is not None and model.bpmn is not None


def test_conformance_where_a_model_exists(public, shared_datasets: Path):
    name, log, _ = public
    if name != "receipt.csv.gz":
        pytest.skip("only the receipt log ships with a model of its process")
    found = pm.conformance_to_model(log, shared_datasets / "receipt.bpmn")
    assert 0.0 < found.fitness["log_fitness"] <= 1.0


def test_both_drawings_finish(public, tmp_path: Path):
    _, log, events = public
    start = time.perf_counter()
    pm.draw_map(pm.discover_map(events), path=tmp_path / "map.svg")
    assert time.perf_counter() - start < DRAWING_SECONDS
    if "org:group" in log.columns:
        start = time.perf_counter()
        pm.draw_network(pm.handoff_network(events), pm.ping_pong(events), path=tmp_path / "n.png")
        assert time.perf_counter() - start < DRAWING_SECONDS
