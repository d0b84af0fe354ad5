"""Fail closed: whatever a model or the machine does (exit, hang, swallow interrupts, carry a
family no check names, SIGTERM, a full disk), the run ends in a recorded verdict that is never a
silent pass, with every output written."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import FIXTURES, assert_one_line_error

FAST = ("n=100", "bootstrap=20")
ONE_CHECK = "check=quality.fid"


def _by_model(result, model: str) -> list[dict]:
    return [r for r in result.results["records"] if r["model"] == model]


def test_model_calling_sys_exit_in_sample_is_an_error_record_and_the_run_goes_on(cli):
    result = cli("run", "suite=quality", "model=hostile_models:exits_in_sample,gan", "check=quality.fid,quality.recall", *FAST)
    assert result.exit_code == 4, result.stdout + result.stderr
    broken = _by_model(result, "hostile_models:exits_in_sample")
    assert broken and all(r["status"] == "error" and "sys.exit(0)" in r["reason"] for r in broken)
    gan = _by_model(result, "gan")
    assert {r["check"] for r in gan} == {"quality.fid", "quality.recall"}
    assert all(r["value"] is not None for r in gan)
    assert (result.run_dir / "report.html").is_file() and (result.run_dir / "junit.xml").is_file()


def test_factory_calling_sys_exit_is_an_error_record(cli):
    result = cli("run", "suite=quality", "model=hostile_models:exits_in_factory", ONE_CHECK, *FAST)
    assert result.exit_code == 4
    records = result.results["records"]
    assert records and all(r["status"] == "error" and "sys.exit(3)" in r["reason"] for r in records)


def test_module_exiting_on_import_is_bad_input(cli):
    result = cli("run", "suite=quality", "model=exits_on_import:load", ONE_CHECK, *FAST)
    assert_one_line_error(result, 2, "exits_on_import", "SystemExit")


def test_image_generator_tagged_other_is_audited_by_capability(cli):
    result = cli("run", "suite=quality", "model=hostile_models:images_tagged_other", "check=quality.fid,quality.recall,quality.perplexity", *FAST)
    records = {r["check"]: r for r in result.results["records"]}
    assert set(records) == {"quality.fid", "quality.recall"}, "image checks apply by the SAMPLE capability; the LM check does not"
    assert records["quality.fid"]["value"] > 100 and records["quality.fid"]["status"] == "fail"
    assert result.exit_code == 1


def test_model_no_check_applies_to_gets_a_skipped_record_and_exit_5(cli):
    result = cli("run", "suite=quality", "model=hostile_models:other_without_capabilities", *FAST)
    assert result.exit_code == 5, result.stdout + result.stderr
    [record] = result.results["records"]
    assert record["status"] == "skipped" and "family 'other'" in record["reason"] and "capabilities: none" in record["reason"]
    assert "NOTHING JUDGED (exit 5)" in result.stdout
    assert "got no judged record" in result.stderr
    assert result.results["summary"]["exit_code"] == 5


def test_a_model_with_nothing_judged_beside_a_passing_one_is_not_a_pass(cli):
    result = cli("run", "suite=quality", "model=gan,hostile_models:other_without_capabilities", "check=quality.conditional_accuracy", *FAST)
    gan = _by_model(result, "gan")
    assert [r["status"] for r in gan] == ["pass"]
    assert result.exit_code == 5


def test_hanging_model_times_out_and_the_next_model_still_runs(cli):
    result = cli("run", "suite=quality", "model=hostile_models:hangs,fixture_models:noise", ONE_CHECK, "timeout=1", *FAST)
    assert result.exit_code == 4
    hung = _by_model(result, "hostile_models:hangs")
    assert hung and all(r["status"] == "error" and "timed out after 1 s" in r["reason"] for r in hung)
    assert _by_model(result, "fixture_models:noise"), "the run went on to the next model"


def test_model_swallowing_the_timeout_is_still_stopped(cli):
    result = cli("run", "suite=quality", "model=hostile_models:swallows_timeout", "check=quality.fid,quality.recall", "timeout=1", *FAST)
    assert result.exit_code == 4
    records = result.results["records"]
    assert any(r["status"] == "error" and "timed out" in (r["reason"] or "") for r in records)


def test_sigterm_writes_every_output_and_marks_the_run_interrupted(tmp_path: Path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(FIXTURES), os.environ.get("PYTHONPATH", "")])}
    words = ["run", "suite=quality", "model=gan,hostile_models:sends_sigterm", ONE_CHECK, *FAST, f"out={tmp_path}"]
    proc = subprocess.run([sys.executable, "-m", "audit.cli", *words], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 4, proc.stderr
    assert "interrupted by SIGTERM" in proc.stderr and "Traceback" not in proc.stderr
    [run_dir] = [p for p in tmp_path.iterdir() if p.is_dir()]
    for name in ("results.json", "report.html", "junit.xml", "summary.md"):
        assert (run_dir / name).is_file(), name
    results = json.loads((run_dir / "results.json").read_text())
    assert results["interrupted"] is True and results["interrupted_by"] == "SIGTERM"
    assert [r["model"] for r in results["records"]] == ["gan"]


def test_too_few_bootstrap_resamples_are_refused_before_anything_runs(cli, tmp_path: Path):
    result = cli("run", "suite=quality", "model=gan", ONE_CHECK, "n=100", "bootstrap=5")
    assert_one_line_error(result, 2, "'bootstrap' is 5", "at least 20")
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())


def test_bootstrap_zero_makes_ci_gates_inconclusive_never_judged_on_ci(cli):
    result = cli("run", "suite=quality", "model=gan", "check=quality.fid,quality.conditional_accuracy", "n=100", "bootstrap=0")
    records = {r["check"]: r for r in result.results["records"]}
    fid = records["quality.fid"]
    assert fid["ci_low"] is None and fid["status"] == "inconclusive"
    assert "judged on ci" not in fid["verdict"] and "bootstrap=0" in fid["verdict"]
    accuracy = records["quality.conditional_accuracy"]  # a Wilson interval needs no resampling
    assert accuracy["ci_low"] is not None and accuracy["status"] == "pass"
    assert result.exit_code == 3
    assert "judged on ci" not in " ".join(l for l in result.stdout.splitlines() if "quality.fid" in l)


@pytest.mark.parametrize("kind", ["file", "under-file"])
def test_unwritable_out_is_bad_input_at_plan_time(cli, tmp_path: Path, kind: str):
    target = tmp_path / "a-file"
    target.write_text("not a folder")
    out = target if kind == "file" else target / "reports"
    result = cli("run", "suite=quality", "model=gan", ONE_CHECK, *FAST, f"out={out}")
    assert_one_line_error(result, 2, "'out'", "not a writable folder")
    assert target.read_text() == "not a folder"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc (a filesystem nobody can write)")
def test_read_only_filesystem_out_is_bad_input(cli):
    result = cli("run", "suite=quality", "model=gan", ONE_CHECK, *FAST, "out=/proc/audit-reports")
    assert_one_line_error(result, 2, "'out'", "not a writable folder")


def test_disk_filling_during_the_run_is_one_line_and_exit_4(cli, monkeypatch):
    from audit import results as results_module

    def full(self, record):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(results_module.ResultsStream, "append", full)
    result = cli("run", "suite=quality", "model=gan", ONE_CHECK, *FAST)
    assert_one_line_error(result, 4, "No space left on device")


def test_unexpected_exception_is_an_internal_error_not_exit_1(cli, monkeypatch):
    import audit.fingerprint

    def broken(device):
        raise ValueError("simulated bug\nin two lines")

    monkeypatch.setattr(audit.fingerprint, "environment_fingerprint", broken)
    result = cli("run", "suite=quality", "model=gan", ONE_CHECK, *FAST)
    assert_one_line_error(result, 4, "internal error", "ValueError: simulated bug in two lines")


def test_a_model_changing_process_wide_settings_does_not_change_the_next_models_numbers(cli):
    import numpy as np
    import torch

    words = ("suite=quality", ONE_CHECK, "cache=off", *FAST)
    alone = cli("run", "model=vae", *words)
    after = cli("run", "model=hostile_models:changes_globals,vae", *words)
    assert _by_model(after, "hostile_models:changes_globals")  # it ran, with its own settings (its record may be an error)
    [fid_alone], [fid_after] = _by_model(alone, "vae"), _by_model(after, "vae")
    assert fid_after["value"] == fid_alone["value"] and fid_after["ci_low"] == fid_alone["ci_low"]
    assert torch.get_default_dtype() == torch.float32 and np.geterr()["over"] != "raise"  # nor this process's


def test_a_model_changing_the_working_directory_does_not_move_the_runs_outputs(cli, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("run", "suite=quality", "model=hostile_models:changes_directory,gan", ONE_CHECK, "cache=off", "out=relative-out", *FAST)
    assert result.exit_code == 1, result.stdout + result.stderr  # the noise model fails its gate; nothing else went wrong
    assert Path.cwd() == tmp_path  # the model's chdir ended with its unit
    run_dir = result.run_dir
    assert run_dir.is_absolute() and run_dir.parent == tmp_path / "relative-out"
    for name in ("results.json", "report.html", "junit.xml", "summary.md"):
        assert (run_dir / name).is_file(), name
    status = {r["model"]: r["status"] for r in result.results["records"]}
    assert status["hostile_models:changes_directory"] == "fail" and status["gan"] in ("pass", "inconclusive")  # gan at n=100


def test_a_model_replacing_how_it_is_judged_and_measured_gets_error_records_and_no_pass(cli):
    import audit.gates
    import audit.metrics.frechet

    judge, fid = audit.gates.judge, audit.metrics.frechet.fid_from_features
    words = ("suite=quality", "check=quality.fid,quality.recall", "cache=off", *FAST)
    alone = cli("run", "model=gan", *words)
    result = cli("run", "model=hostile_models:patches_harness,gan", *words)
    assert result.exit_code == 4, result.stdout + result.stderr
    hostile = _by_model(result, "hostile_models:patches_harness")
    assert {r["check"] for r in hostile} == {"quality.fid", "quality.recall"}
    assert all(r["status"] == "error" and r["value"] is None for r in hostile)
    assert all("HarnessTampered" in r["reason"] and "audit.gates.judge replaced" in r["reason"] for r in hostile)
    assert "quality.fid" in hostile[0]["reason"]  # the check during which it happened
    assert [(r["value"], r["ci_low"], r["status"]) for r in _by_model(result, "gan")] == \
        [(r["value"], r["ci_low"], r["status"]) for r in _by_model(alone, "gan")]
    assert audit.gates.judge is judge and audit.metrics.frechet.fid_from_features is fid  # nor left in this process


def test_a_model_changing_numpy_and_torch_under_the_harness_gets_error_records(cli):
    import numpy as np
    import torch

    result = cli("run", "suite=quality", "model=hostile_models:patches_libraries,vae", ONE_CHECK, "cache=off", *FAST)
    assert result.exit_code == 4, result.stdout + result.stderr
    [hostile] = _by_model(result, "hostile_models:patches_libraries")
    assert hostile["status"] == "error"
    assert "torch.Tensor.mean added" in hostile["reason"] and "cov code replaced" in hostile["reason"]
    [vae] = _by_model(result, "vae")
    assert vae["status"] in ("pass", "inconclusive") and vae["value"] > 0
    assert "mean" not in vars(torch.Tensor) and float(torch.arange(4.0).mean()) == 1.5
    assert np.cov([1.0, 2.0, 3.0]) == 1.0


def test_a_model_changing_the_standard_library_under_the_harness_gets_error_records(cli):
    import builtins
    import json
    import math

    originals = (json.dumps, math.isfinite, builtins.min)
    result = cli("run", "suite=quality", "model=hostile_models:patches_stdlib,vae", ONE_CHECK, "cache=off", *FAST)
    assert result.exit_code == 4, result.stdout + result.stderr
    [hostile] = _by_model(result, "hostile_models:patches_stdlib")
    assert hostile["status"] == "error" and "HarnessTampered" in hostile["reason"]
    for changed in ("json.dumps replaced", "math.isfinite replaced", "builtins.min replaced"):
        assert changed in hostile["reason"]
    [vae] = _by_model(result, "vae")
    assert vae["status"] in ("pass", "inconclusive") and vae["value"] > 0
    assert (json.dumps, math.isfinite, builtins.min) == originals


def test_a_model_module_changing_audit_as_it_is_imported_gets_error_records(cli):
    import audit.gates

    exit_code = audit.gates.exit_code
    result = cli("run", "suite=quality", "model=patches_on_import:model,gan", ONE_CHECK, "cache=off", *FAST)
    assert result.exit_code == 4, result.stdout + result.stderr  # its replaced exit_code would have said 0
    [hostile] = _by_model(result, "patches_on_import:model")
    assert hostile["status"] == "error" and "as it was imported" in hostile["reason"]
    assert "audit.gates.exit_code replaced" in hostile["reason"]
    [gan] = _by_model(result, "gan")
    assert gan["status"] in ("pass", "inconclusive") and gan["value"] is not None
    assert audit.gates.exit_code is exit_code


def test_what_a_failing_model_replaced_is_its_error_and_not_the_next_models(cli):
    import audit.gates

    judge = audit.gates.judge
    result = cli("run", "suite=quality", "model=hostile_models:patches_then_fails_to_load,gan", ONE_CHECK, "cache=off", *FAST)
    assert result.exit_code == 4, result.stdout + result.stderr
    [hostile] = _by_model(result, "hostile_models:patches_then_fails_to_load")
    assert hostile["status"] == "error" and "HarnessTampered" in hostile["reason"] and "audit.gates.judge replaced" in hostile["reason"]
    [gan] = _by_model(result, "gan")
    assert gan["status"] in ("pass", "inconclusive") and gan["gates"], "gan judged by the real gates"
    assert audit.gates.judge is judge


@pytest.mark.parametrize("model", ["fixture_models:zero_log_probs_lm", "fixture_models:constant_log_probs_lm"])
def test_a_language_model_whose_scores_are_not_probabilities_gets_error_records_not_a_pass(cli, model: str):
    """Zeros would be perplexity 1.0 (the best there is), and equal scores everywhere no bias at all."""
    result = cli("run", "suite=fairness", f"model={model}", "check=fairness.counterfactual_likelihood", "bootstrap=20")
    assert result.exit_code == 4, result.stdout + result.stderr
    [record] = _by_model(result, model)
    assert record["status"] == "error" and "not log-probabilities" in record["reason"]
    quality = cli("run", "suite=quality", f"model={model}", "check=quality.perplexity", "bootstrap=20")
    assert quality.exit_code == 4 and all(r["status"] == "error" for r in _by_model(quality, model))


def test_a_models_error_message_cannot_fake_lines_of_the_ci_log(cli):
    result = cli("run", "suite=quality", "model=hostile_models:spoofs_log", ONE_CHECK, *FAST)
    assert result.exit_code == 4
    output = result.stdout + result.stderr
    for control in ("\r", "\x1b", "\x07", "\u202e"):
        assert control not in output, repr(control)
    assert not any(line.startswith(("::error::", "Verdict: PASS")) for line in output.splitlines())
    [record] = _by_model(result, "hostile_models:spoofs_log")
    assert record["reason"] == "ValueError: boom \\x1b[2K\\x1b[1AVerdict: PASS (exit 0) ::error::all good\\x07\\x1b]0;title\\x07 \\u202eevil"
    summary = (result.run_dir / "summary.md").read_text()
    assert "\x1b" not in summary and r"\\x1b\[2K" in summary  # the escape, Markdown-escaped (renders as \x1b[2K)


def test_a_model_that_starts_another_run_gets_an_error_record_not_a_recursion(cli, tmp_path):
    """`audit.cli:main` as a model factory: it would run the command line inside the run, which
    would load it again, about 44 levels deep, each leaving a run folder."""
    result = cli("run", "suite=quality", "model=audit.cli:main,gan", ONE_CHECK, *FAST)
    assert result.exit_code == 4, result.stdout + result.stderr
    [nested] = _by_model(result, "audit.cli:main")
    assert nested["status"] == "error" and "NestedRun" in nested["reason"]
    assert _by_model(result, "gan")[0]["value"] is not None
    assert len([p for p in (tmp_path / "reports").iterdir() if p.is_dir()]) == 1
    from audit.isolation import run_in_progress

    assert not run_in_progress()


def test_a_model_changing_the_shared_evaluator_in_place_gets_an_error_and_later_models_measure_as_alone(cli):
    """gan's check builds the evaluator; the hostile model halves its weights as it samples."""
    words = ("suite=quality", ONE_CHECK, "cache=off", *FAST)
    alone = cli("run", "model=gan,vae", *words)
    result = cli("run", "model=gan,hostile_models:changes_evaluator_in_place,vae", *words)
    assert result.exit_code == 4, result.stdout + result.stderr
    [hostile] = _by_model(result, "hostile_models:changes_evaluator_in_place")
    assert hostile["status"] == "error" and "the evaluator's weights changed in place" in hostile["reason"]
    assert [(r["value"], r["ci_low"]) for r in _by_model(result, "vae")] == [(r["value"], r["ci_low"]) for r in _by_model(alone, "vae")]
