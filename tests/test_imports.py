"""No import cycles between the modules of `bot/` and `handlers/`.

The graph is read from the source with `ast`, not by importing anything: an edge A → B means
module A imports B, at module level or inside a function (a deferred import is still an arrow
that runs one way). Imports under ``if TYPE_CHECKING:`` are left out: they never run. Importing
``a.b.c`` also runs ``a/__init__.py`` and ``a/b/__init__.py``, so those count as edges too.

Handlers reach the services through the typed context (`bot.context.BotContext.services`),
so they never import `bot.app`, which builds the application from them.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers")

Graph = dict[str, set[str]]


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    """``if TYPE_CHECKING:`` or ``if typing.TYPE_CHECKING:``."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _imports(tree: ast.AST) -> Iterable[ast.Import | ast.ImportFrom]:
    """Every import statement that can run: anywhere in the tree, except under the body of an
    ``if TYPE_CHECKING:`` (its ``else:`` branch does run)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _resolve(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """The absolute module name a ``from … import`` reads from (relative ones resolved)."""
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    if not is_package:
        base.pop()
    for _ in range(node.level - 1):
        base.pop()
    return ".".join([*base, node.module] if node.module else base)


def imported_modules(
    source: str, importer: str, known: set[str], *, is_package: bool = False
) -> set[str]:
    """The modules among `known` that running `source` (module `importer`) imports."""
    targets: set[str] = set()
    for node in _imports(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            base = _resolve(node, importer, is_package)
            # `from pkg import mod` imports the submodule; `from mod import name` the module.
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        for name in names:
            parts = name.split(".")
            # Importing a.b.c runs the __init__ of a and of a.b as well, except for packages
            # that hold the importer: they are initialised before it, so no arrow goes there.
            for i in range(1, len(parts) + 1):
                package = ".".join(parts[:i])
                if i < len(parts) and importer.startswith(package + "."):
                    continue
                targets.add(package)
    return {t for t in targets if t in known and t != importer}


def import_graph(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> Graph:
    files = {
        module_name(path, root): path
        for package in packages
        for path in sorted((root / package).rglob("*.py"))
    }
    known = set(files)
    return {
        name: imported_modules(
            path.read_text(encoding="utf-8"), name, known, is_package=path.name == "__init__.py"
        )
        for name, path in files.items()
    }


def cycles(graph: Graph) -> list[list[str]]:
    """One cycle per strongly connected component that has one (Tarjan, then a shortest cycle
    through the component's first module), each as ``[a, b, …, a]``."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []

    def visit(start: str) -> None:
        # Iterative Tarjan: the graph is small, but recursion limits are not a test's business.
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    found = []
    for component in components:
        first = component[0]
        if len(component) > 1 or first in graph.get(first, ()):
            found.append(_shortest_cycle(graph, first, set(component)))
    return sorted(found)


def _shortest_cycle(graph: Graph, start: str, within: set[str]) -> list[str]:
    """Breadth-first from `start` back to itself, staying inside its component."""
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph.get(node, ())):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if child in within and child not in came_from:
                    came_from[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"{start} is in a component but on no cycle")


def without(graph: Graph, excused: Callable[[str, str], bool]) -> Graph:
    return {a: {b for b in targets if not excused(a, b)} for a, targets in graph.items()}


def _report(found: list[list[str]]) -> str:
    return "import cycles:\n" + "\n".join("  " + " -> ".join(cycle) for cycle in found)


# ---------------------------------------------------------------------------------------------
# The tree
# ---------------------------------------------------------------------------------------------


def test_no_import_cycles() -> None:
    found = cycles(import_graph())
    assert not found, _report(found)


def test_handlers_do_not_import_the_application_builder() -> None:
    graph = import_graph()
    assert [
        m for m, targets in graph.items() if m.startswith("handlers") and "bot.app" in targets
    ] == []


def test_the_walker_sees_the_tree() -> None:
    """The graph is not vacuous: it holds every module, and edges it must find are there."""
    graph = import_graph()
    assert {"bot.app", "bot.text", "bot.services.desk", "handlers.staff"} <= set(graph)
    assert "bot.storage.tables" in graph["bot.storage.cases"]  # a module-level import
    assert "handlers.staff" in graph["bot.app"]  # the builder imports the handlers
    assert "bot.config" not in graph["bot.ops.backup"]  # only under `if TYPE_CHECKING:`


# ---------------------------------------------------------------------------------------------
# The walker on made-up sources
# ---------------------------------------------------------------------------------------------

KNOWN = {"p", "p.a", "p.b", "p.c", "p.sub", "p.sub.d"}


def test_function_level_imports_count_and_type_checking_ones_do_not() -> None:
    source = """
from __future__ import annotations
import typing
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from p import b
if typing.TYPE_CHECKING:
    import p.c
else:
    import p.sub.d
def f():
    from p.a import thing
"""
    assert imported_modules(source, "p.x", KNOWN) == {"p.a", "p.sub", "p.sub.d"}


def test_from_package_import_module_is_an_edge_to_the_module() -> None:
    # A name from p's __init__ is an arrow to p; a sibling module is not (p, the importer's own
    # package, is initialised before the importer runs).
    assert imported_modules("from p import a, name", "p.x", KNOWN) == {"p", "p.a"}
    assert imported_modules("from .sub import d", "p.b", KNOWN) == {"p.sub", "p.sub.d"}
    assert imported_modules("from .. import a", "p.sub.d", KNOWN) == {"p.a"}
    assert imported_modules("from . import d", "p.sub", KNOWN, is_package=True) == {"p.sub.d"}
    assert imported_modules("import os, json", "p.a", KNOWN) == set()


def test_cycles_are_found_and_printed() -> None:
    graph = {
        "p.a": {"p.b"},
        "p.b": {"p.c"},
        "p.c": {"p.a", "p.sub"},
        "p.sub": {"p.sub"},
        "p.sub.d": {"p.a"},
    }
    assert cycles(graph) == [["p.a", "p.b", "p.c", "p.a"], ["p.sub", "p.sub"]]
    assert "p.a -> p.b -> p.c -> p.a" in _report(cycles(graph))
    assert cycles({"p.a": {"p.b"}, "p.b": set()}) == []
