"""Inception Score against torchmetrics and its defining bounds."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from audit.metrics import inception_score_from_logits


def test_matches_torchmetrics_single_split():
    from torchmetrics.image.inception import InceptionScore

    class Logits(torch.nn.Module):
        num_features = 10

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x

    logits = np.random.default_rng(1).normal(scale=3.0, size=(400, 10))
    metric = InceptionScore(feature=Logits(), splits=1, normalize=False)
    metric.update(torch.tensor(logits, dtype=torch.float64))
    mean, _ = metric.compute()
    assert inception_score_from_logits(logits) == pytest.approx(float(mean), rel=1e-5)


def test_confident_uniform_classes_reach_k():
    logits = np.full((100, 10), -50.0)
    logits[np.arange(100), np.arange(100) % 10] = 50.0
    assert inception_score_from_logits(logits) == pytest.approx(10.0, rel=1e-6)


def test_one_class_gives_one():
    logits = np.zeros((50, 10))
    logits[:, 3] = 40.0
    assert inception_score_from_logits(logits) == pytest.approx(1.0, abs=1e-6)


def test_independent_of_order():
    logits = np.random.default_rng(2).normal(size=(200, 10))
    assert inception_score_from_logits(logits) == pytest.approx(inception_score_from_logits(logits[::-1]), rel=1e-12)
