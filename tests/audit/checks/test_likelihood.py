"""The likelihood and latent checks on stand-in adapters whose answers are known in closed form:
bits/dim vs a direct numpy conversion, an identity autoencoder (zero reconstruction error,
perfectly even pixel-space interpolations), a halving decoder (MSE = x^2 / 4), and the
plumbing: estimator arguments, diffusion bound wording, memoised posterior means."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from audit.adapters.base import ELBO, ENCODE_DECODE, LOG_LIKELIHOOD, ModelInfo, has_capability
from audit.checks.likelihood import (
    elbo_bpd,
    interpolation_ratios,
    interpolation_smoothness,
    nats_to_bpd,
    nll_bpd,
    reconstruction_error,
)
from audit.context import CheckContext
from audit.evaluators import digits_evaluator, digits_reference
from audit.sample_store import SampleStore


def direct_bpd(nats: np.ndarray, dims: int) -> np.ndarray:
    """NLL in bits per dimension, written the other way round: log2(e) * (-nats) / dims."""
    return np.log2(np.e) * (-nats) / dims


def test_nats_to_bpd_matches_direct_numpy_and_the_vae_helper():
    from audit_reference_models.vae.likelihood import bits_per_dim

    nats = np.array([-709.78, -1000.0, -1.5, 0.0])
    assert nats_to_bpd(nats, 256) == pytest.approx(direct_bpd(nats, 256), rel=1e-14)
    assert nats_to_bpd(nats, 256) == pytest.approx(bits_per_dim(torch.tensor(nats, dtype=torch.float64), 256).numpy(), rel=1e-14)
    assert nats_to_bpd(np.array([-256 * math.log(2)]), 256)[0] == pytest.approx(1.0)  # 1 bit per pixel


def test_interpolation_ratio_known_answers():
    assert interpolation_ratios(np.ones((1, 8)))[0] == pytest.approx(1.0)
    assert interpolation_ratios(np.array([[0.0, 0.0, 2.0, 0.0]]))[0] == pytest.approx(4.0)  # all change in one of 4 steps
    assert math.isnan(interpolation_ratios(np.zeros((1, 5)))[0])
    d = np.random.default_rng(0).random((6, 9))
    expected = [max(row) / (sum(row) / len(row)) for row in d.tolist()]
    assert interpolation_ratios(d) == pytest.approx(expected, rel=1e-12)


class StandIn:
    """A 16x16 'VAE' whose latent is the image itself, with log p(x) = -sum(x) * scale nats."""

    capabilities = frozenset({LOG_LIKELIHOOD, ELBO, ENCODE_DECODE})
    num_classes = None

    def __init__(self, family: str = "vae", decode_gain: float = 1.0) -> None:
        self.info = ModelInfo(name=f"standin-{family}", family=family, params=0, image_shape=(1, 16, 16))
        self.decode_gain = decode_gain
        self.calls: list[dict] = []

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x.flatten(1).clone(), torch.zeros(len(x), 256)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return (z * self.decode_gain).reshape(-1, 1, 16, 16)

    def log_likelihood(self, x: torch.Tensor, k: int = 64, seed: int = 0) -> torch.Tensor:
        self.calls.append({"k": k, "n": len(x)})
        return -x.double().flatten(1).sum(1) * 3.0

    def elbo(self, x: torch.Tensor, k: int = 4, seed: int = 0) -> torch.Tensor:
        return -x.double().flatten(1).sum(1) * 3.5


class StandInDiffusion(StandIn):
    def log_likelihood(self, x: torch.Tensor) -> torch.Tensor:  # no `k`: passing one would raise
        self.calls.append({"n": len(x)})
        return -x.double().flatten(1).sum(1) * 2.0


@pytest.fixture(scope="module")
def store() -> SampleStore:
    return SampleStore(digits_evaluator, digits_reference)


def context(adapter, store: SampleStore, n: int = 1000) -> CheckContext:
    return CheckContext(adapter, adapter.info.name, "fp32", 0, n, 200, store, Path("."))


def heldout(store: SampleStore, count: int | None = None) -> np.ndarray:
    x = np.asarray(store.reference.test_x, dtype=np.float64)
    return x[:count] if count else x


def test_nll_bpd_of_a_known_likelihood(store):
    adapter = StandIn()
    m = nll_bpd(context(adapter, store), n=50)
    expected = direct_bpd(-heldout(store, 50).reshape(50, -1).sum(1) * 3.0, 256)
    assert m.value == pytest.approx(expected.mean(), rel=1e-12)
    assert m.ci_low < m.value < m.ci_high and m.n == 50
    assert adapter.calls == [{"k": 64, "n": 50}, {"k": 64, "n": 50}]  # held-out, then as many training images
    assert m.details["is_bound"] and "IWAE" in m.details["estimator"]
    train = np.asarray(store.reference.train_x[:50], dtype=np.float64)
    assert m.details["train_bpd"] == pytest.approx(direct_bpd(-train.reshape(50, -1).sum(1) * 3.0, 256).mean(), rel=1e-12)


def test_nll_bpd_requires_k_of_at_least_64(store):
    with pytest.raises(ValueError, match="k >= 64"):
        nll_bpd(context(StandIn(), store), n=10, k=16)


def test_nll_bpd_for_diffusion_is_a_bound_on_100_images_by_default(store):
    adapter = StandInDiffusion(family="diffusion")
    m = nll_bpd(context(adapter, store))
    assert adapter.calls == [{"n": 100}]  # no k, no training-split pass by default
    expected = direct_bpd(-heldout(store, 100).reshape(100, -1).sum(1) * 2.0, 256).mean()
    assert m.value == pytest.approx(expected, rel=1e-12)
    assert m.details["is_bound"] and "upper bound" in m.details["estimator"]


def test_elbo_bpd_and_a_model_without_elbo(store):
    from audit.checks import check_spec, load_check_modules

    m = elbo_bpd(context(StandIn(), store), n=40)
    assert m.value == pytest.approx(direct_bpd(-heldout(store, 40).reshape(40, -1).sum(1) * 3.5, 256).mean(), rel=1e-12)
    bare = StandIn()
    bare.capabilities = frozenset({LOG_LIKELIHOOD, ENCODE_DECODE})
    load_check_modules()
    spec = check_spec("quality.elbo_bpd")
    assert spec.needs == {ELBO} and not has_capability(bare, ELBO)  # the runner skips it: "model lacks capability elbo"
    assert not spec.applies_to("other", bare.capabilities)  # log_likelihood alone is no ELBO


def test_reconstruction_error_of_identity_and_halving_decoders(store):
    assert reconstruction_error(context(StandIn(), store), n=60).value == 0.0
    x = heldout(store, 60)
    m = reconstruction_error(context(StandIn(decode_gain=0.5), SampleStore(digits_evaluator, digits_reference)), n=60)
    assert m.value == pytest.approx(float(np.mean((0.5 * x - x) ** 2)), rel=1e-6)


def test_interpolation_of_an_identity_decoder_is_even_in_pixels(store):
    fresh = SampleStore(digits_evaluator, digits_reference)
    ctx = context(StandIn(), fresh)
    reconstruction_error(ctx)
    m = interpolation_smoothness(ctx, pairs=20, steps=8)
    assert m.details["pixel_space_ratio"] == pytest.approx(1.0, abs=1e-6)  # linear paths, equal pixel steps
    assert 1.0 <= m.ci_low <= m.value <= m.ci_high <= 8.0 and m.n == 20
    # reconstruction (held-out and train) and interpolation share one held-out encoding
    assert fresh.memo_calls["vae.posterior_mean"] == 2
