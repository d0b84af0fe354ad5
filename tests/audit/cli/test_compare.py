"""`audit compare A B`: records matched by (check, model, precision), B - A with a labelled CI,
compare.json + compare.md, and a refusal (exit 2, one line naming it) when metric fingerprints differ."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import CliResult, assert_one_line_error


def invoke(*words: str) -> CliResult:
    from typer.testing import CliRunner

    from audit.cli import app

    result = CliRunner().invoke(app, list(words))
    return CliResult(result.exit_code, result.stdout, result.stderr, result.exception)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three small runs: A and B share seed and n (B adds a model), C has another n."""
    out = tmp_path_factory.mktemp("compare")
    paths = {}
    for name, words in {
        "a": ["model=gan", "n=64", "seed=0"],
        "b": ["model=gan,gan-collapsed", "n=64", "seed=0"],
        "c": ["model=gan", "n=96", "seed=0"],
    }.items():
        result = invoke("run", "suite=smoke", *words, "bootstrap=50", f"out={out / name}")
        assert result.exit_code == 0, result.stdout + result.stderr
        paths[name] = result.run_dir / "results.json"
    return paths


def edited(runs: dict[str, Path], tmp_path: Path, change) -> Path:
    data = json.loads(runs["a"].read_text())
    change(data)
    path = tmp_path / "edited" / "results.json"
    path.parent.mkdir()
    path.write_text(json.dumps(data))
    return path


def test_compare_writes_a_table_json_and_markdown(runs):
    result = invoke("compare", str(runs["a"]), str(runs["b"]))
    assert result.exit_code == 0, result.stdout + result.stderr
    header = next(l for l in result.stdout.splitlines() if l.startswith("check"))
    for column in ("model", "precision", "A", "B", "delta (B-A)", "95% CI of delta", "label"):
        assert column in header
    out = runs["b"].parent
    data = json.loads((out / "compare.json").read_text())
    assert {(r["check"], r["model"]) for r in data["rows"]} == {("quality.fid", "gan"), ("quality.conditional_accuracy", "gan")}
    assert data["only_in_b"] and all(m == "gan-collapsed" for _, m, _ in data["only_in_b"])
    rows = {row["check"]: row for row in data["rows"]}
    assert all(row["delta"] == 0 for row in rows.values())  # same model, same seed and n: identical values
    assert rows["quality.fid"]["label"] == "unpaired"  # FID is not a mean of per-sample values
    assert "same seed and n, but per-sample values are not stored" in rows["quality.fid"]["method"]
    assert rows["quality.conditional_accuracy"]["label"] == "paired"  # it stores its per-sample outcomes
    assert rows["quality.fid"]["delta_low"] < 0 < rows["quality.fid"]["delta_high"] and rows["quality.fid"]["change"] == "no clear change"
    assert rows["quality.conditional_accuracy"]["change"] == "same"  # identical per-sample outcomes: a zero-width paired CI
    markdown = (out / "compare.md").read_text()
    assert "| check | model | precision | A | B |" in markdown and "unpaired" in markdown and "Only in B" in markdown
    assert f"Comparison: {out / 'compare.json'}" in result.stdout


def test_out_folder(runs, tmp_path: Path):
    result = invoke("compare", str(runs["a"]), str(runs["b"]), f"out={tmp_path / 'cmp'}")
    assert result.exit_code == 0 and (tmp_path / "cmp" / "compare.json").is_file() and (tmp_path / "cmp" / "compare.md").is_file()
    again = invoke("compare", "--out", str(tmp_path / "cmp2"), str(runs["a"]), str(runs["b"]))
    assert again.exit_code == 0 and (tmp_path / "cmp2" / "compare.md").is_file()


def test_different_n_is_refused_naming_it(runs):
    result = invoke("compare", str(runs["a"]), str(runs["c"]))
    assert_one_line_error(result, 2, "metric fingerprints differ", "quality.fid: n 64 vs 96", "--force")


def test_force_compares_anyway_and_says_so(runs, tmp_path: Path):
    result = invoke("compare", str(runs["a"]), str(runs["c"]), "--force", f"out={tmp_path}")
    assert result.exit_code == 0
    assert "warning: metric fingerprints differ" in result.stderr and "n 64 vs 96" in result.stderr
    data = json.loads((tmp_path / "compare.json").read_text())
    assert data["forced"] is True and data["fingerprint_differences"]
    assert "--force" in (tmp_path / "compare.md").read_text()


@pytest.mark.parametrize(
    "change, fragment",
    [
        (lambda d: d["fingerprint"]["files"].update({"evaluator:digits-cnn": "0" * 64}), "evaluator:digits-cnn sha256"),
        (lambda d: d["fingerprint"]["files"].update({"data:digits-16x16": "1" * 64}), "data:digits-16x16 sha256"),
        (lambda d: d["fingerprint"]["packages"].update({"torchmetrics": "0.0.1"}), "torchmetrics 0.0.1 vs"),
        (lambda d: [r["params"].update({"bootstrap": 7}) for r in d["records"]], "bootstrap 7 vs 50"),
    ],
)
def test_metric_fingerprint_mismatch_is_refused(runs, tmp_path: Path, change, fragment: str):
    assert_one_line_error(invoke("compare", str(edited(runs, tmp_path, change)), str(runs["a"])), 2, "metric fingerprints differ", fragment)


def test_model_weights_seed_and_torch_are_information_not_refusal(runs, tmp_path: Path):
    def change(d: dict[str, Any]) -> None:
        d["fingerprint"]["files"]["gan.safetensors"] = "2" * 64
        d["fingerprint"]["packages"]["torch"] = "9.9"
        d["fingerprint"]["seed"] = 5

    result = invoke("compare", str(edited(runs, tmp_path, change)), str(runs["a"]), f"out={tmp_path}")
    assert result.exit_code == 0, result.stderr
    info = json.loads((tmp_path / "compare.json").read_text())["info_differences"]
    assert any(i.startswith("gan.safetensors") for i in info) and "torch 9.9 vs" in " ".join(info) and "seed 5 vs 0" in info


def test_paired_rows_where_per_sample_values_are_stored(runs, tmp_path: Path):
    """A check that stores per-sample values (details.per_sample) gets a paired CI on shared seeds."""
    base = json.loads(runs["a"].read_text())
    acc = next(r for r in base["records"] if r["check"] == "quality.conditional_accuracy")
    n = acc["n"]
    a_values = [1.0] * n
    b_values = [1.0] * (n - 8) + [0.0] * 8
    a, b = copy.deepcopy(base), copy.deepcopy(base)
    for data, values in ((a, a_values), (b, b_values)):
        record = next(r for r in data["records"] if r["check"] == "quality.conditional_accuracy")
        record["value"] = sum(values) / n
        record["details"] = {"per_sample": values}
    for name, data in (("pa", a), ("pb", b)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(data))
    result = invoke("compare", str(tmp_path / "pa" / "results.json"), str(tmp_path / "pb" / "results.json"))
    assert result.exit_code == 0, result.stderr
    rows = {r["check"]: r for r in json.loads((tmp_path / "pb" / "compare.json").read_text())["rows"]}
    paired = rows["quality.conditional_accuracy"]
    assert paired["label"] == "paired" and paired["delta"] == pytest.approx(-8 / n)
    assert paired["delta_high"] < 0 and paired["change"] == "worse"  # a paired CI sees the 8 lost samples
    assert rows["quality.fid"]["label"] == "unpaired"
    line = next(l for l in result.stdout.splitlines() if l.startswith("quality.conditional_accuracy"))
    assert line.split()[-2:] == ["paired", "worse"]


def test_different_models_are_compared_where_keys_match(runs, tmp_path: Path):
    b = json.loads(runs["b"].read_text())
    collapsed = [dict(r, model="gan") for r in b["records"] if r["model"] == "gan-collapsed"]
    path = tmp_path / "x" / "results.json"
    path.parent.mkdir()
    path.write_text(json.dumps({**b, "records": collapsed}))
    result = invoke("compare", str(runs["a"]), str(path))
    assert result.exit_code == 0
    rows = {r["check"]: r for r in json.loads((path.parent / "compare.json").read_text())["rows"]}
    assert rows["quality.conditional_accuracy"]["change"] == "worse" and rows["quality.fid"]["change"] == "worse"


@pytest.mark.parametrize(
    "words, fragment",
    [
        (["ONLY"], "compare needs two results.json paths"),
        (["ONLY", "ONLY", "ONLY"], "got 3"),
        (["ONLY", "MISSING"], "does not exist"),
        (["ONLY", "ONLY", "fource=true"], "Unknown key 'fource'"),
        (["ONLY", "ONLY", "force=maybe"], "'force' must be true or false"),
    ],
)
def test_bad_invocations(runs, tmp_path: Path, words: list[str], fragment: str):
    words = [str(runs["a"]) if w == "ONLY" else str(tmp_path / "missing.json") if w == "MISSING" else w for w in words]
    assert_one_line_error(invoke("compare", *words), 2, fragment)


def test_a_different_evaluator_or_data_set_is_a_metric_difference():
    from audit.differences import run_differences

    def run(files):
        return {"fingerprint": {"files": files, "packages": {}}}

    default = run({"evaluator:digits-cnn": "a" * 64, "data:digits-16x16": "b" * 64})
    mine = run({"evaluator:my-inception": "c" * 64, "data:digits-16x16": "b" * 64})
    with_text = run({"evaluator:digits-cnn": "a" * 64, "data:digits-16x16": "b" * 64, "data:tinystories-heldout": "d" * 64})
    assert run_differences(default, mine) == ["evaluator digits-cnn vs my-inception"]
    assert run_differences(default, with_text) == []  # a text set beside the same images is no conflict
    grouped = run({"evaluator:digits-cnn": "a" * 64, "attributes:pkg.mod:colour": "e" * 64})
    regrouped = run({"evaluator:digits-cnn": "a" * 64, "attributes:pkg.mod:colour": "f" * 64})
    assert run_differences(grouped, regrouped) == [f"attributes:pkg.mod:colour sha256 {'e' * 12}… vs {'f' * 12}…"]


def test_conditional_accuracy_is_compared_paired_on_the_same_seed(cli, tmp_path):
    a = cli("run", "suite=smoke", "model=gan", "n=64", "bootstrap=20", "check=quality.conditional_accuracy")
    b = cli("run", "suite=smoke", "model=gan", "n=64", "bootstrap=20", "check=quality.conditional_accuracy")
    result = cli("compare", str(a.run_dir / "results.json"), str(b.run_dir / "results.json"), f"out={tmp_path / 'cmp'}")
    assert result.exit_code == 0, result.stderr
    rows = json.loads((tmp_path / "cmp" / "compare.json").read_text())["rows"]
    row = next(r for r in rows if r["check"] == "quality.conditional_accuracy")
    assert row["label"] == "paired"
    assert row["delta"] == 0 and row["delta_low"] == 0 and row["delta_high"] == 0  # same seed, same samples
