"""What a timed workload returns is checked (README, "Fail closed"): the warm-up call's and the
last timed call's outputs, after their clocks stopped; a broken one is the model's
ModelOutputError, and `items` is what the checked calls made."""

from __future__ import annotations

import time
from typing import Any

import pytest

from audit.adapters import GENERATE, TOKENIZER, ModelInfo
from audit.efficiency.timing import Workload, checked_generations, decode_workload, interleaved
from audit.errors import ModelOutputError
from audit.text_generation import token_count


def _counting(validate_sleep: float = 0.0, bad_from: int | None = None) -> tuple[Workload, list[int]]:
    """A workload whose n-th call returns n; its validator records what it saw, and refuses
    outputs from `bad_from` on."""
    calls: list[int] = []
    seen: list[int] = []

    def fn() -> int:
        calls.append(1)
        return len(calls)

    def validate(out: int) -> int:
        time.sleep(validate_sleep)
        seen.append(out)
        if bad_from is not None and out >= bad_from:
            raise ModelOutputError(f"model 'm' returned call {out}")
        return 4

    return Workload("w", fn, items=4, unit="things", validate=validate), seen


def test_the_warm_up_and_the_last_timed_call_are_checked_outside_the_clock() -> None:
    workload, seen = _counting(validate_sleep=0.2)
    times = interleaved([workload], rounds=3, warmup=1, repeats={"w": 2})
    assert seen == [1, 1 + 3 * 2]  # the warm-up call and the last of the 6 timed calls, nothing else
    assert times["w"].max() < 0.1  # the validator's 0.2 s is in no timed call
    assert workload.meta["items_checked"] == [4, 4] and workload.items == 4


def test_a_broken_output_on_the_last_timed_call_is_the_models_error() -> None:
    workload, _ = _counting(bad_from=2)  # honest on the warm-up only
    with pytest.raises(ModelOutputError, match=r"returned call 4 \(workload w, last timed call\)"):
        interleaved([workload], rounds=3, warmup=1)


def test_a_broken_warm_up_output_stops_before_any_round() -> None:
    workload, seen = _counting(bad_from=1)
    with pytest.raises(ModelOutputError, match="warm-up call"):
        interleaved([workload], rounds=3, warmup=1)
    assert seen == [1]


def test_items_become_the_fewest_units_the_checked_calls_made() -> None:
    made = iter([3, 2])
    workload = Workload("w", lambda: None, items=8, unit="tokens", validate=lambda out: next(made))
    interleaved([workload], rounds=2, warmup=1)
    assert workload.items == 2 and workload.meta["items_checked"] == [3, 2]


@pytest.mark.parametrize(("outputs", "why"), [
    (None, "returned NoneType for 2 prompts"),
    ([], "returned 0 items for 2 prompts"),
    (["a", 3], "returned 2 items for 2 prompts, expected one str each"),
    (["", "  \n"], "returned an empty .* for every one of 2 prompts"),
])
def test_generations_must_be_one_non_empty_str_per_prompt(outputs: Any, why: str) -> None:
    with pytest.raises(ModelOutputError, match=f"model 'lm' generate\\(\\) {why}"):
        checked_generations("lm", outputs, 2)


def test_one_empty_generation_beside_others_is_accepted() -> None:
    assert checked_generations("lm", ["", "the end"], 2) == ["", "the end"]


class _Chars:
    def encode(self, text: str) -> list[int]:
        return [ord(c) for c in text]


class _CharLM:
    """Generates `made(prompt)`; its tokenizer's tokens are characters."""

    capabilities = frozenset({GENERATE, TOKENIZER})
    tokenizer = _Chars()

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.info = ModelInfo(name="char-lm", family="transformer", params=0)

    def generate(self, prompts: list[str], max_new_tokens: int, seed: int) -> list[str]:
        return self.texts[: len(prompts)]


def test_tokens_generate_made_are_counted_and_capped_at_the_tokens_asked_for() -> None:
    adapter = _CharLM(["ab", "x" * 50, "c"])
    w = decode_workload(adapter, 3, 8, ["one two three", "four five", "six seven"], count_tokens=token_count)
    assert w.items == 3 * 8  # the upper bound until outputs are seen
    interleaved([w], rounds=1)
    assert w.items == 2 + 8 + 1  # 50 characters count as the 8 tokens asked for
    assert "tokens counted by the adapter's tokenizer" in w.describe


def test_without_a_counter_generate_is_checked_and_items_stay_the_upper_bound() -> None:
    w = decode_workload(_CharLM(["ab", "c"]), 2, 8, ["one two", "three"])
    interleaved([w], rounds=1)
    assert w.items == 16 and "upper bound" in w.describe
    empty = decode_workload(_CharLM(["", ""]), 2, 8, ["one two", "three"])
    with pytest.raises(ModelOutputError, match="model 'char-lm' generate"):
        interleaved([empty], rounds=1)
