"""Precision variants applied to an adapter: one `precision=` word per variant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from audit.errors import AuditError
from audit.registry import did_you_mean
from audit.errors import UnknownNameError


class UnsupportedPrecision(AuditError):
    """This precision cannot run for this model or device; its checks are `skipped`."""


@dataclass(frozen=True)
class Precision:
    name: str
    description: str
    dtype: str
    needs_cuda: bool = False


PRECISIONS: dict[str, Precision] = {
    p.name: p
    for p in (
        Precision("fp32", "float32 weights and activations (the reference)", "float32"),
        Precision("bf16", "bfloat16 weights and activations", "bfloat16"),
        Precision("fp16", "float16 weights and activations (CUDA only)", "float16", needs_cuda=True),
    )
}


def get_precision(name: str) -> Precision:
    if name not in PRECISIONS:
        raise UnknownNameError(did_you_mean("precision", name, list(PRECISIONS)))
    return PRECISIONS[name]


def apply_precision(adapter: Any, name: str, device: str) -> Any:
    """Cast and move the adapter's modules; raise UnsupportedPrecision where it cannot run."""
    import torch

    precision = get_precision(name)
    if precision.needs_cuda and not str(device).startswith("cuda"):
        raise UnsupportedPrecision(f"precision '{name}' needs a CUDA device; this run is on '{device}'.")
    adapter.to(device=device, dtype=getattr(torch, precision.dtype))
    adapter.info.precision = name
    adapter.info.device = str(device)
    return adapter
