"""Peak memory of a model in an isolated process, and this machine's memory bandwidth.

CPU: a child Python process (`python -m audit.efficiency.memory`, the JSON spec on its stdin)
imports the libraries the model needs, records its resident set size (VmRSS), resets the kernel's high-water mark
(writing 5 to /proc/self/clear_refs; where that is refused it falls back on
getrusage(RUSAGE_SELF).ru_maxrss, which then also covers the imports), loads the model in the
asked precision, runs one batch, and reports the high-water mark (VmHWM) minus that baseline:
the memory the model needs to be loaded and run once, apart from the interpreter and its
libraries. A fresh process means nothing the parent already allocated (other models, cached
samples) is counted, and the parent's own peak is never disturbed. Quantized variants are built
from float32 weights, so their load peak includes the float model; `run_peak` (high-water mark
reset after loading and freed heap memory returned to the kernel with malloc_trim: the resident
model plus what the batch allocates) is the memory a deployment of the variant needs, and
`load_peak` is reported beside it.

CUDA: in-process `torch.cuda.max_memory_allocated` after `reset_peak_memory_stats`.

The batch's output is checked like a timed workload's (audit.efficiency.timing), after the
measurement: a model that allocates nothing because it returns nothing is a ModelOutputError (the
child reports it as such, and the parent raises it again), not a small peak.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from audit.context import CheckContext

MIB = 1024 * 1024
PROBE_TIMEOUT_S = 600


def _status_kib(field: str) -> int | None:
    try:
        text = open("/proc/self/status").read()
    except OSError:
        return None
    match = re.search(rf"^{field}:\s+(\d+)\s+kB", text, flags=re.M)
    return int(match.group(1)) if match else None


def rss_bytes() -> int | None:
    kib = _status_kib("VmRSS")
    return kib * 1024 if kib is not None else None


def reset_peak() -> bool:
    """Reset the process's RSS high-water mark (Linux >= 4.0); False where refused."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def peak_bytes() -> int:
    kib = _status_kib("VmHWM")
    if kib is not None:
        return kib * 1024
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024  # kB on Linux


def release_freed() -> None:
    """Return freed heap memory to the kernel (glibc malloc_trim), so the resident set after
    loading counts live memory, not the float weights a quantized variant was built from."""
    import gc

    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _preimport(spec: dict[str, Any]) -> None:
    """Import what loading the model will import (torch, the factory's module, the modules its
    adapter comes from, transformers for language models, the quantization libraries of the
    precision) so library code is part of the baseline, not of the model."""
    import torch  # noqa: F401

    import audit.precision  # noqa: F401

    word = (spec.get("source") or {}).get("target") or spec.get("model")
    if not word:
        return
    from audit.adapters.model_files import is_source_word
    from audit.registry import models, register_bundled_models

    register_bundled_models()
    target = models.entry(word).target if word in models else (word if ":" in word else None)
    if isinstance(target, str) and ":" in target and not is_source_word(target):  # an hf:/torchscript: word names no module
        __import__(target.split(":", 1)[0])
    for module in spec.get("modules", ()):
        try:
            __import__(module)
        except ImportError:
            pass
    precision = spec.get("precision")
    libraries = {"int8": ("torch.ao.quantization", "torch.ao.nn.quantized.dynamic"),
                 "int8static": ("torch.export", "torchao.quantization.pt2e.quantize_pt2e",
                                "torchao.quantization.pt2e.quantizer.x86_inductor_quantizer")}.get(precision, ())
    for library in libraries:
        try:
            __import__(library)
        except ImportError:
            pass
    if precision == "int8static":
        _warm_pt2e()
    from audit.families import get_family

    for module in get_family(spec.get("family")).baseline_imports:
        try:
            __import__(module)
        except ImportError:
            pass


def _warm_pt2e() -> None:
    """Export and quantize a one-layer net once, so the first-use state of torch.export, sympy and
    the PT2E passes (tens of MiB, whatever the model) is in the baseline, not in the model."""
    try:
        import torch
        from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
        from torchao.quantization.pt2e.quantizer.x86_inductor_quantizer import (
            X86InductorQuantizer,
            get_default_x86_inductor_quantization_config,
        )
    except ImportError:
        return
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(), torch.nn.Linear(8, 2)).eval()
    x = torch.randn(2, 1, 4, 4)
    quantizer = X86InductorQuantizer()
    quantizer.set_global(get_default_x86_inductor_quantization_config())
    exported = torch.export.export(net, (x,), dynamic_shapes=({0: torch.export.Dim.AUTO},))
    prepared = prepare_pt2e(exported.module(), quantizer)
    prepared(x)
    convert_pt2e(prepared)(x)


def child_main(spec: dict[str, Any]) -> dict[str, Any]:
    """Run in the child: measure one `spec` ({"kind": "allocate", "mib": N} or {"kind": "model",
    "model", "source"?, "precision", "device", "batch"?, "modules"?, "documents"?}) and return the
    numbers. `source`: what builds the model (`source_dict`; absent: `model` is the word);
    `modules`: where the model's adapter class lives, imported before the baseline (a factory
    module often imports its adapter only when called); `documents`: held-out text a language
    model's prompts are cut from."""
    if spec.get("kind") == "model":
        _preimport(spec)
    else:
        import numpy  # noqa: F401
    release_freed()
    baseline = rss_bytes() or 0
    method = "VmHWM after clear_refs" if reset_peak() else "ru_maxrss (high-water mark not resettable: includes imports)"
    started = time.perf_counter()
    out: dict[str, Any] = {"baseline_rss": baseline, "method": method}
    if spec.get("kind") == "allocate":
        import numpy as np

        block = np.ones(int(spec["mib"] * MIB) // 8)  # touched: every page resident
        out["checksum"] = float(block[:: 4096].sum())
        del block
        out["load_peak"] = peak_bytes() - baseline
        out["run_peak"] = out["load_peak"]
    elif spec.get("kind") == "model":
        import torch

        from audit.adapters.loading import load_model
        from audit.efficiency.timing import default_workload
        from audit.precision import weights_bytes

        torch.set_num_threads(int(spec.get("threads") or torch.get_num_threads()))
        adapter = load_model(rebuilt_spec(spec), spec.get("precision", "fp32"), spec.get("device", "cpu"))
        out["load_peak"] = peak_bytes() - baseline
        release_freed()
        out["model_rss"] = (rss_bytes() or 0) - baseline
        workload = default_workload(adapter, spec.get("batch"), documents=spec.get("documents", ()))
        reset_peak()  # from here: the loaded model (resident) plus what one batch allocates
        with torch.no_grad():
            output = workload.fn()
        out["run_peak"] = peak_bytes() - baseline
        workload.checked(output, "memory probe")
        del output
        out["workload"] = workload.describe
        out["weights_bytes"] = weights_bytes(adapter)
    else:
        raise ValueError(f"unknown memory probe kind {spec.get('kind')!r}")
    out["seconds"] = time.perf_counter() - started
    return out


def source_dict(model: str, source: Any) -> dict[str, Any]:
    """What builds `model` as JSON for the child process: the plan item's target and argument
    values (`source`, an audit.adapters.loading.ModelSpec; None: `model` is the word). The
    model's name in reports may be another registered model's, so the child never loads by it.
    NotApplicable for an adapter object (the Python API): a fresh process cannot rebuild it."""
    from audit.errors import NotApplicable

    if source is None:
        return {"target": model, "args": {}}
    if getattr(source, "adapter", None) is not None:
        raise NotApplicable(f"'{model}' is an adapter object (the Python API), which the memory probe cannot rebuild "
                            "in a fresh process: give it as package.module:factory to measure its peak memory")
    return source.to_dict()


def rebuilt_spec(spec: dict[str, Any]) -> Any:
    """The ModelSpec the child loads: `spec["source"]`'s target with its arguments (converted again
    by the factory's annotations, as at plan time), named as in the parent."""
    from audit.adapters.loading import model_spec, spec_with_arguments

    source = spec.get("source") or {"target": spec["model"], "args": {}}
    name = spec.get("model") or source["target"]
    if not source.get("args"):
        return model_spec(source["target"], name=name)
    return spec_with_arguments(name, source["target"], source["args"])


def probe(spec: dict[str, Any], timeout: float = PROBE_TIMEOUT_S) -> dict[str, Any]:
    """Run `spec` in a fresh Python process and return its measurement (bytes)."""
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", str(spec.get("threads") or 1))
    cwd_paths = [p for p in sys.path if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(cwd_paths + [env.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        [sys.executable, "-m", "audit.efficiency.memory"],
        input=json.dumps(spec), capture_output=True, text=True, timeout=timeout, env=env,
    )
    lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
    result = json.loads(lines[-1]) if lines else {}
    if result.get("model_output_error"):
        from audit.errors import ModelOutputError

        raise ModelOutputError(str(result["model_output_error"]))
    if proc.returncode != 0 or not lines or "error" in result:
        why = result.get("error") or (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"memory probe for {spec.get('model') or spec.get('kind')} failed (exit {proc.returncode}): {why}")
    return result


def cuda_peak(fn: Any, device: str = "cuda") -> int:
    """Peak bytes allocated by torch on `device` while `fn()` runs (after a reset)."""
    import torch

    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    fn()
    torch.cuda.synchronize(device)
    return int(torch.cuda.max_memory_allocated(device) - before)


def copy_bandwidth(mib: int = 512, threads: int = 1, repeats: int = 5) -> dict[str, Any]:
    """Memory bandwidth of this machine from a large tensor copy (far beyond the caches): bytes
    read + bytes written per second, best of `repeats` (the least disturbed by other jobs), with
    `threads` torch threads. Returns bytes/s and the setting."""
    import torch

    from audit.threads import intra_op_threads

    n = mib * MIB // 4
    src = torch.ones(n, dtype=torch.float32)
    dst = torch.empty_like(src)
    times = []
    with intra_op_threads(threads):
        dst.copy_(src)
        for _ in range(repeats):
            started = time.perf_counter()
            dst.copy_(src)
            times.append(time.perf_counter() - started)
    moved = 2 * n * 4
    return {"bytes_per_s": moved / min(times), "median_bytes_per_s": moved / sorted(times)[len(times) // 2],
            "mib": mib, "threads": threads, "repeats": repeats, "method": "torch copy_ of a float32 tensor, read + write bytes / best time"}


def cuda_copy_bandwidth(device: str = "cuda", mib: int = 1024, repeats: int = 10) -> dict[str, Any]:
    """Memory bandwidth of the GPU behind `device` from a device-to-device copy of a tensor far
    beyond its L2 cache: bytes read + written per second, best of `repeats`, timed with CUDA
    events (the same definition as `copy_bandwidth`, so decoding's share compares like with like)."""
    import torch

    from audit.efficiency.timing import time_call

    n = mib * MIB // 4
    src = torch.ones(n, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)
    dst.copy_(src)
    times = [time_call(lambda: dst.copy_(src), device) for _ in range(repeats)]
    del src, dst
    moved = 2 * n * 4
    return {"bytes_per_s": moved / min(times), "median_bytes_per_s": moved / sorted(times)[len(times) // 2],
            "mib": mib, "repeats": repeats, "device": device,
            "method": "device-to-device copy_ of a float32 tensor, read + write bytes / best time (CUDA events)"}


def machine_bandwidth(device: str, mib: int, threads: int) -> dict[str, Any]:
    """The bandwidth decoding is compared with: the GPU's copy bandwidth on CUDA (at least 1 GiB,
    beyond any L2), the CPU's with `threads` threads elsewhere."""
    if str(device).startswith("cuda"):
        return cuda_copy_bandwidth(device, max(mib, 1024))
    return copy_bandwidth(mib, threads)


def peak_memory_of(ctx: CheckContext, model: str, precision: str) -> dict[str, Any]:
    """The memory probe of (model, precision), once per run: a child process on CPU, the CUDA
    allocator's peak on GPU; either rebuilds the model from the plan item's source (`source_dict`),
    never by its name. NotApplicable for an adapter object."""
    device = str(getattr(ctx.adapter.info, "device", "cpu"))
    source = source_dict(model, ctx.source)

    def compute() -> dict[str, Any]:
        if device.startswith("cuda"):
            import torch

            from audit.adapters.loading import load_model
            from audit.efficiency.timing import default_workload, workload_documents

            torch.cuda.reset_peak_memory_stats(device)
            before = torch.cuda.memory_allocated(device)
            adapter = load_model(ctx.source or model, precision, device)
            load = int(torch.cuda.max_memory_allocated(device) - before)
            workload = default_workload(adapter, documents=workload_documents(ctx))
            outputs: list[Any] = []
            peak = cuda_peak(lambda: outputs.append(workload.fn()), device)
            workload.checked(outputs.pop(), "memory probe")  # let go before what stays allocated is read
            run = peak + int(torch.cuda.memory_allocated(device) - before)
            del adapter
            return {"load_peak": load, "run_peak": run, "method": "torch.cuda.max_memory_allocated", "device": device}
        import torch

        from audit.efficiency.timing import DEFAULT_LM_BATCH, prompt_documents, workload_documents

        return probe({"kind": "model", "model": model, "source": source, "precision": precision, "device": device,
                      "family": getattr(ctx.adapter.info, "family", None), "threads": torch.get_num_threads(),
                      "modules": [type(ctx.adapter).__module__],
                      "documents": list(prompt_documents(workload_documents(ctx), DEFAULT_LM_BATCH))})

    return ctx.store.memo("efficiency.peak_memory", (model, precision, device), compute)


def bytes_read_per_token(adapter: Any) -> int:
    """Weight bytes one decoding step at batch 1 reads: all weights, except that an embedding
    table contributes one row unless its weight is also the output layer (tied)."""
    import torch

    from audit.precision import module_weight_bytes, storage_ptr, weights_bytes

    total = weights_bytes(adapter)
    for root in {id(m): m for m in adapter.modules().values()}.values():
        output_storages = {storage_ptr(m.weight) for m in root.modules()
                           if isinstance(m, torch.nn.Linear) and isinstance(getattr(m, "weight", None), torch.Tensor)} - {None}
        for module in root.modules():
            if isinstance(module, torch.nn.Embedding) and storage_ptr(module.weight) not in output_storages:
                table = module_weight_bytes(module)
                total -= table - table // max(1, module.num_embeddings)
    return int(total)


def main() -> int:
    """Measure the spec read as JSON from stdin; print the result (or the error) as one JSON line."""
    from audit.errors import ModelOutputError

    try:
        print(json.dumps(child_main(json.loads(sys.stdin.read()))), flush=True)
    except ModelOutputError as exc:  # the model's defect: raised again as such in the parent
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}", "model_output_error": str(exc)}), flush=True)
        return 1
    except Exception as exc:  # reported to the parent as one line
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
