"""Text metrics against independent implementations: BLEU vs nltk, sacrebleu and torchmetrics;
self-BLEU vs an nltk loop; ROUGE vs Google's rouge_score; distinct-n and repetition vs direct
Counter computations; plus the properties that must hold (identical texts, order independence)."""

from __future__ import annotations

import itertools
import math
import warnings
from collections import Counter

import numpy as np
import pytest
from nltk.translate.bleu_score import SmoothingFunction, corpus_bleu, sentence_bleu

from audit.metrics.text import (
    bleu_from_stats,
    bleu_stats,
    bleu_text,
    continuation_task,
    corpus_bleu_stats,
    distinct_from_ids,
    distinct_n,
    first_words,
    ngram_ids,
    repetition_rate,
    rouge_per_item,
    self_bleu_scores,
    torchmetrics_bleu,
    words,
)

HYPOTHESES = [
    "Once upon a time, there was a little girl named Lily. She loved to play in the park.",
    "Tom saw a big red ball in the garden and he ran to get it.",
    "The cat was sad because it could not find its toy.",
    "Mom said they could go to the beach if they were good.",
    "He was very happy and said thank you to his friend.",
]
REFERENCES = [
    "Once upon a time, there was a little boy named Tim. He loved to play in the garden.",
    "Tom saw a red ball in the big garden and he wanted to get it.",
    "The dog was sad because it lost its favourite toy.",
    "Mom said they could go to the park if they were quiet.",
    "She was very happy and said thank you to her mom.",
]


def tokens(texts: list[str]) -> list[list[str]]:
    return [words(t) for t in texts]


def test_word_tokens_split_punctuation_and_keep_contractions():
    assert words("Tom's dog didn't run. \"Stop!\"") == ["Tom's", "dog", "didn't", "run", ".", '"', "Stop", "!", '"']
    assert bleu_text("Hi, Sam.") == "Hi , Sam ."


def test_corpus_bleu_matches_nltk_sacrebleu_and_torchmetrics():
    import sacrebleu

    ours = bleu_from_stats(corpus_bleu_stats(HYPOTHESES, REFERENCES))
    nltk_value = corpus_bleu([[r] for r in tokens(REFERENCES)], tokens(HYPOTHESES))
    sacre = sacrebleu.corpus_bleu(
        [bleu_text(h) for h in HYPOTHESES], [[bleu_text(r) for r in REFERENCES]], tokenize="none", smooth_method="none", force=True
    ).score / 100
    assert 0.1 < nltk_value < 0.9  # a case where every precision and the brevity penalty matter
    assert ours == pytest.approx(nltk_value, abs=1e-12)
    assert ours == pytest.approx(sacre, abs=1e-9)
    assert torchmetrics_bleu(HYPOTHESES, REFERENCES) == pytest.approx(nltk_value, abs=1e-6)


def test_brevity_penalty_matches_nltk_on_short_hypotheses():
    hyps = [first_words(h, 6) for h in HYPOTHESES]
    ours = bleu_from_stats(corpus_bleu_stats(hyps, REFERENCES))
    expected = corpus_bleu([[r] for r in tokens(REFERENCES)], tokens(hyps))
    assert ours == pytest.approx(expected, abs=1e-12)
    assert 0 < ours < bleu_from_stats(corpus_bleu_stats(hyps, [first_words(r, 6) for r in REFERENCES]))


def test_no_four_gram_match_gives_zero_unsmoothed_like_nltk():
    hyp, ref = "the cat sat on a mat", "the cat is on the mat"
    stats = corpus_bleu_stats([hyp], [ref])
    assert stats[0, 5] == 0  # no 4-gram matches
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert corpus_bleu([[words(ref)]], [words(hyp)]) < 1e-100  # nltk's "zero": exp(log(tiny) / 4)
    assert bleu_from_stats(stats) == 0
    assert torchmetrics_bleu([hyp], [ref]) == 0


def test_multi_reference_clipping_and_closest_length_match_nltk():
    hyp = words("the the cat sat on the mat today")
    refs = [words("the cat sat on the mat"), words("there is a cat on the mat right now ok"), words("a cat sat on the mat today")]
    ties = [words("a b c d e f g"), words("the cat sat on the mat today , yes")]  # lengths 7 and 9 around 8
    for references in (refs, ties, refs + ties):
        ours = bleu_from_stats(bleu_stats(hyp, references), smooth=True)
        expected = sentence_bleu(references, hyp, smoothing_function=SmoothingFunction().method2)
        assert ours == pytest.approx(expected, abs=1e-12)


def test_smoothed_bleu_matches_nltk_method2_when_higher_orders_miss():
    hyp, ref = words("the cat sat on a mat"), words("the cat is on the mat")
    expected = sentence_bleu([ref], hyp, smoothing_function=SmoothingFunction().method2)
    assert expected > 0
    assert bleu_from_stats(bleu_stats(hyp, [ref]), smooth=True) == pytest.approx(expected, abs=1e-12)


def test_identical_texts_score_one():
    assert bleu_from_stats(corpus_bleu_stats(REFERENCES, REFERENCES)) == pytest.approx(1.0)
    assert torchmetrics_bleu(REFERENCES, REFERENCES) == pytest.approx(1.0)
    same = tokens([HYPOTHESES[0]] * 4)
    assert np.allclose(self_bleu_scores(same), 1.0)


def test_corpus_bleu_does_not_depend_on_order_or_batching():
    stats = corpus_bleu_stats(HYPOTHESES, REFERENCES)
    order = [3, 0, 4, 1, 2]
    shuffled = corpus_bleu_stats([HYPOTHESES[i] for i in order], [REFERENCES[i] for i in order])
    assert bleu_from_stats(shuffled) == pytest.approx(bleu_from_stats(stats), abs=1e-15)
    batched = np.vstack([corpus_bleu_stats(HYPOTHESES[:2], REFERENCES[:2]), corpus_bleu_stats(HYPOTHESES[2:], REFERENCES[2:])])
    assert bleu_from_stats(batched) == bleu_from_stats(stats)


def nltk_self_bleu(texts: list[list[str]]) -> list[float]:
    """The textbook loop: each text against all the others, nltk's sentence BLEU (method2)."""
    smooth = SmoothingFunction().method2
    return [sentence_bleu(texts[:i] + texts[i + 1 :], texts[i], smoothing_function=smooth) for i in range(len(texts))]


def test_self_bleu_matches_an_nltk_loop():
    texts = tokens(HYPOTHESES + REFERENCES)
    assert self_bleu_scores(texts) == pytest.approx(nltk_self_bleu(texts), abs=1e-12)


def test_self_bleu_is_permutation_equivariant_and_lower_for_diverse_texts():
    texts = tokens(HYPOTHESES + REFERENCES)
    order = np.random.default_rng(0).permutation(len(texts))
    assert self_bleu_scores([texts[i] for i in order]) == pytest.approx(self_bleu_scores(texts)[order], abs=1e-15)
    repetitive = tokens([HYPOTHESES[0]] * 3 + HYPOTHESES[1:3])
    assert self_bleu_scores(repetitive).mean() > self_bleu_scores(tokens(HYPOTHESES)).mean()


def counter_distinct(texts: list[list[str]], n: int) -> float:
    counts: Counter = Counter()
    for t in texts:
        counts.update(zip(*(t[i:] for i in range(n))))
    return len(counts) / sum(counts.values())


@pytest.mark.parametrize("n", [1, 2, 3])
def test_distinct_n_matches_a_counter_computation(n):
    texts = tokens([t.lower() for t in HYPOTHESES + REFERENCES])
    assert distinct_n(texts, n) == pytest.approx(counter_distinct(texts, n), abs=1e-15)
    assert distinct_from_ids(ngram_ids(texts, n)) == pytest.approx(counter_distinct(texts, n), abs=1e-15)


def test_distinct_n_known_answers():
    assert distinct_n([["a", "b", "a", "b"]], 1) == 0.5
    assert distinct_n([["a", "b"], ["a", "b"]], 2) == 0.5
    assert distinct_n([["a", "b", "c"], ["d", "e"]], 1) == 1.0
    assert math.isnan(distinct_n([["a"]], 2))


def counter_repetition(t: list[str], n: int) -> float:
    grams = Counter(zip(*(t[i:] for i in range(n))))
    return sum(c - 1 for c in grams.values()) / sum(grams.values())


@pytest.mark.parametrize("n", [1, 2, 4])
def test_repetition_rate_matches_a_counter_computation(n):
    for text in HYPOTHESES + ["the dog ran and the dog ran and the dog ran and the dog ran home"]:
        t = words(text.lower())
        assert repetition_rate(t, n) == pytest.approx(counter_repetition(t, n), abs=1e-15)


def test_repetition_rate_known_answers():
    assert repetition_rate("a b a b a b".split(), 2) == pytest.approx(3 / 5)  # ab ba ab ba ab: 3 repeats
    assert repetition_rate("a b c d e".split(), 1) == 0.0
    assert math.isnan(repetition_rate("a b c".split(), 4))


def test_rouge_matches_google_rouge_score():
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)
    preds = HYPOTHESES + ["It's 3 o'clock, TIME to go!"]
    refs = REFERENCES + ["it is 3 o clock: time to go home"]
    ours = rouge_per_item(preds, refs)
    expected = np.array([[scorer.score(r, p)[k].fmeasure for k in ("rouge1", "rouge2", "rougeL")] for p, r in zip(preds, refs)])
    assert ours == pytest.approx(expected, abs=1e-6)
    assert rouge_per_item(REFERENCES, REFERENCES) == pytest.approx(np.ones((len(REFERENCES), 3)))


def test_continuation_task_cuts_prompt_and_reference():
    stories = ["w%d" % i for i in range(30)], ["x%d" % i for i in range(7)]
    texts = [" ".join(stories[0][:12]) + "\n\n" + " ".join(stories[0][12:]), " ".join(stories[1])]
    items = continuation_task(texts, prompt_words=10, reference_words=5)
    assert len(items) == 1  # the 7-word story is too short for 10 + 5 words
    (item,) = items
    assert item.prompt.split() == stories[0][:10]
    assert item.reference.split() == stories[0][10:15]
    assert item.prompt_tail.split() == stories[0][5:10]
    assert (item.prompt + " " + item.reference).split() == stories[0][:15]
    with pytest.raises(ValueError):
        continuation_task(texts, prompt_words=0)


def test_first_words():
    assert first_words("  a b\nc d  ", 3) == "a b c"
    assert first_words("a", 3) == "a"


def test_bleu_of_every_subset_is_a_valid_score():
    stats = corpus_bleu_stats(HYPOTHESES, REFERENCES)
    for r in range(1, len(stats) + 1):
        for rows in itertools.combinations(range(len(stats)), r):
            assert 0.0 <= bleu_from_stats(stats[list(rows)]) <= 1.0
