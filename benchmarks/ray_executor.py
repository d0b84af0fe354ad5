"""Benchmark: `executor=ray` against `executor=local`, and Ray's overhead per (model, precision) unit.

1. Suites: `audit run suite=<fairness|quality> model=gan,vae,diffusion,transformer cache=off` as
   a user runs it (a fresh `audit` process each time, so the Ray runs include starting a local
   cluster), executor=local and executor=ray interleaved, median of the repeats and the ratio
   ray / local, in this one script run.
2. Overhead per unit: in one process with a warm local cluster, UNITS units to which the only
   check applies to none (the four models x fp32, bf16 with `fairness.tabular_utility`: each is
   loaded, nothing is sampled), run locally and on Ray; (ray - local) / UNITS is what a unit costs
   on Ray beyond its own work on this machine (both sides run the units' work; Ray runs two at once).
3. A paper projection of a 50-checkpoint sweep on N nodes from the measured per-unit costs.

    nice -n 5 .venv/bin/python benchmarks/ray_executor.py --repeats 3            # suites' default n
    nice -n 5 .venv/bin/python benchmarks/ray_executor.py --repeats 3 --n 256    # a smaller n

Results go to benchmarks/results/ray_executor.json. The persistent sample cache is off in every
run (`cache=off`), so no run reads samples an earlier one wrote.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
MODELS = "gan,vae,diffusion,transformer"
UNITS = 8
SWEEP = 50
NODES = (1, 2, 4, 8, 16)


def run_cli(suite: str, executor: str, out: Path, extra: list[str]) -> tuple[float, Path]:
    audit = Path(sys.executable).with_name("audit")
    words = [f"suite={suite}", f"model={MODELS}", f"out={out}", "cache=off", f"executor={executor}", *extra]
    started = time.perf_counter()
    proc = subprocess.run([str(audit), "run", *words], capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    report = next((l.removeprefix("Report: ") for l in proc.stdout.splitlines() if l.startswith("Report: ")), None)
    if report is None:
        raise SystemExit(f"audit run {' '.join(words)} failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
    return elapsed, Path(report).parent


def unit_seconds(run_dir: Path) -> dict[str, float]:
    """Sum of the check durations of each (model, precision) of a run (loading not included)."""
    records = json.loads((run_dir / "results.json").read_text())["records"]
    units: dict[str, float] = {}
    for r in records:
        key = f"{r['model']}/{r['precision']}"
        units[key] = round(units.get(key, 0.0) + (r.get("duration_s") or 0.0), 3)
    return units


def bench_suite(suite: str, repeats: int, extra: list[str], out: Path) -> dict:
    times: dict[str, list[float]] = {"local": [], "ray": []}
    last: dict[str, Path] = {}
    for _ in range(repeats):
        for executor in ("local", "ray"):
            elapsed, last[executor] = run_cli(suite, executor, out, extra)
            times[executor].append(round(elapsed, 2))
    local, ray = statistics.median(times["local"]), statistics.median(times["ray"])
    return {
        "command": f"audit run suite={suite} model={MODELS} cache=off {' '.join(extra)} executor=local|ray".replace("  ", " "),
        "seconds_local": times["local"], "seconds_ray": times["ray"],
        "median_local": local, "median_ray": ray, "ratio_ray_over_local": round(ray / local, 3),
        "unit_check_seconds_local": unit_seconds(last["local"]),
        "unit_check_seconds_ray": unit_seconds(last["ray"]),
    }


def bench_overhead(repeats: int, out: Path) -> dict:
    """Ray's cost per unit with a warm cluster: UNITS units (four models x fp32, bf16) whose only
    check applies to none of them (each is loaded, then gets its 'no applicable check' record),
    in one process, local and ray interleaved: (ray - local) / UNITS per repeat."""
    import ray

    import audit

    started = time.perf_counter()
    ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False, log_to_driver=False)
    cluster_start = time.perf_counter() - started
    keys = dict(models=MODELS.split(","), precision="fp32,bf16", check="fairness.tabular_utility", bootstrap=0, cache="off")
    timings: dict[str, list[float]] = {"local": [], "ray": []}
    try:
        for executor in ("local", "ray"):  # warm-up: this process and the workers import the models' code once
            audit.run("fairness", out=out, executor=executor, **keys)
        for _ in range(repeats):
            for executor in ("local", "ray"):
                t0 = time.perf_counter()
                run = audit.run("fairness", out=out, executor=executor, **keys)
                timings[executor].append(round(time.perf_counter() - t0, 3))
                assert len(run.records) == UNITS and {r["status"] for r in run.records} == {"skipped"}, run.records
    finally:
        ray.shutdown()
    per_unit = [round((r - l) / UNITS, 3) for l, r in zip(timings["local"], timings["ray"])]
    return {
        "units": UNITS, "what": "fairness.tabular_utility on gan,vae,diffusion,transformer x fp32,bf16: load + a skipped record",
        "cluster_start_seconds": round(cluster_start, 2), "seconds_local": timings["local"], "seconds_ray": timings["ray"],
        "overhead_per_unit_seconds": per_unit, "overhead_per_unit_median": round(statistics.median(per_unit), 3),
        "local_per_unit_median": round(statistics.median(timings["local"]) / UNITS, 3),
    }


def projection(record: dict, cpus_per_node: int) -> dict:
    """Wall time of SWEEP checkpoints (one unit each) on N nodes of `cpus_per_node` one-CPU task
    slots: ceil(SWEEP / (N x slots)) waves x (unit cost + overhead) + one cluster start. The unit
    cost is the slowest bundled model's checks as measured on Ray (a one-CPU task: torch on one
    thread, where a local run gives it every core), so the figures are upper-end."""
    overhead = record["overhead"]["overhead_per_unit_median"]
    start = record["overhead"]["cluster_start_seconds"]
    rows = {}
    for suite, data in record["suites"].items():
        unit = max(data["unit_check_seconds_ray"].values())
        serial = SWEEP * unit
        rows[suite] = {"unit_seconds": unit, "one_slot_serial_seconds": round(serial, 1), "nodes": {
            str(n): round(start + math.ceil(SWEEP / (n * cpus_per_node)) * (unit + overhead), 1) for n in NODES}}
    return {"checkpoints": SWEEP, "cpus_per_node": cpus_per_node, "by_suite": rows,
            "assumes": "units independent and equal in cost, one CPU each (one BLAS thread), no data transfer beyond the object store"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n", type=int, default=None, help="samples per model (default: each suite's own n)")
    parser.add_argument("--suites", default="fairness,quality")
    args = parser.parse_args()
    extra = [f"n={args.n}"] if args.n else []
    out = Path(tempfile.mkdtemp(prefix="audit-bench-ray-"))
    record: dict = {
        "benchmark": "executor=ray vs executor=local, and Ray's overhead per unit",
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} · {os.cpu_count()} cores · {platform.platform()} · python {sys.version.split()[0]}",
        "repeats": args.repeats, "n": args.n or "suite default", "suites": {},
    }
    for suite in args.suites.split(","):
        record["suites"][suite] = bench_suite(suite, args.repeats, extra, out)
        print(suite, json.dumps(record["suites"][suite]), flush=True)
    record["overhead"] = bench_overhead(args.repeats, out)
    record["projection"] = projection(record, os.cpu_count() or 1)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ray_executor.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
