"""The warm-up call is timed apart from the rounds (first_call_s), so a compiled variant's
compilation is reported separately from its steady-state latency."""

from __future__ import annotations

import time

from audit.efficiency.timing import Workload, interleaved


def _slow_first(seconds: float) -> tuple[Workload, list[int]]:
    calls: list[int] = []

    def fn() -> None:
        calls.append(1)
        if len(calls) == 1:
            time.sleep(seconds)  # stands for a compilation on the first call

    return Workload("w", fn, items=1, unit="calls"), calls


def test_the_first_call_is_measured_and_kept_out_of_the_rounds() -> None:
    workload, calls = _slow_first(0.3)
    other, _ = _slow_first(0.0)
    other.name = "other"
    first: dict[str, float] = {}
    times = interleaved([workload, other], rounds=4, warmup=2, repeats={"w": 3}, first_calls=first)
    assert len(calls) == 2 + 4 * 3  # two warm-up calls, then 4 rounds x 3 repeats
    assert times["w"].shape == (4, 3)
    assert first["w"] >= 0.3  # the slow call is the first, measured
    assert set(first) == {"w", "other"}
    assert times["w"].max() < first["w"]  # and it is in no round


def test_without_first_calls_nothing_changes_in_the_rounds() -> None:
    workload, calls = _slow_first(0.0)
    times = interleaved([workload], rounds=3, warmup=1)
    assert len(calls) == 1 + 3 and times["w"].shape == (3, 1)
