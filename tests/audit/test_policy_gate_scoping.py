"""A policy gate scoped to models or precisions replaces the suite's gate on its check only for the
(model, precision) pairs it matches (audit.policy.combine): a typo in its `model` can never switch
the suite's gate off. A precision pattern that names no precision is a typo: exit 2."""

from __future__ import annotations

import fnmatch

import pytest

from audit.errors import InputError
from audit.gates import judge
from audit.policy import Gate, combine, parse_gate
from audit.results import CheckResult

PAIRS = [("gan", "fp32"), ("vae", "fp32"), ("gan", "int8")]


def _record(model: str, precision: str, value: float = 130.0) -> CheckResult:
    return CheckResult(check="quality.fid", model=model, precision=precision, device="cpu", status="measured", seed=0,
                       value=value, ci_low=value - 10, ci_high=value + 10, n=64)


def _gates_for(gates: list[Gate], model: str, precision: str) -> list[Gate]:
    return [g for g in gates if g.matches({"check": "quality.fid", "model": model, "precision": precision})]


def test_a_policy_gate_on_a_model_that_is_not_in_the_run_keeps_the_suite_gate():
    suite, policy = [Gate("quality.fid", max=100.0)], [Gate("quality.fid", max=100.0, model="GAN")]
    gates = combine(suite, policy, [("gan", "fp32")])
    assert Gate("quality.fid", max=100.0) in gates
    assert judge(_record("gan", "fp32"), gates).status == "fail"


def test_a_scoped_policy_gate_overrides_only_the_pairs_it_matches():
    suite, policy = [Gate("quality.fid", max=100.0)], [Gate("quality.fid", max=200.0, model="gan", precision="fp32")]
    gates = combine(suite, policy, PAIRS)
    assert [g.max for g in _gates_for(gates, "gan", "fp32")] == [200.0]
    assert [g.max for g in _gates_for(gates, "vae", "fp32")] == [100.0]
    assert [g.max for g in _gates_for(gates, "gan", "int8")] == [100.0]
    assert judge(_record("gan", "fp32"), gates).status == "pass"
    assert judge(_record("vae", "fp32"), gates).status == "fail"


def test_an_unscoped_policy_gate_still_replaces_the_suite_gate():
    suite = [Gate("quality.fid", max=5.0), Gate("quality.inception_score", min=2.0)]
    policy = [Gate("quality.fid", max=1.0)]
    assert combine(suite, policy, PAIRS) == [Gate("quality.inception_score", min=2.0), Gate("quality.fid", max=1.0)]


def test_without_the_runs_pairs_a_scoped_policy_gate_keeps_the_suite_gate():
    suite, policy = [Gate("quality.fid", max=100.0)], [Gate("quality.fid", max=200.0, model="gan*")]
    assert combine(suite, policy) == suite + policy


def test_kept_suite_gates_name_models_literally():
    suite, policy = [Gate("quality.fid", max=100.0)], [Gate("quality.fid", max=200.0, model="gan")]
    gates = combine(suite, policy, [("gan", "fp32"), ("a[1]?", "fp32")])
    [kept] = [g for g in gates if g.max == 100.0]
    assert fnmatch.fnmatchcase("a[1]?", kept.model) and not fnmatch.fnmatchcase("a1x", kept.model)


@pytest.mark.parametrize("precision", ["FP32", "fp33", "int9*"])
def test_a_precision_that_names_no_precision_is_refused(precision: str):
    with pytest.raises(InputError, match="precision pattern matches no precision"):
        parse_gate({"check": "quality.fid", "max": 1, "precision": precision}, "Policy file 'p', gate 1")


@pytest.mark.parametrize("precision", ["fp32", "int8*", "*"])
def test_precision_patterns_that_name_a_precision_are_accepted(precision: str):
    assert parse_gate({"check": "quality.fid", "max": 1, "precision": precision}, "here").precision == precision
