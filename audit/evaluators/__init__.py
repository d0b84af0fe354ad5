"""Image evaluators: the networks whose feature spaces image metrics are computed in.

`evaluator=` words: the bundled `digits-cnn` (default), `inception` (FID's Inception-v3,
audit.evaluators.inception), a TorchScript file, a
`package.module:factory` (audit.evaluators.base), or `clip:<dir>` / `dinov2:<dir>`, a local
Hugging Face model folder (audit.evaluators.hf_vision: features only, no classes). Every evaluator maps float images
[N, C, H, W] in [0, 1] to (features, logits) and names its feature space.
"""

from audit.evaluators.base import (
    BATCH,
    DEFAULT_EVALUATOR,
    DEFAULT_REFERENCE,
    Embedding,
    ImageEvaluator,
    ReferenceImages,
    digits_evaluator,
    digits_reference,
    load_user_network,
    state_sha256,
    user_evaluator,
)
from audit.evaluators.hf_vision import HFVisionEvaluator, clip_scores, hf_vision_evaluator
from audit.evaluators.inception import INCEPTION, find_inception_weights, inception_evaluator

__all__ = [
    "BATCH", "DEFAULT_EVALUATOR", "DEFAULT_REFERENCE", "Embedding", "ImageEvaluator", "ReferenceImages",
    "digits_evaluator", "digits_reference", "load_user_network", "resolve_evaluator", "state_sha256", "user_evaluator",
    "HFVisionEvaluator", "clip_scores", "hf_vision_evaluator",
    "INCEPTION", "find_inception_weights", "inception_evaluator",
]


def resolve_evaluator(word: str) -> ImageEvaluator:
    """The evaluator an `evaluator=` word names (InputError, exit 2, when it cannot be had)."""
    from audit.evaluators.hf_vision import split_hf_vision_word

    if word == INCEPTION:
        return inception_evaluator()
    if split_hf_vision_word(word) is not None:
        return hf_vision_evaluator(word)
    return user_evaluator(word)
