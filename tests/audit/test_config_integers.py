"""Integer keys (`n`, `seed`, `bootstrap`, `timeout`) take ASCII digits with an optional sign, as
the command line writes them: Python's int() also reads '1_000' and other scripts' digits
('٣٢' is 32), which a run had accepted and recorded."""

from __future__ import annotations

import pytest

from audit.config import parse_run_words
from audit.errors import InputError


@pytest.mark.parametrize("word", ["٣٢", "1_000", "0x10", "1e3", "3.0", "", "１２", "\xa064", "64\u3000"])
def test_integers_in_other_forms_are_refused(word):
    with pytest.raises(InputError, match=f"'n' must be an integer in 2..16384, got '{word}'"):
        parse_run_words(["suite=quality", f"n={word}"])


@pytest.mark.parametrize("word, value", [("32", 32), ("+32", 32), (" 32 ", 32)])
def test_ascii_integers_are_read(word, value):
    assert parse_run_words(["suite=quality", f"n={word}"]).n == value
    assert parse_run_words(["suite=quality", f"seed={word}"]).seed == value
