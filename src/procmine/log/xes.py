"""XES files: a pure-Python reader (:func:`read_xes`, xml.etree's iterparse) for the files the
fast reader (rustxes) refuses or misreads, a sample of a file's own stamps (rustxes drops their
offsets), and the fences around rustxes: its panics told apart from other exceptions, and what it
prints to stderr captured."""

from __future__ import annotations

import contextlib
import gzip
import os
import re
import sys
import tempfile
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np
import pandas as pd

__all__ = [
    "TIMESTAMP_KEY",
    "XESError",
    "captured_stderr",
    "is_rust_panic",
    "read_xes",
    "xes_stamp_sample",
]

TIMESTAMP_KEY = "time:timestamp"
_VALUE_TAGS = {"string", "date", "int", "float", "boolean", "id"}
_CHUNK = 1 << 20
_PER_CHUNK = 16  # stamps sampled from each MiB of a file: spread over all of it
_SAMPLE_STAMPS = 2000
_STAMP = re.compile(
    rb'<date\s+key="time:timestamp"\s+value="([^"]*)"|<date\s+value="([^"]*)"\s+key="time:timestamp"'
)
_GLOBALS = re.compile(rb"<global\b.*?</global>", re.S)
_STDERR_LOCK = threading.Lock()


class XESError(ValueError):
    """A file the XES reader cannot read: not XML, truncated, or no ``<log>`` in it."""


def is_rust_panic(error: BaseException) -> bool:
    """Whether ``error`` is a Rust panic raised through pyo3 (``pyo3_runtime.PanicException``,
    a BaseException: ``except Exception`` does not catch it), told by its class's name and module
    so that KeyboardInterrupt and SystemExit are never mistaken for one.

    >>> is_rust_panic(KeyboardInterrupt()), is_rust_panic(ValueError())
    (False, False)
    """
    kind = type(error)
    return kind.__name__ == "PanicException" and kind.__module__ == "pyo3_runtime"


@contextlib.contextmanager
def captured_stderr(lines: list[str]) -> Iterator[list[str]]:
    """What native code prints to the process's stderr (file descriptor 2) inside the block,
    appended to ``lines`` at its end instead of shown. Output of other threads in that time is
    captured too; where descriptor 2 cannot be redirected the block runs uncaptured. Blocks in
    different threads wait for each other (the descriptor is the process's).

    >>> found = []
    >>> with captured_stderr(found):
    ...     _ = os.write(2, b"Warning: Attribute x contains values of different dtypes\\n")
    >>> found
    ['Warning: Attribute x contains values of different dtypes']
    """
    with _STDERR_LOCK:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):
            yield lines
            return
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield lines
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                sink.seek(0)
                text = sink.read().decode("utf-8", errors="replace")
                lines.extend(line for line in text.splitlines() if line.strip())


def _open(path: Path) -> Any:
    with path.open("rb") as handle:
        magic = handle.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else path.open("rb")


def xes_stamp_sample(path: str | Path) -> list[str]:
    """Event timestamps written in an XES file (gzip'd or not), as text: up to 16 from each MiB
    of the file, then at most 2,000 spread over them; the global default stamp is left out.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.xes").write_text('<log><global scope="event"><date key="time:timestamp" '
    ...     'value="1970-01-01T00:00:00+01:00"/></global><trace><event><date key="time:timestamp" '
    ...     'value="2011-10-11T13:45:40+02:00"/></event></trace></log>')
    >>> xes_stamp_sample(folder / "a.xes")
    ['2011-10-11T13:45:40+02:00']
    """
    found: list[str] = []
    in_global = False
    with _open(Path(path)) as handle:
        while chunk := handle.read(_CHUNK):
            if in_global:  # a global block runs on from the chunk before
                end = chunk.find(b"</global>")
                in_global, chunk = end < 0, b"" if end < 0 else chunk[end:]
            chunk = _GLOBALS.sub(b"", chunk)
            start = chunk.find(b"<global")
            if start >= 0:  # a global block that runs on into the next chunk
                in_global, chunk = True, chunk[:start]
            for number, match in enumerate(_STAMP.finditer(chunk)):
                if number == _PER_CHUNK:
                    break
                found.append((match.group(1) or match.group(2)).decode("utf-8", "replace"))
    if len(found) > _SAMPLE_STAMPS:
        spaced = np.linspace(0, len(found) - 1, _SAMPLE_STAMPS).round().astype(int)
        found = [found[i] for i in np.unique(spaced)]
    return found


def _typed(tag: str, value: str | None) -> Any:
    if value is None:
        return None
    try:
        if tag == "int":
            return int(value)
        if tag == "float":
            return float(value)
    except ValueError:
        return value
    if tag == "boolean":
        return {"true": True, "false": False}.get(value.strip().lower(), value)
    return value


def read_xes(path: str | Path) -> pd.DataFrame:
    """An XES file (gzip'd or not) as a DataFrame, one row per event, read by xml.etree's
    iterparse: event attributes under their keys, trace attributes as ``case:<key>``. Stamps
    stay text as written (the loader parses them, offsets and all); an event without its own
    ``time:timestamp`` has none (the file's global default is not applied). Lists and nested
    attributes are left out. A file that is not XML, is cut short, or has no ``<log>`` raises
    :class:`XESError` saying so.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.xes"
    >>> _ = path.write_text('<log><trace><string key="concept:name" value="c1"/><event><string '
    ...     'key="concept:name" value="a"/><int key="n" value="3"/></event></trace></log>')
    >>> read_xes(path).to_dict("records")
    [{'concept:name': 'a', 'n': 3, 'case:concept:name': 'c1'}]
    """
    path = Path(path)
    try:
        with _open(path) as handle:
            rows, dates = _parse(handle)
    except ElementTree.ParseError as error:
        raise XESError(f"it is not well-formed XML ({error})") from None
    except EOFError:
        raise XESError("the gzip stream ends early: the file is truncated") from None
    except (OSError, zlib.error) as error:
        raise XESError(f"it cannot be decompressed or read ({error})") from None
    frame = pd.DataFrame.from_records(rows)
    for column in dates - {TIMESTAMP_KEY}:
        if column in frame.columns:
            frame[column] = pd.to_datetime(
                frame[column], utc=True, format="ISO8601", errors="coerce"
            )
    return frame


def _parse(handle: Any) -> tuple[list[dict[str, Any]], set[str]]:
    """(one dict per event, trace attributes merged in as ``case:<key>``; the columns that
    hold dates)."""
    rows: list[dict[str, Any]] = []
    dates: set[str] = set()
    stack: list[str] = []
    trace: dict[str, Any] = {}
    event: dict[str, Any] = {}
    first = 0  # the first row of the current trace
    for kind, element in ElementTree.iterparse(handle, events=("start", "end")):
        tag = element.tag.rpartition("}")[2]
        if kind == "start":
            if not stack and tag != "log":
                raise XESError(f"its root element is <{tag}>, not <log>: it is not an XES log")
            stack.append(tag)
            if tag == "trace":
                trace, first = {}, len(rows)
            elif tag == "event":
                event = {}
            continue
        stack.pop()
        parent = stack[-1] if stack else None
        if tag in _VALUE_TAGS and parent in ("event", "trace") and element.get("key"):
            key = element.get("key")
            (event if parent == "event" else trace)[key] = _typed(tag, element.get("value"))
            if tag == "date":
                dates.add(key if parent == "event" else f"case:{key}")
        elif tag == "event" and parent == "trace":
            rows.append(event)
            element.clear()
        elif tag == "trace":
            case = {f"case:{key}": value for key, value in trace.items()}
            rows[first:] = [row | case for row in rows[first:]]
            element.clear()
    return rows, dates
