"""Data sets a plugin registers for the harness to measure with, and the shapes checks read.

A data set entry in `audit.registry.datasets` is a zero-argument loader. Image and text splits
are read by attribute (`train_x`/`test_x`..., `train`/`heldout`, `sha256`); a tabular split
carries its `TabularSchema`, and a stereotype data set is a `MinimalPairSet`, so checks learn
column names and templates from the loaded object instead of importing the plugin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

__all__ = ["MinimalPairSet", "TabularSchema", "load_dataset"]


@dataclass(frozen=True)
class TabularSchema:
    """The columns of a tabular data set and its binary label."""

    columns: tuple[str, ...]
    """Every column, in order."""
    categorical: tuple[str, ...]
    """Categorical columns (the label among them)."""
    continuous: tuple[str, ...]
    """Numeric columns."""
    label: str
    """The column a downstream classifier predicts."""
    positive: str
    """The label value counted as the positive outcome."""


@dataclass(frozen=True)
class MinimalPairSet:
    """Sentence pairs that differ only in the group named, for stereotype-preference tests.

    `pairs(templates)` yields objects with `category`, `group`, `trait`, `stereotyped` and
    `anti_stereotyped`; `assert_held_out(templates, planted)` raises ValueError when the frames
    or their sentences overlap planted training text.
    """

    eval_templates: tuple[str, ...]
    """Held-out frames the pairs are built from."""
    plant_templates: tuple[str, ...]
    """Frames used to plant stereotypes in training text: never evaluated."""
    pairs: Callable[[tuple[str, ...]], Iterable[Any]]
    assert_held_out: Callable[[tuple[str, ...], list[str]], None]


def load_dataset(name: str) -> Any:
    """The registered data set `name`, as its loader returns it (unknown names: one-line error)."""
    from audit.registry import datasets

    return datasets.load(name)()
