"""Detection metrics against independent computations on fixed inputs, plus their properties."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from audit.deepfake.metrics import detection_intervals, detection_metrics, equal_error_rate


@pytest.fixture(scope="module")
def overlapping() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(0, 1, 300), rng.normal(1, 1, 200)


def brute_force_eer(real: np.ndarray, fake: np.ndarray) -> float:
    """The smallest max(FPR, FNR) over every threshold that can separate the scores."""
    best = 1.0
    for t in np.r_[np.unique(np.r_[real, fake]), np.inf]:
        fpr, fnr = np.mean(real >= t), np.mean(fake < t)
        best = min(best, max(fpr, fnr))
    return best


def test_auc_is_the_mann_whitney_u_statistic(overlapping):
    real, fake = overlapping
    u = mannwhitneyu(fake, real, alternative="two-sided").statistic
    assert detection_metrics(real, fake, 0.5)["auc"] == pytest.approx(u / (len(real) * len(fake)), abs=1e-12)


def test_auc_counts_ties_as_half():
    real, fake = np.array([0.1, 0.5, 0.5]), np.array([0.5, 0.9])
    pairs = [(f > r) + 0.5 * (f == r) for f in fake for r in real]
    assert detection_metrics(real, fake, 0.5)["auc"] == pytest.approx(np.mean(pairs))


def test_average_precision_by_hand():
    """Sorted by score: fake 0.9, real 0.8, fake 0.7, real 0.4, fake 0.3. AP = sum over fakes
    of precision at its rank / number of fakes = (1/1 + 2/3 + 3/5) / 3."""
    real, fake = np.array([0.8, 0.4]), np.array([0.9, 0.7, 0.3])
    assert detection_metrics(real, fake, 0.5)["average_precision"] == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)


def test_eer_on_a_hand_example():
    """At 0.4 one real (0.4) is called fake and one fake (0.35) is missed: FPR = FNR = 1/4."""
    real, fake = np.array([0.1, 0.2, 0.3, 0.4]), np.array([0.35, 0.5, 0.6, 0.7])
    eer, threshold = equal_error_rate(real, fake)
    assert eer == pytest.approx(0.25) and threshold == pytest.approx(0.4)


def test_eer_matches_a_brute_force_threshold_sweep(overlapping):
    real, fake = overlapping
    eer, threshold = equal_error_rate(real, fake)
    # interpolation lands between the two sweep points that bracket FPR = FNR
    assert eer == pytest.approx(brute_force_eer(real, fake), abs=1 / len(fake))
    assert abs(np.mean(real >= threshold) - np.mean(fake < threshold)) <= 2 / len(fake)


def test_accuracy_and_rates_at_threshold_by_counting(overlapping):
    real, fake = overlapping
    m = detection_metrics(real, fake, 0.7)
    tpr = sum(1 for s in fake if s >= 0.7) / len(fake)
    fpr = sum(1 for s in real if s >= 0.7) / len(real)
    assert m["tpr"] == pytest.approx(tpr) and m["fpr"] == pytest.approx(fpr)
    assert m["accuracy"] == pytest.approx(((1 - fpr) + tpr) / 2)


def test_perfect_separation():
    real, fake = np.linspace(0, 0.4, 50), np.linspace(0.6, 1, 30)
    m = detection_metrics(real, fake, 0.5)
    assert m["auc"] == 1 and m["average_precision"] == pytest.approx(1) and m["eer"] == 0 and m["accuracy"] == 1
    eer, threshold = equal_error_rate(real, fake)
    assert eer == 0 and 0.4 < threshold <= 0.6


def test_identical_distributions_give_an_auc_interval_covering_one_half():
    rng = np.random.default_rng(1)
    real, fake = rng.uniform(size=400), rng.uniform(size=400)
    ci = detection_intervals(real, fake, 0.5, resamples=300, seed=0)
    assert ci["auc"][0] < 0.5 < ci["auc"][1]
    assert ci["eer"][0] < 0.5 <= ci["eer"][1] + 0.05


def test_intervals_cover_the_estimates_and_stay_in_the_unit_interval(overlapping):
    real, fake = overlapping
    m = detection_metrics(real, fake, 0.5)
    ci = detection_intervals(real, fake, 0.5, resamples=200, seed=0)
    assert set(ci) == set(m)
    for key, (low, high) in ci.items():
        assert 0 <= low <= m[key] <= high <= 1, key
    assert ci == detection_intervals(real, fake, 0.5, resamples=200, seed=0)


def test_empty_scores_are_refused():
    with pytest.raises(ValueError, match="0 fake"):
        detection_metrics(np.array([0.1]), np.array([]), 0.5)
