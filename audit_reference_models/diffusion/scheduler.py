"""Noise schedules as pure arithmetic: they never see the network (the diffusers design).

Timesteps are 0-based: `t` in 0..T-1 and `alphas_cumprod[t] = prod_{s<=t} (1 - beta_s)`;
"t = -1" is the clean image (alpha-bar 1). Both schedulers share the forward process
(`add_noise`, `posterior`); they differ only in `step`, so swapping DDPM for DDIM swaps
one object. Arithmetic runs in float32 on the sample's device, from float64 tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

VARIANCE_TYPES = ("fixed_small", "fixed_large")


def make_betas(num_train_timesteps: int, beta_start: float, beta_end: float, beta_schedule: str) -> torch.Tensor:
    """Per-step noise variances as float64 [T]: Ho et al.'s "linear" or Nichol & Dhariwal's "cosine"."""
    if beta_schedule == "linear":
        return torch.linspace(beta_start, beta_end, num_train_timesteps, dtype=torch.float64)
    if beta_schedule == "cosine":
        s = 0.008
        steps = torch.arange(num_train_timesteps + 1, dtype=torch.float64) / num_train_timesteps
        f = torch.cos((steps + s) / (1 + s) * math.pi / 2) ** 2
        return (1 - f[1:] / f[:-1]).clamp(max=0.999)
    raise ValueError(f"unknown beta_schedule '{beta_schedule}'; expected 'linear' or 'cosine'")


@dataclass
class StepOutput:
    """x_{t_prev} and the model's estimate of the clean image x_0."""

    prev_sample: torch.Tensor
    pred_original_sample: torch.Tensor


def _bcast(values: torch.Tensor, t: torch.Tensor | int, like: torch.Tensor) -> torch.Tensor:
    """values[t] as float32 on like's device, shaped to broadcast against like ([N,1,1,1] or scalar)."""
    index = torch.as_tensor(t, dtype=torch.long).cpu()
    out = values[index].to(device=like.device, dtype=torch.float32)
    return out.reshape(-1, *([1] * (like.ndim - 1))) if out.ndim else out


class NoiseScheduler:
    """The forward process q(x_t | x_0) and its posterior; subclasses define the reverse `step`."""

    def __init__(
        self,
        num_train_timesteps: int = 1000,
        beta_start: float = 1e-4,
        beta_end: float = 0.02,
        beta_schedule: str = "linear",
        clip_sample: bool = True,
        variance_type: str = "fixed_small",
    ) -> None:
        if variance_type not in VARIANCE_TYPES:
            raise ValueError(f"unknown variance_type '{variance_type}'; expected one of {VARIANCE_TYPES}")
        self.num_train_timesteps = num_train_timesteps
        self.variance_type = variance_type
        self.beta_schedule = beta_schedule
        self.clip_sample = clip_sample
        self.betas = make_betas(num_train_timesteps, beta_start, beta_end, beta_schedule)
        log_abar = torch.cumsum(torch.log1p(-self.betas), dim=0)
        self.alphas_cumprod = log_abar.exp()
        self.alphas_cumprod_prev = torch.cat([torch.ones(1, dtype=torch.float64), self.alphas_cumprod[:-1]])
        # float64 tables: 1 - abar is ~1e-4 at small t, where float32 arithmetic would lose digits.
        one_minus = -torch.expm1(log_abar)
        one_minus_prev = torch.cat([torch.zeros(1, dtype=torch.float64), one_minus[:-1]])
        self.sqrt_alphas_cumprod = self.alphas_cumprod.sqrt()
        self.one_minus_alphas_cumprod = one_minus
        self.sqrt_one_minus_alphas_cumprod = one_minus.sqrt()
        self.posterior_mean_coef_x0 = self.alphas_cumprod_prev.sqrt() * self.betas / one_minus
        self.posterior_mean_coef_xt = (1 - self.betas).sqrt() * one_minus_prev / one_minus
        self.posterior_variance = one_minus_prev / one_minus * self.betas
        # Variance of p(x_{t-1} | x_t) on the full chain. At t = 0 (the decoder) the posterior
        # variance is 0, so both types use that of t = 1 (as in Nichol & Dhariwal's code).
        reverse = self.posterior_variance if variance_type == "fixed_small" else self.betas.clone()
        self.reverse_variance = torch.cat([self.posterior_variance[1:2], reverse[1:]])
        self.set_timesteps(num_train_timesteps)

    def set_timesteps(self, num_inference_steps: int) -> None:
        """Evenly spaced descending timesteps ending near 0 and starting at T-1 ("trailing" spacing)."""
        if not 1 <= num_inference_steps <= self.num_train_timesteps:
            raise ValueError(f"num_inference_steps must be in 1..{self.num_train_timesteps}, got {num_inference_steps}")
        T = self.num_train_timesteps
        steps = torch.round(torch.arange(T, 0, -T / num_inference_steps, dtype=torch.float64)).long() - 1
        self.num_inference_steps = num_inference_steps
        self.timesteps = steps
        self._prev = dict(zip(steps.tolist(), steps[1:].tolist() + [-1]))

    def previous_timestep(self, t: int) -> int:
        """The timestep after `t` in the current schedule; -1 means the clean image."""
        return self._prev[int(t)]

    def alpha_bar(self, t: int) -> float:
        return 1.0 if t < 0 else float(self.alphas_cumprod[t])

    def one_minus_alpha_bar(self, t: int) -> float:
        return 0.0 if t < 0 else float(self.one_minus_alphas_cumprod[t])

    def add_noise(self, original: torch.Tensor, noise: torch.Tensor, t: torch.Tensor | int) -> torch.Tensor:
        """Sample q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I) with the given noise."""
        return _bcast(self.sqrt_alphas_cumprod, t, original) * original + _bcast(self.sqrt_one_minus_alphas_cumprod, t, original) * noise

    def original_from_noise(self, model_output: torch.Tensor, t: torch.Tensor | int, x_t: torch.Tensor) -> torch.Tensor:
        """x_0 from an epsilon prediction: (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t)."""
        return (x_t - _bcast(self.sqrt_one_minus_alphas_cumprod, t, x_t) * model_output) / _bcast(self.sqrt_alphas_cumprod, t, x_t)

    def posterior(self, original: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor | int) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and variance of q(x_{t-1} | x_t, x_0) for one training step (t >= 1 for a
        non-degenerate variance; at t = 0 the variance is 0)."""
        mean = _bcast(self.posterior_mean_coef_x0, t, x_t) * original + _bcast(self.posterior_mean_coef_xt, t, x_t) * x_t
        return mean, _bcast(self.posterior_variance, t, x_t)

    def step(self, model_output: torch.Tensor, t: int, x_t: torch.Tensor, generator: torch.Generator | None = None) -> StepOutput:
        raise NotImplementedError

    def pred_original(self, model_output: torch.Tensor, t: torch.Tensor | int, x_t: torch.Tensor) -> torch.Tensor:
        """The x_0 estimate the reverse process uses: clipped to [-1, 1] when `clip_sample`."""
        x0 = self.original_from_noise(model_output, t, x_t)
        return x0.clamp(-1, 1) if self.clip_sample else x0


class DDPMScheduler(NoiseScheduler):
    """Ancestral sampling (Ho et al., 2020) on the current timesteps; with fewer steps than T
    it uses the respaced betas 1 - abar_t / abar_prev (Nichol & Dhariwal, 2021)."""

    def step_coefficients(self, t: int) -> tuple[float, float, float]:
        """(coef of x_0, coef of x_t, variance) of p(x_prev | x_t) for the current schedule."""
        prev = self.previous_timestep(t)
        abar, abar_prev = self.alpha_bar(t), self.alpha_bar(prev)
        one_minus, one_minus_prev = self.one_minus_alpha_bar(t), self.one_minus_alpha_bar(prev)
        beta = 1 - abar / abar_prev
        coef_x0 = math.sqrt(abar_prev) * beta / one_minus
        coef_xt = math.sqrt(1 - beta) * one_minus_prev / one_minus
        variance = one_minus_prev / one_minus * beta if self.variance_type == "fixed_small" else beta
        return coef_x0, coef_xt, variance

    def step(self, model_output: torch.Tensor, t: int, x_t: torch.Tensor, generator: torch.Generator | None = None) -> StepOutput:
        x0 = self.pred_original(model_output, t, x_t)
        coef_x0, coef_xt, variance = self.step_coefficients(t)
        mean = coef_x0 * x0 + coef_xt * x_t
        if self.previous_timestep(t) < 0:
            return StepOutput(mean, x0)
        noise = torch.randn(x_t.shape, generator=generator, dtype=torch.float32).to(x_t.device)
        return StepOutput(mean + math.sqrt(variance) * noise, x0)


class DDIMScheduler(NoiseScheduler):
    """Deterministic DDIM (Song et al., 2021, eta = 0): x_prev = sqrt(abar_prev) x0 + sqrt(1 - abar_prev) eps."""

    def step(self, model_output: torch.Tensor, t: int, x_t: torch.Tensor, generator: torch.Generator | None = None) -> StepOutput:
        x0 = self.pred_original(model_output, t, x_t)
        eps = (x_t - math.sqrt(self.alpha_bar(t)) * x0) / math.sqrt(self.one_minus_alpha_bar(t))
        prev = self.previous_timestep(t)
        return StepOutput(math.sqrt(self.alpha_bar(prev)) * x0 + math.sqrt(self.one_minus_alpha_bar(prev)) * eps, x0)


SCHEDULERS = {"ddpm": DDPMScheduler, "ddim": DDIMScheduler}


def make_scheduler(kind: str, **config: object) -> NoiseScheduler:
    """A scheduler by name ("ddpm" or "ddim") with the training schedule's config."""
    if kind not in SCHEDULERS:
        raise ValueError(f"unknown sampler '{kind}'; expected one of {sorted(SCHEDULERS)}")
    return SCHEDULERS[kind](**config)
