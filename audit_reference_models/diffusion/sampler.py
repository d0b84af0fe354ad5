"""The reverse-process loop: the one place where the network meets a scheduler."""

from __future__ import annotations

import torch

from audit_reference_models.diffusion.likelihood import EpsFn
from audit_reference_models.diffusion.scheduler import NoiseScheduler


@torch.inference_mode()
def denoise(eps_fn: EpsFn, scheduler: NoiseScheduler, x_T: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Run `scheduler`'s timesteps from the noise x_T down to x_0 (in [-1, 1] when clipping)."""
    x = x_T
    for t in scheduler.timesteps.tolist():
        t_batch = torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)
        x = scheduler.step(eps_fn(x, t_batch).float(), t, x, generator).prev_sample
    return x
