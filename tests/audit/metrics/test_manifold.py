"""Precision, recall, density and coverage against the authors' `prdc` package, k-NN radii
against scikit-learn, the fixed-radius resampling against a plain loop, and properties."""

from __future__ import annotations

import numpy as np
import pytest
from prdc import compute_prdc
from sklearn.neighbors import NearestNeighbors

from audit.metrics import Manifolds, knn_radii, prdc, recall_resampled, stratified_bootstrap_counts
from audit.stats import bootstrap_distribution


@pytest.fixture(scope="module")
def sets() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(8)
    real = rng.normal(size=(300, 10))
    fake = np.concatenate([rng.normal(scale=0.6, size=(200, 10)), rng.normal(loc=2.5, size=(50, 10))])  # narrow + off-manifold
    return real, fake


@pytest.mark.parametrize("k", [3, 5])
def test_matches_prdc_package(sets, k, capsys):
    real, fake = sets
    expected = compute_prdc(real_features=real, fake_features=fake, nearest_k=k)
    got = prdc(real, fake, k)
    for name in ("precision", "recall", "density", "coverage"):
        assert got[name] == pytest.approx(float(expected[name]), abs=1e-12), name
    assert 0.1 < got["precision"] < 0.95 and 0.1 < got["recall"] < 0.95  # a non-degenerate case


def test_radii_match_sklearn_nearest_neighbours(sets):
    real, _ = sets
    distances, _ = NearestNeighbors(n_neighbors=6).fit(real).kneighbors(real)
    np.testing.assert_allclose(knn_radii(real, 5), distances[:, 5], rtol=1e-10)


def test_identical_sets(sets):
    real, _ = sets
    got = prdc(real, real, 5)
    assert got["precision"] == 1.0 and got["recall"] == 1.0 and got["coverage"] == 1.0


def test_disjoint_sets_score_zero(sets):
    real, _ = sets
    got = prdc(real, real + 100.0, 5)
    assert got == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_order_independent(sets):
    real, fake = sets
    rng = np.random.default_rng(0)
    assert prdc(real[rng.permutation(len(real))], fake[rng.permutation(len(fake))], 5) == pytest.approx(prdc(real, fake, 5))


def test_precomputed_radii_and_distances_change_nothing(sets):
    from scipy.spatial.distance import cdist

    real, fake = sets
    shared = Manifolds.build(real, fake, 5, real_radii=knn_radii(real, 5), fake_distances=cdist(fake, fake))
    assert shared.values() == prdc(real, fake, 5)


def naive_fixed_radius_prdc(real_radii, fake_radii, k):
    """The four metrics on resampled rows, written as plain loops over index arrays, with each
    original point's radius kept (what the fixed-radius bootstrap claims to compute)."""

    def statistic(real_idx, fake_idx, real, fake):
        d = np.linalg.norm(real[real_idx][:, None, :] - fake[fake_idx][None, :, :], axis=2)
        r_rad, f_rad = real_radii[real_idx], fake_radii[fake_idx]
        inside_real = d < r_rad[:, None]
        return {
            "precision": np.mean([inside_real[:, j].any() for j in range(len(fake_idx))]),
            "recall": np.mean([(d[i] < f_rad).any() for i in range(len(real_idx))]),
            "density": np.mean([inside_real[:, j].sum() for j in range(len(fake_idx))]) / k,
            "coverage": np.mean([inside_real[i].any() for i in range(len(real_idx))]),
        }

    return statistic


@pytest.mark.parametrize("stratified", [False, True])
def test_resampled_equals_naive_resampling_of_the_generated_rows(sets, stratified):
    """Generated rows redrawn (within their classes when stratified), real set and radii fixed."""
    real, fake = sets
    real, fake = real[:80], fake[::4]
    strata = np.arange(len(fake)) % 3 if stratified else None
    m = Manifolds.build(real, fake, 5)
    fast = m.resampled(stratified_bootstrap_counts(len(fake), 20, 3, strata))
    naive = naive_fixed_radius_prdc(m.real_radii, m.fake_radii, 5)
    every_real = np.arange(len(real))
    assert set(fast) == {"precision", "density", "coverage"}  # recall's interval recomputes radii: recall_resampled
    for name in ("precision", "density", "coverage"):
        plain = bootstrap_distribution(lambda fi: naive(every_real, fi, real, fake)[name], [np.arange(len(fake))], 20, 3, strata=[strata])
        np.testing.assert_allclose(fast[name], plain, rtol=1e-12, err_msg=name)


def naive_recall_with_recomputed_radii(real, fake, counts, k):
    """Recall of the drawn multiset written out: every drawn copy is a point; a point's radius is
    its distance to the k-th nearest drawn point that is not a copy of itself."""
    from scipy.spatial.distance import cdist

    drawn = np.repeat(np.arange(len(fake)), counts)
    d = cdist(fake[drawn], fake[drawn])
    d[drawn[:, None] == drawn[None, :]] = np.inf  # copies of the same row
    radii = np.sort(d, axis=1)[:, k - 1]
    return float((cdist(real, fake[drawn]) < radii[None, :]).any(axis=1).mean())


def test_recall_resampled_recomputes_radii_like_the_drawn_multiset(sets):
    from scipy.spatial.distance import cdist

    real, fake = sets
    real, fake = real[:60], fake[::5]
    counts = stratified_bootstrap_counts(len(fake), 12, 4, np.arange(len(fake)) % 3)
    fast = recall_resampled(cdist(real, fake), cdist(fake, fake), 5, counts)
    expected = [naive_recall_with_recomputed_radii(real, fake, c, 5) for c in counts]
    np.testing.assert_allclose(fast, expected, rtol=1e-12)


def test_recall_resampled_with_every_row_once_is_recall(sets):
    from scipy.spatial.distance import cdist

    real, fake = sets
    once = np.ones((1, len(fake)), dtype=np.int64)
    assert recall_resampled(cdist(real, fake), cdist(fake, fake), 5, once)[0] == prdc(real, fake, 5)["recall"]


def test_rejects_k_too_large():
    with pytest.raises(ValueError):
        knn_radii(np.zeros((5, 2)), 5)
