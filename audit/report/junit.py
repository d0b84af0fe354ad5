"""JUnit XML for CI systems: one testcase per record, so each check on each model shows up.

- A gated record is one testcase whose outcome is the record's status over all its gates:
  `fail` and `inconclusive` are `<failure>` (type `gate` / `inconclusive`), `warn` passes
  (a `<failure type="warn">` when the run has fail_on=warn), `waived` is `<skipped type="waived">`
  naming owner, expiry and reason (like pytest's xfail: visible, not failing), `pass` passes.
- An ungated `measured` record is a passed testcase whose output says "measured (no gate)".
- `error` is `<error>`, `skipped` is `<skipped>`.
- Every expired waiver of the policy is one more testcase (classname `policy.waiver`) with a
  `<failure type="expired-waiver">`, since it fails the run.
- An interrupted run (Ctrl-C, SIGTERM, or rebuilt from results.jsonl after a hard kill) is one
  more testcase (classname `audit.run`, name `run interrupted`) with an `<error type="interrupted">`,
  so a CI panel never shows an incomplete run as green.
- A run whose outputs could not all be written (`summary.output_error`: a full disk) is one more
  testcase (classname `audit.run`, name `outputs not written`) with an `<error type="outputs">`
  holding the reason: the run exited 4.

The testsuite carries properties: run id, suite, exit code, interrupted, policy path, seed and n.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree as ET

from audit.formatting import fmt, fmt_ci
from audit.verdicts import ERROR, FAIL, INCONCLUSIVE, MEASURED, SKIPPED, WAIVED, WARN

NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
"""Characters XML 1.0 forbids even escaped; ElementTree writes them as they are (an error
message can hold any), which would make the whole file unparsable."""


def _gate_lines(r: dict[str, Any]) -> str:
    return "\n".join(f"[{g.get('status')}] {g.get('check')} {g.get('model')}/{g.get('precision')}: {g.get('outcome')}"
                     + (f" — {g['note']}" if g.get("note") else "") for g in r.get("gates") or [])


def _value_text(r: dict[str, Any]) -> str:
    """"value 12.3 [11.9, 12.8] n=64", the parts the record has; "" when it has no value (an error
    or a skip says its reason instead, never "value — n=None")."""
    if r.get("value") is None:
        return ""
    return " ".join(part for part in (f"value {fmt(r['value'])}", fmt_ci(r), f"n={r['n']}" if r.get("n") is not None else "") if part)


def _case_text(r: dict[str, Any]) -> str:
    """A testcase's text: "<status>: <value, CI, n>; <verdict or reason>", without the parts it lacks."""
    said = "; ".join(part for part in (_value_text(r), r.get("verdict") or r.get("reason") or "") if part)
    return f"{r['status']}: {said}" if said else r["status"]


def _interrupted_case(suite: ET.Element, results: dict[str, Any]) -> None:
    """The testcase that marks an interrupted run as an error: its results are incomplete."""
    by = results.get("interrupted_by")
    message = (f"run interrupted{' by ' + str(by) if by else ''}: results are incomplete "
               f"({len(results['records'])} record(s) measured before it stopped)")
    case = ET.SubElement(suite, "testcase", classname="audit.run", name="run interrupted", time="0")
    ET.SubElement(case, "error", message=message, type="interrupted").text = message


def render_junit(results: dict[str, Any]) -> str:
    records = results["records"]
    summary = results.get("summary") or {}
    expired = summary.get("expired_waivers") or []
    interrupted = bool(results.get("interrupted"))
    output_error = summary.get("output_error")
    extra_errors = interrupted + bool(output_error)
    fail_on = (results.get("config") or {}).get("fail_on", "error")
    failing = {FAIL, INCONCLUSIVE} | ({WARN} if fail_on == "warn" else set())
    suite = ET.Element(
        "testsuite",
        name=f"audit.{results['suite']}",
        tests=str(len(records) + len(expired) + extra_errors),
        failures=str(sum(r["status"] in failing for r in records) + len(expired)),
        errors=str(sum(r["status"] == ERROR for r in records) + extra_errors),
        skipped=str(sum(r["status"] in (SKIPPED, WAIVED) for r in records)),
        time=str(results.get("duration_s") or 0),
    )
    properties = ET.SubElement(suite, "properties")
    config = results.get("config") or {}
    for name, value in (("run_id", results.get("run_id")), ("suite", results.get("suite")), ("exit_code", summary.get("exit_code")),
                        ("interrupted", "true" if interrupted else None),
                        ("policy", (results.get("policy") or {}).get("path") or config.get("policy")), ("seed", config.get("seed")),
                        ("n", config.get("n")), ("fail_on", fail_on)):
        if value is not None:
            ET.SubElement(properties, "property", name=name, value=str(value))
    for r in records:
        case = ET.SubElement(
            suite, "testcase", classname=f"{r['model']}.{r['precision']}", name=r["check"], time=str(r.get("duration_s", 0))
        )
        status = r["status"]
        text = _case_text(r)
        if r.get("gates"):
            text += "\n" + _gate_lines(r)
        if status == FAIL:
            ET.SubElement(case, "failure", message=r.get("verdict") or "gate failed", type="gate").text = text
        elif status == INCONCLUSIVE:
            ET.SubElement(case, "failure", message=r.get("verdict") or INCONCLUSIVE, type=INCONCLUSIVE).text = text
        elif status == WARN and fail_on == "warn":
            ET.SubElement(case, "failure", message=r.get("verdict") or "warning", type=WARN).text = text
        elif status == ERROR:
            ET.SubElement(case, "error", message=r.get("reason") or ERROR).text = text
        elif status == SKIPPED:
            ET.SubElement(case, "skipped", message=r.get("reason") or SKIPPED)
        elif status == WAIVED:
            ET.SubElement(case, "skipped", message=r.get("verdict") or WAIVED, type=WAIVED).text = text
        elif status == MEASURED:
            ET.SubElement(case, "system-out").text = f"measured (no gate): value {fmt(r.get('value'))} {fmt_ci(r)} n={r.get('n')}"
        else:
            ET.SubElement(case, "system-out").text = text
    for w in expired:
        case = ET.SubElement(suite, "testcase", classname="policy.waiver", name=f"waiver {w['check']} {w['model']}/{w['precision']}", time="0")
        message = f"waiver expired on {w['expires']} (owner {w['owner']}): renew or remove it"
        ET.SubElement(case, "failure", message=message, type="expired-waiver").text = f"{message}; reason was: {w['reason']}"
    if interrupted:
        _interrupted_case(suite, results)
    if output_error:
        case = ET.SubElement(suite, "testcase", classname="audit.run", name="outputs not written", time="0")
        message = f"the run's outputs could not all be written: {output_error}"
        ET.SubElement(case, "error", message=message, type="outputs").text = message
    ET.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + NOT_XML.sub("\ufffd", ET.tostring(suite, encoding="unicode")) + "\n"
