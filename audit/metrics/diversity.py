"""Diversity, memorization and class-histogram statistics (pure numpy).

- `mean_pairwise_distance`: mean Euclidean distance over all pairs of distinct rows.
- `near_duplicate_rate`: share of generated images whose nearest training image is closer than
  `copy_threshold`, the q-quantile (default 1%) of the nearest-training-image distances of
  held-out real images: a generator that draws fresh images from the data distribution scores
  about q, one that copies training images scores near 1. Held-out images with a twin in the
  training split (distance at most `exact_copy_floor`, one grey level per pixel) are left out of
  the quantile and the threshold is never below that floor: a reference with duplicates across
  its splits would otherwise give a threshold of 0, below which not even exact copies fall.
- `exact_copy_tolerance`: the distance under which a sample counts as a verbatim copy, far below
  where any fresh (held-out) image falls.
- class histograms of predicted labels: coverage (classes holding at least a minimum share),
  entropy (nats, or normalized by log K) and KL divergence with add-alpha smoothing.
"""

from __future__ import annotations

import numpy as np

COPY_QUANTILE = 0.01


def mean_pairwise_distance(x: np.ndarray, distances: np.ndarray | None = None) -> float:
    """Mean Euclidean distance between distinct rows of x [N, D] (pairs i != j)."""
    from scipy.spatial.distance import pdist

    if distances is not None:
        n = len(distances)
        return float(distances.sum() / (n * (n - 1)))
    x = np.asarray(x, np.float64)
    if len(x) < 2:
        raise ValueError(f"mean pairwise distance needs at least 2 rows, got {len(x)}")
    return float(pdist(x.reshape(len(x), -1)).mean())


def mean_pairwise_distance_resampled(distances: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """`mean_pairwise_distance` with rows weighted by each row of `counts` [B, n] (bootstrap counts
    or 0/1 masks), from the full distance matrix: a duplicated row meets its copy at distance 0
    and counts as a pair, as it would in the plain statistic of the drawn rows."""
    c = np.asarray(counts, np.float64)
    m = c.sum(axis=1)
    return np.einsum("bi,bi->b", c @ distances, c) / (m * (m - 1))


def nearest_distances(x: np.ndarray, reference: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """Euclidean distance from each row of x (flattened) to its nearest row of `reference`."""
    from scipy.spatial.distance import cdist

    x = np.asarray(x, np.float64).reshape(len(x), -1)
    reference = np.asarray(reference, np.float64).reshape(len(reference), -1)
    return np.concatenate([cdist(x[i : i + chunk], reference).min(axis=1) for i in range(0, len(x), chunk)])


GREY_LEVEL = 1 / 255
"""One step of an 8-bit pixel in [0, 1] images."""
EXACT_COPY_FRACTION = 0.5
"""A verbatim copy sits closer to a training image than half the smallest held-out distance."""


def exact_copy_floor(values_per_image: int) -> float:
    """L2 distance of one grey level RMS per pixel value: closer than this two [0, 1] images are
    the same picture up to 8-bit rounding (a twin, a copy)."""
    return float(np.sqrt(values_per_image) * GREY_LEVEL)


def _apart(heldout_nn: np.ndarray, floor: float) -> np.ndarray:
    """The held-out distances above `floor` (held-out images with no twin in the training split);
    ValueError when there are none."""
    h = np.asarray(heldout_nn, np.float64).reshape(-1)
    apart = h[h > floor]
    if len(apart) == 0:
        raise ValueError(f"all {len(h)} held-out images have a twin in the training split (L2 <= {floor:.4g}): "
                         "the reference gives no distance at which fresh images fall")
    return apart


def copy_threshold(heldout_nn: np.ndarray, quantile: float = COPY_QUANTILE, floor: float = 0.0) -> float:
    """The `quantile` of held-out real images' nearest-training-image distances above `floor`:
    above the floor (so positive), whatever duplicates the reference's splits share."""
    return float(np.quantile(_apart(heldout_nn, floor), quantile))


def exact_copy_tolerance(heldout_nn: np.ndarray, floor: float) -> float:
    """`EXACT_COPY_FRACTION` of the smallest held-out distance above `floor`, and at least `floor`:
    a fresh image of the data distribution falls this close to a training image about never."""
    return max(EXACT_COPY_FRACTION * float(_apart(heldout_nn, floor).min()), float(floor))


def copies_below(generated_nn: np.ndarray, threshold: float, floor: float = 0.0) -> np.ndarray:
    """Which generated rows count as copies: nearest-training distance below `threshold`, or at
    most `floor` (an exact copy counts whatever the threshold)."""
    nn = np.asarray(generated_nn, np.float64)
    return (nn < threshold) | (nn <= floor)


def near_duplicate_rate(generated_nn: np.ndarray, threshold: float, floor: float = 0.0) -> float:
    """Share of generated rows whose nearest-training distance is below `threshold` (or at most `floor`)."""
    return float(copies_below(generated_nn, threshold, floor).mean())


def class_histogram(predictions: np.ndarray, classes: int) -> np.ndarray:
    """Share of predictions in each of `classes` classes (sums to 1)."""
    predictions = np.asarray(predictions)
    return np.bincount(predictions, minlength=classes)[:classes] / len(predictions)


def default_min_share(classes: int) -> float:
    """A class counts as covered when it holds at least a quarter of its uniform share."""
    return 0.25 / classes


def class_coverage(predictions: np.ndarray, classes: int, min_share: float | None = None) -> float:
    """Share of the classes holding at least `min_share` of the predictions."""
    min_share = default_min_share(classes) if min_share is None else min_share
    return float((class_histogram(predictions, classes) >= min_share).mean())


def entropy(p: np.ndarray) -> float:
    """Shannon entropy in nats (0 log 0 = 0)."""
    p = np.asarray(p, np.float64)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def class_entropy(predictions: np.ndarray, classes: int, normalized: bool = True) -> float:
    """Entropy of the predicted-class histogram, in nats or divided by log(classes) (1 = uniform)."""
    h = entropy(class_histogram(predictions, classes))
    return h / np.log(classes) if normalized else h


def smoothed_histogram(predictions: np.ndarray, classes: int, alpha: float = 0.5) -> np.ndarray:
    """Class shares with `alpha` pseudo-counts per class (alpha=0.5: Krichevsky-Trofimov)."""
    counts = np.bincount(np.asarray(predictions), minlength=classes)[:classes] + alpha
    return counts / counts.sum()


def kl_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """KL(p || q) in nats; inf where q = 0 < p."""
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    support = p > 0
    with np.errstate(divide="ignore"):
        return float((p[support] * np.log(p[support] / q[support])).sum())


def class_kl(reference_predictions: np.ndarray, predictions: np.ndarray, classes: int, alpha: float = 0.5) -> float:
    """KL(reference histogram || generated histogram), both smoothed with `alpha` pseudo-counts:
    large when generated samples miss classes the reference has."""
    return kl_divergence(smoothed_histogram(reference_predictions, classes, alpha), smoothed_histogram(predictions, classes, alpha))
