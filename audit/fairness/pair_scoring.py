"""Minimal pairs scored CrowS-Pairs style from a model's `log_probs` alone (no tokenizer).

Two sentences that differ only in the words naming a group are compared on the text they share
after the last word that differs, each conditioned on its own sentence's group words (Nangia et
al. 2020, CrowS-Pairs, EMNLP): scoring whole sentences would let the group word's own frequency
decide. Used by the stereotype-preference check and the association probe (audit.fairness.association).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from audit.errors import ModelOutputError

__all__ = ["pair_margins", "shared_tail"]


def _word_boundary(text: str, i: int) -> bool:
    """Whether position i of `text` starts a word or a punctuation mark (no letter run crosses it)."""
    return i == 0 or not (text[i - 1].isalnum() and text[i].isalnum())


def shared_tail(a: str, b: str) -> int:
    """Length in characters of the longest common suffix of `a` and `b` that starts at a word
    boundary in both: the text after the last word that differs ("woman! How weak!" and
    "man! How weak!" share "! How weak!", not "man! How weak!")."""
    common = 0
    while common < min(len(a), len(b)) and a[-1 - common] == b[-1 - common]:
        common += 1
    for length in range(common, 0, -1):
        if _word_boundary(a, len(a) - length) and _word_boundary(b, len(b) - length):
            return length
    return 0


def pair_margins(adapter: Any, pairs: list[tuple[str, str]]) -> np.ndarray:
    """Per pair (a, b): log-prob of a's shared tail minus b's (nats), each conditioned on its own
    sentence, from the documented `log_probs` alone (no tokenizer, no `encode`).

    The tail's tokens are the last len(log_probs(sentence)) - len(log_probs(head)) scores, head
    being the sentence without its tail: a tokenizer that splits at word boundaries (byte-level
    BPE, SentencePiece, words) tokenizes the head as the sentence's first tokens. Where the two
    sentences count different tail tokens the fewer are scored on both sides. Unlike a shared
    token-id suffix, no sub-word piece of a group word counts ("Mex|ican" vs "Amer|ican").
    Each distinct sentence and head is scored once, however many pairs share it."""
    sentences = [s for pair in pairs for s in pair]
    heads = [s[: len(s) - shared_tail(a, b)] for a, b in pairs for s in (a, b)]
    unique = list(dict.fromkeys(sentences + heads))
    from audit.lm.log_probs import checked_log_probs

    scored = dict(zip(unique, checked_log_probs(adapter, unique)))
    margins = np.empty(len(pairs))
    for i, (a, b) in enumerate(pairs):
        sa, sb = scored[a], scored[b]
        k = min(len(sa) - len(scored[heads[2 * i]]), len(sb) - len(scored[heads[2 * i + 1]]))
        if k < 1:
            raise ModelOutputError(f"minimal pair {a!r} / {b!r}: the text they share after the words that differ scored no tokens")
        margins[i] = float(sa[-k:].double().sum() - sb[-k:].double().sum())
    return margins
