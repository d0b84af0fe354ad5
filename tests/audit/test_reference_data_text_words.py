"""`text=` documents too short for the checks that continue them: one line, exit 2 at plan time."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.errors import InputError


def test_word_needs_match_the_checks():
    from audit.checks import deepfake, text
    from audit.reference_data import CONTINUATION_WORDS, MACHINE_TEXT_WORDS

    assert CONTINUATION_WORDS == (text.PROMPT_WORDS, text.REFERENCE_WORDS)
    assert MACHINE_TEXT_WORDS == deepfake.TEXT_PROMPT_WORDS + deepfake.TEXT_WORDS


def test_short_documents_are_refused_for_the_continuation_task(tmp_path: Path):
    from audit.reference_data import check_text_words, load_text

    path = tmp_path / "two.txt"
    path.write_text("first doc.\n\nsecond doc.\n")
    text = load_text(path)
    check_text_words(text, path, {"quality.perplexity": {}})  # perplexity reads any document
    for check in ("quality.bleu", "quality.rouge1", "deepfake.machine_text"):
        with pytest.raises(InputError, match=check) as info:
            check_text_words(text, path, {"quality.perplexity": {}, check: {}})
        assert "\n" not in str(info.value) and "+ words" in str(info.value)
    check_text_words(text, path, {"quality.bleu": {"prompt_words": 1, "reference_words": 1}})  # the suite's own parameters


def test_long_enough_documents_pass(tmp_path: Path):
    from audit.reference_data import check_text_words, load_text

    path = tmp_path / "long.txt"
    path.write_text("\n\n".join(" ".join(f"w{i}" for i in range(72)) for _ in range(4)))
    check_text_words(load_text(path), path, {c: {} for c in ("quality.bleu", "quality.rougeL", "deepfake.machine_text")})
