"""Latent stability reaches a model's latents only through a declared capability: LATENT
(`latent_shape` and `sample(z=...)`: the bundled GAN's generator input, the bundled diffusion
model's initial noise, a user's model) or ENCODE_DECODE. A model declaring neither is `skipped`
(NotApplicable), not an error, even when its internals hold a generator with a latent size."""

from __future__ import annotations

import pytest
import torch

from audit.adapters import LATENT, load_model
from audit.checks import check_spec, load_check_modules
from audit.context import CheckContext
from audit.errors import NotApplicable
from audit.evaluators import digits_evaluator, digits_reference
from audit.sample_store import SampleStore
from byo import adapters as fx


def _context(model, word: str, tmp_path, n: int = 40) -> CheckContext:
    return CheckContext(model, word, "fp32", 0, n, 50, SampleStore(digits_evaluator, digits_reference), tmp_path)


def test_gan_z_is_the_generator_input():
    model = load_model("gan", "fp32", "cpu")
    assert LATENT in model.capabilities and model.latent_shape == (64,)
    labels = torch.arange(4)
    z = torch.randn(4, *model.latent_shape, generator=torch.Generator().manual_seed(3))
    a = model.sample(4, seed=0, labels=labels, z=z)
    assert torch.equal(a, model.sample(4, seed=99, labels=labels, z=z))  # the seed no longer matters
    assert not torch.equal(a, model.sample(4, seed=0, labels=labels, z=z + 0.5))
    # without z, the seeded latents are exactly the z the generator would have been given
    seeded = torch.randn(4, *model.latent_shape, generator=torch.Generator().manual_seed(0))
    assert torch.equal(model.sample(4, seed=0, labels=labels), model.sample(4, seed=0, labels=labels, z=seeded))


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
    m = check_spec("robustness.latent_stability").fn(_context(model, "diffusion", tmp_path))
    flips = m.details["charts"][0]["series"]["flip rate"]
    assert flips[0]["value"] == 0.0 and 0 <= m.value <= 1 and "sample(z=...)" in m.details["latents"]
    assert flips[-1]["value"] >= flips[1]["value"]  # sigma 1 flips at least as often as sigma 0.1
    assert m.details["output_change_per_unit_latent"]["value"] > 0


def test_user_model_declaring_latent_is_perturbed_through_its_hook(tmp_path):
    load_check_modules()
    model = fx.LatentGAN()
    seen = []
    original = model.sample

    def sample(n, seed, labels=None, z=None):
        seen.append(None if z is None else tuple(z.shape))
        return original(n, seed, labels=labels, z=z)

    model.sample = sample
    m = check_spec("robustness.latent_stability").fn(_context(model, "latent-gan", tmp_path))
    assert seen == [(40, 8)] * 6  # the clean latents, then one perturbation per severity 1-5
    assert "sample(z=...)" in m.details["latents"] and "shape [8]" in m.details["latents"]
    assert m.details["charts"][0]["series"]["flip rate"][0]["value"] == 0.0 and 0 <= m.value <= 1


def test_undeclared_latent_internals_are_not_probed(tmp_path):
    load_check_modules()
    model = fx.GoodGAN("internals-only")
    model.generator = model.net
    model.generator.latent_dim = 8  # what the check once reached for; now it must be declared
    with pytest.raises(NotApplicable, match="declares neither encode_decode .* nor latent"):
        check_spec("robustness.latent_stability").fn(_context(model, "internals-only", tmp_path))


def test_model_without_latent_is_skipped(cli):
    result = cli("run", "suite=robustness", "model=fixture_models:noise", "check=robustness.latent_stability", "n=16")
    assert result.exit_code == 5, "skipped, not an error; but a model with nothing judged is not a pass"
    (record,) = result.results["records"]
    assert record["status"] == "skipped" and "exposes no latent space" in record["reason"]
    assert "latent_shape" in record["reason"]  # the reason names the capabilities that would apply
