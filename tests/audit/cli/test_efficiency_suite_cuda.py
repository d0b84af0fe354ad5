"""`audit run suite=efficiency device=cuda` on a GPU (`gpu` marker; skipped without one): every
timing is a CUDA-event measurement, memory is the allocator's peak, bandwidth is a share of the
GPU's copy bandwidth, energy is NVML's or a labelled GPU estimate."""

from __future__ import annotations

import pytest
import torch

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (torch.cuda.is_available() is False)")]

CHECKS = "efficiency.latency_p50,efficiency.throughput,efficiency.peak_memory_mib,efficiency.energy_per_1k,efficiency.decode_bandwidth,efficiency.weights_mib"


def _by(records, check, precision):
    return next(r for r in records if r["check"] == check and r["precision"] == precision)


def test_efficiency_suite_on_the_gpu(cli):
    result = cli("run", "suite=efficiency", "model=transformer", "device=cuda", "precision=fp32,fp16", f"check={CHECKS}", "bootstrap=100")
    assert result.exit_code == 0, result.stdout + result.stderr
    records = result.results["records"]
    assert {r["status"] for r in records} == {"measured"}, [(r["check"], r.get("reason")) for r in records if r["status"] != "measured"]
    assert {r["device"] for r in records} == {"cuda"}
    for precision in ("fp32", "fp16"):
        assert 0 < _by(records, "efficiency.latency_p50", precision)["value"] < 60
        memory = _by(records, "efficiency.peak_memory_mib", precision)
        assert memory["details"]["method"] == "torch.cuda.max_memory_allocated"
        assert memory["value"] >= _by(records, "efficiency.weights_mib", precision)["value"] * 0.9
        bandwidth = _by(records, "efficiency.decode_bandwidth", precision)
        assert bandwidth["details"]["machine_probe"]["device"] == "cuda" and 0 < bandwidth["value"] < 1.5
        energy = _by(records, "efficiency.energy_per_1k", precision)
        assert energy["details"]["source"] in ("NVML", "estimate-gpu") and energy["value"] > 0
    assert _by(records, "efficiency.weights_mib", "fp16")["value"] == pytest.approx(_by(records, "efficiency.weights_mib", "fp32")["value"] / 2, rel=0.02)
