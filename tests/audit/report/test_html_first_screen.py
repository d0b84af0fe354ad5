"""report.html's first screen, read as HTML (lxml): the scorecard's cells say their verdict in
words, every link lands on an element of the page, the page is whole without its script, the
script is the only one and the Content-Security-Policy allows nothing else, and the size stays
under the 1 MB bound of a default quality run."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import lxml.html
import pytest

from audit.report import render_html
from tests.helpers import synthetic_quality_run

MAX_REPORT_BYTES = 1_000_000


@pytest.fixture(scope="module")
def page(synthetic_run):
    results, folder = synthetic_run
    text = render_html(results, folder)
    return text, lxml.html.fromstring(text)


def test_scorecard_cells_carry_the_verdict_word_and_link_to_records(page, synthetic_run):
    results, _ = synthetic_run
    _, doc = page
    rows = doc.xpath('//table[@id="scorecard"]/tbody/tr')
    words = {row.xpath("./th")[0].text_content().strip(): row.xpath("./td/a")[0].text_content().strip() for row in rows}
    assert words == {"transformer (fp32)": "error", "gan-collapsed (fp32)": "fail", "vae (fp32)": "inconclusive", "gan (fp32)": "pass"}
    collapsed = doc.xpath('//table[@id="scorecard"]/tbody/tr[@data-model="gan-collapsed (fp32)"]/td')[0]
    assert "v-fail" in collapsed.get("class") and "quality.class_coverage" in collapsed.text_content()
    for href in collapsed.xpath(".//a/@href"):
        target = doc.get_element_by_id(href[1:])
        assert target.get("data-model") == "gan-collapsed (fp32)" and target.get("data-statuses") == "fail"
    assert doc.xpath('//table[@id="scorecard"]//th[@scope="row"]') and doc.xpath('//table[@id="scorecard"]//th[@scope="col"]')


def test_every_internal_link_lands_and_every_check_is_explained(page, synthetic_run):
    results, _ = synthetic_run
    _, doc = page
    ids = set(doc.xpath("//@id"))
    hrefs = {h for h in doc.xpath("//a/@href") if h.startswith("#")}
    assert hrefs and {h[1:] for h in hrefs} <= ids
    explained = {i.removeprefix("explain-") for i in ids if i.startswith("explain-")}
    assert explained == {r["check"] for r in results["records"]}
    assert len(doc.xpath('//tr[@class="record"]')) == len(results["records"])


def test_without_script_the_whole_page_shows_and_only_the_filter_waits_for_it(page):
    text, doc = page
    assert doc.get_element_by_id("filter").get("hidden") is not None
    assert not [el for el in doc.xpath("//*[@hidden]") if el.get("id") != "filter"]
    scripts = doc.xpath("//script")
    assert len(scripts) == 1 and scripts[0].get("src") is None
    csp = doc.xpath('//meta[@http-equiv="Content-Security-Policy"]/@content')[0]
    digest = base64.b64encode(hashlib.sha256(scripts[0].text.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp and "default-src 'none'" in csp and "connect-src" not in csp
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)


def test_user_text_stays_escaped(page):
    text, doc = page
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_size_of_a_default_sized_run_and_per_record_cost(tmp_path: Path, synthetic_run):
    """A default quality run (four models, ~60 records, a sample grid each) stays under 1 MB, and
    each further image model (15 records and a grid) adds a bounded amount."""
    small = synthetic_quality_run(tmp_path / "four", image_models=("gan", "gan-collapsed", "vae"))
    large = synthetic_quality_run(tmp_path / "seven", image_models=("gan", "gan-collapsed", "vae", "diffusion", "gan-a", "vae-b"))
    size_small = len(render_html(small, tmp_path / "four").encode())
    size_large = len(render_html(large, tmp_path / "seven").encode())
    grid_bytes = len(base64.b64encode((tmp_path / "four" / "artifacts" / "gan-fp32-samples.png").read_bytes()))
    per_model = (size_large - size_small) / 3
    assert size_small < MAX_REPORT_BYTES, size_small
    assert per_model < grid_bytes + 15 * 3_000, per_model  # a grid plus ~3 kB per record (a row in four tables and a mark)
