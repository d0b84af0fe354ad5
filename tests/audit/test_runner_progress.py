"""execute() tells its on_progress hook where the run is, and a hook that raises changes no
record and no exit code."""

from __future__ import annotations

from pathlib import Path

from audit.config import parse_run_words
from audit.plan import make_plan
from audit.progress_events import CHECKS_STEP, UNIT_DONE_STEP, ProgressEvent
from audit.runner import execute

WORDS = ["suite=smoke", "model=fixture_models:noise", "check=quality.fid", "n=64", "bootstrap=20"]


def _plan(out: Path):
    return make_plan(parse_run_words([*WORDS, f"out={out}"]))


def _numbers(results: dict) -> list[tuple]:
    return [(r["check"], r["model"], r["status"], r["value"], r["ci_low"], r["ci_high"], r["verdict"]) for r in results["records"]]


def test_progress_events_follow_the_run(tmp_path: Path):
    events: list[ProgressEvent] = []
    outcome = execute(_plan(tmp_path), on_progress=events.append)
    model = "fixture_models:noise"
    assert events[0] == ProgressEvent(model, "fp32", None, "loading model")
    assert events[1] == ProgressEvent(model, "fp32", None, CHECKS_STEP, 0, 1)
    assert events[2] == ProgressEvent(model, "fp32", "quality.fid", "starting")
    steps = {e.step for e in events[3:]}
    assert {"sampling", "featurizing samples", "bootstrap"} <= steps
    assert all(e.check == "quality.fid" for e in events[2:-1])
    assert events[-1] == ProgressEvent(model, "fp32", None, UNIT_DONE_STEP)  # the executor closes the unit after its records
    for step in steps:
        counts = [e.done for e in events if e.step == step and e.done is not None and e.total == 64]
        assert counts == sorted(counts), (step, counts)
    assert [e.done for e in events if e.step == "bootstrap"][-1] == 20
    assert outcome.results["records"][0]["status"] == "measured"


def test_a_display_that_raises_changes_no_record_and_no_exit_code(tmp_path: Path):
    calls: list[ProgressEvent] = []

    def broken(event: ProgressEvent) -> None:
        calls.append(event)
        raise RuntimeError("the terminal went away")

    plain = execute(_plan(tmp_path / "plain"))
    crashing = execute(_plan(tmp_path / "broken"), on_progress=broken)
    assert len(calls) == 1  # switched off after its first error
    assert _numbers(crashing.results) == _numbers(plain.results)
    assert crashing.exit_code == plain.exit_code
