"""Confidence intervals of class-histogram statistics (normalised entropy and KL from a reference
by the second-order delta method on the stratified multinomial histogram; class coverage by a
normal interval of each class's count).

What they cover: the mean of the statistic over fresh generated sets of the same n drawn the same
way (class-balanced for a conditional model: the histogram then varies only through how the
evaluator classifies each stratum's samples), the reference histogram fixed.

Why not the bootstrap: these statistics sit at a boundary on a good model. Near a uniform
histogram the entropy's gradient vanishes, so its spread is a quadratic form in the histogram's
noise; a bootstrap around the observed histogram adds a linear term of that noise and is about
sqrt(3) times too wide. And when the evaluator misclassifies rarely, a set often holds no
misclassified sample, every resample equals the estimate and the interval collapses to a point
(the bundled GAN: 9 of 50 seeds). Both are known failures of resampling at a boundary.

For entropy and KL the interval instead takes the histogram's covariance from the per-stratum class table, with
z^2 pseudo-observations per set spread evenly over each stratum's classes (the Wilson /
Agresti-Coull idea: evaluate the variance a little away from the boundary, so an unseen
misclassification still has variance; the pseudo-counts vanish relative to n), and the
statistic's variance to second order, value +- z * sd:

    Var T ~ g' V g + tr((H V)^2) / 2

with g' V g estimated without its bias (the observed gradient's own noise adds tr((H V)^2)),
floored at zero. Class coverage, a step function, gets its own interval (`class_coverage_interval`).
Coverage is measured in benchmarks/interval_coverage.py, tests/audit/metrics/test_histogram_interval.py
and tests/audit/checks/test_image_quality_intervals.py.
"""

from __future__ import annotations

import numpy as np

from audit.metrics.resample import usable_strata
from audit.stats import CONFIDENCE


def _z(confidence: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + confidence / 2))


def class_table(predictions: np.ndarray, classes: int, strata: np.ndarray | None = None) -> np.ndarray:
    """[strata, classes] counts of predicted classes within each stratum (one row when `strata` is
    None, or when a stratum holds too few rows to estimate its own class shares: `usable_strata`)."""
    predictions = np.asarray(predictions)
    if strata is not None and len(strata) != len(predictions):
        raise ValueError(f"strata has {len(strata)} labels for {len(predictions)} predictions")
    strata = usable_strata(strata)
    if strata is None:
        return np.bincount(predictions, minlength=classes)[None, :classes].astype(np.float64)
    return np.stack([np.bincount(predictions[strata == s], minlength=classes)[:classes] for s in np.unique(strata)]).astype(np.float64)


def histogram_covariance(table: np.ndarray, confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """(expected counts [K], covariance [K, K]) of the class histogram of a fresh set drawn with
    the same strata sizes: a sum of independent multinomials, one per stratum, with each stratum's
    class shares smoothed by its part of z^2 pseudo-observations (spread evenly over its classes)."""
    table = np.asarray(table, np.float64)
    sizes = table.sum(1)
    pseudo = _z(confidence) ** 2 * sizes / sizes.sum()
    shares = (table + pseudo[:, None] / table.shape[1]) / (sizes + pseudo)[:, None]
    expected = (shares * sizes[:, None]).sum(0)
    covariance = np.diag(expected) - np.einsum("s,sk,sl->kl", sizes, shares, shares)
    return expected, covariance


def delta_interval(estimate: float, gradient: np.ndarray, hessian: np.ndarray, covariance: np.ndarray,
                   confidence: float = CONFIDENCE) -> tuple[float, float]:
    """estimate +- z * sd, sd from the second-order delta method: the linear term g'Vg less its
    plug-in bias tr((HV)^2) (floored at 0), plus the quadratic term's tr((HV)^2) / 2."""
    hv = hessian @ covariance
    quadratic = float(np.trace(hv @ hv))
    linear = float(gradient @ covariance @ gradient)
    sd = float(np.sqrt(max(linear - quadratic, 0.0) + quadratic / 2))
    z = _z(confidence)
    return estimate - z * sd, estimate + z * sd


def class_entropy_interval(predictions: np.ndarray, classes: int, strata: np.ndarray | None = None,
                           confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Interval of the normalised entropy of the predicted-class histogram (not clipped to [0, 1])."""
    from audit.metrics.diversity import class_entropy

    expected, covariance = histogram_covariance(class_table(predictions, classes, strata), confidence)
    n, scale = expected.sum(), np.log(classes)
    gradient = -(np.log(expected / n) + 1) / (n * scale)
    hessian = -np.diag(1 / expected) / (n * scale)
    return delta_interval(class_entropy(predictions, classes), gradient, hessian, covariance, confidence)


def class_kl_interval(reference_predictions: np.ndarray, predictions: np.ndarray, classes: int,
                      strata: np.ndarray | None = None, alpha: float = 0.5,
                      confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Interval of KL(reference histogram || generated histogram), both smoothed with `alpha`
    (as `class_kl`), the reference fixed (not clipped at 0)."""
    from audit.metrics.diversity import class_kl, smoothed_histogram

    reference = smoothed_histogram(reference_predictions, classes, alpha)
    expected, covariance = histogram_covariance(class_table(predictions, classes, strata), confidence)
    gradient = -reference / (expected + alpha)
    hessian = np.diag(reference / (expected + alpha) ** 2)
    return delta_interval(class_kl(reference_predictions, predictions, classes, alpha), gradient, hessian, covariance, confidence)


def count_threshold(min_share: float, n: int) -> int:
    """The smallest count c with c / n >= min_share (the test `class_coverage` makes, floats included)."""
    c = int(np.ceil(min_share * n))
    while c > 0 and (c - 1) / n >= min_share:
        c -= 1
    while c / n < min_share:
        c += 1
    return c


def class_coverage_interval(predictions: np.ndarray, classes: int, strata: np.ndarray | None = None,
                            min_share: float | None = None, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Interval of the mean over fresh sets of the share of classes holding at least `min_share`.

    That mean is the average over classes of P(class count >= threshold), each a smooth function
    of the class's expected count; its interval maps the count's normal interval through
    Phi((count + 1/2 - threshold) / sd), the sd evaluated at no less than the threshold (the score
    idea: a class seen rarely may still reach it). The value, a multiple of 1/classes, is always
    inside: the interval is widened to hold it.
    """
    from scipy.stats import norm

    from audit.metrics.diversity import class_coverage, default_min_share

    share = default_min_share(classes) if min_share is None else float(min_share)
    table = class_table(predictions, classes, strata)
    expected, covariance = histogram_covariance(table, confidence)
    threshold = count_threshold(share, len(predictions))
    sd = np.sqrt(np.diag(covariance) * np.maximum(expected, threshold) / expected)
    distance = (table.sum(0) + 0.5 - threshold) / sd
    z = _z(confidence)
    value = class_coverage(predictions, classes, share)
    return min(float(norm.cdf(distance - z).mean()), value), max(float(norm.cdf(distance + z).mean()), value)
