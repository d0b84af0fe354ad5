"""A release gate end to end: a regression gate against a clean model's baseline results,
waivers, min_n, errors and a quantization gate relative to fp32, with their exit codes and CI
outputs (junit.xml, summary.md, results.jsonl)."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from audit.results import read_stream
from tests.helpers import CliResult


def invoke(*words: str) -> CliResult:
    from typer.testing import CliRunner

    from audit.cli import app

    result = CliRunner().invoke(app, list(words))
    return CliResult(result.exit_code, result.stdout, result.stderr, result.exception)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`audit run suite=smoke model=gan n=128`: the clean model's results, kept as the baseline."""
    out = tmp_path_factory.mktemp("baseline")
    result = invoke("run", "suite=smoke", "model=gan", "n=128", "bootstrap=50", f"out={out}")
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.run_dir / "results.json"


REGRESSION = """
[[gate]]
check = "quality.conditional_accuracy"
baseline = "baseline/results.json"   # next to this file
baseline_model = "gan"               # every model is judged against the clean GAN's record
margin = 0.05                        # non-inferiority: at most 5 points below, on the CI's low end
min_n = {min_n}
"""


@pytest.fixture
def policy(tmp_path: Path, baseline: Path):
    (tmp_path / "baseline").mkdir()
    shutil.copy(baseline, tmp_path / "baseline" / "results.json")

    def make(min_n: int = 100, waiver_expires: str | None = None) -> Path:
        text = REGRESSION.format(min_n=min_n)
        if waiver_expires:
            text += (f'\n[[waiver]]\ncheck = "quality.conditional_accuracy"\nmodel = "gan-collapsed"\nowner = "release-team"\n'
                     f'reason = "collapse accepted for the demo"\nexpires = {waiver_expires}\n')
        path = tmp_path / "audit.toml"
        path.write_text(text)
        return path

    return make


def gate_run(policy_path: Path, tmp_path: Path, *words: str) -> CliResult:
    return invoke("run", "suite=smoke", "check=quality.conditional_accuracy", "n=128", "bootstrap=50",
                  f"policy={policy_path}", f"out={tmp_path / 'reports'}", *words)


def record(result: CliResult, model: str, precision: str = "fp32") -> dict:
    return next(r for r in result.results["records"] if r["model"] == model and r["precision"] == precision)


def test_defect_variant_fails_against_the_clean_baseline(policy, tmp_path: Path):
    result = gate_run(policy(), tmp_path, "model=gan-collapsed")
    assert result.exit_code == 1, result.stdout + result.stderr
    r = record(result, "gan-collapsed")
    gate = r["gates"][0]
    # paired: both runs requested the same labels (same seed and n); conditional accuracy stores per-sample outcomes
    assert r["status"] == "fail" and gate["reference"]["model"] == "gan" and gate["pairing"] == "paired"
    assert gate["delta_ci"][1] < -0.05  # even the optimistic end of the difference is beyond the margin
    assert "Verdict: FAIL (exit 1)" in result.stdout
    junit = ET.parse(result.run_dir / "junit.xml").getroot()
    failure = junit.find("testcase/failure")
    assert failure is not None and failure.get("type") == "gate" and "gan-collapsed" in junit.find("testcase").get("classname")
    summary = (result.run_dir / "summary.md").read_text()
    assert summary.startswith("## ❌ audit `smoke`: **FAIL** (exit code 1)")
    assert summary.index("### Not passing") < summary.index("| | check |")
    header, streamed = read_stream(result.run_dir / "results.jsonl")
    assert streamed == result.results["records"]  # the stream is rewritten with the final verdicts
    assert header is not None and header["run_id"] == result.results["run_id"]  # keeping its header line
    assert "FAIL" in (result.run_dir / "report.html").read_text()


def test_clean_model_passes_against_its_own_baseline(policy, tmp_path: Path):
    result = gate_run(policy(), tmp_path, "model=gan")
    assert result.exit_code == 0, result.stdout + result.stderr
    r = record(result, "gan")
    assert r["status"] == "pass" and r["gates"][0]["delta"] == 0
    assert "Verdict: PASS (exit 0)" in result.stdout
    assert (result.run_dir / "summary.md").read_text().startswith("## ✅ audit `smoke`: **PASS**")


def test_waived_failure_does_not_fail_the_run(policy, tmp_path: Path):
    result = gate_run(policy(waiver_expires="2999-12-31"), tmp_path, "model=gan,gan-collapsed")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert record(result, "gan")["status"] == "pass"
    r = record(result, "gan-collapsed")
    assert r["status"] == "waived" and r["gates"][0]["outcome"] == "fail" and r["gates"][0]["waiver"]["owner"] == "release-team"
    junit = ET.parse(result.run_dir / "junit.xml").getroot()
    skipped = [c.find("skipped") for c in junit.findall("testcase") if c.find("skipped") is not None]
    assert len(skipped) == 1 and skipped[0].get("type") == "waived" and "release-team" in skipped[0].get("message")
    assert junit.get("failures") == "0" and junit.get("skipped") == "1"
    summary = (result.run_dir / "summary.md").read_text()
    assert "### Waived" in summary and "waived by release-team until 2999-12-31" in summary
    assert result.results["summary"]["counts"] == {"pass": 1, "waived": 1}


def test_expired_waiver_fails_the_run_with_a_line_naming_it(policy, tmp_path: Path):
    result = gate_run(policy(waiver_expires="2020-01-31"), tmp_path, "model=gan")  # the gate itself passes
    assert result.exit_code == 1, result.stdout + result.stderr
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert lines == [f"audit: error: waiver expired on 2020-01-31: check quality.conditional_accuracy model gan-collapsed precision * "
                     f"(owner release-team: collapse accepted for the demo); renew or remove it in {tmp_path / 'audit.toml'}"]
    junit = ET.parse(result.run_dir / "junit.xml").getroot()
    expired = [c for c in junit.findall("testcase") if c.get("classname") == "policy.waiver"]
    assert len(expired) == 1 and expired[0].find("failure").get("type") == "expired-waiver"
    assert "expired waiver" in (result.run_dir / "summary.md").read_text()


def test_too_few_samples_is_inconclusive(policy, tmp_path: Path):
    result = gate_run(policy(min_n=1000), tmp_path, "model=gan-collapsed")
    assert result.exit_code == 3, result.stdout + result.stderr
    r = record(result, "gan-collapsed")
    assert r["status"] == "inconclusive" and "n = 128 below min_n = 1000" in r["verdict"]


def test_a_check_error_exits_4(policy, tmp_path: Path):
    result = gate_run(policy(), tmp_path, "model=gan,fixture_models:raising")
    assert result.exit_code == 4, result.stdout + result.stderr
    assert record(result, "fixture_models:raising")["status"] == "error" and record(result, "gan")["status"] == "pass"


def test_fail_on_never_reports_without_failing(policy, tmp_path: Path):
    result = gate_run(policy(), tmp_path, "model=gan-collapsed", "fail_on=never")
    assert result.exit_code == 0 and record(result, "gan-collapsed")["status"] == "fail"


def test_quantized_variant_judged_against_fp32_from_pyproject(tmp_path: Path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "my-model"\n\n[[tool.audit.gate]]\ncheck = "quality.conditional_accuracy"\n'
                         'precision = "bf16"\nrelative_to = "fp32"\nmargin = 0.05\n')
    result = invoke("run", "suite=smoke", "check=quality.conditional_accuracy", "model=gan", "precision=fp32,bf16", "n=128",
                    "bootstrap=50", f"policy={pyproject}", f"out={tmp_path / 'reports'}")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert record(result, "gan", "fp32")["status"] == "measured"  # the reference is not judged against itself
    bf16 = record(result, "gan", "bf16")
    assert bf16["status"] == "pass" and bf16["gates"][0]["reference"]["precision"] == "fp32"
    junit = ET.parse(result.run_dir / "junit.xml").getroot()
    assert len(junit.findall("testcase")) == 2 and junit.find("testcase/system-out").text.startswith("measured (no gate)")
