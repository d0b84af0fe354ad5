"""The peak-memory probe measures a known allocation; timing helpers interleave and bootstrap."""

from __future__ import annotations

import numpy as np
import pytest

from audit.efficiency.memory import MIB, copy_bandwidth, probe
from audit.efficiency.timing import Workload, interleaved, quantile_ci, ratio_of_medians_ci


@pytest.mark.parametrize("mib", [64, 256])
def test_probe_reports_a_known_allocation(mib):
    """A child that allocates and touches `mib` MiB reports a peak of `mib` MiB above its baseline,
    within 5% + 4 MiB (interpreter and allocator slack)."""
    result = probe({"kind": "allocate", "mib": mib})
    assert result["method"].startswith("VmHWM")  # the high-water mark was reset after imports
    assert abs(result["load_peak"] / MIB - mib) <= 0.05 * mib + 4, result


def test_probe_of_a_model_counts_its_weights_and_not_the_parent():
    """The model probe runs in a fresh process: the parent's allocations are not counted, and the
    resident model is at least its weights."""
    ballast = np.ones(200 * MIB // 8)  # 200 MiB in the parent, invisible to the child
    result = probe({"kind": "model", "model": "gan", "precision": "fp32", "family": "gan"})
    assert ballast.sum() > 0
    assert result["weights_bytes"] <= result["run_peak"] < 150 * MIB, result
    assert result["load_peak"] > 0 and "sample(64" in result["workload"]


def test_probe_of_a_language_model_prompts_from_the_given_documents():
    """A language model's workload cuts its prompts from the spec's documents (the run's held-out
    text, sent by the parent); without any it fails with the reason instead of reading other text."""
    spec = {"kind": "model", "model": "transformer", "precision": "fp32", "family": "transformer",
            "modules": ["audit_reference_models.transformer.adapter"]}
    result = probe({**spec, "documents": ["Zebras quantify xylophones at noon.", "The committee adjourned."]})
    assert result["run_peak"] > 0 and "16-token prompt, batch 1" in result["workload"]
    with pytest.raises(RuntimeError, match="needs held-out documents"):
        probe(spec)


def test_probe_failure_is_one_line():
    with pytest.raises(RuntimeError, match="memory probe"):
        probe({"kind": "model", "model": "no-such-model", "precision": "fp32"})


def test_copy_bandwidth_is_plausible():
    result = copy_bandwidth(mib=64, threads=1, repeats=2)
    assert 1e8 < result["bytes_per_s"] < 1e12


def test_interleaved_alternates_order_and_times_every_call():
    calls: list[str] = []
    a = Workload("a", lambda: calls.append("a"), 1, "items")
    b = Workload("b", lambda: calls.append("b"), 1, "items")
    times = interleaved([a, b], rounds=3, warmup=1, repeats={"b": 2})
    assert calls == ["a", "b", "a", "b", "b", "b", "b", "a", "a", "b", "b"]
    assert times["a"].shape == (3, 1) and times["b"].shape == (3, 2) and (times["a"] >= 0).all()


def test_quantile_and_ratio_intervals_cover_the_estimate():
    rng = np.random.default_rng(0)
    x = rng.lognormal(0, 0.1, 200)
    value, low, high = quantile_ci(x, 0.95, 500, seed=1)
    assert low <= value <= high and value == pytest.approx(np.quantile(x, 0.95))
    fast, slow = x, 2 * x * rng.lognormal(0, 0.02, 200)
    ratio, low, high = ratio_of_medians_ci(slow, fast, 500, seed=2)
    assert low <= ratio <= high and 1.9 < ratio < 2.1
