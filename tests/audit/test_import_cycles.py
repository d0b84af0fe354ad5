"""The modules of audit/ import each other without cycles.

The graph is built statically from every import statement, function-local and TYPE_CHECKING
ones included: a cycle hidden behind a lazy import is still a tangle that decides import order
at run time. An edge goes to the module an import names (`from audit.x import name` to audit.x,
and to audit.x.name when that is a submodule; `import audit.checks` to the package's
`__init__`); the parent packages Python initialises on the way are not edges of their own.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "audit"
PACKAGE = "audit"


def module_names() -> dict[str, Path]:
    """Every module of the package by dotted name (a package is named by its ``__init__``)."""
    names = {}
    for path in PACKAGE_ROOT.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute dotted name of ``from <level dots><target> import ...`` inside ``module``."""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def imported_modules(module: str, path: Path, known: set[str]) -> set[str]:
    """The package modules that ``module`` imports anywhere in its source."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = (
                resolve_relative(module, is_package, node.level, node.module)
                if node.level
                else node.module or ""
            )
            targets = [source] + [f"{source}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `name` of `from module import name` is no module
                target = target.rpartition(".")[0]
            if target and target != module:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports."""
    names = module_names()
    known = set(names)
    return {name: imported_modules(name, path, known) for name, path in names.items()}


def strongly_connected_components(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; returns components of two or more modules."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = lowlink[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in index:
                    index[successor] = lowlink[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    advanced = True
                    break
                if successor in on_stack:
                    lowlink[node] = min(lowlink[node], index[successor])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                lowlink[parent] = min(lowlink[parent], lowlink[node])
            if lowlink[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def one_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest import path from the component's first module back to itself."""
    members = set(component)
    start = component[0]
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for successor in sorted(graph[node] & members):
                if successor == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if successor not in previous:
                    previous[successor] = node
                    following.append(successor)
        frontier = following
    return component


def test_the_graph_sees_function_local_and_relative_imports():
    graph = import_graph()
    assert "audit.cli" in graph and "audit" in graph
    assert all(target.startswith(PACKAGE) for targets in graph.values() for target in targets)
    assert graph["audit.cli"], "audit.cli imports its subcommands lazily; the graph must see them"


def test_tarjan_finds_a_planted_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected_components(graph) == [["a", "b", "c"]]
    assert one_cycle(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]


def test_no_import_cycles_in_audit():
    graph = import_graph()
    cycles = [
        f"{len(component)} modules: {', '.join(component)}\n"
        f"    e.g. {' -> '.join(one_cycle(graph, component))}"
        for component in strongly_connected_components(graph)
    ]
    assert not cycles, "import cycles in audit/:\n" + "\n".join(cycles)
