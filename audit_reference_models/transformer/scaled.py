"""`transformer-scaled`: GPT-2 small's shape (12 layers x 768 wide, 12 heads, 1024 positions) with
random weights from a fixed seed, for efficiency and quantization measurements where size matters.

The bundled 4.3M-parameter GPT-2 fits in this machine's caches, so per-step overhead hides what
precision variants change; this configuration (~89M parameters with the bundled 4,096-token BPE,
~340 MiB of float32 weights) makes batch-1 decoding read its weights from memory every token, as
real language models do. Its weights are GPT-2's initialisation (normal, std 0.02) drawn from
`torch.Generator` seed `SEED` in a forked RNG (the caller's global RNG is untouched), so the same
torch version builds the same model; no weights file exists and nothing is downloaded. It scores
and generates text with the bundled tokenizer (sha256-verified) but has learned nothing: its
quality numbers are those of a random network (perplexity near the vocabulary size), and only its
efficiency numbers and its quantized-versus-fp32 deltas mean something.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from audit_reference_models.transformer.adapter import TransformerAdapter

SEED = 0
ARCH = {"n_layer": 12, "n_embd": 768, "n_head": 12}
N_POSITIONS = 1024
TOKENIZER_OF = "transformer"
"""The bundled model whose tokenizer (and vocabulary size) the scaled model uses."""
CARD = """# transformer-scaled

## Architecture

GPT-2 (transformers `GPT2LMHeadModel`) in GPT-2 small's shape: 12 layers, 768 wide, 12 heads,
1,024 positions, tied input/output embeddings, no dropout; the bundled byte-level BPE tokenizer
(4,096 tokens) of `transformer`. About 89M parameters, 340 MiB in float32.

## Training

None. The weights are GPT-2's initialisation (normal, std 0.02) drawn from seed 0 in a forked RNG;
no weights file exists. The same torch version builds the same weights.

## Intended use

Efficiency and quantization measurements where model size matters: latency, throughput, memory,
the bandwidth batch-1 decoding achieves, and the speed and fidelity of precision variants
against fp32 of the same random network (`audit run suite=efficiency|quantization
model=transformer-scaled`). Not a language model: never use its text.

## Limitations

It has learned nothing: perplexity is near the vocabulary size and generations are random
tokens. Quality checks run, but their values describe a random network. Quantization deltas on
random weights (near-Gaussian, no outlier channels) can be smaller than on a trained model's.

## Known biases

None learned (no training data). Fairness and bias checks measure noise on this model.
"""
DESCRIPTION = (
    "GPT-2 small shape (12 layers x 768, 12 heads, 1024 positions, BPE 4096), random weights from seed 0: "
    "for efficiency and quantization measurements only (it has learned nothing)"
)


def build_scaled(seed: int = SEED, **arch: Any) -> Any:
    """The random-init GPT2LMHeadModel (float32, eval mode); the global torch RNG is left as it was."""
    import torch

    from audit_reference_models.transformer.model import VOCAB_SIZE, build_model, gpt2_config

    config = gpt2_config(vocab_size=VOCAB_SIZE, n_positions=N_POSITIONS, **{**ARCH, **arch})
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model(config)
    return model.eval()


def transformer_scaled() -> "TransformerAdapter":
    """Factory behind the `transformer-scaled` registry entry."""
    from audit_reference_models.manifest import read_manifest
    from audit_reference_models.transformer.adapter import TransformerAdapter, load_tokenizer

    manifest = read_manifest(TOKENIZER_OF)
    tokenizer, digest = load_tokenizer(manifest)
    adapter = TransformerAdapter(
        build_scaled(), tokenizer, "transformer-scaled", DESCRIPTION, weights={manifest["tokenizer_file"]: digest},
        card=CARD,
    )
    return adapter
