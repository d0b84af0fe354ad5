"""The bundled models and how to (re)train them; importing this fills `audit.registry.models`.

Each family sub-package may have an `entries` module that calls `bundled_model(...)` and
`trainable(...)`; they are discovered here, so adding a family touches no shared file.
Nothing heavy is imported: entries are `module:function` strings loaded on first use.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from dataclasses import dataclass
from typing import Any

import reference_models
from audit.registry import models
from reference_models.manifest import weights_dir


@dataclass(frozen=True)
class Trainable:
    """A weights file `audit train model=NAME` rebuilds: the training function and its kwargs."""

    name: str
    target: str
    kwargs: tuple[tuple[str, Any], ...] = ()
    minutes: float = 1.0


TRAINABLE: dict[str, Trainable] = {}


def trainable(model: str, target: str, minutes: float, **kwargs: Any) -> None:
    """Declare that `audit train model=<model>` calls `target(seed=, out_dir=, quick=, **kwargs)`."""
    TRAINABLE[model] = Trainable(model, target, tuple(sorted(kwargs.items())), minutes)


def bundled_model(name: str, factory: str, description: str, family: str, weights: tuple[str, ...], defect: bool = False) -> None:
    """Register a bundled model; `weights` names the manifests verified before a run starts."""
    models.register(name, factory, description, family=family, weights=weights, defect=defect)


def manifest_params(name: str) -> int | None:
    """Parameter count from a model's manifest, read without importing torch."""
    try:
        return int(json.loads((weights_dir() / f"{name}.json").read_text())["params"])
    except (OSError, KeyError, ValueError):
        return None


def _discover() -> None:
    for module in pkgutil.iter_modules(reference_models.__path__):
        if module.ispkg:
            try:
                importlib.import_module(f"reference_models.{module.name}.entries")
            except ModuleNotFoundError as exc:
                if exc.name != f"reference_models.{module.name}.entries":
                    raise


_discover()
