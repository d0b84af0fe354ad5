"""The bundled deepfake detectors: verified weights, chance on real versus real, fresh fakes
detected, well-behaved scoring, and reproducible quick retraining."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from audit.deepfake.metrics import detection_intervals, detection_metrics
from audit.errors import UnknownNameError, WeightsError
from audit.weights import sha256_file
from audit_reference_models.data.digits import load_digits_split
from audit_reference_models.detectors import DETECTORS, HELD_OUT_FAMILIES, Detector, all_detectors, family_detectors, load_detector
from audit_reference_models.manifest import read_manifest, weights_dir

WEIGHTS = "detector"
MAX_BYTES = 10 * 1024 * 1024
QUICK_TOLERANCE = {"best_epoch": 2, "val_loss": 0.05}
"""Validation rates move in steps of 1/40 in quick mode; a retraining on another CPU may differ
in the last float bits and flip an image or two. Everything else agrees within 0.05 (absolute)."""
CHANCE_LOSS = math.log(2)
"""Validation BCE of a detector that answers 0.5 for every image."""
CHANCE_BAND = 0.05
"""A quick-mode detector whose recorded best validation loss lies within this of CHANCE_LOSS
learned nothing measurable: quick mode (10 epochs on 160 + 160 images) leaves every CNN there."""
AT_CHANCE_LOSS_TOLERANCE = 0.02
"""How far an at-chance detector's best validation loss may move (measured spread: 0.008)."""


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


OTHER_KERNELS_CNN_DIFFUSION = {
    "best_epoch": 1, "threshold": 0.5236731171607971, "val_accuracy": 0.5249999999999999, "val_auc": 0.4975,
    "val_average_precision": 0.49048714168447377, "val_eer": 0.475, "val_fpr": 0.475, "val_loss": 0.6942943334579468, "val_tpr": 0.525,
}
"""detector-cnn-diffusion's quick metrics measured with oneDNN held to AVX2 kernels
(ONEDNN_MAX_CPU_ISA=AVX2; ATEN_CPU_CAPABILITY=default gave the same), seed 0: what a retraining
on another CPU gives where the reference (recorded with AVX-512 kernels) says best epoch 10."""


def at_chance(metrics: dict[str, float]) -> bool:
    return abs(metrics["val_loss"] - CHANCE_LOSS) < CHANCE_BAND


def quick_mismatches(metrics: dict[str, dict[str, float]], reference: dict[str, dict[str, float]]) -> list[str]:
    """What of a quick retraining disagrees with the recorded quick reference. Detectors that
    learn in quick mode (the spectrum ones) must reproduce every metric. The quick CNNs stay at
    chance, and for them only the loss is stable: their validation loss wanders around ln 2
    (detector-cnn-diffusion: 0.694 after epoch 1, up to 1.57, 0.686 after epoch 10), so the epoch
    with the lowest loss, and the rates measured at that epoch, are decided by the last float bits."""
    wrong = [f"detectors {sorted(set(metrics) ^ set(reference))} differ"] if set(metrics) != set(reference) else []
    for name in set(metrics) & set(reference):
        got, expected = metrics[name], reference[name]
        if set(got) != set(expected):
            wrong.append(f"{name}: metrics {sorted(set(got) ^ set(expected))} differ")
        elif at_chance(expected):
            if not at_chance(got) or abs(got["val_loss"] - expected["val_loss"]) > AT_CHANCE_LOSS_TOLERANCE:
                wrong.append(f"{name} val_loss {got['val_loss']:.4f}, recorded {expected['val_loss']:.4f} (at chance)")
        else:
            wrong += [f"{name} {key} {got[key]:.4g}, recorded {value:.4g}" for key, value in expected.items()
                      if abs(got[key] - value) > QUICK_TOLERANCE.get(key, 0.05)]
    return wrong


def test_quick_reference_comparison_accepts_a_retraining_with_other_cpu_kernels():
    """Regression: a clean clone on another CPU got best_epoch 1 for detector-cnn-diffusion where
    10 +- 2 was expected; that retraining is as good as the recorded one (both at chance)."""
    reference = read_manifest(WEIGHTS)["quick_reference"]["metrics"]
    retrained = {**reference, "detector-cnn-diffusion": OTHER_KERNELS_CNN_DIFFUSION}
    assert quick_mismatches(retrained, reference) == []


def test_quick_reference_comparison_still_catches_real_changes():
    reference = read_manifest(WEIGHTS)["quick_reference"]["metrics"]
    assert not any(at_chance(m) for name, m in reference.items() if "spectrum" in name)  # they are compared in full
    worse_spectrum = {**reference, "detector-spectrum": {**reference["detector-spectrum"], "val_auc": reference["detector-spectrum"]["val_auc"] - 0.1}}
    assert quick_mismatches(worse_spectrum, reference) == [f"detector-spectrum val_auc {reference['detector-spectrum']['val_auc'] - 0.1:.4g}, recorded {reference['detector-spectrum']['val_auc']:.4g}"]
    diverged_cnn = {**reference, "detector-cnn": {**reference["detector-cnn"], "val_loss": 0.9}}
    assert quick_mismatches(diverged_cnn, reference) == [f"detector-cnn val_loss 0.9000, recorded {reference['detector-cnn']['val_loss']:.4f} (at chance)"]
    missing = {name: m for name, m in reference.items() if name != "detector-cnn-gan"}
    assert quick_mismatches(missing, reference) == ["detectors ['detector-cnn-gan'] differ"]


def test_quick_retraining_reproduces_the_recorded_quick_reference(tmp_path: Path):
    """Measured (seed 0, one training thread as `train` uses, this 2-core AMD EPYC, AVX-512):
    bit-identical metrics with OMP_NUM_THREADS=1 and 2, with torch.use_deterministic_algorithms,
    and beside a CPU-bound process (202 s instead of 23 s). With oneDNN held to AVX2 kernels
    (ONEDNN_MAX_CPU_ISA=AVX2), ATen's generic kernels (ATEN_CPU_CAPABILITY=default) or two or four
    training threads, detector-cnn-diffusion's best epoch moved from 10 to 1, its AUC from 0.75
    to 0.50 and its rates by 0.2, while its best loss moved by 0.008; every other detector moved
    by at most 0.0013 in any metric (see quick_mismatches for what is compared)."""
    from audit.registry import import_target, trainers

    spec = trainers.entry(WEIGHTS)
    reference = read_manifest(WEIGHTS)["quick_reference"]
    metrics = import_target(spec.target)(seed=reference["seed"], out_dir=tmp_path, quick=True, log=lambda *a: None, **spec.metadata["kwargs"])
    assert set(metrics) == set(all_detectors())
    assert quick_mismatches(metrics, reference["metrics"]) == []
    manifest = read_manifest(WEIGHTS, tmp_path)
    assert manifest["quick"] is True and (tmp_path / f"{WEIGHTS}.safetensors").is_file()
