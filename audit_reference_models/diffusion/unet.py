"""A small class-conditional UNet for 16x16 digits that predicts the noise epsilon.

Three resolutions (16, 8, 4) with widths 32/64/64, one residual block per level and
self-attention at 4x4. The timestep (sinusoidal) and the class embedding are summed and
injected into every residual block. Label `num_classes` is the "no label" token, so the
same network also models p(x) unconditionally (used for the variational bound).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of integer timesteps [N] -> float32 [N, dim] (Vaswani et al.)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


class ResBlock(nn.Module):
    """GroupNorm-SiLU-conv twice, with the embedding added in between and a 1x1 skip."""

    def __init__(self, c_in: int, c_out: int, emb_dim: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(8, c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb_dim, c_out)
        self.norm2 = nn.GroupNorm(8, c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(emb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class SelfAttention(nn.Module):
    """Single-head self-attention over spatial positions, residual."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(8, channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(n, 3, c, h * w).transpose(-1, -2).unbind(1)
        a = F.scaled_dot_product_attention(q, k, v)
        return x + self.out(a.transpose(-1, -2).reshape(n, c, h, w))


class UNet(nn.Module):
    """(x_t [N,1,16,16], t [N], labels [N]) -> predicted noise [N,1,16,16]."""

    def __init__(self, num_classes: int = 10, channels: tuple[int, int, int] = (32, 64, 64), emb_dim: int = 128) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.channels = tuple(channels)
        c0, c1, c2 = channels
        self.time_mlp = nn.Sequential(nn.Linear(c0, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.label_emb = nn.Embedding(num_classes + 1, emb_dim)
        self.stem = nn.Conv2d(1, c0, 3, padding=1)
        self.down0 = ResBlock(c0, c0, emb_dim)
        self.pool0 = nn.Conv2d(c0, c0, 3, stride=2, padding=1)
        self.down1 = ResBlock(c0, c1, emb_dim)
        self.pool1 = nn.Conv2d(c1, c1, 3, stride=2, padding=1)
        self.down2 = ResBlock(c1, c2, emb_dim)
        self.mid1 = ResBlock(c2, c2, emb_dim)
        self.attn = SelfAttention(c2)
        self.mid2 = ResBlock(c2, c2, emb_dim)
        self.up2 = ResBlock(c2 + c2, c2, emb_dim)
        self.up1 = ResBlock(c2 + c1, c1, emb_dim)
        self.up0 = ResBlock(c1 + c0, c0, emb_dim)
        self.head = nn.Sequential(nn.GroupNorm(8, c0), nn.SiLU(), nn.Conv2d(c0, 1, 3, padding=1))

    @property
    def null_label(self) -> int:
        """The label index that means "unconditional"."""
        return self.num_classes

    def forward(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        emb = self.time_mlp(timestep_embedding(t, self.channels[0]).to(x.dtype)) + self.label_emb(labels)
        h0 = self.down0(self.stem(x), emb)
        h1 = self.down1(self.pool0(h0), emb)
        h2 = self.down2(self.pool1(h1), emb)
        h = self.mid2(self.attn(self.mid1(h2, emb)), emb)
        h = self.up2(torch.cat([h, h2], 1), emb)
        h = self.up1(torch.cat([F.interpolate(h, scale_factor=2.0, mode="nearest"), h1], 1), emb)
        h = self.up0(torch.cat([F.interpolate(h, scale_factor=2.0, mode="nearest"), h0], 1), emb)
        return self.head(h)
