"""How much of a sample set a sample-cache hit draws again (SampleStore.verify_count in
audit/sample_store.py): the prefix that asks for every class of a conditional model and every
distinct prompt of a text-to-image model, so a change that shows only for class 7 or for the sixth
prompt is a miss, not the cached good samples; never more than n or VERIFY_MAX."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from audit.config import Prompts
from audit.evaluators import ReferenceImages
from audit.sample_cache import SampleCache
from audit.sample_store import VERIFY_MAX, VERIFY_SAMPLES, SampleStore

N = 24
PROMPTS = Prompts(("a cat", "a dog", "a boat", "a tree", "a house", "a red bicycle"), "prompts.txt", "p" * 64)


class ClassGenerator:
    """Seeded 1x4x4 images over `num_classes` classes; the samples of `broken_class` are all zero:
    a flag no key part holds, invisible in the first VERIFY_SAMPLES samples (classes 0 to 3)."""

    capabilities = frozenset({"sample", "conditional"})

    def __init__(self, num_classes: int = 10, broken_class: int | None = None) -> None:
        self.info = SimpleNamespace(weights={"classes.safetensors": "c" * 64}, device="cpu")
        self.num_classes = num_classes
        self.broken_class = broken_class
        self.asked: list[int] = []

    def sample(self, n: int, seed: int, labels=None):
        self.asked.append(n)
        images = torch.rand(n, 1, 4, 4, generator=torch.Generator().manual_seed(seed))
        if self.broken_class is not None:
            images[labels == self.broken_class] = 0.0
        return images


class BatchDependentClasses(ClassGenerator):
    """Draws one value per sample before the images: the first samples depend on n."""

    def sample(self, n: int, seed: int, labels=None):
        self.asked.append(n)
        g = torch.Generator().manual_seed(seed)
        torch.rand(n, generator=g)
        return torch.rand(n, 1, 4, 4, generator=g)


class PromptGenerator:
    """A text-to-image model whose images for `broken_prompt` are all zero (a flag no key part holds)."""

    capabilities = frozenset({"sample", "text_to_image"})
    num_classes = None

    def __init__(self, broken_prompt: str | None = None) -> None:
        self.info = SimpleNamespace(weights={"t2i.safetensors": "t" * 64}, device="cpu")
        self.broken_prompt = broken_prompt
        self.asked: list[int] = []

    def sample(self, n: int, seed: int, labels=None, prompts=None):
        self.asked.append(n)
        images = torch.rand(n, 1, 4, 4, generator=torch.Generator().manual_seed(seed))
        for i, prompt in enumerate(prompts):
            if prompt == self.broken_prompt:
                images[i] = 0.0
        return images


def reference() -> ReferenceImages:
    x = np.random.default_rng(0).random((10, 1, 4, 4), dtype=np.float32)
    return ReferenceImages("ref", x, np.arange(10) % 10, x[:5], np.arange(5) % 10, "r" * 64)


def store(folder: Path, prompts: Prompts | None = None) -> SampleStore:
    s = SampleStore(lambda: None, reference)
    s.cache = SampleCache(folder)
    s.prompts = prompts
    s.model_sources = {"m": {"target": "verify_classes:load", "args": {}}}
    return s


def test_a_change_of_one_class_beyond_the_first_samples_is_a_miss(tmp_path: Path):
    store(tmp_path).samples(ClassGenerator(), ("m", "fp32", 0, N))
    broken, warm = ClassGenerator(broken_class=7), store(tmp_path)
    images = warm.samples(broken, ("m", "fp32", 0, N)).images
    origin = warm.cache_used["samples"]
    assert origin["status"] == "miss" and "first 10" in origin["reason"]
    assert broken.asked == [10, N]  # every class asked once, then the full set generated again
    assert float(images[7].abs().max()) == 0.0 and float(images[17].abs().max()) == 0.0


def test_a_change_of_one_prompt_beyond_the_first_samples_is_a_miss(tmp_path: Path):
    store(tmp_path, PROMPTS).samples(PromptGenerator(), ("m", "fp32", 0, N))
    broken, warm = PromptGenerator(broken_prompt="a red bicycle"), store(tmp_path, PROMPTS)
    images = warm.samples(broken, ("m", "fp32", 0, N)).images
    assert warm.cache_used["samples"]["status"] == "miss"
    assert broken.asked == [len(PROMPTS.texts), N]
    assert float(images[5].abs().max()) == 0.0


def test_repeated_prompts_need_only_the_prefix_that_holds_each_once(tmp_path: Path):
    repeated = Prompts(("a cat", "a cat", "a dog", "a cat", "a dog", "a boat", "a cat"), "repeated.txt", "q" * 64)
    assert store(tmp_path, repeated).verify_count(PromptGenerator(), N) == 6


def test_an_unchanged_model_is_a_hit_verified_by_one_sample_per_class(tmp_path: Path):
    cold = store(tmp_path).samples(ClassGenerator(), ("m", "fp32", 0, N)).images
    model, warm = ClassGenerator(), store(tmp_path)
    assert torch.equal(warm.samples(model, ("m", "fp32", 0, N)).images, cold)
    assert warm.cache_used["samples"]["status"] == "hit" and model.asked == [10]


def test_the_prefix_is_capped_at_n_and_at_verify_max(tmp_path: Path):
    s = store(tmp_path)
    assert s.verify_count(ClassGenerator(num_classes=3), N) == VERIFY_SAMPLES
    assert s.verify_count(ClassGenerator(num_classes=1000), N) == N
    assert s.verify_count(ClassGenerator(num_classes=1000), 500) == VERIFY_MAX
    assert s.verify_count(ClassGenerator(num_classes=10), 2) == 2


def test_a_sampler_whose_first_samples_depend_on_n_is_still_a_hit_from_its_third_run(tmp_path: Path):
    key = ("m", "fp32", 0, N)
    cold = store(tmp_path).samples(BatchDependentClasses(), key).images
    second = store(tmp_path)
    assert torch.equal(second.samples(BatchDependentClasses(), key).images, cold)
    assert second.cache_used["samples"]["status"] == "miss"  # its first 10 are not the set's: kept as the entry's probe
    model, third = BatchDependentClasses(), store(tmp_path)
    assert torch.equal(third.samples(model, key).images, cold)
    assert third.cache_used["samples"]["status"] == "hit" and model.asked == [10]
