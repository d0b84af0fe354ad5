"""Sliced Wasserstein distance: the mean over fixed random unit directions of the exact 1-D
Wasserstein-1 distance between the projected sets (SW1; Rabin et al., 2011; Bonneel et al., 2015).

The 1-D distance is the exact W1 between two empirical distributions of any sizes,
W1 = integral |F(t) - G(t)| dt (what `scipy.stats.wasserstein_distance` computes), evaluated for
all directions at once: sort the pooled projections, accumulate +1/m for rows of x and -1/n for
rows of y (F - G just after each point), and sum |F - G| times the gaps. Resampling weights only
change the increments, not the sort, so resamples reuse one sort.
"""

from __future__ import annotations

import numpy as np

DEFAULT_PROJECTIONS = 128
PROJECTION_SEED = 0


def random_directions(dim: int, count: int = DEFAULT_PROJECTIONS, seed: int = PROJECTION_SEED) -> np.ndarray:
    """`count` directions drawn uniformly on the unit sphere in R^dim, as a [dim, count] matrix."""
    v = np.random.default_rng(seed).standard_normal((dim, count))
    return v / np.linalg.norm(v, axis=0, keepdims=True)


class _Pooled:
    """Pooled projections of x [m, P] and y [n, P], sorted once per direction."""

    def __init__(self, u: np.ndarray, v: np.ndarray) -> None:
        u, v = np.asarray(u, np.float64), np.asarray(v, np.float64)
        if u.ndim == 1:
            u, v = u[:, None], v[:, None]
        if u.shape[1] != v.shape[1] or len(u) == 0 or len(v) == 0:
            raise ValueError(f"need [m, P] and [n, P] with m, n > 0, got {u.shape} and {v.shape}")
        self.m, self.n = len(u), len(v)
        pooled = np.concatenate([u, v]).T  # [P, m + n]
        self.order = np.argsort(pooled, axis=1, kind="stable")
        self.gaps = np.diff(np.take_along_axis(pooled, self.order, axis=1), axis=1)  # [P, m + n - 1]

    def distance(self, wx: np.ndarray, wy: np.ndarray) -> np.ndarray:
        """W1 per direction for row weights wx [m] and wy [n] (each summing to 1)."""
        steps = np.concatenate([wx, -wy]).take(self.order)
        np.cumsum(steps, axis=1, out=steps)
        np.abs(steps, out=steps)
        return np.einsum("ij,ij->i", steps[:, :-1], self.gaps)


def wasserstein1_1d(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Exact W1 between the empirical distributions of each column of u [m, P] and v [n, P]
    (1-D inputs give a one-element array)."""
    p = _Pooled(u, v)
    return p.distance(np.full(p.m, 1.0 / p.m), np.full(p.n, 1.0 / p.n))


def _flatten(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    return x.reshape(len(x), -1)


def sliced_wasserstein(
    x: np.ndarray, y: np.ndarray, projections: int = DEFAULT_PROJECTIONS, seed: int = PROJECTION_SEED
) -> float:
    """SW1 between sets x [m, ...] and y [n, ...] (rows flattened): mean of the exact 1-D W1
    over `projections` random unit directions drawn from `seed`."""
    x, y = _flatten(x), _flatten(y)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"sets have different dimensions: {x.shape[1]} and {y.shape[1]}")
    directions = random_directions(x.shape[1], projections, seed)
    return float(wasserstein1_1d(x @ directions, y @ directions).mean())


def sliced_wasserstein_resampled(
    x: np.ndarray, y: np.ndarray, counts: np.ndarray,
    projections: int = DEFAULT_PROJECTIONS, projection_seed: int = PROJECTION_SEED,
) -> np.ndarray:
    """`sliced_wasserstein(x, y)` with the rows of x weighted by each row of `counts` [B, m]
    (bootstrap counts, or 0/1 subsample masks) and y fixed: one value per row of `counts`."""
    x, y = _flatten(x), _flatten(y)
    directions = random_directions(x.shape[1], projections, projection_seed)
    pooled = _Pooled(x @ directions, y @ directions)
    counts = np.asarray(counts, np.float64)
    wy = np.full(pooled.n, 1.0 / pooled.n)
    return np.array([pooled.distance(c / c.sum(), wy).mean() for c in counts])
