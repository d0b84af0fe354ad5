"""The distribution-level intervals of the quality checks cover what they claim, on a design
with a known answer (the quick version of benchmarks/interval_coverage.py).

Many independent replicates of a class-balanced generated set (as the sample store draws a
conditional model's samples: label i % K) are scored against one fixed reference with the
same statistics and resampling the checks use. Truth = the mean over replicates; spread = 3.92 x
their standard deviation. Everything is seeded, so the result is the same on every run; the
bounds leave several standard errors of the coverage estimate (about 0.015 at 160 replicates).
"""

from __future__ import annotations

import functools
from typing import Callable

import numpy as np
import pytest

from audit.metrics import (
    Manifolds,
    fid_from_features,
    inception_score_splits,
    kid,
    kid_resampled,
    sliced_wasserstein,
    sliced_wasserstein_resampled,
    stratified_bootstrap_counts,
)
from audit.stats import bias_adjusted_interval, bootstrap_ci, t_interval

REPLICATES, N, CLASSES, DIM, RESAMPLES = 160, 200, 4, 6, 200
CENTRES = np.random.default_rng(100).normal(scale=2.0, size=(CLASSES, DIM))
REAL = CENTRES[np.arange(300) % CLASSES] + np.random.default_rng(101).normal(size=(300, DIM))
STRATA = np.arange(N) % CLASSES


def generated(replicate: int) -> np.ndarray:
    """A class-balanced generated set: the real mixture, slightly too wide (a real, small gap)."""
    rng = np.random.default_rng(1000 + replicate)
    return CENTRES[STRATA] + 1.15 * rng.normal(size=(N, DIM))


def _resampled(values: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray, int, np.ndarray | None], tuple[float, float]]:
    def interval(x: np.ndarray, seed: int, strata: np.ndarray | None) -> tuple[float, float]:
        return bias_adjusted_interval(float(values(np.ones((1, len(x))))[0]), values(stratified_bootstrap_counts(len(x), RESAMPLES, seed, strata)))
    return interval


def fid_interval(x: np.ndarray, seed: int, strata: np.ndarray | None) -> tuple[float, float]:
    return bootstrap_ci(lambda f: fid_from_features(f, REAL), [x], RESAMPLES, seed, strata=[strata])


def kid_interval(x: np.ndarray, seed: int, strata: np.ndarray | None) -> tuple[float, float]:
    return _resampled(lambda w: kid_resampled(x, REAL, w, gram_dtype=np.float64))(x, seed, strata)


def swd_interval(x: np.ndarray, seed: int, strata: np.ndarray | None) -> tuple[float, float]:
    return _resampled(lambda w: sliced_wasserstein_resampled(x, REAL, w, projections=32))(x, seed, strata)


@functools.cache
def manifolds_of(x_bytes: bytes) -> Manifolds:
    """The k-NN build of one generated set (passed as bytes, to be cached): the three PRDC tests
    below share it, as the checks do."""
    return Manifolds.build(REAL, np.frombuffer(x_bytes).reshape(N, DIM), 5)


@functools.cache
def prdc_intervals(x_bytes: bytes, seed: int, stratified: bool) -> dict[str, tuple[float, float]]:
    """Intervals of precision, density and coverage of one generated set from one set of resamples."""
    m = manifolds_of(x_bytes)
    point = m.resampled(np.ones((1, N)))
    draws = m.resampled(stratified_bootstrap_counts(N, RESAMPLES, seed, STRATA if stratified else None))
    return {k: bias_adjusted_interval(float(point[k][0]), draws[k]) for k in ("precision", "density", "coverage")}


def prdc_value(metric: str) -> Callable[[np.ndarray], float]:
    return lambda x: manifolds_of(x.tobytes()).values()[metric]


def prdc_interval(metric: str) -> Callable[[np.ndarray, int, np.ndarray | None], tuple[float, float]]:
    def interval(x: np.ndarray, seed: int, strata: np.ndarray | None) -> tuple[float, float]:
        assert strata is None or np.array_equal(strata, STRATA)
        return prdc_intervals(x.tobytes(), seed, strata is not None)[metric]
    return interval


METRICS: dict[str, tuple[Callable[[np.ndarray], float], Callable[[np.ndarray, int, np.ndarray | None], tuple[float, float]]]] = {
    "fid": (lambda x: fid_from_features(x, REAL), fid_interval),
    "kid": (lambda x: kid(x, REAL, gram_dtype=np.float64), kid_interval),
    "swd": (lambda x: sliced_wasserstein(x, REAL, projections=32), swd_interval),
    "precision": (prdc_value("precision"), prdc_interval("precision")),
    "density": (prdc_value("density"), prdc_interval("density")),
    "coverage": (prdc_value("coverage"), prdc_interval("coverage")),
}


def coverage_and_width(metric: str, stratified: bool) -> tuple[float, float]:
    value_of, interval_of = METRICS[metric]
    sets = [generated(r) for r in range(REPLICATES)]
    values = np.array([value_of(x) for x in sets])
    intervals = np.array([interval_of(x, r, STRATA if stratified else None) for r, x in enumerate(sets)])
    truth = values.mean()
    covered = (intervals[:, 0] <= truth) & (truth <= intervals[:, 1])
    return float(covered.mean()), float(np.median(intervals[:, 1] - intervals[:, 0]) / (3.92 * values.std(ddof=1)))


@pytest.mark.parametrize("metric", sorted(METRICS))
def test_stratified_interval_covers_and_matches_the_spread(metric):
    coverage, width = coverage_and_width(metric, stratified=True)
    assert coverage >= 0.9, f"{metric}: coverage {coverage:.2f}"
    assert 1 / 1.5 <= width <= 1.5, f"{metric}: width {width:.2f} x the spread over replicates"


def test_iid_resampling_of_a_balanced_design_is_too_wide():
    """Why the checks resample within classes: freely resampled rows mix the classes, adding a
    between-class variance the balanced design does not have."""
    _, width = coverage_and_width("fid", stratified=False)
    assert width > 1.5


def test_inception_score_t_interval_over_splits_covers():
    """Logits of a confident 4-class classifier on class-balanced samples: the field's 10-split
    Inception Score with a Student-t interval over its splits."""
    scores, intervals = [], []
    for r in range(REPLICATES):
        rng = np.random.default_rng(5000 + r)
        logits = 3.0 * np.eye(CLASSES)[STRATA] + rng.normal(size=(N, CLASSES))
        splits = inception_score_splits(logits)
        scores.append(splits.mean())
        intervals.append(t_interval(splits))
    scores, intervals = np.array(scores), np.array(intervals)
    covered = (intervals[:, 0] <= scores.mean()) & (scores.mean() <= intervals[:, 1])
    width = np.median(intervals[:, 1] - intervals[:, 0]) / (3.92 * scores.std(ddof=1))
    assert covered.mean() >= 0.9 and 1 / 1.5 <= width <= 1.5
