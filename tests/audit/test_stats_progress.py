"""The bootstrap loop reports its resamples, growing to the total, without changing its draws."""

from __future__ import annotations

import numpy as np

from audit.progress_events import reporting_to
from audit.stats import bootstrap_distribution


def test_bootstrap_reports_growing_counts_up_to_the_total():
    x = np.arange(30, dtype=np.float64)
    heard: list[tuple[str, int | None, int | None]] = []
    with reporting_to(lambda *step: heard.append(step)):
        values = bootstrap_distribution(np.mean, [x], 120, seed=3)
    counts = [done for step, done, total in heard if step == "bootstrap" and total == 120]
    assert counts == sorted(set(counts)) and counts[-1] == 120 and len(counts) >= 10
    rng = np.random.default_rng(3)  # the same draws, computed here without the harness
    expected = [x[rng.integers(0, len(x), len(x))].mean() for _ in range(120)]
    np.testing.assert_array_equal(values, expected)
