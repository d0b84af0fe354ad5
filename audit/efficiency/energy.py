"""Energy: Intel/AMD RAPL counters where the kernel exposes them, otherwise a labelled estimate.

RAPL (`/sys/class/powercap/intel-rapl:*/energy_uj`, package domains; AMD Zen exposes the same
interface) counts the energy of the whole CPU package, other jobs included: it is the best this
machine can say, not the model's share. Where it is missing or unreadable (containers and VMs,
like this project's machine, usually hide it), energy is estimated as busy seconds x threads
x `WATTS_PER_CORE` and labelled "estimate". WATTS_PER_CORE = 4.0 W is a server core's share of
its package TDP (AMD EPYC 9004: 200-400 W over 16-128 cores; a 64-core 280 W part gives 4.4 W;
Intel Xeon 4th gen: 185-350 W over 8-60 cores): an order of magnitude, without memory, uncore,
idle or cooling power. Compare estimates with each other, never with a meter.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

WATTS_PER_CORE = 4.0
POWERCAP = "/sys/class/powercap"


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


def estimate_joules(seconds: float, threads: int) -> float:
    return float(seconds) * max(1, int(threads)) * WATTS_PER_CORE


def describe(source: str, threads: int) -> str:
    if source == "RAPL":
        return "RAPL package energy counters (whole CPU package, other jobs included)"
    return (f"estimate: seconds x {threads} thread(s) x {WATTS_PER_CORE} W per core (a server core's share of "
            "its package TDP; no RAPL counters readable here)")
