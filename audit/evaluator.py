"""Image evaluators (features + logits) and the real reference images they are compared with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

BATCH = 512


@dataclass
class Embedding:
    """Evaluator outputs for a set of images, in float64."""

    features: np.ndarray
    logits: np.ndarray

    @property
    def predictions(self) -> np.ndarray:
        return self.logits.argmax(axis=1)


class ImageEvaluator:
    """Wraps a network with `features(x)` and `head(features)`; runs in float32 on CPU."""

    def __init__(self, name: str, network: Any, sha256: str) -> None:
        self.name = name
        self.network = network.eval()
        self.sha256 = sha256

    def embed(self, images: "torch.Tensor") -> Embedding:
        import torch

        feats, logits = [], []
        with torch.no_grad():
            for i in range(0, len(images), BATCH):
                f = self.network.features(images[i : i + BATCH].float().cpu())
                feats.append(f.double().numpy())
                logits.append(self.network.head(f).double().numpy())
        return Embedding(np.concatenate(feats), np.concatenate(logits))


@dataclass
class ReferenceImages:
    """Real images for comparison: a training split (the default reference) and a held-out one."""

    name: str
    train_x: np.ndarray
    train_y: np.ndarray | None
    test_x: np.ndarray
    test_y: np.ndarray | None
    sha256: str


def digits_evaluator() -> ImageEvaluator:
    from reference_models.evaluators.classifier import load_classifier

    network, digest = load_classifier()
    return ImageEvaluator("digits-cnn", network, digest)


def digits_reference() -> ReferenceImages:
    from reference_models.data.digits import load_digits_split

    d = load_digits_split()
    return ReferenceImages("digits-16x16", d.train_x, d.train_y, d.test_x, d.test_y, d.sha256)
