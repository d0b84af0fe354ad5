"""Side by side across models: one table per kind of output, one column per (model, precision).

Image generators share a table, language models another, tabular generators a third (the
modality of each record's family, audit.families), so a reviewer compares the models a release
chooses between. Each row marks its best value (the check's `higher_is_better`; none for a check
without a direction) and shows the run's own yardstick in a column of its own: the real-data
floor or the human-text control the check recorded in its details.
"""

from __future__ import annotations

import math
from typing import Any

from audit.families import ANY, IMAGE, TABLE, TEXT, get_family
from audit.formatting import fmt
from audit.report.scorecard import indexed, worst
from audit.verdicts import ERROR, SKIPPED

MODALITY_TITLES = {IMAGE: "Image generators", TEXT: "Language models", TABLE: "Tabular generators", ANY: "Other models"}
"""Table titles by modality, in the order the tables appear."""
CONTROLS = (
    ("real_data_floor", "real-data floor"),
    ("real_heldout_is", "held-out real images"),
    ("real_heldout", "held-out real data"),
    ("human_value", "human text"),
)
"""Numbers in a record's details that say what real data scores on the same check, first found wins."""


def _number(value: Any) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def control_of(rec: dict[str, Any]) -> tuple[str, float] | None:
    """(what it is, value) of the real-data floor or control a record carries, or None."""
    details = rec.get("details") or {}
    for key, label in CONTROLS:
        value = _number(details.get(key))
        if value is not None:
            return label, value
    return None


def _control_text(recs: list[dict[str, Any]]) -> str:
    found = [(rec["row"], control_of(rec)) for rec in recs]
    found = [(row, c) for row, c in found if c is not None]
    if not found:
        return ""
    label = found[0][1][0]
    values = list(dict.fromkeys(fmt(c[1]) for _, c in found))
    if len(values) == 1:
        return f"{values[0]} ({label})"
    return f"{label}: " + " · ".join(f"{fmt(c[1])} ({row})" for row, c in found)


def best_rows(recs: list[dict[str, Any]]) -> set[str]:
    """Rows (model, precision) holding the best value of one check: none without a direction or
    with fewer than two measured values."""
    direction = next((r.get("higher_is_better") for r in recs if r.get("higher_is_better") is not None), None)
    scored = [(r["row"], _number(r.get("value"))) for r in recs if r["status"] not in (ERROR, SKIPPED)]
    scored = [(row, v) for row, v in scored if v is not None]
    if direction is None or len(scored) < 2:
        return set()
    best = (max if direction else min)(v for _, v in scored)
    return {row for row, v in scored if v == best}


def side_by_side(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One table per modality: `{"title", "columns", "rows": [{"check", "area", "cells", "best", "control", "statuses"}]}`."""
    records = indexed(results)
    groups: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        groups.setdefault(get_family(rec.get("family")).modality, []).append(rec)
    tables = []
    for modality in sorted(groups, key=lambda m: list(MODALITY_TITLES).index(m) if m in MODALITY_TITLES else len(MODALITY_TITLES)):
        mine = groups[modality]
        columns = list(dict.fromkeys(r["row"] for r in mine))
        rows = []
        for check in dict.fromkeys(str(r["check"]) for r in mine):
            recs = [r for r in mine if r["check"] == check]
            rows.append({
                "check": check, "area": recs[0]["area"], "cells": {r["row"]: r for r in recs},
                "best": best_rows(recs), "control": _control_text(recs),
                "direction": recs[0].get("higher_is_better"), "status": worst([r["status"] for r in recs]),
                "statuses": sorted({r["status"] for r in recs}),
            })
        tables.append({"title": MODALITY_TITLES.get(modality, modality), "columns": columns, "rows": rows,
                       "has_control": any(r["control"] for r in rows)})
    return tables


__all__ = ["CONTROLS", "MODALITY_TITLES", "best_rows", "control_of", "side_by_side"]
