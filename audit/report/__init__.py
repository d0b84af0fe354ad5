"""Renderers that read results.json (the single source of truth): HTML, JUnit XML, Markdown, and
the comparison page of many runs."""

from audit.report.comparison import build_comparison, render_comparison, write_comparison_page
from audit.report.comparison_inputs import LoadedRun, load_runs
from audit.report.explanations import PEERS, Peer, explanations, peer_table_markdown
from audit.report.gate_marks import gate_marks, headroom, judged_quantities
from audit.report.html import render_html
from audit.report.junit import render_junit
from audit.report.markdown import render_markdown
from audit.report.scorecard import scorecard
from audit.report.side_by_side import side_by_side
from audit.report.write import REPORT_NAMES, write_reports

__all__ = [
    "LoadedRun", "PEERS", "Peer", "REPORT_NAMES", "build_comparison", "explanations", "gate_marks", "headroom", "judged_quantities", "load_runs", "peer_table_markdown",
    "render_comparison", "render_html", "render_junit", "render_markdown", "scorecard", "side_by_side", "write_comparison_page", "write_reports",
]
