"""`CheckContext.fp32_adapter` (audit/context.py) rebuilds the float32 reference from what built the
model (its plan item's source), never by its name: an adapter object or a models-file entry may be
named like another registered model ("gan"), which would be compared instead."""

from __future__ import annotations

import runpy
from pathlib import Path

import audit
from audit.adapters.loading import ModelSpec
from audit.context import CheckContext
from audit.sample_store import SampleStore

ROOT = Path(__file__).resolve().parents[2]
TinyNet = runpy.run_path(str(ROOT / "examples" / "python_api.py"), run_name="python_api")["TinyGenerator"]
"""The README's seeded random generator: its bf16 variant is close to its fp32 build, far from the bundled GAN."""


def context(model: str, source: ModelSpec, tmp_path: Path) -> CheckContext:
    store = SampleStore(lambda: None, lambda: None)
    return CheckContext(adapter=TinyNet(), model=model, precision="bf16", seed=0, n=8, bootstrap=10, store=store,
                        artifact_dir=tmp_path, source=source)


def test_an_object_named_like_a_bundled_model_is_its_own_reference(tmp_path: Path):
    model = TinyNet()
    assert context("gan", ModelSpec("gan", adapter=model), tmp_path).fp32_adapter() is model


def test_a_named_factory_entry_is_rebuilt_from_its_factory(tmp_path: Path):
    from fixture_models import UniformNoise

    reference = context("gan-collapsed", ModelSpec("gan-collapsed", "fixture_models:noise"), tmp_path).fp32_adapter()
    assert type(reference) is UniformNoise


def test_a_quantization_run_compares_an_object_called_gan_with_itself(tmp_path: Path):
    result = audit.run("quantization", {"gan": TinyNet()}, check="quantization.psnr", precision=["fp32", "bf16"],
                       n=16, bootstrap=20, cache="off", out=tmp_path)
    record = result.record("quantization.psnr", "gan", "bf16")
    assert record["status"] == "measured" and record["value"] > 30, record  # against the bundled GAN: about 10 dB
