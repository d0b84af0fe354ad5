"""Latent stability reaches the diffusion model through its `sample(z=...)` hook, and a model with
no latent space is `skipped` (NotApplicable), not an error."""

from __future__ import annotations

import torch

from audit.adapters import load_model
from audit.checks import check_spec, load_check_modules
from audit.context import CheckContext, SampleStore
from audit.evaluator import digits_evaluator, digits_reference


def test_diffusion_z_is_the_deterministic_ddim_latent():
    model = load_model("diffusion", "fp32", "cpu")
    labels = torch.arange(4)
    z = torch.randn(4, *model.latent_shape, generator=torch.Generator().manual_seed(3))
    a = model.sample(4, seed=0, labels=labels, steps=5, z=z)
    assert torch.equal(a, model.sample(4, seed=99, labels=labels, steps=5, z=z))  # the seed no longer matters
    assert not torch.equal(a, model.sample(4, seed=0, labels=labels, steps=5, z=z + 0.5))
    # without z, the seeded noise is exactly the z the sampler would have drawn
    seeded = torch.randn(4, *model.latent_shape, generator=torch.Generator().manual_seed(0))
    assert torch.equal(model.sample(4, seed=0, labels=labels, steps=5), model.sample(4, seed=0, labels=labels, steps=5, z=seeded))


def test_diffusion_latent_stability_curve(tmp_path, monkeypatch):
    load_check_modules()
    model = load_model("diffusion", "fp32", "cpu")
    original = model.sample
    monkeypatch.setattr(model, "sample", lambda n, seed, labels=None, z=None: original(n, seed, labels=labels, steps=10, z=z))
    ctx = CheckContext(model, "diffusion", "fp32", 0, 40, 50, SampleStore(digits_evaluator, digits_reference), tmp_path)
    m = check_spec("robustness.latent_stability").fn(ctx)
    flips = m.details["charts"][0]["series"]["flip rate"]
    assert flips[0]["value"] == 0.0 and 0 <= m.value <= 1 and "sample(z=...)" in m.details["latents"]
    assert flips[-1]["value"] >= flips[1]["value"]  # sigma 1 flips at least as often as sigma 0.1
    assert m.details["output_change_per_unit_latent"]["value"] > 0


def test_model_without_latent_is_skipped(cli):
    result = cli("run", "suite=robustness", "model=fixture_models:noise", "check=robustness.latent_stability", "n=16")
    assert result.exit_code == 5, "skipped, not an error; but a model with nothing judged is not a pass"
    (record,) = result.results["records"]
    assert record["status"] == "skipped" and "exposes no latent space" in record["reason"]
