"""Benchmark: several suites in one run with the sample cache, against today's separate runs.

Three ways to get the same records, each a fresh `audit` process timed from outside, in one script
on the same machine state:

1. separate: one `audit run suite=<s> cache=off` per suite (what a user did before: every suite
   samples and featurizes again);
2. cold: one `audit run suite=<s1>,<s2>,...` with an empty sample cache (one run, one sample store;
   it fills the cache);
3. warm: the same command again (samples and features read from the cache).

It also checks that the three give the same measurements (status, value, CI, n, groups, gates:
what a gate reads), so a speed-up never hides a changed number, and lists the records whose
details differ (wall-clock timings there differ between any two runs). Run:

    .venv/bin/python benchmarks/sample_cache.py quality,fairness,privacy gan,vae,diffusion,transformer

Results go to benchmarks/results/sample_cache_<suites joined by _>.json (`release` for every
default suite).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from audit.suite import SUITE_GROUPS

RESULTS = Path(__file__).parent / "results"


def run(words: list[str], env: dict[str, str]) -> tuple[float, int, dict]:
    audit = Path(sys.executable).with_name("audit")
    started = time.perf_counter()
    proc = subprocess.run([str(audit), "run", *words], capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    report = next((line.removeprefix("Report: ") for line in proc.stdout.splitlines() if line.startswith("Report: ")), None)
    if report is None:
        raise SystemExit(f"audit run {' '.join(words)} failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
    return round(elapsed, 2), proc.returncode, json.loads((Path(report).parent / "results.json").read_text())


def comparable(records: list[dict]) -> dict[tuple[str, str, str], dict]:
    """Records by (model, precision, check) without their timing and cache provenance."""
    out = {}
    for record in records:
        record = {k: v for k, v in record.items() if k != "duration_s"}
        record["details"] = {k: v for k, v in (record.get("details") or {}).items() if k != "cache"}
        out[(record["model"], record["precision"], record["check"])] = record
    return out


MEASUREMENT = ("status", "value", "ci_low", "ci_high", "n", "by_group", "gates", "reason", "params", "unit")
"""What a gate and a report read of a record; `details` also carries wall-clock timings (seconds per
image, generation seconds, tokens/s) that differ between any two runs, so it is compared apart."""


def measurements(records: dict[tuple[str, str, str], dict]) -> dict[tuple[str, str, str], dict]:
    return {key: {k: r.get(k) for k in MEASUREMENT} for key, r in records.items()}


def differing(a: dict, b: dict) -> list[str]:
    return sorted(" ".join(k) for k in a.keys() | b.keys() if a.get(k) != b.get(k))


def cache_statuses(records: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in records:
        for origin in (record.get("details") or {}).get("cache", {}).values():
            counts[origin["status"]] = counts.get(origin["status"], 0) + 1
    return counts


def main() -> None:
    suites = (sys.argv[1] if len(sys.argv) > 1 else "quality,fairness,privacy").split(",")
    members = [member for name in suites for member in SUITE_GROUPS.get(name, (name,))]
    models = sys.argv[2] if len(sys.argv) > 2 else "gan,vae,diffusion,transformer"
    extra = sys.argv[3:]
    work = Path(tempfile.mkdtemp(prefix="audit-cache-bench-"))
    env = {**os.environ, "AUDIT_CACHE_DIR": str(work / "cache")}
    common = [f"model={models}", f"out={work / 'runs'}", *extra]

    separate: dict[str, float] = {}
    separate_records: dict = {}
    for suite in members:
        elapsed, _, results = run([f"suite={suite}", "cache=off", *common], env)
        separate[suite] = elapsed
        separate_records.update(comparable(results["records"]))
    together = [f"suite={','.join(suites)}", *common]
    cold_s, cold_code, cold = run(together, env)
    warm_s, warm_code, warm = run(together, env)

    cold_records, warm_records = comparable(cold["records"]), comparable(warm["records"])
    record = {
        "benchmark": f"suites {','.join(members)} on {models}: separate runs vs one run with a cold and a warm sample cache",
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} · {os.cpu_count()} cores · {platform.platform()} · python {sys.version.split()[0]}",
        "extra_words": extra,
        "separate_seconds": separate, "separate_seconds_total": round(sum(separate.values()), 2),
        "together_cold_seconds": cold_s, "together_warm_seconds": warm_s,
        "ratio_cold_to_separate": round(cold_s / sum(separate.values()), 3),
        "ratio_warm_to_separate": round(warm_s / sum(separate.values()), 3),
        "exit_codes": {"cold": cold_code, "warm": warm_code},
        "records": len(cold_records),
        "measurements_warm_equal_cold": measurements(warm_records) == measurements(cold_records),
        "measurements_together_equal_separate": measurements(cold_records) == measurements(separate_records),
        "measurements_differing_warm_vs_cold": differing(measurements(warm_records), measurements(cold_records)),
        "measurements_differing_together_vs_separate": differing(measurements(cold_records), measurements(separate_records)),
        "details_differing_warm_vs_cold": differing(warm_records, cold_records),
        "details_differing_together_vs_separate": differing(cold_records, separate_records),
        "cache_reads_cold": cache_statuses(cold["records"]), "cache_reads_warm": cache_statuses(warm["records"]),
        "cache_bytes": sum(p.stat().st_size for p in (work / "cache").glob("*.npz")),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"sample_cache_{'_'.join(suites)}.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
