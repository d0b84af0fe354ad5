"""Pure likelihood maths for the VAE: a discretized logistic over the 256 8-bit levels,
Gaussian densities and KL, and the nats -> bits/dim conversion.

Pixels live in [0, 1] on the grid k/255. Level k owns the interval [k/255 - 1/510, k/255 + 1/510];
level 0 also owns everything below and level 255 everything above, so the 256 probabilities of
a pixel sum to exactly 1 (Salimans et al., 2017, PixelCNN++). Everything here runs in float32
or wider, whatever the network's dtype, so bf16 networks still give sound likelihoods.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LEVELS = 256
HALF_BIN = 0.5 / (LEVELS - 1)
LOG_SCALE_MIN = -7.0


def discretized_logistic_log_prob(x: torch.Tensor, mean: torch.Tensor, log_scale: torch.Tensor) -> torch.Tensor:
    """Elementwise log P(pixel = x) for x on the grid k/255, under a logistic(mean, e^log_scale)
    discretized into the 256 levels (edge levels take the tails)."""
    x, mean = x.float(), mean.float()
    log_scale = log_scale.float().clamp(min=LOG_SCALE_MIN)
    inv_scale = torch.exp(-log_scale)
    upper = inv_scale * (x - mean + HALF_BIN)
    lower = inv_scale * (x - mean - HALF_BIN)
    # log(sigmoid(a) - sigmoid(b)) = logsigmoid(a) + logsigmoid(-b) + log(1 - e^(b-a)), exact and stable.
    width = 2 * HALF_BIN * inv_scale
    interior = F.logsigmoid(upper) + F.logsigmoid(-lower) + torch.log(-torch.expm1(-width))
    bottom = F.logsigmoid(upper)
    top = F.logsigmoid(-lower)
    return torch.where(x < HALF_BIN, bottom, torch.where(x > 1 - HALF_BIN, top, interior))


def image_log_prob(x: torch.Tensor, mean: torch.Tensor, log_scale: torch.Tensor) -> torch.Tensor:
    """log p(x | z) in nats per image: the pixels are independent given the decoder's output."""
    return discretized_logistic_log_prob(x, mean, log_scale).flatten(1).sum(1)


def gaussian_entropy(logvar: torch.Tensor) -> torch.Tensor:
    """Entropy of N(mu, e^logvar) in nats, summed over the last dimension."""
    return 0.5 * (math.log(2 * math.pi) + 1 + logvar.float()).sum(-1)


def gaussian_log_density(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, e^logvar) in nats, summed over the last dimension."""
    return -0.5 * (math.log(2 * math.pi) + logvar + (z - mu).pow(2) * torch.exp(-logvar)).sum(-1)


def bits_per_dim(nats: torch.Tensor | float, dims: int) -> torch.Tensor | float:
    """Negative log-likelihood in bits per dimension: -nats / (dims * ln 2)."""
    return -nats / (dims * math.log(2))
