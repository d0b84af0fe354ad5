"""The downstream classifier of tabular fairness and its group metrics, shared by the tabular
checks and by plugins that score their own synthetic tables the same way.

A model's table is first checked against the data set's schema (`coerce_table`); a logistic
regression on one-hot categoricals and standardized numeric columns (every column but the label
as a feature) predicts the schema's binary label; fairlearn's `MetricFrame` breaks its decisions
down by group.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from audit.datasets import TabularSchema
from audit.errors import ModelOutputError

__all__ = [
    "CLASSIFIER", "DATASET", "ConstantClassifier", "coerce_table", "encode_rows", "feature_encoder", "fit_downstream", "frame_summary",
    "label_of", "metric_frame", "predict",
]

DATASET = "adult"
"""The registered tabular data set (audit.registry.datasets) the downstream classifiers train and score on."""
CLASSIFIER = "LogisticRegression(C=1.0, lbfgs, max_iter=2000) on one-hot categoricals + standardized numeric columns"


class ConstantClassifier:
    """What a downstream learner can do when the training data holds a single label value."""

    def __init__(self, label: int) -> None:
        self.label = label

    def predict(self, frame: Any) -> np.ndarray:
        return np.full(len(frame), self.label, dtype=np.int64)

    def predict_proba(self, frame: Any) -> np.ndarray:
        p = np.full(len(frame), float(self.label))
        return np.stack([1 - p, p], axis=1)


def label_of(frame: Any, schema: TabularSchema) -> np.ndarray:
    """1 where the label column holds the positive value, else 0."""
    return (frame[schema.label].astype(str).to_numpy() == schema.positive).astype(np.int64)


def feature_encoder(categories: dict[str, list[str]], categorical: list[str], continuous: list[str]) -> Any:
    """The downstream classifier's (unfitted) encoding: one-hot `categorical` columns over the
    training categories, standardized `continuous` columns."""
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    return ColumnTransformer([
        ("categorical", OneHotEncoder(categories=[categories[c] for c in categorical], handle_unknown="ignore"), categorical),
        ("numeric", StandardScaler(), continuous),
    ])


def encode_rows(reference: Any, frames: list[Any], categories: dict[str, list[str]], schema: TabularSchema) -> list[np.ndarray]:
    """Whole rows (every column, the label included) as dense float64 vectors in the downstream
    classifier's encoding, its scaler fitted on `reference`: distances between rows of `frames`
    are then measured in the space the classifier learns from (each differing categorical adds
    2 to the squared distance, each numeric column its difference in reference standard deviations, squared)."""
    from threadpoolctl import threadpool_limits

    columns = [*schema.categorical, *schema.continuous]
    encoder = feature_encoder(categories, list(schema.categorical), list(schema.continuous))
    with threadpool_limits(limits=1):
        encoder.fit(reference[columns])
        out = [encoder.transform(f[columns]) for f in frames]
    return [np.asarray(x.toarray() if hasattr(x, "toarray") else x, dtype=np.float64) for x in out]


def fit_downstream(frame: Any, categories: dict[str, list[str]], schema: TabularSchema) -> Any:
    """The downstream classifier fitted on `frame` (deterministic: lbfgs, no randomness)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from threadpoolctl import threadpool_limits

    y = label_of(frame, schema)
    if y.min() == y.max():
        return ConstantClassifier(int(y[0]))
    cats = [c for c in schema.categorical if c != schema.label]
    features = feature_encoder(categories, cats, list(schema.continuous))
    model = Pipeline([("features", features), ("classifier", LogisticRegression(C=1.0, max_iter=2000))])
    with threadpool_limits(limits=1):
        return model.fit(frame[[*cats, *schema.continuous]], y)


def predict(model: Any, frame: Any) -> tuple[np.ndarray, np.ndarray]:
    """(hard labels 0/1, scores P(positive)) on `frame`."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return np.asarray(model.predict(frame), dtype=np.int64), np.asarray(model.predict_proba(frame))[:, 1]


def metric_frame(y_true: np.ndarray, y_pred: np.ndarray, sensitive: Any) -> Any:
    """fairlearn MetricFrame of selection rate, TPR, FPR, accuracy and count by group."""
    from fairlearn.metrics import MetricFrame, count, false_positive_rate, selection_rate, true_positive_rate
    from sklearn.metrics import accuracy_score

    return MetricFrame(
        metrics={
            "selection_rate": selection_rate, "true_positive_rate": true_positive_rate,
            "false_positive_rate": false_positive_rate, "accuracy": accuracy_score, "count": count,
        },
        y_true=y_true, y_pred=y_pred, sensitive_features=sensitive,
    )


def frame_summary(mf: Any) -> dict[str, float]:
    """The headline disparities of one MetricFrame: demographic parity and equalized odds differences."""
    diff = mf.difference(method="between_groups")
    return {
        "demographic_parity_difference": float(diff["selection_rate"]),
        "tpr_difference": float(diff["true_positive_rate"]),
        "fpr_difference": float(diff["false_positive_rate"]),
        "equalized_odds_difference": float(max(diff["true_positive_rate"], diff["false_positive_rate"])),
        "accuracy": float(mf.overall["accuracy"]),
    }


def coerce_table(model: str, table: Any, rows: int, categories: dict[str, list[str]], schema: TabularSchema) -> Any:
    """The model's sample as a frame with the training schema, or ModelOutputError naming what is wrong."""
    import pandas as pd

    if not isinstance(table, pd.DataFrame):
        raise ModelOutputError(f"model '{model}' sample_table() returned {type(table).__name__}, expected a pandas DataFrame")
    duplicated = sorted({str(c) for c in table.columns[table.columns.duplicated()]})
    if duplicated:
        raise ModelOutputError(f"model '{model}' sample_table() has duplicate column name(s) {', '.join(duplicated[:5])}: each column must be named once")
    missing = [c for c in schema.columns if c not in table.columns]
    if missing:
        raise ModelOutputError(f"model '{model}' sample_table() lacks column(s) {', '.join(missing)}")
    if len(table) != rows:
        raise ModelOutputError(f"model '{model}' sample_table({rows}) returned {len(table)} rows")
    out = {}
    for c in schema.categorical:
        values = table[c].astype(str)
        known = values.isin(categories[c]).to_numpy()
        if not known.all():
            bad = sorted(set(values[~known]))[:3]
            raise ModelOutputError(f"model '{model}' sample_table() column '{c}' has values outside the training categories: {bad}")
        out[c] = pd.Categorical(values, categories=categories[c])
    for c in schema.continuous:
        x = pd.to_numeric(table[c], errors="coerce").to_numpy(np.float64)
        if not np.isfinite(x).all():
            raise ModelOutputError(f"model '{model}' sample_table() column '{c}' has {int((~np.isfinite(x)).sum())} non-numeric or non-finite values")
        out[c] = x
    return pd.DataFrame(out, columns=list(schema.columns))
