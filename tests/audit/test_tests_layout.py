"""tests/audit mirrors the package: every test module there is named for a module of `audit` in
the same place (`tests/audit/<path>/test_<module>*.py` for `audit/<path>/<module>.py`), so the
tests of a module are found by its path. The command line's end-to-end tests live in
tests/audit/cli/ (for audit/cli.py); a few tests are about the whole package."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests" / "audit"

PACKAGE_WIDE = {
    "tests/audit/test_architecture_doc.py",
    "tests/audit/test_import_cycles.py",
    "tests/audit/test_package_boundary.py",
    "tests/audit/test_tests_layout.py",
    "tests/audit/checks/test_check_modules.py",
}
"""Tests of rules across modules (layering, cycles, the plugin boundary, this layout)."""


def _module_names(folder: Path) -> list[str]:
    return [p.stem for p in folder.glob("*.py") if p.stem != "__init__"] + [p.name for p in folder.iterdir() if (p / "__init__.py").is_file()]


def test_every_test_module_is_named_for_the_module_it_tests():
    strays = []
    for test in sorted(TESTS.rglob("test_*.py")):
        relative = test.relative_to(ROOT).as_posix()
        folder = test.parent.relative_to(TESTS)
        if relative in PACKAGE_WIDE or folder.parts[:1] == ("cli",):
            continue
        source = ROOT / "audit" / folder
        names = _module_names(source) if source.is_dir() else []
        if not any(test.stem == f"test_{n}" or test.stem.startswith(f"test_{n}_") for n in names):
            strays.append(f"{relative}: no module audit/{folder.as_posix() + '/' if folder.parts else ''}<name>.py for it")
    assert not strays, "test modules that do not mirror a module of audit:\n" + "\n".join(strays)


def test_the_command_line_tests_are_under_cli():
    assert (ROOT / "audit" / "cli.py").is_file() and any((TESTS / "cli").glob("test_*.py"))
