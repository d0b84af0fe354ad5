"""The two detector networks; each maps images [N, 1, 16, 16] in [0, 1] to one logit per image
([N], > 0 means "fake")."""

from __future__ import annotations

import torch
from torch import nn

SPECTRUM_EPS = 3e-3
"""Added to |FFT| before the log. 8-bit rounding of a pixel leaves noise of std 1/(255 sqrt 12)
~ 1.1e-3 in every orthonormal Fourier coefficient, and the real digits (upsampled from 8x8)
have almost nothing else above frequency 4; a floor a few times that noise keeps the features
from keying on quantization while the generators' own high-frequency energy (6e-3 to 2e-2
median) stays visible."""


class DetectorCNN(nn.Module):
    """Four 3x3 convolutions (32/32/64/64 channels) with BatchNorm, two max-poolings and a
    linear head on the 4x4 map: ~66k parameters. Without BatchNorm the same network stays at
    chance for dozens of epochs: the cues are faint (high-frequency energy of ~1e-2)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            *block(1, 32), *block(32, 32), nn.MaxPool2d(2),
            *block(32, 64), *block(64, 64), nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.head = nn.Linear(64 * 4 * 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x)).squeeze(1)


def block(c_in: int, c_out: int) -> tuple[nn.Module, ...]:
    """3x3 convolution, BatchNorm, ReLU."""
    return nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()


def log_spectrum(x: torch.Tensor) -> torch.Tensor:
    """log(|FFT2| + eps) of each image over the half-plane that a real image's spectrum
    determines (rfft2: 16 x 9 = 144 coefficients), flattened to [N, 144]."""
    magnitude = torch.fft.rfft2(x[:, 0], norm="ortho").abs()
    return torch.log(magnitude + SPECTRUM_EPS).flatten(1)


class SpectrumDetector(nn.Module):
    """Logistic regression on the standardized 2-D log-magnitude spectrum.

    Upsampling layers (transposed convolutions, nearest/bilinear resizing) leave periodic,
    grid-aligned peaks and a wrong high-frequency fall-off in the spectrum (Durall et al.,
    CVPR 2020; Frank et al., ICML 2020). The full 2-D half-plane is used rather than Durall's
    azimuthal average: at 16x16 that average has only ~11 radial bins and discards the
    orientation of grid artefacts, while 144 features are still few for a linear layer trained
    on ~2,300 images. The magnitude ignores phase, so the features barely move under small
    translations. `mean` and `std` are fixed buffers set from the training features.
    """

    def __init__(self, features: int = 16 * 9) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(features))
        self.register_buffer("std", torch.ones(features))
        self.head = nn.Linear(features, 1)

    def standardize_on(self, x: torch.Tensor) -> None:
        """Set `mean` and `std` from images `x` (the training set)."""
        with torch.no_grad():
            f = log_spectrum(x)
            self.mean.copy_(f.mean(0))
            self.std.copy_(f.std(0).clamp_min(1e-6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head((log_spectrum(x) - self.mean) / self.std).squeeze(1)


def build(kind: str) -> nn.Module:
    """An untrained detector network of `kind` ("cnn" or "spectrum")."""
    return {"cnn": DetectorCNN, "spectrum": SpectrumDetector}[kind]()
