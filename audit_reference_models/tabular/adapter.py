"""The tabular GAN and VAE behind the ModelAdapter contract (SAMPLE_TABLE)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from audit.adapters import SAMPLE_TABLE, ModelAdapter, ModelInfo, count_params
from audit_reference_models.manifest import load_state, read_manifest
from audit_reference_models.tabular.model import Decoder, Generator, choose
from audit_reference_models.tabular.transforms import ConditionalSampler, DataTransformer

CARD = Path(__file__).with_name("MODEL_CARD.md")
BATCH = 4096


class TabularAdapter(ModelAdapter):
    """Generates UCI-Adult-like rows. `kind` is "gan" (CTGAN: z and a conditional vector drawn
    from the training categories' frequencies) or "vae" (TVAE: z from the N(0, I) prior, the
    decoder's Gaussian noise on each continuous scalar). Softmax outputs are sampled."""

    capabilities = frozenset({SAMPLE_TABLE})

    def __init__(
        self, kind: str, network: torch.nn.Module, transformer: DataTransformer, name: str, description: str = "",
        weights: dict[str, str] | None = None, card: str | None = None,
    ) -> None:
        if kind not in ("gan", "vae"):
            raise ValueError(f"unknown tabular model kind {kind!r}; valid: gan, vae")
        self.kind = kind
        self.network = network.eval()
        self.transformer = transformer
        self.sampler = ConditionalSampler(transformer) if kind == "gan" else None
        self.info = ModelInfo(
            name=name, family="tabular", params=count_params(network), description=description,
            weights=weights or {}, card=card,
        )

    @property
    def columns(self) -> list[str]:
        return list(self.transformer.columns)

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"generator" if self.kind == "gan" else "decoder": self.network}

    @torch.no_grad()
    def raw(self, n: int, g: torch.Generator, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Raw network outputs [n, output_dim] (float32, CPU) and, for the VAE, the noise scales."""
        device, dtype = self.info.device, self.dtype
        if self.kind == "gan":
            z = torch.randn(n, self.network.latent_dim, generator=g)
            cond = torch.from_numpy(self.sampler.generation_batch(n, rng))
            out = self.network(z.to(device, dtype), cond.to(device, dtype))
            return out.float().cpu(), None
        z = torch.randn(n, self.network.latent_dim, generator=g)
        return self.network(z.to(device, dtype)).float().cpu(), self.network.sigma.detach().float().cpu()

    @torch.no_grad()
    def sample_table(self, n: int, seed: int) -> "pd.DataFrame":  # noqa: F821
        """`n` rows with the training columns and schema; the same seed gives the same rows."""
        import pandas as pd

        g = torch.Generator().manual_seed(int(seed))
        rng = np.random.default_rng(int(seed))
        spans = self.transformer.spans
        frames = []
        for start in range(0, n, BATCH):
            m = min(BATCH, n - start)
            raw, sigma = self.raw(m, g, rng)
            alphas = {}
            for s in spans:
                if s.kind == "tanh":
                    a = torch.tanh(raw[:, s.start])
                    if sigma is not None:
                        a = a + sigma[s.start].clamp(0.01, 1.0) * torch.randn(m, generator=g)
                    alphas[s.column] = a.double().numpy()
            choices = {k: v.numpy() for k, v in choose(raw, spans, g).items()}
            frames.append(self.transformer.inverse_transform(alphas, choices))
        if not frames:
            from audit_reference_models.data.adult import empty_frame

            return empty_frame(self.transformer.categories())
        return pd.concat(frames, ignore_index=True)


def load_tabular(name: str) -> TabularAdapter:
    """A bundled tabular model by its weights name, verified by sha256; the fitted data
    transformer is read from the manifest (plain JSON numbers, no pickle)."""
    manifest = read_manifest(name)
    state, digest = load_state(name)
    config = manifest["config"]
    transformer = DataTransformer.from_dict(manifest["transformer"])
    if config["kind"] == "gan":
        network: torch.nn.Module = Generator(config["latent_dim"], transformer.cond_dim, tuple(config["generator_hidden"]), transformer.output_dim)
    else:
        network = Decoder(config["latent_dim"], tuple(config["decoder_hidden"]), transformer.output_dim)
    network.load_state_dict(state)
    card = CARD.read_text() if CARD.is_file() else None
    return TabularAdapter(config["kind"], network, transformer, name, manifest.get("description", ""), {manifest["file"]: digest}, card)


def config_of(name: str) -> dict[str, Any]:
    return read_manifest(name)["config"]
