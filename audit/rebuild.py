"""What `audit report` reads: a run's results.json, or one rebuilt from its results.jsonl.

A run killed hard leaves only the stream; rebuilding judges its records again with the gates the
header names (audit.gates.finalize), which is why this sits above both the results format
(audit.results) and the judging (audit.gates, audit.policy) rather than inside the format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit.errors import EXIT_ERROR, InputError
from audit.gates import exit_code, finalize, status_counts
from audit.policy import GATE_KEYS, Gate, parse_gate
from audit.results import STREAM_NAME, load_results, read_stream_end


def rebuild_results(jsonl_path: Path, interrupted: bool | None = None) -> dict[str, Any]:
    """results.json's content rebuilt from results.jsonl alone (a run killed hard leaves nothing
    else). A complete stream (it ends with the end line the run writes once its outputs are
    written: audit.results.stream_end) is the run as it was judged: the header, the judged records
    and the end line's summary, model rows and policy, whatever `interrupted` says. A stream cut
    short has the header, the records, no model rows, and the summary and exit code of the
    end-of-run judging (audit.gates.finalize; without the policy's waivers, which the stream
    does not hold); `interrupted` defaults to True unless a results.json lies beside the stream,
    i.e. unless the run finished."""
    jsonl_path = Path(jsonl_path)
    header, records, end = read_stream_end(jsonl_path)
    if header is None:
        raise InputError(f"Results stream '{jsonl_path}' has no run header (line 1); it cannot be rebuilt into a results.json.")
    if end is not None:
        complete: dict[str, Any] = {**end, **header, "rebuilt_from": STREAM_NAME, "records": records}
        complete["fingerprint"] = {"files": {}, **(complete.get("fingerprint") or {})}
        return complete
    if interrupted is None:
        interrupted = not (jsonl_path.parent / "results.json").exists()
    results: dict[str, Any] = {**header, "interrupted": interrupted, "rebuilt_from": STREAM_NAME, "models": [], "records": records}
    results["fingerprint"] = {"files": {}, **(results.get("fingerprint") or {})}
    gates = [_gate(g, f"Results stream '{jsonl_path}', header gates[{i}]") for i, g in enumerate(header.get("gates") or [])]
    return finalize(results, gates, policy=None)


def _gate(data: dict[str, Any], where: str) -> Gate:
    """A Gate from its dict in a header (Gate.to_dict: every field, unset ones null), checked
    as a policy's gate is, so a malformed one is one line naming it."""
    return parse_gate({k: v for k, v in data.items() if k in GATE_KEYS and v is not None}, where)


def results_source(path: Path) -> Path:
    """The file `audit report PATH` reads: PATH itself, or in a run folder its results.json,
    else its results.jsonl (a run killed before it could write results.json)."""
    path = Path(path)
    if not path.is_dir():
        return path
    for name in ("results.json", STREAM_NAME):
        if (path / name).is_file():
            return path / name
    raise InputError(f"Run folder '{path}' holds neither results.json nor {STREAM_NAME}.")


def load_for_report(path: Path) -> tuple[dict[str, Any], Path, bool]:
    """What `audit report PATH` renders, the run folder it writes to, and whether it was rebuilt
    from results.jsonl (the caller then writes results.json). PATH is a results.json, a
    results.jsonl, or a run folder (its results.json, else its results.jsonl). A stream is not
    rebuilt over a results.json beside it: that one is the source of truth. A complete stream
    rebuilds as the run was judged; one cut short, marked interrupted (exit 4)."""
    source = results_source(path)
    if source.suffix != ".jsonl":
        return load_results(source, for_report=True), source.parent, False
    finished = source.parent / "results.json"
    if finished.exists():
        raise InputError(f"'{finished}' already exists and is complete: run `audit report` on it (or the run folder), not on '{source}'.")
    return rebuild_results(source, interrupted=True), source.parent, True


def restate_summary(results: dict[str, Any]) -> str | None:
    """Recompute a results.json's summary counts and exit code from its records (the counting of
    audit.gates.finalize and its exit_code), so the reports `audit report` renders again agree
    with each other and with the records however the file was edited. Returns None when the
    file's summary agrees; else puts the recomputed one in `results` and returns one line saying so."""
    rows = results["records"]
    summary = results.setdefault("summary", {})
    counts = status_counts(rows)
    fail_on = (results.get("config") or {}).get("fail_on", "error")
    code = exit_code(rows, bool(results.get("interrupted")), fail_on, expired_waivers=len(summary.get("expired_waivers") or []))
    if summary.get("output_error"):  # the run's outputs could not all be written: the run exited 4 (README, exit codes)
        code = EXIT_ERROR
    stated_counts = {s: c for s, c in (summary.get("counts") or {}).items() if c}
    if stated_counts == counts and summary.get("exit_code") == code:
        return None
    stated = f"exit code {summary.get('exit_code')}, counts {summary.get('counts')}"
    summary["counts"], summary["exit_code"] = counts, code
    return f"the summary of results.json ({stated}) disagrees with its records; rendered with the one they give (exit code {code}, counts {counts})"


__all__ = ["load_for_report", "rebuild_results", "restate_summary", "results_source"]
