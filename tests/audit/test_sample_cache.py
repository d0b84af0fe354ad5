"""The persistent sample cache (audit/sample_cache.py): exact round trips, corrupt entries are
misses, least-recently-used eviction under the size limit, and a key that changes with every part."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from audit.errors import InputError
from audit.sample_cache import SampleCache, cache_key, default_cache_dir, default_max_bytes, sample_parts


def arrays(seed: int = 0, size: int = 1000) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"images": rng.random((size, 1, 4, 4), dtype=np.float32), "labels": np.arange(size, dtype=np.int64) % 10}


def test_round_trip_is_exact(tmp_path: Path):
    cache = SampleCache(tmp_path)
    stored = arrays()
    assert cache.put("k1", "samples", stored, {"prompts": ["a", "b"]})
    found = cache.get("k1", "samples")
    assert found is not None
    got, extra = found
    assert extra == {"prompts": ["a", "b"]}
    for name, value in stored.items():
        assert got[name].dtype == value.dtype and np.array_equal(got[name], value)
    assert cache.get("k2", "samples") is None and cache.get("k1", "features") is None
    assert (tmp_path / "index.json").is_file()


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip", "empty"])
def test_a_corrupt_entry_is_a_miss_and_is_removed(tmp_path: Path, damage: str):
    cache = SampleCache(tmp_path)
    cache.put("k", "samples", arrays())
    path = tmp_path / "k.npz"
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "garbage":
        data = bytearray(b"not a zip file at all" * 10)
    elif damage == "flip":  # one bit inside the image array's bytes (the zip's CRC or our sha256 catches it)
        data[len(data) // 3] ^= 0x01
    else:
        data = bytearray()
    path.write_bytes(bytes(data))
    assert cache.get("k", "samples") is None
    assert not path.exists()


def test_an_entry_under_another_name_is_a_miss(tmp_path: Path):
    cache = SampleCache(tmp_path)
    cache.put("k", "samples", arrays())
    os.replace(tmp_path / "k.npz", tmp_path / "other.npz")
    assert cache.get("other", "samples") is None


def test_eviction_keeps_the_folder_under_the_limit_least_recently_used_first(tmp_path: Path):
    probe = SampleCache(tmp_path / "probe")
    probe.put("p", "samples", arrays(0))
    size = (tmp_path / "probe" / "p.npz").stat().st_size
    cache = SampleCache(tmp_path / "c", max_bytes=int(size * 2.5))
    cache.put("a", "samples", arrays(1))
    cache.put("b", "samples", arrays(2))
    os.utime(tmp_path / "c" / "a.npz", (1_000, 1_000))
    os.utime(tmp_path / "c" / "b.npz", (2_000, 2_000))
    assert cache.get("a", "samples") is not None  # a is now the most recently used
    cache.put("c", "samples", arrays(3))
    names = sorted(p.name for p in (tmp_path / "c").glob("*.npz"))
    assert names == ["a.npz", "c.npz"]
    assert cache.info().total_bytes <= cache.max_bytes
    assert not cache.put("huge", "samples", arrays(4, size=10_000))  # larger than the limit: not stored
    assert not (tmp_path / "c" / "huge.npz").exists()


def test_info_and_clear(tmp_path: Path):
    cache = SampleCache(tmp_path, max_bytes=10**9)
    cache.put("a", "samples", arrays(1))
    cache.put("b", "features", arrays(2))
    info = cache.info()
    on_disk = sum(p.stat().st_size for p in tmp_path.glob("*.npz"))
    assert (info.entries, info.total_bytes, info.max_bytes) == (2, on_disk, 10**9)
    assert info.oldest <= info.newest
    assert cache.clear() == 2
    assert cache.info().entries == 0 and not list(tmp_path.glob("*.npz"))


def test_cache_folder_and_limit_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("AUDIT_CACHE_DIR", str(tmp_path / "x"))
    assert default_cache_dir() == tmp_path / "x"
    monkeypatch.delenv("AUDIT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "audit" / "samples"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "audit" / "samples"
    monkeypatch.setenv("AUDIT_CACHE_MAX_BYTES", "1234")
    assert default_max_bytes() == 1234
    monkeypatch.setenv("AUDIT_CACHE_MAX_BYTES", "5GB")
    with pytest.raises(InputError, match="AUDIT_CACHE_MAX_BYTES"):
        default_max_bytes()


class Adapter:
    capabilities = frozenset({"sample"})
    num_classes = 10

    def __init__(self, weights: dict[str, str] | None, device: str = "cpu") -> None:
        self.info = SimpleNamespace(weights=weights, device=device)


BASE = dict(weights={"g.safetensors": "a" * 64}, device="cpu", key=("gan", "fp32", 0, 64), source={"target": "gan", "args": {}})


def key_of(**changes) -> str:
    given = {**BASE, **changes}
    parts = sample_parts(Adapter(given["weights"], given["device"]), given["key"], given["source"], None)
    assert isinstance(parts, dict)
    return cache_key(parts)


@pytest.mark.parametrize("change", [
    {"weights": {"g.safetensors": "b" * 64}},
    {"key": ("gan", "int8", 0, 64)},
    {"key": ("gan", "fp32", 1, 64)},
    {"key": ("gan", "fp32", 0, 65)},
    {"key": ("gan2", "fp32", 0, 64)},
    {"device": "meta"},
    {"source": {"target": "gan", "args": {"steps": 10}}},
])
def test_every_part_of_the_sample_key_changes_it(change: dict):
    assert key_of(**change) != key_of()
    assert key_of() == key_of()


def test_the_code_version_is_part_of_the_key(monkeypatch: pytest.MonkeyPatch):
    import audit.sample_cache as sample_cache

    before = key_of()
    monkeypatch.setattr(sample_cache, "SAMPLER_VERSION", sample_cache.SAMPLER_VERSION + 1)
    assert key_of() != before


@pytest.mark.parametrize("weights", [None, {}, {"g.safetensors": ""}])
def test_a_model_without_declared_weights_is_never_cached(weights):
    reason = sample_parts(Adapter(weights), ("mine", "fp32", 0, 8), {}, None)
    assert isinstance(reason, str) and "weights" in reason
