"""Model adapters: the contract (`ModelAdapter`) and loading models by name or import path."""

from audit.adapters.base import (
    CAPABILITIES,
    CAUSAL_LM,
    CONDITIONAL,
    DENOISING_LOSS,
    ELBO,
    ENCODE_DECODE,
    GENERATE,
    LATENT,
    LOG_LIKELIHOOD,
    LOG_PROBS,
    SAMPLE,
    SAMPLE_TABLE,
    TOKENIZER,
    ModelAdapter,
    ModelInfo,
    count_params,
    has_capability,
)
from audit.adapters.loading import load_model

__all__ = [
    "CAPABILITIES",
    "CAUSAL_LM",
    "CONDITIONAL",
    "DENOISING_LOSS",
    "ELBO",
    "ENCODE_DECODE",
    "GENERATE",
    "LATENT",
    "LOG_LIKELIHOOD",
    "LOG_PROBS",
    "SAMPLE",
    "SAMPLE_TABLE",
    "TOKENIZER",
    "ModelAdapter",
    "ModelInfo",
    "count_params",
    "has_capability",
    "load_model",
]
