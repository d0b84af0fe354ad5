"""The row encoding of the tabular privacy checks (the downstream classifier's: one-hot
categoricals, standardized numerics) against pandas, and duplicate column names refused as a
model output error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist

from audit.errors import ModelOutputError
from audit.fairness import tabular as downstream


@pytest.fixture(scope="module")
def adult():
    from audit_reference_models.data.adult import load_adult_split

    return load_adult_split()


def _by_pandas(frame: pd.DataFrame, reference: pd.DataFrame, adult) -> np.ndarray:
    """Every column: one 0/1 column per training category, numerics as (x - mean) / std (ddof 0)."""
    parts = []
    for c in adult.schema.categorical:
        values = pd.Categorical(frame[c].astype(str), categories=adult.categories[c])
        parts.append(pd.get_dummies(values).to_numpy(np.float64))
    for c in adult.schema.continuous:
        ref = reference[c].to_numpy(np.float64)
        parts.append(((frame[c].to_numpy(np.float64) - ref.mean()) / ref.std())[:, None])
    return np.concatenate(parts, axis=1)


def test_encoded_rows_have_the_distances_of_a_pandas_encoding(adult):
    reference = adult.train.head(500)
    frames = [adult.train.iloc[100:140], adult.test.head(30)]
    encoded = downstream.encode_rows(reference, frames, adult.categories, adult.schema)
    width = sum(len(adult.categories[c]) for c in adult.schema.categorical) + len(adult.schema.continuous)
    assert [e.shape for e in encoded] == [(40, width), (30, width)]
    a, b = (_by_pandas(f, reference, adult) for f in frames)
    np.testing.assert_allclose(cdist(encoded[0], encoded[1]), cdist(a, b), rtol=1e-9, atol=1e-9)
    # a training row and its copy encode identically; one changed category adds 2 to the squared distance
    copy = adult.train.iloc[[100]].astype({"sex": str})
    copy["sex"] = "Female" if copy["sex"].iloc[0] == "Male" else "Male"
    same, flipped = downstream.encode_rows(reference, [adult.train.iloc[[100]], copy], adult.categories, adult.schema)
    assert np.array_equal(same[0], encoded[0][0]) and np.sum((same - flipped) ** 2) == pytest.approx(2.0)


def test_duplicate_column_names_are_one_model_output_error(adult):
    rows = adult.train.head(10)
    doubled = pd.concat([rows, rows[["sex"]]], axis=1)
    with pytest.raises(ModelOutputError, match=r"^model 'm' sample_table\(\) has duplicate column name\(s\) sex: each column must be named once$"):
        downstream.coerce_table("m", doubled, 10, adult.categories, adult.schema)
    junk = pd.concat([rows, pd.DataFrame({"x": [1] * 10, "y": [2] * 10}).set_axis(["x", "x"], axis=1)], axis=1)
    with pytest.raises(ModelOutputError, match="duplicate column name.*x"):
        downstream.coerce_table("m", junk, 10, adult.categories, adult.schema)
