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
itself, keeping its size, which is how a fresh set would be drawn. Only where every stratum holds
at least MIN_STRATUM rows (`usable_strata`): redrawing m rows within themselves shrinks each
stratum's variance by (m - 1) / m, to nothing at m = 1, where every resample equals the original
set and the interval has zero width. Smaller strata are resampled freely, which over-covers
rather than under-covers (benchmarks/strata_coverage.py).
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


MIN_STRATUM = 10
"""The fewest rows every stratum needs before resampling keeps strata. Coverage of a 95%
percentile bootstrap of a mean over 10 classes of m rows (benchmarks/strata_coverage.py, 2,000
sets each): within strata 0.00 at m=1, 0.79 at m=2, 0.87 at 3, 0.91 at 5, 0.92 at 10, 0.94 at 20;
freely resampled 0.95-0.98 with class means that differ (0.90-0.94 without). From m=10 on the
stratified interval is within 1.5 points of the free one on i.i.d. rows, its own floor."""


def usable_strata(strata: np.ndarray | None) -> np.ndarray | None:
    """`strata` as an array where every stratum holds at least MIN_STRATUM rows, else None
    (resample freely: strata of one row make every resample the original set)."""
    if strata is None:
        return None
    strata = np.asarray(strata)
    _, sizes = np.unique(strata, return_counts=True)
    return strata if len(sizes) and int(sizes.min()) >= MIN_STRATUM else None


def strata_note(strata: np.ndarray | None) -> str:
    """How a bootstrap over rows with these strata resamples, for a record's details."""
    if strata is None:
        return "rows resampled freely (i.i.d. samples)"
    _, sizes = np.unique(np.asarray(strata), return_counts=True)
    if usable_strata(strata) is not None:
        return f"rows resampled within their {len(sizes)} classes ({int(sizes.min())} to {int(sizes.max())} rows each)"
    smallest = int(sizes.min())
    return (f"rows resampled freely, not within their {len(sizes)} classes: the smallest holds {smallest} row{'s' if smallest > 1 else ''}, "
            f"fewer than the {MIN_STRATUM} a within-class resample needs (a class of one row is the same in every resample)")


def resample_rows(rng: np.random.Generator, n: int, strata: np.ndarray | None = None) -> np.ndarray:
    """Row indices of one bootstrap draw of n rows: uniform with replacement, or within each
    stratum (strata in sorted order, each redrawn to its own size) when `strata` [n] is given and
    every stratum holds at least MIN_STRATUM rows (`usable_strata`). Without strata it is
    `rng.integers(0, n, n)`, the draw `bootstrap_counts` makes."""
    if strata is not None and len(strata) != n:
        raise ValueError(f"strata has {len(strata)} labels for {n} rows")
    strata = usable_strata(strata)
    if strata is None:
        return rng.integers(0, n, n)
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


DEGENERATE_KEY = "ci_degenerate"
"""The details key of a record whose bootstrap interval cannot be read as one (`degenerate_interval`):
gates read it and judge the record inconclusive, never certain (audit.gates)."""

MIN_DISTINCT_RESAMPLES = 40
"""The fewest distinct resamples a bootstrap must be able to draw for a 95% percentile interval:
each tail holds 2.5% of the draws, so with fewer than 1 / 0.025 distinct resamples a tail is a
single resample. n rows give C(2n - 1, n) distinct ones: 3 for 2 rows, 35 for 4, 126 for 5."""


def degenerate_interval(low: float, high: float, rows: np.ndarray) -> str | None:
    """Why a bootstrap interval over `rows` (resampled along axis 0) cannot be judged although at
    least two rows differ: it has zero width (no resample moved the statistic: each class held one
    row, or the statistic cannot tell the rows apart), or the rows allow fewer than
    MIN_DISTINCT_RESAMPLES distinct resamples. None for an interval that can, none at all, or
    identical rows."""
    import math

    if not (np.isfinite(low) and np.isfinite(high)):
        return None
    rows = np.asarray(rows)
    distinct = len(np.unique(rows.reshape(len(rows), -1), axis=0)) if len(rows) else 0
    if distinct < 2:
        return None
    if high <= low:
        return (f"the bootstrap interval has zero width ({low:.6g}) over {len(rows)} rows, {distinct} of them distinct: "
                "no resample changed the statistic, which is no evidence that a fresh sample would not")
    resamples = math.comb(2 * len(rows) - 1, len(rows))
    if resamples < MIN_DISTINCT_RESAMPLES:
        return (f"a bootstrap over {len(rows)} rows can draw only {resamples} distinct resamples; a 95% interval needs at "
                f"least {MIN_DISTINCT_RESAMPLES} (each tail is 2.5% of them): n={len(rows)} is too few to judge")
    return None
