"""The HTML report: self-contained, shows FID with its CI and a sample grid, escapes model text."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from xml.etree import ElementTree as ET

from audit.formatting import fmt
from tests.helpers import suite_checks_for


class Resources(HTMLParser):
    """Collect every URL-bearing attribute and the text content."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "action", "poster", "data") and value:
                self.urls.append(value)


def test_html_is_self_contained_and_shows_fid_and_grid(cli):
    result = cli("run", "suite=quality", "model=gan", "n=200", "bootstrap=50")
    html = (result.run_dir / "report.html").read_text()
    parser = Resources()
    parser.feed(html)
    external = [u for u in parser.urls if not u.startswith("#")]  # in-page links (scorecard, explanations) stay in the file
    assert external, "expected at least the sample grid image"
    assert all(u.startswith("data:image/png;base64,") for u in external), external
    assert parser.tags.count("script") == 1 and "link" not in parser.tags  # the report's own inline filter, nothing else
    assert not re.search(r"url\(\s*['\"]?https?:", html)
    fid = next(r for r in result.results["records"] if r["check"] == "quality.fid")
    assert fmt(fid["value"]) in html
    assert f"[{fmt(fid['ci_low'])}, {fmt(fid['ci_high'])}]" in html
    assert 'alt="sample grid for gan fp32"' in html


def test_model_strings_are_escaped(cli):
    result = cli("run", "suite=quality", "model=fixture_models:hostile", "n=50", "bootstrap=20")
    html = (result.run_dir / "report.html").read_text()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_junit_is_valid_xml_with_one_case_per_record(cli):
    result = cli("run", "suite=quality", "model=gan,fixture_models:raising", "n=100", "bootstrap=20")
    root = ET.parse(result.run_dir / "junit.xml").getroot()
    cases = root.findall("testcase")
    assert len(cases) == len(result.results["records"])
    expected = len(suite_checks_for("quality", "gan"))  # every image check on `raising` errors
    assert int(root.get("errors")) == expected and len(root.findall("testcase/error")) == expected
    assert all(c.get("classname") == "fixture_models:raising.fp32" for c in cases if c.find("error") is not None)
