"""A loaded detector: its network, calibrated threshold, provenance, and scoring."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from audit.errors import UnknownNameError, WeightsError
from audit.messages import did_you_mean
from audit_reference_models.detectors import WEIGHTS_NAME, all_detectors
from audit_reference_models.detectors.model import build
from audit_reference_models.manifest import load_state, read_manifest, rebuild_hint

BATCH = 1024


@dataclass(frozen=True)
class Detector:
    """A bundled detector in eval mode, its parameters frozen (gradients flow to the images only).

    `threshold` is on the probability of "fake" (`score`): the equal-error-rate threshold of the
    validation part of its training data; `score >= threshold` calls an image fake. `weights`
    maps the weights file to its sha256 for run fingerprints.
    """

    name: str
    kind: str
    trained_on: tuple[str, ...]
    threshold: float
    weights: dict[str, str]
    module: torch.nn.Module

    def _device(self) -> torch.device:
        return next(self.module.parameters()).device

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """Logits [N] (> 0 means "fake") for images [N, 1, 16, 16] in [0, 1]; differentiable."""
        return self.module(images.to(self._device(), torch.float32))

    @torch.no_grad()
    def score(self, images: torch.Tensor) -> np.ndarray:
        """Probability of "fake" per image, float64 [N], computed in batches without gradients."""
        parts = [torch.sigmoid(self.logits(images[i : i + BATCH])).double().cpu() for i in range(0, len(images), BATCH)]
        return torch.cat(parts).numpy() if parts else np.empty(0)


def load(name: str) -> Detector:
    """The detector `name` from the sha256-verified `detector.safetensors` and its manifest."""
    if name not in all_detectors():
        raise UnknownNameError(did_you_mean("detector", name, list(all_detectors())))
    state, digest = load_state(WEIGHTS_NAME)
    manifest = read_manifest(WEIGHTS_NAME)
    spec = manifest["config"]["detectors"].get(name)
    prefix = f"{name}."
    own = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    if spec is None or not own:
        raise WeightsError(
            f"Weights for detector '{name}' are not in {manifest['file']}; rebuild them with {rebuild_hint(WEIGHTS_NAME)}."
        )
    module = build(spec["kind"])
    module.load_state_dict(own)
    return Detector(
        name=name,
        kind=spec["kind"],
        trained_on=tuple(spec["trained_on"]),
        threshold=float(spec["threshold"]),
        weights={manifest["file"]: digest},
        module=module.eval().requires_grad_(False),
    )
