"""summary.md: a compact table suitable for a pull-request comment."""

from __future__ import annotations

from typing import Any

from audit.report.format import fmt, fmt_ci

ICONS = {"pass": "✅", "fail": "❌", "warn": "⚠️", "inconclusive": "❔", "skipped": "⏭️", "error": "💥", "measured": "·"}


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(results: dict[str, Any]) -> str:
    counts = ", ".join(f"{v} {k}" for k, v in results["summary"]["counts"].items())
    lines = [
        f"## audit `{results['suite']}` — exit code {results['summary']['exit_code']}",
        "",
        f"Run `{results['run_id']}`{' (interrupted)' if results.get('interrupted') else ''}: {counts}.",
        "",
        "| | check | model | precision | value | 95% CI | n | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results["records"]:
        lines.append(
            f"| {ICONS.get(r['status'], '')} | {_cell(r['check'])} | {_cell(r['model'])} | {r['precision']} | {fmt(r.get('value'))} "
            f"| {fmt_ci(r)} | {r.get('n') or ''} | {_cell(r.get('verdict') or r.get('reason') or '')} |"
        )
    return "\n".join(lines) + "\n"
