"""The driver `audit train` runs around a registered trainer (audit.registry.trainers).

A trainer is `train(seed=, out_dir=, quick=, log=, **kwargs) -> metrics` that writes
`<name>.safetensors` and `<name>.json` (audit.weights.save_weights) into `out_dir`.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, Callable

__all__ = ["train_with_quick_reference"]


def train_with_quick_reference(
    train_fn: Callable[..., dict[str, Any]], weights_name: str, seed: int, out_dir: Path, quick: bool, **kwargs: Any,
) -> dict[str, Any]:
    """Run `train_fn`; after a full run, also run the quick mode into a temporary folder and
    record its metrics in the manifest as `quick_reference`, so a test can check that a
    shortened retraining still reproduces what was recorded."""
    metrics = train_fn(seed=seed, out_dir=out_dir, quick=quick, **kwargs)
    if not quick:
        with tempfile.TemporaryDirectory() as tmp:
            quick_metrics = train_fn(seed=seed, out_dir=Path(tmp), quick=True, log=lambda *a: None, **kwargs)
        path = Path(out_dir) / f"{weights_name}.json"
        manifest = json.loads(path.read_text())
        manifest["quick_reference"] = {"seed": seed, "metrics": quick_metrics}
        path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return metrics
