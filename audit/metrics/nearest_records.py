"""Distance to closest record (DCR) of table rows, the synthetic-data literature's memorisation
measure (e.g. SDMetrics, synthcity): pure numpy/scikit-learn, on rows already encoded as vectors.

- `nearest_record_distances`: each row's Euclidean distance to its closest reference row
  (scikit-learn `NearestNeighbors`, exact brute force).
- `median_dcr_ratio`: median DCR to training rows over median DCR to held-out rows, with
  equally many of each (training folds as large as the held-out set, averaged): ~1 for a
  generator that copies nothing, towards 0 for one that copies training rows. The medians are
  floored and each fold's ratio capped by the image check's `audit.metrics.privacy.dcr_ratios`
  (which the image check applies per sample rather than to medians).
- `exact_row_matches`: which rows equal a reference row in every value (verbatim copies).
- `quasi_row_matches`: which rows equal a reference row in every column but (at most) one, on
  per-column values (category codes, raw numbers): the census literature's quasi-copy, a row
  that identifies its person whatever one value was perturbed (an age shifted by a year, a
  weight jittered), which a distance threshold misses when the perturbed column is spread out.
"""

from __future__ import annotations

import numpy as np

from audit.metrics.privacy import DCR_RATIO_CAP, dcr_ratios


def nearest_record_distances(x: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Euclidean distance from each row of `x` [N, D] to its closest row of `reference` [M, D]
    (an identical row may score ~1e-8 rather than 0: scikit-learn's dot-product formula)."""
    from sklearn.neighbors import NearestNeighbors
    from threadpoolctl import threadpool_limits

    x, reference = np.asarray(x, np.float64), np.asarray(reference, np.float64)
    with threadpool_limits(limits=1):
        distances, _ = NearestNeighbors(n_neighbors=1, algorithm="brute").fit(reference).kneighbors(x)
    return distances[:, 0]


DCR_FLOOR = 1e-6
"""Distances below this count as a copy (0 apart): an identical row scores ~1e-8 (scikit-learn's
dot-product formula), the closest distinct rows ~1e-5 (one unit of fnlwgt, standardized)."""


def median_dcr_ratio(nn_folds: np.ndarray, nn_heldout: np.ndarray, floor: float = DCR_FLOOR, cap: float = DCR_RATIO_CAP) -> float:
    """Mean over training folds f of median(nn_folds[:, f]) / median(nn_heldout): the generated
    rows' distances to their closest row of fold f (a fold as large as the held-out set) against
    those to their closest held-out row. Both medians at least `floor` and each fold's ratio at
    most `cap` (`audit.metrics.privacy.dcr_ratios`, as the image check): rows that copy held-out
    rows score the cap, not a median over 1e-12."""
    nn_folds = np.asarray(nn_folds, np.float64).reshape(len(nn_folds), -1)
    return float(np.mean(dcr_ratios(np.median(nn_folds, axis=0), np.median(np.asarray(nn_heldout, np.float64)), floor, cap)))


def exact_row_matches(x: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per row of `x`: True when it equals some row of `reference` in every value, bit for bit."""
    x, reference = np.ascontiguousarray(x, np.float64), np.ascontiguousarray(reference, np.float64)
    if x.shape[1:] != reference.shape[1:]:
        raise ValueError(f"rows of {x.shape[1:]} values against reference rows of {reference.shape[1:]}")
    known = {row.tobytes() for row in reference}
    return np.array([row.tobytes() in known for row in x], dtype=bool)


def quasi_row_matches(x: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """[N, C] bool: entry (i, j) is True when row i of `x` [N, C] equals some row of `reference`
    [M, C] in every column but column j (exactly, bit for bit after -0.0 -> 0.0); a row with any
    True equals a reference row in all columns but at most one. One hash set per dropped column
    over the reference rows: O((N + M) * C) lookups, no pairwise distances."""
    x, reference = np.asarray(x, np.float64) + 0.0, np.asarray(reference, np.float64) + 0.0
    if x.ndim != 2 or reference.ndim != 2 or x.shape[1] != reference.shape[1] or x.shape[1] < 2:
        raise ValueError(f"quasi copies need rows of the same >= 2 columns, got {x.shape} against {reference.shape}")
    out = np.zeros(x.shape, dtype=bool)
    for j in range(x.shape[1]):
        keep = [c for c in range(x.shape[1]) if c != j]
        known = {row.tobytes() for row in np.ascontiguousarray(reference[:, keep])}
        out[:, j] = [row.tobytes() in known for row in np.ascontiguousarray(x[:, keep])]
    return out
