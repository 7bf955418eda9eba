"""The application's modules import each other without cycles, and without imports tucked inside
functions to dodge one.

Every ``import`` and ``from … import`` statement of the application's own modules counts, wherever
it stands (a cycle hidden behind an import inside a function is still a cycle). A package's
``__init__`` is not counted as imported by its submodules: Python runs it first, but it is a
namespace here, not a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "models", "wechat_handlers", "miniprogram_api")
#: Entry points that build the app (the composition root), outside every package.
ENTRY_POINTS = ("wsgi.py", "worker.py")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found[_module_name(path)] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> list[tuple[str, int, bool]]:
    """(imported application module, line, inside a function) for every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nested: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            nested.update(id(n) for n in ast.walk(node) if n is not node)
    found = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                       for a in node.names]
        for target in targets:
            if target in modules:
                found.append((target, node.lineno, id(node) in nested))
    return found


def _graph() -> tuple[dict[str, set[str]], list[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    nested = []
    for name, path in modules.items():
        for target, line, inside in _imports(path, modules):
            if target != name:
                graph[name].add(target)
            if inside:
                nested.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    return graph, nested


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_among_application_modules():
    graph, _ = _graph()
    assert _cycles(graph) == []


def test_no_application_import_inside_a_function():
    _, nested = _graph()
    assert nested == []


def test_the_checker_sees_a_cycle_and_a_nested_import(tmp_path):
    """The checks above could fail: a cycle and an import inside a function are found."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    source = tmp_path / "m.py"
    source.write_text("from x import y\n\n\ndef f():\n    from x.y import z\n    import x\n", encoding="utf-8")
    assert _imports(source, {"x": source, "x.y": source}) == [("x.y", 1, False), ("x.y", 5, True), ("x", 6, True)]


def test_entry_points_build_the_app_from_outside_every_package():
    for entry in ENTRY_POINTS:
        assert "create_app" in (ROOT / entry).read_text(encoding="utf-8")
