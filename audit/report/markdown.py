"""summary.md for a pull-request comment: the verdict first, then the scorecard (a row per model
and precision, a column per audit area, each cell its worst verdict in words with the counts),
then what did not pass, then a compact table (worst first; folded away when long).

GitHub and GitLab render raw HTML in Markdown, so every piece of text that comes from results
(names, reasons, verdicts, waiver owners, paths) goes through `_cell`, which escapes it as the
HTML report does, plus backticks, table pipes, link, image and emphasis characters and @-mentions
(the file is posted as a pull-request comment: a model's error message must not become a remote
image, a link or a notification there).
"""

from __future__ import annotations

import html
from typing import Any

from audit.formatting import fmt, fmt_ci
from audit.report.scorecard import scorecard
from audit.verdicts import ERROR, NOT_PASSING, PASS, STATUS_ICONS, WAIVED, run_verdict, status_rank

FOLD_AFTER = 30


MARKDOWN_ACTIVE = str.maketrans({c: "\\" + c for c in "\\[]*~"})
"""Characters that make links, images (`![x](url)`: fetched when the comment is shown), emphasis
and strike-through, backslash-escaped (CommonMark: any ASCII punctuation may be). An underscore
inside a word starts no emphasis, so check names keep theirs."""
NO_MENTION = "@\u200b"
"""`@` with a zero-width space after it: `@everyone` in a model's error message would notify people."""


def _cell(text: Any) -> str:
    """Text from results, safe in a Markdown line or table cell: link, image and emphasis
    characters backslash-escaped, HTML-escaped (< > &), backticks as an entity (no leaving a code
    span), pipes escaped, no @-mention, one line."""
    escaped = html.escape(str(text).translate(MARKDOWN_ACTIVE), quote=False).replace("`", "&#96;").replace("|", "\\|")
    return " ".join(escaped.replace("@", NO_MENTION).splitlines())


def _rank(r: dict[str, Any]) -> int:
    return status_rank(r["status"])


def _gate_label(g: dict[str, Any]) -> str:
    """A judged gate's label as results.json holds it (a file from an older version: its check)."""
    return str(g.get("label") or g.get("check"))


def _problem(r: dict[str, Any]) -> str:
    where = f"**{_cell(r['check'])}** on {_cell(r['model'])}/{_cell(r['precision'])}"
    if r["status"] == ERROR:
        return f"- {STATUS_ICONS[ERROR]} {where}: {_cell(r.get('reason') or ERROR)}"
    value = _cell(f"{fmt(r.get('value'))} {fmt_ci(r)}".strip())
    lines = [f"- {STATUS_ICONS.get(r['status'], '')} {where} = {value}"]
    for g in r.get("gates") or []:
        if g.get("status") != PASS:
            note = f" — {_cell(g['note'])}" if g.get("note") else ""
            lines.append(f"  - {_cell(g.get('outcome'))}: {_cell(_gate_label(g))}{note}")
    return "\n".join(lines)


def _headline(results: dict[str, Any]) -> str:
    """The verdict line; an interrupted run says INTERRUPTED whatever its exit code."""
    code = results["summary"]["exit_code"]
    verdict = run_verdict(code, bool(results.get("interrupted")))
    incomplete = ": results are incomplete" if results.get("interrupted") else ""
    if results["summary"].get("output_error"):
        incomplete += f": outputs not written ({_cell(results['summary']['output_error'])})"
    return f"## {verdict.icon} audit `{_cell(results['suite'])}`: **{verdict.word}** (exit code {_cell(code)}){incomplete}"


def _run_line(results: dict[str, Any]) -> str:
    """Run id, counts, n, seed and policy path."""
    summary = results["summary"]
    counts = ", ".join(f"{v} {k}" for k, v in sorted(summary["counts"].items(), key=lambda kv: status_rank(kv[0])))
    config = results.get("config") or {}
    policy = (results.get("policy") or {}).get("path") or config.get("policy")
    interrupted = f" (interrupted{' by ' + _cell(results['interrupted_by']) if results.get('interrupted_by') else ''})" if results.get("interrupted") else ""
    spaces = sorted({str((r.get("details") or {}).get("feature_space")) for r in results["records"] if (r.get("details") or {}).get("feature_space")})
    return (f"Run `{_cell(results['run_id'])}`{interrupted}: {_cell(counts) or 'no records'}"
            f" · n={_cell(config.get('n'))}, seed={_cell(config.get('seed'))}" + (f" · policy `{_cell(policy)}`" if policy else "")
            + (f" · image numbers in the feature space of {', '.join(f'`{_cell(s)}`' for s in spaces)}" if spaces else ""))


def _scorecard(results: dict[str, Any]) -> list[str]:
    """The HTML report's first table in Markdown: rows and areas worst first; a cell is the
    worst verdict's icon and word (never the icon alone), then how many records had each status."""
    card = scorecard(results)
    if not card["rows"]:
        return []
    lines = ["", "### Scorecard", "", "| model (precision) | " + " | ".join(_cell(a) for a in card["areas"]) + " |",
             "|---|" + "---|" * len(card["areas"])]
    for row in card["rows"]:
        cells = []
        for area in card["areas"]:
            cell = card["cells"].get((row, area))
            if cell is None:
                cells.append("—")
                continue
            counts = ", ".join(f"{n} {status}" for status, n in cell["counts"])
            cells.append(f"{STATUS_ICONS.get(cell['status'], '')} **{_cell(cell['status'])}** ({_cell(counts)})")
        lines.append(f"| {_cell(row)} | " + " | ".join(cells) + " |")
    return lines


def _not_passing(records: list[dict[str, Any]], expired: list[dict[str, Any]]) -> list[str]:
    problems = [r for r in records if r["status"] in NOT_PASSING]
    if not (problems or expired):
        return []
    lines = ["", "### Not passing", ""]
    lines += [_problem(r) for r in sorted(problems, key=_rank)]
    lines += [f"- ⛔ expired waiver: `{_cell(w['check'])}` {_cell(w['model'])}/{_cell(w['precision'])} "
              f"(owner {_cell(w['owner'])}, expired {_cell(w['expires'])}): renew or remove it" for w in expired]
    return lines


def _waived(records: list[dict[str, Any]]) -> list[str]:
    waived = [r for r in records if r["status"] == WAIVED]
    if not waived:
        return []
    lines = ["", "### Waived", ""]
    for r in waived:
        w = next((g["waiver"] for g in r.get("gates") or [] if isinstance(g.get("waiver"), dict)), {})
        value = _cell(f"{fmt(r.get('value'))} {fmt_ci(r)}")
        lines.append(f"- {STATUS_ICONS[WAIVED]} **{_cell(r['check'])}** on {_cell(r['model'])}/{_cell(r['precision'])} = {value}"
                     f" — waived by {_cell(w.get('owner'))} until {_cell(w.get('expires'))}: {_cell(w.get('reason'))}")
    return lines


def _table(records: list[dict[str, Any]]) -> list[str]:
    table = [
        "| | check | model | precision | value | 95% CI | n | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(records, key=_rank):
        cells = (f"{STATUS_ICONS.get(r['status'], '')} {r['status']}", r["check"], r["model"], r["precision"], fmt(r.get("value")),
                 fmt_ci(r), r.get("n") or "", r.get("verdict") or r.get("reason") or "")
        table.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    if len(records) > FOLD_AFTER:
        return [f"<details><summary>All {len(records)} results</summary>", "", *table, "", "</details>"]
    return table


def render_markdown(results: dict[str, Any]) -> str:
    records = results["records"]
    lines = [_headline(results), "", _run_line(results)]
    lines += _scorecard(results)
    lines += _not_passing(records, results["summary"].get("expired_waivers") or [])
    lines += _waived(records)
    lines += ["", *_table(records)]
    return "\n".join(lines) + "\n"
