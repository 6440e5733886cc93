"""The pictures: process maps, models and the department network (procmine.drawing), read back
from their DOT text and from the files Graphviz writes."""

from __future__ import annotations

import html
import re
import shutil
import unicodedata

import networkx as nx
import pandas as pd
import pytest

import procmine as pm
from procmine import datasets, discovery, drawing, engines, handoffs
from procmine.calendar import WorkCalendar

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
    assert ">5.0 h<" in (tmp_path / "performance.svg").read_text(encoding="utf-8")


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
            "handoffs": int(count.replace(",", "")),
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
        columns=["department_a", "department_b", "excess_bounces", "hours_lost"],
    )
    return graph, pairs


def test_network_dot_has_every_department_every_edge_and_exactly_the_excess_pairs():
    graph, pairs = small_network()
    text = drawing.network_to_dot(graph, pairs, paths=1.0, top_pairs=None, legend=False)
    nodes, edges = parse_network_dot(text)

    assert set(nodes) == {nfc(n) for n in graph.nodes}
    assert unicodedata.normalize("NFD", TU_PHAP) not in text and TU_PHAP in text
    assert r'"Phòng \"Một cửa\"" [label="Phòng \"Một cửa\"\n30 min"' in text
    assert nodes[TU_PHAP] == "Phòng Tư pháp\n30.0 h"
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
    assert figures == {(TU_PHAP, "Văn phòng"): "3 lượt vượt, mất 12.5 h"}
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
            "hours_lost": [10.0, 2.0, 0.0],
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
    assert "Ẩn 1 mũi tên ít lượt (2 lượt chuyển, 1.0% tổng số)." in text
    assert "Chỉ tô" not in text

    # The worst pair only: C → A (1 handoff) is hidden too, A → C stays as C's busiest edge.
    text = drawing.network_to_dot(graph, pairs, paths=0.5, top_pairs=1)
    _, edges = parse_network_dot(text)
    assert set(edges) == {("A", "B"), ("B", "A"), ("A", "C"), ("B", "D")}
    assert {k for k, e in edges.items() if e["bold"]} == {("A", "B"), ("B", "A")}
    assert "Chỉ tô 1 cặp nặng nhất (5 trên 6 lượt vượt)." in text
    assert "Ẩn 2 mũi tên ít lượt (3 lượt chuyển, 1.5% tổng số)." in text

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
    for name in ("Văn phòng", TU_PHAP, MOT_CUA, "Phòng Y tế", "3 lượt vượt, mất 12.5 h"):
        assert name in text, name
    assert unicodedata.normalize("NFD", TU_PHAP) not in text
    inline = drawing.draw_network(graph, pairs, layout="circo")
    assert isinstance(inline, str) and "<svg" in inline and TU_PHAP in inline
    with pytest.raises(ValueError, match=r"\.svg, \.png or \.pdf"):
        drawing.draw_network(graph, pairs, path=tmp_path / "network.jpg")
