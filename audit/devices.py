"""The device a run uses and what its GPU offers.

Every CUDA probe the harness's decisions rest on goes through the functions here
(`cuda_available`, `cuda_capability`, `cuda_memory`, `cuda_name`), so those decisions —
`device=auto` picks CUDA when present, `device=cuda` without CUDA is bad input (exit 2), a
precision that needs a newer GPU is skipped with the reason, a model too big for the GPU stops
with its size and the free memory before its weights are moved there — are tested on a machine
without a GPU by replacing the probes. torch is imported inside the functions (light start).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit.errors import AuditError, InputError

GIB = 1024**3
MIB = 1024**2
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt")
"""Files counted as a model folder's weights when its size is read before loading."""


class ModelTooLarge(AuditError):
    """The model's weights do not fit in the GPU's free memory: an error record of that model."""


def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def cuda_capability(device: str = "cuda") -> tuple[int, int]:
    """(major, minor) compute capability of the GPU behind `device`."""
    import torch

    major, minor = torch.cuda.get_device_capability(device)
    return int(major), int(minor)


def cuda_memory(device: str = "cuda") -> tuple[int, int]:
    """(free, total) bytes of the GPU behind `device`, as the driver reports them (other
    processes' allocations and this process's cached blocks count as used)."""
    import torch

    free, total = torch.cuda.mem_get_info(device)
    return int(free), int(total)


def cuda_name(device: str = "cuda") -> str:
    import torch

    return str(torch.cuda.get_device_name(device))


def is_cuda(device: Any) -> bool:
    return str(device).startswith("cuda")


def resolve_device(device: str) -> str:
    """`device` as the run will use it: `auto` is CUDA when a CUDA device is present, else CPU;
    `cuda` (or `cuda:N`) without one is bad input."""
    if device == "auto":
        return "cuda" if cuda_available() else "cpu"
    if is_cuda(device) and not cuda_available():
        raise InputError(f"device={device} was asked for, but no CUDA device is available (torch.cuda.is_available() is False).")
    return device


def capability_shortfall(minimum: tuple[int, int] | None, device: str) -> str | None:
    """Why the GPU behind `device` is too old for a kernel needing compute capability `minimum`
    (None when it is new enough, or when nothing is needed)."""
    if minimum is None:
        return None
    have = cuda_capability(device)
    if have >= tuple(minimum):
        return None
    return (f"needs a GPU of compute capability {minimum[0]}.{minimum[1]} or newer; {cuda_name(device)} is "
            f"{have[0]}.{have[1]}")


def size_words(n: float) -> str:
    """Bytes as GiB (two decimals) from 1 GiB up, MiB (one decimal) from 1 MiB up, else bytes."""
    if n >= GIB:
        return f"{n / GIB:.2f} GiB"
    return f"{n / MIB:.1f} MiB" if n >= MIB else f"{int(n)} bytes"


def fit_problem(model: str, need_bytes: int, device: str, what: str) -> str | None:
    """One line when `need_bytes` (the model's weights as they will sit on the GPU, `what`
    says in which form) exceed the free memory of the GPU behind `device`; None when they fit."""
    free, total = cuda_memory(device)
    if need_bytes <= free:
        return None
    return (f"model '{model}' needs {size_words(need_bytes)} of GPU memory for its weights ({what}), more than the "
            f"{size_words(free)} free on {device} ({size_words(total)} in all); free the GPU, use a smaller precision or device=cpu.")


def require_fits(model: str, need_bytes: int | None, device: str, what: str) -> None:
    """ModelTooLarge (one line) when the weights cannot fit; nothing when the size is unknown or
    the device is not CUDA."""
    if not need_bytes or not is_cuda(device):
        return
    problem = fit_problem(model, need_bytes, device, what)
    if problem:
        raise ModelTooLarge(problem)


def folder_weights_bytes(path: str | Path) -> int | None:
    """Bytes of the weights files of a model file or folder (`hf:`, `torchscript:`, `diffusers:`
    words); None when there is nothing to count."""
    p = Path(path)
    if p.is_file():
        return p.stat().st_size
    if not p.is_dir():
        return None
    total = sum(f.stat().st_size for f in p.rglob("*") if f.is_file() and f.suffix in WEIGHT_SUFFIXES)
    return total or None


__all__ = [
    "ModelTooLarge", "capability_shortfall", "cuda_available", "cuda_capability", "cuda_memory", "cuda_name",
    "fit_problem", "folder_weights_bytes", "is_cuda", "require_fits", "resolve_device", "size_words",
]
