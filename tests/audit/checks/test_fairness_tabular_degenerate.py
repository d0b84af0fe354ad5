"""Degenerate synthetic tables fail closed: when the classifier trained on the synthetic rows
predicts one class (one label in the sample, or too few of the other to move it), demographic
parity, equalized odds and bias amplification are error records with the reason, never a pass
at DP = EO = 0."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.context import CheckContext
from audit.errors import ModelOutputError
from audit.fairness import tabular as downstream
from audit.sample_store import SampleStore
from tests.fixtures.tabular_generators import RowsOf, no_evaluator_store

PARITY = (
    "fairness.tabular_demographic_parity", "fairness.tabular_demographic_parity_race", "fairness.tabular_equalized_odds",
    "fairness.tabular_equalized_odds_race", "fairness.tabular_bias_amplification", "fairness.tabular_bias_amplification_race",
)
VACUOUS = "the classifier trained on the synthetic rows predicts one class: its parity is vacuous, not fair"


@pytest.fixture(scope="module")
def store() -> SampleStore:
    return no_evaluator_store()


def _labelled(adult, positives: int) -> pd.DataFrame:
    """The training rows, every label '<=50K' but the first `positives` '>50K' ones."""
    frame = adult.train.copy()
    y = downstream.label_of(frame, adult.schema)
    keep = np.flatnonzero(y == 1)[:positives]
    labels = np.where(np.isin(np.arange(len(frame)), keep), ">50K", "<=50K")
    frame["income"] = pd.Categorical(labels, categories=adult.categories["income"])
    return frame


def _check(check_id: str, adapter: RowsOf, store: SampleStore, tmp: Path):
    from audit.checks import check_spec, load_check_modules

    load_check_modules()
    return check_spec(check_id).fn(CheckContext(adapter, adapter.info.name, "fp32", 0, 256, 60, store, tmp))


@pytest.mark.parametrize("check_id", PARITY)
def test_one_label_in_the_sample_is_an_error_not_a_fair_classifier(check_id: str, adult, store, tmp_path):
    allneg = RowsOf(_labelled(adult, 0), "allneg")
    with pytest.raises(ModelOutputError) as raised:
        _check(check_id, allneg, store, tmp_path)
    assert str(raised.value) == f"{VACUOUS} (every synthetic row is labelled '<=50K')"


def test_a_classifier_that_predicts_one_class_on_the_held_out_rows_is_an_error(adult, store, tmp_path):
    frame = _labelled(adult, 3)  # two labels, but 3 positives in 30,162 rows: the fit says '<=50K' everywhere
    pred, _ = downstream.predict(downstream.fit_downstream(frame, adult.categories, adult.schema), adult.test)
    assert np.unique(pred).tolist() == [0]
    rare = RowsOf(frame, "rare")
    for check_id in PARITY:
        with pytest.raises(ModelOutputError) as raised:
            _check(check_id, rare, store, tmp_path)
        assert str(raised.value) == f"{VACUOUS} (it predicts '<=50K' for all {len(adult.test)} held-out rows)", check_id


def test_utility_still_measures_what_a_constant_classifier_is_worth(adult, store, tmp_path):
    allneg = RowsOf(_labelled(adult, 0), "allneg")
    utility = _check("fairness.tabular_utility", allneg, store, tmp_path)
    y = downstream.label_of(adult.test, adult.schema)
    majority = float((y == 0).mean())
    assert utility.details["synthetic_trained_accuracy"] == pytest.approx(majority)
    assert utility.value == pytest.approx(majority - utility.details["real_trained_accuracy"]) and utility.value < -0.05


def test_a_sample_with_both_labels_predicted_is_measured(adult, store, tmp_path):
    copy = RowsOf(adult.train, "copy")
    for check_id in PARITY:
        m = _check(check_id, copy, store, tmp_path)
        assert m.details["synthetic_single_label"] is False and np.isfinite(m.value), check_id
