"""results.jsonl of a finished run ends with an end line (the rest of results.json), so `audit
report` rebuilds a complete stream as the run was judged (a failing run: FAIL, exit 1), and one
cut short (or written by an older audit, without that line) as interrupted, exit 4. `audit report
RUN` exits with the run's exit code as its reports show it, whatever the path to it (results.json
as written, a hand-edited summary recomputed from the records, a rebuilt stream)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import audit
from audit.rebuild import rebuild_results
from audit.results import read_stream
from tests.helpers import assert_one_line_error, run_cli

FAILING = {"check": "quality.fid", "n": 64, "bootstrap": 20}


@pytest.fixture
def failing_run(tmp_path: Path) -> Path:
    """A finished run whose gate fails (exit 1): the policy bounds FID far below the bundled gan's."""
    policy = tmp_path / "audit.toml"
    policy.write_text('[[gate]]\ncheck = "quality.fid"\nmax = 1\n')
    result = audit.run("smoke", ["gan"], out=tmp_path / "reports", policy=policy, **FAILING)
    assert result.exit_code == 1 and result.results["summary"]["exit_code"] == 1
    return result.run_dir


def _only_the_stream(run_dir: Path) -> None:
    for path in run_dir.iterdir():
        if path.is_file() and path.name != "results.jsonl":
            path.unlink()


def test_a_complete_stream_rebuilds_as_the_run_was_judged(failing_run: Path):
    from audit.results import read_stream_end

    written = json.loads((failing_run / "results.json").read_text())
    header, records, end = read_stream_end(failing_run / "results.jsonl")
    assert end is not None and end["summary"] == written["summary"] and records == written["records"]
    rebuilt = rebuild_results(failing_run / "results.jsonl", interrupted=True)
    assert {k: v for k, v in rebuilt.items() if k != "rebuilt_from"} == written and rebuilt["rebuilt_from"] == "results.jsonl"


def test_audit_report_rebuilds_a_complete_failing_run_as_fail_exit_1(failing_run: Path):
    _only_the_stream(failing_run)
    result = run_cli("report", str(failing_run))
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert "(complete, exit code 1)" in result.stdout and result.stderr == ""
    headline = (failing_run / "summary.md").read_text().splitlines()[0]
    assert "FAIL" in headline and "INTERRUPTED" not in headline
    assert "interrupted" not in (failing_run / "junit.xml").read_text()
    data = json.loads((failing_run / "results.json").read_text())
    assert data["interrupted"] is False and data["summary"]["exit_code"] == 1 and data["models"]


def test_a_stream_without_its_end_line_is_still_read_and_rebuilt_interrupted(failing_run: Path):
    from audit.results import read_stream_end

    stream = failing_run / "results.jsonl"
    stream.write_text("".join(stream.read_text().splitlines(keepends=True)[:-1]))  # a run cut short, or an older audit's stream
    assert read_stream_end(stream)[2] is None and read_stream(stream)[1]
    _only_the_stream(failing_run)
    result = run_cli("report", str(failing_run))
    assert result.exit_code == 4 and "interrupted: incomplete, exit code 4" in result.stdout, (result.stdout, result.stderr)
    assert "INTERRUPTED" in (failing_run / "summary.md").read_text().splitlines()[0]


def test_a_record_after_the_end_line_is_an_invalid_stream(failing_run: Path):
    stream = failing_run / "results.jsonl"
    lines = stream.read_text().splitlines(keepends=True)
    stream.write_text("".join(lines + [lines[1]]))
    _only_the_stream(failing_run)
    assert_one_line_error(run_cli("report", str(failing_run)), 2, "follows the end line")


# ---------------------------------------------------------------- audit report's exit code: the run's


def test_report_of_an_unedited_failing_run_exits_with_its_code(failing_run: Path):
    result = run_cli("report", str(failing_run))
    assert result.exit_code == 1 and result.stderr == "", (result.stdout, result.stderr)


def test_report_of_a_hand_edited_summary_exits_with_the_records_code(failing_run: Path):
    path = failing_run / "results.json"
    data = json.loads(path.read_text())
    data["summary"]["exit_code"] = 0
    path.write_text(json.dumps(data))
    result = run_cli("report", str(failing_run))
    assert result.exit_code == 1 and "disagrees with its records" in result.stderr, (result.stdout, result.stderr)


def test_report_of_a_rebuilt_interrupted_run_exits_4(failing_run: Path):
    stream = failing_run / "results.jsonl"
    stream.write_text("".join(stream.read_text().splitlines(keepends=True)[:-1]))
    _only_the_stream(failing_run)
    assert run_cli("report", str(failing_run)).exit_code == 4
    assert run_cli("report", str(failing_run)).exit_code == 4  # read back from the results.json it wrote: the same
