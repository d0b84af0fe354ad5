"""audit.lm.log_probs: scores that are not log-probabilities (zeros, one constant, logits) are an
error before any check reads them; a normalized model of any tokenization passes. The expected
probability mass is computed here from the fixture model's own table, with numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from byo.adapters import GoodLM, ReturnsLogits

from audit.errors import ModelOutputError
from audit.lm.log_probs import NORMALIZATION_PREFIX, NORMALIZATION_WORDS, checked_log_probs, continuation_mass


def _byte_bigram_mass(model: GoodLM) -> float:
    """Sum over the words of p(word | prefix) under the bigram byte model, from its table alone."""
    table = model.lm.table.weight.detach().double().numpy()
    logp = table - np.log(np.exp(table).sum(axis=1, keepdims=True))
    total = 0.0
    for word in NORMALIZATION_WORDS:
        previous, nats = NORMALIZATION_PREFIX.encode()[-1], 0.0
        for byte in word.encode():
            nats += logp[previous, byte]
            previous = byte
        total += math.exp(nats)
    return total


def test_a_normalized_byte_level_model_passes_with_its_true_continuation_mass():
    model = GoodLM("byte-bigram")
    mass = continuation_mass(model)
    assert mass == pytest.approx(_byte_bigram_mass(model), rel=1e-5) and mass <= 1.0
    assert [len(t) for t in checked_log_probs(model, ["ab", "abc"])] == [2, 3]


@pytest.mark.parametrize("fill", [0.0, -0.5, -1e-6])
def test_scores_that_are_not_a_distribution_are_an_error_before_anything_is_read(fill: float):
    class Constant(GoodLM):
        def log_probs(self, texts):
            return [torch.full_like(t, fill) for t in super().log_probs(texts)]

    with pytest.raises(ModelOutputError, match="not log-probabilities: 16 continuations"):
        checked_log_probs(Constant(f"constant-{fill}"), ["Once upon a time"])


def test_logits_are_caught_by_the_contract():
    with pytest.raises(ModelOutputError, match="> 0: log-probabilities are <= 0"):
        checked_log_probs(ReturnsLogits(), ["Once upon a time"])


def test_a_model_whose_prefix_does_not_score_as_the_texts_start_is_not_judged_by_the_probe():
    class Reversed(GoodLM):
        def log_probs(self, texts):
            return [t.flip(0) for t in super().log_probs(texts)]

    model = Reversed("reversed")
    assert continuation_mass(model) is None
    assert len(checked_log_probs(model, ["abc"])[0]) == 3


@pytest.mark.parametrize("bad, message", [
    (lambda texts: [torch.zeros(0) for _ in texts], "is empty for the non-empty text"),
    (lambda texts: [torch.tensor([-1.0, float("nan")]) for _ in texts], "non-finite"),
    (lambda texts: [[-1.0, -2.0] for _ in texts], "expected a 1-d float tensor"),
    (lambda texts: [torch.tensor([-1.0])], "expected a list of"),
])
def test_contract_violations_are_one_model_output_error(bad, message):
    model = GoodLM("breaks-contract")
    model.log_probs = bad
    with pytest.raises(ModelOutputError, match=message):
        checked_log_probs(model, ["Once", "upon"])
