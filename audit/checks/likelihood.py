"""Likelihood and latent-space checks for VAEs and diffusion models, on held-out real images.

Images come from the run's reference (`ctx.reference`: the digits split for the bundled
models): the held-out split is what the model never saw; the same number of training images
is measured beside it, so a model that memorised its training set shows a gap. Bits per
dimension: bpd = -log p(x) / (D ln 2), D = pixels x channels (256 for 16x16 digits), from the
adapter's nats per image. Torch is imported only inside functions so listing checks stays cheap.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from audit.adapters.base import ELBO, ENCODE_DECODE, LOG_LIKELIHOOD, accepts
from audit.adapters.images import per_image_scores, posterior_mean
from audit.checks.base import Measurement, check
from audit.context import CheckContext, finite_or_raise
from audit.errors import ModelOutputError
from audit.families import get_family
from audit.stats import bootstrap_ci

IWAE_K = 64
INTERPOLATION_PAIRS = 100
INTERPOLATION_STEPS = 16


def _mean(x: np.ndarray) -> float:
    return float(np.mean(x))


def _images(ctx: CheckContext, split: str, count: int) -> Any:
    """The first `count` images of the reference's held-out (`test`) or `train` split, as float32."""
    import torch

    ref = ctx.reference
    x = ref.test_x if split == "test" else ref.train_x
    return torch.tensor(np.asarray(x[:count]), dtype=torch.float32)


def _count(ctx: CheckContext, n: int | None, default: int | None, split: str = "test") -> int:
    """Images to use: `n` if given, else `default` (None: the whole split) capped by the run's n;
    never more than the split holds."""
    ref = ctx.reference
    available = len(ref.test_x if split == "test" else ref.train_x)
    count = min(int(n) if n is not None else min(default or available, ctx.n), available)
    if count < 2:
        raise ValueError(f"need at least 2 {split} images, got {count}")
    return count


def nats_to_bpd(nats: np.ndarray, dims: int) -> np.ndarray:
    """Log-likelihoods in nats per image -> negative log-likelihood in bits per dimension."""
    return -np.asarray(nats, dtype=np.float64) / (dims * math.log(2))


def _bpd(ctx: CheckContext, name: str, score: Any, images: Any, **kwargs: Any) -> np.ndarray:
    """Bits/dim of each of `images` from the model's `name` method (`score`: nats per image)."""
    nats = per_image_scores(ctx.model, name, score(images, **kwargs), len(images))
    values = nats_to_bpd(nats, int(np.prod(images.shape[1:])))
    bad = int((~np.isfinite(values)).sum())
    if bad:
        raise ModelOutputError(f"model '{ctx.model}' {name} returned {bad} values that are not finite in bits/dim")
    return values



def _bpd_summary(ctx: CheckContext, salt: str, heldout: np.ndarray, train: np.ndarray | None) -> tuple[float, float, float, dict]:
    value = finite_or_raise(salt, _mean(heldout))
    low, high = bootstrap_ci(_mean, [heldout], ctx.bootstrap, ctx.rng_seed(salt))
    details: dict[str, Any] = {"heldout_images": len(heldout), "ci": "bootstrap over held-out images (mean bits/dim)"}
    if train is not None and len(train):
        details["train_bpd"] = _mean(train)
        details["train_images"] = len(train)
        details["generalization_gap_bpd"] = value - _mean(train)
        details["gap_note"] = "held-out minus train bits/dim on as many training images: large = memorisation"
    return value, low, high, details


@check("quality.elbo_bpd", families=("vae",), needs=(ELBO,), higher_is_better=False, unit="bits/dim")
def elbo_bpd(ctx: CheckContext, n: int | None = None, draws: int | None = None) -> Measurement:
    """Held-out negative ELBO in bits/dim (an upper bound on the NLL; bootstrap CI over images)."""
    elbo = ctx.adapter.elbo
    count = _count(ctx, n, None)
    kwargs = {"k": int(draws)} if draws is not None else {}
    x = _images(ctx, "test", count)
    dims = int(np.prod(x.shape[1:]))
    heldout = _bpd(ctx, "elbo", elbo, x, **kwargs)
    train = _bpd(ctx, "elbo", elbo, _images(ctx, "train", count), **kwargs)
    value, low, high, details = _bpd_summary(ctx, "quality.elbo_bpd", heldout, train)
    details.update({"estimator": "negative ELBO: -E_q[log p(x|z) + log p(z) - log q(z|x)], bits/dim = -nats / (D ln 2)",
                    "dims": dims, "posterior_draws": kwargs.get("k", "adapter default")})
    return Measurement(value, low, high, n=count, details=details)


@check("quality.nll_bpd", families=("vae", "diffusion"), needs=(LOG_LIKELIHOOD,), higher_is_better=False, unit="bits/dim")
def nll_bpd(ctx: CheckContext, n: int | None = None, train_n: int | None = None, k: int = IWAE_K) -> Measurement:
    """Held-out negative log-likelihood in bits/dim: IWAE (k=64) for a VAE, the variational bound for diffusion."""
    family = get_family(ctx.adapter.info.family)
    bound = family.likelihood_bound  # a costly Monte Carlo bound: fewer images, no training split by default
    count = _count(ctx, n, family.bound_images if bound else None)
    train_count = (0 if bound else count) if train_n is None else min(int(train_n), len(ctx.reference.train_x))
    fn = ctx.adapter.log_likelihood
    kwargs: dict[str, Any] = {}
    if not bound and accepts(fn, "k"):
        if k < 64:
            raise ValueError(f"quality.nll_bpd needs k >= 64 importance samples, got {k}")
        kwargs["k"] = int(k)
    x = _images(ctx, "test", count)
    dims = int(np.prod(x.shape[1:]))
    heldout = _bpd(ctx, "log_likelihood", fn, x, **kwargs)
    train = _bpd(ctx, "log_likelihood", fn, _images(ctx, "train", train_count), **kwargs) if train_count else None
    value, low, high, details = _bpd_summary(ctx, "quality.nll_bpd", heldout, train)
    if bound:
        details["estimator"] = bound
    elif "k" in kwargs:
        details["estimator"] = (f"IWAE with k={kwargs['k']} importance samples: -log p(x) estimated from above "
                                "(a lower bound on log p(x) in expectation, tighter than the ELBO)")
    else:
        details["estimator"] = "the adapter's log_likelihood(x) (a bound where exact is intractable)"
    details["is_bound"] = bool(bound or "k" in kwargs)
    details["dims"] = dims
    return Measurement(value, low, high, n=count, details=details)


def _posterior_mean(ctx: CheckContext, split: str, count: int) -> Any:
    """encode(x)'s mean (the first element when encode returns (mu, logvar)), memoised per run."""

    def compute() -> Any:
        return posterior_mean(ctx.model, ctx.adapter, _images(ctx, split, count))

    return ctx.memo("vae.posterior_mean", compute, split, count)


@check("quality.reconstruction_error", families=("vae",), needs=(ENCODE_DECODE,), higher_is_better=False, unit="MSE/pixel")
def reconstruction_error(ctx: CheckContext, n: int | None = None) -> Measurement:
    """Held-out mean squared error per pixel of decode(posterior mean) (bootstrap CI over images)."""
    count = _count(ctx, n, None)
    per_image = {}
    for split in ("test", "train"):
        x = _images(ctx, split, count)
        recon = ctx.adapter.decode(_posterior_mean(ctx, split, count)).float().cpu()
        if recon.shape != x.shape:
            raise ModelOutputError(f"model '{ctx.model}' decode(encode(x)) has shape {tuple(recon.shape)}, expected {tuple(x.shape)}")
        per_image[split] = (recon.double() - x.double()).pow(2).flatten(1).mean(1).numpy()
    heldout = per_image["test"]
    value = finite_or_raise("reconstruction MSE", _mean(heldout))
    low, high = bootstrap_ci(_mean, [heldout], ctx.bootstrap, ctx.rng_seed("quality.reconstruction_error"))
    return Measurement(
        value, low, high, n=count,
        details={"definition": "mean over held-out images of mean_pixels (decode(mu(x)) - x)^2, pixels in [0, 1]",
                 "train_mse": _mean(per_image["train"]), "train_images": count,
                 "psnr_db": float(10 * np.log10(1.0 / value)) if value > 0 else None,
                 "ci": "bootstrap over held-out images"},
    )


def interpolation_ratios(steps_distance: np.ndarray) -> np.ndarray:
    """Per path: max step distance / mean step distance (1 = even steps; `segments` = all the
    change in one step). `steps_distance` is [paths, segments]; a path that does not move is nan."""
    mean = steps_distance.mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mean > 0, steps_distance.max(axis=1) / mean, np.nan)


@check("quality.interpolation_smoothness", families=("vae",), needs=(ENCODE_DECODE,), higher_is_better=False, unit="max/mean step")
def interpolation_smoothness(ctx: CheckContext, pairs: int = INTERPOLATION_PAIRS, steps: int = INTERPOLATION_STEPS) -> Measurement:
    """Evenness of decoded linear latent interpolations between held-out pairs: max step / mean step in evaluator features (1 = even)."""
    import torch

    if steps < 2:
        raise ValueError(f"quality.interpolation_smoothness needs steps >= 2, got {steps}")
    available = len(ctx.reference.test_x)
    pairs = min(int(pairs), available // 2)
    if pairs < 2:
        raise ValueError(f"need at least 2 pairs of held-out images, got {pairs}")
    z = _posterior_mean(ctx, "test", available)
    order = np.random.default_rng(ctx.rng_seed("interpolation-pairs")).permutation(available)[: 2 * pairs]
    za, zb = z[order[0::2]], z[order[1::2]]
    t = torch.linspace(0, 1, steps + 1, dtype=za.dtype)
    path = (1 - t)[None, :, None] * za[:, None] + t[None, :, None] * zb[:, None]  # [pairs, steps+1, latent]
    images = ctx.adapter.decode(path.reshape(-1, za.shape[1])).float().cpu()
    features = ctx.store.evaluator.embed(images).features.reshape(pairs, steps + 1, -1)
    pixels = images.double().numpy().reshape(pairs, steps + 1, -1)
    feat_ratio = interpolation_ratios(np.linalg.norm(np.diff(features, axis=1), axis=2))
    pix_ratio = interpolation_ratios(np.linalg.norm(np.diff(pixels, axis=1), axis=2))
    valid = feat_ratio[np.isfinite(feat_ratio)]
    if len(valid) < 2:
        raise ModelOutputError(f"model '{ctx.model}' decodes latent interpolations to unchanging images")
    value = _mean(valid)
    low, high = bootstrap_ci(_mean, [valid], ctx.bootstrap, ctx.rng_seed("quality.interpolation_smoothness"))
    pix_valid = pix_ratio[np.isfinite(pix_ratio)]
    return Measurement(
        value, low, high, n=len(valid),
        details={
            "definition": (f"for each held-out pair, z = (1-t) mu(a) + t mu(b) at {steps + 1} evenly spaced t, decoded; "
                           "d_j = L2 distance between consecutive decoded images in evaluator-feature space; "
                           f"ratio = max_j d_j / mean_j d_j, from 1 (even steps) to {steps} (one jump); mean over pairs"),
            "pairs": pairs, "steps": steps, "pixel_space_ratio": _mean(pix_valid) if len(pix_valid) else None,
            "pairs_without_change": int(pairs - len(valid)), "ci": "bootstrap over pairs",
        },
    )
