"""Result records and the run's results files: `results.jsonl` streamed, `results.json` atomic.

results.json is the single source of truth that reports, gates and comparisons read.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
STATUSES = ("pass", "fail", "warn", "inconclusive", "skipped", "error", "measured", "waived")
"""`measured`: a value with no gate on it (nothing was judged); `waived`: a gate did not pass but
an unexpired policy waiver (owner, reason, expiry) accepts it, so it does not fail the run; the
rest as in DESIGN.md."""


@dataclass
class CheckResult:
    """One JSON record: a check on one model in one precision."""

    check: str
    model: str
    precision: str
    device: str
    status: str
    seed: int
    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int | None = None
    unit: str = ""
    higher_is_better: bool | None = None
    params: dict[str, Any] = field(default_factory=dict)
    family: str | None = None
    gates: list[dict[str, Any]] = field(default_factory=list)
    verdict: str | None = None
    reason: str | None = None
    duration_s: float = 0.0
    by_group: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return clean_json(asdict(self))


def clean_json(obj: Any) -> Any:
    """Non-finite floats become None and numpy scalars plain Python, so the JSON is standard."""
    if isinstance(obj, dict):
        return {str(k): clean_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean_json(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "ndim", 1) == 0:
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(clean_json(data), indent=2) + "\n")
    os.replace(tmp, path)


class ResultsStream:
    """Appends each record to results.jsonl the moment it exists (flushed, so Ctrl-C keeps it)."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / "results.jsonl"
        self._fh = open(self.path, "a", encoding="utf-8")

    def append(self, record: CheckResult) -> None:
        self._fh.write(json.dumps(record.to_dict()) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()


def load_results(path: Path) -> dict[str, Any]:
    """Read a results.json, failing with one line if it is missing or not one of ours."""
    from audit.errors import InputError

    if not path.is_file():
        raise InputError(f"Results file '{path}' does not exist.")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"Results file '{path}' is not valid JSON: {exc}.") from None
    if not isinstance(data, dict) or "schema_version" not in data or "records" not in data:
        raise InputError(f"'{path}' is not an audit results.json (no schema_version/records).")
    if data["schema_version"] > SCHEMA_VERSION:
        raise InputError(f"'{path}' has schema version {data['schema_version']}; this audit reads up to {SCHEMA_VERSION}.")
    return data
