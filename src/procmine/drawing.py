"""Every picture procmine draws: process maps, discovered models and the department network.

A picture is DOT text (:func:`map_to_dot`, :func:`network_to_dot`) laid out and rendered by
Graphviz in one place (:func:`render`): the format from the file's suffix, Vietnamese labels in
NFC, the font, the palettes, the layout program (``layout=``: ``dot``, ``circo``, …). The figures
drawn come from the modules of their concepts (:func:`procmine.discovery.discover_map`,
:func:`procmine.handoffs.handoff_network`, :func:`procmine.handoffs.ping_pong`); nothing there
imports this module. How the pictures read: ``docs/maps.md``.

>>> svg = render('digraph { "Văn phòng" -> "Phòng Tư pháp" }')
>>> svg.startswith("<?xml") and "Phòng Tư pháp" in svg
True
"""

from __future__ import annotations

import html
import itertools
import math
import shutil
import subprocess
import textwrap
import unicodedata
from pathlib import Path
from typing import Any, Literal

import networkx as nx
import numpy as np
import pandas as pd

from procmine.discovery import END, START, ProcessMap, ProcessModel, quiet_pm4py

__all__ = [
    "BLUES", "FONT", "FORMATS", "GREYS", "LAYOUTS", "REDS",
    "draw_map", "draw_model", "draw_network", "hours_label", "map_to_dot", "network_to_dot",
    "quote", "render", "require_dot", "select_edges", "shade", "wrap_label",
]  # fmt: skip

FORMATS = ("svg", "png", "pdf")
# Graphviz's layout programs, all run through ``dot -K``: only ``dot`` itself needs to be found.
LAYOUTS = ("dot", "neato", "fdp", "sfdp", "circo", "twopi", "osage", "patchwork")

# Every label is set in Noto Sans (Debian ``fonts-noto-core``): it has every Vietnamese letter,
# precomposed, so NFC text renders without falling back to another font mid-word.
FONT = 'fontname="Noto Sans"'

# Light to dark, for a share in [0, 1] (ColorBrewer's Blues, Reds and Greys, ends).
BLUES = ((222, 235, 247), (8, 69, 148))
REDS = ((254, 229, 217), (165, 15, 21))
GREYS = ((189, 189, 189), (37, 37, 37))


# ---------------------------------------------------------------------------------------------
# Graphviz plumbing shared by every picture
# ---------------------------------------------------------------------------------------------


def require_dot() -> str:
    """The path of the Graphviz program ``dot``, or an error that says how to install it.

    >>> Path(require_dot()).name
    'dot'
    """
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(
            "Drawing needs the Graphviz program 'dot', which is not installed. Install it with "
            "'apt-get install graphviz' (Debian/Ubuntu), 'brew install graphviz' or "
            "'conda install graphviz', or see https://graphviz.org/download/."
        )
    return dot


def hours_label(value: float) -> str:
    """Working hours as a label: whole hours from 100 up, tenths from 1, minutes below.

    >>> [hours_label(v) for v in (12615.57, 5.0, 0.25, float("nan"))]
    ['12,616 h', '5.0 h', '15 min', '']
    """
    if value is None or pd.isna(value):
        return ""
    if value >= 100:
        return f"{value:,.0f} h"
    return f"{value:.1f} h" if value >= 1 else f"{value * 60:.0f} min"


def _nfc(text: Any) -> str:
    """Text in NFC: Vietnamese typed with combining marks becomes the precomposed letters."""
    return unicodedata.normalize("NFC", str(text))


def quote(text: str) -> str:
    r"""A DOT string literal, NFC-normalised (Vietnamese typed with combining marks renders as
    the same letters).

    >>> print(quote('Phòng "A"'))
    "Phòng \"A\""
    """
    text = _nfc(text)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def wrap_label(text: str, width: int) -> str:
    """A label broken into as few lines as ``width`` characters allow, of even length, a dash
    between two names ending its line (``width`` 0: one line).

    >>> wrap_label("Phòng Tài chính - Kế hoạch", 20).split("\\n")
    ['Phòng Tài chính -', 'Kế hoạch']
    >>> wrap_label("Phòng Giáo dục và Đào tạo", 20).split("\\n")
    ['Phòng Giáo dục', 'và Đào tạo']
    """
    if width <= 0 or len(text) <= width:
        return text
    lines = len(textwrap.wrap(text, width))
    even = math.ceil(len(text) / lines)
    while len(parts := textwrap.wrap(text, even)) > lines:
        even += 1
    return "\n".join(parts).replace("\n- ", " -\n")


def shade(share: float, palette: tuple[tuple[int, int, int], tuple[int, int, int]]) -> str:
    """The colour at ``share`` (clipped to [0, 1]) from the light to the dark end of a palette.

    >>> shade(0.0, BLUES), shade(1.0, BLUES), shade(2.0, GREYS)
    ('#deebf7', '#084594', '#252525')
    """
    low, high = palette
    share = min(max(share, 0.0), 1.0)
    rgb = [round(a + (b - a) * share) for a, b in zip(low, high, strict=True)]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _format(path: str | Path | None) -> str:
    """The picture's format from the path's suffix (SVG without a path)."""
    fmt = Path(path).suffix.lstrip(".").lower() if path is not None else "svg"
    if fmt not in FORMATS:
        raise ValueError(f"The picture's suffix must be .svg, .png or .pdf; got {path!r}.")
    return fmt


def _checked_layout(layout: str) -> str:
    """``layout`` itself when it is one of Graphviz's layout programs (:data:`LAYOUTS`)."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {list(LAYOUTS)}; got {layout!r}.")
    return layout


def render(dot_text: str, path: str | Path | None = None, layout: str = "dot") -> Path | str:
    """Lay out DOT text with Graphviz and write the picture to ``path`` (svg, png or pdf by its
    suffix; folders are made), returning the path; without a path, return the SVG text (Jupyter
    shows it with ``IPython.display.SVG``). ``layout`` is the Graphviz layout program: ``dot``
    (layered), ``neato``/``fdp``/``sfdp`` (springs), ``circo`` (circle), ``twopi``, ….

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     picture = render("digraph { a -> b }", Path(folder) / "pair.png", layout="circo")
    ...     picture.name, picture.read_bytes()[1:4]
    ('pair.png', b'PNG')
    """
    dot = require_dot()
    fmt = _format(path)
    done = subprocess.run(
        [dot, f"-K{_checked_layout(layout)}", f"-T{fmt}"],
        input=dot_text.encode("utf-8"),
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"Graphviz failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    if path is None:
        return done.stdout.decode("utf-8")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(done.stdout)
    return path


# ---------------------------------------------------------------------------------------------
# The process map and the discovered model
# ---------------------------------------------------------------------------------------------


def _kept_activities(nodes: pd.DataFrame, activities: float) -> set[str]:
    """The most frequent activities (by events), ``activities`` of them as a share, at least one."""
    if not 0.0 < activities <= 1.0:
        raise ValueError(f"activities must be in (0, 1]; got {activities!r}.")
    count = max(1, math.ceil(activities * len(nodes) - 1e-9))
    ranked = nodes.sort_values(["events", "activity"], ascending=[False, True])
    return set(ranked["activity"].head(count))


def _widest_path(edges: pd.DataFrame, source: str, target: str) -> list[tuple[str, str]]:
    """The arcs of a path from source to target whose least frequent arc is as frequent as
    possible (found by lowering a frequency threshold until the two are connected)."""
    for threshold in sorted(edges["frequency"].unique(), reverse=True):
        strong = edges[edges["frequency"] >= threshold]
        graph = nx.DiGraph()
        graph.add_edges_from(zip(strong["source"], strong["target"], strict=True))
        if source in graph and target in graph and nx.has_path(graph, source, target):
            nodes = nx.shortest_path(graph, source, target)
            return list(itertools.pairwise(nodes))
    return []


def select_edges(pmap: ProcessMap, paths: float = 0.8, activities: float = 1.0) -> pd.DataFrame:
    """The arcs a map drawing keeps (Disco's sliders).

    ``activities``: share of the activities kept, most frequent first; the arcs of the others are
    hidden (the map is not recomputed without them; filter the log to see the arcs through them).
    ``paths``: the most frequent arcs are kept until they cover that share of all transitions
    (``▶``/``■`` arcs included); then every kept activity is connected from ``▶`` and to ``■``
    through the widest path (the one with the most frequent weakest arc) where one exists.

    Three cases Nhận → Ký and one Nhận → Bổ sung → Ký: half the transitions are covered by the
    two busiest arcs, and Bổ sung is reconnected through the widest path from ``▶`` to it.

    >>> import procmine as pm
    >>> log = pd.DataFrame({"case:concept:name": list("aabbccddd"),
    ...     "concept:name": ["Nhận", "Ký"] * 3 + ["Nhận", "Bổ sung", "Ký"],
    ...     "time:timestamp": pd.date_range("2024-05-06 08:00", periods=9, freq="h")})
    >>> select_edges(pm.discover_map(log), paths=0.5)[["source", "target", "frequency"]]
        source   target  frequency
    0       Ký        ■          4
    1        ▶     Nhận          4
    2     Nhận       Ký          3
    3  Bổ sung       Ký          1
    4     Nhận  Bổ sung          1
    """
    if not 0.0 <= paths <= 1.0:
        raise ValueError(f"paths must be in [0, 1]; got {paths!r}.")
    kept = _kept_activities(pmap.nodes, activities) | {START, END}
    edges = pmap.edges[pmap.edges["source"].isin(kept) & pmap.edges["target"].isin(kept)]
    edges = edges.sort_values(["frequency", "source", "target"], ascending=[False, True, True])
    covered = edges["frequency"].cumsum().shift(fill_value=0)
    chosen = edges[covered < paths * edges["frequency"].sum()]
    selected = set(zip(chosen["source"], chosen["target"], strict=True))

    graph = nx.DiGraph(selected)
    # Per activity (a few dozen), not per event: reconnect what the threshold cut off.
    for activity in pmap.nodes.sort_values("events", ascending=False)["activity"]:
        if activity not in kept:
            continue
        for source, target in ((START, activity), (activity, END)):
            if source in graph and target in graph and nx.has_path(graph, source, target):
                continue
            arcs = _widest_path(edges, source, target)
            selected.update(arcs)
            graph.add_edges_from(arcs)
    mask = [(s, t) in selected for s, t in zip(edges["source"], edges["target"], strict=True)]
    return edges[np.asarray(mask, dtype=bool)].reset_index(drop=True)


def map_to_dot(
    pmap: ProcessMap,
    view: Literal["frequency", "performance"] = "frequency",
    paths: float = 0.8,
    activities: float = 1.0,
    title: str | None = None,
) -> str:
    """The DOT text of a map drawing (see :func:`draw_map`); the layout program is chosen when
    it is rendered.

    >>> import procmine as pm
    >>> log = pd.DataFrame({"case:concept:name": list("aabb"), "concept:name": ["Nhận", "Ký"] * 2,
    ...     "time:timestamp": pd.date_range("2024-05-06 08:00", periods=4, freq="h")})
    >>> text = map_to_dot(pm.discover_map(log), view="performance")
    >>> print(*[line for line in text.splitlines() if '"Ký"' in line], sep="\\n")
      "Ký" [label="Ký\\n1.0 h", fillcolor="#a50f15", fontcolor=white];
      "Ký" -> "■" [label="", penwidth=1.00, color="#fee5d9"];
      "Nhận" -> "Ký" [label="1.0 h", penwidth=6.00, color="#a50f15"];
    """
    if view not in ("frequency", "performance"):
        raise ValueError(f"view must be 'frequency' or 'performance'; got {view!r}.")
    edges = select_edges(pmap, paths, activities)
    shown = set(edges["source"]) | set(edges["target"])
    nodes = pmap.nodes[pmap.nodes["activity"].isin(shown)]
    font = FONT
    lines = [
        "digraph procmine_map {",
        f'  graph [rankdir=TB, charset="UTF-8", {font}, fontsize=12, nodesep=0.4, ranksep=0.5'
        + (f", label={quote(title)}, labelloc=t" if title else "")
        + "];",
        f'  node [{font}, fontsize=11, shape=box, style="rounded,filled", penwidth=1];',
        f"  edge [{font}, fontsize=9];",
        f'  {quote(START)} [shape=circle, label="▶", fillcolor="#d9f0d3", width=0.35];',
        f'  {quote(END)} [shape=circle, label="■", fillcolor="#e0e0e0", width=0.35];',
    ]
    if view == "frequency":
        node_value = nodes["events"].astype(float)
        node_text = nodes["events"].map(lambda n: f"{n:,}")
        edge_value = edges["frequency"].astype(float)
        edge_text = edges["frequency"].map(lambda n: f"{n:,}")
        node_palette, edge_palette = BLUES, GREYS
    else:
        node_value = nodes["median_sojourn_hours"].astype(float).fillna(0.0)
        node_text = nodes["median_sojourn_hours"].map(hours_label)
        edge_value = edges["median_wait_hours"].astype(float).fillna(0.0)
        edge_text = edges["median_wait_hours"].map(hours_label)
        node_palette, edge_palette = REDS, REDS
    node_top = max(float(node_value.max()) if len(node_value) else 0.0, 1e-12)
    edge_top = max(float(edge_value.max()) if len(edge_value) else 0.0, 1e-12)
    for activity, value, text in zip(nodes["activity"], node_value, node_text, strict=True):
        share = value / node_top
        font_colour = "white" if share > 0.6 else "black"
        label = f"{activity}\n{text}" if text else str(activity)
        lines.append(
            f"  {quote(activity)} [label={quote(label)}, "
            f'fillcolor="{shade(share, node_palette)}", fontcolor={font_colour}];'
        )
    for source, target, value, text in zip(
        edges["source"], edges["target"], edge_value, edge_text, strict=True
    ):
        share = value / edge_top
        width = 1.0 + 5.0 * share
        lines.append(
            f"  {quote(source)} -> {quote(target)} [label={quote(text)}, "
            f'penwidth={width:.2f}, color="{shade(share, edge_palette)}"];'
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def draw_map(
    pmap: ProcessMap,
    view: Literal["frequency", "performance"] = "frequency",
    paths: float = 0.8,
    activities: float = 1.0,
    path: str | Path | None = None,
    title: str | None = None,
    *,
    layout: str = "dot",
) -> Path | str:
    """Draw a map with Graphviz: the frequency view (events per activity, transitions per arc,
    blue/grey by frequency) or the performance view (median sojourn per activity and median wait
    per arc in working hours, red by time). ``paths`` and ``activities`` are Disco's sliders (see
    :func:`select_edges`); ``layout`` is the Graphviz layout program (``dot``: layered, top to
    bottom). Writes ``path`` (format from its suffix: svg, png, pdf) and returns it; without a
    path returns the SVG text (shown inline by Jupyter via ``IPython.display.SVG``).

    >>> import procmine as pm, tempfile
    >>> log = pd.DataFrame({"case:concept:name": list("aabbb"),
    ...     "concept:name": ["Nhận", "Ký", "Nhận", "Bổ sung", "Ký"],
    ...     "time:timestamp": pd.date_range("2024-05-06 08:00", periods=5, freq="h")})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     draw_map(pm.discover_map(log), "performance", path=Path(folder) / "map.svg").suffix
    '.svg'
    """
    return render(map_to_dot(pmap, view, paths, activities, title), path, layout=layout)


def draw_model(
    model: ProcessModel, path: str | Path, kind: Literal["bpmn", "petri", "tree"] = "bpmn"
) -> Path:
    """Draw the model with pm4py's visualizers; the format is the file's suffix (svg, png, pdf).

    >>> import procmine as pm, tempfile
    >>> log = pd.DataFrame({"case:concept:name": list("aabbb"),
    ...     "concept:name": ["Nhận", "Ký", "Nhận", "Thẩm định", "Ký"],
    ...     "time:timestamp": pd.date_range("2024-05-06 08:00", periods=5, freq="h")})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     draw_model(pm.discover_model(log), Path(folder) / "model.svg", kind="tree").suffix
    '.svg'
    """
    require_dot()
    pm4py = quiet_pm4py()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "bpmn":
        pm4py.save_vis_bpmn(model.bpmn, str(path))
    elif kind == "petri":
        pm4py.save_vis_petri_net(model.net, model.im, model.fm, str(path))
    elif kind == "tree":
        pm4py.save_vis_process_tree(model.tree, str(path))
    else:
        raise ValueError(f"kind must be 'bpmn', 'petri' or 'tree'; got {kind!r}.")
    return path


# ---------------------------------------------------------------------------------------------
# The department handoff network
# ---------------------------------------------------------------------------------------------

# The words of the picture; a department head reads Vietnamese, an outside reviewer English.
# ``{reference}`` is what excess is measured against (the ping-pong table's attrs["reference"]).
_NETWORK_WORDS = {
    "vi": {
        "pair": "{excess:,} lượt vượt, mất {hours}",
        "nodes": "Ô: phòng ban và số giờ làm việc hồ sơ nằm tại phòng (màu càng đậm càng nhiều).",
        "edges": "Mũi tên: số lượt chuyển hồ sơ (nét càng dày càng nhiều).",
        "pairs": "Đỏ: cặp đùn đẩy — số lượt trả qua trả lại vượt {reference}"
        " và số giờ làm việc bị mất (màu càng đậm càng nhiều).",
        "some pairs": "Chỉ tô {pairs} cặp nặng nhất ({shown:,} trên {total:,} lượt vượt).",
        "hidden": "Ẩn {edges} mũi tên ít lượt ({handoffs:,} lượt chuyển, {share:.1%} tổng số).",
        "catalog": "quy trình được phê duyệt",
        "most frequent sequence": "trình tự phổ biến nhất của thủ tục",
        "other": "trình tự tham chiếu",
    },
    "en": {
        "pair": "{excess:,} excess, {hours} lost",
        "nodes": "Boxes: departments and the working hours cases spent with them (darker: more).",
        "edges": "Arrows: handoffs of cases (thicker: more).",
        "pairs": "Red: ping-pong pairs — bounces beyond {reference}"
        " and the working hours they lost (darker: more).",
        "some pairs": "Only the {pairs} worst pairs ({shown:,} of {total:,} excess bounces).",
        "hidden": "{edges} arrows with few handoffs hidden ({handoffs:,} handoffs,"
        " {share:.1%} of all).",
        "catalog": "the approved procedure",
        "most frequent sequence": "the procedure's most frequent sequence",
        "other": "the reference sequence",
    },
}

# An unordered department pair: its two names in NFC, in code point order (as ping_pong's
# department_a < department_b), so a name typed another way still finds its edges.
_Pair = tuple[str, str]


def _pair_key(a: Any, b: Any) -> _Pair:
    return tuple(sorted((_nfc(a), _nfc(b))))


def _network_words(
    paths: float, top_pairs: int | None, layout: str, language: str
) -> dict[str, str]:
    """The picture's words in ``language``, once the options are checked."""
    if not 0.0 <= paths <= 1.0:
        raise ValueError(f"paths must be in [0, 1]; got {paths!r}.")
    if top_pairs is not None and top_pairs < 0:
        raise ValueError(f"top_pairs must be a count of pairs (0 or more); got {top_pairs!r}.")
    _checked_layout(layout)
    if language not in _NETWORK_WORDS:
        raise ValueError(f"language must be one of {sorted(_NETWORK_WORDS)}; got {language!r}.")
    return _NETWORK_WORDS[language]


def _excess_pairs(
    ping_pong: pd.DataFrame | None, min_excess_bounces: int, top_pairs: int | None
) -> tuple[dict[_Pair, tuple[int, float]], int]:
    """The red pairs, worst first: the ``top_pairs`` of ``ping_pong`` with the most excess
    bounces (at least ``min_excess_bounces``; then the most hours lost), each with its excess
    bounces and hours lost; and the excess bounces of the whole table."""
    if ping_pong is None:
        return {}, 0
    needed = ["department_a", "department_b", "excess_bounces", "hours_lost"]
    missing = [c for c in needed if c not in ping_pong.columns]
    if missing:
        raise ValueError(
            f"ping_pong lacks the column(s) {missing}; pass the table of "
            "pm.ping_pong(events, catalog) with by='pair' (one row per department pair). "
            f"Columns found: {[str(c) for c in ping_pong.columns]}."
        )
    chosen = ping_pong[ping_pong["excess_bounces"] >= max(min_excess_bounces, 1)]
    chosen = chosen.sort_values(
        ["excess_bounces", "hours_lost"], ascending=False, kind="stable"
    ).head(len(chosen) if top_pairs is None else top_pairs)
    pairs = {
        _pair_key(a, b): (int(excess), float(hours))
        for a, b, excess, hours in zip(
            chosen["department_a"],
            chosen["department_b"],
            chosen["excess_bounces"],
            chosen["hours_lost"],
            strict=True,
        )
    }
    return pairs, int(ping_pong["excess_bounces"].sum())


def _network_edges(graph: nx.DiGraph, pairs: dict[_Pair, Any]) -> pd.DataFrame:
    """Every edge of the network, busiest first (ties by name): source, target, handoffs, its
    ``pair`` and whether it is ``highlighted`` (one of the red pairs, not a loop)."""
    edges = pd.DataFrame(
        [(u, v, attrs.get("handoffs", 1)) for u, v, attrs in graph.edges(data=True)],
        columns=["source", "target", "handoffs"],
    )
    edges["pair"] = [_pair_key(u, v) for u, v in zip(edges["source"], edges["target"], strict=True)]
    edges["highlighted"] = edges["pair"].isin(pairs.keys()) & (edges["source"] != edges["target"])
    return edges.sort_values(
        ["handoffs", "source", "target"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)


def _kept_edges(edges: pd.DataFrame, paths: float, min_handoffs: int) -> pd.Series:
    """Which edges (busiest first) are drawn: the most frequent until they cover ``paths`` of all
    handoffs (draw_map's slider), those with at least ``min_handoffs``; each department's busiest
    edge, so none floats unconnected; the ping-pong pairs always, they are the point."""
    total = float(edges["handoffs"].sum())
    covered = edges["handoffs"].cumsum().shift(fill_value=0)
    # Sorted busiest first: a department's busiest edge is the first row it is an end of.
    ends = pd.DataFrame(
        {
            "department": pd.concat([edges["source"], edges["target"]], ignore_index=True),
            "edge": np.tile(edges.index.to_numpy(), 2),
        }
    )
    busiest = edges.index.isin(ends.groupby("department")["edge"].min())
    return (
        edges["highlighted"]
        | busiest
        | ((covered < paths * total) & (edges["handoffs"] >= min_handoffs))
    )


def _in_paint_order(shown: pd.DataFrame, pairs: dict[_Pair, Any]) -> pd.DataFrame:
    """The drawn edges with ``labelled`` (the edge that carries its pair's figures), in the order
    Graphviz paints them.

    A pair's figures are written once, beside its department_a → department_b edge (or the other
    one when only that exists). Graphviz paints in the order given: the ping-pong arrows last,
    the labelled one of each pair after its twin, so no arrow crosses the figures."""
    names = list(zip(shown["source"].map(_nfc), shown["target"].map(_nfc), strict=True))
    labelled = {pair: pair if pair in set(names) else pair[::-1] for pair in pairs}
    shown = shown.assign(
        labelled=[labelled.get(pair) == st for pair, st in zip(shown["pair"], names, strict=True)]
    )
    shown = shown.assign(order=shown["highlighted"].astype(int) + shown["labelled"].astype(int))
    return shown.sort_values("order", kind="stable")


def _network_head(layout: str, caption: list[str]) -> list[str]:
    """The picture's opening lines: the graph, its caption (HTML-like, one line each) and the
    defaults of its boxes and arrows."""
    # circo's spline router crashes now and then (Graphviz 2.43): it draws straight lines.
    splines = "" if layout == "circo" else " splines=true,"
    lines = [
        "digraph procmine_network {",
        f'  graph [layout={layout}, charset="UTF-8", {FONT}, fontsize=14, overlap=false,'
        f'{splines} sep="+16", esep="+6", nodesep=0.4, ranksep=0.6, mindist=0.5, pad=0.3];',
    ]
    if caption:
        rows = "".join(f'<TR><TD ALIGN="LEFT">{line}</TD></TR>' for line in caption)
        table = f'<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="2">{rows}</TABLE>'
        lines.append(f"  graph [label=<{table}>, labelloc=t, labeljust=l];")
    return [
        *lines,
        f'  node [{FONT}, fontsize=16, shape=box, style="rounded,filled", penwidth=1,'
        ' margin="0.15,0.08"];',
        f"  edge [{FONT}, fontsize=16, arrowsize=0.8];",
    ]


def _legend(
    words: dict[str, str],
    reference: str,
    pairs: dict[_Pair, tuple[int, float]],
    all_excess: int,
    hidden: pd.DataFrame,
    total: float,
) -> list[str]:
    """The legend's notes: what boxes and arrows mean, what the red pairs exceed (``reference``:
    the ping-pong table's), how many of them are red, what is hidden."""
    notes = [words["nodes"], words["edges"]]
    if pairs:
        notes.append(words["pairs"].format(reference=words.get(reference, words["other"])))
        shown_excess = sum(excess for excess, _ in pairs.values())
        if shown_excess < all_excess:
            notes.append(
                words["some pairs"].format(pairs=len(pairs), shown=shown_excess, total=all_excess)
            )
    if len(hidden):
        notes.append(
            words["hidden"].format(
                edges=len(hidden),
                handoffs=int(hidden["handoffs"].sum()),
                share=hidden["handoffs"].sum() / total,
            )
        )
    return notes


def _node_lines(graph: nx.DiGraph, wrap: int) -> list[str]:
    """One box per department, shaded blue by the working hours it held, labelled with its
    (wrapped) name and those hours."""
    held = {
        node: float(attrs.get("working_hours_held") or 0.0)
        for node, attrs in graph.nodes(data=True)
    }
    top_held = max(max(held.values(), default=0.0), 1e-12)
    lines = []
    for node, hours in held.items():
        share = hours / top_held
        label = f"{wrap_label(_nfc(node), wrap)}\n{hours_label(hours)}"
        font_colour = "white" if share > 0.6 else "black"
        lines.append(
            f"  {quote(node)} [label={quote(label)}, "
            f'fillcolor="{shade(share, BLUES)}", fontcolor={font_colour}];'
        )
    return lines


def _edge_lines(
    shown: pd.DataFrame,
    top_handoffs: float,
    pairs: dict[_Pair, tuple[int, float]],
    words: dict[str, str],
) -> list[str]:
    """One arrow per drawn edge, as wide as its handoffs (``top_handoffs``: the widest); a red
    pair's arrows bold and red, darker the more excess bounces, one of them with its figures."""
    top_excess = max((excess for excess, _ in pairs.values()), default=1)
    lines = []
    for source, target, count, pair, highlighted, with_figures in zip(
        shown["source"],
        shown["target"],
        shown["handoffs"],
        shown["pair"],
        shown["highlighted"],
        shown["labelled"],
        strict=True,
    ):
        share = count / top_handoffs
        width = 1.0 + 5.0 * share
        label = quote(f"{count:,}")
        if highlighted:
            excess, hours = pairs[pair]
            colour = font_colour = shade(0.45 + 0.55 * excess / top_excess, REDS)
            if with_figures:
                # On a white ground: the pair's figures are read across the arrows they sit on.
                figures = html.escape(words["pair"].format(excess=excess, hours=hours_label(hours)))
                label = (
                    '<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1" BGCOLOR="white">'
                    f"<TR><TD>{count:,}</TD></TR><TR><TD><B>{figures}</B></TD></TR></TABLE>>"
                )
            width = max(width, 3.0)
            style = "style=bold, "
        else:
            # Light grey for a thin arrow, but its number dark enough to read on paper.
            colour, font_colour, style = shade(share, GREYS), "#404040", ""
        lines.append(
            f"  {quote(source)} -> {quote(target)} [label={label}, {style}"
            f'penwidth={width:.2f}, color="{colour}", fontcolor="{font_colour}"];'
        )
    return lines


def network_to_dot(
    graph: nx.DiGraph,
    ping_pong: pd.DataFrame | None = None,
    *,
    paths: float = 0.9,
    min_handoffs: int = 1,
    min_excess_bounces: int = 1,
    top_pairs: int | None = 5,
    title: str | None = None,
    layout: str = "dot",
    language: Literal["vi", "en"] = "vi",
    wrap: int = 20,
    legend: bool = True,
) -> str:
    """The DOT text of a handoff network drawing (the options: see :func:`draw_network`).

    >>> g = nx.DiGraph([("A", "B", {"handoffs": 3}), ("B", "A", {"handoffs": 2})])
    >>> print(*network_to_dot(g, paths=1.0, legend=False).splitlines()[-3:-1], sep="\\n")
      "A" -> "B" [label="3", penwidth=6.00, color="#252525", fontcolor="#404040"];
      "B" -> "A" [label="2", penwidth=4.33, color="#585858", fontcolor="#404040"];
    """
    words = _network_words(paths, top_pairs, layout, language)
    pairs, all_excess = _excess_pairs(ping_pong, min_excess_bounces, top_pairs)
    edges = _network_edges(graph, pairs)
    kept = _kept_edges(edges, paths, min_handoffs)
    shown, hidden = _in_paint_order(edges[kept], pairs), edges[~kept]
    caption = []
    if title:
        caption.append(f'<FONT POINT-SIZE="22"><B>{html.escape(_nfc(title))}</B></FONT>')
    if legend:
        reference = (ping_pong.attrs.get("reference") if ping_pong is not None else None) or ""
        notes = _legend(words, reference, pairs, all_excess, hidden, float(edges["handoffs"].sum()))
        caption.extend(f'<FONT POINT-SIZE="16">{html.escape(_nfc(n))}</FONT>' for n in notes)
    top_handoffs = max(float(edges["handoffs"].max()) if len(edges) else 0.0, 1e-12)
    lines = [
        *_network_head(layout, caption),
        *_node_lines(graph, wrap),
        *_edge_lines(shown, top_handoffs, pairs, words),
        "}",
    ]
    return "\n".join(lines) + "\n"


def draw_network(
    graph: nx.DiGraph,
    ping_pong: pd.DataFrame | None = None,
    *,
    path: str | Path | None = None,
    title: str | None = None,
    paths: float = 0.9,
    min_handoffs: int = 1,
    min_excess_bounces: int = 1,
    top_pairs: int | None = 5,
    layout: str = "dot",
    language: Literal["vi", "en"] = "vi",
    wrap: int = 20,
    legend: bool = True,
) -> Path | str:
    """Draw the handoff network with Graphviz, the ping-pong pairs in red.

    Departments are boxes shaded blue by the working hours they held (label: name and hours);
    arrows are handoffs, as wide as their number of handoffs (label: that number). The
    ``top_pairs`` worst pairs of ``ping_pong`` (the table of
    :func:`procmine.handoffs.ping_pong`, ``by="pair"``) with at least ``min_excess_bounces``
    excess bounces have both arrows red and bold, darker the more excess bounces, labelled once
    with the excess bounces and the working hours they lost (``top_pairs=None``: every such
    pair).

    ``paths`` and ``min_handoffs`` thin a dense network, like :func:`draw_map`: arrows are kept
    from the busiest down until they cover ``paths`` of all handoffs, those with at least
    ``min_handoffs``; every department is drawn with at least its busiest arrow, and the red
    arrows always. The legend says what is hidden. ``layout`` is the Graphviz layout program
    (``dot``: layered, the most legible; ``circo``: a circle; ``neato``/``fdp``: springs);
    ``wrap`` breaks names longer than that many characters (0: never); ``language`` is the
    legend's, ``"vi"`` or ``"en"``. Writes ``path`` (svg, png or pdf by its suffix) and returns
    it; without a path returns the SVG text (Jupyter: ``IPython.display.SVG``).

    Case a goes Văn phòng → Phòng Tư pháp → Văn phòng → Phòng Tư pháp, case b once there:

    >>> import procmine as pm, tempfile
    >>> log = pd.DataFrame({"case:concept:name": list("aaaabb"), "concept:name": "Xử lý",
    ...     "org:group": ["Văn phòng", "Phòng Tư pháp"] * 3,
    ...     "time:timestamp": pd.date_range("2024-05-06 08:00", periods=6, freq="h")})
    >>> events = pm.event_table(log)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     picture = pm.draw_network(pm.handoff_network(events), pm.ping_pong(events),
    ...                               path=Path(folder) / "network.png", language="en")
    ...     picture.suffix
    '.png'
    """
    dot_text = network_to_dot(
        graph,
        ping_pong,
        paths=paths,
        min_handoffs=min_handoffs,
        min_excess_bounces=min_excess_bounces,
        top_pairs=top_pairs,
        title=title,
        layout=layout,
        language=language,
        wrap=wrap,
        legend=legend,
    )
    return render(dot_text, path, layout=layout)
