"""Benchmark: audit's Fréchet distance (two symmetric eigendecompositions) against the usual
`scipy.linalg.sqrtm` computation (pytorch-fid's `calculate_frechet_distance`) on 2048-d features.

Both run in this process on the same statistics; we report the median of several timed runs
of each, the speedup ratio, and the relative difference of the values (goal: >= 5x faster,
same value to 1e-6 relative). Run:

    .venv/bin/python benchmarks/fid_vs_sqrtm.py            # writes benchmarks/results/fid_vs_sqrtm.json
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy.linalg

from audit.metrics.frechet import feature_stats, frechet_distance

DIM, N, REPEATS = 2048, 10_000, 5
OUT = Path(__file__).parent / "results" / "fid_vs_sqrtm.json"


def scipy_sqrtm_fid(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
    """pytorch-fid's reference computation (its eps-offset fallback and taking the real part)."""
    diff = mu1 - mu2
    covmean = scipy.linalg.sqrtm(s1.dot(s2))
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * 1e-6
        covmean = scipy.linalg.sqrtm((s1 + offset).dot(s2 + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def features(seed: int, shift: float) -> np.ndarray:
    """Correlated, non-negative (ReLU-like) features, like a CNN's penultimate layer."""
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(DIM, DIM)) / np.sqrt(DIM)
    return np.maximum(rng.normal(size=(N, DIM)) @ mixing + shift, 0.0)


def timed(fn, *args) -> tuple[float, float]:
    started = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - started, value


def main() -> None:
    stats = (*feature_stats(features(0, 0.0)), *feature_stats(features(1, 0.05)))
    ours, reference = [], []
    for _ in range(REPEATS):  # interleaved, so drift in machine load hits both alike
        t, ours_value = timed(frechet_distance, *stats)
        ours.append(t)
        t, ref_value = timed(scipy_sqrtm_fid, *stats)
        reference.append(t)
    relative = abs(ours_value - ref_value) / abs(ref_value)
    result = {
        "benchmark": "Fréchet distance on 2048-d statistics: eigh-based (audit) vs scipy.linalg.sqrtm",
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.processor() or platform.machine()} · {platform.platform()} · python {sys.version.split()[0]}",
        "cpu_count": __import__("os").cpu_count(),
        "numpy": np.__version__, "scipy": scipy.__version__,
        "dim": DIM, "n_per_set": N, "repeats": REPEATS,
        "audit_seconds_median": statistics.median(ours), "audit_seconds_all": ours,
        "sqrtm_seconds_median": statistics.median(reference), "sqrtm_seconds_all": reference,
        "speedup_median": statistics.median(reference) / statistics.median(ours),
        "value_audit": ours_value, "value_sqrtm": ref_value, "relative_difference": relative,
        "goals": {"speedup_at_least": 5.0, "relative_difference_below": 1e-6},
    }
    result["goals_met"] = result["speedup_median"] >= 5.0 and relative < 1e-6
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("audit_seconds_median", "sqrtm_seconds_median", "speedup_median", "relative_difference", "goals_met")}, indent=2))


if __name__ == "__main__":
    main()
