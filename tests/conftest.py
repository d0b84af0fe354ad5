"""Shared fixtures: an in-process CLI runner, fixture models on the import path, opt-in slow tests.
Helpers tests import by name are in tests/helpers.py."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from tests.helpers import FIXTURES, CliResult, run_cli

sys.path.insert(0, str(FIXTURES))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(FIXTURES), os.environ.get("PYTHONPATH")]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
SESSION_CACHE = tempfile.mkdtemp(prefix="audit-test-sample-cache-")
os.environ["AUDIT_CACHE_DIR"] = SESSION_CACHE  # module- and session-scoped fixtures run before the per-test folder below
os.environ.pop("AUDIT_CACHE_MAX_BYTES", None)
atexit.register(shutil.rmtree, SESSION_CACHE, ignore_errors=True)


@pytest.fixture(autouse=True)
def sample_cache_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's own empty sample cache (audit.sample_cache): runs never write to the real
    ~/.cache, and no test reads another's entries; two runs inside one test share it."""
    folder = tmp_path_factory.mktemp("sample-cache")
    monkeypatch.setenv("AUDIT_CACHE_DIR", str(folder))
    monkeypatch.delenv("AUDIT_CACHE_MAX_BYTES", raising=False)
    return folder


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

    def invoke(*words: str) -> CliResult:
        args = list(words)
        if args and args[0] == "run" and not any(w.startswith(("out=", "--out")) for w in args):
            args.append(f"out={tmp_path / 'reports'}")
        return run_cli(*args)

    return invoke
