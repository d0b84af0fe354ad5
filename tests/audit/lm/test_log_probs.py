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


def test_a_model_whose_prefix_does_not_score_as_the_texts_start_is_probed_from_its_totals():
    """Reversed per-token scores keep every text's total: the probe reads p(prefix + word) / p(prefix)."""
    class Reversed(GoodLM):
        def log_probs(self, texts):
            return [t.flip(0) for t in super().log_probs(texts)]

    model = Reversed("reversed")
    assert continuation_mass(model) == pytest.approx(_byte_bigram_mass(model), rel=1e-5)
    assert len(checked_log_probs(model, ["abc"])[0]) == 3


def test_scores_all_zero_but_the_last_tokens_are_an_error():
    """The prefix's scores are not the start of its continued texts' (the last token's -0.01 moves):
    each word then has probability 1 after the prefix."""
    class LastTokenOnly(GoodLM):
        def log_probs(self, texts):
            out = []
            for t in super().log_probs(texts):
                z = torch.zeros_like(t)
                z[-1] = -0.01
                out.append(z)
            return out

    with pytest.raises(ModelOutputError, match="summing to 16"):
        checked_log_probs(LastTokenOnly("last-token"), ["Once upon a time"])


def test_a_model_honest_on_its_first_call_only_is_an_error_on_the_next():
    class HonestOnce(GoodLM):
        calls = 0

        def log_probs(self, texts):
            self.calls += 1
            real = super().log_probs(texts)
            return real if self.calls == 1 else [torch.zeros_like(t) for t in real]

    model = HonestOnce("honest-once")
    with pytest.raises(ModelOutputError, match="depend on the call"):
        checked_log_probs(model, ["Once upon a time"])


def test_an_honest_model_scores_the_echo_the_same_in_every_call_and_returns_only_its_texts():
    model = GoodLM("byte-bigram")
    texts = ["a", "Once upon a time there was a dog", "zz"]
    for batch in (texts, texts[:1], texts * 5):
        scores = checked_log_probs(model, batch)
        assert len(scores) == len(batch)
        expected = model.log_probs(batch)
        assert all(torch.equal(a, b) for a, b in zip(scores, expected))


def test_a_tensor_subclass_or_a_lying_list_is_refused():
    class Sub(torch.Tensor):
        pass

    class Lying(list):
        def __len__(self):
            return 3  # as many as the two texts and the echo: it holds one

    model = GoodLM("subclass")
    real = model.log_probs
    model.log_probs = lambda texts: [t.as_subclass(Sub) for t in real(texts)]
    with pytest.raises(ModelOutputError, match="expected a 1-d float tensor"):
        checked_log_probs(model, ["Once"])
    other = GoodLM("lying-list")
    other_real = other.log_probs
    other.log_probs = lambda texts: Lying(other_real(texts)[:1])
    with pytest.raises(ModelOutputError, match="expected a list of"):
        checked_log_probs(other, ["Once", "upon"])


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
