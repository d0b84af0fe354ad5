"""Every generation a check reads through audit.text_generation is one plain str per prompt and a
continuation only: an adapter returning two sequences per prompt, dropping prompts, or echoing
each prompt before its continuation is a ModelOutputError (exit 4), never pseudo-replicates,
texts paired with the wrong prompts, or an echoed prompt scored as machine text."""

from __future__ import annotations

import pytest

from audit.adapters.base import GENERATE, ModelAdapter, ModelInfo
from audit.checks.deepfake import machine_text, text_watermark
from audit.context import CheckContext
from audit.errors import ModelOutputError
from audit.evaluators import digits_evaluator, digits_reference
from audit.sample_store import SampleStore
from audit.text_generation import checked_generations, generate_cached, generate_texts
from audit_reference_models.transformer.adapter import TransformerAdapter, load_transformer

PROMPTS = ["Once upon a time", "The little dog", "Mom said", "Tom had a"]


class ModeLM(ModelAdapter):
    """Answers `generate` in one of the broken ways an adapter can (or correctly: mode "ok")."""

    capabilities = frozenset({GENERATE})

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.info = ModelInfo(name=f"mode-{mode}", family="transformer", params=0)

    def modules(self) -> dict:
        return {}

    def generate(self, prompts: list[str], max_new_tokens: int, seed: int) -> list[str]:
        outs = [f" and then story {i} went on." for i in range(len(prompts))]
        if self.mode == "double":
            return [o for o in outs for _ in range(2)]
        if self.mode == "fewer":
            return outs[: max(1, len(prompts) // 4)]
        if self.mode == "echo":
            return [p + o for p, o in zip(prompts, outs)]
        if self.mode == "one_echo":  # one continuation that happens to repeat its prompt
            return [prompts[0] + outs[0], *outs[1:]]
        return outs


def _ctx(adapter: ModelAdapter, tmp_path, n: int = 8) -> CheckContext:
    return CheckContext(adapter, adapter.info.name, "fp32", 0, n, 50, SampleStore(digits_evaluator, digits_reference), tmp_path)


@pytest.mark.parametrize(("mode", "reason"), [
    ("double", "returned 8 items for 4 prompts"),
    ("fewer", "returned 1 items for 4 prompts"),
    ("echo", "its prompt followed by the continuation for 4 of 4 prompts"),
])
def test_generate_cached_refuses_a_broken_output(mode: str, reason: str, tmp_path):
    with pytest.raises(ModelOutputError, match=reason):
        generate_cached(_ctx(ModeLM(mode), tmp_path), PROMPTS, 8, 0)


@pytest.mark.parametrize("mode", ["double", "fewer", "echo"])
def test_generate_texts_refuses_the_same_outputs(mode: str, tmp_path):
    with pytest.raises(ModelOutputError):
        generate_texts(_ctx(ModeLM(mode), tmp_path), PROMPTS, 8, greedy=True)


@pytest.mark.parametrize("mode", ["ok", "one_echo"])
def test_continuations_pass_unchanged(mode: str, tmp_path):
    expected = ModeLM(mode).generate(PROMPTS, 8, 0)
    assert generate_cached(_ctx(ModeLM(mode), tmp_path), PROMPTS, 8, 0)[0] == expected


def test_blank_prompts_and_bare_repeats_never_count_as_echoed():
    assert checked_generations("m", ["", " "], ["a", "b"]) == ["a", "b"]
    assert checked_generations("m", PROMPTS, list(PROMPTS)) == PROMPTS  # a parrot continues with the prompt itself


def test_echoing_a_minority_of_long_prompts_is_refused_and_short_prompt_repeats_are_not():
    """45% of 20 long prompts echoed had passed (only a majority was refused) and moved ROUGE-1
    from 0.21 to 0.23; one echo in 20, or a short prompt repeated, is an honest continuation."""
    long = [f"the little fox number {i} ran into the deep green woods" for i in range(20)]
    clean = [" and found a berry." for _ in long]
    echo9 = [p + c if i < 9 else c for i, (p, c) in enumerate(zip(long, clean))]
    with pytest.raises(ModelOutputError, match="for 9 of 20 prompts"):
        checked_generations("m", long, echo9)
    echo1 = [long[0] + clean[0], *clean[1:]]
    assert checked_generations("m", long, echo1) == echo1
    short = ["The", "Once", "A dog"] * 4
    repeats = [p + " sat down." if i % 3 == 0 else " cat sat." for i, p in enumerate(short)]  # 4 of 12 short prompts
    assert checked_generations("m", short, repeats) == repeats


class WrappedLM(TransformerAdapter):
    """The bundled transformer with its generate() broken as in `ModeLM` (sampling arguments kept);
    with `marked_only`, only the watermarked calls (a logits processor given) are broken."""

    mode = "double"
    marked_only = False

    def generate(self, prompts, max_new_tokens, seed, temperature=1.0, top_k=None, top_p=None, greedy=False, logits_processor=None):
        sup = super().generate
        out = sup(prompts, max_new_tokens, seed, temperature, top_k, top_p, greedy, logits_processor)
        if self.marked_only and logits_processor is None:
            return out
        if self.mode == "double":
            again = sup(prompts, max_new_tokens, seed + 1, temperature, top_k, top_p, greedy, logits_processor)
            return [x for pair in zip(out, again) for x in pair]
        if self.mode == "fewer":
            return out[: max(1, len(out) // 4)]
        return [p + o for p, o in zip(prompts, out)]


@pytest.fixture(scope="module")
def lm() -> TransformerAdapter:
    return load_transformer("transformer")


def _wrapped(lm: TransformerAdapter, mode: str, marked_only: bool = False) -> WrappedLM:
    adapter = WrappedLM(lm.model, lm.tokenizer, f"lm-{mode}", weights=None)
    adapter.mode, adapter.marked_only = mode, marked_only
    return adapter


@pytest.mark.parametrize("mode", ["double", "fewer", "echo"])
def test_machine_text_refuses_a_broken_generate(mode: str, lm: TransformerAdapter, tmp_path):
    with pytest.raises(ModelOutputError, match="generate\\(\\) returned"):
        machine_text(_ctx(_wrapped(lm, mode), tmp_path))


@pytest.mark.parametrize("mode", ["double", "fewer", "echo"])
def test_text_watermark_refuses_a_broken_watermarked_generate(mode: str, lm: TransformerAdapter, tmp_path):
    with pytest.raises(ModelOutputError, match="generate\\(\\) returned"):
        text_watermark(_ctx(_wrapped(lm, mode, marked_only=True), tmp_path), max_new_tokens=16)
