"""The self-contained HTML report: one file, inline CSS and images, no network needed.

Everything that came from a model or a user (texts, names, reasons) is autoescaped by Jinja2.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from audit.report.charts import bar_chart, line_chart
from audit.report.format import fmt, fmt_ci

STATUS_ORDER = ["error", "fail", "inconclusive", "warn", "waived", "pass", "measured", "skipped"]


def _data_uri(run_dir: Path, relative: str | None) -> str | None:
    if not relative:
        return None
    path = run_dir / relative
    if not path.is_file():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def family_tables(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Per-family comparison: one row per check, one column per (model, precision), value and CI."""
    tables: dict[str, dict[str, Any]] = {}
    for rec in results["records"]:
        family = rec.get("family") or "other"
        table = tables.setdefault(family, {"family": family, "columns": [], "checks": [], "cells": {}})
        column = f"{rec['model']} ({rec['precision']})"
        if column not in table["columns"]:
            table["columns"].append(column)
        if rec["check"] not in table["checks"]:
            table["checks"].append(rec["check"])
        table["cells"][(rec["check"], column)] = rec
    return [tables[f] for f in sorted(tables)]


def matrices(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Cross-model matrices: each record may give one column of a titled matrix in
    `details["matrices"]` ({"title", "row_label", "column", "cells": {row: {value, ci_low, ci_high}}});
    columns from every model of the run are put side by side (e.g. detector generalisation)."""
    out: dict[str, dict[str, Any]] = {}
    for rec in results["records"]:
        for m in (rec.get("details") or {}).get("matrices") or []:
            table = out.setdefault(m["title"], {"title": m["title"], "row_label": m.get("row_label", ""), "rows": [], "columns": [], "cells": {}})
            if m["column"] not in table["columns"]:
                table["columns"].append(m["column"])
            for row, cell in m["cells"].items():
                if row not in table["rows"]:
                    table["rows"].append(row)
                table["cells"][(row, m["column"])] = cell
    return list(out.values())


def render_html(results: dict[str, Any], run_dir: Path) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("audit.report", "templates"), autoescape=select_autoescape(["html", "j2"]))
    env.filters["fmt"] = fmt
    env.filters["ci"] = fmt_ci
    env.filters["line_chart"] = line_chart
    env.globals["bar_chart"] = bar_chart
    models = []
    for row in results.get("models", []):
        records = [r for r in results["records"] if r["model"] == row["model"] and r["precision"] == row["precision"]]
        images = [
            {"check": r["check"], "name": name, "uri": _data_uri(run_dir, path)}
            for r in records for name, path in (r.get("artifacts") or {}).items() if str(path).endswith(".png")
        ]
        models.append({**row, "grid_uri": _data_uri(run_dir, row.get("sample_grid")), "records": records,
                       "images": [i for i in images if i["uri"]]})
    listed = {(m["model"], m["precision"]) for m in models}
    orphans = [r for r in results["records"] if (r["model"], r["precision"]) not in listed]
    from audit.policy import Gate

    gate_labels = []
    for g in results.get("gates", []):
        try:
            gate_labels.append({"check": g["check"], "model": g.get("model", "*"), "precision": g.get("precision", "*"), "label": Gate(**g).label()})
        except TypeError:  # a results file from another version: show its fields as they are
            gate_labels.append({"check": g.get("check", "?"), "model": g.get("model", "*"), "precision": g.get("precision", "*"), "label": str(g)})
    code = results["summary"]["exit_code"]
    verdict = {0: "PASS", 1: "FAIL", 2: "BAD INPUT", 3: "INCONCLUSIVE", 4: "ERROR"}.get(code, str(code))
    return env.get_template("report.html.j2").render(
        r=results, models=models, families=family_tables(results), matrices=matrices(results), gate_labels=gate_labels, orphans=orphans, verdict=verdict, code=code, status_order=STATUS_ORDER
    )
