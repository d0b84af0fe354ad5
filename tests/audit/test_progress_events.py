"""report_step reaches the listener of the running check, and nobody when none listens."""

from __future__ import annotations

from audit.progress_events import every, report_step, reporting_to


def test_report_step_reaches_the_listener_only_inside_its_block():
    heard: list[tuple[str, int | None, int | None]] = []
    report_step("before", 0, 1)
    with reporting_to(lambda *step: heard.append(step)):
        report_step("sampling", 3, 10)
        with reporting_to(None):  # a muted stretch (a loop that reports for its callees)
            report_step("inner", 1, 2)
        report_step("featurizing")
    report_step("after", 1, 1)
    assert heard == [("sampling", 3, 10), ("featurizing", None, None)]


def test_every_spaces_reports_to_about_fifty_per_loop():
    assert [every(total) for total in (1, 49, 50, 500, 10_000)] == [1, 1, 1, 10, 200]
    assert len(range(0, 10_000, every(10_000))) == 50
