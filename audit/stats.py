"""Confidence intervals: bootstrap over samples, Wilson intervals for proportions."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from audit.progress_events import every, report_step

CONFIDENCE = 0.95


def bootstrap_distribution(
    statistic: Callable[..., float], samples: Sequence[np.ndarray], resamples: int, seed: int,
    strata: Sequence[np.ndarray | None] | None = None,
) -> np.ndarray:
    """`statistic` on `resamples` bootstrap draws, each sample set's rows resampled independently
    (within the strata given for that set, see `audit.metrics.resample.resample_rows`)."""
    from audit.metrics.resample import resample_rows

    strata = [None] * len(samples) if strata is None else list(strata)
    rng = np.random.default_rng(seed)
    values = np.empty(resamples)
    stride = every(resamples)
    for b in range(resamples):
        values[b] = statistic(*(s[resample_rows(rng, len(s), g)] for s, g in zip(samples, strata)))
        if (b + 1) % stride == 0 or b + 1 == resamples:
            report_step("bootstrap", b + 1, resamples)
    return values


def bias_adjusted_interval(
    estimate: float, values: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """The bootstrap percentile interval shifted by the bootstrap's own bias (mean - estimate).

    Plug-in estimators such as FID are biased upwards, and resampling with replacement
    (duplicated rows) biases the bootstrap further, often putting every bootstrap value above
    the estimate; the plain percentile interval then misses the estimate, and Efron's
    bias-corrected (BC) interval collapses onto the smallest bootstrap value. Removing the
    bootstrap bias keeps the bootstrap spread and centres it on the estimate. With an unbiased
    bootstrap distribution it equals the percentile interval.
    """
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return float("nan"), float("nan")
    bias = float(values.mean()) - estimate
    alpha = (1 - confidence) / 2
    low, high = np.quantile(values, [alpha, 1 - alpha])
    return float(low - bias), float(high - bias)


def bootstrap_ci(
    statistic: Callable[..., float],
    samples: Sequence[np.ndarray],
    resamples: int,
    seed: int,
    confidence: float = CONFIDENCE,
    method: str = "bias_adjusted",
    strata: Sequence[np.ndarray | None] | None = None,
) -> tuple[float, float]:
    """Bootstrap CI of `statistic(*samples)`: `bias_adjusted` (default) or `percentile`; `strata`
    (one entry per sample set, None for i.i.d. rows) redraws rows within their strata.
    `resamples=0` gives (nan, nan): no interval, and gates then judge the value itself."""
    if resamples <= 0:
        return float("nan"), float("nan")
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        values = bootstrap_distribution(statistic, samples, resamples, seed, strata)
        if method == "percentile":
            alpha = (1 - confidence) / 2
            low, high = np.quantile(values, [alpha, 1 - alpha])
            return float(low), float(high)
        if method != "bias_adjusted":
            raise ValueError(f"unknown bootstrap method '{method}'; valid: bias_adjusted, percentile")
        return bias_adjusted_interval(statistic(*samples), values, confidence)


def t_interval(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Student-t interval of the mean of independent values (scipy): mean +- t * sd / sqrt(k).
    The Inception Score's splits are independent parts of one sample set, so the interval of their
    mean is exact under normality, whatever resampling would do to each split's p(y)."""
    from scipy import stats

    values = np.asarray(values, np.float64)
    if len(values) < 2 or not np.isfinite(values).all():
        return float("nan"), float("nan")
    low, high = stats.t.interval(confidence, len(values) - 1, loc=values.mean(), scale=stats.sem(values))
    return float(low), float(high)


def wilson_ci(successes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (scipy's implementation)."""
    from scipy.stats import binomtest

    if n == 0:
        return float("nan"), float("nan")
    ci = binomtest(int(successes), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def measurement_ci(
    low: float, high: float, floor: float | None = None, ceiling: float | None = None,
) -> tuple[float | None, float | None]:
    """A CI as a Measurement records it: (None, None) when there is none (bootstrap=0: gates then
    judge the value itself), the low end raised to `floor` and the high end lowered to `ceiling`
    for a statistic that cannot go beyond them (a re-centred bootstrap of a share can reach past 1)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return None, None
    low, high = float(low), float(high)
    return (max(low, floor) if floor is not None else low), (min(high, ceiling) if ceiling is not None else high)


def crossed_mean_variance(cells: np.ndarray) -> tuple[float, float]:
    """(variance, degrees of freedom) of the mean of `cells` [rows, columns], a two-way crossed
    random-effects design (a template x target-pair table: rows and columns both sampled from
    populations): Var(mean) = s_r^2 / R + s_c^2 / C + s_e^2 / (R C), estimated from the ANOVA mean
    squares with each component kept only where its mean square exceeds the residual one
    (MS_r > MS_e, MS_c > MS_e: method of moments, truncated at 0), which amounts to the estimator

        (MS_r + MS_c - MS_e) / RC,  MS_r / RC,  MS_c / RC  or  MS_e / RC,

    and the Satterthwaite degrees of freedom of that estimator (each mean square a scaled chi^2
    with R - 1, C - 1, (R - 1)(C - 1) degrees of freedom). With few columns the column term has
    few degrees of freedom and the t quantile widens the interval accordingly, where a bootstrap
    over G clusters shrinks the between-cluster variance by (G - 1) / G and uses a normal quantile.
    A table with one row or one column is a one-way design (the sample variance of its cells / n,
    n - 1 degrees of freedom); a single cell gives (nan, nan); a constant table (0, inf)."""
    cells = np.asarray(cells, np.float64)
    if cells.ndim != 2:
        raise ValueError(f"cells must be a 2-d table, got shape {cells.shape}")
    r, c = cells.shape
    if r * c < 2:
        return float("nan"), float("nan")
    if r == 1 or c == 1:
        flat = cells.ravel()
        var = float(flat.var(ddof=1)) / flat.size
        return var, (float(flat.size - 1) if var > 0 else float("inf"))
    grand, rows, cols = cells.mean(), cells.mean(axis=1), cells.mean(axis=0)
    rc = r * c
    ms_r = c * float(((rows - grand) ** 2).sum()) / (r - 1) / rc
    ms_c = r * float(((cols - grand) ** 2).sum()) / (c - 1) / rc
    df_r, df_c, df_e = r - 1, c - 1, (r - 1) * (c - 1)
    ms_e = float(((cells - rows[:, None] - cols[None, :] + grand) ** 2).sum()) / df_e / rc
    terms = [(1.0, ms_r, df_r)] if ms_r > ms_e else []
    terms += [(1.0, ms_c, df_c)] if ms_c > ms_e else []
    terms += [(1.0 - len(terms), ms_e, df_e)]
    var = sum(k * ms for k, ms, _ in terms)
    if var <= 0:
        return 0.0, float("inf")
    return var, var**2 / sum((k * ms) ** 2 / df for k, ms, df in terms)


def t_interval_around(estimate: float, variance: float, df: float, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """estimate +- t_df quantile * sqrt(variance) (scipy); (estimate, estimate) when the variance is
    0, (nan, nan) when it or the estimate is not finite."""
    from scipy import stats

    if not (np.isfinite(estimate) and np.isfinite(variance)) or variance < 0:
        return float("nan"), float("nan")
    if variance == 0:
        return float(estimate), float(estimate)
    half = float(stats.t.ppf(0.5 + confidence / 2, df)) * float(np.sqrt(variance)) if np.isfinite(df) else \
        float(stats.norm.ppf(0.5 + confidence / 2)) * float(np.sqrt(variance))
    return float(estimate - half), float(estimate + half)
