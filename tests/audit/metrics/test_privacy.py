"""Privacy metrics against independent computations, and the memorisation checks on a copier."""

from __future__ import annotations

import numpy as np
import pytest

from fixture_models import TrainingSetCopier
from audit.metrics.privacy import dcr_ratios, exact_match_rate, mia_auc, paired_bootstrap, roc_chart, tpr_at_fpr
from audit.stats import bias_adjusted_interval


def direct_auc(members, nonmembers):
    """P(member score > non-member score) + 0.5 P(tie), over all pairs."""
    m, n = np.asarray(members)[:, None], np.asarray(nonmembers)[None, :]
    return float(((m > n).sum() + 0.5 * (m == n).sum()) / (m.size * n.size))


def test_auc_matches_sklearn_and_pairwise_count_with_ties():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(3)
    members = np.round(rng.normal(0.4, 1, 157), 1)  # rounding makes ties
    nonmembers = np.round(rng.normal(0, 1, 211), 1)
    expected = roc_auc_score(np.r_[np.ones(157), np.zeros(211)], np.r_[members, nonmembers])
    assert mia_auc(members, nonmembers) == pytest.approx(expected, abs=1e-12)
    assert mia_auc(members, nonmembers) == pytest.approx(direct_auc(members, nonmembers), abs=1e-12)
    assert mia_auc([3.0, 2.0], [1.0, 0.0]) == 1.0 and mia_auc([0.0], [1.0]) == 0.0


def test_attack_of_a_set_against_itself_is_chance_with_ci_covering_it():
    scores = np.random.default_rng(0).normal(size=360)
    value = mia_auc(scores, scores.copy())
    assert value == pytest.approx(0.5)
    low, high = bias_adjusted_interval(value, paired_bootstrap(mia_auc, scores, scores.copy(), 300, 1))
    assert low < 0.5 < high and high - low < 0.15
    # two independent draws of one distribution: also chance, CI covers 0.5
    a, b = np.random.default_rng(1).normal(size=(2, 360))
    low, high = bias_adjusted_interval(mia_auc(a, b), paired_bootstrap(mia_auc, a, b, 300, 2))
    assert low < 0.5 < high


def test_tpr_at_fpr_known_answer():
    nonmembers = np.arange(100, dtype=float)  # 0..99
    members = np.array([99.5, 100.0, 150.0, 98.5, 50.0])
    # threshold above 98 admits one false positive (99) = 1% FPR: members above 98 are 4 of 5
    assert tpr_at_fpr(members, nonmembers, 0.01) == pytest.approx(0.8)
    assert tpr_at_fpr(members, nonmembers, 0.0) == pytest.approx(0.6)  # strictly above 99
    assert tpr_at_fpr(nonmembers, nonmembers, 0.01) <= 0.02


def test_roc_chart_contract():
    rng = np.random.default_rng(0)
    chart = roc_chart(rng.normal(1, 1, 200), rng.normal(0, 1, 200), "ROC")
    assert chart["x_label"] == "false positive rate" and chart["y_label"] == "true positive rate"
    attack, chance = chart["series"]["attack"], chart["series"]["chance"]
    assert len(attack) == len(chance) == 50
    assert attack[0]["x"] == 0.0 and attack[-1] == {"x": 1.0, "value": 1.0}
    values = [p["value"] for p in attack]
    assert values == sorted(values) and all(p["x"] == p["value"] for p in chance)


def test_dcr_ratios_and_exact_matches():
    np.testing.assert_allclose(dcr_ratios([0.0, 1.0, 2.0], [1.0, 1.0, 1.0]), [0.0, 1.0, 2.0], atol=1e-12)
    assert dcr_ratios([1.0], [0.0])[0] == 10.0  # a held-out copy: capped, no evidence of copying training data
    assert exact_match_rate([" a b", "c", ""], ["a b ", "d", ""]) == (1, 3)


def test_copies_of_training_images_are_memorised_at_rate_one(tmp_path):
    from audit.context import CheckContext
    from audit.evaluators import digits_evaluator, digits_reference
    from audit.checks import check_spec, load_check_modules
    from audit.sample_store import SampleStore

    load_check_modules()
    store = SampleStore(digits_evaluator, digits_reference)
    ctx = CheckContext(TrainingSetCopier(store.reference.train_x), "copier", "fp32", 0, 300, 100, store, tmp_path)
    m = check_spec("privacy.near_copy_rate").fn(ctx)
    assert m.value == 1.0 and m.ci_low > 0.98
    dcr = check_spec("privacy.dcr_ratio").fn(ctx)
    assert dcr.details["member_source"].startswith("assumed")
    # folds of the whole train split (4 of <= 360): copies score ~1 - 1/4, well under the 0.8 gate
    assert len(dcr.details["folds"]) == 4 and dcr.ci_high < 0.8
    # every sample has distance 0 to a training image, so the gallery's closest pairs are exact copies
    assert dcr.details["closest_pairs_l2"][0] == 0.0
    assert (tmp_path / "copier-fp32-closest-pairs.png").is_file()
    assert dcr.artifacts == {"closest_pairs": "artifacts/copier-fp32-closest-pairs.png"}
