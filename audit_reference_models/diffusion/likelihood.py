"""The DDPM variational bound on log p(x) in nats (Ho et al., 2020, eq. 5):

    log p(x_0) >= log p(x_0 | x_1) - sum_{t>1} KL(q(x_{t-1} | x_t, x_0) || p(x_{t-1} | x_t))
                  - KL(q(x_T | x_0) || N(0, I))

with a discretized Gaussian decoder over the 256 8-bit levels. The T-1 KL terms are estimated
by stratified Monte Carlo over timesteps (one uniform draw in each of `strata` log-spaced bins,
weighted by the bin size: unbiased, and with the dominant small-t terms exact; `strata=None`
evaluates every timestep, i.e. exact up to the one noise draw per term that the bound's
expectation always needs). The decoder and prior
terms are always exact. The maths is pure functions of tensors; the network enters only as
`eps_fn(x_t, t) -> predicted noise`.
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from audit_reference_models.diffusion.scheduler import NoiseScheduler

EpsFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

BINS = 256


def normal_kl(mean1: torch.Tensor, var1: torch.Tensor, mean2: torch.Tensor, var2: torch.Tensor) -> torch.Tensor:
    """Elementwise KL(N(mean1, var1) || N(mean2, var2)) in nats."""
    return 0.5 * (torch.log(var2) - torch.log(var1) + (var1 + (mean1 - mean2) ** 2) / var2 - 1)


def _log_sub_exp(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """log(exp(a) - exp(b)) for a >= b, without cancellation when both are small."""
    return a + torch.log(-torch.expm1((b - a).clamp(max=-1e-300)))


def discretized_gaussian_log_likelihood(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, bins: int = BINS) -> torch.Tensor:
    """Elementwise log P(x's bin) under N(mean, std^2), for x on the `bins` levels spanning [-1, 1].

    Each level owns [x - 1/(bins-1), x + 1/(bins-1)]; the end levels extend to -inf / +inf.
    Computed in float64 with log-CDFs on the tail side, so it stays finite far from the mean.
    """
    x, mean, std = (v.double() for v in torch.broadcast_tensors(x, mean, std))
    half = 1.0 / (bins - 1)
    lower, upper = (x - half - mean) / std, (x + half - mean) / std
    left = _log_sub_exp(torch.special.log_ndtr(upper), torch.special.log_ndtr(lower))
    right = _log_sub_exp(torch.special.log_ndtr(-lower), torch.special.log_ndtr(-upper))
    middle = torch.where(lower > 0, right, left)
    edge = 1 - half / 2
    out = torch.where(x < -edge, torch.special.log_ndtr(upper), middle)
    return torch.where(x > edge, torch.special.log_ndtr(-lower), out)


def prior_kl(scheduler: NoiseScheduler, x0: torch.Tensor) -> torch.Tensor:
    """KL(q(x_T | x_0) || N(0, I)) per image, in nats (no network involved)."""
    abar = scheduler.alpha_bar(scheduler.num_train_timesteps - 1)
    var = torch.full_like(x0, 1 - abar, dtype=torch.float64)
    one = torch.ones_like(var)
    return normal_kl(math.sqrt(abar) * x0.double(), var, torch.zeros_like(var), one).flatten(1).sum(1)


def vb_term(scheduler: NoiseScheduler, eps_fn: EpsFn, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Per-image term of the bound at timesteps t [N] (nats, as a positive loss): the decoder's
    negative log-likelihood where t = 0, KL(q(x_{t-1} | x_t, x_0) || p(x_{t-1} | x_t)) elsewhere."""
    x_t = scheduler.add_noise(x0, noise, t)
    x0_hat = scheduler.pred_original(eps_fn(x_t, t).float(), t, x_t)
    model_mean, _ = scheduler.posterior(x0_hat, x_t, t)
    true_mean, true_var = scheduler.posterior(x0, x_t, t)
    model_var = scheduler.reverse_variance[t].to(x0.device).view(-1, 1, 1, 1).expand_as(x0)
    kl = normal_kl(true_mean.double(), true_var.double().expand_as(x0), model_mean.double(), model_var).flatten(1).sum(1)
    nll = -discretized_gaussian_log_likelihood(x0, model_mean, model_var.sqrt()).flatten(1).sum(1)
    return torch.where(t.to(x0.device) == 0, nll, kl)


def strata_bounds(num_train_timesteps: int, strata: int | None) -> list[tuple[int, int]]:
    """[lo, hi) bins that partition timesteps 1..T-1, log-spaced: the terms fall roughly like
    1/t, so the smallest timesteps (most of the bound) get bins of one step, i.e. exact terms.
    `strata` bins are asked for (fewer after merging duplicate edges); None: one per timestep."""
    T = num_train_timesteps
    if strata is None or strata >= T - 1:
        return [(t, t + 1) for t in range(1, T)]
    edges = sorted(set(torch.logspace(0, math.log10(T), strata + 1, dtype=torch.float64).round().long().tolist()))
    return list(zip(edges[:-1], edges[1:]))


@torch.inference_mode()
def variational_bound(
    scheduler: NoiseScheduler, eps_fn: EpsFn, x0: torch.Tensor, generator: torch.Generator, strata: int | None = 50
) -> torch.Tensor:
    """Lower bound on log p(x0) per image [N] in nats, float64; x0 on the 8-bit levels of [-1, 1]."""
    n = x0.shape[0]
    total = prior_kl(scheduler, x0)

    def term(t: torch.Tensor) -> torch.Tensor:
        noise = torch.randn(x0.shape, generator=generator).to(x0.device)
        return vb_term(scheduler, eps_fn, x0, t, noise)

    total = total + term(torch.zeros(n, dtype=torch.long))
    for lo, hi in strata_bounds(scheduler.num_train_timesteps, strata):
        t = torch.randint(lo, hi, (n,), generator=generator)
        total = total + (hi - lo) * term(t)
    return -total


def bits_per_dim(log_likelihood_nats: torch.Tensor, dims: int) -> torch.Tensor:
    """Negative log-likelihood in bits per dimension."""
    return -log_likelihood_nats / (dims * math.log(2))
