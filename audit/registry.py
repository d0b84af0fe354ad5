"""Lazy registries of models, checks, and the instruments plugins provide (data sets, image
evaluators, deepfake detectors, trainers).

Entries are `"module:attr"` strings (or objects) loaded on first use, so listing names costs
nothing; installed plugins add entries through the `audit.models` / `audit.checks` entry points.
The bundled models are such a plugin: `register_bundled_models` is the one place `audit` names
`audit_reference_models`, whose catalog fills these registries.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Callable, Iterator

from audit.errors import InputError, UnknownNameError
from audit.messages import did_you_mean

__all__ = [
    "Entry", "Registry", "checks", "datasets", "detectors", "evaluators", "import_target",
    "model_entry", "models", "register_bundled_models", "trainers",
]


def import_target(target: str) -> Any:
    """Import `"package.module:attr"` and return the attribute, with errors that name the path."""
    if ":" not in target:
        raise InputError(f"'{target}' is not an import path of the form package.module:attribute.")
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise InputError(f"Cannot import '{module_name}' for '{target}': {exc}.") from None
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a user's module that fails (or calls sys.exit()) while importing
        raise InputError(f"Importing '{module_name}' for '{target}' raised {type(exc).__name__}: {exc}.") from None
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InputError(f"Module '{module_name}' has no attribute '{attr}' (from '{target}').")
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class Entry:
    """One registered name: what to load and what to show about it without loading it."""

    name: str
    target: Any
    description: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def load(self) -> Any:
        if isinstance(self.target, str) and ":" not in self.target:  # an entry point naming a module
            import_target(f"{self.target}:__name__")  # imports it; errors name the module
            return importlib.import_module(self.target)
        return import_target(self.target) if isinstance(self.target, str) else self.target


class Registry:
    """Names to lazily loaded objects, with helpful errors for unknown names."""

    def __init__(self, kind: str, entry_point_group: str | None = None, fill: Callable[[], None] | None = None) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}
        self._entry_point_group = entry_point_group
        self._plugins_loaded = entry_point_group is None
        self._fill = fill

    def register(self, name: str, target: Any, description: str = "", **meta: Any) -> None:
        self._entries[name] = Entry(name, target, description, dict(meta))

    def _load_plugins(self) -> None:
        """Add the entry points of the registry's group (installed plugin packages) once; a
        plugin never replaces a name registered in code. A registry with a `fill` function runs
        it first (cheap after the first time), so its entries exist whenever it is read."""
        if self._fill is not None:
            self._fill()
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for ep in metadata.entry_points(group=self._entry_point_group):
            if ep.name not in self._entries:
                dist = getattr(ep, "dist", None)
                self.register(ep.name, ep.value, f"plugin from {dist.name if dist else ep.value}", plugin=True, distribution=dist.name if dist else None)

    def refresh_plugins(self) -> None:
        """Forget plugin entries and read the entry points again (after installing a plugin in a
        running process; a new process reads them on first use anyway)."""
        if self._entry_point_group is None:
            return
        for name in [n for n, e in self._entries.items() if e.metadata.get("plugin")]:
            del self._entries[name]
        self._plugins_loaded = False

    def names(self) -> list[str]:
        self._load_plugins()
        return sorted(self._entries)

    def __contains__(self, name: str) -> bool:
        self._load_plugins()
        return name in self._entries

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entry(n) for n in self.names())

    def entry(self, name: str) -> Entry:
        self._load_plugins()
        if name not in self._entries:
            raise UnknownNameError(did_you_mean(self.kind, name, self.names()))
        return self._entries[name]

    def load(self, name: str) -> Any:
        entry = self.entry(name)
        obj = entry.load()
        current = self._entries.get(name)
        if current is not entry and current is not None:
            # importing a plugin's module re-registered the name (e.g. its `@check` decorator)
            return current.load()
        return obj


def register_bundled_models() -> None:
    """Import the bundled models' catalog, which registers them and their instruments (once)."""
    importlib.import_module("audit_reference_models.catalog")


models = Registry("model", entry_point_group="audit.models")
"""Model factories: `factory(precision=..., device=...) -> ModelAdapter`."""

datasets = Registry("data set", fill=register_bundled_models)
"""Data set loaders: `loader() -> split`, e.g. digits images, held-out stories, census rows."""

evaluators = Registry("evaluator", fill=register_bundled_models)
"""Image evaluators: `loader() -> (network, sha256)`; metadata names their `weights`."""

detectors = Registry("detector", fill=register_bundled_models)
"""Deepfake detectors: `loader(name) -> detector`; metadata gives `kind` and `trained_on` families."""

trainers = Registry("trainable model", fill=register_bundled_models)
"""What `audit train model=NAME` runs: `train(seed=, out_dir=, quick=, **kwargs)`; metadata gives
`kwargs`, `minutes` and the `weights_folder` the weights ship in."""

checks = Registry("check", entry_point_group="audit.checks")
"""Check ids to `CheckSpec`s, filled by the `@check` decorator when check modules import."""


def model_entry(name: str) -> Entry:
    register_bundled_models()
    return models.entry(name)
