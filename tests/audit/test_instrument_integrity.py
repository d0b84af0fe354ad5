"""audit.instrument_integrity: a digest moves with any in-place change of a module's weights or
buffers, a reference's arrays or an embedding's features, and with nothing else."""

from __future__ import annotations

import numpy as np
import torch

from audit.evaluators.base import Embedding, ImageEvaluator, ReferenceImages
from audit.instrument_integrity import InstrumentDigests, content_digest


def _evaluator() -> ImageEvaluator:
    torch.manual_seed(0)
    return ImageEvaluator("tiny", torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3)), "0" * 64)


def test_in_place_changes_to_each_instrument_are_named_and_reading_changes_nothing():
    evaluator = _evaluator()
    reference = ReferenceImages("ref", np.zeros((5, 1, 2, 2), np.float32), np.arange(5), np.ones((3, 1, 2, 2), np.float32), None, "1" * 64)
    embedding = Embedding(np.eye(3), np.zeros((3, 3)))
    digests = InstrumentDigests()
    digests.note("evaluator", "the evaluator's weights", evaluator)
    digests.note("reference", "the reference images", reference)
    digests.note("features", "the reference's features", embedding)
    evaluator.network.eval()(torch.ones(2, 1, 2, 2))  # a read, as checks do
    assert digests.changed() == []
    with torch.no_grad():
        evaluator.network[1].weight[0, 0] += 1e-6
    reference.train_y[2] = 7
    embedding.features[1, 1] = 0.5
    assert digests.changed() == ["the evaluator's weights", "the reference images", "the reference's features"]


def test_a_buffer_counts_and_the_digest_is_of_content_not_identity():
    evaluator = _evaluator()
    before = content_digest(evaluator.network)
    evaluator.network[2].running_mean.add_(1.0)
    assert content_digest(evaluator.network) != before
    assert content_digest(np.arange(6.0)) == content_digest(np.arange(6.0).copy())
    assert content_digest(np.arange(6.0)) != content_digest(np.arange(6.0).reshape(2, 3))
