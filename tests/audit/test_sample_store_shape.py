"""Images that differ from the model's own declared `info.image_shape` are the model's error, said
as such (audit.sample_store): an HWC tensor from a model declaring 1x16x16 had been told that the
digits evaluator reads another shape and to give evaluator=, as if the instrument were wrong."""

from __future__ import annotations

import pytest
import torch

from audit.adapters import SAMPLE, ModelAdapter, ModelInfo
from audit.errors import ModelOutputError
from audit.evaluators import digits_evaluator, digits_reference
from audit.sample_store import SampleStore


class Shaped(ModelAdapter):
    capabilities = frozenset({SAMPLE})

    def __init__(self, declared: tuple[int, int, int], channels_last: bool) -> None:
        self.channels_last = channels_last
        self.info = ModelInfo(name="shaped", family="gan", params=0, image_shape=declared)

    def sample(self, n: int, seed: int, labels: torch.Tensor | None = None) -> torch.Tensor:
        c, h, w = self.info.image_shape
        images = torch.rand(n, c, h, w, generator=torch.Generator().manual_seed(seed))
        return images.permute(0, 2, 3, 1).contiguous() if self.channels_last else images


def test_channels_last_output_is_the_models_error_against_its_own_declaration():
    store = SampleStore(digits_evaluator, digits_reference)
    with pytest.raises(ModelOutputError, match=r"returned 16x16x1 images, but its info.image_shape declares 1x16x16 \(images are \[N, C, H, W\]"):
        store.samples(Shaped((1, 16, 16), channels_last=True), ("shaped", "fp32", 0, 8))


def test_output_matching_its_declaration_is_sampled():
    store = SampleStore(digits_evaluator, digits_reference)
    samples = store.samples(Shaped((1, 16, 16), channels_last=False), ("shaped", "fp32", 0, 8))
    assert tuple(samples.images.shape) == (8, 1, 16, 16)
