"""Policy files (gates, relative bounds, baselines, min_n, waivers) and their verdicts, on
hand-made results so every outcome and exit code is pinned without running a model."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from audit.differences import difference
from audit.errors import InputError
from audit.gates import finalize, judge
from audit.policy import Gate, Waiver
from audit.policy import read_policy
from audit.results import CheckResult

TODAY = dt.date(2026, 6, 1)
EVALUATOR = "a" * 64


def rec(check: str = "quality.conditional_accuracy", model: str = "gan", precision: str = "fp32", value: float | None = 0.9,
        low: float | None = 0.85, high: float | None = 0.95, n: int | None = 128, hib: bool | None = True, **kw: Any) -> dict[str, Any]:
    base = CheckResult(check=check, model=model, precision=precision, device="cpu", status="measured", seed=0, value=value,
                       ci_low=low, ci_high=high, n=n, higher_is_better=hib, params={"n": n, "bootstrap": 200}).to_dict()
    base.update(kw)
    return base


def run(*records: dict[str, Any], fail_on: str = "error", evaluator: str = EVALUATOR, scipy: str = "1.17.1") -> dict[str, Any]:
    return {
        "schema_version": 1, "run_id": "r1", "suite": "smoke", "interrupted": False,
        "config": {"fail_on": fail_on, "n": 128, "seed": 0, "bootstrap": 200},
        "fingerprint": {"seed": 0, "packages": {"audit": "0.1.0", "scipy": scipy}, "files": {"evaluator:digits-cnn": evaluator, "gan.safetensors": "b" * 64}},
        "records": [copy.deepcopy(r) for r in records], "summary": {},
    }


def statuses(results: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(r["model"], r["precision"]): r["status"] for r in results["records"]}


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# ---------------------------------------------------------------- the format


COMPLETE = """
[[gate]]
check = "quality.fid"
model = "gan*"
max = 100
severity = "warn"
min_n = 64
description = "loose absolute bound"

[[gate]]
check = "quality.conditional_accuracy"
precision = "bf16"
relative_to = "fp32"
margin = 0.02

[[gate]]
check = "quality.conditional_accuracy"
model = "gan-collapsed"
baseline = "baseline.json"
baseline_model = "gan"
min_delta = -0.05
max_ratio = 1.5

[[waiver]]
check = "quality.fid"
model = "gan-imbalanced"
owner = "alice@example.com"
reason = "minority-class FID tracked in #123"
expires = 2026-12-31

[[waiver]]
check = "quality.*"
owner = "bob"
reason = "string dates work too"
expires = "2026-01-31"
"""


@pytest.fixture
def baseline(tmp_path: Path) -> Path:
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(run(rec(value=0.95, low=0.9, high=0.98))))
    return path


def test_complete_policy_parses(tmp_path: Path, baseline: Path):
    policy = read_policy(write(tmp_path / "audit.toml", COMPLETE), known_checks=["quality.fid", "quality.conditional_accuracy"])
    fid, quant, regression = policy.gates
    assert fid == Gate("quality.fid", max=100.0, model="gan*", severity="warn", min_n=64, description="loose absolute bound")
    assert quant.relative_to == "fp32" and quant.margin == 0.02 and quant.is_relative and not fid.is_relative
    assert regression.baseline == str(baseline) and regression.baseline_model == "gan"  # resolved next to the policy file
    assert [w.expires for w in policy.waivers] == [dt.date(2026, 12, 31), dt.date(2026, 1, 31)]
    assert policy.waivers[0] == Waiver("quality.fid", "alice@example.com", "minority-class FID tracked in #123", dt.date(2026, 12, 31), model="gan-imbalanced")
    summary = policy.summary(TODAY)
    assert "3 gate(s) (2 error, 1 warn; 2 relative, 1 baseline file(s)), 2 waiver(s)" in summary and "1 EXPIRED" in summary


def test_pyproject_tool_audit_table(tmp_path: Path):
    path = write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n\n[[tool.audit.gate]]\ncheck = "quality.fid"\nmax = 5\n\n'
                 '[[tool.audit.waiver]]\ncheck = "quality.fid"\nowner = "o"\nreason = "r"\nexpires = 2030-01-01\n')
    policy = read_policy(path)
    assert policy.gates == [Gate("quality.fid", max=5.0)] and len(policy.waivers) == 1


@pytest.mark.parametrize(
    "text, fragment",
    [
        ('[project]\nname = "x"\n', "has no [tool.audit] table"),
        ('[tool.audit]\ngates = 1\n', "unknown key(s) in [tool.audit]: gates"),
    ],
)
def test_pyproject_problems(tmp_path: Path, text: str, fragment: str):
    with pytest.raises(InputError, match=fragment.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(").replace(")", r"\)")):
        read_policy(write(tmp_path / "pyproject.toml", text))


MALFORMED = [
    ('[[gate]]\ncheck = "q"\nmin_delta = -1\n', "has min_delta but nothing to compare with"),
    ('[[gate]]\ncheck = "q"\nrelative_to = "fp32"\n', "names a reference but no relative bound"),
    ('[[gate]]\ncheck = "q"\nrelative_to = "fp32"\nmargin = -0.1\n', "a non-inferiority margin is >= 0"),
    ('[[gate]]\ncheck = "q"\nrelative_to = "fp32"\nmin_ratio = 0\n', "a ratio bound is > 0"),
    ('[[gate]]\ncheck = "q"\nrelative_to = "fp33"\nmargin = 0.1\n', "Unknown precision 'fp33'. Did you mean: fp32"),
    ('[[gate]]\ncheck = "q"\nmax = 1\nmin_n = 0\n', "min_n = 0"),
    ('[[gate]]\ncheck = "q"\nmax = 1\nmin_n = 1.5\n', "min_n = 1.5"),
    ('[[gate]]\ncheck = "q"\nbaseline_model = ""\nmargin = 1\n', "baseline_model to be a non-empty string"),
    ('[[gate]]\ncheck = "q"\nmax = 1\nmodel = 3\n', "model = 3"),
    ('[[waiver]]\ncheck = "q"\nowner = "o"\nreason = "r"\n', "needs expires"),
    ('[[waiver]]\ncheck = "q"\nreason = "r"\nexpires = 2030-01-01\n', "needs owner"),
    ('[[waiver]]\ncheck = "q"\nowner = "o"\nreason = ""\nexpires = 2030-01-01\n', "reason to be a non-empty string"),
    ('[[waiver]]\ncheck = "q"\nowner = "o"\nreason = "r"\nexpires = "next year"\n', "expires must be a date YYYY-MM-DD"),
    ('[[waiver]]\ncheck = "q"\nowner = "o"\nreason = "r"\nexpires = 2030-01-01T10:00:00\n', "not a date-time"),
    ('[[waiver]]\ncheck = "q"\nowner = "o"\nreason = "r"\nexpires = 2030-01-01\nticket = 1\n', "unknown waiver key(s) ticket"),
    ('[[waiver]]\nowner = "o"\n', "every waiver needs check"),
    ('waiver = 3\n', "'waiver' must be an array of tables"),
    ('[[gate]]\ncheck = "q"\nmax = 1\n[[gate]]\ncheck = "q"\nmax = "x"\n', "gate 2: gate on 'q' has non-numeric max"),
]


@pytest.mark.parametrize("text, fragment", MALFORMED)
def test_malformed_policies_name_the_problem(tmp_path: Path, text: str, fragment: str):
    with pytest.raises(InputError) as info:
        read_policy(write(tmp_path / "p.toml", text))
    message = str(info.value)
    assert fragment in message and "p.toml" in message and "\n" not in message


def test_unknown_check_pattern_is_an_error_when_checks_are_known(tmp_path: Path):
    path = write(tmp_path / "p.toml", '[[gate]]\ncheck = "quality.fdi"\nmax = 1\n')
    with pytest.raises(InputError, match="gate 1: check pattern matches no known check.*Did you mean: quality.fid"):
        read_policy(path, known_checks=["quality.fid", "quality.inception_score"])
    write(path, '[[gate]]\ncheck = "quality.*"\nmax = 1\n')
    assert read_policy(path, known_checks=["quality.fid"]).gates[0].check == "quality.*"


@pytest.mark.parametrize(
    "setup, fragment",
    [
        (lambda d: None, "Results file"),
        (lambda d: (d / "baseline.json").write_text('{"a": 1}'), "not an audit results.json"),
        (lambda d: (d / "baseline.json").write_text(json.dumps(run(rec(check="quality.fid")))), "has no record of check 'quality.conditional_accuracy'"),
        (lambda d: (d / "baseline.json").write_text(json.dumps(run(rec(model="vae")))), "has no records of model 'gan'; it has: vae"),
    ],
)
def test_baseline_files_are_checked(tmp_path: Path, setup, fragment: str):
    setup(tmp_path)
    path = write(tmp_path / "p.toml", '[[gate]]\ncheck = "quality.conditional_accuracy"\nbaseline = "baseline.json"\nbaseline_model = "gan"\nmargin = 0.1\n')
    with pytest.raises(InputError, match="gate 1: baseline"):
        read_policy(path)
    with pytest.raises(InputError) as info:
        read_policy(path)
    assert fragment in str(info.value)
    assert read_policy(path, check_baselines=False).gates[0].baseline_model == "gan"


# ---------------------------------------------------------------- relative gates in one run


QUANT = Gate("quality.conditional_accuracy", relative_to="fp32", min_delta=-0.1)


@pytest.mark.parametrize(
    "bf16, expected, code",
    [
        ((0.9, 0.88, 0.92), "pass", 0),      # delta CI 0 +- hypot(0.02, 0.02) = [-0.028, 0.028] >= -0.1
        ((0.5, 0.45, 0.55), "fail", 1),      # -0.4 +- 0.054: the whole interval below -0.1
        ((0.82, 0.78, 0.86), "inconclusive", 3),  # -0.08 +- 0.045 = [-0.125, -0.035] straddles -0.1
    ],
)
def test_relative_to_a_precision(bf16, expected, code):
    results = run(rec(value=0.9, low=0.88, high=0.92), rec(precision="bf16", value=bf16[0], low=bf16[1], high=bf16[2]))
    finalize(results, [QUANT], today=TODAY)
    assert statuses(results) == {("gan", "fp32"): "measured", ("gan", "bf16"): expected}  # fp32 is the reference, not judged
    assert results["summary"]["exit_code"] == code
    gate = results["records"][1]["gates"][0]
    assert gate["pairing"] == "unpaired" and gate["reference"]["precision"] == "fp32"
    delta = bf16[0] - 0.9
    assert gate["delta_ci"] == pytest.approx([delta - np.hypot(bf16[0] - bf16[1], 0.02), delta + np.hypot(bf16[2] - bf16[0], 0.02)])


def test_streaming_judge_leaves_relative_gates_for_the_end():
    record = CheckResult(**rec(precision="bf16", value=0.1, low=0.05, high=0.15))
    assert judge(record, [QUANT]).status == "measured" and record.gates == []


def test_missing_reference_is_inconclusive():
    results = finalize(run(rec(precision="bf16")), [QUANT], today=TODAY)
    assert statuses(results) == {("gan", "bf16"): "inconclusive"}
    assert "no reference record gan/fp32 in this run" in results["records"][0]["verdict"]
    assert results["summary"]["exit_code"] == 3


def test_reference_without_value_is_inconclusive():
    errored = rec(value=None, low=None, high=None, status="error", reason="boom")
    results = finalize(run(errored, rec(precision="bf16")), [QUANT], today=TODAY)
    assert statuses(results) == {("gan", "fp32"): "error", ("gan", "bf16"): "inconclusive"}
    assert results["summary"]["exit_code"] == 4  # the error wins


@pytest.mark.parametrize(
    "hib, fp32, bf16, expected",
    [
        (True, (0.9, 0.89, 0.91), (0.88, 0.87, 0.89), "pass"),    # higher is better: delta >= -0.05
        (True, (0.9, 0.89, 0.91), (0.8, 0.79, 0.81), "fail"),
        (False, (10.0, 9.0, 11.0), (11.0, 10.5, 11.5), "pass"),  # lower is better: delta <= +2.5 ([-0.5, 2.5])
        (False, (10.0, 9.0, 11.0), (14.0, 13.8, 14.2), "fail"),  # [2.8, 5.2] > 2.5
        (None, (1.0, 0.9, 1.1), (1.0, 0.9, 1.1), "inconclusive"),  # no direction: a margin cannot apply
    ],
)
def test_non_inferiority_margin_follows_the_direction(hib, fp32, bf16, expected):
    gate = Gate("quality.*", relative_to="fp32", margin=0.05 if hib else 2.5)
    results = run(rec(value=fp32[0], low=fp32[1], high=fp32[2], hib=hib), rec(precision="bf16", value=bf16[0], low=bf16[1], high=bf16[2], hib=hib))
    assert statuses(finalize(results, [gate], today=TODAY))[("gan", "bf16")] == expected


@pytest.mark.parametrize(
    "bf16, expected",
    [((11.0, 10.0, 12.0), "pass"), ((20.0, 18.0, 22.0), "fail"), ((13.0, 12.0, 14.0), "inconclusive")],
)
def test_ratio_bounds(bf16, expected):
    gate = Gate("quality.fid", relative_to="fp32", max_ratio=1.25)
    results = run(rec("quality.fid", value=10.0, low=9.8, high=10.2, hib=False), rec("quality.fid", precision="bf16", value=bf16[0], low=bf16[1], high=bf16[2], hib=False))
    assert statuses(finalize(results, [gate], today=TODAY))[("gan", "bf16")] == expected


def test_ratio_against_an_interval_containing_zero_is_inconclusive():
    gate = Gate("quality.fid", relative_to="fp32", max_ratio=2.0)
    results = run(rec("quality.fid", value=0.1, low=-0.1, high=0.3), rec("quality.fid", precision="bf16", value=0.1, low=0.0, high=0.2))
    finalize(results, [gate], today=TODAY)
    assert statuses(results)[("gan", "bf16")] == "inconclusive" and "ratio undefined" in results["records"][1]["verdict"]


def test_judge_on_value_uses_the_point_difference():
    gate = Gate("quality.conditional_accuracy", relative_to="fp32", min_delta=-0.1, judge="value")
    results = run(rec(value=0.9, low=0.7, high=1.0), rec(precision="bf16", value=0.85, low=0.6, high=1.0))
    assert statuses(finalize(results, [gate], today=TODAY))[("gan", "bf16")] == "pass"


def test_baseline_model_in_the_same_run():
    gate = Gate("quality.conditional_accuracy", model="gan-collapsed", baseline_model="gan", margin=0.05)
    results = run(rec(value=0.99, low=0.97, high=1.0), rec(model="gan-collapsed", value=0.1, low=0.06, high=0.17))
    assert statuses(finalize(results, [gate], today=TODAY)) == {("gan", "fp32"): "measured", ("gan-collapsed", "fp32"): "fail"}


# ---------------------------------------------------------------- min_n


@pytest.mark.parametrize("n, expected, code", [(128, "fail", 1), (50, "inconclusive", 3), (None, "inconclusive", 3)])
def test_min_n_makes_small_samples_inconclusive(n, expected, code):
    results = finalize(run(rec(value=0.5, low=0.4, high=0.6, n=n)), [Gate("quality.*", min=0.8, min_n=100)], today=TODAY)
    assert statuses(results)[("gan", "fp32")] == expected and results["summary"]["exit_code"] == code
    if expected == "inconclusive":
        assert "below min_n = 100" in results["records"][0]["verdict"]


def test_min_n_also_applies_to_the_reference():
    gate = Gate("quality.conditional_accuracy", relative_to="fp32", margin=0.5, min_n=100)
    results = finalize(run(rec(n=64), rec(precision="bf16")), [gate], today=TODAY)
    assert statuses(results)[("gan", "bf16")] == "inconclusive" and "reference n = 64" in results["records"][1]["verdict"]


# ---------------------------------------------------------------- baselines


def baseline_gate(path: Path) -> Gate:
    return Gate("quality.conditional_accuracy", baseline=str(path), baseline_model="gan", margin=0.05)


def test_baseline_gate_passes_the_clean_model_and_fails_the_defect(tmp_path: Path):
    clean = rec(value=1.0, low=0.97, high=1.0)
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(run(clean)))
    results = finalize(run(clean, rec(model="gan-collapsed", value=0.1, low=0.06, high=0.17)), [baseline_gate(path)], today=TODAY)
    assert statuses(results) == {("gan", "fp32"): "pass", ("gan-collapsed", "fp32"): "fail"}
    reference = results["records"][1]["gates"][0]["reference"]
    assert reference["source"] == str(path) and reference["model"] == "gan" and reference["value"] == 1.0


@pytest.mark.parametrize(
    "change, fragment",
    [
        (lambda b: b["fingerprint"]["files"].update({"evaluator:digits-cnn": "c" * 64}), "evaluator:digits-cnn sha256"),
        (lambda b: b["fingerprint"]["packages"].update({"scipy": "1.0.0"}), "scipy 1.0.0 vs 1.17.1"),
        (lambda b: b["records"][0]["params"].update({"n": 2048}), "n 2048 vs 128"),
    ],
)
def test_baseline_with_another_metric_fingerprint_is_inconclusive(tmp_path: Path, change, fragment: str):
    base = run(rec(value=1.0, low=0.97, high=1.0))
    change(base)
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(base))
    results = finalize(run(rec(value=1.0, low=0.97, high=1.0)), [baseline_gate(path)], today=TODAY)
    assert statuses(results) == {("gan", "fp32"): "inconclusive"}
    assert "metric fingerprint" in results["records"][0]["verdict"] and fragment in results["records"][0]["verdict"]


def test_model_weights_are_not_part_of_the_metric_fingerprint(tmp_path: Path):
    base = run(rec(value=1.0, low=0.97, high=1.0))
    base["fingerprint"]["files"]["gan.safetensors"] = "d" * 64  # a retrained model is what a regression gate is for
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(base))
    assert statuses(finalize(run(rec(value=0.99, low=0.96, high=1.0)), [baseline_gate(path)], today=TODAY)) == {("gan", "fp32"): "pass"}


# ---------------------------------------------------------------- waivers


def waiver(expires: dt.date, **kw: Any) -> Waiver:
    return Waiver(kw.pop("check", "quality.conditional_accuracy"), "alice", "tracked in #42", expires, **kw)


def policy_with(*waivers: Waiver, gates: list[Gate] | None = None) -> Any:
    from audit.policy import Policy

    return Policy(Path("audit.toml"), gates or [], list(waivers))


FAILING = Gate("quality.conditional_accuracy", min=0.97)  # CI [0.85, 0.95] entirely below


def test_waiver_turns_a_failing_gate_into_waived_and_the_run_passes():
    results = finalize(run(rec(), rec(model="vae")), [FAILING], policy_with(waiver(dt.date(2026, 6, 1), model="gan")), today=TODAY)
    assert statuses(results) == {("gan", "fp32"): "waived", ("vae", "fp32"): "fail"}  # valid through its expiry day; vae not covered
    gate = results["records"][0]["gates"][0]
    assert gate["outcome"] == "fail" and gate["status"] == "waived" and gate["waiver"]["owner"] == "alice"
    assert "waived (fail; by alice until 2026-06-01: tracked in #42)" in results["records"][0]["verdict"]
    only_gan = finalize(run(rec()), [FAILING], policy_with(waiver(dt.date(2026, 6, 1))), today=TODAY)
    assert only_gan["summary"]["exit_code"] == 0 and only_gan["summary"]["counts"] == {"waived": 1}


def test_waiver_covers_inconclusive_and_warn_but_a_pass_stays_a_pass():
    gates = [Gate("quality.conditional_accuracy", min=0.9), Gate("quality.conditional_accuracy", min=0.99, severity="warn")]
    results = finalize(run(rec()), gates, policy_with(waiver(dt.date(2030, 1, 1))), today=TODAY)
    assert [g["status"] for g in results["records"][0]["gates"]] == ["waived", "waived"]
    passing = finalize(run(rec()), [Gate("quality.conditional_accuracy", min=0.5)], policy_with(waiver(dt.date(2030, 1, 1))), today=TODAY)
    assert statuses(passing) == {("gan", "fp32"): "pass"}


def test_expired_waiver_waives_nothing_and_fails_the_run():
    results = finalize(run(rec()), [FAILING], policy_with(waiver(dt.date(2026, 5, 31))), today=TODAY)
    assert statuses(results) == {("gan", "fp32"): "fail"}
    assert results["records"][0]["gates"][0]["expired_waivers"][0]["expires"] == "2026-05-31"
    assert results["summary"]["exit_code"] == 1
    assert results["summary"]["expired_waivers"] == [waiver(dt.date(2026, 5, 31)).to_dict()]
    assert results["policy"]["waivers"][0]["expired"] is True


def test_expired_waiver_fails_even_a_passing_run():
    results = finalize(run(rec()), [Gate("quality.conditional_accuracy", min=0.5)], policy_with(waiver(dt.date(2020, 1, 1))), today=TODAY)
    assert statuses(results) == {("gan", "fp32"): "pass"} and results["summary"]["exit_code"] == 1
    never = run(rec(), fail_on="never")
    assert finalize(never, [FAILING], policy_with(waiver(dt.date(2020, 1, 1))), today=TODAY)["summary"]["exit_code"] == 0


def test_error_record_gives_exit_4_whatever_the_waivers():
    errored = rec(value=None, low=None, high=None, status="error", reason="RuntimeError: boom")
    results = finalize(run(errored, rec(model="vae")), [FAILING], policy_with(waiver(dt.date(2030, 1, 1))), today=TODAY)
    assert statuses(results) == {("gan", "fp32"): "error", ("vae", "fp32"): "waived"}
    assert results["summary"]["exit_code"] == 4


def test_finalize_is_idempotent_and_keeps_absolute_verdicts():
    gates = [Gate("quality.conditional_accuracy", min=0.8)]
    once = finalize(run(rec()), gates, today=TODAY)
    twice = finalize(copy.deepcopy(once), gates, today=TODAY)
    assert once == twice and statuses(once) == {("gan", "fp32"): "pass"}
    streamed = judge(CheckResult(**rec()), gates).to_dict()
    assert streamed == once["records"][0]


# ---------------------------------------------------------------- the difference of two records


def test_unpaired_difference_is_the_independent_normal_interval():
    """Symmetric normal CIs of two independent estimates: the CI of the difference is
    delta +- z * sqrt(se_a^2 + se_b^2) (scipy's normal quantile), not the sum of half-widths."""
    from scipy.stats import norm

    z = norm.ppf(0.975)
    a, b = rec(value=0.8, low=0.8 - z * 0.05, high=0.8 + z * 0.05), rec(value=0.9, low=0.9 - z * 0.02, high=0.9 + z * 0.02, seed=1)
    d = difference(b, a)
    assert d.label == "unpaired" and "different seed or n" in d.method and "MOVER" in d.method
    half = z * np.hypot(0.05, 0.02)
    assert (d.delta_low, d.delta_high) == pytest.approx((0.1 - half, 0.1 + half), rel=1e-12)
    assert "same seed and n, but per-sample values are not stored" in difference(rec(), rec()).method


def test_unpaired_difference_keeps_asymmetric_margins_apart():
    a, b = rec(value=10.0, low=9.0, high=14.0), rec(value=12.0, low=11.0, high=12.5, seed=1)
    d = difference(b, a)
    assert d.delta_low == pytest.approx(2.0 - np.hypot(1.0, 4.0)) and d.delta_high == pytest.approx(2.0 + np.hypot(0.5, 1.0))


def test_unpaired_difference_covers_95_percent_of_independent_pairs():
    """Monte Carlo with numpy: two independent normal estimates of the same quantity, each with its
    own 95% interval; the difference's interval covers 0 in about 95% of pairs (the old sum of
    half-widths covered ~99.4% and judged a model against itself as more uncertain than it is)."""
    rng = np.random.default_rng(5)
    z, se = 1.959964, 1.0
    values = rng.normal(0.0, se, size=(4000, 2))
    covered = 0
    for va, vb in values:
        d = difference(rec(value=float(vb), low=vb - z * se, high=vb + z * se, seed=1), rec(value=float(va), low=va - z * se, high=va + z * se))
        covered += d.delta_low <= 0.0 <= d.delta_high
    assert 0.935 <= covered / len(values) <= 0.965


def test_unpaired_ratio_is_mover_on_the_log_scale():
    from scipy.stats import norm

    z = norm.ppf(0.975)
    la, lb, sa, sb = np.log(2.0), np.log(3.0), 0.1, 0.2
    a = rec(value=2.0, low=float(np.exp(la - z * sa)), high=float(np.exp(la + z * sa)))
    b = rec(value=3.0, low=float(np.exp(lb - z * sb)), high=float(np.exp(lb + z * sb)), seed=1)
    d = difference(b, a)
    half = z * np.hypot(sa, sb)
    assert (d.ratio_low, d.ratio_high) == pytest.approx((1.5 * np.exp(-half), 1.5 * np.exp(half)), rel=1e-12)
    negative = difference(rec(value=-3.0, low=-3.5, high=-2.5, seed=1), rec(value=-2.0, low=-2.2, high=-1.8))
    assert 0 < negative.ratio_low < 1.5 < negative.ratio_high
    assert difference(b, rec(value=0.1, low=-0.1, high=0.3)).ratio_low is None  # reference interval holds 0


def test_paired_differences_use_per_sample_values():
    rng = np.random.default_rng(0)
    a = rng.normal(0.7, 0.2, 400)
    b = a + rng.normal(0.05, 0.02, 400)  # strongly paired: the difference is nearly constant
    ra = rec(value=float(a.mean()), low=float(a.mean() - 0.02), high=float(a.mean() + 0.02), n=400, details={"per_sample": a.tolist()})
    rb = rec(value=float(b.mean()), low=float(b.mean() - 0.02), high=float(b.mean() + 0.02), n=400, details={"per_sample": b.tolist()})
    d = difference(rb, ra)
    assert d.label == "paired" and "paired bootstrap" in d.method
    unpaired = difference({**rb, "details": {}}, ra)
    assert unpaired.label == "unpaired" and (d.delta_high - d.delta_low) < (unpaired.delta_high - unpaired.delta_low) / 5
    from scipy.stats import bootstrap  # an independent paired bootstrap

    ref = bootstrap((b, a), lambda x, y: x.mean() - y.mean(), paired=True, vectorized=False, n_resamples=2000, method="percentile", random_state=1)
    assert d.delta_low == pytest.approx(ref.confidence_interval.low, abs=0.002)
    assert d.delta_high == pytest.approx(ref.confidence_interval.high, abs=0.002)
    same = difference(ra, ra)
    assert (same.delta_low, same.delta_high) == (0.0, 0.0)


def test_per_sample_values_are_used_only_when_honest():
    values = [1.0, 0.0, 1.0, 1.0]
    ok = rec(value=0.75, n=4, details={"per_sample": values})
    assert difference(ok, ok).label == "paired"
    assert difference(rec(value=0.5, n=4, details={"per_sample": values}), ok).label == "unpaired"  # mean != value
    assert difference({**ok, "seed": 1}, ok).label == "unpaired"  # other inputs: not paired
