"""The scorecard: rows worst first, a cell per (model, area) with its worst verdict, the records
that need a look linked to their rows, and per-area tables of the judged checks."""

from __future__ import annotations

from collections import Counter

from audit.report.scorecard import area_of, record_anchor, scorecard
from audit.verdicts import WORST_FIRST


def test_rows_are_worst_first_and_cells_hold_the_worst_verdict(synthetic_run):
    results, _ = synthetic_run
    card = scorecard(results)
    by_row: dict[str, list[str]] = {}
    for rec in results["records"]:
        by_row.setdefault(f"{rec['model']} ({rec['precision']})", []).append(rec["status"])
    expected_worst = {row: next(s for s in WORST_FIRST if s in statuses) for row, statuses in by_row.items()}
    assert card["rows"] == ["transformer (fp32)", "gan-collapsed (fp32)", "vae (fp32)", "gan (fp32)"]
    assert card["areas"] == ["quality"]
    for row, status in expected_worst.items():
        cell = card["cells"][(row, "quality")]
        assert cell["status"] == status
        assert dict(cell["counts"]) == dict(Counter(by_row[row]))


def test_a_cell_names_each_record_that_needs_a_look_with_its_anchor(synthetic_run):
    results, _ = synthetic_run
    cell = scorecard(results)["cells"][("gan-collapsed (fp32)", "quality")]
    named = {(r["check"], r["anchor"]) for r in cell["attention"]}
    expected = {(rec["check"], record_anchor(i)) for i, rec in enumerate(results["records"])
                if rec["model"] == "gan-collapsed" and rec["status"] == "fail"}
    assert named == expected and len(expected) == 2
    assert cell["anchor"] in {a for _, a in expected}


def test_area_tables_hold_the_judged_checks_failing_first(synthetic_run):
    results, _ = synthetic_run
    (table,) = scorecard(results)["area_tables"]
    gated = {rec["check"] for rec in results["records"] if rec["gates"] or rec["status"] == "error"}
    assert set(table["checks"]) == gated
    assert table["checks"][0] == "quality.mauve"  # the error first, then the two failing checks
    assert set(table["checks"][1:3]) == {"quality.recall", "quality.class_coverage"}
    assert table["open"] and "quality.kid" in table["unjudged"]


def test_an_area_is_the_part_of_a_check_id_before_the_dot():
    assert area_of("fairness.representation_tv") == "fairness" and area_of("custom") == "custom"


def test_areas_are_columns_worst_first_and_a_row_is_missing_where_an_area_did_not_run():
    def rec(check, model, status):
        return {"check": check, "model": model, "precision": "fp32", "status": status, "value": 1.0, "gates": [{}]}
    card = scorecard({"records": [rec("quality.fid", "a", "pass"), rec("fairness.tv", "a", "fail"), rec("quality.fid", "b", "warn")]})
    assert card["areas"] == ["fairness", "quality"] and card["rows"] == ["a (fp32)", "b (fp32)"]
    assert ("b (fp32)", "fairness") not in card["cells"] and card["cells"][("a (fp32)", "fairness")]["status"] == "fail"
