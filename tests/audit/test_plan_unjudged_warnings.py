"""Warnings where gates and checks miss each other (audit.plan.warn_unjudged_checks): policy gates
on none of the run's checks, and a suite file's check left without the gates a bundled suite puts
on it, whose records would be `measured` and pass whatever their value."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.plan import warn_unjudged_checks
from audit.policy import Gate
from audit.suite import bundled_gated_checks, user_suite_checks


def _warnings(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("audit: warning:")]


def test_the_bundled_gates_are_found_by_suite():
    gated = bundled_gated_checks()
    assert gated["fairness.association"] == ["fairness"] and gated["quality.fid"] == ["quality"]
    assert "efficiency.latency_p50" not in gated and "quality.perplexity" not in gated


def test_policy_gates_on_checks_the_run_lacks_are_one_warning(capsys):
    policy = [Gate("quality.recall", min=0.99), Gate("quality.perplexity", max=1.0), Gate("quality.f*", max=100.0)]
    warn_unjudged_checks([Gate("quality.kid", max=1.0)], policy, ["quality.fid"], "quality", set())
    [line] = _warnings(capsys)
    assert "'quality.perplexity', 'quality.recall'" in line and "judge nothing" in line and "quality.f*" not in line


def test_a_suite_files_check_without_the_bundled_gates_is_a_warning(capsys):
    warn_unjudged_checks([], [], ["fairness.association", "quality.perplexity"], "mine", {"fairness.association", "quality.perplexity"})
    [line] = _warnings(capsys)
    assert "'fairness.association'" in line and "suite fairness gates it" in line and "measured, not judged" in line


def test_no_warning_where_a_gate_judges_the_check_or_the_suite_is_bundled(capsys):
    warn_unjudged_checks([Gate("fairness.*", max=0.3)], [], ["fairness.association"], "mine", {"fairness.association"})
    warn_unjudged_checks([], [Gate("fairness.association", max=0.3)], ["fairness.association"], "mine", {"fairness.association"})
    warn_unjudged_checks([Gate("quality.recall", min=0.99)], [], ["quality.fid"], "smoke", set())
    assert _warnings(capsys) == []


def test_user_suite_checks_are_those_of_suite_files_only(tmp_path: Path):
    suite = tmp_path / "mine.toml"
    suite.write_text('[checks]\n"fairness.association" = {}\n')
    assert user_suite_checks("smoke") == set() and user_suite_checks("release") == set()
    assert user_suite_checks(f"quality,{suite}") == {"fairness.association"}


def test_the_run_warns_and_its_record_is_measured(cli, tmp_path: Path):
    suite = tmp_path / "fid_only.toml"
    suite.write_text('n = 64\n[checks]\n"quality.fid" = {}\n')
    result = cli("run", f"suite={suite}", "model=gan", "n=64", "bootstrap=20")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert [r["status"] for r in result.results["records"]] == ["measured"]
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "'quality.fid'" in warnings[0] and "suite quality gates it" in warnings[0], result.stderr


def test_a_waiver_with_a_model_typo_is_a_warning(capsys):
    import datetime as dt

    from audit.plan import warn_unmatched_waivers
    from audit.policy import Waiver

    waivers = [Waiver("quality.fid", "ml-team", "y", dt.date(2099, 1, 1), model="gan-typo"),
               Waiver("quality.fid", "x", "y", dt.date(2099, 1, 1), model="gan"),
               Waiver("privacy.*", "x", "y", dt.date(2099, 1, 1), model="other")]
    warn_unmatched_waivers(waivers, ["gan"], ["fp32"], ["quality.fid"], "p.toml")
    [line] = _warnings(capsys)
    assert "owner ml-team" in line and "'gan-typo'" in line and "waives nothing" in line


def test_the_run_warns_of_an_unexpired_waiver_only(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An expired waiver for another model already fails the run with its own error line."""
    policy = tmp_path / "audit.toml"
    policy.write_text('[[waiver]]\ncheck = "quality.fid"\nmodel = "gan-typo"\nowner = "o"\nreason = "r"\nexpires = 2030-01-01\n')
    words = ("run", "suite=quality", "check=quality.fid", "model=gan", "n=64", "bootstrap=20", f"policy={policy}")
    monkeypatch.setenv("AUDIT_TODAY", "2029-12-31")
    assert sum("waives nothing" in line for line in cli(*words).stderr.splitlines()) == 1
    monkeypatch.setenv("AUDIT_TODAY", "2030-01-02")
    assert not any("waives nothing" in line for line in cli(*words).stderr.splitlines())


def test_a_suite_bound_on_fid_warns_when_the_run_measures_in_the_users_evaluator(capsys):
    """FID <= 100 was set in the digits CNN's space; in a unit-norm space FID cannot exceed 6, so
    uniform noise passed it. A policy gate on the check replaces the suite's: no warning then."""
    from audit.plan import warn_bounds_in_digits_units

    suite = [Gate("quality.fid", max=100.0), Gate("quality.recall", min=0.5)]
    warn_bounds_in_digits_units(suite, [], ["quality.fid", "quality.recall"], "quality", "my_pkg:net")
    [line] = _warnings(capsys)
    assert "'quality.fid'" in line and "evaluator=my_pkg:net" in line and "recall" not in line
    warn_bounds_in_digits_units(suite, [Gate("quality.f*", max=5.0)], ["quality.fid"], "quality", "my_pkg:net")
    assert _warnings(capsys) == []
