"""nolabel's own import graph, read from the source with ``ast``: no cycles, no root imports.

Every ``import`` statement counts, at module level or inside a function: a function-level
import that closes a cycle only hides it until the function runs. ``from nolabel.x import
y`` is an edge to ``nolabel.x.y`` when that is a module, else to ``nolabel.x``.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

PACKAGE = "nolabel"
SOURCE = Path(__file__).resolve().parents[1] / "src" / PACKAGE


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(root: Path) -> dict[str, Path]:
    return {_module_name(path, root): path for path in sorted(root.rglob("*.py"))}


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The nolabel modules that ``name`` (stored at ``path``) imports, anywhere in its body."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            targets = [
                f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target
                for alias in node.names
            ]
        else:
            continue
        found.update(t for t in targets if t == PACKAGE or t.startswith(PACKAGE + "."))
    return found


def import_graph(root: Path = SOURCE) -> dict[str, set[str]]:
    modules = _modules(root)
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def tangles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components that hold a cycle, each sorted (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for child in sorted(graph.get(node, ())):
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in on_stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One shortest cycle (a closed path of modules) per tangle."""
    return [_closed_path(graph, component) for component in tangles(graph)]


def _closed_path(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest cycle through the first module of a strongly connected component (BFS)."""
    start, members = component[0], set(component)
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return [*reversed(path), start]
                if child not in parents:
                    parents[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle through {start} in {component}")  # pragma: no cover


def test_the_graph_sees_the_package():
    graph = import_graph()
    assert {"nolabel", "nolabel.registry", "nolabel.metrics.anomaly"} <= set(graph)
    # A submodule named in ``from package import name`` is an edge to that submodule.
    assert "nolabel.errors" in graph["nolabel.registry"]
    assert "nolabel.models" in graph["nolabel"]


def test_no_module_imports_the_package_root():
    graph = import_graph()
    offenders = sorted(name for name, targets in graph.items() if PACKAGE in targets)
    assert not offenders, (
        f"these modules import the package root {PACKAGE!r} itself (import the submodule that "
        f"defines what they need instead): {', '.join(offenders)}"
    )


def test_no_import_cycles():
    graph = import_graph()
    found = tangles(graph)
    described = "\n".join(
        f"  {' -> '.join(_closed_path(graph, members))}\n"
        f"    (one cycle among these {len(members)} modules: {', '.join(members)})"
        for members in found
    )
    assert not found, f"import cycles among nolabel's modules:\n{described}"


def _write(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / "nolabel" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "nolabel"


def test_the_checks_catch_cycles_root_imports_and_function_level_imports(tmp_path):
    root = _write(tmp_path, {
        "__init__.py": "from nolabel.a import thing\n",
        "a.py": "from nolabel import b\nthing = 1\n",
        "b.py": "def later():\n    from nolabel.sub.c import name\n",
        "sub/__init__.py": "",
        "sub/c.py": "from ..a import thing\nimport nolabel\nname = thing\n",
        "d.py": "import nolabel.sub\n",
    })
    graph = import_graph(root)
    assert graph["nolabel.a"] == {"nolabel.b"}
    assert graph["nolabel.b"] == {"nolabel.sub.c"}
    assert graph["nolabel.sub.c"] == {"nolabel.a", "nolabel"}
    assert graph["nolabel.d"] == {"nolabel.sub"}
    cycles = find_cycles(graph)
    assert len(cycles) == 1
    assert set(cycles[0]) == {"nolabel", "nolabel.a", "nolabel.b", "nolabel.sub.c"}
    assert cycles[0][0] == cycles[0][-1]
    for first, second in itertools.pairwise(cycles[0]):
        assert second in graph[first], f"{first} -> {second} is not an edge"


@pytest.mark.parametrize("source", ["import nolabel\n", "from nolabel import a\n"])
def test_root_import_is_an_edge_to_the_root_unless_it_names_a_submodule(tmp_path, source):
    root = _write(tmp_path, {"__init__.py": "", "a.py": "", "b.py": source})
    expected = {"nolabel"} if source.startswith("import") else {"nolabel.a"}
    assert import_graph(root)["nolabel.b"] == expected
