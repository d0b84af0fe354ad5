"""What checks ask of a language-model adapter: held-out documents, per-story NLL from
`log_probs`, and batched, timed, seeded `generate` calls (read through the persistent sample cache).

The text-quality, robustness and deepfake checks all read a model through these, so each is
defined once. Torch is imported only inside the adapter's own methods. Every generation read here
passes `checked_generations` (one plain str per prompt, no echoed prompts) before a check sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from audit.adapters.base import TOKENIZER, accepts, has_capability
from audit.adapters.texts import checked_texts
from audit.errors import ModelOutputError

if TYPE_CHECKING:
    from audit.context import CheckContext

GENERATION_BATCH = 50
"""Prompts per `generate` call."""


def heldout_documents(ctx: CheckContext) -> tuple[tuple[str, ...], str]:
    """The run's held-out documents and their description: the `text=` file, else TinyStories."""
    source = ctx.heldout_text()
    return tuple(source.documents), str(getattr(source, "description", None) or getattr(source, "name", "held-out text"))


def story_nll(adapter: object, stories: list[str]) -> np.ndarray:
    """Rows of (NLL in nats, scored tokens), one per story, from the adapter's `log_probs`."""
    from audit.lm.log_probs import checked_log_probs

    scores = checked_log_probs(adapter, stories)
    return np.array([[-float(s.double().sum()), len(s)] for s in scores], dtype=np.float64)


def token_count(adapter: Any, text: str) -> int:
    """Tokens of `text` by the adapter's declared tokenizer (re-tokenized output), else its word count."""
    from audit.metrics.text import words

    if has_capability(adapter, TOKENIZER):
        try:
            encoded = adapter.tokenizer.encode(text)
            return len(getattr(encoded, "ids", encoded))
        except Exception:
            pass
    return len(words(text))


ECHO_MIN_WORDS = 4
ECHO_SHARE = 0.1
"""An honest continuation may begin by repeating a short prompt ("The" -> "The cat ..."), seldom a
prompt of ECHO_MIN_WORDS words or more: more than ECHO_SHARE of those (and at least 2) echoed is
an adapter decoding the whole sequence for some prompts (45% echoed had passed and moved ROUGE-1
from 0.21 to 0.23); otherwise a majority of all prompts."""


def echoed_prompts(prompts: list[str], outputs: list[str]) -> int:
    """How many outputs are their own (non-blank) prompt followed by more text, leading whitespace
    aside: the mark of decoding the whole sequence. An output that only repeats its prompt is a
    (degenerate) continuation and is not counted."""
    return sum(bool(p.strip()) and o.strip().startswith(p.strip()) and len(o.strip()) > len(p.strip())
               for p, o in zip(prompts, outputs))


def checked_generations(model: str, prompts: list[str], outputs: Any) -> list[str]:
    """`generate()`'s outputs as one plain str per prompt, continuations only; ModelOutputError otherwise.

    A wrong count (several sequences per prompt, dropped prompts) would pair texts with the wrong
    prompts and count pseudo-replicates. An adapter that returns prompt + continuation (decoding the
    whole sequence) is refused rather than stripped: when most outputs are their prompt followed by
    more text, or more than ECHO_SHARE of those of long prompts, the contract is broken, and a strip
    would guess where the continuation starts (a detokenizer may not reproduce the prompt exactly,
    leaving echoed and clean outputs mixed). A
    few continuations that happen to repeat their prompt are not counted against the model."""
    texts = checked_texts(model, outputs, len(prompts))
    echoed = echoed_prompts(prompts, texts)
    long_prompts = [p if len(p.split()) >= ECHO_MIN_WORDS else "" for p in prompts]
    long_echoed = echoed_prompts(long_prompts, texts)
    if (echoed > 0 and echoed * 2 > sum(bool(p.strip()) for p in prompts)
            or long_echoed >= 2 and long_echoed > ECHO_SHARE * sum(bool(p) for p in long_prompts)):
        raise ModelOutputError(f"model '{model}' generate() returned its prompt followed by the continuation for {echoed} of "
                               f"{len(prompts)} prompts, expected the continuation only (decode the new tokens alone)")
    return texts


@dataclass
class Generations:
    """Texts a language model generated for prompts, with the time and tokens it took."""

    prompts: list[str]
    outputs: list[str]
    seconds: float
    tokens: int
    decoding: str

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else float("nan")

    def timing(self) -> dict[str, Any]:
        return {"generation_seconds": self.seconds, "generated_tokens": self.tokens,
                "tokens_per_second": self.tokens_per_second, "decoding": self.decoding}


def generate_texts(ctx: CheckContext, prompts: list[str], max_new_tokens: int, greedy: bool, batch: int = GENERATION_BATCH) -> Generations:
    """The adapter's continuations of `prompts`, `batch` prompts per call (seed: the run's plus the
    batch offset), greedy where the adapter takes `greedy=`, timed; one str per prompt or ModelOutputError."""
    generate = ctx.adapter.generate
    kwargs: dict[str, Any] = {}
    if greedy and accepts(generate, "greedy"):
        kwargs["greedy"] = True
        decoding = "greedy"
    else:
        decoding = f"seeded sampling (the adapter's defaults, seed {ctx.seed})"

    def produce(count: int) -> list[str]:
        """The first `count` prompts' continuations, batched as for all (the store verifies a hit with a few)."""
        outputs: list[str] = []
        for i in range(0, count, batch):
            outputs += generate(prompts[i : min(i + batch, count)], max_new_tokens, ctx.seed + i, **kwargs)
            ctx.progress("generating text", min(i + batch, count), count)
        return outputs

    outputs, seconds = ctx.store.generations(ctx.adapter, ctx.model, ctx.precision, prompts, max_new_tokens, ctx.seed,
                                             {**kwargs, "batch": batch}, produce)
    outputs = checked_generations(ctx.model, prompts, outputs)
    return Generations(prompts, outputs, seconds, sum(token_count(ctx.adapter, o) for o in outputs), decoding)


def generate_cached(ctx: CheckContext, prompts: list[str], max_new_tokens: int, seed: int, **settings: Any) -> tuple[list[str], float]:
    """(outputs, seconds) of one `generate(prompts, max_new_tokens, seed, **settings)` call of the
    check's model, through the run's sample store: read from the persistent sample cache when these
    exact generations were made before, else generated (and stored). `settings` are JSON values
    (greedy, temperature, top_k, top_p). The outputs pass `checked_generations` here, so no
    caller pairs a wrong number of texts, or echoed prompts, with its prompts."""
    outputs, seconds = ctx.store.generations(ctx.adapter, ctx.model, ctx.precision, prompts, max_new_tokens, seed,
                                             {**settings, "batch": "one call"},
                                             lambda count: ctx.adapter.generate(prompts[:count], max_new_tokens, seed, **settings))
    return checked_generations(ctx.model, prompts, outputs), seconds


__all__ = [
    "GENERATION_BATCH", "Generations", "checked_generations", "echoed_prompts", "generate_cached", "generate_texts",
    "heldout_documents", "story_nll", "token_count",
]
