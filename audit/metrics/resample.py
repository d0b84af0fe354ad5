"""Bootstrap resamples as per-row counts, for statistics that vectorize over resamples.

`bootstrap_counts` draws exactly the rows that `audit.stats.bootstrap_distribution` draws for
the same seed and set sizes, but returns them as count matrices ([resamples, n] per set): a
statistic that is a weighted sum over rows or pairs of rows (kernel sums, empirical CDFs,
nearest-neighbour indicators) then evaluates every resample in one matrix product instead of a
Python loop. Tests prove equality with `bootstrap_distribution` on the plain statistic.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def bootstrap_counts(sizes: Sequence[int], resamples: int, seed: int) -> list[np.ndarray]:
    """For each set size n: an int [resamples, n] array, row b = how often each row is drawn."""
    rng = np.random.default_rng(seed)
    counts = [np.zeros((resamples, n), dtype=np.int64) for n in sizes]
    for b in range(resamples):
        for c, n in zip(counts, sizes):
            c[b] = np.bincount(rng.integers(0, n, n), minlength=n)
    return counts
