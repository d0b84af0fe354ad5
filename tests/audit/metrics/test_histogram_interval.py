"""The class-histogram intervals' parts, each against an independent computation: the class table
against pandas' crosstab, the histogram covariance against simulated multinomial draws, the
delta-method standard deviation against the spread of the statistic over simulated sets, and
class coverage's interval against the exact binomial mean of the statistic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from audit.metrics import class_coverage, class_entropy, class_kl
from audit.metrics.histogram_interval import (
    class_coverage_interval,
    class_entropy_interval,
    class_kl_interval,
    class_table,
    delta_interval,
    count_threshold,
    histogram_covariance,
)

K = 5
Z = norm.ppf(0.975)


def test_class_table_equals_pandas_crosstab():
    rng = np.random.default_rng(0)
    predictions, strata = rng.integers(0, K, 300), rng.integers(0, 3, 300) * 7
    expected = pd.crosstab(strata, predictions).reindex(columns=range(K), fill_value=0).to_numpy()
    assert np.array_equal(class_table(predictions, K, strata), expected)
    assert np.array_equal(class_table(predictions, K)[0], np.bincount(predictions, minlength=K))
    with pytest.raises(ValueError, match="strata has 2 labels"):
        class_table(predictions, K, strata[:2])


def test_histogram_covariance_equals_simulated_multinomial_draws():
    """Large counts (the pseudo-observations negligible): the covariance of the summed per-stratum
    multinomials, as numpy's own draws give it."""
    table = np.array([[5000, 3000, 2000, 0, 0], [0, 1000, 1000, 6000, 2000]], float)
    expected, covariance = histogram_covariance(table)
    rng = np.random.default_rng(1)
    shares = table / table.sum(1, keepdims=True)
    draws = sum(rng.multinomial(int(m), p, size=40000) for m, p in zip(table.sum(1), shares))
    assert np.allclose(expected, draws.mean(0), atol=2.0)
    assert np.allclose(covariance, np.cov(draws.T), atol=0.05 * covariance.max())


def test_pseudo_observations_give_an_unseen_class_variance():
    """No sample in class 2: the plug-in variance there is 0, the smoothed one is not (z^2 pseudo-
    observations over the whole set, spread evenly over each stratum's classes)."""
    expected, covariance = histogram_covariance(np.array([[50, 50, 0, 0, 0], [0, 0, 0, 50, 50]], float))
    assert expected.sum() == pytest.approx(200)
    assert expected[2] == pytest.approx(2 * (Z**2 / 2 / K) * 100 / (100 + Z**2 / 2))  # each stratum: its share, kept at its size
    assert covariance[2, 2] > 0.3 and np.allclose(covariance.sum(0), 0, atol=1e-9)


def test_delta_interval_of_a_linear_statistic_is_the_normal_interval():
    covariance = np.array([[2.0, -2.0], [-2.0, 2.0]])
    low, high = delta_interval(1.0, np.array([0.5, -0.5]), np.zeros((2, 2)), covariance)
    assert (high - low) / 2 == pytest.approx(Z * np.sqrt(2.0))


@pytest.mark.parametrize("design", ["skewed", "uniform"])
def test_delta_sd_matches_the_spread_over_simulated_sets(design):
    """The half-width / z equals the statistic's sd over fresh sets, both where the statistic is
    smooth (a skewed histogram) and at the entropy's ceiling (a uniform one, where the first-order
    term vanishes and a bootstrap is sqrt(3) times too wide), averaged over 200 observed sets."""
    p = np.array([0.4, 0.3, 0.15, 0.1, 0.05]) if design == "skewed" else np.full(K, 0.2)
    rng = np.random.default_rng(2)
    sets = [rng.choice(K, 1000, p=p) for _ in range(200)]
    reference = np.repeat(np.arange(K), [30, 20, 20, 20, 10])
    for value, interval in (
        (lambda x: class_entropy(x, K), lambda x: class_entropy_interval(x, K)),
        (lambda x: class_kl(reference, x, K), lambda x: class_kl_interval(reference, x, K)),
    ):
        spread = np.std([value(x) for x in sets], ddof=1)
        sd = np.mean([(hi - lo) / (2 * Z) for lo, hi in map(interval, sets)])
        assert sd == pytest.approx(spread, rel=0.15), (design, sd, spread)


@pytest.mark.parametrize("share", [0.015, 0.025, 0.032, 0.045])
def test_class_coverage_interval_covers_the_exact_binomial_mean(share):
    """i.i.d. draws, one class near the threshold (0.25 / 10 = 0.025 of n=1000): the mean of class
    coverage over fresh sets is the mean over classes of P(Binomial(n, p_k) >= threshold)."""
    from scipy.stats import binom

    classes, n = 10, 1000
    p = np.full(classes, (1 - share) / (classes - 1))
    p[0] = share
    threshold = count_threshold(0.25 / classes, n)
    truth = binom.sf(threshold - 1, n, p).mean()
    rng = np.random.default_rng(3)
    sets = [rng.choice(classes, n, p=p) for _ in range(200)]
    intervals = np.array([class_coverage_interval(x, classes) for x in sets])
    assert ((intervals[:, 0] <= truth) & (truth <= intervals[:, 1])).mean() >= 0.9
    assert all(lo <= class_coverage(x, classes) <= hi for x, (lo, hi) in zip(sets, intervals))


def test_class_coverage_interval_is_the_value_far_from_the_threshold():
    predictions = np.arange(1000) % 10
    assert class_coverage_interval(predictions, 10, predictions) == (1.0, 1.0)
    low, high = class_coverage_interval(predictions % 3, 10)  # 7 empty classes: each could reach 25 with P ~ 0.002
    assert low == 0.3 and 0.3 < high < 0.305
