"""junit.xml's testcase text says what a record has: an error record its reason, never the
placeholder "value —  n=None" of a value it never measured; a measured one its value, CI and n."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from tests.fixtures.synthetic_runs import synthetic_results


def _results(*records: dict[str, Any]) -> dict[str, Any]:
    results = synthetic_results(0, models=("gan",), checks=("quality.fid",))
    base = results["records"][0]
    results["records"] = [{**base, **r} for r in records]
    return results


def _case(xml: str, check: str) -> ET.Element:
    return next(c for c in ET.fromstring(xml).iter("testcase") if c.get("name") == check)


def test_an_error_record_says_its_reason_not_a_missing_value():
    from audit.report.junit import render_junit

    error = {"check": "quality.fid", "status": "error", "value": None, "ci_low": None, "ci_high": None, "n": None,
             "verdict": None, "reason": "RuntimeError: boom", "gates": []}
    element = _case(render_junit(_results(error)), "quality.fid").find("error")
    assert element is not None and element.get("message") == "RuntimeError: boom"
    assert element.text == "error: RuntimeError: boom"
    assert "n=None" not in element.text and "value" not in element.text


def test_a_failure_keeps_its_value_ci_and_n_and_a_missing_ci_leaves_no_gap():
    from audit.report.junit import render_junit

    failed = {"check": "quality.fid", "status": "fail", "value": 120.5, "ci_low": 110.0, "ci_high": 131.0, "n": 64,
              "verdict": "fail: <= 100", "gates": []}
    no_ci = {"check": "quality.kid", "status": "inconclusive", "value": 0.5, "ci_low": None, "ci_high": None, "n": 64,
             "verdict": "inconclusive: no CI", "gates": []}
    xml = render_junit(_results(failed, no_ci))
    assert _case(xml, "quality.fid").find("failure").text == "fail: value 120.5 [110, 131] n=64; fail: <= 100"
    assert _case(xml, "quality.kid").find("failure").text == "inconclusive: value 0.5 n=64; inconclusive: no CI"
