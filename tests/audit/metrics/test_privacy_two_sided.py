"""Two-sided membership-inference TPR, DCR ratios at a zero held-out distance and token-level
verbatim matches, against independent computations on fixed inputs."""

from __future__ import annotations

import numpy as np
import pytest

from audit.metrics.privacy import (
    DCR_RATIO_CAP, dcr_ratios, exact_match_rate, exact_token_match_rate, mia_auc, tpr_at_fpr, tpr_at_fpr_two_sided,
)


def threshold_tpr(members: np.ndarray, nonmembers: np.ndarray, fpr: float) -> float:
    """The best TPR over every threshold "score >= t" whose FPR is at most `fpr`, by enumeration."""
    best = 0.0
    for t in np.r_[np.unique(np.r_[members, nonmembers]), np.inf]:
        if (nonmembers >= t).mean() <= fpr:
            best = max(best, float((members >= t).mean()))
    return best


NONMEMBERS = np.arange(100, dtype=float)
INVERTED = np.array([-1.0, -0.5, 0.5, 50.0, 120.0])
"""Members that score low: an attack reading the score the wrong way round."""


def test_an_inverted_score_is_found_in_the_lower_tail():
    one_sided = tpr_at_fpr(INVERTED, NONMEMBERS, 0.01)
    assert one_sided == pytest.approx(threshold_tpr(INVERTED, NONMEMBERS, 0.01)) == pytest.approx(0.2)
    value, tail = tpr_at_fpr_two_sided(INVERTED, NONMEMBERS, 0.01)
    # negated, one false positive (non-member 0) admits the members scoring -1, -0.5 and 0.5: 3 of 5
    assert value == pytest.approx(threshold_tpr(-INVERTED, -NONMEMBERS, 0.01)) == pytest.approx(0.6)
    assert tail == "low"


def test_an_ordinary_score_keeps_the_upper_tail():
    members = np.array([99.5, 100.0, 150.0, 98.5, 50.0])
    value, tail = tpr_at_fpr_two_sided(members, NONMEMBERS, 0.01)
    assert tail == "high" and value == pytest.approx(threshold_tpr(members, NONMEMBERS, 0.01)) == pytest.approx(0.8)


def test_perfectly_separated_inverted_scores_have_auc_zero_and_full_two_sided_tpr():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    members, nonmembers = rng.normal(-5, 1, 200), rng.normal(5, 1, 200)
    expected = roc_auc_score(np.r_[np.ones(200), np.zeros(200)], np.r_[members, nonmembers])
    assert mia_auc(members, nonmembers) == pytest.approx(expected) == 0.0
    assert tpr_at_fpr(members, nonmembers) == 0.0  # the one-sided reading the check used to report
    assert tpr_at_fpr_two_sided(members, nonmembers) == (1.0, "low")


def test_dcr_ratio_of_a_held_out_copy_is_capped_not_divided_by_zero():
    floor = 16 / 255
    ratios = dcr_ratios([1.4, 0.0, 0.7, 0.01], [0.0, 0.0, 1.4, 0.02], floor)
    expected = np.minimum(np.maximum([1.4, 0.0, 0.7, 0.01], floor) / np.maximum([0.0, 0.0, 1.4, 0.02], floor), DCR_RATIO_CAP)
    np.testing.assert_allclose(ratios, expected)
    # a held-out copy: capped (was 1.4e12); a copy of an image in both splits: 1; within the floor: equally close
    np.testing.assert_allclose(ratios, [DCR_RATIO_CAP, 1.0, 0.5, 1.0])
    assert np.isfinite(dcr_ratios([1.0], [0.0])).all() and dcr_ratios([1.0], [0.0])[0] == DCR_RATIO_CAP


def test_token_ids_match_where_a_spaced_decode_breaks_the_text():
    """A word-level tokenizer whose decode joins with spaces: "Tom , the cat" is what the harness
    decodes as the reference, "Tom, the cat" what the model wrote; their ids are the same."""
    generated, references = ["Tom, the cat", " no", "Tom"], ["Tom , the cat", "yes", "Tom , the cat"]
    ids = [[1, 2, 3, 4], [9], [1]]
    truth = [[1, 2, 3, 4], [8], [1, 2, 3, 4]]
    assert exact_match_rate(generated, references) == (0, 3)
    assert exact_token_match_rate(generated, references, ids, truth) == (1, 3)  # a prefix of the ids is no match
    assert exact_token_match_rate(["a b"], ["a b"], [[5]], [[6, 7]]) == (1, 1)  # equal text still counts
    with pytest.raises(ValueError):
        exact_token_match_rate(generated, references, ids[:2], truth)
