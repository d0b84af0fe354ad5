"""`audit report RUN` on a hand-edited results.json: the summary is recomputed from the records
(audit.gates.exit_code), a disagreement is one warning line and the exit code, so summary.md and
junit.xml never disagree; an interval with ci_low > ci_high is an invalid file (exit 2). `audit
compare ... out=FILE` is refused before any output, as run and report refuse it; a closed stdout
pipe ends a listing quietly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import assert_one_line_error, run_cli, synthetic_quality_run


def _edited(tmp_path: Path, edit) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    data = synthetic_quality_run(run)
    edit(data)
    (run / "results.json").write_text(json.dumps(data))
    return run


def _junit_failures(run: Path) -> int:
    import xml.etree.ElementTree as ET

    root = ET.parse(run / "junit.xml").getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    return sum(int(s.get("failures", 0)) for s in suites)


def test_stated_pass_over_failing_records_is_recomputed(tmp_path: Path) -> None:
    stated = {}

    def edit(d):
        stated["code"] = d["summary"]["exit_code"]
        d["summary"]["exit_code"] = 0

    run = _edited(tmp_path, edit)
    assert stated["code"] != 0
    result = run_cli("report", str(run))
    assert result.exit_code == stated["code"], (result.stdout, result.stderr)
    assert "disagrees with its records" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    summary = (run / "summary.md").read_text()
    assert "exit code 0" not in summary and f"exit code {stated['code']}" in summary.splitlines()[0]
    assert _junit_failures(run) > 0


def test_flipped_statuses_with_stale_counts(tmp_path: Path) -> None:
    def flip(d):
        for r in d["records"]:
            if r["status"] in ("fail", "error", "inconclusive"):
                r["status"] = "pass"
        d["summary"]["counts"] = {"pass": -3, "fail": 2}

    run = _edited(tmp_path, flip)
    result = run_cli("report", str(run))
    assert result.exit_code == 0 and "disagrees" in result.stderr, (result.stdout, result.stderr)
    assert "PASS" in (run / "summary.md").read_text().splitlines()[0]
    assert _junit_failures(run) == 0


def test_agreeing_summary_is_quiet(tmp_path: Path) -> None:
    run = _edited(tmp_path, lambda d: None)
    stated = json.loads((run / "results.json").read_text())["summary"]["exit_code"]
    result = run_cli("report", str(run))
    assert result.exit_code == stated and result.stderr == "", result.stderr  # the run's own code


def test_inverted_interval_is_invalid(tmp_path: Path) -> None:
    def invert(d):
        r = d["records"][0]
        r["ci_low"], r["ci_high"] = r["ci_high"] + 1, r["ci_low"]

    run = _edited(tmp_path, invert)
    assert_one_line_error(run_cli("report", str(run)), 2, "ci_low", "records[0]")


def test_compare_out_file_refused_before_output(tmp_path: Path) -> None:
    run = _edited(tmp_path, lambda d: None)
    afile = tmp_path / "afile"
    afile.write_text("")
    result = run_cli("compare", str(run / "results.json"), str(run / "results.json"), f"out={afile}")
    assert_one_line_error(result, 2, "afile")
    assert result.stdout == ""


def test_list_into_closed_pipe_ends_quietly() -> None:
    code = "import sys; sys.argv = ['audit', 'list', 'checks']; from audit.cli import main; main()"
    shell = f"{sys.executable} -c \"{code}\" | head -1; echo rc=${{PIPESTATUS[0]}} >&2"
    proc = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=120)
    assert "Broken pipe" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert "rc=0" in proc.stderr, proc.stderr
