"""The comparison page of many runs (audit.report.comparison): leaderboard order by the check's
direction, "not comparable" marks by `audit compare`'s rules, runs in start-time order, gate
bounds drawn, everything escaped, and the page of 20 realistic runs under 3 MB.

The runs are synthetic results.json files in a real run's shape (tests/fixtures/synthetic_runs.py);
expected orders come from the fixture's own value formula and from the field's conventions
(FID: lower is better; precision: higher is better), never from the code under test."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from synthetic_runs import CHECKS, MODELS, synthetic_results, value_of, write_run

from audit.report.comparison import build_comparison, render_comparison, write_comparison_page
from audit.report.comparison_inputs import LoadedRun


def loaded(results: list[dict[str, Any]]) -> list[LoadedRun]:
    return [LoadedRun(f"runs/{i}", Path(f"/runs/{i}/results.json"), r) for i, r in enumerate(results)]


def section(comparison: dict[str, Any], check: str) -> dict[str, Any]:
    return next(s for s in comparison["checks"] if s["check"] == check)


def test_leaderboard_is_best_first_by_the_checks_direction():
    runs = [synthetic_results(i, checks=("quality.fid", "quality.precision", "efficiency.params")) for i in range(3)]
    comparison = build_comparison(loaded(runs))
    expected = sorted(value_of("quality.fid", m, i) for m in MODELS for i in range(3))  # FID: lower is better
    fid = section(comparison, "quality.fid")
    assert [row["value"] for row in fid["ranked"]] == expected
    assert (fid["ranked"][0]["model"], fid["ranked"][0]["run"]) == ("gan", 1)
    precision = section(comparison, "quality.precision")  # precision: higher is better
    assert [row["value"] for row in precision["ranked"]] == sorted((value_of("quality.precision", m, i) for m in MODELS for i in range(3)), reverse=True)
    assert (precision["ranked"][0]["model"], precision["ranked"][0]["run"]) == ("transformer", 3)
    assert [row["rank"] for row in precision["ranked"]][:3] == [1, 2, 3]
    params = section(comparison, "efficiency.params")  # no better direction: listed, never ranked
    assert params["higher_is_better"] is None and all(row["rank"] is None for row in params["ranked"])


def test_equal_values_share_a_rank():
    runs = [synthetic_results(0, checks=("quality.fid",)), synthetic_results(0, checks=("quality.fid",), started="2026-12-01T00:00:00Z")]
    ranks = [row["rank"] for row in section(build_comparison(loaded(runs)), "quality.fid")["ranked"]]
    assert ranks == [1, 1, 3, 3, 5, 5, 7, 7]


def test_kid_estimates_at_or_below_zero_share_the_first_rank():
    """KID is an unbiased MMD^2 estimate: below 0 is noise around a true value of 0, so -0.003 and
    -0.0001 tie with 0 at rank 1 and only the positive value ranks after them."""
    runs = [synthetic_results(i, checks=("quality.kid",)) for i in range(2)]
    records = [r for run in runs for r in run["records"]]
    for record, value in zip(records, [-0.003, 0.0, -0.0001, 0.02] + [0.05] * (len(records) - 4)):
        record.update(value=value, ci_low=value - 0.001, ci_high=value + 0.001)
    kid = section(build_comparison(loaded(runs)), "quality.kid")
    ranks = {row["value"]: row["rank"] for row in kid["ranked"]}
    assert ranks[-0.003] == ranks[0.0] == ranks[-0.0001] == 1
    assert ranks[0.02] == 4 and ranks[0.05] == 5


def test_a_record_without_a_value_is_listed_unranked_with_its_status():
    runs = [synthetic_results(i, checks=("quality.fid",)) for i in range(2)]
    broken = runs[1]["records"][0]
    broken.update(status="error", value=None, ci_low=None, ci_high=None, reason="model raised ValueError")
    fid = section(build_comparison(loaded(runs)), "quality.fid")
    assert len(fid["ranked"]) == 2 * len(MODELS) - 1
    (row,) = fid["unranked"]
    assert (row["model"], row["run"], row["rank"], row["not_comparable"]) == (broken["model"], 2, None, [])
    html = render_comparison(build_comparison(loaded(runs)))
    assert "no value" in html and "model raised ValueError" in html


def test_a_plugin_check_unknown_here_takes_its_direction_from_its_records():
    runs = [synthetic_results(i, checks=("quality.fid",)) for i in range(2)]
    for run in runs:
        for rec in run["records"]:
            rec.update(check="myplugin.score", higher_is_better=True)
    board = section(build_comparison(loaded(runs)), "myplugin.score")
    values = [row["value"] for row in board["ranked"]]
    assert board["higher_is_better"] is True and values == sorted(values, reverse=True)


def test_a_run_with_another_evaluator_or_n_is_marked_and_not_ranked():
    runs = [synthetic_results(i, checks=("quality.fid", "quality.kid")) for i in range(4)]
    runs[1]["fingerprint"]["files"]["evaluator:digits-cnn"] = "f" * 64  # another evaluator: every check
    for rec in runs[2]["records"]:
        if rec["check"] == "quality.kid":
            rec["params"]["n"] = 500  # another n: that check only
    runs[3]["fingerprint"]["seed"] = 7  # a seed is information, not a refusal (as in `audit compare`)
    comparison = build_comparison(loaded(runs))
    fid, kid = section(comparison, "quality.fid"), section(comparison, "quality.kid")
    assert fid["reference"] == kid["reference"] == 4  # the newest run
    assert fid["left_out"] == [2] and kid["left_out"] == [2, 3]
    assert {row["run"] for row in fid["ranked"]} == {1, 3, 4} and {row["run"] for row in kid["ranked"]} == {1, 4}
    marked = [row for row in fid["unranked"] if row["run"] == 2]
    assert len(marked) == len(MODELS) and all(row["rank"] is None for row in marked)
    assert all(any("evaluator:digits-cnn sha256" in reason for reason in row["not_comparable"]) for row in marked)
    assert any("n 1000 vs 500" in reason for row in kid["unranked"] if row["run"] == 3 for reason in row["not_comparable"])
    assert fid["trend_runs"] == [1, 3, 4]
    run_rows = {run["number"]: run for run in comparison["runs"]}
    assert run_rows[2]["metric_differences"] and not run_rows[1]["metric_differences"]
    html = render_comparison(comparison)
    assert html.count("not comparable: evaluator:digits-cnn sha256") == 2 * len(MODELS)
    assert "not comparable: quality.kid: n 1000 vs 500" in html


def test_when_the_newest_run_changed_evaluator_the_older_runs_are_the_ones_marked():
    runs = [synthetic_results(i, checks=("quality.fid",)) for i in range(3)]
    runs[2]["fingerprint"]["files"]["evaluator:digits-cnn"] = "e" * 64
    fid = section(build_comparison(loaded(runs)), "quality.fid")
    assert fid["reference"] == 3 and fid["left_out"] == [1, 2] and fid["trend"] is None


def test_runs_are_numbered_by_start_time_whatever_the_order_given():
    days = ["2026-11-05T00:00:00Z", "2026-11-01T00:00:00+00:00", None, "2026-11-03T12:00:00Z"]
    runs = [synthetic_results(i, run_id=f"id{i}", checks=("quality.fid",)) for i in range(4)]
    for run, day in zip(runs, days):
        run["started"] = day
    comparison = build_comparison(loaded(runs))
    assert [run["run_id"] for run in comparison["runs"]] == ["id1", "id3", "id0", "id2"]  # no start time: last
    fid = section(comparison, "quality.fid")
    assert fid["trend_runs"] == [1, 2, 3, 4]
    titles = re.findall(r"gan \(fp32\), run #(\d+)", str(fid["trend"]))
    assert titles == ["1", "2", "3", "4"]


def test_gate_bounds_are_drawn_and_labelled():
    runs = [synthetic_results(i, checks=("quality.fid",), fid_max=20.0) for i in range(3)]
    fid = section(build_comparison(loaded(runs)), "quality.fid")
    assert fid["bounds"] == ["<= 20"]
    assert "gate &lt;= 20" in str(fid["trend"]) and 'stroke-dasharray="5 3"' in str(fid["trend"])
    assert all('stroke-dasharray="3 2"' in str(row["strip"]) for row in fid["ranked"])


def test_everything_from_results_is_escaped():
    runs = [synthetic_results(i, checks=("quality.fid",)) for i in range(2)]
    for run in runs:
        run["run_id"] = "<img src=x onerror=alert(1)>"
        for rec in run["records"]:
            rec["model"] = "<script>alert('m')</script>"
            rec["verdict"] = "<b>bold</b>"
    html = render_comparison(build_comparison(loaded(runs)))
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(" in html
    assert html.count("<script>") == 1  # the page's own filter, nothing else


def test_twenty_realistic_runs_fit_in_three_megabytes(tmp_path: Path):
    runs = []
    for i in range(20):
        results = synthetic_results(i, fid_max=20.0)
        assert len(results["records"]) == len(CHECKS) * len(MODELS) == 60
        runs.append(LoadedRun(str(write_run(tmp_path / f"r{i:02d}", results)), tmp_path / f"r{i:02d}" / "results.json", results))
    changed = copy.deepcopy(runs[5].results)
    changed["fingerprint"]["files"]["evaluator:digits-cnn"] = "a" * 64
    runs[5] = LoadedRun(runs[5].path, runs[5].source, changed)
    page = write_comparison_page(runs, tmp_path / "out")
    size = page.stat().st_size
    print(f"comparison page of 20 runs x 60 records: {size / 1e6:.2f} MB")
    assert size < 3_000_000
    html = page.read_text(encoding="utf-8")
    assert "per_sample" not in html and "samples.png" not in html  # no per-sample values, no sample grids
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)  # nothing fetched from anywhere
    assert html.count('class="ranked"') == 19 * 15 * 4 and html.count('class="unranked"') == 15 * 4


def test_each_check_name_links_to_its_explanation():
    runs = [synthetic_results(i, checks=("quality.fid", "quality.precision")) for i in range(2)]
    html = render_comparison(build_comparison(loaded(runs)))
    for check in ("quality.fid", "quality.precision"):
        assert f'href="#explain-{check}"' in html and f'id="explain-{check}"' in html
    explanation = html[html.index('id="explain-quality.fid"'):]
    assert "lower is better" in explanation[:2000]
