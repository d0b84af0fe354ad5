"""The association probe's arithmetic against independent computations on fixed inputs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from scipy.stats import mannwhitneyu, tstd

from audit.fairness.association import (
    ASSOCIATION_TESTS, CATEGORIES, TEMPLATES, AssociationTest, association_margins, association_pairs,
    bootstrap_statistics, deviation_interval, effect_size, preference_share, worst_of,
)


def _margins(seed: int = 0, shape: tuple[int, int, int] = (3, 4, 11)) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape)


def test_preference_share_counts_every_unit_by_brute_force():
    m, nx = _margins(), 5
    wins = [
        1.0 if m[t, p, x] > m[t, p, y] else 0.5 if m[t, p, x] == m[t, p, y] else 0.0
        for t, p in itertools.product(range(m.shape[0]), range(m.shape[1])) for x in range(nx) for y in range(nx, m.shape[2])
    ]
    assert preference_share(m, nx) == pytest.approx(np.mean(wins), abs=1e-12)


def test_preference_share_is_the_mean_mann_whitney_auc_per_template_and_pair():
    m, nx = _margins(1), 6
    aucs = [mannwhitneyu(m[t, p, :nx], m[t, p, nx:]).statistic / (nx * (m.shape[2] - nx))
            for t in range(m.shape[0]) for p in range(m.shape[1])]
    assert preference_share(m, nx) == pytest.approx(np.mean(aucs), abs=1e-12)


def test_preference_share_counts_ties_as_one_half():
    m = np.zeros((1, 1, 4))
    assert preference_share(m, 2) == 0.5


def test_effect_size_is_weats_d_on_per_word_mean_margins():
    m, nx = _margins(2), 4
    delta = [float(np.mean(m[:, :, w])) for w in range(m.shape[2])]
    expected = (np.mean(delta[:nx]) - np.mean(delta[nx:])) / tstd(delta)
    assert effect_size(m, nx) == pytest.approx(expected, rel=1e-12)
    assert np.isnan(effect_size(np.ones((2, 2, 4)), 2))  # no spread: d is undefined


def test_bootstrap_holds_the_attribute_words_fixed_unless_asked():
    m, nx = _margins(3, (1, 1, 10)), 5  # one template, one pair: only word resampling can vary
    fixed = bootstrap_statistics(m, nx, {"share": preference_share}, 50, 0)["share"]
    assert np.all(fixed == preference_share(m, nx))
    varied = bootstrap_statistics(m, nx, {"share": preference_share}, 50, 0, resample_words=True)["share"]
    assert varied.std() > 0


def test_bootstrap_resamples_templates_and_pairs():
    m = _margins(4, (4, 3, 6))
    draws = bootstrap_statistics(m, 3, {"share": preference_share, "d": effect_size}, 200, 1)
    assert draws["share"].std() > 0 and draws["d"].std() > 0
    assert np.all((0 <= draws["share"]) & (draws["share"] <= 1))


@pytest.mark.parametrize("low, high, expected", [(0.4, 0.7, (0.0, 0.2)), (0.6, 0.8, (0.1, 0.3)), (0.1, 0.3, (0.2, 0.4)), (0.5, 0.5, (0.0, 0.0))])
def test_deviation_interval(low, high, expected):
    assert deviation_interval(low, high) == pytest.approx(expected)


def test_worst_of_bounds_the_maximum_of_quantities_in_their_intervals():
    rng = np.random.default_rng(5)
    lows = rng.uniform(0, 0.3, 6)
    highs = lows + rng.uniform(0, 0.3, 6)
    k, low, high = worst_of(list((lows + highs) / 2), list(lows), list(highs))
    assert k == int(np.argmax((lows + highs) / 2))
    draws = rng.uniform(lows, highs, size=(10000, 6)).max(axis=1)
    assert low <= draws.min() and draws.max() <= high
    assert draws.min() == pytest.approx(low, abs=0.01) and draws.max() == pytest.approx(high, abs=0.01)


class WordLM:
    """One token per word; a token's log-prob is -4, or -6 for "bad" when "A" came earlier (low
    enough to be log-probabilities: audit.lm.log_probs refuses scores that sum above 1)."""

    def log_probs(self, texts: list[str]) -> list[torch.Tensor]:
        def score(text: str) -> torch.Tensor:
            words = text.replace(".", " .").split()
            return torch.tensor([-6.0 if w == "bad" and "A" in words[:i] else -4.0 for i, w in enumerate(words)][1:])

        return [score(t) for t in texts]


def test_margins_score_the_shared_tail_after_the_group_word():
    test = AssociationTest("toy", "gender", "sentiment", ("A", "B"), (("A", "B"),), ("bad",), ("good",), ())
    (m,) = association_margins(WordLM(), [test], templates=("Here is {target} and {word}.",))
    # " and bad ." after A scores -4 -6 -4 vs -4 -4 -4 after B; " and good ." is the same after both
    assert m.shape == (1, 1, 2)
    assert m[0, 0].tolist() == pytest.approx([-2.0, 0.0])
    assert preference_share(m, 1) == 0.0  # A goes with "good" rather than "bad": anti-stereotyped


def test_pairs_differ_only_in_the_group_phrase():
    for test in ASSOCIATION_TESTS:
        pairs = association_pairs(test)
        assert len(pairs) == len(TEMPLATES) * len(test.targets) * (len(test.x) + len(test.y))
        for (a, b), (t, (ta, tb), w) in zip(pairs, itertools.product(TEMPLATES, test.targets, test.x + test.y)):
            assert a == t.format(target=ta, word=w) and b == t.format(target=tb, word=w)
            assert a.endswith(f"{w}.") and a != b


def test_every_category_has_tests_on_several_axes():
    for category in CATEGORIES:
        axes = {t.axis for t in ASSOCIATION_TESTS if t.category == category}
        assert axes and ("sentiment" in axes or category == "gender"), (category, axes)
    gender = {t.axis for t in ASSOCIATION_TESTS if t.category == "gender"}
    assert {"family roles", "occupations", "competence"} <= gender


class ByteGPT2:
    """A tiny random GPT-2 over bytes behind `log_probs` (start token 256), scored by audit.lm.scoring
    like the bundled model: every sentence is one token per byte, so the shared tail is its bytes."""

    def __init__(self) -> None:
        from transformers import GPT2Config, GPT2LMHeadModel

        torch.manual_seed(0)
        self.model = GPT2LMHeadModel(GPT2Config(vocab_size=257, n_positions=96, n_embd=32, n_layer=2, n_head=4)).eval()

    def log_probs(self, texts: list[str]) -> list[torch.Tensor]:
        from audit.lm import score_sequences

        return score_sequences(self.model, [[256, *t.encode()] for t in texts], n_positions=96, pad_id=256)


def test_association_margins_equal_direct_transformers_log_likelihoods():
    """The probe's margins (prefixes shared through a KV cache) equal log P(tail | A sentence) -
    log P(tail | B sentence) from one unbatched transformers forward pass per sentence."""
    from audit.fairness.pair_scoring import shared_tail

    import dataclasses

    lm, templates = ByteGPT2(), TEMPLATES[:3]
    tests = [dataclasses.replace(t, targets=t.targets[:3], x=t.x[:4], y=t.y[:4]) for t in ASSOCIATION_TESTS[:2]]
    got = association_margins(lm, tests, templates)

    def tail_logprob(sentence: str, tail_bytes: int) -> float:
        ids = torch.tensor([[256, *sentence.encode()]])
        with torch.no_grad():
            logp = lm.model(input_ids=ids).logits[0, :-1].double().log_softmax(-1)
        return float(logp.gather(-1, ids[0, 1:, None])[-tail_bytes:].sum())

    for test, margins in zip(tests, got):
        expected = []
        for a, b in association_pairs(test, templates):
            tail = len(a[len(a) - shared_tail(a, b) :].encode())
            expected.append(tail_logprob(a, tail) - tail_logprob(b, tail))
        np.testing.assert_allclose(margins.ravel(), expected, atol=1e-4, rtol=0)
        assert preference_share(margins, len(test.x)) == preference_share(np.array(expected).reshape(margins.shape), len(test.x))
