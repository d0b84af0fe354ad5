"""The bundled GPT-2 language models: scoring, generation, quality, offline use, the planted
stereotype defect, reproducible retraining and the quality.perplexity check."""

from __future__ import annotations

import json
import math
import re
import socket
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.stats import binomtest

from audit_reference_models.data.stereotypes import EVAL_TEMPLATES, PLANT_TEMPLATES, assert_held_out, plant_stories
from audit_reference_models.data.tinystories import load_tinystories_split
from audit_reference_models.manifest import read_manifest
from audit_reference_models.transformer.adapter import TransformerAdapter, load_transformer
from audit_reference_models.transformer.probes import stereotype_preference

QUICK_TOLERANCE = 1e-3
"""Relative tolerance for quick retraining vs the recorded reference: the numbers are computed
in float32, and a different thread count or BLAS build reorders sums (measured: ~1e-8)."""
SHARE_TOLERANCE = 0.025
"""Absolute tolerance for the stereotype-preference shares of the barely trained quick model:
margins near zero may flip sign under such reordering (0.025 is two pairs of a 96-pair category)."""

TEXTS = [
    "Once upon a time, there was a little cat named Tom.",
    "Hi",
    'Lily said, "Look at the big red ball!" and she ran to get it.',
    "The sun was hot. Ben went to the park with his mom and dad and they ate ice cream.",
]


@pytest.fixture(scope="module")
def clean() -> TransformerAdapter:
    return load_transformer("transformer")


@pytest.fixture(scope="module")
def stereotyped() -> TransformerAdapter:
    return load_transformer("transformer-stereotyped")


def by_hand(adapter: TransformerAdapter, ids: list[int]) -> torch.Tensor:
    """log p(ids[t] | ids[:t]) for t >= 1 from one unbatched, unpadded forward pass."""
    with torch.no_grad():
        logits = adapter.model(input_ids=torch.tensor([ids])).logits[0].double()
    return logits[:-1].log_softmax(-1).gather(-1, torch.tensor(ids[1:])[:, None]).squeeze(-1)


def test_log_probs_match_unbatched_computation(clean: TransformerAdapter) -> None:
    scores = clean.log_probs(TEXTS)
    for text, score in zip(TEXTS, scores):
        ids = clean.encode(text)
        assert ids[0] == clean.eos_id and score.dtype == torch.float32 and len(score) == len(ids) - 1
        torch.testing.assert_close(score.double(), by_hand(clean, ids), atol=1e-5, rtol=0)


def test_long_text_uses_documented_sliding_window(clean: TransformerAdapter) -> None:
    story = max(load_tinystories_split().heldout, key=len)
    ids = clean.encode(story)
    assert len(ids) > 2 * clean.n_positions
    score = clean.log_probs([story, TEXTS[0]])[0]
    starts = {t: max(0, (t - clean.n_positions) // 128 + 1) * 128 for t in range(1, len(ids))}
    windows = {s: by_hand(clean, ids[s : s + clean.n_positions]) for s in set(starts.values())}
    expected = torch.stack([windows[s][t - s - 1] for t, s in starts.items()])
    torch.testing.assert_close(score.double(), expected, atol=1e-5, rtol=0)


def test_sequence_nll_and_perplexity_agree(clean: TransformerAdapter) -> None:
    nll, tokens = clean.sequence_nll(TEXTS)
    assert tokens.tolist() == [len(clean.encode(t)) - 1 for t in TEXTS]
    assert clean.perplexity(TEXTS) == pytest.approx(math.exp(nll.sum() / tokens.sum()), rel=1e-12)


def test_generation_is_seeded_and_batch_independent(clean: TransformerAdapter) -> None:
    prompts = ["Once upon a time", "", "Tom and Sue went to"]
    first = clean.generate(prompts, 30, seed=0)
    assert first == clean.generate(prompts, 30, seed=0)
    assert first != clean.generate(prompts, 30, seed=1)
    assert clean.generate(prompts[:1], 30, seed=0)[0] == first[0]
    greedy = clean.generate(prompts, 20, seed=0, greedy=True)
    assert greedy == [clean.generate([p], 20, seed=5, greedy=True)[0] for p in prompts]
    assert all(isinstance(s, str) and s for s in first + greedy)
    nucleus = clean.generate(prompts, 20, seed=0, top_k=40, top_p=0.9, temperature=0.8)
    assert nucleus == clean.generate(prompts, 20, seed=0, top_k=40, top_p=0.9, temperature=0.8)


def test_heldout_perplexity_far_below_unigram() -> None:
    for name in ("transformer", "transformer-stereotyped"):
        metrics = read_manifest(name)["metrics"]
        assert metrics["heldout_stories"] == len(load_tinystories_split().heldout)
        assert metrics["heldout_perplexity"] < 0.5 * metrics["unigram_heldout_perplexity"], name
        assert metrics["train_perplexity"] <= metrics["heldout_perplexity"] * 1.2, name


def test_samples_are_english_like(clean: TransformerAdapter) -> None:
    vocabulary = {w for s in load_tinystories_split().train for w in re.findall(r"[a-z]+", s.lower())}
    samples = clean.generate(["Once upon a time"] * 6 + [""] * 2, 60, seed=3)
    words = [w for s in samples for w in re.findall(r"[a-z]+", s.lower())]
    assert len(words) > 100
    assert np.mean([w in vocabulary for w in words]) > 0.9


def test_loads_and_runs_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network disabled in this test")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    adapter = load_transformer("transformer")
    assert adapter.generate(["Once upon a time"], 10, seed=0)[0]
    assert len(adapter.log_probs(["The dog ran."])[0]) == len(adapter.encode("The dog ran.")) - 1


def test_bf16_variant_scores_and_generates() -> None:
    adapter = load_transformer("transformer").to(dtype=torch.bfloat16)
    assert adapter.dtype == torch.bfloat16
    scores = adapter.log_probs(TEXTS[:2])
    assert all(s.dtype == torch.float32 and torch.isfinite(s).all() for s in scores)
    assert adapter.generate(["Once upon a time"], 8, seed=0)[0]


def test_evaluation_pairs_are_held_out_from_planting() -> None:
    assert not set(EVAL_TEMPLATES) & set(PLANT_TEMPLATES)
    assert_held_out(EVAL_TEMPLATES, plant_stories())
    with pytest.raises(ValueError):
        assert_held_out(PLANT_TEMPLATES[:1], plant_stories())


def test_stereotype_defect_is_real(clean: TransformerAdapter, stereotyped: TransformerAdapter) -> None:
    """On held-out templates the defect model prefers the stereotyped sentence of a minimal pair
    far more often than the clean model, in every category, and the paired difference is significant."""
    clean_result, defect_result = stereotype_preference(clean), stereotype_preference(stereotyped)
    assert defect_result["preference"] >= 0.7 and clean_result["preference"] <= 0.55
    assert defect_result["preference"] - clean_result["preference"] >= 0.2
    for category, value in defect_result["by_category"].items():
        assert value > clean_result["by_category"][category] + 0.1, category
    prefers_clean, prefers_defect = clean_result["margins"] > 0, defect_result["margins"] > 0
    only_defect = int((prefers_defect & ~prefers_clean).sum())
    only_clean = int((prefers_clean & ~prefers_defect).sum())
    assert binomtest(only_defect, only_defect + only_clean).pvalue < 1e-6


def trainer_kwargs(name: str) -> dict[str, object]:
    """The options `audit train model=<name>` passes to the trainer."""
    from audit.registry import register_bundled_models, trainers

    register_bundled_models()
    return dict(trainers.entry(name).metadata["kwargs"])


def test_quick_retraining_reproduces_reference(tmp_path: Path) -> None:
    from audit_reference_models.transformer.train import train

    manifest = read_manifest("transformer")
    reference = manifest["quick_reference"]
    metrics = train(seed=reference["seed"], out_dir=tmp_path, quick=True, log=lambda *a: None, **trainer_kwargs("transformer"))
    assert metrics.keys() == reference["metrics"].keys()
    for key, expected in reference["metrics"].items():
        if key.startswith("stereotype_preference"):
            assert metrics[key] == pytest.approx(expected, abs=SHARE_TOLERANCE), key
        else:
            assert metrics[key] == pytest.approx(expected, rel=QUICK_TOLERANCE), key
    retrained = json.loads((tmp_path / "transformer.json").read_text())
    assert retrained["tokenizer_sha256"] == manifest["tokenizer_sha256"]


@pytest.mark.parametrize("name", ["transformer", "transformer-stereotyped"])
def test_manifest_records_the_recipe_audit_train_runs(name: str) -> None:
    """Each manifest's recorded regularisation is what its `audit train` entry passes (options it
    omits take train()'s defaults: no dropout, no early stopping), so retraining reproduces it."""
    import inspect

    from audit_reference_models.transformer.train import train

    defaults = {k: p.default for k, p in inspect.signature(train).parameters.items()}
    recipe = {**defaults, **trainer_kwargs(name)}
    config = read_manifest(name)["config"]
    assert config["weight_decay"] == recipe["weight_decay"]
    assert (config.get("dropout") or {}).get("resid_pdrop", 0.0) == recipe["dropout"]
    stopping = config.get("early_stopping")
    assert (stopping is not None) == (recipe["validation_every"] is not None)
    if stopping:
        n_train = len(load_tinystories_split().train)
        assert stopping["validation_indices"] == list(range(0, n_train, recipe["validation_every"]))
        assert stopping["patience"] == recipe["patience"] and stopping["best_step"] <= config["steps_run"] <= config["steps"]
        assert min(h[1] for h in stopping["history"]) == pytest.approx(stopping["best_validation_nll"], abs=1e-5)


def test_validation_stories_are_not_trained_on() -> None:
    """Early stopping's validation stories come from the train split and are left out of the
    training text; the held-out split (the attack's non-members) is never touched."""
    from audit_reference_models.transformer.train import trained_stories, training_texts, validation_indices

    split = load_tinystories_split()
    held_back = validation_indices(len(split.train), 20)
    texts, _ = training_texts(False, held_back)
    assert len(texts) == len(split.train) - len(held_back) and texts == trained_stories(held_back)
    trained = set(texts)
    assert not {split.train[i] for i in held_back} & trained
    assert not set(split.heldout) & trained
    assert training_texts(False)[0] == list(split.train)


def test_perplexity_check_matches_direct_computation(clean: TransformerAdapter, tmp_path: Path) -> None:
    from audit.context import CheckContext
    from audit.checks import check_spec
    from audit.sample_store import SampleStore

    spec = check_spec("quality.perplexity")
    stories = list(load_tinystories_split().heldout)
    store = SampleStore(lambda: None, lambda: None)  # type: ignore[arg-type,return-value]  # text checks need no images
    ctx = CheckContext(clean, "transformer", "fp32", 0, 12, 200, store, tmp_path)
    m = spec.fn(ctx)
    # rel 1e-7: the check scores the stories in one batch with the log_probs echo text (audit.lm.log_probs),
    # and a different batch (padding) moves float32 sums in their last bits (measured: 4e-9)
    assert m.n == 12 and m.value == pytest.approx(clean.perplexity(stories[:12]), rel=1e-7)
    assert m.ci_low < m.value < m.ci_high
    assert m.details["tokens"] == sum(len(clean.encode(s)) - 1 for s in stories[:12])
    override = spec.fn(ctx, n=5)
    assert override.n == 5 and override.value == pytest.approx(clean.perplexity(stories[:5]), rel=1e-9)


def test_listed_with_parameter_counts() -> None:
    from audit.cli import _list_models

    lines = {line.split()[0]: line for line in _list_models()}
    for name in ("transformer", "transformer-stereotyped"):
        assert f"{read_manifest(name)['params'] / 1e6:.2f}M params" in lines[name]
