"""Fairness of synthetic tabular data: does a classifier trained on it treat groups like one
trained on the real data?

Protocol (per model, per run): sample `rows` rows (default: the size of the real training
split) with `sample_table`; fit the same downstream classifier (logistic regression on one-hot
categoricals and standardized numeric columns, every column but the label as a feature) once
on the synthetic rows and once on the real UCI Adult training split; score both on the real
held-out split. Group metrics (selection rate, true/false positive rate, accuracy by sex and
by race) come from fairlearn's `MetricFrame`. Confidence intervals: bootstrap over held-out
rows; the synthetic-trained and real-trained classifiers are judged on the *same* resampled
rows, so their differences (bias amplification, utility) are paired.

A synthetic sample whose classifier predicts one class on every held-out row (one label in the
sample, e.g. a collapsed generator) gets DP = EO = 0 and a negative amplification by
construction: the parity checks record that as an error with the reason, never as a pass.

Representation (`fairness.tabular_representation_tv[_race]`): the total variation distance
between the synthetic rows' shares of the sensitive groups and the real training shares
(bootstrap CI over synthetic rows), as `fairness.representation_tv` for image classes: a
generator that erases a group cannot pass on the parity of the groups it kept. TV of a small
group erased is only that group's share (Black: 0.093), so
`fairness.tabular_representation_ratio[_race]` reads each group on its own: the smallest
synthetic share / training share over the groups with at least 0.5% of the training rows, with
the image ratio's 0.5 pseudo-count per group (`audit.metrics.groups.min_representation_of`).

The classifiers are fitted once per run (`ctx.memo` / the store's memo) and one bootstrap
serves every check reading the same (model, attribute), so the whole family costs one
sampling, one or two fits and one bootstrap per model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from audit.adapters.base import SAMPLE_TABLE
from audit.checks.base import Measurement, check
from audit.context import CheckContext, finite_or_raise
from audit.datasets import load_dataset
from audit.errors import ModelOutputError
from audit.fairness.tabular import (
    CLASSIFIER, DATASET, ConstantClassifier, coerce_table, fit_downstream, frame_summary, label_of, metric_frame, predict,
)
from audit.metrics import bootstrap_count_chunks, group_frame
from audit.metrics.groups import MIN_GROUP_SHARE, PSEUDO_COUNT, class_counts, min_representation_of, representation, tv_of_predictions
from audit.stats import bias_adjusted_interval, bootstrap_ci, measurement_ci, wilson_ci

FAMILY = ("tabular",)
SALT = "fairness.tabular"
SENSITIVE = ("sex", "race")
"""The sensitive attributes the checks break results down by."""
VACUOUS = "the classifier trained on the synthetic rows predicts one class: its parity is vacuous, not fair"
BOOTSTRAP_CHUNK = 100


# ---- group metrics ---------------------------------------------------------------------------


def weighted_group_rates(weights: np.ndarray, y: np.ndarray, pred: np.ndarray, groups: np.ndarray, n_groups: int) -> dict[str, np.ndarray]:
    """Per-group rates under row weights [B, N] (bootstrap counts; ones = the plain estimate):
    selection rate, TPR, FPR, accuracy as [B, G], and overall accuracy as [B]."""
    onehot = np.eye(n_groups)[groups]
    cols = np.concatenate([
        onehot, onehot * pred[:, None], onehot * y[:, None], onehot * (y * pred)[:, None],
        onehot * ((1 - y) * pred)[:, None], onehot * (pred == y)[:, None],
    ], axis=1)
    sums = weights @ cols
    n, sel, pos, tp, fp, correct = (sums[:, i * n_groups : (i + 1) * n_groups] for i in range(6))
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "count": n, "selection_rate": sel / n, "true_positive_rate": tp / pos, "false_positive_rate": fp / (n - pos),
            "accuracy": correct / n, "overall_accuracy": correct.sum(1) / n.sum(1),
        }


def disparities(rates: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Between-group differences (max - min over groups) per row of weights."""
    spread = {k: np.nanmax(rates[k], axis=1) - np.nanmin(rates[k], axis=1) for k in ("selection_rate", "true_positive_rate", "false_positive_rate")}
    return {
        "demographic_parity_difference": spread["selection_rate"],
        "tpr_difference": spread["true_positive_rate"],
        "fpr_difference": spread["false_positive_rate"],
        "equalized_odds_difference": np.maximum(spread["true_positive_rate"], spread["false_positive_rate"]),
    }


def paired_bootstrap(
    y: np.ndarray, preds: dict[str, np.ndarray], groups: np.ndarray, n_groups: int, resamples: int, seed: int,
) -> dict[str, dict[str, np.ndarray]]:
    """Bootstrap distributions of every rate and disparity for each classifier in `preds`, all
    on the same resampled held-out rows (so differences between classifiers are paired)."""
    out: dict[str, dict[str, list[np.ndarray]]] = {name: {} for name in preds}
    for w in bootstrap_count_chunks(len(y), resamples, seed, BOOTSTRAP_CHUNK):
        for name, pred in preds.items():
            rates = weighted_group_rates(w, y, pred, groups, n_groups)
            for key, value in {**rates, **disparities(rates)}.items():
                out[name].setdefault(key, []).append(value)
    return {name: {k: np.concatenate(v) for k, v in d.items()} for name, d in out.items()}


def interval(estimate: float, values: np.ndarray | None) -> tuple[float | None, float | None]:
    if values is None or len(values) == 0:
        return None, None
    low, high = bias_adjusted_interval(estimate, values)
    return (low, high) if np.isfinite(low) and np.isfinite(high) else (None, None)


def _by_group(groups: list[str], values: np.ndarray, counts: np.ndarray, boot: np.ndarray | None, overall: float) -> dict[str, Any]:
    """`group_frame` of per-group values, each with its bootstrap CI from a column of `boot` [B, G]."""
    cis = [interval(float(v), None if boot is None else boot[:, i]) for i, v in enumerate(values)]
    return group_frame(groups, values, [ci[0] for ci in cis], [ci[1] for ci in cis], overall, counts=counts)


# ---- the shared, memoized analysis -------------------------------------------------------------


def _real_classifier(ctx: CheckContext) -> dict[str, Any]:
    """Fitted once per run, whatever the models: the reference classifier on real training rows."""

    def compute() -> dict[str, Any]:
        data = load_dataset(DATASET)
        model = fit_downstream(data.train, data.categories, data.schema)
        pred, score = predict(model, data.test)
        return {"pred": pred, "score": score, "train_rows": len(data.train), "data_sha256": data.sha256}

    return ctx.store.memo("tabular.real_classifier", ("adult",), compute, shared=True)


def _synthetic_classifier(ctx: CheckContext, rows: int) -> dict[str, Any]:
    """Sampled and fitted once per (model, precision, seed, rows); the sample's group of each row
    (codes over the training categories of each sensitive attribute) is kept for the
    representation checks, so they read the same rows without sampling again."""

    def compute() -> dict[str, Any]:
        data = load_dataset(DATASET)
        table = coerce_table(ctx.model, ctx.adapter.sample_table(rows, ctx.seed), rows, data.categories, data.schema)
        model = fit_downstream(table, data.categories, data.schema)
        pred, score = predict(model, data.test)
        y = label_of(table, data.schema)
        return {
            "pred": pred, "score": score, "rows": rows, "positive_rate": float(y.mean()),
            "positive_rate_by_sex": {str(k): float(v) for k, v in table.assign(_y=y).groupby("sex", observed=True)["_y"].mean().items()},
            "single_label": isinstance(model, ConstantClassifier),
            "single_prediction": bool(np.unique(pred).size < 2),
            "first_predicted_label": data.schema.positive if pred[0] == 1 else next(c for c in data.categories[data.schema.label] if c != data.schema.positive),
            "group_codes": {a: table[a].cat.codes.to_numpy() for a in SENSITIVE},
        }

    return ctx.memo("tabular.synthetic_classifier", compute, rows)


def _rows(rows: int | None) -> int:
    """The synthetic sample size: `rows`, by default as many as the real training split."""
    rows = int(rows) if rows is not None else len(load_dataset(DATASET).train)
    if rows < 2:
        raise ValueError(f"fairness.tabular checks need rows >= 2, got {rows}")
    return rows


def analysis(ctx: CheckContext, attribute: str, rows: int | None) -> dict[str, Any]:
    """Everything the tabular fairness checks report for one sensitive attribute (memoized)."""
    data = load_dataset(DATASET)
    rows = _rows(rows)

    def compute() -> dict[str, Any]:
        real = _real_classifier(ctx)
        synthetic = _synthetic_classifier(ctx, rows)
        y = label_of(data.test, data.schema)
        sensitive = data.test[attribute]
        groups = [str(g) for g in sensitive.cat.categories]
        codes = sensitive.cat.codes.to_numpy()
        preds = {"synthetic": synthetic["pred"], "real": real["pred"]}
        frames = {k: metric_frame(y, p, sensitive.astype(str)) for k, p in preds.items()}
        summary = {k: frame_summary(mf) for k, mf in frames.items()}
        boot = paired_bootstrap(y, preds, codes, len(groups), ctx.bootstrap, ctx.rng_seed(f"{SALT}.{attribute}")) if ctx.bootstrap > 0 else None
        base_rates = data.test.assign(_y=y).groupby(attribute, observed=False)["_y"].mean()
        return {
            "attribute": attribute, "groups": groups, "y": y, "frames": frames, "summary": summary, "boot": boot,
            "real": real, "synthetic": synthetic, "rows": rows, "heldout_rows": len(y),
            "label_base_rate_difference": float(base_rates.max() - base_rates.min()),
            "label": f"{data.schema.label} {data.schema.positive}",
        }

    return ctx.memo("tabular.analysis", compute, rows, attribute, ctx.bootstrap)


def _stat(a: dict[str, Any], who: str, key: str) -> tuple[float, np.ndarray | None]:
    value = a["summary"][who][key]
    return value, None if a["boot"] is None else a["boot"][who][key]


def _frame(a: dict[str, Any], who: str, metric: str) -> dict[str, Any]:
    mf = a["frames"][who]
    values = mf.by_group[metric].reindex(a["groups"]).to_numpy(np.float64)
    counts = mf.by_group["count"].reindex(a["groups"]).to_numpy()
    boot = None if a["boot"] is None else a["boot"][who][metric]
    return _by_group(a["groups"], values, counts, boot, float(mf.overall[metric]))


def _common(a: dict[str, Any]) -> dict[str, Any]:
    return {
        "sensitive_feature": a["attribute"],
        "synthetic_rows": a["rows"],
        "heldout_rows": a["heldout_rows"],
        "real_training_rows": a["real"]["train_rows"],
        "downstream_classifier": CLASSIFIER,
        "synthetic_positive_rate": a["synthetic"]["positive_rate"],
        "synthetic_positive_rate_by_sex": a["synthetic"]["positive_rate_by_sex"],
        "synthetic_single_label": a["synthetic"]["single_label"],
        "heldout_label_base_rate_difference": a["label_base_rate_difference"],
        "data": "UCI Adult, official split cleaned of '?' rows",
        "data_sha256": a["real"]["data_sha256"],
        "ci": "bootstrap over held-out rows (bias-adjusted percentile), paired across the two classifiers; it does not "
              "cover the randomness of the synthetic sample or of refitting the classifier (refits on bootstrap replicates "
              "of the real training rows move DP by about +-0.008 and EO by about +-0.04)",
    }


def _measure(a: dict[str, Any], key: str, details: dict[str, Any], by_group: dict[str, Any]) -> Measurement:
    value, boot = _stat(a, "synthetic", key)
    low, high = interval(value, boot)
    return Measurement(finite_or_raise(key, value), low, high, n=a["heldout_rows"], by_group=by_group, details={**_common(a), **details})


def _parity_analysis(ctx: CheckContext, attribute: str, rows: int | None) -> dict[str, Any]:
    """`analysis` for the parity checks, refused (an error record, never a pass) when the
    synthetic-trained classifier predicts one class on every held-out row: every group then gets
    the same selection, true- and false-positive rates, so DP = EO = 0 and the amplification is
    minus the real gap, which says nothing about fairness (a collapsed sample, one label)."""
    a = analysis(ctx, attribute, rows)
    synthetic = a["synthetic"]
    if synthetic["single_label"] or synthetic["single_prediction"]:
        label = synthetic["first_predicted_label"]
        why = f"every synthetic row is labelled '{label}'" if synthetic["single_label"] else f"it predicts '{label}' for all {a['heldout_rows']} held-out rows"
        raise ModelOutputError(f"{VACUOUS} ({why})")
    return a


def _demographic_parity(ctx: CheckContext, attribute: str, rows: int | None) -> Measurement:
    a = _parity_analysis(ctx, attribute, rows)
    real, real_boot = _stat(a, "real", "demographic_parity_difference")
    real_low, real_high = interval(real, real_boot)
    details = {
        "metric": "max - min over groups of the selection rate (share predicted >50K) of the synthetic-trained classifier",
        "real_trained_value": real, "real_trained_ci": [real_low, real_high],
        "real_trained_by_group": _frame(a, "real", "selection_rate"),
    }
    return _measure(a, "demographic_parity_difference", details, _frame(a, "synthetic", "selection_rate"))


def _equalized_odds(ctx: CheckContext, attribute: str, rows: int | None) -> Measurement:
    a = _parity_analysis(ctx, attribute, rows)
    real, real_boot = _stat(a, "real", "equalized_odds_difference")
    real_low, real_high = interval(real, real_boot)
    details = {
        "metric": "max(TPR difference, FPR difference) between groups of the synthetic-trained classifier (fairlearn's worst case)",
        "tpr_difference": a["summary"]["synthetic"]["tpr_difference"],
        "fpr_difference": a["summary"]["synthetic"]["fpr_difference"],
        "false_positive_rate_by_group": _frame(a, "synthetic", "false_positive_rate"),
        "by_group_metric": "true_positive_rate",
        "real_trained_value": real, "real_trained_ci": [real_low, real_high],
    }
    return _measure(a, "equalized_odds_difference", details, _frame(a, "synthetic", "true_positive_rate"))


def _bias_amplification(ctx: CheckContext, attribute: str, rows: int | None) -> Measurement:
    a = _parity_analysis(ctx, attribute, rows)
    syn = a["summary"]["synthetic"]
    real = a["summary"]["real"]
    value = syn["demographic_parity_difference"] - real["demographic_parity_difference"]
    eo_value = syn["equalized_odds_difference"] - real["equalized_odds_difference"]
    boot = a["boot"]
    low = high = eo_low = eo_high = None
    delta_boot = None
    if boot is not None:
        low, high = interval(value, boot["synthetic"]["demographic_parity_difference"] - boot["real"]["demographic_parity_difference"])
        eo_low, eo_high = interval(eo_value, boot["synthetic"]["equalized_odds_difference"] - boot["real"]["equalized_odds_difference"])
        delta_boot = boot["synthetic"]["selection_rate"] - boot["real"]["selection_rate"]
    sel_syn = a["frames"]["synthetic"].by_group["selection_rate"].reindex(a["groups"]).to_numpy(np.float64)
    sel_real = a["frames"]["real"].by_group["selection_rate"].reindex(a["groups"]).to_numpy(np.float64)
    counts = a["frames"]["real"].by_group["count"].reindex(a["groups"]).to_numpy()
    overall = float(a["frames"]["synthetic"].overall["selection_rate"] - a["frames"]["real"].overall["selection_rate"])
    by_group = _by_group(a["groups"], sel_syn - sel_real, counts, delta_boot, overall)
    details = {
        "metric": "demographic parity difference of the synthetic-trained classifier minus that of the real-trained one "
                  "(positive: training on the synthetic data widens the gap in selection rates)",
        "synthetic_dp_difference": syn["demographic_parity_difference"],
        "real_dp_difference": real["demographic_parity_difference"],
        "equalized_odds_amplification": eo_value, "equalized_odds_amplification_ci": [eo_low, eo_high],
        "by_group_metric": "selection rate of the synthetic-trained minus the real-trained classifier",
    }
    return Measurement(finite_or_raise("bias amplification", value), low, high, n=a["heldout_rows"], by_group=by_group, details={**_common(a), **details})


# ---- the checks ------------------------------------------------------------------------------


@check("fairness.tabular_demographic_parity", families=FAMILY, needs=(SAMPLE_TABLE,), higher_is_better=False, unit="difference")
def tabular_demographic_parity(ctx: CheckContext, rows: int | None = None) -> Measurement:
    """Demographic parity difference by sex of a classifier trained on the model's synthetic rows (UCI Adult)."""
    return _demographic_parity(ctx, "sex", rows)


@check("fairness.tabular_demographic_parity_race", families=FAMILY, needs=(SAMPLE_TABLE,), higher_is_better=False, unit="difference")
def tabular_demographic_parity_race(ctx: CheckContext, rows: int | None = None) -> Measurement:
    """Demographic parity difference by race (5 groups) of a classifier trained on the model's synthetic rows."""
    return _demographic_parity(ctx, "race", rows)


@check("fairness.tabular_equalized_odds", families=FAMILY, needs=(SAMPLE_TABLE,), higher_is_better=False, unit="difference")
def tabular_equalized_odds(ctx: CheckContext, rows: int | None = None) -> Measurement:
    """Equalized odds difference by sex (worst of TPR and FPR gaps) of a classifier trained on synthetic rows."""
    return _equalized_odds(ctx, "sex", rows)


@check("fairness.tabular_equalized_odds_race", families=FAMILY, needs=(SAMPLE_TABLE,), higher_is_better=False, unit="difference")
def tabular_equalized_odds_race(ctx: CheckContext, rows: int | None = None) -> Measurement:
    """Equalized odds difference by race of a classifier trained on synthetic rows."""
    return _equalized_odds(ctx, "race", rows)


@check("fairness.tabular_bias_amplification", families=FAMILY, needs=(SAMPLE_TABLE,), higher_is_better=False, unit="difference")
def tabular_bias_amplification(ctx: CheckContext, rows: int | None = None) -> Measurement:
    """Demographic parity difference by sex, synthetic-trained minus real-trained classifier (paired CI; > 0 amplifies)."""
    return _bias_amplification(ctx, "sex", rows)


@check("fairness.tabular_bias_amplification_race", families=FAMILY, needs=(SAMPLE_TABLE,), higher_is_better=False, unit="difference")
def tabular_bias_amplification_race(ctx: CheckContext, rows: int | None = None) -> Measurement:
    """Demographic parity difference by race, synthetic-trained minus real-trained classifier (paired CI)."""
    return _bias_amplification(ctx, "race", rows)


@check("fairness.tabular_utility", families=FAMILY, needs=(SAMPLE_TABLE,), higher_is_better=True, unit="accuracy difference")
def tabular_utility(ctx: CheckContext, rows: int | None = None) -> Measurement:
    """Held-out accuracy of the synthetic-trained classifier minus the real-trained one's (paired CI; 0 = as useful as real)."""
    from sklearn.metrics import roc_auc_score

    a = analysis(ctx, "sex", rows)
    syn, real = a["summary"]["synthetic"]["accuracy"], a["summary"]["real"]["accuracy"]
    value = syn - real
    low = high = None
    if a["boot"] is not None:
        low, high = interval(value, a["boot"]["synthetic"]["overall_accuracy"] - a["boot"]["real"]["overall_accuracy"])
    y = a["y"]
    majority = float(max(y.mean(), 1 - y.mean()))
    syn_low, syn_high = wilson_ci(int(round(syn * len(y))), len(y))
    scores = {"synthetic": a["synthetic"]["score"], "real": a["real"]["score"]}
    auc = {k: float(roc_auc_score(y, s)) if np.ptp(s) > 0 else 0.5 for k, s in scores.items()}
    details = {
        "metric": "accuracy on real held-out rows: classifier trained on synthetic rows minus the same classifier trained on real rows",
        "synthetic_trained_accuracy": syn, "synthetic_trained_accuracy_ci": [syn_low, syn_high],
        "real_trained_accuracy": real, "majority_class_accuracy": majority,
        "relative_utility": (syn - majority) / (real - majority) if real > majority else float("nan"),
        "relative_utility_note": "(synthetic - majority baseline) / (real - majority baseline): 1 = as useful as the real data, 0 = no better than always predicting <=50K",
        "synthetic_trained_auc": auc["synthetic"], "real_trained_auc": auc["real"],
        "by_group_metric": "accuracy of the synthetic-trained classifier",
    }
    return Measurement(finite_or_raise("utility", value), low, high, n=a["heldout_rows"], by_group=_frame(a, "synthetic", "accuracy"), details={**_common(a), **details})


# ---- representation of the sensitive groups in the synthetic rows ----------------------------------


def _representation_inputs(ctx: CheckContext, attribute: str, rows: int | None) -> tuple[np.ndarray, list[str], np.ndarray, int]:
    """(the synthetic rows' group codes, the group names, the real training shares, rows)."""
    data = load_dataset(DATASET)
    rows = _rows(rows)
    codes = _synthetic_classifier(ctx, rows)["group_codes"][attribute]
    groups = [str(g) for g in data.categories[attribute]]
    training = class_counts(data.train[attribute].cat.codes.to_numpy(), len(groups))
    return codes, groups, training / training.sum(), rows


def _representation_details(attribute: str, codes: np.ndarray, groups: list[str], reference: np.ndarray, rows: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """(by_group: each group's synthetic share / training share with a Wilson CI, the details every
    representation check shares: missing groups and the table of shares)."""
    data = load_dataset(DATASET)
    counts = class_counts(codes, len(groups))
    shares = counts / rows
    cis = [wilson_ci(int(c), rows) for c in counts]
    by_group = group_frame(groups, shares / reference, [lo / r for (lo, _), r in zip(cis, reference)], [hi / r for (_, hi), r in zip(cis, reference)],
                           1.0, counts=counts)
    return by_group, {
        "sensitive_feature": attribute, "synthetic_rows": rows, "real_training_rows": len(data.train),
        "by_group_metric": "representation: synthetic share / training share (1 = in proportion; CI: Wilson on the share)",
        "missing_groups": [g for g, c in zip(groups, counts) if c == 0],
        "tables": [{
            "title": f"Synthetic vs training {attribute} shares",
            "columns": [attribute, "synthetic count", "synthetic share", "training share"],
            "rows": [[g, int(c), round(float(sh), 4), round(float(r), 4)] for g, c, sh, r in zip(groups, counts, shares, reference)],
        }],
        "data": "UCI Adult, official split cleaned of '?' rows",
    }


def _representation_tv(ctx: CheckContext, attribute: str, rows: int | None) -> Measurement:
    """TV between the synthetic rows' shares of `attribute`'s groups and the real training shares."""
    codes, groups, reference, rows = _representation_inputs(ctx, attribute, rows)
    value = finite_or_raise("representation TV", tv_of_predictions(codes, reference))
    low, high = bootstrap_ci(lambda c: tv_of_predictions(c, reference), [codes], ctx.bootstrap, ctx.rng_seed(f"{SALT}.representation.{attribute}"))
    by_group, details = _representation_details(attribute, codes, groups, reference, rows)
    return Measurement(value, *measurement_ci(low, high, 0.0), n=rows, by_group=by_group, details={
        "metric": f"total variation distance: 0.5 * sum over {attribute} groups of |synthetic share - real training share| "
                  "(the share of synthetic rows that would have to change group to match the training proportions)",
        **details,
        "noise_floor_tv": float(0.5 * np.sum(np.sqrt(2 * reference * (1 - reference) / (np.pi * rows)))),
        "noise_floor_note": "expected plug-in TV of a perfectly proportional generator at this n (multinomial noise)",
        "ci": "bootstrap over synthetic rows, bias-adjusted, clipped at 0 (TV is non-negative)",
    })


def _representation_ratio(ctx: CheckContext, attribute: str, rows: int | None) -> Measurement:
    """The least-represented group's synthetic share over its training share (0 = erased)."""
    codes, groups, reference, rows = _representation_inputs(ctx, attribute, rows)
    value = finite_or_raise("representation ratio", min_representation_of(codes, reference))
    low, high = bootstrap_ci(lambda c: min_representation_of(c, reference), [codes], ctx.bootstrap, ctx.rng_seed(f"{SALT}.representation_ratio.{attribute}"))
    by_group, details = _representation_details(attribute, codes, groups, reference, rows)
    judged = [g for g, r in zip(groups, reference) if r >= MIN_GROUP_SHARE]
    ratios = representation(class_counts(codes, len(groups)), reference, PSEUDO_COUNT)
    return Measurement(value, *measurement_ci(low, high, 0.0), n=rows, by_group=by_group, details={
        "metric": f"min over {attribute} groups with a training share >= {MIN_GROUP_SHARE:g} of (synthetic share / training share), "
                  f"{PSEUDO_COUNT:g} pseudo-count per group (1 = in proportion, 0 = erased)",
        **details,
        "judged_groups": judged, "least_represented_group": judged[int(np.argmin(ratios[reference >= MIN_GROUP_SHARE]))],
        "pseudo_count": PSEUDO_COUNT, "min_training_share": MIN_GROUP_SHARE,
        "ci": "bootstrap over synthetic rows, bias-adjusted, clipped at 0",
    })


@check("fairness.tabular_representation_tv", families=FAMILY, needs=(SAMPLE_TABLE,), higher_is_better=False, unit="total variation")
def tabular_representation_tv(ctx: CheckContext, rows: int | None = None) -> Measurement:
    """Total variation between the synthetic rows' sex shares and the real training shares (bootstrap CI; a group erased scores its training share)."""
    return _representation_tv(ctx, "sex", rows)


@check("fairness.tabular_representation_tv_race", families=FAMILY, needs=(SAMPLE_TABLE,), higher_is_better=False, unit="total variation")
def tabular_representation_tv_race(ctx: CheckContext, rows: int | None = None) -> Measurement:
    """Total variation between the synthetic rows' race shares and the real training shares (bootstrap CI)."""
    return _representation_tv(ctx, "race", rows)


@check("fairness.tabular_representation_ratio", families=FAMILY, needs=(SAMPLE_TABLE,), higher_is_better=True, unit="share / training share")
def tabular_representation_ratio(ctx: CheckContext, rows: int | None = None) -> Measurement:
    """The least-represented sex's synthetic share over its training share (0 = a group erased; bootstrap CI)."""
    return _representation_ratio(ctx, "sex", rows)


@check("fairness.tabular_representation_ratio_race", families=FAMILY, needs=(SAMPLE_TABLE,), higher_is_better=True, unit="share / training share")
def tabular_representation_ratio_race(ctx: CheckContext, rows: int | None = None) -> Measurement:
    """The least-represented race's synthetic share over its training share, groups >= 0.5% of training rows (0 = erased)."""
    return _representation_ratio(ctx, "race", rows)
