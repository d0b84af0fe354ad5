"""The image contract of `sample()`, checked: a finite float tensor [N, C, H, W] in [0, 1].

Run time (the sample cache, checks that sample themselves) and plan time (a TorchScript
generator's probe batch) apply the same test, so it lives beside the adapter contract.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from audit.errors import ModelOutputError

if TYPE_CHECKING:
    import numpy as np
    import torch

RANGE_TOLERANCE = 1e-3
"""How far outside [0, 1] a pixel may stray (float rounding) before the batch breaks the contract."""


def validate_images(model: str, images: Any, n: int, call: str = "sample()") -> None:
    """Raise ModelOutputError unless `images` is a finite float tensor [n, C, H, W] in [0, 1]. A
    subclass of torch.Tensor is refused: its `__torch_function__` can answer `min`, `max` and
    `isfinite` with whatever it likes (one made [-1, 1] images pass as [0, 1])."""
    import torch

    said = f"model '{model}' {call}"
    if not isinstance(images, torch.Tensor):
        raise ModelOutputError(f"{said} returned {type(images).__name__}, expected a torch.Tensor")
    if type(images) is not torch.Tensor:
        raise ModelOutputError(f"{said} returned a {type(images).__name__} (a torch.Tensor subclass), expected a plain torch.Tensor")
    if images.ndim != 4 or images.shape[0] != n:
        raise ModelOutputError(f"{said} returned shape {tuple(images.shape)} for {n} images, expected [{n}, C, H, W]")
    if not images.is_floating_point():
        raise ModelOutputError(f"{said} returned dtype {images.dtype}, expected a float tensor")
    bad = (~torch.isfinite(images)).sum().item()
    if bad:
        raise ModelOutputError(f"{said} returned {bad} non-finite values (NaN or inf) in {n} images")
    low, high = images.min().item(), images.max().item()
    if low < -RANGE_TOLERANCE or high > 1 + RANGE_TOLERANCE:
        raise ModelOutputError(f"{said} returned values in [{low:.3g}, {high:.3g}], expected [0, 1]")


def per_image_scores(model: str, method: str, scores: Any, n: int) -> "np.ndarray":
    """A model's one number per image (`elbo`, `log_likelihood`, `denoising_loss` of n images) as
    float64 [n], or ModelOutputError: a plain tensor or array of n finite values ([n] or [n, 1]).
    A batch mean (a 0-d tensor) would otherwise be read as one image's score, every CI of width
    0 and a membership attack judged on 1 member against 1 non-member."""
    import numpy as np
    import torch

    if type(scores) is torch.Tensor:
        values = scores.detach().to("cpu", torch.float64).numpy()
    elif type(scores) is np.ndarray and scores.dtype.kind in "fiu":
        values = scores.astype(np.float64)
    else:
        raise ModelOutputError(f"model '{model}' {method}() returned {type(scores).__name__}, expected a torch.Tensor [{n}]")
    if values.shape not in ((n,), (n, 1)):
        raise ModelOutputError(f"model '{model}' {method}() of {n} images returned shape {tuple(values.shape)}, "
                               f"expected [{n}] (one value per image)")
    values = values.reshape(n)
    bad = int((~np.isfinite(values)).sum())
    if bad:
        raise ModelOutputError(f"model '{model}' {method}() returned {bad} non-finite values for {n} images")
    return values


def posterior_mean(model: str, adapter: Any, images: "torch.Tensor") -> "torch.Tensor":
    """encode(images)'s latent as a float tensor with one row per image: the tensor itself, or the
    first item where encode returns a tuple (mu, logvar), as the contract allows. Taking `[0]` of
    a plain tensor would read the first image's latent as the whole batch's."""
    import torch

    code = adapter.encode(images)
    latent = code[0] if isinstance(code, (tuple, list)) and code else code
    if type(latent) is not torch.Tensor or not latent.is_floating_point() or latent.ndim < 2 or latent.shape[0] != len(images):
        raise ModelOutputError(f"model '{model}' encode() of {len(images)} images returned {type(latent).__name__} "
                               f"{tuple(getattr(latent, 'shape', ()))}, expected a float latent with {len(images)} rows")
    if not bool(torch.isfinite(latent).all()):
        raise ModelOutputError(f"model '{model}' encode() returned non-finite latents")
    return latent.detach().float()


def decoded_images(model: str, call: str, images: Any, n: int) -> "torch.Tensor":
    """Images a decoder returned (`decode(z)`, `sample(z=...)`), checked as `validate_images` checks
    samples, as an owned float32 CPU copy."""
    validate_images(model, images, n, call)
    return owned_images(images)


def owned_images(images: "torch.Tensor") -> "torch.Tensor":
    """A float32 CPU copy of a model's images that the model can no longer change: a model may
    return a buffer it reuses and overwrites on its next call (as CUDA-graph and other
    preallocated pipelines do), which would change samples already kept or gathered."""
    import torch

    return images.detach().to("cpu", torch.float32, copy=True)


__all__ = ["RANGE_TOLERANCE", "decoded_images", "owned_images", "per_image_scores", "posterior_mean", "validate_images"]
