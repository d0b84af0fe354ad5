"""Diversity, near-duplicate and class-histogram statistics against scipy (pdist, cdist,
entropy), numpy quantiles and hand-counted histograms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist, pdist, squareform
from scipy.stats import entropy as scipy_entropy

from audit.metrics import (
    class_coverage,
    class_entropy,
    class_histogram,
    class_kl,
    copy_threshold,
    mean_pairwise_distance,
    near_duplicate_rate,
    nearest_distances,
    stratified_bootstrap_counts,
)
from audit.metrics.diversity import mean_pairwise_distance_resampled
from audit.stats import bootstrap_distribution


@pytest.fixture(scope="module")
def points() -> np.ndarray:
    return np.random.default_rng(13).normal(size=(70, 5))


def test_mean_pairwise_distance_matches_pdist(points):
    assert mean_pairwise_distance(points) == pytest.approx(pdist(points).mean(), rel=1e-12)
    assert mean_pairwise_distance(None, distances=squareform(pdist(points))) == pytest.approx(pdist(points).mean(), rel=1e-12)


def test_mean_pairwise_distance_properties(points):
    perm = np.random.default_rng(0).permutation(len(points))
    assert mean_pairwise_distance(points[perm]) == pytest.approx(mean_pairwise_distance(points), rel=1e-12)
    assert mean_pairwise_distance(2 * points) == pytest.approx(2 * mean_pairwise_distance(points), rel=1e-12)
    assert mean_pairwise_distance(np.ones((10, 3))) == 0.0


@pytest.mark.parametrize("stratified", [False, True])
def test_diversity_resampled_equals_plain_bootstrap(points, stratified):
    strata = np.arange(len(points)) % 5 if stratified else None
    fast = mean_pairwise_distance_resampled(squareform(pdist(points)), stratified_bootstrap_counts(len(points), 30, 2, strata))
    plain = bootstrap_distribution(lambda x: pdist(x).mean(), [points], resamples=30, seed=2, strata=[strata])
    np.testing.assert_allclose(fast, plain, rtol=1e-10)


def test_nearest_distances_match_cdist(points):
    rng = np.random.default_rng(14)
    x = rng.normal(size=(33, 1, 2, 5))  # image-shaped rows are flattened
    ref = rng.normal(size=(41, 10))
    np.testing.assert_allclose(nearest_distances(x, ref, chunk=7), cdist(x.reshape(33, 10), ref).min(axis=1), rtol=1e-12)


def test_copy_threshold_and_rate():
    heldout = np.arange(1, 201, dtype=float)  # 1..200
    assert copy_threshold(heldout, 0.01) == pytest.approx(np.percentile(heldout, 1))
    generated = np.array([0.0, 0.5, 2.9, 3.0, 50.0])  # threshold 2.99: three strictly below
    assert near_duplicate_rate(generated, copy_threshold(heldout, 0.01)) == pytest.approx(3 / 5)


def test_copies_of_training_rows_are_flagged_fresh_draws_are_not():
    """Fresh draws from the data distribution score about the quantile; copies score 1."""
    rng = np.random.default_rng(15)
    train, heldout, fresh = rng.normal(size=(800, 4)), rng.normal(size=(400, 4)), rng.normal(size=(2000, 4))
    threshold = copy_threshold(nearest_distances(heldout, train), 0.05)
    copies = train[rng.integers(0, 800, 300)] + rng.normal(scale=1e-3, size=(300, 4))
    assert near_duplicate_rate(nearest_distances(copies, train), threshold) == 1.0
    assert 0.02 < near_duplicate_rate(nearest_distances(fresh, train), threshold) < 0.09


def test_histogram_and_coverage_hand_counted():
    predictions = np.array([0] * 50 + [1] * 30 + [2] * 18 + [3] * 2)  # shares .5 .3 .18 .02, none for 4..9
    np.testing.assert_allclose(class_histogram(predictions, 10), [0.5, 0.3, 0.18, 0.02] + [0] * 6)
    assert class_coverage(predictions, 10) == pytest.approx(0.3)  # default minimum share 0.025
    assert class_coverage(predictions, 10, min_share=0.02) == pytest.approx(0.4)  # the bound is inclusive
    assert class_coverage(np.arange(100) % 10, 10) == 1.0


def test_entropy_matches_scipy():
    rng = np.random.default_rng(16)
    predictions = rng.choice(10, size=500, p=np.linspace(1, 3, 10) / 20)
    counts = np.bincount(predictions, minlength=10)
    assert class_entropy(predictions, 10, normalized=False) == pytest.approx(scipy_entropy(counts), rel=1e-12)
    assert class_entropy(predictions, 10) == pytest.approx(scipy_entropy(counts, base=10), rel=1e-12)
    assert class_entropy(np.arange(1000) % 10, 10) == pytest.approx(1.0)
    assert class_entropy(np.full(50, 3), 10) == 0.0


def test_kl_matches_scipy_with_add_half_smoothing():
    rng = np.random.default_rng(17)
    reference = rng.integers(0, 10, 700)
    generated = np.array([1, 4, 7] * 100)  # three classes only
    p = (np.bincount(reference, minlength=10) + 0.5) / (700 + 5.0)
    q = (np.bincount(generated, minlength=10) + 0.5) / (300 + 5.0)
    assert class_kl(reference, generated, 10) == pytest.approx(scipy_entropy(p, q), rel=1e-12)
    assert class_kl(reference, reference, 10) == pytest.approx(0.0, abs=1e-15)
    assert class_kl(reference, generated, 10) > 1.0
