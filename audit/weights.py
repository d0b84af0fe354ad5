"""Weights files with a JSON manifest (sha256, parameter count, training record), verified on load.

A plugin declares the folder its weights ship in (a registry entry's `weights_folder`);
`AUDIT_WEIGHTS_DIR` points loading at another folder instead (e.g. weights rebuilt by `audit
train`, which writes to ./weights by default, never into an installed package). Nothing here
imports torch at module level, so listing models stays light.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Protocol

from audit.errors import WeightsError

if TYPE_CHECKING:
    import torch

__all__ = [
    "WEIGHTS_DIR_ENV",
    "DeclaresWeights",
    "load_state",
    "manifest_params",
    "read_manifest",
    "rebuild_hint",
    "save_weights",
    "sha256_arrays",
    "sha256_file",
    "verified_weights",
    "verify_entry_weights",
    "weights_dir",
]

WEIGHTS_DIR_ENV = "AUDIT_WEIGHTS_DIR"


class DeclaresWeights(Protocol):
    """A registry entry (audit.registry.Entry): its metadata may name `weights` and `weights_folder`."""

    metadata: Mapping[str, Any]


def weights_dir(declared: Path | None) -> Path:
    """The folder weights load from: AUDIT_WEIGHTS_DIR when set, else the folder the plugin declares."""
    folder = os.environ.get(WEIGHTS_DIR_ENV) or declared
    if folder is None:
        raise WeightsError(f"No weights folder declared; set {WEIGHTS_DIR_ENV}=<folder>.")
    return Path(folder)


def rebuild_hint(name: str, folder: Path) -> str:
    """The command that rebuilds `name` where loading looks for it (`audit train` alone writes
    to ./weights, which loading reads only through AUDIT_WEIGHTS_DIR)."""
    return f"`audit train model={name} out={folder}`"


def sha256_file(path: Path) -> str:
    """The sha256 of a file's bytes, read in 1 MiB blocks."""
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


def read_manifest(name: str, folder: Path) -> dict[str, Any]:
    """The manifest `<folder>/<name>.json`, or WeightsError saying how to rebuild it."""
    path = folder / f"{name}.json"
    if not path.is_file():
        raise WeightsError(f"Manifest for '{name}' not found at {path}; rebuild it with {rebuild_hint(name, folder)}.")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise WeightsError(f"Manifest {path} is not valid JSON: {exc}.") from None


def manifest_params(name: str, folder: Path) -> int | None:
    """Parameter count from a manifest, read without importing torch; None when unknown."""
    try:
        return int(json.loads((folder / f"{name}.json").read_text())["params"])
    except (OSError, KeyError, ValueError):
        return None


_DIGESTS: dict[tuple[Any, ...], str] = {}
RACY_SECONDS = 2.0


def _file_digest(path: Path) -> str:
    """sha256 of a weights file, hashed once per process while the file stays the same (same
    device, inode, size, modification and change times; the change time cannot be set back, so a
    rewrite whose mtime is restored still misses): planning verifies it, loading verifies it again.
    A file changed in the last RACY_SECONDS is always hashed anew: file timestamps are coarse, so
    a rewrite within the same tick would keep every key field (git's "racy" files)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    if key in _DIGESTS:
        return _DIGESTS[key]
    digest = sha256_file(path)
    if time.time() - max(stat.st_mtime, stat.st_ctime) > RACY_SECONDS:
        _DIGESTS[key] = digest
    return digest


def verified_weights(name: str, folder: Path) -> tuple[Path, str]:
    """The weights file of `name` after checking it exists and matches its manifest's sha256."""
    manifest = read_manifest(name, folder)
    path = folder / manifest["file"]
    if not path.is_file():
        raise WeightsError(f"Weights file for '{name}' not found at {path}; rebuild it with {rebuild_hint(name, folder)}.")
    actual = _file_digest(path)
    if actual != manifest["sha256"]:
        raise WeightsError(
            f"Weights file {path} is corrupt: sha256 {actual[:12]}... does not match the manifest's "
            f"{manifest['sha256'][:12]}...; rebuild it with {rebuild_hint(name, folder)}."
        )
    return path, actual


def verify_entry_weights(entry: DeclaresWeights) -> None:
    """Verify every weights file a registry entry declares (`weights` names, in its
    `weights_folder` or AUDIT_WEIGHTS_DIR), so a run fails before it starts, not midway."""
    names = entry.metadata.get("weights", ())
    if names:
        folder = weights_dir(entry.metadata.get("weights_folder"))
        for name in names:
            verified_weights(name, folder)


def load_state(name: str, folder: Path) -> tuple[dict[str, "torch.Tensor"], str]:
    """Verified tensors of `name` and their sha256."""
    from safetensors.torch import load_file

    path, digest = verified_weights(name, folder)
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


def check_safetensors_folder(word: str, folder: Path, saver: str) -> None:
    """The folder holds *.safetensors weights, each with a readable header (only safetensors are
    loaded); InputError naming `word` and how to re-save with `<saver>.save_pretrained` otherwise."""
    from audit.errors import InputError

    weights = sorted(folder.glob("*.safetensors"))
    if not weights:
        raise InputError(
            f"Model '{word}': '{folder}' has no *.safetensors weights (only safetensors are loaded; "
            f"re-save with {saver}.save_pretrained(folder, safe_serialization=True))."
        )
    for path in weights:
        check_safetensors_header(word, path, saver)


def check_safetensors_header(word: str, path: Path, saver: str = "model") -> None:
    """Read a weights file's header (memory-mapped, no tensor is loaded): random bytes, a
    truncated file or a bad header is bad input now, not an error when the run loads the model."""
    from safetensors import safe_open

    from audit.errors import InputError
    from audit.messages import one_line

    try:
        with safe_open(str(path), "pt") as fh:
            fh.keys()
    except Exception as exc:
        raise InputError(
            f"Model '{word}': '{path.name}' is not a readable safetensors file ({one_line(exc, 200)}); re-save it with {saver}.save_pretrained."
        ) from None
