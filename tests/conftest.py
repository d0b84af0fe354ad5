"""Shared fixtures: an in-process CLI runner, fixture models on the import path, opt-in slow tests."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
sys.path.insert(0, str(FIXTURES))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(FIXTURES), os.environ.get("PYTHONPATH")]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", help="run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


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


@pytest.fixture
def cli(tmp_path: Path):
    """Run `audit <words>` in-process; `out=` defaults to a temporary folder for runs."""
    from typer.testing import CliRunner

    from audit.cli import app

    def invoke(*words: str) -> CliResult:
        args = list(words)
        if args and args[0] == "run" and not any(w.startswith(("out=", "--out")) for w in args):
            args.append(f"out={tmp_path / 'reports'}")
        result = CliRunner().invoke(app, args)
        return CliResult(result.exit_code, result.stdout, result.stderr, result.exception)

    return invoke


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
