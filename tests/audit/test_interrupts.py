"""Signals around the end of a run (audit/interrupts.py): once every check has run, a SIGTERM
or SIGINT is noted and the outputs are still finished, so results.json and the process agree."""

from __future__ import annotations

import json
import os
import signal

import audit
import audit.runner as runner
from audit.interrupts import Interrupts, hold_signals

FAST = {"check": "quality.fid", "n": 64, "bootstrap": 20}


def test_held_signals_are_noted_not_raised_and_the_handlers_come_back():
    before = signal.getsignal(signal.SIGTERM)
    state = Interrupts()
    with hold_signals(state):
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
    assert state.late_signal in {"SIGTERM", "SIGINT"} and not state.terminated and not state.interrupted
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_sigterm_while_the_run_is_judged_finishes_the_outputs_with_the_judged_exit_code(tmp_path, monkeypatch):
    from fixture_models import noise

    judge = runner.judge_run

    def judged_while_cancelled(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)  # a CI cancel arriving just as the last check ended
        return judge(*args, **kwargs)

    monkeypatch.setattr(runner, "judge_run", judged_while_cancelled)
    result = audit.run("smoke", {"mine": noise()}, out=tmp_path, **FAST)
    written = json.loads((result.run_dir / "results.json").read_text())
    assert written["interrupted"] is False and written["records"][0]["status"] != "error"
    assert result.exit_code == written["summary"]["exit_code"]
    assert (result.run_dir / "report.html").is_file() and (result.run_dir / "junit.xml").is_file()
