"""Coverage of a 95% percentile bootstrap of a mean over a class-balanced set, resampled within
classes (stratified) or freely, by stratum size m: the simulation behind
`audit.metrics.resample.MIN_STRATUM`.

Rows: K = 10 classes of m rows each, x = mu_class + N(0, 1), class means mu ~ N(0, between)
drawn once per design; the truth is the mean of the class means (the design fixes the class
counts). "stratified" redraws each class's m rows within the class (as `resample_rows` did for
every stratum size), "free" redraws all K m rows together. Redrawing m rows within themselves
shrinks each class's variance by (m - 1) / m: at m = 1 every resample is the original set.

    nice .venv/bin/python benchmarks/strata_coverage.py [--reps 2000] [--bootstrap 400]

Writes benchmarks/results/strata_coverage.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from datetime import date
from pathlib import Path

import numpy as np

SIZES = (1, 2, 3, 5, 8, 10, 15, 20, 40)
CLASSES = 10


def coverage(m: int, stratified: bool, between: float, reps: int, resamples: int, seed: int = 0) -> float:
    """Share of `reps` fresh sets whose percentile interval holds the true mean."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(0, between, CLASSES)
    labels = np.repeat(np.arange(CLASSES), m)
    hits = 0
    for _ in range(reps):
        x = mu[labels] + rng.normal(0, 1, CLASSES * m)
        if stratified:
            rows = labels[None, :] * m + rng.integers(0, m, (resamples, CLASSES * m))
        else:
            rows = rng.integers(0, CLASSES * m, (resamples, CLASSES * m))
        low, high = np.quantile(x[rows].mean(1), [0.025, 0.975])
        hits += int(low <= mu.mean() <= high)
    return hits / reps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--bootstrap", type=int, default=400)
    args = parser.parse_args()
    table = {}
    for between in (0.0, 1.0):
        rows = {m: {"stratified": coverage(m, True, between, args.reps, args.bootstrap),
                    "free": coverage(m, False, between, args.reps, args.bootstrap)} for m in SIZES}
        table[f"between_sd_{between:g}"] = rows
        for m, r in rows.items():
            print(f"class-mean sd {between:g}  m={m:3d}  stratified {r['stratified']:.3f}  free {r['free']:.3f}")
    result = {"date": date.today().isoformat(), "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
              "classes": CLASSES, "reps": args.reps, "bootstrap": args.bootstrap, "coverage": table}
    path = Path(__file__).parent / "results" / "strata_coverage.json"
    path.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
