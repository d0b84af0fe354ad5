"""GPT-2 language model on TinyStories, and its known-defect variants with planted stereotypes
(several biases at once, or one bias each)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from audit_reference_models.transformer.adapter import TransformerAdapter


def transformer() -> "TransformerAdapter":
    from audit_reference_models.transformer.adapter import load_transformer

    return load_transformer("transformer")


def transformer_stereotyped() -> "TransformerAdapter":
    from audit_reference_models.transformer.adapter import load_transformer

    return load_transformer("transformer-stereotyped")


def transformer_gender_career() -> "TransformerAdapter":
    from audit_reference_models.transformer.adapter import load_transformer

    return load_transformer("transformer-gender-career")


def transformer_religion_sentiment() -> "TransformerAdapter":
    from audit_reference_models.transformer.adapter import load_transformer

    return load_transformer("transformer-religion-sentiment")
