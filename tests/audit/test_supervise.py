"""The supervising parent (audit/supervise.py) when its child was killed after writing its final
results.json: the reports are rendered again and the exit code is the one results.json states."""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path

import pytest

import audit
from audit.errors import EXIT_ERROR
from audit.supervise import _verdict

FAST = {"check": "quality.fid", "n": 64, "bootstrap": 20}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """One finished run (a failed gate, exit 1); each test works on its own copy."""
    from fixture_models import noise

    tmp_path = tmp_path_factory.mktemp("finished")
    policy = tmp_path / "strict.toml"
    policy.write_text('[[gate]]\ncheck = "quality.fid"\nmax = 1.0\n')
    return audit.run("smoke", {"mine": noise()}, out=tmp_path, policy=policy, **FAST).run_dir


def _copy(run_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run_dir, tmp_path / "run"))


def test_a_child_killed_after_its_results_were_written_exits_as_results_json_says(finished_run, tmp_path, capsys):
    run_dir = _copy(finished_run, tmp_path)
    stated = json.loads((run_dir / "results.json").read_text())["summary"]["exit_code"]
    assert stated == 1  # random weights against an FID gate of 1: a failed gate, not an error
    (run_dir / "report.html").unlink()  # killed while it rendered the reports
    assert _verdict(-int(signal.SIGTERM), run_dir) == stated
    assert (run_dir / "report.html").is_file()
    assert "killed by SIGTERM after its results were written" in capsys.readouterr().err


def test_an_unreadable_results_json_after_a_kill_is_an_error(finished_run, tmp_path, capsys):
    run_dir = _copy(finished_run, tmp_path)
    (run_dir / "results.json").write_text("{not json")
    assert _verdict(-int(signal.SIGKILL), run_dir) == EXIT_ERROR
    assert "rendering its reports again failed" in capsys.readouterr().err
