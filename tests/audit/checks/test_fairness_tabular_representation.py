"""Representation of the sensitive groups in synthetic tables: total variation between the
synthetic rows' sex (race) shares and the training shares, against pandas, with the suite's gates
failing a generator that erases a sex and passing an exact copy of the data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.adapters.base import SAMPLE_TABLE
from audit.context import CheckContext
from audit.sample_store import SampleStore
from tests.fixtures.tabular_generators import RowsOf, no_evaluator_store

CHECKS = {"sex": "fairness.tabular_representation_tv", "race": "fairness.tabular_representation_tv_race"}


@pytest.fixture(scope="module")
def store() -> SampleStore:
    return no_evaluator_store()


def _measure(check_id: str, adapter: RowsOf, store: SampleStore, tmp: Path, **params: object):
    from audit.checks import check_spec, load_check_modules

    load_check_modules()
    spec = check_spec(check_id)
    assert spec.families == ("tabular",) and spec.needs == frozenset({SAMPLE_TABLE}) and spec.higher_is_better is False
    return spec.fn(CheckContext(adapter, adapter.info.name, "fp32", 0, 256, 200, store, tmp), **params)


def _pandas_tv(sample: pd.DataFrame, train: pd.DataFrame, attribute: str) -> float:
    shares = sample[attribute].astype(str).value_counts(normalize=True)
    reference = train[attribute].astype(str).value_counts(normalize=True)
    return float(0.5 * shares.reindex(reference.index, fill_value=0.0).sub(reference).abs().sum())


def _gate(check_id: str) -> float:
    from audit.suite import load_suite

    gates = [g for g in load_suite("fairness").gates if g["check"] == check_id and g.get("severity", "error") == "error"]
    assert len(gates) == 1, f"suites/fairness.toml should hold one error gate on {check_id}"
    return gates[0]["max"]


def test_a_generator_without_women_fails_the_sex_gate(adult, store, tmp_path):
    men = RowsOf(adult.train[adult.train["sex"] == "Male"], "men")
    m = _measure(CHECKS["sex"], men, store, tmp_path)
    female_share = float((adult.train["sex"] == "Female").mean())
    assert m.value == pytest.approx(female_share) == pytest.approx(9782 / 30162)
    assert m.ci_low == pytest.approx(female_share) and m.ci_low > _gate(CHECKS["sex"])  # no bootstrap draw holds a woman
    assert m.details["missing_groups"] == ["Female"] and m.by_group["by_group"]["Female"]["value"] == 0.0
    assert m.n == len(adult.train)


@pytest.mark.parametrize("attribute", ["sex", "race"])
def test_tv_equals_pandas_on_the_sampled_rows(attribute: str, adult, store, tmp_path):
    older = RowsOf(adult.train[adult.train["age"] >= 40], "older")
    m = _measure(CHECKS[attribute], older, store, tmp_path)
    sample = older.sample_table(len(adult.train), 0)
    assert m.value == pytest.approx(_pandas_tv(sample, adult.train, attribute), abs=1e-12)
    assert m.ci_low <= m.value <= m.ci_high
    counts = sample[attribute].astype(str).value_counts()
    for group, row in m.by_group["by_group"].items():
        assert row["n"] == counts.get(group, 0)
        assert row["value"] == pytest.approx(counts.get(group, 0) / len(sample) / (adult.train[attribute] == group).mean())


@pytest.mark.parametrize("attribute", ["sex", "race"])
def test_an_exact_copy_of_the_data_is_perfectly_represented(attribute: str, adult, store, tmp_path):
    m = _measure(CHECKS[attribute], RowsOf(adult.train, "copy"), store, tmp_path)
    assert m.value == 0.0 and m.ci_high < _gate(CHECKS[attribute]) and m.details["missing_groups"] == []


def test_representation_reads_the_rows_the_classifier_was_trained_on(adult, store, tmp_path):
    from audit.checks import check_spec

    sampled = RowsOf(adult.train, "shared")
    before = store.memo_calls.get("tabular.synthetic_classifier", 0)
    _measure(CHECKS["sex"], sampled, store, tmp_path, rows=3000)
    _measure(CHECKS["race"], sampled, store, tmp_path, rows=3000)
    ctx = CheckContext(sampled, "shared", "fp32", 0, 256, 0, store, tmp_path)
    check_spec("fairness.tabular_utility").fn(ctx, rows=3000)
    assert store.memo_calls["tabular.synthetic_classifier"] == before + 1
    assert np.isfinite(_measure(CHECKS["sex"], sampled, store, tmp_path, rows=3000).value)
