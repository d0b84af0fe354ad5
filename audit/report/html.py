"""The self-contained HTML report: one file, inline CSS and images, no network needed.

Everything that came from a model or a user (texts, names, reasons) is autoescaped by Jinja2.
A file a results.json names (a sample grid, a record's PNG artifacts) is embedded only when it
lies inside the run folder and decodes as an image; otherwise the report says why it is not
shown. An interrupted run says INTERRUPTED in its verdict and in a banner.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.formatting import fmt, fmt_ci
from audit.report.charts import bar_chart, line_chart
from audit.verdicts import RUN_VERDICTS, STATUS_COLOURS, WORST_FIRST, run_verdict

IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
"""Raster formats a report embeds; anything else (SVG with its scripts included) is not embedded."""
MAX_EMBED_BYTES = 20 * 1024 * 1024


@dataclass
class Embed:
    """An image for the report: a data URI, or a short note saying why it is not shown."""

    uri: str | None = None
    note: str | None = None


def _inside(run_dir: Path, relative: str) -> Path | None:
    """The file `relative` names inside the run folder (symlinks resolved), or None when it is
    absolute, climbs out with `..`, or resolves to a place outside the folder."""
    name = Path(relative)
    if name.is_absolute() or ".." in name.parts:
        return None
    try:
        root = run_dir.resolve()
        path = (root / name).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    return path if path.is_relative_to(root) else None


def _image_type(data: bytes) -> str | None:
    """The MIME type of `data` when Pillow decodes it as an embeddable image, else None."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            kind = image.format
    except Exception:  # Pillow raises many types for data that is not an image
        return None
    return IMAGE_TYPES.get(kind or "")


def embed_image(run_dir: Path, relative: Any) -> Embed:
    """A file named in results, embedded only if it lies inside the run folder and is an image:
    a results.json from elsewhere must not make the report carry /etc/passwd or ~/.ssh keys."""
    if not relative:
        return Embed()
    path = _inside(run_dir, str(relative))
    if path is None:
        return Embed(note=f"not shown: '{relative}' is outside the run folder")
    try:
        data = path.read_bytes() if path.is_file() and path.stat().st_size <= MAX_EMBED_BYTES else None
    except (OSError, ValueError):
        data = None
    if data is None:
        return Embed(note=f"not shown: '{relative}' is missing or too large")
    kind = _image_type(data)
    if kind is None:
        return Embed(note=f"not shown: '{relative}' is not an image")
    return Embed(uri=f"data:{kind};base64," + base64.b64encode(data).decode("ascii"))


def family_tables(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Per-family comparison: one row per check, one column per (model, precision), value and CI."""
    tables: dict[str, dict[str, Any]] = {}
    for rec in results["records"]:
        family = rec.get("family") or "other"
        table = tables.setdefault(family, {"family": family, "columns": [], "checks": [], "cells": {}})
        column = f"{rec['model']} ({rec['precision']})"
        if column not in table["columns"]:
            table["columns"].append(column)
        if rec["check"] not in table["checks"]:
            table["checks"].append(rec["check"])
        table["cells"][(rec["check"], column)] = rec
    return [tables[f] for f in sorted(tables)]


def matrices(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Cross-model matrices: each record may give one column of a titled matrix in
    `details["matrices"]` ({"title", "row_label", "column", "cells": {row: {value, ci_low, ci_high}}});
    columns from every model of the run are put side by side (e.g. detector generalisation)."""
    out: dict[str, dict[str, Any]] = {}
    for rec in results["records"]:
        for m in (rec.get("details") or {}).get("matrices") or []:
            table = out.setdefault(m["title"], {"title": m["title"], "row_label": m.get("row_label", ""), "rows": [], "columns": [], "cells": {}})
            if m["column"] not in table["columns"]:
                table["columns"].append(m["column"])
            for row, cell in (m.get("cells") or {}).items():
                if row not in table["rows"]:
                    table["rows"].append(row)
                table["cells"][(row, m["column"])] = cell
    return list(out.values())


def _model_sections(results: dict[str, Any], run_dir: Path) -> list[dict[str, Any]]:
    """One section per model row: its records, sample grid and PNG artifacts (each embedded only
    when safe, else a note)."""
    models = []
    for row in results.get("models") or []:
        records = [r for r in results["records"] if r["model"] == row["model"] and r["precision"] == row["precision"]]
        images = []
        for r in records:
            for name, path in (r.get("artifacts") or {}).items():
                if str(path).lower().endswith(".png"):
                    images.append({"check": r["check"], "name": name, "embed": embed_image(run_dir, path)})
        grid = embed_image(run_dir, row.get("sample_grid"))
        models.append({**row, "info": row.get("info") or {}, "grid_uri": grid.uri, "grid_note": grid.note,
                       "records": records, "images": images})
    return models


def _gate_labels(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The run's gates as results.json states them (`label` written when the run was planned;
    a file from an older version shows its check pattern)."""
    return [{"check": g.get("check", "?"), "model": g.get("model", "*"), "precision": g.get("precision", "*"),
             "label": g.get("label") or str(g.get("check", "?"))} for g in results.get("gates") or []]


def render_html(results: dict[str, Any], run_dir: Path) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("audit.report", "templates"), autoescape=select_autoescape(["html", "j2"]))
    env.filters["fmt"] = fmt
    env.filters["ci"] = fmt_ci
    env.filters["line_chart"] = line_chart
    env.globals["bar_chart"] = bar_chart
    models = _model_sections(results, run_dir)
    listed = {(m["model"], m["precision"]) for m in models}
    rebuilt = bool(results.get("rebuilt_from"))  # no model rows: the stream does not hold them
    orphans = [] if rebuilt else [r for r in results["records"] if (r["model"], r["precision"]) not in listed]
    code = results["summary"]["exit_code"]
    verdict = run_verdict(code, bool(results.get("interrupted"))).word
    return env.get_template("report.html.j2").render(
        r=results, models=models, families=family_tables(results), matrices=matrices(results), gate_labels=_gate_labels(results),
        orphans=orphans, verdict=verdict, code=code, status_order=WORST_FIRST, rebuilt=rebuilt,
        status_colours=STATUS_COLOURS, run_verdicts=RUN_VERDICTS,
    )
