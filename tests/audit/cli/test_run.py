"""`audit run` end to end on the bundled GAN: outputs, determinism, equivalence of word forms."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from audit.results import load_results, read_stream
from tests.helpers import CliResult, run_cli, suite_checks_for

VOLATILE = {"run_id", "started", "duration_s"}


def strip_volatile(data: dict) -> dict:
    data = {k: v for k, v in data.items() if k not in VOLATILE}
    data["config"] = {k: v for k, v in data["config"].items() if k != "out"}
    data["records"] = [{k: v for k, v in r.items() if k != "duration_s"} for r in data["records"]]
    for record in data["records"]:  # where samples came from (the sample cache) is provenance, not a result
        record.get("details", {}).pop("cache", None)
    return data


def test_quality_run_twice_is_identical(cli, tmp_path: Path):
    """Every quality check, bootstrap included; n=600 spans two batches of the evaluator (512)."""
    words = ("run", "suite=quality", "model=gan", "seed=0", "n=600", "bootstrap=100", "cache=off")
    first = cli(*words, f"out={tmp_path / 'a'}")
    second = cli(*words, f"out={tmp_path / 'b'}")
    assert first.exit_code == second.exit_code == 0, first.stdout + first.stderr
    assert strip_volatile(first.results) == strip_volatile(second.results)
    assert (first.run_dir / "artifacts" / "gan-fp32-samples.png").read_bytes() == (
        second.run_dir / "artifacts" / "gan-fp32-samples.png"
    ).read_bytes()


@pytest.fixture(scope="module")
def smoke_gan(tmp_path_factory: pytest.TempPathFactory) -> CliResult:
    """`audit run suite=smoke model=gan` (default seed 0), made once for the tests that only read
    its outputs; a test that changes the folder works on a copy."""
    return run_cli("run", "suite=smoke", "model=gan", f"out={tmp_path_factory.mktemp('smoke-gan')}")


def test_run_writes_every_output(smoke_gan: CliResult):
    result = smoke_gan
    for name in ("results.json", "results.jsonl", "report.html", "junit.xml", "summary.md"):
        assert (result.run_dir / name).is_file(), name
    assert result.run_dir.name.startswith("smoke-")
    data = result.results
    assert data["schema_version"] == 1 and data["suite"] == "smoke"
    fid = next(r for r in data["records"] if r["check"] == "quality.fid")
    assert fid["ci_low"] <= fid["value"] <= fid["ci_high"] and fid["n"] == 128
    files = data["fingerprint"]["files"]
    assert {"gan.safetensors", "evaluator:digits-cnn", "data:digits-16x16"} <= set(files)
    assert all(len(d) == 64 for d in files.values())
    assert data["fingerprint"]["packages"]["torch"]


def test_options_and_words_are_equivalent(cli, tmp_path: Path):
    words = cli("run", "suite=smoke", "model=gan", "n=64", "seed=3", f"out={tmp_path / 'w'}")
    options = cli("run", "--suite", "smoke", "--model", "gan", "--n=64", "--seed", "3", "--out", str(tmp_path / "o"))
    a, b = strip_volatile(words.results), strip_volatile(options.results)
    assert a == b


def test_seed_changes_the_samples(cli, smoke_gan: CliResult):
    a = smoke_gan.results["records"]
    b = cli("run", "suite=smoke", "model=gan", "seed=1").results["records"]
    assert [r["value"] for r in a] != [r["value"] for r in b]


def test_policy_gate_fails_the_run(cli, tmp_path: Path):
    policy = tmp_path / "strict.toml"
    policy.write_text('[[gate]]\ncheck = "quality.fid"\nmax = 0.001\n')
    result = cli("run", "suite=smoke", "model=gan", f"policy={policy}")
    assert result.exit_code == 1
    fid = next(r for r in result.results["records"] if r["check"] == "quality.fid")
    assert fid["status"] == "fail" and fid["gates"][0]["max"] == 0.001
    assert "<failure" in (result.run_dir / "junit.xml").read_text()


def test_inconclusive_exit_code(cli, tmp_path: Path, smoke_gan: CliResult):
    first = smoke_gan.results
    fid = next(r for r in first["records"] if r["check"] == "quality.fid")
    middle = (fid["ci_low"] + fid["ci_high"]) / 2
    policy = tmp_path / "edge.toml"
    policy.write_text(f'[[gate]]\ncheck = "quality.fid"\nmax = {middle}\n')
    assert cli("run", "suite=smoke", "model=gan", f"policy={policy}").exit_code == 3


def test_unsupported_precision_is_skipped(cli):
    result = cli("run", "suite=smoke", "model=gan", "precision=fp16")
    records = result.results["records"]
    assert records and all(r["status"] == "skipped" and "CUDA" in r["reason"] for r in records)
    assert result.exit_code == 5, "a model with nothing judged is not a pass"


def test_bf16_runs(cli):
    result = cli("run", "suite=smoke", "model=gan", "precision=fp32,bf16")
    by_precision = {(r["precision"], r["check"]): r for r in result.results["records"]}
    assert by_precision[("bf16", "quality.fid")]["value"] is not None
    assert by_precision[("bf16", "quality.fid")]["value"] != by_precision[("fp32", "quality.fid")]["value"]


def test_samples_are_generated_and_featurized_once_per_model(tmp_path: Path):
    from audit.config import parse_run_words
    from audit.plan import make_plan
    from audit.runner import execute

    plan = make_plan(parse_run_words(["suite=quality", "model=gan,fixture_models:noise", "n=100", "bootstrap=20", f"out={tmp_path}"]))
    outcome = execute(plan)
    records = outcome.results["records"]
    assert len(records) == 2 * len(suite_checks_for("quality", "gan"))
    skipped = [r for r in records if r["status"] == "skipped"]
    assert [(r["model"], r["check"]) for r in skipped] == [("fixture_models:noise", "quality.conditional_accuracy")]
    assert "conditional" in skipped[0]["reason"]
    assert outcome.store.generate_calls == 2
    assert outcome.store.embed_calls == 2


def test_report_rerenders_from_results_json(cli, tmp_path: Path, smoke_gan: CliResult):
    run_dir = Path(shutil.copytree(smoke_gan.run_dir, tmp_path / smoke_gan.run_dir.name))
    html = run_dir / "report.html"
    html.unlink()
    again = cli("report", str(run_dir / "results.json"))
    assert again.exit_code == 0 and html.is_file()
    assert load_results(run_dir / "results.json")["records"] == smoke_gan.results["records"]


def test_jsonl_streams_the_same_records(smoke_gan: CliResult):
    result = smoke_gan
    header, streamed = read_stream(result.run_dir / "results.jsonl")
    assert streamed == result.results["records"]
    assert header is not None and header["run_id"] == result.results["run_id"]  # enough to rebuild results.json
