"""The digits evaluator: a small CNN whose logits serve Inception Score and conditional accuracy
and whose penultimate 64-d features serve FID-type metrics.

`audit train model=classifier` rebuilds it; its sha256 enters every run fingerprint.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from audit.weights import save_weights
from audit_reference_models.data.digits import NUM_CLASSES, load_digits_split
from audit_reference_models.manifest import PACKAGE_WEIGHTS, load_state
from audit_reference_models.training import minibatches, random_shift, seed_everything, single_threaded

NAME = "classifier"
FEATURE_DIM = 64


class DigitsClassifier(nn.Module):
    """Four 3x3 convolutions, two poolings, a 64-d feature layer and a linear head."""

    def __init__(self, num_classes: int = NUM_CLASSES, feature_dim: int = FEATURE_DIM) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
            nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(64 * 4 * 4, feature_dim), nn.ReLU(),
        )
        self.head = nn.Linear(feature_dim, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def load_classifier() -> tuple[DigitsClassifier, str]:
    """The bundled classifier in eval mode, and the sha256 of its weights."""
    state, digest = load_state(NAME)
    model = DigitsClassifier()
    model.load_state_dict(state)
    return model.eval(), digest


@torch.no_grad()
def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    logits = model(torch.tensor(x))
    return float((logits.argmax(1).numpy() == y).mean())


@single_threaded
def train(seed: int = 0, out_dir: Path = PACKAGE_WEIGHTS, quick: bool = False, log: Any = print) -> dict[str, Any]:
    """Train from `seed` and write weights + manifest to `out_dir`; returns the manifest metrics."""
    started = time.perf_counter()
    g = seed_everything(seed)
    data = load_digits_split()
    x = torch.tensor(data.train_x)
    y = torch.tensor(data.train_y)
    model = DigitsClassifier()
    epochs = 3 if quick else 30
    batch = 64
    steps_per_epoch = len(x) // batch
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * steps_per_epoch)
    batches = minibatches(len(x), batch, g)
    for epoch in range(epochs):
        model.train()
        for _ in range(steps_per_epoch):
            idx = next(batches)
            xb = random_shift(x[idx], g)
            loss = nn.functional.cross_entropy(model(xb), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        model.eval()
        if (epoch + 1) % 5 == 0 or epoch == epochs - 1:
            log(f"epoch {epoch + 1}/{epochs} loss {loss.item():.4f} held-out acc {accuracy(model, data.test_x, data.test_y):.4f}")
    metrics = {
        "train_accuracy": accuracy(model, data.train_x, data.train_y),
        "heldout_accuracy": accuracy(model, data.test_x, data.test_y),
    }
    save_weights(
        NAME,
        model.state_dict(),
        out_dir,
        description="Digits CNN evaluator (features for FID/KID/PR, logits for IS and conditional accuracy)",
        config={"epochs": epochs, "batch_size": batch, "lr": 1e-3, "optimizer": "adam+cosine", "augment": "shift<=1px", "feature_dim": FEATURE_DIM},
        seed=seed,
        quick=quick,
        data_sha256=data.sha256,
        metrics=metrics,
        train_seconds=round(time.perf_counter() - started, 1),
        train_command=f"audit train model={NAME} seed={seed}",
    )
    return metrics
