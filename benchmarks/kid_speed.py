"""Benchmark: audit's exact blockwise KID against the subset estimates of torchmetrics and
torch-fidelity (100 subsets of 1000 rows, their defaults), at 10,000 rows per set.

All run in this one process on the same float32 features (random ReLU'd Gaussians, like a CNN's
pooled features) with 2 BLAS threads each (numpy's OpenBLAS for audit and torch-fidelity, torch's
intra-op threads for torchmetrics). Rounds are interleaved, after one warm-up call of each on
2,000 rows; we report the median of the timed rounds, the peak extra resident memory of each
call (Linux VmHWM, reset before the call), and the accuracy: |audit's value - each subset
estimate| beside the estimate's own Monte Carlo error (its std over subsets / sqrt(subsets)).
audit's value is also computed with a float64 Gram, which shows the cost of that choice.

torch-fidelity is not a dependency of this project: install it apart from the venv (it would
make torchmetrics import it, and it imports torchvision, which this CPU torch cannot load):

    .venv/bin/pip install --no-deps --target /tmp/kid-bench-deps torch-fidelity==0.4.0
    KID_BENCH_DEPS=/tmp/kid-bench-deps nice -n 5 .venv/bin/python benchmarks/kid_speed.py

Only its `metric_kid` maths runs; a stub `torchvision` module is put in `sys.modules` so its
package imports (the feature extractors that need torchvision are never used). Without
KID_BENCH_DEPS the torch-fidelity rows are skipped. Writes benchmarks/results/kid_speed.json.
"""

from __future__ import annotations

import os

THREADS = 2
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(THREADS)

import ctypes  # noqa: E402
import importlib.machinery  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Callable  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from audit.metrics.kernel import kid, offdiagonal_kernel_sum  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000  # rows per set; a smaller N is a quick smoke run
DIMS, REPEATS, SUBSETS, SUBSET_SIZE, WARMUP_ROWS = (2048, 64), 3, 100, 1000, 2000
OUT = Path(__file__).parent / "results" / "kid_speed.json"


class Identity(torch.nn.Module):
    """The 'feature extractor' handed to torchmetrics, so it stores the features it is given."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def features(seed: int, n: int, dim: int, shift: float) -> np.ndarray:
    """Non-negative float32 features: ReLU of a Gaussian, shifted for the generated set."""
    return np.maximum(np.random.default_rng(seed).normal(size=(n, dim)) + shift, 0.0).astype(np.float32)


def torchmetrics_kid(fake: np.ndarray, real: np.ndarray, seed: int, subsets: int = SUBSETS) -> tuple[float, float]:
    """torchmetrics' KernelInceptionDistance with its defaults; only compute() is the work."""
    from torchmetrics.image.kid import KernelInceptionDistance

    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metric = KernelInceptionDistance(feature=Identity(), subsets=subsets, subset_size=SUBSET_SIZE)
    metric.update(torch.from_numpy(real), real=True)
    metric.update(torch.from_numpy(fake), real=False)
    mean, std = metric.compute()
    return float(mean), float(std)


def load_torch_fidelity_kid() -> Callable | None:
    """torch-fidelity's `kid_features_to_metric` from KID_BENCH_DEPS, with torchvision stubbed."""
    path = os.environ.get("KID_BENCH_DEPS")
    if not path:
        return None
    import torchmetrics.image.kid  # noqa: F401  (imported first: it must not see torch-fidelity)

    class Stub(types.ModuleType):
        def __getattr__(self, name: str) -> type:
            if name.startswith("__"):
                raise AttributeError(name)
            return type(name, (), {})

    for name in ("torchvision", "torchvision.datasets", "torchvision.transforms", "torchvision.transforms.functional", "torchvision.models"):
        module = Stub(name)
        module.__path__, module.__spec__ = [], importlib.machinery.ModuleSpec(name, None)
        sys.modules.setdefault(name, module)
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, sys.modules[name])
    sys.path.insert(0, path)
    from torch_fidelity.metric_kid import kid_features_to_metric

    return kid_features_to_metric


def torch_fidelity_kid(kid_features_to_metric: Callable, fake: np.ndarray, real: np.ndarray, seed: int, subsets: int = SUBSETS) -> tuple[float, float]:
    out = kid_features_to_metric(
        torch.from_numpy(fake), torch.from_numpy(real), kid_subsets=subsets, kid_subset_size=SUBSET_SIZE, verbose=False, rng_seed=seed
    )
    return out["kernel_inception_distance_mean"], out["kernel_inception_distance_std"]


def _kib(field: str) -> int:
    return int(next(line for line in open("/proc/self/status") if line.startswith(field)).split()[1])


def measured(fn: Callable[[], object]) -> tuple[float, float, object]:
    """(seconds, peak extra resident MB, value): freed heap memory is handed back to the system
    (malloc_trim, else memory kept from an earlier call would hide this one's), then VmHWM is
    reset to the current RSS before the call."""
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    Path("/proc/self/clear_refs").write_text("5")
    before = _kib("VmRSS")
    started = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - started
    return seconds, (_kib("VmHWM") - before) / 1024, value


def machine() -> dict:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((line.split(":", 1)[1].strip() for line in lscpu.splitlines() if line.startswith("Model name")), platform.processor())
    return {
        "cpu": model, "cpu_count": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0],
        "numpy": np.__version__, "torch": torch.__version__, "torchmetrics": __import__("torchmetrics").__version__,
        "threads": f"{THREADS} BLAS/OpenMP threads for every method (numpy OpenBLAS; torch.set_num_threads({THREADS}))",
    }


def bench_dim(dim: int, tf_kid: Callable | None) -> dict:
    fake, real = features(1, N, dim, 0.05), features(2, N, dim, 0.0)
    k_yy_sum = offdiagonal_kernel_sum(real)
    methods: dict[str, Callable[[int], object]] = {
        "audit kid (float32 Gram)": lambda seed: kid(fake, real),
        "audit kid, reference term memoized": lambda seed: kid(fake, real, k_yy_sum=k_yy_sum),
        "audit kid (float64 Gram)": lambda seed: kid(fake, real, gram_dtype=np.float64),
        "torchmetrics 100 x 1000": lambda seed: torchmetrics_kid(fake, real, seed),
    }
    if tf_kid is not None:
        methods["torch-fidelity 100 x 1000"] = lambda seed: torch_fidelity_kid(tf_kid, fake, real, seed)
    small_fake, small_real = fake[:WARMUP_ROWS], real[:WARMUP_ROWS]
    kid(small_fake, small_real), kid(small_fake, small_real, gram_dtype=np.float64), torchmetrics_kid(small_fake, small_real, 0, 5)
    if tf_kid is not None:
        torch_fidelity_kid(tf_kid, small_fake, small_real, 0, 5)
    runs: dict[str, list] = {name: [] for name in methods}
    for round_ in range(REPEATS):
        for name, fn in methods.items():
            runs[name].append(measured(lambda: fn(round_)))
            print(f"d={dim} round {round_ + 1}: {name}: {runs[name][-1][0]:.2f} s", flush=True)
    exact = runs["audit kid (float32 Gram)"][0][2]
    rows = {}
    for name, results in runs.items():
        row = {"seconds_median": statistics.median(r[0] for r in results), "seconds_all": [r[0] for r in results],
               "peak_extra_mb_max": max(r[1] for r in results)}
        if isinstance(results[0][2], tuple):
            means, stds = [r[2][0] for r in results], [r[2][1] for r in results]
            mc_error = statistics.median(stds) / np.sqrt(SUBSETS)
            row.update({"values_mean": means, "subset_std": stds, "monte_carlo_std_of_mean": mc_error,
                        "abs_diff_to_exact_median": statistics.median(abs(m - exact) for m in means)})
            row["abs_diff_in_monte_carlo_stds"] = row["abs_diff_to_exact_median"] / mc_error
        else:
            row["value"] = results[0][2]
        rows[name] = row
    baseline = rows["audit kid (float32 Gram)"]["seconds_median"]
    for row in rows.values():
        row["time_ratio_to_audit_float32"] = row["seconds_median"] / baseline
    rows["audit kid (float64 Gram)"]["abs_diff_to_float32"] = abs(rows["audit kid (float64 Gram)"]["value"] - exact)
    return {"dim": dim, "n_per_set": N, "exact_kid": exact, "methods": rows}


def main() -> None:
    torch.set_num_threads(THREADS)
    tf_kid = load_torch_fidelity_kid()
    results = [bench_dim(dim, tf_kid) for dim in DIMS]
    tm = "torchmetrics 100 x 1000"
    goal_met = all(r["methods"]["audit kid (float32 Gram)"]["seconds_median"] <= r["methods"][tm]["seconds_median"] for r in results)
    report = {
        "benchmark": "exact blockwise KID (audit) vs the 100 x 1000 subset estimates of torchmetrics and torch-fidelity",
        "date": time.strftime("%Y-%m-%d"), "machine": machine(), "repeats": REPEATS,
        "warmup": f"one call of each on {WARMUP_ROWS} rows (5 subsets for the subset estimates)",
        "torch_fidelity": "0.4.0, metric_kid only (torchvision stubbed)" if tf_kid else "not run (KID_BENCH_DEPS unset)",
        "features": "float32 ReLU(N(0,1)) real vs ReLU(N(0.05,1)) generated",
        "results": results,
        "goal": "audit's exact KID at n=10,000 no slower than torchmetrics' subset estimate (median seconds)",
        "goal_met": goal_met,
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{'d':>5} {'method':<38} {'median s':>9} {'ratio':>6} {'peak MB':>8}  accuracy")
    for r in results:
        for name, row in r["methods"].items():
            accuracy = (f"|exact - mean| {row['abs_diff_to_exact_median']:.2e} = {row['abs_diff_in_monte_carlo_stds']:.2f} MC std ({row['monte_carlo_std_of_mean']:.2e})"
                        if "subset_std" in row else f"value {row['value']:.6e}")
            print(f"{r['dim']:>5} {name:<38} {row['seconds_median']:>9.2f} {row['time_ratio_to_audit_float32']:>6.2f} {row['peak_extra_mb_max']:>8.0f}  {accuracy}")
    print(f"goal met: {goal_met}")


if __name__ == "__main__":
    main()
