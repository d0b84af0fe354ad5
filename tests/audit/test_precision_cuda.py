"""CUDA backends of the precision variants.

Without a GPU: the torchao configs chosen per precision, and the layer selection of the torchao
path (run on CPU tensors with the one config that has a CPU kernel, int8 weight-only). With a GPU
(`gpu` marker, skipped here with the reason): every CUDA variant of the bundled transformer is
built, quantizes the layers it claims, and stays close to fp32 computed on the CPU; fp8 is skipped
with the reason on GPUs older than compute capability 8.9; CUDA-event timing agrees with the
wall clock around a synchronized call; the allocator peak and the copy bandwidth are plausible.
"""

from __future__ import annotations

import copy
import time

import pytest
import torch

from audit.adapters.loading import load_model
from audit.precision import UnsupportedPrecision, _torchao_cuda, apply_precision, cuda_configs, linear_layers, resolve

HAS_CUDA = torch.cuda.is_available()
gpu = pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA device (torch.cuda.is_available() is False)")
TEXT = "Once upon a time there was a little girl named Lily. She loved to play outside in the park."


@pytest.fixture(scope="module")
def lm_fp32():
    return load_model("transformer", "fp32")


def _logits(adapter, text=TEXT):
    device = next(adapter.model.parameters()).device
    with torch.no_grad():
        return adapter.model(input_ids=torch.tensor([adapter.encode(text)], device=device)).logits[0].double().cpu()


def test_cuda_configs_pick_the_kernels_torch_ships():
    from torchao.quantization import PerRow

    configs = cuda_configs()
    assert set(configs) == {"int8", "int8wo", "int4wo", "fp8"}
    make_int4 = configs["int4wo"][0]
    assert str(make_int4(768).int4_packing_format.value) == "tile_packed_to_4d"  # tinygemm, in torch's CUDA build
    assert (make_int4(768).group_size, make_int4(3072).group_size, make_int4(96).group_size) == (128, 128, 32)
    assert all(isinstance(g, PerRow) for g in configs["fp8"][0](768).granularity)  # activations and weights per row
    assert type(configs["int8"][0](768)).__name__ == "Int8DynamicActivationInt8WeightConfig"
    assert type(configs["int8wo"][0](768)).__name__ == "Int8WeightOnlyConfig"


def test_torchao_path_quantizes_the_same_layers_as_the_cpu_backends(lm_fp32):
    """int8 weight-only through torchao (the CUDA path's code, on CPU tensors: its only config
    with a CPU kernel): every attention and MLP layer, the tied output layer kept float."""
    adapter = copy.deepcopy(lm_fp32)
    adapter.to(device="cpu", dtype=torch.bfloat16)
    expected = {name for name, *_ in linear_layers(copy.deepcopy(lm_fp32))[0]}
    summary = _torchao_cuda(adapter, "int8wo")
    assert set(summary.quantized) == expected and len(expected) == 4 * lm_fp32.model.config.n_layer
    assert "lm.lm_head" in summary.kept_float
    assert all(type(resolve(adapter, n).weight).__name__ != "Parameter" for n in expected)
    reference, variant = _logits(lm_fp32), _logits(adapter)
    agreement = (reference.argmax(-1) == variant.argmax(-1)).double().mean().item()
    assert agreement > 0.8 and not torch.equal(reference, variant)


def test_compile_switch_compiles_the_quantized_networks_and_says_so(lm_fp32, monkeypatch: pytest.MonkeyPatch):
    adapter = copy.deepcopy(lm_fp32)
    adapter.to(device="cpu", dtype=torch.bfloat16)
    monkeypatch.setenv("AUDIT_CUDA_COMPILE", "1")
    summary = _torchao_cuda(adapter, "int8wo")
    assert summary.execution.startswith("torch.compile")
    assert adapter.model._compiled_call_impl is not None  # nn.Module.compile: compiled lazily at the first call
    monkeypatch.delenv("AUDIT_CUDA_COMPILE")
    plain = copy.deepcopy(lm_fp32)
    plain.to(device="cpu", dtype=torch.bfloat16)
    assert _torchao_cuda(plain, "int8wo").execution == "eager" and plain.model._compiled_call_impl is None


def test_cpu_only_and_cuda_only_precisions_refuse_the_other_device():
    class _Net:
        info = type("I", (), {"name": "net"})()

        def modules(self):
            return {"net": torch.nn.Linear(4, 4)}

    with pytest.raises(UnsupportedPrecision, match="CPU kernels"):
        apply_precision(_Net(), "int8static", "cuda")
    for precision in ("fp16", "fp8"):
        with pytest.raises(UnsupportedPrecision, match="needs a CUDA device"):
            apply_precision(_Net(), precision, "cpu")


# --- on a GPU -----------------------------------------------------------------------------------


@pytest.mark.gpu
@gpu
@pytest.mark.parametrize("precision", ["fp32", "fp16", "bf16", "int8", "int8wo", "int4wo", "fp8"])
def test_each_cuda_variant_runs_and_stays_close_to_fp32(lm_fp32, precision):
    from audit.devices import capability_shortfall

    if precision == "fp8" and capability_shortfall((8, 9), "cuda"):
        with pytest.raises(UnsupportedPrecision, match="8.9"):
            load_model("transformer", precision, "cuda")
        return
    adapter = load_model("transformer", precision, "cuda")
    assert next(adapter.model.parameters()).is_cuda and adapter.info.device == "cuda"
    summary = getattr(adapter, "quantization", None)
    if precision in ("int8", "int8wo", "int4wo", "fp8"):
        assert len(summary.quantized) == 4 * lm_fp32.model.config.n_layer, summary.kept_float
        assert "torchao" in summary.backend
    reference, variant = _logits(lm_fp32), _logits(adapter)
    agreement = (reference.argmax(-1) == variant.argmax(-1)).double().mean().item()
    assert agreement > 0.8, (precision, agreement)


@pytest.mark.gpu
@gpu
def test_cuda_event_timing_agrees_with_the_synchronized_wall_clock():
    from audit.efficiency.timing import time_call

    x = torch.randn(4096, 4096, device="cuda")
    work = lambda: [x @ x for _ in range(20)]  # noqa: E731
    work()
    torch.cuda.synchronize()
    started = time.perf_counter()
    work()
    torch.cuda.synchronize()
    wall = time.perf_counter() - started
    events = time_call(work, "cuda")
    assert 0.5 * wall < events < 2.0 * wall, (events, wall)


@pytest.mark.gpu
@gpu
def test_allocator_peak_and_copy_bandwidth():
    from audit.efficiency.memory import cuda_copy_bandwidth, cuda_peak

    peak = cuda_peak(lambda: torch.empty(64 * 1024**2, dtype=torch.uint8, device="cuda").fill_(1))
    assert peak >= 64 * 1024**2
    bandwidth = cuda_copy_bandwidth("cuda", 1024, 5)
    assert 1e11 < bandwidth["bytes_per_s"] < 2e13  # 100 GB/s .. 20 TB/s: any GPU of the last decade


@pytest.mark.gpu
@gpu
def test_auto_picks_the_gpu_and_fits_are_judged_against_real_free_memory():
    from audit.devices import cuda_memory, fit_problem, resolve_device

    assert resolve_device("auto") == "cuda"
    free, _ = cuda_memory("cuda")
    assert fit_problem("m", free // 2, "cuda", "fp16") is None
    assert "free on cuda" in fit_problem("m", free + 1024**3, "cuda", "fp16")
