"""`prompts=`: a UTF-8 file of one prompt per line, read and checked when the run is planned; a
text-to-image model known at plan time without it is bad input (exit 2, one line)."""

from __future__ import annotations

import pytest

from audit.config import parse_run_words, read_prompts
from audit.errors import InputError
from tests.helpers import assert_one_line_error


def test_prompts_are_the_non_blank_lines_cycled(tmp_path):
    path = tmp_path / "p.txt"
    path.write_bytes("\ufeffa red fox\r\n\n  a blue car  \nüber grün\n".encode("utf-8"))
    prompts = read_prompts(path)
    assert prompts.texts == ("a red fox", "a blue car", "über grün")
    assert prompts.for_samples(7) == ["a red fox", "a blue car", "über grün"] * 2 + ["a red fox"]
    assert parse_run_words(["suite=quality", f"prompts={path}"]).prompts == path


def test_a_prompt_holding_a_line_separator_or_form_feed_stays_one_prompt(tmp_path):
    """Only newlines split prompts: str.splitlines() had also cut at U+2028, U+0085 and \\x0c,
    turning one prompt into several."""
    path = tmp_path / "p.txt"
    path.write_text("a cat\u2028line two\nsea\x0cshore\u0085foam\n", encoding="utf-8")
    assert read_prompts(path).texts == ("a cat\u2028line two", "sea\x0cshore\u0085foam")


def test_old_mac_line_endings_split_prompts(tmp_path):
    path = tmp_path / "p.txt"
    path.write_bytes(b"a red circle\ra blue square\r\na green digit\r")
    assert read_prompts(path).texts == ("a red circle", "a blue square", "a green digit")


@pytest.mark.parametrize("content, fragment", [
    (b"", "holds no prompt"),
    (b" \n\t\n", "holds no prompt"),
    (b"caf\xe9\n", "is not UTF-8: invalid byte 0xe9 at offset 3"),
    (b"a\x00b\n", "is binary"),
])
def test_bad_prompt_files_are_one_line(tmp_path, cli, content, fragment):
    path = tmp_path / "p.txt"
    path.write_bytes(content)
    with pytest.raises(InputError, match=fragment):
        read_prompts(path)
    result = cli("run", "suite=quality", "model=text_to_image_models:painter", f"prompts={path}", "check=quality.clip_score")
    assert_one_line_error(result, 2, fragment)


def test_a_missing_prompts_file_is_one_line(tmp_path, cli):
    assert_one_line_error(cli("run", "suite=quality", f"prompts={tmp_path / 'nope.txt'}"), 2, "'prompts'", "does not exist")


def test_a_text_to_image_adapter_without_prompts_fails_the_plan():
    import text_to_image_models

    from audit.plan import make_plan

    config = parse_run_words(["suite=quality", "model=painter", "check=quality.clip_score"])
    with pytest.raises(InputError, match="Model 'painter' generates images from text: give prompts=<file>"):
        make_plan(config, adapters={"painter": text_to_image_models.painter()})
