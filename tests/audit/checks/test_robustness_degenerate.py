"""The robustness checks fail closed on degenerate models: a model with no valid clean baseline is
an error record with its reason, never a robust-looking number.

- One image for every sample (all black, or one fixed noise image): the unconditional target is the
  evaluator's own clean prediction, so agreement used to be high by construction.
- A conditional model that ignores its labels: clean agreement at chance.
- A latent that reaches the output only by a negligible term (1e-6 * tanh(z)): no class ever flips.
- A language model giving every token the same probability: perplexity ratio exactly 1.
- A language model that generates nothing: empty continuations agree with each other.
The bundled models keep their numbers (tests/known_answer/test_robustness_suite.py)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from audit.adapters import CONDITIONAL, GENERATE, LATENT, LOG_PROBS, SAMPLE, ModelAdapter, ModelInfo
from audit.adapters.loading import load_model
from audit.checks import check_spec, load_check_modules
from audit.checks.base import Measurement
from audit.checks.robustness import CLASS_ENTROPY_FLOOR, LATENT_RMS_FLOOR, SCRAMBLED_PERPLEXITY_FLOOR
from audit.context import CheckContext
from audit.errors import ModelOutputError
from audit.evaluators import digits_evaluator, digits_reference
from audit.robustness.text import scrambled
from audit.sample_store import SampleStore

N = 40
DOCS = 4
VOCABULARY = 65536


class ConstantImage(ModelAdapter):
    """The same 16x16 image for every sample plus `leak * tanh(z[:, 0])`: the latent reaches the
    output, far below one grey level. `name` tells models apart (the store keeps samples by name)."""

    latent_shape = (8,)

    def __init__(self, name: str, image: torch.Tensor, conditional: bool, leak: float = 1e-6) -> None:
        self.image, self.leak = image, leak
        self.capabilities = frozenset({SAMPLE, LATENT, *((CONDITIONAL,) if conditional else ())})
        self.info = ModelInfo(name=name, family="gan", params=1, image_shape=(1, 16, 16),
                              num_classes=10 if conditional else None)

    def modules(self) -> dict[str, torch.nn.Module]:
        return {}

    def sample(self, n: int, seed: int, labels: torch.Tensor | None = None, z: torch.Tensor | None = None) -> torch.Tensor:
        if z is None:
            z = torch.randn(n, *self.latent_shape, generator=torch.Generator().manual_seed(seed))
        out = self.image.expand(n, 1, 16, 16) + self.leak * torch.tanh(z[:, :1]).reshape(n, 1, 1, 1)
        return out.clamp(0, 1).float().contiguous()


class UniformLM(ModelAdapter):
    """Every character has probability 1/VOCABULARY whatever the context; `generate` returns `reply`."""

    capabilities = frozenset({GENERATE, LOG_PROBS})

    def __init__(self, reply: str = " the end") -> None:
        self.reply = reply
        self.info = ModelInfo(name="uniform-lm", family="transformer", params=1)

    def modules(self) -> dict[str, torch.nn.Module]:
        return {}

    def log_probs(self, texts: list[str]) -> list[torch.Tensor]:
        return [torch.full((len(t),), -math.log(VOCABULARY)) for t in texts]

    def generate(self, prompts: list[str], max_new_tokens: int, seed: int, greedy: bool = False) -> list[str]:
        return [self.reply for _ in prompts]


class SilentTransformer(ModelAdapter):
    """The bundled transformer's log-probabilities, and the empty string for every prompt."""

    capabilities = frozenset({GENERATE, LOG_PROBS})

    def __init__(self) -> None:
        self.lm = load_model("transformer", "fp32", "cpu")
        self.info = ModelInfo(name="silent-transformer", family="transformer", params=1)

    def modules(self) -> dict[str, torch.nn.Module]:
        return {}

    def log_probs(self, texts: list[str]) -> list[torch.Tensor]:
        return self.lm.log_probs(texts)

    def generate(self, prompts: list[str], max_new_tokens: int, seed: int, greedy: bool = False) -> list[str]:
        return ["" for _ in prompts]


@pytest.fixture(scope="module")
def store() -> SampleStore:
    load_check_modules()
    return SampleStore(digits_evaluator, digits_reference)


def _run(check: str, model: object, store: SampleStore, tmp_path: Path, n: int = N, **params: object) -> Measurement:
    """The check `check` run directly on `model` (the model's name is its sample-store key)."""
    ctx = CheckContext(model, getattr(getattr(model, "info", None), "name", "model"), "fp32", 0, n, 50, store, tmp_path)
    return check_spec(check).fn(ctx, **params)


BLACK = torch.zeros(1, 16, 16)
NOISE = torch.rand(1, 16, 16, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("name, image", [("black", BLACK), ("noise", NOISE)])
def test_one_image_for_every_sample_has_no_clean_baseline(store, tmp_path, name, image):
    with pytest.raises(ModelOutputError, match=r"fall into 1 of 10 evaluator classes .*normalised entropy 0 < 0.5"):
        _run("robustness.evaluator_accuracy", ConstantImage(name, image, conditional=False), store, tmp_path)


def test_a_conditional_model_ignoring_its_labels_is_at_chance(store, tmp_path):
    digit = torch.tensor(store.reference.test_x[0], dtype=torch.float32).reshape(1, 16, 16)
    with pytest.raises(ModelOutputError, match=r"match the label asked for in 4/40 .*not clearly above chance \(1/10\)"):
        _run("robustness.evaluator_accuracy", ConstantImage("one-digit", digit, conditional=True), store, tmp_path)


def test_a_latent_that_barely_reaches_the_output_is_an_error(store, tmp_path):
    with pytest.raises(ModelOutputError, match=r"barely reaches its output .*below one grey level"):
        _run("robustness.latent_stability", ConstantImage("black-leak", BLACK, conditional=False), store, tmp_path)


def test_the_bundled_models_keep_a_valid_baseline(store, tmp_path):
    """Measured at n=16, seed 0: gan clean agreement 16/16 (Wilson low 0.81), vae normalised
    entropy 0.89, gan output reach 0.12 RMS per unit of latent noise."""
    gan = load_model("gan", "fp32", "cpu")
    conditional = _run("robustness.evaluator_accuracy", gan, store, tmp_path, n=16).details["clean_baseline"]
    assert conditional["ci_low"] > conditional["chance"] == 0.1
    vae = load_model("vae", "fp32", "cpu")
    unconditional = _run("robustness.evaluator_accuracy", vae, store, tmp_path, n=16).details["clean_baseline"]
    assert unconditional["normalised_entropy"] > CLASS_ENTROPY_FLOOR + 0.2
    reach = _run("robustness.latent_stability", gan, store, tmp_path, n=16).details["output_reach"]
    assert reach["value"] > 10 * LATENT_RMS_FLOOR


def test_a_uniform_language_model_cannot_tell_text_from_scrambled_text(store, tmp_path):
    with pytest.raises(ModelOutputError, match=r"hardly more likely than their characters scrambled .*ratio 1 < 2"):
        _run("robustness.text_perturbation", UniformLM(), store, tmp_path, docs=DOCS)


def test_a_model_that_generates_nothing_is_an_error(store, tmp_path):
    silent = SilentTransformer()
    with pytest.raises(ModelOutputError, match=r"generated nothing \(or only whitespace\) for 4 of 4 clean prompts"):
        _run("robustness.text_perturbation", silent, store, tmp_path, docs=DOCS)
    with pytest.raises(ModelOutputError, match=r"generated nothing \(or only whitespace\) for 6 of 6 paraphrased openings"):
        _run("robustness.paraphrase_consistency", silent, store, tmp_path, groups=2)


def test_the_bundled_transformer_reads_its_input(store, tmp_path):
    """Measured (32 documents, the whole check): clean perplexity 16.2 against 2.1e3 scrambled, ratio 131;
    the check on the transformer end to end: tests/known_answer/test_robustness_suite.py."""
    from audit.checks.robustness import _text_baseline
    from audit.text_generation import heldout_documents, story_nll

    model = load_model("transformer", "fp32", "cpu")
    ctx = CheckContext(model, "transformer", "fp32", 0, N, 50, store, tmp_path)
    texts = [" ".join(d.split(" ")[:64]) for d in heldout_documents(ctx)[0][:DOCS]]
    baseline = _text_baseline(ctx, texts, story_nll(model, texts), list(range(DOCS)))
    assert baseline["ratio"] > 10 * SCRAMBLED_PERPLEXITY_FLOOR and baseline["clean_perplexity"] < 100


def test_scrambling_keeps_the_characters_and_is_seeded():
    text = "Once upon a time, there was a little girl."
    assert sorted(scrambled(text, 3)) == sorted(text) and scrambled(text, 3) == scrambled(text, 3)
    assert scrambled(text, 3) != text and scrambled(text, 3) != scrambled(text, 4)
