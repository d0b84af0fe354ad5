"""Class-conditional DCGAN for 16x16 digits: a generator with BatchNorm and a projection
discriminator (Miyato & Koyama, 2018). Spectral normalisation is optional: at this width it left
the discriminator too weak to train the generator (measured), so the bundled GAN trains without."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

LATENT_DIM = 64


class Generator(nn.Module):
    """(z, label) -> image in [0, 1], 1x16x16."""

    def __init__(self, latent_dim: int = LATENT_DIM, num_classes: int = 10, width: int = 128) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.embed = nn.Embedding(num_classes, 32)
        self.width = width
        self.project = nn.Sequential(nn.Linear(latent_dim + 32, width * 4 * 4), nn.BatchNorm1d(width * 4 * 4), nn.ReLU())
        self.up = nn.Sequential(
            nn.ConvTranspose2d(width, width // 2, 4, 2, 1), nn.BatchNorm2d(width // 2), nn.ReLU(),
            nn.ConvTranspose2d(width // 2, width // 4, 4, 2, 1), nn.BatchNorm2d(width // 4), nn.ReLU(),
            nn.Conv2d(width // 4, 1, 3, padding=1),
        )

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h = self.project(torch.cat([z, self.embed(labels)], dim=1)).view(-1, self.width, 4, 4)
        return torch.sigmoid(self.up(h))


class Discriminator(nn.Module):
    """Conv net with a class-projection term (optionally spectral-normalised); one score per image."""

    def __init__(self, num_classes: int = 10, width: int = 32, spectral: bool = True) -> None:
        super().__init__()
        sn = spectral_norm if spectral else (lambda m: m)
        self.body = nn.Sequential(
            sn(nn.Conv2d(1, width, 3, 1, 1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(width, width, 4, 2, 1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(width, 2 * width, 4, 2, 1)), nn.LeakyReLU(0.2),
            nn.Flatten(),
        )
        features = 2 * width * 4 * 4
        self.linear = sn(nn.Linear(features, 1))
        self.embed = sn(nn.Embedding(num_classes, features))

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h = self.body(x * 2 - 1)
        return self.linear(h).squeeze(1) + (self.embed(labels) * h).sum(1)
