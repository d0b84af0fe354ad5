"""Distance to closest record (DCR) of table rows, the synthetic-data literature's memorisation
measure (e.g. SDMetrics, synthcity): pure numpy/scikit-learn, on rows already encoded as vectors.

- `nearest_record_distances`: each row's Euclidean distance to its closest reference row
  (scikit-learn `NearestNeighbors`, exact brute force).
- `median_dcr_ratio`: median DCR to training rows over median DCR to held-out rows, with
  equally many of each (training folds as large as the held-out set, averaged): ~1 for a
  generator that copies nothing, towards 0 for one that copies training rows. (The image check
  takes per-sample ratios instead: `audit.metrics.privacy.dcr_ratios`.)
- `exact_row_matches`: which rows equal a reference row in every value (verbatim copies).
"""

from __future__ import annotations

import numpy as np


def nearest_record_distances(x: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Euclidean distance from each row of `x` [N, D] to its closest row of `reference` [M, D]
    (an identical row may score ~1e-8 rather than 0: scikit-learn's dot-product formula)."""
    from sklearn.neighbors import NearestNeighbors
    from threadpoolctl import threadpool_limits

    x, reference = np.asarray(x, np.float64), np.asarray(reference, np.float64)
    with threadpool_limits(limits=1):
        distances, _ = NearestNeighbors(n_neighbors=1, algorithm="brute").fit(reference).kneighbors(x)
    return distances[:, 0]


def median_dcr_ratio(nn_folds: np.ndarray, nn_heldout: np.ndarray, floor: float = 1e-12) -> float:
    """Mean over training folds f of median(nn_folds[:, f]) / median(nn_heldout): the generated
    rows' distances to their closest row of fold f (a fold as large as the held-out set) against
    those to their closest held-out row; the denominator at least `floor`."""
    nn_folds = np.asarray(nn_folds, np.float64).reshape(len(nn_folds), -1)
    return float(np.mean(np.median(nn_folds, axis=0)) / max(float(np.median(nn_heldout)), floor))


def exact_row_matches(x: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per row of `x`: True when it equals some row of `reference` in every value, bit for bit."""
    x, reference = np.ascontiguousarray(x, np.float64), np.ascontiguousarray(reference, np.float64)
    if x.shape[1:] != reference.shape[1:]:
        raise ValueError(f"rows of {x.shape[1:]} values against reference rows of {reference.shape[1:]}")
    known = {row.tobytes() for row in reference}
    return np.array([row.tobytes() in known for row in x], dtype=bool)
