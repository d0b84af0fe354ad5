"""Sliced Wasserstein distance: the exact 1-D W1 against scipy.stats.wasserstein_distance per
projection, the known answer for a translation, and properties (identity, symmetry, order and
duplication independence, bootstrap draws)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import wasserstein_distance

from audit.metrics import random_directions, sliced_wasserstein, sliced_wasserstein_resampled, stratified_bootstrap_counts, wasserstein1_1d
from audit.stats import bootstrap_distribution


@pytest.fixture(scope="module")
def sets() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    return rng.normal(size=(150, 12)), rng.gamma(2.0, size=(97, 12))


def test_1d_matches_scipy_with_unequal_sizes_and_ties():
    rng = np.random.default_rng(4)
    u = rng.integers(0, 6, size=(40, 5)).astype(float)  # many ties
    v = rng.normal(2.0, 1.5, size=(63, 5))
    expected = [wasserstein_distance(u[:, j], v[:, j]) for j in range(5)]
    np.testing.assert_allclose(wasserstein1_1d(u, v), expected, rtol=1e-12, atol=1e-14)


def test_sliced_matches_scipy_per_projection(sets):
    x, y = sets
    directions = random_directions(12, 64, seed=5)
    expected = np.mean([wasserstein_distance(x @ d, y @ d) for d in directions.T])
    assert sliced_wasserstein(x, y, projections=64, seed=5) == pytest.approx(expected, rel=1e-12)


def test_directions_are_unit_and_fixed():
    d = random_directions(256, 128)
    np.testing.assert_allclose(np.linalg.norm(d, axis=0), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(d, random_directions(256, 128))


def test_translation_known_answer(sets):
    """Shifting a set by c moves every projection by c.theta, and 1-D W1 of a shift is its size."""
    x, _ = sets
    c = np.linspace(-1, 2, 12)
    directions = random_directions(12, 32, seed=0)
    assert sliced_wasserstein(x + c, x, projections=32, seed=0) == pytest.approx(np.abs(c @ directions).mean(), rel=1e-10)


def test_identical_sets_give_zero_and_symmetry(sets):
    x, y = sets
    assert sliced_wasserstein(x, x) == 0.0
    assert sliced_wasserstein(x, y) == pytest.approx(sliced_wasserstein(y, x), rel=1e-12)


def test_order_and_duplication_independent(sets):
    """A permuted set, or the set repeated twice, has the same empirical distribution."""
    x, y = sets
    perm = np.random.default_rng(0).permutation(len(x))
    assert sliced_wasserstein(x[perm], y) == pytest.approx(sliced_wasserstein(x, y), rel=1e-12)
    assert sliced_wasserstein(np.concatenate([x, x]), y) == pytest.approx(sliced_wasserstein(x, y), rel=1e-12)
    assert sliced_wasserstein(np.concatenate([x, x]), x) == pytest.approx(0.0, abs=1e-12)


def test_image_tensors_are_flattened(sets):
    rng = np.random.default_rng(6)
    a, b = rng.random((30, 1, 4, 4)), rng.random((20, 1, 4, 4))
    assert sliced_wasserstein(a, b) == sliced_wasserstein(a.reshape(30, 16), b.reshape(20, 16))


@pytest.mark.parametrize("stratified", [False, True])
def test_resampled_equals_plain_bootstrap_of_the_first_set(sets, stratified):
    x, y = sets
    strata = np.arange(len(x)) % 4 if stratified else None
    fast = sliced_wasserstein_resampled(x, y, stratified_bootstrap_counts(len(x), 25, 11, strata), projections=16)
    plain = bootstrap_distribution(lambda a: sliced_wasserstein(a, y, projections=16), [x], resamples=25, seed=11, strata=[strata])
    np.testing.assert_allclose(fast, plain, rtol=1e-10)


def test_resampled_with_a_subsample_mask_equals_the_subsample(sets):
    x, y = sets
    mask = np.zeros((1, len(x)))
    mask[0, ::3] = 1
    assert sliced_wasserstein_resampled(x, y, mask, projections=16)[0] == pytest.approx(sliced_wasserstein(x[::3], y, projections=16), rel=1e-10)


def test_rejects_mismatched_dimensions():
    with pytest.raises(ValueError):
        sliced_wasserstein(np.zeros((5, 3)), np.zeros((5, 4)))
