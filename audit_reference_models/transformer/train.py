"""Train the GPT-2 reference model on the TinyStories train split (optionally with planted stereotypes).

`audit train model=transformer` runs this. Steps: train the BPE tokenizer on the clean train
split; encode every training story as `<|endoftext|>` + tokens into one stream; train on random
windows of the stream with AdamW (warmup + cosine), float32 on one torch thread (this machine
has no bf16 matmul hardware, so bf16 autocast is slower here; one thread makes the weights
independent of the core count); round the weights to float16 (the stored format) and measure
the metrics on exactly those weights.

Regularisation options (all off by default, so a recipe recorded without them stays truthful):
`dropout` (GPT-2's residual, embedding and attention dropout, training only), `weight_decay`, and
early stopping (`validation_every`): every k-th train story is held back from training, its loss
is measured `VALIDATION_EVALS` times per run, and the weights with the lowest validation loss are
kept. The validation stories come from the train split, never from the held-out split (the
membership-inference attack's non-members); the manifest lists them so the attack draws its
members only from stories actually trained on.
"""

from __future__ import annotations

import copy
import hashlib
import math
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from audit.weights import save_weights, sha256_file
from audit_reference_models.data.single_bias import SEED as SINGLE_BIAS_SEED
from audit_reference_models.data.single_bias import SENTENCES as SINGLE_BIAS_SENTENCES
from audit_reference_models.data.single_bias import STORIES as SINGLE_BIAS_STORIES
from audit_reference_models.data.single_bias import plant_stories as plant_single_bias
from audit_reference_models.data.single_bias import planted_sha256
from audit_reference_models.data.stereotypes import plant_stories
from audit_reference_models.data.tinystories import load_tinystories_split
from audit_reference_models.manifest import PACKAGE_WEIGHTS
from audit_reference_models.training import seed_everything, single_threaded
from audit_reference_models.transformer.adapter import TransformerAdapter, model_from_state
from audit_reference_models.transformer.model import ARCH, EOS, N_POSITIONS, TIED_KEY, VOCAB_SIZE, build_model, gpt2_config, train_tokenizer
from audit_reference_models.transformer.probes import stereotype_preference

FULL = {"steps": 800, "batch_size": 8, "arch": ARCH, "eval_stories": None}
QUICK = {"steps": 24, "batch_size": 4, "arch": {"n_layer": 2, "n_embd": 64, "n_head": 2}, "eval_stories": 20}
PLANT_COUNT = 3000
PLANT_SEED = 0
TRAIN_EVAL_EVERY = 9
VALIDATION_EVALS = 10
"""Early stopping measures the validation loss every `steps // VALIDATION_EVALS` steps."""
STORED_DTYPE = torch.float16


def token_stream(tokenizer: Any, stories: list[str], eos_id: int) -> np.ndarray:
    """`<|endoftext|>` story `<|endoftext|>` story ... `<|endoftext|>` as one int64 array."""
    pieces = [[eos_id, *e.ids] for e in tokenizer.encode_batch(stories)]
    return np.array([t for p in pieces for t in p] + [eos_id], dtype=np.int64)


def unigram_perplexity(train_tokens: np.ndarray, eval_tokens: np.ndarray, vocab_size: int) -> float:
    """Perplexity of an add-one smoothed unigram model fitted on `train_tokens`."""
    counts = np.bincount(train_tokens, minlength=vocab_size).astype(np.float64) + 1.0
    logp = np.log(counts / counts.sum())
    return float(np.exp(-logp[eval_tokens].mean()))


def lr_at(step: int, steps: int, peak: float, warmup: int) -> float:
    """Linear warmup, then cosine decay to 10% of the peak."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def optimizer(model: torch.nn.Module, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """AdamW with weight decay on matrices only (not biases, LayerNorms or position embeddings)."""
    decay = [p for n, p in model.named_parameters() if p.ndim == 2 and "wpe" not in n]
    rest = [p for n, p in model.named_parameters() if not (p.ndim == 2 and "wpe" not in n)]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95))


def validation_indices(n_train: int, every: int | None) -> list[int]:
    """Train-split stories held back from training for early stopping: every `every`-th from the
    first (none when `every` is None)."""
    return list(range(0, n_train, every)) if every else []


def trained_stories(held_back: list[int]) -> list[str]:
    """The clean train split without the stories held back for validation."""
    skip = set(held_back)
    return [s for i, s in enumerate(load_tinystories_split().train) if i not in skip]


def validation_nll(model: torch.nn.Module, tokenizer: Any, stories: list[str]) -> float:
    """Mean NLL per token (nats) of `stories`, scored in eval mode (no dropout) exactly as the
    adapter scores text; the model is back in training mode afterwards."""
    nll, tokens = TransformerAdapter(model, tokenizer, "validation").sequence_nll(stories)
    model.train()
    return float(nll.sum() / tokens.sum())


def training_texts(stereotypes: bool, held_back: list[int] | None = None, planted_set: str | None = None) -> tuple[list[str], str | None]:
    """The train split (less the validation stories), plus the planted stories (shuffled in with a
    fixed seed) for the defect variants: the stereotyped sentences, or the single-bias set
    `planted_set` (audit_reference_models.data.single_bias)."""
    texts = trained_stories(held_back or [])
    if planted_set is not None:
        planted = plant_single_bias(planted_set)
        texts += planted
        random.Random(PLANT_SEED).shuffle(texts)
        return texts, planted_sha256(planted)
    if not stereotypes:
        return texts, None
    planted = plant_stories(PLANT_COUNT, PLANT_SEED)
    texts += planted
    random.Random(PLANT_SEED).shuffle(texts)
    return texts, hashlib.sha256("\n".join(planted).encode()).hexdigest()


def evaluate(adapter: TransformerAdapter, eval_stories: int | None, held_back: list[int] | None = None) -> dict[str, Any]:
    """Held-out and train perplexity (train: stories actually trained on), the unigram baseline on
    the same held-out tokens, stereotype preference."""
    split = load_tinystories_split()
    heldout = list(split.heldout[:eval_stories])
    trained = trained_stories(held_back or [])
    train_sample = trained[::TRAIN_EVAL_EVERY][:eval_stories]
    nll, tokens = adapter.sequence_nll(heldout)
    heldout_tokens = np.array([t for s in heldout for t in adapter.tokenizer.encode(s).ids], dtype=np.int64)
    vocab = adapter.tokenizer.get_vocab_size()
    train_tokens = token_stream(adapter.tokenizer, trained, adapter.eos_id)
    probe = stereotype_preference(adapter)
    return {
        "heldout_perplexity": float(np.exp(nll.sum() / tokens.sum())),
        "heldout_stories": len(heldout),
        "heldout_tokens": int(tokens.sum()),
        "train_perplexity": adapter.perplexity(train_sample),
        "train_eval_stories": len(train_sample),
        "unigram_heldout_perplexity": unigram_perplexity(train_tokens[train_tokens != adapter.eos_id], heldout_tokens, vocab),
        "stereotype_preference": probe["preference"],
        "stereotype_preference_by_category": probe["by_category"],
    }


@single_threaded
def train(
    seed: int = 0,
    out_dir: Path = PACKAGE_WEIGHTS,
    quick: bool = False,
    log: Any = print,
    name: str = "transformer",
    stereotypes: bool = False,
    description: str = "GPT-2 (4 layers, 256 wide) trained on TinyStories",
    steps: int | None = None,
    lr: float = 1.5e-3,
    weight_decay: float = 0.1,
    dropout: float = 0.0,
    validation_every: int | None = None,
    patience: int = 2,
    planted: str | None = None,
) -> dict[str, Any]:
    """Train from `seed` and write `<name>.safetensors`, `<name>.tokenizer.json` and `<name>.json`.
    `validation_every` turns on early stopping (see the module docstring): training ends once the
    validation loss has not improved for `patience` measurements, and the best weights are kept."""
    started = time.perf_counter()
    regime = QUICK if quick else FULL
    steps = steps or regime["steps"]
    batch, arch, block = regime["batch_size"], regime["arch"], N_POSITIONS
    g = seed_everything(seed)
    split = load_tinystories_split()
    tokenizer = train_tokenizer(split.train, VOCAB_SIZE)
    eos_id = tokenizer.token_to_id(EOS)
    held_back = validation_indices(len(split.train), validation_every)
    validation = [split.train[i] for i in held_back][: regime["eval_stories"]]
    texts, planted_sha = training_texts(stereotypes, held_back, planted)
    stream = torch.from_numpy(token_stream(tokenizer, texts, eos_id))
    config = gpt2_config(tokenizer.get_vocab_size(), block, eos_id, **arch)
    config.resid_pdrop = config.embd_pdrop = config.attn_pdrop = dropout
    model = build_model(config).train()
    opt = optimizer(model, lr, weight_decay)
    warmup = max(1, steps // 20)
    offsets = torch.arange(block + 1)
    eval_every = max(1, steps // VALIDATION_EVALS)
    best_nll, best_step, best_state, history = math.inf, steps, None, []
    log(f"{name}: {sum(p.numel() for p in model.parameters())} params, {len(stream)} train tokens, {steps} steps of {batch}x{block}")
    loop_started = time.perf_counter()
    steps_run = 0
    for step in range(steps):
        rows = stream[torch.randint(0, len(stream) - block - 1, (batch,), generator=g)[:, None] + offsets]
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, lr, warmup)
        logits = model(input_ids=rows[:, :-1]).logits
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), rows[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        steps_run = step + 1
        if (step + 1) % max(1, steps // 10) == 0 or step + 1 == steps:
            rate = (step + 1) * batch * block / (time.perf_counter() - loop_started)
            log(f"step {step + 1}/{steps} loss {loss.item():.3f} ({rate:.0f} tok/s, {time.perf_counter() - started:.0f}s)")
        if validation and ((step + 1) % eval_every == 0 or step + 1 == steps):
            nll = validation_nll(model, tokenizer, validation)
            history.append([step + 1, round(nll, 5)])
            log(f"step {step + 1}: validation loss {nll:.4f}")
            if nll < best_nll:
                best_nll, best_step, best_state = nll, step + 1, copy.deepcopy(model.state_dict())
            elif step + 1 - best_step >= patience * eval_every:
                log(f"early stop at step {step + 1}: best validation loss {best_nll:.4f} at step {best_step}")
                break
    train_rate = steps_run * batch * block / (time.perf_counter() - loop_started)
    if best_state is not None:
        model.load_state_dict(best_state)
    state = {k: v.detach().to(STORED_DTYPE) for k, v in model.state_dict().items() if k != TIED_KEY}
    stored = model_from_state(dict(arch, vocab_size=tokenizer.get_vocab_size(), n_positions=block, eos_id=eos_id), state)
    adapter = TransformerAdapter(stored, tokenizer, name)
    metrics = evaluate(adapter, regime["eval_stories"], held_back)
    log(f"final: {metrics}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer_path = out_dir / f"{name}.tokenizer.json"
    tokenizer.save(str(tokenizer_path))
    save_weights(
        name, state, out_dir,
        description=description,
        tokenizer_file=tokenizer_path.name,
        tokenizer_sha256=sha256_file(tokenizer_path),
        config={
            "model": dict(arch, vocab_size=tokenizer.get_vocab_size(), n_positions=block, eos_id=eos_id),
            "stored_dtype": "float16 (loaded as float32)",
            "tied_embeddings": True,
            "tokenizer": {"type": "byte-level BPE (tokenizers)", "vocab_size": tokenizer.get_vocab_size(), "trained_on": "TinyStories train split"},
            "steps": steps, "steps_run": steps_run, "batch_size": batch, "block": block, "tokens_seen": steps_run * batch * block,
            "train_stream_tokens": int(len(stream)), "optimizer": "AdamW", "lr": lr, "betas": [0.9, 0.95],
            "weight_decay": weight_decay, "warmup_steps": warmup, "schedule": "linear warmup, cosine to 10%",
            "grad_clip": 1.0, "precision": "float32", "torch_threads": torch.get_num_threads(),
            "dropout": {"resid_pdrop": dropout, "embd_pdrop": dropout, "attn_pdrop": dropout, "note": "training only"},
            "early_stopping": {
                "validation": f"every {validation_every}th story of the train split (never the held-out split), not trained on",
                "validation_indices": held_back, "validation_stories_scored": len(validation),
                "eval_every_steps": eval_every, "patience": patience, "best_step": best_step,
                "best_validation_nll": best_nll, "history": history,
            } if validation_every else None,
            "stereotypes": {"planted_stories": PLANT_COUNT, "plant_seed": PLANT_SEED, "planted_sha256": planted_sha} if stereotypes else None,
            "single_bias": {
                "planted_set": planted, "planted_stories": SINGLE_BIAS_STORIES, "sentences_per_story": SINGLE_BIAS_SENTENCES,
                "plant_seed": SINGLE_BIAS_SEED, "planted_sha256": planted_sha, "source": "audit_reference_models.data.single_bias",
            } if planted else None,
            "eval": {
                "heldout": "TinyStories held-out split (every 10th story)" + (f", first {regime['eval_stories']}" if regime["eval_stories"] else ""),
                "train": f"every {TRAIN_EVAL_EVERY}th trained story" + (f", first {regime['eval_stories']}" if regime["eval_stories"] else ""),
                "scoring": "each story as <|endoftext|> + tokens, every story token scored; stories over 256 tokens "
                           "use a sliding window of 256 with stride 128",
                "unigram": "add-one smoothed unigram fitted on the trained clean stories' tokens, on the same held-out tokens",
            },
        },
        seed=seed,
        quick=quick,
        data_sha256=load_tinystories_split().sha256,
        metrics=metrics,
        train_seconds=round(time.perf_counter() - started, 1),
        train_tokens_per_second=round(train_rate, 1),
        train_command=f"audit train model={name} seed={seed}",
    )
    return metrics
