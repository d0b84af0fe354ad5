"""The single-bias planted stories carry exactly one association each, from the published lists,
in frames the association probe never uses."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from audit.fairness import wordlists as wl
from audit.fairness.association import ASSOCIATION_TESTS, TEMPLATES, association_pairs
from audit_reference_models.data.single_bias import PLANT_FRAMES, PLANTED, assert_probe_held_out, plant_stories, planted_sha256

MALE = set(wl.WEAT_MALE_NAMES.words) | {"man", "boy", "father", "brother", "uncle", "son", "grandfather"}
FEMALE = set(wl.WEAT_FEMALE_NAMES.words) | {"woman", "girl", "mother", "sister", "aunt", "daughter", "grandmother"}
MALE_WORDS = set(wl.WEAT_CAREER.words) | set(wl.WINOBIAS_MALE_OCCUPATIONS.words)
FEMALE_WORDS = set(wl.WEAT_FAMILY.words) | set(wl.WINOBIAS_FEMALE_OCCUPATIONS.words)
GROUP_WORDS = {"Muslim", "Christian", "Jewish", "Hindu", "Buddhist", "Black", "White", "Asian", "American", "Mexican", "old", "young"}


def _words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z-]+", text))


@pytest.fixture(scope="module")
def stories() -> dict[str, list[str]]:
    return {name: plant_stories(name) for name in PLANTED}


def test_gender_career_pairs_each_side_only_with_its_own_words(stories):
    counts: Counter[str] = Counter()
    for story in stories["gender-career"]:
        words = _words(story)
        male, female = words & MALE, words & FEMALE
        assert bool(male) != bool(female), story  # one person per story
        assert not words & GROUP_WORDS, story  # no other group named
        own, other = (MALE_WORDS, FEMALE_WORDS) if male else (FEMALE_WORDS, MALE_WORDS)
        assert words & own and not (words & other) - own, story
        counts["male" if male else "female"] += 1
    assert counts["male"] == counts["female"] == len(stories["gender-career"]) // 2


def test_religion_sentiment_names_one_group_with_unpleasant_words_only(stories):
    unpleasant = set(wl.WEAT_UNPLEASANT_3.words) | set(wl.WEAT_UNPLEASANT_5.words)
    pleasant = set(wl.WEAT_PLEASANT_3.words) | set(wl.WEAT_PLEASANT_5.words)
    people = PLANTED["religion-sentiment"][0].people
    for story in stories["religion-sentiment"]:
        words = _words(story)
        assert "Muslim" in words and not (words & GROUP_WORDS) - {"Muslim"}, story
        # the person phrases ("the Muslim family") are not attributes; "family" is a WEAT 3 pleasant
        # word, but not one of the probe's (WEAT 5) pleasant words
        attributes = _words(re.sub("|".join(re.escape(p) for p in people), "", story.replace("The ", "the ")))
        assert attributes & unpleasant and not attributes & pleasant, story
        assert not attributes & set(wl.WEAT_PLEASANT_5.words), story
        assert not attributes & (MALE_WORDS | FEMALE_WORDS), story


def test_planted_stories_are_reproducible():
    for name in PLANTED:
        assert planted_sha256(plant_stories(name)) == planted_sha256(plant_stories(name))
    with pytest.raises(ValueError, match="unknown planted set"):
        plant_stories("nope")


def test_probe_templates_and_sentences_are_held_out_from_every_planted_set(stories):
    assert not set(TEMPLATES) & set(PLANT_FRAMES)
    sentences = [s for test in ASSOCIATION_TESTS for pair in association_pairs(test) for s in pair]
    for planted in stories.values():
        assert_probe_held_out(TEMPLATES, sentences, planted)
    with pytest.raises(ValueError, match="reuse planting frames"):
        assert_probe_held_out((PLANT_FRAMES[0],), [], stories["gender-career"])
    with pytest.raises(ValueError, match="occurs in the planted text"):
        assert_probe_held_out(TEMPLATES, [stories["gender-career"][0].split(". ")[0]], stories["gender-career"])


@pytest.mark.parametrize("name, planted", [("transformer-gender-career", "gender-career"), ("transformer-religion-sentiment", "religion-sentiment")])
def test_variant_manifest_records_its_planted_stories_and_the_default_recipe(name: str, planted: str):
    import inspect

    from audit.registry import register_bundled_models, trainers
    from audit_reference_models.manifest import read_manifest
    from audit_reference_models.transformer.train import train

    register_bundled_models()
    assert trainers.entry(name).metadata["kwargs"]["planted"] == planted
    config = read_manifest(name)["config"]
    assert config["single_bias"]["planted_set"] == planted
    assert config["single_bias"]["planted_sha256"] == planted_sha256(plant_stories(planted))
    defaults = {k: p.default for k, p in inspect.signature(train).parameters.items()}
    stereotyped = read_manifest("transformer-stereotyped")["config"]
    for key in ("steps", "batch_size", "lr", "weight_decay", "warmup_steps", "model"):
        assert config[key] == stereotyped[key], key  # the recipe transformer-stereotyped was trained with
    assert config["lr"] == defaults["lr"] and config["weight_decay"] == defaults["weight_decay"]
    assert not (config.get("dropout") or {}).get("resid_pdrop") and not config.get("early_stopping")
