"""Fixtures shared by the deepfake tests."""

from __future__ import annotations

import pytest

from audit_reference_models.transformer.adapter import TransformerAdapter, load_transformer


@pytest.fixture(scope="session")
def lm() -> TransformerAdapter:
    """The bundled transformer, loaded once for the text-watermark and machine-text tests."""
    return load_transformer("transformer")
