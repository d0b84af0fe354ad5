"""A user can install audit: scripts/check_wheel.sh builds the wheel, installs it with torch into
a fresh venv outside the repository, and from an empty folder runs `audit run suite=smoke`, a
suite file and `audit.run`. Slow (pip installs every dependency): run with --runslow."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_the_wheel_installs_and_runs_outside_the_repository(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    base_python = getattr(sys, "_base_executable", None) or "python3"  # the interpreter this test's venv was made from
    env.update(TMPDIR=str(tmp_path), PYTHON=env.get("AUDIT_WHEEL_PYTHON", base_python))
    done = subprocess.run(["bash", str(ROOT / "scripts" / "check_wheel.sh")], env=env, capture_output=True, text=True, timeout=3600)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "from" in output and "site-packages" in output  # imported from the venv, not the checkout
    assert "Verdict: PASS (exit 0)" in output and "OK: the wheel installs and runs outside the repository" in output
