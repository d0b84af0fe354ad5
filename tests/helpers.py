"""Helpers tests import (`from tests.helpers import ...`): the CLI result type, the one-line-error
contract, the fixture-models folder and a suite's checks per family. Fixtures live in conftest.py."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"
"""Fixture models and plugins (tests/fixtures), put on the import path by tests/conftest.py."""


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def run_dir(self) -> Path:
        line = next(l for l in self.stdout.splitlines() if l.startswith("Report: "))
        return Path(line.removeprefix("Report: ")).parent

    @property
    def results(self) -> dict[str, Any]:
        return json.loads((self.run_dir / "results.json").read_text())


def assert_one_line_error(result: CliResult, code: int, *fragments: str) -> None:
    """The contract for bad input: the documented exit code, one stderr line, no traceback."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert isinstance(result.exception, (SystemExit, type(None))), result.exception


def suite_checks_for(suite: str, family: str) -> set[str]:
    """The suite's checks that apply to `family`, read from the suite file (not restated in tests)."""
    from audit.checks import check_spec, load_check_modules
    from audit.suite import load_suite

    load_check_modules()
    return {c for c in load_suite(suite).checks if check_spec(c).applies_to(family)}
