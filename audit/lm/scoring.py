"""Per-token log-probabilities of token sequences, batched with right padding and an attention mask.

A sequence is `[<|endoftext|>] + text tokens`; every text token is scored given what precedes it.
Sequences longer than the context are scored with a sliding window: windows start every
`stride` tokens and each token is scored once, in the first window that holds it (so every token
past the first window keeps at least `n_positions - stride` tokens of context), as in the
transformers guide "Perplexity of fixed-length models".
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from audit.progress_events import report_step

TOKENS_PER_BATCH = 8192


@dataclass(frozen=True)
class Window:
    """Tokens `ids` of sequence `seq`; positions `first`.. of the window are scored."""

    seq: int
    part: int
    ids: list[int]
    first: int


def windows(sequences: list[list[int]], n_positions: int, stride: int) -> list[Window]:
    """Split each sequence into context windows; the first scored position of a window is 1 for
    the first window and the end of the previous window otherwise."""
    out = []
    for s, ids in enumerate(sequences):
        start, done, part = 0, 1, 0
        while done < len(ids):
            end = min(start + n_positions, len(ids))
            out.append(Window(s, part, ids[start:end], done - start))
            done, start, part = end, start + stride, part + 1
    return out


@torch.no_grad()
def score_sequences(
    model: torch.nn.Module, sequences: list[list[int]], n_positions: int, stride: int | None = None, pad_id: int = 0
) -> list[torch.Tensor]:
    """log p(token_t | tokens_<t) for t >= 1 of every sequence: float32 CPU tensors of length len - 1."""
    stride = stride or n_positions // 2
    if not 0 < stride < n_positions:
        raise ValueError(f"stride must be in 1..{n_positions - 1}, got {stride}")
    device = next(model.parameters()).device
    wins = sorted(windows(sequences, n_positions, stride), key=lambda w: -len(w.ids))
    pieces: dict[tuple[int, int], torch.Tensor] = {}
    i = 0
    while i < len(wins):
        rows = max(1, TOKENS_PER_BATCH // len(wins[i].ids))
        batch = wins[i : i + rows]
        i += rows
        width = len(batch[0].ids)
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for r, w in enumerate(batch):
            ids[r, : len(w.ids)] = torch.tensor(w.ids)
            mask[r, : len(w.ids)] = 1
        ids, mask = ids.to(device), mask.to(device)
        logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
        logp = logits.gather(-1, ids[:, 1:, None]).squeeze(-1) - torch.logsumexp(logits, dim=-1)
        logp = logp.cpu()
        for r, w in enumerate(batch):
            pieces[(w.seq, w.part)] = logp[r, w.first - 1 : len(w.ids) - 1]
        report_step("scoring text windows", min(i, len(wins)), len(wins))
    parts: dict[int, int] = {}
    for w in wins:
        parts[w.seq] = max(parts.get(w.seq, 0), w.part + 1)
    return [torch.cat([pieces[(s, p)] for p in range(parts[s])]) if s in parts else torch.zeros(0) for s in range(len(sequences))]
