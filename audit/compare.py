"""`audit compare`: two runs side by side, record by record, refused when they were measured
differently (see audit.differences for the metric fingerprint and how deltas and their CIs are
computed), or when no record of one matches a record of the other (different models, precisions
or checks: nothing to compare is bad input, exit 2, never an empty table that exits 0). A side
that was interrupted is incomplete: the comparison says so (`interrupted` in compare.json, a line
in compare.md and on stderr) and the CLI exits 4 after writing it."""


from __future__ import annotations

from pathlib import Path
from typing import Any

from audit.differences import difference, info_differences, params_difference, run_differences
from audit.errors import InputError


def _key(record: dict[str, Any]) -> tuple[str, str, str]:
    return record["check"], record["model"], record["precision"]


def _change(row: dict[str, Any]) -> str:
    low, high, hib = row.get("delta_low"), row.get("delta_high"), row.get("higher_is_better")
    if row.get("delta") is None:
        return "n/a"
    if low is None or high is None or low == high:
        return "no CI" if row["delta"] != 0 else "same"
    if low > 0 or high < 0:
        up = low > 0
        if hib is None:
            return "higher" if up else "lower"
        return "better" if up == hib else "worse"
    return "no clear change"


def _names(keys: Any, i: int) -> list[str]:
    return sorted({k[i] for k in keys})


def nothing_comparable(a: dict[str, Any], b: dict[str, Any]) -> str:
    """One line: why no record of A matches one of B by (check, model, precision) (what the two
    runs hold apart, an interrupted side), and how to compare precisions: they are never matched
    across runs; one quantization run compares each variant with fp32 on the same inputs, and
    `audit report A B` puts runs side by side."""
    ka, kb = [_key(r) for r in a["records"]], [_key(r) for r in b["records"]]
    disjoint: list[int] = []
    if not ka or not kb:
        empty = " and ".join(side for side, keys in (("A", ka), ("B", kb)) if not keys)
        why = [f"{empty} {'has' if len(empty) == 1 else 'have'} no records"]
    else:
        disjoint = [i for i in range(3) if not set(_names(ka, i)) & set(_names(kb, i))]
        why = [f"{('checks', 'models', 'precisions')[i]} {', '.join(_names(ka, i))} (A) vs {', '.join(_names(kb, i))} (B)" for i in disjoint]
        why = why or ["they share checks, models and precisions, but no combination of the three"]
    why += [f"{side} was interrupted{' by ' + str(run['interrupted_by']) if run.get('interrupted_by') else ''}"
            for side, run in (("A", a), ("B", b)) if run.get("interrupted")]
    if 2 in disjoint:
        how = ("Precisions are not matched across runs: to compare them, run them together (audit run suite=quantization "
               "model=M precision=fp32,int8 compares each with fp32 on the same inputs), or put both runs on one page "
               "(audit report A B out=DIR).")
    else:
        how = "Compare runs of the same checks, models and precisions, or put both runs on one page (audit report A B out=DIR)."
    return (f"Nothing to compare: no record of A ({a.get('run_id')}) matches one of B ({b.get('run_id')}) by "
            f"(check, model, precision): {'; '.join(why)}. {how}")


def interrupted_line(comparison: dict[str, Any]) -> str | None:
    """One line naming the interrupted side(s) of a comparison, or None when both runs finished."""
    sides = [s for s in ("a", "b") if comparison[s].get("interrupted")]
    if not sides:
        return None
    named = " and ".join(
        f"{s.upper()} ({comparison[s]['run_id']}) was interrupted"
        + (f" by {comparison[s]['interrupted_by']}" if comparison[s].get("interrupted_by") else "") for s in sides)
    return (f"{named}: an interrupted run is incomplete, so what it did not measure is missing from this comparison "
            "or listed as only in the other run.")


def _side(run: dict[str, Any], path: str) -> dict[str, Any]:
    return {"path": path, "run_id": run.get("run_id"), "suite": run.get("suite"), "started": run.get("started"),
            "interrupted": bool(run.get("interrupted")), "interrupted_by": run.get("interrupted_by")}


def compare_runs(a: dict[str, Any], b: dict[str, Any], force: bool = False, paths: tuple[str, str] = ("A", "B")) -> dict[str, Any]:
    """Match records by (check, model, precision) and difference B - A. Refuses (InputError) when
    no record matches (nothing_comparable: never an empty comparison), and when the metric
    fingerprints differ, naming what differs, unless `force`. An interrupted side is named in
    `interrupted` (["A"], ["B"], both or none) and in each side's `interrupted`/`interrupted_by`."""
    index_a = {_key(r): r for r in a["records"]}
    index_b = {_key(r): r for r in b["records"]}
    shared = [k for k in index_a if k in index_b]
    if not shared:
        raise InputError(nothing_comparable(a, b))
    problems = run_differences(a, b)
    for key in shared:
        diff = params_difference(index_a[key], index_b[key])
        if diff and diff not in problems:
            problems.append(diff)
    if problems and not force:
        raise InputError(f"Cannot compare: the runs' metric fingerprints differ: {'; '.join(problems)} (use --force to compare anyway).")
    rows = []
    for key in shared:
        ra, rb = index_a[key], index_b[key]
        row: dict[str, Any] = {
            "check": key[0], "model": key[1], "precision": key[2],
            "a": {k: ra.get(k) for k in ("value", "ci_low", "ci_high", "n", "seed", "status")},
            "b": {k: rb.get(k) for k in ("value", "ci_low", "ci_high", "n", "seed", "status")},
            "unit": rb.get("unit") or ra.get("unit") or "",
            "higher_is_better": rb.get("higher_is_better", ra.get("higher_is_better")),
        }
        if ra.get("value") is None or rb.get("value") is None:
            row.update(delta=None, delta_low=None, delta_high=None, ratio=None, ratio_low=None, ratio_high=None,
                       label="n/a", method=f"no value (A {ra['status']}, B {rb['status']})")
        else:
            row.update(difference(rb, ra).to_dict())
        row["change"] = _change(row)
        rows.append(row)
    return {
        "a": _side(a, paths[0]),
        "b": _side(b, paths[1]),
        "interrupted": [side for side, run in (("A", a), ("B", b)) if run.get("interrupted")],
        "delta": "B - A",
        "forced": bool(problems) and force,
        "fingerprint_differences": problems,
        "info_differences": info_differences(a, b),
        "rows": rows,
        "only_in_a": [list(k) for k in index_a if k not in index_b],
        "only_in_b": [list(k) for k in index_b if k not in index_a],
    }


def _value_cell(side: dict[str, Any]) -> str:
    from audit.formatting import fmt, fmt_ci

    if side.get("value") is None:
        return side.get("status") or "—"
    return f"{fmt(side['value'])} {fmt_ci(side)}".strip()


def _delta_cells(row: dict[str, Any]) -> tuple[str, str]:
    from audit.formatting import fmt

    if row.get("delta") is None:
        return "—", "—"
    ci = f"[{fmt(row['delta_low'])}, {fmt(row['delta_high'])}]" if row.get("delta_low") is not None else "—"
    return fmt(row["delta"]), ci


HEADER = ("check", "model", "precision", "A", "B", "delta (B-A)", "95% CI of delta", "label", "change")


def table_rows(comparison: dict[str, Any]) -> list[tuple[str, ...]]:
    out = []
    for row in comparison["rows"]:
        delta, ci = _delta_cells(row)
        out.append((row["check"], row["model"], row["precision"], _value_cell(row["a"]), _value_cell(row["b"]), delta, ci, row["label"], row["change"]))
    return out


def render_text(comparison: dict[str, Any]) -> str:
    rows = [HEADER, *table_rows(comparison)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(comparison: dict[str, Any]) -> str:
    a, b = comparison["a"], comparison["b"]
    lines = [
        f"## audit compare: `{b['run_id']}` (B) vs `{a['run_id']}` (A)",
        "",
        f"A: `{_md(a['path'])}` · B: `{_md(b['path'])}` · delta = B - A. "
        "**paired**: per-sample differences on the same inputs (paired bootstrap); "
        "**unpaired**: conservative CI from the two intervals.",
        "",
    ]
    incomplete = interrupted_line(comparison)
    if incomplete:
        lines += [f"> ⚠️ **Incomplete**: {_md(incomplete)}", ""]
    if comparison["forced"]:
        lines += [f"> ⚠️ Compared with `--force` although the metric fingerprints differ: {_md('; '.join(comparison['fingerprint_differences']))}", ""]
    lines += ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(_md(c) for c in r) + " |" for r in table_rows(comparison)]
    for side, key in (("A", "only_in_a"), ("B", "only_in_b")):
        if comparison[key]:
            lines += ["", f"Only in {side}: " + ", ".join(f"`{c}` {m}/{p}" for c, m, p in comparison[key])]
    if comparison["info_differences"]:
        lines += ["", "Other differences (not part of the metric fingerprint): " + _md("; ".join(comparison["info_differences"]))]
    return "\n".join(lines) + "\n"


def write_comparison(comparison: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    from audit.results import write_json_atomic, write_text_atomic

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "compare.json", "markdown": out_dir / "compare.md"}
    write_json_atomic(paths["json"], comparison)
    write_text_atomic(paths["markdown"], render_markdown(comparison))
    return paths
