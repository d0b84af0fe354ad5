"""Side by side across models: one table per modality, best value per row, the control column."""

from __future__ import annotations

import numpy as np

from audit.report.side_by_side import control_of, side_by_side


def test_one_table_per_modality_with_a_column_per_model(synthetic_run):
    results, _ = synthetic_run
    tables = side_by_side(results)
    assert [t["title"] for t in tables] == ["Image generators", "Language models"]
    assert tables[0]["columns"] == ["gan (fp32)", "gan-collapsed (fp32)", "vae (fp32)"]
    assert tables[1]["columns"] == ["transformer (fp32)"]


def test_the_best_value_of_each_row_follows_the_check_direction(synthetic_run):
    results, _ = synthetic_run
    image = side_by_side(results)[0]
    for row in image["rows"]:
        recs = [r for r in results["records"] if r["check"] == row["check"] and r["value"] is not None]
        values = np.array([r["value"] for r in recs])
        pick = np.max if recs[0]["higher_is_better"] else np.min
        expected = {f"{r['model']} ({r['precision']})" for r in recs if r["value"] == pick(values)}
        assert row["best"] == expected, row["check"]


def test_no_best_mark_for_a_single_model_or_an_undirected_check():
    def rec(model, value, hib):
        return {"check": "x.y", "model": model, "precision": "fp32", "status": "measured", "value": value,
                "higher_is_better": hib, "family": "gan", "details": {}}
    assert side_by_side({"records": [rec("a", 1.0, True)]})[0]["rows"][0]["best"] == set()
    assert side_by_side({"records": [rec("a", 1.0, None), rec("b", 2.0, None)]})[0]["rows"][0]["best"] == set()


def test_the_real_data_floor_is_its_own_column(synthetic_run):
    results, _ = synthetic_run
    fid = next(r for r in side_by_side(results)[0]["rows"] if r["check"] == "quality.fid")
    floor = next(r["details"]["real_data_floor"] for r in results["records"] if r["check"] == "quality.fid")
    assert fid["control"] == f"{floor:.4g} (real-data floor)"
    assert control_of({"details": {"human_value": 0.5}}) == ("human text", 0.5)
    assert control_of({"details": {"real_data_floor": None}}) is None
