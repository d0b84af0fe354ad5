"""ImageNet-C style corruptions of images [N, C, H, W] in [0, 1], as pure torch functions.

Five corruptions at severities 0..5 (ImageNet-C uses 1..5; 0 is added as the identity: it
returns the input unchanged, exactly). Parameters are scaled for 16x16 digits, chosen so that
the distance to the clean image grows with severity for every corruption:

  gaussian_noise  additive N(0, sigma^2) per pixel, clamped:   sigma  0, .04, .08, .14, .22, .32
  gaussian_blur   separable Gaussian kernel, reflect padding:  sigma  0, .5, .75, 1.0, 1.5, 2.0 px
  occlusion       a square set to 0 (background), seeded random position; side 0, 3, 5, 7, 9, 11 px
  rotation_scale  rotate by theta and shrink by s about the centre, zero fill (bilinear):
                  theta 0, 8, 16, 24, 32, 40 degrees (sign seeded per image), s 1, .95, .9, .85, .8, .75
  contrast        (x - mean) * c + mean, mean per image:      c      1, .7, .5, .35, .2, .1

Random corruptions take a `seed`: the same (images, severity, seed) gives the same output.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    import torch

SEVERITIES = (0, 1, 2, 3, 4, 5)
NOISE_SIGMA = (0.0, 0.04, 0.08, 0.14, 0.22, 0.32)
BLUR_SIGMA = (0.0, 0.5, 0.75, 1.0, 1.5, 2.0)
OCCLUSION_SIDE = (0, 3, 5, 7, 9, 11)
ROTATION_DEG = (0.0, 8.0, 16.0, 24.0, 32.0, 40.0)
SCALE = (1.0, 0.95, 0.9, 0.85, 0.8, 0.75)
CONTRAST = (1.0, 0.7, 0.5, 0.35, 0.2, 0.1)


def _check(x: "torch.Tensor", severity: int) -> None:
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, got {severity}")
    if x.ndim != 4:
        raise ValueError(f"expected images [N, C, H, W], got shape {tuple(x.shape)}")


def _generator(seed: int) -> "torch.Generator":
    import torch

    return torch.Generator().manual_seed(int(seed))


def gaussian_noise(x: "torch.Tensor", severity: int, seed: int = 0) -> "torch.Tensor":
    import torch

    _check(x, severity)
    if severity == 0:
        return x.clone()
    noise = torch.randn(x.shape, generator=_generator(seed), dtype=torch.float32).to(x.dtype)
    return (x + NOISE_SIGMA[severity] * noise).clamp(0, 1)


def gaussian_blur(x: "torch.Tensor", severity: int, seed: int = 0) -> "torch.Tensor":
    import torch
    import torch.nn.functional as F

    _check(x, severity)
    if severity == 0:
        return x.clone()
    sigma = BLUR_SIGMA[severity]
    radius = min(max(1, math.ceil(3 * sigma)), min(x.shape[-2:]) - 1)
    t = torch.arange(-radius, radius + 1, dtype=x.dtype)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    k = k / k.sum()
    c = x.shape[1]
    out = F.pad(x, (radius, radius, 0, 0), mode="reflect")
    out = F.conv2d(out, k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    out = F.pad(out, (0, 0, radius, radius), mode="reflect")
    out = F.conv2d(out, k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)
    return out.clamp(0, 1)


def occlusion(x: "torch.Tensor", severity: int, seed: int = 0) -> "torch.Tensor":
    import torch

    _check(x, severity)
    if severity == 0:
        return x.clone()
    n, _, h, w = x.shape
    side = min(OCCLUSION_SIDE[severity], h, w)
    g = _generator(seed)
    top = torch.randint(0, h - side + 1, (n,), generator=g)
    left = torch.randint(0, w - side + 1, (n,), generator=g)
    rows = torch.arange(h)[None, :]
    cols = torch.arange(w)[None, :]
    in_rows = (rows >= top[:, None]) & (rows < top[:, None] + side)
    in_cols = (cols >= left[:, None]) & (cols < left[:, None] + side)
    mask = (in_rows[:, :, None] & in_cols[:, None, :])[:, None]
    return x.masked_fill(mask, 0.0)


def rotation_scale(x: "torch.Tensor", severity: int, seed: int = 0) -> "torch.Tensor":
    import torch
    import torch.nn.functional as F

    _check(x, severity)
    if severity == 0:
        return x.clone()
    n = x.shape[0]
    sign = torch.randint(0, 2, (n,), generator=_generator(seed)).to(x.dtype) * 2 - 1
    theta = sign * math.radians(ROTATION_DEG[severity])
    inv = 1.0 / SCALE[severity]  # the grid samples the input: a zoom-out shrinks the digit
    cos, sin = torch.cos(theta) * inv, torch.sin(theta) * inv
    zero = torch.zeros_like(cos)
    affine = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
    grid = F.affine_grid(affine, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False).clamp(0, 1)


def contrast(x: "torch.Tensor", severity: int, seed: int = 0) -> "torch.Tensor":
    _check(x, severity)
    if severity == 0:
        return x.clone()
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return ((x - mean) * CONTRAST[severity] + mean).clamp(0, 1)


CORRUPTIONS: dict[str, Callable[..., "torch.Tensor"]] = {
    "gaussian_noise": gaussian_noise,
    "gaussian_blur": gaussian_blur,
    "occlusion": occlusion,
    "rotation_scale": rotation_scale,
    "contrast": contrast,
}


def corrupt(x: "torch.Tensor", name: str, severity: int, seed: int = 0) -> "torch.Tensor":
    """Apply corruption `name` at `severity` (0 = identity) with a seeded generator."""
    if name not in CORRUPTIONS:
        raise ValueError(f"unknown corruption '{name}'; valid: {', '.join(CORRUPTIONS)}")
    return CORRUPTIONS[name](x, severity, seed)
