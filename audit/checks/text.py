"""Checks for language models: held-out perplexity on the bundled TinyStories split.

Torch is imported only inside the adapter calls, so listing checks stays cheap.
"""

from __future__ import annotations

import numpy as np

from audit.adapters.base import LOG_PROBS
from audit.checks.base import Measurement, check
from audit.context import CheckContext, finite_or_raise
from audit.stats import bootstrap_ci


def perplexity_of(pairs: np.ndarray) -> float:
    """exp(sum of NLL / sum of tokens) over rows of (nll nats, tokens): token-level perplexity."""
    return float(np.exp(pairs[:, 0].sum() / pairs[:, 1].sum()))


def story_nll(adapter: object, stories: list[str]) -> np.ndarray:
    """Rows of (NLL in nats, scored tokens), one per story, from the adapter's `log_probs`."""
    scores = adapter.log_probs(stories)  # type: ignore[attr-defined]
    return np.array([[-float(s.double().sum()), len(s)] for s in scores], dtype=np.float64)


@check("quality.perplexity", families=("transformer",), needs=(LOG_PROBS,), higher_is_better=False, unit="perplexity")
def perplexity(ctx: CheckContext, n: int | None = None) -> Measurement:
    """Token-level perplexity on held-out TinyStories (bootstrap CI over stories)."""
    from reference_models.data.tinystories import load_tinystories_split

    heldout = load_tinystories_split().heldout
    count = min(int(n if n is not None else ctx.n), len(heldout))
    if count < 1:
        raise ValueError(f"quality.perplexity needs n >= 1 held-out stories, got {count}")
    pairs = story_nll(ctx.adapter, list(heldout[:count]))
    if (pairs[:, 1] == 0).all():
        raise ValueError("the model scored no tokens of the held-out stories")
    value = finite_or_raise("perplexity", perplexity_of(pairs))
    low, high = bootstrap_ci(perplexity_of, [pairs], ctx.bootstrap, ctx.rng_seed("quality.perplexity"))
    return Measurement(
        value, low, high, n=count,
        details={
            "reference": "TinyStories held-out split (every 10th story; first n stories)",
            "stories": count, "tokens": int(pairs[:, 1].sum()), "nll_nats": float(pairs[:, 0].sum()),
            "ci": "bootstrap over stories, ratio of summed NLL to summed tokens",
        },
    )
