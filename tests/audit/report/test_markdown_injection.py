"""summary.md is posted as a pull-request comment: a model's error message or name must not
become a link, a remote image (fetched when the comment is shown), bold text or an @-mention
there. Rendered with markdown-it (CommonMark with tables), an independent renderer."""

from __future__ import annotations

import copy

import pytest

from audit.report.markdown import render_markdown

markdown_it = pytest.importorskip("markdown_it")

PAYLOAD = ("see [details](http://evil.example/x) ![img](http://evil.example/p.png) **PASS** ~~fail~~ "
           "@everyone <img src=http://evil.example/q.png> back\\slash")


def _rendered(results: dict) -> str:
    return markdown_it.MarkdownIt("commonmark").enable("table").enable("strikethrough").render(render_markdown(results))


def test_a_reason_and_a_model_name_stay_text(synthetic_run):
    results, _ = synthetic_run
    results = copy.deepcopy(results)
    record = results["records"][0]
    record.update(status="error", reason=f"RuntimeError: {PAYLOAD}", model=f"m [x](http://evil.example/m) @all", value=None)
    html = _rendered(results)
    for active in ("<a ", "<img", "<strong>PASS", "<del>", "evil.example/p.png\"", "href="):
        assert active not in html, active
    for mention in ("@everyone", "@all"):
        assert mention not in html.replace("&#8203;", "\u200b")  # the @ is followed by a zero-width space
    assert "[details](http://evil.example/x)" in html  # the text itself is kept, readable
    assert "back\\slash" in html


def test_names_keep_their_underscores(synthetic_run):
    results, _ = synthetic_run
    assert "\\_" not in render_markdown(results)
