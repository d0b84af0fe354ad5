"""The image contract of `sample()`, checked: a finite float tensor [N, C, H, W] in [0, 1].

Run time (the sample cache, checks that sample themselves) and plan time (a TorchScript
generator's probe batch) apply the same test, so it lives beside the adapter contract.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from audit.errors import ModelOutputError

if TYPE_CHECKING:
    import torch

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


def owned_images(images: "torch.Tensor") -> "torch.Tensor":
    """A float32 CPU copy of a model's images that the model can no longer change: a model may
    return a buffer it reuses and overwrites on its next call (as CUDA-graph and other
    preallocated pipelines do), which would change samples already kept or gathered."""
    import torch

    return images.detach().to("cpu", torch.float32, copy=True)


__all__ = ["RANGE_TOLERANCE", "owned_images", "validate_images"]
