"""k-NN manifold metrics: improved precision and recall (Kynkäänniemi et al., 2019) and density
and coverage (Naeem et al., 2020), with the conventions of the authors' `prdc` package.

Each set's manifold is the union of balls around its points, of radius the distance to the
point's k-th nearest neighbour in its own set (the point itself excluded). With real set R and
generated set F:
  precision = share of F inside the real manifold;  recall = share of R inside the generated one;
  density   = mean over F of (number of real balls containing it) / k;
  coverage  = share of R whose own ball contains at least one point of F.
Comparisons are strict (`<`), as in `prdc`.

Resampling (`Manifolds.resampled`) reweights the generated rows with the radii held at their
full-sample values: a resample with duplicated rows would otherwise meet its own copies at
distance 0 and collapse the radii.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METRICS = ("precision", "recall", "density", "coverage")


def pairwise_distances(x: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
    """Euclidean distances between rows of x [N, D] and y [M, D] (or x itself), float64."""
    from scipy.spatial.distance import cdist

    x = np.asarray(x, np.float64).reshape(len(x), -1)
    y = x if y is None else np.asarray(y, np.float64).reshape(len(y), -1)
    return cdist(x, y)


def knn_radii(x: np.ndarray, k: int, distances: np.ndarray | None = None) -> np.ndarray:
    """Distance from each row of x to its k-th nearest other row (self excluded)."""
    d = pairwise_distances(x) if distances is None else distances
    if not 1 <= k < len(d):
        raise ValueError(f"k-NN radii need 1 <= k < number of rows, got k={k} with {len(d)} rows")
    return np.partition(d, k, axis=1)[:, k]  # index 0 is the point itself (distance 0)


@dataclass
class Manifolds:
    """What the four metrics are computed from: the real-to-fake distances and both radii."""

    k: int
    real_radii: np.ndarray  # [R]
    fake_radii: np.ndarray  # [F]
    in_real: np.ndarray  # [R, F] bool: fake f lies inside real r's ball
    in_fake: np.ndarray  # [R, F] bool: real r lies inside fake f's ball

    @classmethod
    def build(
        cls, real: np.ndarray, fake: np.ndarray, k: int = 5,
        real_radii: np.ndarray | None = None, fake_distances: np.ndarray | None = None,
    ) -> "Manifolds":
        """`real_radii` (k-NN radii of `real`) and `fake_distances` (fake-to-fake distances) may
        pass precomputed values shared with other metrics."""
        real_radii = knn_radii(real, k) if real_radii is None else real_radii
        fake_radii = knn_radii(fake, k, distances=fake_distances)
        d = pairwise_distances(real, fake)
        return cls(k, real_radii, fake_radii, d < real_radii[:, None], d < fake_radii[None, :])

    def values(self) -> dict[str, float]:
        return {
            "precision": float(self.in_real.any(axis=0).mean()),
            "recall": float(self.in_fake.any(axis=1).mean()),
            "density": float(self.in_real.sum(axis=0).mean() / self.k),
            "coverage": float(self.in_real.any(axis=1).mean()),
        }

    def resampled(self, fake_counts: np.ndarray) -> dict[str, np.ndarray]:
        """Each metric with the generated rows weighted by each row of `fake_counts` [B, F]
        (bootstrap counts or 0/1 masks; a fake ball exists if its centre is drawn) and the real
        set and every radius fixed: the variation of a fresh generated set against the same
        reference."""
        n_real, n_fake = self.in_real.shape
        cf = np.asarray(fake_counts, np.float32)
        in_real, in_fake = self.in_real.astype(np.float32), self.in_fake.astype(np.float32)
        drawn = cf.sum(axis=1, dtype=np.float64)
        inside_real = in_real.any(axis=0).astype(np.float64)  # [F]
        balls_per_fake = in_real.sum(axis=0, dtype=np.float64)  # [F]
        present = (cf > 0).astype(np.float32)
        return {
            "precision": cf.astype(np.float64) @ inside_real / drawn,
            "recall": ((present @ in_fake.T) > 0).sum(axis=1, dtype=np.float64) / n_real,
            "density": cf.astype(np.float64) @ balls_per_fake / (self.k * drawn),
            "coverage": ((present @ in_real.T) > 0).sum(axis=1, dtype=np.float64) / n_real,
        }


def prdc(real: np.ndarray, fake: np.ndarray, k: int = 5) -> dict[str, float]:
    """Precision, recall, density and coverage of `fake` against `real` (feature sets [N, D])."""
    return Manifolds.build(real, fake, k).values()
