"""Gates: judged on the conservative CI bound; statuses and exit codes."""

from __future__ import annotations

import pytest

from audit.errors import InputError
from audit.gates import exit_code, judge
from audit.policy import Gate, combine, parse_gate
from audit.results import CheckResult


def record(value: float, low: float | None, high: float | None, **kw) -> CheckResult:
    base = dict(check="quality.fid", model="gan", precision="fp32", device="cpu", status="measured", seed=0)
    base.update(kw)
    return CheckResult(value=value, ci_low=low, ci_high=high, **base)


@pytest.mark.parametrize(
    "low, high, expected",
    [(1.0, 4.0, "pass"), (6.0, 9.0, "fail"), (4.0, 6.0, "inconclusive"), (1.0, 5.0, "pass")],
)
def test_max_gate_uses_the_whole_interval(low, high, expected):
    assert judge(record(3.0, low, high), [Gate("quality.fid", max=5.0)]).status == expected


@pytest.mark.parametrize("low, high, expected", [(0.9, 0.95, "pass"), (0.5, 0.7, "fail"), (0.75, 0.85, "inconclusive")])
def test_min_gate(low, high, expected):
    r = record(0.8, low, high, check="quality.conditional_accuracy")
    assert judge(r, [Gate("quality.conditional_accuracy", min=0.8)]).status == expected


def test_without_ci_the_value_is_judged():
    assert judge(record(6.0, None, None), [Gate("quality.fid", max=5.0)]).status == "fail"
    assert judge(record(4.0, None, None), [Gate("quality.fid", max=5.0)]).status == "pass"


def test_judge_on_value_ignores_the_ci():
    assert judge(record(4.0, 3.0, 6.0), [Gate("quality.fid", max=5.0, judge="value")]).status == "pass"


def test_warn_severity_downgrades_failures():
    assert judge(record(9.0, 8.0, 10.0), [Gate("quality.fid", max=5.0, severity="warn")]).status == "warn"


def test_patterns_select_models_and_precisions():
    gate = Gate("quality.*", max=5.0, model="gan*", precision="bf16")
    assert judge(record(9.0, 8.0, 10.0, precision="fp32"), [gate]).status == "measured"
    assert judge(record(9.0, 8.0, 10.0, precision="bf16"), [gate]).status == "fail"
    assert judge(record(9.0, 8.0, 10.0, model="vae", precision="bf16"), [gate]).status == "measured"


def test_worst_gate_wins_and_all_are_recorded():
    r = judge(record(3.0, 2.0, 4.0), [Gate("quality.fid", max=5.0), Gate("quality.fid", max=3.0)])
    assert r.status == "inconclusive" and len(r.gates) == 2


def test_errors_and_skips_are_not_judged():
    r = record(3.0, 2.0, 4.0, status="error")
    assert judge(r, [Gate("quality.fid", max=1.0)]).status == "error"


def test_policy_replaces_suite_gates_for_the_same_check():
    suite = [Gate("quality.fid", max=5.0), Gate("quality.inception_score", min=2.0)]
    policy = [Gate("quality.fid", max=1.0)]
    assert combine(suite, policy) == [Gate("quality.inception_score", min=2.0), Gate("quality.fid", max=1.0)]


@pytest.mark.parametrize(
    "statuses, interrupted, fail_on, code",
    [
        (["pass", "measured", "skipped"], False, "error", 0),
        (["pass", "fail"], False, "error", 1),
        (["pass", "inconclusive"], False, "error", 3),
        (["fail", "inconclusive"], False, "error", 1),
        (["fail", "error"], False, "error", 4),
        (["pass"], True, "error", 4),
        (["warn"], False, "error", 0),
        (["warn"], False, "warn", 1),
        (["fail", "inconclusive"], False, "never", 0),
        (["skipped", "skipped"], False, "error", 5),
        ([], False, "error", 5),
        (["skipped", "inconclusive"], False, "error", 3),
        (["skipped"], False, "never", 5),
    ],
)
def test_exit_codes(statuses, interrupted, fail_on, code):
    assert exit_code([{"status": s} for s in statuses], interrupted, fail_on) == code


@pytest.mark.parametrize(
    "records, code",
    [
        ([("a", "pass"), ("b", "skipped")], 5),
        ([("a", "pass"), ("b", "skipped"), ("b", "measured")], 0),
        ([("a", "fail"), ("b", "skipped")], 1),
        ([("a", "inconclusive"), ("b", "skipped")], 5),
        ([("a", "pass"), ("b", "error")], 4),
    ],
)
def test_a_model_with_nothing_judged_is_not_a_pass(records, code):
    assert exit_code([{"model": m, "status": s} for m, s in records], False) == code


def test_parse_gate_names_the_problem():
    with pytest.raises(InputError, match="gate on 'quality.fid' needs max or min"):
        parse_gate({"check": "quality.fid"}, "here")


@pytest.mark.parametrize(
    "statuses, expired, fail_on, code",
    [
        (["pass", "waived"], 0, "error", 0),
        (["waived"], 0, "warn", 0),
        (["pass"], 1, "error", 1),
        (["inconclusive"], 1, "error", 1),
        (["error"], 1, "error", 4),
        (["pass"], 1, "never", 0),
    ],
)
def test_exit_codes_with_waivers(statuses, expired, fail_on, code):
    assert exit_code([{"status": s} for s in statuses], False, fail_on, expired_waivers=expired) == code


def test_status_rank_puts_waived_between_pass_and_warn():
    from audit.gates import _RANK

    assert _RANK["pass"] < _RANK["waived"] < _RANK["warn"] < _RANK["inconclusive"] < _RANK["fail"]
