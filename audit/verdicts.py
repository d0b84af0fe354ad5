"""The verdict vocabulary: what a record's status and a run's exit code are called and shown as.

Every place that prints, renders or counts a verdict (the CLI, the HTML, Markdown and JUnit
reports, the gates that judge records) reads its words, order, icons and colours from here, so
a status is spelled, ranked and coloured the same way everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from audit.errors import EXIT_BAD_INPUT, EXIT_ERROR, EXIT_GATE_FAILED, EXIT_INCONCLUSIVE, EXIT_NOTHING_JUDGED, EXIT_PASS

PASS = "pass"
"""Every gate on the record passed: its whole CI is on the right side of each bound."""
FAIL = "fail"
"""An error-severity gate failed: the whole CI is on the wrong side of its bound."""
WARN = "warn"
"""A warn-severity gate did not pass; fails the run only with fail_on=warn."""
INCONCLUSIVE = "inconclusive"
"""A gate could not decide: its bound lies inside the CI (or nothing could be judged)."""
SKIPPED = "skipped"
"""The check does not apply to the model (a missing capability), with the reason."""
ERROR = "error"
"""The check or the model raised: nothing was measured."""
MEASURED = "measured"
"""A value with no gate on it: nothing was judged."""
WAIVED = "waived"
"""A gate did not pass but an unexpired policy waiver (owner, reason, expiry) accepts it, so it
does not fail the run."""

STATUSES = (PASS, FAIL, WARN, INCONCLUSIVE, SKIPPED, ERROR, MEASURED, WAIVED)
"""Every status a record may have (results.json refuses any other)."""
WORST_FIRST = (ERROR, FAIL, INCONCLUSIVE, WARN, WAIVED, PASS, MEASURED, SKIPPED)
"""The order reports list statuses and records in: what needs attention first."""
UNJUDGED = (SKIPPED, ERROR)
"""Statuses that say nothing about the model: a model with only these was not audited."""
NOT_PASSING = (ERROR, FAIL, INCONCLUSIVE, WARN)
"""Statuses a reader must look at: the summary lists these records under "Not passing"."""
FAILING = {"error": (FAIL,), "warn": (FAIL, WARN), "never": ()}
"""The statuses that fail a run (exit 1) under each `fail_on` setting."""
FAIL_ON = tuple(FAILING)
"""The `fail_on` settings of `audit run`."""

STATUS_ICONS = {PASS: "✅", FAIL: "❌", WARN: "⚠️", INCONCLUSIVE: "❔", SKIPPED: "⏭️", ERROR: "💥", MEASURED: "·", WAIVED: "🏳️"}
"""The icon a Markdown summary puts before a status."""
STATUS_COLOURS = {
    PASS: "#1a7f37", FAIL: "#cf222e", WARN: "#9a6700", INCONCLUSIVE: "#8250df",
    ERROR: "#a40e26", WAIVED: "#bc4c00", SKIPPED: "#6e7781", MEASURED: "#6e7781",
}
"""The colour the HTML report writes a status in (CSS class `s-<status>`)."""


def status_rank(status: str) -> int:
    """A status's place in WORST_FIRST (an unknown status sorts last)."""
    return WORST_FIRST.index(status) if status in WORST_FIRST else len(WORST_FIRST)


def status_label(status: str) -> str:
    """A status as the CLI prints it: upper case (`PASS`, `INCONCLUSIVE`)."""
    return status.upper()


@dataclass(frozen=True)
class RunVerdict:
    """What a whole run's outcome is called and shown as: its word, Markdown icon and HTML colour."""

    word: str
    icon: str
    colour: str


RUN_VERDICTS = {
    EXIT_PASS: RunVerdict("PASS", "✅", STATUS_COLOURS[PASS]),
    EXIT_GATE_FAILED: RunVerdict("FAIL", "❌", STATUS_COLOURS[FAIL]),
    EXIT_BAD_INPUT: RunVerdict("BAD INPUT", "🚫", STATUS_COLOURS[ERROR]),
    EXIT_INCONCLUSIVE: RunVerdict("INCONCLUSIVE", "❔", STATUS_COLOURS[INCONCLUSIVE]),
    EXIT_ERROR: RunVerdict("ERROR", "💥", STATUS_COLOURS[ERROR]),
    EXIT_NOTHING_JUDGED: RunVerdict("NOTHING JUDGED", "🕳️", STATUS_COLOURS[ERROR]),
}
"""The verdict each exit code stands for (HTML banner class `code-<exit code>`)."""
INTERRUPTED = RunVerdict("INTERRUPTED", "🛑", STATUS_COLOURS[ERROR])
"""An interrupted run's verdict, whatever its exit code: its results are incomplete."""


def run_verdict(code: int, interrupted: bool = False) -> RunVerdict:
    """The verdict of a run that exited with `code` (an unknown code is shown as its number)."""
    if interrupted:
        return INTERRUPTED
    return RUN_VERDICTS.get(code, RunVerdict(str(code), "", STATUS_COLOURS[ERROR]))


__all__ = [
    "ERROR", "FAIL", "FAILING", "FAIL_ON", "INCONCLUSIVE", "INTERRUPTED", "MEASURED", "NOT_PASSING", "PASS",
    "RUN_VERDICTS", "RunVerdict", "SKIPPED", "STATUSES", "STATUS_COLOURS", "STATUS_ICONS", "UNJUDGED", "WAIVED",
    "WARN", "WORST_FIRST", "run_verdict", "status_label", "status_rank",
]
