"""Precision variants applied to an adapter: one `precision=` word per variant.

Casts (`fp32`, `bf16`, `fp16`) move every module to a float dtype. Quantized variants replace
layers of the adapter's modules in place (the networks `modules()` returns, so every method of
the adapter runs them) and attach a `QuantizationSummary` as `adapter.quantization`: which layers
were quantized, every module whose float weights stay float and why (raw Parameters a module's
forward reads, layer kinds the variant does not cover: Conv, LSTM/GRU, Embedding, norms; tied
layers), the backend, and what share of the parameters the quantized layers hold. A network
listed under two roles (a role inside another's network) is quantized, counted and sized once
(`distinct_roles`). A variant that quantized less than MIN_QUANTIZED_SHARE of the weights raises
UnsupportedPrecision naming what stayed float: it would be fp32 measured under an integer name. A combination that cannot run (fp16 or fp8 on CPU, fp8 on a GPU older
than compute capability 8.9, int8 dynamic on a model without Linear layers, PT2E static int8 on
a language model or on CUDA, any variant but fp32 on a model whose `modules()` is empty: nothing
to cast, any quantized variant on a TorchScript network: its layers cannot be swapped or hooked)
raises `UnsupportedPrecision`, and the runner records the model's checks as `skipped`
with the reason. The backend is chosen by the device: the CPU backends below, or the CUDA
backends at the end of this docstring.

Variants and the measurement that chose each backend (benchmarks/quantized_decode.py, recorded in
benchmarks/results/quantized_decode.json: torch 2.13.0+cpu, torchao 0.18.0, this project's 2-core
AMD EPYC (Zen 4: AVX-512, VNNI, AVX512-BF16, no AMX) with other jobs running; batch-1 greedy
decoding of the 89M-parameter `transformer-scaled`, one thread, 32 tokens, median of 7
interleaved rounds; fp32 decoded 34.7 tokens/s in the same rounds. "Linear" figures are one
768x3072 Linear at batch 1, microseconds per call; fp32 186 us):

- `int8` (dynamic): int8 weights (per output channel, symmetric) and int8 activations (per
  tensor, scale computed at run time) for every Linear layer. GPT-2's attention and MLP layers are
  transformers' `Conv1D` (weight stored [in, out]), which `quantize_dynamic(model, {nn.Linear})`
  silently skips; they are converted to `nn.Linear` first (transposed weight, same outputs), and
  the summary lists every layer quantized, so a test can prove the attention and MLP layers are.
  Backend `torch.ao.quantization.quantize_dynamic` (fbgemm/x86 kernels): 83.6 tok/s, 2.41x fp32
  (Linear 59 us). torchao's `Int8DynamicActivationInt8WeightConfig` decoded 17.1 tok/s, 0.49x
  (Linear 933 us: no fused int8 CPU kernel for it). torch.ao.quantization is deprecated upstream;
  if it disappears the torchao config is used instead (correct, slower) and the summary says so.
- `int8wo` (weight-only): int8 weights per output channel, activations stay float. Backend the
  ATen kernel `torch._weight_int8pack_mm` with bf16 activations inside the kernel: 55.8 tok/s,
  1.61x (Linear 147 us). With fp32 activations the same kernel takes 1,940 us (no vectorised fp32
  path), so activations are rounded to bf16 at each quantized layer's input and the output is
  returned in float32. torchao's `Int8WeightOnlyConfig`: 23.1 tok/s, 0.66x (Linear 929 us).
- `int4wo` (weight-only): int4 weights, asymmetric, in groups of 128 input channels (64 or 32
  where the input width needs it). Backend the ATen CPU kernel `torch._weight_int4pack_mm_for_cpu`
  with bf16 activations: 86.7 tok/s, 2.50x (Linear 144 us; fp32 activations 4,035 us). torchao 0.18
  has no CPU int4 layout (`Int4WeightOnlyConfig(int4_packing_format="opaque")` raises), so the
  ATen op is called directly. Layers whose input width is not a multiple of 32, or whose output
  width is not a multiple of 16 (the CPU packing's rows), stay in float (listed).
- `bf16` (a cast, for comparison): 33.3 tok/s, 0.96x on the decoder; 1.5x on the GAN's
  batched sampling (AVX512-BF16).
- `int8static` (static, PT2E): for the conv nets (gan, vae, diffusion). The networks the adapter's
  `sample` runs are exported with `torch.export` (dynamic batch), annotated by torchao's
  `X86InductorQuantizer` (int8 weights per channel, int8 activations per tensor with scales
  calibrated on 64 of the model's own samples from a fixed calibration seed, never the run's seed),
  and converted with `convert_pt2e`. PT2E moved from torch to torchao (torch 2.13 has no
  `torch.ao.quantization.quantize_pt2e`), so this variant needs torchao. X86InductorQuantizer
  leaves ConvTranspose2d in float, so the GAN's and VAE's upsampling stays float (the summary
  counts the int8 layers). The converted graph runs its quantize/dequantize pairs in eager mode:
  the numerics of int8 static quantization, not its speed (GAN generator, 1,024 images: fp32
  0.43 s, PT2E eager 0.78 s). Setting `AUDIT_INT8STATIC_COMPILE=1` lowers it with `torch.compile`
  (inductor, needs a C++ compiler) to oneDNN int8 kernels: 0.13-0.15 s after a 7-25 s compile (fp32
  compiled: 0.16 s). The summary's `execution` says which ran. Language models are skipped (use
  `int8`).

CUDA backends (`device=cuda`; no GPU has been lent to this project yet, so unlike the CPU choices
above these are chosen by which kernels exist, not yet by measurement: `benchmarks/gpu_check.py`
measures them, eager and compiled, in one command). Before its weights move to the GPU, a model
whose float tensors in the variant's dtype exceed the GPU's free memory stops with one line
naming both (audit.devices.ModelTooLarge, an error record of that model).

- `fp16`, `bf16`: casts of weights and activations (`adapter.to(dtype=...)`), not autocast.
  Batch-1 decoding reads every weight once per token, so its speed follows the bytes of the
  stored weights: a cast halves them; autocast keeps float32 weights and converts them at each
  call (more traffic than fp32, not less). A cast is also what the CPU `bf16` does, so the two
  devices compare like with like.
- `int8`, `int8wo`, `int4wo`, `fp8`: torchao 0.18 `quantize_` on each Linear layer (the same
  layers as on CPU: GPT-2's Conv1D converted, the tied output layer kept float) of the networks
  moved to the GPU in bf16, the activation dtype torchao's CUDA kernels take (tinygemm int4
  requires it; `torch._scaled_mm` returns it). Configs: `Int8DynamicActivationInt8WeightConfig`
  (`torch._int_mm`), `Int8WeightOnlyConfig`, `Int4WeightOnlyConfig(int4_packing_format=
  "tile_packed_to_4d")` (the tinygemm kernel built into torch's CUDA build, compute capability
  8.0+, input widths padded to 1024 by torchao; the default "plain" layout needs the separate
  fbgemm-gpu-genai package), and `Float8DynamicActivationFloat8WeightConfig(PerRow())` (e4m3;
  compute capability 8.9+: Ada, Hopper and newer; skipped with the reason elsewhere). Their
  quality deltas against fp32 therefore include bf16 rounding, as the CPU weight-only variants'
  do. torchao's CUDA paths are meant to run under torch.compile (which fuses the quantization
  of activations and the scaling around the kernels); `AUDIT_CUDA_COMPILE=1` compiles the
  quantized networks (`nn.Module.compile`, inductor) and the summary's `execution` says so.
- `int8static` stays CPU-only (X86InductorQuantizer targets x86 oneDNN kernels).

A Linear whose weight is tied to an embedding (GPT-2's output layer) stays float in every
variant: quantizing it would store an int8 copy beside the float embedding, so the model would
grow rather than shrink, and the output layer is the most
quantization-sensitive layer of a language model. The summary names it.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from audit.errors import AuditError, ModelOutputError, NotApplicable, UnknownNameError
from audit.messages import did_you_mean

if TYPE_CHECKING:
    import torch

TORCHAO_UNUSED_EXTENSIONS = ("_C_mxfp8", "_C_cutlass_90a")
"""torchao's optional C extensions that no precision here calls: MX-format fp8 kernels
(prototype MX/MoE training) and CUTLASS sm90a kernels for 2:4-sparse fp8 (fp8 here is dense,
torch._scaled_mm). torchao 0.18's `import torchao` tries to load each with torch.ops.load_library
and logs `Failed to load <path>: <error>` on the `torchao` logger at WARNING when it cannot (a
CPU-only torch, another CUDA arch, the cp310 build of _C_mxfp8 on another Python)."""


class TorchaoImportNoise(logging.Filter):
    """Drops the two log records `import torchao` (0.18; transformers imports it whenever it is
    installed) writes to stderr that say nothing about what audit runs: torchao's `Failed to load`
    warning for an extension in TORCHAO_UNUSED_EXTENSIONS, and torch's pytree note that
    registering one of torchao's Enums as a pytree constant is deprecated (torchao's own call).
    Every other record of these loggers passes, a failure to load any other torchao extension
    included."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "torchao":
            message = record.getMessage()
            return not (message.startswith("Failed to load ")
                        and any(f"torchao{os.sep}{name}." in message for name in TORCHAO_UNUSED_EXTENSIONS))
        if record.name == "torch.utils._pytree" and str(record.msg).startswith("%s is an Enum subclass and is now natively supported"):
            cls = record.args[0] if isinstance(record.args, tuple) and record.args else None
            return not str(getattr(cls, "__module__", "")).startswith("torchao.")
        return True


# Attached once per logger (a reload of this module must not stack filters); before torchao is
# imported, which happens lazily, in the functions below, or in transformers.
for _logger in ("torchao", "torch.utils._pytree"):
    if not any(type(f).__name__ == TorchaoImportNoise.__name__ for f in logging.getLogger(_logger).filters):
        logging.getLogger(_logger).addFilter(TorchaoImportNoise())


class UnsupportedPrecision(NotApplicable):
    """This precision cannot run for this model or device; its checks are `skipped`."""


class BaselinePrecision(UnsupportedPrecision):
    """A comparison check run on its own baseline precision (fp32 against fp32): `skipped`."""


NOT_THE_NETWORKS = "modules() does not return the networks the model runs"
"""Why a variant's output can be bit-identical to fp32's: what it cast or quantized never ran."""


class PrecisionChangedNothing(ModelOutputError):
    """A variant other than fp32 whose outputs are bit-identical to fp32's on the same seeds and
    inputs (`outputs_identical`), or while whose outputs were made none of the networks
    `modules()` returns ran (`networks_ran`: outputs that vary from call to call, e.g. noise from
    torch's global RNG, escape the first test): casting or quantizing `modules()` did not reach
    the computation the model's outputs come from, so whatever is measured of it is fp32's. The
    quantization suite records its checks as errors (exit 4); `audit check-model` fails its
    precision rule."""

    def __init__(self, model: str, precision: str, call: str, observed: str = "") -> None:
        observed = observed or "bit-identical to fp32 on the same seeds and inputs"
        super().__init__(
            f"precision {precision} changed nothing in the outputs of model '{model}' ({call}: {observed}): "
            f"{NOT_THE_NETWORKS} (or none of what {precision} casts or quantizes is on {call}'s path), "
            "so this variant would measure fp32 against itself"
        )


def networks_ran(adapter: Any, call: Callable[[], Any]) -> bool | None:
    """Whether any module of the networks `adapter.modules()` returns (the roots and every module
    inside them) ran while `call()` ran, counted by forward pre-hooks; None when a network cannot
    be hooked (TorchScript), so nothing can be told. A decoy whose outputs come from a hidden
    network runs none of them, whatever its outputs look like."""
    import torch

    modules = [m for root in _roles(adapter).values() for m in root.modules()]
    if any(isinstance(m, torch.jit.ScriptModule) for m in modules):
        return None
    calls = 0

    def count(module: Any, args: Any) -> None:
        nonlocal calls
        calls += 1

    handles = [m.register_forward_pre_hook(count) for m in {id(m): m for m in modules}.values()]
    try:
        with torch.no_grad():
            call()
    finally:
        for handle in handles:
            handle.remove()
    return calls > 0


def outputs_identical(reference: Any, variant: Any) -> bool:
    """True when a variant's output equals fp32's value for value: tensors of the same shape,
    compared in float64 (a bf16 output counts as identical when every value equals fp32's), or
    lists and tuples of them element by element. Anything else (text, tables) is never called
    identical: a discrete output can legitimately survive a variant unchanged."""
    import torch

    if isinstance(reference, torch.Tensor) and isinstance(variant, torch.Tensor):
        return reference.shape == variant.shape and bool(torch.equal(reference.detach().cpu().double(), variant.detach().cpu().double()))
    if isinstance(reference, (list, tuple)) and isinstance(variant, (list, tuple)):
        return len(reference) == len(variant) > 0 and all(
            isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and outputs_identical(a, b) for a, b in zip(reference, variant)
        )
    return False


@dataclass(frozen=True)
class Precision:
    name: str
    description: str
    dtype: str
    """The float dtype of weights and activations that stay in float (all of them for a cast)."""
    needs_cuda: bool = False
    quantized: bool = False
    cpu_only: bool = False
    cuda_dtype: str = ""
    """The float dtype on CUDA where it differs from `dtype` (bf16: torchao's CUDA kernels take bf16 activations)."""
    min_cuda_capability: tuple[int, int] | None = None
    """The oldest GPU generation with a kernel for it (fp8: 8.9, Ada/Hopper)."""

    def float_dtype(self, device: str) -> str:
        return self.cuda_dtype if self.cuda_dtype and str(device).startswith("cuda") else self.dtype


PRECISIONS: dict[str, Precision] = {
    p.name: p
    for p in (
        Precision("fp32", "float32 weights and activations (the reference)", "float32"),
        Precision("bf16", "bfloat16 weights and activations (a cast; CPU and CUDA)", "bfloat16"),
        Precision("fp16", "float16 weights and activations (a cast; CUDA only)", "float16", needs_cuda=True),
        Precision("int8", "int8 dynamic: int8 weights (per channel) and activations (per token/tensor, at run time) in Linear layers (CPU: torch.ao; CUDA: torchao)", "float32", quantized=True, cuda_dtype="bfloat16"),
        Precision("int8wo", "int8 weight-only: int8 weights (per channel) in Linear layers, bf16 activations (CPU: ATen; CUDA: torchao)", "float32", quantized=True, cuda_dtype="bfloat16"),
        Precision("int4wo", "int4 weight-only: int4 weights in groups of 128 in Linear layers, bf16 activations (CPU: ATen; CUDA: torchao tinygemm, compute capability >= 8.0)", "float32", quantized=True, cuda_dtype="bfloat16", min_cuda_capability=(8, 0)),
        Precision("fp8", "float8 (e4m3) weights and activations, per-row scales, in Linear layers (torchao; CUDA compute capability >= 8.9 only)", "bfloat16", needs_cuda=True, quantized=True, min_cuda_capability=(8, 9)),
        Precision("int8static", "int8 static (PT2E, torchao): conv and linear layers of image models, activations calibrated on the model's samples (CPU only)", "float32", quantized=True, cpu_only=True),
    )
}

INT4_GROUPS = (128, 64, 32)
CALIBRATION_SEED = 20_240_601
"""Seed of the samples that calibrate `int8static` (never a run's seed by default)."""
CALIBRATION_SAMPLES = 64
CALIBRATION_CALLS = 64
"""At most this many recorded calls per network calibrate it (a diffusion sampler calls its UNet
once per step)."""


def get_precision(name: str) -> Precision:
    if name not in PRECISIONS:
        raise UnknownNameError(did_you_mean("precision", name, list(PRECISIONS)))
    return PRECISIONS[name]


@dataclass
class QuantizationSummary:
    """What a quantized variant did to the adapter's networks."""

    precision: str
    backend: str
    scheme: str
    execution: str
    quantized: list[str] = field(default_factory=list)
    """Qualified names (role.path, e.g. `lm.transformer.h.0.attn.c_attn`) of the layers now in
    integer form; for int8static, of the networks converted as a whole."""
    kept_float: dict[str, str] = field(default_factory=dict)
    """Layer -> why it stays in float."""
    notes: dict[str, str] = field(default_factory=dict)
    """Per quantized name, what it holds (int8static: how many of its weight layers are int8)."""
    quantized_params: int = 0
    total_params: int = 0

    @property
    def quantized_share(self) -> float:
        return self.quantized_params / self.total_params if self.total_params else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "quantized_share": self.quantized_share}


MIN_QUANTIZED_SHARE = 0.05
"""The least share of a model's weights a quantized variant must hold in integer form to be
measured under its name. The bundled models (CPU): gan 0.54 (int8, int8wo, int4wo), 0.54
(int8static); vae 0.85, 0.85, 0.85, 0.42; diffusion 0.11 (its convolutions stay float in
int8/int8wo/int4wo), 0.99 (int8static); transformer 0.74 (the tied output layer stays float);
tabular-gan 0.997, tabular-vae 0.997 (int4wo 0.63). Half the smallest of them (0.11); a model that
keeps its weights in raw Parameters, convolutions or recurrent layers quantizes almost none
(0.004: an embedding's Linear) and would be measured as fp32 under an integer name."""


def require_quantized_share(model: str, summary: QuantizationSummary) -> QuantizationSummary:
    """`summary` when its variant quantized at least MIN_QUANTIZED_SHARE of the weights; else
    UnsupportedPrecision (its records are `skipped` with the reason, never judged as that
    precision), naming what stayed float."""
    if summary.quantized_share >= MIN_QUANTIZED_SHARE:
        return summary
    largest = sorted(summary.kept_float.items(), key=lambda kv: -_weights_in(kv[1]))[:3]
    kept = "; ".join(f"{name}: {why}" for name, why in largest)
    more = f" (and {len(summary.kept_float) - len(largest)} more)" if len(summary.kept_float) > len(largest) else ""
    raise UnsupportedPrecision(
        f"precision '{summary.precision}' quantized {summary.quantized_share:.1%} of the weights of model '{model}' "
        f"({summary.quantized_params:,} of {summary.total_params:,}), below the {MIN_QUANTIZED_SHARE:.0%} a variant must reach "
        f"to be measured as {summary.precision}: it would measure an fp32 model under that name. Left in float: {kept}{more}."
    )


def _weights_in(reason: str) -> int:
    """The weight count a `float_reasons` reason states ("(12,345 weights)"), 0 where none."""
    import re

    found = re.search(r"\(([0-9,]+) weights\)", reason)
    return int(found.group(1).replace(",", "")) if found else 0


def apply_precision(adapter: Any, name: str, device: str) -> Any:
    """Cast or quantize the adapter's modules; raise UnsupportedPrecision where it cannot run."""
    import torch

    from audit.devices import capability_shortfall, is_cuda

    precision = get_precision(name)
    if precision.needs_cuda and not is_cuda(device):
        raise UnsupportedPrecision(f"precision '{name}' needs a CUDA device; this run is on '{device}'.")
    if precision.cpu_only and str(device) != "cpu":
        raise UnsupportedPrecision(f"precision '{name}' uses CPU kernels ({precision.description}); this run is on '{device}'.")
    if name != "fp32" and not _roles(adapter):
        raise UnsupportedPrecision(
            f"precision '{name}' casts or quantizes the networks modules() returns, and model '{adapter.info.name}' returns none: only fp32 applies."
        )
    if precision.quantized:
        scripted = torchscript_networks(adapter)
        if scripted:
            raise UnsupportedPrecision(_torchscript_reason(name, adapter.info.name, scripted, str(device)))
    if is_cuda(device):
        shortfall = capability_shortfall(precision.min_cuda_capability, str(device))
        if shortfall:
            raise UnsupportedPrecision(f"precision '{name}' {shortfall}.")
        return _apply_on_cuda(adapter, precision, str(device))
    if precision.quantized:
        adapter.to(device=device, dtype=torch.float32)
        adapter.quantization = require_quantized_share(adapter.info.name, QUANTIZERS[name](adapter))
    else:
        adapter.to(device=device, dtype=getattr(torch, precision.dtype))
    adapter.info.precision = name
    adapter.info.device = str(device)
    return adapter


# --- TorchScript networks -----------------------------------------------------------------------


QUANTIZER_NEEDS = {
    "int8": ("torch.ao quantize_dynamic swaps each Linear layer for a quantized one", "torchao quantize_ swaps each Linear layer for a quantized one"),
    "int8wo": ("int8wo swaps each Linear layer for a module calling the ATen int8 weight-only kernel", "torchao quantize_ swaps each Linear layer for a quantized one"),
    "int4wo": ("int4wo swaps each Linear layer for a module calling the ATen int4 weight-only kernel", "torchao quantize_ swaps each Linear layer for a quantized one"),
    "fp8": ("torchao quantize_ swaps each Linear layer for a quantized one", "torchao quantize_ swaps each Linear layer for a quantized one"),
    "int8static": ("torchao PT2E records calibration inputs with forward hooks and re-exports the network with torch.export",) * 2,
}
"""Per quantized precision, what its backend (CPU, CUDA) does to the network's modules, which a
TorchScript module refuses: a ScriptModule's submodules cannot be reassigned to Python modules,
hooks cannot be registered on it, and torch.export does not take it."""


def torchscript_networks(adapter: Any) -> list[str]:
    """Qualified names (role, or role.path) of the TorchScript modules (scripted or traced:
    `torch.jit.ScriptModule`) holding parameters among the adapter's networks, outermost only."""
    import torch

    found: list[str] = []
    for role, root in _roles(adapter).items():
        for path, module in root.named_modules():
            name = ".".join(x for x in (role, path) if x)
            if not isinstance(module, torch.jit.ScriptModule) or any(name.startswith(f"{f}.") for f in found):
                continue
            if any(True for _ in module.parameters()):
                found.append(name)
    return found


def _torchscript_reason(name: str, model: str, scripted: list[str], device: str) -> str:
    on_cpu, on_cuda = QUANTIZER_NEEDS.get(name, (f"{name} swaps or hooks the network's layers",) * 2)
    does = on_cuda if str(device).startswith("cuda") else on_cpu
    networks = ", ".join(f"'{s}'" for s in scripted)
    what = f"network {networks} is a TorchScript (scripted or traced) module" if len(scripted) == 1 else f"networks {networks} are TorchScript (scripted or traced) modules"
    return (
        f"precision '{name}' cannot quantize model '{model}': its {what}, "
        f"and {does}, which a TorchScript module does not allow (its layers cannot be swapped or hooked); "
        "a cast (bf16; fp16 on CUDA) needs neither: to quantize, audit the Python model (package.module:factory)."
    )


# --- layer discovery --------------------------------------------------------------------------


def _roles(adapter: Any) -> dict[str, "torch.nn.Module"]:
    modules = adapter.modules() if callable(getattr(adapter, "modules", None)) else {}
    return dict(modules or {})


def distinct_roles(adapter: Any) -> dict[str, "torch.nn.Module"]:
    """The adapter's networks by role, less every role whose module is another role's module or
    lies inside one (`{"generator": G, "head": G.fc2}` is G once): each weight is quantized, counted
    and sized once, under the outermost role that holds it."""
    roles = _roles(adapter)
    inside: set[int] = set()
    for root in roles.values():
        inside.update(id(m) for m in root.modules() if m is not root)
    kept: dict[str, "torch.nn.Module"] = {}
    for role, root in roles.items():
        if id(root) not in inside and all(root is not other for other in kept.values()):
            kept[role] = root
    return kept


def parameter_count(roots: Any) -> int:
    """Parameters of the networks `roots`, each tensor once however many roles or modules hold it."""
    seen: set[int] = set()
    total = 0
    for root in roots:
        for p in root.parameters():
            if id(p) not in seen:
                seen.add(id(p))
                total += p.numel()
    return total


def _is_conv1d(module: Any) -> bool:
    """transformers' `Conv1D` (GPT-2): a linear layer with its weight stored as [in, out]."""
    return type(module).__name__ == "Conv1D" and hasattr(module, "nf") and getattr(module, "weight", None) is not None


def conv1d_to_linear(root: "torch.nn.Module") -> list[str]:
    """Replace every transformers `Conv1D` under `root` by the equivalent `nn.Linear` (weight
    transposed, bias shared); returns the replaced names. Outputs are unchanged."""
    import torch

    replaced = []
    for parent_name, parent in list(root.named_modules()):
        for child_name, child in list(parent.named_children()):
            if _is_conv1d(child):
                n_in, n_out = child.weight.shape
                linear = torch.nn.Linear(n_in, n_out, bias=child.bias is not None, device=child.weight.device, dtype=child.weight.dtype)
                with torch.no_grad():
                    linear.weight.copy_(child.weight.t())
                    if child.bias is not None:
                        linear.bias.copy_(child.bias)
                setattr(parent, child_name, linear)
                replaced.append(f"{parent_name}.{child_name}".lstrip("."))
    return replaced


def storage_ptr(t: Any) -> int | None:
    """The data pointer of a tensor's storage; None for tensor subclasses without one (torchao)."""
    try:
        return int(t.untyped_storage().data_ptr())
    except (RuntimeError, AttributeError, NotImplementedError):
        return None


def _tied_storages(root: "torch.nn.Module") -> set[int | None]:
    """Storage pointers of parameters held by modules other than Linear layers (embeddings)."""
    import torch

    tied = set()
    for module in root.modules():
        if not isinstance(module, torch.nn.Linear):
            for p in module.parameters(recurse=False):
                tied.add(storage_ptr(p))
    return tied


def linear_layers(adapter: Any, precision: str = "this precision") -> tuple[list[tuple[str, "torch.nn.Module", str, "torch.nn.Linear"]], dict[str, str], int]:
    """Every `nn.Linear` (after converting GPT-2 `Conv1D`s) of the adapter's networks (each
    once: `distinct_roles`), as (qualified name, parent, attribute, layer); every other module
    holding float parameters, with why `precision` leaves them in float (tied Linear layers, raw
    Parameters, layer kinds it does not cover: `float_reasons`); and the parameter count."""
    import torch

    found, kept, seen = [], {}, set()
    roles = distinct_roles(adapter)
    for role, root in roles.items():
        conv1d_to_linear(root)
        tied = _tied_storages(root)
        for parent_name, parent in root.named_modules():
            for child_name, child in parent.named_children():
                if not isinstance(child, torch.nn.Linear) or id(child) in seen:
                    continue
                seen.add(id(child))
                name = ".".join(x for x in (role, parent_name, child_name) if x)
                ptr = storage_ptr(child.weight)
                if ptr is not None and ptr in tied:
                    kept[name] = "weight tied to an embedding (quantizing it would add an int8 copy beside the float embedding)"
                else:
                    found.append((name, parent, child_name, child))
    covered = {id(p) for *_, layer in found for p in layer.parameters()}
    kept.update(float_reasons(roles, covered, precision, skip=set(kept)))
    return found, kept, parameter_count(roles.values())


def float_reasons(roles: dict[str, "torch.nn.Module"], covered: set[int], precision: str, skip: frozenset[str] | set[str] = frozenset()) -> dict[str, str]:
    """Qualified module name -> why its own float parameters stay float, for every module whose
    parameters are not in `covered` (the ids of the parameters `precision` quantizes): raw
    Parameters a module's own forward reads (F.linear, einsum), or a layer kind (Conv, LSTM, GRU,
    Embedding, norms) that `precision`, which swaps nn.Linear layers, does not cover."""
    import torch

    reasons, seen = {}, set(covered)
    for role, root in roles.items():
        for path, module in root.named_modules():
            name = ".".join(x for x in (role, path) if x)
            own = [(n, p) for n, p in module.named_parameters(recurse=False) if p.is_floating_point() and id(p) not in seen]
            seen.update(id(p) for _, p in own)
            if not own or name in skip:
                continue
            count = f"{sum(p.numel() for _, p in own):,} weights"
            kind = type(module)
            if kind.__module__.startswith("torch.nn.") and not isinstance(module, torch.nn.Linear):
                reasons[name] = f"{kind.__name__} layer ({count}): a layer kind {precision} does not cover (it quantizes nn.Linear layers only)"
            else:
                tensors = ", ".join(n for n, _ in own)
                reasons[name] = (f"raw Parameter{'s' if len(own) > 1 else ''} {tensors} ({count}) held by the module itself, "
                                 f"not in an nn.Linear layer (F.linear, einsum): {precision} swaps nn.Linear layers only")
    return reasons


def _require_linears(adapter: Any, precision: str) -> tuple[list[Any], dict[str, str], int]:
    found, kept, total = linear_layers(adapter, precision)
    if not found:
        tied = sum(1 for why in kept.values() if why.startswith("weight tied"))
        why = f" ({tied} tied to embeddings)" if tied else ""
        raise UnsupportedPrecision(
            f"precision '{precision}' quantizes Linear layers and model '{adapter.info.name}' has none that can be quantized{why}."
        )
    return found, kept, total


# --- int8 dynamic -------------------------------------------------------------------------------


def _int8_dynamic(adapter: Any) -> QuantizationSummary:
    import torch

    found, kept, total = _require_linears(adapter, "int8")
    summary = QuantizationSummary(
        "int8", "", "int8 weights per output channel (symmetric), int8 activations per tensor computed at run time",
        "eager", kept_float=kept, total_params=total,
    )
    try:
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic
        from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear
    except ImportError:  # torch.ao.quantization is deprecated upstream: fall back to torchao
        return _int8_dynamic_torchao(adapter, found, summary)
    if torch.backends.quantized.engine in (None, "none"):
        raise UnsupportedPrecision("precision 'int8' needs a quantized engine (fbgemm/x86 or qnnpack); this torch build has none.")
    summary.backend = f"torch.ao.quantization.quantize_dynamic ({torch.backends.quantized.engine} engine)"
    by_root: dict[int, tuple[torch.nn.Module, dict[str, Any]]] = {}
    for role, root in distinct_roles(adapter).items():
        prefix = f"{role}."
        names = {name[len(prefix):]: per_channel_dynamic_qconfig for name, *_ in found if name.startswith(prefix)}
        if names:
            by_root[id(root)] = (root, names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation notes of torch.ao.quantization and quantized tensors
        for root, spec in by_root.values():
            quantize_dynamic(root, spec, dtype=torch.qint8, inplace=True)
    for name, parent, attr, layer in found:
        if not isinstance(getattr(parent, attr), DynamicLinear):
            raise AuditError(f"int8: layer {name} was not quantized by quantize_dynamic")
        summary.quantized.append(name)
        summary.quantized_params += layer.weight.numel() + (layer.bias.numel() if layer.bias is not None else 0)
    return summary


def _int8_dynamic_torchao(adapter: Any, found: list[Any], summary: QuantizationSummary) -> QuantizationSummary:
    try:
        from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_
    except ImportError:
        raise UnsupportedPrecision("precision 'int8' needs torch.ao.quantization or torchao; neither is importable.") from None
    summary.backend = "torchao Int8DynamicActivationInt8WeightConfig (torch.ao.quantization unavailable)"
    import torch

    for name, parent, attr, layer in found:
        holder = torch.nn.Sequential(layer)  # quantize_ replaces children: quantize this layer alone
        quantize_(holder, Int8DynamicActivationInt8WeightConfig())
        setattr(parent, attr, holder[0])
        summary.quantized.append(name)
        summary.quantized_params += sum(p.numel() for p in (layer.weight, layer.bias) if p is not None)
    return summary


# --- weight-only int8 / int4 with ATen CPU kernels ----------------------------------------------


def _weight_only_module_types() -> tuple[type, type]:
    import torch

    class Int8WeightOnlyLinear(torch.nn.Module):
        """y = x W^T + b with W in int8 per output channel; the kernel takes bf16 activations."""

        def __init__(self, linear: torch.nn.Linear) -> None:
            super().__init__()
            w = linear.weight.detach().float()
            scale = (w.abs().amax(dim=1) / 127.0).clamp(min=1e-12)
            self.in_features, self.out_features = linear.in_features, linear.out_features
            self.register_buffer("qweight", torch.round(w / scale[:, None]).clamp(-127, 127).to(torch.int8).contiguous())
            self.register_buffer("scales", scale.to(torch.bfloat16))
            self.register_buffer("bias", None if linear.bias is None else linear.bias.detach().float().clone())

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            shape = x.shape
            y = torch._weight_int8pack_mm(x.reshape(-1, shape[-1]).to(torch.bfloat16).contiguous(), self.qweight, self.scales)
            y = y.to(x.dtype if x.is_floating_point() else torch.float32)
            if self.bias is not None:
                y = y + self.bias
            return y.reshape(*shape[:-1], self.out_features)

        def dequantized_weight(self) -> torch.Tensor:
            return self.qweight.float() * self.scales.float()[:, None]

        def extra_repr(self) -> str:
            return f"in_features={self.in_features}, out_features={self.out_features}, int8 per-channel"

    class Int4WeightOnlyLinear(torch.nn.Module):
        """y = x W^T + b with W in asymmetric int4 per group of input channels (ATen's CPU int4
        layout: w = (q - 8) * scale + zero); the kernel takes bf16 activations."""

        def __init__(self, linear: torch.nn.Linear, group: int) -> None:
            super().__init__()
            w = linear.weight.detach().float()
            n, k = w.shape
            g = w.reshape(n, k // group, group)
            low, high = g.amin(-1), g.amax(-1)
            scale = ((high - low) / 15.0).clamp(min=1e-12)
            q = torch.round((g - low[..., None]) / scale[..., None]).clamp(0, 15).to(torch.int32).reshape(n, k)
            zero = low + 8.0 * scale
            self.in_features, self.out_features, self.group = k, n, group
            self.register_buffer("packed", torch._convert_weight_to_int4pack_for_cpu(q.contiguous(), 1))
            self.register_buffer("scales_zeros", torch.stack([scale, zero], dim=-1).transpose(0, 1).contiguous().to(torch.bfloat16))
            self.register_buffer("bias", None if linear.bias is None else linear.bias.detach().float().clone())
            self._q = None

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            shape = x.shape
            x2 = x.reshape(-1, shape[-1]).to(torch.bfloat16).contiguous()
            y = torch._weight_int4pack_mm_for_cpu(x2, self.packed, self.group, self.scales_zeros)
            y = y.to(x.dtype if x.is_floating_point() else torch.float32)
            if self.bias is not None:
                y = y + self.bias
            return y.reshape(*shape[:-1], self.out_features)

        def extra_repr(self) -> str:
            return f"in_features={self.in_features}, out_features={self.out_features}, int4 groups of {self.group}"

    return Int8WeightOnlyLinear, Int4WeightOnlyLinear


_WO_TYPES: tuple[type, type] | None = None


def weight_only_types() -> tuple[type, type]:
    """(Int8WeightOnlyLinear, Int4WeightOnlyLinear), defined once (they subclass torch.nn.Module,
    which this module does not import at import time)."""
    global _WO_TYPES
    if _WO_TYPES is None:
        _WO_TYPES = _weight_only_module_types()
    return _WO_TYPES


def _weight_only(adapter: Any, name: str, make: Callable[[Any], Any], scheme: str, backend: str, fits: Callable[[Any], str | None]) -> QuantizationSummary:
    found, kept, total = _require_linears(adapter, name)
    summary = QuantizationSummary(name, backend, scheme, "eager", kept_float=kept, total_params=total)
    unfit: set[str] = set()
    for qname, parent, attr, layer in found:
        reason = fits(layer)
        if reason:
            summary.kept_float[qname] = reason
            unfit.add(reason)
            continue
        setattr(parent, attr, make(layer))
        summary.quantized.append(qname)
        summary.quantized_params += layer.weight.numel() + (layer.bias.numel() if layer.bias is not None else 0)
    if not summary.quantized:
        raise UnsupportedPrecision(f"precision '{name}': no Linear layer of model '{adapter.info.name}' fits the kernel ({'; '.join(sorted(unfit))}).")
    return summary


def _int8_weight_only(adapter: Any) -> QuantizationSummary:
    import torch

    if not hasattr(torch, "_weight_int8pack_mm"):
        raise UnsupportedPrecision("precision 'int8wo' needs torch._weight_int8pack_mm, which this torch build lacks.")
    int8_type, _ = weight_only_types()
    return _weight_only(
        adapter, "int8wo", int8_type, "int8 weights per output channel (symmetric); activations bf16 inside the kernel, float outside",
        "ATen torch._weight_int8pack_mm (CPU)", lambda layer: None,
    )


def int4_group(in_features: int) -> int | None:
    return next((g for g in INT4_GROUPS if in_features % g == 0), None)


def _int4_weight_only(adapter: Any) -> QuantizationSummary:
    import torch

    if not hasattr(torch, "_weight_int4pack_mm_for_cpu"):
        raise UnsupportedPrecision("precision 'int4wo' needs torch._weight_int4pack_mm_for_cpu (no CPU int4 kernel in this torch build; torchao 0.18 has no CPU int4 layout either).")
    _, int4_type = weight_only_types()

    def fits(layer: Any) -> str | None:
        if not int4_group(layer.in_features):
            return f"input width {layer.in_features} is not a multiple of 32 (the kernel's smallest group)"
        if layer.out_features % 16:  # _convert_weight_to_int4pack_for_cpu: "expect N to be dividable by 16" (tabular-vae)
            return f"output width {layer.out_features} is not a multiple of 16 (the CPU kernel packs 16 rows)"
        return None

    return _weight_only(
        adapter, "int4wo", lambda layer: int4_type(layer, int4_group(layer.in_features)),
        "int4 weights, asymmetric, per group of 128 input channels (64 or 32 where needed); activations bf16 inside the kernel",
        "ATen torch._weight_int4pack_mm_for_cpu (CPU)", fits,
    )


# --- int8 static (PT2E) -------------------------------------------------------------------------


def _int8_static(adapter: Any) -> QuantizationSummary:
    import torch

    from audit.adapters.base import SAMPLE, has_capability
    from audit.families import IMAGE, IMAGE_FAMILIES, get_family

    family = adapter.info.family
    if get_family(family).modality != IMAGE or not has_capability(adapter, SAMPLE):
        raise UnsupportedPrecision(
            f"precision 'int8static' (PT2E static int8) is for the image models' conv nets ({', '.join(IMAGE_FAMILIES)}); "
            f"model '{adapter.info.name}' is {family} (use int8 for language models)."
        )
    try:
        from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
        from torchao.quantization.pt2e.quantizer.x86_inductor_quantizer import (
            X86InductorQuantizer,
            get_default_x86_inductor_quantization_config,
        )
    except Exception as exc:  # missing, or built for another torch
        raise UnsupportedPrecision(f"precision 'int8static' needs torchao's PT2E quantization (pip install 'torchao>=0.18,<0.19'): {exc}") from None
    roles = distinct_roles(adapter)
    total = parameter_count(roles.values())
    nests = _nesting_roots(adapter, roles)
    calls = _record_calls(adapter, roles)
    compile_graph = os.environ.get("AUDIT_INT8STATIC_COMPILE", "") == "1"
    summary = QuantizationSummary(
        "int8static", "torchao PT2E: torch.export, X86InductorQuantizer, prepare_pt2e/convert_pt2e",
        f"int8 weights per output channel, int8 activations per tensor, calibrated on {CALIBRATION_SAMPLES} samples (seed {CALIBRATION_SEED})",
        "torch.compile (inductor, oneDNN int8 kernels)" if compile_graph else "eager reference graph (quantize/dequantize around float kernels: int8 numerics, not int8 speed)",
        total_params=total,
    )
    quantizer = X86InductorQuantizer()
    quantizer.set_global(get_default_x86_inductor_quantization_config())
    for role, root in roles.items():
        whole = calls.get(id(root)) and id(root) not in nests
        targets = [("", root)] if whole else [(n, c) for n, c in root.named_children() if calls.get(id(c))]
        converted = {child_name for child_name, _ in targets}
        for child_name, module in targets:
            name = ".".join(x for x in (role, child_name) if x)
            recorded = calls[id(module)]
            args = recorded[0]
            dims = tuple({0: torch.export.Dim.AUTO} if isinstance(a, torch.Tensor) and a.ndim > 0 else None for a in args)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    exported = torch.export.export(module, args, dynamic_shapes=dims)
                except Exception as exc:
                    summary.kept_float[name] = f"torch.export failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
                    continue
                prepared = prepare_pt2e(exported.module(), quantizer)
                with torch.no_grad():
                    for call_args in recorded:
                        prepared(*call_args)
                graph = convert_pt2e(prepared)
            _drop_unused_constants(graph)
            int8 = [t for t in _graph_tensors(graph) if t.dtype == torch.int8]
            if not int8:
                summary.kept_float[name] = "the quantizer annotated no layer of it"
                continue
            layers = sum(1 for m in module.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.ConvTranspose2d)))
            summary.quantized.append(name)
            summary.notes[name] = f"{len(int8)} of {layers} weight layers in int8 (X86InductorQuantizer leaves ConvTranspose2d in float)"
            summary.quantized_params += sum(t.numel() for t in int8)
            if compile_graph:
                graph = torch.compile(graph)
            _install(root, child_name, graph)
        if not whole:
            for child_name, child in root.named_children():
                if child_name not in converted and any(True for _ in child.parameters()):
                    summary.kept_float[f"{role}.{child_name}"] = "not run by sample() during calibration"
    if not summary.quantized:
        raise UnsupportedPrecision(f"precision 'int8static': no network of model '{adapter.info.name}' could be exported ({'; '.join(summary.kept_float.values())}).")
    return summary


def _nesting_roots(adapter: Any, roles: dict[str, "torch.nn.Module"]) -> set[int]:
    """Ids of the roots another role's module lies inside (`{"generator": G, "head": G.fc2}`):
    such a root is converted child by child, never replaced whole, so the module the other role
    names stays an attribute of it (modules() can still reach it)."""
    nested = [m for role, m in _roles(adapter).items() if role not in roles]
    return {id(root) for root in roles.values() if any(any(m is n for n in root.modules()) for m in nested)}


def _record_calls(adapter: Any, roles: dict[str, Any]) -> dict[int, list[tuple[Any, ...]]]:
    """Positional tensor arguments of each call to the roots and their direct children while the
    adapter samples its calibration set; a module called with keyword arguments is not recorded."""
    import torch

    calls: dict[int, list[tuple[Any, ...]]] = {}
    unusable: set[int] = set()
    handles = []

    def hook(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        key = id(module)
        if kwargs or not args or not all(isinstance(a, torch.Tensor) for a in args):
            unusable.add(key)
        bucket = calls.setdefault(key, [])
        if key in unusable:
            bucket.clear()
        elif len(bucket) < CALIBRATION_CALLS:
            bucket.append(tuple(a.detach().clone() for a in args))

    for root in roles.values():
        for module in (root, *root.children()):
            handles.append(module.register_forward_pre_hook(hook, with_kwargs=True))
    try:
        with torch.no_grad():
            adapter.sample(CALIBRATION_SAMPLES, CALIBRATION_SEED)
    finally:
        for h in handles:
            h.remove()
    # samplers may run under torch.inference_mode; a clone made outside it is a normal tensor
    return {k: [tuple(a.clone() for a in args) for args in v] for k, v in calls.items()}


def _graph_tensors(graph: Any) -> list["torch.Tensor"]:
    import torch

    tensors = {id(t): t for t in list(graph.parameters()) + list(graph.buffers())}
    tensors.update({id(v): v for v in vars(graph).values() if isinstance(v, torch.Tensor)})
    return list(tensors.values())


def _drop_unused_constants(graph: Any) -> None:
    """convert_pt2e folds quantized weights into new int8 constants but leaves the float
    originals registered; drop every parameter or buffer no `get_attr` node reads."""
    used = {node.target for node in graph.graph.nodes if node.op == "get_attr"}
    for name, _ in list(graph.named_parameters()) + list(graph.named_buffers()):
        if name not in used:
            owner_name, _, attr = name.rpartition(".")
            owner = graph.get_submodule(owner_name) if owner_name else graph
            owner._parameters.pop(attr, None)
            owner._buffers.pop(attr, None)


def _install(root: Any, child_name: str, graph: Any) -> None:
    """Put the converted graph where the adapter calls it: a child replaces that child; for the
    root itself the graph becomes the root's forward and the float layers are dropped."""
    if child_name:
        setattr(root, child_name, graph)
        return
    root._modules.clear()
    root._parameters.clear()
    root._buffers.clear()
    root.add_module("int8_graph", graph)
    root.forward = graph.__call__


QUANTIZERS: dict[str, Callable[[Any], QuantizationSummary]] = {
    "int8": _int8_dynamic,
    "int8wo": _int8_weight_only,
    "int4wo": _int4_weight_only,
    "int8static": _int8_static,
}


# --- CUDA backends (torchao) --------------------------------------------------------------------


CUDA_COMPILE_ENV = "AUDIT_CUDA_COMPILE"
"""`AUDIT_CUDA_COMPILE=1` compiles a CUDA variant's networks with torch.compile (inductor): the
first calls then include the compilation: the timing checks keep their warm-up call out of the
rounds and report it apart (`first_call_s`, and `warm_up_overhead_s`: its time above the
steady-state median, i.e. the compilation)."""


def _apply_on_cuda(adapter: Any, precision: Precision, device: str) -> Any:
    """Move the adapter to the GPU in the precision's float dtype (after checking its weights fit
    in the free memory), then quantize its Linear layers with the precision's torchao config."""
    import torch

    from audit.devices import require_fits

    dtype = getattr(torch, precision.float_dtype(device))
    need = bytes_on_device(adapter, dtype)
    require_fits(adapter.info.name, need, device, f"{precision.name}: {precision.float_dtype(device)} before quantization" if precision.quantized else precision.name)
    adapter.to(device=device, dtype=dtype)
    if precision.quantized:
        adapter.quantization = require_quantized_share(adapter.info.name, _torchao_cuda(adapter, precision.name))
    adapter.info.precision = precision.name
    adapter.info.device = device
    return adapter


def bytes_on_device(adapter: Any, dtype: "torch.dtype") -> int:
    """Bytes the adapter's networks will add on a GPU once their float tensors are `dtype`:
    tensors already on one count nothing; each storage counts once."""
    import torch

    size = torch.empty((), dtype=dtype).element_size()
    seen: set[int] = set()
    total = 0
    for root in {id(m): m for m in _roles(adapter).values()}.values():
        for t in list(root.parameters()) + list(root.buffers()):
            ptr = storage_ptr(t)
            if ptr in seen or t.device.type == "cuda" or t.is_meta:
                continue
            if ptr is not None:
                seen.add(ptr)
            total += t.numel() * (size if t.is_floating_point() else t.element_size())
    return total


def cuda_configs() -> dict[str, tuple[Callable[[int], Any], str, str]]:
    """Precision -> (torchao config for a layer of that input width, scheme, backend)."""
    from torchao.quantization import (
        Float8DynamicActivationFloat8WeightConfig,
        Int4WeightOnlyConfig,
        Int8DynamicActivationInt8WeightConfig,
        Int8WeightOnlyConfig,
        PerRow,
    )
    from torchao.quantization.quantize_.workflows import Int4PackingFormat

    return {
        "int8": (lambda k: Int8DynamicActivationInt8WeightConfig(),
                 "int8 weights per output channel (symmetric), int8 activations per token computed at run time; bf16 outside",
                 "torchao Int8DynamicActivationInt8WeightConfig (CUDA: torch._int_mm)"),
        "int8wo": (lambda k: Int8WeightOnlyConfig(),
                   "int8 weights per output channel (symmetric); bf16 activations",
                   "torchao Int8WeightOnlyConfig (CUDA)"),
        "int4wo": (lambda k: Int4WeightOnlyConfig(group_size=int4_group(k) or 128, int4_packing_format=Int4PackingFormat.TILE_PACKED_TO_4D),
                   "int4 weights, asymmetric, per group of 128 input channels (64 or 32 where needed); bf16 activations",
                   "torchao Int4WeightOnlyConfig, tile_packed_to_4d (tinygemm torch.ops.aten._weight_int4pack_mm, CUDA)"),
        "fp8": (lambda k: Float8DynamicActivationFloat8WeightConfig(granularity=PerRow()),
                "float8 e4m3 weights per output channel and activations per token (scales at run time); bf16 outside",
                "torchao Float8DynamicActivationFloat8WeightConfig, PerRow (torch._scaled_mm, CUDA)"),
    }


def _is_quantized_weight(weight: Any) -> bool:
    """torchao replaces a quantized layer's weight by a tensor subclass; a plain one was skipped."""
    import torch

    return type(weight) not in (torch.Tensor, torch.nn.Parameter)


def _torchao_cuda(adapter: Any, name: str) -> QuantizationSummary:
    """Quantize every Linear of the adapter's networks (on the GPU, bf16) with torchao's config
    for `name`; a layer torchao leaves in float or refuses is listed with the reason."""
    import torch

    try:
        from torchao.quantization import quantize_

        make, scheme, backend = cuda_configs()[name]
    except Exception as exc:  # missing, or built for another torch
        raise UnsupportedPrecision(f"precision '{name}' on CUDA needs torchao (pip install 'torchao>=0.18,<0.19'): {type(exc).__name__}: {exc}") from None
    found, kept, total = _require_linears(adapter, name)
    compile_graph = os.environ.get(CUDA_COMPILE_ENV, "") == "1"
    summary = QuantizationSummary(name, backend, scheme, "torch.compile (inductor)" if compile_graph else "eager",
                                  kept_float=kept, total_params=total)
    for qname, parent, attr, layer in found:
        if name == "int4wo" and not int4_group(layer.in_features):
            summary.kept_float[qname] = f"input width {layer.in_features} is not a multiple of 32 (the kernel's smallest group)"
            continue
        holder = torch.nn.Sequential(layer)  # quantize_ replaces children: quantize this layer alone
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                quantize_(holder, make(layer.in_features))
        except Exception as exc:
            summary.kept_float[qname] = f"torchao refused it: {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
            continue
        if not _is_quantized_weight(holder[0].weight):
            summary.kept_float[qname] = "torchao left it in float (its shape does not fit the kernel)"
            continue
        setattr(parent, attr, holder[0])
        summary.quantized.append(qname)
        summary.quantized_params += layer.weight.numel() + (layer.bias.numel() if layer.bias is not None else 0)
    if not summary.quantized:
        refused = sorted({summary.kept_float[qname] for qname, *_ in found})
        raise UnsupportedPrecision(f"precision '{name}': no Linear layer of model '{adapter.info.name}' could be quantized on CUDA ({'; '.join(refused)}).")
    if compile_graph:
        for root in {id(m): m for m in _roles(adapter).values()}.values():
            root.compile()
    return summary


# --- sizes --------------------------------------------------------------------------------------


def module_weight_bytes(root: "torch.nn.Module", seen: set[tuple[str, int]] | None = None) -> int:
    """Bytes of the weights a module holds, as stored: parameters, buffers and graph constants
    (each storage and module once, so tied weights count once; `seen`, shared across calls, holds
    what was counted already), packed int8 weights of torch.ao dynamic Linear layers at one byte
    per weight plus a float32 scale and int32 zero point per channel."""
    import torch

    seen = set() if seen is None else seen
    total = 0

    def add(t: Any) -> None:
        nonlocal total
        if not isinstance(t, torch.Tensor) or t.is_meta:
            return
        if t.is_quantized:
            total += packed_bytes(t)
            return
        if type(t) not in (torch.Tensor, torch.nn.Parameter) and hasattr(t, "__tensor_flatten__"):
            names, _ = t.__tensor_flatten__()  # a tensor subclass (torchao): count its inner tensors
            for inner in names:
                add(getattr(t, inner))
            return
        ptr = storage_ptr(t)
        if ptr is None:
            total += t.numel() * t.element_size()
            return
        if ("storage", ptr) in seen:
            return
        seen.add(("storage", ptr))
        total += t.untyped_storage().nbytes()

    for module in root.modules():
        if ("module", id(module)) in seen:
            continue
        seen.add(("module", id(module)))
        for t in list(module._parameters.values()) + list(module._buffers.values()):
            add(t)
        if type(module).__name__ == "LinearPackedParams":  # torch.ao dynamic Linear's packed weight
            weight, bias = module._weight_bias()  # unpacked afresh on each call: never deduplicated
            total += packed_bytes(weight) + (bias.numel() * bias.element_size() if bias is not None else 0)
        if isinstance(module, torch.fx.GraphModule):
            for value in vars(module).values():
                add(value)
    return total


def packed_bytes(t: "torch.Tensor") -> int:
    """A quantized tensor as fbgemm packs it: one byte per int8 weight, a float32 scale and an
    int32 zero point per channel (per tensor: one of each)."""
    import torch

    per_channel = t.qscheme() in (torch.per_channel_affine, torch.per_channel_symmetric, torch.per_channel_affine_float_qparams)
    channels = t.q_per_channel_scales().numel() if per_channel else 1
    return t.numel() * t.element_size() + channels * 8


def resolve(adapter: Any, name: str) -> "torch.nn.Module":
    """The module behind a qualified name `role.path` (as QuantizationSummary lists them)."""
    role, _, path = name.partition(".")
    root = _roles(adapter)[role]
    return root.get_submodule(path) if path else root


def weights_bytes(adapter: Any) -> int:
    """Bytes of every network the adapter runs: each module and storage once, however many
    roles of `modules()` list it or a network inside it."""
    seen: set[tuple[str, int]] = set()
    return sum(module_weight_bytes(m, seen) for m in _roles(adapter).values())
