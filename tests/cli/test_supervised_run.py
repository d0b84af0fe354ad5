"""The console `audit run` watches its run from a parent process: a model that ends the process
past any `except` (os._exit(0), SIGKILL as the OOM killer sends it) still leaves every output and
a non-zero exit, and a SIGTERM sent to `audit` reaches the run. These run the real console entry
point in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import FIXTURES

WORDS = ["check=quality.fid", "n=100", "bootstrap=20"]


def _audit(tmp_path: Path, *words: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(FIXTURES), os.environ.get("PYTHONPATH", "")])}
    env.pop("AUDIT_SUPERVISED", None)
    args = [sys.executable, "-m", "audit.cli", "run", "suite=quality", *words, *WORDS, f"out={tmp_path}"]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _run_dir(tmp_path: Path) -> Path:
    [run_dir] = [p for p in tmp_path.iterdir() if p.is_dir()]
    return run_dir


@pytest.mark.parametrize("model, ended", [("hostile_models:ends_process", "exited with status 0"),
                                          ("hostile_models:kills_process", "killed by SIGKILL")])
def test_a_model_ending_the_process_leaves_every_output_and_exit_4(tmp_path: Path, model: str, ended: str):
    proc = _audit(tmp_path, f"model=gan,{model}")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 4, out + err
    assert ended in err and "rebuilt them from results.jsonl" in err and "Traceback" not in err
    run_dir = _run_dir(tmp_path)
    for name in ("results.json", "report.html", "junit.xml", "summary.md"):
        assert (run_dir / name).is_file(), name
    results = json.loads((run_dir / "results.json").read_text())
    assert results["interrupted"] is True and results["summary"]["exit_code"] == 4
    assert [r["model"] for r in results["records"]] == ["gan"], "what was measured before is kept"
    assert "run interrupted" in (run_dir / "junit.xml").read_text()


def test_a_module_ending_the_process_at_import_is_not_a_pass(tmp_path: Path):
    proc = _audit(tmp_path, "model=ends_process_on_import:load")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 4, out + err
    assert "before it created its run folder" in err


def test_sigterm_to_audit_reaches_the_run_and_every_output_is_written(tmp_path: Path):
    proc = _audit(tmp_path, "model=gan,hostile_models:hangs", "timeout=0")
    deadline = time.monotonic() + 240
    stream = None
    while time.monotonic() < deadline:  # wait until gan's record is streamed and the hang began
        runs = [p for p in tmp_path.iterdir() if p.is_dir()]
        stream = runs[0] / "results.jsonl" if runs else None
        if stream and stream.is_file() and any(l.startswith('{"check": "quality.fid"') for l in stream.read_text().splitlines()):
            break
        time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("the run never streamed its first record")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 4, out + err
    assert "interrupted by SIGTERM" in err
    results = json.loads((_run_dir(tmp_path) / "results.json").read_text())
    assert results["interrupted_by"] == "SIGTERM" and [r["model"] for r in results["records"]] == ["gan"], results["records"]
