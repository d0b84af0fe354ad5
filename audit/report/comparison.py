"""The comparison page of many runs (`audit report A B ...`, or a folder of runs): a leaderboard
per check, trends over runs, and what makes runs not comparable, shown rather than hidden.

- **Runs** are numbered #1..#N in the order they started (`started` in results.json; a run
  without it comes last, in the order given), so "newest" and the trend's x axis agree.
- **Comparable** follows `audit compare`'s refusal rules (audit.differences): per check, each run
  is held against the newest run that measured the check (its reference); a different metric
  fingerprint (evaluator, data, detector or attribute-classifier sha256, metric package versions)
  or different record params (n, bootstrap, check parameters) marks that run's rows
  "not comparable: <reason>" and keeps them out of the ranking and the trend. Seeds, the device
  and other information-only differences (audit.differences.info_differences) are listed per run
  but do not refuse, exactly as in `audit compare`.
- **Leaderboard**: rows are run x model x precision with a value, best first by the check's
  direction (`CheckSpec.higher_is_better` from the check registry; the record's own field for a
  check this installation does not know; no direction: listed in run order, not ranked).
- **Gates**: the absolute bounds (min, max) the runs' judged gates state for the check are drawn
  on every strip and trend.

Per-sample values, sample grids and other bulky details are never embedded: the page of 20 runs
of ~60 records stays well under 3 MB.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from audit.differences import info_differences, params_difference, run_differences
from audit.errors import InputError
from audit.formatting import fmt, fmt_ci
from audit.report.comparison_charts import Scale, finite, interval_strip, trend_chart
from audit.report.comparison_inputs import LoadedRun
from audit.report.side_by_side import ZERO_FLOORED
from audit.verdicts import STATUS_COLOURS, UNJUDGED, run_verdict

PAGE_NAME = "comparison.html"
DEFAULT_OUT = "audit-comparison"
"""Default folder of the comparison page, relative to the current directory."""


def _started(run: LoadedRun) -> datetime | None:
    text = run.results.get("started")
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def order_runs(runs: Sequence[LoadedRun]) -> list[LoadedRun]:
    """Oldest first by start time; runs without a readable start time last, in the order given."""
    latest = datetime.max.replace(tzinfo=timezone.utc)
    return [run for _, _, run in sorted(((_started(r) or latest, i, r) for i, r in enumerate(runs)), key=lambda t: t[:2])]


def direction(check: str, records: Sequence[dict[str, Any]]) -> bool | None:
    """Whether higher is better for `check`: the check registry's word, else the records'."""
    from audit.checks import check_spec

    try:
        return check_spec(check).higher_is_better
    except (InputError, ImportError):  # a plugin check not installed here: its records say
        stated = {r.get("higher_is_better") for r in records if r.get("higher_is_better") is not None}
        return stated.pop() if len(stated) == 1 else None


def _gate_bounds(records: Sequence[dict[str, Any]]) -> list[tuple[str, float]]:
    """The absolute bounds of the gates that judged these records (relative gates have none)."""
    bounds: list[tuple[str, float]] = []
    for record in records:
        for gate in record.get("gates") or []:
            for key, kind in (("min", ">="), ("max", "<=")):
                if finite(gate.get(key)) and (kind, float(gate[key])) not in bounds:
                    bounds.append((kind, float(gate[key])))
    return bounds


def _reference_record(reference: list[dict[str, Any]], record: dict[str, Any]) -> dict[str, Any]:
    same = [r for r in reference if (r["model"], r["precision"]) == (record["model"], record["precision"])]
    return (same or reference)[0]


def _refusals(reference: list[dict[str, Any]], records: list[dict[str, Any]], run_level: list[str]) -> list[str]:
    """Why a run's records of one check are not comparable with the reference run's."""
    reasons = list(run_level)
    for record in records:
        diff = params_difference(_reference_record(reference, record), record)
        if diff and diff not in reasons:
            reasons.append(diff)
    return reasons


def _row(number: int, record: dict[str, Any], reasons: list[str]) -> dict[str, Any]:
    return {
        "run": number, "model": record["model"], "precision": record["precision"], "status": record["status"],
        "value": record.get("value"), "ci_low": record.get("ci_low"), "ci_high": record.get("ci_high"),
        "n": record.get("n"), "seed": record.get("seed"), "unit": record.get("unit") or "",
        "verdict": (record.get("reason") if record["status"] in UNJUDGED else record.get("verdict")) or "",
        "not_comparable": reasons, "rank": None,
        "valued": finite(record.get("value")),
    }


def _rank(rows: list[dict[str, Any]], higher_is_better: bool | None, zero_floored: bool = False) -> list[dict[str, Any]]:
    """Best first; equal values share a rank. No direction: run order, no rank. `zero_floored`
    (side_by_side.ZERO_FLOORED, e.g. KID): ranked at max(value, 0), so estimates at or below 0
    tie instead of the most negative noise winning."""
    if higher_is_better is None:
        return rows

    def score(row: dict[str, Any]) -> float:
        return max(row["value"], 0.0) if zero_floored else row["value"]

    ordered = sorted(rows, key=lambda r: -score(r) if higher_is_better else score(r))
    for row in ordered:
        row["rank"] = 1 + sum(1 for other in ordered if (score(other) > score(row) if higher_is_better else score(other) < score(row)))
    return ordered


def check_section(check: str, runs: Sequence[tuple[int, LoadedRun]], fingerprint_gaps: dict[tuple[int, int], list[str]]) -> dict[str, Any]:
    """One check across the runs: its reference run, leaderboard, unranked rows and trend."""
    by_run = {number: [r for r in run.results["records"] if r["check"] == check] for number, run in runs}
    by_run = {number: records for number, records in by_run.items() if records}
    all_records = [r for records in by_run.values() for r in records]
    valued = [number for number, records in by_run.items() if any(finite(r.get("value")) for r in records)]
    reference = max(valued or by_run)
    higher_is_better = direction(check, all_records)
    comparable, ranked, unranked, columns = [], [], [], {}
    for number, records in by_run.items():
        reasons = [] if number == reference else _refusals(by_run[reference], records, fingerprint_gaps[(reference, number)])
        columns[number] = {"reference": number == reference, "not_comparable": reasons}
        if not reasons:
            comparable.append(number)
        for record in records:
            row = _row(number, record, reasons)
            (ranked if not reasons and row["valued"] else unranked).append(row)
    ranked = _rank(ranked, higher_is_better, check in ZERO_FLOORED)
    bounds = _gate_bounds(all_records)
    scale = Scale.over([v for row in ranked + unranked for v in (row["value"], row["ci_low"], row["ci_high"])] + [b for _, b in bounds])
    for row in ranked + unranked:
        row["strip"] = interval_strip(row["value"], row["ci_low"], row["ci_high"], scale, [b for _, b in bounds],
                                      f"{row['model']} {row['precision']} run #{row['run']}: {fmt(row['value'])} {fmt_ci(row)}")
    series: dict[str, list[dict[str, Any]]] = {}
    for row in ranked:
        series.setdefault(f"{row['model']} ({row['precision']})", []).append(row)
    trend_runs = sorted(n for n in comparable if n in {row["run"] for row in ranked})
    trend = trend_chart(f"{check} over runs", trend_runs, series, bounds) if len(trend_runs) >= 2 else None
    return {
        "check": check, "higher_is_better": higher_is_better, "reference": reference, "columns": columns,
        "ranked": ranked, "unranked": unranked, "bounds": [f"{kind} {fmt(b)}" for kind, b in bounds],
        "trend": trend, "trend_runs": trend_runs,
        "left_out": sorted(n for n, c in columns.items() if c["not_comparable"]),
    }


def _run_summary(number: int, run: LoadedRun, newest: LoadedRun) -> dict[str, Any]:
    data = run.results
    summary = data.get("summary") or {}
    return {
        "number": number, "path": run.path, "run_id": data.get("run_id"), "suite": data.get("suite"),
        "started": data.get("started") or "", "verdict": run_verdict(summary.get("exit_code", 4), bool(data.get("interrupted"))).word,
        "exit_code": summary.get("exit_code"),
        "models": sorted({f"{r['model']}/{r['precision']}" for r in data["records"]}),
        "metric_differences": [] if run is newest else run_differences(newest.results, data),
        "info_differences": [] if run is newest else info_differences(newest.results, data),
    }


def build_comparison(runs: Sequence[LoadedRun]) -> dict[str, Any]:
    """Everything the comparison page shows, from the runs' results alone."""
    ordered = order_runs(runs)
    numbered = list(enumerate(ordered, start=1))
    checks = sorted({r["check"] for run in ordered for r in run.results["records"]})
    gaps = {(a, b): run_differences(ra.results, rb.results) for a, ra in numbered for b, rb in numbered}
    newest = ordered[-1]
    return {
        "runs": [_run_summary(number, run, newest) for number, run in numbered],
        "checks": [check_section(check, numbered, gaps) for check in checks],
        "explain": [_first_record(ordered, check) for check in checks],
    }


def _first_record(runs: Sequence[LoadedRun], check: str) -> dict[str, Any]:
    """What an explanation reads of a check it does not know: the newest record's direction and unit."""
    record = next(r for run in reversed(runs) for r in run.results["records"] if r["check"] == check)
    return {"check": check, "higher_is_better": record.get("higher_is_better"), "unit": record.get("unit")}


def _explanations(comparison: dict[str, Any]) -> list[dict[str, Any]]:
    """audit.report.explanations' block for each check on the page (what it measures, its
    direction, default gates, peer definition)."""
    from audit.report.explanations import explanations

    return explanations({"records": comparison["explain"]})


def render_comparison(comparison: dict[str, Any]) -> str:
    """The self-contained page: inline CSS, SVG and a small filter script; everything autoescaped."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("audit.report", "templates"), autoescape=select_autoescape(["html", "j2"]))
    env.filters["fmt"] = fmt
    env.filters["ci"] = fmt_ci
    blocks = _explanations(comparison)
    return env.get_template("comparison.html.j2").render(
        c=comparison, status_colours=STATUS_COLOURS, explanations=blocks, explained={b["check"] for b in blocks},
    )


def write_comparison_page(runs: Sequence[LoadedRun], out_dir: Path) -> Path:
    """Render the comparison of `runs` and write it to `out_dir`/comparison.html (atomically); an
    `out_dir` that is not a writable folder is bad input (exit 2)."""
    from audit.config import writable_folder
    from audit.results import write_text_atomic

    writable_folder(out_dir)
    text = render_comparison(build_comparison(runs))
    path = out_dir / PAGE_NAME
    write_text_atomic(path, text)
    return path


__all__ = ["DEFAULT_OUT", "PAGE_NAME", "build_comparison", "check_section", "direction", "order_runs", "render_comparison", "write_comparison_page"]
