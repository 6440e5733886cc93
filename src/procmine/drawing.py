"""Every picture procmine draws: process maps, discovered models and the department network.

A picture is DOT text (:func:`map_to_dot`, :func:`network_to_dot`) laid out and rendered by
Graphviz in one place (:func:`render`): the format from the file's suffix, Vietnamese labels in
NFC, the font, the palettes, the layout program (``layout=``: ``dot``, ``circo``, …), the
picture's largest size (``size=``, :data:`PAGE`) and Graphviz's time limit (``timeout=``,
:data:`TIMEOUT`). A large map or network is thinned by default to what a person can read
(:data:`MAX_NODES` boxes, :data:`MAX_ARCS` arrows) and the picture says what it hides. The
figures drawn come from the modules of their concepts (:func:`procmine.discovery.discover_map`,
:func:`procmine.handoffs.handoff_network`, :func:`procmine.handoffs.ping_pong`); nothing there
imports this module. How the pictures read: ``docs/maps.md``.

>>> svg = render('digraph { "Văn phòng" -> "Phòng Tư pháp" }')
>>> svg.startswith("<?xml") and "Phòng Tư pháp" in svg
True
"""

from __future__ import annotations

import heapq
import html
import itertools
import math
import shutil
import string
import subprocess
import textwrap
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import networkx as nx
import numpy as np
import pandas as pd

from procmine.discovery import END, START, ProcessMap, ProcessModel, quiet_pm4py
from procmine.formats import format_number

__all__ = [
    "BLUES", "FONT", "FORMATS", "GREYS", "LAYOUTS", "MAP_PATHS", "MAX_ARCS", "MAX_NODES",
    "NETWORK_PATHS", "NUMBERS", "PAGE", "REDS", "TIMEOUT", "DrawingTimeoutError",
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

# What one picture shows by default (docs/maps.md, "How much a picture shows"): the busiest
# MAX_NODES activities or departments and MAX_ARCS arcs or arrows, beyond which a layered
# drawing's labels no longer print legibly on a page and Graphviz's time grows fast. An
# explicit ``paths=``/``activities=``/``departments=`` replaces the cap it slides.
MAX_NODES = 40
MAX_ARCS = 80
# The largest picture, in inches (Graphviz's ``size``: a larger drawing is scaled down to fit,
# a smaller one is left as it is): 2,304 px a side at Graphviz's 96 dpi, an A4 page printed at
# 200 dpi or a QHD screen; every picture ``procmine demo`` draws is smaller.
PAGE = (24.0, 24.0)
# Seconds Graphviz may take before it is stopped (``timeout=None``: no limit).
TIMEOUT = 30.0


class DrawingTimeoutError(RuntimeError):
    """Graphviz did not finish a picture within its time limit and was stopped; the message
    names the options that draw fewer boxes and arrows, and ``timeout=``."""


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


def hours_label(value: float, language: str = "en") -> str:
    """Working hours as a label: whole hours from 100 up, tenths from 1, minutes below, the
    numbers written as ``language`` writes them (:func:`procmine.formats.format_number`).

    >>> [hours_label(v) for v in (12615.57, 5.0, 0.25, float("nan"))]
    ['12,616 h', '5.0 h', '15 min', '']
    >>> hours_label(12615.57, "vi"), hours_label(5.0, "vi")
    ('12.616 h', '5,0 h')
    """
    if value is None or pd.isna(value):
        return ""
    if value >= 100:
        return f"{format_number(value, language)} h"
    return f"{format_number(value, language, 1)} h" if value >= 1 else f"{value * 60:.0f} min"


class _Numbers(string.Formatter):
    """``str.format`` whose number fields are written as a language writes them: Vietnamese
    swaps the thousands and decimal separators (``1.234,5``)."""

    def __init__(self, language: str) -> None:
        super().__init__()
        self.swap = language == "vi"

    def format_field(self, value: Any, format_spec: str) -> str:
        text = super().format_field(value, format_spec)
        number = isinstance(value, int | float | np.number) and not isinstance(value, bool)
        return text.translate(str.maketrans(",.", ".,")) if self.swap and number else text


# Fill a template of the pictures' words: NUMBERS[language].format(template, **values).
NUMBERS = {"vi": _Numbers("vi"), "en": _Numbers("en")}


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


def _size_option(size: tuple[float, float] | None) -> list[str]:
    """Graphviz's ``-Gsize`` for the largest picture, in inches (none for ``None``)."""
    if size is None:
        return []
    width, height = (float(side) for side in size)
    if not (width > 0 and height > 0):
        raise ValueError(f"size must be (width, height) in inches, both above 0; got {size!r}.")
    return [f"-Gsize={width:g},{height:g}"]


def render(
    dot_text: str,
    path: str | Path | None = None,
    layout: str = "dot",
    *,
    size: tuple[float, float] | None = PAGE,
    timeout: float | None = TIMEOUT,
) -> Path | str:
    """Lay out DOT text with Graphviz and write the picture to ``path`` (svg, png or pdf by its
    suffix; folders are made), returning the path; without a path, return the SVG text (Jupyter
    shows it with ``IPython.display.SVG``). ``layout`` is the Graphviz layout program: ``dot``
    (layered), ``neato``/``fdp``/``sfdp`` (springs), ``circo`` (circle), ``twopi``, ….

    ``size`` is the largest picture in inches (Graphviz's ``size``, :data:`PAGE`: a larger
    drawing is scaled down to fit, a smaller one is unchanged; ``None``: no bound, unless the DOT
    text sets one). Graphviz is stopped after ``timeout`` seconds (:data:`TIMEOUT`; ``None``: no
    limit) with a :class:`DrawingTimeoutError`.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     picture = render("digraph { a -> b }", Path(folder) / "pair.png", layout="circo")
    ...     picture.name, picture.read_bytes()[1:4]
    ('pair.png', b'PNG')
    >>> render("digraph { a -> b }", timeout=1e-6)
    Traceback (most recent call last):
    ...
    procmine.drawing.DrawingTimeoutError: Graphviz (dot) did not finish the picture within ...
    """
    dot = require_dot()
    fmt = _format(path)
    command = [dot, f"-K{_checked_layout(layout)}", f"-T{fmt}", *_size_option(size)]
    try:
        done = subprocess.run(
            command, input=dot_text.encode("utf-8"), capture_output=True, check=False,
            timeout=timeout,
        )  # fmt: skip
    except subprocess.TimeoutExpired:  # run() has killed Graphviz and waited for it
        raise DrawingTimeoutError(
            f"Graphviz ({layout}) did not finish the picture within {timeout:g} s and was "
            "stopped. Draw fewer boxes and arrows, or allow it longer with timeout= "
            "(None: no limit)."
        ) from None
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


# The map's words (its title's note when the default caps hide something); as the network's.
_MAP_WORDS = {
    "vi": "Hiển thị {nodes:,} trên {all_nodes:,} hoạt động và {arcs:,} trên {all_arcs:,} mũi tên"
    " (nhiều nhất trước); đặt activities=1.0, paths=1.0 để hiện tất cả.",
    "en": "{nodes:,} of {all_nodes:,} activities and {arcs:,} of {all_arcs:,} arcs shown"
    " (the busiest); pass activities=1.0, paths=1.0 to show all.",
}
# The paths slider when ``paths=None`` (then at most MAX_ARCS arcs).
MAP_PATHS = 0.8


def _checked_share(name: str, value: float | None, low_open: bool) -> None:
    """An error unless ``value`` is ``None`` (the default cap) or a share in (0, 1] or [0, 1]."""
    if value is None:
        return
    inside = (0.0 < value <= 1.0) if low_open else (0.0 <= value <= 1.0)
    if not inside:
        interval = "(0, 1]" if low_open else "[0, 1]"
        raise ValueError(f"{name} must be in {interval} or None (the default cap); got {value!r}.")


def _checked_language(language: str, words: dict[str, Any]) -> Any:
    """The words of ``language`` (``"vi"`` or ``"en"``)."""
    if language not in words:
        raise ValueError(f"language must be one of {sorted(words)}; got {language!r}.")
    return words[language]


def _top_count(total: int, share: float | None) -> int:
    """How many of ``total`` ranked items are kept: the ``share`` of them (at least one), or at
    most :data:`MAX_NODES` for ``None``."""
    if share is None:
        return min(total, MAX_NODES)
    return max(1, math.ceil(share * total - 1e-9))


def _kept_activities(nodes: pd.DataFrame, activities: float | None) -> set[str]:
    """The most frequent activities (by events), ``activities`` of them as a share, at least one;
    ``None``: the :data:`MAX_NODES` most frequent."""
    _checked_share("activities", activities, low_open=True)
    ranked = nodes.sort_values(["events", "activity"], ascending=[False, True])
    return set(ranked["activity"].head(_top_count(len(nodes), activities)))


def _grow(reached: set[str], frontier: list[str], adjacency: dict[str, list[str]]) -> None:
    """Add to ``reached`` everything reachable from ``frontier`` (already in it)."""
    while frontier:
        for nxt in adjacency[frontier.pop()]:
            if nxt not in reached:
                reached.add(nxt)
                frontier.append(nxt)


# Arcs by the node at one end: [(the node at the other end, the arc's position), ...].
_Adjacency = dict[str, list[tuple[str, int]]]


def _widths(adjacency: _Adjacency, widths: list[float], root: str) -> dict[str, float]:
    """The width of the widest path from ``root`` to every node it reaches along ``adjacency``:
    the largest weakest-arc frequency of a path, found by Dijkstra on the weakest arc,
    O(E log V)."""
    best = {root: math.inf}
    heap = [(-math.inf, root)]
    while heap:
        negative, node = heapq.heappop(heap)
        if -negative < best[node]:
            continue  # an older, narrower entry
        for nxt, arc in adjacency[node]:
            width = min(-negative, widths[arc])
            if width > best.get(nxt, -math.inf):
                best[nxt] = width
                heapq.heappush(heap, (-width, nxt))
    return best


def _level(
    fringe: list[str],
    adjacency: _Adjacency,
    widths: list[float],
    threshold: float,
    seen: dict[str, str | None],
    other: dict[str, str | None],
) -> tuple[list[str], str | None]:
    """One level of a breadth-first search over the arcs at least ``threshold`` frequent: the
    next fringe, and the node where it meets the search from the other end (or ``None``)."""
    following = []
    for node in fringe:
        for nxt, arc in adjacency[node]:
            if widths[arc] < threshold:
                continue
            if nxt not in seen:
                following.append(nxt)
                seen[nxt] = node
            if nxt in other:
                return following, nxt
    return following, None


class _Connector:
    """The arcs of a map, busiest first, and the widths of the widest paths from ``▶`` to every
    activity and from every activity to ``■``, found once; :meth:`connect` adds to a choice of
    arcs a widest path for every activity it leaves unconnected.

    Among the widest paths, the one with the fewest arcs, as networkx's two-ended
    breadth-first search finds it (``nx.shortest_path``) over the arcs at least as frequent as
    the width, visited busiest first: the paths the drawings always drew."""

    def __init__(self, edges: pd.DataFrame, order: Iterable[str]) -> None:
        self.sources, self.targets = edges["source"].tolist(), edges["target"].tolist()
        self.widths = edges["frequency"].astype(float).tolist()
        self.order = list(order)
        self.succ, self.pred = defaultdict(list), defaultdict(list)
        self.index = {}
        for arc, (source, target) in enumerate(zip(self.sources, self.targets, strict=True)):
            self.succ[source].append((target, arc))
            self.pred[target].append((source, arc))
            self.index[source, target] = arc
        self.from_start = _widths(self.succ, self.widths, START)
        self.to_end = _widths(self.pred, self.widths, END)

    def connect(self, chosen: Iterable[int]) -> set[int]:
        """``chosen`` (arc positions) and the arcs of a widest path ``▶`` → activity and
        activity → ``■`` for each activity (most frequent first) not yet connected."""
        # A fresh drawing each call: its arcs, their ends, what ▶ reaches, what reaches ■.
        self.arcs: set[int] = set()
        self.out, self.into = defaultdict(list), defaultdict(list)
        self.reached, self.reaching = {START}, {END}
        for arc in chosen:
            self._add(arc)
        for activity in self.order:
            if activity not in self.reached and activity in self.from_start:
                self._add_path(START, activity, self.from_start[activity])
            if activity not in self.reaching and activity in self.to_end:
                self._add_path(activity, END, self.to_end[activity])
        return self.arcs

    def _add_path(self, source: str, target: str, width: float) -> None:
        """Add the fewest arcs at least ``width`` frequent that lead from source to target."""
        forward, backward = {source: None}, {target: None}
        ahead, behind, meeting = [source], [target], None
        while meeting is None:
            if len(ahead) <= len(behind):
                ahead, meeting = _level(ahead, self.succ, self.widths, width, forward, backward)
            else:
                behind, meeting = _level(behind, self.pred, self.widths, width, backward, forward)
        path, node = [], meeting
        while node is not None:
            path.append(node)
            node = forward[node]
        path.reverse()
        node = backward[path[-1]]
        while node is not None:
            path.append(node)
            node = backward[node]
        for step in itertools.pairwise(path):
            self._add(self.index[step])

    def _add(self, arc: int) -> None:
        """Draw ``arc``, and extend what ``▶`` reaches and what reaches ``■`` through it."""
        if arc in self.arcs:
            return
        self.arcs.add(arc)
        source, target = self.sources[arc], self.targets[arc]
        self.out[source].append(target)
        self.into[target].append(source)
        if source in self.reached and target not in self.reached:
            self.reached.add(target)
            _grow(self.reached, [target], self.out)
        if target in self.reaching and source not in self.reaching:
            self.reaching.add(source)
            _grow(self.reaching, [source], self.into)


def _within_cap(connector: _Connector, chosen: np.ndarray) -> tuple[set[int], bool]:
    """The arcs a map draws by default: the busiest ``chosen`` and those that connect every
    activity; when that is more than :data:`MAX_ARCS`, the most of the busiest for which the
    whole is at most MAX_ARCS (found by halving); when the connecting arcs alone are more, the
    fewer of all and those alone. And whether the cap cut any of the busiest arcs."""
    arcs = connector.connect(chosen)
    if len(arcs) <= MAX_ARCS:
        return arcs, False
    fits, fails = 0, min(len(chosen), MAX_ARCS + 1)
    connecting = connector.connect(chosen[:fits])
    if len(connecting) > MAX_ARCS:
        return (arcs, False) if len(arcs) <= len(connecting) else (connecting, True)
    while fails - fits > 1:  # connect(chosen[:fits]) is at most MAX_ARCS, fails' is more
        middle = (fits + fails) // 2
        if len(connector.connect(chosen[:middle])) <= MAX_ARCS:
            fits = middle
        else:
            fails = middle
    return connector.connect(chosen[:fits]), True


def _map_selection(
    pmap: ProcessMap, paths: float | None, activities: float | None
) -> tuple[pd.DataFrame, bool]:
    """The arcs drawn (see :func:`select_edges`) and whether the default caps hid anything."""
    _checked_share("paths", paths, low_open=False)
    kept = _kept_activities(pmap.nodes, activities)
    capped = activities is None and len(kept) < len(pmap.nodes)
    kept |= {START, END}
    edges = pmap.edges[pmap.edges["source"].isin(kept) & pmap.edges["target"].isin(kept)]
    edges = edges.sort_values(["frequency", "source", "target"], ascending=[False, True, True])
    frequency = edges["frequency"].to_numpy()
    covered = np.cumsum(frequency) - frequency  # the transitions of the busier arcs
    chosen = np.flatnonzero(covered < (MAP_PATHS if paths is None else paths) * frequency.sum())
    order = pmap.nodes.sort_values("events", ascending=False)["activity"]
    connector = _Connector(edges, order[order.isin(kept)])
    if paths is None:
        arcs, cut = _within_cap(connector, chosen)
        capped = capped or cut
    else:
        arcs = connector.connect(chosen)
    mask = np.zeros(len(edges), dtype=bool)
    mask[list(arcs)] = True
    return edges[mask].reset_index(drop=True), capped


def select_edges(
    pmap: ProcessMap, paths: float | None = None, activities: float | None = None
) -> pd.DataFrame:
    """The arcs a map drawing keeps (Disco's sliders).

    ``activities``: share of the activities kept, most frequent first; the arcs of the others are
    hidden (the map is not recomputed without them; filter the log to see the arcs through them).
    ``paths``: the most frequent arcs are kept until they cover that share of all transitions
    (``▶``/``■`` arcs included); then every kept activity is connected from ``▶`` and to ``■``
    through the widest path (the one with the most frequent weakest arc) where one exists.
    By default (``None``) at most :data:`MAX_NODES` activities, and ``paths`` 0.8 with at most
    :data:`MAX_ARCS` arcs in all (fewer of the busiest when the connecting arcs need room).

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
    return _map_selection(pmap, paths, activities)[0]


def _map_lines(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    view: Literal["frequency", "performance"],
    language: str = "vi",
) -> list[str]:
    """One box per activity and one arrow per arc: by frequency (blue boxes, grey arcs) or by
    time (red), the arc as wide as its figure."""
    if view == "frequency":
        node_value = nodes["events"].astype(float)
        node_text = nodes["events"].map(lambda n: format_number(n, language))
        edge_value = edges["frequency"].astype(float)
        edge_text = edges["frequency"].map(lambda n: format_number(n, language))
        node_palette, edge_palette = BLUES, GREYS
    else:
        node_value = nodes["median_sojourn_working_hours"].astype(float).fillna(0.0)
        node_text = nodes["median_sojourn_working_hours"].map(lambda h: hours_label(h, language))
        edge_value = edges["median_wait_working_hours"].astype(float).fillna(0.0)
        edge_text = edges["median_wait_working_hours"].map(lambda h: hours_label(h, language))
        node_palette, edge_palette = REDS, REDS
    node_top = max(float(node_value.max()) if len(node_value) else 0.0, 1e-12)
    edge_top = max(float(edge_value.max()) if len(edge_value) else 0.0, 1e-12)
    lines = []
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
    return lines


def _map_picture(
    pmap: ProcessMap,
    view: Literal["frequency", "performance"],
    paths: float | None,
    activities: float | None,
    title: str | None,
    language: str,
) -> tuple[str, int, int]:
    """The DOT text of a map drawing, and how many activities and arcs it draws."""
    if view not in ("frequency", "performance"):
        raise ValueError(f"view must be 'frequency' or 'performance'; got {view!r}.")
    words = _checked_language(language, _MAP_WORDS)
    edges, capped = _map_selection(pmap, paths, activities)
    shown = set(edges["source"]) | set(edges["target"])
    nodes = pmap.nodes[pmap.nodes["activity"].isin(shown)]
    label = title
    if capped:  # what the default caps hid, and how to see it
        note = NUMBERS[language].format(
            words, nodes=len(nodes), all_nodes=len(pmap.nodes), arcs=len(edges),
            all_arcs=len(pmap.edges),
        )  # fmt: skip
        label = f"{title}\n{note}" if title else note
    font = FONT
    lines = [
        "digraph procmine_map {",
        f'  graph [rankdir=TB, charset="UTF-8", {font}, fontsize=12, nodesep=0.4, ranksep=0.5'
        + (f", label={quote(label)}, labelloc=t" if label else "")
        + "];",
        f'  node [{font}, fontsize=11, shape=box, style="rounded,filled", penwidth=1];',
        f"  edge [{font}, fontsize=9];",
        f'  {quote(START)} [shape=circle, label="▶", fillcolor="#d9f0d3", width=0.35];',
        f'  {quote(END)} [shape=circle, label="■", fillcolor="#e0e0e0", width=0.35];',
        *_map_lines(nodes, edges, view, language),
        "}",
    ]
    return "\n".join(lines) + "\n", len(nodes), len(edges)


def map_to_dot(
    pmap: ProcessMap,
    view: Literal["frequency", "performance"] = "frequency",
    paths: float | None = None,
    activities: float | None = None,
    title: str | None = None,
    *,
    language: Literal["vi", "en"] = "vi",
) -> str:
    """The DOT text of a map drawing (see :func:`draw_map`); the layout program is chosen when
    it is rendered.

    >>> import procmine as pm
    >>> log = pd.DataFrame({"case:concept:name": list("aabb"), "concept:name": ["Nhận", "Ký"] * 2,
    ...     "time:timestamp": pd.date_range("2024-05-06 08:00", periods=4, freq="h")})
    >>> text = map_to_dot(pm.discover_map(log), view="performance")
    >>> print(*[line for line in text.splitlines() if '"Ký"' in line], sep="\\n")
      "Ký" [label="Ký\\n1,0 h", fillcolor="#a50f15", fontcolor=white];
      "Ký" -> "■" [label="", penwidth=1.00, color="#fee5d9"];
      "Nhận" -> "Ký" [label="1,0 h", penwidth=6.00, color="#a50f15"];
    """
    return _map_picture(pmap, view, paths, activities, title, language)[0]


def draw_map(
    pmap: ProcessMap,
    view: Literal["frequency", "performance"] = "frequency",
    paths: float | None = None,
    activities: float | None = None,
    path: str | Path | None = None,
    title: str | None = None,
    *,
    layout: str = "dot",
    language: Literal["vi", "en"] = "vi",
    size: tuple[float, float] | None = PAGE,
    timeout: float | None = TIMEOUT,
) -> Path | str:
    """Draw a map with Graphviz: the frequency view (events per activity, transitions per arc,
    blue/grey by frequency) or the performance view (median sojourn per activity and median wait
    per arc in working hours, red by time). ``paths`` and ``activities`` are Disco's sliders (see
    :func:`select_edges`); by default a large map shows its :data:`MAX_NODES` busiest activities
    and at most :data:`MAX_ARCS` arcs, and its title says what is hidden (in ``language``,
    ``"vi"`` or ``"en"``). ``layout`` is the Graphviz layout program (``dot``: layered, top to
    bottom); ``size`` the largest picture in inches (:data:`PAGE`); Graphviz is stopped after
    ``timeout`` seconds (:class:`DrawingTimeoutError`). Writes ``path`` (format from its suffix:
    svg, png, pdf) and returns it; without a path returns the SVG text (shown inline by Jupyter
    via ``IPython.display.SVG``).

    >>> import procmine as pm, tempfile
    >>> log = pd.DataFrame({"case:concept:name": list("aabbb"),
    ...     "concept:name": ["Nhận", "Ký", "Nhận", "Bổ sung", "Ký"],
    ...     "time:timestamp": pd.date_range("2024-05-06 08:00", periods=5, freq="h")})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     draw_map(pm.discover_map(log), "performance", path=Path(folder) / "map.svg").suffix
    '.svg'
    """
    text, nodes, arcs = _map_picture(pmap, view, paths, activities, title, language)
    return _render_or_explain(text, path, (layout, size, timeout), "map", nodes, arcs)


# What a picture Graphviz did not finish was, and how to draw fewer boxes and arrows.
_STOPPED = {
    "map": (
        "the map of {nodes:,} activities and {arcs:,} arcs",
        "lower activities= and paths= (shares of the activities and of the transitions, e.g. "
        "activities=0.1, paths=0.5; by default at most {most_nodes} activities and {most_arcs} "
        "arcs)",
    ),
    "network": (
        "the network of {nodes:,} departments and {arcs:,} arrows",
        "lower departments= and paths= (shares of the departments and of the handoffs, e.g. "
        "departments=0.1, paths=0.5; by default at most {most_nodes} departments and "
        "{most_arcs} arrows), raise min_handoffs= or lower top_pairs=",
    ),
}


def _render_or_explain(
    text: str,
    path: str | Path | None,
    how: tuple[str, tuple[float, float] | None, float | None],
    picture: str,
    nodes: int,
    arcs: int,
) -> Path | str:
    """:func:`render` with ``how`` = (layout, size, timeout); stopped by its time limit, an
    error that says what the ``picture`` drew and how to draw fewer boxes and arrows."""
    layout, size, timeout = how
    try:
        return render(text, path, layout=layout, size=size, timeout=timeout)
    except DrawingTimeoutError:
        counts = {"nodes": nodes, "arcs": arcs, "most_nodes": MAX_NODES, "most_arcs": MAX_ARCS}
        what, fewer = (words.format(**counts) for words in _STOPPED[picture])
        raise DrawingTimeoutError(
            f"Graphviz ({layout}) did not finish {what} within {timeout:g} s and was stopped. "
            f"Draw fewer: {fewer}; or allow it longer with timeout= (None: no limit)."
        ) from None


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
        "shown": "Hiển thị {nodes:,} trên {all_nodes:,} phòng ban và {edges:,} trên {all_edges:,}"
        " mũi tên ({share:.1%} số lượt chuyển); đặt departments=1.0, paths=1.0 để hiện tất cả.",
        "catalog": "quy trình được phê duyệt",
        "most frequent sequence": "trình tự phổ biến nhất của thủ tục",
        "other": "trình tự tham chiếu",
        "language": "vi",
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
        "shown": "{nodes:,} of {all_nodes:,} departments and {edges:,} of {all_edges:,} arrows"
        " shown ({share:.1%} of the handoffs); pass departments=1.0, paths=1.0 to show all.",
        "catalog": "the approved procedure",
        "most frequent sequence": "the procedure's most frequent sequence",
        "other": "the reference sequence",
        "language": "en",
    },
}
# The network's paths slider when ``paths=None`` (then at most MAX_ARCS arrows).
NETWORK_PATHS = 0.9

# An unordered department pair: its two names in NFC, in code point order (as ping_pong's
# department_a < department_b), so a name typed another way still finds its edges.
_Pair = tuple[str, str]


def _pair_key(a: Any, b: Any) -> _Pair:
    return tuple(sorted((_nfc(a), _nfc(b))))


def _network_words(
    paths: float | None,
    departments: float | None,
    top_pairs: int | None,
    layout: str,
    language: str,
) -> dict[str, str]:
    """The picture's words in ``language``, once the options are checked."""
    _checked_share("paths", paths, low_open=False)
    _checked_share("departments", departments, low_open=True)
    if top_pairs is not None and top_pairs < 0:
        raise ValueError(f"top_pairs must be a count of pairs (0 or more); got {top_pairs!r}.")
    _checked_layout(layout)
    return _checked_language(language, _NETWORK_WORDS)


def _excess_pairs(
    ping_pong: pd.DataFrame | None, min_excess_bounces: int, top_pairs: int | None
) -> tuple[dict[_Pair, tuple[int, float]], int]:
    """The red pairs, worst first: the ``top_pairs`` of ``ping_pong`` with the most excess
    bounces (at least ``min_excess_bounces``; then the most hours lost), each with its excess
    bounces and hours lost; and the excess bounces of the whole table."""
    if ping_pong is None:
        return {}, 0
    needed = ["department_a", "department_b", "excess_bounces", "working_hours_lost"]
    missing = [c for c in needed if c not in ping_pong.columns]
    if missing:
        raise ValueError(
            f"ping_pong lacks the column(s) {missing}; pass the table of "
            "pm.ping_pong(events, catalog) with by='pair' (one row per department pair). "
            f"Columns found: {[str(c) for c in ping_pong.columns]}."
        )
    chosen = ping_pong[ping_pong["excess_bounces"] >= max(min_excess_bounces, 1)]
    chosen = chosen.sort_values(
        ["excess_bounces", "working_hours_lost"], ascending=False, kind="stable"
    ).head(len(chosen) if top_pairs is None else top_pairs)
    pairs = {
        _pair_key(a, b): (int(excess), float(hours))
        for a, b, excess, hours in zip(
            chosen["department_a"],
            chosen["department_b"],
            chosen["excess_bounces"],
            chosen["working_hours_lost"],
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


def _kept_departments(
    graph: nx.DiGraph, edges: pd.DataFrame, departments: float | None
) -> list[Any]:
    """The departments drawn, in the graph's order: those of the red pairs, then the busiest
    (handoffs in and out; ties by name) until ``departments`` of them as a share (at least one)
    or, for ``None``, :data:`MAX_NODES`; the red ones always."""
    names = list(graph.nodes)
    count = _top_count(len(names), departments)
    if count >= len(names):
        return names
    ends = pd.concat([edges["source"], edges["target"]], ignore_index=True)
    load = pd.concat([edges["handoffs"], edges["handoffs"]], ignore_index=True).groupby(ends).sum()
    red = set(edges.loc[edges["highlighted"], "source"]) | set(
        edges.loc[edges["highlighted"], "target"]
    )
    ranked = pd.DataFrame(
        {
            "department": names,
            "red": [name in red for name in names],
            "handoffs": load.reindex(names, fill_value=0).to_numpy(),
            "name": [_nfc(name) for name in names],
        }
    ).sort_values(["red", "handoffs", "name"], ascending=[False, False, True], kind="stable")
    kept = set(ranked["department"].head(max(count, len(red))))
    return [name for name in names if name in kept]


def _kept_edges(
    edges: pd.DataFrame, paths: float | None, min_handoffs: int
) -> tuple[pd.Series, bool]:
    """Which edges (busiest first) are drawn: the most frequent until they cover ``paths`` of all
    handoffs (draw_map's slider), those with at least ``min_handoffs``; each department's busiest
    edge, so none floats unconnected; the ping-pong pairs always, they are the point. For
    ``paths=None``: 0.9 and at most :data:`MAX_ARCS` edges in all. And whether that cap hid
    any."""
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
    needed = edges["highlighted"] | busiest
    share = NETWORK_PATHS if paths is None else paths
    slider = (covered < share * total) & (edges["handoffs"] >= min_handoffs) & ~needed
    room = max(MAX_ARCS - int(needed.sum()), 0)
    capped = paths is None and int(slider.sum()) > room
    if capped:
        slider &= slider.cumsum() <= room
    return needed | slider, capped


def _in_paint_order(shown: pd.DataFrame, pairs: dict[_Pair, Any]) -> pd.DataFrame:
    """The drawn edges with ``labelled`` (the edge that carries its pair's figures), in the order
    Graphviz paints them.

    A pair's figures are written once, beside its department_a → department_b edge (or the other
    one when only that exists). Graphviz paints in the order given: the ping-pong arrows last,
    the labelled one of each pair after its twin, so no arrow crosses the figures."""
    names = list(zip(shown["source"].map(_nfc), shown["target"].map(_nfc), strict=True))
    drawn = set(names)
    labelled = {pair: pair if pair in drawn else pair[::-1] for pair in pairs}
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
    thinned: str | None = None,
) -> list[str]:
    """The legend's notes: what boxes and arrows mean, what the red pairs exceed (``reference``:
    the ping-pong table's), how many of them are red, what is hidden (``thinned``: how much is
    shown, when departments or the default cap hid some)."""
    numbers = NUMBERS[words["language"]]
    notes = [words["nodes"], words["edges"]]
    if pairs:
        notes.append(words["pairs"].format(reference=words.get(reference, words["other"])))
        shown_excess = sum(excess for excess, _ in pairs.values())
        if shown_excess < all_excess:
            notes.append(
                numbers.format(
                    words["some pairs"], pairs=len(pairs), shown=shown_excess, total=all_excess
                )
            )
    if thinned:
        notes.append(thinned)
    elif len(hidden):
        notes.append(
            numbers.format(
                words["hidden"],
                edges=len(hidden),
                handoffs=int(hidden["handoffs"].sum()),
                share=hidden["handoffs"].sum() / total,
            )
        )
    return notes


def _node_lines(graph: nx.DiGraph, nodes: list[Any], wrap: int, language: str) -> list[str]:
    """One box per department drawn (``nodes``), shaded blue by the working hours it held,
    labelled with its (wrapped) name and those hours."""
    held = {node: float(graph.nodes[node].get("working_hours_held") or 0.0) for node in nodes}
    top_held = max(max(held.values(), default=0.0), 1e-12)
    lines = []
    for node, hours in held.items():
        share = hours / top_held
        label = f"{wrap_label(_nfc(node), wrap)}\n{hours_label(hours, language)}"
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
        count_text = format_number(count, words["language"])
        label = quote(count_text)
        if highlighted:
            excess, hours = pairs[pair]
            colour = font_colour = shade(0.45 + 0.55 * excess / top_excess, REDS)
            if with_figures:
                # On a white ground: the pair's figures are read across the arrows they sit on.
                hours_text = hours_label(hours, words["language"])
                figures = NUMBERS[words["language"]].format(
                    words["pair"], excess=excess, hours=hours_text
                )
                figures = html.escape(figures)
                label = (
                    '<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1" BGCOLOR="white">'
                    f"<TR><TD>{count_text}</TD></TR><TR><TD><B>{figures}</B></TD></TR></TABLE>>"
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


def _network_picture(
    graph: nx.DiGraph,
    ping_pong: pd.DataFrame | None,
    options: dict[str, Any],
) -> tuple[str, int, int]:
    """The DOT text of a handoff network drawing (``options``: network_to_dot's keywords), and
    how many departments and arrows it draws."""
    words = _network_words(
        options["paths"], options["departments"], options["top_pairs"], options["layout"],
        options["language"],
    )  # fmt: skip
    pairs, all_excess = _excess_pairs(
        ping_pong, options["min_excess_bounces"], options["top_pairs"]
    )
    edges = _network_edges(graph, pairs)
    nodes = _kept_departments(graph, edges, options["departments"])
    inside = edges[edges["source"].isin(nodes) & edges["target"].isin(nodes)]
    inside = inside.reset_index(drop=True)
    kept, capped = _kept_edges(inside, options["paths"], options["min_handoffs"])
    shown = _in_paint_order(inside[kept], pairs)
    total = float(edges["handoffs"].sum())
    thinned = None
    if capped or len(nodes) < graph.number_of_nodes():
        thinned = NUMBERS[words["language"]].format(
            words["shown"], nodes=len(nodes), all_nodes=graph.number_of_nodes(), edges=len(shown),
            all_edges=len(edges), share=shown["handoffs"].sum() / max(total, 1e-12),
        )  # fmt: skip
    caption = []
    if options["title"]:
        title = html.escape(_nfc(options["title"]))
        caption.append(f'<FONT POINT-SIZE="22"><B>{title}</B></FONT>')
    if options["legend"]:
        reference = (ping_pong.attrs.get("reference") if ping_pong is not None else None) or ""
        hidden = inside[~kept]
        notes = _legend(words, reference, pairs, all_excess, hidden, total, thinned)
        caption.extend(f'<FONT POINT-SIZE="16">{html.escape(_nfc(n))}</FONT>' for n in notes)
    top_handoffs = max(float(shown["handoffs"].max()) if len(shown) else 0.0, 1e-12)
    lines = [
        *_network_head(options["layout"], caption),
        *_node_lines(graph, nodes, options["wrap"], words["language"]),
        *_edge_lines(shown, top_handoffs, pairs, words),
        "}",
    ]
    return "\n".join(lines) + "\n", len(nodes), len(shown)


def network_to_dot(
    graph: nx.DiGraph,
    ping_pong: pd.DataFrame | None = None,
    *,
    paths: float | None = None,
    departments: float | None = None,
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
    options = {
        "paths": paths, "departments": departments, "min_handoffs": min_handoffs,
        "min_excess_bounces": min_excess_bounces, "top_pairs": top_pairs, "title": title,
        "layout": layout, "language": language, "wrap": wrap, "legend": legend,
    }  # fmt: skip
    return _network_picture(graph, ping_pong, options)[0]


def draw_network(
    graph: nx.DiGraph,
    ping_pong: pd.DataFrame | None = None,
    *,
    path: str | Path | None = None,
    title: str | None = None,
    paths: float | None = None,
    departments: float | None = None,
    min_handoffs: int = 1,
    min_excess_bounces: int = 1,
    top_pairs: int | None = 5,
    layout: str = "dot",
    language: Literal["vi", "en"] = "vi",
    wrap: int = 20,
    legend: bool = True,
    size: tuple[float, float] | None = PAGE,
    timeout: float | None = TIMEOUT,
) -> Path | str:
    """Draw the handoff network with Graphviz, the ping-pong pairs in red.

    Departments are boxes shaded blue by the working hours they held (label: name and hours);
    arrows are handoffs, as wide as their number of handoffs (label: that number). The
    ``top_pairs`` worst pairs of ``ping_pong`` (the table of
    :func:`procmine.handoffs.ping_pong`, ``by="pair"``) with at least ``min_excess_bounces``
    excess bounces have both arrows red and bold, darker the more excess bounces, labelled once
    with the excess bounces and the working hours they lost (``top_pairs=None``: every such
    pair).

    ``departments``, ``paths`` and ``min_handoffs`` thin a dense network, like :func:`draw_map`:
    the busiest ``departments`` (a share, by handoffs in and out) are drawn; arrows are kept
    from the busiest down until they cover ``paths`` of their handoffs, those with at least
    ``min_handoffs``; every department is drawn with at least its busiest arrow, and the red
    pairs always. By default (``None``) at most :data:`MAX_NODES` departments, and ``paths``
    0.9 with at most :data:`MAX_ARCS` arrows. The legend says what is hidden. ``layout`` is the
    Graphviz layout program (``dot``: layered, the most legible; ``circo``: a circle;
    ``neato``/``fdp``: springs); ``wrap`` breaks names longer than that many characters (0:
    never); ``language`` is the legend's, ``"vi"`` or ``"en"``; ``size`` the largest picture in
    inches (:data:`PAGE`); Graphviz is stopped after ``timeout`` seconds
    (:class:`DrawingTimeoutError`). Writes ``path`` (svg, png or pdf by its suffix) and returns
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
    options = {
        "paths": paths, "departments": departments, "min_handoffs": min_handoffs,
        "min_excess_bounces": min_excess_bounces, "top_pairs": top_pairs, "title": title,
        "layout": layout, "language": language, "wrap": wrap, "legend": legend,
    }  # fmt: skip
    text, nodes, arrows = _network_picture(graph, ping_pong, options)
    return _render_or_explain(text, path, (layout, size, timeout), "network", nodes, arrows)
