"""Signals a run must survive: SIGTERM ends it like Ctrl-C, SIGALRM bounds each model's time.

CI systems, Docker and Kubernetes cancel a job with SIGTERM; Python's default for it kills the
process on the spot, losing every report. `terminate_as_interrupt` turns it into `Terminated` (a
KeyboardInterrupt), so the runner's interrupt path finishes results.json and the reports.

A model that hangs would hold the run forever: `time_limit` raises `ModelTimeout` in the main
thread once a model has used its seconds. The timer re-fires every few seconds until it is
disarmed, so user code that swallows the first one (a bare `except:`) is stopped by the next.
Both need the main thread (where Python delivers signals); elsewhere they do nothing.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Any, Iterator

from audit.errors import Interrupted, ModelTimeout, Terminated

REFIRE_S = 5.0
"""Seconds between repeated timeouts while a model ignores the first one."""


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


class Interrupts:
    """What the handlers saw, so the runner can stop between checks even when user code
    swallowed the exception the handler raised."""

    def __init__(self) -> None:
        self.terminated = False
        self.interrupted = False
        self.timed_out: float | None = None
        self.late_signal: str | None = None

    def raise_pending(self) -> None:
        if self.terminated:
            raise Terminated("SIGTERM")
        if self.interrupted:
            raise Interrupted("SIGINT")
        if self.timed_out is not None:
            raise ModelTimeout(self.timed_out)


@contextmanager
def terminate_as_interrupt(state: Interrupts) -> Iterator[None]:
    """While the block runs, the first SIGTERM raises Terminated and the first SIGINT raises
    Interrupted (both KeyboardInterrupts; a KeyboardInterrupt user code raises with no signal is
    neither, and becomes that model's error); any later one is ignored, so the outputs can be
    written (a terminal's
    Ctrl-C reaches both `audit`'s supervising parent, which forwards it, and the run)."""
    if not _main_thread():
        yield
        return

    def on_signal(signum: int, frame: Any) -> None:
        if state.terminated or state.interrupted:
            return
        if signum == signal.SIGTERM:
            state.terminated = True
            raise Terminated("SIGTERM")
        state.interrupted = True
        raise Interrupted("SIGINT")

    with _cancel_handler(on_signal):
        yield


@contextmanager
def _cancel_handler(on_signal: Any) -> Iterator[None]:
    """`on_signal` handles SIGTERM and SIGINT while the block runs; the previous handlers come back after."""
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextmanager
def time_limit(seconds: float | None, state: Interrupts) -> Iterator[None]:
    """Raise ModelTimeout in the block after `seconds` (None or 0: no limit), and every REFIRE_S
    after that until the block ends."""
    if not seconds or not _main_thread() or not hasattr(signal, "setitimer"):
        yield
        return
    state.timed_out = None

    def on_alarm(signum: int, frame: Any) -> None:
        state.timed_out = float(seconds)
        raise ModelTimeout(float(seconds))

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, float(seconds), REFIRE_S)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        state.timed_out = None


DEFERRED = (signal.SIGALRM, signal.SIGTERM, signal.SIGINT)


@contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGALRM, SIGTERM and SIGINT while the block runs (e.g. while a record is written);
    they are delivered when it ends."""
    if not _main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, DEFERRED)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextmanager
def hold_signals(state: Interrupts) -> Iterator[None]:
    """While the block runs, SIGTERM and SIGINT are noted in `state.late_signal` and do nothing
    else: once every check has run, finishing results.json and the reports takes a moment, and a
    cancel arriving then must not leave a results.json whose verdict the process exit contradicts."""
    if not _main_thread():
        yield
        return

    def on_signal(signum: int, frame: Any) -> None:
        state.late_signal = signal.Signals(signum).name

    with _cancel_handler(on_signal):
        yield
