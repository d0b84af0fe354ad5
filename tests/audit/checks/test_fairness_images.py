"""Fairness maths against direct computations on fixed inputs: representation (TV, ratio, chi-square)
against pandas/numpy/scipy, MetricFrame by-group summaries against pandas groupby, the fast
per-class FID against audit.metrics, improved precision against brute force, the stratified
bootstrap against audit.stats, the stereotype-preference interval against the Wilson formula and
scipy's binomial test, and the counterfactual word lists' held-out guarantees."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest, chi2, norm

from audit.checks.fairness_images import (
    RealStats,
    chi_square,
    class_bootstrap,
    inside_manifold,
    knn_radii,
    metric_frame,
    representation_frame,
    representation_ratio_of,
)
from audit.checks.fairness_text import permutation_floor, preference_interval
from audit.metrics import group_frame
from audit.metrics.groups import total_variation, tv_of_predictions

K = 6
REFERENCE = np.array([0.1, 0.2, 0.15, 0.25, 0.2, 0.1])


@pytest.fixture(scope="module")
def predictions() -> np.ndarray:
    """Fixed predictions with class 5 absent (a group the model never generates)."""
    rng = np.random.default_rng(7)
    return rng.choice(5, size=300, p=[0.3, 0.1, 0.2, 0.25, 0.15])


def pandas_shares(predictions: np.ndarray) -> pd.Series:
    return pd.Series(predictions).value_counts(normalize=True).reindex(range(K), fill_value=0.0)


def test_total_variation_matches_pandas(predictions):
    expected = 0.5 * (pandas_shares(predictions) - pd.Series(REFERENCE)).abs().sum()
    assert tv_of_predictions(predictions, REFERENCE) == pytest.approx(expected, abs=1e-12)
    assert total_variation(REFERENCE, REFERENCE) == 0.0
    assert total_variation(np.array([1.0, 0, 0]), np.array([0, 0.5, 0.5])) == pytest.approx(1.0)


def test_representation_frame_matches_groupby_and_keeps_missing_groups(predictions):
    values, mf = representation_frame(predictions, REFERENCE)
    sizes = pd.DataFrame({"g": predictions}).groupby("g").size().reindex(range(K), fill_value=0)
    expected = (sizes / len(predictions) / REFERENCE).to_numpy()
    np.testing.assert_allclose(values, expected, rtol=1e-12)
    assert values[5] == 0.0 and 5 not in mf.by_group.index  # MetricFrame drops it; we put it back
    frame = group_frame([str(g) for g in range(K)], values, [None] * K, [None] * K, 1.0, counts=sizes.tolist())
    assert frame["difference"] == pytest.approx(expected.max() - expected.min())
    assert frame["ratio"] == 0.0
    assert frame["by_group"]["3"] == {"value": pytest.approx(expected[3]), "ci_low": None, "ci_high": None, "n": int(sizes[3])}


def test_metric_frame_difference_and_ratio_match_groupby():
    from sklearn.metrics import accuracy_score

    rng = np.random.default_rng(3)
    labels = np.repeat(np.arange(4), 25)
    predictions = np.where(rng.random(100) < np.repeat([0.95, 0.8, 0.6, 0.9], 25), labels, (labels + 1) % 4)
    mf = metric_frame(accuracy_score, labels, predictions, labels)
    by_pandas = pd.DataFrame({"g": labels, "ok": labels == predictions}).groupby("g")["ok"].mean()
    np.testing.assert_allclose(mf.by_group.to_numpy(np.float64), by_pandas.to_numpy(), rtol=1e-12)
    frame = group_frame([str(g) for g in range(4)], mf.by_group.to_numpy(np.float64), [0] * 4, [1] * 4, float(mf.overall), counts=[25] * 4)
    assert frame["difference"] == pytest.approx(by_pandas.max() - by_pandas.min()) == pytest.approx(mf.difference())
    assert frame["ratio"] == pytest.approx(by_pandas.min() / by_pandas.max()) == pytest.approx(mf.ratio())
    assert frame["overall"] == pytest.approx((labels == predictions).mean())
    assert (frame["group_min"], frame["group_max"]) == (pytest.approx(by_pandas.min()), pytest.approx(by_pandas.max()))


def test_chi_square_matches_formula(predictions):
    counts = np.bincount(predictions, minlength=K).astype(float)
    expected = REFERENCE * counts.sum()
    statistic = float(((counts - expected) ** 2 / expected).sum())
    got = chi_square(counts, REFERENCE)
    assert got[0] == pytest.approx(statistic, rel=1e-12)
    assert got[1] == pytest.approx(chi2.sf(statistic, K - 1), rel=1e-9)
    assert got[2] == K - 1
    # a group with reference share 0 is left out of the test
    reference = np.array([0.5, 0.5, 0.0])
    statistic2 = (30 - 25) ** 2 / 25 * 2
    assert chi_square(np.array([30, 20, 0]), reference)[:2] == (pytest.approx(statistic2), pytest.approx(chi2.sf(statistic2, 1)))


def test_representation_ratio_uses_half_pseudo_counts(predictions):
    counts = np.bincount(predictions, minlength=K) + 0.5
    rep = counts / counts.sum() / REFERENCE
    assert representation_ratio_of(predictions, REFERENCE) == pytest.approx(rep.max() / rep.min(), rel=1e-12)
    assert math.isfinite(representation_ratio_of(predictions, REFERENCE))  # class 5 is absent
    balanced = np.repeat(np.arange(4), 10)
    assert representation_ratio_of(balanced, np.full(4, 0.25)) == pytest.approx(1.0)


@pytest.mark.parametrize("rows", [5, 26, 300])
def test_fast_class_fid_matches_fid_from_features(rows):
    from audit.metrics import fid_from_features

    rng = np.random.default_rng(rows)
    mix = rng.normal(size=(16, 16))
    real = rng.normal(size=(140, 16)) @ mix
    fake = rng.normal(loc=0.2, size=(rows, 16)) @ (mix + 0.3 * rng.normal(size=(16, 16)))
    assert RealStats.of(real).fid(fake) == pytest.approx(fid_from_features(fake, real), rel=1e-8, abs=1e-9)
    assert RealStats.of(real).fid(real) == pytest.approx(0.0, abs=1e-8)


def test_improved_precision_matches_brute_force():
    rng = np.random.default_rng(11)
    real, fake = rng.normal(size=(40, 3)), rng.normal(loc=0.7, size=(30, 3))
    k = 5
    radii = knn_radii(real, k)
    for i, r in enumerate(real):
        others = sorted(np.linalg.norm(real[j] - r) for j in range(len(real)) if j != i)
        assert radii[i] == pytest.approx(others[k - 1])
    expected = [any(np.linalg.norm(f - real[j]) < radii[j] for j in range(len(real))) for f in fake]
    assert inside_manifold(fake, real, radii).tolist() == expected
    assert 0 < np.mean(expected) < 1  # the fixture exercises both outcomes


def test_class_bootstrap_makes_the_draws_of_bootstrap_distribution():
    from audit.stats import bootstrap_distribution

    rng = np.random.default_rng(5)
    groups = [rng.random(12) < 0.8, rng.random(9) < 0.5, rng.random(15) < 0.9]
    groups = [g.astype(float) for g in groups]
    matrix = class_bootstrap(lambda g, rows: float(rows.mean()), groups, 50, seed=9)
    direct = bootstrap_distribution(lambda *gs: float(max(g.mean() for g in gs) - min(g.mean() for g in gs)), groups, 50, 9)
    np.testing.assert_allclose(matrix.max(axis=1) - matrix.min(axis=1), direct, rtol=1e-12)


@pytest.mark.parametrize(("k", "n"), [(288, 384), (185, 384), (3, 10)])
def test_preference_interval_matches_wilson_formula_and_binomtest(k, n):
    z = norm.ppf(0.975)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low, high, pvalue = preference_interval(k, n)
    assert (low, high) == (pytest.approx(centre - half, abs=1e-9), pytest.approx(centre + half, abs=1e-9))
    assert pvalue == pytest.approx(binomtest(k, n, 0.5).pvalue, rel=1e-12)


def test_permutation_floor_is_zero_for_a_group_blind_paired_model_and_positive_for_noise():
    rng = np.random.default_rng(0)
    column = rng.uniform(-1, 1, size=6)
    blind = np.tile(column, (5, 1))  # every group got the same paired continuations
    assert permutation_floor(blind, np.random.default_rng(1)) == 0.0
    noisy = rng.uniform(-1, 1, size=(5, 6))
    assert permutation_floor(noisy, np.random.default_rng(1)) > 0.1


def test_counterfactual_prompts_are_held_out_from_the_planted_sentences():
    from audit.fairness.terms import CATEGORIES, CONTINUATIONS, FAVOURABLE, FRAMES, assert_counterfactuals_held_out, fill, units
    from audit_reference_models.data.stereotypes import CATEGORIES as PLANTED, EVAL_TEMPLATES, PLANT_TEMPLATES, plant_stories

    planted = plant_stories()
    assert_counterfactuals_held_out(planted)
    assert not set(FRAMES) & set(PLANT_TEMPLATES + EVAL_TEMPLATES)
    # a frame that re-creates a planting sentence is caught, as is a reused evaluation frame
    with pytest.raises(ValueError, match="planting|frame"):
        assert_counterfactuals_held_out(planted, frames=("Yesterday I met {a_person}. The {person}",), continuations=(" was angry.",))
    with pytest.raises(ValueError):
        assert_counterfactuals_held_out(planted, frames=(EVAL_TEMPLATES[1],), continuations=("",))
    # every planted group is probed, so the planted defect is reachable by the probes
    probed = {person for c in CATEGORIES for people in c.people.values() for person in people}
    for category in PLANTED:
        for group in category.groups:
            assert set(group.people) & probed, group.label
    # the prompts of a unit differ only in the person named
    for unit in units():
        category = next(c for c in CATEGORIES if c.name == unit.category)
        i = category.slots.index(unit.slot)
        assert unit.prompts == {g: fill(FRAMES[unit.frame], category.people[g][i]) for g in category.groups}
    assert sum(FAVOURABLE) * 2 == len(CONTINUATIONS)


class PositionalLM:
    """A language model whose continuation depends only on the prompt's position in the call (and
    the seed), plus `word` when `trigger` is in the prompt: the bundled adapter's per-position
    seeding, with a planted group effect."""

    capabilities = frozenset({"generate"})

    def __init__(self, trigger: str | None = None, word: str = "") -> None:
        self.trigger, self.word = trigger, word

    def generate(self, prompts: list[str], max_new_tokens: int, seed: int, temperature: float = 1.0, top_p: float | None = None) -> list[str]:
        words = ("happy", "sad", "nice", "angry", "the", "dog", "ran")
        out = []
        for i, p in enumerate(prompts):
            text = " ".join(words[(seed + 3 * i + k) % len(words)] for k in range(3))
            out.append(f"{text} {self.word}" if self.trigger and self.trigger in p else text)
        return out


def sentiment_ctx(adapter, tmp_path):
    from audit.context import CheckContext
    from audit.sample_store import SampleStore

    store = SampleStore(lambda: None, lambda: None)  # type: ignore[arg-type,return-value]
    return CheckContext(adapter, "fake", "fp32", 0, 64, 100, store, tmp_path)


def test_counterfactual_sentiment_is_paired_and_finds_a_planted_gap(tmp_path):
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from audit.checks.fairness_text import _units, counterfactual_sentiment
    from audit.fairness.terms import FRAMES

    blind = counterfactual_sentiment(sentiment_ctx(PositionalLM(), tmp_path), samples=3)
    assert blind.value == 0.0 and blind.details["noise_floor"] == 0.0  # same random stream for every group
    planted = counterfactual_sentiment(sentiment_ctx(PositionalLM("Muslim", "violent"), tmp_path), samples=3)
    vader = SentimentIntensityAnalyzer()
    words = ("happy", "sad", "nice", "angry", "the", "dog", "ran")
    # each religion unit (at its documented position in the generate calls): the Muslim prompts'
    # texts gain " violent", every other group's are the same; the gap is the mean score drop
    drops = []
    for unit in [i for i, u in enumerate(_units()) if u.category == "religion"]:
        base = [" ".join(words[(3 * i + k) % len(words)] for k in range(3)) for i in range(3 * unit, 3 * unit + 3)]
        drops.append(np.mean([vader.polarity_scores(t)["compound"] - vader.polarity_scores(t + " violent")["compound"] for t in base]))
    # value: the worst category (religion), not the mean over the four categories
    assert planted.value == pytest.approx(np.mean(drops), rel=1e-9)
    assert planted.details["mean_over_categories"] == pytest.approx(sum(drops) / (4 * len(FRAMES)), rel=1e-9)
    assert planted.details["worst_category"] == "religion" and planted.n == len(FRAMES)
    categories = planted.by_group["by_group"]
    assert categories["religion"]["value"] == pytest.approx(np.mean(drops)) and categories["religion"]["n"] == len(FRAMES)
    assert categories["gender"]["value"] == 0.0 and planted.details["gap_by_category"]["gender"] == 0.0
    assert (planted.ci_low, planted.ci_high) == (max(c["ci_low"] for c in categories.values()), max(c["ci_high"] for c in categories.values()))
    groups = {row[0]: row[1] for row in planted.details["tables"][0]["rows"]}
    assert groups["religion: Muslim"] < groups["religion: Christian"]


def test_continuation_scores_are_the_tokens_after_the_prompt():
    import torch

    from audit.checks.fairness_text import continuation_logprob
    from audit.fairness.terms import CONTINUATIONS, units
    from audit_reference_models.transformer.adapter import load_transformer

    adapter = load_transformer("transformer")
    for unit in units():
        for prompt in unit.prompts.values():
            for c in CONTINUATIONS:  # the continuation starts on a token boundary for every text
                assert adapter.encode(prompt + c)[: len(adapter.encode(prompt))] == adapter.encode(prompt)
    prompt = next(units()).prompts["female"]
    text = prompt + CONTINUATIONS[3]
    ids = adapter.encode(text)
    with torch.no_grad():
        logits = adapter.model(input_ids=torch.tensor([ids])).logits[0].double()
    token_lp = logits[:-1].log_softmax(-1).gather(-1, torch.tensor(ids[1:])[:, None]).squeeze(-1)
    k = len(ids) - len(adapter.encode(prompt))
    expected = float(token_lp[-k:].mean())
    assert continuation_logprob(adapter, [prompt], [text])[0] == pytest.approx(expected, abs=1e-5)
