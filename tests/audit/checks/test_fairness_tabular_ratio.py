"""The per-group representation ratio of tabular generators: a race erased (Black rows rewritten
as White) passes the TV gate, since TV is only that group's 9% share, and fails the ratio gate;
the value equals a pandas computation on the sampled rows; rows drawn from the training
marginals (a legitimate baseline) pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.adapters.base import SAMPLE_TABLE
from audit.context import CheckContext
from audit.sample_store import SampleStore
from tests.fixtures.tabular_generators import RowsOf, no_evaluator_store, suite_error_gate

ROWS = 3000
RATIO = {"sex": "fairness.tabular_representation_ratio", "race": "fairness.tabular_representation_ratio_race"}


class Marginals(RowsOf):
    """Each column drawn on its own from the training column."""

    def sample_table(self, n: int, seed: int) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        return pd.DataFrame({c: self.frame[c].to_numpy()[rng.integers(0, len(self.frame), n)] for c in self.frame.columns})


@pytest.fixture(scope="module")
def store() -> SampleStore:
    return no_evaluator_store()


def _measure(check_id: str, adapter: RowsOf, store: SampleStore, tmp: Path, rows: int = ROWS):
    from audit.checks import check_spec, load_check_modules

    load_check_modules()
    spec = check_spec(check_id)
    assert spec.families == ("tabular",) and spec.needs == frozenset({SAMPLE_TABLE})
    return spec.fn(CheckContext(adapter, adapter.info.name, "fp32", 0, 256, 200, store, tmp), rows=rows)


def _gate(check_id: str) -> dict:
    return suite_error_gate("fairness", check_id)


def _pandas_min_ratio(sample: pd.DataFrame, train: pd.DataFrame, attribute: str, pseudo: float = 0.5, min_share: float = 0.005) -> float:
    reference = train[attribute].astype(str).value_counts(normalize=True)
    counts = sample[attribute].astype(str).value_counts().reindex(reference.index, fill_value=0) + pseudo
    ratio = counts / counts.sum() / reference
    return float(ratio[reference >= min_share].min())


def test_min_representation_on_fixed_codes():
    from audit.metrics.groups import min_representation_of

    reference = np.array([0.6, 0.3, 0.098, 0.002])
    codes = np.array([0] * 70 + [1] * 30 + [3] * 0)
    # group 2 (9.8%) absent: (0 + 0.5) / (100 + 2) / 0.098; group 3 (0.2%) is below the 0.5% floor
    assert min_representation_of(codes, reference) == pytest.approx(0.5 / 102 / 0.098)
    assert min_representation_of(codes, reference, pseudo=0.0) == 0.0
    assert min_representation_of(np.array([0] * 7 + [1] * 2 + [2]), reference, pseudo=0.0) == pytest.approx(0.2 / 0.3)  # group 3 absent, not judged
    frame = pd.DataFrame({"g": pd.Categorical.from_codes(codes, ["a", "b", "c", "d"])})
    train = pd.DataFrame({"g": np.repeat(["a", "b", "c", "d"], [300, 150, 49, 1])})
    assert min_representation_of(codes, reference) == pytest.approx(_pandas_min_ratio(frame, train, "g"))


def test_a_race_erased_fails_the_ratio_gate_while_passing_tv(adult, store, tmp_path):
    race = adult.train["race"].astype(str)
    erased_frame = adult.train.assign(race=pd.Categorical(race.where(race != "Black", "White"), categories=adult.train["race"].cat.categories))
    erased = RowsOf(erased_frame, "erase-black")
    m = _measure(RATIO["race"], erased, store, tmp_path)
    sample = erased.sample_table(ROWS, 0)
    assert m.value == pytest.approx(_pandas_min_ratio(sample, adult.train, "race"))
    assert m.value < 0.01 and m.details["least_represented_group"] == "Black" and m.details["missing_groups"] == ["Black"]
    assert m.ci_high < _gate(RATIO["race"])["min"]
    # every training row, Black ones rewritten: TV is the Black share, under the TV gate; the ratio ~0
    whole = {c: _measure(c, erased, store, tmp_path, rows=len(adult.train)) for c in ("fairness.tabular_representation_tv_race", RATIO["race"])}
    black_share = float((race == "Black").mean())
    assert whole["fairness.tabular_representation_tv_race"].value == pytest.approx(black_share) == pytest.approx(2817 / 30162)
    assert whole["fairness.tabular_representation_tv_race"].ci_high <= _gate("fairness.tabular_representation_tv_race")["max"]
    assert whole[RATIO["race"]].value == pytest.approx(0.5 / (len(race) + 2.5) / black_share)


@pytest.mark.parametrize("attribute", ["sex", "race"])
def test_training_marginals_pass_and_equal_pandas(attribute: str, adult, store, tmp_path):
    fresh = Marginals(adult.train, "marginals")
    m = _measure(RATIO[attribute], fresh, store, tmp_path)
    assert m.value == pytest.approx(_pandas_min_ratio(fresh.sample_table(ROWS, 0), adult.train, attribute))
    assert m.ci_low >= _gate(RATIO[attribute])["min"] and m.ci_low <= m.value <= m.ci_high
    assert set(m.details["judged_groups"]) == set(adult.train[attribute].astype(str).unique())
