"""The diffusion model behind the ModelAdapter contract: sampling (DDIM or DDPM) and the
variational bound on log p(x)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from audit.adapters import CONDITIONAL, DENOISING_LOSS, LATENT, LOG_LIKELIHOOD, SAMPLE, ModelAdapter, ModelInfo, count_params
from audit.progress_events import report_step
from audit_reference_models.data.digits import IMAGE_SHAPE, NUM_CLASSES
from audit_reference_models.diffusion.likelihood import variational_bound
from audit_reference_models.diffusion.sampler import denoise
from audit_reference_models.diffusion.scheduler import NoiseScheduler, make_scheduler
from audit_reference_models.diffusion.unet import UNet
from audit_reference_models.manifest import load_state, read_manifest

CARD = Path(__file__).with_name("MODEL_CARD.md")
DEFAULT_STEPS = {"ddim": 50, "ddpm": 250}
"""Sampling steps when `steps=None`: DDIM 50 matches DDPM quality at a fraction of the cost."""
SAMPLE_BATCH = 500
DENOISE_BATCH = 256
BOUND_BATCH = 512
BOUND_STRATA = 50
"""Log-spaced timestep strata asked for in the Monte Carlo bound (42 after merging; plus the
exact decoder and prior terms): about 43 network calls per image."""
BOUND_SEED = 0


def balanced_labels(n: int, num_classes: int) -> torch.Tensor:
    """0, 1, ..., k-1, 0, 1, ...: every class equally often (up to one)."""
    return torch.arange(n) % num_classes


class DiffusionAdapter(ModelAdapter):
    """Class-conditional DDPM: `sample` runs DDIM (default, 50 steps) or DDPM ancestral sampling;
    `log_likelihood` is the unconditional variational bound and `denoising_loss` the unconditional
    epsilon-prediction error (label = the null token). Its latent space (LATENT) is the initial
    noise x_T, which DDIM maps deterministically to the image."""

    capabilities = frozenset({SAMPLE, CONDITIONAL, LOG_LIKELIHOOD, DENOISING_LOSS, LATENT})
    default_steps = DEFAULT_STEPS

    def __init__(
        self, unet: UNet, schedule: dict[str, Any], name: str, description: str, weights: dict[str, str], card: str | None
    ) -> None:
        self.unet = unet.eval()
        self.schedule = dict(schedule)
        self.info = ModelInfo(
            name=name,
            family="diffusion",
            params=count_params(unet),
            description=description,
            image_shape=IMAGE_SHAPE,
            num_classes=unet.num_classes,
            weights=weights,
            card=card,
        )

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"unet": self.unet}

    def scheduler(self, sampler: str = "ddim", steps: int | None = None) -> NoiseScheduler:
        """A fresh scheduler of the training noise schedule, set to `steps` sampling steps."""
        scheduler = make_scheduler(sampler, **self.schedule)
        scheduler.set_timesteps(self.default_steps[sampler] if steps is None else steps)
        return scheduler

    def _eps_fn(self, labels: torch.Tensor) -> Any:
        device, dtype = self.info.device, self.dtype
        labels = labels.to(device)

        def eps(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            return self.unet(x_t.to(device, dtype), t.to(device), labels).float()

        return eps

    @property
    def latent_shape(self) -> tuple[int, ...]:
        """The shape of one initial noise image x_T: the latent `sample(z=...)` starts from."""
        return IMAGE_SHAPE

    @torch.inference_mode()
    def sample(
        self, n: int, seed: int, labels: torch.Tensor | None = None, steps: int | None = None, sampler: str = "ddim",
        z: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """n images, float32 [n, 1, 16, 16] in [0, 1] on CPU; the same for the same arguments.

        `z` [n, 1, 16, 16] replaces the seeded initial noise x_T: DDIM (eta = 0) is then a
        deterministic map from z to the image, the latent space latent-stability checks perturb."""
        scheduler = self.scheduler(sampler, steps)
        g = torch.Generator().manual_seed(seed)
        labels = balanced_labels(n, self.unet.num_classes) if labels is None else labels.long()
        noise = torch.randn(n, *IMAGE_SHAPE, generator=g)
        if z is not None:
            if tuple(z.shape) != (n, *IMAGE_SHAPE):
                raise ValueError(f"z must have shape {(n, *IMAGE_SHAPE)}, got {tuple(z.shape)}")
            noise = z.float().cpu()
        out = []
        step = f"sampling ({sampler.upper()} {self.default_steps[sampler] if steps is None else steps})"
        for i in range(0, n, SAMPLE_BATCH):
            x_T = noise[i : i + SAMPLE_BATCH].to(self.info.device)
            x0 = denoise(self._eps_fn(labels[i : i + SAMPLE_BATCH]), scheduler, x_T, g)
            out.append(((x0.float().cpu() + 1) / 2).clamp(0, 1))
            report_step(step, min(i + SAMPLE_BATCH, n), n)
        return torch.cat(out)

    @torch.inference_mode()
    def denoising_loss(self, x: torch.Tensor, t: int, noise: torch.Tensor) -> torch.Tensor:
        """Per image, float32 [N] on CPU: the mean squared error of the unconditional epsilon
        prediction for images `x` [N, 1, 16, 16] in [0, 1] noised to timestep `t` (of the
        1,000-step training schedule) with the standard normal `noise` (x's shape)."""
        scheduler = self.scheduler("ddpm")
        x0 = x.float() * 2 - 1
        tt = torch.full((len(x0),), int(t), dtype=torch.long)
        out = []
        for i in range(0, len(x0), DENOISE_BATCH):
            chunk = slice(i, i + DENOISE_BATCH)
            null = torch.full((len(x0[chunk]),), self.unet.null_label, dtype=torch.long)
            x_t = scheduler.add_noise(x0[chunk], noise[chunk], tt[chunk])
            out.append(self._eps_fn(null)(x_t, tt[chunk]).float().cpu())
        return (torch.cat(out) - noise.float()).pow(2).flatten(1).mean(1)

    @torch.inference_mode()
    def log_likelihood(self, x: torch.Tensor, strata: int | None = BOUND_STRATA, seed: int = BOUND_SEED) -> torch.Tensor:
        """Variational lower bound on log p(x) in nats per image, float32 [N] on CPU.

        `x` holds 8-bit images in [0, 1] (multiples of 1/255). The bound is an unbiased
        stratified Monte Carlo estimate over log-spaced timestep bins with a fixed seed (the
        smallest timesteps exact; `strata=None`: every timestep); bits/dim = -nats / (256 ln 2).
        """
        g = torch.Generator().manual_seed(seed)
        out = []
        for i in range(0, x.shape[0], BOUND_BATCH):
            x0 = (x[i : i + BOUND_BATCH].float() * 2 - 1).to(self.info.device)
            null = torch.full((x0.shape[0],), self.unet.null_label, dtype=torch.long)
            out.append(variational_bound(self.scheduler("ddpm", 1), self._eps_fn(null), x0, g, strata).float().cpu())
        return torch.cat(out)


def load_diffusion(name: str = "diffusion") -> DiffusionAdapter:
    """A bundled diffusion model (clean or a defect variant) by its weights name, verified by sha256."""
    manifest = read_manifest(name)
    state, digest = load_state(name)
    config = manifest["config"]
    unet = UNet(num_classes=config.get("num_classes", NUM_CLASSES), channels=tuple(config["channels"]), emb_dim=config["emb_dim"])
    unet.load_state_dict(state)
    card = CARD.read_text() if CARD.is_file() else None
    return DiffusionAdapter(unet, config["schedule"], name, manifest.get("description", ""), {manifest["file"]: digest}, card)
