"""Rules of the codebase a reviewer would otherwise check by hand (issue 14, docs/CONTRACTS.md).

- No function in ``src/`` is longer than 80 lines (a reader can hold it).
- No private name (a leading underscore) is imported from another module: what a module shares
  is public in it.
- Dependencies point down the flow: no module imports the command line, and the definitions
  below the engines (schema, calendar, vocabulary, sequences) import no figure module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "procmine"
MODULES = sorted(SRC.rglob("*.py"))
MAX_LINES = 80


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_the_rules_see_the_package():
    assert len(MODULES) > 10 and any(path.name == "engines.py" for path in MODULES)


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(SRC)))
def test_no_function_over_80_lines(path: Path):
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines, line {node.lineno})"
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_LINES
    ]
    assert not long, f"functions over {MAX_LINES} lines: {long}"


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(SRC)))
def test_no_private_name_is_imported_across_modules(path: Path):
    imported = [
        f"{node.module}.{alias.name} (line {node.lineno})"
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("procmine")
        for alias in node.names
        if alias.name.startswith("_") and alias.name != "__version__"
    ]
    assert not imported, f"private names imported: {imported}"


LOW = {
    "procmine.schema", "procmine.calendar", "procmine.vocabulary", "procmine.formats",
    "procmine.labels", "procmine.report_words", "procmine.sequences",
}  # fmt: skip
FIGURES = {
    "procmine.engines", "procmine.handoffs", "procmine.bottleneck", "procmine.deadlines",
    "procmine.discovery", "procmine.conformance", "procmine.cost", "procmine.whatif",
    "procmine.candidates", "procmine.portfolios", "procmine.plan", "procmine.analysis",
    "procmine.cli", "procmine.scope", "procmine.charts", "procmine.reports", "procmine.dossiers",
    "procmine.clusters", "procmine.drivers",
}  # fmt: skip
# The simplification flow, then the report, in order: each imports only those before it
# (issues 16 and 17).
SIMPLIFICATION = (
    "procmine.cost", "procmine.whatif", "procmine.candidates", "procmine.clusters",
    "procmine.portfolios",
    "procmine.plan", "procmine.analysis", "procmine.charts", "procmine.reports", "procmine.cli",
)  # fmt: skip


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(SRC)))
def test_dependencies_point_down(path: Path):
    name = _module_name(path)
    targets = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom) and node.module:
            targets.add(node.module)
            targets.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
    if name != "procmine":
        assert "procmine.cli" not in targets, f"{name} imports the command line"
    if name in LOW:
        assert not targets & FIGURES, f"{name} imports {sorted(targets & FIGURES)}"
    if name in SIMPLIFICATION:
        later = set(SIMPLIFICATION[SIMPLIFICATION.index(name) + 1 :])
        assert not targets & later, f"{name} imports {sorted(targets & later)}, later in the flow"
