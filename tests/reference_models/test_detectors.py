"""The bundled deepfake detectors: verified weights, chance on real versus real, fresh fakes
detected, well-behaved scoring, and reproducible quick retraining."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from audit.deepfake.metrics import detection_intervals, detection_metrics
from audit.errors import UnknownNameError, WeightsError
from reference_models.data.digits import load_digits_split
from reference_models.detectors import DETECTORS, HELD_OUT_FAMILIES, Detector, all_detectors, family_detectors, load_detector
from reference_models.manifest import read_manifest, sha256_file, weights_dir

WEIGHTS = "detector"
MAX_BYTES = 10 * 1024 * 1024
QUICK_TOLERANCE = {"best_epoch": 2, "val_loss": 0.05}
"""Validation rates move in steps of 1/40 in quick mode; a retraining on another CPU may differ
in the last float bits and flip an image or two. Everything else agrees within 0.05 (absolute)."""


@pytest.fixture(scope="module")
def cnn() -> Detector:
    return load_detector("detector-cnn")


@pytest.fixture(scope="module")
def heldout() -> torch.Tensor:
    return torch.tensor(load_digits_split().test_x)


def test_manifest_verifies_and_every_detector_loads():
    manifest = read_manifest(WEIGHTS)
    path = weights_dir() / manifest["file"]
    assert sha256_file(path) == manifest["sha256"] and path.stat().st_size < MAX_BYTES
    assert set(manifest["config"]["detectors"]) == set(all_detectors())
    for name in all_detectors():
        detector = load_detector(name)
        assert detector.weights == {manifest["file"]: manifest["sha256"]}
        assert 0 < detector.threshold < 1 and not detector.module.training
        assert set(detector.trained_on) <= set(HELD_OUT_FAMILIES)
    assert all(set(load_detector(name).trained_on) == set(HELD_OUT_FAMILIES) for name in DETECTORS)
    assert load_detector(family_detectors("spectrum")["vae"]).trained_on == ("vae",)


def test_detectors_were_trained_on_the_bundled_generators():
    """A retrained generator makes the detectors stale: rebuild them with `audit train model=detector`."""
    recorded = read_manifest(WEIGHTS)["config"]["generators"]
    current = {read_manifest(family)["file"]: read_manifest(family)["sha256"] for family in HELD_OUT_FAMILIES}
    assert recorded == current


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(UnknownNameError, match="Unknown detector 'detector-cn'. Did you mean: detector-cnn"):
        load_detector("detector-cn")
    with pytest.raises(UnknownNameError, match="Available: cnn, spectrum"):
        family_detectors("resnet")


def test_missing_or_corrupt_weights_give_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for suffix in (".json", ".safetensors"):
        shutil.copy(weights_dir() / f"{WEIGHTS}{suffix}", tmp_path)
    monkeypatch.setenv("AUDIT_WEIGHTS_DIR", str(tmp_path))
    weights = tmp_path / f"{WEIGHTS}.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match=r"is corrupt: sha256 .* rebuild it with `audit train model=detector out="):
        load_detector("detector-cnn")
    weights.unlink()
    with pytest.raises(WeightsError, match=r"not found at .*detector.safetensors; rebuild it with `audit train model=detector out="):
        load_detector("detector-cnn")


def test_real_versus_real_is_at_chance(cnn: Detector, heldout: torch.Tensor):
    """Two disjoint random halves of the held-out digits: the AUC's bootstrap CI covers 0.5
    (measured 0.513, CI [0.454, 0.572])."""
    scores = cnn.score(heldout)
    order = np.random.default_rng(0).permutation(len(scores))
    first, second = scores[order[: len(order) // 2]], scores[order[len(order) // 2 :]]
    ci = detection_intervals(first, second, cnn.threshold, resamples=1000, seed=0)
    assert ci["auc"][0] < 0.5 < ci["auc"][1]


def test_fresh_gan_samples_are_detected(cnn: Detector, heldout: torch.Tensor):
    """GAN samples drawn with seed 0 (training used seeds >= 1,000,000) against the held-out
    digits, no 8-bit rounding: measured AUC 1.000, balanced accuracy 0.999 at the calibrated
    threshold."""
    from audit.adapters import load_model

    fakes = load_model("gan").sample(360, seed=0)
    metrics = detection_metrics(cnn.score(heldout), cnn.score(fakes), cnn.threshold)
    assert metrics["auc"] > 0.95 and metrics["accuracy"] > 0.9


def test_score_is_a_deterministic_batch_independent_probability(cnn: Detector, heldout: torch.Tensor):
    scores = cnn.score(heldout)
    assert scores.dtype == np.float64 and scores.shape == (len(heldout),)
    assert np.all((scores >= 0) & (scores <= 1))
    assert np.array_equal(scores, cnn.score(heldout))
    assert np.allclose(scores[:7], cnn.score(heldout[:7]), atol=1e-6)
    assert cnn.score(heldout[:0]).shape == (0,)


@pytest.mark.parametrize("name", DETECTORS)
def test_logits_are_differentiable_and_match_the_scores(name: str, heldout: torch.Tensor):
    detector = load_detector(name)
    x = heldout[:8].clone().requires_grad_(True)
    logits = detector.logits(x)
    assert logits.shape == (8,)
    logits.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert np.allclose(torch.sigmoid(logits).detach().numpy(), detector.score(heldout[:8]), atol=1e-6)


def test_quick_retraining_reproduces_the_recorded_quick_reference(tmp_path: Path):
    from audit.registry import import_target
    from reference_models.catalog import TRAINABLE

    spec = TRAINABLE[WEIGHTS]
    reference = read_manifest(WEIGHTS)["quick_reference"]
    metrics = import_target(spec.target)(seed=reference["seed"], out_dir=tmp_path, quick=True, log=lambda *a: None, **dict(spec.kwargs))
    assert set(metrics) == set(reference["metrics"]) == set(all_detectors())
    for name, expected in reference["metrics"].items():
        assert set(metrics[name]) == set(expected), name
        for key, value in expected.items():
            assert metrics[name][key] == pytest.approx(value, abs=QUICK_TOLERANCE.get(key, 0.05)), f"{name} {key}"
    manifest = read_manifest(WEIGHTS, tmp_path)
    assert manifest["quick"] is True and (tmp_path / f"{WEIGHTS}.safetensors").is_file()
