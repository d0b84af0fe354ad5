"""Fixtures shared by the tabular check tests."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="module")
def adult() -> Any:
    """The bundled UCI Adult split (official split, cleaned; loaded once per process)."""
    from audit_reference_models.data.adult import load_adult_split

    return load_adult_split()
