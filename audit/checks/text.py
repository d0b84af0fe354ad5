"""Checks for language models: held-out perplexity, BLEU/ROUGE on a held-out continuation
task, and diversity/repetition of free generations, on held-out text (the bundled TinyStories
split, or the run's `text=` file).

Torch is imported only inside the adapter calls, so listing checks stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from audit.adapters.base import GENERATE, LOG_PROBS, accepts
from audit.adapters.texts import checked_texts
from audit.checks.base import Measurement, check
from audit.context import CheckContext, finite_or_raise
from audit.errors import ModelOutputError
from audit.stats import bootstrap_ci, measurement_ci
from audit.text_generation import GENERATION_BATCH, Generations, generate_cached, generate_texts, heldout_documents, story_nll, token_count


def perplexity_of(pairs: np.ndarray) -> float:
    """exp(sum of NLL / sum of tokens) over rows of (nll nats, tokens): token-level perplexity."""
    return float(np.exp(pairs[:, 0].sum() / pairs[:, 1].sum()))


@check("quality.perplexity", families=("transformer",), needs=(LOG_PROBS,), higher_is_better=False, unit="perplexity")
def perplexity(ctx: CheckContext, n: int | None = None) -> Measurement:
    """Token-level perplexity on held-out text: TinyStories or the run's text= file (bootstrap CI over documents)."""
    source = ctx.store.heldout_text()  # the run's text= file, else the bundled TinyStories held-out split
    heldout = source.documents
    count = min(int(n if n is not None else ctx.n), len(heldout))
    if count < 1:
        raise ValueError(f"quality.perplexity needs n >= 1 held-out stories, got {count}")
    pairs = story_nll(ctx.adapter, list(heldout[:count]))
    if (pairs[:, 1] == 0).all():
        raise ValueError("the model scored no tokens of the held-out stories")
    value = finite_or_raise("perplexity", perplexity_of(pairs))
    low, high = measurement_ci(*bootstrap_ci(perplexity_of, [pairs], ctx.bootstrap, ctx.rng_seed("quality.perplexity")), floor=1.0)  # perplexity >= 1
    return Measurement(
        value, low, high, n=count,
        details={
            "reference": source.description,
            "stories": count, "tokens": int(pairs[:, 1].sum()), "nll_nats": float(pairs[:, 0].sum()),
            "ci": "bootstrap over stories, ratio of summed NLL to summed tokens",
        },
    )


# --- Generation quality: a held-out continuation task and free generations -------------------
#
# Continuation task: each held-out document (TinyStories story) long enough is cut into a prompt (its first
# `prompt_words` words) and a reference (the next `reference_words`); the model continues the
# prompt greedily and its first `reference_words` words are scored against the reference with
# BLEU and ROUGE. Two controls that need no model run are reported beside every score: the
# prompt's own last words as the continuation (copying baseline) and the model's continuations
# scored against another story's reference (shuffled references: what topic-free fluency earns).
# Free generations: seeded samples (temperature 1) from short generic story openings, read by
# distinct-n, self-BLEU and repetition; held-out human text cut to the same lengths is measured
# beside them. Each set of generations is made once per run (ctx.memo) and shared by its checks.

CONTINUATION_PROMPTS: int | None = None
"""None: every held-out story long enough (all 310 at the default lengths), capped by the run's n."""
PROMPT_WORDS = 40
REFERENCE_WORDS = 20
CONTINUATION_TOKENS = 40
"""New tokens per continuation: TinyStories runs ~1.4 tokens per word, so 40 cover 20 words."""
FREE_GENERATIONS = 100
FREE_TOKENS = 64
OPENINGS = (
    "Once upon a time", "One day,", "There was a little", "Lily and Ben", "It was a sunny day",
    "Tom had a", "In a big forest", "The little dog", "Mom said", "Sara wanted to",
)
SAMPLE_ROWS = 5


@dataclass
class Continuations:
    items: list[Any]
    generations: Generations
    continuations: list[str]
    """Each generation's first `reference_words` words: what is scored."""
    source: str = "held-out text"

    @property
    def references(self) -> list[str]:
        return [it.reference for it in self.items]

    @property
    def shuffled_references(self) -> list[str]:
        """Reference i+1 for item i (a rotation: never the item's own reference)."""
        refs = self.references
        return refs[1:] + refs[:1]

    @property
    def prompt_tails(self) -> list[str]:
        return [it.prompt_tail for it in self.items]


def continuation_run(
    ctx: CheckContext, n: int | None, prompt_words: int, reference_words: int, max_new_tokens: int
) -> Continuations:
    """The continuation task's greedy generations, made once per run and shared by BLEU and ROUGE."""
    from audit.metrics.text import continuation_task, first_words

    documents, source = heldout_documents(ctx)
    task = continuation_task(documents, prompt_words, reference_words)
    wanted = n if n is not None else CONTINUATION_PROMPTS
    count = min(int(wanted) if wanted is not None else len(task), ctx.n, len(task))

    def compute() -> Continuations:
        items = task[:count]
        if len(items) < 2:
            raise ValueError(
                f"the continuation task needs at least 2 held-out documents of {prompt_words + reference_words}+ words, got {len(items)}"
            )
        gens = generate_texts(ctx, [it.prompt for it in items], max_new_tokens, greedy=True, batch=GENERATION_BATCH)
        return Continuations(items, gens, [first_words(o, reference_words) for o in gens.outputs], source)

    return ctx.memo("text.continuations", compute, count, prompt_words, reference_words, max_new_tokens)


def _task_details(run: Continuations, prompt_words: int, reference_words: int, max_new_tokens: int) -> dict[str, Any]:
    return {
        "task": (f"{run.source}: prompt = a document's first {prompt_words} words, reference = the next "
                 f"{reference_words}; the model's first {reference_words} words (of up to {max_new_tokens} new tokens) are scored"),
        "prompts": len(run.items), **run.generations.timing(),
        "controls": ("prompt_tail: the prompt's last words as the continuation; shuffled_reference: the model's "
                     "continuations scored against the next story's reference"),
    }


def _samples_table(run: Continuations) -> dict[str, Any]:
    return {"title": "Held-out continuations (greedy)", "columns": ["prompt", "model continuation", "reference"],
            "rows": [[it.prompt, c, it.reference] for it, c in list(zip(run.items, run.continuations))[:SAMPLE_ROWS]]}


def _with_ci(ctx: CheckContext, salt: str, statistic: Any, rows: np.ndarray) -> dict[str, Any]:
    low, high = bootstrap_ci(statistic, [rows], ctx.bootstrap, ctx.rng_seed(salt))
    return {"value": float(statistic(rows)), "ci_low": low, "ci_high": high}


@check("quality.bleu", families=("transformer",), needs=(GENERATE,), higher_is_better=True, unit="BLEU (0-1)")
def bleu(
    ctx: CheckContext, n: int | None = None, prompt_words: int = PROMPT_WORDS, reference_words: int = REFERENCE_WORDS,
    max_new_tokens: int = CONTINUATION_TOKENS,
) -> Measurement:
    """Corpus BLEU-4 of greedy continuations of held-out TinyStories prompts against the true next words (bootstrap CI over prompts)."""
    from audit.metrics.text import bleu_from_stats, corpus_bleu_stats, torchmetrics_bleu

    run = continuation_run(ctx, n, prompt_words, reference_words, max_new_tokens)
    value = finite_or_raise("BLEU", torchmetrics_bleu(run.continuations, run.references))
    stats = corpus_bleu_stats(run.continuations, run.references)
    low, high = bootstrap_ci(bleu_from_stats, [stats], ctx.bootstrap, ctx.rng_seed("quality.bleu"))
    controls = {
        "prompt_tail": _with_ci(ctx, "bleu-prompt-tail", bleu_from_stats, corpus_bleu_stats(run.prompt_tails, run.references)),
        "shuffled_reference": _with_ci(ctx, "bleu-shuffled", bleu_from_stats, corpus_bleu_stats(run.continuations, run.shuffled_references)),
    }
    total = stats.sum(axis=0)
    details = _task_details(run, prompt_words, reference_words, max_new_tokens)
    details.update({
        "bleu": "torchmetrics BLEUScore, corpus-level, 4-gram, unsmoothed, on word/punctuation tokens (case kept)",
        "precisions": [float(total[2 + k] / max(total[6 + k], 1)) for k in range(4)],
        "hypothesis_words": int(total[0]), "reference_words": int(total[1]),
        "controls_bleu": controls, "ci": "bootstrap over prompts (corpus BLEU of the resampled prompts)",
        "tables": [_samples_table(run)],
    })
    return Measurement(value, low, high, n=len(run.items), details=details)


def _rouge(ctx: CheckContext, key: str, n: int | None, prompt_words: int, reference_words: int, max_new_tokens: int) -> Measurement:
    from audit.metrics.text import ROUGE_KEYS, rouge_per_item

    run = continuation_run(ctx, n, prompt_words, reference_words, max_new_tokens)

    def compute() -> dict[str, np.ndarray]:
        return {"model": rouge_per_item(run.continuations, run.references),
                "prompt_tail": rouge_per_item(run.prompt_tails, run.references),
                "shuffled_reference": rouge_per_item(run.continuations, run.shuffled_references)}

    scores = ctx.memo("text.continuation_rouge", compute, len(run.items), prompt_words, reference_words, max_new_tokens)
    column = ROUGE_KEYS.index(key)
    per_item = scores["model"][:, column]
    value = finite_or_raise(key, float(per_item.mean()))
    low, high = bootstrap_ci(_column_mean, [per_item], ctx.bootstrap, ctx.rng_seed(f"quality.{key}"))
    controls = {name: _with_ci(ctx, f"{key}-{name}", _column_mean, scores[name][:, column]) for name in ("prompt_tail", "shuffled_reference")}
    details = _task_details(run, prompt_words, reference_words, max_new_tokens)
    details.update({
        "rouge": f"torchmetrics ROUGEScore {key} F-measure per prompt (lower-cased letters and digits, no stemmer), mean over prompts",
        f"controls_{key}": controls, "ci": "bootstrap over prompts",
    })
    return Measurement(value, low, high, n=len(per_item), details=details)


def _column_mean(x: np.ndarray) -> float:
    return float(np.mean(x))


@check("quality.rouge1", families=("transformer",), needs=(GENERATE,), higher_is_better=True, unit="F-measure")
def rouge1(ctx: CheckContext, n: int | None = None, prompt_words: int = PROMPT_WORDS, reference_words: int = REFERENCE_WORDS,
           max_new_tokens: int = CONTINUATION_TOKENS) -> Measurement:
    """ROUGE-1 F-measure of greedy held-out TinyStories continuations against the true next words (bootstrap CI over prompts)."""
    return _rouge(ctx, "rouge1", n, prompt_words, reference_words, max_new_tokens)


@check("quality.rouge2", families=("transformer",), needs=(GENERATE,), higher_is_better=True, unit="F-measure")
def rouge2(ctx: CheckContext, n: int | None = None, prompt_words: int = PROMPT_WORDS, reference_words: int = REFERENCE_WORDS,
           max_new_tokens: int = CONTINUATION_TOKENS) -> Measurement:
    """ROUGE-2 F-measure of greedy held-out TinyStories continuations against the true next words (bootstrap CI over prompts)."""
    return _rouge(ctx, "rouge2", n, prompt_words, reference_words, max_new_tokens)


@check("quality.rougeL", families=("transformer",), needs=(GENERATE,), higher_is_better=True, unit="F-measure")
def rougeL(ctx: CheckContext, n: int | None = None, prompt_words: int = PROMPT_WORDS, reference_words: int = REFERENCE_WORDS,
           max_new_tokens: int = CONTINUATION_TOKENS) -> Measurement:
    """ROUGE-L (longest common subsequence) F-measure of greedy held-out TinyStories continuations (bootstrap CI over prompts)."""
    return _rouge(ctx, "rougeL", n, prompt_words, reference_words, max_new_tokens)


@dataclass
class FreeText:
    generations: Generations
    tokens: list[list[str]]
    """Lower-cased word tokens of each generation (distinct-n, repetition)."""
    case_tokens: list[list[str]]
    """Word tokens with case (self-BLEU)."""
    human: list[list[str]]
    """Held-out stories cut to each generation's token count (lower-cased): the human comparator."""
    human_case: list[list[str]]
    source: str = "held-out text"


HUMAN_OFFSET = 20
"""Human comparator excerpts start at a story's 20th token: past the formulaic openings
("Once upon a time, there was a little girl named"), as the generations start past theirs."""


def _human_excerpt(story: str, length: int) -> list[str]:
    """`length` word tokens of a held-out story from HUMAN_OFFSET on (earlier if the story is short)."""
    from audit.metrics.text import words

    w = words(story)
    length = max(length, 1)
    start = min(HUMAN_OFFSET, max(len(w) - length, 0))
    return w[start : start + length]


def free_text(ctx: CheckContext, n: int | None, max_new_tokens: int, temperature: float) -> FreeText:
    """Seeded free generations from generic openings, made once per run and shared by distinct-n,
    self-BLEU and repetition."""
    from audit.metrics.text import words

    count = min(int(n) if n is not None else FREE_GENERATIONS, ctx.n)

    def compute() -> FreeText:
        if count < 2:
            raise ValueError(f"free generation checks need n >= 2 generations, got {count}")
        prompts = [OPENINGS[i % len(OPENINGS)] for i in range(count)]
        kwargs: dict[str, Any] = {"temperature": float(temperature)} if accepts(ctx.adapter.generate, "temperature") else {}
        outputs, seconds = generate_cached(ctx, prompts, max_new_tokens, ctx.seed, **kwargs)  # one call: one seed per prompt
        outputs = checked_texts(ctx.model, outputs, count)
        gens = Generations(prompts, list(outputs), seconds, sum(token_count(ctx.adapter, o) for o in outputs),
                           f"seeded sampling, temperature {temperature} (seed {ctx.seed}, one generator per prompt)")
        heldout, source = heldout_documents(ctx)
        human_case = [_human_excerpt(heldout[i % len(heldout)], len(words(o))) for i, o in enumerate(outputs)]
        return FreeText(gens, [words(o, lower=True) for o in outputs], [words(o) for o in outputs],
                        [[w.lower() for w in h] for h in human_case], human_case, source)

    return ctx.memo("text.free_generations", compute, count, max_new_tokens, float(temperature))


def _free_details(text: FreeText, max_new_tokens: int) -> dict[str, Any]:
    return {"generations": len(text.tokens), "openings": list(OPENINGS), "max_new_tokens": max_new_tokens,
            "mean_words": float(np.mean([len(t) for t in text.tokens])), **text.generations.timing(),
            "human_reference": (f"{text.source}: each document's text from its {HUMAN_OFFSET}th token on, cut to the same "
                                "token counts as the generations (one document per generation)")}


def _distinct(ctx: CheckContext, order: int, n: int | None, max_new_tokens: int, temperature: float) -> Measurement:
    from audit.metrics.text import distinct_from_ids, ngram_ids

    text = free_text(ctx, n, max_new_tokens, temperature)
    ids = ngram_ids(text.tokens, order)
    index = np.arange(len(ids))

    def statistic(rows: np.ndarray) -> float:
        return distinct_from_ids([ids[i] for i in rows])

    value = distinct_from_ids(ids)
    if not np.isfinite(value):
        raise ModelOutputError(f"model '{ctx.model}' generated no {order}-grams")
    low, high = measurement_ci(*bootstrap_ci(statistic, [index], ctx.bootstrap, ctx.rng_seed(f"quality.distinct_{order}")), 0.0, 1.0)
    details = _free_details(text, max_new_tokens)
    details.update({
        "definition": f"distinct {order}-grams / all {order}-grams over all generations (lower-cased word tokens)",
        "human_value": distinct_from_ids(ngram_ids(text.human, order)),
        "ci": "bootstrap over generations (re-centred: duplicated generations bias resampled distinct-n down)",
    })
    if order == 1:
        details["tables"] = [{"title": "Free generations (seeded sampling)", "columns": ["opening", "generation"],
                              "rows": [[p, o] for p, o in list(zip(text.generations.prompts, text.generations.outputs))[:SAMPLE_ROWS]]}]
    return Measurement(value, low, high, n=len(ids), details=details)


@check("quality.distinct_1", families=("transformer",), needs=(GENERATE,), higher_is_better=True, unit="ratio")
def distinct_1(ctx: CheckContext, n: int | None = None, max_new_tokens: int = FREE_TOKENS, temperature: float = 1.0) -> Measurement:
    """Distinct-1: unique words / words over seeded free generations (bootstrap CI over generations)."""
    return _distinct(ctx, 1, n, max_new_tokens, temperature)


@check("quality.distinct_2", families=("transformer",), needs=(GENERATE,), higher_is_better=True, unit="ratio")
def distinct_2(ctx: CheckContext, n: int | None = None, max_new_tokens: int = FREE_TOKENS, temperature: float = 1.0) -> Measurement:
    """Distinct-2: unique bigrams / bigrams over seeded free generations (bootstrap CI over generations)."""
    return _distinct(ctx, 2, n, max_new_tokens, temperature)


@check("quality.self_bleu", families=("transformer",), needs=(GENERATE,), higher_is_better=False, unit="BLEU (0-1)")
def self_bleu(ctx: CheckContext, n: int | None = None, max_new_tokens: int = FREE_TOKENS, temperature: float = 1.0) -> Measurement:
    """Self-BLEU-4: mean BLEU of each free generation against all the others (lower = more diverse; bootstrap CI)."""
    from audit.metrics.text import self_bleu_scores

    text = free_text(ctx, n, max_new_tokens, temperature)
    scores = self_bleu_scores(text.case_tokens)
    value = finite_or_raise("self-BLEU", float(scores.mean()))
    low, high = bootstrap_ci(_column_mean, [scores], ctx.bootstrap, ctx.rng_seed("quality.self_bleu"))
    details = _free_details(text, max_new_tokens)
    details.update({
        "definition": ("for each generation, sentence BLEU-4 against all other generations as references "
                       "(clipped by the largest count in any one; Lin & Och add-one smoothing for 2-4-grams); mean over generations"),
        "human_value": float(self_bleu_scores(text.human_case).mean()),
        "ci": "bootstrap over generations of the per-generation scores (references held fixed)",
    })
    return Measurement(value, low, high, n=len(scores), details=details)


@check("quality.repetition_rate", families=("transformer",), needs=(GENERATE,), higher_is_better=False, unit="share")
def repetition_rate(
    ctx: CheckContext, n: int | None = None, max_new_tokens: int = FREE_TOKENS, temperature: float = 1.0, order: int = 4
) -> Measurement:
    """Repetition within a generation: share of its 4-grams that repeat an earlier one (seq-rep-4), mean over free generations."""
    from audit.metrics.text import repetition_rate as rep

    text = free_text(ctx, n, max_new_tokens, temperature)
    per_text = np.array([rep(t, order) for t in text.tokens])
    valid = per_text[np.isfinite(per_text)]
    if len(valid) < 2:
        raise ModelOutputError(f"model '{ctx.model}': fewer than 2 generations have {order} or more words")
    value = float(valid.mean())
    low, high = bootstrap_ci(_column_mean, [valid], ctx.bootstrap, ctx.rng_seed("quality.repetition_rate"))
    details = _free_details(text, max_new_tokens)
    by_order = {}
    for k in range(1, 5):
        model_k = np.array([rep(t, k) for t in text.tokens])
        human_k = np.array([rep(t, k) for t in text.human])
        by_order[f"rep_{k}"] = {"model": float(np.nanmean(model_k)), "human": float(np.nanmean(human_k))}
    details.update({
        "definition": (f"per generation: 1 - distinct {order}-grams / {order}-grams of that generation (lower-cased word "
                       f"tokens; seq-rep-{order}, Welleck et al. 2019), mean over generations with >= {order} words"),
        "order": order, "generations_scored": len(valid), "by_order": by_order,
        "human_value": by_order.get(f"rep_{order}", {}).get("human"), "ci": "bootstrap over generations",
    })
    return Measurement(value, low, high, n=len(valid), details=details)
