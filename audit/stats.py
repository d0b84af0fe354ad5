"""Confidence intervals: bootstrap over samples, Wilson intervals for proportions."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from scipy.stats import norm

CONFIDENCE = 0.95


def bootstrap_distribution(
    statistic: Callable[..., float], samples: Sequence[np.ndarray], resamples: int, seed: int
) -> np.ndarray:
    """`statistic` on `resamples` bootstrap draws, each sample set's rows resampled independently."""
    rng = np.random.default_rng(seed)
    values = np.empty(resamples)
    for b in range(resamples):
        values[b] = statistic(*(s[rng.integers(0, len(s), len(s))] for s in samples))
    return values


def bias_corrected_interval(
    estimate: float, values: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """Efron's bias-corrected (BC) percentile interval from a bootstrap distribution.

    Plug-in estimators such as FID are biased, and resampling with replacement (duplicated
    rows) shifts the bootstrap distribution further; BC re-centres the percentiles on the
    estimate. With an unbiased bootstrap distribution it equals the percentile interval.
    """
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return float("nan"), float("nan")
    b = len(values)
    share_below = (np.sum(values < estimate) + 0.5 * np.sum(values == estimate)) / b
    share_below = float(np.clip(share_below, 1 / (b + 1), b / (b + 1)))
    z0 = norm.ppf(share_below)
    alpha = (1 - confidence) / 2
    q_low, q_high = norm.cdf(2 * z0 + norm.ppf(alpha)), norm.cdf(2 * z0 + norm.ppf(1 - alpha))
    low, high = np.quantile(values, [q_low, q_high])
    return float(low), float(high)


def bootstrap_ci(
    statistic: Callable[..., float],
    samples: Sequence[np.ndarray],
    resamples: int,
    seed: int,
    confidence: float = CONFIDENCE,
    method: str = "bc",
) -> tuple[float, float]:
    """Bootstrap CI of `statistic(*samples)`: `bc` (bias-corrected, default) or `percentile`.
    `resamples=0` gives (nan, nan): no interval, and gates then judge the value itself."""
    if resamples <= 0:
        return float("nan"), float("nan")
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        values = bootstrap_distribution(statistic, samples, resamples, seed)
        if method == "percentile":
            alpha = (1 - confidence) / 2
            low, high = np.quantile(values, [alpha, 1 - alpha])
            return float(low), float(high)
        if method != "bc":
            raise ValueError(f"unknown bootstrap method '{method}'; valid: bc, percentile")
        return bias_corrected_interval(statistic(*samples), values, confidence)


def wilson_ci(successes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (scipy's implementation)."""
    from scipy.stats import binomtest

    if n == 0:
        return float("nan"), float("nan")
    ci = binomtest(int(successes), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)
