"""Graphviz plumbing shared by every picture procmine draws (process maps, the handoff network).

A picture is DOT text written by the module of its concept (:func:`procmine.discovery.map_to_dot`,
:func:`procmine.handoffs.network_to_dot`) and laid out and rendered here by Graphviz, in one
place: the format from the file's suffix, Vietnamese labels in NFC, the font, the palettes.

>>> svg = render('digraph { "Văn phòng" -> "Phòng Tư pháp" }')  # doctest: +SKIP
>>> render('digraph { a -> b }', "network.png", engine="circo")  # doctest: +SKIP
PosixPath('network.png')
"""

from __future__ import annotations

import math
import shutil
import subprocess
import textwrap
import unicodedata
from pathlib import Path

import pandas as pd

__all__ = [
    "BLUES", "ENGINES", "FONT", "FORMATS", "GREYS", "REDS",
    "hours_label", "quote", "render", "require_dot", "shade", "wrap_label",
]  # fmt: skip

FORMATS = ("svg", "png", "pdf")
# Graphviz's layout programs, all run through ``dot -K``: only ``dot`` itself needs to be found.
ENGINES = ("dot", "neato", "fdp", "sfdp", "circo", "twopi", "osage", "patchwork")

# Every label is set in Noto Sans (Debian ``fonts-noto-core``): it has every Vietnamese letter,
# precomposed, so NFC text renders without falling back to another font mid-word.
FONT = 'fontname="Noto Sans"'

# Light to dark, for a share in [0, 1] (ColorBrewer's Blues, Reds and Greys, ends).
BLUES = ((222, 235, 247), (8, 69, 148))
REDS = ((254, 229, 217), (165, 15, 21))
GREYS = ((189, 189, 189), (37, 37, 37))


def require_dot() -> str:
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


def quote(text: str) -> str:
    r"""A DOT string literal, NFC-normalised (Vietnamese typed with combining marks renders as
    the same letters).

    >>> print(quote('Phòng "A"'))
    "Phòng \"A\""
    """
    text = unicodedata.normalize("NFC", str(text))
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


def render(dot_text: str, path: str | Path | None = None, engine: str = "dot") -> Path | str:
    """Lay out DOT text with Graphviz and write the picture to ``path`` (svg, png or pdf by its
    suffix; folders are made), returning the path; without a path, return the SVG text (Jupyter
    shows it with ``IPython.display.SVG``). ``engine`` is the Graphviz layout: ``dot``
    (layered), ``neato``/``fdp``/``sfdp`` (springs), ``circo`` (circle), ``twopi``, ….

    >>> render('digraph { "Văn phòng" -> "Phòng Tư pháp" }', "pair.svg")  # doctest: +SKIP
    PosixPath('pair.svg')
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {list(ENGINES)}; got {engine!r}.")
    dot = require_dot()
    fmt = _format(path)
    done = subprocess.run(
        [dot, f"-K{engine}", f"-T{fmt}"],
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
