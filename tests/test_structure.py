"""The import graph of the project's modules, read from the source with ``ast`` (imports
inside functions and under ``TYPE_CHECKING`` included): no circles, and the domain owns its
interfaces (``app/training`` imports nothing from ``cache/`` or ``app/events/``; ``cache/``
imports only the domain's interfaces and base helpers from ``app/``)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "cache", "migrations", "tools", "loadtests", "examples")
# What cache/ may take from app/: the domain's interfaces and the value types they name
# (ports, filters, curriculum), and base helpers (time formats, the stale-answer mark).
CACHE_MAY_IMPORT = frozenset(
    {
        "app.training.ports",
        "app.training.filters",
        "app.training.curriculum",
        "app.timefmt",
        "app.stale",
    }
)


def _modules() -> dict[str, Path]:
    """Every project module by dotted name (a package by its own name)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imported(name: str, path: Path) -> Iterator[str]:
    """The project modules ``name`` imports anywhere in its file."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[: len(package) - node.level + 1], *filter(None, [base])])
            # ``from pkg import mod`` imports the module; ``from mod import name`` the module.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:  # ``import a.b.c`` of a name inside a.b
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


GRAPH = {name: sorted(set(_imported(name, path))) for name, path in MODULES.items()}


def _circles() -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in GRAPH[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in GRAPH:
        if node not in index:
            visit(node)
    return found


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_the_graph_is_read() -> None:
    # The checks below pass vacuously on an empty graph: it must hold what we know is there.
    assert "app.training.mark_read" in GRAPH["app.training.router"]
    assert "app.training.ports" in GRAPH["cache.layer"]
    assert "app.resources" in GRAPH["app.main"]


def test_no_module_imports_itself_back() -> None:
    assert _circles() == []


def test_the_domain_imports_no_adapter() -> None:
    wrong = [
        (name, target)
        for name, targets in GRAPH.items()
        if _under(name, "app.training")
        for target in targets
        if _under(target, "cache") or _under(target, "app.events")
    ]
    assert wrong == []


def test_cache_imports_only_the_domain_interfaces_and_base_helpers() -> None:
    wrong = [
        (name, target)
        for name, targets in GRAPH.items()
        if _under(name, "cache")
        for target in targets
        if _under(target, "app") and target not in CACHE_MAY_IMPORT
    ]
    assert wrong == []


def test_what_cache_may_import_imports_nothing_above_it() -> None:
    for name in CACHE_MAY_IMPORT:
        assert set(GRAPH[name]) <= CACHE_MAY_IMPORT, name


def test_only_the_entry_points_open_resources() -> None:
    entry = ("app.main", "app.cli", "tools", "migrations", "loadtests")
    importers = [
        name
        for name, targets in GRAPH.items()
        if "app.resources" in targets and not any(_under(name, e) for e in entry)
    ]
    assert importers == []


RUNTIME = ("app", "cache")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _runtime_modules() -> dict[str, Path]:
    return {n: p for n, p in MODULES.items() if any(_under(n, r) for r in RUNTIME)}


def test_no_runtime_module_is_over_400_lines() -> None:
    long = {
        name: lines
        for name, path in _runtime_modules().items()
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_over_60_lines_without_a_reason() -> None:
    """A longer function says why in its docstring, in a sentence starting "Long:"."""
    long = []
    for name, path in _runtime_modules().items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            if lines > MAX_FUNCTION_LINES and "Long:" not in (ast.get_docstring(node) or ""):
                long.append(f"{name}.{node.name} ({lines} lines)")
    assert long == []
