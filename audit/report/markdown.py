"""summary.md for a pull-request comment: the verdict first, then what did not pass, then a
compact table (worst first; folded away when long)."""

from __future__ import annotations

from typing import Any

from audit.report.format import fmt, fmt_ci

ICONS = {"pass": "✅", "fail": "❌", "warn": "⚠️", "inconclusive": "❔", "skipped": "⏭️", "error": "💥", "measured": "·", "waived": "🏳️"}
VERDICTS = {0: ("✅", "PASS"), 1: ("❌", "FAIL"), 2: ("🚫", "BAD INPUT"), 3: ("❔", "INCONCLUSIVE"), 4: ("💥", "ERROR")}
ORDER = ["error", "fail", "inconclusive", "warn", "waived", "pass", "measured", "skipped"]
FOLD_AFTER = 30


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _rank(r: dict[str, Any]) -> int:
    return ORDER.index(r["status"]) if r["status"] in ORDER else len(ORDER)


def _gate_label(g: dict[str, Any]) -> str:
    from dataclasses import fields

    from audit.policy import Gate

    try:
        return Gate(**{f.name: g[f.name] for f in fields(Gate) if f.name in g}).label()
    except TypeError:
        return str(g.get("check"))


def _problem(r: dict[str, Any]) -> str:
    where = f"**{_cell(r['check'])}** on {_cell(r['model'])}/{r['precision']}"
    if r["status"] == "error":
        return f"- {ICONS['error']} {where}: {_cell(r.get('reason') or 'error')}"
    value = f"{fmt(r.get('value'))} {fmt_ci(r)}".strip()
    lines = [f"- {ICONS.get(r['status'], '')} {where} = {value}"]
    for g in r.get("gates", []):
        if g.get("status") != "pass":
            note = f" — {_cell(g['note'])}" if g.get("note") else ""
            lines.append(f"  - {g.get('outcome')}: {_cell(_gate_label(g))}{note}")
    return "\n".join(lines)


def render_markdown(results: dict[str, Any]) -> str:
    summary = results["summary"]
    code = summary["exit_code"]
    icon, word = VERDICTS.get(code, ("", str(code)))
    records = results["records"]
    counts = ", ".join(f"{v} {k}" for k, v in sorted(summary["counts"].items(), key=lambda kv: ORDER.index(kv[0]) if kv[0] in ORDER else 99))
    config = results.get("config", {})
    policy = (results.get("policy") or {}).get("path") or config.get("policy")
    lines = [
        f"## {icon} audit `{results['suite']}`: **{word}** (exit code {code})",
        "",
        f"Run `{results['run_id']}`{' (interrupted)' if results.get('interrupted') else ''}: {counts or 'no records'}"
        f" · n={config.get('n')}, seed={config.get('seed')}" + (f" · policy `{_cell(policy)}`" if policy else ""),
    ]
    problems = [r for r in records if r["status"] in ("error", "fail", "inconclusive", "warn")]
    expired = summary.get("expired_waivers", [])
    if problems or expired:
        lines += ["", "### Not passing", ""]
        lines += [_problem(r) for r in sorted(problems, key=_rank)]
        lines += [f"- ⛔ expired waiver: `{_cell(w['check'])}` {_cell(w['model'])}/{_cell(w['precision'])} "
                  f"(owner {_cell(w['owner'])}, expired {w['expires']}): renew or remove it" for w in expired]
    waived = [r for r in records if r["status"] == "waived"]
    if waived:
        lines += ["", "### Waived", ""]
        for r in waived:
            w = next((g["waiver"] for g in r.get("gates", []) if g.get("waiver")), {})
            lines.append(f"- {ICONS['waived']} **{_cell(r['check'])}** on {_cell(r['model'])}/{r['precision']} = {fmt(r.get('value'))} {fmt_ci(r)}"
                         f" — waived by {_cell(w.get('owner'))} until {w.get('expires')}: {_cell(w.get('reason'))}")
    table = [
        "| | check | model | precision | value | 95% CI | n | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(records, key=_rank):
        table.append(
            f"| {ICONS.get(r['status'], '')} {r['status']} | {_cell(r['check'])} | {_cell(r['model'])} | {r['precision']} | {fmt(r.get('value'))} "
            f"| {fmt_ci(r)} | {r.get('n') or ''} | {_cell(r.get('verdict') or r.get('reason') or '')} |"
        )
    lines.append("")
    if len(records) > FOLD_AFTER:
        lines += [f"<details><summary>All {len(records)} results</summary>", "", *table, "", "</details>"]
    else:
        lines += table
    return "\n".join(lines) + "\n"
