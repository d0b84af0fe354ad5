"""Where the bundled weights ship, and `audit.weights` bound to that folder.

The weights are safetensors files with a JSON manifest in `weights/`, verified by sha256 on
load (`audit.weights`). `AUDIT_WEIGHTS_DIR` points loading at another folder (e.g. weights
rebuilt by `audit train`, which writes to ./weights by default, never into this package;
maintainers rebuilding the bundled weights say `out=audit_reference_models/weights`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import audit.weights

if TYPE_CHECKING:
    import torch

PACKAGE_WEIGHTS = Path(__file__).parent / "weights"


def weights_dir() -> Path:
    """The folder bundled weights load from: AUDIT_WEIGHTS_DIR when set, else `PACKAGE_WEIGHTS`."""
    return audit.weights.weights_dir(PACKAGE_WEIGHTS)


def rebuild_hint(name: str) -> str:
    """The command that rebuilds `name` where loading looks for it."""
    return audit.weights.rebuild_hint(name, weights_dir())


def read_manifest(name: str, folder: Path | None = None) -> dict[str, Any]:
    """The manifest of `name` in `folder` (default: where bundled weights load from)."""
    return audit.weights.read_manifest(name, folder or weights_dir())


def verified_weights(name: str) -> tuple[Path, str]:
    """The bundled weights file of `name`, checked against its manifest's sha256."""
    return audit.weights.verified_weights(name, weights_dir())


def load_state(name: str) -> tuple[dict[str, "torch.Tensor"], str]:
    """Verified tensors of the bundled weights `name` and their sha256."""
    return audit.weights.load_state(name, weights_dir())
