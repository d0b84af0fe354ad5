"""A precision or check named twice is refused with one line (exit 2), as two models of one name
are: before, `precision=int8,int8` ran the variant twice and wrote duplicate records."""

from __future__ import annotations

import pytest

from audit.config import parse_run_words
from audit.errors import InputError
from tests.helpers import assert_one_line_error, run_cli


@pytest.mark.parametrize("word, named", [("precision=fp32,int8,int8", "'int8'"), ("precision=bf16, bf16", "'bf16'"),
                                         ("check=quantization.size_ratio,quantization.size_ratio", "'quantization.size_ratio'")])
def test_a_name_given_twice_is_refused(word, named):
    with pytest.raises(InputError) as refused:
        parse_run_words(["suite=quantization", "model=gan", word])
    assert named in str(refused.value) and "twice" in str(refused.value)


def test_distinct_names_are_kept_in_order():
    config = parse_run_words(["suite=quantization", "precision=fp32,int8,bf16", "check=quantization.psnr,quantization.ssim"])
    assert config.precisions == ["fp32", "int8", "bf16"] and config.checks == ["quantization.psnr", "quantization.ssim"]


def test_the_command_line_says_it_in_one_line(tmp_path):
    result = run_cli("run", "suite=quantization", "model=gan", "precision=int8,int8", f"out={tmp_path}")
    assert_one_line_error(result, 2, "'precision' names 'int8' twice")
    assert not any(tmp_path.iterdir())
