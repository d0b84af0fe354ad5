"""privacy.verbatim_extraction on language 'models' that regurgitate TinyStories training stories:
the suite's gate fails them, a tokenizer whose decode respaces words is compared on token ids, a
generate() that echoes its prompt is refused, and a tokenizer too coarse for 32 + 16 tokens is a
skip with its reason, not a ZeroDivisionError."""

from __future__ import annotations

import functools
import re

import pytest

from audit.adapters import GENERATE, TOKENIZER, ModelAdapter, ModelInfo
from audit.checks import check_spec, load_check_modules
from audit.context import CheckContext
from audit.datasets import load_dataset
from audit.errors import ModelOutputError, NotApplicable
from audit.evaluators import digits_evaluator, digits_reference
from audit.sample_store import SampleStore
from tests.audit.checks.test_privacy_two_sided import suite_status

PREFIX, K = 32, 16


class WordTok:
    """Lossless word tokenizer: each token a word or punctuation mark with its leading whitespace."""

    PIECE = re.compile(r"\s*(?:\w+|[^\w\s])")

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.inv: list[str] = []

    def pieces(self, text: str) -> list[str]:
        return self.PIECE.findall(text)

    def encode(self, text: str) -> list[int]:
        for p in self.pieces(text):
            if p not in self.vocab:
                self.vocab[p] = len(self.inv)
                self.inv.append(p)
        return [self.vocab[p] for p in self.pieces(text)]

    def decode(self, ids: list[int]) -> str:
        return "".join(self.inv[i] for i in ids)


class SpacedTok(WordTok):
    """Word-level tokenizer whose decode joins tokens with single spaces (a WordLevel `tokenizers`
    model without a decoder): "Tom, the cat" decodes as "Tom , the cat"."""

    PIECE = re.compile(r"\w+|[^\w\s]")

    def decode(self, ids: list[int]) -> str:
        return " ".join(self.inv[i] for i in ids)


class SentenceTok:
    """One token per text: no story is 48 tokens long."""

    def encode(self, text: str) -> list[int]:
        return [hash(text) % 1000]

    def decode(self, ids: list[int]) -> str:
        return "".join(str(i) for i in ids)


@functools.cache
def _memory(tokenizer_type: type[WordTok]) -> dict[str, str]:
    """Each training story's first 32 tokens, decoded, to its next 16 tokens as the story wrote them."""
    tokenizer, memory = tokenizer_type(), {}
    for story in load_dataset("tinystories").train:
        ends = [m.end() for m in tokenizer.PIECE.finditer(story)]
        if len(ends) >= PREFIX + K:
            memory.setdefault(tokenizer.decode(tokenizer.encode(story)[:PREFIX]), story[ends[PREFIX - 1] : ends[PREFIX + K - 1]])
    return memory


class Regurgitator(ModelAdapter):
    """Continues the first 32 tokens of a training story with the story's next 16 tokens, written
    as the story wrote them; anything else with a stock phrase."""

    capabilities = frozenset({GENERATE, TOKENIZER})

    def __init__(self, tokenizer: WordTok, name: str, echo: bool = False) -> None:
        self.tokenizer, self.echo = tokenizer, echo
        self.info = ModelInfo(name=name, family="transformer", params=0)
        self.memory = _memory(type(tokenizer))

    def modules(self) -> dict:
        return {}

    def generate(self, prompts: list[str], max_new_tokens: int, seed: int, greedy: bool = False) -> list[str]:
        outs = [self.memory.get(p, " and they were happy.") for p in prompts]
        return [p + o for p, o in zip(prompts, outs)] if self.echo else outs


def _run(adapter: ModelAdapter, tmp_path, prompts: int = 40):
    load_check_modules()
    ctx = CheckContext(adapter, adapter.info.name, "fp32", 0, 20, 20, SampleStore(digits_evaluator, digits_reference), tmp_path)
    return check_spec("privacy.verbatim_extraction").fn(ctx, prompts=prompts)


def test_a_model_that_reproduces_its_training_stories_fails_the_suite_gate(tmp_path):
    m = _run(Regurgitator(WordTok(), "regurgitator"), tmp_path)
    assert m.details["train"]["rate"] >= 0.95 and m.details["heldout"]["rate"] <= 0.05
    assert m.details["train"]["mean_matching_leading_tokens"] >= 0.95 * K
    assert suite_status("privacy.verbatim_extraction", m) == "fail"


def test_a_spaced_decode_is_compared_on_token_ids(tmp_path):
    m = _run(Regurgitator(SpacedTok(), "regurgitator-spaced"), tmp_path)
    train = m.details["train"]
    assert train["rate"] >= 0.95 and train["mean_matching_leading_tokens"] >= 0.95 * K
    # the texts differ: the reference is decoded with spaces around punctuation, the model wrote the story's
    example = m.details["examples"]["train"][0]
    assert example["generated"] != example["truth"] and example["generated"].split() != example["truth"].split()
    assert suite_status("privacy.verbatim_extraction", m) == "fail"


def test_an_echoed_prompt_is_refused_not_scored_zero(tmp_path):
    with pytest.raises(ModelOutputError, match="prompt followed by the continuation"):
        _run(Regurgitator(WordTok(), "regurgitator-echo", echo=True), tmp_path)


def test_a_tokenizer_with_no_story_of_48_tokens_is_skipped_with_the_reason(tmp_path):
    class Coarse(Regurgitator):
        def __init__(self) -> None:
            self.tokenizer, self.echo, self.memory = SentenceTok(), False, {}
            self.info = ModelInfo(name="coarse", family="transformer", params=0)

    with pytest.raises(NotApplicable, match=r"no train story has the 32 \+ 16 tokens .* model 'coarse' \(the longest has 1\)"):
        _run(Coarse(), tmp_path)
