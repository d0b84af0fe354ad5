"""Renderers that read results.json (the single source of truth): HTML, JUnit XML, Markdown."""

from audit.report.html import render_html
from audit.report.junit import render_junit
from audit.report.markdown import render_markdown
from audit.report.write import write_reports

__all__ = ["render_html", "render_junit", "render_markdown", "write_reports"]
