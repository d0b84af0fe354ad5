"""Energy: Intel/AMD RAPL counters where the kernel exposes them, otherwise a labelled estimate.

RAPL (`/sys/class/powercap/intel-rapl:*/energy_uj`, package domains; AMD Zen exposes the same
interface) counts the energy of the whole CPU package, other jobs included: it is the best this
machine can say, not the model's share. Where it is missing or unreadable (containers and VMs,
like this project's machine, usually hide it), energy is estimated as busy seconds x threads
x `WATTS_PER_CORE` and labelled "estimate". WATTS_PER_CORE = 4.0 W is a server core's share of
its package TDP (AMD EPYC 9004: 200-400 W over 16-128 cores; a 64-core 280 W part gives 4.4 W;
Intel Xeon 4th gen: 185-350 W over 8-60 cores): an order of magnitude, without memory, uncore,
idle or cooling power. Compare estimates with each other, never with a meter.

On a CUDA device the GPU's own board energy counter is read through NVML
(`nvmlDeviceGetTotalEnergyConsumption`, Volta and newer, millijoules; the `nvidia-ml-py` package,
imported as `pynvml`, which torch's CUDA build also uses): the whole board, other processes on
that GPU included, updated by the driver every few tens of milliseconds, so short calls are read
in aggregate over many. Without NVML it is estimated as busy seconds x `GPU_WATTS` and labelled
"estimate-gpu": 300 W is the order of a data-centre GPU's board power under load (NVIDIA L4 72 W,
A100 PCIe 300 W, H100 SXM 700 W), without the host.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

WATTS_PER_CORE = 4.0
GPU_WATTS = 300.0
POWERCAP = "/sys/class/powercap"
MEASURED = ("RAPL", "NVML")
"""Sources that are meter readings; the others are labelled estimates."""


def rapl_domains() -> list[Path]:
    """Readable package-level RAPL energy counters (sub-domains such as core/uncore excluded)."""
    found = []
    for path in sorted(glob.glob(f"{POWERCAP}/intel-rapl:*/energy_uj")):
        p = Path(path)
        if p.parent.name.count(":") != 1:
            continue
        try:
            int(p.read_text())
        except (OSError, ValueError):
            continue
        found.append(p)
    return found


def read_rapl(domains: list[Path]) -> int:
    return sum(int(p.read_text()) for p in domains)


class EnergyMeter:
    """Energy of a stretch of work: `with meter: ...` adds to `joules` (RAPL) and `seconds`."""

    def __init__(self) -> None:
        self.domains = rapl_domains()
        self.joules = 0.0
        self.seconds = 0.0
        self._start: tuple[int, float] | None = None

    @property
    def source(self) -> str:
        return "RAPL" if self.domains else "estimate"

    def __enter__(self) -> "EnergyMeter":
        import time

        self._start = (read_rapl(self.domains) if self.domains else 0, time.perf_counter())
        return self

    def __exit__(self, *exc: Any) -> None:
        import time

        assert self._start is not None
        energy, started = self._start
        self.seconds += time.perf_counter() - started
        if self.domains:
            delta = read_rapl(self.domains) - energy
            if delta < 0:  # counter wrapped: drop this stretch rather than guess
                return
            self.joules += delta / 1e6


def nvml_handle(device: str) -> Any | None:
    """The NVML handle of the GPU behind `device` when its energy counter is readable, else None."""
    try:
        import pynvml
        import torch

        pynvml.nvmlInit()
        index = torch.cuda._get_nvml_device_index(torch.device(device))
        handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)
        return handle
    except Exception:  # no pynvml, no driver support, or a GPU before Volta
        return None


class GpuEnergyMeter:
    """Energy of a stretch of GPU work: `with meter: ...` adds the NVML board energy counter's
    increase to `joules` and the wall time to `seconds` (same interface as EnergyMeter)."""

    def __init__(self, device: str) -> None:
        self.handle = nvml_handle(device)
        self.joules = 0.0
        self.seconds = 0.0
        self._start: tuple[int, float] | None = None

    @property
    def source(self) -> str:
        return "NVML" if self.handle is not None else "estimate-gpu"

    def _read_mj(self) -> int:
        import pynvml

        return int(pynvml.nvmlDeviceGetTotalEnergyConsumption(self.handle))

    def __enter__(self) -> "GpuEnergyMeter":
        import time

        self._start = (self._read_mj() if self.handle is not None else 0, time.perf_counter())
        return self

    def __exit__(self, *exc: Any) -> None:
        import time

        assert self._start is not None
        energy, started = self._start
        self.seconds += time.perf_counter() - started
        if self.handle is not None:
            self.joules += max(0, self._read_mj() - energy) / 1e3


def meter_for(device: str) -> EnergyMeter | GpuEnergyMeter:
    """The energy meter of work on `device`: the GPU's board counter on CUDA, RAPL elsewhere."""
    return GpuEnergyMeter(device) if str(device).startswith("cuda") else EnergyMeter()


def estimate_joules(seconds: float, threads: int) -> float:
    return float(seconds) * max(1, int(threads)) * WATTS_PER_CORE


def estimate_source(source: str) -> str:
    """The estimate that stands in for `source` when its meter read nothing: the GPU's or the CPU's."""
    return "estimate-gpu" if source in ("NVML", "estimate-gpu") else "estimate"


def estimated_watts(source: str, threads: int) -> float:
    """The power an estimate assumes: GPU_WATTS on a GPU, threads x WATTS_PER_CORE on a CPU."""
    return GPU_WATTS if source == "estimate-gpu" else estimate_joules(1.0, threads)


def describe(source: str, threads: int) -> str:
    if source == "RAPL":
        return "RAPL package energy counters (whole CPU package, other jobs included)"
    if source == "NVML":
        return "NVML board energy counter of the GPU (whole board, other processes on it included)"
    if source == "estimate-gpu":
        return (f"estimate: seconds x {GPU_WATTS:.0f} W (the order of a data-centre GPU's board power under load; "
                "NVML's energy counter not readable here: install nvidia-ml-py)")
    return (f"estimate: seconds x {threads} thread(s) x {WATTS_PER_CORE} W per core (a server core's share of "
            "its package TDP; no RAPL counters readable here)")
