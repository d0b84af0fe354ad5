"""Classifier two-sample test (C2ST; Lopez-Paz and Oquab, 2017), with scikit-learn.

Label one set 0 and the other 1 (equal sizes, so chance is 0.5), predict every row out-of-fold
with stratified k-fold cross-validation, and report the accuracy. Under the null hypothesis
that both sets come from one distribution, the number of correct out-of-fold predictions is
approximately Binomial(2n, 1/2); the p-value is the one-sided binomial test of accuracy > 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CLASSIFIERS = ("knn", "logistic")


def c2st_classifier(kind: str = "knn", neighbours: int = 5, seed: int = 0):
    """The classifier, a scikit-learn pipeline on standardized features (the scaler is fitted
    inside each training fold)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if kind == "knn":
        model = KNeighborsClassifier(n_neighbors=neighbours)
    elif kind == "logistic":
        model = LogisticRegression(max_iter=2000, random_state=seed)
    else:
        raise ValueError(f"unknown C2ST classifier '{kind}'; valid: {', '.join(CLASSIFIERS)}")
    return make_pipeline(StandardScaler(), model)


def c2st_folds(folds: int, seed: int):
    from sklearn.model_selection import StratifiedKFold

    return StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)


@dataclass
class C2STResult:
    accuracy: float
    correct: np.ndarray  # [2n] bool, out-of-fold correctness of every row (x rows first)
    p_value: float

    @property
    def n(self) -> int:
        return len(self.correct)


def c2st(x: np.ndarray, y: np.ndarray, folds: int = 5, seed: int = 0, classifier: str = "knn", neighbours: int = 5) -> C2STResult:
    """Cross-validated accuracy of telling rows of x [n, D] from rows of y [n, D] (equal sizes)."""
    from scipy.stats import binomtest
    from sklearn.model_selection import cross_val_predict

    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if len(x) != len(y):
        raise ValueError(f"C2ST needs equal-size sets (chance = 0.5), got {len(x)} and {len(y)}")
    if len(x) < folds:
        raise ValueError(f"C2ST with {folds} folds needs at least {folds} rows per set, got {len(x)}")
    data = np.concatenate([x, y])
    target = np.repeat([0, 1], len(x))
    predicted = cross_val_predict(c2st_classifier(classifier, neighbours, seed), data, target, cv=c2st_folds(folds, seed))
    correct = predicted == target
    p_value = binomtest(int(correct.sum()), len(correct), 0.5, alternative="greater").pvalue
    return C2STResult(float(correct.mean()), correct, float(p_value))


def balanced_subsample(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Both sets cut to the smaller one's size by a seeded draw without replacement."""
    size = min(len(x), len(y))
    rng = np.random.default_rng(seed)
    pick = lambda a: a if len(a) == size else a[np.sort(rng.choice(len(a), size, replace=False))]
    return pick(x), pick(y)
