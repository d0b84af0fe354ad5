"""Detection metrics from detector scores: real images are the negatives, fakes the positives.

A score at or above `threshold` means "fake". AUC and average precision come from
scikit-learn; the equal error rate is read off scikit-learn's ROC curve, interpolated linearly
between the two operating points where the false positive rate overtakes the false negative rate.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from audit.stats import bootstrap_ci, wilson_ci

__all__ = [
    "METRICS", "auc", "average_precision", "balanced_accuracy", "detection_intervals", "detection_metrics",
    "equal_error_rate", "rates_at",
]

METRICS = ("auc", "average_precision", "eer", "accuracy", "tpr", "fpr")


def _labelled(real: np.ndarray, fake: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels (0 real, 1 fake) and scores, concatenated."""
    real, fake = np.asarray(real, dtype=np.float64), np.asarray(fake, dtype=np.float64)
    if real.size == 0 or fake.size == 0:
        raise ValueError(f"detection metrics need real and fake scores; got {real.size} real and {fake.size} fake")
    return np.r_[np.zeros(real.size), np.ones(fake.size)], np.r_[real, fake]


def auc(real: np.ndarray, fake: np.ndarray) -> float:
    """Area under the ROC curve: P(score of a fake > score of a real), ties counting half."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(*_labelled(real, fake)))


def average_precision(real: np.ndarray, fake: np.ndarray) -> float:
    """Average precision with fakes as the positive class (step-wise area under precision-recall)."""
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(*_labelled(real, fake)))


def equal_error_rate(real: np.ndarray, fake: np.ndarray) -> tuple[float, float]:
    """(EER, threshold): the error rate where false positive and false negative rates meet.

    Between the last ROC point with FPR < FNR and the first with FPR >= FNR both rates are
    interpolated linearly; the threshold is interpolated the same way (or taken at the second
    point when the first is sklearn's `inf` start).
    """
    from sklearn.metrics import roc_curve

    fpr, tpr, thresholds = roc_curve(*_labelled(real, fake), drop_intermediate=False)
    gap = fpr - (1 - tpr)
    i = int(np.argmax(gap >= 0))
    t = gap[i - 1] / (gap[i - 1] - gap[i])
    eer = fpr[i - 1] + t * (fpr[i] - fpr[i - 1])
    if np.isfinite(thresholds[i - 1]):
        threshold = thresholds[i - 1] + t * (thresholds[i] - thresholds[i - 1])
    else:
        threshold = thresholds[i]
    return float(eer), float(threshold)


def rates_at(real: np.ndarray, fake: np.ndarray, threshold: float) -> tuple[float, float]:
    """(TPR, FPR) when every score >= `threshold` is called fake."""
    return float(np.mean(np.asarray(fake) >= threshold)), float(np.mean(np.asarray(real) >= threshold))


def balanced_accuracy(real: np.ndarray, fake: np.ndarray, threshold: float) -> float:
    """Mean of the true negative rate on real and the true positive rate on fake at `threshold`."""
    tpr, fpr = rates_at(real, fake, threshold)
    return (tpr + 1 - fpr) / 2


def detection_metrics(real: np.ndarray, fake: np.ndarray, threshold: float) -> dict[str, float]:
    """AUC, average precision, EER, and balanced accuracy, TPR and FPR at `threshold`."""
    metrics = {
        "auc": auc(real, fake),
        "average_precision": average_precision(real, fake),
        "eer": equal_error_rate(real, fake)[0],
        "accuracy": balanced_accuracy(real, fake, threshold),
    }
    metrics["tpr"], metrics["fpr"] = rates_at(real, fake, threshold)
    return metrics


def _statistics(threshold: float) -> dict[str, Callable[[np.ndarray, np.ndarray], float]]:
    return {
        "auc": auc,
        "average_precision": average_precision,
        "eer": lambda r, f: equal_error_rate(r, f)[0],
        "accuracy": lambda r, f: balanced_accuracy(r, f, threshold),
    }


def detection_intervals(
    real: np.ndarray, fake: np.ndarray, threshold: float, resamples: int, seed: int
) -> dict[str, tuple[float, float]]:
    """95% CIs for every metric of `detection_metrics`.

    AUC, average precision, EER and balanced accuracy: bootstrap with real and fake resampled
    separately (the two sample sizes are fixed by design), clipped to [0, 1]. TPR and FPR are
    binomial proportions at a fixed threshold: Wilson intervals, which stay informative at 0 or
    1 where a bootstrap collapses to a point.
    """
    real, fake = np.asarray(real, dtype=np.float64), np.asarray(fake, dtype=np.float64)
    out: dict[str, tuple[float, float]] = {}
    for key, statistic in _statistics(threshold).items():
        low, high = bootstrap_ci(statistic, (real, fake), resamples, seed)
        out[key] = (float(np.clip(low, 0, 1)), float(np.clip(high, 0, 1))) if np.isfinite(low) else (low, high)
    out["tpr"] = wilson_ci(int(np.sum(fake >= threshold)), fake.size)
    out["fpr"] = wilson_ci(int(np.sum(real >= threshold)), real.size)
    return out
