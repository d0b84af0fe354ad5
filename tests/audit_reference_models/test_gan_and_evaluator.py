"""The bundled GAN and CNN evaluator: contract, manifests, and reproducible retraining."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from audit.adapters import load_model
from audit.weights import sha256_file
from audit_reference_models.data.digits import load_digits_split
from audit_reference_models.evaluators.classifier import accuracy, load_classifier
from audit_reference_models.manifest import read_manifest, weights_dir

QUICK_TOLERANCE = {"heldout_accuracy": 0.02, "train_accuracy": 0.02, "conditional_accuracy": 0.03}
"""Quick retraining on another CPU may differ in the last float bits; metrics stay this close."""


def test_digits_split_is_fixed():
    d = load_digits_split()
    assert d.train_x.shape == (1437, 1, 16, 16) and d.test_x.shape == (360, 1, 16, 16)
    assert np.allclose(d.train_x * 255, np.round(d.train_x * 255), atol=1e-4)
    assert np.bincount(d.test_y).min() >= 35  # stratified
    assert d.sha256 == read_manifest("gan")["data_sha256"] == read_manifest("classifier")["data_sha256"]


def test_evaluator_accuracy_matches_its_manifest():
    model, digest = load_classifier()
    d = load_digits_split()
    assert digest == sha256_file(weights_dir() / "classifier.safetensors")
    measured = accuracy(model, d.test_x, d.test_y)
    assert measured == pytest.approx(read_manifest("classifier")["metrics"]["heldout_accuracy"], abs=1e-9)
    assert measured > 0.95


def test_gan_sample_contract():
    gan = load_model("gan")
    a = gan.sample(50, seed=7)
    assert a.shape == (50, 1, 16, 16) and a.dtype == torch.float32
    assert 0 <= a.min() and a.max() <= 1
    assert torch.equal(a, gan.sample(50, seed=7))
    assert not torch.equal(a, gan.sample(50, seed=8))
    labels = torch.full((20,), 3)
    model, _ = load_classifier()
    with torch.no_grad():
        predicted = model(gan.sample(20, seed=0, labels=labels)).argmax(1)
    assert (predicted == 3).float().mean() > 0.8


def test_gan_manifest_metrics_reproduce_from_weights():
    from audit_reference_models.gan.adapter import load_gan
    from audit_reference_models.gan.train import evaluate

    manifest = read_manifest("gan")
    metrics = evaluate(load_gan("gan").generator)
    assert metrics["conditional_accuracy"] == pytest.approx(manifest["metrics"]["conditional_accuracy"], abs=1e-6)
    assert metrics["fid_vs_train_n1000"] == pytest.approx(manifest["metrics"]["fid_vs_train_n1000"], rel=1e-4)


@pytest.mark.parametrize("name", ["classifier", "gan"])
def test_quick_retraining_reproduces_the_recorded_quick_reference(name: str, tmp_path: Path):
    from audit.registry import import_target, trainers

    spec = trainers.entry(name)
    reference = read_manifest(name)["quick_reference"]
    metrics = import_target(spec.target)(seed=reference["seed"], out_dir=tmp_path, quick=True, log=lambda *a: None, **spec.metadata["kwargs"])
    for key, expected in reference["metrics"].items():
        tolerance = QUICK_TOLERANCE.get(key)
        if tolerance is None:
            assert metrics[key] == pytest.approx(expected, rel=0.05), key
        else:
            assert metrics[key] == pytest.approx(expected, abs=tolerance), key
    assert (tmp_path / f"{name}.safetensors").is_file() and read_manifest(name, tmp_path)["quick"] is True
