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

    results = _shown(results)
    texts = {"html": render_html(results, run_dir), "junit": render_junit(results), "markdown": render_markdown(results)}
    paths = {kind: run_dir / name for kind, name in REPORT_NAMES.items()}
    for kind, text in texts.items():
        write_text_atomic(paths[kind], text)
    return paths


def _shown(results: dict[str, Any]) -> dict[str, Any]:
    """results with every string escaped (audit.messages.printable): a name with a terminal escape
    or a line break (a hand-edited results.json) reaches no report raw. Records' details keep their
    line breaks and tabs (generated text samples), nothing else."""
    from audit.messages import printable_tree

    shown = printable_tree({k: v for k, v in results.items() if k != "records"})
    shown["records"] = [{**printable_tree({k: v for k, v in r.items() if k != "details"}),
                         **({"details": printable_tree(r["details"], keep="\n\t")} if "details" in r else {})}
                        for r in results.get("records", [])]
    return shown  # type: ignore[return-value]
