"""audit.messages: one-line, printable messages whatever text an exception carries."""

from __future__ import annotations

import unicodedata

import pytest

from audit.messages import one_line, printable


@pytest.mark.parametrize("char", ["\x1b", "\x07", "\x00", "\x7f", "\x9b", "\u202e", "\u2066", "\u2028"])
def test_control_format_and_separator_characters_become_their_python_escapes(char: str):
    assert unicodedata.category(char) in ("Cc", "Cf", "Zl")
    assert printable(f"a{char}b") == "a" + char.encode("unicode_escape").decode("ascii") + "b"


def test_printable_text_and_non_ascii_letters_are_unchanged():
    text = "FID 56.8 [50.1, 63.2] — naïve 日本語 ✅"
    assert printable(text) == text


def test_one_line_joins_lines_and_escapes_what_is_left():
    message = one_line(ValueError("boom\r\nVerdict: PASS\t\x1b[1A done"))
    assert message == "boom Verdict: PASS \\x1b[1A done"
    assert message.isprintable()
