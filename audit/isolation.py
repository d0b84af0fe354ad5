"""Process-wide settings a model's code can change, put back after each (model, precision).

Models run in the audit's process, one after another. A model that changes the working
directory, torch's default dtype or device, its thread count or deterministic-algorithms mode,
or numpy's floating-point error handling (`np.seterr(all="raise")`) would otherwise change how
every later model is sampled and measured: with float64 as the default dtype, the next model's FID moved by 2 (61.3 to 63.7 at
n=200). `restored_globals` snapshots them before a unit and restores them after it, so one
model's choices stay within its own records; `harness_defaults` builds the run's shared
instruments under the stock settings, so they are the same whichever model asked first.
"""

from __future__ import annotations

import functools
import os
import threading
from contextlib import contextmanager, suppress
from typing import Any, Callable, Iterator

from audit.errors import InputError


def _device_mode() -> Any:
    """The default device torch.set_default_device installed (None: none, i.e. CPU and no mode)."""
    from torch.utils import _device

    return getattr(_device, "CURRENT_DEVICE", None)


@contextmanager
def restored_globals() -> Iterator[None]:
    """Run the block, then restore the working directory, torch's default dtype and device, grad
    mode, intra-op threads and deterministic-algorithms mode, and numpy's error handling, as they
    were before it."""
    import numpy as np
    import torch

    dtype, device = torch.get_default_dtype(), _device_mode()
    grad, threads = torch.is_grad_enabled(), torch.get_num_threads()
    deterministic, warn_only = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    errors = np.geterr()
    cwd = os.getcwd()
    try:
        yield
    finally:
        with suppress(OSError):  # a model that removed the folder it started in
            os.chdir(cwd)
        torch.set_default_dtype(dtype)
        if _device_mode() != device:  # set only on a change: a default device is a torch function mode on every call
            torch.set_default_device(device)
        torch.set_grad_enabled(grad)
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
        np.seterr(**errors)


@contextmanager
def harness_defaults() -> Iterator[None]:
    """Run the block (the audit's own shared instruments: the evaluator, the reference and its
    features, detectors, reference classifiers) under torch's and numpy's stock settings, whatever
    the model whose check asked for them first has set, then put that model's settings back. An
    instrument built or a reference value computed under one model's float64 default would
    otherwise be reused, wrong or failing, by every later model."""
    import numpy as np
    import torch

    with restored_globals(), np.errstate(divide="warn", over="warn", under="ignore", invalid="warn"):
        torch.set_default_dtype(torch.float32)
        if _device_mode() is not None:
            torch.set_default_device(None)
        torch.use_deterministic_algorithms(False)
        yield


def reopen_closed_std_streams() -> None:
    """Give sys.stdout / sys.stderr fresh writers on file descriptors 1 / 2 where model code
    closed them (Python opens them with closefd=False, so the descriptors stay open): the run's
    record lines and verdict still reach the CI log."""
    import sys

    for name, fd in (("stdout", 1), ("stderr", 2)):
        stream = getattr(sys, name)
        if stream is not None and not getattr(stream, "closed", False):
            continue
        with suppress(OSError, ValueError):
            setattr(sys, name, open(fd, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False))




class NestedRun(RuntimeError):
    """Code running inside an audit run (a model's factory or method) started another run in the
    same process: `model=audit.cli:main` recursed about 44 levels deep, each level printing its
    header and leaving a run folder, and ended in a RecursionError reported as audit's own bug."""


class ConcurrentRun(InputError):
    """Another thread of this process started a run while one was executing: the harness's
    registries and process-wide settings serve one run at a time, and the second run had failed
    on a half-loaded registry ("Unknown check 'quality.fid'. Available: (none).") or been called
    a NestedRun it was not."""


_RUNS: list[int] = []
"""The thread ident of the run executing in this process, if any."""
_RUNS_LOCK = threading.Lock()


def run_in_progress() -> bool:
    """Whether an audit run is executing in this process (see `one_run_at_a_time`)."""
    return bool(_RUNS)


def single_run(function: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a function that executes a run: it runs inside `one_run_at_a_time`."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with one_run_at_a_time():
            return function(*args, **kwargs)

    return wrapper


def refuse_second_run(what: str) -> None:
    """Raise if a run is executing in this process: NestedRun when it is this thread's (model
    code started `what` inside the run), ConcurrentRun when another thread's."""
    if not _RUNS:
        return
    if _RUNS[0] == threading.get_ident():
        raise NestedRun(f"model code started {what} inside this run")
    raise ConcurrentRun(f"{what} was called while another audit run executes in this process (in another thread): "
                        "runs in one process go one at a time; wait for it, or run them in separate processes.")


_API_CALL = threading.Lock()


@contextmanager
def one_api_call_at_a_time(what: str) -> Iterator[None]:
    """Hold the block (an API call's planning and run) against `what` started by another thread
    or by model code: planning loads the check registries that a run reads, so a second thread
    must be refused before it plans, not only once the first run executes."""
    refuse_second_run(what)
    if not _API_CALL.acquire(blocking=False):
        raise ConcurrentRun(f"{what} was called while another audit run is being planned or executed in this process (in another "
                            "thread): runs in one process go one at a time; wait for it, or run them in separate processes.")
    try:
        yield
    finally:
        _API_CALL.release()


@contextmanager
def one_run_at_a_time(what: str = "another audit run (the command line or the Python API)") -> Iterator[None]:
    """Mark the block as this process's run; a run started inside it (by model code) raises
    NestedRun, one started by another thread ConcurrentRun."""
    with _RUNS_LOCK:
        refuse_second_run(what)
        _RUNS.append(threading.get_ident())
    try:
        yield
    finally:
        _RUNS.clear()


__all__ = ["ConcurrentRun", "NestedRun", "harness_defaults", "one_api_call_at_a_time", "one_run_at_a_time", "refuse_second_run", "reopen_closed_std_streams", "restored_globals", "run_in_progress", "single_run"]
