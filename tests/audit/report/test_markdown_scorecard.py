"""summary.md leads with the scorecard: a row per (model, precision), a column per area, each
cell the worst verdict in words with its counts, escaped like every other text from results."""

from __future__ import annotations

from collections import Counter

from audit.report.markdown import render_markdown
from audit.verdicts import WORST_FIRST


def _scorecard_rows(markdown: str) -> list[list[str]]:
    lines = markdown.splitlines()
    start = lines.index("### Scorecard")
    table = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        table.append([c.strip() for c in line.strip("|").split(" | ")])
    return table


def test_the_scorecard_comes_before_the_list_of_problems_and_names_each_rows_worst_verdict(synthetic_run):
    results, _ = synthetic_run
    markdown = render_markdown(results)
    assert markdown.index("### Scorecard") < markdown.index("### Not passing")
    header, rule, *rows = _scorecard_rows(markdown)
    assert header == ["model (precision)", "quality"] and set(rule[0]) <= {"-", "|"}
    statuses: dict[str, list[str]] = {}
    for rec in results["records"]:
        statuses.setdefault(f"{rec['model']} ({rec['precision']})", []).append(rec["status"])
    assert [r[0] for r in rows] == sorted(statuses, key=lambda k: WORST_FIRST.index(next(s for s in WORST_FIRST if s in statuses[k])))
    for row, cell in rows:
        counts = Counter(statuses[row])
        worst = next(s for s in WORST_FIRST if s in counts)
        assert f"**{worst}**" in cell  # the word, not only the icon
        for status, n in counts.items():
            assert f"{n} {status}" in cell


def test_scorecard_cells_escape_model_names_and_mark_an_area_a_model_did_not_run():
    def rec(check, model, status):
        return {"check": check, "model": model, "precision": "fp32", "status": status, "value": 1.0, "ci_low": None,
                "ci_high": None, "n": 1, "gates": [], "verdict": "", "reason": ""}
    results = {"suite": "x", "run_id": "r", "config": {}, "summary": {"exit_code": 3, "counts": {"fail": 1, "pass": 1}},
               "records": [rec("fairness.tv", "<b>evil|model</b>", "fail"), rec("quality.fid", "ok", "pass")]}
    header, _, first, second = _scorecard_rows(render_markdown(results))
    assert header == ["model (precision)", "fairness", "quality"]
    assert first[0] == "&lt;b&gt;evil\\|model&lt;/b&gt; (fp32)" and "**fail**" in first[1] and first[2] == "—"
    assert second[0] == "ok (fp32)" and second[1] == "—" and "**pass**" in second[2]
