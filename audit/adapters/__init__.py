"""Model adapters: the contract (`ModelAdapter`) and loading models by name or import path."""

from audit.adapters.base import (
    CAPABILITIES,
    CONDITIONAL,
    ENCODE_DECODE,
    FAMILIES,
    GENERATE,
    LOG_LIKELIHOOD,
    LOG_PROBS,
    SAMPLE,
    ModelAdapter,
    ModelInfo,
    count_params,
    has_capability,
)
from audit.adapters.loading import load_model

__all__ = [
    "CAPABILITIES",
    "CONDITIONAL",
    "ENCODE_DECODE",
    "FAMILIES",
    "GENERATE",
    "LOG_LIKELIHOOD",
    "LOG_PROBS",
    "SAMPLE",
    "ModelAdapter",
    "ModelInfo",
    "count_params",
    "has_capability",
    "load_model",
]
