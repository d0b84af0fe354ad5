"""Cached evaluator features are verified on a hit (audit.sample_store._same_features): the key
holds the evaluator's name and weights, not its code, so an evaluator whose forward was edited
(same weights) had been served the old reference features: FID 11.5 and recall 0 instead of 0.05
and 0.99."""

from __future__ import annotations

import numpy as np

from audit.evaluators import Embedding, ReferenceImages
from audit.sample_cache import SampleCache
from audit.sample_store import SampleStore


class ScaledEvaluator:
    """Features = pixels x scale: `scale` stands for an edit of the evaluator's code."""

    name, sha256 = "scaled", "e" * 64

    def __init__(self, scale: float) -> None:
        self.scale, self.calls = scale, 0

    def embed(self, images):
        self.calls += 1
        flat = images.reshape(len(images), -1).double().numpy()
        return Embedding(flat * self.scale, flat[:, :3])


def _reference() -> ReferenceImages:
    x = np.random.default_rng(0).random((20, 1, 4, 4), dtype=np.float32)
    return ReferenceImages("ref", x, np.arange(20) % 3, x[:10], np.arange(10) % 3, "r" * 64)


def _store(folder, evaluator: ScaledEvaluator) -> SampleStore:
    store = SampleStore(lambda: evaluator, _reference)
    store.cache = SampleCache(folder)
    return store


def test_an_edited_evaluator_misses_and_its_features_are_computed_again(tmp_path):
    first = _store(tmp_path, ScaledEvaluator(2.0)).real_embedding("train")
    edited = _store(tmp_path, ScaledEvaluator(1.0))
    again = edited.real_embedding("train")
    np.testing.assert_allclose(again.features, _reference().train_x.reshape(20, -1))
    assert not np.allclose(again.features, first.features)
    assert edited.cache_used["reference_features:train"]["status"] == "miss"
    assert "other features" in edited.cache_used["reference_features:train"]["reason"]


def test_an_unchanged_evaluator_hits(tmp_path):
    first = _store(tmp_path, ScaledEvaluator(2.0)).real_embedding("train")
    evaluator = ScaledEvaluator(2.0)
    warm = _store(tmp_path, evaluator)
    again = warm.real_embedding("train")
    np.testing.assert_array_equal(again.features, first.features)
    assert warm.cache_used["reference_features:train"]["status"] == "hit" and evaluator.calls == 1  # the verifying call
