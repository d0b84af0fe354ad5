"""Report charts and tables are drawn from results JSON, escaped, and placed where the data says."""

from __future__ import annotations

import json
import math
import re

HOSTILE = "<script>alert('x')</script>"


def _points(svg: str) -> list[tuple[float, float]]:
    match = re.search(r'<polyline points="([^"]+)"', svg)
    assert match, svg[:300]
    return [tuple(map(float, pair.split(","))) for pair in match.group(1).split()]


def _rerender(cli, results_path, mutate) -> str:
    data = json.loads(results_path.read_text())
    mutate(data)
    results_path.write_text(json.dumps(data))
    rendered = cli("report", str(results_path))
    assert rendered.exit_code == 0, rendered.stderr
    return (results_path.parent / "report.html").read_text()


def test_curves_tables_and_group_bars_render_escaped(cli):
    run = cli("run", "suite=smoke", "model=fixture_models:noise", "n=40", "bootstrap=20")
    record_index = next(i for i, r in enumerate(run.results["records"]) if r["status"] == "measured")
    curve = [{"x": s, "value": v, "ci_low": v - 1, "ci_high": v + 1} for s, v in [(10, 9.0), (25, 6.0), (50, 4.0), (250, 3.5)]]

    def mutate(data):
        rec = data["records"][record_index]
        rec["details"] = {
            "charts": [{"title": f"FID vs steps {HOSTILE}", "x_label": "steps", "y_label": "FID", "log_x": True, "series": {"fid": curve}}],
            "tables": [{"title": "samples", "columns": ["prompt", "text"], "rows": [["Once", HOSTILE], ["Then", 1.5]]}],
        }
        rec["by_group"] = {"overall": 0.5, "by_group": {HOSTILE: {"value": 0.2, "ci_low": 0.1, "ci_high": 0.3, "n": 5},
                                                        "b": {"value": 0.8, "ci_low": 0.7, "ci_high": 0.9, "n": 5}},
                           "group_min": 0.2, "group_max": 0.8, "difference": 0.6, "ratio": 0.25}

    html = _rerender(cli, run.run_dir / "results.json", mutate)
    assert "<script>alert" not in html
    assert html.count("&lt;script&gt;") >= 3  # chart title, table cell, bar label (escaped, not dropped)
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    line = next(s for s in svgs if "FID vs steps" in s)
    pts = _points(line)
    assert len(pts) == len(curve)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    assert ys == sorted(ys), "falling values must be drawn lower on screen (larger y) step by step"
    # log x: 10 -> 25 -> 50 spaced by log ratios, not linearly
    assert abs((xs[1] - xs[0]) / (xs[2] - xs[1]) - math.log(2.5) / math.log(2)) < 0.01
    assert "<polygon" in line, "CI band missing"
    bars = next(s for s in svgs if "by group" in s)
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', bars)]
    assert len(heights) == 2 and abs(heights[1] / heights[0] - 4.0) < 0.05  # 0.8 vs 0.2 from a zero baseline


def test_family_table_lists_every_model_column(cli):
    run = cli("run", "suite=smoke", "model=gan,fixture_models:noise", "n=40", "bootstrap=20")
    html = (run.run_dir / "report.html").read_text()
    section = html.split("Image generators side by side", 1)[1].split("</table>", 1)[0]  # one table per modality
    assert "gan (fp32)" in section and "fixture_models:noise (fp32)" in section
    assert "quality.fid" in section and "quality.conditional_accuracy" in section


def test_waived_gate_and_waiver_table_are_shown(cli, tmp_path):
    policy = tmp_path / "audit.toml"
    policy.write_text(
        '[[gate]]\ncheck = "quality.fid"\nmax = 1.0\n\n'
        '[[waiver]]\ncheck = "quality.fid"\nmodel = "fixture_models:noise"\nowner = "<b>release-team</b>"\n'
        'reason = "known noise model"\nexpires = "2999-01-01"\n'
    )
    run = cli("run", "suite=smoke", "model=fixture_models:noise", "n=40", "bootstrap=20", f"policy={policy}")
    assert run.exit_code == 0, run.stdout + run.stderr
    fid = next(r for r in run.results["records"] if r["check"] == "quality.fid")
    assert fid["status"] == "waived"
    html = (run.run_dir / "report.html").read_text()
    assert "1 waived" in html and "<h2>Waivers</h2>" in html
    assert "&lt;b&gt;release-team&lt;/b&gt;" in html and "<b>release-team" not in html
    assert "quality.fid</code> model * precision *: &lt;= 1 (error, judged on ci)" in html  # the gate label, escaped


def test_png_artifacts_of_records_are_embedded(cli):
    run = cli("run", "suite=smoke", "model=gan", "n=40", "bootstrap=20")
    results_path = run.run_dir / "results.json"
    png = next((run.run_dir / "artifacts").glob("*.png"))  # any real PNG of the run
    index, record = next((i, r) for i, r in enumerate(run.results["records"]) if r["model"] == "gan")

    def mutate(data):
        data["records"][index]["artifacts"] = {"closest pairs <x>": f"artifacts/{png.name}", "table": "artifacts/missing.csv"}

    html = _rerender(cli, results_path, mutate)
    assert f'alt="{record["check"]} closest pairs &lt;x&gt; for gan fp32"' in html
    assert html.count("data:image/png;base64,") == 2  # the sample grid and the embedded artifact


def test_cross_model_matrix_assembles_columns_from_every_record(cli):
    run = cli("run", "suite=smoke", "model=gan", "n=40", "bootstrap=20")
    measured = [i for i, r in enumerate(run.results["records"]) if r["status"] == "measured"][:2]
    assert len(measured) == 2
    title = f"Generalisation {HOSTILE}"

    def mutate(data):
        columns = {
            "gan (fp32)": {"trained on gan": {"value": 0.91, "ci_low": 0.9, "ci_high": 0.92}},
            "vae (int8)": {"trained on gan": {"value": 0.37, "ci_low": 0.36, "ci_high": 0.38},
                           "trained on vae": {"value": 0.5, "ci_low": None, "ci_high": None}},
        }
        for i, (column, cells) in zip(measured, columns.items()):
            data["records"][i]["details"] = {"matrices": [{"title": title, "row_label": "detector", "column": column, "cells": cells}]}

    html = _rerender(cli, run.run_dir / "results.json", mutate)
    assert "<script>alert" not in html and "Generalisation &lt;script&gt;" in html
    table = re.search(r'<table class="small matrix">(.*?)</table>', html, flags=re.S).group(1)
    header = re.findall(r"<th>(.*?)</th>", table)
    assert header == ["detector", "gan (fp32)", "vae (int8)"]
    rows = re.findall(r"<tr><td>(.*?)</td>(.*?)</tr>", table, flags=re.S)
    assert [r[0] for r in rows] == ["trained on gan", "trained on vae"]
    first = re.findall(r'<td class="num">(.*?)</td>', rows[0][1], flags=re.S)
    assert "0.91" in first[0] and "[0.9, 0.92]" in first[0] and "0.37" in first[1]
    second = re.findall(r'<td class="num">(.*?)</td>', rows[1][1], flags=re.S)
    assert second[0].strip() == "" and "0.5" in second[1]  # only vae's record has that row


def test_dense_curves_label_an_even_subset_of_x():
    from audit.report.charts import MAX_X_LABELS, line_chart

    grid = [i / 49 for i in range(50)]
    svg = line_chart({"title": "ROC", "x_label": "false positive rate", "y_label": "tpr",
                      "series": {"roc": [{"x": x, "value": x ** 0.5} for x in grid]}})
    def x_labels(chart_svg: str) -> list[str]:
        return re.findall(r'<text x="[\d.]+" y="[\d.]+" font-size="10" text-anchor="middle">([^<]*)</text>', chart_svg)

    labels = x_labels(svg)
    assert len(labels) == MAX_X_LABELS and labels[0] == "0" and labels[-1] == "1"
    assert len(_points(svg)) == 50  # every point is still drawn
    few = line_chart({"title": "t", "series": {"s": [{"x": s, "value": s} for s in range(6)]}})
    assert x_labels(few) == ["0", "1", "2", "3", "4", "5"]  # sparse curves keep a label per point
