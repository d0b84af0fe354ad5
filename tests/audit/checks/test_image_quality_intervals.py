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


# --- class histogram: a near-perfect evaluator on a class-balanced model ----------------------

HIST_CLASSES, HIST_N, HIST_REPLICATES = 10, 1000, 300
HIST_STRATA = np.arange(HIST_N) % HIST_CLASSES
HIST_REFERENCE = np.repeat(np.arange(HIST_CLASSES), [99, 102, 99, 101, 101, 101, 101, 100, 96, 102])


def histogram_set(replicate: int, error: float) -> np.ndarray:
    """Predicted classes of a class-balanced set: each sample classified as its own class, else
    (probability `error`) as a neighbouring one; at error 0.002 a set holds ~2 misclassified samples,
    none in 13% of sets (the bundled GAN: ~1.7, none in 9 of 50 seeds)."""
    rng = np.random.default_rng(7000 + replicate)
    slip = (rng.random(HIST_N) < error) * rng.choice([-1, 1], HIST_N)
    return (HIST_STRATA + slip) % HIST_CLASSES


@functools.cache
def histogram_resamples() -> np.ndarray:
    """[RESAMPLES, HIST_N] counts of the rows `bootstrap_ci(.., strata=[HIST_STRATA])` draws (seed 11)."""
    return stratified_bootstrap_counts(HIST_N, RESAMPLES, 11, HIST_STRATA)


def class_statistics(alpha: float = 0.5) -> dict[str, tuple[Callable[[np.ndarray], float], Callable[[np.ndarray], tuple[float, float]]]]:
    """(value, interval) of each class-histogram check as the checks compute and clip them, and
    the stratified percentile bootstrap they used before (bias-adjusted, 200 resamples)."""
    from scipy.stats import entropy as scipy_entropy

    from audit.metrics import class_entropy, class_entropy_interval, class_kl, class_kl_interval

    entropy = lambda p: class_entropy(p, HIST_CLASSES)
    kl = lambda p: class_kl(HIST_REFERENCE, p, HIST_CLASSES, alpha)
    reference = np.bincount(HIST_REFERENCE, minlength=HIST_CLASSES) + alpha

    def boot(value: Callable[[np.ndarray], float], of_histograms: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], tuple[float, float]]:
        def interval(p: np.ndarray) -> tuple[float, float]:
            return bias_adjusted_interval(value(p), of_histograms(histogram_resamples() @ np.eye(HIST_CLASSES)[p]))
        return interval

    boot_entropy = boot(entropy, lambda h: scipy_entropy(h, axis=1) / np.log(HIST_CLASSES))
    boot_kl = boot(kl, lambda h: scipy_entropy(np.broadcast_to(reference, h.shape), h + alpha, axis=1))
    return {
        "entropy": (entropy, lambda p: tuple(np.clip(class_entropy_interval(p, HIST_CLASSES, HIST_STRATA), 0, 1))),
        "kl": (kl, lambda p: tuple(np.maximum(class_kl_interval(HIST_REFERENCE, p, HIST_CLASSES, HIST_STRATA, alpha), 0))),
        "entropy_bootstrap": (entropy, lambda p: tuple(np.clip(boot_entropy(p), 0, 1))),
        "kl_bootstrap": (kl, lambda p: tuple(np.maximum(boot_kl(p), 0))),
    }


@functools.cache
def histogram_truth(statistic: str, error: float) -> tuple[float, float]:
    """(mean, 3.92 x sd) of the statistic over 2000 sets."""
    value_of, _ = class_statistics()[statistic]
    values = np.array([value_of(histogram_set(r, error)) for r in range(2000)])
    return float(values.mean()), float(3.92 * values.std(ddof=1))


def histogram_coverage(statistic: str, error: float, replicates: int = HIST_REPLICATES) -> tuple[float, float]:
    """Coverage of the mean over 2000 sets, and median width / (3.92 x their sd)."""
    _, interval_of = class_statistics()[statistic]
    truth, spread = histogram_truth(statistic.removesuffix("_bootstrap"), error)
    intervals = np.array([interval_of(histogram_set(r, error)) for r in range(replicates)])
    covered = (intervals[:, 0] <= truth) & (truth <= intervals[:, 1])
    return float(covered.mean()), float(np.median(intervals[:, 1] - intervals[:, 0]) / spread)


@pytest.mark.parametrize("statistic", ["entropy", "kl"])
@pytest.mark.parametrize("error", [0.002, 0.15])
def test_class_histogram_interval_covers_at_the_boundary_and_away_from_it(statistic, error):
    """Rare misclassifications (entropy at its ceiling, often no misclassified sample at all) and a
    weak evaluator (15% misclassified: the smooth case)."""
    coverage, width = histogram_coverage(statistic, error)
    assert coverage >= 0.9, f"{statistic} at error {error}: coverage {coverage:.2f}"
    assert 1 / 1.5 <= width <= 1.5, f"{statistic} at error {error}: width {width:.2f} x the spread"


@pytest.mark.parametrize("statistic", ["entropy", "kl"])
def test_bootstrap_of_the_class_histogram_misses_at_the_boundary(statistic):
    """Why the checks do not resample: with no misclassified sample every resample equals the
    estimate, and the interval is a point away from the mean."""
    coverage, _ = histogram_coverage(f"{statistic}_bootstrap", 0.002, replicates=100)
    assert coverage < 0.9, coverage


def collapsing_set(replicate: int, kept: float) -> np.ndarray:
    """A class-balanced set whose class 3 is mostly drawn as class 5: only a share `kept` of its
    100 samples look like 3, so class 3 sits near class coverage's threshold (25 of 1000)."""
    rng = np.random.default_rng(9000 + replicate)
    predictions = histogram_set(replicate, 0.002)
    lost = (HIST_STRATA == 3) & (rng.random(HIST_N) >= kept)
    return np.where(lost, 5, predictions)


@functools.cache
def class_coverage_truth(kept: float) -> float:
    from audit.metrics import class_coverage

    return float(np.mean([class_coverage(collapsing_set(r, kept), HIST_CLASSES) for r in range(2000)]))


def class_coverage_covered(kept: float, interval_of: Callable[[np.ndarray], tuple[float, float]], replicates: int) -> float:
    truth = class_coverage_truth(kept)
    intervals = np.array([interval_of(collapsing_set(r, kept)) for r in range(replicates)])
    return float(((intervals[:, 0] <= truth) & (truth <= intervals[:, 1])).mean())


@pytest.mark.parametrize("kept", [0.2, 0.3, 0.35])
def test_class_coverage_interval_covers_near_the_threshold(kept):
    """Class 3 below (20), just above (30) and above (35) the threshold count of 25. The width is
    not compared with the spread: the value moves in steps of 1/classes, while its mean over fresh
    sets (what the interval covers) is estimated from the counts themselves."""
    from audit.metrics import class_coverage_interval

    coverage = class_coverage_covered(kept, lambda p: class_coverage_interval(p, HIST_CLASSES, HIST_STRATA), HIST_REPLICATES)
    assert coverage >= 0.9, f"kept {kept}: coverage {coverage:.2f}"


def test_percentile_bootstrap_of_class_coverage_misses_near_the_threshold():
    """The interval the check used before: with class 3 at ~35 of 1000 almost no resample drops
    it below 25, the interval is the point 1.0, and the mean over fresh sets is just below."""
    from audit.metrics import class_coverage

    def percentile(p: np.ndarray) -> tuple[float, float]:
        histograms = histogram_resamples() @ np.eye(HIST_CLASSES)[p]
        values = (histograms / HIST_N >= 0.25 / HIST_CLASSES).mean(1)
        assert values[0] == class_coverage(p[np.repeat(np.arange(HIST_N), histogram_resamples()[0])], HIST_CLASSES)
        return tuple(np.quantile(values, [0.025, 0.975]))

    assert class_coverage_covered(0.35, percentile, 100) < 0.9


def test_class_histogram_checks_report_these_intervals():
    """The checks' own code: value and (clipped) interval from audit.metrics.histogram_interval,
    with the generated rows' strata."""
    from types import SimpleNamespace

    from audit.checks import check_spec
    from audit.metrics import class_coverage_interval

    predictions = histogram_set(3, 0.002)
    statistics = class_statistics()
    ctx = SimpleNamespace(
        bootstrap=RESAMPLES, strata=lambda: HIST_STRATA, require_classes=lambda what: HIST_CLASSES,
        embedding=lambda: SimpleNamespace(predictions=predictions),
        real_embedding=lambda split="train": SimpleNamespace(predictions=HIST_REFERENCE),
    )
    for check, statistic in (("quality.class_entropy", "entropy"), ("quality.class_kl", "kl")):
        m = check_spec(check).fn(ctx)
        value_of, interval_of = statistics[statistic]
        assert m.value == pytest.approx(value_of(predictions))
        assert (m.ci_low, m.ci_high) == pytest.approx(interval_of(predictions))
        assert m.ci_low < m.ci_high
    near = collapsing_set(0, 0.3)
    ctx.embedding = lambda: SimpleNamespace(predictions=near)
    m = check_spec("quality.class_coverage").fn(ctx)
    assert (m.ci_low, m.ci_high) == class_coverage_interval(near, HIST_CLASSES, HIST_STRATA)
    assert m.ci_low < m.ci_high
