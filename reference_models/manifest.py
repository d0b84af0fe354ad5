"""Bundled weights: safetensors files with a JSON manifest, verified by sha256 on load.

`AUDIT_WEIGHTS_DIR` points loading at another folder (e.g. weights rebuilt by `audit train`, which
writes to ./weights by default, never into this package; maintainers rebuilding the bundled
weights say `out=reference_models/weights`).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audit.errors import WeightsError

if TYPE_CHECKING:
    import torch

PACKAGE_WEIGHTS = Path(__file__).parent / "weights"


def weights_dir() -> Path:
    return Path(os.environ.get("AUDIT_WEIGHTS_DIR") or PACKAGE_WEIGHTS)


def rebuild_hint(name: str) -> str:
    """The command that rebuilds `name` where loading looks for it (`audit train` alone writes
    to ./weights, which loading reads only through AUDIT_WEIGHTS_DIR)."""
    return f"`audit train model={name} out={weights_dir()}`"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_arrays(*arrays: Any) -> str:
    """A stable hash of numpy arrays (dtype, shape and bytes), for data fingerprints."""
    digest = hashlib.sha256()
    for a in arrays:
        digest.update(f"{a.dtype}{a.shape}".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def read_manifest(name: str, folder: Path | None = None) -> dict[str, Any]:
    path = (folder or weights_dir()) / f"{name}.json"
    if not path.is_file():
        raise WeightsError(f"Manifest for '{name}' not found at {path}; rebuild it with {rebuild_hint(name)}.")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise WeightsError(f"Manifest {path} is not valid JSON: {exc}.") from None


def verified_weights(name: str) -> tuple[Path, str]:
    """The weights file of `name` after checking it exists and matches its manifest's sha256."""
    manifest = read_manifest(name)
    path = weights_dir() / manifest["file"]
    if not path.is_file():
        raise WeightsError(f"Weights file for '{name}' not found at {path}; rebuild it with {rebuild_hint(name)}.")
    actual = sha256_file(path)
    if actual != manifest["sha256"]:
        raise WeightsError(
            f"Weights file {path} is corrupt: sha256 {actual[:12]}... does not match the manifest's "
            f"{manifest['sha256'][:12]}...; rebuild it with {rebuild_hint(name)}."
        )
    return path, actual


def load_state(name: str) -> tuple[dict[str, "torch.Tensor"], str]:
    """Verified tensors of `name` and their sha256."""
    from safetensors.torch import load_file

    path, digest = verified_weights(name)
    try:
        return load_file(str(path)), digest
    except Exception as exc:
        raise WeightsError(f"Weights file {path} cannot be read as safetensors: {exc}.") from None


def save_weights(
    name: str,
    state: dict[str, "torch.Tensor"],
    out_dir: Path,
    **manifest: Any,
) -> Path:
    """Write `<name>.safetensors` and `<name>.json` (sha256, params, config, metrics...)."""
    import torch
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.safetensors"
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}
    save_file(tensors, str(path))
    record = {
        "name": name,
        "file": path.name,
        "sha256": sha256_file(path),
        "bytes": path.stat().st_size,
        "params": int(sum(t.numel() for t in tensors.values() if t.is_floating_point())),
        "torch": torch.__version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **manifest,
    }
    (out_dir / f"{name}.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return path
