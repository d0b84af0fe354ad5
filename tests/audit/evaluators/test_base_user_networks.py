"""User evaluators the harness must not believe (audit.evaluators.base, audit.reference_data's
probe): one that normalises its input in place had rewritten the stored samples (a memorising
generator then passed the near-duplicate gate), NaN rows were measured as features, a `features`
attribute bypassed the user's own forward, and a dropout-in-training or constant-feature network
reached the run. Each is checked against the plain computation it should equal."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn

from audit.errors import InputError
from audit.evaluators.base import ImageEvaluator
from audit.reference_data import probe_evaluator


class Net(nn.Module):
    """A fixed random CNN returning (features [N, 8], logits [N, 3]) from forward, with a mode."""

    def __init__(self, mode: str = "ok") -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv, self.fc, self.mode = nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.Linear(8, 3), mode

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Features of images already in [-1, 1]: forward's preprocessing skipped."""
        return torch.relu(self.conv(x)).mean((2, 3))

    def head(self, f: torch.Tensor) -> torch.Tensor:
        return self.fc(f)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.mode == "inplace":
            x.mul_(2).sub_(1)  # as torchvision's Normalize(inplace=True)
        else:
            x = x * 2 - 1
        f = self.features(x)
        if self.mode == "nan_dark":
            f = torch.where(x.mean((1, 2, 3))[:, None] < -0.9, torch.full_like(f, float("nan")), f)
        if self.mode == "dropout":
            f = nn.functional.dropout(f, 0.5, training=True)
        if self.mode == "const":
            f = torch.ones_like(f)
        if self.mode == "dim0":
            f = f[:, :0]
        return f, self.fc(f) if f.shape[1] == 8 else f.new_zeros(len(f), 3)


def _images(n: int = 6) -> torch.Tensor:
    return torch.rand(n, 1, 16, 16, generator=torch.Generator().manual_seed(1))


def test_an_in_place_normalising_evaluator_leaves_the_samples_as_they_were():
    images = _images()
    kept = images.clone()
    embedding = ImageEvaluator("inplace", Net("inplace"), "x").embed(images)
    assert torch.equal(images, kept)
    reference = Net("ok")
    with torch.no_grad():
        expected = reference.features(kept * 2 - 1).double().numpy()
    np.testing.assert_allclose(embedding.features, expected, rtol=1e-6)


def test_forward_returning_the_pair_wins_over_features_and_head():
    images = _images()
    embedding = ImageEvaluator("net", Net("ok"), "x").embed(images)
    with torch.no_grad():
        through_forward = Net("ok")(images)[0].double().numpy()
    np.testing.assert_allclose(embedding.features, through_forward, rtol=1e-6)


def test_non_finite_features_in_a_run_are_an_error_not_measured():
    images = _images()
    images[2] = 0.0  # a black image: the network gives NaN for it
    with pytest.raises(ValueError, match=r"non-finite features or logits for 1 of 6 images"):
        ImageEvaluator("nan", Net("nan_dark"), "x").embed(images)


@pytest.mark.parametrize("mode, fragment", [
    ("dropout", "different features for the same reference images on two calls"),
    ("const", "the same features for different reference images"),
    ("dim0", "0-dimensional features"),
])
def test_the_plan_probe_refuses_an_evaluator_it_cannot_trust(mode, fragment):
    with pytest.raises(InputError, match=fragment):
        probe_evaluator(ImageEvaluator(mode, Net(mode), "x"), _images().numpy(), "reference")


def test_the_plan_probe_passes_a_sound_evaluator():
    probe_evaluator(ImageEvaluator("ok", Net("ok"), "x"), _images().numpy(), "reference")
