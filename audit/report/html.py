"""The self-contained HTML report: one file, inline CSS and images, no network needed.

Everything that came from a model or a user (texts, names, reasons) is autoescaped by Jinja2.
The first screen answers a reviewer's questions in order: the scorecard (audit.report.scorecard),
each gated value against its bound (audit.report.gate_marks), the models side by side
(audit.report.side_by_side); a small inline script filters every table by status, model and
area, and without it the whole static page is shown. Each check's name links to its explanation
(audit.report.explanations). A Content-Security-Policy allows no network request and only that
script (by its hash).

A file a results.json names (a sample grid, a record's PNG artifacts) is embedded only when it
lies inside the run folder and decodes as an image; otherwise the report says why it is not
shown. An interrupted run says INTERRUPTED in its verdict and in a banner.
"""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.formatting import fmt, fmt_ci
from audit.report.charts import bar_chart, line_chart
from audit.report.explanations import explanations
from audit.report.gate_marks import gate_marks
from audit.report.scorecard import indexed, row_label, scorecard, value_text
from audit.report.side_by_side import ZERO_FLOORED, side_by_side
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


def filter_script() -> str:
    """The report's one script (the filter), read from the package."""
    from importlib import resources

    return resources.files("audit.report").joinpath("templates", "filter.js").read_text(encoding="utf-8")


def content_security_policy(script: str) -> str:
    """No fetches at all; inline styles, data: images and exactly `script` (by its sha256)."""
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"


def render_html(results: dict[str, Any], run_dir: Path) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape
    from markupsafe import Markup

    env = Environment(loader=PackageLoader("audit.report", "templates"), autoescape=select_autoescape(["html", "j2"]))
    env.filters["fmt"] = fmt
    env.filters["ci"] = fmt_ci
    env.filters["line_chart"] = line_chart
    env.globals["bar_chart"] = bar_chart
    env.globals["gate_marks"] = gate_marks
    env.globals["value_text"] = value_text
    env.globals["row_label"] = row_label
    models = _model_sections(results, run_dir)
    listed = {(m["model"], m["precision"]) for m in models}
    rebuilt = bool(results.get("rebuilt_from"))  # no model rows: the stream does not hold them
    orphans = [] if rebuilt else [r for r in results["records"] if (r["model"], r["precision"]) not in listed]
    code = results["summary"]["exit_code"]
    verdict = run_verdict(code, bool(results.get("interrupted"))).word
    script = filter_script()
    card = scorecard(results)
    return env.get_template("report.html.j2").render(
        r=results, records=indexed(results), models=models, side_by_side=side_by_side(results), card=card,
        matrices=matrices(results), gate_labels=_gate_labels(results), explanations=explanations(results),
        orphans=orphans, verdict=verdict, code=code, status_order=WORST_FIRST, rebuilt=rebuilt,
        status_colours=STATUS_COLOURS, run_verdicts=RUN_VERDICTS, zero_floored=sorted(ZERO_FLOORED),
        filter_script=Markup(script), csp=content_security_policy(script),
    )
