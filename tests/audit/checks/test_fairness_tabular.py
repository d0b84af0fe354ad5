"""Tabular fairness checks: group metrics against independent pandas computations, the paired
bootstrap, schema validation, and known answers with fake generators on the real Adult data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.adapters.base import CAPABILITIES, SAMPLE_TABLE, ModelInfo
from audit.checks import fairness_tabular as ft
from audit.context import CheckContext
from audit.errors import ModelOutputError
from audit.fairness import tabular as downstream
from audit.families import FAMILY_NAMES
from audit.metrics import group_frame
from audit.sample_store import SampleStore

# 16 fixed rows, three groups: y, prediction, group.
Y = np.array([1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0])
PRED = np.array([1, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 1, 0, 0, 1, 0])
GROUP = np.array(["a", "a", "a", "a", "a", "b", "b", "b", "b", "b", "b", "c", "c", "c", "c", "c"])


def pandas_rates(y: np.ndarray, pred: np.ndarray, group: np.ndarray) -> pd.DataFrame:
    """Selection rate, TPR, FPR and accuracy per group, straight from a pandas groupby."""
    df = pd.DataFrame({"y": y, "p": pred, "g": group})
    return pd.DataFrame({
        "selection_rate": df.groupby("g")["p"].mean(),
        "true_positive_rate": df[df.y == 1].groupby("g")["p"].mean(),
        "false_positive_rate": df[df.y == 0].groupby("g")["p"].mean(),
        "accuracy": df.assign(c=df.y == df.p).groupby("g")["c"].mean(),
        "count": df.groupby("g").size(),
    })


def test_family_and_capability_are_declared():
    assert "tabular" in FAMILY_NAMES and SAMPLE_TABLE == "sample_table" and SAMPLE_TABLE in CAPABILITIES


def test_metric_frame_matches_a_pandas_groupby():
    mf = downstream.metric_frame(Y, PRED, pd.Series(GROUP))
    expected = pandas_rates(Y, PRED, GROUP)
    for metric in expected.columns:
        np.testing.assert_allclose(mf.by_group[metric].to_numpy(np.float64), expected[metric].to_numpy(np.float64), err_msg=metric)
    summary = downstream.frame_summary(mf)
    sel, tpr, fpr = expected["selection_rate"], expected["true_positive_rate"], expected["false_positive_rate"]
    assert summary["demographic_parity_difference"] == pytest.approx(sel.max() - sel.min())
    assert summary["equalized_odds_difference"] == pytest.approx(max(tpr.max() - tpr.min(), fpr.max() - fpr.min()))
    assert summary["accuracy"] == pytest.approx((Y == PRED).mean())


def test_metric_frame_agrees_with_fairlearns_own_difference_functions():
    from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference

    summary = downstream.frame_summary(downstream.metric_frame(Y, PRED, pd.Series(GROUP)))
    assert summary["demographic_parity_difference"] == pytest.approx(demographic_parity_difference(Y, PRED, sensitive_features=GROUP))
    assert summary["equalized_odds_difference"] == pytest.approx(equalized_odds_difference(Y, PRED, sensitive_features=GROUP))


def test_weighted_rates_equal_the_rates_of_explicitly_resampled_rows():
    codes = pd.Categorical(GROUP).codes
    rng = np.random.default_rng(3)
    counts = np.stack([np.ones(len(Y)), rng.integers(0, 3, len(Y)), rng.integers(1, 4, len(Y))]).astype(float)
    rates = ft.weighted_group_rates(counts, Y, PRED, codes, 3)
    dis = ft.disparities(rates)
    for b, w in enumerate(counts.astype(int)):
        rows = np.repeat(np.arange(len(Y)), w)
        expected = pandas_rates(Y[rows], PRED[rows], GROUP[rows]).reindex(["a", "b", "c"])
        for metric in ("selection_rate", "true_positive_rate", "false_positive_rate", "accuracy", "count"):
            np.testing.assert_allclose(rates[metric][b], expected[metric].to_numpy(np.float64), err_msg=f"{metric} resample {b}")
        sel = expected["selection_rate"]
        assert dis["demographic_parity_difference"][b] == pytest.approx(np.nanmax(sel) - np.nanmin(sel))
        assert rates["overall_accuracy"][b] == pytest.approx((Y[rows] == PRED[rows]).mean())
        assert dis["equalized_odds_difference"][b] == pytest.approx(max(
            np.nanmax(expected["true_positive_rate"]) - np.nanmin(expected["true_positive_rate"]),
            np.nanmax(expected["false_positive_rate"]) - np.nanmin(expected["false_positive_rate"]),
        ))


def test_paired_bootstrap_gives_zero_width_differences_for_identical_classifiers():
    codes = pd.Categorical(GROUP).codes
    boot = ft.paired_bootstrap(Y, {"synthetic": PRED, "real": PRED.copy()}, codes, 3, resamples=40, seed=0)
    delta = boot["synthetic"]["demographic_parity_difference"] - boot["real"]["demographic_parity_difference"]
    assert delta.shape == (40,) and np.all(delta == 0)
    other = ft.paired_bootstrap(Y, {"synthetic": 1 - PRED, "real": PRED}, codes, 3, resamples=40, seed=0)
    assert np.ptp(other["synthetic"]["overall_accuracy"] - other["real"]["overall_accuracy"]) > 0
    again = ft.paired_bootstrap(Y, {"synthetic": 1 - PRED, "real": PRED}, codes, 3, resamples=40, seed=0)
    np.testing.assert_array_equal(other["real"]["selection_rate"], again["real"]["selection_rate"])


def test_by_group_frame_has_the_project_shape():
    frame = group_frame(["a", "b"], np.array([0.2, 0.5]), [None, None], [None, None], 0.4, counts=np.array([10, 30]))
    assert set(frame) == {"overall", "by_group", "group_min", "group_max", "difference", "ratio"}
    assert frame["difference"] == pytest.approx(0.3) and frame["ratio"] == pytest.approx(0.4)
    assert frame["by_group"]["b"] == {"value": 0.5, "ci_low": None, "ci_high": None, "n": 30}


# ---- schema validation and the downstream classifier ---------------------------------------------


@pytest.fixture(scope="module")
def adult():
    from audit_reference_models.data.adult import load_adult_split

    return load_adult_split()


def test_coerce_table_names_what_is_wrong(adult):
    rows = adult.train.head(20)
    ok = downstream.coerce_table("m", rows.astype({"sex": str}), 20, adult.categories, adult.schema)
    assert list(ok.columns) == list(adult.train.columns) and ok["sex"].dtype == "category"
    with pytest.raises(ModelOutputError, match="lacks column.*income"):
        downstream.coerce_table("m", rows.drop(columns="income"), 20, adult.categories, adult.schema)
    with pytest.raises(ModelOutputError, match="'race'.*Martian"):
        downstream.coerce_table("m", rows.astype({"race": str}).assign(race="Martian"), 20, adult.categories, adult.schema)
    with pytest.raises(ModelOutputError, match="non-finite"):
        downstream.coerce_table("m", rows.assign(age=np.nan), 20, adult.categories, adult.schema)
    with pytest.raises(ModelOutputError, match="returned 20 rows"):
        downstream.coerce_table("m", rows, 21, adult.categories, adult.schema)
    with pytest.raises(ModelOutputError, match="DataFrame"):
        downstream.coerce_table("m", rows.to_numpy(), 20, adult.categories, adult.schema)


def test_single_label_training_data_gives_a_constant_classifier(adult):
    table = adult.train.head(50).copy()
    table["income"] = pd.Categorical(["<=50K"] * 50, categories=adult.categories["income"])
    model = downstream.fit_downstream(table, adult.categories, adult.schema)
    pred, score = downstream.predict(model, adult.test.head(7))
    assert isinstance(model, downstream.ConstantClassifier) and pred.tolist() == [0] * 7 and score.tolist() == [0.0] * 7


# ---- known answers with fake generators ------------------------------------------------------------


class FakeTabular:
    """A 'generator' that returns real training rows, optionally with women's >50K labels suppressed."""

    capabilities = frozenset({SAMPLE_TABLE})

    def __init__(self, frame: pd.DataFrame, name: str) -> None:
        self.frame = frame
        self.info = ModelInfo(name=name, family="tabular", params=0)
        self.calls = 0

    def sample_table(self, n: int, seed: int) -> pd.DataFrame:
        self.calls += 1
        if n == len(self.frame):
            return self.frame.copy()
        return self.frame.sample(n=n, replace=True, random_state=seed).reset_index(drop=True)


def _store() -> SampleStore:
    def unused() -> None:
        raise AssertionError("tabular checks must not touch the image evaluator")

    return SampleStore(unused, unused)


def _run(adapter: FakeTabular, store: SampleStore, tmp_path: Path, bootstrap: int = 60) -> dict[str, object]:
    from audit.checks import check_spec, load_check_modules

    load_check_modules()
    out = {}
    for check_id in (
        "fairness.tabular_demographic_parity", "fairness.tabular_demographic_parity_race", "fairness.tabular_equalized_odds",
        "fairness.tabular_equalized_odds_race", "fairness.tabular_bias_amplification", "fairness.tabular_bias_amplification_race",
        "fairness.tabular_utility",
    ):
        spec = check_spec(check_id)
        assert spec.families == ("tabular",) and spec.needs == frozenset({SAMPLE_TABLE})
        ctx = CheckContext(adapter, adapter.info.name, "fp32", 0, 512, bootstrap, store, tmp_path)
        out[check_id] = spec.fn(ctx)
    return out


@pytest.fixture(scope="module")
def measured(adult, tmp_path_factory):
    from audit_reference_models.tabular.train import suppress_label

    store = _store()
    tmp = tmp_path_factory.mktemp("tabular")
    copy = FakeTabular(adult.train, "copy")
    biased = FakeTabular(suppress_label(adult.train, "sex", "Female"), "biased")
    return store, copy, biased, _run(copy, store, tmp), _run(biased, store, tmp)


def test_a_copy_of_the_real_data_amplifies_nothing_and_loses_no_utility(measured):
    _, _, _, copy, _ = measured
    for check_id in ("fairness.tabular_bias_amplification", "fairness.tabular_bias_amplification_race", "fairness.tabular_utility"):
        m = copy[check_id]
        assert (m.value, m.ci_low, m.ci_high) == (0.0, 0.0, 0.0), check_id
    dp = copy["fairness.tabular_demographic_parity"]
    assert dp.value == pytest.approx(dp.details["real_trained_value"])


def test_the_synthetic_classifier_measures_match_pandas_on_its_predictions(measured, adult):
    store, _, _, copy, _ = measured
    pred = store._memo[("tabular.synthetic_classifier", ("copy", "fp32", 0, 512, len(adult.train)))]["pred"]
    expected = pandas_rates(downstream.label_of(adult.test, adult.schema), pred, adult.test["sex"].astype(str).to_numpy())
    dp = copy["fairness.tabular_demographic_parity"]
    assert dp.value == pytest.approx(expected["selection_rate"].max() - expected["selection_rate"].min())
    for group, row in dp.by_group["by_group"].items():
        assert row["value"] == pytest.approx(expected.loc[group, "selection_rate"]) and row["n"] == expected.loc[group, "count"]
        assert row["ci_low"] <= row["value"] <= row["ci_high"]
    eo = copy["fairness.tabular_equalized_odds"]
    tpr, fpr = expected["true_positive_rate"], expected["false_positive_rate"]
    assert eo.value == pytest.approx(max(tpr.max() - tpr.min(), fpr.max() - fpr.min()))
    assert dp.ci_low <= dp.value <= dp.ci_high and dp.n == len(adult.test) == 15060


def test_suppressed_labels_for_women_are_caught_as_amplification(measured):
    _, _, _, copy, biased = measured
    amp = biased["fairness.tabular_bias_amplification"]
    assert amp.ci_low > 0.03, (amp.value, amp.ci_low, amp.ci_high)
    female = amp.by_group["by_group"]["Female"]
    assert female["value"] < -0.03 and female["ci_high"] < 0  # women are selected less often than by the real-trained classifier
    assert biased["fairness.tabular_equalized_odds"].value > copy["fairness.tabular_equalized_odds"].value + 0.2
    print(f"suppressed-label amplification {amp.value:.4f} [{amp.ci_low:.4f}, {amp.ci_high:.4f}]")


def test_each_classifier_is_fitted_once_per_run(measured):
    store, copy, biased, _, _ = measured
    assert store.memo_calls["tabular.real_classifier"] == 1
    assert store.memo_calls["tabular.synthetic_classifier"] == 2  # one per model
    assert store.memo_calls["tabular.analysis"] == 4  # (model) x (sex, race)
    assert copy.calls == 1 and biased.calls == 1


def test_rows_parameter_sets_the_synthetic_sample_size(adult, tmp_path):
    from audit.checks import check_spec, load_check_modules

    load_check_modules()
    adapter = FakeTabular(adult.train, "copy")
    ctx = CheckContext(adapter, "copy", "fp32", 0, 512, 0, _store(), tmp_path)
    m = check_spec("fairness.tabular_utility").fn(ctx, rows=3000)
    assert m.details["synthetic_rows"] == 3000 and m.ci_low is None  # bootstrap=0: no interval
    with pytest.raises(ValueError, match="rows >= 2"):
        check_spec("fairness.tabular_utility").fn(ctx, rows=1)
