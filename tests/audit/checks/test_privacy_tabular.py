"""Memorisation of training rows by tabular generators: known answers on the real Adult data (a
"generator" releasing training rows verbatim fails the suite's gates; one drawing every column
independently from the training marginals, which copies no row, passes), the numbers against
scipy on the same encoding, and the checks in the privacy suite."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist

from audit.adapters.base import SAMPLE_TABLE
from audit.context import CheckContext
from audit.errors import ModelOutputError
from audit.sample_store import SampleStore
from tests.fixtures.tabular_generators import RowsOf, no_evaluator_store

CHECKS = ("privacy.tabular_dcr_ratio", "privacy.tabular_copy_rate")
ROWS = 400


class Marginals(RowsOf):
    """Each column drawn on its own from the training column: rows of no one, as close to the
    training rows as to held-out ones (both are draws of the same census)."""

    def sample_table(self, n: int, seed: int) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        return pd.DataFrame({c: self.frame[c].to_numpy()[rng.integers(0, len(self.frame), n)] for c in self.frame.columns})


def _measure(adapter: RowsOf, store: SampleStore, tmp: Path, **params: object) -> dict[str, object]:
    from audit.checks import check_spec, load_check_modules

    load_check_modules()
    out = {}
    for check_id in CHECKS:
        spec = check_spec(check_id)
        assert spec.families == ("tabular",) and spec.needs == frozenset({SAMPLE_TABLE})
        out[check_id] = spec.fn(CheckContext(adapter, adapter.info.name, "fp32", 0, ROWS, 200, store, tmp), **params)
    return out


@pytest.fixture(scope="module")
def measured(adult, tmp_path_factory):
    store = no_evaluator_store()
    tmp = tmp_path_factory.mktemp("privacy-tabular")
    copy = RowsOf(adult.train, "copy")
    fresh = Marginals(adult.train, "fresh")
    return store, _measure(copy, store, tmp), _measure(fresh, store, tmp)


def _gate(check_id: str) -> dict:
    from audit.suite import load_suite

    gates = [g for g in load_suite("privacy").gates if g["check"] == check_id and g.get("severity", "error") == "error"]
    assert len(gates) == 1, f"suites/privacy.toml should hold one error gate on {check_id}"
    return gates[0]


def test_the_privacy_suite_runs_both_checks_with_error_gates():
    from audit.suite import load_suite

    suite = load_suite("privacy")
    assert set(CHECKS) <= set(suite.checks)
    assert _gate("privacy.tabular_dcr_ratio")["min"] == 0.8 and _gate("privacy.tabular_copy_rate")["max"] == 0.05


def test_verbatim_training_rows_fail_both_gates(measured):
    _, copy, _ = measured
    dcr, rate = copy["privacy.tabular_dcr_ratio"], copy["privacy.tabular_copy_rate"]
    assert dcr.ci_high < _gate("privacy.tabular_dcr_ratio")["min"], (dcr.value, dcr.ci_low, dcr.ci_high)
    assert rate.value == 1.0 and rate.ci_low > _gate("privacy.tabular_copy_rate")["max"]
    assert rate.details["exact_copies"] == ROWS and rate.details["exact_copy_rate"] == 1.0
    # every copied row sits in one of the two folds: that fold's median distance is 0
    assert min(dcr.details["median_dcr_per_fold"]) < 1e-6 and dcr.details["folds"] == [15081, 15081]


def test_rows_of_no_one_pass_both_gates(measured):
    _, _, fresh = measured
    dcr, rate = fresh["privacy.tabular_dcr_ratio"], fresh["privacy.tabular_copy_rate"]
    assert dcr.ci_low > _gate("privacy.tabular_dcr_ratio")["min"] and 0.9 < dcr.value < 1.1, (dcr.value, dcr.ci_low, dcr.ci_high)
    assert rate.ci_high < _gate("privacy.tabular_copy_rate")["max"] and rate.details["exact_copies"] == 0, (rate.value, rate.ci_low, rate.ci_high)
    assert rate.details["heldout_rate_below_threshold"] == pytest.approx(0.01, abs=0.002)


def test_the_numbers_equal_scipy_distances_in_the_same_encoding(measured, adult):
    from scipy.stats import binomtest

    from audit.fairness.tabular import encode_rows

    _, _, fresh = measured
    sample = Marginals(adult.train, "fresh").sample_table(ROWS, 0)
    x, train, heldout = encode_rows(adult.train, [sample, adult.train, adult.test], adult.categories, adult.schema)
    to_train = cdist(x, train)
    nn_train, nn_heldout = to_train.min(axis=1), cdist(x, heldout).min(axis=1)
    rng = np.random.default_rng(CheckContext(None, "fresh", "fp32", 0, ROWS, 0, None, Path(".")).rng_seed("privacy.tabular.folds"))
    folds = np.array_split(rng.permutation(len(train)), 2)
    per_fold = [np.median(to_train[:, f].min(axis=1)) for f in folds]
    dcr = fresh["privacy.tabular_dcr_ratio"]
    assert dcr.value == pytest.approx(np.mean(per_fold) / np.median(nn_heldout), rel=1e-6)
    assert dcr.details["median_dcr_all_training"] == pytest.approx(np.median(nn_train), rel=1e-6)
    rate = fresh["privacy.tabular_copy_rate"]
    threshold = rate.details["threshold"]
    copies = int(((nn_train < threshold) | (nn_train < 1e-9)).sum())
    assert rate.value == copies / ROWS
    ci = binomtest(copies, ROWS).proportion_ci(method="wilson")
    assert (rate.ci_low, rate.ci_high) == pytest.approx((ci.low, ci.high))


def test_the_real_rows_are_encoded_and_searched_once_per_run(measured):
    store, _, _ = measured
    assert store.memo_calls["privacy.tabular_real"] == 1
    assert store.memo_calls["privacy.tabular_distances"] == 2  # one per model, shared by both checks


def test_a_table_the_run_refuses_is_a_model_output_error(adult, tmp_path):
    from audit.checks import check_spec

    broken = RowsOf(adult.train.drop(columns="sex"), "nosex")
    ctx = CheckContext(broken, "nosex", "fp32", 0, 50, 0, no_evaluator_store(), tmp_path)
    with pytest.raises(ModelOutputError, match="lacks column.*sex"):
        check_spec("privacy.tabular_copy_rate").fn(ctx)
    with pytest.raises(ValueError, match="rows >= 2"):
        check_spec("privacy.tabular_dcr_ratio").fn(ctx, rows=1)
