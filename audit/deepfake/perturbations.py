"""Everyday image processing that a detector or watermark must survive, at severities 0..5.

Images are float [N, C, H, W] in [0, 1]. Severity 0 is the identity (the input, exactly); the
distance to the clean image grows with severity. Parameters, scaled for 16x16 digits:

  jpeg    Pillow JPEG encode/decode of each channel as 8-bit grayscale ("L"), then /255:
          quality 90, 75, 50, 30, 10 (severities 1-5).
  blur    `audit.robustness.corruptions.gaussian_blur`: sigma .5, .75, 1.0, 1.5, 2.0 px.
  noise   `audit.robustness.corruptions.gaussian_noise`: sigma .04, .08, .14, .22, .32 (seeded).
  resize  bilinear antialiased downscale to 14, 12, 10, 8, 6 px (sides scaled by 14/16 ... 6/16),
          then bilinear back to the original size, clamped to [0, 1].

Only noise is random; all are deterministic for a given (images, name, severity, seed).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Callable

import numpy as np

from audit.robustness.corruptions import gaussian_blur, gaussian_noise

if TYPE_CHECKING:
    import torch

PERTURBATIONS: tuple[str, ...] = ("jpeg", "blur", "noise", "resize")
SEVERITIES: tuple[int, ...] = (0, 1, 2, 3, 4, 5)
JPEG_QUALITY: dict[int, int] = {1: 90, 2: 75, 3: 50, 4: 30, 5: 10}
RESIZE_SIDE: dict[int, int] = {1: 14, 2: 12, 3: 10, 4: 8, 5: 6}  # for a 16-px image; scaled for other sizes


def jpeg_round_trip(images8: np.ndarray, quality: int) -> np.ndarray:
    """Encode and decode uint8 [N, C, H, W] as grayscale JPEG planes at `quality`; uint8 out."""
    from PIL import Image

    out = np.empty_like(images8)
    for idx in np.ndindex(*images8.shape[:2]):
        buffer = io.BytesIO()
        Image.fromarray(images8[idx]).save(buffer, format="JPEG", quality=quality)
        buffer.seek(0)
        out[idx] = np.asarray(Image.open(buffer).convert("L"))
    return out


def jpeg(x: "torch.Tensor", severity: int, seed: int = 0) -> "torch.Tensor":
    """Real JPEG compression: round to 8 bits, Pillow round trip, back to [0, 1]."""
    import torch

    images8 = np.clip(np.rint(x.detach().cpu().double().numpy() * 255), 0, 255).astype(np.uint8)
    decoded = jpeg_round_trip(images8, JPEG_QUALITY[severity])
    return torch.from_numpy(decoded.astype(np.float32) / 255).to(dtype=x.dtype, device=x.device)


def resize(x: "torch.Tensor", severity: int, seed: int = 0) -> "torch.Tensor":
    """Antialiased bilinear downscale and bilinear upscale back: the detail lost to a thumbnail."""
    import torch.nn.functional as F

    h, w = x.shape[-2:]
    scale = RESIZE_SIDE[severity] / 16
    small = (max(1, round(h * scale)), max(1, round(w * scale)))
    down = F.interpolate(x, size=small, mode="bilinear", align_corners=False, antialias=True)
    return F.interpolate(down, size=(h, w), mode="bilinear", align_corners=False).clamp(0, 1)


_APPLY: dict[str, Callable[..., "torch.Tensor"]] = {
    "jpeg": jpeg,
    "blur": gaussian_blur,
    "noise": gaussian_noise,
    "resize": resize,
}


def perturb(images: "torch.Tensor", name: str, severity: int, seed: int = 0) -> "torch.Tensor":
    """Apply perturbation `name` at `severity` (0 = identity, a copy of the input), seeded."""
    if name not in _APPLY:
        raise ValueError(f"unknown perturbation '{name}'; valid: {', '.join(PERTURBATIONS)}")
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity!r} for '{name}'; valid: {', '.join(map(str, SEVERITIES))}")
    if images.ndim != 4:
        raise ValueError(f"expected images [N, C, H, W], got shape {tuple(images.shape)}")
    if severity == 0:
        return images.clone()
    return _APPLY[name](images, severity, seed)
