"""The report's first screen: which model failed what, read in one table.

Rows are (model, precision), worst first; columns are audit areas (the part of a check id before
the dot), worst first. A cell holds the area's worst verdict as a word, its counts and the
records that need a look, each linked to its row in the results table. Below it, one table per
area with a column per judged check (a check with a gate, or a record that did not pass), so a
release run of seven suites keeps a narrow first table and still reaches every verdict.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from audit.formatting import fmt
from audit.verdicts import MEASURED, NOT_PASSING, WAIVED, WORST_FIRST, status_rank

ATTENTION = (*NOT_PASSING, WAIVED)
"""Statuses a scorecard cell names record by record; the rest it counts."""


def area_of(check: str) -> str:
    """A check's audit area: `quality` of `quality.fid` (a check id without a dot is its own area)."""
    return check.split(".", 1)[0]


def record_anchor(index: int) -> str:
    """The id of a record's row in the results table (records are in results.json order)."""
    return f"rec-{index}"


def row_label(model: str, precision: str) -> str:
    """How a (model, precision) is named in every table of the report."""
    return f"{model} ({precision})"


def worst(statuses: list[str]) -> str:
    """The first of `statuses` in WORST_FIRST order (`measured` for none)."""
    return min(statuses, key=status_rank) if statuses else MEASURED


def value_text(rec: dict[str, Any]) -> str:
    """A record's value with its unit, or "" when nothing was measured."""
    if rec.get("value") is None:
        return ""
    unit = rec.get("unit") or ""
    return f"{fmt(rec['value'])}{' ' + unit if unit else ''}"


def indexed(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Records with their anchor, area and row label added (results.json itself is not changed)."""
    return [{**rec, "anchor": record_anchor(i), "area": area_of(str(rec.get("check"))),
             "row": row_label(str(rec.get("model")), str(rec.get("precision")))}
            for i, rec in enumerate(results.get("records") or [])]


def _ordered_rows(records: list[dict[str, Any]], results: dict[str, Any]) -> list[str]:
    order = [row_label(str(m.get("model")), str(m.get("precision"))) for m in results.get("models") or []]
    order += [r["row"] for r in records if r["row"] not in order]
    order = list(dict.fromkeys(order))
    rank = {row: status_rank(worst([r["status"] for r in records if r["row"] == row])) for row in order}
    return sorted(order, key=lambda row: rank[row])


def _ordered(keys: list[str], statuses: dict[str, list[str]]) -> list[str]:
    """`keys` worst first (by the worst status among their records), then in first-seen order."""
    unique = list(dict.fromkeys(keys))
    return sorted(unique, key=lambda k: status_rank(worst(statuses[k])))


def _area_cell(records: list[dict[str, Any]]) -> dict[str, Any]:
    statuses = [r["status"] for r in records]
    counts = Counter(statuses)
    attention = sorted((r for r in records if r["status"] in ATTENTION), key=lambda r: status_rank(r["status"]))
    status = worst(statuses)
    return {
        "status": status,
        "counts": [(s, counts[s]) for s in WORST_FIRST if counts.get(s)],
        "attention": attention,
        "anchor": (attention[0] if attention else records[0])["anchor"],
    }


def _judged(records: list[dict[str, Any]]) -> bool:
    return any(r.get("gates") or r["status"] in ATTENTION for r in records)


def scorecard(results: dict[str, Any]) -> dict[str, Any]:
    """`{"rows", "areas", "cells": {(row, area): cell}, "row_statuses", "area_tables"}` from results.json.

    An area table is `{"area", "checks", "rows", "unjudged", "cells": {(row, check): record}, "row_statuses", "open"}`; it is open when
    one of its records needs a look."""
    records = indexed(results)
    rows = _ordered_rows(records, results)
    by_area: dict[str, list[str]] = {}
    for r in records:
        by_area.setdefault(r["area"], []).append(r["status"])
    areas = _ordered([r["area"] for r in records], by_area)
    cells = {}
    for row in rows:
        for area in areas:
            mine = [r for r in records if r["row"] == row and r["area"] == area]
            if mine:
                cells[(row, area)] = _area_cell(mine)
    tables = []
    for area in areas:
        mine = [r for r in records if r["area"] == area]
        by_check: dict[str, list[dict[str, Any]]] = {}
        for r in mine:
            by_check.setdefault(str(r["check"]), []).append(r)
        judged = [c for c, recs in by_check.items() if _judged(recs)]
        checks = _ordered(judged, {c: [r["status"] for r in by_check[c]] for c in judged})
        table_rows = [row for row in rows if any(r["row"] == row and str(r["check"]) in checks for r in mine)]
        unjudged = sorted(set(by_check) - set(judged))
        tables.append({
            "area": area, "checks": checks, "rows": table_rows, "unjudged": unjudged,
            "cells": {(r["row"], str(r["check"])): r for r in mine},
            "row_statuses": {row: sorted({r["status"] for r in mine if r["row"] == row}) for row in table_rows},
            "open": any(r["status"] in ATTENTION for r in mine),
        })
    row_statuses = {row: sorted({r["status"] for r in records if r["row"] == row}) for row in rows}
    return {"rows": rows, "areas": areas, "cells": cells, "row_statuses": row_statuses, "area_tables": tables}


__all__ = ["ATTENTION", "area_of", "indexed", "record_anchor", "row_label", "scorecard", "value_text", "worst"]
