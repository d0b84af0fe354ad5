"""Text metrics as pure functions: word tokens, BLEU from n-gram statistics, self-BLEU,
distinct-n, repetition, per-item ROUGE (torchmetrics) and the held-out continuation task.

Tokenization: `words(text)` splits into words (with inner apostrophes, "didn't") and single
punctuation marks, so "park." gives ["park", "."]. BLEU is computed on these tokens joined by
spaces (what torchmetrics' whitespace tokenizer then sees); distinct-n and repetition use the
lower-cased tokens; ROUGE uses torchmetrics' own normalization (lower case, letters and digits).

BLEU follows Papineni et al. (2002): clipped n-gram precisions p_1..p_4 (a hypothesis n-gram's
count is clipped by its largest count in any one reference), their geometric mean, and the
brevity penalty exp(1 - r/c) when the hypothesis length c does not exceed the reference length
r (for several references, the reference length closest to c, the shorter on ties).
`bleu_stats` keeps per-item sufficient statistics so a corpus BLEU can be bootstrapped over
items without recounting; `bleu_from_stats` sums them. Smoothing (`smooth=True`) is Lin & Och's
add-one on p_2..p_n (nltk's `method2`, torchmetrics' `smooth=True`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import numpy as np

WORD = re.compile(r"\w+(?:'\w+)*|[^\w\s]")
ROUGE_KEYS = ("rouge1", "rouge2", "rougeL")


def words(text: str, lower: bool = False) -> list[str]:
    """Word and punctuation tokens of `text` (lower-cased when `lower`)."""
    return WORD.findall(text.lower() if lower else text)


def bleu_text(text: str) -> str:
    """`text` as space-separated `words` tokens: the form BLEU is computed on."""
    return " ".join(words(text))


def ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def _ngram_counts(tokens: Sequence[str], max_n: int) -> list[Counter]:
    return [Counter(ngrams(tokens, n)) for n in range(1, max_n + 1)]


def closest_length(lengths: Sequence[int], hyp_len: int) -> int:
    """The reference length closest to `hyp_len`, the shorter on ties."""
    return min(lengths, key=lambda r: (abs(r - hyp_len), r))


def bleu_stats(hypothesis: Sequence[str], references: Sequence[Sequence[str]], max_n: int = 4) -> np.ndarray:
    """One item's BLEU statistics: [hyp length, reference length, matches_1..n, totals_1..n]."""
    hyp = _ngram_counts(hypothesis, max_n)
    refs = [_ngram_counts(r, max_n) for r in references]
    row = np.zeros(2 + 2 * max_n, dtype=np.float64)
    row[0] = len(hypothesis)
    row[1] = closest_length([len(r) for r in references], len(hypothesis)) if references else 0
    for k in range(max_n):
        best: Counter = Counter()
        for r in refs:
            best |= r[k]
        row[2 + k] = sum((hyp[k] & best).values())
        row[2 + max_n + k] = sum(hyp[k].values())
    return row


def bleu_from_stats(stats: np.ndarray, smooth: bool = False) -> float:
    """Corpus BLEU in [0, 1] from rows of `bleu_stats` (summed over rows).

    Unsmoothed, any order without a match gives 0. Smoothed, p_n = (m_n + 1) / (t_n + 1) for
    n >= 2, and only a hypothesis without a single matching word scores 0.
    """
    stats = np.atleast_2d(np.asarray(stats, dtype=np.float64))
    max_n = (stats.shape[1] - 2) // 2
    total = stats.sum(axis=0)
    c, r = total[0], total[1]
    matches, counts = total[2 : 2 + max_n], np.maximum(total[2 + max_n :], 1.0)
    if c == 0 or matches[0] == 0 or (not smooth and (matches == 0).any()):
        return 0.0
    precisions = matches / counts
    if smooth:
        precisions[1:] = (matches[1:] + 1) / (counts[1:] + 1)
    brevity = 1.0 if c > r else float(np.exp(1 - r / c))
    return float(brevity * np.exp(np.log(precisions).mean()))


def corpus_bleu_stats(hypotheses: Sequence[str], references: Sequence[str], max_n: int = 4) -> np.ndarray:
    """Rows of `bleu_stats` for texts (one reference each), tokenized with `words`."""
    return np.array([bleu_stats(words(h), [words(r)], max_n) for h, r in zip(hypotheses, references, strict=True)])


def torchmetrics_bleu(hypotheses: Sequence[str], references: Sequence[str], max_n: int = 4) -> float:
    """Corpus BLEU by torchmetrics' BLEUScore on the `words` tokens (one reference each)."""
    from torchmetrics.text import BLEUScore

    metric = BLEUScore(n_gram=max_n)
    return float(metric([bleu_text(h) for h in hypotheses], [[bleu_text(r)] for r in references]))


def self_bleu_scores(token_lists: Sequence[Sequence[str]], max_n: int = 4, smooth: bool = True) -> np.ndarray:
    """Self-BLEU (Zhu et al., 2018): for each text, its sentence BLEU against all the others as
    references; returns one score per text (their mean is the corpus self-BLEU).

    Clipping uses each n-gram's largest count in any other text, found from the two largest
    counts per n-gram (so the cost is linear in the corpus, not quadratic)."""
    texts = [list(t) for t in token_lists]
    if len(texts) < 2:
        raise ValueError(f"self-BLEU needs at least 2 texts, got {len(texts)}")
    counts = [_ngram_counts(t, max_n) for t in texts]
    top_two: list[dict[tuple[str, ...], list[tuple[int, int]]]] = []
    for k in range(max_n):
        table: dict[tuple[str, ...], list[tuple[int, int]]] = {}
        for i, c in enumerate(counts):
            for gram, cnt in c[k].items():
                best = table.setdefault(gram, [])
                best.append((cnt, i))
                if len(best) > 2:
                    best.sort(reverse=True)
                    del best[2:]
        top_two.append(table)
    lengths = np.array([len(t) for t in texts])
    scores = np.empty(len(texts))
    for i, c in enumerate(counts):
        row = np.zeros(2 + 2 * max_n)
        row[0] = lengths[i]
        row[1] = closest_length(np.delete(lengths, i).tolist(), int(lengths[i]))
        for k in range(max_n):
            matched = 0
            for gram, cnt in c[k].items():
                other = max((v for v, j in top_two[k][gram] if j != i), default=0)
                matched += min(cnt, other)
            row[2 + k] = matched
            row[2 + max_n + k] = sum(c[k].values())
        scores[i] = bleu_from_stats(row, smooth=smooth)
    return scores


def distinct_n(token_lists: Sequence[Sequence[str]], n: int) -> float:
    """Distinct-n (Li et al., 2016): distinct n-grams over all texts / all n-grams (nan if none)."""
    grams = [g for t in token_lists for g in ngrams(t, n)]
    return len(set(grams)) / len(grams) if grams else float("nan")


def ngram_ids(token_lists: Sequence[Sequence[str]], n: int) -> list[np.ndarray]:
    """Each text's n-grams as integer ids shared across texts (for fast bootstrap of distinct-n)."""
    vocab: dict[tuple[str, ...], int] = {}
    return [np.array([vocab.setdefault(g, len(vocab)) for g in ngrams(t, n)], dtype=np.int64) for t in token_lists]


def distinct_from_ids(ids: Sequence[np.ndarray]) -> float:
    """`distinct_n` from `ngram_ids` output (any subset or resample of the texts)."""
    joined = np.concatenate(list(ids)) if len(ids) else np.empty(0, dtype=np.int64)
    return len(np.unique(joined)) / len(joined) if len(joined) else float("nan")


def repetition_rate(tokens: Sequence[str], n: int) -> float:
    """Within one text, the share of its n-grams that repeat an earlier n-gram of the same text:
    1 - distinct n-grams / n-grams (seq-rep-n, Welleck et al., 2019); nan below n tokens."""
    grams = ngrams(tokens, n)
    return 1.0 - len(set(grams)) / len(grams) if grams else float("nan")


def rouge_per_item(predictions: Sequence[str], references: Sequence[str], keys: Sequence[str] = ROUGE_KEYS) -> np.ndarray:
    """F-measures [N, len(keys)] of each (prediction, reference) pair by torchmetrics' ROUGE
    (no stemmer, lower-cased letters and digits; no nltk data needed). The corpus ROUGE that
    torchmetrics' ROUGEScore reports is the column mean."""
    from torchmetrics.functional.text.rouge import rouge_score

    out = np.empty((len(predictions), len(keys)))
    for i, (p, r) in enumerate(zip(predictions, references, strict=True)):
        scores = rouge_score(p, r, rouge_keys=tuple(keys))
        out[i] = [float(scores[f"{k}_fmeasure"]) for k in keys]
    return out


@dataclass(frozen=True)
class ContinuationItem:
    """A held-out story cut into a prompt and the reference words that follow it."""

    prompt: str
    reference: str
    prompt_tail: str
    """The prompt's last words, as many as the reference has: the copy-the-prompt baseline."""


def continuation_task(stories: Sequence[str], prompt_words: int = 40, reference_words: int = 20) -> list[ContinuationItem]:
    """Prompt = a story's first `prompt_words` whitespace-separated words, reference = the next
    `reference_words`; stories shorter than both together are skipped. Words are re-joined with
    single spaces (the stories' line breaks become spaces)."""
    if prompt_words < 1 or reference_words < 1:
        raise ValueError(f"prompt_words and reference_words must be >= 1, got {prompt_words}, {reference_words}")
    items = []
    for story in stories:
        w = story.split()
        if len(w) < prompt_words + reference_words:
            continue
        prompt, reference = w[:prompt_words], w[prompt_words : prompt_words + reference_words]
        items.append(ContinuationItem(" ".join(prompt), " ".join(reference), " ".join(prompt[-reference_words:])))
    return items


def first_words(text: str, count: int) -> str:
    """The first `count` whitespace-separated words of `text`, joined by single spaces."""
    return " ".join(text.split()[:count])
