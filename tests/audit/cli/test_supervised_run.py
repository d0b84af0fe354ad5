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

from tests.helpers import FIXTURES

WORDS = ["check=quality.fid", "n=100", "bootstrap=20"]


def _audit(tmp_path: Path, *words: str, session: bool = False, **extra_env: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(FIXTURES), os.environ.get("PYTHONPATH", "")]), **extra_env}
    env.pop("AUDIT_SUPERVISED", None)
    args = [sys.executable, "-m", "audit.cli", "run", "suite=quality", *words, *WORDS, f"out={tmp_path}"]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=session)


def _wait_for_first_record(tmp_path: Path, proc: subprocess.Popen) -> None:
    """Until gan's record is streamed (the second model's hang has begun)."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        runs = [p for p in tmp_path.iterdir() if p.is_dir()]
        stream = runs[0] / "results.jsonl" if runs else None
        if stream and stream.is_file() and any(l.startswith('{"check": "quality.fid"') for l in stream.read_text().splitlines()):
            return
        time.sleep(0.2)
    proc.kill()
    pytest.fail("the run never streamed its first record")


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


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


def test_a_model_making_the_process_leave_with_0_does_not_pass_the_run(tmp_path: Path):
    """It replaced `os._exit` and `sys.exit` as it sampled; the seal puts them back after the check."""
    proc = _audit(tmp_path, "model=hostile_models:forces_exit_zero")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 4, out + err
    results = json.loads((_run_dir(tmp_path) / "results.json").read_text())
    [record] = results["records"]
    assert record["status"] == "error" and "os._exit replaced" in record["reason"] and "sys.exit replaced" in record["reason"]
    assert results["summary"]["exit_code"] == 4


@pytest.mark.parametrize("status, stated, expected", [(0, 1, 4), (3, 0, 4), (1, 1, 1), (0, 0, 0), (4, 1, 4)])
def test_the_parent_takes_the_childs_status_only_where_results_json_states_it(tmp_path: Path, capsys, status: int, stated: int,
                                                                            expected: int):
    """A child whose exit was changed after its outputs were written (a model's thread replacing
    `os._exit` past the last seal check) leaves a status its results.json contradicts: exit 4.
    4 with another stated code is the child's own error after writing (a report it could not write)."""
    from audit.supervise import _verdict

    (tmp_path / "results.json").write_text(json.dumps({"summary": {"exit_code": stated}}))
    assert _verdict(status, tmp_path) == expected
    err = capsys.readouterr().err
    assert ("states exit code" in err) == (status != stated and status != 4)


def test_the_parent_treats_an_unreadable_results_json_as_an_error(tmp_path: Path, capsys):
    from audit.supervise import _verdict

    (tmp_path / "results.json").write_text("{\"summary\": ")
    assert _verdict(0, tmp_path) == 4
    assert "cannot be read" in capsys.readouterr().err


def test_a_module_ending_the_process_at_import_is_not_a_pass(tmp_path: Path):
    proc = _audit(tmp_path, "model=ends_process_on_import:load")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 4, out + err
    assert "before it created its run folder" in err


def test_sigterm_to_audit_reaches_the_run_and_every_output_is_written(tmp_path: Path):
    proc = _audit(tmp_path, "model=gan,hostile_models:hangs", "timeout=0")
    _wait_for_first_record(tmp_path, proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 4, out + err
    assert "interrupted by SIGTERM" in err
    results = json.loads((_run_dir(tmp_path) / "results.json").read_text())
    assert results["interrupted_by"] == "SIGTERM" and [r["model"] for r in results["records"]] == ["gan"], results["records"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the child follows its parent through Linux's prctl")
def test_a_run_whose_parent_is_killed_ends_as_interrupted_not_as_an_orphan(tmp_path: Path):
    """SIGKILL to the watching parent alone (a runner killing the process it started): the child
    gets SIGTERM, writes every output marked interrupted, and does not run on unobserved."""
    proc = _audit(tmp_path, "model=gan,hostile_models:hangs", "timeout=0", session=True)
    groups = [proc.pid]
    try:
        _wait_for_first_record(tmp_path, proc)
        groups += [int(pid) for pid in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
        assert len(groups) == 2, "the parent runs the command in one child (in a process group of its own)"
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and any(_group_alive(g) for g in groups):
            time.sleep(0.2)
        if any(_group_alive(g) for g in groups):
            pytest.fail("the child ran on after its parent was killed")
    finally:
        for group in groups:
            try:
                os.killpg(group, signal.SIGKILL)
            except ProcessLookupError:
                pass
    results = json.loads((_run_dir(tmp_path) / "results.json").read_text())
    assert results["interrupted_by"] == "SIGTERM" and [r["model"] for r in results["records"]] == ["gan"], results["records"]
    assert (_run_dir(tmp_path) / "report.html").is_file()


def test_a_model_that_ignores_sigterm_is_killed_after_the_grace_and_the_run_rebuilt(tmp_path: Path):
    marker = tmp_path.parent / f"{tmp_path.name}-ignoring"
    proc = _audit(tmp_path, f"model=gan,hostile_models:ignores_cancel?marker={marker}", "timeout=0", AUDIT_CANCEL_GRACE_S="3")
    deadline = time.monotonic() + 240
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert marker.exists(), "the model never began to ignore the cancel"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 4, out + err
    assert "did not stop within 3 s of the cancel" in err and "rebuilt them from results.jsonl" in err
    run_dir = _run_dir(tmp_path)
    results = json.loads((run_dir / "results.json").read_text())
    assert results["interrupted"] is True and [r["model"] for r in results["records"]] == ["gan"], results["records"]
    assert (run_dir / "report.html").is_file()


def test_a_model_closing_stdout_does_not_silence_the_runs_lines(tmp_path: Path):
    proc = _audit(tmp_path, "model=hostile_models:closes_stdout,gan")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, out + err  # the noise model fails its FID gate: a verdict, not an internal error
    assert "internal error" not in err
    assert "quality.fid                    gan/fp32" in out and "Verdict: FAIL (exit 1)" in out and "Report: " in out


@pytest.mark.parametrize("model", ["hostile_models:leaves_thread", "hostile_models:hangs_at_exit"])
def test_a_run_ends_with_its_verdict_whatever_the_model_leaves_for_interpreter_exit(tmp_path: Path, model: str):
    """A non-daemon thread that never ends, an atexit hook that never returns: the run still ends
    when its verdict is printed, with the verdict's exit code (it had hung until the CI's limit)."""
    proc = _audit(tmp_path, f"model={model}")
    try:
        out, err = proc.communicate(timeout=180)
    finally:
        proc.kill()
    assert proc.returncode == 1, out + err  # the noise model fails its FID gate
    assert "Verdict: FAIL (exit 1)" in out
    assert json.loads((_run_dir(tmp_path) / "results.json").read_text())["summary"]["exit_code"] == 1


def test_processes_a_model_leaves_running_end_with_the_run(tmp_path: Path):
    marker = tmp_path.parent / f"{tmp_path.name}-left-pid"
    proc = _audit(tmp_path, f"model=hostile_models:leaves_process?marker={marker}")
    try:
        out, err = proc.communicate(timeout=180)  # the left process holds stdout: this waits for it unless it was ended
    finally:
        proc.kill()
    assert proc.returncode == 1, out + err
    assert "killed processes the run had started and left running" in err
    left = int(marker.read_text())
    deadline = time.monotonic() + 10
    while Path(f"/proc/{left}").exists() and "Z" not in _state(left) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{left}").exists() or "Z" in _state(left), "the model's process outlived the run"


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "Z"


def test_a_model_blocked_where_the_time_limit_cannot_reach_is_killed_and_the_run_rebuilt(tmp_path: Path):
    """SIGALRM blocked and no return: without the parent's watch on results.jsonl the run would
    wait for the CI system's own limit. With timeout=30 and a 5 s grace it is killed ~35 s after
    gan's last record (gan takes well under 30 s), and gan's records are kept."""
    proc = _audit(tmp_path, "model=gan,hostile_models:blocks_time_limit", "timeout=30", AUDIT_WATCHDOG_GRACE_S="5")
    try:
        out, err = proc.communicate(timeout=240)
    finally:
        proc.kill()
    assert proc.returncode == 4, out + err
    assert "past timeout=30 s" in err and "rebuilt them from results.jsonl" in err
    results = json.loads((_run_dir(tmp_path) / "results.json").read_text())
    assert results["interrupted"] is True and [r["model"] for r in results["records"]] == ["gan"], results["records"]
