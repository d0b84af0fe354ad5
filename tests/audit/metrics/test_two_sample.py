"""Classifier two-sample test against a plain scikit-learn cross_val_score and scipy's
binomial test, plus the behaviour at the two extremes (same distribution, separated sets)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from audit.metrics import balanced_subsample, c2st


@pytest.fixture(scope="module")
def shifted() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(9)
    return rng.normal(size=(100, 6)), rng.normal(loc=0.35, scale=1.3, size=(100, 6))


@pytest.mark.parametrize(
    "kind, estimator",
    [("knn", lambda: KNeighborsClassifier(n_neighbors=5)), ("logistic", lambda: LogisticRegression(max_iter=2000))],
)
def test_matches_cross_val_score(shifted, kind, estimator):
    """200 rows in 5 stratified folds of 40: the mean fold accuracy is the overall accuracy."""
    x, y = shifted
    data, target = np.concatenate([x, y]), np.repeat([0, 1], 100)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=4)
    expected = cross_val_score(make_pipeline(StandardScaler(), estimator()), data, target, cv=folds).mean()
    result = c2st(x, y, folds=5, seed=4, classifier=kind)
    assert result.accuracy == pytest.approx(expected, abs=1e-12)
    assert 0.55 < result.accuracy < 0.95  # a case that is neither trivial nor chance


def test_p_value_is_the_one_sided_binomial_test(shifted):
    x, y = shifted
    data, target = np.concatenate([x, y]), np.repeat([0, 1], 100)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    predicted = cross_val_predict(make_pipeline(StandardScaler(), KNeighborsClassifier(5)), data, target, cv=folds)
    correct = int((predicted == target).sum())
    result = c2st(x, y, seed=0)
    assert int(result.correct.sum()) == correct and result.n == 200
    assert result.p_value == pytest.approx(binomtest(correct, 200, 0.5, alternative="greater").pvalue, rel=1e-12)


def test_same_distribution_is_near_chance():
    rng = np.random.default_rng(10)
    result = c2st(rng.normal(size=(300, 8)), rng.normal(size=(300, 8)), seed=1)
    assert 0.42 < result.accuracy < 0.58 and result.p_value > 0.01


def test_separated_sets_are_told_apart():
    rng = np.random.default_rng(11)
    result = c2st(rng.normal(size=(150, 8)), rng.normal(loc=3.0, size=(150, 8)), seed=1)
    assert result.accuracy > 0.97 and result.p_value < 1e-30


def test_balanced_subsample_keeps_rows_of_the_larger_set():
    rng = np.random.default_rng(12)
    a, b = rng.normal(size=(30, 3)), rng.normal(size=(70, 3))
    sa, sb = balanced_subsample(a, b, seed=0)
    assert sa is a and len(sb) == 30
    assert len({tuple(r) for r in sb} - {tuple(r) for r in b}) == 0 and len({tuple(r) for r in sb}) == 30


def test_rejects_unequal_sets_and_unknown_classifier():
    with pytest.raises(ValueError, match="equal-size"):
        c2st(np.zeros((10, 2)), np.zeros((12, 2)))
    with pytest.raises(ValueError, match="valid: knn, logistic"):
        c2st(np.zeros((10, 2)), np.ones((10, 2)), classifier="forest")
