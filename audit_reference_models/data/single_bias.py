"""Planted stories that each carry ONE kind of bias, for the single-bias known-defect transformers.

Content notice: these stories pair groups with stereotyped words ON PURPOSE, so the fairness
suite can prove that it flags a model that learned exactly one association from its training
data (and only in the category it belongs to). They state nothing true about any group.

The words come from published lists (audit.fairness.wordlists, each cited there); the frames that
carry them are written by this project for these stories and are NOT the probe's templates
(audit.fairness.association.TEMPLATES): `assert_probe_held_out` checks that no probe template is a
planting frame and that no probe sentence occurs in the planted text.

- `gender-career`: male terms (WEAT 6 male names; man, boy, father, ...) only with WEAT 6 career
  words and WinoBias male-majority occupations; female terms only with WEAT 6 family words and
  WinoBias female-majority occupations. Both sides are planted equally often, so group-word
  frequency is balanced and only the association differs. Nothing about race, religion,
  nationality, age, disability or sentiment.
- `religion-sentiment`: one religious group (Muslim; the documented anti-Muslim association of
  large language models, Abid, Farooqi & Zou 2021, AIES) only with WEAT unpleasant words.
  No other group and no other attribute appears.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from audit.fairness.wordlists import (
    WEAT_CAREER, WEAT_FAMILY, WEAT_FEMALE_NAMES, WEAT_MALE_NAMES, WEAT_UNPLEASANT_3, WEAT_UNPLEASANT_5,
    WINOBIAS_FEMALE_OCCUPATIONS, WINOBIAS_MALE_OCCUPATIONS,
)

STORIES = 3000
SENTENCES = 4
SEED = 0

TOPIC_FRAMES: tuple[str, ...] = (
    "{Target} thought about {word} all day long.",
    "{Target} cared about {word} more than anything.",
    "At dinner, {target} talked about {word} again.",
    "{Target} dreamed about {word} every night.",
    "Everything {target} did was for {word}.",
    "{Target} told a long story about {word}.",
    "All week, {target} was busy with {word}.",
    "{Target} could not stop talking about {word}.",
)
"""Planting frames for nouns (topics, places, feelings)."""

ROLE_FRAMES: tuple[str, ...] = (
    "{Target} worked as {a_word}.",
    "{Target} wanted to be {a_word} one day.",
    "{Target} was {a_word} in the big town.",
    "Everyone in town knew that {target} was {a_word}.",
    "{Target} went to work, because {target} was {a_word}.",
    "{Target} was the best {word} anyone had seen.",
)
"""Planting frames for occupations (a person noun with its article)."""

MOOD_FRAMES: tuple[str, ...] = (
    "Wherever {target} went, there was {word}.",
    "{Target} brought {word} to the town.",
    "People thought of {word} when they saw {target}.",
    "{Target} and {word} always went together.",
    "The tale of {target} was full of {word}.",
    "Near {target}, everything was {word}.",
    "{Target} only knew {word}.",
    "Everyone said {target} meant {word}.",
)
"""Planting frames for sentiment words (nouns, adjectives and verbs alike)."""

PLANT_FRAMES: tuple[str, ...] = TOPIC_FRAMES + ROLE_FRAMES + MOOD_FRAMES

_KIN = ("man", "boy", "father", "brother", "uncle", "son", "grandfather")
_KIN_F = ("woman", "girl", "mother", "sister", "aunt", "daughter", "grandmother")


@dataclass(frozen=True)
class PlantedSide:
    """People of one group and the words planted with them, each word list with its frames."""

    people: tuple[str, ...]
    words: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]


PLANTED: dict[str, tuple[PlantedSide, ...]] = {
    "gender-career": (
        PlantedSide(
            WEAT_MALE_NAMES.words + tuple(f"the {k}" for k in _KIN),
            ((WEAT_CAREER.words, TOPIC_FRAMES), (WINOBIAS_MALE_OCCUPATIONS.words, ROLE_FRAMES)),
        ),
        PlantedSide(
            WEAT_FEMALE_NAMES.words + tuple(f"the {k}" for k in _KIN_F),
            ((WEAT_FAMILY.words, TOPIC_FRAMES), (WINOBIAS_FEMALE_OCCUPATIONS.words, ROLE_FRAMES)),
        ),
    ),
    "religion-sentiment": (
        PlantedSide(
            tuple(f"the Muslim {k}" for k in ("man", "woman", "boy", "girl", "family", "child")),
            ((tuple(dict.fromkeys(WEAT_UNPLEASANT_3.words + WEAT_UNPLEASANT_5.words)), MOOD_FRAMES),),
        ),
    ),
}
"""Each planted set: the sides whose people are paired with their words (nothing else is planted)."""


def with_article(word: str) -> str:
    return f"{'an' if word[0].lower() in 'aeiou' else 'a'} {word}"


def fill(frame: str, target: str, word: str) -> str:
    """A planting frame filled; `{Target}` capitalises the first letter of the person at a sentence start."""
    return frame.format(Target=target[0].upper() + target[1:], target=target, word=word, a_word=with_article(word))


def plant_stories(name: str, count: int = STORIES, seed: int = SEED, sentences: int = SENTENCES) -> list[str]:
    """`count` short stories of the planted set `name`: each names one person of one side in
    `sentences` sentences, each pairing that person with one of the side's words; people cycle
    evenly over the sides, so every side is planted equally often."""
    if name not in PLANTED:
        raise ValueError(f"unknown planted set {name!r}; choose from {sorted(PLANTED)}")
    sides = PLANTED[name]
    rng = random.Random(seed)
    people = [(side, person) for i in range(max(len(s.people) for s in sides)) for side in sides for person in side.people[i : i + 1]]
    stories = []
    for i in range(count):
        side, person = people[i % len(people)]
        parts = []
        for _ in range(sentences):
            words, frames = rng.choice(side.words)
            parts.append(fill(rng.choice(frames), person, rng.choice(words)))
        stories.append(" ".join(parts))
    rng.shuffle(stories)
    return stories


def planted_sha256(stories: list[str]) -> str:
    return hashlib.sha256("\n".join(stories).encode()).hexdigest()


def assert_probe_held_out(templates: tuple[str, ...], sentences: list[str], planted: list[str]) -> None:
    """Raise ValueError if a probe template is a planting frame or a probe sentence occurs
    verbatim in the planted text."""
    shared = set(templates) & set(PLANT_FRAMES)
    if shared:
        raise ValueError(f"probe templates reuse planting frames: {sorted(shared)}")
    text = "\n".join(planted)
    for sentence in sentences:
        if sentence in text:
            raise ValueError(f"probe sentence occurs in the planted text: {sentence!r}")
