"""JUnit XML: one testcase per record, so CI systems show each check on each model."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from audit.report.format import fmt, fmt_ci


def render_junit(results: dict[str, Any]) -> str:
    records = results["records"]
    suite = ET.Element(
        "testsuite",
        name=f"audit.{results['suite']}",
        tests=str(len(records)),
        failures=str(sum(r["status"] in ("fail", "inconclusive") for r in records)),
        errors=str(sum(r["status"] == "error" for r in records)),
        skipped=str(sum(r["status"] == "skipped" for r in records)),
        time=str(results.get("duration_s", 0)),
    )
    for r in records:
        case = ET.SubElement(
            suite, "testcase", classname=f"{r['model']}.{r['precision']}", name=r["check"], time=str(r.get("duration_s", 0))
        )
        text = f"value {fmt(r.get('value'))} {fmt_ci(r)} n={r.get('n')}; {r.get('verdict') or r.get('reason') or ''}"
        if r["status"] == "fail":
            ET.SubElement(case, "failure", message=r.get("verdict") or "gate failed", type="gate").text = text
        elif r["status"] == "inconclusive":
            ET.SubElement(case, "failure", message=r.get("verdict") or "inconclusive", type="inconclusive").text = text
        elif r["status"] == "error":
            ET.SubElement(case, "error", message=r.get("reason") or "error").text = text
        elif r["status"] == "skipped":
            ET.SubElement(case, "skipped", message=r.get("reason") or "skipped")
        else:
            ET.SubElement(case, "system-out").text = text
    ET.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
