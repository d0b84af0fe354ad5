"""One run at a time per process, by thread (audit.isolation): a second `audit.run` from another
thread is one ConcurrentRun (an InputError, exit 2), never a half-loaded registry's "Unknown
check ... Available: (none)" nor a NestedRun it is not; model code in the run's own thread is
still a NestedRun."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import torch
from fixture_models import UniformNoise

import audit
from audit.errors import InputError
from audit.isolation import ConcurrentRun, NestedRun, one_api_call_at_a_time, one_run_at_a_time, refuse_second_run

WAIT_S = 120


def _in_thread(target: Any) -> tuple[threading.Thread, threading.Event, threading.Event, list[BaseException]]:
    """Start `target(entered, release)` in a thread; returns it, its events and what it raised."""
    entered, release, raised = threading.Event(), threading.Event(), []

    def body() -> None:
        try:
            target(entered, release)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            raised.append(exc)
            entered.set()

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    assert entered.wait(WAIT_S)
    return thread, entered, release, raised


def test_a_run_in_another_thread_is_a_concurrent_run_and_in_this_thread_a_nested_one():
    def hold(entered: threading.Event, release: threading.Event) -> None:
        with one_run_at_a_time():
            entered.set()
            release.wait(WAIT_S)

    thread, _, release, raised = _in_thread(hold)
    try:
        with pytest.raises(ConcurrentRun, match="another audit run executes in this process"):
            refuse_second_run("audit.run")
        with pytest.raises(ConcurrentRun):
            with one_run_at_a_time():
                pass
    finally:
        release.set()
        thread.join(WAIT_S)
    assert raised == []
    assert issubclass(ConcurrentRun, InputError) and not issubclass(ConcurrentRun, NestedRun)
    with one_run_at_a_time():
        with pytest.raises(NestedRun, match="inside this run"):
            refuse_second_run("audit.run")
    refuse_second_run("audit.run")  # the block ended: nothing is running


def test_an_api_call_still_planning_refuses_a_second_thread():
    def planning(entered: threading.Event, release: threading.Event) -> None:
        with one_api_call_at_a_time("audit.run"):
            entered.set()
            release.wait(WAIT_S)

    thread, _, release, raised = _in_thread(planning)
    try:
        with pytest.raises(ConcurrentRun, match="being planned or executed"):
            with one_api_call_at_a_time("audit.run"):
                pass
    finally:
        release.set()
        thread.join(WAIT_S)
    assert raised == []
    with one_api_call_at_a_time("audit.run"):  # released: the next call goes ahead
        pass


class _Blocking(UniformNoise):
    """Noise that waits, while it samples, until the test has tried its second run."""

    def __init__(self, entered: threading.Event, release: threading.Event) -> None:
        super().__init__("blocking")
        self.entered, self.release = entered, release

    def sample(self, n: int, seed: int, labels: torch.Tensor | None = None) -> torch.Tensor:
        self.entered.set()
        self.release.wait(WAIT_S)
        return super().sample(n, seed, labels)


def test_audit_run_from_a_second_thread_is_refused_and_the_first_run_completes(tmp_path):
    results: list[Any] = []

    def first(entered: threading.Event, release: threading.Event) -> None:
        results.append(audit.run("smoke", {"blocking": _Blocking(entered, release)}, out=tmp_path / "first",
                                 check="quality.fid", n=64, bootstrap=20, timeout=0))

    thread, _, release, raised = _in_thread(first)
    try:
        with pytest.raises(ConcurrentRun, match="audit.run was called while another audit run"):
            audit.run("smoke", ["gan"], out=tmp_path / "second", check="quality.fid", n=64, bootstrap=20)
    finally:
        release.set()
        thread.join(WAIT_S)
    assert raised == []
    [run] = results
    assert [(r["model"], r["status"]) for r in run.records] == [("blocking", "measured")]
    assert not (tmp_path / "second").exists()  # refused before planning: no run folder
