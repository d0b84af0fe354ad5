"""How numbers and intervals are written, everywhere: reports, verdict lines, the console."""

from __future__ import annotations

import math
from typing import Any


def fmt(value: Any, digits: int = 4) -> str:
    """A number to `digits` significant digits; None/NaN as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "—"
    if isinstance(value, int):
        return str(value)
    return f"{value + 0.0:.{digits}g}"  # + 0.0: -0.0 (an entropy of one class, -sum(1 log 1)) prints as 0


def fmt_ci(record: dict[str, Any]) -> str:
    if record.get("ci_low") is None or record.get("ci_high") is None:
        return ""
    return f"[{fmt(record['ci_low'])}, {fmt(record['ci_high'])}]"
