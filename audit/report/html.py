"""The self-contained HTML report: one file, inline CSS and images, no network needed.

Everything that came from a model or a user (texts, names, reasons) is autoescaped by Jinja2.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from audit.report.format import fmt, fmt_ci

STATUS_ORDER = ["error", "fail", "inconclusive", "warn", "pass", "measured", "skipped"]


def _data_uri(run_dir: Path, relative: str | None) -> str | None:
    if not relative:
        return None
    path = run_dir / relative
    if not path.is_file():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def render_html(results: dict[str, Any], run_dir: Path) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("audit.report", "templates"), autoescape=select_autoescape(["html", "j2"]))
    env.filters["fmt"] = fmt
    env.filters["ci"] = fmt_ci
    models = []
    for row in results.get("models", []):
        records = [r for r in results["records"] if r["model"] == row["model"] and r["precision"] == row["precision"]]
        models.append({**row, "grid_uri": _data_uri(run_dir, row.get("sample_grid")), "records": records})
    listed = {(m["model"], m["precision"]) for m in models}
    orphans = [r for r in results["records"] if (r["model"], r["precision"]) not in listed]
    code = results["summary"]["exit_code"]
    verdict = {0: "PASS", 1: "FAIL", 2: "BAD INPUT", 3: "INCONCLUSIVE", 4: "ERROR"}.get(code, str(code))
    return env.get_template("report.html.j2").render(
        r=results, models=models, orphans=orphans, verdict=verdict, code=code, status_order=STATUS_ORDER
    )
