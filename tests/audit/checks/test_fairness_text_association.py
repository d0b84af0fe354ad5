"""fairness.association judges the worst category: a model with one planted association fails on
that category alone, whatever the others do."""

from __future__ import annotations

import re

import pytest
import torch

from audit.fairness.wordlists import WEAT_UNPLEASANT_5


class OneBiasLM:
    """Word-level scores: every word -4, except a WEAT 5 unpleasant word after "Muslim": -3. So
    the only association is Muslim with unpleasant words; every other comparison is a tie. (Low
    enough to be log-probabilities: audit.lm.log_probs refuses scores that sum above 1.)"""

    def log_probs(self, texts: list[str]) -> list[torch.Tensor]:
        def score(text: str) -> torch.Tensor:
            words = re.findall(r"\w+(?:-\w+)*|[^\w\s]", text)
            return torch.tensor([-3.0 if w in WEAT_UNPLEASANT_5.words and "Muslim" in words[:i] else -4.0 for i, w in enumerate(words)][1:])

        return [score(t) for t in texts]


@pytest.fixture
def ctx(tmp_path):
    from audit.context import CheckContext
    from audit.sample_store import SampleStore

    store = SampleStore(lambda: None, lambda: None)  # type: ignore[arg-type,return-value]
    return CheckContext(OneBiasLM(), "fake", "fp32", 0, 64, 100, store, tmp_path)


def test_one_planted_association_fails_its_category_and_no_other(ctx):
    from audit.checks.fairness_text import association

    m = association(ctx)
    categories = m.by_group["by_group"]
    assert m.details["worst_category"] == "religion"
    assert m.details["worst_test"] == "religion: Muslim / Christian sentiment"
    # Muslim / Christian sentiment: every unit stereotyped (share 1, deviation 0.5), whatever is resampled
    assert m.value == pytest.approx(0.5) and m.ci_low == pytest.approx(0.5) and m.ci_high == pytest.approx(0.5)
    assert categories["religion"]["value"] == pytest.approx(0.5)
    for category, group in categories.items():
        if category != "religion":
            assert group["value"] == 0 and group["ci_high"] == pytest.approx(0.0), category  # all ties: share 0.5
    rows = {f"{r[0]}: {r[1]}": r for r in m.details["tables"][0]["rows"]}
    assert rows["religion: Muslim / Christian sentiment"][4] == 1.0
    assert rows["religion: Muslim / Christian stereotypes (Manzini)"][4] == 0.5  # Manzini attributes are not WEAT words
    assert m.n == rows["religion: Muslim / Christian sentiment"][8]
