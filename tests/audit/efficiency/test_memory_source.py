"""The memory probe (audit/efficiency/memory.py) rebuilds the model from what built it (the plan
item's target and arguments), never by its name: a models-file entry named "gan-collapsed" is
measured as its own factory's model, and an adapter object, which a fresh process cannot rebuild,
is a skip that says so instead of another model's numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

import audit
from audit.adapters.loading import ModelSpec
from audit.context import CheckContext
from audit.efficiency.memory import peak_memory_of, probe, rebuilt_spec, source_dict
from audit.errors import NotApplicable
from audit.sample_store import SampleStore


def test_the_child_loads_the_entry_s_factory_not_the_model_its_name_is():
    spec = {"kind": "model", "model": "gan-collapsed", "source": source_dict("gan-collapsed", ModelSpec("gan-collapsed", "fixture_models:noise")),
            "precision": "fp32", "family": "gan"}
    result = probe(spec)
    assert result["weights_bytes"] < 1024, result  # UniformNoise's one-weight net; the bundled gan-collapsed holds far more


def test_arguments_reach_the_factory_converted_as_at_plan_time(tmp_path: Path):
    ckpt = tmp_path / "epoch10.json"
    source = source_dict("gan-collapsed", ModelSpec("gan-collapsed", "checkpoint_models:noisy_gan", (("ckpt", ckpt), ("scale", 0.5))))
    rebuilt = rebuilt_spec({"model": "gan-collapsed", "source": source})
    assert (rebuilt.name, rebuilt.target, rebuilt.args) == ("gan-collapsed", "checkpoint_models:noisy_gan", (("ckpt", ckpt), ("scale", 0.5)))


def test_an_adapter_object_is_not_measured_as_the_model_it_is_named_after(tmp_path: Path):
    from fixture_models import noise

    model = noise()
    ctx = CheckContext(adapter=model, model="gan-collapsed", precision="fp32", seed=0, n=8, bootstrap=10,
                       store=SampleStore(lambda: None, lambda: None), artifact_dir=tmp_path, source=ModelSpec("gan-collapsed", adapter=model))
    with pytest.raises(NotApplicable, match="adapter object"):
        peak_memory_of(ctx, ctx.model, "fp32")


def test_an_efficiency_run_skips_the_peak_memory_of_an_object_with_the_reason(tmp_path: Path):
    from fixture_models import noise

    result = audit.run("efficiency", {"gan-collapsed": noise()}, check="efficiency.peak_memory_mib", n=16, out=tmp_path)
    record = result.record("efficiency.peak_memory_mib", "gan-collapsed")
    assert record["status"] == "skipped" and "adapter object" in record["reason"], record
