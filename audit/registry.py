"""Lazy registries of models, checks and suites.

Entries are `"module:attr"` strings (or objects) loaded on first use, so listing names costs
nothing; installed plugins add entries through the `audit.models` / `audit.checks` entry points.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Callable, Iterator

from audit.errors import InputError, UnknownNameError


def did_you_mean(kind: str, name: str, valid: list[str]) -> str:
    """The one-line message for an unknown name: close matches first, then every valid name."""
    close = difflib.get_close_matches(name, valid, n=3, cutoff=0.5)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    return f"Unknown {kind} '{name}'.{hint} Available: {', '.join(valid) or '(none)'}."


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

    def __init__(self, kind: str, entry_point_group: str | None = None) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}
        self._entry_point_group = entry_point_group
        self._plugins_loaded = entry_point_group is None

    def register(self, name: str, target: Any, description: str = "", **meta: Any) -> None:
        self._entries[name] = Entry(name, target, description, dict(meta))

    def _load_plugins(self) -> None:
        """Add the entry points of the registry's group (installed plugin packages) once; a
        plugin never replaces a name registered in code."""
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


models = Registry("model", entry_point_group="audit.models")
"""Model factories: `factory(precision=..., device=...) -> ModelAdapter`."""

checks = Registry("check", entry_point_group="audit.checks")
"""Check ids to `CheckSpec`s, filled by the `@check` decorator when check modules import."""

_checks_imported = False


def load_check_modules() -> None:
    """Import every module of `audit.checks` once so their `@check` decorators fill `checks`
    (check modules import torch only inside functions, so this stays cheap)."""
    global _checks_imported
    if not _checks_imported:
        _checks_imported = True
        import pkgutil

        import audit.checks

        for module in pkgutil.iter_modules(audit.checks.__path__):
            importlib.import_module(f"audit.checks.{module.name}")
        for entry in list(checks):
            if entry.metadata.get("plugin"):
                checks.load(entry.name)  # a plugin's module registers its checks' metadata on import
                if checks.entry(entry.name).metadata.get("plugin"):
                    raise InputError(f"Check plugin '{entry.name}' ({entry.target}) did not register a check named '{entry.name}' with @check.")


def check_spec(check_id: str) -> Any:
    load_check_modules()
    return checks.load(check_id)


def register_bundled_models() -> None:
    importlib.import_module("reference_models.catalog")


def model_entry(name: str) -> Entry:
    register_bundled_models()
    return models.entry(name)


def factory_for(name: str) -> Callable[..., Any]:
    """The factory behind a model word: a registered name, a `package.module:attr` path, or an
    `hf:` / `torchscript:` source word (a factory taking precision and device)."""
    from audit.adapters.sources import is_source_word

    if is_source_word(name):
        import functools

        from audit.adapters.sources import load_source

        return functools.partial(load_source, name)
    if ":" in name:
        return import_target(name)
    return model_entry(name).load()
