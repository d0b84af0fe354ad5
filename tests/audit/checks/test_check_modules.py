"""Check modules are leaves: they register checks and nothing imports from them.

Shared maths lives in audit.metrics / audit.stats, shared model calls and views of the samples in
library modules (audit.text_generation, audit.pixel_space, audit.efficiency, ...). A check module
that imports another one's names (private or not) turns it into a library whose helpers change
meaning without notice; the only check-package module others may import is the `@check`
machinery, audit.checks.base (and the package itself, which loads the check modules).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CHECKS = ROOT / "audit" / "checks"
SHARED = {"audit.checks", "audit.checks.base"}
CHECK_MODULES = sorted(f"audit.checks.{p.stem}" for p in CHECKS.glob("*.py") if f"audit.checks.{p.stem}" not in SHARED | {"audit.checks.__init__"})


def imports_of(path: Path) -> list[tuple[str, str | None, int]]:
    """(module, imported name or None, line) for every import in `path`, function-local ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found += [(node.module, alias.name, node.lineno) for alias in node.names]
            found += [(f"{node.module}.{alias.name}", None, node.lineno) for alias in node.names]
    return found


def test_there_are_check_modules_to_guard():
    assert {"audit.checks.image_quality", "audit.checks.privacy", "audit.checks.fairness_text"} <= set(CHECK_MODULES)


@pytest.mark.parametrize("folder", ["audit", "audit_reference_models", "benchmarks"])
def test_nothing_imports_from_a_check_module(folder: str):
    offenders = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for module, name, line in imports_of(path):
            if module in CHECK_MODULES:
                offenders.append(f"{path.relative_to(ROOT)}:{line} imports {module}{'.' + name if name else ''}")
    assert not offenders, "check modules are not libraries; move what is shared out of them:\n" + "\n".join(offenders)


def test_no_check_module_imports_a_private_name_of_another_audit_module():
    offenders = []
    for path in sorted(CHECKS.glob("*.py")):
        for module, name, line in imports_of(path):
            if module.startswith("audit.") and name and name.startswith("_") and not name.startswith("__"):
                offenders.append(f"{path.relative_to(ROOT)}:{line} imports {module}.{name}")
    assert not offenders, "private names stay in their module:\n" + "\n".join(offenders)
