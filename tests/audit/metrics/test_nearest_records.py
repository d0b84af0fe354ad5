"""Distance to closest record of table rows: against scipy's `cdist` and direct numpy / Python
computations on fixed inputs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from audit.metrics.nearest_records import exact_row_matches, median_dcr_ratio, nearest_record_distances


def test_nearest_record_distances_equal_the_row_minimum_of_scipys_cdist():
    rng = np.random.default_rng(7)
    x, reference = rng.normal(size=(40, 9)), rng.normal(size=(130, 9))
    np.testing.assert_allclose(nearest_record_distances(x, reference), cdist(x, reference).min(axis=1), rtol=1e-9, atol=1e-9)


def test_a_copied_row_is_at_distance_zero_to_rounding():
    rng = np.random.default_rng(8)
    reference = rng.normal(size=(50, 6)) * 100
    d = nearest_record_distances(reference[[3, 17]], reference)
    assert np.all(d < 1e-6)


def test_median_dcr_ratio_is_the_mean_of_the_per_fold_median_ratios():
    folds = np.array([[1.0, 4.0], [2.0, 0.0], [3.0, 6.0], [10.0, 2.0], [5.0, 8.0]])
    heldout = np.array([2.0, 4.0, 6.0, 8.0, 10.0])
    # fold medians 3 and 4, held-out median 6: (3/6 + 4/6) / 2
    assert median_dcr_ratio(folds, heldout) == pytest.approx((3 / 6 + 4 / 6) / 2)
    assert median_dcr_ratio(heldout, heldout) == pytest.approx(1.0)
    # copies of rows in both sets: both medians floored alike (as the image check), no division by zero
    assert median_dcr_ratio(np.zeros(5), np.zeros(5)) == pytest.approx(1.0)
    assert median_dcr_ratio(np.zeros(5), heldout) == pytest.approx(1e-6 / 6)  # training copies: the floor over 6
    assert median_dcr_ratio(heldout, np.zeros(5)) == 10.0  # held-out copies: the cap, not 6 / 1e-12


def test_exact_row_matches_agree_with_a_python_set_of_tuples():
    reference = np.array([[0.0, 1.0, 2.5], [1.0, 1.0, 1.0], [-3.0, 0.0, 7.0]])
    x = np.array([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0 + 1e-12], [-3.0, 0.0, 7.0], [7.0, 0.0, -3.0]])
    expected = [tuple(row) in {tuple(r) for r in reference.tolist()} for row in x.tolist()]
    assert exact_row_matches(x, reference).tolist() == expected == [True, False, True, False]
    with pytest.raises(ValueError, match="rows of"):
        exact_row_matches(x[:, :2], reference)
