"""Coverage of the quality suite's intervals on the bundled GAN over 50 independent seeds (slow:
~10 minutes on 2 idle cores; run with --runslow). The quick version on a known design is
tests/audit/checks/test_image_quality_intervals.py; the recorded table is
benchmarks/results/interval_coverage_gan.json, made by the same code
(benchmarks/interval_coverage.py). The class-histogram statistics sit at their ceiling on this
model; their delta-method intervals (audit.metrics.histogram_interval) are in the table too."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MEETS_THE_BAR = (
    "quality.fid", "quality.kid", "quality.inception_score", "quality.swd_feature", "quality.swd_pixel",
    "quality.precision", "quality.recall", "quality.density", "quality.coverage", "quality.c2st", "quality.diversity",
    "quality.class_entropy", "quality.class_kl",
)


def _benchmark():
    spec = importlib.util.spec_from_file_location("interval_coverage", ROOT / "benchmarks" / "interval_coverage.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_distribution_intervals_cover_the_mean_over_50_seeds():
    bench = _benchmark()
    rows = {r["check"]: r for r in bench.coverage_table(bench.measure("gan", range(1, 51), 1000, 500, MEETS_THE_BAR))}
    for check in MEETS_THE_BAR:
        assert rows[check]["coverage"] >= 0.9, rows[check]
        assert 1 / 1.5 <= rows[check]["width_ratio"] <= 1.5, rows[check]
