"""TinyStories excerpt (3,101 stories, CDLA-Sharing-1.0; see TINYSTORIES.md) with a fixed split.

The file ships gzip-compressed in this package, so nothing is downloaded. Stories are separated
by a line holding `<|endoftext|>`; each story is stripped of surrounding whitespace (a few begin
with an empty line in the source). Every 10th story (index 9, 19, ...) is held out: a split by
story, so no held-out sentence is ever seen in training.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_FILE = Path(__file__).with_name("tinystories.txt.gz")
SEPARATOR = "<|endoftext|>"
HELDOUT_EVERY = 10


@dataclass(frozen=True)
class StoriesSplit:
    """Train and held-out stories (tuples of str, in file order)."""

    train: tuple[str, ...]
    heldout: tuple[str, ...]

    @property
    def sha256(self) -> str:
        """A hash of the split itself (both parts, in order), for manifests."""
        digest = hashlib.sha256()
        for part, stories in (("train", self.train), ("heldout", self.heldout)):
            digest.update(f"{part}:{len(stories)}\n".encode())
            for story in stories:
                digest.update(story.encode("utf-8"))
                digest.update(b"\x00")
        return digest.hexdigest()


@lru_cache(maxsize=1)
def load_stories() -> tuple[str, ...]:
    """Every story of the bundled file, in order."""
    with gzip.open(DATA_FILE, "rt", encoding="utf-8") as fh:
        text = fh.read()
    return tuple(s.strip() for s in text.split(SEPARATOR) if s.strip())


@lru_cache(maxsize=1)
def load_tinystories_split() -> StoriesSplit:
    """The fixed split: story i is held out when i % 10 == 9 (310 held out, 2,791 train)."""
    stories = load_stories()
    train = tuple(s for i, s in enumerate(stories) if i % HELDOUT_EVERY != HELDOUT_EVERY - 1)
    heldout = tuple(s for i, s in enumerate(stories) if i % HELDOUT_EVERY == HELDOUT_EVERY - 1)
    return StoriesSplit(train, heldout)
