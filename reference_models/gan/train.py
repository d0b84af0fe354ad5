"""Train the conditional DCGAN (hinge loss, spectral-norm projection D, EMA of G).

`audit train model=gan` runs this; `class_weights` and `classes` make the defect variants.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from reference_models.data.digits import NUM_CLASSES, load_digits_split
from reference_models.gan.model import LATENT_DIM, Discriminator, Generator
from reference_models.manifest import PACKAGE_WEIGHTS, save_weights
from reference_models.training import minibatches, seed_everything


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
    from reference_models.evaluators.classifier import load_classifier

    classifier, _ = load_classifier()
    data = load_digits_split()
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % generator.num_classes
    images = generator.eval()(torch.randn(n, generator.latent_dim, generator=g), labels)
    fake = classifier.features(images).double().numpy()
    real = classifier.features(torch.tensor(data.train_x)).double().numpy()
    pred = classifier.head(classifier.features(images)).argmax(1)
    return {"fid_vs_train_n1000": fid_from_features(fake, real), "conditional_accuracy": float((pred == labels).float().mean())}


def train(
    name: str = "gan",
    seed: int = 0,
    out_dir: Path = PACKAGE_WEIGHTS,
    quick: bool = False,
    steps: int = 6000,
    classes: Sequence[int] | None = None,
    class_weights: Sequence[float] | None = None,
    description: str = "Class-conditional DCGAN on 16x16 digits",
    log: Any = print,
    monitor: bool = False,
) -> dict[str, Any]:
    """Train from `seed`; `classes` restricts the data, `class_weights` subsamples it by class."""
    started = time.perf_counter()
    g = seed_everything(seed)
    data = load_digits_split()
    x, y = torch.tensor(data.train_x), torch.tensor(data.train_y)
    if classes is not None:
        keep = torch.isin(y, torch.tensor(list(classes)))
        x, y = x[keep], y[keep]
    if class_weights is not None:
        keep_idx = []
        for c, w in enumerate(class_weights):
            idx = torch.nonzero(y == c).squeeze(1)
            keep_idx.append(idx[: max(1, int(round(len(idx) * w)))])
        sel = torch.cat(keep_idx).sort().values
        x, y = x[sel], y[sel]
    steps = 300 if quick else steps
    batch = 64
    G, D = Generator(), Discriminator()
    G_ema = copy.deepcopy(G)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.0, 0.9))
    batches = minibatches(len(x), batch, g)
    for step in range(1, steps + 1):
        idx = next(batches)
        real, labels = x[idx], y[idx]
        z = torch.randn(batch, LATENT_DIM, generator=g)
        fake_labels = labels if classes is not None or class_weights is not None else torch.randint(0, NUM_CLASSES, (batch,), generator=g)
        fake = G(z, fake_labels)
        d_loss = torch.relu(1 - D(real, labels)).mean() + torch.relu(1 + D(fake.detach(), fake_labels)).mean()
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = -D(fake, fake_labels).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        _ema_update(G_ema, G, 0.999 if step > 500 else 0.0)
        if step % 1000 == 0 or step == steps:
            progress = f"step {step}/{steps} d_loss {d_loss.item():.3f} g_loss {g_loss.item():.3f}"
            if monitor:
                progress += f" ema {evaluate(copy.deepcopy(G_ema))}"
            log(f"{progress} ({time.perf_counter() - started:.0f}s)")
    standing_batchnorm(G_ema, g)
    metrics = evaluate(G_ema)
    log(f"final: {metrics}")
    save_weights(
        name,
        G_ema.state_dict(),
        out_dir,
        description=description,
        config={
            "latent_dim": LATENT_DIM, "num_classes": NUM_CLASSES, "steps": steps, "batch_size": batch,
            "loss": "hinge", "lr": 2e-4, "betas": [0.0, 0.9], "ema_decay": 0.999,
            "classes": list(classes) if classes is not None else None,
            "class_weights": list(class_weights) if class_weights is not None else None,
            "train_images": int(len(x)),
        },
        seed=seed,
        quick=quick,
        data_sha256=data.sha256,
        metrics=metrics,
        train_seconds=round(time.perf_counter() - started, 1),
        train_command=f"audit train model={name} seed={seed}",
    )
    return metrics
