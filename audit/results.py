"""Result records and the run's results files: `results.jsonl` streamed, `results.json` atomic.

results.json is the single source of truth that reports, gates and comparisons read. The stream
results.jsonl starts with a header line (`{"run": {...}}`, the run's settings), then one line per
record, so a run killed hard (SIGKILL, the OOM killer) can still be rebuilt from it alone. When
the run has been judged and its outputs written, the stream is rewritten with the verdicts and
ends with one line `{"end": {...}}` (the rest of results.json: summary, models, policy,
interruption), so a stream with that line is a complete run and one without it was cut short.
Every whole file is written through a temporary file and a rename: never truncated in place.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import secrets
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Iterable

from audit.verdicts import STATUSES

SCHEMA_VERSION = 1


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


def record_from_dict(row: dict[str, Any]) -> CheckResult:
    """A CheckResult from its JSON dict (keys of other versions ignored)."""
    names = {f.name for f in fields(CheckResult)}
    return CheckResult(**{k: v for k, v in row.items() if k in names})


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


def _fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (best effort: some filesystems refuse to open folders)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, fsync it, then rename it over `path`, so a
    full disk or a crash leaves the previous file (or none), never a truncated one."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # mode as open() gives (umask applies)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8", errors="replace"))  # a lone surrogate from JSON becomes "?"
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def write_json_atomic(path: Path, data: Any) -> None:
    """results.json (or any JSON) written atomically: see `write_text_atomic`."""
    write_text_atomic(path, json.dumps(clean_json(data), indent=2) + "\n")


# ---------------------------------------------------------------- the results document


def new_results(
    run_id: str, suite: str, suite_description: str, started: float, config: dict[str, Any],
    gates: list[dict[str, Any]], fingerprint: dict[str, Any],
) -> dict[str, Any]:
    """results.json as known when a run starts (its HEADER_KEYS): what results.jsonl's first line holds."""
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "suite": suite,
        "suite_description": suite_description,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "config": config,
        "gates": gates,
        "fingerprint": fingerprint,
    }


def finish_results(
    results: dict[str, Any], duration_s: float, interrupted_by: str | None, models: list[dict[str, Any]],
    records: list[CheckResult], files: dict[str, str],
) -> dict[str, Any]:
    """Add what a run knows when it ends: its records (not yet judged: `audit.gates.finalize`
    sets each verdict, the summary and the exit code), model rows, and the sha256 of every file
    and instrument it used (`fingerprint.files`). Changes `results` in place and returns it."""
    results.update(
        duration_s=round(duration_s, 2), interrupted=interrupted_by is not None, interrupted_by=interrupted_by,
        models=models, records=[r.to_dict() for r in records], summary={},
    )
    results["fingerprint"]["files"] = dict(sorted(files.items()))
    return results


# ---------------------------------------------------------------- results.jsonl

STREAM_NAME = "results.jsonl"
HEADER_KEYS = ("schema_version", "run_id", "suite", "suite_description", "started", "config", "gates", "fingerprint")
"""What the first line of results.jsonl holds (`{"run": {...}}`): everything results.json has
that is known when the run starts, so a stream whose run was killed can be rebuilt alone."""


def stream_header(results: dict[str, Any]) -> dict[str, Any]:
    """The header line's content: the HEADER_KEYS of a results dict (records etc. left out)."""
    return clean_json({k: results[k] for k in HEADER_KEYS if k in results})


def _header_line(header: dict[str, Any]) -> str:
    return json.dumps({"run": stream_header(header)}) + "\n"


def _record_line(record: CheckResult | dict[str, Any]) -> str:
    return json.dumps(record.to_dict() if isinstance(record, CheckResult) else clean_json(record)) + "\n"


class ResultsStream:
    """Appends each record to results.jsonl the moment it exists, fsynced, so Ctrl-C and even
    SIGKILL keep it. With a `header` (a results dict, see HEADER_KEYS) the first line is
    `{"run": header}`, which makes the file enough to rebuild results.json (`audit.rebuild.rebuild_results`).
    A write that fails (disk full) is cut back to the last whole line before it is raised."""

    def __init__(self, run_dir: Path, header: dict[str, Any] | None = None) -> None:
        self.path = Path(run_dir) / STREAM_NAME
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
        try:
            if header is not None:
                if os.fstat(self._fd).st_size:
                    raise FileExistsError(errno.EEXIST, "a results stream is already there", str(self.path))
                self._write(_header_line(header))
        except BaseException:
            os.close(self._fd)
            raise

    def _write(self, line: str) -> None:
        data = line.encode("utf-8")
        start = os.fstat(self._fd).st_size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view):]
            os.fsync(self._fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, start)
            raise

    def append(self, record: CheckResult | dict[str, Any]) -> None:
        self._write(_record_line(record))

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


END_KEY = "end"
"""The key of the stream's last line once the run is complete (`{"end": {...}}`, see `stream_end`)."""


def stream_end(results: dict[str, Any]) -> dict[str, Any]:
    """The end line's content: what results.json holds beyond the header and the records
    (duration, interruption, model rows, summary, policy). With the header and the judged records
    it is the whole results.json, so a complete stream rebuilds as the run it was."""
    return clean_json({k: v for k, v in results.items() if k not in HEADER_KEYS and k not in ("records", "rebuilt_from")})


def append_stream_end(run_dir: Path, results: dict[str, Any]) -> None:
    """Append the end line (`stream_end`) to results.jsonl, fsynced, marking the stream complete.
    A write that fails (disk full) is cut back to the stream as it was before it is raised, so a
    stream never ends in half an end line."""
    path = Path(run_dir) / STREAM_NAME
    data = (json.dumps({END_KEY: stream_end(results)}) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        start = os.fstat(fd).st_size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, start)
            raise
    finally:
        os.close(fd)


def rewrite_stream(run_dir: Path, header: dict[str, Any] | None, records: Iterable[CheckResult | dict[str, Any]]) -> Path:
    """Replace results.jsonl atomically with the header line (none when `header` is None) and
    `records` (e.g. with the verdicts judged when the run ended). Returns its path."""
    path = Path(run_dir) / STREAM_NAME
    lines = ([_header_line(header)] if header is not None else []) + [_record_line(r) for r in records]
    write_text_atomic(path, "".join(lines))
    return path


def read_stream(path: Path) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The header (None in a stream without one) and the records of a results.jsonl, each
    checked like results.json's. A last line cut short by a hard kill is dropped."""
    header, records, _ = read_stream_end(path)
    return header, records


def read_stream_end(path: Path) -> tuple[dict[str, Any] | None, list[dict[str, Any]], dict[str, Any] | None]:
    """`read_stream`, and the stream's end line (`stream_end`: None where the stream has none,
    i.e. the run was cut short before its outputs were written, or an older audit wrote it).
    The end line must be the last line: a record after it is an invalid stream."""
    from audit.errors import InputError

    path = Path(path)
    if not path.is_file():
        raise InputError(f"Results stream '{path}' does not exist.")
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = text.split("\n")
    header: dict[str, Any] | None = None
    end: dict[str, Any] | None = None
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            if end is not None:
                raise _Invalid(f"line {number} follows the end line, which must be the stream's last")
            item = json.loads(line)
            if number == 1 and isinstance(item, dict) and set(item) == {"run"}:
                header = _check_header(item["run"], "header (line 1)")
            elif isinstance(item, dict) and set(item) == {END_KEY}:
                end = _check_end(item[END_KEY], f"line {number}: end line")
            else:
                records.append(_check_record(item, f"line {number}: record"))
        except (json.JSONDecodeError, _Invalid) as exc:
            if number == len(lines) and end is None:  # no newline after it: the write was cut short by a kill
                break
            what = f"line {number}: not valid JSON ({exc})" if isinstance(exc, json.JSONDecodeError) else str(exc)
            raise InputError(f"Results stream '{path}': {what}.") from None
    return header, records, end


# ---------------------------------------------------------------- results.json


class _Invalid(Exception):
    """A field of a results file with the wrong type; the message names it (e.g. records[3].value)."""


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


KINDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "str": (lambda x: isinstance(x, str), "a string"),
    "num": (_is_number, "a number"),
    "int": (lambda x: isinstance(x, int) and not isinstance(x, bool), "an integer"),
    "bool": (lambda x: isinstance(x, bool), "true or false"),
    "dict": (lambda x: isinstance(x, dict), "an object"),
    "list": (lambda x: isinstance(x, list), "a list"),
}
"""Field kinds of a results file; a kind ending in "?" may also be null."""


def _expect(value: Any, kind: str, where: str) -> Any:
    """`value` itself when it is of `kind` (e.g. "num", "dict?"), else _Invalid naming `where`."""
    nullable = kind.endswith("?")
    check, name = KINDS[kind.rstrip("?")]
    if check(value) or (nullable and value is None):
        return value
    got = "null" if value is None else type(value).__name__
    raise _Invalid(f"{where} must be {name}{' or null' if nullable else ''}, not {got}")


def _fields(data: dict[str, Any], spec: dict[str, str], where: str, required: Iterable[str] = ()) -> None:
    """`data`'s fields against {name: kind}; the `required` ones must be present."""
    prefix = f"{where}." if where else ""
    for name in required:
        if name not in data:
            raise _Invalid(f"{prefix}{name} is missing")
    for name, kind in spec.items():
        if name in data:
            _expect(data[name], kind, f"{prefix}{name}")


def _list_of(value: Any, kind: str, where: str) -> list[Any]:
    """A list (or null) whose items are all of `kind`."""
    for i, item in enumerate(_expect(value, "list?", where) or []):
        _expect(item, kind, f"{where}[{i}]")
    return value or []


def _map_of(value: Any, kind: str, where: str) -> dict[str, Any]:
    """An object (or null) whose values are all of `kind`."""
    for key, item in (_expect(value, "dict?", where) or {}).items():
        _expect(item, kind, f"{where}[{key!r}]")
    return value or {}


RECORD_FIELDS = {
    "check": "str", "model": "str", "precision": "str", "status": "str", "device": "str?", "seed": "int?",
    "value": "num?", "ci_low": "num?", "ci_high": "num?", "n": "int?", "unit": "str?", "higher_is_better": "bool?",
    "params": "dict", "family": "str?", "gates": "list", "verdict": "str?", "reason": "str?", "duration_s": "num?",
    "by_group": "dict?", "details": "dict?", "artifacts": "dict?",
}
HEADER_FIELDS = {
    "schema_version": "int", "run_id": "str", "suite": "str", "suite_description": "str?", "started": "str?",
    "config": "dict?", "gates": "list?", "fingerprint": "dict",
}
RESULTS_FIELDS = {
    **HEADER_FIELDS, "records": "list", "duration_s": "num?", "interrupted": "bool?", "interrupted_by": "str?",
    "models": "list?", "summary": "dict", "policy": "dict?", "rebuilt_from": "str?",
}
MODEL_ROW_FIELDS = {"model": "str", "precision": "str", "info": "dict?", "sample_grid": "str?"}
WAIVER_FIELDS = {"check": "str", "model": "str", "precision": "str", "owner": "str", "reason": "str", "expires": "str"}


def _check_details(details: dict[str, Any], where: str) -> None:
    """The parts of `details` the HTML report draws (charts, tables, matrices) and `audit compare`
    pairs on (per_sample)."""
    _expect(details.get("per_sample"), "list?", f"{where}.per_sample")
    for i, chart in enumerate(_list_of(details.get("charts"), "dict", f"{where}.charts")):
        for name, points in _map_of(chart.get("series"), "list", f"{where}.charts[{i}].series").items():
            _list_of(points, "dict", f"{where}.charts[{i}].series[{name!r}]")
    for i, table in enumerate(_list_of(details.get("tables"), "dict", f"{where}.tables")):
        _expect(table.get("columns"), "list?", f"{where}.tables[{i}].columns")
        _list_of(table.get("rows"), "list", f"{where}.tables[{i}].rows")
    for i, matrix in enumerate(_list_of(details.get("matrices"), "dict", f"{where}.matrices")):
        _fields(matrix, {"title": "str", "column": "str", "row_label": "str?"}, f"{where}.matrices[{i}]", required=("title", "column"))
        _map_of(matrix.get("cells"), "dict", f"{where}.matrices[{i}].cells")


def _check_record(record: Any, where: str) -> dict[str, Any]:
    """One record: an object naming check, model, precision and a known status, fields typed."""
    _expect(record, "dict", where)
    _fields(record, RECORD_FIELDS, where, required=("check", "model", "precision", "status"))
    if record["status"] not in STATUSES:
        raise _Invalid(f"{where}.status is '{record['status']}', not one of {', '.join(STATUSES)}")
    if _is_number(record.get("ci_low")) and _is_number(record.get("ci_high")) and record["ci_low"] > record["ci_high"]:
        raise _Invalid(f"{where} has ci_low {record['ci_low']} > ci_high {record['ci_high']}, which is no interval")
    _expect((record.get("params") or {}).get("bootstrap"), "int?", f"{where}.params.bootstrap")
    _list_of(record.get("gates"), "dict", f"{where}.gates")
    _map_of(record.get("artifacts"), "str", f"{where}.artifacts")
    _map_of((record.get("by_group") or {}).get("by_group"), "dict", f"{where}.by_group.by_group")
    _check_details(record.get("details") or {}, f"{where}.details")
    return record


def _check_version(version: int) -> None:
    if version > SCHEMA_VERSION:
        raise _Invalid(f"has schema version {version}; this audit reads up to {SCHEMA_VERSION}")
    if version < 1:
        raise _Invalid(f"schema_version {version} is not a version (1 to {SCHEMA_VERSION})")


def _check_run(data: dict[str, Any], spec: dict[str, str], required: tuple[str, ...]) -> None:
    """Run-level fields shared by results.json and the stream's header."""
    _fields(data, spec, "", required=required)
    _check_version(data["schema_version"])
    for i, gate in enumerate(_list_of(data.get("gates"), "dict", "gates")):
        _fields(gate, {"check": "str"}, f"gates[{i}]", required=("check",))
    fingerprint = data.get("fingerprint") or {}
    _fields(fingerprint, {"files": "dict", "packages": "dict"}, "fingerprint")
    _map_of(fingerprint.get("files"), "str", "fingerprint.files")


def _check_header(header: Any, where: str) -> dict[str, Any]:
    """The stream's header: the run fields results.json starts with."""
    try:
        _expect(header, "dict", "it")
        _check_run(header, HEADER_FIELDS, ("schema_version", "run_id", "suite"))
    except _Invalid as exc:
        raise _Invalid(f"{where}: {exc}") from None
    return header


def _check_end(end: Any, where: str) -> dict[str, Any]:
    """The stream's end line: the fields results.json has beyond the header and the records."""
    try:
        _expect(end, "dict", "it")
        _fields(end, {k: v for k, v in RESULTS_FIELDS.items() if k not in HEADER_FIELDS and k != "records"}, "", required=("summary",))
        _check_summary(end["summary"])
        for i, row in enumerate(_list_of(end.get("models"), "dict", "models")):
            _fields(row, MODEL_ROW_FIELDS, f"models[{i}]", required=("model", "precision"))
    except _Invalid as exc:
        raise _Invalid(f"{where}: {exc}") from None
    return end


def _check_summary(summary: dict[str, Any]) -> None:
    _fields(summary, {"exit_code": "int", "counts": "dict", "expired_waivers": "list?", "output_error": "str?"}, "summary",
            required=("exit_code", "counts"))
    _map_of(summary["counts"], "int", "summary.counts")
    for i, waiver in enumerate(_list_of(summary.get("expired_waivers"), "dict", "summary.expired_waivers")):
        _fields(waiver, WAIVER_FIELDS, f"summary.expired_waivers[{i}]", required=tuple(WAIVER_FIELDS))


def _check_results(data: Any, for_report: bool) -> None:
    """Every field the renderers and `audit compare` read has the type they expect."""
    if not isinstance(data, dict) or "schema_version" not in data or "records" not in data:
        raise _Invalid("not an audit results.json (no schema_version/records)")
    _check_run(data, RESULTS_FIELDS, ("schema_version", "records", *(("run_id", "suite", "summary") if for_report else ())))
    for i, record in enumerate(data["records"]):
        _check_record(record, f"records[{i}]")
    for i, row in enumerate(_list_of(data.get("models"), "dict", "models")):
        _fields(row, MODEL_ROW_FIELDS, f"models[{i}]", required=("model", "precision"))
    if for_report or data.get("summary"):
        _check_summary(data["summary"])
    policy = data.get("policy") or {}
    _fields(policy, {"path": "str?", "waivers": "list?", "judged_on": "str?"}, "policy")
    _list_of(policy.get("waivers"), "dict", "policy.waivers")


def load_results(path: Path, for_report: bool = False) -> dict[str, Any]:
    """Read a results.json, failing with one line (exit 2) if it is missing, not one of ours, or
    has a field of the wrong type (named, with the record's index). `for_report`: it must also
    carry what the reports show (run_id, suite, summary), which a baseline file may leave out."""
    from audit.errors import InputError

    path = Path(path)
    if not path.is_file():
        raise InputError(f"Results file '{path}' " + ("is a folder; give its results.json." if path.is_dir() else "does not exist."))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"Results file '{path}' is not valid JSON: {exc}.") from None
    try:
        _check_results(data, for_report)
    except _Invalid as exc:
        raise InputError(f"Results file '{path}': {exc}.") from None
    return data
