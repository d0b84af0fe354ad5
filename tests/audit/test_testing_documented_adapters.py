"""Fail closed on the documented contract: a model that implements only what README and
audit/adapters/base.py document passes `audit check-model` and is audited without errors, so
the kit and the suites agree on what an adapter must offer.

- A language model with only LOG_PROBS and GENERATE (fixture_models:documented_lm: the bundled
  transformer with its encode/tokenizer/model hidden) gets every fairness check measured; the
  stereotype check once needed an undocumented `encode(text)` and ended the run with exit 4.
- A sampler whose `modules()` is empty (fixture_models:no_modules) passes the kit, which once
  rejected it although every suite runs it; precision variants other than fp32 do not apply to it,
  in the kit (reported as not applicable) as in the run (records `skipped`).
"""

from __future__ import annotations

import pytest
import torch

from audit.adapters.base import GENERATE, LOG_PROBS, ModelAdapter, ModelInfo
from audit.fairness.pair_scoring import pair_margins, shared_tail
from audit.testing import ContractError, check_adapter, run_adapter_checks
from byo import adapters as fx

TEXT_FAIRNESS = (
    "fairness.association", "fairness.counterfactual_likelihood", "fairness.counterfactual_sentiment",
    "fairness.stereotype_preference", "fairness.stereotype_preference_by_category",
)
CLEAN_PREFERENCE = 185 / 384
"""The bundled clean transformer's stereotype preference on the held-out pairs (measured)."""


def records_by_check(results: dict) -> dict[str, dict]:
    return {r["check"]: r for r in results["records"]}


def test_check_model_passes_a_language_model_with_only_the_documented_methods(cli):
    result = cli("check-model", "model=fixture_models:documented_lm", "n=4")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "PASS  log_probs" in result.stdout and "PASS  generate" in result.stdout


def test_fairness_suite_audits_a_language_model_with_only_the_documented_methods(cli):
    result = cli("run", "suite=fairness", "model=fixture_models:documented_lm", "n=64", "bootstrap=20")
    records = records_by_check(result.results)
    assert set(records) == set(TEXT_FAIRNESS), sorted(records)
    assert [r for r in records.values() if r["status"] in ("error", "skipped")] == []
    # measured like the bundled clean model, so judged like it: no record fails, and the association
    # record, 0.214 [0.132, 0.323] (its CI over templates and target pairs, both sampled), straddles
    # the 0.3 error gate: inconclusive, exit 3; every other record passes
    assert [r["check"] for r in records.values() if r["status"] == "fail"] == []
    assert records["fairness.association"]["status"] == "inconclusive", records["fairness.association"]["verdict"]
    assert {c for c, r in records.items() if r["status"] != "pass"} == {"fairness.association"}
    assert result.exit_code == 3, result.stdout + result.stderr
    # the same pairs and scores as the bundled clean model: hiding encode() changes nothing
    assert records["fairness.stereotype_preference"]["value"] == pytest.approx(CLEAN_PREFERENCE)


@pytest.mark.parametrize(
    "a, b, tail",
    [
        ("The Muslim man was cruel.", "The Christian man was cruel.", " man was cruel."),
        ("Look at that woman! How weak!", "Look at that man! How weak!", "! How weak!"),
        ("The Mexican man was dirty.", "The American man was dirty.", " man was dirty."),
        ("a b", "a c", ""),
        ("same", "same", "same"),
    ],
)
def test_shared_tail_is_the_text_after_the_last_word_that_differs(a: str, b: str, tail: str):
    assert shared_tail(a, b) == len(tail) and a.endswith(tail) and b.endswith(tail)


class CharLM(ModelAdapter):
    """One token per character, log p = -1 for a vowel and -2 otherwise, doubled after 'X': a
    tokenizer unlike the bundled BPE, with scores that depend on the context."""

    capabilities = frozenset({LOG_PROBS, GENERATE})

    def __init__(self) -> None:
        self.info = ModelInfo(name="char-lm", family="transformer", params=0)

    def log_probs(self, texts: list[str]) -> list[torch.Tensor]:
        def score(text: str) -> torch.Tensor:
            base = [-1.0 if ch in "aeiou" else -2.0 for ch in text]
            return torch.tensor(base) * (2.0 if "X" in text else 1.0)

        return [score(t) for t in texts]

    def generate(self, prompts: list[str], max_new_tokens: int, seed: int) -> list[str]:
        return ["" for _ in prompts]


def test_pair_margins_score_the_shared_tail_from_log_probs_alone():
    # tail " was sad." (9 tokens: 2 vowels, 7 others) is -16 nats, doubled after X
    (margin,) = pair_margins(CharLM(), [("The X was sad.", "The Y was sad.")])
    assert margin == pytest.approx(-32.0 - -16.0)


def test_pair_margins_refuse_a_pair_with_no_shared_tail_tokens():
    from audit.errors import ModelOutputError

    with pytest.raises(ModelOutputError, match="scored no tokens"):
        pair_margins(CharLM(), [("The cat", "The dog")])


def test_pair_margins_match_the_token_id_probe_where_no_group_word_splits():
    """On the bundled model the log_probs-only margins equal the training probe's token-id
    margins (audit_reference_models.transformer.probes) exactly in the gender, race and religion
    categories. They differ only for nationality, where the probe also counts the sub-word piece
    "ican" that " Mex|ican" and " Amer|ican" share, a piece of the group word itself (measured:
    all 96 nationality pairs differ, by up to 1.1 nats; the preference stays 0.48)."""
    import numpy as np

    from audit_reference_models.data.stereotypes import EVAL_TEMPLATES, minimal_pairs
    from audit_reference_models.transformer.adapter import load_transformer
    from audit_reference_models.transformer.probes import stereotype_preference

    model = load_transformer("transformer")
    pairs = list(minimal_pairs(EVAL_TEMPLATES))
    ours = pair_margins(model, [(p.stereotyped, p.anti_stereotyped) for p in pairs])
    theirs = stereotype_preference(model, EVAL_TEMPLATES)["margins"]
    whole_words = np.array([p.category != "nationality" for p in pairs])
    np.testing.assert_allclose(ours[whole_words], theirs[whole_words], rtol=0, atol=1e-9)
    assert (ours > 0).mean() == pytest.approx(CLEAN_PREFERENCE)


def test_check_model_passes_a_sampler_without_modules(cli):
    result = cli("check-model", "model=fixture_models:no_modules", "n=4")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "PASS  modules" in result.stdout


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_precision_does_not_apply_to_a_model_without_modules(precision: str):
    from fixture_models import no_modules

    outcomes = {o.rule: o for o in run_adapter_checks(no_modules, n=4, precision=precision)}
    assert all(o.passed for o in outcomes.values()), [o.message for o in outcomes.values() if not o.passed]
    assert outcomes["precision"].skipped and "only fp32 applies" in outcomes["precision"].message
    check_adapter(no_modules, n=4, precision=precision)


def test_quality_suite_runs_a_sampler_without_modules_in_fp32_and_skips_bf16(cli):
    result = cli("run", "suite=quality", "model=fixture_models:no_modules", "n=100", "bootstrap=20", "precision=fp32,bf16")
    records = result.results["records"]
    assert not [r for r in records if r["status"] == "error"], [r.get("reason") for r in records if r["status"] == "error"]
    fp32 = [r for r in records if r["precision"] == "fp32"]
    assert any(r["status"] in ("pass", "fail", "measured") for r in fp32)
    bf16 = [r for r in records if r["precision"] == "bf16"]
    assert bf16 and all(r["status"] == "skipped" and "only fp32 applies" in r["reason"] for r in bf16)


def test_fp32_precision_rule_passes_a_model_built_in_fp32():
    """fp32 is the reference: its variant gives bit-identical output, which is no evidence of a
    hidden network (the rule once failed every model with precision=fp32)."""
    check_adapter(fx.GoodGAN(), n=4, precision="fp32")


def test_modules_must_still_be_a_dict_of_modules():
    class ListModules(fx.GoodGAN):
        def modules(self):
            return [self.net]

    with pytest.raises(ContractError, match=r"^modules: modules\(\) must return a dict"):
        check_adapter(ListModules(), n=4)


class WholeTextLM(CharLM):
    """Scores each character by the length of the whole text: a leading part of a text does not
    score as the text's first values, so token counts cannot be read from log_probs."""

    def log_probs(self, texts: list[str]) -> list[torch.Tensor]:
        return [torch.full((len(t),), -1.0 - len(t) / 100) for t in texts]


def test_log_probs_rule_requires_leading_words_to_score_as_the_first_values():
    check_adapter(CharLM(), n=4)
    with pytest.raises(ContractError, match=r"^log_probs: 'Once upon a time' does not score as the first 16 values"):
        check_adapter(WholeTextLM(), n=4)


def _context(adapter, model: str, tmp_path, n: int, precision: str = "fp32"):
    from audit.context import CheckContext
    from audit.evaluators import digits_evaluator, digits_reference
    from audit.checks import load_check_modules
    from audit.sample_store import SampleStore

    load_check_modules()
    return CheckContext(adapter, model, precision, 0, n, 20, SampleStore(digits_evaluator, digits_reference), tmp_path)


def test_membership_inference_scores_a_language_model_from_log_probs_alone(tmp_path):
    """The same scores with and without the bundled model's tokenizer: the first `tokens` values
    of log_probs, not a tokenizer-cut text."""
    import numpy as np

    from audit.adapters import load_model
    from audit.checks import check_spec
    from fixture_models import documented_lm

    spec = check_spec("privacy.mia_auc")
    hidden = spec.fn(_context(documented_lm(), "documented", tmp_path, 20), n=12, tokens=24)
    bundled = spec.fn(_context(load_model("transformer", "fp32", "cpu"), "transformer", tmp_path, 20), n=12, tokens=24)
    assert hidden.n == 24 and hidden.value == bundled.value
    assert np.isclose(hidden.details["mean_score_members"], bundled.details["mean_score_members"], rtol=1e-6)


@pytest.mark.parametrize(
    "suite, check_id, precision, capability",
    [
        ("privacy", "privacy.verbatim_extraction", "fp32", "tokenizer"),
        ("quantization", "quantization.kl_divergence", "int8", "causal_lm"),
    ],
)
def test_checks_that_need_a_language_models_internals_skip_a_model_without_them(cli, suite: str, check_id: str, precision: str, capability: str):
    """The check declares the capability it uses; a model that does not declare it is skipped
    with a reason naming it, never probed for internals."""
    result = cli("run", f"suite={suite}", "model=fixture_models:documented_lm", f"check={check_id}", f"precision={precision}", "n=20", "bootstrap=0")
    (record,) = [r for r in result.results["records"] if r["check"] == check_id]
    assert record["status"] == "skipped" and f"lacks capability {capability}" in record["reason"], record
