"""Zero-shot machine-text detection from a scoring language model's view of each token.

Two per-text statistics, the classic zero-shot baselines: the mean token log-likelihood
(Gehrmann et al., 2019, GLTR; Mitchell et al., 2023, DetectGPT's baselines) and the mean
log-rank of each observed token among the model's predictions (rank 1 = the top token; Su et
al., 2023, DetectLLM). The premise: sampled text sits where the model puts its mass, so it
scores a higher log-likelihood and a lower log-rank than human text of the same length -- true
for truncated sampling, false for pure sampling from the bundled model (below). Long texts are scored
with the same sliding windows as the bundled transformer's `log_probs`
(audit.lm.scoring), so the log-likelihood equals minus its per-token NLL.

Measured on the bundled transformer scoring its own samples (seed 0): the 240 held-out stories
with at least 160 tokens; prompt = a story's first 32 tokens; machine text = the model's
continuation (up to 128 new tokens, 109-111 on average), human text = the story's next tokens cut
to the machine text's token count; each continuation scored alone. ROC AUC with machine text as
the positive class and each score oriented "more machine-like = higher" (95% bias-adjusted
bootstrap CI, 1,000 resamples):

  sampling                    log_likelihood       log_rank
  temperature 0.7, top-k 40   0.995 (0.986-1.00)   0.995 (0.986-1.00)
  temperature 1.0             0.30 (0.26-0.35)     0.29 (0.25-0.33)
  human vs human              0.51 (0.44-0.59)     0.52 (0.44-0.59)   (even vs odd stories, 128 tokens)

(The tests use the first 60 prompts: 0.999 / 1.000 at 0.7 / top-k 40, 0.28 / 0.26 at 1.0.)
Truncated, colder sampling stays where the model's mass is and is easy to flag. Pure sampling
from this 4M-parameter model is the opposite: its samples drift into contexts the model itself
finds unlikely (mean log-likelihood -4.06 against -3.76 for the human text), as Holtzman et al.
(2020) found for pure sampling, so the one-sided zero-shot rule inverts -- a detector must
know the decoding setting, or test both tails.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from audit.lm import TOKENS_PER_BATCH, windows

SCORES = ("log_likelihood", "log_rank")


@torch.no_grad()
def token_statistics(
    model: torch.nn.Module, token_ids: list[list[int]], n_positions: int, pad_id: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(log p, rank) of tokens 1.. of every sequence (each given those before it, within a
    sliding window of `n_positions`), float64 / int64; rank 1 = the model's most likely token."""
    device = next(model.parameters()).device
    wins = sorted(windows(token_ids, n_positions, n_positions // 2), key=lambda w: -len(w.ids))
    pieces: dict[int, dict[int, tuple[torch.Tensor, torch.Tensor]]] = {s: {} for s in range(len(token_ids))}
    i = 0
    while i < len(wins):
        batch = wins[i : i + max(1, TOKENS_PER_BATCH // len(wins[i].ids))]
        i += len(batch)
        ids = torch.full((len(batch), len(batch[0].ids)), pad_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for r, w in enumerate(batch):
            ids[r, : len(w.ids)] = torch.tensor(w.ids)
            mask[r, : len(w.ids)] = 1
        logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits[:, :-1].float()
        target = ids[:, 1:, None].to(device)
        observed = logits.gather(-1, target)
        logp = (observed.squeeze(-1) - torch.logsumexp(logits, dim=-1)).double().cpu()
        rank = ((logits > observed).sum(-1) + 1).cpu()
        for r, w in enumerate(batch):
            pieces[w.seq][w.part] = (logp[r, w.first - 1 : len(w.ids) - 1], rank[r, w.first - 1 : len(w.ids) - 1])
    out = []
    for parts in pieces.values():
        ordered = [parts[p] for p in sorted(parts)]
        logp = torch.cat([p[0] for p in ordered]).numpy() if ordered else np.zeros(0)
        rank = torch.cat([p[1] for p in ordered]).numpy() if ordered else np.zeros(0, dtype=np.int64)
        out.append((logp, rank))
    return out


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values)) if len(values) else float("nan")


def zero_shot_scores(model: torch.nn.Module, token_ids: list[list[int]], n_positions: int) -> dict[str, np.ndarray]:
    """Per sequence: mean token log-likelihood and mean log-rank over tokens 1.. (token 0 is
    context only, e.g. `<|endoftext|>`); higher log_likelihood / lower log_rank = more
    machine-like; nan for a sequence with fewer than two tokens."""
    stats = token_statistics(model, token_ids, n_positions)
    return {
        "log_likelihood": np.array([_mean(logp) for logp, _ in stats]),
        "log_rank": np.array([_mean(np.log(rank)) for _, rank in stats]),
    }


def scores_for_adapter(adapter: Any, texts: list[str]) -> dict[str, np.ndarray]:
    """`zero_shot_scores` of texts under an adapter that declares CAUSAL_LM: its causal LM
    `model`, its tokenisation `encode(text) -> ids` (start token included) and `n_positions`."""
    from audit.adapters.base import CAUSAL_LM, has_capability

    if not has_capability(adapter, CAUSAL_LM):
        raise TypeError(
            f"zero-shot machine-text scores need an adapter that declares {CAUSAL_LM} (`model`, `encode`, `n_positions`, "
            f"like the bundled transformer); '{type(adapter).__name__}' does not"
        )
    return zero_shot_scores(adapter.model, [adapter.encode(t) for t in texts], int(adapter.n_positions))
