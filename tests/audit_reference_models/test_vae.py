"""The bundled VAE and its memorized variant: the adapter contract, the discrete likelihood's
maths, manifest metrics, the memorization defect, and reproducible quick retraining."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.stats import logistic

from audit.adapters import load_model
from audit.adapters.base import ELBO, ENCODE_DECODE, LOG_LIKELIHOOD, SAMPLE
from audit.weights import sha256_file
from audit_reference_models.data.digits import load_digits_split
from audit_reference_models.manifest import read_manifest, weights_dir
from audit_reference_models.vae.likelihood import LOG_SCALE_MIN, discretized_logistic_log_prob
from audit_reference_models.vae.train import EVAL_SEED, NEAR_COPY_L2, nearest_train_distance

QUICK_TOLERANCE = {"heldout_elbo_bpd": 0.02, "heldout_iwae_bpd": 0.02, "train_elbo_bpd": 0.02, "sample_near_copy_rate": 0.02}
"""Absolute tolerances (bits/dim, rates): a quick retraining on another CPU may differ in the last
float bits; other metrics must agree within 5% (relative)."""


@pytest.fixture(scope="module")
def data() -> dict[str, torch.Tensor]:
    d = load_digits_split()
    return {"train": torch.tensor(d.train_x), "test": torch.tensor(d.test_x)}


@pytest.fixture(scope="module")
def vae():
    return load_model("vae")


@pytest.fixture(scope="module")
def heldout_bounds(vae, data) -> dict[str, torch.Tensor]:
    """ELBO and IWAE(k=64) of the 360 held-out images with the seed the manifest used."""
    return {"elbo": vae.elbo(data["test"], seed=EVAL_SEED), "iwae": vae.iwae(data["test"], k=64, seed=EVAL_SEED)}


@pytest.mark.parametrize(
    "mean, log_scale",
    [(0.5, -3.0), (0.0, -5.0), (1.0, -1.0), (-0.3, -6.0), (0.2, -7.0), (1.4, 0.5), (0.37, -4.2), (0.5, -9.0)],
)
def test_discretized_logistic_is_a_distribution_over_the_256_levels(mean: float, log_scale: float):
    levels = torch.arange(256, dtype=torch.float32) / 255
    log_p = discretized_logistic_log_prob(levels, torch.full((256,), mean), torch.full((256,), log_scale))
    assert log_p.double().exp().sum().item() == pytest.approx(1.0, abs=1e-5)
    # Independent float64 computation: CDF differences over bins of width 1/255, open-ended at 0 and
    # 255 (survival-function differences above the mean, where the CDF rounds to 1).
    scale = math.exp(max(log_scale, LOG_SCALE_MIN))
    edges = np.concatenate([[-np.inf], (np.arange(255) + 0.5) / 255, [np.inf]])
    below = np.diff(logistic.cdf(edges, loc=mean, scale=scale))
    above = -np.diff(logistic.sf(edges, loc=mean, scale=scale))
    expected = np.where(np.arange(256) / 255 <= mean, below, above)
    assert expected.sum() == pytest.approx(1.0, abs=1e-9)
    # float32 rounding of k/255 shifts a bin edge by ~1e-8, i.e. ~1e-5 in probability at the sharpest scale
    assert np.allclose(log_p.double().exp().numpy(), expected, atol=1e-5)
    visible = expected > 1e-4
    assert np.allclose(log_p.double().numpy()[visible], np.log(expected[visible]), atol=2e-3)


def test_adapter_info_and_weights(vae):
    manifest = read_manifest("vae")
    assert vae.info.family == "vae" and vae.info.num_classes is None and vae.num_classes is None
    assert vae.capabilities == frozenset({SAMPLE, LOG_LIKELIHOOD, ENCODE_DECODE, ELBO})
    assert vae.info.params == manifest["params"] and 300_000 <= vae.info.params <= 700_000
    assert vae.info.weights == {"vae.safetensors": sha256_file(weights_dir() / "vae.safetensors")}
    assert vae.info.card and "Limitations" in vae.info.card
    assert manifest["bytes"] < 10_000_000 and read_manifest("vae-memorized")["bytes"] < 10_000_000


def test_sample_contract(vae):
    a = vae.sample(50, seed=7)
    assert a.shape == (50, 1, 16, 16) and a.dtype == torch.float32 and a.device.type == "cpu"
    assert 0 <= a.min() and a.max() <= 1 and a.std() > 0.1
    assert torch.equal(a, vae.sample(50, seed=7))
    assert not torch.equal(a, vae.sample(50, seed=8))
    assert torch.equal(vae.sample(10, seed=3), vae.sample(10, seed=3, labels=torch.arange(10)))  # unconditional


def test_encode_decode_reconstructs_heldout_as_recorded(vae, data):
    x = data["test"]
    mu, logvar = vae.encode(x)
    assert mu.shape == logvar.shape == (360, 16) and mu.dtype == torch.float32
    recon = vae.decode(mu)
    assert recon.shape == x.shape and 0 <= recon.min() and recon.max() <= 1
    mse = float((recon - x).pow(2).mean())
    assert mse == pytest.approx(read_manifest("vae")["metrics"]["recon_mse"], rel=1e-3)
    assert mse < 0.2 * float((x - x.mean(0)).pow(2).mean())  # far better than the mean image


def test_iwae_is_a_tighter_bound_than_the_elbo(vae, heldout_bounds, data):
    elbo, iwae = heldout_bounds["elbo"], heldout_bounds["iwae"]
    assert elbo.shape == iwae.shape == (360,) and torch.isfinite(iwae).all()
    assert iwae.mean() > elbo.mean()
    assert (iwae >= elbo).float().mean() > 0.9
    assert torch.equal(vae.log_likelihood(data["test"][:20], k=64, seed=1), vae.iwae(data["test"][:20], k=64, seed=1))


def test_heldout_bits_per_dim_match_the_manifest(vae, heldout_bounds):
    metrics = read_manifest("vae")["metrics"]
    elbo_bpd = float(vae.bits_per_dim(heldout_bounds["elbo"].double().mean()))
    iwae_bpd = float(vae.bits_per_dim(heldout_bounds["iwae"].double().mean()))
    assert elbo_bpd == pytest.approx(metrics["heldout_elbo_bpd"], abs=1e-3)
    assert iwae_bpd == pytest.approx(metrics["heldout_iwae_bpd"], abs=1e-3)
    assert 0 < iwae_bpd < elbo_bpd < 8  # 8 bits/dim is the uniform distribution over 256 levels
    assert float(vae.bits_per_dim(torch.tensor(-256 * math.log(2)))) == pytest.approx(1.0)


def test_bf16_variant_samples_and_scores(data):
    fp32, bf16 = load_model("vae"), load_model("vae", precision="bf16")
    assert bf16.dtype == torch.bfloat16
    s = bf16.sample(20, seed=0)
    assert s.dtype == torch.float32 and 0 <= s.min() and s.max() <= 1
    x = data["test"][:64]
    delta = fp32.bits_per_dim(fp32.elbo(x).mean()) - bf16.bits_per_dim(bf16.elbo(x).mean())
    assert abs(float(delta)) < 0.1


def test_memorized_variant_copies_its_training_subset(vae, data):
    memorized = load_model("vae-memorized")
    indices = read_manifest("vae-memorized")["config"]["memorized_indices"]
    assert len(indices) == 48 and len(set(indices)) == 48
    train = data["train"]
    clean_nn = nearest_train_distance(vae.sample(500, seed=0), train)
    mem_samples = memorized.sample(500, seed=0)
    mem_nn = nearest_train_distance(mem_samples, train)
    assert mem_nn.median() < 0.1 * clean_nn.median()
    assert (mem_nn < NEAR_COPY_L2).double().mean() > 0.8
    assert (clean_nn < NEAR_COPY_L2).double().mean() < 0.01
    nearest = torch.cdist(mem_samples.flatten(1), train.flatten(1)).argmin(1)
    assert torch.isin(nearest, torch.tensor(indices)).double().mean() > 0.95
    # Train-vs-held-out ELBO gap: huge for the memorized model, small for the clean one.
    def gap(model, seen: torch.Tensor) -> float:
        return float(model.bits_per_dim(model.elbo(data["test"], k=1).mean()) - model.bits_per_dim(model.elbo(seen, k=1).mean()))

    mem_gap, clean_gap = gap(memorized, train[indices]), gap(vae, train[:360])
    assert mem_gap > 20 and abs(clean_gap) < 0.6


@pytest.mark.parametrize("name", ["vae", "vae-fragile", pytest.param("vae-memorized", marks=pytest.mark.slow)])
def test_quick_retraining_reproduces_the_recorded_quick_reference(name: str, tmp_path: Path):
    from audit.registry import import_target, trainers

    spec = trainers.entry(name)
    reference = read_manifest(name)["quick_reference"]
    metrics = import_target(spec.target)(seed=reference["seed"], out_dir=tmp_path, quick=True, log=lambda *a: None, **spec.metadata["kwargs"])
    assert set(metrics) == set(reference["metrics"])
    for key, expected in reference["metrics"].items():
        if key in QUICK_TOLERANCE:
            assert metrics[key] == pytest.approx(expected, abs=QUICK_TOLERANCE[key]), key
        else:
            assert metrics[key] == pytest.approx(expected, rel=0.05), key
    manifest = read_manifest(name, tmp_path)
    assert manifest["quick"] is True and (tmp_path / f"{name}.safetensors").is_file()
