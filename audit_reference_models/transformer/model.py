"""The network and tokenizer: transformers' GPT-2 in a small config, byte-level BPE from `tokenizers`.

Weights are tied (input embedding = output layer); the stored state drops `lm_head.weight`
and `tie_weights` restores it on load.
"""

from __future__ import annotations

import os
from typing import Any, Iterable

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: E402
from transformers import GPT2Config, GPT2LMHeadModel  # noqa: E402

EOS = "<|endoftext|>"
"""Separates stories in training and starts every scored or generated sequence (as GPT-2's BOS)."""
VOCAB_SIZE = 4096
N_POSITIONS = 256
ARCH = {"n_layer": 4, "n_embd": 256, "n_head": 4}
TIED_KEY = "lm_head.weight"


def train_tokenizer(texts: Iterable[str], vocab_size: int = VOCAB_SIZE) -> Tokenizer:
    """Byte-level BPE (GPT-2 style, no prefix space) with `<|endoftext|>` as id 0; deterministic."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=2, special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    return tokenizer


def gpt2_config(vocab_size: int = VOCAB_SIZE, n_positions: int = N_POSITIONS, eos_id: int = 0, **arch: Any) -> GPT2Config:
    """A GPT-2 config without dropout (a few epochs on a small corpus do not need it)."""
    return GPT2Config(
        vocab_size=vocab_size, n_positions=n_positions, **{**ARCH, **arch},
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
        bos_token_id=eos_id, eos_token_id=eos_id, tie_word_embeddings=True,
    )


def build_model(config: GPT2Config) -> GPT2LMHeadModel:
    """A freshly initialised model (weights from the global torch RNG: seed it first)."""
    model = GPT2LMHeadModel(config)
    model.tie_weights()
    return model
