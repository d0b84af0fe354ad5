"""The run's shared instruments, checked for changes made in place.

Models run in audit's process, and the seal (audit.seal) sees code replaced, not values changed:
a model that found the digits evaluator through `gc.get_objects()` and halved its weights in place
moved every later model's FID (vae: 114 to 8,785) with no error anywhere. `InstrumentDigests`
notes a digest of each shared instrument as it is built (the evaluator's parameters and buffers,
the reference's image and label arrays, the reference's evaluator features) and `changed()` names
those whose content differs since; the runner then treats it as the seal treats replaced code.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Hashable

REFERENCE_ARRAYS = ("train_x", "train_y", "test_x", "test_y")
"""The arrays of a reference (audit.evaluators.base.ReferenceImages) that every model is compared with."""


def content_digest(value: Any) -> bytes:
    """blake2b of the numbers a value holds: a torch module's parameters and buffers, a tensor,
    a numpy array, an evaluator's network, a reference's arrays, an embedding's features and
    logits (other values: their repr)."""
    import numpy as np
    import torch

    digest = hashlib.blake2b(digest_size=16)

    def add(item: Any) -> None:
        if isinstance(item, torch.nn.Module):
            for name, tensor in [*item.named_parameters(), *item.named_buffers()]:
                digest.update(name.encode())
                add(tensor)
        elif isinstance(item, torch.Tensor):
            digest.update(str((item.dtype, tuple(item.shape))).encode())
            flat = item.detach().to("cpu").contiguous().reshape(-1)
            digest.update(flat.view(torch.uint8).numpy() if flat.numel() else b"")
        elif isinstance(item, np.ndarray):
            digest.update(str((item.dtype, item.shape)).encode())
            digest.update(np.ascontiguousarray(item).view(np.uint8).reshape(-1) if item.size and item.dtype != object else repr(item).encode())
        elif hasattr(item, "network") and isinstance(getattr(item, "network"), torch.nn.Module):
            add(item.network)
        elif all(hasattr(item, name) for name in ("features", "logits")):
            add(item.features)
            add(item.logits)
        elif hasattr(item, "train_x"):
            for name in REFERENCE_ARRAYS:
                part = getattr(item, name, None)
                if part is not None:
                    add(part)
        else:
            digest.update(repr(item).encode())

    add(value)
    return digest.digest()


@dataclass
class InstrumentDigests:
    """Digests of the shared instruments, taken as each is built (`note`), compared by `changed`."""

    digests: dict[Hashable, tuple[str, Any, bytes]] = field(default_factory=dict)

    def note(self, key: Hashable, label: str, instrument: Any) -> None:
        """Take `instrument`'s digest now, as it is built, under `label` ("the evaluator's weights")."""
        self.digests[key] = (label, instrument, content_digest(instrument))

    def changed(self) -> list[str]:
        """Labels of the instruments whose content differs from their digest (each named once)."""
        return sorted({label for label, instrument, digest in self.digests.values() if content_digest(instrument) != digest})

    def clear(self) -> None:
        self.digests.clear()


__all__ = ["InstrumentDigests", "REFERENCE_ARRAYS", "content_digest"]
