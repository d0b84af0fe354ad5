"""Benchmark: batch-1 greedy decoding of `transformer-scaled` (GPT-2 small shape, 89M parameters,
random weights) in each precision variant against fp32, and the memory bandwidth it achieves.

Goal (issue 6): int8 at least 2x fp32 tokens/s on this CPU. Every variant decodes the same 32
new tokens after the same 16-token prompt (EOS ignored, one thread as the bundled decoder runs),
in interleaved rounds (fp32, int8, ... then the reverse order), after a warm-up call each; the
recorded figures are medians over rounds, the speedup a ratio of medians with a paired bootstrap
CI over rounds. Beside audit's variants the script times the torchao alternatives it rejected
(torchao 0.18 `Int8DynamicActivationInt8WeightConfig` and `Int8WeightOnlyConfig` on the same
Conv1D->Linear model, output layer excluded), and one 768x3072 Linear at batch 1 with each kernel,
so the choices in audit/precision.py can be re-checked on any machine.

Achieved bandwidth = weight bytes one decoding step reads (audit.checks.efficiency.
bytes_read_per_token) x tokens/s, over the bytes/s (read + write) of a 512 MiB tensor copy with
the same thread count (best of 5), measured in this process. Run:

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/quantized_decode.py [rounds]   # default 7

Results: benchmarks/results/quantized_decode.json.

On a GPU (`--device cuda`, what benchmarks/gpu_check.py runs): fp32, fp16, bf16 and the torchao
CUDA variants of audit/precision.py (int8, int8wo, int4wo; fp8 where the GPU has compute
capability 8.9+, else recorded as skipped with the reason), each eager and, for the variants
named by `--compile` (default fp16,int4wo: the pair the GPU goal compares), also compiled with
torch.compile (inductor, default mode). The first call of each variant is timed on its own
(for a compiled variant it holds the compilation: `first_call_s` minus the steady median is
reported as `compile_s`), then all are timed in interleaved rounds with CUDA events. Bandwidth is
a share of the GPU's device-to-device copy bandwidth (1 GiB, best of 10). Goals (issue 20):
int4wo at least 2.5x fp16 tokens/s at batch 1 and at least 50% of the copy bandwidth. Results:
`--out` (default benchmarks/results/quantized_decode_cuda.json).
"""

from __future__ import annotations

import copy
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

OUT = Path(__file__).parent / "results" / "quantized_decode.json"
MODEL = "transformer-scaled"
VARIANTS = ("fp32", "int8", "int8wo", "int4wo", "bf16")
NEW_TOKENS, PROMPT_TOKENS = 32, 16
BOOTSTRAP = 2000


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def cpu_flags() -> list[str]:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("flags"):
                return sorted(f for f in line.split(":", 1)[1].split() if f.startswith(("avx512_bf16", "avx512_vnni", "avx512f", "avx2", "amx")))
    except OSError:
        pass
    return []


def torchao_variant(reference: Any, config_name: str) -> Any:
    """A copy of the fp32 adapter with torchao's config applied to every Linear but the tied head."""
    import torch
    from torchao import quantization as tq

    from audit.precision import conv1d_to_linear

    adapter = copy.deepcopy(reference)
    conv1d_to_linear(adapter.model)
    config = getattr(tq, config_name)()
    tq.quantize_(adapter.model, config, filter_fn=lambda m, fqn: isinstance(m, torch.nn.Linear) and not fqn.endswith("lm_head"))
    adapter.info.precision = f"torchao:{config_name}"
    return adapter


def linear_kernels(repeats: int = 200) -> dict[str, float]:
    """Microseconds per call of one 768x3072 Linear at batch 1 with each kernel considered."""
    import torch
    import torch.ao.quantization as aq

    from audit.precision import weight_only_types

    torch.manual_seed(0)
    linear = torch.nn.Linear(768, 3072).eval()
    x = torch.randn(1, 768)
    int8_type, int4_type = weight_only_types()
    w8, w4 = int8_type(linear), int4_type(linear, 128)
    scale = linear.weight.abs().amax(1) / 127
    q = torch.round(linear.weight / scale[:, None]).to(torch.int8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dynamic = aq.quantize_dynamic(torch.nn.Sequential(copy.deepcopy(linear)), {"0": aq.per_channel_dynamic_qconfig}, dtype=torch.qint8)
    candidates = {
        "fp32 F.linear": lambda: linear(x),
        "int8 dynamic, torch.ao quantize_dynamic": lambda: dynamic(x),
        "int8 weight-only, _weight_int8pack_mm, fp32 activations": lambda: torch._weight_int8pack_mm(x, q, scale),
        "int8 weight-only, _weight_int8pack_mm, bf16 activations (audit int8wo)": lambda: w8(x),
        "int4 weight-only, _weight_int4pack_mm_for_cpu, bf16 activations (audit int4wo)": lambda: w4(x),
        "int4 weight-only, _weight_int4pack_mm_for_cpu, fp32 activations": lambda: torch._weight_int4pack_mm_for_cpu(x, w4.packed, 128, w4.scales_zeros.float()),
    }
    try:
        from torchao.quantization import Int8DynamicActivationInt8WeightConfig, Int8WeightOnlyConfig, quantize_

        for label, config in (("int8 dynamic, torchao Int8DynamicActivationInt8WeightConfig", Int8DynamicActivationInt8WeightConfig()),
                              ("int8 weight-only, torchao Int8WeightOnlyConfig", Int8WeightOnlyConfig())):
            holder = torch.nn.Sequential(copy.deepcopy(linear))
            quantize_(holder, config)
            candidates[label] = (lambda h: lambda: h(x))(holder)
    except ImportError:
        pass
    out = {}
    with torch.no_grad():
        for label, fn in candidates.items():
            for _ in range(10):
                fn()
            started = time.perf_counter()
            for _ in range(repeats):
                fn()
            out[label] = (time.perf_counter() - started) / repeats * 1e6
    return out


CUDA_VARIANTS = ("fp32", "fp16", "bf16", "int8", "int8wo", "int4wo", "fp8")
CUDA_GOAL_SPEEDUP_VS_FP16 = 2.5
CUDA_GOAL_BANDWIDTH = 0.5


def parse_args(argv: list[str]) -> Any:
    import argparse

    parser = argparse.ArgumentParser(description="batch-1 decoding of transformer-scaled in each precision")
    parser.add_argument("rounds", nargs="?", type=int, default=7)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--model", default=MODEL, help="--device cuda only (the CPU benchmark decodes transformer-scaled)")
    parser.add_argument("--out", default=None, help="--device cuda only: result JSON (default results/quantized_decode_cuda.json)")
    parser.add_argument("--compile", default="fp16,int4wo", help="CUDA variants also timed compiled (comma-separated; '' for none)")
    parser.add_argument("--budget-s", type=float, default=None,
                        help="CUDA: a compiled variant whose first call (its compilation) would start after half of this is skipped")
    return parser.parse_args(argv)


def main_cuda(args: Any) -> dict[str, Any]:
    """The GPU benchmark (see the module docstring); returns and writes the result."""
    import torch

    from audit.adapters.loading import load_model
    from audit.devices import cuda_capability, cuda_memory, cuda_name
    from audit.efficiency.memory import bytes_read_per_token, cuda_copy_bandwidth
    from audit.efficiency.timing import decode_workload, interleaved, ratio_of_medians_ci, time_call
    from audit.precision import UnsupportedPrecision, weights_bytes
    from audit.fingerprint import package_version
    from audit.reference_data import Sources

    begun = time.perf_counter()
    documents = Sources().text_factory().documents
    compiled = [v for v in args.compile.split(",") if v]
    adapters: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    build_s: dict[str, float] = {}
    for name in CUDA_VARIANTS + tuple(f"{v}+compile" for v in compiled):
        base = name.split("+")[0]
        started = time.perf_counter()
        try:
            adapter = load_model(args.model, base, "cuda")
            if name.endswith("+compile"):
                adapter.model.compile()
        except UnsupportedPrecision as exc:
            skipped[name] = str(exc)
            continue
        except Exception as exc:  # a failing backend is a result to record, not the end of the benchmark
            skipped[name] = f"failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            continue
        torch.cuda.synchronize()
        build_s[name] = time.perf_counter() - started
        adapters[name] = adapter
    workloads, first_call_s = [], {}
    for name, adapter in list(adapters.items()):
        w = decode_workload(adapter, 1, NEW_TOKENS, documents, seed=0, prompt_tokens=PROMPT_TOKENS)
        w.name = name
        if name.endswith("+compile") and args.budget_s and time.perf_counter() - begun > args.budget_s / 2:
            skipped[name] = f"not compiled: half of the {args.budget_s:.0f} s time budget was spent before its compilation"
            del adapters[name]
            continue
        try:
            first_call_s[name] = time_call(w.fn, w.device)
        except Exception as exc:
            skipped[name] = f"failed on its first call: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            del adapters[name]
            continue
        workloads.append(w)
    started = time.perf_counter()
    times = interleaved(workloads, args.rounds, warmup=1)
    timing_s = time.perf_counter() - started
    machine = cuda_copy_bandwidth("cuda", 1024, 10)
    peak = machine["bytes_per_s"]
    rows = {}
    for name, adapter in adapters.items():
        t = times[name].ravel()
        tps = NEW_TOKENS / float(np.median(t))
        read = bytes_read_per_token(adapter)
        summary = getattr(adapter, "quantization", None)
        row = {
            "tokens_per_s_median": tps, "tokens_per_s_rounds": [NEW_TOKENS / float(x) for x in t],
            "weights_bytes": weights_bytes(adapter), "bytes_read_per_token": read,
            "achieved_gb_per_s": read * tps / 1e9, "bandwidth_fraction": read * tps / peak,
            "backend": summary.backend if summary else "cast", "compiled": name.endswith("+compile"),
            "quantized_layers": len(summary.quantized) if summary else None,
            "kept_float": summary.kept_float if summary else None,
            "build_s": build_s[name], "first_call_s": first_call_s[name],
            "compile_s": max(0.0, first_call_s[name] - float(np.median(t))) if name.endswith("+compile") else None,
        }
        for base in ("fp32", "fp16"):
            if base in times:
                speed, low, high = ratio_of_medians_ci(times[base], times[name], BOOTSTRAP, seed=0)
                row[f"speedup_vs_{base}"], row[f"speedup_vs_{base}_ci95"] = speed, [low, high]
        rows[name] = row
    goals = cuda_goals(rows)
    free, total = cuda_memory("cuda")
    result = {
        "benchmark": f"batch-1 greedy decoding of {args.model} on CUDA, precision variants vs fp32 and fp16",
        "model": {"name": args.model, "params": next(iter(adapters.values())).info.params if adapters else None},
        "workload": workloads[0].describe if workloads else None, "new_tokens": NEW_TOKENS, "prompt_tokens": PROMPT_TOKENS,
        "rounds": args.rounds, "timing_s": timing_s,
        "timing": "first call timed alone (compilation), one warm-up call, then interleaved rounds with CUDA events; medians over rounds",
        "variants": rows, "skipped": skipped, "machine_bandwidth": machine,
        "bandwidth_reference": f"{peak / 1e9:.0f} GB/s: read + write of a 1 GiB device-to-device copy, best of 10",
        "goals": goals,
        "gpu": {"name": cuda_name("cuda"), "capability": list(cuda_capability("cuda")), "memory_total": total, "memory_free": free},
        "machine": {"python": platform.python_version(), "torch": torch.__version__, "cuda": torch.version.cuda,
                    "torchao": package_version("torchao")},
    }
    out = Path(args.out) if args.out else OUT.with_name("quantized_decode_cuda.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    for name, row in rows.items():
        print(f"{name:<16} {row['tokens_per_s_median']:8.1f} tok/s  x{row.get('speedup_vs_fp16', float('nan')):.2f} vs fp16  "
              f"{row['weights_bytes'] / 2**20:7.1f} MiB  {row['achieved_gb_per_s']:.0f} GB/s ({row['bandwidth_fraction']:.0%})")
    for name, why in skipped.items():
        print(f"{name:<16} skipped: {why}")
    print(f"GPU copy bandwidth: {result['bandwidth_reference']}; goals: {goals} -> {out}")
    return result


def cuda_goals(rows: dict[str, Any]) -> list[dict[str, Any]]:
    """The GPU goals judged on the best int4wo row (eager or compiled) against the fp16 row of the
    same mode (compiled against compiled where both are)."""
    goals = []
    pairs = [(f"int4wo{m}", f"fp16{m}") for m in ("+compile", "") if f"int4wo{m}" in rows and f"fp16{m}" in rows]
    best = max(pairs, key=lambda p: rows[p[0]]["tokens_per_s_median"], default=None)
    speed = rows[best[0]]["tokens_per_s_median"] / rows[best[1]]["tokens_per_s_median"] if best else None
    goals.append({"goal": f"int4wo decode at batch 1 >= {CUDA_GOAL_SPEEDUP_VS_FP16}x fp16 tokens/s", "compared": list(best) if best else None,
                  "measured": speed, "met": None if speed is None else bool(speed >= CUDA_GOAL_SPEEDUP_VS_FP16)})
    fraction = rows[best[0]]["bandwidth_fraction"] if best else None
    goals.append({"goal": f"int4wo decode at batch 1 >= {CUDA_GOAL_BANDWIDTH:.0%} of the measured copy bandwidth", "variant": best[0] if best else None,
                  "measured": fraction, "met": None if fraction is None else bool(fraction >= CUDA_GOAL_BANDWIDTH)})
    return goals


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.device == "cuda":
        main_cuda(args)
        return
    main_cpu(args.rounds)


def main_cpu(rounds: int) -> None:
    import torch

    from audit.adapters.loading import load_model
    from audit.reference_data import Sources
    from audit.efficiency.memory import bytes_read_per_token, copy_bandwidth
    from audit.efficiency.timing import decode_workload, interleaved, ratio_of_medians_ci
    from audit.fingerprint import package_version
    from audit.lm import DECODE_THREADS
    from audit.precision import weights_bytes

    load_before = os.getloadavg()
    adapters: dict[str, Any] = {}
    build_s: dict[str, float] = {}
    for name in VARIANTS:
        started = time.perf_counter()
        adapters[name] = load_model(MODEL, name, "cpu")
        build_s[name] = time.perf_counter() - started
    alternatives = {}
    for config in ("Int8DynamicActivationInt8WeightConfig", "Int8WeightOnlyConfig"):
        try:
            alternatives[f"torchao:{config}"] = torchao_variant(adapters["fp32"], config)
        except Exception as exc:  # torchao missing or failing: record why
            alternatives[f"torchao:{config}"] = f"{type(exc).__name__}: {exc}"
    timed = {**adapters, **{k: v for k, v in alternatives.items() if not isinstance(v, str)}}
    workloads = []
    documents = Sources().text_factory().documents  # the held-out text a run without text= reads
    for name, adapter in timed.items():
        w = decode_workload(adapter, 1, NEW_TOKENS, documents, seed=0, prompt_tokens=PROMPT_TOKENS)
        w.name = name
        workloads.append(w)
    started = time.perf_counter()
    times = interleaved(workloads, rounds, warmup=1)
    timing_s = time.perf_counter() - started
    machine = {threads: copy_bandwidth(512, threads) for threads in sorted({DECODE_THREADS, torch.get_num_threads()})}
    peak = machine[DECODE_THREADS]["bytes_per_s"]
    rows = {}
    for name, adapter in timed.items():
        t = times[name].ravel()
        tps = NEW_TOKENS / float(np.median(t))
        speed, low, high = ratio_of_medians_ci(times["fp32"], times[name], BOOTSTRAP, seed=0)
        read = bytes_read_per_token(adapter)
        summary = getattr(adapter, "quantization", None)
        rows[name] = {
            "tokens_per_s_median": tps, "tokens_per_s_rounds": [NEW_TOKENS / float(x) for x in t],
            "speedup_vs_fp32": speed, "speedup_ci95": [low, high],
            "weights_bytes": weights_bytes(adapter), "bytes_read_per_token": read,
            "achieved_gb_per_s": read * tps / 1e9, "bandwidth_fraction": read * tps / peak,
            "backend": summary.backend if summary else ("cast" if name in VARIANTS else name),
            "quantized_layers": len(summary.quantized) if summary else None,
            "quantized_share_of_params": summary.quantized_share if summary else None,
            "build_s": build_s.get(name),
        }
    int8 = rows["int8"]
    result = {
        "benchmark": "batch-1 greedy decoding of transformer-scaled, precision variants vs fp32",
        "model": {"name": MODEL, "params": adapters["fp32"].info.params, "description": adapters["fp32"].info.description},
        "workload": workloads[0].describe, "new_tokens": NEW_TOKENS, "prompt_tokens": PROMPT_TOKENS,
        "rounds": rounds, "decode_threads": DECODE_THREADS, "timing_s": timing_s,
        "timing": "one warm-up call each, then rounds over all variants, order reversed every other round; medians over rounds",
        "variants": rows,
        "rejected_alternatives": {k: v for k, v in alternatives.items() if isinstance(v, str)},
        "linear_768x3072_batch1_us": linear_kernels(),
        "machine_bandwidth": {str(k): v for k, v in machine.items()},
        "bandwidth_reference": f"{machine[DECODE_THREADS]['bytes_per_s'] / 1e9:.1f} GB/s: read + write of a 512 MiB copy, {DECODE_THREADS} thread(s), best of 5",
        "goal": "int8 >= 2x fp32 tokens/s",
        "goal_met": bool(int8["speedup_vs_fp32"] >= 2.0),
        "goal_met_conservatively": bool(int8["speedup_ci95"][0] >= 2.0),
        "machine": {"cpu": cpu_name(), "flags": cpu_flags(), "cores": os.cpu_count(), "python": platform.python_version(),
                    "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
                    "load_average_before": load_before, "load_average_after": os.getloadavg(),
                    "torchao": package_version("torchao")},
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    for name, row in rows.items():
        print(f"{name:<48} {row['tokens_per_s_median']:7.1f} tok/s  x{row['speedup_vs_fp32']:.2f} "
              f"[{row['speedup_ci95'][0]:.2f}, {row['speedup_ci95'][1]:.2f}]  {row['weights_bytes'] / 2**20:7.1f} MiB  "
              f"{row['achieved_gb_per_s']:.1f} GB/s ({row['bandwidth_fraction']:.0%})")
    print(f"machine copy bandwidth: {result['bandwidth_reference']}; goal met: {result['goal_met']} -> {OUT}")


if __name__ == "__main__":
    main()
