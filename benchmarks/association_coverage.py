"""Coverage of fairness.association's per-test share and d intervals by simulation, before and after.

Margins m(t, p, w) = mu_w + noise on a table of T = 8 templates x P target pairs x 4 + 4 words,
mu_w = +-s (X words +s, Y words -s) plus fixed word effects (sd 0.5, centred within X and within
Y, drawn once per design) and one of three noise structures:

  indep      independent per-sentence noise, sd 1
  pair_word  a target-pair x word effect, sd 1 (a name's own associations), plus sentence noise 0.3
  tmpl_word  a template x word effect, sd 1, plus sentence noise 0.3

The truth is the statistic on the population of templates and pairs with the words fixed:
share = mean over x, y of Phi((mu_x - mu_y) / sqrt(2 var)), var the total noise variance;
d = (mean_X mu - mean_Y mu) / std(mu) (0 at s = 0: there "d coverage" is 1 - the rate at which
the d interval excludes 0 for a model with no association). "before" is the interval the check
gave until this change (bootstrap over templates and pairs, each resampled independently, 500
draws, bias-adjusted percentile; audit.fairness.association.bootstrap_statistics with
audit.stats.bias_adjusted_interval), "after" is crossed_intervals (what association_rows reports). Width ratio:
mean CI width / (3.92 x the sd of the estimate over replicates).

    nice .venv/bin/python benchmarks/association_coverage.py [--reps 300] [--bootstrap 500] [--timing]

--timing also scores the bundled transformer's association margins (about 1-2 min) and times the
old bootstrap against the new intervals on them. Writes benchmarks/results/association_coverage.json.
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
from scipy.stats import norm

os.environ.setdefault("HF_HUB_OFFLINE", "1")

TEMPLATES, NX, NY, WORD_SD = 8, 4, 4, 0.5
NOISE = {"indep": (1.0, 0.0, 0.0), "pair_word": (0.3, 1.0, 0.0), "tmpl_word": (0.3, 0.0, 1.0)}
"""(sentence sd, pair x word sd, template x word sd) of each noise structure."""
PAIRS = (2, 3, 4, 6, 8)
SHIFTS = (0.0, 0.3)


def truth(mu: np.ndarray, noise: tuple[float, float, float]) -> tuple[float, float]:
    """(share, d) on the population of templates and pairs, words fixed."""
    sd = np.sqrt(2 * sum(x**2 for x in noise))
    share = float(norm.cdf((mu[:NX, None] - mu[None, NX:]) / sd).mean())
    return share, float((mu[:NX].mean() - mu[NX:].mean()) / mu.std(ddof=1))


def simulate(pairs: int, noise: tuple[float, float, float], shift: float, reps: int, bootstrap: int, seed: int) -> dict[str, Any]:
    from audit.fairness.association import bootstrap_statistics, crossed_intervals, effect_size, preference_share
    from audit.stats import bias_adjusted_interval

    rng = np.random.default_rng(seed)
    words = rng.normal(0, WORD_SD, NX + NY)
    words[:NX] -= words[:NX].mean()
    words[NX:] -= words[NX:].mean()
    mu = shift * np.r_[np.ones(NX), -np.ones(NY)] + words
    true_share, true_d = truth(mu, noise)
    sc, spw, stw = noise
    est: dict[str, list[float]] = {"share": [], "d": []}
    cis: dict[str, dict[str, list[tuple[float, float]]]] = {m: {"share": [], "d": []} for m in ("before", "after")}
    for r in range(reps):
        m = (mu + sc * rng.standard_normal((TEMPLATES, pairs, NX + NY)) + spw * rng.standard_normal((1, pairs, NX + NY))
             + stw * rng.standard_normal((TEMPLATES, 1, NX + NY)))
        intervals = crossed_intervals(m, NX)  # the intervals fairness.association reports (association_rows)
        row = {"share": preference_share(m, NX), "d": effect_size(m, NX)}
        est["share"].append(row["share"])
        est["d"].append(row["d"])
        cis["after"]["share"].append(intervals["share"])
        cis["after"]["d"].append(intervals["d"])
        draws = bootstrap_statistics(m, NX, {"share": preference_share, "d": effect_size}, bootstrap, r)
        low, high = bias_adjusted_interval(row["share"], draws["share"])
        cis["before"]["share"].append((max(low, 0.0), min(high, 1.0)))
        cis["before"]["d"].append(bias_adjusted_interval(row["d"], draws["d"]))
    out: dict[str, Any] = {"true_share": round(true_share, 4), "true_d": round(true_d, 4)}
    for stat, true in (("share", true_share), ("d", true_d)):
        sd = float(np.std(est[stat], ddof=1))
        for method in ("before", "after"):
            ci = np.array(cis[method][stat])
            out[f"{stat}_coverage_{method}"] = float(((ci[:, 0] <= true) & (true <= ci[:, 1])).mean())
            out[f"{stat}_width_ratio_{method}"] = round(float((ci[:, 1] - ci[:, 0]).mean() / (3.92 * sd)), 3)
    return out


def timing(repeats: int, bootstrap: int) -> dict[str, Any]:
    """Seconds of the old bootstrap (`bootstrap` draws) and of the new intervals on the bundled
    transformer's margins of every built-in test, interleaved, median of `repeats`."""
    from audit.adapters.loading import load_model
    from audit.fairness.association import (
        ASSOCIATION_TESTS, association_margins, bootstrap_statistics, crossed_intervals, effect_size, preference_share,
    )

    margins = association_margins(load_model("transformer", "fp32", "cpu"), ASSOCIATION_TESTS)
    old, new = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for i, (test, m) in enumerate(zip(ASSOCIATION_TESTS, margins)):
            bootstrap_statistics(m, len(test.x), {"share": preference_share, "d": effect_size}, bootstrap, i)
        t1 = time.perf_counter()
        for test, m in zip(ASSOCIATION_TESTS, margins):
            crossed_intervals(m, len(test.x))
        t2 = time.perf_counter()
        old.append(round(t1 - t0, 4))
        new.append(round(t2 - t1, 4))
    return {"model": "transformer", "tests": len(ASSOCIATION_TESTS), "repeats": repeats,
            "before_bootstrap_s": old, "after_crossed_s": new,
            "before_median_s": float(np.median(old)), "after_median_s": float(np.median(new))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--bootstrap", type=int, default=500)
    parser.add_argument("--timing", action="store_true")
    args = parser.parse_args()
    began = time.time()
    rows = []
    print(f"{'noise':10s} {'P':>2s} {'s':>4s} | share cov before/after | width before/after | d cov before/after | d width before/after")
    for k, (name, noise) in enumerate(NOISE.items()):
        for pairs in PAIRS:
            for shift in SHIFTS:
                r = simulate(pairs, noise, shift, args.reps, args.bootstrap, seed=1000 * k + 10 * pairs + int(10 * shift))
                rows.append({"noise": name, "pairs": pairs, "shift": shift, **r})
                print(f"{name:10s} {pairs:2d} {shift:4.1f} | {r['share_coverage_before']:.3f} / {r['share_coverage_after']:.3f}"
                      f"          | {r['share_width_ratio_before']:.2f} / {r['share_width_ratio_after']:.2f}"
                      f"        | {r['d_coverage_before']:.3f} / {r['d_coverage_after']:.3f}"
                      f"      | {r['d_width_ratio_before']:.2f} / {r['d_width_ratio_after']:.2f}", flush=True)
    result: dict[str, Any] = {
        "date": date.today().isoformat(), "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "settings": {"reps": args.reps, "bootstrap_before": args.bootstrap, "templates": TEMPLATES, "x_words": NX, "y_words": NY,
                     "word_effect_sd": WORD_SD, "noise_sd (sentence, pair x word, template x word)": NOISE, "confidence": 0.95},
        "before": "bootstrap over templates and pairs (independently), bias-adjusted percentile, share clipped to [0, 1]",
        "after": "audit.fairness.association.crossed_intervals: two-way crossed random effects, t with Satterthwaite df",
        "rows": rows,
    }
    if args.timing:
        result["timing"] = timing(5, args.bootstrap)
        print("timing:", result["timing"])
    result["seconds"] = round(time.time() - began, 1)
    path = Path(__file__).parent / "results" / "association_coverage.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
