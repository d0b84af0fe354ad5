"""The bundled diffusion models: scheduler arithmetic against independent closed forms, the
sampler contract, the variational bound, the swapped-labels defect and quick retraining."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import stats

from audit.adapters import load_model
from audit_reference_models.data.digits import load_digits_split
from audit_reference_models.diffusion.likelihood import (
    bits_per_dim,
    discretized_gaussian_log_likelihood,
    normal_kl,
    variational_bound,
)
from audit_reference_models.diffusion.sampler import denoise
from audit_reference_models.diffusion.scheduler import DDIMScheduler, DDPMScheduler
from audit_reference_models.evaluators.classifier import load_classifier
from audit_reference_models.manifest import read_manifest, weights_dir

T = 1000
SCHEDULE = {"num_train_timesteps": T, "beta_start": 1e-4, "beta_end": 0.02, "beta_schedule": "linear"}
SWAPPED = {3: 8, 8: 3, 4: 9, 9: 4}
QUICK_TOLERANCE = {"conditional_accuracy": 0.03, "heldout_nll_bpd": 0.02, "train_nll_bpd": 0.02}
"""Quick retraining on another CPU may differ in the last float bits; metrics stay this close
(FID: 5% relative; per-class accuracy: 0.1 per class; evaluation settings: exactly)."""


def np_schedule() -> tuple[np.ndarray, np.ndarray]:
    """Ho et al.'s linear betas and their cumulative product, computed in numpy."""
    betas = np.linspace(1e-4, 0.02, T)
    return betas, np.cumprod(1 - betas)


def conditioning(x0: np.ndarray, x_t: np.ndarray, abar_prev: float, abar_t: float) -> tuple[np.ndarray, float]:
    """q(x_prev | x_t, x0) by Bayes' rule for Gaussians: prior N(sqrt(abar_prev) x0, 1 - abar_prev)
    times the likelihood N(x_t; sqrt(a) x_prev, 1 - a), a = abar_t / abar_prev."""
    a = abar_t / abar_prev
    precision = 1 / (1 - abar_prev) + a / (1 - a)
    var = 1 / precision
    return var * (np.sqrt(abar_prev) * x0 / (1 - abar_prev) + np.sqrt(a) * x_t / (1 - a)), var


@pytest.fixture(scope="module")
def images() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.uniform(-1, 1, (3, 1, 16, 16)), rng.standard_normal((3, 1, 16, 16))


@pytest.fixture(scope="module")
def clean():
    return load_model("diffusion")


@pytest.fixture(scope="module")
def swapped():
    return load_model("diffusion-swapped-labels")


@pytest.fixture(scope="module")
def classifier():
    return load_classifier()[0]


def test_add_noise_matches_closed_form(images):
    x0, eps = images
    _, abar = np_schedule()
    t = np.array([0, 499, 999])
    expected = np.sqrt(abar[t])[:, None, None, None] * x0 + np.sqrt(1 - abar[t])[:, None, None, None] * eps
    got = DDPMScheduler(**SCHEDULE).add_noise(torch.tensor(x0, dtype=torch.float32), torch.tensor(eps, dtype=torch.float32), torch.tensor(t))
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-5)


def test_ddim_step_with_the_true_noise_recovers_x0(images):
    x0, eps = (torch.tensor(a, dtype=torch.float32) for a in images)
    _, abar = np_schedule()
    s = DDIMScheduler(**SCHEDULE)
    s.set_timesteps(50)
    assert s.timesteps[0] == T - 1 and len(s.timesteps) == 50
    for t in (979, 499, 19):
        out = s.step(eps, t, s.add_noise(x0, eps, t))
        prev = t - 20
        torch.testing.assert_close(out.pred_original_sample, x0, atol=1e-4, rtol=0)
        expected = np.sqrt(abar[prev]) * images[0] + np.sqrt(1 - abar[prev]) * images[1] if prev >= 0 else images[0]
        np.testing.assert_allclose(out.prev_sample.numpy(), expected, atol=1e-4)
    x_T = s.add_noise(x0, eps, T - 1)
    torch.testing.assert_close(denoise(lambda x, t: eps, s, x_T), x0, atol=1e-4, rtol=0)


def test_ddpm_posterior_and_steps_match_gaussian_conditioning(images):
    x0, eps = images
    _, abar = np_schedule()
    full = DDPMScheduler(**SCHEDULE)
    x0_t, eps_t = torch.tensor(x0, dtype=torch.float32), torch.tensor(eps, dtype=torch.float32)
    for t in (1, 5, 100, 999):
        x_t = full.add_noise(x0_t, eps_t, t)
        mean, var = conditioning(x0, x_t.double().numpy(), abar[t - 1], abar[t])
        got_mean, got_var = full.posterior(x0_t, x_t, t)
        np.testing.assert_allclose(got_mean.numpy(), mean, atol=2e-5)
        assert float(got_var) == pytest.approx(var, rel=1e-5)
        step = full.step(eps_t, t, x_t, torch.Generator().manual_seed(t)).prev_sample
        noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(t)).numpy()
        np.testing.assert_allclose(step.numpy(), mean + np.sqrt(var) * noise, atol=1e-4)
    respaced = DDPMScheduler(**SCHEDULE)
    respaced.set_timesteps(50)
    for t in (999, 519, 39):
        prev = t - 20
        x_t = np.ones(1)
        mean_x0, var = conditioning(np.ones(1), 0 * x_t, abar[prev], abar[t])
        mean_xt, _ = conditioning(np.zeros(1), x_t, abar[prev], abar[t])
        np.testing.assert_allclose(respaced.step_coefficients(t), (mean_x0[0], mean_xt[0], var), rtol=1e-9)


def test_decoder_and_kl_against_scipy_and_torch():
    levels = torch.arange(256, dtype=torch.float64) / 255 * 2 - 1
    for mean, std in ((0.3, 0.01), (-0.999, 0.004), (0.0, 0.7), (1.4, 0.2)):
        logp = discretized_gaussian_log_likelihood(levels, torch.tensor(mean, dtype=torch.float64), torch.tensor(std, dtype=torch.float64))
        assert torch.isfinite(logp).all() and float(logp.exp().sum()) == pytest.approx(1, abs=1e-9)
        edges = np.concatenate([[-np.inf], (levels[:-1] + levels[1:]).numpy() / 2, [np.inf]])
        lower, upper = edges[:-1], edges[1:]
        upper_tail = lower > mean
        expected = np.where(
            upper_tail,
            stats.norm.sf(lower, mean, std) - stats.norm.sf(upper, mean, std),
            stats.norm.cdf(upper, mean, std) - stats.norm.cdf(lower, mean, std),
        )
        np.testing.assert_allclose(logp.exp().numpy(), expected, rtol=1e-7, atol=1e-300)
    far = discretized_gaussian_log_likelihood(*(torch.tensor([v], dtype=torch.float64) for v in (0.5, -0.5, 0.01)))
    assert float(far) == pytest.approx(stats.norm.logsf(0.5 - 1 / 255, -0.5, 0.01), rel=1e-6)
    m1, v1, m2, v2 = (torch.tensor(v) for v in (0.2, 0.5, -0.1, 1.3))
    expected = torch.distributions.kl_divergence(torch.distributions.Normal(m1, v1.sqrt()), torch.distributions.Normal(m2, v2.sqrt()))
    assert float(normal_kl(m1, v1, m2, v2)) == pytest.approx(float(expected), rel=1e-6)


def offset_model(s: DDPMScheduler, x0: torch.Tensor, offset: np.ndarray):
    """An eps_fn whose x0 estimate is exactly x0 + offset[t]: every term of the bound then has
    a closed form and no noise dependence."""

    def eps(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        target = x0 + torch.tensor(offset, dtype=torch.float32)[t].view(-1, 1, 1, 1)
        a = s.sqrt_alphas_cumprod[t].float().view(-1, 1, 1, 1)
        return (x_t - a * target) / s.sqrt_one_minus_alphas_cumprod[t].float().view(-1, 1, 1, 1)

    return eps


def closed_form_bound(betas: np.ndarray, x0: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """The bound for `offset_model`, in numpy: prior KL, Gaussian KLs with matched variances
    (0.5 * mean gap^2 / var per pixel) and the discretized decoder via scipy."""
    abar = np.cumprod(1 - betas)
    abar_prev = np.concatenate([[1.0], abar[:-1]])
    var = (1 - abar_prev) / (1 - abar) * betas
    gap = np.sqrt(abar_prev) * betas / (1 - abar) * offset
    d = x0[0].size
    kl = d * 0.5 * (gap[1:] ** 2 / var[1:]).sum()
    prior = 0.5 * (abar[-1] * x0**2 + (1 - abar[-1]) - 1 - np.log(1 - abar[-1])).reshape(len(x0), -1).sum(1)
    mean, std = x0 + offset[0], np.sqrt(var[1])
    lo = np.where(x0 < -0.999, -np.inf, x0 - 1 / 255)
    hi = np.where(x0 > 0.999, np.inf, x0 + 1 / 255)
    decoder = np.log(stats.norm.cdf(hi, mean, std) - stats.norm.cdf(lo, mean, std)).reshape(len(x0), -1).sum(1)
    return decoder - kl - prior


def test_bound_matches_closed_form_and_stratified_estimate_is_unbiased():
    x0 = np.round(np.random.default_rng(1).uniform(0, 1, (2, 1, 16, 16)) * 255) / 255 * 2 - 1
    x0[:, :, :4] = -1
    for config, strata, seeds in (
        (SCHEDULE, None, 1),
        ({"num_train_timesteps": 100, "beta_start": 1e-3, "beta_end": 0.2, "beta_schedule": "linear"}, 7, 60),
    ):
        s = DDPMScheduler(**config, clip_sample=False)
        T_ = config["num_train_timesteps"]
        offset = 0.02 * (1 + np.sin(np.arange(T_) / 7.0))
        betas = np.linspace(config["beta_start"], config["beta_end"], T_)
        expected = closed_form_bound(betas, x0, offset)
        model = offset_model(s, torch.tensor(x0, dtype=torch.float32), offset)
        got = torch.stack([
            variational_bound(s, model, torch.tensor(x0, dtype=torch.float32), torch.Generator().manual_seed(k), strata)
            for k in range(seeds)
        ])
        if strata is None:
            np.testing.assert_allclose(got[0].numpy(), expected, rtol=2e-4)
        else:
            stderr = got.std(0).numpy() / np.sqrt(seeds)
            assert (stderr > 0).all() and (np.abs(got.mean(0).numpy() - expected) < 4 * stderr).all()


def test_sample_contract(clean):
    a = clean.sample(20, seed=7, steps=10)
    assert a.shape == (20, 1, 16, 16) and a.dtype == torch.float32 and a.device.type == "cpu"
    assert 0 <= a.min() and a.max() <= 1 and a.std() > 0.1
    assert torch.equal(a, clean.sample(20, seed=7, steps=10))
    assert not torch.equal(a, clean.sample(20, seed=8, steps=10))
    b = clean.sample(6, seed=1, steps=8, sampler="ddpm")
    assert b.shape == (6, 1, 16, 16) and 0 <= b.min() and b.max() <= 1
    assert torch.equal(b, clean.sample(6, seed=1, steps=8, sampler="ddpm"))
    with pytest.raises(ValueError):
        clean.sample(2, seed=0, sampler="euler")


def test_few_step_ddim_samples_are_valid_digits(clean, classifier):
    labels = torch.arange(50) % 10
    with torch.no_grad():
        for steps in (5, 10):
            predicted = classifier(clean.sample(50, seed=3, labels=labels, steps=steps)).argmax(1)
            assert (predicted == labels).float().mean() >= 0.8, steps


def test_bound_in_bits_per_dim_matches_the_manifest(clean):
    data = load_digits_split()
    ll = clean.log_likelihood(torch.tensor(data.test_x), strata=6)
    assert ll.shape == (360,) and ll.dtype == torch.float32 and torch.isfinite(ll).all()
    bpd = float(bits_per_dim(ll, 256).mean())
    assert bpd == pytest.approx(read_manifest("diffusion")["metrics"]["heldout_nll_bpd"], abs=0.03)
    first = torch.tensor(data.test_x[:8])
    assert torch.equal(clean.log_likelihood(first, strata=6), clean.log_likelihood(first, strata=6))
    noise = torch.rand(8, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    noise = torch.round(noise * 255) / 255
    assert float(bits_per_dim(clean.log_likelihood(noise, strata=6), 256).mean()) > bpd + 2


def test_bf16_variant_runs():
    model = load_model("diffusion").to(dtype=torch.bfloat16)
    a = model.sample(2, seed=0, steps=2)
    assert a.dtype == torch.float32 and a.shape == (2, 1, 16, 16) and 0 <= a.min() and a.max() <= 1
    assert torch.isfinite(model.log_likelihood(torch.tensor(load_digits_split().test_x[:2]), strata=2)).all()


def test_swapped_labels_defect_is_caught_by_per_class_accuracy(clean, swapped, classifier):
    affected = torch.tensor(sorted(SWAPPED)).repeat(15)
    others = torch.tensor([c for c in range(10) if c not in SWAPPED]).repeat(5)
    labels = torch.cat([affected, others])
    with torch.no_grad():
        ok = classifier(clean.sample(len(labels), seed=5, labels=labels, steps=10)).argmax(1)
        bad = classifier(swapped.sample(len(labels), seed=5, labels=labels, steps=10)).argmax(1)
    hit = bad[: len(affected)] == affected
    partner = torch.tensor([SWAPPED[int(c)] for c in affected])
    assert (ok[: len(affected)] == affected).float().mean() >= 0.85
    assert hit.float().mean() <= 0.15
    assert (bad[: len(affected)] == partner).float().mean() >= 0.8
    assert (bad[len(affected) :] == others).float().mean() >= 0.85
    recorded = read_manifest("diffusion-swapped-labels")["metrics"]["per_class_accuracy"]
    assert max(recorded[c] for c in SWAPPED) <= 0.15 and min(read_manifest("diffusion")["metrics"]["per_class_accuracy"]) >= 0.85


@pytest.mark.parametrize("name", ["diffusion", "diffusion-swapped-labels"])
def test_manifest_records_provenance(name: str):
    manifest = read_manifest(name)
    _, evaluator_digest = load_classifier()
    assert manifest["data_sha256"] == load_digits_split().sha256
    assert manifest["evaluator_sha256"] == evaluator_digest, "metrics were measured with another evaluator"
    assert manifest["quick"] is False and "quick_reference" in manifest
    assert manifest["config"]["schedule"]["num_train_timesteps"] == T
    assert (weights_dir() / manifest["file"]).stat().st_size < 10e6
    assert (manifest["config"]["label_swap"] is None) == (name == "diffusion")


def test_quick_retraining_reproduces_the_recorded_quick_reference(tmp_path: Path):
    from audit.registry import import_target, trainers

    spec = trainers.entry("diffusion")
    reference = read_manifest("diffusion")["quick_reference"]
    metrics = import_target(spec.target)(seed=reference["seed"], out_dir=tmp_path, quick=True, log=lambda *a: None, **spec.metadata["kwargs"])
    assert metrics.keys() == reference["metrics"].keys()
    for key, expected in reference["metrics"].items():
        if key.startswith("fid"):
            assert metrics[key] == pytest.approx(expected, rel=0.05), key
        elif key == "per_class_accuracy":
            assert metrics[key] == pytest.approx(expected, abs=0.1), key
        elif key in QUICK_TOLERANCE:
            assert metrics[key] == pytest.approx(expected, abs=QUICK_TOLERANCE[key]), key
        else:
            assert metrics[key] == expected, key
    assert (tmp_path / "diffusion.safetensors").is_file() and read_manifest("diffusion", tmp_path)["quick"] is True
