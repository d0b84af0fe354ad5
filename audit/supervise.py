"""`audit run` from the console runs in a child process that a thin parent watches.

Inside one process, a model can end everything past any `except`: `os._exit(0)` leaves with
status 0 (a silent pass for CI), and the OOM killer or a segfault in native code leaves no
report. The parent imports nothing heavy, forwards SIGINT and SIGTERM to the child, and when the
child ends without its results.json it rebuilds results.json and every report from the child's
results.jsonl, marked interrupted, and exits 4. A child that ended before it created its run
folder and still says 0 is exit 4 too: a run without results is never a pass. A child that does
not end within CANCEL_GRACE_S of a forwarded cancel (a model set SIGTERM to SIG_IGN) is killed
and rebuilt the same way, and so is a child whose results.jsonl has not grown for the run's
`timeout` + WATCHDOG_GRACE_S (a model blocked where the per-model time limit cannot reach it).

A run must also end when it is done. Once the child has written its outputs and printed its
verdict it leaves at once (`os._exit`), so a thread a model started and never stopped, or an
`atexit` hook of its that blocks, cannot keep the job running past its verdict; and the child runs
in a process group of its own, which the parent kills when the child has ended, so a process a
model started and left behind (it would hold the CI log's pipe open) ends with the run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from audit.errors import EXIT_ERROR

SUPERVISED = "AUDIT_SUPERVISED"
"""Set in the child: it runs the command itself instead of supervising another child."""
RUN_DIR_FILE = "AUDIT_RUN_DIR_FILE"
"""File in which the child writes its run folder as soon as it exists."""
PARENT_PID = "AUDIT_PARENT_PID"
"""The watching parent's pid, so the child can tell when it has been orphaned."""
CANCEL_GRACE_S = 20.0
"""Seconds a child has, after the parent forwarded SIGINT or SIGTERM, to write its outputs and end."""
CANCEL_GRACE_ENV = "AUDIT_CANCEL_GRACE_S"
"""Environment variable that sets CANCEL_GRACE_S (e.g. below the CI system's own kill timeout)."""
WATCHDOG_GRACE_S = 300.0
"""Seconds past the run's `timeout` that the parent waits for the next record before it kills the
child: a model blocked where the per-model time limit (SIGALRM) cannot reach it."""
WATCHDOG_GRACE_ENV = "AUDIT_WATCHDOG_GRACE_S"
"""Environment variable that sets WATCHDOG_GRACE_S."""
WAIT_POLL_S = 0.5
"""Seconds between the parent's looks at a child it has asked to stop."""
PR_SET_PDEATHSIG = 1
"""prctl option (linux/prctl.h): the signal this process gets when its parent dies."""


def announce_run_dir(run_dir: Path) -> None:
    """Tell the supervising parent (if any) where this run writes."""
    target = os.environ.get(RUN_DIR_FILE)
    if target:
        Path(target).write_text(str(run_dir), encoding="utf-8")


def withdraw_run_dir() -> None:
    """Take back `announce_run_dir` once this child has reported, in one line naming the run
    folder, that the run's outputs cannot be written: the parent then exits with the child's 4 and
    says nothing more, instead of rebuilding the outputs on the same full disk or vanished folder
    and reporting the same failure again. The child has already left results.json stating exit
    code 4, or none (audit.runner.write_outputs); results.jsonl is kept for `audit report`."""
    target = os.environ.get(RUN_DIR_FILE)
    if target:
        with contextlib.suppress(OSError):
            Path(target).write_text("", encoding="utf-8")


def should_supervise(argv: list[str]) -> bool:
    """Only `audit run` that really runs, only once (not in the child), and not for --help."""
    return bool(argv) and argv[0] == "run" and not os.environ.get(SUPERVISED) and not {"-h", "--help"} & set(argv)


def follow_parent() -> None:
    """In the child: when the watching parent dies, even by SIGKILL, get SIGTERM and end like a
    cancelled job (outputs written, marked interrupted) instead of running on as an orphan that
    nobody reads. Linux only (prctl); elsewhere the child runs to its end or its timeout."""
    expected = os.environ.get(PARENT_PID)
    if not expected or not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if str(os.getppid()) != expected:  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def supervise(argv: list[str]) -> int:
    """Run `audit <argv>` in a child process; return the exit code the run deserves."""
    fd, marker_name = tempfile.mkstemp(prefix="audit-run-dir-")
    os.close(fd)
    marker = Path(marker_name)
    env = {**os.environ, SUPERVISED: "1", RUN_DIR_FILE: str(marker), PARENT_PID: str(os.getpid())}
    child = subprocess.Popen([sys.executable, "-m", "audit.cli", *argv], env=env, process_group=0)

    forwarded: list[float] = []

    def forward(signum: int, frame: Any) -> None:
        child.send_signal(signum)
        if not forwarded:
            forwarded.append(time.monotonic())

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        status = _wait(child, forwarded, RecordWatch(marker))
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    _end_left_behind(child.pid)
    run_dir = marker.read_text(encoding="utf-8").strip() if marker.stat().st_size else ""
    marker.unlink(missing_ok=True)
    return _verdict(status, Path(run_dir) if run_dir else None)


def end_supervised_child(exit: SystemExit) -> None:
    """In the supervised child, once the command has finished: flush what it printed and leave now
    with its exit code, skipping interpreter shutdown, which would wait for every non-daemon
    thread and run every atexit hook that model code left (either can block forever). Its outputs
    are on disk by then (written atomically). Elsewhere (tests, `audit` without a parent) a no-op."""
    if not os.environ.get(SUPERVISED) or os.environ.get(PARENT_PID) != str(os.getppid()):
        return
    import logging

    code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
    if exit.code is not None and not isinstance(exit.code, int):
        print(exit.code, file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a stream model code closed or broke: nothing more can reach it
            pass
    logging.shutdown()
    os._exit(code)


def _end_left_behind(group: int) -> None:
    """Kill what is left of the child's process group once the child has ended: processes model
    code started and did not stop (they would keep the run's output pipe, and so the CI job, open)."""
    try:
        os.killpg(group, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return  # none left
    print("audit: killed processes the run had started and left running (e.g. by model code) when it ended", file=sys.stderr, flush=True)


class RecordWatch:
    """The parent's view of the child's progress: when results.jsonl last grew, and the run's
    `timeout` (from the file's header). Each check ends within the per-model time limit, so a run
    whose stream has not grown for `timeout` + WATCHDOG_GRACE_S is stuck where the limit (a SIGALRM
    in the child) cannot reach: native code that never returns, SIGALRM blocked by model code.
    Before the first record the grace is doubled: what a run prepares before its first unit (a Ray
    cluster, the reference's features for its tasks) is not under the limit."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker
        self.stream: Path | None = None
        self.timeout: float | None = None
        self.size = -1
        self.header_size = -1
        self.grown = time.monotonic()

    def stalled_for(self) -> float | None:
        """Seconds since the stream last grew, once they exceed timeout + grace; else None."""
        now = time.monotonic()
        if self.stream is None and not self._find_stream():
            return None
        size = self.stream.stat().st_size if self.stream.is_file() else self.size
        if size != self.size:
            self.size, self.grown = size, now
            self.header_size = size if self.header_size < 0 else self.header_size
            return None
        grace = float(os.environ.get(WATCHDOG_GRACE_ENV) or WATCHDOG_GRACE_S) * (2 if self.size == self.header_size else 1)
        if not self.timeout or now - self.grown <= self.timeout + grace:
            return None
        return now - self.grown

    def _find_stream(self) -> bool:
        import json

        try:
            run_dir = self.marker.read_text(encoding="utf-8").strip()
            if not run_dir:
                return False
            stream = Path(run_dir) / "results.jsonl"
            with stream.open(encoding="utf-8") as fh:
                header = json.loads(fh.readline())
        except (OSError, ValueError):
            return False
        timeout = (header.get("run", {}).get("config") or {}).get("timeout") if isinstance(header, dict) else None
        self.stream, self.timeout = stream, float(timeout) if isinstance(timeout, (int, float)) and timeout > 0 else None
        return True


def _wait(child: subprocess.Popen, forwarded: list[float], watch: RecordWatch) -> int:
    """The child's exit status. Once a cancel was forwarded (`forwarded` holds its time), a child
    still running CANCEL_GRACE_S later (user code ignores SIGTERM or SIGINT: `signal.SIG_IGN`)
    is killed, so what it streamed is rebuilt while the CI system still waits for this process;
    so is a child whose results.jsonl has not grown for its `timeout` + WATCHDOG_GRACE_S."""
    while True:
        try:
            return child.wait(timeout=WAIT_POLL_S)
        except subprocess.TimeoutExpired:
            grace = float(os.environ.get(CANCEL_GRACE_ENV) or CANCEL_GRACE_S)
            if forwarded and time.monotonic() - forwarded[0] > grace:
                _say(f"the run did not stop within {grace:g} s of the cancel (a model ignores it?); killing it")
                child.kill()
                return child.wait()
            stalled = watch.stalled_for()
            if stalled is not None:
                _say(f"no record for {stalled:.0f} s, past timeout={watch.timeout:g} s: a model is blocked where the time limit "
                     "cannot reach it (native code, blocked signals); killing the run")
                child.kill()
                return child.wait()


def _ended(status: int) -> str:
    if status < 0:
        try:
            return f"was killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"was killed by signal {-status}"
    return f"exited with status {status}"


def _verdict(status: int, run_dir: Path | None) -> int:
    """The child's status (where its results.json states the same: `_as_stated`), unless it ended
    without results: then rebuild what it streamed."""
    if run_dir is not None and (run_dir / "results.json").is_file():
        return _as_stated(status, run_dir) if status >= 0 else _finished_then_killed(status, run_dir)
    if run_dir is None:
        if status == 0 or status < 0:
            _say(f"the run {_ended(status)} before it created its run folder; nothing was measured")
            return EXIT_ERROR
        return status  # bad input (2) and other errors the child already reported in one line
    try:
        from audit.rebuild import rebuild_results
        from audit.report import write_reports
        from audit.results import write_json_atomic

        results = rebuild_results(run_dir / "results.jsonl", interrupted=True)
        write_json_atomic(run_dir / "results.json", results)
        write_reports(results, run_dir)
    except Exception as exc:
        _say(f"the run {_ended(status)} without writing its results, and rebuilding them from {run_dir / 'results.jsonl'} failed: {exc}")
        return EXIT_ERROR
    _say(f"the run {_ended(status)} without writing its results (a model ended the process?); "
         f"rebuilt them from results.jsonl, marked interrupted: {run_dir / 'report.html'}")
    return EXIT_ERROR


def _as_stated(status: int, run_dir: Path) -> int:
    """The child's exit status where it agrees with the exit code its results.json states (or is 4,
    an error the child has already reported, e.g. a report it could not write). Else 4: model code
    in the child changed one of them (a model that set `os._exit` to leave with 0 had turned a
    failed run into exit 0), and neither can be trusted as the run's verdict."""
    import json

    try:
        stated = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))["summary"]["exit_code"]
    except Exception as exc:
        _say(f"the run exited with status {status}, and its results.json cannot be read ({type(exc).__name__}: {exc}); "
             "treating the run as an error")
        return EXIT_ERROR
    if stated == status or status == EXIT_ERROR:
        return status
    _say(f"the run exited with status {status}, but its results.json states exit code {stated!r}: something in the run "
         "(a model's code?) changed one of them; treating the run as an error")
    return EXIT_ERROR


def _finished_then_killed(status: int, run_dir: Path) -> int:
    """The child wrote its final results.json (atomically, once every check ran and was judged)
    and was killed after that, e.g. by a CI's SIGTERM while it rendered the reports: render them
    again from results.json and return the exit code it states, so the process and the file
    agree. A results.json that cannot be read or rendered is an error (exit 4)."""
    import json

    try:
        from audit.report import write_reports

        results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
        write_reports(results, run_dir)
        code = int(results["summary"]["exit_code"])
    except Exception as exc:
        _say(f"the run {_ended(status)} after writing results.json, and rendering its reports again failed: {exc}")
        return EXIT_ERROR
    print(f"audit: the run {_ended(status)} after its results were written; reports rendered again from "
          f"{run_dir / 'results.json'} (exit {code}, as it states)", file=sys.stderr, flush=True)
    return code


def _say(message: str) -> None:
    print(f"audit: error: {message}", file=sys.stderr, flush=True)
