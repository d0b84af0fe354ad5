"""`audit compare A B` on inputs that give nothing honest to compare: runs with no record in
common (an fp32 run vs an int8 run) are refused in one line (exit 2) naming why and how to compare
precisions; a file `audit report` refuses is refused the same way; an interrupted side is stated on
stderr, in compare.md and compare.json, and the comparison exits 4, never a clean 0."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.fixtures.synthetic_runs import synthetic_results, write_run
from tests.helpers import assert_one_line_error

CHECKS = ("quality.fid", "quality.kid")


def _run(tmp_path: Path, name: str, index: int, **edits: Any) -> Path:
    results = synthetic_results(index, models=("gan",), checks=CHECKS)
    precision = edits.pop("precision", None)
    if precision:
        for record in results["records"]:
            record["precision"] = precision
    results.update(edits)
    return write_run(tmp_path / name, results) / "results.json"


def test_runs_with_no_record_in_common_are_refused_naming_the_precisions(cli, tmp_path: Path):
    fp32, int8 = _run(tmp_path, "fp32", 0), _run(tmp_path, "int8", 1, precision="int8")
    result = cli("compare", str(fp32), str(int8), f"out={tmp_path / 'cmp'}")
    assert_one_line_error(result, 2, "Nothing to compare", "precisions fp32 (A) vs int8 (B)",
                          "precision=fp32,int8", "audit report A B")
    assert not (tmp_path / "cmp" / "compare.json").exists() and result.stdout == ""


def test_runs_of_other_models_are_refused_naming_the_models(cli, tmp_path: Path):
    a = _run(tmp_path, "a", 0)
    other = synthetic_results(1, models=("vae",), checks=CHECKS)
    b = write_run(tmp_path / "b", other) / "results.json"
    assert_one_line_error(cli("compare", str(a), str(b)), 2, "Nothing to compare", "models gan (A) vs vae (B)")


def test_a_file_audit_report_refuses_is_refused_by_compare_too(cli, tmp_path: Path):
    skeleton = tmp_path / "min" / "results.json"
    skeleton.parent.mkdir()
    skeleton.write_text(json.dumps({"schema_version": 1, "records": [], "summary": {}}))
    report = cli("report", str(skeleton))
    assert_one_line_error(report, 2, "run_id is missing")
    result = cli("compare", str(skeleton), str(skeleton), f"out={tmp_path / 'cmp'}")
    assert_one_line_error(result, 2, "run_id is missing")
    assert result.stdout == "" and not (tmp_path / "cmp" / "compare.json").exists()


def test_a_result_without_summary_is_refused(cli, tmp_path: Path):
    a = _run(tmp_path, "a", 0)
    data = json.loads(a.read_text())
    del data["summary"]
    b = write_run(tmp_path / "b", data) / "results.json"
    assert_one_line_error(cli("compare", str(a), str(b)), 2, "summary is missing")


def test_an_interrupted_side_is_stated_everywhere_and_is_not_a_clean_exit(cli, tmp_path: Path):
    a = _run(tmp_path, "a", 0)
    b = _run(tmp_path, "b", 1, interrupted=True, interrupted_by="SIGINT")
    result = cli("compare", str(a), str(b), f"out={tmp_path / 'cmp'}")
    assert result.exit_code == 4, (result.exit_code, result.stdout, result.stderr)
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("audit: warning: B (run0001) was interrupted by SIGINT"), result.stderr
    assert "incomplete" in lines[0]
    data = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert data["interrupted"] == ["B"] and data["b"]["interrupted"] is True and data["b"]["interrupted_by"] == "SIGINT"
    assert data["a"]["interrupted"] is False and len(data["rows"]) == len(CHECKS)  # still compared: written, then exit 4
    markdown = (tmp_path / "cmp" / "compare.md").read_text()
    assert "**Incomplete**: B (run0001) was interrupted by SIGINT" in markdown


def test_an_interrupted_side_with_nothing_in_common_names_both(cli, tmp_path: Path):
    a = _run(tmp_path, "a", 0)
    b = _run(tmp_path, "b", 1, precision="int8", interrupted=True, interrupted_by="SIGTERM")
    assert_one_line_error(cli("compare", str(a), str(b)), 2, "Nothing to compare", "B was interrupted by SIGTERM")


def test_finished_runs_say_nothing_of_interruption(cli, tmp_path: Path):
    a, b = _run(tmp_path, "a", 0), _run(tmp_path, "b", 1)
    result = cli("compare", str(a), str(b), f"out={tmp_path / 'cmp'}")
    assert result.exit_code == 0 and "interrupted" not in result.stderr
    data = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert data["interrupted"] == [] and len(data["rows"]) == len(CHECKS)
    assert "Incomplete" not in (tmp_path / "cmp" / "compare.md").read_text()
