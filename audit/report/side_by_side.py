"""Side by side across models: one table per kind of output, one column per (model, precision).

Image generators share a table, language models another, tabular generators a third (the
modality of each record's family, audit.families), so a reviewer compares the models a release
chooses between. Each row stars its best value (the check's `higher_is_better`; none for a check
without a direction) and every value statistically tied with it: whose 95% CI overlaps the best
one's. A star that would fall on every value singles out nothing, so such a row has none. A check
whose true value is at least 0 but whose estimate can fall below it (`ZERO_FLOORED`) is ranked at
max(value, 0). Each row shows the run's own yardstick in a column of its own: the real-data
floor or the human-text control the check recorded in its details.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
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
ZERO_FLOORED = frozenset({"quality.kid"})
"""Checks whose true value is at least 0 but whose estimate can be negative by noise: KID is an
unbiased MMD^2 estimate. They are ranked at max(value, 0) (CI bounds too), so every value at or
below 0 ties. `quality.class_kl` is not one: a plug-in KL of smoothed histograms is never negative."""


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


@dataclass(frozen=True)
class Scored:
    """One measured cell as ranked: its value and 95% CI (the value itself where it has none)."""

    row: str
    value: float
    low: float
    high: float

    def overlaps(self, other: Scored) -> bool:
        """Whether the two intervals share a point: the values are not told apart."""
        return self.low <= other.high and other.low <= self.high


def scored(rec: dict[str, Any], floor: bool = False) -> Scored | None:
    """A record's value and CI as ranked (at max(x, 0) when `floor`), or None when it has no
    value or failed (error, skipped). Without both CI bounds the interval is the value itself,
    so it ties only with an interval that holds that value."""
    value = _number(rec.get("value"))
    if value is None or rec["status"] in (ERROR, SKIPPED):
        return None
    low, high = _number(rec.get("ci_low")), _number(rec.get("ci_high"))
    if low is None or high is None:
        low = high = value
    if floor:
        value, low, high = max(value, 0.0), max(low, 0.0), max(high, 0.0)
    return Scored(str(rec["row"]), value, low, high)


def tied_with_best(cells: list[Scored], higher_is_better: bool) -> set[str]:
    """Rows of the best value and of every value whose interval overlaps a best one's."""
    top = (max if higher_is_better else min)(c.value for c in cells)
    leaders = [c for c in cells if c.value == top]
    return {c.row for c in cells if any(c.overlaps(lead) for lead in leaders)}


def best_rows(recs: list[dict[str, Any]]) -> set[str]:
    """Rows (model, precision) starred for one check: the best value and its ties. None without a
    direction, with fewer than two measured values, or when every value ties (no winner)."""
    direction = next((r.get("higher_is_better") for r in recs if r.get("higher_is_better") is not None), None)
    floor = any(str(r.get("check")) in ZERO_FLOORED for r in recs)
    cells = [c for c in (scored(r, floor) for r in recs) if c is not None]
    if direction is None or len(cells) < 2:
        return set()
    best = tied_with_best(cells, bool(direction))
    return set() if best == {c.row for c in cells} else best


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


__all__ = ["CONTROLS", "MODALITY_TITLES", "ZERO_FLOORED", "Scored", "best_rows", "control_of", "scored", "side_by_side",
           "tied_with_best"]
