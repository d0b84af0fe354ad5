"""What the sample cache's key cannot see (audit/sample_cache.py, audit/sample_store.py): a
constructor flag or an environment variable that changes the samples makes a hit a miss, because
every hit asks the model again for its first samples; code without a source file (a notebook cell,
exec) is never cached."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from audit.evaluators import Embedding, ReferenceImages
from audit.sample_cache import SampleCache
from audit.sample_store import VERIFY_SAMPLES, SampleStore

KEY = ("knob", "fp32", 5, 24)


class KnobGenerator:
    """Seeded images (1x4x4) over 3 classes, all zero when `broken`: a flag no key part holds."""

    capabilities = frozenset({"sample", "conditional"})
    num_classes = 3

    def __init__(self, broken: bool = False) -> None:
        self.info = SimpleNamespace(weights={"knob.safetensors": "k" * 64}, device="cpu")
        self.broken = broken
        self.asked: list[int] = []

    def sample(self, n: int, seed: int, labels=None):
        self.asked.append(n)
        images = torch.rand(n, 1, 4, 4, generator=torch.Generator().manual_seed(seed))
        return torch.zeros_like(images) if self.broken else images


class BatchDependent(KnobGenerator):
    """Draws one value per sample before the images (as the bundled VAE draws mixture components):
    the first samples of a set of n are not those of a set of VERIFY_SAMPLES."""

    def sample(self, n: int, seed: int, labels=None):
        self.asked.append(n)
        g = torch.Generator().manual_seed(seed)
        torch.rand(n, generator=g)
        return torch.rand(n, 1, 4, 4, generator=g)


@dataclasses.dataclass
class DataclassGenerator(KnobGenerator):
    """A dataclass adapter: the methods dataclasses writes (compiled from a string) are no reason to refuse it."""

    broken: bool = False

    def __post_init__(self) -> None:
        KnobGenerator.__init__(self, self.broken)


class CountingEvaluator:
    name, sha256 = "count-eval", "e" * 64

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, images):
        self.calls += 1
        flat = images.reshape(len(images), -1).double().numpy()
        return Embedding(flat, flat[:, :3])


def reference() -> ReferenceImages:
    x = np.random.default_rng(0).random((10, 1, 4, 4), dtype=np.float32)
    return ReferenceImages("ref", x, np.arange(10) % 3, x[:5], np.arange(5) % 3, "r" * 64)


def store(folder: Path, evaluator: CountingEvaluator | None = None) -> SampleStore:
    evaluator = evaluator or CountingEvaluator()
    s = SampleStore(lambda: evaluator, reference)
    s.cache = SampleCache(folder)
    s.model_sources = {KEY[0]: {"target": "knobs:load", "args": {}}}
    return s


def test_a_hit_is_verified_by_drawing_only_the_first_samples_again(tmp_path: Path):
    cold = store(tmp_path).samples(KnobGenerator(), KEY).images
    model, warm = KnobGenerator(), store(tmp_path)
    assert torch.equal(warm.samples(model, KEY).images, cold)
    assert warm.cache_used["samples"]["status"] == "hit" and warm.generate_calls == 0
    assert model.asked == [VERIFY_SAMPLES]  # cheap: a few samples, not n


def test_a_flag_outside_the_key_makes_the_hit_a_miss_and_replaces_the_entry(tmp_path: Path):
    store(tmp_path).samples(KnobGenerator(), KEY)
    broken, second = KnobGenerator(broken=True), store(tmp_path)
    images = second.samples(broken, KEY).images
    origin = second.cache_used["samples"]
    assert origin["status"] == "miss" and "differ" in origin["reason"]
    assert float(images.abs().max()) == 0.0  # the broken model's samples, not the cached good ones
    assert broken.asked == [VERIFY_SAMPLES, KEY[3]]
    again = store(tmp_path)
    assert float(again.samples(KnobGenerator(broken=True), KEY).images.abs().max()) == 0.0
    assert again.cache_used["samples"]["status"] == "hit"  # the entry now holds the broken model's samples
    good = store(tmp_path)
    assert float(good.samples(KnobGenerator(), KEY).images.abs().max()) > 0.0
    assert good.cache_used["samples"]["status"] == "miss"


def test_features_follow_the_samples_that_replaced_an_entry(tmp_path: Path):
    """Features are keyed by the samples' bytes: samples replaced by a run that embedded none are
    never paired with the features of the samples they replaced."""
    good = KnobGenerator()
    store(tmp_path).embedding(good, KEY)
    store(tmp_path).samples(KnobGenerator(broken=True), KEY)  # replaces the samples, computes no features
    evaluator = CountingEvaluator()
    third = store(tmp_path, evaluator)
    features = third.embedding(KnobGenerator(broken=True), KEY).features
    assert third.cache_used["samples"]["status"] == "hit" and third.cache_used["features"]["status"] == "miss"
    assert evaluator.calls == 1 and float(np.abs(features).max()) == 0.0


def test_a_sampler_whose_first_samples_depend_on_n_is_verified_against_what_it_gave(tmp_path: Path):
    """The first run's entry cannot be verified by its first samples (a miss, generated again), so
    the entry is written again with the samples drawn to verify it; from then on it is a hit."""
    cold = store(tmp_path).samples(BatchDependent(), KEY).images
    second = store(tmp_path)
    assert torch.equal(second.samples(BatchDependent(), KEY).images, cold)
    assert second.cache_used["samples"]["status"] == "miss"
    model, third = BatchDependent(), store(tmp_path)
    assert torch.equal(third.samples(model, KEY).images, cold)
    assert third.cache_used["samples"]["status"] == "hit" and model.asked == [VERIFY_SAMPLES]


NOTEBOOK_CELL = '''
import torch
class NotebookGenerator:
    capabilities = frozenset({"sample"})
    num_classes = None
    def __init__(self):
        self.info = SimpleNamespace(weights={"nb.safetensors": "n" * 64}, device="cpu")
    @torch.no_grad()
    def sample(self, n, seed, labels=None):
        return torch.rand(n, 1, 4, 4, generator=torch.Generator().manual_seed(seed))
'''


def test_a_class_from_a_notebook_cell_is_never_cached(tmp_path: Path):
    cell: dict = {"__name__": "__main__", "SimpleNamespace": SimpleNamespace}
    exec(compile(NOTEBOOK_CELL, "<ipython-input-3-0a1b2c>", "exec"), cell)
    for _ in range(2):
        s = store(tmp_path)
        s.samples(cell["NotebookGenerator"](), KEY)
        origin = s.cache_used["samples"]
        assert origin["status"] == "unavailable" and "<ipython-input-3-0a1b2c>" in origin["reason"]
        assert "no source file" in origin["reason"]
    assert not list(tmp_path.glob("*.npz"))


def test_a_sample_function_set_on_the_object_from_exec_is_never_cached(tmp_path: Path):
    model = KnobGenerator()
    cell: dict = {"torch": torch}
    exec(compile("def sample(n, seed, labels=None):\n    return torch.zeros(n, 1, 4, 4)\n", "<string>", "exec"), cell)
    model.sample = cell["sample"]
    s = store(tmp_path)
    s.samples(model, KEY)
    assert s.cache_used["samples"]["status"] == "unavailable"
    assert not list(tmp_path.glob("*.npz"))


def test_a_dataclass_adapter_from_a_file_is_cached(tmp_path: Path):
    store(tmp_path).samples(DataclassGenerator(), KEY)
    warm = store(tmp_path)
    warm.samples(DataclassGenerator(), KEY)
    assert warm.cache_used["samples"]["status"] == "hit"
