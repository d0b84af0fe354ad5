"""What `audit run` shows while it runs, and its diagnostics log.

On a terminal: a live display (rich) of the run's progress over its (model, precision, check)
units with an ETA, and the current step of each running (model, precision) ("diffusion fp32 ·
quality.fid · sampling 640/1000", one row per unit running at once, e.g. on Ray workers) with
its own ETA; each finished record still prints its one line above it. Anywhere
else (a CI log, a pipe, a file): exactly one line per finished record, nothing else, no escape
codes. `--quiet` prints no record lines; `--verbose` turns on the `audit` loggers (stdlib
logging to stderr, off by default). rich is imported only when a display is built, so
`audit --help` stays light.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Mapping, Protocol

from audit.progress_events import CHECKS_STEP, UNIT_DONE_STEP, ProgressEvent

Unit = tuple[str, str]
"""(model, precision): one item of the plan, which gives one record per applicable check."""
SEPARATOR = " · "
OVERALL = "all checks"
"""Label of the run's overall bar (records so far / records expected)."""


class RunDisplay(Protocol):
    """Where a run's records and progress go: `record` after each record is streamed,
    `progress` with each ProgressEvent of audit.runner.execute."""

    def record(self, record: Any) -> None: ...

    def progress(self, event: ProgressEvent) -> None: ...


class LineDisplay:
    """One line per finished record, as `audit run` always printed (CI logs); progress is not
    shown. `quiet` prints nothing."""

    def __init__(self, line: Callable[[Any], str], echo: Callable[[str], None], quiet: bool = False) -> None:
        self._line, self._echo, self._quiet = line, echo, quiet

    def record(self, record: Any) -> None:
        if not self._quiet:
            self._echo(self._line(record))

    def progress(self, event: ProgressEvent) -> None:
        """Progress is for terminals only."""


def eta_seconds(elapsed: float, done: float, total: float | None) -> float | None:
    """Seconds left if the rest goes at the pace so far; None before there is a pace."""
    if total is None or done <= 0 or elapsed <= 0:
        return None
    return max(total - done, 0) * elapsed / done


def clock(seconds: float | None) -> str:
    """`ETA h:mm:ss`, or `ETA --:--` while unknown."""
    if seconds is None:
        return "ETA --:--"
    whole = int(round(seconds))
    return f"ETA {whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


class LiveDisplay:
    """A rich live display: overall progress over the plan's units, and each running unit's current step.

    The overall count is records over expected records: each (model, precision) first expects
    one record per check of the plan, then as many as the loaded model's applicable checks
    (the runner's `CHECKS_STEP` event), and exactly what it gave once its executor says it is
    done (`UNIT_DONE_STEP`, which also removes its step row)."""

    def __init__(self, units: Mapping[Unit, int], line: Callable[[Any], str], console: Any,
                 now: Callable[[], float] = time.monotonic) -> None:
        from rich.progress import BarColumn, Progress, TextColumn

        self._line, self._now = line, now
        self._expected: dict[Unit, int] = dict(units)
        self._finished: Counter[Unit] = Counter()
        self._started = now()
        self._rows: dict[Unit, Any] = {}
        """The step row of each running unit (a rich task id)."""
        self._pace: dict[Unit, tuple[tuple[Any, ...], float, int]] = {}
        """Per running unit: its current step's key, when it began and its count then."""
        self._done: set[Unit] = set()
        self.progress_bar = Progress(
            TextColumn("{task.description}", markup=False), BarColumn(bar_width=24),
            TextColumn("{task.fields[count]}", markup=False), TextColumn("{task.fields[eta]}", markup=False),
            console=console, transient=True,
        )
        self._overall = self.progress_bar.add_task(OVERALL, total=self._total(), count=f"0/{self._total()}", eta=clock(None))

    def __enter__(self) -> "LiveDisplay":
        self.progress_bar.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress_bar.stop()

    def _total(self) -> int:
        return sum(max(self._expected.get(u, 0), self._finished[u]) for u in {*self._expected, *self._finished})

    def _refresh_overall(self) -> None:
        done, total = sum(self._finished.values()), self._total()
        eta = eta_seconds(self._now() - self._started, done, total)
        self.progress_bar.update(self._overall, completed=done, total=total, count=f"{done}/{total}", eta=clock(eta))

    def record(self, record: Any) -> None:
        from rich.text import Text

        self.progress_bar.console.print(Text(self._line(record)), soft_wrap=True)
        self._finished[(record.model, record.precision)] += 1
        self._refresh_overall()

    def progress(self, event: ProgressEvent) -> None:
        unit = (event.model, event.precision)
        if event.check is None and event.step == CHECKS_STEP:
            self._expected[unit] = event.total or 0
        elif event.check is None and event.step == UNIT_DONE_STEP:
            self._done.add(unit)
            self._expected[unit] = self._finished[unit]
            self._pace.pop(unit, None)
            if unit in self._rows:
                self.progress_bar.remove_task(self._rows.pop(unit))
        elif unit not in self._done:  # a step that arrives late (from another process) is over
            self._show_step(unit, event)
        self._refresh_overall()

    def _show_step(self, unit: Unit, event: ProgressEvent) -> None:
        key = (event.check, event.step.partition(" (")[0], event.total)
        now = self._now()
        if unit not in self._pace or key != self._pace[unit][0]:  # a new step ("sampling" and "sampling (DDIM 50)" are one): its pace starts now
            self._pace[unit] = (key, now, event.done or 0)
        _, began, first = self._pace[unit]
        if unit not in self._rows:
            self._rows[unit] = self.progress_bar.add_task("", total=None, count="", eta="")
        where = SEPARATOR.join(p for p in (f"{event.model} {event.precision}", event.check, event.step) if p)
        if event.total is not None and event.done is not None:
            eta = eta_seconds(now - began, event.done - first, event.total - first)
            self.progress_bar.update(self._rows[unit], description=where, total=event.total, completed=event.done,
                                     count=f"{event.done}/{event.total}", eta=clock(eta))
        else:
            self.progress_bar.update(self._rows[unit], description=where, total=None, completed=0, count="", eta="")


def is_terminal(stream: Any) -> bool:
    """Whether `stream` is an interactive terminal a live display may redraw (not TERM=dumb)."""
    import os

    try:
        return bool(stream.isatty()) and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


@contextmanager
def run_display(units: Mapping[Unit, int], line: Callable[[Any], str], echo: Callable[[str], None],
                quiet: bool = False, console: Any = None) -> Iterator[RunDisplay]:
    """The display of one run: live on a terminal (or on `console`, e.g. a rich Console forced
    into terminal mode), else one line per record through `echo`; `quiet` shows neither."""
    if quiet or (console is None and not is_terminal(sys.stdout)):
        yield LineDisplay(line, echo, quiet)
        return
    if console is None:
        from rich.console import Console

        console = Console()
    with LiveDisplay(units, line, console) as display:
        yield display


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler that writes to whatever sys.stderr is when a line is logged, so log lines go
    above a live display (which redirects stderr while it runs) instead of through it."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        """The stream is always the current sys.stderr."""


@contextmanager
def diagnostics(verbosity: int) -> Iterator[None]:
    """While the block runs, `--verbose` once: the `audit` loggers at INFO on stderr; twice:
    DEBUG. 0: nothing (the package's NullHandler keeps them silent). The logger is restored
    afterwards, so one run's verbosity never leaks into the next in the same process."""
    if verbosity <= 0:
        yield
        return
    logger = logging.getLogger("audit")
    handler = _CurrentStderr()
    handler.setFormatter(logging.Formatter("audit: %(levelname)s %(name)s: %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbosity == 1 else logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


__all__ = ["LineDisplay", "LiveDisplay", "RunDisplay", "clock", "diagnostics", "eta_seconds", "is_terminal", "run_display"]
