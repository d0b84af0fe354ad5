"""Outputs a harness could misread (tests/fixtures/misread_outputs.py): a form the contract allows
is read as the bundled model's own form is (same numbers), and outputs that break the contract,
or lie about themselves, are error records instead of numbers."""

from __future__ import annotations

import pytest

from audit.stats import measurement_ci

FAST = ("n=64", "bootstrap=20")


def _records(result, model: str) -> dict[str, dict]:
    return {r["check"]: r for r in result.results["records"] if r["model"] == model}


def test_encode_returning_a_plain_tensor_measures_as_the_tuple_form_does(cli):
    checks = "check=robustness.vae_reconstruction,robustness.latent_stability"
    result = cli("run", "suite=robustness", "model=vae,misread_outputs:encodes_plain_tensor", checks, *FAST)
    assert result.exit_code in (0, 3), result.stdout + result.stderr
    bundled, plain = _records(result, "vae"), _records(result, "misread_outputs:encodes_plain_tensor")
    for check in ("robustness.vae_reconstruction", "robustness.latent_stability"):
        assert plain[check]["value"] is not None
        assert plain[check]["value"] == pytest.approx(bundled[check]["value"], rel=1e-6), check


@pytest.mark.parametrize("model, reason", [
    ("misread_outputs:ignores_latent", "the same images for every perturbed latent"),
    ("misread_outputs:nan_from_latent", "sample(z=...) returned 16384 non-finite values"),
    ("misread_outputs:one_image_from_latent", "sample(z=...) returned shape (1, 1, 16, 16) for 64 images"),
])
def test_a_latent_that_changes_nothing_or_decodes_to_garbage_is_an_error_not_perfect_stability(cli, model: str, reason: str):
    result = cli("run", "suite=robustness", f"model={model},gan", "check=robustness.latent_stability", *FAST)
    assert result.exit_code == 4, result.stdout + result.stderr
    record = _records(result, model)["robustness.latent_stability"]
    assert record["status"] == "error" and record["value"] is None and reason in record["reason"]
    assert _records(result, "gan")["robustness.latent_stability"]["value"] > 0


def test_a_batch_mean_for_a_per_image_score_is_an_error(cli):
    result = cli("run", "suite=quality,privacy", "model=misread_outputs:mean_elbo", "check=quality.elbo_bpd,privacy.mia_auc", *FAST)
    assert result.exit_code == 4, result.stdout + result.stderr
    records = _records(result, "misread_outputs:mean_elbo")
    assert set(records) == {"quality.elbo_bpd", "privacy.mia_auc"}
    for record in records.values():
        assert record["status"] == "error" and "elbo() of" in record["reason"] and "expected [" in record["reason"], record


def test_a_tensor_subclass_that_lies_about_its_range_is_refused(cli):
    result = cli("run", "suite=quality", "model=misread_outputs:tanh_in_disguise", "check=quality.fid", *FAST)
    assert result.exit_code == 4, result.stdout + result.stderr
    [record] = result.results["records"]
    assert record["status"] == "error" and "torch.Tensor subclass" in record["reason"]


def test_a_str_subclass_cannot_change_what_its_words_are(cli):
    """Twelve times "the" per generation: distinct-1 is 1 / (12 n) whatever `lower()` of the subclass says."""
    result = cli("run", "suite=quality", "model=misread_outputs:repeats_in_disguise", "check=quality.distinct_1", *FAST)
    [record] = result.results["records"]
    assert record["value"] == pytest.approx(1 / (12 * 64))
    assert record["ci_high"] <= 1


def test_a_bounded_statistic_keeps_its_interval_within_its_bounds():
    assert measurement_ci(0.9, 1.05, 0.0, 1.0) == (0.9, 1.0)
    assert measurement_ci(-0.02, 0.3, 0.0, 1.0) == (0.0, 0.3)
    assert measurement_ci(float("nan"), 1.0, 0.0, 1.0) == (None, None)
