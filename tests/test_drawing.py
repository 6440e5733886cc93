"""The pictures: process maps, models and the department network (procmine.drawing), read back
from their DOT text and from the files Graphviz writes."""

from __future__ import annotations

import html
import itertools
import math
import re
import shutil
import struct
import time
import unicodedata

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import procmine as pm
from procmine import datasets, discovery, drawing, engines, handoffs
from procmine.calendar import WorkCalendar
from procmine.formats import format_percent

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz 'dot' is not installed"
)
START, END = discovery.START, discovery.END


def test_the_facade_draws_with_this_module():
    assert (pm.draw_map, pm.draw_model, pm.draw_network) == (
        drawing.draw_map,
        drawing.draw_model,
        drawing.draw_network,
    )


@needs_dot
def test_render_takes_a_graphviz_layout_program(tmp_path):
    svg = drawing.render('digraph { "Văn phòng" -> "Phòng Tư pháp" }', layout="circo")
    assert "<svg" in svg and "Phòng Tư pháp" in svg
    assert drawing.render("digraph { a -> b }", tmp_path / "a.pdf").read_bytes()[:4] == b"%PDF"
    with pytest.raises(ValueError, match="layout must be one of"):
        drawing.render("digraph { a -> b }", layout="graphviz")


# ----------------------------------------------------------------------------- the process map


def test_select_edges_keeps_share_and_connects_every_activity():
    edges = pd.DataFrame(
        {
            "source": [START, "A", "B", START, "R", "A"],
            "target": ["A", "B", END, "R", END, "R"],
            "frequency": [100, 100, 100, 2, 1, 1],
        }
    )
    nodes = pd.DataFrame({"activity": ["A", "B", "R"], "events": [100, 100, 2]})
    pmap = discovery.ProcessMap(nodes=nodes, edges=edges)
    kept = drawing.select_edges(pmap, paths=0.5)
    pairs = set(zip(kept["source"], kept["target"], strict=True))
    # 300 of 304 transitions come from the three heavy arcs; R is then reconnected through its
    # widest paths: ▶ → R (2) and R → ■ (1).
    assert pairs == {(START, "A"), ("A", "B"), ("B", END), (START, "R"), ("R", END)}
    graph = nx.DiGraph(pairs)
    for node in ("A", "B", "R"):
        assert nx.has_path(graph, START, node) and nx.has_path(graph, node, END)
    everything = drawing.select_edges(pmap, paths=1.0)
    assert len(everything) == 6
    only_top = drawing.select_edges(pmap, paths=1.0, activities=0.5)  # A and B (ceil 1.5 = 2)
    assert set(only_top["source"]) | set(only_top["target"]) == {START, "A", "B", END}


@needs_dot
def test_draw_map_writes_vietnamese_labels_in_nfc(tmp_path):
    name = "Thẩm định hồ sơ"
    decomposed = unicodedata.normalize("NFD", name)
    stamps = ["2024-03-04 08:00", "2024-03-04 09:00", "2024-03-04 08:00", "2024-03-05 09:00"]
    log = pd.DataFrame(
        {
            "case:concept:name": ["c1", "c1", "c2", "c2"],
            "concept:name": ["Tiếp nhận", decomposed] * 2,
            "time:timestamp": pd.to_datetime(stamps).tz_localize("Asia/Ho_Chi_Minh"),
            "org:group": ["Văn phòng", "Phòng Tư pháp"] * 2,
            "case:procedure": "P",
        }
    )
    pmap = discovery.discover_map(log)
    for view in ("frequency", "performance"):
        svg = drawing.draw_map(pmap, view=view, path=tmp_path / f"{view}.svg")
        text = svg.read_text(encoding="utf-8")
        assert name in text and decomposed not in text
        assert "Tiếp nhận" in text
    # Waits 1 h and 9 h (Mon 08:00 → Tue 09:00: 3.5 + 4 + 1.5 working hours): median 5 h.
    # Numbers as Vietnamese writes them: the decimal comma (5,0 h), the thousands dot.
    assert ">5,0 h<" in (tmp_path / "performance.svg").read_text(encoding="utf-8")


@needs_dot
def test_draw_model(tmp_path, receipt_frame):
    pytest.importorskip("pm4py")
    calendar = WorkCalendar(
        country="NL", timezone="Europe/Amsterdam", office_hours=(("08:00", "17:00"),)
    )
    model = discovery.discover_model(receipt_frame, from_dfg=False, calendar=calendar)
    for kind in ("bpmn", "petri"):
        picture = drawing.draw_model(model, tmp_path / f"{kind}.svg", kind=kind)
        assert picture.stat().st_size > 1000


# ----------------------------------------------------------------------------- the network

_DOT_STRING = r'"((?:[^"\\]|\\.)*)"'
_NODE_LINE = re.compile(rf"^  {_DOT_STRING} \[label={_DOT_STRING}, fillcolor", re.M)
_EDGE_LINE = re.compile(
    rf"^  {_DOT_STRING} -> {_DOT_STRING} \[label=(\"[^\"]*\"|<<.*?>>), (style=bold, )?penwidth=",
    re.M,
)


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], text)


def parse_network_dot(text: str) -> tuple[dict, dict]:
    """Nodes {name: label} and edges {(source, target): {handoffs, bold, figures}} of the DOT
    text of network_to_dot."""
    nodes = {_unescape(m[1]): _unescape(m[2]) for m in _NODE_LINE.finditer(text)}
    edges = {}
    for m in _EDGE_LINE.finditer(text):
        label = m[3]
        if label.startswith("<<"):
            count, figures = re.findall(r"<TD>(?:<B>)?(.*?)(?:</B>)?</TD>", label)
        else:
            count, figures = label.strip('"'), None
        edges[(_unescape(m[1]), _unescape(m[2]))] = {
            "handoffs": int(count.replace(",", "").replace(".", "")),  # 1.207 in Vietnamese
            "bold": m[4] is not None,
            "figures": figures,
        }
    return nodes, edges


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


TU_PHAP = "Phòng Tư pháp"
MOT_CUA = 'Phòng "Một cửa"'


def small_network() -> tuple[nx.DiGraph, pd.DataFrame]:
    """Four departments, one typed with combining marks and one with a double quote, one with no
    handoff; the ping-pong table as pm.ping_pong writes it (NFC names, a < b), one pair in
    excess."""
    decomposed = unicodedata.normalize("NFD", TU_PHAP)
    assert decomposed != TU_PHAP
    graph = nx.DiGraph()
    for name, held in (("Văn phòng", 120.0), (decomposed, 30.0), (MOT_CUA, 0.5), ("Phòng Y tế", 0)):
        graph.add_node(name, working_hours_held=held)
    for source, target, count in (
        ("Văn phòng", decomposed, 40),
        (decomposed, "Văn phòng", 35),
        ("Văn phòng", MOT_CUA, 1_207),
        (MOT_CUA, "Văn phòng", 6),
        (MOT_CUA, decomposed, 1),
    ):
        graph.add_edge(source, target, handoffs=count)
    rows = [
        (TU_PHAP, "Văn phòng", 3, 12.5),
        (MOT_CUA, "Văn phòng", 0, 0.0),
        (MOT_CUA, TU_PHAP, 0, 0),
    ]
    pairs = pd.DataFrame(
        [(*sorted((a, b)), excess, hours) for a, b, excess, hours in rows],
        columns=["department_a", "department_b", "excess_bounces", "working_hours_lost"],
    )
    return graph, pairs


def test_network_dot_has_every_department_every_edge_and_exactly_the_excess_pairs():
    graph, pairs = small_network()
    text = drawing.network_to_dot(graph, pairs, paths=1.0, top_pairs=None, legend=False)
    nodes, edges = parse_network_dot(text)

    assert set(nodes) == {nfc(n) for n in graph.nodes}
    assert unicodedata.normalize("NFD", TU_PHAP) not in text and TU_PHAP in text
    assert r'"Phòng \"Một cửa\"" [label="Phòng \"Một cửa\"\n30 min"' in text
    assert nodes[TU_PHAP] == "Phòng Tư pháp\n30,0 h"
    assert nodes["Văn phòng"] == "Văn phòng\n120 h"  # whole hours from 100 up

    assert {k: e["handoffs"] for k, e in edges.items()} == {
        (nfc(u), nfc(v)): n for u, v, n in graph.edges(data="handoffs")
    }
    # Both directions of each pair with an excess bounce, and nothing else.
    excess = {
        frozenset(p)
        for p in pairs.loc[
            pairs["excess_bounces"] > 0, ["department_a", "department_b"]
        ].itertuples(index=False)
    }
    expected = {(nfc(u), nfc(v)) for u, v in graph.edges if frozenset((nfc(u), nfc(v))) in excess}
    assert expected == {(TU_PHAP, "Văn phòng"), ("Văn phòng", TU_PHAP)}
    assert {k for k, e in edges.items() if e["bold"]} == expected
    # The pair's figures once, on department_a → department_b.
    figures = {k: e["figures"] for k, e in edges.items() if e["figures"]}
    assert figures == {(TU_PHAP, "Văn phòng"): "3 lượt vượt, mất 12,5 h"}
    assert edges[("Văn phòng", MOT_CUA)]["handoffs"] == 1_207  # label "1,207"

    english = drawing.network_to_dot(graph, pairs, paths=1.0, language="en", legend=False)
    assert "3 excess, 12.5 h lost" in english
    # Without a ping-pong table nothing is red.
    _, plain = parse_network_dot(drawing.network_to_dot(graph, paths=1.0))
    assert not any(e["bold"] for e in plain.values()) and len(plain) == 5


def thinning_network() -> tuple[nx.DiGraph, pd.DataFrame]:
    graph = nx.DiGraph()
    for source, target, count in (
        ("A", "B", 100),
        ("B", "A", 90),
        ("A", "C", 5),
        ("B", "D", 3),
        ("D", "B", 2),
        ("C", "A", 1),
    ):
        graph.add_edge(source, target, handoffs=count)
    pairs = pd.DataFrame(
        {
            "department_a": ["A", "A", "B"],
            "department_b": ["B", "C", "D"],
            "excess_bounces": [5, 1, 0],
            "working_hours_lost": [10.0, 2.0, 0.0],
        }
    )
    return graph, pairs


def test_network_thinning_keeps_the_busiest_edges_every_department_and_the_red_pairs():
    graph, pairs = thinning_network()
    # 201 handoffs: A→B and B→A start below half of them; A→C and C→A are a red pair; B→D is
    # D's busiest edge. Only D → B (2 handoffs) goes.
    text = drawing.network_to_dot(graph, pairs, paths=0.5, top_pairs=None)
    _, edges = parse_network_dot(text)
    assert set(edges) == {("A", "B"), ("B", "A"), ("A", "C"), ("C", "A"), ("B", "D")}
    assert {k for k, e in edges.items() if e["bold"]} == {
        ("A", "B"),
        ("B", "A"),
        ("A", "C"),
        ("C", "A"),
    }
    assert "Ẩn 1 mũi tên ít lượt (2 lượt chuyển, 1,0% tổng số)." in text
    assert "Chỉ tô" not in text

    # The worst pair only: C → A (1 handoff) is hidden too, A → C stays as C's busiest edge.
    text = drawing.network_to_dot(graph, pairs, paths=0.5, top_pairs=1)
    _, edges = parse_network_dot(text)
    assert set(edges) == {("A", "B"), ("B", "A"), ("A", "C"), ("B", "D")}
    assert {k for k, e in edges.items() if e["bold"]} == {("A", "B"), ("B", "A")}
    assert "Chỉ tô 1 cặp nặng nhất (5 trên 6 lượt vượt)." in text
    assert "Ẩn 2 mũi tên ít lượt (3 lượt chuyển, 1,5% tổng số)." in text

    same = drawing.network_to_dot(graph, pairs, min_excess_bounces=2, paths=0.5, top_pairs=None)
    assert {k for k, e in parse_network_dot(same)[1].items() if e["bold"]} == {
        ("A", "B"),
        ("B", "A"),
    }

    # min_handoffs: at least 4 handoffs, plus D's busiest edge and the red pairs.
    _, edges = parse_network_dot(drawing.network_to_dot(graph, pairs, paths=1.0, min_handoffs=4))
    assert set(edges) == {("A", "B"), ("B", "A"), ("A", "C"), ("B", "D"), ("C", "A")}


def test_network_legend_names_the_reference_of_excess():
    graph, pairs = thinning_network()
    assert "trình tự tham chiếu" in drawing.network_to_dot(graph, pairs)
    pairs.attrs["reference"] = "catalog"
    assert "vượt quy trình được phê duyệt" in drawing.network_to_dot(graph, pairs)
    english = drawing.network_to_dot(graph, pairs, language="en", title="Q1 <2024>")
    assert "bounces beyond the approved procedure" in english
    assert "Q1 &lt;2024&gt;" in english  # the title is escaped in the HTML-like label


def test_network_drawing_errors_are_explained():
    graph, pairs = thinning_network()
    with pytest.raises(ValueError, match="by='pair'"):
        drawing.network_to_dot(graph, pairs.rename(columns={"department_a": "source"}))
    with pytest.raises(ValueError, match="paths must be in"):
        drawing.network_to_dot(graph, paths=1.5)
    with pytest.raises(ValueError, match="layout must be one of"):
        drawing.network_to_dot(graph, layout="graphviz")
    with pytest.raises(ValueError, match="language must be one of"):
        drawing.network_to_dot(graph, language="fr")


def test_draw_network_and_network_to_dot_share_their_defaults():
    import inspect

    picture = inspect.signature(drawing.draw_network).parameters
    dot = inspect.signature(drawing.network_to_dot).parameters
    assert set(dot) <= set(picture)
    assert {n: picture[n].default for n in dot} == {n: p.default for n, p in dot.items()}


def test_sample_network_highlights_the_excess_pairs():
    events = engines.event_table(datasets.load_sample())
    pairs = handoffs.ping_pong(events, datasets.load_sample_catalog())
    graph = handoffs.handoff_network(events)
    excess = pairs[pairs["excess_bounces"] > 0]
    every = {(a, b) for a, b in zip(excess["department_a"], excess["department_b"], strict=True)}
    both = {e for a, b in every for e in ((a, b), (b, a)) if graph.has_edge(*e)}

    nodes, edges = parse_network_dot(drawing.network_to_dot(graph, pairs, top_pairs=None))
    assert set(nodes) == set(graph.nodes) and len(nodes) == 13
    assert {k for k, e in edges.items() if e["bold"]} == both
    for (source, target), edge in edges.items():
        assert edge["handoffs"] == graph.edges[source, target]["handoffs"]

    # By default the five worst pairs, the three planted ones first.
    nodes, edges = parse_network_dot(drawing.network_to_dot(graph, pairs))
    worst = set(zip(pairs["department_a"].head(5), pairs["department_b"].head(5), strict=True))
    assert {tuple(sorted(k)) for k, e in edges.items() if e["bold"]} == worst
    planted = {tuple(p) for p in datasets.load_sample_truth()["planted"]["pingpong_pairs"]}
    assert planted <= worst
    assert all(any(k[0] == n or k[1] == n for k in edges) for n in nodes)  # none unconnected


@needs_dot
def test_draw_network_writes_png_and_svg(tmp_path):
    graph, pairs = small_network()
    png = drawing.draw_network(graph, pairs, path=tmp_path / "network.png", title="Tháng 3")
    assert png == tmp_path / "network.png"
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000
    svg = drawing.draw_network(graph, pairs, path=tmp_path / "maps" / "network.svg")
    text = html.unescape(svg.read_text(encoding="utf-8"))
    for name in ("Văn phòng", TU_PHAP, MOT_CUA, "Phòng Y tế", "3 lượt vượt, mất 12,5 h"):
        assert name in text, name
    assert unicodedata.normalize("NFD", TU_PHAP) not in text
    inline = drawing.draw_network(graph, pairs, layout="circo")
    assert isinstance(inline, str) and "<svg" in inline and TU_PHAP in inline
    with pytest.raises(ValueError, match=r"\.svg, \.png or \.pdf"):
        drawing.draw_network(graph, pairs, path=tmp_path / "network.jpg")


# ----------------------------------------------------------------------------- large graphs
# Issue 15: a network of 649 support teams (1,616 arrows) and a map of 398 activities never
# finished drawing. By default a picture shows the busiest MAX_NODES boxes and at most MAX_ARCS
# arrows, says what it hides, is at most PAGE inches, and Graphviz is stopped after TIMEOUT.


def zipf_weights(count: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, count + 1) ** 0.9
    return weights / weights.sum()


def synthetic_map(activities: int, arcs: int, seed: int = 15) -> discovery.ProcessMap:
    """A map of ``activities`` and ``arcs`` as a real log's: busy activities have more arcs and
    busier ones; a tenth of the activities start cases, a tenth end them."""
    rng = np.random.default_rng(seed)
    names = [f"Bước {i:04d} xử lý hồ sơ" for i in range(activities)]
    rank = {name: i for i, name in enumerate(names)} | {START: 0, END: 0}
    weights = zipf_weights(activities)
    ends = max(1, activities // 10)
    pairs = {(names[i], names[i + 1]) for i in range(0, activities - 1, 2)}
    while len(pairs) < arcs - 2 * ends:
        drawn = rng.choice(activities, (arcs, 2), p=weights)
        pairs.update((names[a], names[b]) for a, b in drawn[: arcs - 2 * ends - len(pairs)])
    pairs = sorted(pairs)
    pairs += [(START, names[i]) for i in rng.choice(activities, ends, False, weights)]
    pairs += [(names[i], END) for i in rng.choice(activities, ends, False, weights)]
    ranks = np.array([rank[s] + rank[t] for s, t in pairs])
    frequency = (rng.zipf(1.6, len(pairs)) * 1000 / (1 + ranks) ** 0.8 + 1).astype(int)
    edges = pd.DataFrame(pairs, columns=["source", "target"]).assign(
        frequency=frequency,
        cases=frequency,
        median_wait_working_hours=rng.gamma(2, 3, len(pairs)),
        p90_wait_working_hours=rng.gamma(4, 3, len(pairs)),
    )
    outer = edges["source"].eq(START) | edges["target"].eq(END)
    edges.loc[outer, ["median_wait_working_hours", "p90_wait_working_hours"]] = np.nan
    events = edges.groupby("target")["frequency"].sum().reindex(names, fill_value=1).to_numpy()
    nodes = pd.DataFrame(
        {
            "activity": names,
            "cases": events,
            "events": events,
            "median_sojourn_working_hours": rng.gamma(2, 3, activities),
            "p90_sojourn_working_hours": rng.gamma(4, 3, activities),
        }
    )
    return discovery.ProcessMap(nodes=nodes, edges=edges)


def synthetic_network(
    departments: int, arrows: int, seed: int = 15
) -> tuple[nx.DiGraph, pd.DataFrame]:
    """A handoff network of ``departments`` and ``arrows`` (busy departments have more), and
    its ping-pong table by pair as pm.ping_pong writes it (a < b, worst first)."""
    rng = np.random.default_rng(seed)
    names = [f"Nhóm hỗ trợ {i:03d}" for i in range(departments)]
    graph = nx.DiGraph()
    for name in names:
        graph.add_node(name, working_hours_held=float(rng.gamma(1.5, 200)))
    weights = zipf_weights(departments)
    while graph.number_of_edges() < arrows:
        drawn = rng.choice(departments, (arrows, 2), p=weights)
        drawn = drawn[drawn[:, 0] != drawn[:, 1]][: arrows - graph.number_of_edges()]
        for (a, b), count in zip(drawn, rng.zipf(1.7, len(drawn)), strict=True):
            graph.add_edge(names[a], names[b], handoffs=int(count) * 3)
    rows = [
        (a, b, int(rng.integers(0, 30)), float(rng.gamma(2, 20)))
        for a, b in graph.edges
        if a < b and graph.has_edge(b, a)
    ]
    pairs = pd.DataFrame(
        rows, columns=["department_a", "department_b", "excess_bounces", "working_hours_lost"]
    )
    worst_first = pairs.sort_values(["excess_bounces", "working_hours_lost"], ascending=False)
    return graph, worst_first.reset_index(drop=True)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, from its header (the IHDR chunk)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def teams() -> tuple[nx.DiGraph, pd.DataFrame]:
    return synthetic_network(649, 1_616)


@pytest.fixture(scope="module")
def wide_map() -> discovery.ProcessMap:
    return synthetic_map(398, 1_600)


def largest_picture_px() -> int:
    return round(max(drawing.PAGE) * 96)  # Graphviz's PNG: 96 px an inch


@needs_dot
def test_a_network_of_649_departments_is_drawn_with_defaults_in_seconds(tmp_path, teams):
    graph, pairs = teams
    assert graph.number_of_nodes() == 649 and graph.number_of_edges() == 1_616
    start = time.perf_counter()
    png = drawing.draw_network(graph, pairs, path=tmp_path / "teams.png", title="Đội hỗ trợ")
    svg = drawing.draw_network(graph, pairs, path=tmp_path / "teams.svg", language="en")
    assert time.perf_counter() - start < 10
    width, height = png_size(png.read_bytes())
    assert 0 < width <= largest_picture_px() and 0 < height <= largest_picture_px()

    text = drawing.network_to_dot(graph, pairs)
    nodes, edges = parse_network_dot(text)
    assert len(nodes) == drawing.MAX_NODES and 0 < len(edges) <= drawing.MAX_ARCS
    shown = sum(e["handoffs"] for e in edges.values())
    total = sum(n for _, _, n in graph.edges(data="handoffs"))
    assert (
        f"Hiển thị 40 trên 649 phòng ban và {len(edges)} trên 1.616 mũi tên "
        f"({format_percent(shown / total)} số lượt chuyển); đặt departments=1.0, paths=1.0 để "
        "hiện tất cả."
    ) in text
    assert "Ẩn " not in text  # the counts replace the line on arrows with few handoffs
    english = html.unescape(svg.read_text(encoding="utf-8"))
    assert f"40 of 649 departments and {len(edges)} of 1,616 arrows shown" in english
    assert "pass departments=1.0, paths=1.0 to show all." in english
    # The five worst pairs stay, in red.
    worst = {tuple(p) for p in pairs[["department_a", "department_b"]].head(5).to_numpy()}
    red = {tuple(sorted(k)) for k, e in edges.items() if e["bold"]}
    assert red == {p for p in worst if graph.has_edge(*p) or graph.has_edge(*p[::-1])}
    assert len(red) == 5


def test_network_thinning_options_replace_the_default_caps(teams):
    graph, pairs = teams
    every, edges = parse_network_dot(
        drawing.network_to_dot(graph, pairs, departments=1.0, paths=1.0, legend=False)
    )
    assert len(every) == 649 and len(edges) == 1_616
    # Only the share of departments: the arrows among them, still at most MAX_ARCS.
    # The busiest arrow of each of 130 departments is more than MAX_ARCS: those alone.
    text = drawing.network_to_dot(graph, pairs, departments=0.2)
    nodes, edges = parse_network_dot(text)
    assert len(nodes) == math.ceil(0.2 * 649) and drawing.MAX_ARCS < len(edges) < len(nodes)
    assert f"Hiển thị 130 trên 649 phòng ban và {len(edges)} trên 1.616" in text
    alone = {n for n in nodes if not any(n in pair for pair in edges)}
    assert all(not any(u in nodes and v in nodes for u, v in graph.edges(n)) for n in alone)
    # An explicit paths: its share of the handoffs among the departments drawn, no cap.
    nodes, edges = parse_network_dot(
        drawing.network_to_dot(graph, pairs, departments=0.2, paths=1.0)
    )
    assert len(edges) == sum(1 for u, v in graph.edges if u in nodes and v in nodes)
    # Red pairs always stay, beyond the cap on departments.
    nodes, edges = parse_network_dot(
        drawing.network_to_dot(graph, pairs, departments=0.001, top_pairs=None)
    )
    red = {frozenset(k) for k, e in edges.items() if e["bold"]}
    excess = pairs[pairs["excess_bounces"] > 0]
    assert red == {frozenset(p) for p in excess[["department_a", "department_b"]].to_numpy()}
    assert len(nodes) == len(set().union(*red)) > drawing.MAX_NODES
    with pytest.raises(ValueError, match="departments must be in"):
        drawing.network_to_dot(graph, departments=0)


@needs_dot
def test_a_map_of_398_activities_is_drawn_with_defaults_in_seconds(tmp_path, wide_map):
    start = time.perf_counter()
    png = drawing.draw_map(wide_map, path=tmp_path / "map.png", title="Thủ tục")
    svg = drawing.draw_map(wide_map, "performance", path=tmp_path / "map.svg", language="en")
    assert time.perf_counter() - start < 10
    width, height = png_size(png.read_bytes())
    assert 0 < width <= largest_picture_px() and 0 < height <= largest_picture_px()

    edges = drawing.select_edges(wide_map)
    activities = (set(edges["source"]) | set(edges["target"])) - {START, END}
    assert len(activities) <= drawing.MAX_NODES and len(edges) <= drawing.MAX_ARCS
    # The busiest activities (by events) are the ones kept; each is drawn on a path from ▶ and
    # one to ■ where the arcs among them have one.
    busiest = set(wide_map.nodes.nlargest(drawing.MAX_NODES, "events")["activity"])
    assert activities <= busiest
    among = wide_map.edges[
        wide_map.edges["source"].isin(busiest | {START, END})
        & wide_map.edges["target"].isin(busiest | {START, END})
    ]
    possible = nx.DiGraph(list(zip(among["source"], among["target"], strict=True)))
    graph = nx.DiGraph(list(zip(edges["source"], edges["target"], strict=True)))
    for activity in activities:
        for source, target in ((START, activity), (activity, END)):
            assert nx.has_path(graph, source, target) == nx.has_path(possible, source, target)
    note = (
        f"Hiển thị {len(activities)} trên 398 hoạt động và {len(edges)} trên 1.600 mũi tên"
        " (nhiều nhất trước); đặt activities=1.0, paths=1.0 để hiện tất cả."
    )
    text = drawing.map_to_dot(wide_map, title="Thủ tục")
    assert f'label="Thủ tục\\n{note}", labelloc=t' in text
    english = html.unescape(svg.read_text(encoding="utf-8"))
    assert f"{len(activities)} of 398 activities and {len(edges)} of 1,600 arcs shown" in english
    assert "pass activities=1.0, paths=1.0 to show all." in english


def test_map_sliders_replace_the_default_caps(wide_map):
    everything = drawing.select_edges(wide_map, paths=1.0, activities=1.0)
    assert len(everything) == len(wide_map.edges)
    assert "Hiển thị" not in drawing.map_to_dot(wide_map, paths=1.0, activities=1.0)
    # An explicit paths, the activities capped: every arc among the busiest 40.
    some = drawing.select_edges(wide_map, paths=1.0)
    kept = set(wide_map.nodes.nlargest(drawing.MAX_NODES, "events")["activity"]) | {START, END}
    inside = wide_map.edges["source"].isin(kept) & wide_map.edges["target"].isin(kept)
    assert len(some) == int(inside.sum()) > drawing.MAX_ARCS
    with pytest.raises(ValueError, match="activities must be in"):
        drawing.select_edges(wide_map, activities=0)


def test_the_default_cap_leaves_room_for_the_arcs_that_connect_every_activity():
    flat = synthetic_map(398, 1_600, seed=0)
    flat.edges["frequency"] = flat.edges["frequency"] % 7 + 1  # 0.8 of them: 150 arcs or so
    share = drawing.MAX_NODES / 398
    sliders = drawing.select_edges(flat, paths=0.8, activities=share)
    capped = drawing.select_edges(flat)
    assert len(sliders) > 100 and len(capped) == drawing.MAX_ARCS
    # Among the 40 busiest activities, each connected from ▶ and to ■ as the sliders connect it,
    # with fewer of the busiest arcs.
    drawn, full = (
        nx.DiGraph(list(zip(e["source"], e["target"], strict=True))) for e in (capped, sliders)
    )
    for activity in set(sliders["source"]) - {START}:
        for source, target in ((START, activity), (activity, END)):
            assert nx.has_path(drawn, source, target) == nx.has_path(full, source, target)
    assert "80 trên 1.600 mũi tên" in drawing.map_to_dot(flat)
    with pytest.raises(ValueError, match="language must be one of"):
        drawing.map_to_dot(wide_map, language="fr")


@needs_dot
def test_graphviz_is_stopped_after_the_time_limit_with_the_thinning_options_named(teams):
    graph, pairs = teams
    start = time.perf_counter()
    with pytest.raises(drawing.DrawingTimeoutError) as stopped:
        drawing.draw_network(graph, pairs, departments=1.0, paths=1.0, timeout=0.5)
    assert time.perf_counter() - start < 10
    message = str(stopped.value)
    assert "649 departments and 1,616 arrows within 0.5 s and was stopped" in message
    for option in ("departments=", "paths=", "min_handoffs=", "top_pairs=", "timeout="):
        assert option in message
    wide = synthetic_map(398, 1_600)
    with pytest.raises(drawing.DrawingTimeoutError, match="activities= and paths=") as stopped:
        drawing.draw_map(wide, paths=1.0, activities=1.0, timeout=0.2)
    assert "398 activities and 1,600 arcs" in str(stopped.value)
    assert isinstance(stopped.value, RuntimeError)


@needs_dot
def test_render_bounds_the_picture(tmp_path):
    row = "digraph { rankdir=LR; " + " -> ".join(f"n{i}" for i in range(300)) + " }"
    png = drawing.render(row, tmp_path / "row.png")
    assert png_size(png.read_bytes())[0] <= largest_picture_px()
    free = drawing.render(row, tmp_path / "free.png", size=None)
    assert png_size(free.read_bytes())[0] > largest_picture_px()
    a4 = drawing.render(row, tmp_path / "a4.png", size=(11.7, 8.3))
    assert png_size(a4.read_bytes())[0] <= round(11.7 * 96)
    with pytest.raises(ValueError, match="size must be"):
        drawing.render(row, size=(0, 8))


def test_dot_text_is_built_in_linear_time():
    # 4,000 nodes and 16,000 arcs: the caps, and everything (a quadratic pass took hours).
    pmap = synthetic_map(4_000, 16_000)
    graph, pairs = synthetic_network(4_000, 16_000)
    start = time.perf_counter()
    drawing.map_to_dot(pmap)
    drawing.network_to_dot(graph, pairs)
    everything = drawing.map_to_dot(pmap, paths=1.0, activities=1.0)
    drawing.map_to_dot(pmap, paths=0.8, activities=1.0)  # thousands of activities reconnected
    drawing.network_to_dot(graph, pairs, paths=1.0, departments=1.0, top_pairs=None)
    assert time.perf_counter() - start < 20
    assert everything.count(" -> ") == 16_000


# ----------------------------------------------------------------------------- the sample


def reference_select_edges(pmap, paths, activities):
    """select_edges as it was before the caps (issue 15): a networkx search per activity and
    per threshold, quadratic, the oracle of the paths the linear one must draw."""
    count = max(1, math.ceil(activities * len(pmap.nodes) - 1e-9))
    ranked = pmap.nodes.sort_values(["events", "activity"], ascending=[False, True])
    kept = set(ranked["activity"].head(count)) | {START, END}
    edges = pmap.edges[pmap.edges["source"].isin(kept) & pmap.edges["target"].isin(kept)]
    edges = edges.sort_values(["frequency", "source", "target"], ascending=[False, True, True])
    covered = edges["frequency"].cumsum().shift(fill_value=0)
    chosen = edges[covered < paths * edges["frequency"].sum()]
    selected = set(zip(chosen["source"], chosen["target"], strict=True))

    def widest_path(source, target):
        for threshold in sorted(edges["frequency"].unique(), reverse=True):
            strong = edges[edges["frequency"] >= threshold]
            graph = nx.DiGraph()
            graph.add_edges_from(zip(strong["source"], strong["target"], strict=True))
            if source in graph and target in graph and nx.has_path(graph, source, target):
                return list(itertools.pairwise(nx.shortest_path(graph, source, target)))
        return []

    graph = nx.DiGraph(selected)
    for activity in pmap.nodes.sort_values("events", ascending=False)["activity"]:
        if activity not in kept:
            continue
        for source, target in ((START, activity), (activity, END)):
            if source in graph and target in graph and nx.has_path(graph, source, target):
                continue
            arcs = widest_path(source, target)
            selected.update(arcs)
            graph.add_edges_from(arcs)
    mask = [(s, t) in selected for s, t in zip(edges["source"], edges["target"], strict=True)]
    return edges[np.asarray(mask, dtype=bool)].reset_index(drop=True)


@pytest.fixture(scope="module")
def sample_events() -> pd.DataFrame:
    return engines.event_table(datasets.load_sample())


@pytest.fixture(scope="module")
def sample_maps(sample_events) -> dict[str, discovery.ProcessMap]:
    procedures = sorted(sample_events["procedure"].astype(str).unique())
    return {p: discovery.discover_map(sample_events, procedure=p) for p in procedures}


def test_the_widest_paths_are_the_ones_drawn_before(sample_maps):
    settings = ((0.8, 1.0), (0.3, 0.6), (0.0, 1.0))
    for procedure, pmap in sample_maps.items():
        for paths, activities in settings:
            pd.testing.assert_frame_equal(
                drawing.select_edges(pmap, paths, activities),
                reference_select_edges(pmap, paths, activities),
                obj=f"{procedure}, paths={paths}, activities={activities}",
            )
    for seed in range(2):  # ties everywhere: frequencies 1-3 on a dense small map
        pmap = synthetic_map(50, 250, seed=seed)
        pmap.edges["frequency"] = pmap.edges["frequency"] % 3 + 1
        pd.testing.assert_frame_equal(
            drawing.select_edges(pmap, 0.6, 1.0), reference_select_edges(pmap, 0.6, 1.0)
        )


def test_the_sample_pictures_are_drawn_as_before(sample_events, sample_maps):
    """Nothing of the sample is hidden by the caps: its maps and its network by default are
    byte for byte the pictures of the settings that were the defaults before them."""
    counts = sample_events["procedure"].astype(str).value_counts()
    largest = min(counts[counts == counts.max()].index)  # the demo's map (procmine.analysis)
    for procedure, pmap in sample_maps.items():
        assert len(pmap.nodes) <= drawing.MAX_NODES
        for view in ("frequency", "performance"):
            assert drawing.map_to_dot(pmap, view, title=procedure) == drawing.map_to_dot(
                pmap, view, paths=0.8, activities=1.0, title=procedure
            )
    text = drawing.map_to_dot(sample_maps[largest], "performance", title=largest)
    assert "Hiển thị" not in text and len(sample_maps[largest].nodes) == 17
    network = handoffs.handoff_network(sample_events)
    pairs = handoffs.ping_pong(sample_events, datasets.load_sample_catalog())
    title = "Chuyển hồ sơ giữa các phòng ban và các cặp đùn đẩy"
    for language in ("vi", "en"):
        default = drawing.network_to_dot(network, pairs, title=title, language=language)
        before = drawing.network_to_dot(
            network, pairs, title=title, language=language, paths=0.9, departments=1.0
        )
        assert default == before
        assert "Hiển thị" not in default and " shown (" not in default
