"""Calibration of relative gates: a model against itself, and planted regressions of stated sizes.

Two designs, each through the product's own code (the checks' functions on a `CheckContext`,
and `audit.differences.difference`, which relative gates judge):

* **Baseline regression** (`baseline = "<results.json>"`, unpaired): run A and run B of the
  same model with different seeds at the quality suite's n. For every pair of seeds the delta
  B - A and its 95% CI (MOVER on the two records' CIs); the gate `margin = M` (lower is better)
  passes when the CI's high end is <= M. Reported per check: the share of self-pairs with a CI
  that covers 0, the smallest margin that >= 95% of self-pairs pass ("margin_95"), the worsening
  that would then fail the gate in >= 95% of pairs if it shifted the candidate's value and CI
  ("detectable_shift_95", from the self-pairs), and, for
  planted regressions (the same generator drawing a stated share of its samples from one class:
  a partial mode collapse, which raises FID by a measured amount), the share of pairs (clean
  baseline, collapsed candidate) whose CI lies wholly beyond that margin, i.e. a failed gate.
* **Quantization delta** (paired, the quantization suite's n and design): `quantization.delta_fid`
  of a variant against fp32 on the same seeds and labels. The variant is the model itself
  (delta 0 by construction), and the model with a planted partial collapse: reported per share,
  the true delta (mean over seeds), the CI's coverage of it, and the share of seeds where the
  suite's gate (delta FID <= 5 on the CI's high end) fails.

    .venv/bin/python benchmarks/gate_calibration.py [--seeds 20] [--bootstrap 500]

Writes benchmarks/results/gate_calibration.json and prints the tables.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

QUALITY_N, QUANT_N = 1000, 512
BASELINE_CHECKS = ("quality.fid", "quality.kid", "quality.precision", "quality.recall", "quality.coverage")
COLLAPSED_SHARE = (0.02, 0.05, 0.1)
QUANT_GATE = 5.0


class PartlyCollapsed:
    """The bundled conditional adapter drawing a seeded `share` of its samples from class 0
    instead of the class asked for: a planted, graded mode collapse (the classes lose that share
    of their samples to one class). Pixel noise is not used: in the digits evaluator's space it
    lowers the bundled GAN's FID."""

    def __init__(self, adapter: Any, share: float) -> None:
        self._adapter, self.share = adapter, share

    def __getattr__(self, name: str) -> Any:
        return getattr(self._adapter, name)

    def sample(self, n: int, seed: int, labels: Any = None, **kwargs: Any) -> Any:
        import torch

        g = torch.Generator().manual_seed(10_000 + seed)
        moved = torch.rand(n, generator=g) < self.share
        return self._adapter.sample(n, seed, labels=torch.where(moved, 0, labels), **kwargs)


def _records(adapter: Any, name: str, store: Any, seeds: range, n: int, bootstrap: int, checks: tuple[str, ...]) -> dict[str, list[dict[str, Any]]]:
    from audit.checks import check_spec
    from audit.context import CheckContext

    out: dict[str, list[dict[str, Any]]] = {c: [] for c in checks}
    for seed in seeds:
        ctx = CheckContext(adapter, name, "fp32", seed, n, bootstrap, store, Path("."))
        for check in checks:
            m = check_spec(check).fn(ctx)
            out[check].append({"check": check, "value": m.value, "ci_low": m.ci_low, "ci_high": m.ci_high,
                               "seed": seed, "n": n, "params": {"bootstrap": bootstrap}, "details": {}})
    return out


def baseline_calibration(model: str, seeds: range, bootstrap: int) -> list[dict[str, Any]]:
    from audit.adapters.loading import load_model
    from audit.checks import check_spec
    from audit.differences import difference
    from audit.evaluators import digits_evaluator, digits_reference
    from audit.sample_store import SampleStore

    store = SampleStore(digits_evaluator, digits_reference)
    adapter = load_model(model, "fp32", "cpu")
    clean = _records(adapter, model, store, seeds, QUALITY_N, bootstrap, BASELINE_CHECKS)
    noisy = {sd: _records(PartlyCollapsed(adapter, sd), f"{model}+collapsed{sd}", store, seeds, QUALITY_N, bootstrap, BASELINE_CHECKS) for sd in COLLAPSED_SHARE}
    rows = []
    for check in BASELINE_CHECKS:
        sign = -1.0 if check_spec(check).higher_is_better else 1.0  # worse = sign * delta > 0
        pairs = [(a, b) for a, b in itertools.permutations(range(len(seeds)), 2)]
        self_diffs = [difference(clean[check][b], clean[check][a]) for a, b in pairs]
        worst_end = np.array([max(sign * d.delta_low, sign * d.delta_high) for d in self_diffs])
        margin_95 = float(np.quantile(worst_end, 0.95))
        best_end = np.array([min(sign * d.delta_low, sign * d.delta_high) for d in self_diffs])
        row: dict[str, Any] = {
            "check": check, "n": QUALITY_N, "pairs": len(pairs),
            "sd_over_seeds": float(np.std([r["value"] for r in clean[check]], ddof=1)),
            "self_ci_covers_0": float(np.mean([d.delta_low <= 0 <= d.delta_high for d in self_diffs])),
            "margin_95": margin_95, "planted": [],
            "detectable_shift_95": float(margin_95 - np.quantile(best_end, 0.05)),
        }
        for sd in COLLAPSED_SHARE:
            diffs = [difference(noisy[sd][check][b], clean[check][a]) for a, b in pairs]
            true = float(np.mean([r["value"] for r in noisy[sd][check]]) - np.mean([r["value"] for r in clean[check]]))
            best_end = np.array([min(sign * d.delta_low, sign * d.delta_high) for d in diffs])
            row["planted"].append({"collapsed_share": sd, "true_delta": true, "detected_at_margin_95": float(np.mean(best_end > margin_95)),
                                   "ci_covers_true": float(np.mean([d.delta_low <= true <= d.delta_high for d in diffs]))})
        rows.append(row)
    return rows


def quantization_calibration(model: str, seeds: range, bootstrap: int) -> list[dict[str, Any]]:
    """delta FID of planted variants against fp32, paired on the same seeds (quantization.delta_fid's
    statistic and resampling), at the quantization suite's n."""
    from audit.adapters.loading import load_model
    from audit.evaluators import digits_evaluator, digits_reference
    from audit.metrics import fid_from_features
    from audit.sample_store import SampleStore
    from audit.stats import bootstrap_ci

    store = SampleStore(digits_evaluator, digits_reference)
    adapter = load_model(model, "fp32", "cpu")
    real = store.real_embedding("train").features
    rows = []
    for sd in (0.0, *COLLAPSED_SHARE):
        variant = adapter if sd == 0 else PartlyCollapsed(adapter, sd)
        deltas, intervals = [], []
        for seed in seeds:
            key = (model, "fp32", seed, QUANT_N)
            labels = store.samples(adapter, key).labels.numpy()
            ref = store.embedding(adapter, key).features
            var = ref if sd == 0 else store.embedding(variant, (f"{model}+collapsed{sd}", "fp32", seed, QUANT_N)).features
            paired = np.stack([ref, var], axis=1)
            stat = lambda rows: fid_from_features(rows[:, 1], real) - fid_from_features(rows[:, 0], real)
            deltas.append(stat(paired))
            intervals.append(bootstrap_ci(stat, [paired], bootstrap, seed, strata=[labels]))
        deltas, intervals = np.array(deltas), np.array(intervals)
        true = float(deltas.mean())
        rows.append({
            "collapsed_share": sd, "n": QUANT_N, "seeds": len(deltas), "true_delta_fid": true, "sd_over_seeds": float(deltas.std(ddof=1)),
            "ci_covers_true": float(np.mean((intervals[:, 0] <= true) & (true <= intervals[:, 1]))),
            "gate": f"delta FID <= {QUANT_GATE} on the CI's high end",
            "gate_passes": float(np.mean(intervals[:, 1] <= QUANT_GATE)), "gate_fails": float(np.mean(intervals[:, 0] > QUANT_GATE)),
        })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="gan")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--bootstrap", type=int, default=500)
    args = parser.parse_args()
    began = time.time()
    seeds = range(1, args.seeds + 1)
    baseline = baseline_calibration(args.model, seeds, args.bootstrap)
    print(f"baseline regression, n={QUALITY_N}: {'check':20s} {'self CI covers 0':>16s} {'margin_95':>10s}  planted (collapsed share: true delta, detected)")
    for r in baseline:
        planted = "; ".join(f"{p['collapsed_share']}: {p['true_delta']:+.4g}, {p['detected_at_margin_95']:.2f}" for p in r["planted"])
        print(f"{'':30s}{r['check']:20s} {r['self_ci_covers_0']:16.2f} {r['margin_95']:10.4g} detectable {r['detectable_shift_95']:.4g}  {planted}")
    quant = quantization_calibration(args.model, seeds, args.bootstrap)
    print(f"quantization.delta_fid, n={QUANT_N}, paired:")
    for r in quant:
        print(f"  collapsed share {r['collapsed_share']}: true delta {r['true_delta_fid']:+.3f}, CI covers {r['ci_covers_true']:.2f}, gate passes {r['gate_passes']:.2f}, fails {r['gate_fails']:.2f}")
    result = {
        "date": date.today().isoformat(), "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "model": args.model, "seeds": args.seeds, "bootstrap": args.bootstrap, "seconds": round(time.time() - began, 1),
        "baseline_regression": baseline, "quantization_delta": quant,
    }
    path = Path(__file__).parent / "results" / "gate_calibration.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
