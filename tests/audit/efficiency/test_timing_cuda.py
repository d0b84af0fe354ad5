"""CUDA timing dispatch, tested without a GPU: torch.cuda's events and synchronize are replaced
by fakes that record what was called, so the test shows a CUDA workload is timed by events
(after a synchronize, read once the end event completed) and a CPU workload is not."""

from __future__ import annotations

import time

import pytest
import torch

from audit.efficiency.timing import Workload, interleaved, time_call


class _FakeEvent:
    log: list[str] = []

    def __init__(self, enable_timing: bool = False) -> None:
        assert enable_timing

    def record(self) -> None:
        _FakeEvent.log.append("record")

    def synchronize(self) -> None:
        _FakeEvent.log.append("event synchronize")

    def elapsed_time(self, end: "_FakeEvent") -> float:
        return 250.0  # milliseconds, as torch.cuda.Event reports them


@pytest.fixture
def fake_cuda(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    _FakeEvent.log = []
    monkeypatch.setattr(torch.cuda, "Event", _FakeEvent)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: _FakeEvent.log.append(f"synchronize {device}"))
    return _FakeEvent.log


def test_a_cuda_call_is_timed_by_events_after_a_synchronize(fake_cuda):
    seconds = time_call(lambda: fake_cuda.append("call"), "cuda:0")
    assert seconds == pytest.approx(0.25)
    assert fake_cuda == ["synchronize cuda:0", "record", "call", "record", "event synchronize"]


def test_a_cpu_call_is_timed_by_the_wall_clock(fake_cuda):
    seconds = time_call(lambda: time.sleep(0.02), "cpu")
    assert 0.015 < seconds < 1.0
    assert fake_cuda == []


def test_interleaved_times_each_workload_on_its_own_device(fake_cuda):
    gpu = Workload("gpu", lambda: None, 1, "tokens", device="cuda")
    cpu = Workload("cpu", lambda: time.sleep(0.005), 1, "tokens")
    times = interleaved([gpu, cpu], rounds=2, warmup=0)
    assert times["gpu"].shape == (2, 1) and (times["gpu"] == 0.25).all()
    assert (times["cpu"] > 0.003).all() and (times["cpu"] < 0.25).all()
    assert fake_cuda.count("synchronize cuda") == 2
