"""SampleStore reading through the sample cache (audit/sample_store.py over audit/sample_cache.py):
a hit gives exactly the arrays of a cold run with only small verifying calls of the model and evaluator, any
change of what determines the samples or features is a miss, and no cache writes nothing."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from audit.evaluators import Embedding, ReferenceImages
from audit.sample_cache import SampleCache
from audit.sample_store import SampleStore

KEY = ("tiny", "fp32", 3, 24)


class TinyGenerator:
    """Images from a seeded torch generator (1x4x4), class-conditional over 3 classes."""

    capabilities = frozenset({"sample", "conditional"})
    num_classes = 3

    def __init__(self, weights: str = "w" * 64) -> None:
        self.info = SimpleNamespace(weights={"tiny.safetensors": weights}, device="cpu")
        self.calls = 0

    def sample(self, n: int, seed: int, labels=None):
        self.calls += 1
        g = torch.Generator().manual_seed(seed)
        return torch.rand(n, 1, 4, 4, generator=g)


class TinyEvaluator:
    def __init__(self, name: str = "tiny-eval", sha256: str = "e" * 64) -> None:
        self.name, self.sha256, self.calls = name, sha256, 0

    def embed(self, images):
        self.calls += 1
        flat = images.reshape(len(images), -1).double().numpy()
        return Embedding(flat * 2.0, flat[:, :3])


def reference() -> ReferenceImages:
    rng = np.random.default_rng(0)
    x = rng.random((10, 1, 4, 4), dtype=np.float32)
    return ReferenceImages("ref", x, np.arange(10) % 3, x[:5], np.arange(5) % 3, "r" * 64)


def store(folder: Path | None, evaluator: TinyEvaluator | None = None, source: dict | None = None) -> SampleStore:
    evaluator = evaluator or TinyEvaluator()
    s = SampleStore(lambda: evaluator, reference)
    s.cache = SampleCache(folder) if folder is not None else None
    s.model_sources = {KEY[0]: source or {"target": "tiny", "args": {}}}
    return s


def test_a_hit_returns_the_cold_arrays_with_small_verifying_calls_only(tmp_path: Path):
    cold_model, cold = TinyGenerator(), store(tmp_path)
    cold_samples, cold_emb, cold_real = cold.samples(cold_model, KEY), cold.embedding(cold_model, KEY), cold.real_embedding("train")
    assert {k: v["status"] for k, v in cold.cache_used.items()} == {"samples": "miss", "features": "miss", "reference_features:train": "miss"}

    warm_model, evaluator = TinyGenerator(), TinyEvaluator()
    warm = store(tmp_path, evaluator)
    samples, emb, real = warm.samples(warm_model, KEY), warm.embedding(warm_model, KEY), warm.real_embedding("train")
    # one small draw verifies the samples, one small embedding each cached set of features
    assert warm_model.calls == 1 and evaluator.calls == 2 and warm.generate_calls == 0 and warm.embed_calls == 0
    assert torch.equal(samples.images, cold_samples.images) and samples.images.dtype == cold_samples.images.dtype
    assert torch.equal(samples.labels, torch.arange(KEY[3]) % 3) and samples.labels.dtype == torch.int64
    assert np.array_equal(emb.features, cold_emb.features) and np.array_equal(emb.logits, cold_emb.logits)
    assert np.array_equal(real.features, cold_real.features)
    assert {v["status"] for v in warm.cache_used.values()} == {"hit"}
    assert warm.cache_used["samples"]["key"] == cold.cache_used["samples"]["key"]


@pytest.mark.parametrize("change", ["weights", "seed", "n", "precision", "evaluator_sha", "evaluator_name", "sampler_args"])
def test_a_change_of_any_key_part_is_a_miss(tmp_path: Path, change: str):
    model, first = TinyGenerator(), store(tmp_path)
    first.embedding(model, KEY)
    key = KEY
    evaluator = TinyEvaluator()
    source = None
    if change == "weights":
        model = TinyGenerator(weights="v" * 64)
    elif change == "seed":
        key = (KEY[0], KEY[1], KEY[2] + 1, KEY[3])
    elif change == "n":
        key = (KEY[0], KEY[1], KEY[2], KEY[3] + 1)
    elif change == "precision":
        key = (KEY[0], "bf16", KEY[2], KEY[3])
    elif change == "evaluator_sha":
        evaluator = TinyEvaluator(sha256="f" * 64)
    elif change == "evaluator_name":
        evaluator = TinyEvaluator(name="other-eval")
    else:
        source = {"target": "tiny", "args": {"steps": 10}}
    model = model if change == "weights" else TinyGenerator()
    second = store(tmp_path, evaluator, source)
    second.embedding(model, key)
    assert evaluator.calls == 1  # features computed again
    expected_samples = "hit" if change.startswith("evaluator") else "miss"
    assert second.cache_used["samples"]["status"] == expected_samples
    assert second.cache_used["features"]["status"] == "miss"
    assert model.calls == 1  # a hit is verified by one small draw, a miss is one full draw


def test_a_corrupt_entry_is_generated_again(tmp_path: Path):
    first = store(tmp_path)
    cold = first.samples(TinyGenerator(), KEY).images
    for path in tmp_path.glob("*.npz"):
        path.write_bytes(path.read_bytes()[:100])
    model = TinyGenerator()
    again = store(tmp_path).samples(model, KEY).images
    assert model.calls == 1 and torch.equal(again, cold)


def test_no_cache_writes_nothing_and_records_nothing(tmp_path: Path):
    s = store(None)
    s.embedding(TinyGenerator(), KEY)
    s.real_embedding("test")
    assert s.cache_used == {} and not list(tmp_path.iterdir())


def test_a_model_without_weights_is_not_cached_and_says_why(tmp_path: Path):
    model = TinyGenerator()
    model.info.weights = {}
    s = store(tmp_path)
    s.embedding(model, KEY)
    assert s.cache_used["samples"]["status"] == "unavailable" and "weights" in s.cache_used["samples"]["reason"]
    assert s.cache_used["features"]["status"] == "unavailable"
    assert not list(tmp_path.glob("*.npz"))


def test_adopted_reference_features_are_read_as_if_computed_here(tmp_path: Path):
    computing = store(tmp_path)
    shared = computing.reference_features()
    evaluator = TinyEvaluator()
    adopting = store(tmp_path, evaluator)
    adopting.adopt_reference_features(shared)
    for split in ("train", "test"):
        expected = reference().train_x if split == "train" else reference().test_x
        features = adopting.real_embedding(split).features
        assert np.array_equal(features, expected.reshape(len(expected), -1).astype(np.float64) * 2.0)  # TinyEvaluator: 2 x pixels
        assert adopting.cache_used[f"reference_features:{split}"] == computing.cache_used[f"reference_features:{split}"]
    assert evaluator.calls == 0 and adopting.embed_calls == 0
