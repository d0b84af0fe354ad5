"""Privacy of synthetic tables: does a tabular generator release (near) copies of its training rows?

Protocol (per model, per run): sample `rows` rows (default: the suite's n) with `sample_table`,
checked against the data set's schema (`coerce_table`). Every row, the label included, is encoded
as the downstream classifier of the tabular fairness checks encodes its features (one-hot
categoricals over the training categories, numeric columns standardized on the real training
split: `audit.fairness.tabular.encode_rows`), and distances are Euclidean in that space, the
nearest record found by scikit-learn's `NearestNeighbors` (exact, brute force). The members are
the real UCI Adult training split (the bundled generators were fitted on it; for any other model
that is an assumption, stated in the details); the non-members are the held-out split.

- `privacy.tabular_dcr_ratio`: distance to closest record (DCR). The training rows are split
  (seeded) into folds as large as the held-out split (two for Adult: 15,081 vs 15,060 rows); per
  fold, the median over synthetic rows of the DCR to that fold over the median DCR to the
  held-out rows, averaged over folds. ~1: the synthetic rows are no closer to the data the
  generator saw than to unseen data of the same distribution; a generator that copies training
  rows drives its medians towards 0.
- `privacy.tabular_copy_rate`: share of synthetic rows that are copies of a training row: equal
  to one in every column, or closer to the closest training row than 99% of held-out rows are
  to theirs (the 1st percentile of the held-out rows' DCR to the whole training split, as
  `privacy.near_copy_rate` for images). ~0.01 for a generator that copies nothing; Wilson CI.
- `privacy.tabular_exact_copy_rate`: share of synthetic rows equal to a training row in every
  column (verbatim copies, as `privacy.exact_copy_rate` for images); Wilson CI. The census itself
  repeats some rows (19 of the 15,060 held-out rows equal a training row): that share is in the
  details as the base rate.
- `privacy.tabular_quasi_copy_rate`: share of synthetic rows equal to a training row in every
  column but at most one (exact equality, numbers included, on the raw values): a training
  person released with one value perturbed (an age shifted by a year) is still that person,
  although a shift in a widely spread column keeps it outside the distance threshold above.
  Its base rate, the same share for held-out rows (people the model never saw), is in the
  details; Wilson CI.

The real rows' encodings, folds and distances are computed once per run (shared by every
model); each model's distances and matches once per (model, precision, seed, rows), shared by every check.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from audit.adapters.base import SAMPLE_TABLE
from audit.checks.base import Measurement, check
from audit.context import CheckContext, finite_or_raise
from audit.datasets import load_dataset
from audit.fairness.tabular import DATASET, coerce_table, encode_rows
from audit.metrics.diversity import COPY_QUANTILE, copy_threshold, near_duplicate_rate
from audit.metrics.nearest_records import DCR_FLOOR, exact_row_matches, median_dcr_ratio, nearest_record_distances, quasi_row_matches
from audit.metrics.privacy import DCR_RATIO_CAP
from audit.stats import bootstrap_ci, measurement_ci, wilson_ci

FAMILY = ("tabular",)
ENCODING = "one-hot categoricals (label included) + numeric columns standardized on the real training split; Euclidean distance"
QUASI_DEFINITION = "equal to some training row in every column but at most one (exact equality on the raw values, numbers included)"
MEMBERS = "assumed: the real UCI Adult training split (what the bundled tabular generators were fitted on)"


def table_values(frame: Any, categories: dict[str, list[str]], schema: Any) -> np.ndarray:
    """[N, C] float64 raw values of a table, one column per schema column: category codes over the
    training categories (-1 for an unknown value), numbers as they are (the quasi-copy matrix)."""
    import pandas as pd

    return np.column_stack([
        pd.Categorical(frame[c].astype(str), categories=categories[c]).codes.astype(np.float64) if c in schema.categorical
        else pd.to_numeric(frame[c]).to_numpy(np.float64)
        for c in schema.columns
    ])


def _real(ctx: CheckContext) -> dict[str, Any]:
    """The real rows encoded, the seeded training folds and the held-out rows' DCR to the whole
    training split (computed once per run, whatever the model)."""
    data = load_dataset(DATASET)
    fold_seed = ctx.rng_seed("privacy.tabular.folds")

    def compute() -> dict[str, Any]:
        train, heldout = encode_rows(data.train, [data.train, data.test], data.categories, data.schema)
        raw_train, raw_heldout = (table_values(f, data.categories, data.schema) for f in (data.train, data.test))
        rng = np.random.default_rng(fold_seed)
        folds = np.array_split(rng.permutation(len(train)), max(1, len(train) // len(heldout)))
        return {
            "train": train, "heldout": heldout, "folds": folds,
            "heldout_nn": nearest_record_distances(heldout, train),
            "heldout_exact": int(exact_row_matches(heldout, train).sum()),
            "raw_train": raw_train, "heldout_quasi": quasi_row_matches(raw_heldout, raw_train),
            "data_sha256": data.sha256,
        }

    return ctx.store.memo("privacy.tabular_real", (DATASET, data.sha256, fold_seed), compute, shared=True)


def _distances(ctx: CheckContext, rows: int | None) -> dict[str, Any]:
    """Each synthetic row's DCR to every training fold and to the held-out split, and whether it
    equals a training row (memo per model, precision, seed and rows)."""
    rows = int(rows) if rows is not None else int(ctx.n)
    if rows < 2:
        raise ValueError(f"privacy.tabular checks need rows >= 2, got {rows}")

    def compute() -> dict[str, Any]:
        data = load_dataset(DATASET)
        table = coerce_table(ctx.model, ctx.adapter.sample_table(rows, ctx.seed), rows, data.categories, data.schema)
        real = _real(ctx)
        (x,) = encode_rows(data.train, [table], data.categories, data.schema)
        nn_folds = np.stack([nearest_record_distances(x, real["train"][fold]) for fold in real["folds"]], axis=1)
        return {
            "rows": rows, "nn_folds": nn_folds, "nn_train": nn_folds.min(axis=1),
            "nn_heldout": nearest_record_distances(x, real["heldout"]), "exact": exact_row_matches(x, real["train"]),
            "quasi": quasi_row_matches(table_values(table, data.categories, data.schema), real["raw_train"]),
        }

    return ctx.memo("privacy.tabular_distances", compute, rows)


def _common(real: dict[str, Any]) -> dict[str, Any]:
    return {
        "encoding": ENCODING, "member_source": MEMBERS, "training_rows": len(real["train"]),
        "heldout_rows": len(real["heldout"]), "data": "UCI Adult, official split cleaned of '?' rows", "data_sha256": real["data_sha256"],
    }


@check("privacy.tabular_dcr_ratio", families=FAMILY, needs=(SAMPLE_TABLE,), higher_is_better=True, unit="median DCR train / median DCR held-out")
def tabular_dcr_ratio(ctx: CheckContext, rows: int | None = None) -> Measurement:
    """Median distance of synthetic rows to the closest training row over that to the closest held-out row, equal-size sets (~1 = no copying; floored, capped at 10; bootstrap CI)."""
    d = _distances(ctx, rows)
    real = _real(ctx)
    table = np.column_stack([d["nn_folds"], d["nn_heldout"]])
    statistic = lambda t: median_dcr_ratio(t[:, :-1], t[:, -1])
    value = finite_or_raise("tabular DCR ratio", statistic(table))
    low, high = bootstrap_ci(statistic, [table], ctx.bootstrap, ctx.rng_seed("privacy.tabular_dcr_ratio"), method="percentile")
    per_fold = np.median(d["nn_folds"], axis=0)
    return Measurement(value, *measurement_ci(low, high, 0.0), n=d["rows"], details={
        **_common(real),
        "definition": "mean over training folds f of median_i d(row_i, fold f) / median_i d(row_i, held-out split); "
                      "d = distance to the closest record; the training split cut into seeded folds as large as the held-out split",
        "folds": [len(f) for f in real["folds"]],
        "median_dcr_per_fold": [float(v) for v in per_fold],
        "median_dcr_all_training": float(np.median(d["nn_train"])), "median_dcr_heldout": float(np.median(d["nn_heldout"])),
        "distance_floor": DCR_FLOOR, "ratio_cap": DCR_RATIO_CAP,
        "share_heldout_copies": float((d["nn_heldout"] <= DCR_FLOOR).mean()),
        "floor_note": "medians below the floor count as the floor (a copy) and each fold's ratio is capped: rows equal to "
                      "held-out rows score the cap, no evidence of copying training data",
        "reference_note": "each fold is as large as the held-out split, so a generator that copies nothing scores ~1; "
                          "one that copies training rows pulls the per-fold medians towards 0",
        "ci": "percentile bootstrap over synthetic rows",
    })


@check("privacy.tabular_copy_rate", families=FAMILY, needs=(SAMPLE_TABLE,), higher_is_better=False, unit="share of rows")
def tabular_copy_rate(ctx: CheckContext, rows: int | None = None, quantile: float = COPY_QUANTILE) -> Measurement:
    """Share of synthetic rows equal to a training row or closer to one than 99% of held-out rows are (~0.01 when fresh; Wilson CI)."""
    d = _distances(ctx, rows)
    real = _real(ctx)
    threshold = copy_threshold(real["heldout_nn"], float(quantile))
    near = (d["nn_train"] < threshold) | d["exact"]
    copies, exact, n = int(near.sum()), int(d["exact"].sum()), d["rows"]
    low, high = wilson_ci(copies, n)
    exact_low, exact_high = wilson_ci(exact, n)
    return Measurement(copies / n, low, high, n=n, details={
        **_common(real),
        "definition": f"share of synthetic rows equal to a training row in every column, or whose distance to the closest training row "
                      f"is below the {float(quantile):g} quantile of the held-out rows' distances to theirs",
        "threshold": threshold, "quantile": float(quantile),
        "exact_copies": exact, "exact_copy_rate": exact / n, "exact_copy_rate_ci": [exact_low, exact_high],
        "near_copies": int((d["nn_train"] < threshold).sum()),
        "heldout_rate_below_threshold": near_duplicate_rate(real["heldout_nn"], threshold),
        "heldout_exact_matches": real["heldout_exact"],
        "heldout_note": "held-out rows equal to a training row occur in the census itself (same answers, same weight); "
                        "their share is the floor of the exact-copy rate for a generator that copies nothing",
        "closest_distances": [float(v) for v in np.sort(d["nn_train"])[:10]],
        "ci": "Wilson interval of the share",
    })


@check("privacy.tabular_exact_copy_rate", families=FAMILY, needs=(SAMPLE_TABLE,), higher_is_better=False, unit="share of rows")
def tabular_exact_copy_rate(ctx: CheckContext, rows: int | None = None) -> Measurement:
    """Share of synthetic rows equal to a training row in every column (verbatim copies; Wilson CI)."""
    d = _distances(ctx, rows)
    real = _real(ctx)
    copies, n = int(d["exact"].sum()), d["rows"]
    return Measurement(copies / n, *wilson_ci(copies, n), n=n, details={
        **_common(real),
        "definition": "share of synthetic rows equal to some training row in every column (bit for bit in the encoding)",
        "exact_copies": copies,
        "heldout_exact_matches": real["heldout_exact"], "heldout_rate": real["heldout_exact"] / len(real["heldout"]),
        "heldout_note": "held-out rows equal to a training row occur in the census itself (same answers, same weight); "
                        "their share is what a generator drawing fresh people from the census would score",
        "ci": "Wilson interval of the share",
    })


@check("privacy.tabular_quasi_copy_rate", families=FAMILY, needs=(SAMPLE_TABLE,), higher_is_better=False, unit="share of rows")
def tabular_quasi_copy_rate(ctx: CheckContext, rows: int | None = None) -> Measurement:
    """Share of synthetic rows equal to a training row in all columns but at most one (a person with one value perturbed; Wilson CI)."""
    d = _distances(ctx, rows)
    real = _real(ctx)
    data = load_dataset(DATASET)
    quasi, heldout = d["quasi"], real["heldout_quasi"]
    copies, n = int(quasi.any(axis=1).sum()), d["rows"]
    base = int(heldout.any(axis=1).sum())
    return Measurement(copies / n, *wilson_ci(copies, n), n=n, details={
        **_common(real),
        "definition": f"share of synthetic rows {QUASI_DEFINITION}",
        "quasi_copies": copies, "exact_copies": int(quasi.all(axis=1).sum()),
        "quasi_copies_by_differing_column": {c: int(v) for c, v in zip(data.schema.columns, (quasi & ~quasi.all(axis=1, keepdims=True)).sum(axis=0))},
        "heldout_quasi_matches": base, "heldout_rate": base / len(heldout), "heldout_rate_ci": list(wilson_ci(base, len(heldout))),
        "heldout_quasi_matches_by_differing_column": {
            c: int(v) for c, v in zip(data.schema.columns, (heldout & ~heldout.all(axis=1, keepdims=True)).sum(axis=0))},
        "by_column_note": "a row equal to different training rows with different columns dropped counts under each",
        "heldout_note": "the held-out rate is what the census itself scores: held-out people sharing all but one answer with a "
                        "training person (mostly all but fnlwgt), so a generator drawing fresh people from the census scores about it",
        "ci": "Wilson interval of the share",
    })
