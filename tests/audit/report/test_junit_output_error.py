"""A run whose outputs could not all be written (summary.output_error, exit 4) says why in
junit.xml (one more error testcase, counted) and in summary.md's headline: they had shown exit 4
with no reason."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from audit.report import render_junit, render_markdown
from tests.fixtures.synthetic_runs import synthetic_results


def _failed_outputs() -> dict:
    results = synthetic_results(0, models=("gan",), checks=("quality.fid",))
    results["summary"].update(exit_code=4, output_error="No space left on device")
    return results


def test_junit_has_an_error_case_with_the_reason_and_counts_it():
    results = _failed_outputs()
    suite = ET.fromstring(render_junit(results))
    [case] = [c for c in suite.iter("testcase") if c.get("name") == "outputs not written"]
    error = case.find("error")
    assert error is not None and error.get("type") == "outputs" and "No space left on device" in error.get("message")
    assert int(suite.get("tests")) == len(results["records"]) + 1 == len(list(suite.iter("testcase")))
    assert int(suite.get("errors")) == sum(r["status"] == "error" for r in results["records"]) + 1


def test_summary_headline_says_the_outputs_were_not_written():
    headline = render_markdown(_failed_outputs()).splitlines()[0]
    assert "exit code 4" in headline and "outputs not written (No space left on device)" in headline


def test_a_run_without_the_error_has_no_such_case():
    results = synthetic_results(0, models=("gan",), checks=("quality.fid",))
    assert "outputs not written" not in render_junit(results) and "outputs not written" not in render_markdown(results)
