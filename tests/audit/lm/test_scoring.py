"""Per-token scoring (audit.lm.scoring): sequences sharing a prefix are scored from one KV cache of
it, and every score equals a direct transformers forward pass over the sequence alone."""

from __future__ import annotations

import torch

from audit.lm.scoring import MIN_SHARED_PREFIX, score_sequences, shared_prefixes


def _tiny_gpt2(n_positions: int = 32) -> torch.nn.Module:
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    config = GPT2Config(vocab_size=61, n_positions=n_positions, n_embd=32, n_layer=2, n_head=4)
    return GPT2LMHeadModel(config).eval()


def _direct(model: torch.nn.Module, ids: list[int]) -> torch.Tensor:
    """log p(token_t | tokens_<t), t >= 1, from one unpadded forward pass over the sequence alone."""
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits[0, :-1].double()
    return logits.log_softmax(-1).gather(-1, torch.tensor(ids[1:])[:, None]).squeeze(-1)


def _templated() -> list[list[int]]:
    """Frames of 4, 6 and 9 tokens, each followed by words of 1 to 4 tokens (as the fairness
    probes build them), a duplicate, a sequence that is a frame's prefix, and unrelated ones."""
    g = torch.Generator().manual_seed(1)
    frames = [torch.randint(1, 61, (n,), generator=g).tolist() for n in (4, 6, 9)]
    words = [torch.randint(1, 61, (n,), generator=g).tolist() for n in (1, 2, 2, 3, 4, 1)]
    seqs = [[0, *f, *w, 7] for f in frames for w in words]
    seqs += [list(seqs[3]), [0, *frames[2][:3]], [0, 5], [0], [0, 9, 8, 7, 6, 5, 4, 3, 2, 1]]
    return seqs


def test_prefix_sharing_scores_equal_direct_forward_passes():
    model = _tiny_gpt2()
    seqs = _templated()
    chosen = shared_prefixes(seqs, n_positions=32)
    assert set(range(18)) <= set(chosen)  # every templated sentence is scored from its frame's cache
    assert all(k >= MIN_SHARED_PREFIX for k in chosen.values())
    assert not {19, 20, 21, 22} & set(chosen)  # the short and unrelated ones go the plain way
    scores = score_sequences(model, seqs, n_positions=32)
    assert [len(s) for s in scores] == [len(s) - 1 for s in seqs]
    for ids, got in zip(seqs, scores):
        if len(ids) > 1:
            torch.testing.assert_close(got.double(), _direct(model, ids), atol=2e-5, rtol=0)


def test_sequences_past_the_context_keep_the_sliding_window_beside_shared_ones():
    model = _tiny_gpt2(n_positions=16)
    long = [0, *range(1, 40)]
    seqs = _templated()[:12] + [long]
    together = score_sequences(model, seqs, n_positions=16)
    alone = score_sequences(model, [long], n_positions=16)[0]
    assert torch.equal(together[-1], alone)
    torch.testing.assert_close(together[-1][:15].double(), _direct(model, long[:16]), atol=2e-5, rtol=0)
