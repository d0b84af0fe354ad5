"""Each judged gate drawn against its bound: the quantities come from the judged record as
audit.gates wrote it, the headroom is the distance of the conservative CI end from the bound."""

from __future__ import annotations

import re

import pytest

from audit.gates import finalize
from audit.policy import parse_gate
from audit.report.gate_marks import gate_marks, headroom, judged_quantities


def _record(precision: str, value: float, low: float, high: float) -> dict:
    return {"check": "quality.fid", "model": "gan", "precision": precision, "device": "cpu", "status": "measured",
            "seed": 0, "value": value, "ci_low": low, "ci_high": high, "n": 100, "unit": "", "higher_is_better": False,
            "params": {"n": 100}, "family": "gan", "gates": [], "verdict": None, "reason": None, "duration_s": 0.1,
            "by_group": None, "details": {}, "artifacts": {}}


def _judged(gates: list[dict], *records: dict) -> list[dict]:
    results = {"config": {"fail_on": "error"}, "records": list(records), "interrupted": False}
    return finalize(results, [parse_gate(g, "test") for g in gates])["records"]


def test_an_absolute_gate_is_drawn_with_its_bound_and_headroom():
    (rec,) = _judged([{"check": "quality.fid", "max": 100.0}], _record("fp32", 80.0, 70.0, 90.0))
    (q,) = judged_quantities(rec, rec["gates"][0])
    assert (q["point"], q["low"], q["high"], q["bounds"]) == (80.0, 70.0, 90.0, [("max", 100.0)])
    assert headroom(q) == pytest.approx(100.0 - 90.0)
    (svg,) = gate_marks(rec)
    assert "<title>" in svg and "10 inside the bound" in svg and "pass" in svg
    bound_x = float(re.search(r'class="bound" x1="([\d.]+)"', svg).group(1))
    value_x = float(re.search(r'class="value" cx="([\d.]+)"', svg).group(1))
    assert value_x < bound_x  # a max gate passing: the value left of its bound


def test_a_failing_min_gate_reports_how_far_past_the_bound():
    (rec,) = _judged([{"check": "quality.fid", "min": 0.5}], {**_record("fp32", 0.1, 0.05, 0.2), "higher_is_better": True})
    (q,) = judged_quantities(rec, rec["gates"][0])
    assert headroom(q) == pytest.approx(0.05 - 0.5) and rec["status"] == "fail"  # the CI's lower end decides a min gate
    assert "0.45 past the bound" in gate_marks(rec)[0]


def test_a_gate_judged_on_the_value_measures_headroom_from_the_value():
    (rec,) = _judged([{"check": "quality.fid", "max": 100.0, "judge": "value"}], _record("fp32", 80.0, 70.0, 90.0))
    (q,) = judged_quantities(rec, rec["gates"][0])
    assert headroom(q) == pytest.approx(100.0 - 80.0)


def test_a_relative_gate_is_drawn_on_the_difference_it_was_judged_on():
    records = _judged([{"check": "quality.fid", "relative_to": "fp32", "max_delta": 5.0}],
                      _record("fp32", 40.0, 35.0, 45.0), _record("int8", 43.0, 38.0, 48.0))
    int8 = next(r for r in records if r["precision"] == "int8")
    (q,) = judged_quantities(int8, int8["gates"][0])
    assert q["what"] == "change vs reference" and q["point"] == pytest.approx(43.0 - 40.0)
    assert q["bounds"] == [("max", 5.0)] and q["low"] <= 3.0 <= q["high"]


def test_a_margin_becomes_a_bound_in_the_check_direction():
    records = _judged([{"check": "quality.fid", "relative_to": "fp32", "margin": 2.0}],
                      _record("fp32", 40.0, 35.0, 45.0), _record("int8", 41.0, 36.0, 46.0))
    int8 = next(r for r in records if r["precision"] == "int8")
    assert judged_quantities(int8, int8["gates"][0])[0]["bounds"] == [("max", 2.0)]  # lower is better: at most +2


def test_a_record_without_gates_or_value_draws_nothing():
    assert gate_marks(_record("fp32", 1.0, 0.5, 1.5)) == []
    assert gate_marks({**_record("fp32", 1.0, 0.5, 1.5), "value": None, "gates": [{"max": 1.0, "status": "inconclusive"}]}) == []
