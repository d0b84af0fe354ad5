"""`ray_address` is read only with executor=ray (audit.config.parse_run_words): given beside the
local executor it would be ignored in silence, so the run the user asked for (on a cluster) is
refused in one line instead of run somewhere else."""

from __future__ import annotations

import pytest

from audit.config import parse_run_words
from audit.errors import InputError


@pytest.mark.parametrize("words", [["suite=quality", "ray_address=10.0.0.1:6379"], ["suite=quality", "executor=local", "ray_address=auto"]])
def test_ray_address_without_the_ray_executor_is_refused(words: list[str]):
    with pytest.raises(InputError, match="executor=ray"):
        parse_run_words(words)


def test_ray_address_with_the_ray_executor_is_kept():
    config = parse_run_words(["suite=quality", "executor=ray", "ray_address=10.0.0.1:6379"])
    assert (config.executor, config.ray_address) == ("ray", "10.0.0.1:6379")
