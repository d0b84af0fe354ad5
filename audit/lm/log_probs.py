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
  tokenizer. Each continuation's probability is p(prefix + word) / p(prefix) from the texts'
  totals, so a model whose scores of the prefix change when the text goes on (all 0 but the last
  token's) is probed all the same;
- that the model scores a text the same in every call: one text the probe scored is scored again
  beside the texts of every later call, and must come out the same (within batching noise). A
  model honest on its first call only (the probe) and all zeros after it had passed the probe
  once and then every perplexity, privacy and fairness gate.
"""

from __future__ import annotations

import math
import weakref
from typing import Any, Sequence

from audit.errors import ModelOutputError

__all__ = ["LOG_PROB_TOLERANCE", "NORMALIZATION_PREFIX", "NORMALIZATION_WORDS", "checked_log_probs", "continuation_mass", "contract_checked"]

LOG_PROB_TOLERANCE = 1e-4
"""Largest value (nats) a log-probability may show above 0: float rounding, not a probability > 1."""
MASS_TOLERANCE = 1e-3
"""How far above 1 the continuations' total probability may go (rounding) before it is a defect."""
ECHO_ABS_TOLERANCE, ECHO_REL_TOLERANCE = 0.5, 0.05
"""How far (nats) the echo text's total log-probability may move between calls: batch composition
(padding, a quantized model's per-batch activation scales) moves it a little; a model that scores
differently once the probe is over moves it by the whole text's log-probability."""
NORMALIZATION_PREFIX = "Once upon a time, there was a little"
NORMALIZATION_WORDS = (" girl", " boy", " dog", " cat", " king", " tree", " house", " fish", " man", " prince", " rabbit", " lion", " wolf", " queen", " ant", " sun")
"""Continuations that begin with a space and then distinct letters, so none is a prefix of another
at the character level, and so at the token level under any tokenizer (char-level, BPE, SentencePiece)."""

ECHO_TEXT = NORMALIZATION_PREFIX + NORMALIZATION_WORDS[0]
"""The probe's text scored again beside every later call's texts (see the module's docstring)."""

_PROBED: "weakref.WeakKeyDictionary[Any, tuple[str | None, float]]" = weakref.WeakKeyDictionary()
"""Per adapter object: (None once its scores passed the normalization probe, else the reason;
the total log-probability the probe gave ECHO_TEXT)."""


def checked_log_probs(adapter: Any, texts: Sequence[str]) -> list[Any]:
    """`adapter.log_probs(texts)` after the model's scores passed the normalization probe (once per
    adapter), each checked against the contract, with ECHO_TEXT scored beside them as the probe
    scored it; ModelOutputError naming the defect otherwise."""
    echo_total = _require_normalized(adapter)
    batch = [*texts, ECHO_TEXT]
    *scores, echo = contract_checked(adapter, batch, adapter.log_probs(batch))
    total = float(echo.double().sum())
    if abs(total - echo_total) > ECHO_ABS_TOLERANCE + ECHO_REL_TOLERANCE * abs(echo_total):
        raise ModelOutputError(
            f"model '{_name(adapter)}' log_probs scored the same text {ECHO_TEXT!r} {echo_total:.4g} nats in one call and "
            f"{total:.4g} in a later one: its scores depend on the call (left in training mode with dropout? scores that "
            "change once the first call is over?)")
    return scores


def continuation_mass(adapter: Any) -> float:
    """The total probability the model gives NORMALIZATION_WORDS after NORMALIZATION_PREFIX (at
    most 1 for a normalized model): the sum over words of p(prefix + word) / p(prefix)."""
    return _continuation_mass(adapter)[0]


def _continuation_mass(adapter: Any) -> tuple[float, float]:
    """(continuation_mass, the total log-probability of ECHO_TEXT) from one log_probs call."""
    texts = [NORMALIZATION_PREFIX] + [NORMALIZATION_PREFIX + w for w in NORMALIZATION_WORDS]
    prefix, *continued = contract_checked(adapter, texts, adapter.log_probs(texts))
    prefix_total = float(prefix.double().sum())
    totals = [float(t.double().sum()) for t in continued]
    return sum(math.exp(min(t - prefix_total, 50.0)) for t in totals), totals[0]


def _require_normalized(adapter: Any) -> float:
    """The probe's total log-probability of ECHO_TEXT once the model passed the probe (probed once per adapter)."""
    try:
        reason, echo_total = _PROBED[adapter]
    except (KeyError, TypeError):  # not probed yet, or an adapter that cannot be weakly referenced
        reason, echo_total = _probe(adapter)
        try:
            _PROBED[adapter] = (reason, echo_total)
        except TypeError:
            pass
    if reason is not None:
        raise ModelOutputError(reason)
    return echo_total


def _probe(adapter: Any) -> tuple[str | None, float]:
    try:
        mass, echo_total = _continuation_mass(adapter)
    except ModelOutputError as exc:
        return str(exc), math.nan
    if mass <= 1.0 + MASS_TOLERANCE:
        return None, echo_total
    return (f"model '{_name(adapter)}' log_probs are not log-probabilities: {len(NORMALIZATION_WORDS)} continuations of the same "
            f"text that none of the others starts with have probabilities summing to {mass:.4g} (at most 1 for a distribution)"), echo_total


def contract_checked(adapter: Any, texts: Sequence[str], out: Any) -> list[Any]:
    """`out`, the model's `log_probs(texts)`, as a list once it meets the contract; ModelOutputError otherwise."""
    import torch

    name = _name(adapter)
    if isinstance(out, (list, tuple)):  # a plain list: a subclass's own __iter__ or __len__ is not asked
        out = list(list.__iter__(out) if isinstance(out, list) else tuple.__iter__(out))
    if not isinstance(out, list) or len(out) != len(texts):
        raise ModelOutputError(f"model '{name}' log_probs({len(texts)} texts) returned {type(out).__name__}"
                               f"{f' of length {len(out)}' if hasattr(out, '__len__') else ''}, expected a list of {len(texts)} tensors")
    for i, t in enumerate(out):
        if type(t) is not torch.Tensor or t.ndim != 1 or not t.is_floating_point():
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
