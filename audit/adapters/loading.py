"""Load a model by registered name or `package.module:factory` path, in a precision and device."""

from __future__ import annotations

from typing import Any

from audit.adapters.base import FAMILIES
from audit.errors import InputError
from audit.registry import factory_for


def validate_adapter(word: str, adapter: Any) -> None:
    """Fail with one line if an object does not look like a ModelAdapter."""
    info = getattr(adapter, "info", None)
    if info is None or not hasattr(adapter, "capabilities"):
        raise InputError(f"Model '{word}' did not return a ModelAdapter (got {type(adapter).__name__}: no info/capabilities).")
    if getattr(info, "family", None) not in FAMILIES:
        raise InputError(f"Model '{word}' has family '{getattr(info, 'family', None)}'; valid: {', '.join(FAMILIES)}.")


def load_model(word: str, precision: str = "fp32", device: str = "cpu") -> Any:
    """Build the adapter behind `word`, check it honours the contract, apply the precision."""
    from audit.precision import apply_precision

    factory = factory_for(word)
    if not callable(factory):
        raise InputError(f"Model '{word}' resolves to {type(factory).__name__}, which is not callable.")
    adapter = factory()
    validate_adapter(word, adapter)
    return apply_precision(adapter, precision, device)
