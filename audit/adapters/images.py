"""The image contract of `sample()`, checked: a finite float tensor [N, C, H, W] in [0, 1].

Run time (the sample cache, checks that sample themselves) and plan time (a TorchScript
generator's probe batch) apply the same test, so it lives beside the adapter contract.
"""

from __future__ import annotations

from typing import Any

from audit.errors import ModelOutputError

RANGE_TOLERANCE = 1e-3
"""How far outside [0, 1] a pixel may stray (float rounding) before the batch breaks the contract."""


def validate_images(model: str, images: Any, n: int) -> None:
    """Raise ModelOutputError unless `images` is a finite float tensor [n, C, H, W] in [0, 1]."""
    import torch

    if not isinstance(images, torch.Tensor):
        raise ModelOutputError(f"model '{model}' sample() returned {type(images).__name__}, expected a torch.Tensor")
    if images.ndim != 4 or images.shape[0] != n:
        raise ModelOutputError(f"model '{model}' sample({n}) returned shape {tuple(images.shape)}, expected [{n}, C, H, W]")
    if not images.is_floating_point():
        raise ModelOutputError(f"model '{model}' sample() returned dtype {images.dtype}, expected a float tensor")
    bad = (~torch.isfinite(images)).sum().item()
    if bad:
        raise ModelOutputError(f"model '{model}' sample() returned {bad} non-finite values (NaN or inf) in {n} images")
    low, high = images.min().item(), images.max().item()
    if low < -RANGE_TOLERANCE or high > 1 + RANGE_TOLERANCE:
        raise ModelOutputError(f"model '{model}' sample() returned values in [{low:.3g}, {high:.3g}], expected [0, 1]")


__all__ = ["RANGE_TOLERANCE", "validate_images"]
