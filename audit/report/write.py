"""Write every report for a run directory from its results dict.

All three are rendered before any is written, and each is written through a temporary file in
the same folder and a rename (audit.results.write_text_atomic): a full disk or a crash leaves
the previous report or none, never a truncated one that looks valid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

REPORT_NAMES = {"html": "report.html", "junit": "junit.xml", "markdown": "summary.md"}


def write_reports(results: dict[str, Any], run_dir: Path) -> dict[str, Path]:
    from audit.report.html import render_html
    from audit.report.junit import render_junit
    from audit.report.markdown import render_markdown
    from audit.results import write_text_atomic

    texts = {"html": render_html(results, run_dir), "junit": render_junit(results), "markdown": render_markdown(results)}
    paths = {kind: run_dir / name for kind, name in REPORT_NAMES.items()}
    for kind, text in texts.items():
        write_text_atomic(paths[kind], text)
    return paths
