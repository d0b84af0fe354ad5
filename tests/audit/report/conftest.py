"""A synthetic judged quality run (tests.helpers.synthetic_quality_run), built once per module."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import synthetic_quality_run


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    folder = tmp_path_factory.mktemp("synthetic-run")
    return synthetic_quality_run(folder), folder
