"""A generation-cache hit is verified (SampleStore.generations in audit/sample_store.py): the model
is asked again for the first few prompts' texts, the way the check asks for all of them
(audit.text_generation), and a hit whose texts differ is a miss, generated again and stored; so a
model edited outside the key (here to echo its prompt) is refused by the output validation instead
of being scored on the clean cached texts."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace

import pytest

from audit.errors import ModelOutputError
from audit.sample_cache import SampleCache
from audit.sample_store import VERIFY_SAMPLES, SampleStore
from audit.text_generation import generate_cached, generate_texts

PROMPTS = [f"Once upon a time there was a little {animal}" for animal in ("cat", "dog", "fox", "owl", "bee", "elk", "yak", "emu")]


class EchoLM:
    """Seeded continuations of a prompt; `echo` (a flag no key part holds) returns prompt + continuation."""

    def __init__(self, echo: bool = False, per_call: bool = False, fail: bool = False) -> None:
        self.info = SimpleNamespace(weights={"echo.safetensors": "e" * 64}, device="cpu")
        self.echo, self.per_call, self.fail = echo, per_call, fail
        self.asked: list[int] = []

    def generate(self, prompts: list[str], max_new_tokens: int, seed: int, greedy: bool = False) -> list[str]:
        """`per_call`: each text also depends on how many prompts the call holds (as batched sampling may)."""
        self.asked.append(len(prompts))
        if self.fail:
            raise RuntimeError("out of memory")
        out = []
        for i, p in enumerate(prompts):
            h = hashlib.sha256(repr((p, max_new_tokens, seed, i, greedy, len(prompts) if self.per_call else 0)).encode()).hexdigest()
            text = " ".join(h[j : j + 4] for j in range(0, 4 * max_new_tokens, 4))
            out.append(f"{p} {text}" if self.echo else text)
        return out


def context(folder: Path, lm: EchoLM) -> SimpleNamespace:
    s = SampleStore(lambda: None, lambda: None)
    s.cache = SampleCache(folder)
    s.model_sources = {"lm": {"target": "echo:load", "args": {}}}
    return SimpleNamespace(store=s, adapter=lm, model="lm", precision="fp32", seed=0, progress=lambda *a: None)


def test_a_model_edited_to_echo_its_prompt_is_refused_not_served_the_cached_texts(tmp_path: Path):
    clean, _ = generate_cached(context(tmp_path, EchoLM()), PROMPTS, 5, 0)
    echoing = EchoLM(echo=True)
    ctx = context(tmp_path, echoing)
    with pytest.raises(ModelOutputError, match="prompt followed by the continuation"):
        generate_cached(ctx, PROMPTS, 5, 0)
    origin = ctx.store.cache_used["generations"]
    assert origin["status"] == "miss" and "differ" in origin["reason"]
    assert echoing.asked == [VERIFY_SAMPLES, len(PROMPTS)]
    back = EchoLM()
    again = context(tmp_path, back)
    assert generate_cached(again, PROMPTS, 5, 0)[0] == clean  # the entry held the echoed texts: a miss again
    assert again.store.cache_used["generations"]["status"] == "miss"


def test_batched_generations_are_verified_through_the_same_batches(tmp_path: Path):
    cold = generate_texts(context(tmp_path, EchoLM()), PROMPTS, 5, greedy=True, batch=3)
    model = EchoLM()
    ctx = context(tmp_path, model)
    warm = generate_texts(ctx, PROMPTS, 5, greedy=True, batch=3)
    assert warm.outputs == cold.outputs and ctx.store.cache_used["generations"]["status"] == "hit"
    assert model.asked == [3, 1]  # the first 4 prompts as the check batches them, seeds following the batches
    echoing = EchoLM(echo=True)
    with pytest.raises(ModelOutputError):
        generate_texts(context(tmp_path, echoing), PROMPTS, 5, greedy=True, batch=3)
    assert echoing.asked == [3, 1, 3, 3, 2]


def test_texts_that_depend_on_the_number_of_prompts_are_a_hit_from_the_third_run(tmp_path: Path):
    cold, _ = generate_cached(context(tmp_path, EchoLM(per_call=True)), PROMPTS, 5, 0)
    second = context(tmp_path, EchoLM(per_call=True))
    assert generate_cached(second, PROMPTS, 5, 0)[0] == cold
    assert second.store.cache_used["generations"]["status"] == "miss"  # the first 4 alone differ: kept as the entry's probe
    model = EchoLM(per_call=True)
    third = context(tmp_path, model)
    assert generate_cached(third, PROMPTS, 5, 0)[0] == cold
    assert third.store.cache_used["generations"]["status"] == "hit" and model.asked == [VERIFY_SAMPLES]


def test_a_model_that_fails_now_meets_the_failure_as_on_a_miss(tmp_path: Path):
    generate_cached(context(tmp_path, EchoLM()), PROMPTS, 5, 0)
    failing = EchoLM(fail=True)
    ctx = context(tmp_path, failing)
    with pytest.raises(RuntimeError, match="out of memory"):
        generate_cached(ctx, PROMPTS, 5, 0)
    assert failing.asked == [VERIFY_SAMPLES, len(PROMPTS)]
