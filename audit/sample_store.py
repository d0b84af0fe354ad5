"""The run-wide cache every check reads through: samples, evaluator embeddings, memoised
intermediates and the hashes of the instruments a run loaded.

Samples and evaluator features are the expensive part, so each (model, precision, seed, n)
sample set is generated once and featurized once, however many checks read it.
"""

from __future__ import annotations

import contextlib
import logging
import numbers
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np

from audit.adapters.images import owned_images, validate_images
from audit.adapters.texts import plain_texts
from audit.instrument_integrity import InstrumentDigests
from audit.errors import InputError, ModelOutputError, as_model_error, must_propagate
from audit.evaluators import BATCH, Embedding, ImageEvaluator, ReferenceImages
from audit.isolation import harness_defaults
from audit.progress_events import report_step

if TYPE_CHECKING:
    import torch

SampleKey = tuple[str, str, int, int]
"""(model word, precision, seed, n)."""
VERIFY_SAMPLES = 4
"""The fewest samples a sample-cache hit draws again from the model (the set's first, same seed)
before it is used, and the texts a generation-cache hit asks for again (the first prompts'): state
the key cannot see (a constructor flag, an environment variable read by a factory) that changes
them makes the hit a miss."""
VERIFY_MAX = 32
"""The most samples a hit draws again (`verify_count`): enough to cover the classes and prompts of
common models, few enough that a hit stays cheap."""
VERIFY_ATOL = 1e-4
"""Largest difference of a pixel (in [0, 1]) between those samples and the cached ones: float
nondeterminism passes, a changed sampler does not."""

log = logging.getLogger(__name__)


@dataclass
class Samples:
    """One generated sample set: images and, for a class-conditional model, the labels asked for."""

    images: "torch.Tensor"
    labels: "torch.Tensor | None"
    prompts: tuple[str, ...] | None = None
    """The prompt each image was generated for (a text-to-image model), else None."""


FEATURE_VERIFY = 8
"""Images a hit of cached evaluator features embeds again to verify it (`_same_features`)."""


def _first_reference_images(reference: Any, split: str, count: int) -> "torch.Tensor":
    """The first `count` images of a reference split, as its embedding reads them."""
    import torch

    if hasattr(reference, "batches"):
        return torch.from_numpy(np.asarray(next(iter(reference.batches(split))))[:count])
    x = reference.train_x if split == "train" else reference.test_x
    return torch.tensor(np.asarray(x[:count]))


def _check_declared_shape(model: str, adapter: Any, shape: tuple[int, ...]) -> None:
    """ModelOutputError when sample()'s images differ from the model's own `info.image_shape`: an
    HWC tensor [N, 16, 16, 1] from a model declaring 1x16x16 had been told the evaluator reads
    another shape, as if the model were right and the instrument wrong."""
    from audit.reference_images import shape_text

    declared = getattr(getattr(adapter, "info", None), "image_shape", None)
    if declared and tuple(int(d) for d in declared) != shape:
        raise ModelOutputError(f"model '{model}' sample() returned {shape_text(shape)} images, but its info.image_shape "
                               f"declares {shape_text(declared)} (images are [N, C, H, W], channels first)")


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
    _feature_memos: set[Any] = field(default_factory=set)
    """Memo entries whose computation read evaluator outputs (see `feature_reads`)."""
    _memo_generations: dict[Any, dict[str, Any]] = field(default_factory=dict)
    """Provenance of the text generations each memo entry's computation read (see `generations`)."""
    _evaluator: ImageEvaluator | None = None
    _reference: ReferenceImages | None = None
    text_factory: Callable[[], Any] = field(default=None)  # type: ignore[assignment]
    """Held-out text for language-model metrics (`audit.heldout_text.HeldoutText`); None: bundled TinyStories."""
    _text: Any = None
    prompts: Any = None
    """The run's `prompts=` (audit.config.Prompts): a text-to-image model's sample i gets prompt i mod P."""
    instruments: dict[str, str] = field(default_factory=dict)
    """sha256 of measuring instruments checks loaded themselves (e.g. `detector:<file>`): they enter
    the run fingerprint beside the evaluator, so `audit compare` refuses runs measured differently."""
    attributes: Any = None
    """The user's attribute classifier (`attributes=`, audit.attributes.AttributeClassifier), or None."""
    feature_reads: int = 0
    """Reads of evaluator outputs (embeddings, the evaluator itself): the runner compares it before
    and after a check to name the feature space of the records that read them."""
    cache: Any = None
    """The persistent cache across runs (audit.sample_cache.SampleCache), or None (`cache=off`)."""
    model_sources: dict[str, Any] = field(default_factory=dict)
    """What built each model word (target and arguments, `Plan.model_sources`): part of its cache key."""
    cache_used: dict[str, Any] = field(default_factory=dict)
    """Where what a check read came from ({"samples": {"status": "hit", "key": ...}, ...}): the runner
    empties it before each check and copies it into the record's details["cache"]."""
    _origins: dict[Any, dict[str, Any]] = field(default_factory=dict)
    _probes: dict[SampleKey, "torch.Tensor"] = field(default_factory=dict)
    """The first samples drawn to verify a cache entry that did not match (`_verified_hit`): stored
    with the entry generated instead when they are not its first samples (a batch-dependent sampler)."""

    integrity: InstrumentDigests = field(default_factory=InstrumentDigests)
    """Digests of the shared instruments as they were built (`changed_instruments`)."""

    @property
    def evaluator(self) -> ImageEvaluator:
        self.feature_reads += 1
        if self._evaluator is None:
            self._evaluator = self._new_evaluator()
        return self._evaluator

    def _new_evaluator(self) -> ImageEvaluator:
        with harness_defaults():
            evaluator = self.evaluator_factory()
        self.integrity.note("evaluator", "the evaluator's weights", evaluator)
        return evaluator

    def changed_instruments(self) -> list[str]:
        """What of the evaluator, the reference's arrays and the reference's features was changed in
        place since it was built (audit.instrument_integrity): model code reached it."""
        return self.integrity.changed()

    @property
    def reference(self) -> ReferenceImages:
        """The run's reference as planned: the bundled digits split, or the user's `data=`
        (audit.reference_images.UserReference, whose pixels are read per shape: `reference_at`)."""
        if self._reference is None:
            with harness_defaults():
                self._reference = self.reference_factory()
            if not hasattr(self._reference, "at"):  # the user's data= is read per shape as models need it: not one fixed set
                self.integrity.note("reference", "the reference images", self._reference)
        return self._reference

    def reference_at(self, shape: tuple[int, ...], model: str = "this model") -> ReferenceImages:
        """The reference at a generator's image shape (C, H, W): the user's data converted and
        resized to it (once per shape), or the fixed-shape bundled split, refused with the
        evaluator=/data= advice when it does not fit."""
        from audit.reference_data import digits_shape_error

        reference = self.reference
        if hasattr(reference, "at"):
            return reference.at(shape)
        fixed = tuple(reference.train_x.shape[1:])
        if tuple(shape) != fixed:
            advice = digits_shape_error(model, shape, False, self._evaluator_is_users())
            raise ModelOutputError(advice or f"the model generates {tuple(shape)} images, the reference '{reference.name}' holds {fixed}")
        return reference

    def _check_digits_evaluator(self, model: str, shape: tuple[int, ...]) -> None:
        """The bundled digits evaluator reads 1x16x16 only: any other shape is refused with what to give."""
        from audit.reference_data import digits_shape_error

        if not self._evaluator_is_users():
            advice = digits_shape_error(model, shape, hasattr(self.reference, "at"), False)
            if advice:
                raise ModelOutputError(advice)

    def _evaluator_is_users(self) -> bool:
        from audit.evaluators import DEFAULT_EVALUATOR

        if self._evaluator is None:
            self._evaluator = self._new_evaluator()
        return self._evaluator.name != DEFAULT_EVALUATOR

    def instrument_hashes(self) -> dict[str, str]:
        """sha256 of the evaluator, detectors and data sets this run actually used (those never
        loaded are absent), keyed `evaluator:<name>`, `detector:<file>`, `data:<name>`."""
        files = {}
        if self._evaluator is not None:
            files[f"evaluator:{self._evaluator.name}"] = self._evaluator.sha256
        files.update(self.instruments)
        if self.attributes is not None:
            files[f"attributes:{self.attributes.name}"] = self.attributes.sha256
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
                with harness_defaults():
                    self._text = self.text_factory()
        return self._text

    def samples(self, adapter: Any, key: SampleKey) -> Samples:
        """Generate once per key; a failure is cached too, so a broken model is called once."""
        if key not in self._samples and self._samples_from_cache(adapter, key):
            log.debug("samples of %s/%s (seed %d, n %d): read from the sample cache", *key)
        elif key not in self._samples:
            model, _, seed, n = key
            self.generate_calls += 1
            report_step("sampling", 0, n)
            started = time.perf_counter()
            try:
                self._samples[key] = self._draw(adapter, model, n, seed)
                self._samples_to_cache(key, self._samples[key])
                report_step("sampling", n, n)
                log.info("sampled %d images of %s/%s (seed %d) in %.2f s", n, model, key[1], seed, time.perf_counter() - started)
            except BaseException as exc:  # user code: sys.exit() becomes an error, interrupts go on
                if must_propagate(exc):
                    raise
                self._samples[key] = as_model_error(exc)
        else:
            log.debug("samples of %s/%s (seed %d, n %d): reused from this run's store", *key)
        cached = self._samples[key]
        if isinstance(cached, Exception):
            raise cached
        self._note_cache_read("samples", ("samples", key))
        return cached

    def _draw(self, adapter: Any, model: str, n: int, seed: int) -> Samples:
        """n samples as the store asks a model for them (class-balanced labels for a conditional
        model, the run's prompts for a text-to-image one), checked and copied out of the model's reach."""
        import torch

        labels = torch.arange(n) % adapter.num_classes if adapter.num_classes else None
        prompts = self._prompts_for(adapter, n)
        images = adapter.sample(n, seed, labels=labels, prompts=list(prompts)) if prompts else adapter.sample(n, seed, labels=labels)
        validate_images(model, images, n)
        _check_declared_shape(model, adapter, tuple(images.shape[1:]))
        return Samples(owned_images(images), labels, prompts)

    def _note_cache_read(self, what: str, origin: Any) -> None:
        if origin in self._origins:
            self.cache_used[what] = self._origins[origin]

    def _samples_from_cache(self, adapter: Any, key: SampleKey) -> bool:
        """Fill `key` from the persistent cache when an entry of exactly these samples exists and
        the model, asked again for the first of them, gives the same (`_verified_hit`)."""
        import torch

        from audit.sample_cache import cache_key, sample_parts

        if self.cache is None:
            return False
        parts = sample_parts(adapter, key, self.model_sources.get(key[0]), self.prompts)
        if isinstance(parts, str):
            self._origins[("samples", key)] = {"status": "unavailable", "reason": parts}
            log.debug("samples of %s/%s (seed %d, n %d): not cached: %s", *key, parts)
            return False
        entry = cache_key(parts)
        self._origins[("samples", key)] = {"status": "miss", "key": entry}
        found = self.cache.get(entry, "samples")
        if found is None:
            return False
        arrays, extra = found
        images = torch.from_numpy(arrays["images"])
        count = self.verify_count(adapter, key[3])
        if not self._verified_hit(adapter, key, count, images, arrays.get("probe")):
            reason = f"the cached samples differ from the first {count} the model gives now: generated again"
            self._origins[("samples", key)] = {"status": "miss", "key": entry, "reason": reason}
            log.debug("samples of %s/%s (seed %d, n %d): %s", *key, reason)
            return False
        labels = torch.from_numpy(arrays["labels"]) if "labels" in arrays else None
        prompts = tuple(extra["prompts"]) if extra.get("prompts") is not None else None
        self._samples[key] = Samples(images, labels, prompts)
        self._origins[("samples", key)] = {"status": "hit", "key": entry}
        report_step("sampling", key[3], key[3])
        return True

    def verify_count(self, adapter: Any, n: int) -> int:
        """How many of a set of n samples a hit draws again: VERIFY_SAMPLES, or the prefix that
        asks for every class of a conditional model (labels cycle: sample i has class i mod C) and
        every distinct prompt of a text-to-image model (prompt i mod P) when that is longer, so a
        change that shows only for one class or prompt is seen; at most VERIFY_MAX and n."""
        from audit.adapters.base import TEXT_TO_IMAGE, has_capability

        count = VERIFY_SAMPLES
        classes = getattr(adapter, "num_classes", None)
        if isinstance(classes, numbers.Integral) and classes > 0:
            count = max(count, int(classes))
        if has_capability(adapter, TEXT_TO_IMAGE) and self.prompts is not None:
            seen: set[str] = set()
            for i, prompt in enumerate(self.prompts.for_samples(min(n, VERIFY_MAX))):
                if prompt not in seen:
                    seen.add(prompt)
                    count = max(count, i + 1)
        return max(0, min(count, n, VERIFY_MAX))

    def _verified_hit(self, adapter: Any, key: SampleKey, count: int, images: "torch.Tensor", probe: np.ndarray | None) -> bool:
        """Whether the model, asked now for the first `count` samples of `key` (same seed), gives
        the entry's first images, or its `probe` where it holds one, within VERIFY_ATOL.
        False also when the model fails or answers otherwise: the full set is then generated
        (and fails) as on a miss. What was drawn is kept for `_samples_to_cache`."""
        import torch

        model, _, seed, _ = key
        try:
            drawn = self._draw(adapter, model, count, seed).images
        except BaseException as exc:  # user code: as on a miss, the full sampling meets it again
            if must_propagate(exc):
                raise
            return False
        if _same_images(drawn, torch.from_numpy(probe) if probe is not None else images[:count]):
            return True
        self._probes[key] = drawn
        return False

    def _samples_to_cache(self, key: SampleKey, samples: Samples) -> None:
        """Store what was generated after a miss, with the first samples the model gives when asked
        for only those (`_probes`) where they differ from the set's first: hits verify against them."""
        origin = self._origins.get(("samples", key), {})
        probe = self._probes.pop(key, None)
        if self.cache is None or origin.get("status") != "miss":
            return
        arrays = {"images": samples.images.numpy()}
        if probe is not None and not _same_images(probe, samples.images[: len(probe)]):
            arrays["probe"] = probe.numpy()
        if samples.labels is not None:
            arrays["labels"] = samples.labels.numpy()
        self.cache.put(origin["key"], "samples", arrays, {"prompts": list(samples.prompts) if samples.prompts else None})

    def generations(
        self, adapter: Any, model: str, precision: str, prompts: Sequence[str], max_new_tokens: int, seed: int,
        decoding: Mapping[str, Any], produce: Callable[[int], Any],
    ) -> tuple[Any, float]:
        """The continuations of `prompts` that `produce(len(prompts))` makes (the model's generate
        calls) and the seconds they took; read from the persistent cache when an entry of exactly
        these generations exists and the model, asked again for the first of them (`produce(k)`:
        the first k prompts, asked the way the check asks for all), gives the same texts (then
        with the seconds of the run that made them: `details.cache` says so); stored after a miss
        when they are one str per prompt. `decoding` holds the settings that are not arguments
        here (greedy, temperature, top-k/p, batching) as JSON values."""
        from audit.sample_cache import cache_key, generation_parts, texts_to_array

        entry: str | None = None
        count = min(len(prompts), VERIFY_SAMPLES)
        drawn: list[str] | None = None
        reason: dict[str, str] = {}
        if self.cache is not None:
            parts = generation_parts(adapter, model, precision, self.model_sources.get(model), prompts, max_new_tokens, seed, decoding)
            if isinstance(parts, str):
                self._note_generations({"status": "unavailable", "reason": parts})
            else:
                entry = cache_key(parts)
                hit, drawn, reason = self._verified_generations(entry, len(prompts), count, produce)
                if hit is not None:
                    self._note_generations({"status": "hit", "key": entry})
                    report_step("generating text", len(prompts), len(prompts))
                    return hit
        started = time.perf_counter()
        outputs = plain_texts(produce(len(prompts)))
        seconds = time.perf_counter() - started
        if entry is not None:
            self._note_generations({"status": "miss", "key": entry, **reason})
            if _texts(outputs) and len(outputs) == len(prompts):
                arrays = {"texts": texts_to_array(outputs)}
                if drawn is not None and drawn != outputs[:count]:
                    arrays["probe"] = texts_to_array(drawn)
                self.cache.put(entry, "generations", arrays, {"seconds": seconds})
        return outputs, seconds

    def _verified_generations(
        self, entry: str, total: int, count: int, produce: Callable[[int], Any],
    ) -> tuple[tuple[list[str], float] | None, list[str] | None, dict[str, str]]:
        """(hit, drawn, reason): hit is (texts, seconds) when the cache holds `total` texts for
        `entry` and the model, asked now for the first `count` (`produce(count)`), gives the
        entry's first texts, or its `probe` where it holds one (a model whose texts depend on how
        many prompts it is asked for: verified from the next run on against what it gave then, as
        samples are); else None, with what the model gave (None when it failed or was not asked,
        kept with the entry generated instead) and why a cached entry was not used."""
        from audit.sample_cache import texts_from_array

        found = self.cache.get(entry, "generations")
        if found is None:
            return None, None, {}
        try:
            texts = texts_from_array(found[0]["texts"])
            probe = texts_from_array(found[0]["probe"]) if "probe" in found[0] else texts[:count]
            seconds = float(found[1]["seconds"])
        except (ValueError, KeyError, TypeError):
            return None, None, {}
        if len(texts) != total:
            return None, None, {}
        drawn = _drawn_texts(produce, count)
        if drawn == probe:
            return (texts, seconds), None, {}
        return None, drawn, {"reason": f"the cached texts differ from the first {count} the model gives now: generated again"}

    def _note_generations(self, origin: dict[str, Any]) -> None:
        """Provenance of a check's generation sets in `cache_used["generations"]`: one set as its
        origin; several as their keys with "hit", "miss" or "partial" (some of each)."""
        previous = self.cache_used.get("generations")
        if previous is None:
            self.cache_used["generations"] = origin
            return
        keys = [k for o in (previous, origin) for k in o.get("keys", [o["key"]] if "key" in o else [])]
        status = previous["status"] if previous["status"] == origin["status"] else "partial"
        reason = origin.get("reason", previous.get("reason"))
        self.cache_used["generations"] = {**({"reason": reason} if reason else {}), "status": status, "keys": list(dict.fromkeys(keys))}

    def _prompts_for(self, adapter: Any, n: int) -> tuple[str, ...] | None:
        """The prompts of n samples of a text-to-image model (the run's list cycled), else None."""
        from audit.adapters.base import TEXT_TO_IMAGE, has_capability

        if not has_capability(adapter, TEXT_TO_IMAGE):
            return None
        if self.prompts is None:
            raise InputError(f"the model declares {TEXT_TO_IMAGE}: give prompts=<file> (UTF-8, one prompt per line)")
        self.instruments[f"prompts:{self.prompts.name}"] = self.prompts.sha256
        return tuple(self.prompts.for_samples(n))

    def embedding(self, adapter: Any, key: SampleKey) -> Embedding:
        self.feature_reads += 1
        if key not in self._embeddings:
            images = self.samples(adapter, key).images
            self._check_digits_evaluator(key[0], tuple(images.shape[1:]))
            entry = self._cached_embedding(("features", key), self._origins.get(("samples", key)), {"samples": key}, images)
            if entry is None:
                self.embed_calls += 1
                self._embeddings[key] = self._embed(images, "featurizing samples")
                self._embedding_to_cache(("features", key), self._embeddings[key])
            else:
                self._embeddings[key] = entry
        else:
            log.debug("features of %s/%s (seed %d, n %d): reused from this run's store", *key)
        self._note_cache_read("features", ("features", key))
        return self._embeddings[key]

    def _cached_embedding(
        self, origin: Any, base: dict[str, Any] | None, parts: dict[str, Any], images: "torch.Tensor | None" = None,
        first: "Callable[[], torch.Tensor] | None" = None,
    ) -> Embedding | None:
        """The evaluator's embedding from the persistent cache, keyed by what it embeds (`base`:
        the samples' cache origin with the sha256 of the `images` themselves, since an entry of
        samples is replaced when a hit fails its verification; or None for the reference, named
        in `parts`) and the evaluator's name and sha256; None on a miss (then
        `_embedding_to_cache` stores what is computed)."""
        from audit.sample_cache import array_sha256, cache_key, code_version

        if self.cache is None:
            return None
        if base is not None and "key" not in base:
            self._origins[origin] = dict(base)
            return None
        if self._evaluator is None:
            self._evaluator = self._new_evaluator()
        of = {"entry": base["key"], "images_sha256": array_sha256(images.numpy())} if base and images is not None else parts
        entry = cache_key({"kind": origin[0], "of": of, "evaluator": self._evaluator.name,
                           "evaluator_sha256": self._evaluator.sha256, "code": code_version()})
        found = self.cache.get(entry, origin[0])
        self._origins[origin] = {"status": "miss" if found is None else "hit", "key": entry}
        if found is None:
            return None
        cached = Embedding(found[0]["features"], found[0]["logits"])
        head = images[:FEATURE_VERIFY] if images is not None else first() if first is not None else None
        if head is not None and not self._same_features(head, cached):
            reason = f"the evaluator gives other features for the first {len(head)} images than the cached ones: computed again"
            self._origins[origin] = {"status": "miss", "key": entry, "reason": reason}
            log.debug("%s: %s", origin[0], reason)
            return None
        return cached

    def _same_features(self, images: "torch.Tensor", cached: Embedding) -> bool:
        """Whether the evaluator, asked now, embeds `images` (the first of a cached set) as cached:
        the key holds its name and weights, not its code (an edited forward, a module it imports)."""
        try:
            now = self._evaluator.embed(images)
        except Exception:  # noqa: BLE001 - the full embedding meets it again, as on a miss
            return False
        k = len(images)
        return bool(np.allclose(now.features, cached.features[:k], rtol=1e-4, atol=1e-5)
                    and np.allclose(now.logits, cached.logits[:k], rtol=1e-4, atol=1e-5))

    def _embedding_to_cache(self, origin: Any, embedding: Embedding) -> None:
        entry = self._origins.get(origin, {})
        if self.cache is not None and entry.get("status") == "miss":
            self.cache.put(entry["key"], origin[0], {"features": np.asarray(embedding.features), "logits": np.asarray(embedding.logits)})

    def _embed(self, images: "torch.Tensor", step: str) -> Embedding:
        """The evaluator's embedding of `images`, taken in chunks of its own batch size (so the
        batches, and the numbers, are those of one call) and reported as `step` after each."""
        started = time.perf_counter()
        total = len(images)
        report_step(step, 0, total)
        parts = []
        for start in range(0, max(total, 1), BATCH):
            parts.append(self.evaluator.embed(images[start : start + BATCH]))
            report_step(step, min(start + BATCH, total), total)
        log.info("%s: %d images through evaluator '%s' in %.2f s", step, total, self.evaluator.name, time.perf_counter() - started)
        if len(parts) == 1:
            return parts[0]
        return Embedding(np.concatenate([p.features for p in parts]), np.concatenate([p.logits for p in parts]))

    def real_embedding(self, split: str, reference: ReferenceImages | None = None) -> Embedding:
        """Embedding of the `train` or `test` images of `reference` (default: the planned one),
        once per run and reference; a streamed reference (`batches`) is embedded batch by batch,
        so its features are held and its pixels are not."""
        self.feature_reads += 1
        reference = reference if reference is not None else self.reference
        key = ("real", reference.name, split)
        origin = ("reference_features", reference.name, split)
        if key not in self._embeddings:
            cached = self._cached_embedding(origin, None, {"reference": reference.name, "sha256": reference.sha256, "split": split},
                                            first=lambda: _first_reference_images(reference, split, FEATURE_VERIFY))
            if cached is not None:
                self._embeddings[key] = cached
        if key not in self._embeddings:
            with harness_defaults():
                self._embeddings[key] = self._embed_reference(reference, split)
            self._embedding_to_cache(origin, self._embeddings[key])
        if key not in self.integrity.digests:
            self.integrity.note(key, "the reference's evaluator features", self._embeddings[key])
        self._note_cache_read(f"reference_features:{split}", origin)
        return self._embeddings[key]

    def _embed_reference(self, reference: ReferenceImages, split: str) -> Embedding:
        import torch

        step = f"featurizing reference ({split})"
        if hasattr(reference, "batches"):
            parts = [self._embed(torch.from_numpy(batch), step) for batch in reference.batches(split)]
            return Embedding(np.concatenate([p.features for p in parts]), np.concatenate([p.logits for p in parts]))
        x = reference.train_x if split == "train" else reference.test_x
        return self._embed(torch.tensor(np.asarray(x)), step)

    def reference_features(self) -> dict[str, Any] | None:
        """The evaluator's embeddings of the planned reference's train and test splits with their
        cache provenance, to hand to other stores (`adopt_reference_features`: Ray tasks), so the
        reference is featurized once per run; None for a reference converted per model shape."""
        reference = self.reference
        if hasattr(reference, "at"):
            return None
        splits = {split: (self.real_embedding(split, reference), self._origins.get(("reference_features", reference.name, split)))
                  for split in ("train", "test")}
        return {"reference": reference.name, "splits": splits}

    def adopt_reference_features(self, shared: dict[str, Any]) -> None:
        """Use embeddings another store computed (`reference_features`) as this store's own, with
        the provenance they had there; they are read exactly as if computed here."""
        for split, (embedding, origin) in shared["splits"].items():
            self._embeddings[("real", shared["reference"], split)] = embedding
            if origin is not None:
                self._origins[("reference_features", shared["reference"], split)] = origin

    def memo(self, name: str, key: Any, compute: Callable[[], Any], shared: bool = False) -> Any:
        """Compute `name` once per key (a run-wide cache for any shared intermediate: unconditional
        samples, nearest-neighbour radii, free text generations); `memo_calls[name]` counts the
        computations, so tests can prove sharing. A failure is cached and re-raised like samples.
        `shared`: the value serves every model (a detector, a statistic of the real data) and
        calls no model, so it is computed under the stock torch and numpy settings
        (audit.isolation.harness_defaults), not under those of the model that asked first."""
        full = (name, key)
        if full in self._memo:
            log.debug("%s: reused from this run's store", name)
            self.feature_reads += full in self._feature_memos  # a value computed from evaluator outputs is a read of them
            if full in self._memo_generations:  # generations it read: the reusing check names their provenance too
                self._note_generations(self._memo_generations[full])
        else:
            self.memo_calls[name] = self.memo_calls.get(name, 0) + 1
            reads = self.feature_reads
            outer = self.cache_used.pop("generations", None)
            try:
                with harness_defaults() if shared else contextlib.nullcontext():
                    self._memo[full] = compute()
            except BaseException as exc:
                if must_propagate(exc):
                    raise
                self._memo[full] = as_model_error(exc)
            finally:
                inner = self.cache_used.pop("generations", None)
                if outer is not None:
                    self.cache_used["generations"] = outer
            if inner is not None:
                self._memo_generations[full] = inner
                self._note_generations(inner)
            if self.feature_reads > reads:
                self._feature_memos.add(full)
        cached = self._memo[full]
        if isinstance(cached, Exception):
            raise cached
        return cached

    def has_samples(self, key: SampleKey) -> bool:
        return isinstance(self._samples.get(key), Samples)

    def cache_mark(self) -> int:
        """How many entries this run has written to the persistent cache so far (see `forget_computed`)."""
        return len(self.cache.written) if self.cache is not None else 0

    def forget_computed(self, cache_mark: int = 0) -> None:
        """Drop every sample, embedding, memo, evaluator and reference this store holds, and the
        cache entries written since `cache_mark`: model code changed the harness's code while some
        of them were computed (audit.seal), so none is trusted; later checks compute them afresh."""
        self._samples.clear()
        self._embeddings.clear()
        self._memo.clear()
        self._feature_memos.clear()
        self._memo_generations.clear()
        self._origins.clear()
        self._probes.clear()
        self._evaluator = self._reference = self._text = None
        self.integrity.clear()
        if self.cache is not None:
            self.cache.drop(self.cache.written[cache_mark:])
            del self.cache.written[cache_mark:]


def _texts(outputs: Any) -> bool:
    """Whether `outputs` is a plain list of plain str (what `plain_texts` makes of a good answer)."""
    return type(outputs) is list and all(type(o) is str for o in outputs)


def _drawn_texts(produce: Callable[[int], Any], count: int) -> list[str] | None:
    """The texts `produce(count)` gives now to verify a hit, or None when the model fails or
    answers with anything but plain str (the full generation then meets it as on a miss)."""
    try:
        drawn = plain_texts(produce(count))
    except BaseException as exc:  # user code: as on a miss, the full generation meets it again
        if must_propagate(exc):
            raise
        return None
    return drawn if _texts(drawn) and len(drawn) == count else None


def _same_images(drawn: "torch.Tensor", expected: "torch.Tensor") -> bool:
    """Equal shapes, and every pixel within VERIFY_ATOL."""
    import torch

    return tuple(drawn.shape) == tuple(expected.shape) and bool(torch.allclose(drawn, expected.float(), rtol=0.0, atol=VERIFY_ATOL))


__all__ = ["VERIFY_ATOL", "VERIFY_SAMPLES", "SampleKey", "SampleStore", "Samples"]
