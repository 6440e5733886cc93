"""Work on the machine's cores: Arrow compute and numpy release the GIL, so a column is coded,
gathered or built in threads while another is."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

__all__ = ["gather", "in_parallel", "split_point"]

_PARALLEL_ROWS = 1 << 20  # columns this long are worked on in two halves, on two cores


def in_parallel(function: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """``[function(item) for item in items]`` on the machine's cores, for Arrow compute and
    numpy work, which release the GIL: one column is coded or built while another is."""
    workers = min(len(items), os.cpu_count() or 1)
    if workers < 2:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, items))


def split_point(rows: int) -> int:
    """Where a column of ``rows`` is cut for two cores: its middle, or ``rows`` (no cut) when it
    is too short for halves to pay.

    >>> split_point(10), split_point(3 << 20)
    (10, 1572864)
    """
    return rows // 2 if rows >= _PARALLEL_ROWS else rows


def gather(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``values[order]``, each half gathered on its own core (numpy releases the GIL): the
    result stays a writable numpy array, which Arrow's faster ``take`` would not give.

    >>> gather(np.array([5, 6, 7]), np.array([2, 0, 1])).tolist()
    [7, 5, 6]
    """
    middle = split_point(len(order))
    if middle == len(order):
        return values[order]
    out = np.empty(len(order), dtype=values.dtype)
    halves = [slice(0, middle), slice(middle, len(order))]
    in_parallel(lambda half: np.take(values, order[half], out=out[half]), halves)
    return out
