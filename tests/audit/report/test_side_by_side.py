"""Side by side across models: one table per modality, best value per row, the control column."""

from __future__ import annotations

from typing import Any

from audit.report.html import render_html
from audit.report.side_by_side import best_rows, control_of, side_by_side


def test_one_table_per_modality_with_a_column_per_model(synthetic_run):
    results, _ = synthetic_run
    tables = side_by_side(results)
    assert [t["title"] for t in tables] == ["Image generators", "Language models"]
    assert tables[0]["columns"] == ["gan (fp32)", "gan-collapsed (fp32)", "vae (fp32)"]
    assert tables[1]["columns"] == ["transformer (fp32)"]


def cell(model: str, value: float | None, ci: tuple[float, float] | None = None, *, check: str = "quality.kid",
         higher_is_better: bool | None = False, status: str = "measured") -> dict[str, Any]:
    """One record as `side_by_side` sees it (row label added), with or without a CI."""
    low, high = ci if ci else (None, None)
    return {"check": check, "model": model, "precision": "fp32", "row": f"{model} (fp32)", "status": status,
            "value": value, "ci_low": low, "ci_high": high, "higher_is_better": higher_is_better,
            "family": "gan", "details": {}}


def test_the_star_follows_the_check_direction_and_marks_ties_within_the_ci(synthetic_run):
    results, _ = synthetic_run
    rows = {row["check"]: row["best"] for row in side_by_side(results)[0]["rows"]}
    # FID, lower better: gan 40 [34, 46] best, gan-collapsed 46 [40, 52] overlaps it, vae 98 [90, 106] does not
    assert rows["quality.fid"] == {"gan (fp32)", "gan-collapsed (fp32)"}
    # class coverage, higher better: gan and vae 1.0 [1, 1] tie, gan-collapsed 0.3 [0.2, 0.4] is clearly worse
    assert rows["quality.class_coverage"] == {"gan (fp32)", "vae (fp32)"}


def test_kid_at_or_below_zero_ties_within_noise_and_the_clearly_worse_value_gets_no_star():
    recs = [cell("a", -0.002, (-0.004, 0.001)), cell("b", 0.0005, (-0.001, 0.002)), cell("c", 0.03, (0.02, 0.04))]
    assert best_rows(recs) == {"a (fp32)", "b (fp32)"}
    # the most negative value wins nothing by being negative: without CIs, -0.002 and 0 tie at 0
    assert best_rows([cell("a", -0.002), cell("b", 0.0), cell("c", 0.03)]) == {"a (fp32)", "b (fp32)"}
    # a check without the floor keeps ranking the raw value: -0.002 alone is best
    other = [cell(m, v, check="quality.swd_pixel") for m, v in (("a", -0.002), ("b", 0.0), ("c", 0.03))]
    assert best_rows(other) == {"a (fp32)"}


def test_a_clearly_separated_best_value_is_the_only_star():
    lower = [cell("a", 0.01, (0.005, 0.015)), cell("b", 0.03, (0.02, 0.04)), cell("c", 0.05, (0.045, 0.055))]
    assert best_rows(lower) == {"a (fp32)"}
    higher = [cell(m, v, ci, check="quality.recall", higher_is_better=True) for m, v, ci in
              (("a", 0.2, (0.15, 0.25)), ("b", 0.5, (0.45, 0.55)), ("c", 0.9, (0.85, 0.95)))]
    assert best_rows(higher) == {"c (fp32)"}, "higher is better: the largest value wins"
    flipped = [{**r, "higher_is_better": False} for r in higher]
    assert best_rows(flipped) == {"a (fp32)"}, "lower is better: the smallest value wins"


def test_a_value_without_a_ci_ties_only_inside_the_best_ones_interval():
    recs = [cell("a", 0.01, (0.0, 0.02), check="quality.fid"), cell("b", 0.015, check="quality.fid"),
            cell("c", 0.025, check="quality.fid")]
    assert best_rows(recs) == {"a (fp32)", "b (fp32)"}


def test_no_star_when_every_value_ties():
    recs = [cell("a", 0.001, (-0.002, 0.004)), cell("b", 0.002, (0.0, 0.005)), cell("c", -0.001, (-0.003, 0.002))]
    assert best_rows(recs) == set()
    assert best_rows([cell("a", 1.0, check="quality.fid"), cell("b", 1.0, check="quality.fid")]) == set()


def test_failed_or_missing_values_neither_win_nor_count_toward_a_full_tie():
    recs = [cell("a", 0.01, (0.0, 0.02)), cell("b", 0.015, (0.01, 0.02)), cell("c", 0.05, (0.04, 0.06)),
            cell("d", -1.0, (-2.0, 0.0), status="error"), cell("e", None)]
    assert best_rows(recs) == {"a (fp32)", "b (fp32)"}


def test_the_page_stars_the_tied_kid_values_and_explains_the_rule(synthetic_run, tmp_path):
    results, _ = synthetic_run
    kid = {"gan": (-0.002, -0.004, 0.001), "gan-collapsed": (0.0005, -0.001, 0.002), "vae": (0.03, 0.02, 0.04)}
    records = [{**r, **dict(zip(("value", "ci_low", "ci_high"), kid[r["model"]]))} if r["check"] == "quality.kid" else r
               for r in results["records"]]
    html = render_html({**results, "records": records}, tmp_path)
    table = html.split("Image generators side by side", 1)[1].split("</table>", 1)[0]
    row = table.split("<code>quality.kid</code>", 1)[1].split("</tr>", 1)[0]
    starred = {m: "★" in row.split(f'data-model="{m} (fp32)">', 1)[1].split("</td>", 1)[0] for m in kid}
    assert starred == {"gan": True, "gan-collapsed": True, "vae": False}
    legend = html.split("<h2>Results</h2>", 1)[0].rsplit("</table></div>", 1)[1]
    assert "95% CI overlaps" in legend and "every value ties has no star" in legend
    assert "<code>quality.kid</code> is ranked at max(value, 0)" in legend


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
