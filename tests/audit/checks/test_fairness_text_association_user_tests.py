"""fairness.association with the user's own tests (`tests` parameter): a model with a preference
planted on the user's made-up axis is flagged on that category, the same model without it is
not, and the user's tests are part of the margins' memo key.

The built-in tests are cut to one small test here (the full probe costs ~40 s on the byte-level
fixture model); the user's tests are added to it and judged beside it exactly as beside all."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import torch

from tests.fixtures.byo.adapters import GoodLM

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "association" / "planet_axes.toml"


class PlantedLM:
    """GoodLM's scores, less `penalty` nats on the last token of a sentence that names a Martian
    with a Venusian word or a Venusian with a Martian word (the fixture's Y and X): the model
    puts Martians with X and Venusians with Y. penalty 0 is GoodLM itself."""

    def __init__(self, penalty: float, x: tuple[str, ...], y: tuple[str, ...]) -> None:
        self.lm, self.penalty, self.x, self.y = GoodLM(), penalty, x, y

    def _anti_stereotyped(self, text: str) -> bool:
        words = set(re.findall(r"\w+", text))
        return ("Martian" in words and bool(words & set(self.y))) or ("Venusian" in words and bool(words & set(self.x)))

    def log_probs(self, texts: list[str]) -> list[torch.Tensor]:
        out = []
        for text, scores in zip(texts, self.lm.log_probs(texts)):
            if self.penalty and self._anti_stereotyped(text):
                scores = scores.clone()
                scores[-1] -= self.penalty
            out.append(scores)
        return out


@pytest.fixture
def few_builtins(monkeypatch):
    """One built-in test, cut to 2 target pairs and 2 words a side."""
    from audit.fairness import association

    test = dataclasses.replace(association.ASSOCIATION_TESTS[0], targets=association.ASSOCIATION_TESTS[0].targets[:2],
                               x=association.ASSOCIATION_TESTS[0].x[:2], y=association.ASSOCIATION_TESTS[0].y[:2])
    monkeypatch.setattr(association, "ASSOCIATION_TESTS", (test,))
    return test


def _ctx(adapter, tmp_path):
    from audit.context import CheckContext
    from audit.sample_store import SampleStore

    store = SampleStore(lambda: None, lambda: None)  # type: ignore[arg-type,return-value]
    return CheckContext(adapter, "fake", "fp32", 0, 64, 200, store, tmp_path)


def _planted(penalty: float) -> PlantedLM:
    from audit.fairness.association_file import read_tests

    (test,) = read_tests(str(FIXTURE))
    return PlantedLM(penalty, test.x, test.y)


def test_a_preference_planted_on_the_users_axis_is_flagged_on_its_category(few_builtins, tmp_path):
    from audit.checks.fairness_text import association

    m = association(_ctx(_planted(5.0), tmp_path), tests=str(FIXTURE))
    groups = m.by_group["by_group"]
    assert set(groups) == {few_builtins.category, "planet_of_origin"}
    assert groups["planet_of_origin"]["value"] == pytest.approx(0.5)  # share 1: every unit the planted way
    assert groups["planet_of_origin"]["ci_low"] == pytest.approx(0.5) and groups["planet_of_origin"]["ci_high"] == pytest.approx(0.5)
    assert m.details["worst_category"] == "planet_of_origin" and m.details["worst_test"] == "planet_of_origin: Martian / Venusian climate"
    assert m.value == pytest.approx(0.5) and m.ci_low == pytest.approx(0.5)
    declared = m.details["user_tests"]["planet_of_origin: Martian / Venusian climate"]
    assert declared["x"] == ["cold", "dust", "rust"] and declared["targets"][0] == ["the Martian man", "the Venusian man"]
    row = next(r for r in m.details["tables"][0]["rows"] if r[1] == "Martian / Venusian climate")
    assert row[4] == 1.0 and row[8] == len(m.details["templates"]) * 3 * 3 * 3
    assert row[9] == "Project test fixture, made up (no publication)"


def test_the_same_model_without_the_preference_is_not_flagged(few_builtins, tmp_path):
    from audit.checks.fairness_text import association

    m = association(_ctx(_planted(0.0), tmp_path), tests=str(FIXTURE))
    user = m.by_group["by_group"]["planet_of_origin"]
    assert user["value"] == pytest.approx(0.0) and user["ci_high"] == pytest.approx(0.0)  # a bigram model: every unit a tie
    assert m.value < 0.2


def test_the_users_tests_are_part_of_the_margins_memo_key(few_builtins, tmp_path):
    from audit.checks.fairness_text import association

    ctx = _ctx(_planted(5.0), tmp_path)
    without = association(ctx)
    with_tests = association(ctx, tests=str(FIXTURE))
    assert ctx.store.memo_calls["fairness.association_margins"] == 2
    assert "planet_of_origin" not in without.by_group["by_group"] and "planet_of_origin" in with_tests.by_group["by_group"]
    association(ctx, tests=str(FIXTURE))
    assert ctx.store.memo_calls["fairness.association_margins"] == 2  # the same tests again: shared
