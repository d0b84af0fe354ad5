"""Held-out documents for language-model metrics, and the bundled default (TinyStories).

The sample cache falls back to the bundled split when a run brings no `text=` file, so this
module sits below both the cache (audit.sample_store) and the user's reference data (audit.reference_data).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HeldoutText:
    """Held-out documents for language-model metrics, with what reports say about them."""

    name: str
    documents: tuple[str, ...]
    sha256: str
    description: str


def tinystories_heldout() -> HeldoutText:
    """The default: the bundled TinyStories held-out split."""
    from audit.datasets import load_dataset

    split = load_dataset("tinystories")
    return HeldoutText(
        "tinystories-heldout", split.heldout, split.sha256,
        "TinyStories held-out split (every 10th story; first n stories)",
    )


__all__ = ["HeldoutText", "tinystories_heldout"]
