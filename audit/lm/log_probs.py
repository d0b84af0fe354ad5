"""A language model's `log_probs`, checked before any number is computed from it.

Every check that reads per-token log-probabilities (perplexity, text fairness, membership
inference) calls `checked_log_probs`. A model that returned logits, zeros or one constant instead of
log-probabilities would otherwise get the best perplexity there is (1.0 for zeros), no bias (every
counterfactual scores the same) and no membership signal: a pass everywhere. Two things are
checked:

- the contract (audit.adapters.base.LOG_PROBS): one finite 1-d float tensor per text, at most 0
  (a tolerance for rounding), none empty for a non-empty text;
- that the values are probabilities at all, once per model: for a prefix and continuations that
  no other continuation starts with (distinct first letters), the probabilities a normalized
  autoregressive model gives the continuations after the prefix sum to at most 1, whatever its
  tokenizer. A model whose scores for the prefix are not the first scores of each continued text
  cannot be probed this way and is not judged by this part.
"""

from __future__ import annotations

import math
import weakref
from typing import Any, Sequence

from audit.errors import ModelOutputError

__all__ = ["LOG_PROB_TOLERANCE", "NORMALIZATION_PREFIX", "NORMALIZATION_WORDS", "checked_log_probs", "continuation_mass", "contract_checked"]

LOG_PROB_TOLERANCE = 1e-4
"""Largest value (nats) a log-probability may show above 0: float rounding, not a probability > 1."""
PREFIX_TOLERANCE = 1e-3
"""Max |difference| (nats) between the prefix scored alone and as the start of a continued text."""
MASS_TOLERANCE = 1e-3
"""How far above 1 the continuations' total probability may go (rounding) before it is a defect."""
NORMALIZATION_PREFIX = "Once upon a time, there was a little"
NORMALIZATION_WORDS = (" girl", " boy", " dog", " cat", " king", " tree", " house", " fish", " man", " prince", " rabbit", " lion", " wolf", " queen", " ant", " sun")
"""Continuations that begin with a space and then distinct letters, so none is a prefix of another
at the character level, and so at the token level under any tokenizer (char-level, BPE, SentencePiece)."""

_PROBED: "weakref.WeakKeyDictionary[Any, str | None]" = weakref.WeakKeyDictionary()
"""Per adapter object: None once its scores passed the normalization probe, else the reason."""


def checked_log_probs(adapter: Any, texts: Sequence[str]) -> list[Any]:
    """`adapter.log_probs(texts)` after the model's scores passed the normalization probe (once per
    adapter), each checked against the contract; ModelOutputError naming the defect otherwise."""
    _require_normalized(adapter)
    return contract_checked(adapter, texts, adapter.log_probs(list(texts)))


def continuation_mass(adapter: Any) -> float | None:
    """The total probability the model gives NORMALIZATION_WORDS after NORMALIZATION_PREFIX (at
    most 1 for a normalized model), or None where its scores of the prefix are not the first
    scores of the continued texts (the probe does not apply)."""
    texts = [NORMALIZATION_PREFIX] + [NORMALIZATION_PREFIX + w for w in NORMALIZATION_WORDS]
    prefix, *continued = contract_checked(adapter, texts, adapter.log_probs(texts))
    k = len(prefix)
    if k == 0 or any(len(t) <= k or float((t[:k].double() - prefix.double()).abs().max()) > PREFIX_TOLERANCE for t in continued):
        return None
    return sum(math.exp(float(t[k:].double().sum())) for t in continued)


def _require_normalized(adapter: Any) -> None:
    try:
        reason = _PROBED[adapter]
    except (KeyError, TypeError):  # not probed yet, or an adapter that cannot be weakly referenced
        reason = _probe(adapter)
        try:
            _PROBED[adapter] = reason
        except TypeError:
            pass
    if reason is not None:
        raise ModelOutputError(reason)


def _probe(adapter: Any) -> str | None:
    try:
        mass = continuation_mass(adapter)
    except ModelOutputError as exc:
        return str(exc)
    if mass is None or mass <= 1.0 + MASS_TOLERANCE:
        return None
    return (f"model '{_name(adapter)}' log_probs are not log-probabilities: {len(NORMALIZATION_WORDS)} continuations of the same "
            f"text that none of the others starts with have probabilities summing to {mass:.4g} (at most 1 for a distribution)")


def contract_checked(adapter: Any, texts: Sequence[str], out: Any) -> list[Any]:
    """`out`, the model's `log_probs(texts)`, as a list once it meets the contract; ModelOutputError otherwise."""
    import torch

    name = _name(adapter)
    if not isinstance(out, (list, tuple)) or len(out) != len(texts):
        raise ModelOutputError(f"model '{name}' log_probs({len(texts)} texts) returned {type(out).__name__}"
                               f"{f' of length {len(out)}' if hasattr(out, '__len__') else ''}, expected a list of {len(texts)} tensors")
    for i, t in enumerate(out):
        if not isinstance(t, torch.Tensor) or t.ndim != 1 or not t.is_floating_point():
            raise ModelOutputError(f"model '{name}' log_probs(...)[{i}] is {type(t).__name__} {tuple(getattr(t, 'shape', ()))}, "
                                   "expected a 1-d float tensor (one value per token)")
        if len(t) == 0 and texts[i]:
            raise ModelOutputError(f"model '{name}' log_probs(...)[{i}] is empty for the non-empty text {texts[i]!r}")
        if not bool(torch.isfinite(t).all()):
            raise ModelOutputError(f"model '{name}' log_probs(...)[{i}] holds non-finite values")
        if len(t) and float(t.max()) > LOG_PROB_TOLERANCE:
            raise ModelOutputError(f"model '{name}' log_probs(...)[{i}] holds {float(t.max()):.4g} > 0: log-probabilities are <= 0 (are these logits?)")
    return list(out)


def _name(adapter: Any) -> str:
    return str(getattr(getattr(adapter, "info", None), "name", None) or type(adapter).__name__)
