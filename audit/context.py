"""What a check sees: the model, the run settings and the run's shared `SampleStore`.

A check reads samples, embeddings and memoised values through its `CheckContext`, which keys
them by (model, precision, seed, n); the store itself lives in `audit.sample_store`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from audit.errors import ModelOutputError
from audit.evaluators import Embedding
from audit.progress_events import report_step
from audit.sample_store import SampleKey, Samples, SampleStore

FP32 = "fp32"
"""The reference precision every other precision is compared with."""
FP32_ADAPTER_MEMO = "fp32_adapter"
"""Memo name of `CheckContext.fp32_adapter`, keyed (model word, device)."""


@dataclass
class CheckContext:
    """Handed to every check: the adapter, the run's settings and the shared store."""

    adapter: Any
    model: str
    precision: str
    seed: int
    n: int
    bootstrap: int
    store: SampleStore
    artifact_dir: Path
    params: dict[str, Any] = field(default_factory=dict)
    source: Any = None
    """What builds the model (audit.adapters.loading.ModelSpec: its target and arguments, or the
    adapter object), None where `model` is the word itself: a display name may be another
    registered model's, so nothing rebuilds the model by its name."""

    @property
    def key(self) -> SampleKey:
        return (self.model, self.precision, self.seed, self.n)

    def samples(self) -> Samples:
        return self.store.samples(self.adapter, self.key)

    def embedding(self) -> Embedding:
        return self.store.embedding(self.adapter, self.key)

    def strata(self) -> Any:
        """The class of each generated row (a numpy array) when the samples were drawn
        class-balanced (a conditional model), so resampling can keep that design; None for
        i.i.d. samples."""
        import numpy as np

        labels = self.samples().labels
        return None if labels is None else np.asarray(labels)

    def image_shape(self) -> tuple[int, ...]:
        """(C, H, W) of this model's images: as its `info.image_shape` declares, else those of the
        run's shared samples (drawn for it: a check that draws its own images need not wait for them)."""
        declared = getattr(self.adapter.info, "image_shape", None)
        if declared:
            return tuple(int(d) for d in declared)
        return tuple(int(d) for d in self.samples().images.shape[1:])

    @property
    def reference(self) -> Any:
        """The run's real reference images at this model's shape (audit.sample_store.SampleStore.reference_at):
        the bundled digits split, or the user's data= converted and resized to the generator's shape."""
        reference = self.store.reference
        if not hasattr(reference, "at"):
            return reference
        return self.store.reference_at(self.image_shape(), self.model)

    def real_embedding(self, split: str = "train") -> Embedding:
        return self.store.real_embedding(split, self.reference)

    def require_classes(self, what: str) -> int:
        """The evaluator's number of classes; NotApplicable (a skip with the reason) when it has
        none (logits [N, 0], e.g. a feature-only network), since `what` reads its classes."""
        from audit.errors import NotApplicable

        known = getattr(self.store.evaluator, "classes", None)  # read off a batch it has embedded: no sampling for it
        classes = int(known) if known is not None else int(self.embedding().logits.shape[1])
        if classes < 2:
            raise NotApplicable(f"{what} reads the evaluator's classes; evaluator '{self.store.evaluator.name}' has none")
        return classes

    def heldout_text(self) -> Any:
        """The run's held-out documents for language-model metrics (see SampleStore.heldout_text)."""
        return self.store.heldout_text()

    def memo(self, name: str, compute: Callable[[], Any], *extra: Any) -> Any:
        """Run-wide cache of `compute()` for this (model, precision, seed, n) and `extra` key parts."""
        return self.store.memo(name, (*self.key, *extra), compute)

    def reference_memo(self, name: str, compute: Callable[[], Any], *extra: Any) -> Any:
        """Run-wide cache of `compute()` for values that depend on the real reference only
        (computed once per run, whatever the model), keyed by the reference and `extra`."""
        return self.store.memo(name, (self.reference.name, *extra), compute, shared=True)

    def fp32_adapter(self) -> Any:
        """The float32 build of the same model on the same device, loaded once per run and shared
        by every check that compares a precision variant with it or measures it unquantized. Built
        from `source` as the runner builds the model (an adapter object: the object itself, uncast)."""
        from audit.adapters.loading import load_model

        device = str(getattr(self.adapter.info, "device", "cpu"))
        return self.store.memo(FP32_ADAPTER_MEMO, (self.model, device), lambda: load_model(self.source or self.model, FP32, device))

    def progress(self, step: str, done: int | None = None, total: int | None = None) -> None:
        """Report where a long step of the check is (e.g. "sampling", 640, 1000) to the run's
        display; a no-op when nothing listens. Checks report here and never print."""
        report_step(step, done, total)

    def rng_seed(self, salt: str) -> int:
        """A bootstrap seed per check, derived from the run seed (stable across runs)."""
        import zlib

        return (self.seed * 1_000_003 + zlib.crc32(salt.encode())) % (2**32)


def finite_or_raise(name: str, value: float) -> float:
    if not math.isfinite(value):
        raise ModelOutputError(f"{name} is not finite ({value})")
    return value
