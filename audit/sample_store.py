"""The run-wide cache every check reads through: samples, evaluator embeddings, memoised
intermediates and the hashes of the instruments a run loaded.

Samples and evaluator features are the expensive part, so each (model, precision, seed, n)
sample set is generated once and featurized once, however many checks read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from audit.adapters.images import validate_images
from audit.errors import as_model_error, must_propagate
from audit.evaluators import Embedding, ImageEvaluator, ReferenceImages

if TYPE_CHECKING:
    import torch

SampleKey = tuple[str, str, int, int]
"""(model word, precision, seed, n)."""


@dataclass
class Samples:
    """One generated sample set: images and, for a class-conditional model, the labels asked for."""

    images: "torch.Tensor"
    labels: "torch.Tensor | None"


@dataclass
class SampleStore:
    """Per-run cache of generated samples and their evaluator embeddings, with call counters."""

    evaluator_factory: Callable[[], ImageEvaluator]
    reference_factory: Callable[[], ReferenceImages]
    generate_calls: int = 0
    embed_calls: int = 0
    memo_calls: dict[str, int] = field(default_factory=dict)
    _samples: dict[SampleKey, Samples | Exception] = field(default_factory=dict)
    _embeddings: dict[Any, Embedding] = field(default_factory=dict)
    _memo: dict[Any, Any] = field(default_factory=dict)
    _evaluator: ImageEvaluator | None = None
    _reference: ReferenceImages | None = None
    text_factory: Callable[[], Any] = field(default=None)  # type: ignore[assignment]
    """Held-out text for language-model metrics (`audit.heldout_text.HeldoutText`); None: bundled TinyStories."""
    _text: Any = None
    instruments: dict[str, str] = field(default_factory=dict)
    """sha256 of measuring instruments checks loaded themselves (e.g. `detector:<file>`): they enter
    the run fingerprint beside the evaluator, so `audit compare` refuses runs measured differently."""

    @property
    def evaluator(self) -> ImageEvaluator:
        if self._evaluator is None:
            self._evaluator = self.evaluator_factory()
        return self._evaluator

    @property
    def reference(self) -> ReferenceImages:
        if self._reference is None:
            self._reference = self.reference_factory()
        return self._reference

    def instrument_hashes(self) -> dict[str, str]:
        """sha256 of the evaluator, detectors and data sets this run actually used (those never
        loaded are absent), keyed `evaluator:<name>`, `detector:<file>`, `data:<name>`."""
        files = {}
        if self._evaluator is not None:
            files[f"evaluator:{self._evaluator.name}"] = self._evaluator.sha256
        files.update(self.instruments)
        if self._reference is not None:
            files[f"data:{self._reference.name}"] = self._reference.sha256
        if self._text is not None:
            files[f"data:{self._text.name}"] = self._text.sha256
        return files

    def heldout_text(self) -> Any:
        """The run's held-out documents (`.documents`, `.name`, `.sha256`, `.description`): the
        user's `text=` file, else the bundled TinyStories held-out split; read once per run."""
        if self._text is None:
            if self.text_factory is None:
                from audit.heldout_text import tinystories_heldout

                self._text = tinystories_heldout()
            else:
                self._text = self.text_factory()
        return self._text

    def samples(self, adapter: Any, key: SampleKey) -> Samples:
        """Generate once per key; a failure is cached too, so a broken model is called once."""
        import torch

        if key not in self._samples:
            model, _, seed, n = key
            labels = None
            if adapter.num_classes:
                labels = torch.arange(n) % adapter.num_classes
            self.generate_calls += 1
            try:
                images = adapter.sample(n, seed, labels=labels)
                validate_images(model, images, n)
                self._samples[key] = Samples(images.float().cpu(), labels)
            except BaseException as exc:  # user code: sys.exit() becomes an error, interrupts go on
                if must_propagate(exc):
                    raise
                self._samples[key] = as_model_error(exc)
        cached = self._samples[key]
        if isinstance(cached, Exception):
            raise cached
        return cached

    def embedding(self, adapter: Any, key: SampleKey) -> Embedding:
        if key not in self._embeddings:
            images = self.samples(adapter, key).images
            self.embed_calls += 1
            self._embeddings[key] = self.evaluator.embed(images)
        return self._embeddings[key]

    def real_embedding(self, split: str) -> Embedding:
        """Embedding of the reference's `train` or `test` images (once per run)."""
        import torch

        key = ("real", split)
        if key not in self._embeddings:
            x = self.reference.train_x if split == "train" else self.reference.test_x
            self._embeddings[key] = self.evaluator.embed(torch.tensor(np.asarray(x)))
        return self._embeddings[key]

    def memo(self, name: str, key: Any, compute: Callable[[], Any]) -> Any:
        """Compute `name` once per key (a run-wide cache for any shared intermediate: unconditional
        samples, nearest-neighbour radii, free text generations); `memo_calls[name]` counts the
        computations, so tests can prove sharing. A failure is cached and re-raised like samples."""
        full = (name, key)
        if full not in self._memo:
            self.memo_calls[name] = self.memo_calls.get(name, 0) + 1
            try:
                self._memo[full] = compute()
            except BaseException as exc:
                if must_propagate(exc):
                    raise
                self._memo[full] = as_model_error(exc)
        cached = self._memo[full]
        if isinstance(cached, Exception):
            raise cached
        return cached

    def has_samples(self, key: SampleKey) -> bool:
        return isinstance(self._samples.get(key), Samples)


__all__ = ["SampleKey", "SampleStore", "Samples"]
