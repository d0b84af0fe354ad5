"""Blockwise KID: the tiled float32-Gram computation against a float64 all-pairs computation
written here in plain numpy, its memory bound, the precomputed reference term, and the
resampled (half-sample and bootstrap) variants against looping `kid`."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import audit.metrics.kernel as kernel_module
from audit.metrics import kid, kid_resampled, offdiagonal_kernel_sum
from audit.metrics.resample import bootstrap_counts

FLOAT32_TOLERANCE = 1e-6  # of the kernel means' scale; the module docstring gives the reasoning


def all_pairs_terms(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Off-diagonal means of K_xx and K_yy and the mean of K_xy, from full float64 matrices."""
    x, y = x.astype(np.float64), y.astype(np.float64)
    d = x.shape[1]
    k_xx, k_yy, k_xy = ((a @ b.T / d + 1.0) ** 3 for a, b in ((x, x), (y, y), (x, y)))
    m, n = len(x), len(y)
    xx = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    yy = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(xx), float(yy), float(k_xy.mean())


def pool_like(rng: np.random.Generator, n: int, shift: float) -> np.ndarray:
    """2048-d non-negative, correlated features like a CNN's average-pooled last layer."""
    mix = np.random.default_rng(99).normal(size=(64, 2048)) / 8
    return np.maximum(rng.normal(size=(n, 64)) @ mix + shift, 0.0).astype(np.float32)


def scale_sets(scale: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    if scale == "64-d in [0, 10]":
        return rng.uniform(0, 10, size=(700, 64)), rng.uniform(0.3, 10, size=(650, 64))
    return pool_like(rng, 600, 0.0), pool_like(rng, 550, 0.05)


@pytest.mark.parametrize("scale", ["64-d in [0, 10]", "2048-d pool-like"])
def test_float32_gram_agrees_with_float64_all_pairs(scale, monkeypatch):
    """Small tiles, so the test crosses diagonal, off-diagonal and ragged tiles. The tolerance,
    1e-6 of the kernel means, is far below what a wrong diagonal would cost (about 1/N of the
    mean, i.e. > 1e-3 here)."""
    monkeypatch.setattr(kernel_module, "TILE", 128)
    x, y = scale_sets(scale)
    xx, yy, xy = all_pairs_terms(x, y)
    expected = xx + yy - 2 * xy
    assert abs(expected) > 100 * FLOAT32_TOLERANCE * (xx + yy + 2 * xy)  # the sets do differ
    assert abs(kid(x, y) - expected) <= FLOAT32_TOLERANCE * (xx + yy + 2 * xy), (kid(x, y), expected)


def test_float64_gram_tiles_equal_full_matrices(monkeypatch):
    """Tiles of 7 rows (sizes not a multiple of 7): the same value as the full matrices."""
    monkeypatch.setattr(kernel_module, "TILE", 7)
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(40, 6)), rng.normal(0.3, size=(33, 6))
    xx, yy, xy = all_pairs_terms(x, y)
    assert kid(x, y, gram_dtype=np.float64) == pytest.approx(xx + yy - 2 * xy, abs=1e-12 * (xx + yy + 2 * xy))


def test_precomputed_reference_term_gives_the_same_value():
    rng = np.random.default_rng(4)
    x, y = rng.uniform(0, 1, size=(300, 16)), rng.uniform(0, 1.1, size=(260, 16))
    k_yy = (y @ y.T / 16 + 1.0) ** 3
    k_yy_sum = offdiagonal_kernel_sum(y)
    assert k_yy_sum == pytest.approx(k_yy.sum() - np.trace(k_yy), rel=FLOAT32_TOLERANCE)
    assert kid(x, y, k_yy_sum=k_yy_sum) == kid(x, y)


def test_peak_memory_stays_far_below_one_full_matrix():
    """n = 6000, d = 64: one float64 6000 x 6000 matrix is 288 MB; the tiles need ~25 MB
    whatever n is (two 1024 x 1024 float64 tiles and a temporary)."""
    rng = np.random.default_rng(6)
    x, y = rng.uniform(size=(6000, 64)), rng.uniform(size=(6000, 64))
    full_matrix = 6000 * 6000 * 8
    tracemalloc.start()
    try:
        kid(x, y)
        _, peak_kid = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        kid_resampled(x, y, (rng.random((8, 6000)) < 0.5).astype(float))
        _, peak_resampled = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak_kid < full_matrix / 4 and peak_resampled < full_matrix / 4, (peak_kid, peak_resampled, full_matrix)


@pytest.fixture
def small_sets(monkeypatch) -> tuple[np.ndarray, np.ndarray]:
    monkeypatch.setattr(kernel_module, "TILE", 16)
    rng = np.random.default_rng(8)
    return rng.normal(size=(50, 8)), rng.normal(0.2, size=(37, 8))


def test_half_sample_masks_equal_kid_of_the_subsample(small_sets):
    x, y = small_sets
    rng = np.random.default_rng(9)
    masks = np.zeros((4, len(x)))
    for row, size in zip(masks, (25, 25, 10, 50)):
        row[rng.permutation(len(x))[:size]] = 1.0
    values = kid_resampled(x, y, masks, gram_dtype=np.float64)
    expected = [kid(x[mask.astype(bool)], y, gram_dtype=np.float64) for mask in masks]
    np.testing.assert_allclose(values, expected, rtol=1e-10, atol=1e-13)


def test_bootstrap_counts_equal_kid_of_the_repeated_rows(small_sets):
    x, y = small_sets
    counts = bootstrap_counts([len(x)], 5, seed=2)[0]
    values = kid_resampled(x, y, counts, k_yy_sum=offdiagonal_kernel_sum(y, gram_dtype=np.float64), gram_dtype=np.float64)
    expected = [kid(np.repeat(x, c, axis=0), y, gram_dtype=np.float64) for c in counts]
    np.testing.assert_allclose(values, expected, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("weights", [np.ones((2, 49)), -np.ones((1, 50)), np.eye(1, 50)])
def test_rejects_bad_weights(small_sets, weights):
    x, y = small_sets
    with pytest.raises(ValueError):
        kid_resampled(x, y, weights)
