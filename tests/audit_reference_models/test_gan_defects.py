"""The GAN defect variants are really defective, and the clean GAN is not."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from audit.adapters import load_model
from audit_reference_models.evaluators.classifier import load_classifier
from audit_reference_models.gan.entries import COLLAPSE_TO

N = 1000


@pytest.fixture(scope="module")
def classifier():
    return load_classifier()[0]


def class_histogram(model: str, classifier, labels: torch.Tensor | None = None) -> np.ndarray:
    adapter = load_model(model)
    with torch.no_grad():
        predicted = classifier(adapter.sample(N, seed=0, labels=labels)).argmax(1).numpy()
    return np.bincount(predicted, minlength=10) / N


def test_collapsed_gan_covers_few_classes(classifier):
    balanced = torch.arange(N) % 10
    collapsed = class_histogram("gan-collapsed", classifier, balanced)
    clean = class_histogram("gan", classifier, balanced)
    assert collapsed[list(COLLAPSE_TO)].sum() > 0.9  # nearly all mass on the 3 classes
    assert (collapsed > 0.02).sum() <= 4
    assert (clean > 0.05).sum() == 10 and clean.min() > 0.05


def test_imbalanced_gan_reproduces_its_skewed_training_distribution(classifier):
    skewed = class_histogram("gan-imbalanced", classifier)
    clean = class_histogram("gan", classifier)
    assert skewed[5:].sum() < 0.2  # classes 5-9 were cut to 10% of their images
    assert 0.35 < clean[5:].sum() < 0.65


def test_imbalanced_gan_is_worse_on_its_minority_classes(classifier):
    """Asked for each class equally often, the rare classes come out wrong more often."""
    labels = torch.arange(N) % 10
    adapter = load_model("gan-imbalanced")
    with torch.no_grad():
        correct = (classifier(adapter.sample(N, seed=0, labels=labels)).argmax(1) == labels).numpy()
    majority, minority = correct[labels.numpy() < 5].mean(), correct[labels.numpy() >= 5].mean()
    assert minority < majority - 0.05, (majority, minority)
