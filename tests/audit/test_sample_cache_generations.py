"""Language-model generations through the persistent sample cache (audit/sample_cache.py,
SampleStore.generations in audit/sample_store.py): a hit gives exactly the texts (and recorded
seconds) of the cold run, the model asked again only for the first few, a change of any part that
determines the texts is a miss, and what cannot be cached says why."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import audit.sample_cache as sample_cache
from audit.sample_cache import SampleCache, texts_from_array, texts_to_array
from audit.sample_store import SampleStore

PROMPTS = ["Once upon a time", "One day,", "Lily and Ben\x00", "naïve \u2603 "]
LM_SOURCE = '''
import hashlib


class TinyLM:
    """Seeded continuations: each word depends on the seed, prompt, settings and weights."""

    def __init__(self, weights):
        self.info = type("Info", (), {"weights": weights, "device": "cpu"})()
        self.calls = 0

    def generate(self, prompts, max_new_tokens, seed, temperature=1.0, top_k=None, top_p=None, greedy=False):
        self.calls += 1
        out = []
        for i, p in enumerate(prompts):
            h = hashlib.sha256(repr((p, max_new_tokens, seed, i, temperature, top_k, top_p, greedy)).encode()).hexdigest()
            out.append(" ".join(h[j : j + 4] for j in range(0, 4 * max_new_tokens, 4)) + ("\\x00" if i == 2 else ""))
        return out
'''


def load_lm_class(folder: Path, name: str, source: str = LM_SOURCE) -> type:
    """TinyLM from its own source file (the adapter's source sha256 is part of the key)."""
    path = folder / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.TinyLM


@pytest.fixture
def tiny_lm(tmp_path: Path) -> type:
    cls = load_lm_class(tmp_path, "tiny_lm_for_cache")
    yield cls
    sys.modules.pop("tiny_lm_for_cache", None)


def new_store(folder: Path | None, source: dict | None = None, model: str = "tiny") -> SampleStore:
    s = SampleStore(lambda: None, lambda: None)
    s.cache = SampleCache(folder) if folder is not None else None
    s.model_sources = {model: source or {"target": "tiny", "args": {}}}
    return s


def generate(store: SampleStore, lm: Any, model: str = "tiny", precision: str = "fp32", prompts: list[str] = PROMPTS,
             max_new_tokens: int = 5, seed: int = 0, **settings: Any) -> tuple[list[str], float]:
    settings = settings or {"temperature": 1.0}
    return store.generations(lm, model, precision, prompts, max_new_tokens, seed, {**settings, "batch": "one call"},
                             lambda count: lm.generate(prompts[:count], max_new_tokens, seed, **settings))


def test_texts_round_trip_exactly_through_an_array():
    texts = ["", "a\x00", "\x00b\x00", "naïve \u2603", "\ud800 lone surrogate", "line\nbreak"]
    assert texts_from_array(texts_to_array(texts)) == texts
    with pytest.raises(ValueError):
        texts_from_array(np.frombuffer(b'{"texts": 1}', dtype=np.uint8))


def test_a_hit_returns_the_cold_texts_and_seconds_after_one_small_call(tmp_path: Path, tiny_lm: type):
    weights = {"lm.safetensors": "a" * 64}
    cold_lm, cold = tiny_lm(weights), new_store(tmp_path)
    cold_texts, cold_seconds = generate(cold, cold_lm)
    assert cold_lm.calls == 1 and cold.cache_used["generations"]["status"] == "miss"
    assert cold_texts == cold_lm.generate(PROMPTS, 5, 0, temperature=1.0)

    warm_lm, warm = tiny_lm(weights), new_store(tmp_path)
    texts, seconds = generate(warm, warm_lm)
    assert warm_lm.calls == 1  # the first VERIFY_SAMPLES prompts asked again to verify the hit, not all
    assert texts == cold_texts and texts[2].endswith("\x00")
    assert seconds == cold_seconds  # the recorded time of the run that made them (details.cache says hit)
    assert warm.cache_used["generations"] == {"status": "hit", "key": cold.cache_used["generations"]["key"]}


KEY_CHANGES = {
    "weights": {"weights": {"lm.safetensors": "b" * 64}},
    "model word": {"model": "tiny2"},
    "model args": {"source": {"target": "tiny", "args": {"ckpt": "last"}}},
    "precision": {"precision": "bf16"},
    "device kind": {"device": "meta"},
    "seed": {"seed": 1},
    "n": {"prompts": PROMPTS[:3]},
    "prompts": {"prompts": PROMPTS[:3] + ["another prompt"]},
    "max new tokens": {"max_new_tokens": 6},
    "temperature": {"settings": {"temperature": 0.7}},
    "top-k": {"settings": {"temperature": 1.0, "top_k": 5}},
    "top-p": {"settings": {"temperature": 1.0, "top_p": 0.9}},
    "greedy": {"settings": {"greedy": True}},
}


@pytest.mark.parametrize("change", sorted(KEY_CHANGES))
def test_a_change_of_any_key_part_is_a_miss(tmp_path: Path, tiny_lm: type, change: str):
    generate(new_store(tmp_path), tiny_lm({"lm.safetensors": "a" * 64}))
    given = KEY_CHANGES[change]
    lm = tiny_lm(given.get("weights", {"lm.safetensors": "a" * 64}))
    if "device" in given:
        lm.info.device = given["device"]
    model = given.get("model", "tiny")
    second = new_store(tmp_path, given.get("source"), model)
    args = {k: given[k] for k in ("precision", "seed", "prompts", "max_new_tokens") if k in given}
    texts, _ = generate(second, lm, model=model, **args, **given.get("settings", {}))
    assert lm.calls == 1 and second.cache_used["generations"]["status"] == "miss"
    assert texts == lm.generate(args.get("prompts", PROMPTS), args.get("max_new_tokens", 5), args.get("seed", 0),
                                **given.get("settings", {"temperature": 1.0}))


def test_the_batching_is_part_of_the_key(tmp_path: Path, tiny_lm: type):
    lm = tiny_lm({"lm.safetensors": "a" * 64})
    first, second = new_store(tmp_path), new_store(tmp_path)
    first.generations(lm, "tiny", "fp32", PROMPTS, 5, 0, {"batch": 2}, lambda count: lm.generate(PROMPTS[:count], 5, 0))
    second.generations(lm, "tiny", "fp32", PROMPTS, 5, 0, {"batch": 4}, lambda count: lm.generate(PROMPTS[:count], 5, 0))
    assert lm.calls == 2 and second.cache_used["generations"]["status"] == "miss"


def test_an_edited_adapter_source_or_another_code_version_is_a_miss(tmp_path: Path, tiny_lm: type, monkeypatch: pytest.MonkeyPatch):
    weights = {"lm.safetensors": "a" * 64}
    generate(new_store(tmp_path), tiny_lm(weights))
    edited = load_lm_class(tmp_path, "tiny_lm_for_cache", LM_SOURCE + "\n# edited\n")  # same module and file, new text
    lm = edited(weights)
    store = new_store(tmp_path)
    generate(store, lm)
    assert lm.calls == 1 and store.cache_used["generations"]["status"] == "miss"

    monkeypatch.setattr(sample_cache, "GENERATION_VERSION", sample_cache.GENERATION_VERSION + 1)
    again = tiny_lm(weights)
    store = new_store(tmp_path)
    generate(store, again)
    assert again.calls == 1 and store.cache_used["generations"]["status"] == "miss"


def test_a_model_without_weights_or_a_bad_output_is_never_stored(tmp_path: Path, tiny_lm: type):
    lm = tiny_lm({})
    store = new_store(tmp_path)
    generate(store, lm)
    assert store.cache_used["generations"]["status"] == "unavailable" and "weights" in store.cache_used["generations"]["reason"]
    assert not list(tmp_path.glob("*.npz"))

    short = tiny_lm({"lm.safetensors": "a" * 64})
    store = new_store(tmp_path)
    out, _ = store.generations(short, "tiny", "fp32", PROMPTS, 5, 0, {}, lambda count: ["only one"])
    assert out == ["only one"] and not list(tmp_path.glob("*.npz"))  # the caller reports the bad output; nothing cached


def test_several_generation_sets_in_one_check_are_all_named(tmp_path: Path, tiny_lm: type):
    lm = tiny_lm({"lm.safetensors": "a" * 64})
    generate(new_store(tmp_path), lm, seed=0)
    store = new_store(tmp_path)
    generate(store, lm, seed=0)
    generate(store, lm, seed=1)
    used = store.cache_used["generations"]
    assert used["status"] == "partial" and len(used["keys"]) == 2


def test_no_cache_writes_nothing(tmp_path: Path, tiny_lm: type):
    store = new_store(None)
    texts, _ = generate(store, tiny_lm({"lm.safetensors": "a" * 64}))
    assert len(texts) == len(PROMPTS) and store.cache_used == {} and not list(tmp_path.glob("*.npz"))


def test_a_check_that_reuses_memoised_generations_names_their_provenance_too(tmp_path: Path, tiny_lm: type):
    lm = tiny_lm({"lm.safetensors": "a" * 64})
    store = new_store(tmp_path)
    store.memo("free_text", 1, lambda: generate(store, lm))
    first = store.cache_used["generations"]
    store.cache_used = {}  # the runner empties it before the next check
    store.memo("free_text", 1, lambda: generate(store, lm))
    assert lm.calls == 1 and store.cache_used["generations"] == first == {"status": "miss", "key": first["key"]}
