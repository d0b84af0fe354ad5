"""Inline SVG for the comparison page: a dot-and-interval strip per leaderboard row and a trend
chart per check over runs, each with the gate bounds drawn.

Pure Python like audit.report.charts (whose palette it shares): the page stays one file. Every
label comes from results (model names, run ids) and is escaped before it enters the SVG.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from markupsafe import Markup, escape

from audit.formatting import fmt
from audit.report.charts import PALETTE, series_marks

STRIP_WIDTH, STRIP_HEIGHT = 180, 18
TREND_WIDTH, TREND_HEIGHT = 560, 240
LEFT, RIGHT, TOP, BOTTOM = 58, 150, 24, 40
GATE_COLOUR = "#cf222e"
INTERVAL_COLOUR = "#1f2328"


def finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class Scale:
    """A value axis shared by every row of one leaderboard, so rows are compared by eye."""

    low: float
    high: float

    @classmethod
    def over(cls, values: Iterable[Any]) -> "Scale":
        numbers = [float(v) for v in values if finite(v)]
        low, high = (min(numbers), max(numbers)) if numbers else (0.0, 1.0)
        pad = (high - low) * 0.05 if high > low else (abs(high) * 0.1 or 1.0)
        return cls(low - pad, high + pad)

    def at(self, value: float, start: float, length: float) -> float:
        return start + length * (value - self.low) / (self.high - self.low)


def interval_strip(value: Any, low: Any, high: Any, scale: Scale, bounds: Sequence[float], label: str) -> Markup:
    """One row's value as a dot on its 95% CI line, against the check's gate bounds (dashed)."""
    if not finite(value):
        return Markup("")
    pad = 6.0
    span = STRIP_WIDTH - 2 * pad
    mid = STRIP_HEIGHT / 2
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="strip" width="{STRIP_WIDTH}" height="{STRIP_HEIGHT}" '
             f'viewBox="0 0 {STRIP_WIDTH} {STRIP_HEIGHT}" role="img" aria-label="{escape(label)}">']
    for bound in bounds:
        x = scale.at(bound, pad, span)
        parts.append(f'<line x1="{x:.1f}" y1="1" x2="{x:.1f}" y2="{STRIP_HEIGHT - 1}" stroke="{GATE_COLOUR}" stroke-dasharray="3 2"/>')
    if finite(low) and finite(high):
        parts.append(f'<line x1="{scale.at(low, pad, span):.1f}" y1="{mid}" x2="{scale.at(high, pad, span):.1f}" y2="{mid}" '
                     f'stroke="{INTERVAL_COLOUR}" stroke-width="2"/>')
    parts.append(f'<circle cx="{scale.at(value, pad, span):.1f}" cy="{mid}" r="4" fill="{PALETTE[0]}"/></svg>')
    return Markup("".join(parts))


def trend_chart(title: str, runs: Sequence[int], series: dict[str, list[dict[str, Any]]], bounds: Sequence[tuple[str, float]]) -> Markup:
    """Values over runs (x: the run numbers in start-time order), one line per model/precision
    with its 95% CI as a band, and each gate bound as a dashed line labelled with its kind."""
    points = [p for pts in series.values() for p in pts if finite(p.get("value"))]
    if not points or not runs:
        return Markup("")
    scale = Scale.over([v for p in points for v in (p.get("value"), p.get("ci_low"), p.get("ci_high"))] + [b for _, b in bounds])
    plot_w, plot_h = TREND_WIDTH - LEFT - RIGHT, TREND_HEIGHT - TOP - BOTTOM
    slots = {run: i for i, run in enumerate(runs)}

    def px(run: int) -> float:
        return LEFT + 10 + (plot_w - 20) * (slots[run] / max(len(runs) - 1, 1))

    def py(value: float) -> float:
        return TOP + plot_h - scale.at(value, 0, plot_h)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="trend" width="{TREND_WIDTH}" height="{TREND_HEIGHT}" '
        f'viewBox="0 0 {TREND_WIDTH} {TREND_HEIGHT}" role="img" aria-label="{escape(title)}">',
        f'<text x="{LEFT}" y="14" font-size="12" font-weight="600">{escape(title)}</text>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="#57606a"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#57606a"/>',
        f'<text x="{LEFT + plot_w / 2}" y="{TREND_HEIGHT - 4}" font-size="11" text-anchor="middle">run (oldest → newest)</text>',
    ]
    for i in range(5):
        tick = scale.low + (scale.high - scale.low) * i / 4
        parts.append(f'<text x="{LEFT - 6}" y="{py(tick) + 4:.1f}" font-size="10" text-anchor="end">{escape(fmt(tick, 3))}</text>')
    labelled = list(range(0, len(runs), max(1, math.ceil(len(runs) / 12))))
    labelled[-1] = len(runs) - 1  # the newest run is always labelled
    for i in labelled:
        parts.append(f'<text x="{px(runs[i]):.1f}" y="{TOP + plot_h + 14}" font-size="10" text-anchor="middle">#{runs[i]}</text>')
    for kind, bound in bounds:
        y = py(bound)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="{GATE_COLOUR}" stroke-dasharray="5 3"/>')
        parts.append(f'<text x="{LEFT + plot_w - 4}" y="{y - 4:.1f}" font-size="10" text-anchor="end" fill="{GATE_COLOUR}">gate {escape(kind)} {escape(fmt(bound))}</text>')
    for i, (name, pts) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        pts = sorted((p for p in pts if finite(p.get("value")) and p.get("run") in slots), key=lambda p: slots[p["run"]])
        parts += series_marks(pts, lambda p: px(p["run"]), py, colour, lambda p, name=name: f"{name}, run #{p['run']}: {fmt(p['value'])}")
        parts.append(f'<text x="{LEFT + plot_w + 4}" y="{TOP + 4 + 12 * i}" font-size="10" fill="{colour}">{escape(name[:24])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


__all__ = ["Scale", "interval_strip", "trend_chart"]
