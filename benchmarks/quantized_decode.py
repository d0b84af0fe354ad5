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


def main() -> None:
    import torch

    from audit.adapters.loading import load_model
    from audit.reference_data import Sources
    from audit.efficiency.memory import bytes_read_per_token, copy_bandwidth
    from audit.efficiency.timing import decode_workload, interleaved, ratio_of_medians_ci
    from audit.lm import DECODE_THREADS
    from audit.precision import weights_bytes

    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
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
                    "torchao": _version("torchao")},
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    for name, row in rows.items():
        print(f"{name:<48} {row['tokens_per_s_median']:7.1f} tok/s  x{row['speedup_vs_fp32']:.2f} "
              f"[{row['speedup_ci95'][0]:.2f}, {row['speedup_ci95'][1]:.2f}]  {row['weights_bytes'] / 2**20:7.1f} MiB  "
              f"{row['achieved_gb_per_s']:.1f} GB/s ({row['bandwidth_fraction']:.0%})")
    print(f"machine copy bandwidth: {result['bandwidth_reference']}; goal met: {result['goal_met']} -> {OUT}")


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


if __name__ == "__main__":
    main()
