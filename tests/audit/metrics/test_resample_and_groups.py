"""Resampling counts and the by-group result shape: each has one definition, checked here."""

from __future__ import annotations

import math

import numpy as np
import pytest

from audit.metrics import bootstrap_count_chunks, bootstrap_counts, group_frame, multinomial_counts, stratified_bootstrap_counts
from audit.stats import bootstrap_ci, bootstrap_distribution, measurement_ci, t_interval


def test_count_chunks_are_bootstrap_counts_in_pieces():
    chunks = list(bootstrap_count_chunks(37, 250, seed=5, chunk=100))
    assert [len(c) for c in chunks] == [100, 100, 50] and all(c.dtype == np.float64 for c in chunks)
    np.testing.assert_array_equal(np.concatenate(chunks), bootstrap_counts([37], 250, seed=5)[0])


def test_bootstrap_counts_draw_the_rows_bootstrap_distribution_draws():
    x = np.arange(20, dtype=np.float64) ** 2
    (counts,) = bootstrap_counts([20], 30, seed=2)
    np.testing.assert_allclose(counts @ x / 20, bootstrap_distribution(np.mean, [x], 30, seed=2), rtol=1e-12)


def test_stratified_counts_keep_every_stratum_size_and_stay_inside_it():
    strata = np.random.default_rng(1).permutation(np.arange(30) % 3)  # strata of MIN_STRATUM (10) rows: kept
    counts = stratified_bootstrap_counts(len(strata), 200, seed=4, strata=strata)
    for s in np.unique(strata):
        members = strata == s
        assert (counts[:, members].sum(axis=1) == members.sum()).all()
    assert counts.var(axis=0).min() > 0  # every row is sometimes drawn more or less often than once


def test_stratified_counts_without_strata_are_bootstrap_counts():
    np.testing.assert_array_equal(stratified_bootstrap_counts(23, 40, seed=6), bootstrap_counts([23], 40, seed=6)[0])


def test_stratified_counts_draw_the_rows_bootstrap_distribution_draws():
    x = np.arange(40, dtype=np.float64) ** 1.5
    strata = np.arange(40) % 4
    counts = stratified_bootstrap_counts(40, 25, seed=8, strata=strata)
    np.testing.assert_allclose(counts @ x / 40, bootstrap_distribution(np.mean, [x], 25, seed=8, strata=[strata]), rtol=1e-12)


def test_stratified_bootstrap_of_a_balanced_design_has_the_design_variance():
    """A class-balanced sample of two classes with different means: the between-class part of the
    variance does not exist under the design, so the stratified interval of the mean is narrower
    than the i.i.d. one, and near the design's own standard error (numpy, from the within-class
    variances)."""
    rng = np.random.default_rng(0)
    strata = np.arange(400) % 2
    x = np.where(strata == 0, 0.0, 10.0) + rng.normal(size=400)
    low, high = bootstrap_ci(np.mean, [x], 2000, 1, strata=[strata])
    plain_low, plain_high = bootstrap_ci(np.mean, [x], 2000, 1)
    design_se = np.sqrt(sum(x[strata == s].var() / (strata == s).sum() for s in (0, 1))) / 2
    assert (high - low) == pytest.approx(2 * 1.96 * design_se, rel=0.1)
    assert (plain_high - plain_low) > 5 * (high - low)


def test_t_interval_is_mean_plus_minus_t_times_standard_error():
    from scipy.stats import t

    values = np.array([9.1, 9.4, 8.8, 9.0, 9.6, 9.2, 9.3, 8.9, 9.5, 9.1])
    half = t.ppf(0.975, 9) * values.std(ddof=1) / np.sqrt(10)
    assert t_interval(values) == pytest.approx((values.mean() - half, values.mean() + half), rel=1e-12)
    assert all(np.isnan(t_interval(np.array([1.0]))))


def test_multinomial_counts_resample_n_rows_and_none_without_resamples():
    counts = multinomial_counts(12, 40, seed=1)
    assert counts.shape == (40, 12) and (counts.sum(axis=1) == 12).all()
    np.testing.assert_array_equal(counts, multinomial_counts(12, 40, seed=1))
    assert multinomial_counts(12, 0, seed=1) is None


def test_group_frame_follows_fairlearns_conventions():
    frame = group_frame([1, 2, 3], [0.2, float("nan"), 0.5], [0.1, None, float("inf")], [0.3, None, 0.6], 0.4, metric="rate")
    assert list(frame) == ["metric", "overall", "by_group", "group_min", "group_max", "difference", "ratio"]
    assert frame["by_group"]["3"] == {"value": 0.5, "ci_low": None, "ci_high": 0.6}  # no n without counts; inf is no CI end
    assert (frame["group_min"], frame["group_max"]) == (0.2, 0.5)  # over the finite values
    assert frame["difference"] == pytest.approx(0.3) and frame["ratio"] == pytest.approx(0.4)
    assert math.isnan(frame["by_group"]["2"]["value"])


def test_group_frame_ratio_is_none_where_it_means_nothing():
    assert group_frame(["a", "b"], [-2.0, -1.0], [None] * 2, [None] * 2, -1.5)["ratio"] is None  # max <= 0
    assert group_frame(["a", "b"], [1.0, 2.0], [None] * 2, [None] * 2, 1.5, signed=True)["ratio"] is None
    with pytest.raises(ValueError, match="finite"):
        group_frame(["a"], [float("nan")], [None], [None], 0.0)


def test_measurement_ci_is_none_without_an_interval_and_respects_a_floor():
    assert measurement_ci(float("nan"), 1.0) == (None, None)
    assert measurement_ci(-0.2, 0.5, floor=0.0) == (0.0, 0.5)
