"""The run fingerprint: what produced these numbers (versions, device, seeds, file hashes)."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("audit", "torch", "numpy", "scipy", "scikit-learn", "torchmetrics", "fairlearn", "transformers", "safetensors")
DISTRIBUTIONS = {"audit": "generative-model-audit"}
"""Packages installed under another distribution name (the import name stays the fingerprint's key)."""


def package_version(package: str) -> str | None:
    try:
        return metadata.version(DISTRIBUTIONS.get(package, package))
    except metadata.PackageNotFoundError:
        return None


def git_commit() -> str | None:
    """The commit of the audit checkout, where it is a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_description(device: str) -> str:
    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    return f"{cpu_name()} ({torch.get_num_threads()} threads)"


def environment_fingerprint(device: str) -> dict[str, Any]:
    import torch

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {p: package_version(p) for p in PACKAGES},
        "torch_cuda": torch.version.cuda,
        "device": device,
        "device_name": device_description(device),
        "git_commit": git_commit(),
    }
