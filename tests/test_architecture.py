"""The structure is enforced, not just drawn: no import circles, a thin main window, short modules.

The layer rules themselves are import-linter contracts in pyproject.toml (run by ``make test``);
this file checks what a layers contract cannot: circles between modules of the same layer.
"""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MAIN_WINDOW_LIMIT = 300  # lines: the main window only wires parts together
MODULE_LIMIT = 400  # lines: house style


def _import_circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    circles.append(sorted(group))
    return circles


def test_no_import_circles_between_modules():
    graph = grimp.build_graph("inference", "app")
    # A package's __init__ is not a module of its own here: grimp counts "a.b" importing "a" as an edge.
    assert _import_circles(graph) == []


def test_circle_finder_finds_a_circle():
    # The check above must be able to fail: two modules importing each other are one circle.
    class TwoModules:
        modules = {"x.a", "x.b", "x.c"}

        @staticmethod
        def find_modules_directly_imported_by(name):
            return {"x.a": {"x.b"}, "x.b": {"x.a", "x.c"}, "x.c": set()}[name]

    assert _import_circles(TwoModules()) == [["x.a", "x.b"]]


def test_main_window_only_wires():
    lines = (PROJECT_ROOT / "app" / "window" / "main_window.py").read_text(encoding="utf-8").count("\n")
    assert lines <= MAIN_WINDOW_LIMIT


@pytest.mark.parametrize("package", ["app", "inference"])
def test_modules_stay_short(package):
    long = {str(path.relative_to(PROJECT_ROOT)): count
            for path in (PROJECT_ROOT / package).rglob("*.py")
            if (count := path.read_text(encoding="utf-8").count("\n")) > MODULE_LIMIT}
    assert long == {}
