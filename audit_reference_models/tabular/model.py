"""CTGAN and TVAE networks (Xu et al., "Modeling Tabular Data using Conditional GAN", 2019).

Rows are encoded by `transforms.DataTransformer`: per continuous column a tanh scalar and a
softmax over mixture modes, per categorical column a softmax over categories ("spans").
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from audit_reference_models.tabular.transforms import Span

GUMBEL_TAU = 0.2


class Residual(nn.Module):
    """CTGAN's generator block: Linear -> BatchNorm -> ReLU, concatenated with its input."""

    def __init__(self, i: int, o: int) -> None:
        super().__init__()
        self.fc = nn.Linear(i, o)
        self.bn = nn.BatchNorm1d(o)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([F.relu(self.bn(self.fc(x))), x], dim=1)


class Generator(nn.Module):
    """z ++ conditional vector -> residual blocks -> raw outputs (logits / pre-tanh) per span."""

    def __init__(self, latent_dim: int, cond_dim: int, hidden: tuple[int, ...], data_dim: int) -> None:
        super().__init__()
        self.latent_dim, self.cond_dim = latent_dim, cond_dim
        blocks, width = [], latent_dim + cond_dim
        for h in hidden:
            blocks.append(Residual(width, h))
            width += h
        self.blocks = nn.Sequential(*blocks)
        self.out = nn.Linear(width, data_dim)

    def forward(self, z: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return self.out(self.blocks(torch.cat([z, cond], dim=1)))


class Discriminator(nn.Module):
    """PacGAN critic: `pac` rows (with their conditions) judged together (training only)."""

    def __init__(self, input_dim: int, hidden: tuple[int, ...], pac: int) -> None:
        super().__init__()
        self.pac = pac
        layers, width = [], input_dim * pac
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2), nn.Dropout(0.5)]
            width = h
        self.net = nn.Sequential(*layers, nn.Linear(width, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.reshape(-1, x.shape[1] * self.pac))


def gradient_penalty(critic: Discriminator, real: torch.Tensor, fake: torch.Tensor, weight: float = 10.0) -> torch.Tensor:
    """WGAN-GP on pac-grouped interpolates (one mixing coefficient per pac group, as CTGAN)."""
    pac = critic.pac
    alpha = torch.rand(real.shape[0] // pac, 1, 1).expand(-1, pac, real.shape[1]).reshape(real.shape)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    grad = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)[0]
    return weight * ((grad.reshape(-1, pac * real.shape[1]).norm(2, dim=1) - 1) ** 2).mean()


def activate(raw: torch.Tensor, spans: list[Span], tau: float = GUMBEL_TAU) -> torch.Tensor:
    """Training-time outputs: tanh scalars and Gumbel-softmax one-hots (differentiable)."""
    parts = []
    for s in spans:
        block = raw[:, s.start : s.start + s.dim]
        parts.append(torch.tanh(block) if s.kind == "tanh" else F.gumbel_softmax(block, tau=tau))
    return torch.cat(parts, dim=1)


def condition_loss(raw: torch.Tensor, cond: torch.Tensor, columns: torch.Tensor, spans: list[Span]) -> torch.Tensor:
    """Cross-entropy of each row's conditioned column against the category it was asked for."""
    loss = torch.zeros(raw.shape[0])
    offset = 0
    for j, s in enumerate(s for s in spans if s.discrete):
        target = cond[:, offset : offset + s.dim].argmax(1)
        ce = F.cross_entropy(raw[:, s.start : s.start + s.dim], target, reduction="none")
        loss = loss + ce * (columns == j)
        offset += s.dim
    return loss.mean()


class Encoder(nn.Module):
    """TVAE encoder: row -> (mu, logvar) of a diagonal Gaussian posterior."""

    def __init__(self, data_dim: int, hidden: tuple[int, ...], latent_dim: int) -> None:
        super().__init__()
        layers, width = [], data_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        self.net = nn.Sequential(*layers)
        self.mu = nn.Linear(width, latent_dim)
        self.logvar = nn.Linear(width, latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.net(x)
        return self.mu(h), self.logvar(h)


class Decoder(nn.Module):
    """TVAE decoder: z -> raw outputs per span, plus a learned noise scale per output column."""

    def __init__(self, latent_dim: int, hidden: tuple[int, ...], data_dim: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        layers, width = [], latent_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        self.net = nn.Sequential(*layers, nn.Linear(width, data_dim))
        self.sigma = nn.Parameter(torch.full((data_dim,), 0.1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


def vae_loss(
    raw: torch.Tensor, x: torch.Tensor, sigma: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
    spans: list[Span], loss_factor: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """TVAE's objective per batch row: (reconstruction, KL). Tanh scalars are Gaussian with the
    learned sigma; softmax spans are categorical (cross-entropy)."""
    rec = torch.zeros(())
    for s in spans:
        block = slice(s.start, s.start + s.dim)
        if s.kind == "tanh":
            std = sigma[s.start]
            rec = rec + (((x[:, block] - torch.tanh(raw[:, block])) ** 2) / 2 / std**2).sum() + torch.log(std) * x.shape[0]
        else:
            rec = rec + F.cross_entropy(raw[:, block], x[:, block].argmax(1), reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu**2 - logvar.exp())
    n = x.shape[0]
    return rec * loss_factor / n, kl / n


def choose(raw: torch.Tensor, spans: list[Span], generator: torch.Generator) -> dict[tuple[str, str], torch.Tensor]:
    """Sample every softmax span (Gumbel-max with `generator`: a draw from softmax(logits))."""
    out = {}
    for s in spans:
        if s.kind != "softmax":
            continue
        logits = raw[:, s.start : s.start + s.dim].double()
        u = torch.rand(logits.shape, generator=generator, dtype=torch.float64).clamp_(1e-12, 1 - 1e-12)
        out[(s.column, "category" if s.discrete else "mode")] = (logits - torch.log(-torch.log(u))).argmax(1)
    return out
