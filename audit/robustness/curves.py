"""Degradation curves with bootstrap CIs, and their normalised area.

Per-sample values [N, C, S] (C corruptions, S severities 0..5) are resampled over the N samples
with one shared set of bootstrap draws (`audit.metrics.multinomial_counts`, so the draws are a matrix product),
which keeps every point's CI and the summary's CI consistent with each other.

Normalised area under the degradation curve (the value robustness checks report):
    AUC_c = mean over severities 1..5 of  curve_c(s) / curve_c(0)
    value = mean over corruptions c of AUC_c
For an accuracy it is the share of clean accuracy kept under corruption (1 = unaffected, lower is
worse); for an error (reconstruction MSE, perplexity) it is the factor by which the error grows
(1 = unaffected, higher is worse). Severity 0 is the identity, so it is the clean value exactly.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from audit.metrics import group_frame
from audit.stats import bias_adjusted_interval


def mean_curves(values: np.ndarray, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Column means of `values` [N, ...] and their bootstrap replicates [B, ...]."""
    n = values.shape[0]
    flat = values.reshape(n, -1).astype(np.float64)
    point = flat.mean(axis=0).reshape(values.shape[1:])
    if weights is None:
        return point, None
    return point, (weights @ flat / n).reshape((len(weights), *values.shape[1:]))


def ratio_curves(num: np.ndarray, den: np.ndarray, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """sum(num) / sum(den) per column (e.g. NLL per token) and its bootstrap replicates."""
    n = num.shape[0]
    fn, fd = num.reshape(n, -1).astype(np.float64), den.reshape(n, -1).astype(np.float64)
    point = (fn.sum(0) / fd.sum(0)).reshape(num.shape[1:])
    if weights is None:
        return point, None
    return point, ((weights @ fn) / (weights @ fd)).reshape((len(weights), *num.shape[1:]))


def normalised_auc(curve: np.ndarray) -> np.ndarray:
    """[..., C, S] -> [..., C]: mean over severities 1.. of curve / curve at severity 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (curve[..., 1:] / curve[..., :1]).mean(axis=-1)


def interval(point: float, replicates: np.ndarray | None) -> tuple[float | None, float | None]:
    if replicates is None:
        return None, None
    low, high = bias_adjusted_interval(float(point), np.asarray(replicates, dtype=np.float64))
    return (low if np.isfinite(low) else None), (high if np.isfinite(high) else None)


def chart(
    title: str, y_label: str, names: Sequence[str], severities: Sequence[float], point: np.ndarray,
    replicates: np.ndarray | None, x_label: str = "severity",
) -> dict[str, Any]:
    """The report's line-chart contract: one series per name, a point per severity with its CI."""
    series: dict[str, list[dict[str, Any]]] = {}
    for c, name in enumerate(names):
        pts = []
        for s, x in enumerate(severities):
            low, high = interval(point[c, s], None if replicates is None else replicates[:, c, s])
            pts.append({"x": float(x), "value": float(point[c, s]), "ci_low": low, "ci_high": high})
        series[str(name)] = pts
    return {"title": title, "x_label": x_label, "y_label": y_label, "series": series}


def summary(point: np.ndarray, replicates: np.ndarray | None, names: Sequence[str]) -> tuple[float, float | None, float | None, dict[str, Any]]:
    """Normalised AUC over corruptions (value, CI) and per-corruption AUCs as a by-group table."""
    per = normalised_auc(point)
    per_boot = None if replicates is None else normalised_auc(replicates)
    value = float(per.mean())
    low, high = interval(value, None if per_boot is None else per_boot.mean(axis=1))
    cis = [interval(per[c], None if per_boot is None else per_boot[:, c]) for c in range(len(names))]
    by_group = group_frame(names, per, [ci[0] for ci in cis], [ci[1] for ci in cis], value)
    return value, low, high, by_group
