"""Inception Score against torchmetrics (one split and the field's 10 splits) and its defining bounds."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from audit.metrics import inception_score_from_logits, inception_score_splits


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


@pytest.mark.parametrize("n", [1000, 400])
def test_ten_splits_match_torchmetrics(n):
    """torchmetrics (splits=10) shuffles with torch.randperm, then takes equal chunks: with the
    same permutation applied first, the mean and the standard deviation over splits agree."""
    from torchmetrics.image.inception import InceptionScore

    class Logits(torch.nn.Module):
        num_features = 10

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x

    logits = np.random.default_rng(2).normal(scale=3.0, size=(n, 10))
    metric = InceptionScore(feature=Logits(), splits=10, normalize=False)
    metric.update(torch.tensor(logits, dtype=torch.float64))
    torch.manual_seed(0)
    mean, std = metric.compute()
    torch.manual_seed(0)
    order = torch.randperm(n).numpy()
    splits = inception_score_splits(logits[order])
    assert len(splits) == 10
    assert splits.mean() == pytest.approx(float(mean), rel=1e-6)
    assert splits.std(ddof=1) == pytest.approx(float(std), rel=1e-5)


def test_split_mean_is_below_the_one_split_score():
    """p(y) from a tenth of the samples fits them more closely, so each split's KL to it is smaller:
    the field's 10-split value is lower than the one-split score on the same logits."""
    logits = np.random.default_rng(3).normal(scale=2.0, size=(500, 10))
    assert inception_score_splits(logits).mean() < inception_score_from_logits(logits)


def test_splits_reject_more_splits_than_rows():
    with pytest.raises(ValueError):
        inception_score_splits(np.zeros((5, 3)), splits=10)


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
