"""The text contract of `generate()`, checked: one plain `str` per prompt.

Every reader of generations (the quality and fairness checks, the sample store, the efficiency
suite's timed calls) applies this one definition, so it lives beside the adapter contract.
"""

from __future__ import annotations

from typing import Any

from audit.errors import ModelOutputError


def plain_texts(outputs: Any) -> Any:
    """A model's generations as a plain list of plain `str` where they are a list or tuple: a str
    subclass can answer `lower()`, `split()` or `len()` with what it likes (one made a text of one
    repeated word score distinct-1 1.0), and a list subclass its own `__iter__` or `__len__`.
    Anything else is returned as it came, for `checked_texts` to refuse."""
    if not isinstance(outputs, (list, tuple)):
        return outputs
    items = list.__iter__(outputs) if isinstance(outputs, list) else tuple.__iter__(outputs)  # not a subclass's own __iter__
    return [str.__str__(o) if isinstance(o, str) else o for o in items]


def checked_texts(model: str, outputs: Any, prompts: int) -> list[str]:
    """`generate()`'s outputs for `prompts` prompts as a plain list of plain str, one per prompt;
    ModelOutputError naming the model otherwise."""
    texts = plain_texts(outputs)
    if not isinstance(texts, list) or len(texts) != prompts or not all(type(t) is str for t in texts):
        got = f"{len(texts)} items" if isinstance(texts, list) else type(outputs).__name__
        raise ModelOutputError(f"model '{model}' generate() returned {got} for {prompts} prompts, expected one str each")
    return texts


__all__ = ["checked_texts", "plain_texts"]
