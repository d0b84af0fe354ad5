"""Load a model from its `model=` word, in a precision and device.

A word is one of:

- a registered name: a bundled model, or a plugin's entry point in the `audit.models` group;
- `package.module:factory`: an import path to a factory returning a ModelAdapter;
- `hf:<folder>`: a local Hugging Face causal LM directory (see `audit.adapters.model_files`);
- `torchscript:<file>[?latent=..&classes=..]`: a TorchScript image generator.

Factories are called as `factory()`, or `factory(precision=..., device=...)` when they accept
those keywords (e.g. to load their weights directly in the run's dtype); the precision variant is
applied to the result either way.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

from audit.errors import InputError
from audit.families import FAMILY_NAMES
from audit.registry import import_target, model_entry


def factory_for(name: str) -> Callable[..., Any]:
    """The factory behind a model word: a registered name, a `package.module:attr` path, or an
    `hf:` / `torchscript:` source word (a factory taking precision and device)."""
    from audit.adapters.model_files import is_source_word, load_source

    if is_source_word(name):
        return functools.partial(load_source, name)
    if ":" in name:
        return import_target(name)
    return model_entry(name).load()


def validate_adapter(word: str, adapter: Any) -> None:
    """Fail with one line if an object does not look like a ModelAdapter."""
    info = getattr(adapter, "info", None)
    if info is None or not hasattr(adapter, "capabilities"):
        raise InputError(f"Model '{word}' did not return a ModelAdapter (got {type(adapter).__name__}: no info/capabilities).")
    if getattr(info, "family", None) not in FAMILY_NAMES:
        raise InputError(f"Model '{word}' has family '{getattr(info, 'family', None)}'; valid: {', '.join(FAMILY_NAMES)}.")


def call_factory(factory: Callable[..., Any], precision: str, device: str) -> Any:
    """`factory(precision=, device=)` when it takes those keywords (or **kwargs), else `factory()`."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return factory()
    names = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params)
    kwargs = {k: v for k, v in (("precision", precision), ("device", device)) if var_kw or k in names}
    return factory(**kwargs)


def build_model(word: str, precision: str = "fp32", device: str = "cpu") -> Any:
    """The adapter behind `word`, checked against the contract's basics, before any precision."""
    from audit.adapters.model_files import is_source_word, load_source

    if is_source_word(word):
        adapter = load_source(word, precision, device)
    else:
        factory = factory_for(word)
        if not callable(factory):
            raise InputError(f"Model '{word}' resolves to {type(factory).__name__}, which is not callable.")
        adapter = call_factory(factory, precision, device)
    validate_adapter(word, adapter)
    return adapter


def load_model(word: str, precision: str = "fp32", device: str = "cpu") -> Any:
    """Build the adapter behind `word`, check it honours the contract, apply the precision."""
    from audit.precision import apply_precision

    return apply_precision(build_model(word, precision, device), precision, device)
