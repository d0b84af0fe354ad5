"""Inline SVG charts drawn from results JSON: line charts with CI bands and by-group bar charts.

Pure Python, no plotting library: the report stays one self-contained file and renders the
same on any machine. Every label comes from results (model names, group names, titles that a
user's check may set) and is escaped before it enters the SVG.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable

from markupsafe import Markup, escape

from audit.formatting import fmt

WIDTH, HEIGHT = 460, 260
LEFT, RIGHT, TOP, BOTTOM = 58, 16, 28, 44
PALETTE = ("#0969da", "#cf222e", "#1a7f37", "#8250df", "#9a6700", "#bc4c00", "#57606a", "#1b7c83")
MAX_X_LABELS = 9
"""At most this many x-axis labels: a label per point stays readable up to about nine."""


def _finite(values: Iterable[Any]) -> list[float]:
    return [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]


def _span(values: list[float]) -> tuple[float, float]:
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if high == low:
        pad = abs(high) * 0.1 or 1.0
        return low - pad, high + pad
    pad = (high - low) * 0.06
    return low - pad, high + pad


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    return [low + (high - low) * i / (count - 1) for i in range(count)]


def _frame(title: str, x_label: str, y_label: str, y_low: float, y_high: float) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
        f'<text x="{LEFT}" y="16" font-size="13" font-weight="600">{escape(title)}</text>',
        f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 6}" font-size="11" text-anchor="middle">{escape(x_label)}</text>',
        f'<text x="12" y="{TOP + plot_h / 2}" font-size="11" text-anchor="middle" '
        f'transform="rotate(-90 12 {TOP + plot_h / 2})">{escape(y_label)}</text>',
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" stroke="#57606a"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="#57606a"/>',
    ]
    for tick in _ticks(y_low, y_high):
        y = TOP + plot_h * (1 - (tick - y_low) / (y_high - y_low))
        parts.append(f'<line x1="{LEFT - 4}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#eaeef2"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{escape(fmt(tick, 3))}</text>')
    return parts


def series_marks(points: list[dict[str, Any]], x: Callable[[dict[str, Any]], float], y: Callable[[float], float],
                 colour: str, title: Callable[[dict[str, Any]], str]) -> list[str]:
    """SVG marks of one series in x order: its 95% CI as a shaded band and whiskers, the line
    through its values, and a dot per point with `title(point)` as its text alternative."""
    parts = []
    banded = [p for p in points if _finite([p.get("ci_low"), p.get("ci_high")]) == [p.get("ci_low"), p.get("ci_high")]]
    if len(banded) >= 2:
        upper = [f"{x(p):.1f},{y(p['ci_high']):.1f}" for p in banded]
        lower = [f"{x(p):.1f},{y(p['ci_low']):.1f}" for p in reversed(banded)]
        parts.append(f'<polygon points="{" ".join(upper + lower)}" fill="{colour}" fill-opacity="0.15" stroke="none"/>')
    for p in banded:
        parts.append(f'<line x1="{x(p):.1f}" y1="{y(p["ci_low"]):.1f}" x2="{x(p):.1f}" y2="{y(p["ci_high"]):.1f}" stroke="{colour}"/>')
    path = " ".join(f"{x(p):.1f},{y(p['value']):.1f}" for p in points)
    parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
    for p in points:
        parts.append(f'<circle cx="{x(p):.1f}" cy="{y(p["value"]):.1f}" r="3" fill="{colour}"><title>{escape(title(p))}</title></circle>')
    return parts


def line_chart(chart: dict[str, Any]) -> Markup:
    """`{"title", "x_label", "y_label", "log_x"?, "series": {name: [{"x", "value", "ci_low"?, "ci_high"?}]}}`
    as a line chart, each series with its 95% CI as a shaded band."""
    series = {str(k): [p for p in v if _finite([p.get("value")])] for k, v in (chart.get("series") or {}).items()}
    points = [p for pts in series.values() for p in pts]
    if not points:
        return Markup("")
    log_x = bool(chart.get("log_x")) and all(_finite([p.get("x")]) and p["x"] > 0 for p in points)
    numeric_x = all(_finite([p.get("x")]) for p in points)
    categories = list(dict.fromkeys(str(p.get("x")) for p in points))

    def x_of(p: dict[str, Any]) -> float:
        if not numeric_x:
            return float(categories.index(str(p.get("x"))))
        return math.log10(p["x"]) if log_x else float(p["x"])

    xs = [x_of(p) for p in points]
    x_low, x_high = (min(xs), max(xs)) if max(xs) > min(xs) else (min(xs) - 1, max(xs) + 1)
    y_low, y_high = _span(_finite(v for p in points for v in (p.get("value"), p.get("ci_low"), p.get("ci_high"))))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + 8 + (plot_w - 16) * (x - x_low) / (x_high - x_low)

    def py(y: float) -> float:
        return TOP + plot_h * (1 - (y - y_low) / (y_high - y_low))

    parts = _frame(str(chart.get("title", "")), str(chart.get("x_label", "")), str(chart.get("y_label", "")), y_low, y_high)
    ticks = sorted({(x_of(p), p.get("x")) for p in points}, key=lambda t: t[0])
    if len(ticks) > MAX_X_LABELS:  # dense curves (e.g. ROC): label an even subset, ends included
        keep = {round(i * (len(ticks) - 1) / (MAX_X_LABELS - 1)) for i in range(MAX_X_LABELS)}
        ticks = [t for i, t in enumerate(ticks) if i in keep]
    for xv, label in ticks:
        parts.append(f'<text x="{px(xv):.1f}" y="{HEIGHT - BOTTOM + 14}" font-size="10" text-anchor="middle">{escape(fmt(label, 3))}</text>')
    for i, (name, pts) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        parts += series_marks(sorted(pts, key=x_of), lambda p: px(x_of(p)), py, color,
                              lambda p, name=name: f"{name}: {fmt(p.get('x'))} → {fmt(p['value'])}")
        parts.append(f'<text x="{WIDTH - RIGHT}" y="{TOP + 12 * i}" font-size="10" text-anchor="end" fill="{color}">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(by_group: dict[str, Any], title: str) -> Markup:
    """A MetricFrame-shaped `by_group` (`{"by_group": {group: {"value", "ci_low", "ci_high"}}}`) as bars
    with CI whiskers and a dashed line at the overall value."""
    groups = {str(g): v for g, v in (by_group.get("by_group") or {}).items() if isinstance(v, dict) and _finite([v.get("value")])}
    if not groups:
        return Markup("")
    values = _finite(x for v in groups.values() for x in (v.get("value"), v.get("ci_low"), v.get("ci_high")))
    overall = by_group.get("overall")
    y_low, y_high = _span(values + _finite([overall]) + [0.0])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def py(y: float) -> float:
        return TOP + plot_h * (1 - (y - y_low) / (y_high - y_low))

    parts = _frame(title, "group", "value", y_low, y_high)
    slot = plot_w / len(groups)
    for i, (name, v) in enumerate(groups.items()):
        x = LEFT + slot * i + slot * 0.15
        top, base = py(max(v["value"], 0.0)), py(min(v["value"], 0.0))
        parts.append(f'<rect x="{x:.1f}" y="{top:.1f}" width="{slot * 0.7:.1f}" height="{max(base - top, 0.5):.1f}" fill="{PALETTE[0]}" fill-opacity="0.75">'
                     f'<title>{escape(name)}: {escape(fmt(v["value"]))}</title></rect>')
        if _finite([v.get("ci_low"), v.get("ci_high")]) == [v.get("ci_low"), v.get("ci_high")]:
            cx = x + slot * 0.35
            parts.append(f'<line x1="{cx:.1f}" y1="{py(v["ci_low"]):.1f}" x2="{cx:.1f}" y2="{py(v["ci_high"]):.1f}" stroke="#1f2328"/>')
        parts.append(f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - BOTTOM + 14}" font-size="10" text-anchor="middle">{escape(name[:14])}</text>')
    if _finite([overall]):
        y = py(float(overall))
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="{PALETTE[1]}" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{WIDTH - RIGHT}" y="{y - 4:.1f}" font-size="10" text-anchor="end" fill="{PALETTE[1]}">overall</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


MARK_WIDTH, MARK_HEIGHT, MARK_PAD = 150, 22, 6
FAILING_SIDE = "#ffebe9"


def gate_interval(point: float, low: float | None, high: float | None, bounds: list[tuple[str, float]],
                  colour: str, title: str) -> Markup:
    """A small dot-and-interval: the judged value (dot), its 95% CI (bar) and each gate bound
    (a vertical line, the failing side shaded), so the distance from failing is seen.

    `bounds` holds `("max", b)` or `("min", b)`; `title` is the text alternative."""
    values = _finite([point, low, high, *(b for _, b in bounds)])
    if not values or not _finite([point]):
        return Markup("")
    x_low, x_high = _span(values)
    inner = MARK_WIDTH - 2 * MARK_PAD

    def px(x: float) -> float:
        return MARK_PAD + inner * (x - x_low) / (x_high - x_low)

    mid = MARK_HEIGHT / 2
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="gate-mark" width="{MARK_WIDTH}" height="{MARK_HEIGHT}" '
             f'viewBox="0 0 {MARK_WIDTH} {MARK_HEIGHT}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<line x1="{MARK_PAD}" y1="{mid}" x2="{MARK_WIDTH - MARK_PAD}" y2="{mid}" stroke="#d0d7de"/>']
    for op, bound in bounds:
        x = px(bound)
        start, end = (x, MARK_WIDTH - MARK_PAD) if op == "max" else (MARK_PAD, x)
        parts.append(f'<rect class="failing-side" x="{start:.1f}" y="2" width="{max(end - start, 0):.1f}" height="{MARK_HEIGHT - 4}" fill="{FAILING_SIDE}"/>')
    for _, bound in bounds:
        x = px(bound)
        parts.append(f'<line class="bound" x1="{x:.1f}" y1="1" x2="{x:.1f}" y2="{MARK_HEIGHT - 1}" stroke="#1f2328" stroke-width="2"/>')
    ends = _finite([low, high])
    if len(ends) == 2:
        parts.append(f'<line class="interval" x1="{px(ends[0]):.1f}" y1="{mid}" x2="{px(ends[1]):.1f}" y2="{mid}" '
                     f'stroke="{colour}" stroke-width="3"/>')
    parts.append(f'<circle class="value" cx="{px(point):.1f}" cy="{mid}" r="4" fill="{colour}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
