"""A precision variant whose outputs are bit-identical to fp32's changed nothing the model's outputs
come from (`modules()` returns a decoy): its quantization records are errors, never passes, while
an honest model's variant in the same run is judged as before."""

from __future__ import annotations

import pytest

from tests.helpers import run_cli

IMAGE_CHECKS = "check=quantization.delta_fid,quantization.psnr,quantization.size_ratio"


def _by(records, model, precision):
    return {r["check"]: r for r in records if r["model"] == model and r["precision"] == precision}


@pytest.fixture(scope="module")
def decoy_and_gan(tmp_path_factory):
    """One run: the decoy GAN (sample() runs the bundled GAN, modules() two unused Linear layers)
    and a decoy that adds noise from torch's global RNG to it (never bit-identical) beside the
    bundled GAN, fp32 against int8 and bf16."""
    out = tmp_path_factory.mktemp("reports")
    return run_cli("run", "suite=quantization", "model=decoy_models:decoy_gan,quantization_models:noisy_decoy,gan",
                   "precision=fp32,int8,bf16", IMAGE_CHECKS, "n=64", "bootstrap=20", f"out={out}")


def test_a_decoy_variant_is_an_error_record_not_a_pass(decoy_and_gan):
    result = decoy_and_gan
    assert result.exit_code == 4, result.stdout + result.stderr
    records = result.results["records"]
    assert all(r["status"] == "skipped" for r in _by(records, "decoy_models:decoy_gan", "fp32").values())
    for precision in ("int8", "bf16"):
        decoy = _by(records, "decoy_models:decoy_gan", precision)
        assert set(decoy) == {"quantization.delta_fid", "quantization.psnr", "quantization.size_ratio"}
        for record in decoy.values():
            assert record["status"] == "error", record
            assert f"precision {precision} changed nothing in the outputs of model 'decoy_models:decoy_gan' (sample():" in record["reason"]
            assert "bit-identical to fp32" in record["reason"] and "modules() does not return the networks" in record["reason"]
            assert "\n" not in record["reason"]


def test_a_noisy_decoys_variants_are_error_records(decoy_and_gan):
    """Its outputs differ from fp32's on every call, but none of modules() runs while it samples
    (audit.precision.networks_ran); before, its ΔFID passed and its size_ratio read 0.26."""
    for precision in ("int8", "bf16"):
        noisy = _by(decoy_and_gan.results["records"], "quantization_models:noisy_decoy", precision)
        assert set(noisy) == {"quantization.delta_fid", "quantization.psnr", "quantization.size_ratio"}
        for record in noisy.values():
            assert record["status"] == "error", record
            assert "(sample(2): the networks modules() returns did not run while sampling)" in record["reason"]


def test_an_honest_models_variants_are_judged_as_before(decoy_and_gan):
    records = decoy_and_gan.results["records"]
    for precision in ("int8", "bf16"):
        gan = _by(records, "gan", precision)
        assert gan["quantization.delta_fid"]["status"] == "pass"
        assert gan["quantization.psnr"]["status"] == "measured" and 35 < gan["quantization.psnr"]["value"] < 100
        assert gan["quantization.psnr"]["details"]["identical_pairs"] < 64
        assert gan["quantization.size_ratio"]["status"] == "measured" and gan["quantization.size_ratio"]["value"] < 1


def test_a_decoy_language_models_variant_is_an_error_record(cli):
    """`model` and `log_probs` run the bundled transformer, modules() a decoy Linear: the next-token
    logits of int8 equal fp32's, so the comparisons would read KL 0 and top-1 agreement 1."""
    result = cli("run", "suite=quantization", "model=decoy_models:decoy_lm", "precision=fp32,int8", "n=4", "bootstrap=20",
                 "check=quantization.kl_divergence,quantization.top1_agreement,quantization.size_ratio")
    assert result.exit_code == 4, result.stdout + result.stderr
    int8 = _by(result.results["records"], "decoy_models:decoy_lm", "int8")
    assert len(int8) == 3
    assert all(r["status"] == "error" and "changed nothing in the outputs of model 'decoy_models:decoy_lm' (model(input_ids=...).logits" in r["reason"]
               for r in int8.values())
