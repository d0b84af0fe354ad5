"""Kernel Inception Distance: unbiased MMD^2 with the cubic polynomial kernel, blockwise.

k(x, y) = (x.y / d + 1)^3 (Binkowski et al., 2018; the defaults of torchmetrics and
torch-fidelity). torchmetrics averages the unbiased MMD^2 over random subsets (100 x 1000) to
bound memory; each of its three terms is an average of kernel values over pairs, and averaged
over uniformly random subsets every pair is equally likely, so the expectation of its estimate
is the all-pairs U-statistic. `kid` computes that limit exactly (no Monte Carlo noise from
subset draws, any set sizes); `kid_subsets` reproduces torchmetrics' subset estimate.

Bounded memory: kernel values are produced in TILE x TILE tiles and reduced at once, so no
N x M matrix is ever held; K_xx and K_yy visit only the upper triangle of tiles (an
off-diagonal tile counts twice) and each diagonal tile subtracts exactly its own diagonal.

Precision (chosen by measurement, see benchmarks/README.md): the inner products of a tile are
a float32 GEMM (about twice as fast as float64), while the scaling, the cube and every sum are
float64 (torchmetrics and torch-fidelity do the whole computation, cube and sums included, in
float32 for float32 features). A float32 inner product of d non-negative terms has a relative rounding
error of order sqrt(d) * 6e-8 (round-to-nearest errors, random in sign), about 3e-6 at d = 2048;
the cube triples it, and a kernel mean over the pairs of N >= 500 rows shrinks it at least by
sqrt(N), so each mean moves by well under 1e-6 of its size. The tests bound |float32 - float64
all-pairs| by 1e-6 times the kernel means (whose difference KID is) for 64-d values in [0, 10]
and 2048-d non-negative features (measured: ~2e-11); pass `gram_dtype=np.float64` for a
float64 GEMM.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np


TILE = 1024  # rows and columns per kernel tile: 1024^2 values, about 20 MB with its temporaries


def polynomial_kernel(x: np.ndarray, y: np.ndarray, degree: int = 3, gamma: float | None = None, coef: float = 1.0) -> np.ndarray:
    """(gamma x.y + coef)^degree for rows of x [N, D] and y [M, D]; gamma defaults to 1/D.
    The whole N x M matrix in float64: for small sets and tests; `kid` never builds it."""
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


def _kernel_tile(a: np.ndarray, b: np.ndarray, gamma: float, coef: float, degree: int) -> np.ndarray:
    """float64 (gamma a.b + coef)^degree of two row blocks already in the Gram dtype."""
    k = np.multiply(a @ b.T, gamma, dtype=np.float64)
    k += coef
    if degree != 3:
        return k**degree
    cube = k * k
    cube *= k
    return cube


def _tiles(
    a: np.ndarray, b: np.ndarray | None, gamma: float, coef: float, degree: int, gram_dtype: type,
) -> Iterator[tuple[slice, slice, np.ndarray]]:
    """(rows, columns, kernel tile) covering a x b; with b None, the upper triangle of a x a."""
    a = np.ascontiguousarray(a, dtype=gram_dtype)
    other = a if b is None else np.ascontiguousarray(b, dtype=gram_dtype)
    for i in range(0, len(a), TILE):
        rows = slice(i, min(i + TILE, len(a)))
        for j in range(i if b is None else 0, len(other), TILE):
            cols = slice(j, min(j + TILE, len(other)))
            yield rows, cols, _kernel_tile(a[rows], other[cols], gamma, coef, degree)


def _gamma(x: np.ndarray, gamma: float | None) -> float:
    return 1.0 / x.shape[1] if gamma is None else float(gamma)


def _cross_sum(a: np.ndarray, b: np.ndarray, gamma: float, coef: float, degree: int, gram_dtype: type) -> float:
    """Sum of k(a_i, b_j) over all pairs."""
    return float(sum(tile.sum() for _, _, tile in _tiles(a, b, gamma, coef, degree, gram_dtype)))


def _offdiagonal_sum(a: np.ndarray, gamma: float, coef: float, degree: int, gram_dtype: type) -> float:
    """Sum of k(a_i, a_j) over i != j: upper-triangle tiles, off-diagonal ones twice."""
    total = 0.0
    for rows, cols, tile in _tiles(a, None, gamma, coef, degree, gram_dtype):
        total += tile.sum() - np.trace(tile) if rows == cols else 2.0 * tile.sum()
    return float(total)


def offdiagonal_kernel_sum(
    y: np.ndarray, degree: int = 3, gamma: float | None = None, coef: float = 1.0, gram_dtype: type = np.float32,
) -> float:
    """sum over i != j of k(y_i, y_j): the reference set's own term of KID, which a caller can
    compute once and pass as `k_yy_sum` to `kid` and `kid_resampled` for every model."""
    y = np.asarray(y)
    if y.ndim != 2 or len(y) < 2:
        raise ValueError(f"features must be [N, D] with N >= 2, got {y.shape}")
    return _offdiagonal_sum(y, _gamma(y, gamma), coef, degree, gram_dtype)


def kid(
    x: np.ndarray, y: np.ndarray, degree: int = 3, gamma: float | None = None, coef: float = 1.0,
    k_yy_sum: float | None = None, gram_dtype: type = np.float32,
) -> float:
    """KID of feature sets x [N, D] and y [M, D]: the all-pairs unbiased MMD^2 (N and M may
    differ), in bounded memory. `k_yy_sum` may pass `offdiagonal_kernel_sum(y)` computed before."""
    x, y = np.asarray(x), np.asarray(y)
    _check_sets(x, y)
    g = _gamma(x, gamma)
    m, n = len(x), len(y)
    yy_sum = _offdiagonal_sum(y, g, coef, degree, gram_dtype) if k_yy_sum is None else float(k_yy_sum)
    xx = _offdiagonal_sum(x, g, coef, degree, gram_dtype) / (m * (m - 1))
    xy = _cross_sum(x, y, g, coef, degree, gram_dtype) / (m * n)
    return float(xx + yy_sum / (n * (n - 1)) - 2 * xy)


def _weighted_quadratic(
    a: np.ndarray, wa: np.ndarray, gamma: float, coef: float, degree: int, gram_dtype: type,
    b: np.ndarray | None = None, wb: np.ndarray | None = None,
) -> np.ndarray:
    """Per weight row r: sum over pairs of wa[r, i] k(a_i, b_j) wb[r, j]; with b None, over the
    pairs i != j of a with itself (w_i w_j summed, minus w_i k(a_i, a_i) for the diagonal, so
    that integer counts give the U-statistic of the resampled multiset)."""
    out = np.zeros(len(wa))
    for rows, cols, tile in _tiles(a, b, gamma, coef, degree, gram_dtype):
        right = wa[:, cols] if b is None else wb[:, cols]
        part = np.einsum("rj,rj->r", wa[:, rows] @ tile, right)
        if b is not None:
            out += part
        elif rows == cols:
            out += part - wa[:, rows] @ np.diagonal(tile)
        else:
            out += 2.0 * part
    return out


def _as_weights(weights: np.ndarray, n: int) -> np.ndarray:
    w = np.atleast_2d(np.asarray(weights, np.float64))
    if w.ndim != 2 or w.shape[1] != n:
        raise ValueError(f"weights must be [B, {n}] (one weight per row of x), got {np.shape(weights)}")
    if (w < 0).any() or (w.sum(axis=1) < 2).any():
        raise ValueError("weights must be non-negative with a total of at least 2 per row")
    return w


def kid_resampled(
    x: np.ndarray, y: np.ndarray, fake_weights: np.ndarray, k_yy_sum: float | None = None,
    degree: int = 3, gamma: float | None = None, coef: float = 1.0, gram_dtype: type = np.float32,
) -> np.ndarray:
    """KID of B reweightings of the rows of x against all of y, blockwise: float64 [B].

    Row b of `fake_weights` [B, N] is either a 0/1 mask of m rows (a subsample without
    replacement: the value equals `kid(x[mask], y)`) or bootstrap counts summing to m (the value
    equals `kid` of x's rows repeated that often). With m = w.sum(): xx = (w^T K_xx w -
    w.diag(K_xx)) / (m(m-1)), xy = w^T K_xy 1 / (m n_y); the yy term is fixed (all of y once),
    so `k_yy_sum` may pass `offdiagonal_kernel_sum(y)` computed before."""
    x, y = np.asarray(x), np.asarray(y)
    _check_sets(x, y)
    w = _as_weights(fake_weights, len(x))
    g = _gamma(x, gamma)
    n = len(y)
    yy_sum = _offdiagonal_sum(y, g, coef, degree, gram_dtype) if k_yy_sum is None else float(k_yy_sum)
    row_sums = np.zeros(len(x))
    for rows, _, tile in _tiles(x, y, g, coef, degree, gram_dtype):
        row_sums[rows] += tile.sum(axis=1)
    m = w.sum(axis=1)
    xx = _weighted_quadratic(x, w, g, coef, degree, gram_dtype) / (m * (m - 1))
    return xx + yy_sum / (n * (n - 1)) - 2 * (w @ row_sums) / (m * n)


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
