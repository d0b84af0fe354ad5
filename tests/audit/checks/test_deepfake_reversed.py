"""A detector whose AUC lies clearly below 0.5 separates the samples with its sign inverted: the
deepfake checks flag it `reversed` and never read it as "indistinguishable". On uniform noise the
CNN detectors trained on all generators and on diffusion score AUC 0 (noise looks *more* real
than real digits to them) while the spectrum detector and the CNN trained on vae score 1: the
headlines take the best detector (1.0), not the mean of 1 and 0 (0.5, "chance").
AUCs are recomputed with scikit-learn from the detectors' own scores."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from audit.adapters import SAMPLE, ModelAdapter, ModelInfo
from audit.checks.deepfake import _best_and_mean, _reversal, detectability, detection_robustness, detector_evasion, generalisation
from audit.context import CheckContext
from audit.deepfake.detectors import load_detector
from audit.errors import NotApplicable
from audit.evaluators import digits_evaluator, digits_reference
from audit.sample_store import SampleStore


class UniformNoise(ModelAdapter):
    """A 'generator' of uniform noise digits (family gan: the gan-trained detectors are its own)."""

    capabilities = frozenset({SAMPLE})

    def __init__(self) -> None:
        self.info = ModelInfo(name="noise", family="gan", params=0, image_shape=(1, 16, 16))

    def modules(self) -> dict:
        return {}

    def sample(self, n: int, seed: int, labels=None) -> torch.Tensor:
        return torch.rand(n, 1, 16, 16, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> CheckContext:
    store = SampleStore(digits_evaluator, digits_reference)
    return CheckContext(UniformNoise(), "noise", "fp32", 0, 60, 40, store, tmp_path_factory.mktemp("noise"))


def _sklearn_auc(ctx: CheckContext, name: str) -> float:
    det = load_detector(name)
    real = det.score(torch.tensor(np.asarray(ctx.store.reference.test_x), dtype=torch.float32))
    fake = det.score(ctx.samples().images)
    return float(roc_auc_score(np.r_[np.zeros(len(real)), np.ones(len(fake))], np.r_[real, fake]))


def test_best_and_mean_match_sklearn_on_fixed_scores():
    rng = np.random.default_rng(0)
    real = rng.normal(0, 1, 80)
    fakes = {"catches": rng.normal(3, 1, 50), "inverted": rng.normal(-3, 1, 50), "chance": rng.normal(0, 1, 50)}
    expected = [roc_auc_score(np.r_[np.zeros(80), np.ones(50)], np.r_[real, f]) for f in fakes.values()]
    best, mean = _best_and_mean({k: real for k in fakes}, fakes, 200, 1)
    assert best["value"] == pytest.approx(max(expected), abs=1e-12)
    assert mean["value"] == pytest.approx(np.mean(expected), abs=1e-12)
    assert best["ci_low"] <= best["value"] <= best["ci_high"] and mean["ci_low"] <= mean["value"] <= mean["ci_high"]



@pytest.mark.parametrize(("low", "value", "high", "reversed_"), [
    (0.0, 0.02, 0.06, True), (0.38, 0.45, 0.52, False), (0.4, 0.45, 0.49, True), (0.9, 0.95, 1.0, False), (None, 0.1, None, False),
])
def test_reversed_means_the_whole_ci_below_half(low, value, high, reversed_):
    flags = _reversal({"value": value, "ci_low": low, "ci_high": high})
    assert flags["reversed"] is reversed_ and flags["reversed_auc"] == pytest.approx(1 - value, abs=1e-12)


def test_detectability_of_noise_is_the_best_detectors_auc(ctx: CheckContext):
    m = detectability(ctx)
    per = m.details["detectors"]
    aucs = {name: _sklearn_auc(ctx, name) for name in per}
    assert aucs["detector-cnn"] < 0.01 < 0.99 < aucs["detector-spectrum"]
    for name, auc in aucs.items():
        assert per[name]["auc"]["value"] == pytest.approx(auc, abs=1e-12)
    assert m.value == pytest.approx(max(aucs.values()), abs=1e-12) and m.ci_low > 0.5
    assert m.details["best_detector"] == "detector-spectrum"
    assert per["detector-cnn"]["reversed"] and not per["detector-spectrum"]["reversed"]
    assert m.details["reversed_detectors"] == ["detector-cnn"]
    assert "indistinguishable" not in m.details["summary"] and "detector-cnn" in m.details["summary"]


def test_generalisation_of_noise_is_not_averaged_into_chance(ctx: CheckContext):
    m = generalisation(ctx)
    assert m.details["unseen_families"] == ["vae", "diffusion"]
    aucs = {f: _sklearn_auc(ctx, f"detector-cnn-{f}") for f in ("vae", "diffusion")}
    assert aucs["diffusion"] < 0.01 < 0.99 < aucs["vae"]
    assert m.value == pytest.approx(max(aucs.values()), abs=1e-12) and m.ci_low > 0.5
    assert m.details["mean_auc"]["value"] == pytest.approx(np.mean(list(aucs.values())), abs=1e-12)
    assert "detector-cnn-diffusion" in m.details["reversed_detectors"]
    cells = m.details["matrices"][0]["cells"]
    assert cells["trained on diffusion (detector-cnn-diffusion)"]["reversed"]
    assert not cells["trained on vae (detector-cnn-vae)"]["reversed"]


def test_evasion_skip_says_the_detector_is_reversed_not_that_nothing_is_detectable(ctx: CheckContext):
    with pytest.raises(NotApplicable) as info:
        detector_evasion(ctx)
    reason = str(info.value)
    assert "nothing to evade" not in reason and "reversed" in reason and "AUC on them vs real digits is 0.000" in reason


class RealDigits(UniformNoise):
    """A 'generator' returning held-out real digits: detector-cnn flags none of them, at chance."""

    def sample(self, n: int, seed: int, labels=None) -> torch.Tensor:
        return torch.tensor(np.asarray(digits_reference().test_x[-n:]), dtype=torch.float32)


def test_evasion_skip_at_chance_claims_no_reversal(tmp_path):
    ctx = CheckContext(RealDigits(), "real", "fp32", 0, 60, 40, SampleStore(digits_evaluator, digits_reference), tmp_path)
    with pytest.raises(NotApplicable) as info:
        detector_evasion(ctx)
    assert "flags none" in str(info.value) and "reversed" not in str(info.value)


def test_detection_robustness_flags_a_detector_reversed_on_clean_samples(ctx: CheckContext):
    m = detection_robustness(ctx)
    assert m.details["clean"]["reversed"] and m.details["clean"]["value"] == m.details["clean_auc"]
    assert "separation lost" in m.details["summary"]
