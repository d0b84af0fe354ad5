"""Every judged gate of a record as a small graphic against its bound.

A record's `gates` in results.json hold each gate as it was judged: its absolute bounds
(`max`, `min`) on the record's value and CI, and for a relative gate the difference (`delta`,
`delta_ci`) or ratio (`ratio`, `ratio_ci`) it was judged on with its bounds (`max_delta`,
`min_delta`, a `margin` in the check's direction, `max_ratio`, `min_ratio`); see audit/gates.py.
Nothing is judged again here: the colour and word are the gate's recorded status.
"""

from __future__ import annotations

import math
from typing import Any

from markupsafe import Markup

from audit.formatting import fmt
from audit.report.charts import gate_interval
from audit.verdicts import STATUS_COLOURS


def _num(value: Any) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def _pair(values: Any) -> tuple[float | None, float | None]:
    if isinstance(values, (list, tuple)) and len(values) == 2:
        return _num(values[0]), _num(values[1])
    return None, None


def _delta_bounds(gate: dict[str, Any], higher_is_better: Any) -> list[tuple[str, float]]:
    """The difference bounds the gate judged on, a `margin` turned into one as audit.gates does."""
    max_delta, min_delta = _num(gate.get("max_delta")), _num(gate.get("min_delta"))
    margin = _num(gate.get("margin"))
    if margin is not None and higher_is_better is True:
        min_delta = -margin if min_delta is None else max(min_delta, -margin)
    elif margin is not None and higher_is_better is False:
        max_delta = margin if max_delta is None else min(max_delta, margin)
    return [(op, b) for op, b in (("max", max_delta), ("min", min_delta)) if b is not None]


def judged_quantities(rec: dict[str, Any], gate: dict[str, Any]) -> list[dict[str, Any]]:
    """What one judged gate compared: `{"what", "point", "low", "high", "bounds", "on_value"}` per
    quantity (`on_value`: the gate was judged on the value, not on the CI)."""
    out = []
    absolute = [(op, b) for op, b in (("max", _num(gate.get("max"))), ("min", _num(gate.get("min")))) if b is not None]
    if absolute and _num(rec.get("value")) is not None:
        out.append({"what": "value", "point": _num(rec.get("value")), "low": _num(rec.get("ci_low")),
                    "high": _num(rec.get("ci_high")), "bounds": absolute})
    delta_bounds = _delta_bounds(gate, rec.get("higher_is_better"))
    if delta_bounds and _num(gate.get("delta")) is not None:
        low, high = _pair(gate.get("delta_ci"))
        out.append({"what": "change vs reference", "point": _num(gate.get("delta")), "low": low, "high": high, "bounds": delta_bounds})
    ratio_bounds = [(op, b) for op, b in (("max", _num(gate.get("max_ratio"))), ("min", _num(gate.get("min_ratio")))) if b is not None]
    if ratio_bounds and _num(gate.get("ratio")) is not None:
        low, high = _pair(gate.get("ratio_ci"))
        out.append({"what": "ratio to reference", "point": _num(gate.get("ratio")), "low": low, "high": high, "bounds": ratio_bounds})
    for q in out:
        q["on_value"] = gate.get("judge") == "value"
    return out


def headroom(quantity: dict[str, Any]) -> float | None:
    """How far what the gate judged is inside its tightest bound: the conservative CI end (the
    value for a gate judged on the value, or without a CI); positive on the passing side,
    negative past the bound."""
    on_value = quantity.get("on_value")
    low = quantity["low"] if quantity["low"] is not None and not on_value else quantity["point"]
    high = quantity["high"] if quantity["high"] is not None and not on_value else quantity["point"]
    room = [b - high if op == "max" else low - b for op, b in quantity["bounds"]]
    return min(room) if room else None


def _title(rec: dict[str, Any], gate: dict[str, Any], q: dict[str, Any]) -> str:
    ci = f" [{fmt(q['low'])}, {fmt(q['high'])}]" if q["low"] is not None and q["high"] is not None else ""
    room = headroom(q)
    side = "" if room is None else f"; {fmt(abs(room))} {'inside' if room >= 0 else 'past'} the bound"
    return (f"{rec.get('check')} {rec.get('model')} ({rec.get('precision')}): {q['what']} {fmt(q['point'])}{ci} "
            f"against gate {gate.get('label') or ''}: {gate.get('status', '')}{side}")


def gate_marks(rec: dict[str, Any]) -> list[Markup]:
    """One graphic per quantity every judged gate of `rec` compared against its bounds."""
    marks = []
    for gate in rec.get("gates") or []:
        colour = STATUS_COLOURS.get(str(gate.get("status")), STATUS_COLOURS["measured"])
        for q in judged_quantities(rec, gate):
            marks.append(gate_interval(q["point"], q["low"], q["high"], q["bounds"], colour, _title(rec, gate, q)))
    return marks


__all__ = ["gate_marks", "headroom", "judged_quantities"]
