"""Image evaluators: the networks whose feature spaces image metrics are computed in.

`evaluator=` words: the bundled `digits-cnn` (default), a TorchScript file, or a
`package.module:factory` (audit.evaluators.base). Every evaluator maps float images
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
    state_sha256,
    user_evaluator,
)

__all__ = [
    "BATCH", "DEFAULT_EVALUATOR", "DEFAULT_REFERENCE", "Embedding", "ImageEvaluator", "ReferenceImages",
    "digits_evaluator", "digits_reference", "resolve_evaluator", "state_sha256", "user_evaluator",
]


def resolve_evaluator(word: str) -> ImageEvaluator:
    """The evaluator an `evaluator=` word names (InputError, exit 2, when it cannot be had)."""
    return user_evaluator(word)
