"""Which runs `audit report A B ...` compares (audit.report.comparison_inputs): run folders,
results files and folders of runs; every bad input one InputError naming it."""

from __future__ import annotations

from pathlib import Path

import pytest
from synthetic_runs import synthetic_results, write_run

from audit.errors import InputError
from audit.report.comparison_inputs import is_collection, load_runs


def test_a_folder_of_runs_expands_to_its_runs(tmp_path: Path):
    for i in range(3):
        write_run(tmp_path / "sweep" / f"ckpt{i}", synthetic_results(i, checks=("quality.fid",)))
    (tmp_path / "sweep" / "notes").mkdir()  # a folder that is not a run is passed over
    assert is_collection(tmp_path / "sweep") and not is_collection(tmp_path / "sweep" / "ckpt0")
    runs = load_runs([tmp_path / "sweep"])
    assert [Path(r.path).name for r in runs] == ["ckpt0", "ckpt1", "ckpt2"]
    mixed = load_runs([tmp_path / "sweep" / "ckpt0", tmp_path / "sweep" / "ckpt1" / "results.json"])
    assert [r.results["run_id"] for r in mixed] == ["run0000", "run0001"]


@pytest.mark.parametrize("case, fragment", [
    ("missing", "does not exist"),
    ("not_results", "is not a results file"),
    ("not_ours", "not an audit results.json"),
    ("one_in_folder", "holds one run"),
    ("empty_folder", "holds no run"),
    ("twice", "given twice"),
])
def test_bad_input_is_one_input_error(tmp_path: Path, case: str, fragment: str):
    run = write_run(tmp_path / "a", synthetic_results(0, checks=("quality.fid",)))
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "other.json").write_text('{"hello": 1}')
    write_run(tmp_path / "single" / "only", synthetic_results(1, checks=("quality.fid",)))
    (tmp_path / "empty").mkdir()
    paths = {
        "missing": [run, tmp_path / "nope"], "not_results": [run, tmp_path / "notes.txt"],
        "not_ours": [run, tmp_path / "other.json"], "one_in_folder": [tmp_path / "single"],
        "empty_folder": [run, tmp_path / "empty"], "twice": [run, run / "results.json"],
    }[case]
    with pytest.raises(InputError, match=fragment) as caught:
        load_runs(paths)
    assert "\n" not in str(caught.value)
