"""A persistent, content-addressed cache of generated samples, evaluator features and language-model
generations, across runs.

An entry is one `.npz` file (arrays only, read with `allow_pickle=False`) named by the sha256 of
what determines its arrays (`cache_key`): for samples the model's weights sha256 (as declared,
and a digest of the parameters its `modules()` hold, computed here), the model word and its
arguments, the sha256 of the adapter's code (its class's file, the factory's module, the files of
the functions its classes define and of those set on the object), precision, device kind, seed,
n, the prompts' sha256 and the code version of the sampler; for features the samples' entry and
bytes, the evaluator's name and sha256 (and, for the reference, the data's sha256); for
generations the same model parts, the seed, the number of prompts and their sha256, max new
tokens and the decoding settings. A model that declares no weights (`info.weights`) is never
cached: its key would not change when its parameters do; nor one whose code has no source file
(`sourceless_code`: a notebook cell, exec), whose edits the key cannot see. Other state (a
constructor flag, an environment variable a factory reads) is not in the key: the store verifies
each hit by asking the model again for the first few samples (enough for every class and prompt)
or the first few prompts' texts (audit.sample_store.SampleStore.verify_count, .generations).
Writes go through a temporary file and a rename; an entry that cannot be read back exactly
(truncated, corrupt, another key, a wrong checksum) is a miss and is removed. The folder holds at
most `max_bytes`: the least recently used entries go first. `index.json` summarises the folder for
people; the files themselves are the truth.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = [
    "CACHE_DIR_ENV", "CACHE_MAX_BYTES_ENV", "DEFAULT_MAX_BYTES", "GENERATION_VERSION", "SAMPLER_VERSION", "CacheInfo",
    "SampleCache", "array_sha256", "cache_folder_problem", "cache_key", "code_version", "default_cache_dir", "default_max_bytes", "device_kind", "generation_parts",
    "sample_parts", "sourceless_code", "texts_from_array", "texts_to_array",
]

CACHE_DIR_ENV = "AUDIT_CACHE_DIR"
CACHE_MAX_BYTES_ENV = "AUDIT_CACHE_MAX_BYTES"
DEFAULT_MAX_BYTES = 5 * 1024**3
SAMPLER_VERSION = 1
"""Bump when what the store asks of a model changes (labels, prompts, dtype of the stored images):
every entry written before then becomes a miss."""
GENERATION_VERSION = 1
"""Bump when how checks ask a language model for text changes (how seeds follow batches, how
outputs are stored): every generation entry written before then becomes a miss."""
DISTRIBUTION = "generative-model-audit"
"""The installed distribution whose version enters every key."""
SUFFIX = ".npz"
META = "__meta__"
"""The array holding an entry's JSON metadata (its key, kind, extra values and array checksums) as UTF-8 bytes."""


def default_cache_dir() -> Path:
    """`$AUDIT_CACHE_DIR`, else `$XDG_CACHE_HOME/audit/samples`, else `~/.cache/audit/samples`."""
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "audit" / "samples"


def default_max_bytes() -> int:
    """`$AUDIT_CACHE_MAX_BYTES` (an integer, bytes), else DEFAULT_MAX_BYTES (5 GiB)."""
    from audit.errors import InputError

    raw = os.environ.get(CACHE_MAX_BYTES_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_BYTES
    try:
        value = int(raw)
    except ValueError:
        raise InputError(f"{CACHE_MAX_BYTES_ENV} must be a whole number of bytes, got '{raw[:40]}'.") from None
    if value < 0:
        raise InputError(f"{CACHE_MAX_BYTES_ENV} must be 0 or more bytes, got {value}.")
    return value


def cache_folder_problem(folder: Path | None = None) -> str | None:
    """Why the cache folder cannot hold entries (it cannot be created, or is not a writable
    folder), or None: a run then neither reads nor writes the cache, and says so once."""
    folder = folder or default_cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return f"the sample cache folder '{folder}' is not usable ({exc.strerror or type(exc).__name__})"
    return None


def code_version() -> str:
    """The audit version and SAMPLER_VERSION: entries of another version of the sampler are misses."""
    from importlib import metadata

    try:
        version = metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        version = "unknown"
    return f"{version}+sampler{SAMPLER_VERSION}"


def cache_key(parts: Mapping[str, Any]) -> str:
    """sha256 of `parts` as canonical JSON (sorted keys): equal parts, equal key; any change, another key."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def device_kind(device: str) -> str:
    """The device as it affects numbers: `cpu`, or `cuda:<the GPU's name>` (kernels differ by GPU),
    with the torch version (its kernels change between releases)."""
    import torch

    kind = str(device).split(":")[0]
    if kind == "cuda" and torch.cuda.is_available():
        kind = f"cuda:{torch.cuda.get_device_name(torch.device(device))}"
    return f"{kind}/torch-{torch.__version__}"


def _adapter_functions(adapter: Any) -> list[tuple[str, Any]]:
    """(qualified name, code object) of the functions that make the adapter's outputs: those its
    class and base classes define (decorators unwrapped, properties' getters included) and those
    set on the object itself (a wrapped `sample`). Methods a dataclass generates from its fields
    are left out: their code is written from the fields in the class's own source."""
    import inspect

    found: list[tuple[str, Any]] = []

    def add(name: str, value: Any, dataclass: bool = False) -> None:
        if isinstance(value, property):
            value = value.fget
        value = getattr(value, "__func__", value)
        try:
            value = inspect.unwrap(value) if callable(value) else value
        except ValueError:  # a cycle of __wrapped__
            pass
        code = getattr(value, "__code__", None)
        if code is not None and not (dataclass and name.rpartition(".")[2].startswith("__") and code.co_filename == "<string>"):
            found.append((name, code))

    for cls in type(adapter).__mro__[:-1]:
        for name, value in vars(cls).items():
            add(f"{cls.__qualname__}.{name}", value, "__dataclass_fields__" in vars(cls))
    try:
        attributes = list(vars(adapter).items())
    except TypeError:
        attributes = []
    for name, value in attributes:
        add(f"{type(adapter).__qualname__}().{name}", value)
    return found


def sourceless_code(adapter: Any) -> str | None:
    """The first function of the adapter whose code has no source file (a class defined in a
    notebook cell or by exec, its code compiled from a string), or None: such code cannot enter
    the key, so an edit of it would not change the key."""
    for name, code in _adapter_functions(adapter):
        if not Path(code.co_filename).is_file():
            return f"{name} (compiled from '{code.co_filename}')"
    return None


def _code_files(adapter: Any, source: Mapping[str, Any] | None) -> list[str]:
    """The source files whose code makes the adapter's outputs: its class's file, the module of the
    factory the model word names (`my_pkg.models:make` may wrap a bundled adapter and change what
    `sample` returns), and the files of the functions its classes define and of those set on the object."""
    import inspect
    import sys

    files: list[str] = []

    def add(obj: Any) -> None:
        try:
            path = inspect.getsourcefile(obj)
        except (OSError, TypeError):
            return
        if path and path not in files:
            files.append(path)

    add(type(adapter))
    target = str((source or {}).get("target", ""))
    if ":" in target and not target.startswith(("hf:", "torchscript:", "diffusers:")):
        module = sys.modules.get(target.split(":", 1)[0])
        if module is not None:
            add(module)
    for _, code in _adapter_functions(adapter):
        if code.co_filename not in files and Path(code.co_filename).is_file():
            files.append(code.co_filename)
    return files


def _adapter_code_sha256(adapter: Any, source: Mapping[str, Any] | None = None) -> str | None:
    """sha256 of the source files whose code makes the adapter's outputs (`_code_files`): a user's
    edited sampler or factory is another key even with the same weights. None when there is no such file."""
    contents = []
    for path in _code_files(adapter, source):
        try:
            contents.append(hashlib.sha256(Path(path).read_bytes()).digest())
        except OSError:
            continue
    return hashlib.sha256(b"".join(sorted(contents))).hexdigest() if contents else None


_MODULE_DIGESTS: "weakref.WeakKeyDictionary[Any, str | None]" = weakref.WeakKeyDictionary()


def _modules_digest(adapter: Any) -> str | None:
    """A digest, computed here, of the parameters and buffers the adapter's `modules()` hold (once
    per adapter object): the weights sha256 a model declares is its own word, and a model whose
    weights had changed under the same declaration was read its old samples from the cache. None
    when `modules()` fails or holds anything but torch modules (the key then holds the declared
    weights alone)."""
    try:
        return _MODULE_DIGESTS[adapter]
    except (KeyError, TypeError):
        pass
    import torch

    from audit.instrument_integrity import content_digest

    try:
        modules = adapter.modules()
        if not isinstance(modules, Mapping) or not all(isinstance(m, torch.nn.Module) for m in modules.values()):
            held = None
        else:
            held = hashlib.sha256(b"".join(str(name).encode() + content_digest(modules[name]) for name in sorted(modules))).hexdigest()
    except Exception:  # model code: any failure means the entry cannot be identified
        held = None
    try:
        _MODULE_DIGESTS[adapter] = held
    except TypeError:
        pass
    return held


def _model_parts(adapter: Any, model: str, precision: str, source: Mapping[str, Any] | None, what: str) -> dict[str, Any] | str:
    """What identifies the model that makes an entry (its word and arguments, weights sha256, the
    adapter's class and source sha256, precision, device kind, code version), or why its `what`
    cannot be cached (a string): a model without declared weights sha256, or whose code has no
    source file (`sourceless_code`)."""
    info = adapter.info
    weights = getattr(info, "weights", None)
    if not isinstance(weights, Mapping) or not weights or not all(isinstance(v, str) and v for v in weights.values()):
        return f"the model declares no weights sha256 (info.weights): its {what} are never cached"
    sourceless = sourceless_code(adapter)
    if sourceless is not None:
        return f"the model's code {sourceless} has no source file (a notebook cell or exec): its {what} are never cached"
    held = _modules_digest(adapter)  # None where modules() cannot be read: the declared weights alone, as before
    return {
        "model": model, "source": dict(source or {}), "weights": {str(k): v for k, v in weights.items()}, "modules": held,
        "adapter": f"{type(adapter).__module__}.{type(adapter).__qualname__}", "adapter_sha256": _adapter_code_sha256(adapter, source),
        "precision": precision, "device": device_kind(str(getattr(info, "device", "cpu"))), "code": code_version(),
    }


def sample_parts(adapter: Any, key: tuple[str, str, int, int], source: Mapping[str, Any] | None, prompts: Any) -> dict[str, Any] | str:
    """Everything that determines the samples `key` = (model word, precision, seed, n) of `adapter`,
    or why they cannot be cached (a string): a model without declared weights sha256."""
    from audit.adapters.base import TEXT_TO_IMAGE, has_capability

    model, precision, seed, n = key
    parts = _model_parts(adapter, model, precision, source, "samples")
    if isinstance(parts, str):
        return parts
    return {
        **parts, "kind": "samples", "seed": seed, "n": n, "num_classes": getattr(adapter, "num_classes", None),
        "prompts_sha256": getattr(prompts, "sha256", None) if has_capability(adapter, TEXT_TO_IMAGE) else None,
    }


def generation_parts(
    adapter: Any, model: str, precision: str, source: Mapping[str, Any] | None,
    prompts: Sequence[str], max_new_tokens: int, seed: int, decoding: Mapping[str, Any],
) -> dict[str, Any] | str:
    """Everything that determines a language model's continuations of `prompts`: the model (as for
    samples), the seed, the number of prompts, max new tokens, the decoding settings (`decoding`:
    greedy, temperature, top-k/p and how the prompts are batched, as JSON values) and the prompts'
    sha256; or why they cannot be cached (a string)."""
    parts = _model_parts(adapter, model, precision, source, "generations")
    if isinstance(parts, str):
        return parts
    return {
        **parts, "kind": "generations", "protocol": GENERATION_VERSION, "seed": int(seed), "n": len(prompts),
        "max_new_tokens": int(max_new_tokens), "decoding": dict(decoding),
        "prompts_sha256": hashlib.sha256(texts_to_array(prompts).tobytes()).hexdigest(),
    }


def texts_to_array(texts: Sequence[str]) -> np.ndarray:
    """`texts` as one uint8 array (their JSON, UTF-8): stored without pickle, read back exactly
    (a numpy string array would drop trailing NUL characters)."""
    return np.frombuffer(json.dumps(list(texts)).encode("utf-8"), dtype=np.uint8)


def texts_from_array(array: np.ndarray) -> list[str]:
    """The texts `texts_to_array` stored; ValueError unless it holds a list of str."""
    texts = json.loads(bytes(np.asarray(array, dtype=np.uint8)).decode("utf-8"))
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise ValueError("a text entry holds no list of str")
    return texts


def array_sha256(array: np.ndarray) -> str:
    """sha256 of an array's bytes (C order): an entry's checksums, and what features are keyed by."""
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


@dataclass(frozen=True)
class CacheInfo:
    """What `audit cache info` shows."""

    folder: Path
    entries: int
    total_bytes: int
    max_bytes: int
    oldest: float | None
    newest: float | None
    """Last-use times (seconds since the epoch) of the least and most recently used entries."""


@dataclass
class SampleCache:
    """The cache folder: `get` and `put` of named numpy arrays under a key; counts hits and misses."""

    folder: Path
    max_bytes: int = DEFAULT_MAX_BYTES
    hits: int = 0
    misses: int = 0
    written: list[str] = field(default_factory=list)
    """Keys this process stored, in order (`drop` removes entries written under changed code)."""

    @classmethod
    def from_environment(cls) -> "SampleCache":
        return cls(default_cache_dir(), default_max_bytes())

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}{SUFFIX}"

    def get(self, key: str, kind: str) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
        """The arrays and extra values stored under `key`, or None (a miss). An unreadable entry
        is removed; a hit marks the entry as just used (for least-recently-used eviction)."""
        path = self._path(key)
        if not path.is_file():
            self.misses += 1
            return None
        try:
            arrays, extra = self._read(path, key, kind)
        except Exception:  # truncated, not a zip, bad CRC, wrong key or checksum: a miss, never a wrong value
            with contextlib.suppress(OSError):
                path.unlink()
            self.misses += 1
            return None
        with contextlib.suppress(OSError):
            os.utime(path)
        self.hits += 1
        return arrays, extra

    @staticmethod
    def _read(path: Path, key: str, kind: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(bytes(data[META]).decode("utf-8"))
            if meta.get("key") != key or meta.get("kind") != kind:
                raise ValueError("entry holds another key")
            arrays = {name: np.array(data[name]) for name in meta["checksums"]}
        for name, digest in meta["checksums"].items():
            if array_sha256(arrays[name]) != digest:
                raise ValueError(f"checksum of '{name}' differs")
        return arrays, meta.get("extra", {})

    def put(self, key: str, kind: str, arrays: Mapping[str, np.ndarray], extra: Mapping[str, Any] | None = None) -> bool:
        """Store `arrays` (and JSON-able `extra`) under `key` atomically, then evict least recently
        used entries down to `max_bytes`. False when it was not stored (too large, disk error):
        a cache that cannot write is a slower run, never a failed one."""
        meta = {"key": key, "kind": kind, "extra": dict(extra or {}),
                "checksums": {name: array_sha256(np.asarray(a)) for name, a in arrays.items()}}
        payload = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
        payload[META] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f".{key}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
            try:
                with open(tmp, "wb") as fh:
                    np.savez(fh, **payload)
                    fh.flush()
                    os.fsync(fh.fileno())
                if tmp.stat().st_size > self.max_bytes:
                    tmp.unlink()
                    return False
                os.replace(tmp, self._path(key))
            finally:
                with contextlib.suppress(OSError):
                    tmp.unlink()
            self.evict()
        except OSError:
            return False
        stored = self._path(key).is_file()
        if stored:
            self.written.append(key)
        return stored

    def drop(self, keys: Sequence[str]) -> None:
        """Remove these entries, where they exist (e.g. features computed while a model had
        replaced the harness's code: no later run may read them)."""
        for key in keys:
            with contextlib.suppress(OSError):
                self._path(key).unlink()

    def entries(self) -> list[tuple[Path, int, float]]:
        """(file, bytes, last use) of every entry, least recently used first."""
        found = []
        if not self.folder.is_dir():
            return found
        for path in self.folder.glob(f"*{SUFFIX}"):
            with contextlib.suppress(OSError):
                stat = path.stat()
                found.append((path, stat.st_size, stat.st_mtime))
        return sorted(found, key=lambda e: (e[2], e[0].name))

    def evict(self) -> None:
        """Remove least recently used entries until the folder holds at most `max_bytes`; rewrite the index."""
        entries = self.entries()
        total = sum(size for _, size, _ in entries)
        for path, size, _ in entries:
            if total <= self.max_bytes:
                break
            with contextlib.suppress(OSError):
                path.unlink()
                total -= size
        self._write_index()

    def _write_index(self) -> None:
        """index.json: each entry's key, bytes and last use, written atomically (a summary; the files are the truth)."""
        rows = [{"key": p.name.removesuffix(SUFFIX), "bytes": size, "last_used": round(used, 3)} for p, size, used in self.entries()]
        tmp = self.folder / f".index.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            tmp.write_text(json.dumps({"written": time.time(), "entries": rows}, indent=1) + "\n", encoding="utf-8")
            os.replace(tmp, self.folder / "index.json")
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()

    def info(self) -> CacheInfo:
        entries = self.entries()
        times = [used for _, _, used in entries]
        return CacheInfo(self.folder, len(entries), sum(size for _, size, _ in entries), self.max_bytes,
                         min(times) if times else None, max(times) if times else None)

    def clear(self) -> int:
        """Remove every entry (and leftover temporary files); returns how many entries were removed."""
        removed = 0
        for path, _, _ in self.entries():
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
        if self.folder.is_dir():
            for tmp in self.folder.glob(".*.tmp"):
                with contextlib.suppress(OSError):
                    tmp.unlink()
            self._write_index()
        return removed
