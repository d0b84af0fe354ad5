"""Benchmark: wall time of a whole `audit run suite=<name>` on the bundled models, as a user runs it.

Each repeat is a fresh `audit` process (imports, model loading, sampling, every check, reports),
timed from outside; the recorded figure is the median. Run:

    .venv/bin/python benchmarks/suite_wall_time.py quality 3     # suite, repeats
    .venv/bin/python benchmarks/suite_wall_time.py fairness 3

Results go to benchmarks/results/suite_<name>.json, with the machine and the per-check durations
of the last run (from its results.json), so a slow check is easy to spot.

With `AUDIT_BASELINE=<another audit executable>` (e.g. the `.venv/bin/audit` of a clone at an
older commit) each repeat runs the baseline and then this tree, interleaved, and the JSON adds
the baseline's times and the ratio of the medians (this tree / baseline), measured in the same
script on the same machine state.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
GOALS_S = {"quality": 180.0, "fairness": 60.0}


def run_once(suite: str, out: Path, extra: list[str], audit: Path | None = None) -> tuple[float, int, Path]:
    audit = audit or Path(sys.executable).with_name("audit")
    started = time.perf_counter()
    proc = subprocess.run([str(audit), "run", f"suite={suite}", f"out={out}", *extra], capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    report = next((l.removeprefix("Report: ") for l in proc.stdout.splitlines() if l.startswith("Report: ")), None)
    if report is None:
        raise SystemExit(f"audit run failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
    return elapsed, proc.returncode, Path(report).parent


def main() -> None:
    suite = sys.argv[1] if len(sys.argv) > 1 else "quality"
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    extra = sys.argv[3:]
    out = Path(tempfile.mkdtemp(prefix="audit-bench-"))
    baseline = Path(os.environ["AUDIT_BASELINE"]) if os.environ.get("AUDIT_BASELINE") else None
    times, codes, last, baseline_times = [], [], None, []
    for _ in range(repeats):
        if baseline is not None:
            elapsed, _code, _dir = run_once(suite, out, extra, baseline)
            baseline_times.append(round(elapsed, 2))
        elapsed, code, last = run_once(suite, out, extra)
        times.append(round(elapsed, 2))
        codes.append(code)
    results = json.loads((last / "results.json").read_text())
    per_check: dict[str, float] = {}
    for rec in results["records"]:
        key = f"{rec['model']}/{rec['precision']} {rec['check']}"
        per_check[key] = rec.get("duration_s") or 0.0
    record = {
        "benchmark": f"wall time of `audit run suite={suite} {' '.join(extra)}`".strip(),
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} · {os.cpu_count()} cores · {platform.platform()} · python {sys.version.split()[0]}",
        "torch_threads_env": os.environ.get("OMP_NUM_THREADS"),
        "repeats": repeats, "seconds_all": times, "seconds_median": statistics.median(times),
        "goal_seconds": GOALS_S.get(suite), "exit_codes": codes,
        "models": sorted({f"{r['model']}/{r['precision']}" for r in results["records"]}),
        "n": results["config"]["n"], "bootstrap": results["config"]["bootstrap"],
        "check_seconds_last_run": dict(sorted(per_check.items(), key=lambda kv: -kv[1])),
    }
    if baseline is not None:
        record["baseline"] = {"audit": str(baseline), "seconds_all": baseline_times, "seconds_median": statistics.median(baseline_times),
                              "ratio_of_medians": round(record["seconds_median"] / statistics.median(baseline_times), 3)}
    goal = GOALS_S.get(suite)
    record["goal_met"] = None if goal is None else record["seconds_median"] <= goal
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"suite_{suite}.json").write_text(json.dumps(record, indent=2) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    print(json.dumps({k: record.get(k) for k in ("seconds_all", "seconds_median", "goal_seconds", "goal_met", "exit_codes", "baseline")}))


if __name__ == "__main__":
    main()
