"""The sample cache's key holds the code that makes a model's outputs (audit.sample_cache): the
factory module a model word names and functions set on the adapter object, not only the adapter
class's file. A factory wrapping a bundled adapter (`sample` times SCALE) had read its old
samples back after SCALE was edited: FID 2154 instead of 77.8."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from audit.sample_cache import cache_key, sample_parts

FACTORY = '''
import functools
from types import SimpleNamespace

SCALE = {scale}


def make():
    """An object of a class defined elsewhere, whose sample holds no code of this file: only
    the factory's module tells the two SCALEs apart."""
    info = SimpleNamespace(weights={{"g.safetensors": "a" * 64}}, device="cpu")
    return SimpleNamespace(info=info, capabilities=frozenset({{"sample"}}), num_classes=None, sample=functools.partial(max, SCALE))
'''


@pytest.fixture
def module_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("cache_key_factory", None)
    sys.modules.pop("cache_key_sampler", None)


def _key(folder: Path, scale: float) -> str:
    (folder / "cache_key_factory.py").write_text(FACTORY.format(scale=scale))
    sys.modules.pop("cache_key_factory", None)
    importlib.invalidate_caches()
    adapter = importlib.import_module("cache_key_factory").make()
    parts = sample_parts(adapter, ("mine", "fp32", 0, 8), {"target": "cache_key_factory:make", "args": {}}, None)
    assert isinstance(parts, dict)
    return cache_key(parts)


def test_editing_the_factory_module_changes_the_key(module_folder: Path):
    assert _key(module_folder, 0.5) == _key(module_folder, 0.5)
    assert _key(module_folder, 0.5) != _key(module_folder, 1.0)


def test_editing_a_function_set_on_the_object_changes_the_key(module_folder: Path):
    """The wrapper lives in a third file, neither the class's nor the factory's."""
    class Adapter:
        capabilities = frozenset({"sample"})
        num_classes = None

        def __init__(self) -> None:
            self.info = SimpleNamespace(weights={"g.safetensors": "a" * 64}, device="cpu")

    def key(body: str) -> str:
        (module_folder / "cache_key_sampler.py").write_text(f"def sample(n, seed, labels=None):\n    return {body}\n")
        sys.modules.pop("cache_key_sampler", None)
        importlib.invalidate_caches()
        adapter = Adapter()
        adapter.sample = importlib.import_module("cache_key_sampler").sample
        parts = sample_parts(adapter, ("mine", "fp32", 0, 8), {"target": "mine", "args": {}}, None)
        assert isinstance(parts, dict)
        return cache_key(parts)

    assert key("1") == key("1") and key("1") != key("2")
