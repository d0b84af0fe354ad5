"""The conformance kit's `sample_table` rule refuses what `audit run` refuses: it validates the
table with the run's own `coerce_table` (columns, categories, finite numbers, unique names)."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
import pytest

from audit.adapters.base import SAMPLE_TABLE, ModelInfo
from audit.testing import ContractError, adapter_checks, run_adapter_checks


@pytest.fixture(scope="module")
def adult():
    from audit_reference_models.data.adult import load_adult_split

    return load_adult_split()


class Tab:
    """A tabular adapter whose table is `make(training rows drawn with the seed)`."""

    capabilities = frozenset({SAMPLE_TABLE})

    def __init__(self, train: pd.DataFrame, make: Callable[[pd.DataFrame], pd.DataFrame], name: str = "tab") -> None:
        self.train, self.make = train, make
        self.info = ModelInfo(name=name, family="tabular", params=0)

    def modules(self) -> dict:
        return {}

    def sample_table(self, n: int, seed: int) -> pd.DataFrame:
        rows = self.train.iloc[np.random.default_rng(seed).choice(len(self.train), n)].reset_index(drop=True)
        return self.make(rows)


def _first_nan(rows: pd.DataFrame, column: str) -> pd.DataFrame:
    out = rows.astype({column: object})
    out.loc[0, column] = np.nan
    return out


BROKEN = {
    "only a column x": (lambda rows: pd.DataFrame({"x": range(len(rows))}), "lacks column(s) age, workclass"),
    "no sex column": (lambda rows: rows.drop(columns=["sex"]), "lacks column(s) sex"),
    "a NaN age": (lambda rows: _first_nan(rows, "age"), "column 'age' has 1 non-numeric or non-finite values"),
    "a NaN workclass": (lambda rows: _first_nan(rows, "workclass"), "column 'workclass' has values outside the training categories"),
    "a 'nan' workclass": (lambda rows: rows.astype({"workclass": str}).assign(workclass=["nan"] + list(rows["workclass"].astype(str))[1:]),
                          "column 'workclass' has values outside the training categories: ['nan']"),
    "sex twice": (lambda rows: pd.concat([rows, rows[["sex"]]], axis=1), "duplicate column name(s) sex"),
}


def _sample_table_rule(adapter: Tab):
    (rule,) = [c for c in adapter_checks(adapter) if c.rule == "sample_table"]
    return rule


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_table_the_run_refuses_breaks_the_sample_table_rule(case: str, adult):
    make, fragment = BROKEN[case]
    with pytest.raises(ContractError) as raised:
        _sample_table_rule(Tab(adult.train, make, "broken"))()
    message = str(raised.value)
    assert message.startswith("sample_table: model 'broken' sample_table() ") and fragment in message, message
    assert "\n" not in message


def test_the_run_refuses_the_same_tables(adult):
    from audit.fairness.tabular import coerce_table

    for case, (make, fragment) in BROKEN.items():
        with pytest.raises(Exception, match="sample_table") as raised:
            coerce_table("broken", make(adult.train.head(8).reset_index(drop=True)), 8, adult.categories, adult.schema)
        assert type(raised.value).__name__ == "ModelOutputError" and fragment in str(raised.value), case


def test_training_rows_in_any_column_order_with_extra_columns_pass(adult):
    shuffled = Tab(adult.train, lambda rows: rows[list(rows.columns)[::-1]].assign(junk=1))
    outcomes = {o.rule: o for o in run_adapter_checks(shuffled)}
    assert outcomes["sample_table"].passed and not outcomes["sample_table"].skipped, outcomes["sample_table"].message
