"""Progress of long steps (sampling, featurizing, bootstrap, probe training), reported from anywhere.

A check reports through `CheckContext.progress`; instruments deep below it (the sample store,
the bootstrap loop) call `report_step`, which reaches whatever callback the runner installed
for the check that is running (a context variable, so no signature in between has to carry a
callback). Nobody listening costs one lookup. Reporting never prints: the command line decides
what a terminal or a CI log shows (`audit.progress`).
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Callable, Iterator

StepCallback = Callable[[str, "int | None", "int | None"], None]
"""`(step, done, total)`: e.g. ("sampling", 640, 1000); done and total are None for a step
that cannot be counted."""

CHECKS_STEP = "checks"
"""Step of a model-level event (`check` None) whose `total` is the number of checks that apply
to the loaded model: how many records that (model, precision) will give."""

UNIT_DONE_STEP = "done"
"""Step of a model-level event (`check` None) an executor sends once a (model, precision) has
delivered all its records: a display closes that unit (units may run side by side, on Ray)."""

_listener: ContextVar[StepCallback | None] = ContextVar("audit_step_listener", default=None)


@dataclass(frozen=True)
class ProgressEvent:
    """One report of where a run is: a (model, precision), the check running (None while the
    model loads) and its current step, with counts where the step has them."""

    model: str
    precision: str
    check: str | None
    step: str
    done: int | None = None
    total: int | None = None


def report_step(step: str, done: int | None = None, total: int | None = None) -> None:
    """Tell whoever watches the running check that it is at `step` (`done` of `total`)."""
    listener = _listener.get()
    if listener is not None:
        listener(step, done, total)


def every(total: int, reports: int = 50) -> int:
    """How many iterations of a loop of `total` to let pass between reports, so a loop reports
    about `reports` times however long it is."""
    return max(1, total // reports)


@contextmanager
def reporting_to(listener: StepCallback | None) -> Iterator[None]:
    """While the block runs, `report_step` calls `listener` (None: nobody listens)."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


__all__ = ["CHECKS_STEP", "UNIT_DONE_STEP", "ProgressEvent", "StepCallback", "every", "report_step", "reporting_to"]
