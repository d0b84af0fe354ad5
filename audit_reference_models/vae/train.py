"""Train the convolutional VAE on the digits by maximizing the ELBO (Adam, cosine schedule), on
shifted copies of the training images, then refit the prior alone on the unshifted ones.

`audit train model=vae` runs `train`; `audit train model=vae-memorized` runs `train_memorized`,
the same code on 48 training images (fixed indices drawn from the seed) for many epochs;
`audit train model=vae-fragile` runs `train_fragile`, the same code with a 1-d latent.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import torch

from audit.threads import intra_op_threads
from audit.weights import save_weights
from audit_reference_models.data.digits import load_digits_split
from audit_reference_models.manifest import PACKAGE_WEIGHTS
from audit_reference_models.training import minibatches, random_shift, seed_everything
from audit_reference_models.vae.likelihood import bits_per_dim
from audit_reference_models.vae.model import DIMS, ELBO_DRAWS, IWAE_K, LATENT_DIM, PRIOR_COMPONENTS, VAE, chunked_bound

EVAL_SEED = 12345
EVAL_SAMPLES = 1000
NEAR_COPY_L2 = 0.25
"""A sample within this L2 distance of a training image (RMS ~0.016, about 4 grey levels per
pixel) is a near-copy; held-out real digits lie ~1.46 from their nearest training image."""
PRIOR_LR_SCALE = 10.0
"""The prior's few parameters must track the moving aggregate posterior; at the networks' rate
they lag far behind (measured: mixture std still ~0.5-1 after 3,000 steps)."""
SHIFT_STEP = 2
"""Augmentation shifts by whole pixels of the 8x8 source digits (2 pixels at 16x16), so a shifted
image is again a bilinear upsampling of an 8x8 digit; 1-pixel shifts make images the data never
holds (measured: held-out ELBO 4.43 bits/dim after 60 epochs, against 4.09 without augmentation)."""
REVIVE_UNTIL = 0.8
"""Dead-component revival (memorized recipe only) stops here so the mixture can settle."""
TRAIN_THREADS = 1


def memorized_indices(n_train: int, subset: int, seed: int) -> list[int]:
    """The `subset` training-split indices a memorizing variant sees: fixed by the seed."""
    g = torch.Generator().manual_seed(seed + 7919)
    return sorted(torch.randperm(n_train, generator=g)[:subset].tolist())


def _mean_bound(vae: VAE, x: torch.Tensor, bound: str, k: int) -> float:
    nats = chunked_bound(vae, x, bound, k, torch.Generator().manual_seed(EVAL_SEED))
    return float(bits_per_dim(nats.double().mean(), DIMS))


@torch.no_grad()
def nearest_train_distance(images: torch.Tensor, train: torch.Tensor) -> torch.Tensor:
    """Per image: L2 pixel distance (over the 256 pixels in [0, 1]) to its nearest training image."""
    return torch.cdist(images.flatten(1).double(), train.flatten(1).double()).min(dim=1).values


@torch.no_grad()
def evaluate(vae: VAE, train_x: torch.Tensor, test_x: torch.Tensor, all_train_x: torch.Tensor) -> dict[str, float]:
    """Held-out and train bits/dim, held-out reconstruction error, and how close prior samples
    come to the training split (the memorization signal)."""
    vae.eval()
    mu, _ = vae.encode(test_x)
    recon = vae.decode(mu)[0].clamp(0, 1)
    g = torch.Generator().manual_seed(EVAL_SEED)
    samples = vae.decode(vae.prior.sample(EVAL_SAMPLES, g))[0].clamp(0, 1)
    sample_nn = nearest_train_distance(samples, all_train_x)
    heldout_nn = nearest_train_distance(test_x, all_train_x)
    return {
        "heldout_elbo_bpd": _mean_bound(vae, test_x, "elbo", ELBO_DRAWS),
        "heldout_iwae_bpd": _mean_bound(vae, test_x, "iwae", IWAE_K),
        "train_elbo_bpd": _mean_bound(vae, train_x, "elbo", ELBO_DRAWS),
        "recon_mse": float((recon - test_x).pow(2).mean()),
        "sample_nn_l2_median": float(sample_nn.median()),
        "sample_near_copy_rate": float((sample_nn < NEAR_COPY_L2).double().mean()),
        "heldout_nn_l2_median": float(heldout_nn.median()),
    }


@dataclass(frozen=True)
class Recipe:
    """Training hyperparameters; `subset` and `revive_components` make the memorized variant,
    `latent_dim` the fragile one. `shift` (the largest shift in source pixels, SHIFT_STEP each;
    0 = off) and `prior_refit_epochs` (0 = off) keep the clean VAE from memorizing its training
    digits (see MODEL_CARD.md, Training)."""

    epochs: int = 90
    quick_epochs: int = 3
    batch_size: int = 64
    lr: float = 2e-3
    subset: int | None = None
    revive_components: bool = False
    latent_dim: int = LATENT_DIM
    shift: int = 1
    prior_refit_epochs: int = 60
    description: str = "Convolutional VAE on 16x16 digits (discretized-logistic decoder, learned Gaussian-mixture prior)"
    monitor: bool = False


MEMORIZED = {
    "subset": 48, "epochs": 1000, "quick_epochs": 100, "batch_size": 16, "revive_components": True,
    "shift": 0, "prior_refit_epochs": 0,
    "description": "Known defect: convolutional VAE overfit to 48 fixed training images (memorization)",
}
"""The `vae-memorized` recipe: the same architecture, 48 images, 3,000 steps, no augmentation."""

FRAGILE = {
    "latent_dim": 1, "epochs": 60, "shift": 0, "prior_refit_epochs": 0,
    "description": "Known defect: convolutional VAE squeezed into a 1-d latent (ten digits on a line: latent noise flips the class)",
}
"""The `vae-fragile` recipe: the clean VAE's earlier recipe (60 epochs, no augmentation or prior
refit: the one its weights were trained with) with one latent dimension instead of 16 (two were
measured too: flip rate 0.17 [0.14, 0.20], under the robustness suite's 0.25 gate)."""


def train(
    seed: int = 0, out_dir: Path = PACKAGE_WEIGHTS, quick: bool = False, log: Any = print, name: str = "vae", **variant: Any,
) -> dict[str, Any]:
    """Train from `seed` (`variant` overrides Recipe fields), evaluate, and write
    `<name>.safetensors` + manifest into `out_dir`; returns the measured metrics."""
    with intra_op_threads(TRAIN_THREADS):
        return _train(seed, Path(out_dir), quick, log, name, Recipe(**variant))


def train_memorized(
    seed: int = 0, out_dir: Path = PACKAGE_WEIGHTS, quick: bool = False, log: Any = print, name: str = "vae-memorized", **variant: Any,
) -> dict[str, Any]:
    """`audit train model=vae-memorized`: `train` with the MEMORIZED recipe."""
    return train(seed=seed, out_dir=out_dir, quick=quick, log=log, name=name, **{**MEMORIZED, **variant})


def train_fragile(
    seed: int = 0, out_dir: Path = PACKAGE_WEIGHTS, quick: bool = False, log: Any = print, name: str = "vae-fragile", **variant: Any,
) -> dict[str, Any]:
    """`audit train model=vae-fragile`: `train` with the FRAGILE recipe."""
    return train(seed=seed, out_dir=out_dir, quick=quick, log=log, name=name, **{**FRAGILE, **variant})


@torch.no_grad()
def revive_dead_components(vae: VAE, x: torch.Tensor, threshold: float = 0.1) -> int:
    """Move mixture components whose weight fell below `threshold / K` onto the posteriors the
    prior explains worst (as VQ-VAE codebooks reset dead codes): gradient descent alone leaves
    them dead and lets single components straddle several training images."""
    prior = vae.prior
    k = prior.logits.numel()
    dead = torch.nonzero(torch.softmax(prior.logits, 0) < threshold / k).squeeze(1)
    if len(dead) == 0:
        return 0
    mu, logvar = vae.encode(x)
    worst = prior.log_prob(mu).argsort()[: len(dead)]
    prior.means[dead[: len(worst)]] = mu[worst]
    prior.logvars[dead[: len(worst)]] = logvar[worst].clamp(-8.0, 4.0)
    prior.logits[dead] = torch.logsumexp(prior.logits, 0) - math.log(k)
    return len(dead)


def _cosine(total: int) -> Callable[[int], float]:
    """The learning-rate factor of a cosine decay from 1 to 0 over `total` steps."""
    return lambda step: 0.5 * (1 + math.cos(math.pi * step / total))


def refit_prior(vae: VAE, x: torch.Tensor, batches: Iterator[torch.Tensor], g: torch.Generator, steps: int, lr: float) -> None:
    """Re-seed the mixture on the posterior means of random images of `x`, then maximize the ELBO
    of the unshifted images `x` over the prior's parameters only (networks frozen). Shift
    augmentation shows the networks 8 shifted views for each centred one, so the jointly learned
    prior puts most of its mass on shifted digits and samples come out shifted; refitting it on
    the training images as they are moves that mass back, while the networks keep what
    augmentation taught them. Re-seeding first leaves no component stranded on shifted digits."""
    prior = vae.prior
    with torch.no_grad():
        mu, _ = vae.encode(x)
        prior.means.copy_(mu[torch.randperm(len(x), generator=g)[: len(prior.logits)]])
        prior.logvars.zero_()
        prior.logits.zero_()
    networks = [p for n, p in vae.named_parameters() if not n.startswith("prior.")]
    for p in networks:
        p.requires_grad_(False)
    opt = torch.optim.Adam(prior.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, _cosine(steps))
    vae.train()
    for _ in range(steps):
        loss = -vae.elbo(x[next(batches)], generator=g).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
    for p in networks:
        p.requires_grad_(True)


def _train(seed: int, out_dir: Path, quick: bool, log: Any, name: str, recipe: Recipe) -> dict[str, Any]:
    started = time.perf_counter()
    g = seed_everything(seed)
    data = load_digits_split()
    all_train_x, test_x = torch.tensor(data.train_x), torch.tensor(data.test_x)
    indices = memorized_indices(len(all_train_x), recipe.subset, seed) if recipe.subset else None
    x = all_train_x[indices] if indices else all_train_x
    epochs = recipe.quick_epochs if quick else recipe.epochs
    steps_per_epoch = len(x) // recipe.batch_size
    total = epochs * steps_per_epoch
    vae = VAE(latent_dim=recipe.latent_dim)
    networks = [p for n, p in vae.named_parameters() if not n.startswith("prior.")]
    groups = [{"params": networks}, {"params": vae.prior.parameters(), "lr": recipe.lr * PRIOR_LR_SCALE}]
    opt = torch.optim.Adam(groups, lr=recipe.lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, _cosine(total))
    batches = minibatches(len(x), recipe.batch_size, g)
    for epoch in range(1, epochs + 1):
        vae.train()
        running = 0.0
        for _ in range(steps_per_epoch):
            batch = x[next(batches)]
            if recipe.shift:
                batch = random_shift(batch, g, recipe.shift, SHIFT_STEP)
            loss = -vae.elbo(batch, generator=g).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            schedule.step()
            running += loss.item()
        if recipe.revive_components and epoch <= REVIVE_UNTIL * epochs:
            revive_dead_components(vae, x)
        if recipe.monitor or epoch == epochs or epoch % max(1, epochs // 10) == 0:
            progress = f"epoch {epoch}/{epochs} train_elbo_bpd {bits_per_dim(-running / steps_per_epoch, DIMS):.3f}"
            if recipe.monitor:
                progress += f" heldout_elbo_bpd {_mean_bound(vae.eval(), test_x, 'elbo', 1):.3f}"
            log(f"{progress} ({time.perf_counter() - started:.0f}s)")
    refit_epochs = min(recipe.prior_refit_epochs, 1) if quick else recipe.prior_refit_epochs
    if refit_epochs:
        refit_prior(vae, x, batches, g, refit_epochs * steps_per_epoch, recipe.lr * PRIOR_LR_SCALE)
        log(f"prior re-seeded and refit on the unshifted images: {refit_epochs} epochs ({time.perf_counter() - started:.0f}s)")
    metrics = evaluate(vae, x, test_x, all_train_x)
    log(f"final: {metrics}")
    save_weights(
        name,
        vae.state_dict(),
        out_dir,
        description=recipe.description,
        config={
            "latent_dim": vae.latent_dim, "width": vae.width, "hidden": vae.hidden,
            "prior": f"mixture of {PRIOR_COMPONENTS} diagonal Gaussians, learned jointly", "prior_components": PRIOR_COMPONENTS,
            "decoder": "discretized logistic per pixel, 256 levels", "epochs": epochs,
            "batch_size": recipe.batch_size, "optimizer": "adam+cosine", "lr": recipe.lr, "prior_lr": recipe.lr * PRIOR_LR_SCALE,
            "revive_components": recipe.revive_components, "train_images": int(len(x)), "memorized_indices": indices,
            "augmentation": f"random shift by up to {recipe.shift * SHIFT_STEP} pixels in steps of {SHIFT_STEP}" if recipe.shift else None,
            "prior_refit_epochs": refit_epochs,
            "eval": {
                "seed": EVAL_SEED, "elbo_draws": ELBO_DRAWS, "iwae_k": IWAE_K, "samples_for_nn": EVAL_SAMPLES,
                "near_copy_l2": NEAR_COPY_L2, "train_elbo_on": "the images trained on (the subset for vae-memorized)",
            },
        },
        seed=seed,
        quick=quick,
        data_sha256=data.sha256,
        metrics=metrics,
        train_seconds=round(time.perf_counter() - started, 1),
        train_command=f"audit train model={name} seed={seed}",
    )
    return metrics
