"""`audit report A B ...` and `audit report FOLDER`: one comparison page of many runs, its path
printed; bad input one line and exit 2; `audit report RUN` still re-renders one run."""

from __future__ import annotations

from pathlib import Path

import pytest
from synthetic_runs import synthetic_results, write_run

from tests.helpers import assert_one_line_error


@pytest.fixture
def series(tmp_path: Path) -> Path:
    """A nightly series of three runs; the second measured with another evaluator."""
    for i in range(3):
        results = synthetic_results(i, checks=("quality.fid", "quality.precision"), fid_max=20.0)
        if i == 1:
            results["fingerprint"]["files"]["evaluator:digits-cnn"] = "b" * 64
        write_run(tmp_path / "nightly" / f"night{i}", results)
    return tmp_path / "nightly"


def test_a_folder_of_runs_gives_one_page_at_out(cli, series: Path, tmp_path: Path):
    result = cli("report", str(series), f"out={tmp_path / 'cmp'}")
    assert result.exit_code == 0, result.stdout + result.stderr
    page = tmp_path / "cmp" / "comparison.html"
    assert result.stdout.strip() == f"Comparison of 3 runs: {page}"
    html = page.read_text(encoding="utf-8")
    assert 'id="check-quality.fid"' in html and 'id="check-quality.precision"' in html
    assert "not comparable: evaluator:digits-cnn sha256" in html
    assert not (series / "night0" / "report.html").exists()  # the runs' own folders are left alone


def test_named_runs_default_to_audit_comparison_in_the_current_folder(cli, series: Path, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("report", str(series / "night0"), str(series / "night2" / "results.json"), "--out", "here")
    assert result.exit_code == 0 and (tmp_path / "here" / "comparison.html").is_file(), result.stderr
    default = cli("report", str(series / "night0"), str(series / "night1"))
    assert default.exit_code == 0 and (tmp_path / "audit-comparison" / "comparison.html").is_file(), default.stderr


def test_one_run_is_still_re_rendered_in_its_folder(cli, series: Path):
    result = cli("report", str(series / "night2"))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"Report: {series / 'night2' / 'report.html'}"
    assert (series / "night2" / "report.html").is_file() and (series / "night2" / "summary.md").is_file()


@pytest.mark.parametrize("words, fragments", [
    ([], ("report needs a run folder",)),
    (["{series}/night0", "{tmp}/missing"], ("does not exist",)),
    (["{series}/night0", "{tmp}/notes.txt"], ("is not a results file",)),
    (["{tmp}/one"], ("needs at least 2 runs", "holds one run")),
    (["{series}/night0", "out={tmp}/notes.txt"], ("needs at least 2 runs",)),
    (["{series}", "out={tmp}/notes.txt"], ("not a writable folder",)),
    (["{series}", "colour=red"], ("Unknown key 'colour'",)),
])
def test_bad_input_is_one_line_and_exit_2(cli, series: Path, tmp_path: Path, words: list[str], fragments: tuple[str, ...]):
    (tmp_path / "notes.txt").write_text("not a run")
    write_run(tmp_path / "one" / "only", synthetic_results(0, checks=("quality.fid",)))
    result = cli("report", *(w.format(series=series, tmp=tmp_path) for w in words))
    assert_one_line_error(result, 2, *fragments)
