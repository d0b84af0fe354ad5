"""By-group results in fairlearn MetricFrame's shape, the one form every check reports them in.

A check that breaks a metric down by group (class, demographic group, corruption, perturbation)
returns `group_frame(...)` as its `Measurement.by_group`; the reports draw every such table the
same way. The values may come from a fairlearn `MetricFrame` (its `by_group` and `overall`) or be
computed directly; this module only shapes them and applies fairlearn's conventions.

Representation of groups: `tv_of_predictions` is the total variation distance between the group
shares of a set of group codes and reference shares (image classes, tabular sensitive groups);
`representation` is each group's share over its reference share (pseudo-counted), and
`min_representation_of` the least-represented group's, which sees one small group erased where
TV sees only that group's share.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np


def _finite_or_none(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def group_frame(
    labels: Sequence[Any], values: Sequence[float], lows: Sequence[float | None], highs: Sequence[float | None],
    overall: float, counts: Sequence[int] | None = None, metric: str | None = None, signed: bool = False,
) -> dict[str, Any]:
    """{[metric], overall, by_group: {group: {value, ci_low, ci_high[, n]}}, group_min, group_max,
    difference, ratio}, with fairlearn's conventions: group_min / group_max over the groups with a
    finite value, difference = max - min, ratio = min / max. The ratio is None where it means
    nothing: a maximum <= 0, or values the caller declares `signed` (log-probabilities, sentiment
    scores). A CI end that is not finite is None (no interval)."""
    by_group: dict[str, dict[str, Any]] = {}
    for i, (label, value, low, high) in enumerate(zip(labels, values, lows, highs, strict=True)):
        entry = {"value": float(value), "ci_low": _finite_or_none(low), "ci_high": _finite_or_none(high)}
        if counts is not None:
            entry["n"] = int(counts[i])
        by_group[str(label)] = entry
    finite = [float(v) for v in values if math.isfinite(v)]
    if not finite:
        raise ValueError("no group has a finite value: a by-group result needs at least one")
    lo, hi = min(finite), max(finite)
    frame: dict[str, Any] = {"metric": metric} if metric is not None else {}
    frame.update({
        "overall": float(overall), "by_group": by_group, "group_min": lo, "group_max": hi,
        "difference": hi - lo, "ratio": None if signed or hi <= 0 else lo / hi,
    })
    return frame


def class_counts(codes: np.ndarray, k: int) -> np.ndarray:
    """How many of `codes` (group indices 0..k-1) fall in each of the k groups."""
    return np.bincount(np.asarray(codes, dtype=np.int64), minlength=k)[:k]


def total_variation(shares: np.ndarray, reference: np.ndarray) -> float:
    """0.5 * sum |shares - reference|: the mass that must move to turn one distribution into the other."""
    return float(0.5 * np.abs(np.asarray(shares, np.float64) - np.asarray(reference, np.float64)).sum())


def tv_of_predictions(codes: np.ndarray, reference: np.ndarray) -> float:
    """Total variation between the group shares of `codes` and the `reference` shares (one per group)."""
    counts = class_counts(codes, len(reference))
    return total_variation(counts / max(len(codes), 1), reference)


PSEUDO_COUNT = 0.5
"""Jeffreys pseudo-count per group for the representation ratios."""
MIN_GROUP_SHARE = 0.005
"""Groups below this reference share are left out of `min_representation_of`: too few rows for a ratio."""


def representation(counts: np.ndarray, reference: np.ndarray, pseudo: float = 0.0) -> np.ndarray:
    """Each group's share (with `pseudo` added to every count) over its reference share."""
    c = np.asarray(counts, np.float64) + pseudo
    return c / c.sum() / np.asarray(reference, np.float64)


def min_representation_of(codes: np.ndarray, reference: np.ndarray, pseudo: float = PSEUDO_COUNT, min_share: float = MIN_GROUP_SHARE) -> float:
    """The smallest share / reference share of the groups in `codes` (`pseudo` added to every
    group's count) over the groups whose reference share is at least `min_share`: ~0 when one is erased."""
    reference = np.asarray(reference, np.float64)
    return float(representation(class_counts(codes, len(reference)), reference, pseudo)[reference >= min_share].min())


__all__ = ["MIN_GROUP_SHARE", "PSEUDO_COUNT", "class_counts", "group_frame", "min_representation_of", "representation", "total_variation", "tv_of_predictions"]
