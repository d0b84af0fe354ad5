"""Shared fixtures: an in-process CLI runner, fixture models on the import path, opt-in slow tests.
Helpers tests import by name are in tests/helpers.py."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.helpers import FIXTURES, CliResult

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
