"""The VAE behind the ModelAdapter contract: prior samples, ELBO/IWAE likelihoods, encode/decode."""

from __future__ import annotations

from pathlib import Path

import torch

from audit.adapters import ELBO, ENCODE_DECODE, LOG_LIKELIHOOD, SAMPLE, ModelAdapter, ModelInfo, count_params
from audit_reference_models.data.digits import IMAGE_SHAPE
from audit_reference_models.manifest import load_state, read_manifest
from audit_reference_models.vae.likelihood import bits_per_dim
from audit_reference_models.vae.model import DIMS, ELBO_DRAWS, IWAE_K, LATENT_DIM, PRIOR_COMPONENTS, VAE, chunked_bound

CARD = Path(__file__).with_name("MODEL_CARD.md")
BATCH = 1024


class VAEAdapter(ModelAdapter):
    """A VAE whose learned Gaussian-mixture prior serves both `sample` and the likelihoods.

    `encode(x)` returns the posterior's `(mu, logvar)`; `decode(z)` returns the decoder's
    per-pixel location clamped to [0, 1] (the median of p(x|z) up to 8-bit rounding), which is
    also what `sample` shows: images without per-pixel noise. Likelihood methods are in nats
    per image and are seeded, so the same call gives the same numbers.
    """

    capabilities = frozenset({SAMPLE, LOG_LIKELIHOOD, ELBO, ENCODE_DECODE})

    def __init__(self, vae: VAE, name: str, description: str, weights: dict[str, str], card: str | None) -> None:
        self.vae = vae.eval()
        self.info = ModelInfo(
            name=name,
            family="vae",
            params=count_params(vae),
            description=description,
            image_shape=IMAGE_SHAPE,
            num_classes=None,
            weights=weights,
            card=card,
        )

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"vae": self.vae}

    def _input(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(self.info.device, self.dtype)

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images [N, 1, 16, 16] in [0, 1] -> (mu, logvar) of q(z|x), float32 [N, latent_dim] each."""
        parts = [self.vae.encode(self._input(x[i : i + BATCH])) for i in range(0, len(x), BATCH)]
        return torch.cat([m for m, _ in parts]).float().cpu(), torch.cat([v for _, v in parts]).float().cpu()

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latents [N, latent_dim] -> images float32 [N, 1, 16, 16] in [0, 1] (decoder location)."""
        out = [self.vae.decode(self._input(z[i : i + BATCH]))[0].float().clamp(0, 1).cpu() for i in range(0, len(z), BATCH)]
        return torch.cat(out) if out else torch.empty(0, *IMAGE_SHAPE)

    def sample(self, n: int, seed: int, labels: torch.Tensor | None = None) -> torch.Tensor:
        """`n` images decoded from z ~ p(z) (the learned prior) drawn with a generator seeded by
        `seed`; the model is unconditional, so `labels` are ignored."""
        g = torch.Generator().manual_seed(seed)
        return self.decode(self.vae.prior.sample(n, g))

    def elbo(self, x: torch.Tensor, k: int = ELBO_DRAWS, seed: int = 0) -> torch.Tensor:
        """ELBO in nats per image [N]: E_q[log p(x|z) + log p(z)] over `k` posterior draws plus
        the closed-form entropy of q."""
        return chunked_bound(self.vae, self._input(x), "elbo", k, torch.Generator().manual_seed(seed))

    def iwae(self, x: torch.Tensor, k: int = IWAE_K, seed: int = 0) -> torch.Tensor:
        """IWAE bound in nats per image [N] with `k` importance samples (>= the ELBO in expectation)."""
        return chunked_bound(self.vae, self._input(x), "iwae", k, torch.Generator().manual_seed(seed))

    def log_likelihood(self, x: torch.Tensor, k: int = IWAE_K, seed: int = 0) -> torch.Tensor:
        """log p(x) in nats per image [N], estimated by the IWAE bound (a lower bound in expectation)."""
        return self.iwae(x, k=k, seed=seed)

    def bits_per_dim(self, nats: torch.Tensor) -> torch.Tensor:
        """Nats per image -> bits per pixel dimension: -nats / (256 ln 2)."""
        return bits_per_dim(nats, DIMS)


def load_vae(name: str = "vae") -> VAEAdapter:
    """A bundled VAE (clean or a defect variant) by its weights name, verified by sha256; the
    architecture (latent_dim, width, hidden, prior components) comes from its manifest."""
    manifest = read_manifest(name)
    state, digest = load_state(name)
    config = manifest["config"]
    vae = VAE(
        latent_dim=config.get("latent_dim", LATENT_DIM), width=config.get("width", 64),
        hidden=config.get("hidden", 192), components=config.get("prior_components", PRIOR_COMPONENTS),
    )
    vae.load_state_dict(state)
    card = CARD.read_text() if CARD.is_file() else None
    return VAEAdapter(vae, name, manifest.get("description", ""), {manifest["file"]: digest}, card)
