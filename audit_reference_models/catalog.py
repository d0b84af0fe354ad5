"""The bundled models, their instruments and how to (re)train them; importing this fills audit's
registries (`audit.registry`: models, datasets, evaluators, detectors, trainers).

Each sub-package may have an `entries` module that calls `bundled_model(...)` and
`trainable(...)` or registers in `audit.registry` directly; they are discovered here, so adding a
family touches no shared file. Nothing heavy is imported: entries are `module:function` strings
loaded on first use. Every entry with weights declares `weights_folder`, the folder they ship in.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import audit_reference_models
from audit.registry import models, trainers
from audit_reference_models.manifest import PACKAGE_WEIGHTS


def trainable(model: str, target: str, minutes: float, **kwargs: Any) -> None:
    """Declare that `audit train model=<model>` calls `target(seed=, out_dir=, quick=, **kwargs)`,
    which writes the weights `<model>` (about `minutes` on two cores)."""
    trainers.register(
        model, target, kwargs.get("description", ""),
        minutes=minutes, kwargs=dict(sorted(kwargs.items())), weights_folder=PACKAGE_WEIGHTS,
    )


def bundled_model(name: str, factory: str, description: str, family: str, weights: tuple[str, ...], defect: bool = False) -> None:
    """Register a bundled model; `weights` names the manifests verified before a run starts."""
    models.register(name, factory, description, family=family, weights=weights, weights_folder=PACKAGE_WEIGHTS, defect=defect)


def _discover() -> None:
    for module in pkgutil.iter_modules(audit_reference_models.__path__):
        if module.ispkg:
            try:
                importlib.import_module(f"audit_reference_models.{module.name}.entries")
            except ModuleNotFoundError as exc:
                if exc.name != f"audit_reference_models.{module.name}.entries":
                    raise


_discover()
