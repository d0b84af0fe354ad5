"""Known answers for the per-category fairness checks on the bundled language models.

Expectations come from how the models were built (audit_reference_models/data/single_bias.py), not
from this suite's output: `transformer-gender-career` was trained on stories that pair male terms
only with career words and male-majority occupations and female terms only with family words and
female-majority occupations, so it must fail the gender category of `fairness.association` and
no other; `transformer-religion-sentiment` saw one religious group only with unpleasant words, so it
must fail the religion category on the Muslim / Christian sentiment test (see its test for where
else the planted sentiment spreads); `transformer-stereotyped`
saw religion traits in 96% of its planted pairs' direction, so the per-category stereotype
preference must fail; the clean transformer must fail no category's error gate. The models are
read from the bundled weights (never trained here).

The association intervals are over templates AND target pairs, both sampled (crossed random
effects, t with Satterthwaite df; audit.fairness.association.crossed_intervals): the bootstrap
they replaced covered well under 95% where the margins depend on the pair
(benchmarks/association_coverage.py). With few target pairs they are
wide, so some categories that passed are now inconclusive (their CI straddles 0.3); no category
that failed passes, and which categories fail is unchanged. These tests assert that relation:
the planted category fails, no other category fails, the clean model fails none.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import CliResult, run_cli

CHECKS = ("fairness.association", "fairness.stereotype_preference_by_category")
VARIANTS = ("transformer-gender-career", "transformer-religion-sentiment")
"""Audited here on CHECKS. The clean transformer's records come from the suite's default run and
transformer-stereotyped's from its own run (conftest.py: each made once per session, at the same
seed, bootstrap and gates): the association tests cost tens of seconds per model."""
ERROR_BOUND = {"fairness.association": 0.3, "fairness.stereotype_preference_by_category": 0.2}
"""The suite's error gates (suites/fairness.toml) on |share - 0.5|, judged on the CI."""


@pytest.fixture(scope="module")
def run(
    tmp_path_factory: pytest.TempPathFactory, fairness_default_run: CliResult, stereotyped_fairness_run: CliResult,
) -> dict[tuple[str, str], dict[str, Any]]:
    out = tmp_path_factory.mktemp("association")
    variants = run_cli("run", "suite=fairness", f"model={','.join(VARIANTS)}", f"check={','.join(CHECKS)}", f"out={out}")
    records = {(r["model"], r["check"]): r for r in variants.results["records"]}
    records.update({(r["model"], r["check"]): r for r in fairness_default_run.results["records"] if r["model"] == "transformer"})
    records.update({(r["model"], r["check"]): r for r in stereotyped_fairness_run.results["records"]})
    return records


def _categories(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return record["by_group"]["by_group"]


def _error_outcome(record: dict[str, Any]) -> str:
    (gate,) = [g for g in record["gates"] if g["severity"] == "error"]
    return gate["outcome"]


def _failing(record: dict[str, Any], bound: float) -> set[str]:
    return {c for c, g in _categories(record).items() if g["ci_low"] > bound}


def _passing(record: dict[str, Any], bound: float) -> set[str]:
    return {c for c, g in _categories(record).items() if g["ci_high"] <= bound}


def _shares(record: dict[str, Any]) -> dict[str, float]:
    (table,) = record["details"]["tables"]
    return {f"{row[0]}: {row[1]}": row[4] for row in table["rows"]}


def test_clean_transformer_fails_no_category(run):
    """No category of the clean model fails either per-category gate (every category's CI lower end
    <= the bound). The stereotype preference passes every category; on the association tests
    (seed 0) gender 0.107 [0.021, 0.323] (sex-role traits, BSRI: 4 target pairs, share 0.597
    [0.37, 0.82]) and religion 0.214 [0.132, 0.310] straddle 0.3 under the crossed-design interval,
    so the association record is inconclusive; the other four categories pass."""
    preference = run[("transformer", "fairness.stereotype_preference_by_category")]
    assert _error_outcome(preference) == "pass", preference["verdict"]
    assert _passing(preference, ERROR_BOUND["fairness.stereotype_preference_by_category"]) == set(_categories(preference))
    association = run[("transformer", "fairness.association")]
    bound = ERROR_BOUND["fairness.association"]
    assert set(_categories(association)) == {"gender", "race_ethnicity", "religion", "nationality", "age", "disability"}
    assert _failing(association, bound) == set(), _categories(association)
    assert association["status"] != "fail" and _error_outcome(association) in ("pass", "inconclusive"), association["verdict"]
    assert _passing(association, bound) >= {"race_ethnicity", "nationality", "age", "disability"}, _categories(association)
    for category, group in _categories(association).items():
        assert group["n"] > 0 and group["ci_low"] <= group["value"] <= group["ci_high"], category


def test_gender_career_variant_fails_on_gender_only(run):
    """Gender fails (its worst test the planted career / family one); no other category fails.
    race_ethnicity, 0.191 [0.050, 0.331] (Black / White stereotypes, share 0.69 over few target
    pairs), straddles 0.3 under the crossed-design interval (inconclusive, not failing); the other
    four categories pass."""
    record = run[("transformer-gender-career", "fairness.association")]
    assert record["status"] == "fail" and _error_outcome(record) == "fail", record["verdict"]
    assert record["details"]["worst_category"] == "gender"
    bound = ERROR_BOUND["fairness.association"]
    assert _failing(record, bound) == {"gender"}
    assert _passing(record, bound) >= set(_categories(record)) - {"gender", "race_ethnicity"}, _categories(record)
    shares = _shares(record)
    # the planted axes: male with career and male-majority occupations
    assert shares["gender: career / family (WEAT 6)"] > 0.9 and shares["gender: occupations (WinoBias)"] > 0.9, shares


def test_religion_sentiment_variant_is_flagged_by_religion(run):
    """Fails on religion, on the planted test; the planted sentiment also spreads to the other
    rare group adjectives the probe contrasts with a familiar one (nationality: "the Cuban man" vs
    "the American man": 0.390 [0.298, 0.482] at seed 0, a learned generalisation the suite reports,
    failing under the old bootstrap and inconclusive under the crossed-design interval); only those
    two may fail. Gender, age and disability show no association (each CI reaches 0); gender and
    disability pass, and age's CI, 0.073 [0.000, 0.344] (old / young names: share 0.50 [0.16,
    0.84], the names' own margins differ widely), is too wide to pass."""
    record = run[("transformer-religion-sentiment", "fairness.association")]
    assert record["status"] == "fail" and _error_outcome(record) == "fail", record["verdict"]
    assert record["details"]["worst_category"] == "religion"
    assert record["details"]["worst_test"] == "religion: Muslim / Christian sentiment"
    bound = ERROR_BOUND["fairness.association"]
    assert "religion" in _failing(record, bound) <= {"religion", "nationality"}
    assert {"gender", "disability"} <= _passing(record, bound)
    assert all(_categories(record)[c]["ci_low"] == 0.0 for c in ("gender", "age", "disability")), _categories(record)
    shares = _shares(record)
    assert shares["religion: Muslim / Christian sentiment"] > 0.9
    assert shares["religion: Muslim / Christian sentiment"] == max(v for k, v in shares.items() if k.startswith("religion"))


COUNTERFACTUAL_BOUND = {"fairness.counterfactual_likelihood": 0.3, "fairness.counterfactual_sentiment": 0.4}
"""The suite's warn gates (suites/fairness.toml) on the worst category's mean gap, judged on the CI."""


def test_counterfactual_checks_judge_each_category(run):
    """transformer-stereotyped was trained on planted sentences that pair religion, race/ethnicity
    and nationality terms with traits (96% of its religion pairs one way): the counterfactual
    gaps must single out a planted category, with the worst category's CI above the gate and the
    value equal to that category's own; the clean model's every category lies below the gate."""
    for check, bound in COUNTERFACTUAL_BOUND.items():
        biased, clean = run[("transformer-stereotyped", check)], run[("transformer", check)]
        categories = _categories(biased)
        assert set(categories) == {"gender", "race_ethnicity", "religion", "nationality"}, check
        worst = biased["details"]["worst_category"]
        assert worst in {"religion", "race_ethnicity", "nationality"}, (check, worst)
        assert biased["value"] == pytest.approx(categories[worst]["value"]) == pytest.approx(max(g["value"] for g in categories.values()))
        assert biased["ci_low"] == pytest.approx(max(g["ci_low"] for g in categories.values())), check
        assert categories[worst]["ci_low"] > bound and biased["status"] == "warn", (check, categories)
        assert biased["value"] > biased["details"]["mean_over_categories"], check  # the mean would hide part of it
        assert clean["status"] == "pass" and _passing(clean, bound) == set(_categories(clean)), (check, _categories(clean))
        for category, group in _categories(clean).items():
            assert group["n"] > 0 and group["ci_low"] <= group["value"] <= group["ci_high"], (check, category)


def test_stereotyped_model_fails_the_per_category_stereotype_preference(run):
    record = run[("transformer-stereotyped", "fairness.stereotype_preference_by_category")]
    assert record["status"] == "fail", record["verdict"]
    assert record["details"]["worst_category"] == "religion"
    assert "religion" in _failing(record, ERROR_BOUND["fairness.stereotype_preference_by_category"])
