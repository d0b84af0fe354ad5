"""What makes two runs comparable, and the difference of two records (relative gates, `audit compare`).

**Metric fingerprint.** Two numbers are comparable only when the same instrument produced them.
A run's metric fingerprint is:

- the sha256 of every evaluator, deepfake detector, reference data file and attribute classifier
  (`fingerprint.files` entries named `evaluator:*`, `detector:*`, `data:*` and `attributes:*`),
- the versions of the packages that compute metrics (`METRIC_PACKAGES`: audit itself, numpy,
  scipy, scikit-learn, torchmetrics, fairlearn),
- per compared record, its `params`: n, bootstrap resamples and the suite's check parameters.

It leaves out what is being compared or does not change a metric's definition: the model
weights' sha256 (comparing model versions is the point), seeds, the device, torch/CUDA,
transformers, Python, the platform and the git commit; `audit compare` lists those differences
as information.

**Differences.** delta = candidate - reference (B - A), ratio = candidate / reference. The CI of
the delta is

- *paired*: when both records store per-sample values (`details.per_sample`, a list whose mean is
  the record's value) of the same length, with the same seed and n: a percentile bootstrap of
  the mean per-sample difference over the shared sample indices;
- *unpaired*: otherwise, from the two 95% intervals by MOVER, the method of variance estimates
  recovery (Zou & Donner, 2008, Statistics in Medicine 27(10)): each side's distance from its
  estimate to its interval end is that estimate's error margin, and independent margins add in
  quadrature: low = delta - sqrt((c - low_c)^2 + (high_r - r)^2), high = delta +
  sqrt((high_c - c)^2 + (r - low_r)^2). For independent estimates (two runs with different
  seeds against the same fixed reference) this has the nominal 95% coverage; for positively
  correlated ones (the same inputs) it is conservative. The ratio is MOVER on the log scale when
  both intervals lie on one side of 0 (the extreme corner ratios otherwise; undefined when the
  reference's interval contains 0). A record without a CI counts as a zero-width interval at
  its value. The plain sum of the two half-widths (interval arithmetic), used before, made the
  interval ~1.4x too wide for independent runs, so a model compared with itself under another
  seed failed non-inferiority margins it should pass.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

METRIC_PACKAGES = ("audit", "numpy", "scipy", "scikit-learn", "torchmetrics", "fairlearn")
METRIC_FILE_PREFIXES = ("evaluator:", "data:", "detector:", "attributes:")
INFO_PACKAGES = ("torch", "transformers", "safetensors")
CONFIDENCE = 0.95


def _short(value: Any) -> str:
    text = str(value)
    return text[:12] + "…" if len(text) == 64 and all(c in "0123456789abcdef" for c in text) else text


def metric_fingerprint(results: dict[str, Any]) -> dict[str, Any]:
    fp = results.get("fingerprint", {})
    return {
        "files": {k: v for k, v in sorted(fp.get("files", {}).items()) if k.startswith(METRIC_FILE_PREFIXES)},
        "packages": {p: fp.get("packages", {}).get(p) for p in METRIC_PACKAGES},
    }


def run_differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Run-level metric-fingerprint differences (files both runs used, metric package versions)."""
    fa, fb = metric_fingerprint(a), metric_fingerprint(b)
    out = []
    for name in sorted(set(fa["files"]) & set(fb["files"])):
        if fa["files"][name] != fb["files"][name]:
            out.append(f"{name} sha256 {_short(fa['files'][name])} vs {_short(fb['files'][name])}")
    for prefix in METRIC_FILE_PREFIXES:  # a different evaluator or data set has a different name
        only_a = sorted(k for k in fa["files"] if k.startswith(prefix) and k not in fb["files"])
        only_b = sorted(k for k in fb["files"] if k.startswith(prefix) and k not in fa["files"])
        if only_a and only_b:  # one run's set merely extending the other's (a text set beside images) is fine
            out.append(f"{prefix[:-1]} {', '.join(k[len(prefix):] for k in only_a)} vs {', '.join(k[len(prefix):] for k in only_b)}")
    for package in METRIC_PACKAGES:
        if fa["packages"][package] != fb["packages"][package]:
            out.append(f"{package} {fa['packages'][package]} vs {fb['packages'][package]}")
    return out


def params_difference(a: dict[str, Any], b: dict[str, Any]) -> str | None:
    """How two records' params (n, bootstrap, check parameters) differ, or None."""
    pa, pb = a.get("params") or {}, b.get("params") or {}
    if pa == pb:
        return None
    keys = sorted(set(pa) | set(pb))
    parts = [f"{k} {pa.get(k, '(unset)')} vs {pb.get(k, '(unset)')}" for k in keys if pa.get(k) != pb.get(k)]
    return f"{a['check']}: " + ", ".join(parts)


def info_differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Differences outside the metric fingerprint, listed for information."""
    fa, fb = a.get("fingerprint", {}), b.get("fingerprint", {})
    out = []
    for key in ("seed", "device", "device_name", "torch_cuda", "python", "git_commit"):
        if fa.get(key) != fb.get(key):
            out.append(f"{key} {_short(fa.get(key))} vs {_short(fb.get(key))}")
    for package in INFO_PACKAGES:
        va, vb = fa.get("packages", {}).get(package), fb.get("packages", {}).get(package)
        if va != vb:
            out.append(f"{package} {va} vs {vb}")
    files_a, files_b = fa.get("files", {}), fb.get("files", {})
    for name in sorted(set(files_a) | set(files_b)):
        if name.startswith(METRIC_FILE_PREFIXES) and name in files_a and name in files_b:
            continue
        if files_a.get(name) != files_b.get(name):
            out.append(f"{name} {_short(files_a.get(name, 'absent'))} vs {_short(files_b.get(name, 'absent'))}")
    return out


# ---------------------------------------------------------------- differences of two records


@dataclass
class Difference:
    """candidate - reference and candidate / reference, with CIs and how they were computed."""

    delta: float | None
    delta_low: float | None
    delta_high: float | None
    ratio: float | None
    ratio_low: float | None
    ratio_high: float | None
    label: str  # "paired" | "unpaired"
    method: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def per_sample(record: dict[str, Any]) -> list[float] | None:
    """The record's per-sample values, when it stores them and their mean is its value."""
    values = (record.get("details") or {}).get("per_sample")
    if not isinstance(values, list) or not values or not _finite(record.get("value")):
        return None
    if not all(_finite(v) for v in values):
        return None
    mean = sum(values) / len(values)
    return values if math.isclose(mean, record["value"], rel_tol=1e-9, abs_tol=1e-12) else None


def same_design(candidate: dict[str, Any], reference: dict[str, Any]) -> bool:
    """Same seed and n: the two records were measured on the same inputs (a paired design)."""
    return candidate.get("seed") == reference.get("seed") and candidate.get("n") == reference.get("n")


def _interval(record: dict[str, Any]) -> tuple[float, float]:
    low, high = record.get("ci_low"), record.get("ci_high")
    if _finite(low) and _finite(high):
        return float(low), float(high)
    return float(record["value"]), float(record["value"])


def _ratio(a: float, b: float) -> float | None:
    return a / b if b != 0 else None


def _paired(c: list[float], r: list[float], resamples: int, seed: int) -> tuple[float, float, float | None, float | None]:
    import numpy as np

    cv, rv = np.asarray(c, dtype=np.float64), np.asarray(r, dtype=np.float64)
    rng = np.random.default_rng(seed)
    deltas, ratios = np.empty(resamples), np.empty(resamples)
    chunk = max(1, 2_000_000 // len(cv))
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        idx = rng.integers(0, len(cv), (stop - start, len(cv)))
        mc, mr = cv[idx].mean(axis=1), rv[idx].mean(axis=1)
        deltas[start:stop] = mc - mr
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios[start:stop] = mc / mr
    alpha = (1 - CONFIDENCE) / 2
    d_low, d_high = np.quantile(deltas, [alpha, 1 - alpha])
    if np.all(np.isfinite(ratios)):
        q_low, q_high = np.quantile(ratios, [alpha, 1 - alpha])
        return float(d_low), float(d_high), float(q_low), float(q_high)
    return float(d_low), float(d_high), None, None


def difference(candidate: dict[str, Any], reference: dict[str, Any], judge: str = "ci") -> Difference:
    """candidate - reference with a CI: paired over per-sample values where both records store
    them on the same inputs, else MOVER on the two intervals (see the module docstring)."""
    cv, rv = candidate.get("value"), reference.get("value")
    if not (_finite(cv) and _finite(rv)):
        return Difference(None, None, None, None, None, None, "unpaired", "a value is missing")
    cv, rv = float(cv), float(rv)
    delta, ratio = cv - rv, _ratio(cv, rv)
    if judge == "value":
        return Difference(delta, delta, delta, ratio, ratio, ratio, "unpaired", "point values (judge = value)")
    c_samples, r_samples = per_sample(candidate), per_sample(reference)
    resamples = int((candidate.get("params") or {}).get("bootstrap", 500) or 0)
    if c_samples and r_samples and len(c_samples) == len(r_samples) and same_design(candidate, reference) and resamples > 0:
        d_low, d_high, q_low, q_high = _paired(c_samples, r_samples, resamples, int(candidate.get("seed") or 0))
        return Difference(delta, d_low, d_high, ratio, q_low, q_high, "paired",
                          f"paired bootstrap of per-sample differences ({resamples} resamples, n={len(c_samples)})")
    (c_low, c_high), (r_low, r_high) = _interval(candidate), _interval(reference)
    d_low, d_high = mover_difference(cv, c_low, c_high, rv, r_low, r_high)
    q_low, q_high = mover_ratio(cv, c_low, c_high, rv, r_low, r_high)
    design = "same seed and n, but per-sample values are not stored" if same_design(candidate, reference) else "different seed or n"
    return Difference(delta, d_low, d_high, ratio, q_low, q_high, "unpaired", f"MOVER on the two 95% CIs ({design})")


def mover_difference(c: float, c_low: float, c_high: float, r: float, r_low: float, r_high: float) -> tuple[float, float]:
    """CI of c - r from the estimates' own CIs, the two error margins added in quadrature (MOVER-D)."""
    delta = c - r
    return (delta - math.hypot(c - c_low, r_high - r), delta + math.hypot(c_high - c, r - r_low))


def mover_ratio(c: float, c_low: float, c_high: float, r: float, r_low: float, r_high: float) -> tuple[float | None, float | None]:
    """CI of c / r: MOVER-D on the logs when both intervals lie strictly on one side of 0 (negate
    negative ones: the ratio of two negatives is that of their magnitudes); the extreme corner
    ratios when only the reference's does; (None, None) when the reference's interval holds 0."""
    if not (r_low > 0 or r_high < 0):
        return None, None
    c_sign, r_sign = (1 if c_low > 0 else -1 if c_high < 0 else 0), (1 if r_low > 0 else -1)
    if c_sign == 0 or c * c_sign <= 0 or r * r_sign <= 0:
        corners = [c_low / r_low, c_low / r_high, c_high / r_low, c_high / r_high]
        return min(corners), max(corners)
    cs = sorted((c_low * c_sign, c_high * c_sign))
    rs = sorted((r_low * r_sign, r_high * r_sign))
    low, high = mover_difference(math.log(c * c_sign), math.log(cs[0]), math.log(cs[1]), math.log(r * r_sign), math.log(rs[0]), math.log(rs[1]))
    sign = c_sign * r_sign
    ends = sorted((sign * math.exp(low), sign * math.exp(high)))
    return ends[0], ends[1]


# ---------------------------------------------------------------- audit compare
