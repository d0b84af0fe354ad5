"""Every published word list carries its citation, and every list the association probe uses is one of them."""

from __future__ import annotations

import re

import pytest

from audit.fairness import wordlists
from audit.fairness.association import ASSOCIATION_TESTS
from audit.fairness.wordlists import WORD_LISTS, Source, WordList


def _module_lists() -> list[WordList]:
    found = []
    for value in vars(wordlists).values():
        if isinstance(value, WordList):
            found.append(value)
        elif isinstance(value, dict):
            found += [v for v in value.values() if isinstance(v, WordList)]
    return found


def test_every_word_list_of_the_module_is_registered():
    assert {id(w) for w in _module_lists()} == {id(w) for w in WORD_LISTS}


@pytest.mark.parametrize("word_list", WORD_LISTS, ids=lambda w: w.name)
def test_every_word_list_carries_a_citation(word_list: WordList):
    source = word_list.source
    assert isinstance(source, Source)
    assert re.search(r"[A-Z][a-z]+, [A-Z]\.", source.authors), source.authors
    assert 1970 <= source.year <= 2025
    assert source.title and source.venue and word_list.where
    citation = word_list.citation()
    assert str(source.year) in citation and source.authors.split(",")[0] in citation and word_list.where in citation
    assert word_list.words and len(set(word_list.words)) == len(word_list.words), word_list.name


def test_every_association_test_cites_the_lists_its_words_come_from():
    cited = {id(w) for w in WORD_LISTS}
    for test in ASSOCIATION_TESTS:
        assert test.sources and all(id(s) in cited for s in test.sources), test.label
        attribute_words = {w for s in test.sources for w in s.words}
        assert set(test.x) <= attribute_words and set(test.y) <= attribute_words, test.label
