"""By-group results in fairlearn MetricFrame's shape, the one form every check reports them in.

A check that breaks a metric down by group (class, demographic group, corruption, perturbation)
returns `group_frame(...)` as its `Measurement.by_group`; the reports draw every such table the
same way. The values may come from a fairlearn `MetricFrame` (its `by_group` and `overall`) or be
computed directly; this module only shapes them and applies fairlearn's conventions.

Representation of groups: `tv_of_predictions` is the total variation distance between the group
shares of a set of group codes and reference shares (image classes, tabular sensitive groups).
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


__all__ = ["class_counts", "group_frame", "total_variation", "tv_of_predictions"]
