"""Per-token log-probabilities of token sequences, batched with right padding and an attention mask.

A sequence is `[<|endoftext|>] + text tokens`; every text token is scored given what precedes it.
Sequences longer than the context are scored with a sliding window: windows start every
`stride` tokens and each token is scored once, in the first window that holds it (so every token
past the first window keeps at least `n_positions - stride` tokens of context), as in the
transformers guide "Perplexity of fixed-length models".

Sequences that fit the context and share a prefix of at least `MIN_SHARED_PREFIX` tokens with
another (templated probes: the same frame before many different words) are scored from one
KV cache of that prefix: the prefix runs once, each sequence's remaining tokens run on a copy of
its cache. The scores equal separate scoring up to float rounding; the work falls with the
shared share of the tokens (the association probe: 72k tokens run instead of 295k).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import torch

from audit.progress_events import report_step

TOKENS_PER_BATCH = 8192
MIN_SHARED_PREFIX = 4
"""Shortest token prefix worth a KV cache of its own (the start token and a few words)."""


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


def common_prefix_length(a: list[int], b: list[int]) -> int:
    """How many leading tokens two sequences share."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def shared_prefixes(sequences: list[list[int]], n_positions: int, min_length: int = MIN_SHARED_PREFIX) -> dict[int, int]:
    """Sequence index -> length k of the prefix it is scored from, for the sequences worth it:
    k is the longest prefix the sequence shares with another (neighbours in sorted order), at
    most its length - 1 (one token past the prefix runs on the cache), at least `min_length`,
    and at least one other sequence has the same k-token prefix as its own. Sequences longer than
    the context, and duplicates beyond the first, are left out (scored the plain way)."""
    order = sorted((i for i, s in enumerate(sequences) if len(s) <= n_positions), key=lambda i: sequences[i])
    order = [i for j, i in enumerate(order) if j == 0 or sequences[i] != sequences[order[j - 1]]]
    lcp = [common_prefix_length(sequences[a], sequences[b]) for a, b in zip(order, order[1:])]
    length = {}
    for j, i in enumerate(order):
        k = min(max(lcp[j - 1] if j > 0 else 0, lcp[j] if j < len(lcp) else 0), len(sequences[i]) - 1)
        if k >= min_length:
            length[i] = k
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, k in length.items():
        groups.setdefault(tuple(sequences[i][:k]), []).append(i)
    return {i: len(stem) for stem, members in groups.items() if len(members) > 1 for i in members}


def _token_logp(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """log-softmax of `logits` [..., V] at `targets` [...], float32."""
    logits = logits.float()
    return logits.gather(-1, targets[..., None]).squeeze(-1) - torch.logsumexp(logits, dim=-1)


def _score_from_prefixes(
    model: torch.nn.Module, sequences: list[list[int]], prefix_len: dict[int, int], pad_id: int, device: torch.device,
) -> dict[int, torch.Tensor]:
    """Scores of the sequences in `prefix_len`: the distinct prefixes run once, batched with right
    padding, keeping their KV cache; then every sequence's remaining tokens run on a copy of its
    prefix's cache rows, batched by how many tokens remain (no padding there)."""
    from audit.lm.decoding import cache_name

    members: dict[tuple[int, ...], list[int]] = {}
    for i, k in prefix_len.items():
        members.setdefault(tuple(sequences[i][:k]), []).append(i)
    stems = sorted(members, key=len)
    out: dict[int, torch.Tensor] = {}
    done, total, s0 = 0, len(prefix_len), 0
    while s0 < len(stems):
        s1 = s0 + 1
        while s1 < len(stems) and (s1 + 1 - s0) * len(stems[s1]) <= TOKENS_PER_BATCH:
            s1 += 1
        chunk, s0 = stems[s0:s1], s1
        width = len(chunk[-1])
        ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for r, stem in enumerate(chunk):
            ids[r, : len(stem)] = torch.tensor(stem)
            mask[r, : len(stem)] = 1
        ids, mask = ids.to(device), mask.to(device)
        result = model(input_ids=ids, attention_mask=mask, use_cache=True)
        cache = getattr(result, cache_name())
        stem_scores = _token_logp(result.logits[:, :-1], ids[:, 1:]).cpu()
        ends = torch.tensor([len(stem) - 1 for stem in chunk], device=device)
        last = torch.log_softmax(result.logits[torch.arange(len(chunk), device=device), ends].float(), dim=-1).cpu()  # predicts token k
        rows: dict[int, list[tuple[int, int]]] = {}
        for r, stem in enumerate(chunk):
            for i in members[stem]:
                rows.setdefault(len(sequences[i]) - len(stem) - 1, []).append((r, i))
        for rest, same in sorted(rows.items()):
            step = max(1, TOKENS_PER_BATCH // (width + rest))
            for b0 in range(0, len(same), step):
                batch = same[b0 : b0 + step]
                tail = _tail_scores(model, cache, mask, sequences, [(r, i, len(chunk[r])) for r, i in batch], rest, device) if rest else None
                for b, (r, i) in enumerate(batch):
                    k = len(chunk[r])
                    parts = [stem_scores[r, : k - 1], last[r, sequences[i][k]].reshape(1)]
                    out[i] = torch.cat(parts + ([tail[b]] if rest else []))
                done += len(batch)
                report_step("scoring text windows", done, total)
    return out


def _tail_scores(
    model: torch.nn.Module, cache: Any, stem_mask: torch.Tensor, sequences: list[list[int]], batch: list[tuple[int, int, int]],
    rest: int, device: torch.device,
) -> torch.Tensor:
    """Scores [rows, rest] of tokens k+1..k+rest of each sequence i of `batch` (prefix row r, i, k
    its prefix length): tokens k..k+rest-1 run on a copy of the cache rows r (the last token is
    only scored, never fed: its logits would predict nothing), at positions k.., attending to the
    prefix's own tokens only (the mask hides its row's padding)."""
    from audit.lm.decoding import cache_name

    fed = torch.tensor([sequences[i][k : k + rest] for _, i, k in batch], dtype=torch.long, device=device)
    targets = torch.tensor([sequences[i][k + 1 : k + 1 + rest] for _, i, k in batch], dtype=torch.long, device=device)
    select = torch.tensor([r for r, _, _ in batch], device=device)
    past = _cache_rows(cache, select)
    positions = torch.tensor([k for _, _, k in batch], device=device)[:, None] + torch.arange(rest, device=device)
    mask = torch.cat([stem_mask[select], torch.ones((len(batch), rest), dtype=torch.long, device=device)], dim=1)
    logits = model(input_ids=fed, attention_mask=mask, position_ids=positions, use_cache=True, **{cache_name(): past}).logits
    return _token_logp(logits, targets).cpu()


def _cache_rows(cache: Any, rows: torch.Tensor) -> Any:
    """A cache holding rows `rows` of `cache`, which stays as it was (the forward pass that uses
    the copy appends to it). Layers that select by building new tensors (transformers 5's
    DynamicLayer) are copied shallowly, so the prefix tensors are copied once, by the selection."""
    layers = getattr(cache, "layers", None)
    if isinstance(layers, list):
        past = copy.copy(cache)
        past.layers = [copy.copy(layer) for layer in layers]
    else:
        past = copy.deepcopy(cache)
    past.batch_select_indices(rows)
    return past


@torch.no_grad()
def score_sequences(
    model: torch.nn.Module, sequences: list[list[int]], n_positions: int, stride: int | None = None, pad_id: int = 0
) -> list[torch.Tensor]:
    """log p(token_t | tokens_<t) for t >= 1 of every sequence: float32 CPU tensors of length len - 1."""
    stride = stride or n_positions // 2
    if not 0 < stride < n_positions:
        raise ValueError(f"stride must be in 1..{n_positions - 1}, got {stride}")
    device = next(model.parameters()).device
    prefix_len = shared_prefixes(sequences, n_positions)
    shared = _score_from_prefixes(model, sequences, prefix_len, pad_id, device) if prefix_len else {}
    first_copy = {tuple(s): i for i, s in reversed(list(enumerate(sequences))) if len(s) <= n_positions}
    plain = [i for i, s in enumerate(sequences) if i not in shared and first_copy.get(tuple(s), i) not in shared]
    plain_index = {s: j for j, s in enumerate(plain)}
    wins = sorted(windows([sequences[i] for i in plain], n_positions, stride), key=lambda w: -len(w.ids))
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
        logp = _token_logp(model(input_ids=ids, attention_mask=mask).logits[:, :-1], ids[:, 1:]).cpu()
        for r, w in enumerate(batch):
            pieces[(w.seq, w.part)] = logp[r, w.first - 1 : len(w.ids) - 1]
        report_step("scoring text windows", min(i, len(wins)), len(wins))
    parts: dict[int, int] = {}
    for w in wins:
        parts[w.seq] = max(parts.get(w.seq, 0), w.part + 1)
    out = []
    for s, seq in enumerate(sequences):
        if s in shared:
            out.append(shared[s])
        elif first_copy.get(tuple(seq), s) in shared:
            out.append(shared[first_copy[tuple(seq)]].clone())
        else:
            j = plain_index[s]
            out.append(torch.cat([pieces[(j, p)] for p in range(parts[j])]) if j in parts else torch.zeros(0))
    return out
