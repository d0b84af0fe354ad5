"""Which runs `audit report A B ...` compares: run folders, results files, or folders of run folders.

A path is a run when it is a results.json, a results.jsonl or a folder holding one of them (read
as `audit report` reads one run: audit.rebuild.load_for_report). Any other folder is a collection,
e.g. a sweep of checkpoints or a nightly series: each sub-folder that is a run is one. Every
problem is one line (InputError, exit 2): a missing path, a file that is not a results file, a
folder with no run in it, the same run given twice, fewer than two runs in all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from audit.errors import InputError
from audit.results import STREAM_NAME

RESULTS_NAME = "results.json"
MIN_RUNS = 2


@dataclass(frozen=True)
class LoadedRun:
    """One run to compare: the path it was named by (as the user wrote it) and its results."""

    path: str
    source: Path
    results: dict[str, Any]


def is_run_folder(path: Path) -> bool:
    """A folder that holds one run's results.json or results.jsonl."""
    return path.is_dir() and any((path / name).is_file() for name in (RESULTS_NAME, STREAM_NAME))


def is_collection(path: Path) -> bool:
    """A folder that is not itself a run: `audit report FOLDER` then compares the runs inside it."""
    return path.is_dir() and not is_run_folder(path)


def _runs_inside(folder: Path) -> list[Path]:
    runs = sorted(child for child in folder.iterdir() if is_run_folder(child))
    if not runs:
        raise InputError(f"'{folder}' holds no run: neither {RESULTS_NAME} nor {STREAM_NAME}, nor run folders holding one.")
    return runs


def _load(path: Path, named: str) -> LoadedRun:
    from audit.rebuild import load_for_report, results_source

    if path.is_file() and path.suffix not in (".json", ".jsonl"):
        raise InputError(f"'{path}' is not a results file: give a run folder, its {RESULTS_NAME} or its {STREAM_NAME}.")
    data, _, _ = load_for_report(path)
    return LoadedRun(named, results_source(path).resolve(), data)


def load_runs(paths: Sequence[Path]) -> list[LoadedRun]:
    """Every run the paths name, in the order given (a collection's runs by folder name)."""
    runs: list[LoadedRun] = []
    for path in paths:
        if not path.exists():
            raise InputError(f"'{path}' does not exist: give run folders, results.json files, or a folder of run folders.")
        for run_path in _runs_inside(path) if is_collection(path) else [path]:
            runs.append(_load(run_path, str(run_path)))
    seen: dict[Path, str] = {}
    for run in runs:
        if run.source in seen:
            raise InputError(f"The same run is given twice: '{seen[run.source]}' and '{run.path}' ({run.source}).")
        seen[run.source] = run.path
    if len(runs) < MIN_RUNS:
        where = f"'{paths[0]}' holds one run" if len(paths) == 1 and is_collection(paths[0]) else "one run was given"
        raise InputError(f"A comparison needs at least {MIN_RUNS} runs; {where} ({runs[0].path}). "
                         "To re-render one run's report: audit report <run folder>.")
    return runs


__all__ = ["LoadedRun", "MIN_RUNS", "is_collection", "is_run_folder", "load_runs"]
