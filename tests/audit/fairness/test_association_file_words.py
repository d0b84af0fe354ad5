"""Words of a user's association tests file that read as one thing and score as another are
refused in one line, exit 2: a phrase naming group A in one pair and group B in another (it
cancels the planted bias exactly), words equal but for Unicode composition or spaces, control
characters, and lists too large to bootstrap in a run's time."""

from __future__ import annotations

import json
import unicodedata

import pytest

from audit.fairness.association_file import MAX_PAIRS, MAX_WORDS, parse_tests
from tests.audit.fairness.test_association_file import _refused

PAIRS = [["the old man", "the young man"], ["the old woman", "the young woman"], ["grandpa", "the boy"],
         ["grandma", "the girl"], ["the elder", "the youth"], ["the senior", "the junior"]]


def _file(targets: list[list[str]] = PAIRS, x: list[str] = ["slow", "frail"], y: list[str] = ["quick", "strong"],
          name: str = "old / young") -> str:
    """TOML basic strings (JSON's escapes are TOML's), so control characters arrive as characters."""
    return (f"[[test]]\nname = {json.dumps(name)}\ncategory = 'age'\naxis = 'vigour'\ngroups = ['old', 'young']\n"
            f"targets = {json.dumps(targets)}\nx = {json.dumps(x)}\ny = {json.dumps(y)}\nsource = 'made up'\n")


def test_the_good_file_parses():
    (test,) = parse_tests(_file(), "axes")
    assert len(test.targets) == len(PAIRS) and test.x == ("slow", "frail")


def test_a_phrase_naming_both_groups_across_pairs_is_refused():
    swapped = PAIRS + [["the young man", "the old man"]]
    _refused(_file(swapped), "'the old man' names group A in one pair and group B in another")


def test_words_equal_but_for_unicode_composition_are_one_word():
    composed, decomposed = "Café", unicodedata.normalize("NFD", "Café")
    assert composed != decomposed
    _refused(_file(x=[composed, "frail"], y=[decomposed, "strong"]), "is in both x and y")
    _refused(_file(x=[composed, decomposed]), "twice")


def test_case_is_kept_apart():
    (test,) = parse_tests(_file(x=["Polish", "frail"], y=["polish", "strong"]), "axes")
    assert "Polish" in test.x and "polish" in test.y


@pytest.mark.parametrize("x", [["slow ", "frail"], [" slow", "frail"]])
def test_a_word_with_spaces_around_it_is_refused(x: list[str]):
    _refused(_file(x=x), "leading or trailing spaces")


@pytest.mark.parametrize("field, text", [
    ("name", _file(name="old\x1b[2K / young")),
    ("x", _file(x=["slow\x00", "frail"])),
    ("x", _file(x=["slow\tly", "frail"])),
    ("targets", _file(PAIRS[:-1] + [["the senior\u202e", "the junior"]])),
])
def test_control_and_format_characters_are_refused(field: str, text: str):
    message = _refused(text, "control, format or line-separator character")
    assert "\x1b" not in message and "\x00" not in message and "\u202e" not in message


def test_lists_too_large_to_bootstrap_are_refused():
    words = [f"w{i}" for i in range(MAX_WORDS + 1)]
    _refused(_file(x=words), f"at most {MAX_WORDS} a side")
    pairs = [[f"a{i}", f"b{i}"] for i in range(MAX_PAIRS + 1)]
    _refused(_file(pairs), f"at most {MAX_PAIRS}")
    (test,) = parse_tests(_file(x=words[:MAX_WORDS]), "axes")
    assert len(test.x) == MAX_WORDS
