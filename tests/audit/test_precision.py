"""Precision variants really quantize what they claim, shrink it by the expected factor, stay
close to fp32 without being identical, and refuse combinations they cannot run."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from audit.adapters.base import SAMPLE, ModelAdapter, ModelInfo
from audit.adapters.loading import load_model
from audit.precision import (
    PRECISIONS,
    UnsupportedPrecision,
    apply_precision,
    conv1d_to_linear,
    module_weight_bytes,
    resolve,
    weight_only_types,
    weights_bytes,
)

TEXTS = ["Once upon a time there was a little girl named Lily. She loved to play outside in the park.",
         "Tom had a big red ball. He kicked it very high and it flew over the fence."]


@pytest.fixture(scope="module")
def lm_fp32():
    return load_model("transformer", "fp32")


@pytest.fixture(scope="module")
def lm_variants():
    return {p: load_model("transformer", p) for p in ("int8", "int8wo", "int4wo")}


def _logits(adapter, text):
    with torch.no_grad():
        return adapter.model(input_ids=torch.tensor([adapter.encode(text)])).logits[0].double()


def test_conv1d_to_linear_keeps_outputs(lm_fp32):
    model = copy.deepcopy(lm_fp32.model)
    replaced = conv1d_to_linear(model)
    n_layer = lm_fp32.model.config.n_layer
    assert len(replaced) == 4 * n_layer  # c_attn, attn.c_proj, c_fc, mlp.c_proj per block
    ids = torch.tensor([lm_fp32.encode(TEXTS[0])])
    with torch.no_grad():
        torch.testing.assert_close(model(input_ids=ids).logits, lm_fp32.model(input_ids=ids).logits, rtol=1e-5, atol=1e-5)


def test_int8_quantizes_every_attention_and_mlp_layer(lm_fp32, lm_variants):
    """The Conv1D trap: in transformers 5.x GPT-2's attention and MLP layers are `Conv1D`, so
    quantize_dynamic({nn.Linear}) on GPT-2 only reaches the tied head. Here
    every Conv1D of every block is an int8 dynamic Linear, and the tied head stays float."""
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

    adapter = lm_variants["int8"]
    n_layer = lm_fp32.model.config.n_layer
    expected = {f"lm.transformer.h.{i}.{path}" for i in range(n_layer) for path in ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj")}
    summary = adapter.quantization
    assert set(summary.quantized) == expected
    assert all(isinstance(resolve(adapter, name), DynamicLinear) for name in expected)
    assert "lm.lm_head" in summary.kept_float and "tied" in summary.kept_float["lm.lm_head"]
    assert adapter.model.lm_head.weight.data_ptr() == adapter.model.transformer.wte.weight.data_ptr()  # still tied
    assert 0.6 < summary.quantized_share < 0.9  # 4 blocks x 0.79M of 4.27M parameters (embeddings stay float)


@pytest.mark.parametrize("precision, low, high", [("int8", 0.24, 0.28), ("int8wo", 0.24, 0.28), ("int4wo", 0.12, 0.16)])
def test_quantized_layers_shrink_by_the_expected_factor(lm_fp32, lm_variants, precision, low, high):
    """int8 layers hold about a quarter of their fp32 bytes (1 byte per weight plus per-channel
    scales and the float bias), int4 about an eighth (plus per-group scales and zeros)."""
    adapter = lm_variants[precision]
    names = adapter.quantization.quantized
    fp32 = sum(module_weight_bytes(resolve(lm_fp32, n)) for n in names)
    variant = sum(module_weight_bytes(resolve(adapter, n)) for n in names)
    assert low < variant / fp32 < high, (precision, variant / fp32)
    assert weights_bytes(adapter) < 0.5 * weights_bytes(lm_fp32)


def test_tied_weights_count_once(lm_fp32):
    expected = sum(p.numel() * 4 for p in lm_fp32.model.parameters())  # parameters() yields the tied tensor once
    assert weights_bytes(lm_fp32) == expected


@pytest.mark.parametrize("precision, bound", [("int8", 0.05), ("int8wo", 0.01), ("int4wo", 0.15)])
def test_quantized_lm_is_close_but_not_identical(lm_fp32, lm_variants, precision, bound):
    """Next-token distributions stay close (mean KL below `bound` nats per token, the same top-1
    token at >= 90% of positions) yet differ: quantization really happened."""
    from audit_reference_models.data.tinystories import load_tinystories_split

    adapter = lm_variants[precision]
    stories = load_tinystories_split().heldout[:5]
    ref = torch.cat([_logits(lm_fp32, s) for s in stories])
    out = torch.cat([_logits(adapter, s) for s in stories])
    assert len(ref) > 300 and not torch.equal(ref, out)
    lp, lq = torch.log_softmax(ref, -1), torch.log_softmax(out, -1)
    kl = float((lp.exp() * (lp - lq)).sum(-1).mean())
    assert 0 < kl < bound, (precision, kl)
    assert float((ref.argmax(-1) == out.argmax(-1)).double().mean()) >= 0.9


def test_int4_kernel_matches_its_dequantized_weights():
    """The packed int4 layer computes x @ W'^T + b, where W' is the group-wise dequantization of
    W done independently here (asymmetric, 16 levels between each group's min and max)."""
    _, int4_type = weight_only_types()
    torch.manual_seed(0)
    linear = torch.nn.Linear(256, 64)
    layer = int4_type(linear, 128)
    w = linear.weight.detach().reshape(64, 2, 128)
    low, high = w.amin(-1, keepdim=True), w.amax(-1, keepdim=True)
    step = (high - low) / 15
    dequantized = (torch.round((w - low) / step) * step + low).reshape(64, 256)
    x = torch.randn(5, 256)
    expected = x.bfloat16().float() @ dequantized.T + linear.bias.detach()
    got = layer(x)
    assert got.dtype == torch.float32 and got.shape == (5, 64)
    torch.testing.assert_close(got, expected, rtol=0.02, atol=0.02)
    assert (got - (x @ linear.weight.detach().T + linear.bias.detach())).abs().max() > 1e-3  # not the float weights


def test_int8_weight_only_matches_its_dequantized_weights():
    int8_type, _ = weight_only_types()
    torch.manual_seed(1)
    linear = torch.nn.Linear(128, 32)
    layer = int8_type(linear)
    scale = linear.weight.detach().abs().amax(1, keepdim=True) / 127
    dequantized = torch.round(linear.weight.detach() / scale) * scale
    x = torch.randn(3, 128)
    torch.testing.assert_close(layer(x), x.bfloat16().float() @ dequantized.T + linear.bias.detach(), rtol=0.02, atol=0.02)


@pytest.fixture(scope="module")
def gan_fp32_samples():
    adapter = load_model("gan", "fp32")
    return adapter.sample(64, 0, labels=torch.arange(64) % 10)


@pytest.mark.parametrize("precision", ["int8", "int8wo", "int4wo", "int8static", "bf16"])
def test_gan_variants_are_close_but_not_identical(gan_fp32_samples, precision):
    adapter = load_model("gan", precision)
    out = adapter.sample(64, 0, labels=torch.arange(64) % 10)
    assert out.shape == gan_fp32_samples.shape and out.dtype == torch.float32
    diff = (out - gan_fp32_samples).abs()
    assert diff.max() > 0, "identical to fp32: nothing was quantized"
    psnr = 10 * np.log10(1.0 / float((diff**2).mean()))
    assert psnr > 35, (precision, psnr)
    if precision != "bf16":
        assert adapter.quantization.quantized and adapter.quantization.quantized_share > 0.5


def test_int8static_converts_the_generator_with_int8_weights():
    adapter = load_model("gan", "int8static")
    summary = adapter.quantization
    assert summary.quantized == ["generator"] and "PT2E" in summary.backend
    graph = adapter.generator.int8_graph
    int8 = [t for t in list(graph.buffers()) + [v for v in vars(graph).values() if isinstance(v, torch.Tensor)] if t.dtype == torch.int8]
    assert int8, "no int8 weights in the converted graph"
    assert not any(p.dtype == torch.float32 and p.dim() == 2 and p.shape == (2048, 96) for p in graph.parameters()), "float copy of the quantized Linear kept"
    assert weights_bytes(adapter) < weights_bytes(load_model("gan", "fp32"))


class _ConvOnly(ModelAdapter):
    capabilities = frozenset({SAMPLE})

    def __init__(self) -> None:
        self.net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.Conv2d(4, 1, 1), torch.nn.Sigmoid())
        self.info = ModelInfo(name="conv-only", family="other", params=45, image_shape=(1, 8, 8))

    def modules(self):
        return {"net": self.net}

    def sample(self, n, seed, labels=None):
        return self.net(torch.randn(n, 1, 8, 8, generator=torch.Generator().manual_seed(seed)))


class _TwoLinears(_ConvOnly):
    """One Linear the CPU int4 kernel takes (64 -> 32) and one it cannot pack (64 -> 10 outputs)."""

    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.Linear(32, 64), torch.nn.Linear(64, 10))

    def sample(self, n, seed, labels=None):
        return self.net(torch.randn(n, 64, generator=torch.Generator().manual_seed(seed)))


def test_int4_keeps_float_a_layer_whose_output_width_the_cpu_kernel_cannot_pack():
    """The kernel packs 16 output rows at a time: tabular-vae's 10-wide layer raised
    `expect N to be dividable by 16` (an error record) instead of staying float."""
    adapter = apply_precision(_TwoLinears(), "int4wo", "cpu")
    summary = adapter.quantization
    assert set(summary.quantized) == {"net.0", "net.1"}
    assert "output width 10 is not a multiple of 16" in summary.kept_float["net.2"]
    assert adapter.sample(3, 0).shape == (3, 10)


@pytest.mark.parametrize("precision", ["int8", "int8wo", "int4wo"])
def test_linear_variants_skip_a_model_without_linear_layers(precision):
    with pytest.raises(UnsupportedPrecision, match="no(ne)? .*Linear|has none"):
        apply_precision(_ConvOnly(), precision, "cpu")


def test_unsupported_combinations_name_the_reason(lm_fp32):
    with pytest.raises(UnsupportedPrecision, match="CUDA"):
        apply_precision(_ConvOnly(), "fp16", "cpu")
    with pytest.raises(UnsupportedPrecision, match="image models"):
        apply_precision(copy.deepcopy(lm_fp32), "int8static", "cpu")
    for precision in ("int8", "int8wo", "int4wo", "int8static"):
        assert PRECISIONS[precision].quantized and PRECISIONS[precision].dtype == "float32"
    with pytest.raises(UnsupportedPrecision, match="CPU"):
        apply_precision(_ConvOnly(), "int8static", "cuda")  # refused before any CUDA call
    with pytest.raises(UnsupportedPrecision, match="CUDA"):
        apply_precision(_ConvOnly(), "fp8", "cpu")
