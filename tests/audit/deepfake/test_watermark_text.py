"""The green-list text watermark: the green lists themselves, the z statistic against an
independent count, false positives on real text, detection of watermarked generations from the
bundled transformer, survival under text perturbations, and the decoding hook it rides on."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import binom, binomtest, norm, spearmanr

from audit.deepfake.watermark_text import (
    FPR_BOUND, GAMMA, MIN_TOKENS, Z_THRESHOLD, GreenList, detect, detect_text, text_z_score,
)
from audit.robustness.text import PERTURBATIONS, SEVERITIES, perturb
from audit_reference_models.data.tinystories import load_tinystories_split
from audit_reference_models.transformer.adapter import TransformerAdapter
from audit.lm import decode

KEY = 15485863
PROMPTS = 40
PROMPT_TOKENS = 32
NEW_TOKENS = 128
DETECTION_RATE = 0.9
"""Asserted floor; measured 40 of 40 (see the module docstring)."""


@pytest.fixture(scope="module")
def green(lm: TransformerAdapter) -> GreenList:
    return GreenList(lm.model.config.vocab_size, KEY)


@pytest.fixture(scope="module")
def heldout(lm: TransformerAdapter) -> list[list[int]]:
    return [lm.tokenizer.encode(s).ids for s in load_tinystories_split().heldout]


def continuations(lm: TransformerAdapter, heldout: list[list[int]], processor: GreenList | None) -> list[list[int]]:
    """New token ids after the first PROMPT_TOKENS tokens of the first PROMPTS held-out stories,
    prepared exactly as `TransformerAdapter.generate` prepares them (temperature 1, seed 0)."""
    prompts = [lm.tokenizer.decode(ids[:PROMPT_TOKENS]) for ids in heldout[:PROMPTS]]
    ids = [lm.encode(p)[-(lm.n_positions - NEW_TOKENS) :] for p in prompts]
    return decode(lm.model, ids, NEW_TOKENS, 0, lm.eos_id, logits_processor=processor)


@pytest.fixture(scope="module")
def marked(lm: TransformerAdapter, heldout: list[list[int]], green: GreenList) -> list[list[int]]:
    return continuations(lm, heldout, green)


@pytest.fixture(scope="module")
def plain(lm: TransformerAdapter, heldout: list[list[int]]) -> list[list[int]]:
    return continuations(lm, heldout, None)


# ---- the green lists ---------------------------------------------------------------------------


@pytest.mark.parametrize("vocab, gamma", [(4096, GAMMA), (1000, 0.3), (7, 0.5)])
def test_green_fraction_is_exactly_gamma(vocab: int, gamma: float) -> None:
    mask = GreenList(vocab, KEY, gamma).green_mask(torch.arange(vocab))
    assert mask.dtype == torch.bool and mask.shape == (vocab, vocab)
    assert (mask.sum(1) == round(gamma * vocab)).all()


def test_green_lists_are_keyed_deterministic_and_global_rng_free() -> None:
    previous = torch.tensor([0, 5, 5, 4095])
    torch.manual_seed(0)
    np.random.seed(0)
    first = GreenList(4096, KEY).green_mask(previous)
    torch.manual_seed(1)
    np.random.seed(1)
    assert torch.equal(first, GreenList(4096, KEY).green_mask(previous))
    assert torch.equal(first[1], first[2])
    assert not torch.equal(first[0], first[1]) and not torch.equal(first[1], first[3])
    other = GreenList(4096, KEY + 1).green_mask(previous)
    overlap = (first & other).sum(1).double() / first.sum(1)
    assert (overlap < 0.35).all()  # independent lists share ~gamma = 0.25 of their tokens


def test_processor_adds_delta_to_green_tokens_after_each_rows_last_token() -> None:
    g = GreenList(50, KEY, delta=2.0)
    input_ids = torch.tensor([[0, 0, 7], [3, 9, 11]])
    logits = torch.randn(2, 50)
    out = g(input_ids, logits)
    torch.testing.assert_close(out - logits, 2.0 * g.green_mask(torch.tensor([7, 11])).float())
    with pytest.raises(ValueError, match="green list covers 50"):
        g(input_ids, torch.zeros(2, 51))


def test_z_score_matches_independent_count() -> None:
    g = GreenList(64, KEY)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 8, 300).tolist()  # a small alphabet: many repeated pairs
    table = g.green_mask(torch.arange(64)).numpy()
    pairs = list(zip(ids[:-1], ids[1:]))
    for unique_pairs, chosen in ((False, pairs), (True, set(pairs))):
        hits = sum(bool(table[p, t]) for p, t in chosen)
        assert g.count(ids, unique_pairs=unique_pairs) == (hits, len(chosen))
        expected = (hits - 0.25 * len(chosen)) / np.sqrt(len(chosen) * 0.25 * 0.75)
        assert g.z_score(ids, unique_pairs=unique_pairs) == pytest.approx(expected, rel=1e-12)
    assert len(set(pairs)) < len(pairs)
    assert np.isnan(g.z_score([5])) and not detect(g, [5])


def test_z_is_standard_normal_on_uniform_random_tokens() -> None:
    g = GreenList(4096, KEY)
    rng = np.random.default_rng(1)
    z = np.array([g.z_score(rng.integers(0, 4096, 200).tolist()) for _ in range(2000)])
    assert abs(z.mean()) < 0.07 and abs(z.std() - 1) < 0.05
    assert abs(np.mean(z > 2) - norm.sf(2)) < 0.012


def test_fpr_bound_covers_exact_binomial_tail() -> None:
    """Under the null a text's green count is Binomial(T, gamma); its tail above the threshold,
    largest over every judged length, is FPR_BOUND (above the normal 1 - Phi(4))."""
    t = np.arange(MIN_TOKENS, 30_001)
    tail = binom.sf(np.floor(GAMMA * t + Z_THRESHOLD * np.sqrt(t * GAMMA * (1 - GAMMA))), t, GAMMA)
    assert tail.max() <= FPR_BOUND < 1.05 * tail.max()
    assert FPR_BOUND > norm.sf(Z_THRESHOLD)


# ---- real text ---------------------------------------------------------------------------------


def test_heldout_human_text_is_not_flagged(lm: TransformerAdapter, heldout: list[list[int]]) -> None:
    """All 310 held-out stories under 10 keys: no detection (binomial test against FPR_BOUND
    passes), z centred with unit spread -- and only because repeated pairs count once."""
    vocab = lm.model.config.vocab_size
    unique, repeated, flagged = [], [], 0
    for key in range(10):
        g = GreenList(vocab, key)
        unique += [g.z_score(ids) for ids in heldout]
        repeated += [g.z_score(ids, unique_pairs=False) for ids in heldout]
        flagged += sum(detect(g, ids) for ids in heldout)
    z, zr = np.array(unique), np.array(repeated)
    assert flagged == 0
    assert binomtest(flagged, len(z), FPR_BOUND, alternative="greater").pvalue > 0.05
    assert abs(z.mean()) < 0.2 and 0.85 < z.std() < 1.1
    assert zr.std() > 1.1 and zr.max() > z.max()


def test_unwatermarked_generations_are_not_detected(lm: TransformerAdapter, green: GreenList, plain: list[list[int]]) -> None:
    texts = [lm.tokenizer.decode(ids) for ids in plain]
    assert not any(detect_text(green, lm.tokenizer, t) for t in texts)
    assert abs(np.mean([text_z_score(green, lm.tokenizer, t) for t in texts])) < 1.0


# ---- watermarked generations -------------------------------------------------------------------


def test_watermarked_generations_are_detected(lm: TransformerAdapter, green: GreenList, marked: list[list[int]]) -> None:
    texts = [lm.tokenizer.decode(ids) for ids in marked]
    z = np.array([text_z_score(green, lm.tokenizer, t) for t in texts])
    rate = np.mean([detect_text(green, lm.tokenizer, t) for t in texts])
    assert rate >= DETECTION_RATE and z.mean() > 6


def test_reencoding_costs_little(lm: TransformerAdapter, green: GreenList, marked: list[list[int]]) -> None:
    """decode -> re-encode may split words differently from how they were sampled; the z moves
    a little (measured mean |dz| 0.19) and no detection flips."""
    texts = [lm.tokenizer.decode(ids) for ids in marked]
    direct = np.array([green.z_score(ids) for ids in marked])
    again = np.array([text_z_score(green, lm.tokenizer, t) for t in texts])
    assert np.abs(direct - again).mean() < 0.4
    assert [detect(green, ids) for ids in marked] == [detect_text(green, lm.tokenizer, t) for t in texts]


def test_adapter_generate_embeds_the_same_watermark(lm: TransformerAdapter, heldout: list[list[int]], green: GreenList, marked: list[list[int]]) -> None:
    prompts = [lm.tokenizer.decode(ids[:PROMPT_TOKENS]) for ids in heldout[:3]]
    assert lm.generate(prompts, NEW_TOKENS, seed=0, logits_processor=green) == [lm.tokenizer.decode(ids) for ids in marked[:3]]


def test_survival_falls_with_perturbation_severity(lm: TransformerAdapter, green: GreenList, marked: list[list[int]]) -> None:
    texts = [lm.tokenizer.decode(ids) for ids in marked]
    rates = np.array([
        [np.mean([detect_text(green, lm.tokenizer, perturb(t, name, s, seed=i)) for i, t in enumerate(texts)]) for s in SEVERITIES]
        for name in PERTURBATIONS
    ])
    assert (rates[:, 0] >= DETECTION_RATE).all()
    assert (rates[:, -1] < rates[:, 0]).all()
    assert spearmanr(SEVERITIES, rates.mean(0)).statistic < -0.9


# ---- the decoding hook -------------------------------------------------------------------------


def test_no_processor_decodes_bit_identically(lm: TransformerAdapter) -> None:
    prompts = ["Once upon a time", "", "Tom and Sue went to the park and"]
    before = lm.generate(prompts, 30, seed=0, temperature=0.9, top_k=50)
    assert lm.generate(prompts, 30, seed=0, temperature=0.9, top_k=50, logits_processor=None) == before
    assert lm.generate(prompts, 30, seed=0, temperature=0.9, top_k=50, logits_processor=lambda ids, logits: logits) == before


def test_processor_sees_each_rows_true_previous_token(lm: TransformerAdapter) -> None:
    """Left padding must not hide a row's last token: at step 0 the processor sees each
    prompt's last token, afterwards the token just drawn."""
    prompts = [lm.encode("Once upon a time"), lm.encode(""), lm.encode("Tom and Sue went to the big park")]
    seen: list[torch.Tensor] = []

    def record(ids: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        seen.append(ids.clone())
        return logits

    new = decode(lm.model, prompts, 5, 0, lm.eos_id, logits_processor=record)
    assert seen[0][:, -1].tolist() == [p[-1] for p in prompts]
    for r, (prompt, out) in enumerate(zip(prompts, new)):
        assert seen[0][r, -len(prompt) :].tolist() == prompt
        for step, token in enumerate(out[: len(seen) - 1]):
            assert int(seen[step + 1][r, -1]) == token


def test_processor_also_steers_greedy_decoding(lm: TransformerAdapter, green: GreenList) -> None:
    strong = GreenList(green.vocab_size, KEY, delta=1e4)
    prompt = [lm.encode("Once upon a time")]
    out = decode(lm.model, prompt, 40, 0, lm.eos_id, greedy=True, logits_processor=strong)[0]
    hits, scored = strong.count([prompt[0][-1], *out], unique_pairs=False)
    assert hits == scored == len(out)
