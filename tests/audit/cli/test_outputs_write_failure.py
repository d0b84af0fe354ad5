"""When the run's outputs cannot be written (a full disk, a run folder removed mid-run) the run
exits 4 with one line naming the run folder, and no file it leaves states another exit code:
results.json is written again with exit code 4 and the reason, or removed when even that fails,
so neither it nor a rebuild from results.jsonl shows PASS (README, "What can go wrong")."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import audit
import audit.results
from audit.errors import OutputError
from audit.report.write import REPORT_NAMES
from tests.helpers import run_cli

FAST = {"check": "quality.fid", "n": 64, "bootstrap": 20}
"""A passing run of the bundled gan: exit 0 when its outputs are written."""


def _failing_writes(monkeypatch: pytest.MonkeyPatch, fails) -> list[str]:
    """audit.results.write_text_atomic (every whole-file write of a run: the stream's rewrite,
    results.json, the reports) raising ENOSPC where `fails(name, earlier writes of that name)`."""
    real = audit.results.write_text_atomic
    seen: list[str] = []

    def write(path: Path, text: str) -> None:
        name = Path(path).name
        if fails(name, seen.count(name)):
            seen.append(name)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        seen.append(name)
        real(path, text)

    monkeypatch.setattr(audit.results, "write_text_atomic", write)
    return seen


def _run_dir(out: Path) -> Path:
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    return run_dir


def test_a_report_that_cannot_be_written_leaves_results_json_saying_exit_4(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    _failing_writes(monkeypatch, lambda name, before: name == "report.html")
    with pytest.raises(OutputError) as raised:
        audit.run("smoke", ["gan"], out=tmp_path, **FAST)
    run_dir = _run_dir(tmp_path)
    assert str(run_dir) in str(raised.value) and "No space left on device" in str(raised.value)
    written = json.loads((run_dir / "results.json").read_text())
    assert written["summary"]["exit_code"] == 4, written["summary"]
    assert "No space left on device" in written["summary"]["output_error"]
    assert not [name for name in REPORT_NAMES.values() if (run_dir / name).exists()]  # none states another code
    monkeypatch.undo()
    again = run_cli("report", str(run_dir))  # the disk has room again
    assert again.exit_code == 4, (again.stdout, again.stderr)
    headline = (run_dir / "summary.md").read_text().splitlines()[0]
    assert "exit code 4" in headline and "PASS" not in headline
    (run_dir / "results.json").unlink()  # the stream alone says the same
    rebuilt = run_cli("report", str(run_dir))
    assert rebuilt.exit_code == 4 and "exit code 4" in rebuilt.stdout, (rebuilt.stdout, rebuilt.stderr)


def test_when_results_json_cannot_be_rewritten_the_stale_one_is_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # results.json is written once (exit 0), report.html fails, then so does every later results.json
    _failing_writes(monkeypatch, lambda name, before: name == "report.html" or (name == "results.json" and before >= 1))
    with pytest.raises(OutputError):
        audit.run("smoke", ["gan"], out=tmp_path, **FAST)
    run_dir = _run_dir(tmp_path)
    assert not (run_dir / "results.json").exists()
    assert not [name for name in REPORT_NAMES.values() if (run_dir / name).exists()]
    monkeypatch.undo()
    rebuilt = run_cli("report", str(run_dir))
    assert rebuilt.exit_code == 4, (rebuilt.stdout, rebuilt.stderr)
    data = json.loads((run_dir / "results.json").read_text())
    assert data["summary"]["exit_code"] == 4 and data["records"] and "PASS" not in (run_dir / "summary.md").read_text().splitlines()[0]


def test_a_written_run_passes_as_before(tmp_path: Path):
    result = audit.run("smoke", ["gan"], out=tmp_path, **FAST)
    written = json.loads((result.run_dir / "results.json").read_text())
    assert result.exit_code == written["summary"]["exit_code"] == 0 and "output_error" not in written["summary"]


# ---------------------------------------------------------------- the whole command: one line


FULL_DISK = """
import errno, os
_open = os.open
_full = os.environ["AUDIT_TEST_FULL_DIR"]

def _open_on_a_full_disk(path, flags, *args, **kwargs):
    name = os.fspath(path)
    if isinstance(name, str) and name.startswith(_full) and os.path.basename(name).startswith(".") and name.endswith(".tmp"):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # every whole file written in the folder; appends still fit
    return _open(path, flags, *args, **kwargs)

os.open = _open_on_a_full_disk
"""

VANISHING_MODEL = """
import shutil
from pathlib import Path

from fixture_models import UniformNoise


def vanish(folder: str):
    for run_dir in Path(folder).iterdir():  # the run folder is removed while the run goes on
        shutil.rmtree(run_dir)
    return UniformNoise("vanish")
"""


def _audit_run(tmp_path: Path, *words: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    path = os.pathsep.join(filter(None, [str(tmp_path / "py"), os.environ.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "audit.cli", "run", "suite=smoke", "n=64", "bootstrap=20", *words],
                          capture_output=True, text=True, timeout=300, env={**os.environ, **env, "PYTHONPATH": path})


def _one_line(proc: subprocess.CompletedProcess, folder: Path, reason: str) -> None:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 4 and len(lines) == 1, (proc.returncode, proc.stderr)
    assert lines[0].startswith("audit: error: ") and str(folder) in lines[0] and reason in lines[0], lines[0]
    assert "Traceback" not in proc.stderr


def test_a_full_disk_is_one_line_naming_the_run_folder(tmp_path: Path):
    (tmp_path / "py").mkdir()
    (tmp_path / "py" / "sitecustomize.py").write_text(textwrap.dedent(FULL_DISK))  # parent and child alike
    out = tmp_path / "full"
    proc = _audit_run(tmp_path, "model=gan", "check=quality.fid", f"out={out}", env={"AUDIT_TEST_FULL_DIR": str(out)})
    run_dir = _run_dir(out)
    _one_line(proc, run_dir, "No space left on device")
    assert not (run_dir / "results.json").exists() and (run_dir / "results.jsonl").is_file()  # what was streamed is kept


def test_a_vanished_run_folder_is_one_line_naming_it(tmp_path: Path):
    (tmp_path / "py").mkdir()
    (tmp_path / "py" / "vanishing_model.py").write_text(textwrap.dedent(VANISHING_MODEL))
    out = tmp_path / "reports"
    proc = _audit_run(tmp_path, f"model=vanishing_model:vanish?folder={out}", "check=quality.fid", f"out={out}", env={})
    assert not list(out.iterdir())
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and f"'{out}{os.sep}smoke-" in lines[0], proc.stderr
    _one_line(proc, out, "No such file or directory")
