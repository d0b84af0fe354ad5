"""`audit.run` off the main thread (audit.api.warn_timeout_unenforced): SIGALRM reaches only the
main thread, so the per-model `timeout` is not enforced there; a run from a worker thread had
ignored `timeout=3` with a model hanging 25 s and passed without a word."""

from __future__ import annotations

import threading

import pytest

from audit.api import warn_timeout_unenforced


def _warnings(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("audit: warning:")]


def test_a_timeout_off_the_main_thread_is_one_warning(capsys):
    thread = threading.Thread(target=warn_timeout_unenforced, args=(3,))
    thread.start()
    thread.join()
    [line] = _warnings(capsys)
    assert "timeout=3 is not enforced" in line and "outside the main thread" in line


def test_no_warning_on_the_main_thread_or_without_a_timeout(capsys):
    warn_timeout_unenforced(1800)
    thread = threading.Thread(target=warn_timeout_unenforced, args=(0,))
    thread.start()
    thread.join()
    assert _warnings(capsys) == []
