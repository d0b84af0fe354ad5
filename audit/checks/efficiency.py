"""Efficiency of a model in its precision: latency percentiles, throughput, FLOPs, parameters,
weights size, peak memory, energy, scaling curves and, for language models, the memory
bandwidth batch-1 decoding achieves.

All timing checks read one timing session per (model, precision), made once per run
(`ctx.memo`): every workload of the model (the batch-size curve, the diffusion sampling-steps
curve, the language model's sequence-length curve) is warmed up and then timed in interleaved
rounds (audit.efficiency.timing), so each point of a curve saw the same machine load. Latency
is one request at batch 1: `sample(1)` for image models (a full sampling run for diffusion),
greedy decoding of 32 new tokens after a 16-token prompt for language models. Throughput is the
largest batch of the curve. CIs are percentile bootstraps over the timed calls (latency) or
bias-adjusted bootstraps over rounds (throughput, energy, scaling). Timings are measured under
whatever else runs on the machine; records carry the thread count and the raw medians. What the
timed calls return is checked (the warm-up call and the last timed call of each workload, outside
the clock: audit.efficiency.timing), so a model that returns nothing fast is an error, not a
throughput; tokens `generate` made are counted by the adapter's tokenizer where it declares one.

Default sizes keep `audit run suite=efficiency` at fp32 for the four bundled models to about
1-2 minutes on 2 cores; raise `rounds` for steadier numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audit.adapters.base import CAUSAL_LM, GENERATE, LOG_PROBS, SAMPLE, accepts, has_capability
from audit.checks.base import Measurement, check
from audit.context import CheckContext
from audit.efficiency.memory import bytes_read_per_token, peak_memory_of
from audit.efficiency.timing import (
    Workload, decode_workload, image_workload, interleaved, prefill_workload, quantile_ci, warm_up_overhead, workload_documents,
)
from audit.families import GENERATOR_FAMILIES, get_family
from audit.text_generation import token_count

MIB = 1024 * 1024

DIFFUSION_STEPS = (10, 25, 50)
DIFFUSION_STEPS_BATCH = 4
LM_BATCHES = (1, 2, 4, 8)
LM_NEW_TOKENS = 32
LM_SEQ_LENGTHS = (32, 64, 128, 256, 512, 1024)
LATENCY_REPEATS = 5
"""Timed batch-1 calls per round (latency percentiles need more calls than throughput)."""


@dataclass
class Session:
    """Timings of one (model, precision): workloads by name, seconds [rounds, repeats] by name."""

    workloads: dict[str, Workload]
    seconds: dict[str, np.ndarray]
    latency: str
    throughput: str
    curves: dict[str, list[str]]
    curve_axes: dict[str, tuple[str, str]]
    threads: int
    rounds: int
    unit: str
    energy_source: str
    metered_joules: dict[str, float] = field(default_factory=dict)
    """Joules a meter read per workload (RAPL on CPU, NVML on CUDA); empty for estimates."""
    first_call_s: dict[str, float] = field(default_factory=dict)
    """Seconds of each workload's first (warm-up) call: lazy initialisation and, for a compiled
    variant, torch.compile's compilation; never part of the timed rounds."""

    def median(self, name: str) -> float:
        return float(np.median(self.seconds[name]))

    def per_round(self, name: str) -> np.ndarray:
        """Median seconds per call in each round (repeats within a round collapsed)."""
        return np.median(self.seconds[name], axis=1)

    def rate(self, name: str) -> float:
        return self.workloads[name].items / self.median(name)


def _is_lm(adapter: Any) -> bool:
    return not has_capability(adapter, SAMPLE) and (has_capability(adapter, GENERATE) or has_capability(adapter, LOG_PROBS))


def _threads() -> int:
    import torch

    return int(torch.get_num_threads())


def _workload_threads(adapter: Any) -> int:
    """Threads a workload uses: the KV-cache decoder runs on one (audit.lm.decoding)."""
    if _is_lm(adapter) and has_capability(adapter, CAUSAL_LM):
        from audit.lm import DECODE_THREADS

        return DECODE_THREADS
    return _threads()


def session(ctx: CheckContext, rounds: int | None = None) -> Session:
    """The model's timing session, made once per run for these settings."""
    rounds = int(rounds or get_family(ctx.adapter.info.family).timing_rounds)
    return ctx.memo("efficiency.session", lambda: _run_session(ctx, rounds), rounds)


def _run_session(ctx: CheckContext, rounds: int) -> Session:
    from audit.efficiency.energy import MEASURED, meter_for

    adapter, seed = ctx.adapter, ctx.seed
    family = get_family(adapter.info.family)
    curves: dict[str, list[str]] = {}
    axes: dict[str, tuple[str, str]] = {}
    workloads: list[Workload] = []
    if has_capability(adapter, SAMPLE):
        unit = "images"
        for b in family.timing_batches:
            w = image_workload(adapter, b, seed)
            w.x = b
            workloads.append(w)
        curves["batch"] = [w.name for w in workloads]
        axes["batch"] = ("batch size", "images/s")

        if family.sampling_steps and accepts(adapter.sample, "steps"):
            steps = []
            for s in DIFFUSION_STEPS:
                w = image_workload(adapter, DIFFUSION_STEPS_BATCH, seed, steps=s)
                w.x = s
                steps.append(w)
            workloads += steps
            curves["steps"] = [w.name for w in steps]
            axes["steps"] = (f"sampling steps (batch {DIFFUSION_STEPS_BATCH})", "images/s")
    elif _is_lm(adapter):
        unit = "tokens"
        documents = workload_documents(ctx)
        for b in LM_BATCHES:
            w = decode_workload(adapter, b, LM_NEW_TOKENS, documents, seed, count_tokens=token_count)
            w.x = b
            workloads.append(w)
        curves["batch"] = [w.name for w in workloads]
        axes["batch"] = (f"batch size (greedy decoding, {LM_NEW_TOKENS} new tokens)", "tokens/s")
        if has_capability(adapter, CAUSAL_LM):
            prefill = []
            for length in (L for L in LM_SEQ_LENGTHS if L <= int(adapter.n_positions)):
                w = prefill_workload(adapter, length, documents)
                w.x = length
                prefill.append(w)
            workloads += prefill
            curves["sequence"] = [w.name for w in prefill]
            axes["sequence"] = ("sequence length (one forward pass, batch 1)", "tokens/s")
    else:
        raise ValueError(f"model '{ctx.model}' has neither sample nor generate/log_probs: nothing to time")
    latency = curves["batch"][0]
    throughput = curves["batch"][-1]
    meters = {w.name: meter_for(w.device) for w in workloads}
    first_calls: dict[str, float] = {}
    seconds = interleaved(workloads, rounds, warmup=1, repeats={latency: LATENCY_REPEATS}, meters=meters, first_calls=first_calls)
    source = next(iter(meters.values())).source
    return Session(
        {w.name: w for w in workloads}, seconds, latency, throughput, curves, axes, _workload_threads(adapter), rounds, unit, source,
        {k: m.joules for k, m in meters.items()} if source in MEASURED else {}, first_calls,
    )


def _timing_details(s: Session, name: str) -> dict[str, Any]:
    w = s.workloads[name]
    return {"workload": w.describe, "items_per_call": w.items, "items_checked": w.meta.get("items_checked"),
            "output_check": "the warm-up call's and the last timed call's outputs, outside the clock",
            "unit_of_work": w.unit, "rounds": s.rounds,
            "calls_timed": int(s.seconds[name].size), "threads": s.threads, "median_s": s.median(name),
            "first_call_s": s.first_call_s.get(name),
            "warm_up_overhead_s": warm_up_overhead(s.first_call_s[name], s.median(name)) if name in s.first_call_s else None,
            "timing": "warm-up call (timed apart: first_call_s; the part above the steady-state median is "
                      "warm_up_overhead_s, torch.compile's compilation where the variant is compiled), "
                      "then interleaved rounds across all of the model's workloads (order reversed every other round)"}



def _latency(ctx: CheckContext, q: float, rounds: int | None) -> Measurement:
    s = session(ctx, rounds)
    values = s.seconds[s.latency].ravel() * 1000.0
    value, low, high = quantile_ci(values, q, ctx.bootstrap, ctx.rng_seed(f"efficiency.latency_{q}"))
    details = _timing_details(s, s.latency)
    details.update({
        "percentiles_ms": {f"p{int(p * 100)}": float(np.quantile(values, p)) for p in (0.5, 0.95, 0.99)},
        "ms_per_item": value / s.workloads[s.latency].items,
        "ci": "percentile bootstrap over the timed calls",
    })
    if len(values) < 100 and q >= 0.99:
        details["note"] = f"p99 of {len(values)} calls is close to their maximum; raise rounds for a steadier tail"
    return Measurement(value, low, high, n=len(values), details=details)


@check("efficiency.latency_p50", families=GENERATOR_FAMILIES, higher_is_better=False, unit="ms")
def latency_p50(ctx: CheckContext, rounds: int | None = None) -> Measurement:
    """Median latency of one batch-1 request (a sample; 32 decoded tokens for LMs), interleaved timing."""
    return _latency(ctx, 0.5, rounds)


@check("efficiency.latency_p95", families=GENERATOR_FAMILIES, higher_is_better=False, unit="ms")
def latency_p95(ctx: CheckContext, rounds: int | None = None) -> Measurement:
    """95th-percentile latency of one batch-1 request, interleaved timing (bootstrap CI)."""
    return _latency(ctx, 0.95, rounds)


@check("efficiency.latency_p99", families=GENERATOR_FAMILIES, higher_is_better=False, unit="ms")
def latency_p99(ctx: CheckContext, rounds: int | None = None) -> Measurement:
    """99th-percentile latency of one batch-1 request, interleaved timing (bootstrap CI)."""
    return _latency(ctx, 0.99, rounds)


def _rate_ci(ctx: CheckContext, s: Session, name: str, salt: str) -> tuple[float, float, float]:
    from audit.stats import bootstrap_ci

    items = s.workloads[name].items
    per_round = s.per_round(name)

    def statistic(t: np.ndarray) -> float:
        return float(items / np.median(t))

    low, high = bootstrap_ci(statistic, [per_round], ctx.bootstrap, ctx.rng_seed(salt))
    return statistic(per_round), low, high


@check("efficiency.throughput", families=GENERATOR_FAMILIES, higher_is_better=True, unit="samples/s")
def throughput(ctx: CheckContext, rounds: int | None = None) -> Measurement:
    """Images/s (image models) or generated tokens/s (LMs) at the largest batch of the scaling curve."""
    s = session(ctx, rounds)
    value, low, high = _rate_ci(ctx, s, s.throughput, "efficiency.throughput")
    details = _timing_details(s, s.throughput)
    details.update({"sample": s.unit[:-1], "unit_detail": f"{s.unit}/s", "batch_1_rate": s.rate(s.latency),
                    "ci": "bootstrap over rounds of the median time per call"})
    return Measurement(value, low, high, n=s.rounds, details=details)


@check("efficiency.scaling", families=GENERATOR_FAMILIES, higher_is_better=True, unit="ratio")
def scaling(ctx: CheckContext, rounds: int | None = None) -> Measurement:
    """Throughput gain from batch 1 to the largest batch; curves: batch size, steps (diffusion), sequence length (LMs)."""
    from audit.stats import bootstrap_ci

    s = session(ctx, rounds)
    charts = []
    for curve, names in s.curves.items():
        points = []
        for name in names:
            rate, low, high = _rate_ci(ctx, s, name, f"efficiency.scaling.{name}")
            points.append({"x": float(s.workloads[name].x), "value": rate, "ci_low": low, "ci_high": high})
        x_label, y_label = s.curve_axes[curve]
        charts.append({"title": f"{ctx.model} ({ctx.precision}): {y_label} vs {x_label.split(' (')[0]}", "x_label": x_label,
                       "y_label": y_label, "log_x": True, "series": {f"{ctx.model}/{ctx.precision}": points}})
    big, small = s.throughput, s.latency
    pairs = np.stack([s.per_round(big), s.per_round(small)], axis=1)
    k = s.workloads[big].items / s.workloads[small].items

    def gain(rows: np.ndarray) -> float:
        return float(np.median(rows[:, 1]) * k / np.median(rows[:, 0]))

    low, high = bootstrap_ci(gain, [pairs], ctx.bootstrap, ctx.rng_seed("efficiency.scaling"))
    return Measurement(gain(pairs), low, high, n=s.rounds, details={
        "definition": f"{s.unit}/s at batch {s.workloads[big].x:g} divided by {s.unit}/s at batch 1",
        "charts": charts, "threads": s.threads, "ci": "paired bootstrap over rounds",
        "curves": {c: {s.workloads[n].x: s.rate(n) for n in names} for c, names in s.curves.items()},
    })


@check("efficiency.flops", families=GENERATOR_FAMILIES, higher_is_better=False, unit="FLOPs/sample")
def flops(ctx: CheckContext, batch: int = 4) -> Measurement:
    """FLOPs per image (a whole sampling run for diffusion) or per generated token, by torch's FlopCounterMode."""
    from audit.efficiency.flops import count_flops
    from audit.precision import get_precision

    quantized = get_precision(ctx.precision).quantized
    adapter = ctx.fp32_adapter() if quantized else ctx.adapter
    if has_capability(adapter, SAMPLE):
        w = image_workload(adapter, batch, ctx.seed)
    elif _is_lm(adapter):
        w = decode_workload(adapter, 1, LM_NEW_TOKENS, workload_documents(ctx), ctx.seed, count_tokens=token_count)
    else:
        raise ValueError(f"model '{ctx.model}' has neither sample nor generate")
    outputs: list[Any] = []
    total, by_op = count_flops(lambda: outputs.append(w.fn()))
    w.items = w.checked(outputs.pop(), "FLOP-counted")  # FLOPs per unit of what the call made, never of nothing
    details = {"workload": w.describe, "total_flops": total, "by_op": by_op, "per": w.unit[:-1],
               "counter": "torch.utils.flop_counter.FlopCounterMode (matmul, conv, attention; 2 FLOPs per multiply-add)"}
    if quantized:
        details["note"] = "counted on the float32 model: FlopCounterMode does not see quantized kernels; the variant does the same arithmetic in integers"
    if w.unit == "tokens":
        details["context"] = "decode steps after a 16-token prompt (KV cache), prompt prefill included"
    return Measurement(total / w.items, n=w.items, details=details)


def counted_params(adapter: Any, model: str) -> int:
    """Parameters of the networks `adapter.modules()` returns, each parameter once however many
    modules hold it (tied or shared weights); ModelOutputError where an entry is not a Module."""
    import torch

    from audit.errors import ModelOutputError

    seen: dict[int, int] = {}
    for role, module in dict(adapter.modules() or {}).items():
        if not isinstance(module, torch.nn.Module):
            raise ModelOutputError(f"model '{model}' modules()[{role!r}] is {type(module).__name__}, expected a torch.nn.Module")
        for p in module.parameters():
            seen.setdefault(id(p), p.numel())
    return sum(seen.values())


@check("efficiency.params", families=GENERATOR_FAMILIES, higher_is_better=None, unit="parameters")
def params(ctx: CheckContext) -> Measurement:
    """Parameter count of the model's networks (the float model's, whatever the precision), counted from modules()."""
    from audit.precision import get_precision

    quantized = get_precision(ctx.precision).quantized
    count = counted_params(ctx.fp32_adapter() if quantized else ctx.adapter, ctx.model)
    details: dict[str, Any] = {"source": "unique parameters of modules()"
                               + (" of the float32 model (a quantized layer holds packed weights, not parameters)" if quantized else "")}
    declared = getattr(ctx.adapter.info, "params", None)
    if declared:
        details["declared_params"] = int(declared)
        if int(declared) != count:
            details["note"] = (f"the model declares ModelInfo.params={int(declared):,} but its modules() hold {count:,} parameters: "
                               "the value is the counted one")
    summary = getattr(ctx.adapter, "quantization", None)
    if summary is not None:
        details.update(quantized_params=summary.quantized_params, quantized_share=summary.quantized_share)
    return Measurement(float(count), details=details)


@check("efficiency.weights_mib", families=GENERATOR_FAMILIES, higher_is_better=False, unit="MiB")
def weights_mib(ctx: CheckContext) -> Measurement:
    """Bytes of the model's weights as held in this precision (int8 packed, tied weights once), in MiB."""
    from audit.precision import weights_bytes

    size = weights_bytes(ctx.adapter)
    details: dict[str, Any] = {"bytes": size, "counted": "parameters, buffers, graph constants and packed int8 weights, each storage once"}
    summary = getattr(ctx.adapter, "quantization", None)
    if summary is not None:
        details["quantization"] = summary.to_dict()
    return Measurement(size / MIB, details=details)


@check("efficiency.peak_memory_mib", families=GENERATOR_FAMILIES, higher_is_better=False, unit="MiB")
def peak_memory_mib(ctx: CheckContext) -> Measurement:
    """Peak memory to hold the model and run one batch, measured in an isolated process (CPU) or by the CUDA allocator."""
    probe = peak_memory_of(ctx, ctx.model, ctx.precision)
    details = {k: v for k, v in probe.items() if k not in ("checksum",)}
    details.update({"load_peak_mib": probe["load_peak"] / MIB, "definition": (
        "high-water resident memory while the loaded model runs one batch, above the process's baseline after "
        "importing its libraries (audit.efficiency.memory); load_peak_mib: the same while loading")})
    return Measurement(probe["run_peak"] / MIB, details=details)


@check("efficiency.energy_per_1k", families=GENERATOR_FAMILIES, higher_is_better=False, unit="J per 1,000 samples")
def energy_per_1k(ctx: CheckContext, rounds: int | None = None) -> Measurement:
    """Energy per 1,000 images or generated tokens at the throughput batch: RAPL (CPU) or NVML (CUDA) where readable, else a labelled estimate."""
    from audit.efficiency.energy import MEASURED, describe, estimate_source, estimated_watts
    from audit.stats import bootstrap_ci

    s = session(ctx, rounds)
    name = s.throughput
    items = s.workloads[name].items
    per_round = s.per_round(name)
    source = s.energy_source
    if source in MEASURED and s.metered_joules.get(name):
        joules_per_second = s.metered_joules[name] / float(s.seconds[name].sum())
    else:  # no meter, or it read nothing over these calls: a labelled estimate
        source = estimate_source(source)
        joules_per_second = estimated_watts(source, s.threads)

    def statistic(t: np.ndarray) -> float:
        return float(np.median(t) * joules_per_second / items * 1000.0)

    low, high = bootstrap_ci(statistic, [per_round], ctx.bootstrap, ctx.rng_seed("efficiency.energy"))
    return Measurement(statistic(per_round), low, high, n=s.rounds, details={
        "source": source, "method": describe(source, s.threads), "sample": s.unit[:-1],
        "watts": joules_per_second, "workload": s.workloads[name].describe,
        "ci": "bootstrap over rounds of the time per call (the power figure is held fixed)",
    })


@check("efficiency.decode_bandwidth", families=("transformer",), higher_is_better=True, unit="fraction")
def decode_bandwidth(ctx: CheckContext, rounds: int | None = None, copy_mib: int = 512) -> Measurement:
    """Memory bandwidth batch-1 decoding achieves (weight bytes read per token x tokens/s) as a share of a measured large copy."""
    from audit.efficiency.memory import machine_bandwidth
    from audit.efficiency.timing import adapter_device
    from audit.stats import bootstrap_ci

    s = session(ctx, rounds)
    if not s.curves.get("batch"):
        raise ValueError("no decoding workload")
    name = s.latency
    per_round = s.per_round(name)
    items = s.workloads[name].items
    read = bytes_read_per_token(ctx.adapter)
    device = adapter_device(ctx.adapter)
    machine = ctx.store.memo("efficiency.copy_bandwidth", (copy_mib, s.threads, device), lambda: machine_bandwidth(device, copy_mib, s.threads))
    peak = machine["bytes_per_s"]

    def fraction(t: np.ndarray) -> float:
        return float(read * items / np.median(t) / peak)

    low, high = bootstrap_ci(fraction, [per_round], ctx.bootstrap, ctx.rng_seed("efficiency.decode_bandwidth"))
    value = fraction(per_round)
    return Measurement(value, low, high, n=s.rounds, details={
        "bytes_read_per_token": read, "tokens_per_s": items / float(np.median(per_round)),
        "achieved_gb_per_s": value * peak / 1e9, "machine_gb_per_s": peak / 1e9, "machine_probe": machine,
        "definition": ("weights read once per decoding step (every Linear/quantized layer, the output layer over the whole vocabulary, "
                       "norms; position and token embeddings one row) x tokens/s at batch 1, over the bytes/s (read + write) of a "
                       + (f"{machine['mib']} MiB device-to-device copy on the GPU (CUDA events)" if device.startswith("cuda")
                          else f"{copy_mib} MiB tensor copy with the decoder's thread count ({s.threads})")),
        "note": "a model whose weights fit in the CPU caches can exceed 1 (it is not reading from DRAM)",
    })
