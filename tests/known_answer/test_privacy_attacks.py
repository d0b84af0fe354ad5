"""The membership-inference attacks of the privacy suite on each family, against independent
computations: the GAN-Leaks distance attack on a model that copies its training set, the diffusion
denoising loss recomputed from the noise schedule, the transformer's per-token NLL recomputed from
its log-probabilities, and an attack whose members and non-members are the same images (chance)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from audit.adapters import load_model
from audit.checks import check_spec, load_check_modules
from audit.checks.privacy import DIFFUSION_TIMESTEPS, _denoising_loss
from audit.context import CheckContext
from audit.evaluators import digits_evaluator, digits_reference
from audit.sample_store import SampleStore
from fixture_models import TrainingSetCopier


def _ctx(adapter, model: str, tmp_path, n: int, store: SampleStore | None = None) -> CheckContext:
    load_check_modules()
    store = store or SampleStore(digits_evaluator, digits_reference)
    return CheckContext(adapter, model, "fp32", 0, n, 200, store, tmp_path)


def test_gan_leaks_attack_finds_every_member_of_a_copier(tmp_path):
    store = SampleStore(digits_evaluator, digits_reference)
    ctx = _ctx(TrainingSetCopier(store.reference.train_x), "copier", tmp_path, len(store.reference.train_x), store)
    auc = check_spec("privacy.mia_auc").fn(ctx)
    assert "GAN-Leaks" in auc.details["attack"] and auc.n == 720
    assert auc.value == 1.0 and auc.details["mean_score_members"] == 0.0  # distance 0 to a copied sample
    assert check_spec("privacy.mia_tpr_at_1pct_fpr").fn(ctx).value == 1.0


def test_attack_of_members_against_themselves_is_chance(tmp_path):
    """Non-members that are the members' own images: the attack cannot separate them (CI covers 0.5)."""
    digits = digits_reference()
    same = dataclasses.replace(digits, name="digits-train-twice", test_x=digits.train_x[:360], test_y=digits.train_y[:360])
    store = SampleStore(digits_evaluator, lambda: same)
    ctx = _ctx(load_model("vae", "fp32", "cpu"), "vae", tmp_path, 200, store)
    m = check_spec("privacy.mia_auc").fn(ctx, n=200)
    assert m.details["member_source"].startswith("assumed")  # not the bundled digits: no manifest member set
    assert m.ci_low < 0.5 < m.ci_high and abs(m.value - 0.5) < 0.1


def test_diffusion_denoising_loss_matches_the_schedule(tmp_path):
    model = load_model("diffusion", "fp32", "cpu")
    x = torch.tensor(digits_reference().test_x[:6], dtype=torch.float32)
    got = _denoising_loss(model, x, seed=3)
    abar = model.scheduler("ddpm").alphas_cumprod
    g = torch.Generator().manual_seed(3)
    x0 = x * 2 - 1
    expected = np.zeros(len(x))
    null = torch.full((len(x),), model.unet.null_label, dtype=torch.long)
    with torch.no_grad():
        for t in DIFFUSION_TIMESTEPS:
            noise = torch.randn(x0.shape, generator=g)
            a = float(abar[t])
            x_t = math.sqrt(a) * x0 + math.sqrt(1 - a) * noise
            eps = model.unet(x_t, torch.full((len(x),), t, dtype=torch.long), null)
            expected += ((eps - noise) ** 2).flatten(1).mean(1).double().numpy() / len(DIFFUSION_TIMESTEPS)
    np.testing.assert_allclose(got, expected, rtol=1e-4)


def test_diffusion_attack_record(tmp_path):
    m = check_spec("privacy.mia_auc").fn(_ctx(load_model("diffusion", "fp32", "cpu"), "diffusion", tmp_path, 60), n=60)
    assert "denoising" in m.details["attack"] and m.n == 120
    assert "whole digits train split" in m.details["member_source"]
    assert m.ci_low <= m.value <= m.ci_high and m.ci_high - m.ci_low < 0.4
    assert m.ci_low < 0.6  # measured 0.52 at n=360: not a clear leak


def test_transformer_attack_scores_are_minus_mean_token_nll(tmp_path):
    from audit_reference_models.data.tinystories import load_tinystories_split
    from audit_reference_models.manifest import read_manifest

    model = load_model("transformer", "fp32", "cpu")
    ctx = _ctx(model, "transformer", tmp_path, 40)
    m = check_spec("privacy.mia_auc").fn(ctx, n=20, tokens=48)
    assert m.n == 40 and "per-token NLL" in m.details["attack"]
    split = load_tinystories_split()
    scores = ctx.store.memo("privacy.mia_text_scores", (*ctx.key, 20, 48), lambda: pytest.fail("not cached"))
    # members: the train stories the manifest does not list as held back for early stopping
    held_back = set((read_manifest("transformer")["config"].get("early_stopping") or {}).get("validation_indices", []))
    assert ("held back for early stopping" in m.details["member_source"]) == bool(held_back)
    rng = np.random.default_rng(ctx.rng_seed("privacy.mia.text"))
    mem = np.sort(rng.choice(np.array([i for i in range(len(split.train)) if i not in held_back]), 20, replace=False))
    texts = [model.tokenizer.decode(model.tokenizer.encode(split.train[i]).ids[:48]) for i in mem]
    independent = np.array([float(lp.double().mean()) for lp in model.log_probs(texts)])
    np.testing.assert_allclose(scores["members"], independent, rtol=1e-6)
    assert m.details["mean_score_members"] == pytest.approx(independent.mean())
