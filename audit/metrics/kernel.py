"""Kernel Inception Distance: unbiased MMD^2 with the cubic polynomial kernel, in float64.

k(x, y) = (x.y / d + 1)^3 (Binkowski et al., 2018; the defaults of torchmetrics and
torch-fidelity). torchmetrics averages the unbiased MMD^2 over random subsets (100 x 1000) to
bound memory; each of its three terms is an average of kernel values over pairs, and averaged
over uniformly random subsets every pair is equally likely, so the expectation of its estimate
is the all-pairs U-statistic below. `kid` computes that limit exactly (no Monte Carlo noise
from subset draws, any set sizes); `kid_subsets` reproduces torchmetrics' subset estimate.
"""

from __future__ import annotations

import numpy as np

from audit.metrics.resample import bootstrap_counts


def polynomial_kernel(x: np.ndarray, y: np.ndarray, degree: int = 3, gamma: float | None = None, coef: float = 1.0) -> np.ndarray:
    """(gamma x.y + coef)^degree for rows of x [N, D] and y [M, D]; gamma defaults to 1/D."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    return (x @ y.T * gamma + coef) ** degree


def _check_sets(x: np.ndarray, y: np.ndarray) -> None:
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"features must be [N, D] and [M, D], got {x.shape} and {y.shape}")
    if len(x) < 2 or len(y) < 2:
        raise ValueError(f"unbiased MMD needs at least 2 rows per set, got {len(x)} and {len(y)}")


def mmd2_unbiased_from_kernels(k_xx: np.ndarray, k_yy: np.ndarray, k_xy: np.ndarray) -> float:
    """Unbiased MMD^2: off-diagonal means of K_xx and K_yy minus twice the mean of K_xy."""
    m, n = len(k_xx), len(k_yy)
    xx = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    yy = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(xx + yy - 2 * k_xy.mean())


def kid(x: np.ndarray, y: np.ndarray, degree: int = 3, gamma: float | None = None, coef: float = 1.0) -> float:
    """KID of feature sets x [N, D] and y [M, D]: the all-pairs unbiased MMD^2 (N and M may differ)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    _check_sets(x, y)
    k = lambda a, b: polynomial_kernel(a, b, degree, gamma if gamma is not None else 1.0 / x.shape[1], coef)
    return mmd2_unbiased_from_kernels(k(x, x), k(y, y), k(x, y))


def kid_subsets(
    x: np.ndarray, y: np.ndarray, subsets: int = 100, subset_size: int = 1000, seed: int = 0,
    degree: int = 3, gamma: float | None = None, coef: float = 1.0,
) -> tuple[float, float]:
    """torchmetrics' estimate: mean and (population) std of the unbiased MMD^2 over `subsets`
    random subsets of `subset_size` rows of each set (clipped to the smaller set's size)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    _check_sets(x, y)
    size = min(subset_size, len(x), len(y))
    rng = np.random.default_rng(seed)
    values = np.array([
        kid(x[rng.permutation(len(x))[:size]], y[rng.permutation(len(y))[:size]], degree, gamma, coef)
        for _ in range(subsets)
    ])
    return float(values.mean()), float(values.std())


def kid_bootstrap(
    x: np.ndarray, y: np.ndarray, resamples: int, seed: int, degree: int = 3, gamma: float | None = None,
    coef: float = 1.0, k_yy: np.ndarray | None = None,
) -> np.ndarray:
    """`kid` on `resamples` bootstrap draws of the rows of x and of y (the draws of
    `audit.stats.bootstrap_distribution(kid, [x, y], resamples, seed)`), from three kernel
    matrices and count vectors: the kernel sum over resampled pairs is c^T K c.
    `k_yy` may pass a precomputed kernel of y with itself (a run-wide reference)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    _check_sets(x, y)
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    k_xx = polynomial_kernel(x, x, degree, gamma, coef)
    k_xy = polynomial_kernel(x, y, degree, gamma, coef)
    k_yy = polynomial_kernel(y, y, degree, gamma, coef) if k_yy is None else k_yy
    m, n = len(x), len(y)
    cx, cy = (c.astype(np.float64) for c in bootstrap_counts([m, n], resamples, seed))
    xx = (np.einsum("bi,bi->b", cx @ k_xx, cx) - cx @ np.diag(k_xx)) / (m * (m - 1))
    yy = (np.einsum("bi,bi->b", cy @ k_yy, cy) - cy @ np.diag(k_yy)) / (n * (n - 1))
    xy = np.einsum("bi,bi->b", cx @ k_xy, cy) / (m * n)
    return xx + yy - 2 * xy
