"""The sample store reports sampling and featurizing with counts that only grow, its chunked
featurizing gives exactly the evaluator's one-call embedding, and what it keeps is its own."""

from __future__ import annotations

import numpy as np

from audit.evaluators import BATCH, digits_evaluator, digits_reference
from audit.progress_events import reporting_to
from audit.sample_store import SampleStore


def test_sampling_and_featurizing_report_growing_counts():
    from fixture_models import noise

    n = BATCH + 88  # two evaluator batches
    store = SampleStore(digits_evaluator, digits_reference)
    heard: list[tuple[str, int | None, int | None]] = []
    with reporting_to(lambda *step: heard.append(step)):
        embedding = store.embedding(noise(), ("fixture_models:noise", "fp32", 0, n))
    sampling = [done for step, done, total in heard if step == "sampling" and total == n]
    featurizing = [done for step, done, total in heard if step == "featurizing samples" and total == n]
    assert sampling == [0, n]
    assert featurizing == [0, BATCH, n]
    whole = store.evaluator.embed(store.samples(noise(), ("fixture_models:noise", "fp32", 0, n)).images)
    np.testing.assert_array_equal(embedding.features, whole.features)
    np.testing.assert_array_equal(embedding.logits, whole.logits)


def test_a_reused_sample_set_reports_nothing():
    from fixture_models import noise

    store = SampleStore(digits_evaluator, digits_reference)
    key = ("fixture_models:noise", "fp32", 0, 16)
    store.embedding(noise(), key)
    heard: list[tuple[str, int | None, int | None]] = []
    with reporting_to(lambda *step: heard.append(step)):
        store.embedding(noise(), key)
    assert heard == []


def test_kept_samples_are_a_copy_a_model_reusing_its_buffer_cannot_overwrite():
    import torch
    from hostile_models import reuses_buffer

    model = reuses_buffer()
    store = SampleStore(digits_evaluator, digits_reference)
    kept = store.samples(model, ("hostile_models:reuses_buffer", "fp32", 0, 8)).images
    model.sample(8, 1)  # the model's next call overwrites its buffer with seed 1's images
    expected = torch.rand(8, 1, 16, 16, generator=torch.Generator().manual_seed(0))  # the fixture's seed-0 images
    assert torch.equal(kept, expected) and not torch.equal(kept, model.buffer)
