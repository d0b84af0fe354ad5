"""Bootstrap resamples as per-row counts, for statistics that vectorize over resamples.

`bootstrap_counts` draws exactly the rows that `audit.stats.bootstrap_distribution` draws for
the same seed and set sizes, but returns them as count matrices ([resamples, n] per set): a
statistic that is a weighted sum over rows or pairs of rows (kernel sums, empirical CDFs,
nearest-neighbour indicators) then evaluates every resample in one matrix product instead of a
Python loop. Tests prove equality with `bootstrap_distribution` on the plain statistic.
`bootstrap_count_chunks` yields the same counts in bounded chunks; `multinomial_counts` is the
robustness curves' own (different) stream.

Strata: a generated set drawn class-balanced (label i % K for sample i, as the sample store asks
a conditional model) is not an i.i.d. draw, and resampling its rows freely mixes the classes and
overstates the variance (measured on the bundled GAN: intervals 1.6x the spread over fresh
sample sets). `resample_rows` and `stratified_bootstrap_counts` redraw each stratum within
itself, keeping its size, which is how a fresh set would be drawn.
"""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np


def bootstrap_counts(sizes: Sequence[int], resamples: int, seed: int) -> list[np.ndarray]:
    """For each set size n: an int [resamples, n] array, row b = how often each row is drawn."""
    rng = np.random.default_rng(seed)
    counts = [np.zeros((resamples, n), dtype=np.int64) for n in sizes]
    for b in range(resamples):
        for c, n in zip(counts, sizes):
            c[b] = np.bincount(rng.integers(0, n, n), minlength=n)
    return counts


def resample_rows(rng: np.random.Generator, n: int, strata: np.ndarray | None = None) -> np.ndarray:
    """Row indices of one bootstrap draw of n rows: uniform with replacement, or within each
    stratum (strata in sorted order, each redrawn to its own size) when `strata` [n] is given.
    Without strata it is `rng.integers(0, n, n)`, the draw `bootstrap_counts` makes."""
    if strata is None:
        return rng.integers(0, n, n)
    strata = np.asarray(strata)
    if len(strata) != n:
        raise ValueError(f"strata has {len(strata)} labels for {n} rows")
    parts = [np.flatnonzero(strata == s) for s in np.unique(strata)]
    return np.concatenate([p[rng.integers(0, len(p), len(p))] for p in parts])


def stratified_bootstrap_counts(n: int, resamples: int, seed: int, strata: np.ndarray | None = None) -> np.ndarray:
    """An int [resamples, n] array: row b counts how often each row is drawn by `resample_rows`
    (the draws of `audit.stats.bootstrap_distribution(.., [x], resamples, seed, strata=[strata])`);
    without strata, `bootstrap_counts([n], resamples, seed)[0]`."""
    rng = np.random.default_rng(seed)
    counts = np.zeros((resamples, n), dtype=np.int64)
    for b in range(resamples):
        counts[b] = np.bincount(resample_rows(rng, n, strata), minlength=n)
    return counts


def bootstrap_count_chunks(n: int, resamples: int, seed: int, chunk: int) -> Iterator[np.ndarray]:
    """`bootstrap_counts([n], resamples, seed)[0]` as float64 chunks of at most `chunk` resamples
    ([<=chunk, n]: row i drawn counts[b, i] times), so a large n never holds every resample at once."""
    rng = np.random.default_rng(seed)
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        yield np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(size)]).astype(np.float64)


def multinomial_counts(n: int, resamples: int, seed: int) -> np.ndarray | None:
    """[resamples, n] float64 resampling counts drawn as one multinomial per resample (each row
    sums to n), or None when resamples <= 0. A different random stream from `bootstrap_counts`
    for the same seed: the robustness curves use it, and keep it so their CIs stay reproducible."""
    if resamples <= 0:
        return None
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=resamples).astype(np.float64)
