"""KL(fp32 || variant) where a model masks vocabulary ids to -inf (padded vocabularies): a token
fp32 gives probability 0 adds 0 (0 log 0 = 0), not 0 * (-inf - -inf) = NaN; one only the variant
rules out makes KL +inf. Checked against scipy.special.rel_entr and scipy.stats.entropy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.special import rel_entr
from scipy.stats import entropy

from audit.checks.quantization import next_token_kl


def _log_probs(logits: np.ndarray) -> torch.Tensor:
    return torch.log_softmax(torch.tensor(logits, dtype=torch.float64), dim=-1)


def test_masked_ids_add_nothing():
    rng = np.random.default_rng(0)
    logits_f, logits_v = rng.normal(size=(5, 40)), rng.normal(size=(5, 40))
    logits_f[:, 32:] = logits_v[:, 32:] = -np.inf  # both mask the padded ids
    lf, lv = _log_probs(logits_f), _log_probs(logits_v)
    ours = next_token_kl(lf, lv).numpy()
    p, q = lf.exp().numpy(), lv.exp().numpy()
    np.testing.assert_allclose(ours, rel_entr(p, q).sum(-1), rtol=1e-10)
    np.testing.assert_allclose(ours, [entropy(a, b) for a, b in zip(p, q)], rtol=1e-10)
    assert np.isfinite(ours).all() and (ours > 0).all()


def test_a_token_only_the_variant_rules_out_makes_kl_infinite():
    logits_f = np.zeros((1, 4))
    logits_v = np.array([[0.0, 0.0, 0.0, -np.inf]])
    kl = float(next_token_kl(_log_probs(logits_f), _log_probs(logits_v))[0])
    assert kl == float("inf") == float(rel_entr(np.full(4, 0.25), np.array([1 / 3] * 3 + [0.0])).sum())
    reverse = float(next_token_kl(_log_probs(logits_v), _log_probs(logits_f))[0])
    assert reverse == pytest.approx(entropy([1 / 3] * 3 + [0.0], [0.25] * 4))


def test_a_masked_vocabulary_model_gets_a_finite_kl(cli):
    """The bundled transformer with 64 padded ids at -inf: before, KL was NaN, an error record."""
    result = cli("run", "suite=quantization", "model=quantization_models:masked_vocabulary", "precision=fp32,int8", "n=5",
                 "bootstrap=20", "check=quantization.kl_divergence")
    assert result.exit_code == 0, result.stdout + result.stderr
    kl = next(r for r in result.results["records"] if r["precision"] == "int8")
    assert kl["status"] == "measured" and 0 < kl["value"] < 0.05 and kl["ci_low"] <= kl["value"] <= kl["ci_high"]
