"""Weights are hashed once per process (planning and loading both verify them), and never from
a stale cache: a file rewritten in place is hashed anew, even within one timestamp tick."""

from __future__ import annotations

import hashlib
import json
import os
import time

import pytest

import audit.weights as weights
from audit.errors import WeightsError


def _write(folder, name: str, payload: bytes, sha: str | None = None) -> None:
    (folder / f"{name}.bin").write_bytes(payload)
    manifest = {"name": name, "file": f"{name}.bin", "sha256": sha or hashlib.sha256(payload).hexdigest()}
    (folder / f"{name}.json").write_text(json.dumps(manifest))


class _Later:
    """The clock a minute from now: the file just written has settled."""

    @staticmethod
    def time() -> float:
        return time.time() + 60


def test_settled_file_is_hashed_once(tmp_path, monkeypatch):
    _write(tmp_path, "m", b"a" * 1000)
    monkeypatch.setattr(weights, "time", _Later)
    calls = []
    real = weights.sha256_file
    monkeypatch.setattr(weights, "sha256_file", lambda p: calls.append(p) or real(p))
    first = weights.verified_weights("m", tmp_path)
    second = weights.verified_weights("m", tmp_path)
    assert first == second and first[1] == hashlib.sha256(b"a" * 1000).hexdigest()
    assert len(calls) == 1


def test_rewrite_with_same_size_and_mtime_is_caught(tmp_path, monkeypatch):
    """A corrupted copy with the same size and the same timestamp (as `shutil.copy2` leaves, or a
    rewrite within one tick) is not served from the cache, even once the files have settled."""
    good = b"a" * 1000
    _write(tmp_path, "m", good)
    monkeypatch.setattr(weights, "time", _Later)
    stamp = time.time() - 60
    os.utime(tmp_path / "m.bin", (stamp, stamp))
    weights.verified_weights("m", tmp_path)
    os.remove(tmp_path / "m.bin")  # a new file (new inode) with the same size and mtime
    (tmp_path / "m.bin").write_bytes(b"b" * 1000)
    os.utime(tmp_path / "m.bin", (stamp, stamp))
    with pytest.raises(WeightsError, match="corrupt"):
        weights.verified_weights("m", tmp_path)


def test_fresh_file_is_never_cached(tmp_path):
    """A file modified moments ago may be rewritten within the same tick: always hashed anew."""
    _write(tmp_path, "m", b"a" * 1000)
    weights.verified_weights("m", tmp_path)
    stat = (tmp_path / "m.bin").stat()
    with open(tmp_path / "m.bin", "r+b") as fh:  # same inode, same size
        fh.write(b"b")
    os.utime(tmp_path / "m.bin", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with pytest.raises(WeightsError, match="corrupt"):
        weights.verified_weights("m", tmp_path)
