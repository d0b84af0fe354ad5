"""Train the conditional DCGAN: non-saturating loss, projection discriminator with shift
augmentation (small data), EMA of G with re-estimated BatchNorm statistics.

`audit train model=gan` runs this; `collapse_to` and `class_weights` make the defect variants.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from audit.weights import save_weights
from audit_reference_models.data.digits import NUM_CLASSES, load_digits_split
from audit_reference_models.gan.model import LATENT_DIM, Discriminator, Generator
from audit_reference_models.manifest import PACKAGE_WEIGHTS
from audit_reference_models.training import minibatches, random_shift, seed_everything, single_threaded

STEPS = 3000
QUICK_STEPS = 150
BATCH = 64
LR = 2e-4
BETAS = (0.5, 0.999)
EMA_DECAY = 0.999
EMA_START = 500


@torch.no_grad()
def _ema_update(ema: nn.Module, model: nn.Module, decay: float) -> None:
    for e, p in zip(ema.parameters(), model.parameters()):
        e.lerp_(p, 1 - decay)
    for e, b in zip(ema.buffers(), model.buffers()):
        e.copy_(b)


@torch.no_grad()
def standing_batchnorm(generator: Generator, g: torch.Generator, batches: int = 40, batch: int = 256) -> None:
    """Re-estimate BatchNorm statistics for the EMA weights (they never saw a forward pass)."""
    for m in generator.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None
    generator.train()
    for _ in range(batches):
        z = torch.randn(batch, generator.latent_dim, generator=g)
        generator(z, torch.randint(0, generator.num_classes, (batch,), generator=g))
    generator.eval()


@torch.no_grad()
def evaluate(generator: Generator, n: int = 1000, seed: int = 12345) -> dict[str, float]:
    """FID vs the training split and conditional accuracy, with the bundled evaluator."""
    from audit.metrics import fid_from_features
    from audit_reference_models.evaluators.classifier import load_classifier

    classifier, _ = load_classifier()
    data = load_digits_split()
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % generator.num_classes
    images = generator.eval()(torch.randn(n, generator.latent_dim, generator=g), labels)
    fake = classifier.features(images).double().numpy()
    real = classifier.features(torch.tensor(data.train_x)).double().numpy()
    pred = classifier.head(classifier.features(images)).argmax(1)
    return {"fid_vs_train_n1000": fid_from_features(fake, real), "conditional_accuracy": float((pred == labels).float().mean())}


def _select(x: torch.Tensor, y: torch.Tensor, classes: Sequence[int] | None, class_weights: Sequence[float] | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The training subset: only `classes`, and/or the first share `class_weights[c]` of class c."""
    if classes is not None:
        keep = torch.isin(y, torch.tensor(list(classes)))
        x, y = x[keep], y[keep]
    if class_weights is not None:
        parts = [torch.nonzero(y == c).squeeze(1) for c in range(len(class_weights))]
        sel = torch.cat([idx[: max(1, int(round(len(idx) * w)))] for idx, w in zip(parts, class_weights)]).sort().values
        x, y = x[sel], y[sel]
    return x, y


@single_threaded
def train(
    name: str = "gan",
    seed: int = 0,
    out_dir: Path = PACKAGE_WEIGHTS,
    quick: bool = False,
    steps: int = STEPS,
    collapse_to: Sequence[int] | None = None,
    class_weights: Sequence[float] | None = None,
    description: str = "Class-conditional DCGAN on 16x16 digits",
    log: Any = print,
) -> dict[str, Any]:
    """Train from `seed` and write weights + manifest; returns the manifest metrics.

    Defect variants: `collapse_to` trains on those classes only and teaches G to answer every
    label with one of them (a generator covering few classes); `class_weights` keeps only
    that share of each class's training images (a class-skewed training set).
    """
    started = time.perf_counter()
    g = seed_everything(seed)
    data = load_digits_split()
    x, y = _select(torch.tensor(data.train_x), torch.tensor(data.train_y), collapse_to, class_weights)
    label_prior = torch.bincount(y, minlength=NUM_CLASSES).double()
    label_prior = (label_prior / label_prior.sum()).tolist()
    remap = torch.tensor([collapse_to[c % len(collapse_to)] for c in range(NUM_CLASSES)]) if collapse_to else torch.arange(NUM_CLASSES)
    steps = QUICK_STEPS if quick else steps
    G, D = Generator(), Discriminator(spectral=False)
    G_ema = copy.deepcopy(G)
    opt_g = torch.optim.Adam(G.parameters(), lr=LR, betas=BETAS)
    opt_d = torch.optim.Adam(D.parameters(), lr=LR, betas=BETAS)
    batches = minibatches(len(x), BATCH, g)
    for step in range(1, steps + 1):
        idx = next(batches)
        real, labels = x[idx], y[idx]
        z = torch.randn(BATCH, LATENT_DIM, generator=g)
        fake_labels = torch.randint(0, NUM_CLASSES, (BATCH,), generator=g) if collapse_to else labels
        fake = G(z, fake_labels)
        shown_labels = remap[fake_labels]
        d_loss = F.softplus(-D(random_shift(real, g), labels)).mean() + F.softplus(D(random_shift(fake.detach(), g), shown_labels)).mean()
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = F.softplus(-D(random_shift(fake, g), shown_labels)).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        _ema_update(G_ema, G, EMA_DECAY if step > EMA_START else 0.0)
        if step % 1000 == 0 or step == steps:
            fid = evaluate(G)["fid_vs_train_n1000"]
            G.train()
            log(f"step {step}/{steps} d_loss {d_loss.item():.3f} g_loss {g_loss.item():.3f} raw-G FID {fid:.1f} ({time.perf_counter() - started:.0f}s)")
    standing_batchnorm(G_ema, g)
    metrics = evaluate(G_ema)
    log(f"final: {metrics}")
    save_weights(
        name,
        G_ema.state_dict(),
        out_dir,
        description=description,
        config={
            "latent_dim": LATENT_DIM, "num_classes": NUM_CLASSES, "steps": steps, "batch_size": BATCH,
            "loss": "non-saturating (softplus)", "augment": "random shift <=1px for D (real and fake)",
            "lr": LR, "betas": list(BETAS), "ema_decay": EMA_DECAY, "ema_start": EMA_START,
            "collapse_to": list(collapse_to) if collapse_to else None,
            "class_weights": list(class_weights) if class_weights is not None else None,
            "label_prior": label_prior, "train_images": int(len(x)),
        },
        seed=seed,
        quick=quick,
        data_sha256=data.sha256,
        metrics=metrics,
        train_seconds=round(time.perf_counter() - started, 1),
        train_command=f"audit train model={name} seed={seed}",
    )
    return metrics
