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


def test_only_audits_own_interrupts_and_the_timeout_leave_user_code() -> None:
    from audit.errors import Interrupted, ModelExit, ModelTimeout, Terminated, as_model_error, must_propagate

    assert must_propagate(Interrupted("SIGINT")) and must_propagate(Terminated("SIGTERM")) and must_propagate(ModelTimeout(1.0))
    assert not must_propagate(KeyboardInterrupt())  # raised by a model with no signal behind it
    assert not must_propagate(SystemExit(0)) and not must_propagate(GeneratorExit())
    assert isinstance(as_model_error(KeyboardInterrupt()), ModelExit)


def test_a_real_sigint_raises_interrupted_inside_the_block() -> None:
    import time

    import pytest

    from audit.errors import Interrupted
    from audit.interrupts import Interrupts, terminate_as_interrupt

    state = Interrupts()
    with pytest.raises(Interrupted):
        with terminate_as_interrupt(state):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
    assert state.interrupted
