"""Coverage of the distribution-level confidence intervals, measured over independent seeds.

For each seed 1..S the bundled model draws a fresh sample set of n images (class-balanced, as a
run draws them) and every distribution-level check of the quality suite runs through its real
code path (`audit.checks.check_spec(...).fn` on a `CheckContext`) against the same reference,
with `bootstrap` resamples. The truth a CI should cover is the mean of the check's value over
the S seeds; the spread is 3.92 x the standard deviation of the value over seeds (the width of a
95% normal interval). A calibrated interval covers the truth in about 95% of seeds and has a
width ratio near 1; the issue's bar is coverage >= 90% and width within 1.5x.

    .venv/bin/python benchmarks/interval_coverage.py [--model gan] [--seeds 20] [--n 1000] [--bootstrap 500] [--checks quality.class_entropy,quality.class_kl]

Writes benchmarks/results/interval_coverage_<model>.json and prints the table. With --checks only
those checks run, and their rows replace the same checks' rows in an existing results file of the
same model, n, bootstrap and seeds (the other rows, and the file's date and seconds, are kept;
each replaced row records its own date and seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

CHECKS = (
    "quality.fid", "quality.kid", "quality.inception_score", "quality.swd_feature", "quality.swd_pixel",
    "quality.precision", "quality.recall", "quality.density", "quality.coverage", "quality.c2st",
    "quality.diversity", "quality.class_entropy", "quality.class_kl",
)
SPREAD_Z = 3.92  # width of a 95% normal interval in standard deviations


def measure(model: str, seeds: range, n: int, bootstrap: int, checks: tuple[str, ...] = CHECKS) -> dict[str, list[tuple[float, float, float]]]:
    """(value, ci_low, ci_high) of each check for each seed, through the checks' own code."""
    from audit.adapters.loading import load_model
    from audit.checks import check_spec
    from audit.context import CheckContext
    from audit.evaluators import digits_evaluator, digits_reference
    from audit.sample_store import SampleStore

    store = SampleStore(digits_evaluator, digits_reference)
    adapter = load_model(model, "fp32", "cpu")
    out: dict[str, list[tuple[float, float, float]]] = {c: [] for c in checks}
    for seed in seeds:
        ctx = CheckContext(adapter, model, "fp32", seed, n, bootstrap, store, Path("."))
        for check in checks:
            m = check_spec(check).fn(ctx)
            out[check].append((float(m.value), float(m.ci_low), float(m.ci_high)))
    return out


def coverage_table(measured: dict[str, list[tuple[float, float, float]]]) -> list[dict[str, Any]]:
    """Per check: coverage of the mean over seeds, median CI width / across-seed spread."""
    rows = []
    for check, triples in measured.items():
        values, lows, highs = (np.array(c) for c in zip(*triples))
        truth, sd = float(values.mean()), float(values.std(ddof=1))
        covered = (lows <= truth) & (truth <= highs)
        rows.append({
            "check": check, "seeds": len(values), "mean": truth, "sd_over_seeds": sd,
            "coverage": float(covered.mean()), "median_ci_width": float(np.median(highs - lows)),
            "width_ratio": float(np.median(highs - lows) / (SPREAD_Z * sd)) if sd > 0 else float("nan"),
        })
    return rows


def merged(path: Path, partial: dict[str, Any]) -> dict[str, Any]:
    """`partial` (a run of some checks) merged into the results file at `path`: its rows replace
    those checks' rows, each stamped with this run's date and seconds; refused when the design differs."""
    if not path.exists():
        return partial
    whole = json.loads(path.read_text())
    design = ("model", "n", "bootstrap", "seeds")
    if any(whole.get(k) != partial[k] for k in design):
        raise SystemExit(f"{path} was measured with another design ({', '.join(f'{k}={whole.get(k)}' for k in design)}); rerun every check")
    fresh = {r["check"]: {**r, "date": partial["date"], "seconds": partial["seconds"]} for r in partial["rows"]}
    rows = [fresh.pop(r["check"], r) for r in whole["rows"]]
    return {**whole, "rows": rows + list(fresh.values())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="gan")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--bootstrap", type=int, default=500)
    parser.add_argument("--checks", default=",".join(CHECKS), help="comma-separated subset of: " + ", ".join(CHECKS))
    args = parser.parse_args()
    checks = tuple(c.strip() for c in args.checks.split(",") if c.strip())
    unknown = sorted(set(checks) - set(CHECKS))
    if unknown:
        parser.error(f"unknown checks {unknown}; valid: {', '.join(CHECKS)}")
    began = time.time()
    rows = coverage_table(measure(args.model, range(1, args.seeds + 1), args.n, args.bootstrap, checks))
    print(f"{'check':28s} {'coverage':>8s} {'width/spread':>12s} {'mean':>12s} {'sd':>10s}")
    for r in rows:
        print(f"{r['check']:28s} {r['coverage']:8.2f} {r['width_ratio']:12.2f} {r['mean']:12.5g} {r['sd_over_seeds']:10.3g}")
    result = {
        "date": date.today().isoformat(), "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "model": args.model, "n": args.n, "bootstrap": args.bootstrap, "seeds": args.seeds,
        "truth": "mean of the value over the seeds", "spread": f"{SPREAD_Z} x sd over seeds",
        "seconds": round(time.time() - began, 1), "rows": rows,
    }
    path = Path(__file__).parent / "results" / f"interval_coverage_{args.model}.json"
    if checks != CHECKS:
        result = merged(path, result)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
