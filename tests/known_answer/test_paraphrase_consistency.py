"""`robustness.paraphrase_consistency`: ROUGE-L between continuations of paraphrased openings,
against the same statistic across groups. Fixture models with known answers (a constant text, an
echo of the prompt, the group's name) pin the pairing; the bundled transformer must beat its control.
"""

from __future__ import annotations

import re
from itertools import combinations
from pathlib import Path

import pytest

from audit.checks import check_spec, load_check_modules
from audit.context import CheckContext
from audit.metrics.text import words
from audit.robustness.paraphrases import PARAPHRASES
from audit.sample_store import SampleStore

BOOTSTRAP = 200
CONSTANT = "The dog ran to the park and played all day."
NAME_OF = {p: g.name for g in PARAPHRASES for p in g.prompts}


class ConstantLM:
    """Ignores its prompt; no `greedy` argument, so the check falls back to seeded sampling."""

    def generate(self, prompts: list[str], max_new_tokens: int, seed: int) -> list[str]:
        return [CONSTANT for _ in prompts]


class EchoLM:
    """Continues each prompt with the prompt itself."""

    def generate(self, prompts: list[str], max_new_tokens: int, seed: int, greedy: bool = False) -> list[str]:
        return list(prompts)


class NameLM:
    """Continues each prompt with its group's main name, three times: paraphrase-invariant."""

    def generate(self, prompts: list[str], max_new_tokens: int, seed: int, greedy: bool = False) -> list[str]:
        return [" ".join([NAME_OF[p]] * 3) for p in prompts]


def _run(adapter: object, tmp_path: Path, groups: int | None = None, model: str = "fixture"):
    load_check_modules()
    store = SampleStore(lambda: None, lambda: None)  # type: ignore[arg-type,return-value]
    ctx = CheckContext(adapter, model, "fp32", 0, 360, BOOTSTRAP, store, tmp_path)
    return check_spec("robustness.paraphrase_consistency").fn(ctx, groups=groups)


def _rouge_l(a: str, b: str) -> float:
    """ROUGE-L F1 written out: torchmetrics' tokens (lower-cased runs of letters and digits), LCS."""
    x, y = (re.sub(r"[^a-z0-9]+", " ", t.lower()).split() for t in (a, b))
    lcs = [[0] * (len(y) + 1) for _ in range(len(x) + 1)]
    for i, u in enumerate(x):
        for j, v in enumerate(y):
            lcs[i + 1][j + 1] = lcs[i][j] + 1 if u == v else max(lcs[i][j + 1], lcs[i + 1][j])
    m = lcs[-1][-1]
    return 0.0 if m == 0 else 2 * m / (len(x) + len(y))


def test_the_paraphrase_set_names_one_character_per_group():
    names = [g.name for g in PARAPHRASES]
    assert len(PARAPHRASES) == 24 and len(set(names)) == 24
    for g in PARAPHRASES:
        assert len(g.prompts) == 3 and len(set(g.prompts)) == 3
        for p in g.prompts:
            assert [n for n in names if n in words(p)] == [g.name], p
            assert len(p.split()) <= 30  # the check compares 30 words: an echo is compared whole


def test_a_model_that_ignores_its_prompt_is_consistent_everywhere(tmp_path):
    m = _run(ConstantLM(), tmp_path)
    d = m.details
    assert (m.value, m.ci_low, m.ci_high) == (1.0, 1.0, 1.0)
    assert d["across_groups"]["value"] == 1.0 and d["difference"]["value"] == 0.0
    assert d["name_mention"]["value"] == 0.0 and d["decoding"].startswith("seeded sampling")
    assert m.n == 24 and d["groups"] == 24


def test_echoing_the_prompt_scores_the_paraphrases_own_overlap(tmp_path):
    m = _run(EchoLM(), tmp_path)
    within = sum(sum(_rouge_l(a, b) for a, b in combinations(g.prompts, 2)) / 3 for g in PARAPHRASES) / 24
    across = sum(
        sum(_rouge_l(a, b) for a, b in zip(g.prompts, PARAPHRASES[(k + 1) % 24].prompts)) / 3 for k, g in enumerate(PARAPHRASES)
    ) / 24
    assert m.value == pytest.approx(within, abs=1e-6)
    assert m.details["across_groups"]["value"] == pytest.approx(across, abs=1e-6)
    assert m.details["difference"]["value"] == pytest.approx(within - across, abs=1e-6)
    assert m.details["name_mention"]["value"] == 1.0 and m.details["name_mention"]["other_group_name"]["value"] == 0.0
    assert m.details["decoding"] == "greedy"
    assert m.ci_low <= m.value <= m.ci_high
    table = m.details["tables"][0]
    assert table["rows"][0] == ["Lily", PARAPHRASES[0].prompts[0], PARAPHRASES[0].prompts[0]]


def test_a_paraphrase_invariant_answer_is_fully_consistent_and_beats_its_control(tmp_path):
    m = _run(NameLM(), tmp_path, groups=5)
    d = m.details
    assert m.value == 1.0 and d["across_groups"]["value"] == 0.0  # one name per group, never shared
    assert d["difference"]["value"] == 1.0 and d["difference"]["ci_low"] == 1.0
    assert d["name_mention"]["value"] == 1.0 and m.n == 5
    chart = d["charts"][0]
    assert [p["x"] for p in chart["series"]["within group (paraphrases)"]] == [5, 10, 15, 20, 25, 30]
    assert {p["value"] for p in chart["series"]["across groups (control)"]} == {0.0}


def test_bundled_transformer_is_more_consistent_within_groups_than_across(tmp_path):
    """Measured (8 groups, greedy, fp32 CPU, bootstrap 200): within 0.433 [0.336, 0.516], across
    0.332 [0.274, 0.389], difference 0.101 [0.004, 0.204]. All 24 groups: within 0.443
    [0.386, 0.502], across 0.308 [0.273, 0.354], difference 0.135 [0.077, 0.194]."""
    from audit.adapters.loading import load_model

    m = _run(load_model("transformer", "fp32", "cpu"), tmp_path, groups=8, model="transformer")
    d = m.details
    assert m.n == 8 and d["decoding"] == "greedy"
    assert m.value > d["across_groups"]["value"] + 0.05
    assert d["difference"]["value"] == pytest.approx(m.value - d["across_groups"]["value"])
    for stat in (m.__dict__, d["across_groups"], d["difference"]):
        assert stat["ci_low"] <= stat["value"] <= stat["ci_high"]
    last = d["charts"][0]["series"]["within group (paraphrases)"][-1]
    assert (last["value"], last["ci_low"], last["ci_high"]) == (m.value, m.ci_low, m.ci_high)
