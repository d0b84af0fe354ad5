"""The GAN behind the ModelAdapter contract."""

from __future__ import annotations

from pathlib import Path

import torch

from audit.adapters import CONDITIONAL, LATENT, SAMPLE, ModelAdapter, ModelInfo, count_params
from audit_reference_models.data.digits import IMAGE_SHAPE, NUM_CLASSES
from audit_reference_models.gan.model import Generator
from audit_reference_models.manifest import load_state, read_manifest

CARD = Path(__file__).with_name("MODEL_CARD.md")
BATCH = 1024


class GANAdapter(ModelAdapter):
    """Samples the EMA generator. Without labels, classes are drawn from the label distribution
    the model was trained on (its `label_prior`), as an unconditional user of it would see. Its
    latent space (LATENT) is the generator's input z ~ N(0, I) of `latent_shape`."""

    capabilities = frozenset({SAMPLE, CONDITIONAL, LATENT})

    def __init__(
        self, generator: Generator, name: str, description: str, weights: dict[str, str], card: str | None,
        label_prior: list[float] | None = None,
    ) -> None:
        self.generator = generator.eval()
        self.label_prior = torch.tensor(label_prior or [1.0] * generator.num_classes, dtype=torch.float64)
        self.info = ModelInfo(
            name=name,
            family="gan",
            params=count_params(generator),
            description=description,
            image_shape=IMAGE_SHAPE,
            num_classes=generator.num_classes,
            weights=weights,
            card=card,
        )

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"generator": self.generator}

    @property
    def latent_shape(self) -> tuple[int, ...]:
        """The shape of one latent z: the generator's input vector."""
        return (int(self.generator.latent_dim),)

    @torch.no_grad()
    def sample(
        self, n: int, seed: int, labels: torch.Tensor | None = None, z: torch.Tensor | None = None
    ) -> torch.Tensor:
        """n images, float32 [n, 1, 16, 16] in [0, 1] on CPU; the same for the same arguments.

        `z` [n, *latent_shape] replaces the seeded latents (labels not given are still drawn
        from the seed), so the images are a deterministic function of `z` and the labels."""
        g = torch.Generator().manual_seed(seed)
        seeded = torch.randn(n, *self.latent_shape, generator=g)
        if z is not None and tuple(z.shape) != tuple(seeded.shape):
            raise ValueError(f"z must have shape {tuple(seeded.shape)}, got {tuple(z.shape)}")
        z = seeded if z is None else z.float().cpu()
        if labels is None:
            labels = torch.multinomial(self.label_prior, n, replacement=True, generator=g)
        labels = labels.long()
        device, dtype = self.info.device, self.dtype
        out = [
            self.generator(z[i : i + BATCH].to(device, dtype), labels[i : i + BATCH].to(device)).float().cpu()
            for i in range(0, n, BATCH)
        ]
        return torch.cat(out)


def load_gan(name: str = "gan") -> GANAdapter:
    """A bundled GAN (clean or a defect variant) by its weights name, verified by sha256."""
    manifest = read_manifest(name)
    state, digest = load_state(name)
    generator = Generator(num_classes=manifest["config"].get("num_classes", NUM_CLASSES))
    generator.load_state_dict(state)
    card = CARD.read_text() if CARD.is_file() else None
    prior = manifest["config"].get("label_prior")
    return GANAdapter(generator, name, manifest.get("description", ""), {manifest["file"]: digest}, card, prior)
