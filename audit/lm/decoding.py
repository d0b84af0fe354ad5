"""Autoregressive decoding with a KV cache, seeded per prompt so results never depend on the
global RNG, the batch size or the other prompts in the batch.

Prompt i draws its randomness from its own `torch.Generator` seeded with
`SeedSequence([seed, i])`; each step draws one uniform number per prompt and inverts the CDF of
the (temperature-, top-k- and top-p-filtered) next-token distribution in float64. Prompts are
left-padded with an attention mask and explicit position ids, so a batch decodes as each prompt
would alone.

An optional logits processor (e.g. a text watermark) sees each step's token ids so far and raw
next-token logits and returns new logits, before greedy choice or temperature/top-k/top-p
filtering; without one the decode is exactly as before.

On CPU, decoding runs with one intra-op thread: each step's matrices are a few rows, too small
to gain from a second thread, and on a machine whose cores are busy with other jobs the thread
barriers made 30 steps at batch 3 take 5.4 s on two threads against 0.24 s on one (measured).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

import numpy as np
import torch

from audit.threads import intra_op_threads

DECODE_THREADS = 1

LogitsProcessor = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""(token ids so far [B, T] int64, raw next-token logits [B, V] float32) -> logits [B, V]. The ids
are left-padded with `eos_id`, so column -1 is each row's true previous token."""


def prompt_generators(seed: int, n: int) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(int(np.random.SeedSequence([seed, i]).generate_state(1, np.uint64)[0] >> 1)) for i in range(n)]


def filter_logits(logits: torch.Tensor, temperature: float, top_k: int | None, top_p: float | None) -> torch.Tensor:
    """float64 logits scaled by 1/temperature with everything outside top-k / the top-p nucleus at -inf."""
    logits = logits.double() / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
        probs = torch.softmax(sorted_logits, dim=-1)
        before = probs.cumsum(-1) - probs
        sorted_logits = sorted_logits.masked_fill(before >= top_p, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, order, sorted_logits)
    return logits


def draw(logits: torch.Tensor, generators: list[torch.Generator]) -> torch.Tensor:
    """One token per row by inverse-CDF sampling with each row's own generator (`right=True`: a
    zero-probability token is never drawn)."""
    probs = torch.softmax(logits, dim=-1)
    cdf = probs.cumsum(-1)
    u = torch.cat([torch.rand(1, generator=g, dtype=torch.float64) for g in generators])[:, None] * cdf[:, -1:]
    return torch.searchsorted(cdf, u, right=True).squeeze(-1).clamp(max=logits.shape[-1] - 1)


@torch.no_grad()
@lru_cache(maxsize=1)
def cache_name() -> str:
    """The KV-cache argument and output field: `cache` from transformers 5 (which warns on every
    use of the old name), `past_key_values` before."""
    import transformers

    return "cache" if int(transformers.__version__.split(".")[0]) >= 5 else "past_key_values"


def decode(
    model: torch.nn.Module,
    prompts: list[list[int]],
    max_new_tokens: int,
    seed: int,
    eos_id: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    greedy: bool = False,
    logits_processor: LogitsProcessor | None = None,
) -> list[list[int]]:
    """New token ids for each prompt (without the prompt), stopping at `eos_id` (not included);
    `logits_processor` (see LogitsProcessor) modifies each step's logits before sampling."""
    if not greedy and temperature <= 0:
        raise ValueError(f"temperature must be > 0 (or greedy=True), got {temperature}")
    device = next(model.parameters()).device
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), eos_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for r, p in enumerate(prompts):
        ids[r, width - len(p) :] = torch.tensor(p)
        mask[r, width - len(p) :] = 1
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    generators = prompt_generators(seed, len(prompts))
    out: list[list[int]] = [[] for _ in prompts]
    finished = torch.zeros(len(prompts), dtype=torch.bool)
    past = None
    step_ids, step_pos = ids, positions
    seen = ids
    with intra_op_threads(DECODE_THREADS):
        for _ in range(max_new_tokens):
            result = model(
                input_ids=step_ids.to(device), attention_mask=mask.to(device), position_ids=step_pos.to(device),
                use_cache=True, **{cache_name(): past},
            )
            past = getattr(result, cache_name())
            logits = result.logits[:, -1].float().cpu()
            if logits_processor is not None:
                logits = logits_processor(seen, logits)
            if greedy:
                token = logits.argmax(-1)
            else:
                token = draw(filter_logits(logits, temperature, top_k, top_p), generators)
            token = token.masked_fill(finished, eos_id)
            for r in range(len(prompts)):
                if not finished[r] and token[r] != eos_id:
                    out[r].append(int(token[r]))
            finished |= token == eos_id
            if bool(finished.all()):
                break
            step_ids, step_pos = token[:, None], step_pos[:, -1:] + 1
            if logits_processor is not None:
                seen = torch.cat([seen, step_ids], dim=1)
            mask = torch.cat([mask, torch.ones((len(prompts), 1), dtype=torch.long)], dim=1)
    return out
