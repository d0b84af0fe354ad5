"""The run display: a live rich display with steps and ETAs on a terminal, exactly one line per
record anywhere else, nothing but the verdict with --quiet, and diagnostics that do not leak."""

from __future__ import annotations

import io
import logging
import sys
from types import SimpleNamespace

import pytest

from audit.progress import LineDisplay, LiveDisplay, diagnostics, run_display
from audit.progress_events import CHECKS_STEP, UNIT_DONE_STEP, ProgressEvent


def _record(check: str, model: str = "diffusion", precision: str = "fp32") -> SimpleNamespace:
    return SimpleNamespace(check=check, model=model, precision=precision)


def _line(record: SimpleNamespace) -> str:
    return f"MEASURED {record.check} {record.model}/{record.precision}"


def test_live_display_renders_the_step_its_counts_and_etas():
    from rich.console import Console

    clock = [100.0]
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=140)
    display = LiveDisplay({("diffusion", "fp32"): 3}, _line, console, now=lambda: clock[0])
    display.progress(ProgressEvent("diffusion", "fp32", None, CHECKS_STEP, 0, 2))  # 2 of the 3 checks apply
    clock[0] = 110.0
    display.progress(ProgressEvent("diffusion", "fp32", "quality.fid", "sampling", 0, 1000))
    clock[0] = 122.0
    display.progress(ProgressEvent("diffusion", "fp32", "quality.fid", "sampling (DDIM 50)", 640, 1000))
    display.record(_record("quality.kid"))
    console.print(display.progress_bar)
    text = out.getvalue()

    assert "\x1b[" in text  # a terminal rendering
    assert text.splitlines()[0] == "MEASURED quality.kid diffusion/fp32"  # the record's own line, above
    step_eta = round((1000 - 640) * (122.0 - 110.0) / 640)  # pace since the step began
    overall_eta = round((2 - 1) * (122.0 - 100.0) / 1)  # one of two records in 22 s
    step_row = next(l for l in text.splitlines() if "quality.fid" in l)
    assert "diffusion fp32 · quality.fid · sampling (DDIM 50)" in step_row and "640/1000" in step_row
    assert f"ETA 0:00:{step_eta:02d}" in step_row
    overall_row = next(l for l in text.splitlines() if "all checks" in l)
    assert "1/2" in overall_row and f"ETA 0:00:{overall_eta:02d}" in overall_row


def test_live_display_closes_a_unit_when_its_executor_says_it_is_done():
    from rich.console import Console

    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    display = LiveDisplay({("gan", "fp32"): 4, ("vae", "fp32"): 4}, _line, console)
    display.progress(ProgressEvent("gan", "fp32", None, "loading model"))
    display.record(_record("quality.fid", "gan"))
    display.progress(ProgressEvent("gan", "fp32", None, UNIT_DONE_STEP))  # one record was all gan gave
    display.progress(ProgressEvent("vae", "fp32", None, "loading model"))
    task = display.progress_bar.tasks[0]
    assert (task.completed, task.total) == (1, 1 + 4)
    assert [t.description for t in display.progress_bar.tasks[1:]] == ["vae fp32 · loading model"]


def test_live_display_shows_one_step_row_per_unit_running_side_by_side():
    from rich.console import Console

    clock = [0.0]
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=140)
    display = LiveDisplay({("gan", "fp32"): 2, ("vae", "fp32"): 2}, _line, console, now=lambda: clock[0])
    display.progress(ProgressEvent("gan", "fp32", "quality.fid", "sampling", 0, 100))
    display.progress(ProgressEvent("vae", "fp32", "quality.kid", "featurizing samples", 0, 200))
    clock[0] = 10.0
    display.progress(ProgressEvent("gan", "fp32", "quality.fid", "sampling", 50, 100))  # interleaved, as Ray workers report
    display.progress(ProgressEvent("vae", "fp32", "quality.kid", "featurizing samples", 40, 200))
    console.print(display.progress_bar)
    rows = out.getvalue().splitlines()
    gan = next(r for r in rows if "gan fp32" in r)
    vae = next(r for r in rows if "vae fp32" in r)
    assert "quality.fid · sampling" in gan and "50/100" in gan and "ETA 0:00:10" in gan  # each row keeps its own pace
    assert "quality.kid · featurizing samples" in vae and "40/200" in vae and "ETA 0:00:40" in vae
    for check in ("quality.fid", "quality.kid"):
        display.record(_record(check, "gan"))
    display.progress(ProgressEvent("gan", "fp32", None, UNIT_DONE_STEP))
    assert [t.description for t in display.progress_bar.tasks[1:]] == ["vae fp32 · quality.kid · featurizing samples"]
    assert (display.progress_bar.tasks[0].completed, display.progress_bar.tasks[0].total) == (2, 4)


def test_line_display_prints_one_line_per_record_and_no_progress():
    lines: list[str] = []
    display = LineDisplay(_line, lines.append)
    display.progress(ProgressEvent("gan", "fp32", "quality.fid", "sampling", 1, 2))
    display.record(_record("quality.fid", "gan"))
    display.record(_record("quality.kid", "gan"))
    assert lines == ["MEASURED quality.fid gan/fp32", "MEASURED quality.kid gan/fp32"]
    quiet: list[str] = []
    LineDisplay(_line, quiet.append, quiet=True).record(_record("quality.fid"))
    assert quiet == []


def test_run_display_is_plain_when_stdout_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    with run_display({("gan", "fp32"): 1}, _line, print) as display:
        assert isinstance(display, LineDisplay)


def test_diagnostics_log_to_stderr_only_inside_the_block(capsys: pytest.CaptureFixture[str]):
    logger = logging.getLogger("audit.runner")
    with diagnostics(1):
        logger.info("loaded gan/fp32 in 0.1 s")
        logger.debug("not at -v")
    with diagnostics(2):
        logger.debug("at -vv")
    logger.info("after the run")
    err = capsys.readouterr().err
    assert err.splitlines() == ["audit: INFO audit.runner: loaded gan/fp32 in 0.1 s", "audit: DEBUG audit.runner: at -vv"]
