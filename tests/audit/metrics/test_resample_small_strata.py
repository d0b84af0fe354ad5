"""Stratified resampling only where every stratum holds MIN_STRATUM rows: strata of one or two rows
made every resample (nearly) the original set, so a class-balanced set of n <= 10 got a
zero-width interval and n = 16 one far too narrow. A zero-width interval over rows that differ
is marked, and gates judge it inconclusive."""

from __future__ import annotations

import numpy as np
import pytest

from audit.gates import judge
from audit.metrics.histogram_interval import class_entropy_interval, class_table
from audit.metrics.resample import (
    DEGENERATE_KEY,
    MIN_STRATUM,
    degenerate_interval,
    resample_rows,
    strata_note,
    stratified_bootstrap_counts,
    usable_strata,
)
from audit.policy import Gate
from audit.results import CheckResult
from audit.stats import bootstrap_ci


def _balanced(n: int, classes: int = 10) -> np.ndarray:
    return np.arange(n) % classes


def test_strata_of_one_row_are_resampled_freely():
    """n = 10 over 10 classes: one row per class, the draw the sample store makes for n <= 10."""
    rng = np.random.default_rng(0)
    strata = _balanced(10)
    assert usable_strata(strata) is None
    draws = {tuple(resample_rows(rng, 10, strata)) for _ in range(20)}
    assert len(draws) > 1 and tuple(range(10)) not in draws


def test_strata_as_large_as_the_floor_are_kept():
    strata = _balanced(10 * MIN_STRATUM)
    assert usable_strata(strata) is strata
    rows = resample_rows(np.random.default_rng(0), len(strata), strata)
    assert np.array_equal(np.bincount(strata[rows]), np.full(10, MIN_STRATUM))  # each class keeps its size
    assert usable_strata(_balanced(10 * MIN_STRATUM - 1)) is None  # one class a row short
    assert "within their 10 classes" in strata_note(strata) and "freely" in strata_note(_balanced(16))


def test_the_interval_of_a_mean_over_one_row_per_class_has_width():
    """Before: [mean, mean] whatever the data (every stratified resample is the set itself)."""
    values = np.random.default_rng(1).normal(size=10)
    low, high = bootstrap_ci(np.mean, [values], 200, 0, strata=[_balanced(10)])
    assert high - low > 0.5 * values.std() and low < values.mean() < high


def test_two_rows_per_class_are_not_too_narrow():
    """n = 20: strata of 2 halve each class's variance; resampled freely, the interval of a mean of
    i.i.d. rows is as wide as the unstratified one (same draws)."""
    values = np.random.default_rng(2).normal(size=20)
    stratified = bootstrap_ci(np.mean, [values], 300, 5, strata=[_balanced(20)])
    free = bootstrap_ci(np.mean, [values], 300, 5)
    assert stratified == free


def test_counts_and_class_table_follow_the_same_rule():
    strata = _balanced(16)
    assert np.array_equal(stratified_bootstrap_counts(16, 30, 3, strata), stratified_bootstrap_counts(16, 30, 3))
    predictions = np.arange(16) % 10
    assert class_table(predictions, 10, strata).shape == (1, 10)  # not 10 strata of 1-2 rows
    low, high = class_entropy_interval(predictions, 10, strata)
    assert high - low > 0.05
    with pytest.raises(ValueError):
        class_table(predictions, 10, strata[:5])


def test_coverage_of_one_row_per_class_rises_from_zero():
    """The simulation behind MIN_STRATUM, small: 10 classes of one row, 200 sets. Before, no
    interval held the true mean (zero width); resampled freely, most do."""
    rng = np.random.default_rng(7)
    strata = _balanced(10)
    hits = 0
    for b in range(200):
        values = rng.normal(size=10)
        low, high = bootstrap_ci(np.mean, [values], 100, b, method="percentile", strata=[strata])
        hits += low <= 0.0 <= high
    assert hits / 200 > 0.8


def test_a_zero_width_interval_over_distinct_rows_is_marked_and_not_judged_certain():
    rows = np.array([[1.0, 2.0], [3.0, 4.0]])
    why = degenerate_interval(-146.0, -146.0, rows)
    assert why and "zero width" in why and "2 of them distinct" in why
    assert degenerate_interval(-1.0, 1.0, np.arange(12.0).reshape(6, 2)) is None
    assert degenerate_interval(0.0, 0.0, np.zeros((5, 2))) is None  # identical rows: nothing to resample
    assert degenerate_interval(float("nan"), float("nan"), rows) is None
    gate = Gate(check="quantization.delta_fid", max=5.0, severity="error")
    record = CheckResult(check="quantization.delta_fid", model="m", precision="int8", device="cpu", status="measured", seed=0,
                         value=-146.0, ci_low=-146.0, ci_high=-146.0, n=2, details={DEGENERATE_KEY: why})
    judged = judge(record, [gate])
    assert judged.status == "inconclusive" and "zero width" in judged.gates[0]["note"]
    plain = CheckResult(check="quantization.delta_fid", model="m", precision="int8", device="cpu", status="measured", seed=0,
                        value=-146.0, ci_low=-146.0, ci_high=-146.0, n=2)
    assert judge(plain, [gate]).status == "pass"  # unmarked records are judged as before


def test_too_few_rows_for_a_95_percent_interval_are_marked():
    """Two rows allow 3 distinct resamples (qmods:outlier at n=2: ΔFID -146 [-182, -104], a
    pass, where n=512 measures +704); five allow 126."""
    two = np.array([[0.0], [1.0]])
    assert "only 3 distinct resamples" in degenerate_interval(-182.0, -104.0, two)
    assert "only 35 distinct resamples" in degenerate_interval(0.0, 1.0, np.arange(4.0))
    assert degenerate_interval(0.0, 1.0, np.arange(5.0)) is None
