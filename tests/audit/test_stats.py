"""Confidence intervals against closed forms and scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from audit.stats import bias_adjusted_interval, bootstrap_ci, wilson_ci


def test_wilson_matches_closed_form():
    k, n, z = 37, 50, stats.norm.ppf(0.975)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low, high = wilson_ci(k, n)
    assert low == pytest.approx(centre - half, rel=1e-9)
    assert high == pytest.approx(centre + half, rel=1e-9)


def test_percentile_bootstrap_matches_scipy_for_the_mean():
    x = np.random.default_rng(3).normal(size=300)
    ours = bootstrap_ci(np.mean, [x], 4000, seed=0, method="percentile")
    ref = stats.bootstrap((x,), np.mean, n_resamples=4000, method="percentile", random_state=0).confidence_interval
    assert ours[0] == pytest.approx(ref.low, abs=0.02)
    assert ours[1] == pytest.approx(ref.high, abs=0.02)


def test_bias_adjusted_equals_percentile_when_the_bootstrap_is_centred():
    values = np.random.default_rng(4).normal(size=20000)
    estimate = float(values.mean())
    low, high = bias_adjusted_interval(estimate, values)
    assert low == pytest.approx(np.quantile(values, 0.025), abs=1e-9)
    assert high == pytest.approx(np.quantile(values, 0.975), abs=1e-9)


def test_bias_adjusted_recentres_a_biased_bootstrap_without_collapsing():
    """Every bootstrap value above the estimate (as for FID at small n): the interval keeps
    the bootstrap's spread and is centred on the estimate."""
    values = 10.0 + np.random.default_rng(5).normal(scale=0.5, size=20000)
    low, high = bias_adjusted_interval(0.0, values)
    assert low < 0.0 < high
    assert high - low == pytest.approx(np.quantile(values, 0.975) - np.quantile(values, 0.025), rel=1e-9)
    assert (low + high) / 2 == pytest.approx(0.0, abs=0.05)


def test_fid_interval_contains_the_estimate_at_small_n():
    from audit.metrics import fid_from_features

    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(128, 16)), rng.normal(loc=0.2, size=(400, 16))
    low, high = bootstrap_ci(fid_from_features, [a, b], 200, seed=0)
    assert low < fid_from_features(a, b) < high
    assert high - low > 0.05


def test_bootstrap_ci_covers_the_truth_for_the_mean():
    rng = np.random.default_rng(6)
    covered = sum(
        (lambda ci: ci[0] <= 0.0 <= ci[1])(bootstrap_ci(np.mean, [rng.normal(size=80)], 300, seed=i)) for i in range(60)
    )
    assert covered >= 52  # ~95% of 60, with slack for Monte Carlo noise


def test_no_resamples_gives_no_interval():
    assert all(math.isnan(v) for v in bootstrap_ci(np.mean, [np.ones(5)], 0, seed=0))
