"""`audit_reference_models` is a plugin of `audit` like any user package.

`audit` names `audit_reference_models` in one place only, `audit.registry.register_bundled_models`,
and reaches everything else of it through the registries that its catalog fills; the plugin in
turn imports only public names of `audit` (public module paths, names in that module's
`__all__`). Read from the source (ast), so no model or torch is loaded for the rules.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = "audit_reference_models"
ALLOWED = {("audit/registry.py", "register_bundled_models")}
"""(file, function) pairs where audit may name the plugin package."""
IMPORTERS = {"import_module", "__import__", "import_target"}


def sources(package: str) -> Iterator[tuple[str, ast.Module]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def names_plugin(name: str | None) -> bool:
    return bool(name) and (name == PLUGIN or name.startswith(f"{PLUGIN}.") or name.startswith(f"{PLUGIN}:"))


def plugin_references(tree: ast.Module) -> Iterator[tuple[int, str | None, str]]:
    """(line, enclosing function, what) for every import of the plugin package and every string
    naming it that is passed to an importing call."""

    def visit(node: ast.AST, function: str | None) -> Iterator[tuple[int, str | None, str]]:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        if isinstance(node, ast.Import):
            for alias in node.names:
                if names_plugin(alias.name):
                    yield node.lineno, function, f"import {alias.name}"
        elif isinstance(node, ast.ImportFrom) and not node.level and names_plugin(node.module):
            yield node.lineno, function, f"from {node.module} import ..."
        elif isinstance(node, ast.Call):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if called in IMPORTERS:
                for arg in node.args[:1]:
                    for part in ast.walk(arg):
                        if isinstance(part, ast.Constant) and isinstance(part.value, str) and names_plugin(part.value):
                            yield node.lineno, function, f"{called}({part.value!r})"
        for child in ast.iter_child_nodes(node):
            yield from visit(child, function)

    yield from visit(tree, None)


def test_audit_names_the_plugin_only_where_the_registry_loads_it():
    offending = [
        f"{file}:{line}: {what}"
        for file, tree in sources("audit")
        for line, function, what in plugin_references(tree)
        if (file, function) not in ALLOWED
    ]
    assert not offending, "audit imports audit_reference_models outside register_bundled_models:\n" + "\n".join(offending)


def public_names(module: str) -> set[str] | None:
    """The module's `__all__`, or None when it has none."""
    exported = getattr(importlib.import_module(module), "__all__", None)
    return None if exported is None else set(exported)


def audit_imports(tree: ast.Module) -> Iterator[tuple[int, str, list[str]]]:
    """(line, audit module, names imported from it) for every import of audit."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "audit" or alias.name.startswith("audit."):
                    yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            if node.module == "audit" or node.module.startswith("audit."):
                yield node.lineno, node.module, [alias.name for alias in node.names]


def test_the_plugin_imports_only_public_names_of_audit():
    offending = []
    for file, tree in sources(PLUGIN):
        for line, module, names in audit_imports(tree):
            private = [part for part in module.split(".") if part.startswith("_")]
            if private:
                offending.append(f"{file}:{line}: {module} is a private module")
                continue
            if not names:
                continue
            exported = public_names(module)
            if exported is None:
                offending.append(f"{file}:{line}: {module} has no __all__ (imports {', '.join(names)})")
                continue
            missing = [n for n in names if n not in exported]
            if missing:
                offending.append(f"{file}:{line}: {', '.join(missing)} not in {module}.__all__")
    assert not offending, "audit_reference_models imports non-public audit names:\n" + "\n".join(offending)


def test_the_boundary_rules_catch_what_they_forbid():
    tree = ast.parse(
        "import audit_reference_models.gan\n"
        "def f():\n"
        "    from audit_reference_models.data import digits\n"
        "    importlib.import_module('audit_reference_models.catalog')\n"
        "    __import__(f'audit_reference_models.{x}')\n"
    )
    assert [(line, function) for line, function, _ in plugin_references(tree)] == [(1, None), (3, "f"), (4, "f"), (5, "f")]
    tree = ast.parse("from audit.registry import models\nimport audit.weights\nfrom audit._x import y\n")
    assert [(line, module) for line, module, _ in audit_imports(tree)] == [(1, "audit.registry"), (2, "audit.weights"), (3, "audit._x")]


def test_the_instrument_registries_list_the_bundled_instruments():
    from audit.registry import datasets, detectors, evaluators, models, register_bundled_models, trainers
    from audit_reference_models.detectors import all_detectors

    register_bundled_models()
    assert {"digits", "tinystories", "adult", "stereotypes"} <= set(datasets.names())
    assert "digits-cnn" in evaluators.names()
    assert set(all_detectors()) <= set(detectors.names())
    bundled_weights = {w for e in models if not e.metadata.get("plugin") for w in e.metadata.get("weights", ())}
    assert bundled_weights | {"classifier", "detector"} <= set(trainers.names())
    for registry in (datasets, evaluators, detectors, trainers):
        for entry in registry:
            assert isinstance(entry.target, str) and ":" in entry.target, f"{registry.kind} {entry.name} is not a lazy module:attr entry"
            if registry is not datasets:
                assert Path(entry.metadata["weights_folder"]).is_dir(), f"{registry.kind} {entry.name} declares no weights folder"
