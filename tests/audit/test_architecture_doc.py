"""docs/ARCHITECTURE.md stays true: every module of `audit` is placed in a layer there, every
file the document names exists, and every layer imports only from the layers above it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "ARCHITECTURE.md"


def _layer_rows() -> list[tuple[int, str]]:
    """(layer number, modules cell) for each row of the layer table."""
    rows = []
    for line in DOC.read_text().splitlines():
        match = re.match(r"\|\s*(\d+)\. [^|]+\|([^|]+)\|", line)
        if match:
            rows.append((int(match.group(1)), match.group(2)))
    return rows


def _layer_of_module() -> dict[str, int]:
    """audit module name (e.g. `audit.metrics.frechet`) -> its layer, from the table's names:
    `x.py` is audit.x; `x/` covers the whole package audit.x; `x/y.py` is audit.x.y."""
    layers: dict[str, int] = {}
    for number, cell in _layer_rows():
        for name in re.findall(r"`([a-z_/]+(?:\.py|/))`", cell):
            dotted = "audit." + name.removesuffix(".py").rstrip("/").replace("/", ".")
            layers[dotted] = number
    return layers


def _audit_modules() -> list[str]:
    modules = []
    for path in sorted((ROOT / "audit").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] in ("__init__", "__main__"):
            continue
        modules.append(".".join(parts))
    return modules


def _layer(module: str, layers: dict[str, int]) -> int | None:
    while module:
        if module in layers:
            return layers[module]
        module = module.rpartition(".")[0]
    return None


def test_every_audit_module_is_placed_in_a_layer():
    layers = _layer_of_module()
    assert len(_layer_rows()) >= 5, "the layer table of docs/ARCHITECTURE.md was not found"
    missing = [m for m in _audit_modules() if _layer(m, layers) is None]
    assert not missing, f"modules docs/ARCHITECTURE.md does not place in a layer: {missing}"


def test_every_file_the_document_names_exists():
    text = DOC.read_text()
    named = set(re.findall(r"`((?:audit|tests|suites|audit_reference_models|benchmarks|docs)/[\w/.-]+\.(?:py|toml|j2|md))`", text))
    absent = sorted(n for n in named if not (ROOT / n).exists())
    assert not absent, f"docs/ARCHITECTURE.md names files that do not exist: {absent}"


def _type_only(tree: ast.Module) -> set[int]:
    """ids of the import nodes under `if TYPE_CHECKING:` (they never run)."""
    hidden = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return hidden


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    tree = ast.parse(path.read_text())
    hidden = _type_only(tree)
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return {n for n in names if n.startswith("audit.")}


def test_each_layer_imports_only_from_the_layers_above_it():
    """Function-local imports included (a lazy import is still a dependency); imports only for
    type checkers (`if TYPE_CHECKING:`) excluded: they never run."""
    layers = _layer_of_module()
    known = set(_audit_modules())
    wrong = []
    for module in known:
        path = ROOT / (module.replace(".", "/") + ".py")
        own = _layer(module, layers)
        for imported in _imports(path):
            if imported not in known:
                continue
            theirs = _layer(imported, layers)
            if own is not None and theirs is not None and theirs > own:
                wrong.append(f"{module} (layer {own}) imports {imported} (layer {theirs})")
    assert not wrong, "imports against the layering of docs/ARCHITECTURE.md:\n" + "\n".join(sorted(wrong))
