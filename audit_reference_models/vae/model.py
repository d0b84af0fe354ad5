"""Convolutional VAE for 16x16 digits: a discretized-logistic decoder over 256 levels and a
Gaussian-mixture prior learned jointly with the networks.

q(z|x) is a diagonal Gaussian, p(z) a mixture of K diagonal Gaussians (trained with the ELBO,
so sampling and the likelihoods use one and the same prior), and p(x|z) a discretized
logistic per pixel. ELBO and IWAE are therefore bounds on a discrete likelihood, and their
bits/dim compare with any other 8-bit image model's.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from audit_reference_models.vae.likelihood import gaussian_entropy, gaussian_log_density, image_log_prob

DIMS = 256
"""Pixels per image: the D of bits/dim."""
LATENT_DIM = 16
PRIOR_COMPONENTS = 64
ELBO_DRAWS = 4
IWAE_K = 64
DECODES_PER_CHUNK = 4096
"""Bounds decode `images x k` latents; chunks of this many keep memory flat and batches efficient."""


class MixturePrior(nn.Module):
    """p(z) = sum_k pi_k N(z; m_k, diag(e^v_k)); its maths runs in float32 whatever the dtype."""

    def __init__(self, latent_dim: int = LATENT_DIM, components: int = PRIOR_COMPONENTS) -> None:
        super().__init__()
        self.means = nn.Parameter(torch.randn(components, latent_dim))
        self.logvars = nn.Parameter(torch.zeros(components, latent_dim))
        self.logits = nn.Parameter(torch.zeros(components))

    def _params(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.means.float(), self.logvars.float().clamp(-8.0, 4.0), F.log_softmax(self.logits.float(), dim=0)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z) in nats for z [..., latent_dim]."""
        means, logvars, log_weights = self._params()
        per_component = gaussian_log_density(z.float().unsqueeze(-2), means, logvars)
        return torch.logsumexp(per_component + log_weights, dim=-1)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n draws as float32 on CPU: a component by its weight, then its Gaussian."""
        means, logvars, log_weights = (t.detach().cpu() for t in self._params())
        k = torch.multinomial(log_weights.exp(), n, replacement=True, generator=generator)
        eps = torch.randn(n, means.shape[1], generator=generator)
        return means[k] + (0.5 * logvars[k]).exp() * eps


class VAE(nn.Module):
    """Encoder: 1x16x16 -> 32x8x8 -> 64x4x4 -> MLP -> (mu, logvar). Decoder: z -> MLP -> 64x4x4 ->
    32x8x8 -> 2x16x16 (location, log-scale). The digits are bilinear upsamplings of 8x8 images,
    so the last layer goes from 8x8 features straight to 16x16 outputs (a 4x4 stride-2
    transposed convolution can express bilinear upsampling); a lean decoder keeps the 23,040
    decodes of IWAE(k=64) on the held-out split cheap on CPU."""

    def __init__(self, latent_dim: int = LATENT_DIM, width: int = 64, hidden: int = 192, components: int = PRIOR_COMPONENTS) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.width = width
        self.hidden = hidden
        w = width
        self.encoder = nn.Sequential(
            nn.Conv2d(1, w // 2, 4, 2, 1), nn.SiLU(),
            nn.Conv2d(w // 2, w, 4, 2, 1), nn.SiLU(),
            nn.Flatten(),
            nn.Linear(w * 16, hidden), nn.SiLU(),
            nn.Linear(hidden, 2 * latent_dim),
        )
        self.project = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.SiLU(),
            nn.Linear(hidden, w * 16), nn.SiLU(),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(w, w // 2, 4, 2, 1), nn.SiLU(),
            nn.ConvTranspose2d(w // 2, 2, 4, 2, 1),
        )
        self.prior = MixturePrior(latent_dim, components)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images in [0, 1] -> (mu, logvar) of q(z|x), each [N, latent_dim]."""
        mu, logvar = self.encoder(x * 2 - 1).chunk(2, dim=1)
        return mu, logvar.clamp(-12.0, 6.0)

    def decode(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Latents -> per-pixel (location, log-scale) of p(x|z), each [N, 1, 16, 16]."""
        h = self.project(z).view(-1, self.width, 4, 4)
        location, log_scale = self.decoder(h).chunk(2, dim=1)
        return location + 0.5, log_scale - 2.0

    def _posterior_draws(self, x: torch.Tensor, k: int, generator: torch.Generator | None) -> tuple[torch.Tensor, ...]:
        """(z [k, N, D] in float32, mu, logvar, log p(x|z) [k, N])."""
        mu, logvar = self.encode(x)
        mu, logvar = mu.float(), logvar.float()
        eps = torch.randn((k, *mu.shape), generator=generator).to(mu.device)
        z = mu + (0.5 * logvar).exp() * eps
        location, log_scale = self.decode(z.reshape(-1, self.latent_dim).to(x.dtype))
        log_px = image_log_prob(x.repeat(k, 1, 1, 1), location, log_scale).view(k, -1)
        return z, mu, logvar, log_px

    def elbo(self, x: torch.Tensor, k: int = 1, generator: torch.Generator | None = None) -> torch.Tensor:
        """ELBO in nats per image: E_q[log p(x|z) + log p(z)] over `k` draws, plus the entropy of q
        in closed form (the KL to a mixture has none)."""
        z, _, logvar, log_px = self._posterior_draws(x, k, generator)
        return (log_px + self.prior.log_prob(z)).mean(0) + gaussian_entropy(logvar)

    def iwae(self, x: torch.Tensor, k: int = 64, generator: torch.Generator | None = None) -> torch.Tensor:
        """IWAE bound in nats per image: log-mean-exp over `k` importance weights p(x,z)/q(z|x)."""
        z, mu, logvar, log_px = self._posterior_draws(x, k, generator)
        log_w = log_px + self.prior.log_prob(z) - gaussian_log_density(z, mu, logvar)
        return torch.logsumexp(log_w, dim=0) - math.log(k)


@torch.no_grad()
def chunked_bound(vae: VAE, x: torch.Tensor, bound: str, k: int, generator: torch.Generator) -> torch.Tensor:
    """`vae.elbo` or `vae.iwae` over `x` in chunks of DECODES_PER_CHUNK // k images, so that the
    adapter and the training-time evaluation draw the same noise for the same seed."""
    fn = vae.iwae if bound == "iwae" else vae.elbo
    step = max(1, DECODES_PER_CHUNK // k)
    return torch.cat([fn(x[i : i + step], k=k, generator=generator).float().cpu() for i in range(0, len(x), step)])
