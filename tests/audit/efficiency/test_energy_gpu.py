"""GPU energy, tested without a GPU: a fake `pynvml` module stands in for NVML, so the meter's
arithmetic (millijoule counter deltas to joules) and its fallback to a labelled estimate are
checked against numbers chosen here."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest
import torch

from audit.efficiency.energy import (
    GPU_WATTS, WATTS_PER_CORE, EnergyMeter, GpuEnergyMeter, describe, estimate_source, estimated_watts, meter_for,
)


def _fake_pynvml(readings: list[int]) -> SimpleNamespace:
    counter = iter(readings)
    return SimpleNamespace(
        nvmlInit=lambda: None,
        nvmlDeviceGetHandleByIndex=lambda index: f"handle{index}",
        nvmlDeviceGetTotalEnergyConsumption=lambda handle: next(counter),
    )


def test_nvml_counter_deltas_become_joules(monkeypatch: pytest.MonkeyPatch):
    # probe read, then two stretches: 1,000 -> 3,500 mJ and 3,500 -> 4,000 mJ
    monkeypatch.setitem(sys.modules, "pynvml", _fake_pynvml([0, 1_000, 3_500, 3_500, 4_000]))
    monkeypatch.setattr(torch.cuda, "_get_nvml_device_index", lambda device: 0, raising=False)
    meter = meter_for("cuda")
    assert isinstance(meter, GpuEnergyMeter) and meter.source == "NVML"
    for _ in range(2):
        with meter:
            pass
    assert meter.joules == pytest.approx(3.0)
    assert "NVML" in describe("NVML", 1)


def test_without_nvml_the_gpu_energy_is_a_labelled_estimate(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml raises ImportError
    meter = meter_for("cuda:0")
    assert meter.source == "estimate-gpu"
    with meter:
        pass
    assert meter.joules == 0.0 and meter.seconds > 0
    assert estimated_watts("estimate-gpu", 8) == GPU_WATTS
    assert describe("estimate-gpu", 1).startswith("estimate") and "nvidia-ml-py" in describe("estimate-gpu", 1)


def test_cpu_work_keeps_the_cpu_meter():
    assert isinstance(meter_for("cpu"), EnergyMeter)
    assert estimated_watts("estimate", 2) == pytest.approx(2 * WATTS_PER_CORE)


def test_a_meter_that_read_nothing_falls_back_to_its_own_device_estimate():
    assert estimate_source("NVML") == estimate_source("estimate-gpu") == "estimate-gpu"
    assert estimate_source("RAPL") == estimate_source("estimate") == "estimate"
