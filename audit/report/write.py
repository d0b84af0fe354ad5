"""Write every report for a run directory from its results dict."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_reports(results: dict[str, Any], run_dir: Path) -> dict[str, Path]:
    from audit.report.html import render_html
    from audit.report.junit import render_junit
    from audit.report.markdown import render_markdown

    paths = {"html": run_dir / "report.html", "junit": run_dir / "junit.xml", "markdown": run_dir / "summary.md"}
    paths["html"].write_text(render_html(results, run_dir), encoding="utf-8")
    paths["junit"].write_text(render_junit(results), encoding="utf-8")
    paths["markdown"].write_text(render_markdown(results), encoding="utf-8")
    return paths
