"""The conformance kit's `text_to_image` rule: prompts are taken, followed and seeded."""

from __future__ import annotations

import pytest
import torch

from audit.testing import ContractError, adapter_checks


def _rule(adapter):
    return next(c for c in adapter_checks(adapter, n=4) if str(c) == "text_to_image")


def test_a_model_that_follows_its_prompts_passes():
    import text_to_image_models

    _rule(text_to_image_models.painter())()


def test_a_model_that_ignores_its_prompts_fails():
    import text_to_image_models

    with pytest.raises(ContractError, match="text_to_image: .*the prompts are ignored"):
        _rule(text_to_image_models.ignores_prompts())()


def test_a_sample_without_a_prompts_keyword_fails():
    import text_to_image_models

    class NoKeyword(text_to_image_models.Painter):
        def sample(self, n: int, seed: int, labels: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
            return super().sample(n, seed, labels)

    with pytest.raises(ContractError, match="takes no `prompts` keyword"):
        _rule(NoKeyword())()
