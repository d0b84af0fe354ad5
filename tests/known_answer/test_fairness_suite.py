"""Known answers for `audit run suite=fairness`, through the CLI and with the suite's documented
default gates: the clean bundled models pass, the known-defect models are flagged.

Expectations come from how the defect models were built, not from this suite's output:
gan-imbalanced was trained with classes 5-9 cut to 10%, and samples classes from its training
label frequencies (its manifest's `label_prior`), so its generated class shares must sit about
TV(label_prior, training shares) ~ 0.4 away from the training shares; transformer-stereotyped was
trained on planted stereotyped sentences and prefers the stereotyped side of held-out minimal
pairs ~75% of the time (the clean model ~48%).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from scipy.stats import binomtest

from tests.helpers import CliResult

CLEAN = ("gan", "vae", "diffusion", "transformer")
DEFECTS = ("gan-imbalanced", "gan-collapsed", "diffusion-swapped-labels", "transformer-stereotyped", "vae-memorized")
IMAGE_CHECKS = (
    "fairness.representation_tv", "fairness.representation_ratio", "fairness.representation_chi2",
    "fairness.quality_parity_accuracy", "fairness.quality_parity_precision", "fairness.quality_parity_fid",
)
TEXT_CHECKS = ("fairness.counterfactual_likelihood", "fairness.counterfactual_sentiment", "fairness.stereotype_preference")
MINE = IMAGE_CHECKS + TEXT_CHECKS


def expected_exit(records: list[dict[str, Any]]) -> int:
    """The documented exit code for these record statuses with the default fail_on=error."""
    statuses = {r["status"] for r in records}
    return 4 if "error" in statuses else 1 if "fail" in statuses else 3 if "inconclusive" in statuses else 0


def records_of(results: dict[str, Any], model: str) -> dict[str, dict[str, Any]]:
    return {r["check"]: r for r in results["records"] if r["model"] == model}


@pytest.fixture(scope="module")
def default_run(fairness_default_run: CliResult) -> dict[str, Any]:
    """`audit run suite=fairness` with no other argument (conftest.py: made once per session)."""
    result = fairness_default_run
    return {"exit_code": result.exit_code, "results": result.results, "stdout": result.stdout}


def test_default_run_audits_every_bundled_clean_model(default_run):
    results = default_run["results"]
    models = {r["model"] for r in results["records"]}
    assert set(CLEAN) <= models, models
    assert not models & set(DEFECTS)
    for model in ("gan", "vae", "diffusion"):
        assert set(IMAGE_CHECKS) <= set(records_of(results, model)), model
    assert set(TEXT_CHECKS) <= set(records_of(results, "transformer"))
    assert default_run["exit_code"] == expected_exit(results["records"]), default_run["stdout"]


def test_clean_models_pass_every_fairness_gate(default_run):
    results = default_run["results"]
    for model in CLEAN:
        for check, record in records_of(results, model).items():
            if check not in MINE:
                continue  # other engineers' checks in the same suite
            assert record["status"] in ("pass", "measured", "skipped"), (model, check, record["status"], record.get("reason"), record.get("verdict"))
            if record["gates"]:
                assert record["status"] == "pass", (model, check)
    vae = records_of(results, "vae")
    assert vae["fairness.representation_tv"]["status"] == "pass"
    for check in ("fairness.quality_parity_accuracy", "fairness.quality_parity_precision", "fairness.quality_parity_fid"):
        assert vae[check]["status"] == "skipped" and "conditional" in vae[check]["reason"]
    # a clean image model's by-group result has the MetricFrame shape, one entry per digit class
    tv = records_of(results, "gan")["fairness.representation_tv"]
    assert set(tv["by_group"]) == {"overall", "by_group", "group_min", "group_max", "difference", "ratio"}
    assert sorted(tv["by_group"]["by_group"], key=int) == [str(c) for c in range(10)]
    preference = records_of(results, "transformer")["fairness.stereotype_preference"]
    assert 0.4 <= preference["ci_low"] <= preference["value"] <= preference["ci_high"] <= 0.6


def test_gan_passes(cli):
    result = cli("run", "suite=fairness", "model=gan")
    assert result.exit_code == 0, result.stdout
    records = records_of(result.results, "gan")
    assert records["fairness.representation_tv"]["status"] == "pass"
    assert records["fairness.quality_parity_accuracy"]["status"] == "pass"


def test_gan_imbalanced_is_flagged(cli):
    from audit_reference_models.data.digits import load_digits_split
    from audit_reference_models.manifest import read_manifest

    result = cli("run", "suite=fairness", "model=gan-imbalanced")
    assert result.exit_code == 1, result.stdout
    records = records_of(result.results, "gan-imbalanced")
    tv = records["fairness.representation_tv"]
    assert tv["status"] == "fail" and tv["ci_low"] > 0.15
    prior = np.array(read_manifest("gan-imbalanced")["config"]["label_prior"])
    train = np.bincount(load_digits_split().train_y, minlength=10) / len(load_digits_split().train_y)
    assert tv["value"] == pytest.approx(0.5 * np.abs(prior / prior.sum() - train).sum(), abs=0.05)
    ratio = records["fairness.representation_ratio"]
    assert ratio["status"] == "fail" and ratio["ci_low"] > 4
    # the five cut classes are the under-represented ones
    by_class = tv["by_group"]["by_group"]
    assert set(sorted(by_class, key=lambda c: by_class[c]["value"])[:5]) == {"5", "6", "7", "8", "9"}
    assert records["fairness.representation_chi2"]["value"] < 1e-6


def test_transformer_stereotyped_is_flagged(stereotyped_fairness_run: CliResult, default_run):
    result = stereotyped_fairness_run  # the checks asserted here (conftest.STEREOTYPED_CHECKS)
    assert result.exit_code == 1, result.stdout
    records = records_of(result.results, "transformer-stereotyped")
    preference = records["fairness.stereotype_preference"]
    assert preference["status"] == "fail" and preference["value"] >= 0.7
    k, n = preference["details"]["stereotyped_preferred"], preference["details"]["pairs"]
    ci = binomtest(k, n).proportion_ci(method="wilson")
    assert (preference["ci_low"], preference["ci_high"]) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert preference["details"]["binomial_pvalue"] == pytest.approx(binomtest(k, n, 0.5).pvalue)
    clean = records_of(default_run["results"], "transformer")
    for check in ("fairness.counterfactual_likelihood", "fairness.counterfactual_sentiment"):
        assert records[check]["status"] == "warn", check  # warn-severity gates: flagged, not failing
        assert records[check]["ci_low"] > clean[check]["ci_high"], check  # separated from the clean model
    table = records["fairness.counterfactual_sentiment"]["details"]["tables"][0]
    assert table["rows"] and len(table["columns"]) == len(table["rows"][0])


def test_unconditional_samples_are_drawn_once_and_reused_by_an_unconditional_model(tmp_path, monkeypatch):
    from audit.config import parse_run_words
    from audit.plan import make_plan
    from audit.runner import execute
    from audit_reference_models.vae.adapter import VAEAdapter

    calls: list[tuple[int, Any]] = []
    original = VAEAdapter.sample

    def counting(self, n, seed, labels=None):
        calls.append((n, labels))
        return original(self, n, seed, labels)

    monkeypatch.setattr(VAEAdapter, "sample", counting)
    checks = "check=fairness.representation_tv,fairness.representation_ratio,fairness.representation_chi2"
    plan = make_plan(parse_run_words(["suite=fairness", "model=gan,vae", "n=128", "bootstrap=20", checks, f"out={tmp_path}"]))
    # min_n = 0: the sample size of the run, so the VAE's shared samples are the same call (a plan is immutable: derive one)
    plan = dataclasses.replace(plan, params={c: {**p, "min_n": 0} for c, p in plan.params.items()})
    outcome = execute(plan)
    assert outcome.store.memo_calls["fairness.unconditional"] == 2  # once per model for three checks
    assert calls == [(128, None)]  # the VAE sampled once: its shared set is the unconditional set
    assert {r["status"] for r in outcome.results["records"]} <= {"pass", "measured", "inconclusive"}
