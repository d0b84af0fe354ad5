"""What `audit run` prints: one line per record and no live display when output is not a
terminal (CI logs); only the verdict with --quiet; logging with --verbose; a live display with
steps and an ETA on a real terminal, through the supervised child process."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.helpers import FIXTURES

WORDS = ["run", "suite=smoke", "model=fixture_models:noise", "n=64", "bootstrap=20"]


def test_a_log_gets_one_line_per_record_and_no_escape_codes(cli):
    result = cli(*WORDS)
    assert result.exit_code == 0, result.stdout + result.stderr
    records = result.results["records"]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("audit smoke: 1 model/precision pair(s)")
    measured = lines[1 : 1 + len(records)]
    assert [l.split()[1] for l in measured] == [r["check"] for r in records]
    assert lines[1 + len(records)].startswith(("Verdicts", "Verdict:"))
    assert "\x1b" not in result.stdout + result.stderr and "ETA" not in result.stdout


def test_quiet_prints_only_the_verdict_and_verbose_logs_to_stderr(cli, tmp_path: Path):
    result = cli(*WORDS, "--quiet", "--verbose", f"out={tmp_path}")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [next(l for l in result.stdout.splitlines() if l.startswith("Verdict: PASS (exit 0)"))]
    logged = result.stderr.splitlines()
    assert any(l.startswith("audit: INFO audit.runner: loaded fixture_models:noise/fp32 in ") for l in logged), logged
    assert any(l.startswith("audit: INFO audit.runner: quality.fid on fixture_models:noise/fp32: measured in ") for l in logged)
    assert any("audit.sample_store: sampled 64 images" in l for l in logged)
    quiet_again = cli(*WORDS, "-q", f"out={tmp_path}")
    assert quiet_again.stderr == ""  # the logger is off again after a verbose run


def test_a_terminal_shows_the_live_display_with_an_eta(tmp_path: Path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(FIXTURES), os.environ.get("PYTHONPATH", "")]),
           "COLUMNS": "160", "TERM": "xterm"}
    env.pop("AUDIT_SUPERVISED", None)
    primary, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "audit.cli", *WORDS, f"out={tmp_path}"], env=env,
                            stdin=subprocess.DEVNULL, stdout=secondary, stderr=secondary)
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the terminal closed: every process that held it has ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    assert proc.wait(timeout=240) == 0
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert "\x1b[" in screen and "all checks" in screen and "ETA " in screen
    assert "fixture_models:noise fp32 · quality.fid · " in screen
    assert "Verdict: PASS (exit 0)" in screen and "quality.fid" in screen
