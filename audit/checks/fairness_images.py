"""Fairness checks for image generators: group representation and quality parity across groups.

Groups are the evaluator's classes (for the bundled digits models: the ten digits), or, with
`attributes=`, the labels the user's attribute classifier (audit.attributes) gives each image:
generated images and the reference training images alike (the reference's labels are classified
batch by batch, once per run), any generator, conditional or not; `by_group` keys are the labels.
Without attributes=, grouping by class needs an evaluator with classes and labelled reference
data: otherwise the checks are skipped with what to give. A generated label no reference image
has is the group "(not in reference)" (training share 0: it counts in TV and chi-square, not in
the ratio). Per-group quality by attribute leaves out groups with too few samples or reference
images (listed in details["groups_left_out"]) and is skipped when fewer than two remain: the
representation checks measure that imbalance. Two questions:

Representation -- used without asking for a class, does the model generate each group in the
proportion of its training data? The model samples unconditionally (`sample(n, seed,
labels=None)`: a class-conditional model draws classes from its own class prior, e.g. the bundled
GAN's training label frequencies, the bundled DDPM a balanced label cycle; an unconditional model
such as the VAE samples its prior, which is all it can do), the evaluator classifies every
sample, and the class shares are compared with the training labels' shares
(`ctx.reference.train_y`). The unconditional set is generated and classified once per run
(`ctx.memo`) and read by the three representation checks. An unconditional model's conditional
sample set is the same call (the store samples it with `labels=None`), so when the sizes agree the
VAE's shared samples are reused rather than drawn twice.

  fairness.representation_tv     total variation distance between generated and training class
                                 shares, 0.5 * sum |q_g - p_g|: the share of generated images that
                                 would have to change group to match the training proportions.
                                 Bootstrap CI over samples (clipped at 0). The gated effect size.
  fairness.representation_ratio  max / min over groups of the representation q_g / p_g (1 = in
                                 proportion); each group gets a +0.5 pseudo-count (Jeffreys) so a
                                 group the model never generates gives a large finite ratio, not
                                 infinity. Bootstrap CI on the log scale.
  fairness.representation_chi2   chi-square goodness-of-fit p-value of the generated class counts
                                 against the training proportions (scipy.stats.chisquare). Reported,
                                 not gated: with n large any deviation, however small, is
                                 significant, and the evaluator's own errors are one; gate the
                                 effect size (TV) instead. Cohen's w = sqrt(chi2 / n) is in details.

The plug-in TV of a perfectly proportional generator is not 0 but about 1.2 / sqrt(n) for ten
equal groups (multinomial noise): ~0.05 at n = 512. A bound can only be resolved by a sample
whose noise floor and CI sit well below it; `min_n` (suite default 512) sets the least number of
unconditional samples whatever the suite's n.

Quality parity -- is every group generated equally well? On the run's shared samples, grouped by
the class each was generated for (class-conditional models, balanced labels) or by attribute
label, per group c (the formulas below say "class"):

  fairness.quality_parity_fid        FID of the samples generated for c against the real training
                                     images of c; value = worst / best class FID (FID's scale depends
                                     on the evaluator's feature space, the ratio does not). With
                                     n / 10 samples per class FID is biased upwards and noisy; the
                                     per-class real-data floor (held-out vs training images of c)
                                     is reported beside it.
  fairness.quality_parity_precision  improved precision (Kynkäänniemi et al., 2019; k = 5): share of
                                     the samples of c inside the k-NN balls of the real images of c;
                                     value = best - worst class (a difference of proportions).
  fairness.quality_parity_accuracy   share of the samples of c the evaluator classifies as c;
                                     value = best - worst class.

Point estimates by group come from fairlearn's `MetricFrame` (groups with no samples, which
MetricFrame drops, are put back with share 0). Headline CIs: bootstrap resampling each class's
samples within the class (the conditional design fixes the class sizes), bias-adjusted as in
audit.stats; per-class CIs: Wilson for proportions, the same bootstrap for FID.
`Measurement.by_group` is `audit.metrics.group_frame`'s MetricFrame shape {overall, by_group: {class:
{value, ci_low, ci_high, n}}, group_min, group_max, difference, ratio} (ratio = min / max, fairlearn's convention).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from audit.adapters.base import CONDITIONAL, SAMPLE
from audit.adapters.images import owned_images, validate_images
from audit.checks.base import Measurement, check
from audit.context import CheckContext, finite_or_raise
from audit.metrics import group_frame
from audit.metrics.groups import PSEUDO_COUNT, class_counts, representation, tv_of_predictions
from audit.stats import bias_adjusted_interval, bootstrap_ci, measurement_ci, wilson_ci

PRECISION_K = 5
"""k of the k-NN balls of improved precision (the authors' default)."""
MIN_REPRESENTATION_N = 512


# --- Pure maths (tested against direct numpy/pandas/scipy computations) ---------------------------


def representation_ratio_of(predictions: np.ndarray, reference: np.ndarray, pseudo: float = PSEUDO_COUNT) -> float:
    """max / min over groups of the (pseudo-counted) representation (groups the reference has)."""
    reference = np.asarray(reference, np.float64)
    keep = reference > 0
    counts = class_counts(predictions, len(reference))[keep]
    r = representation(counts, reference[keep] / reference[keep].sum(), pseudo)
    return float(r.max() / r.min())


def chi_square(counts: np.ndarray, reference: np.ndarray) -> tuple[float, float, int]:
    """(statistic, p-value, degrees of freedom) of scipy's goodness-of-fit test of `counts`
    against `reference` proportions (groups with reference share 0 are left out)."""
    from scipy.stats import chisquare

    counts = np.asarray(counts, np.float64)
    keep = np.asarray(reference) > 0
    expected = np.asarray(reference, np.float64)[keep] * counts.sum()
    result = chisquare(counts[keep], f_exp=expected)
    return float(result.statistic), float(result.pvalue), int(keep.sum() - 1)


def knn_radii(features: np.ndarray, k: int) -> np.ndarray:
    """Distance from each row to its k-th nearest other row (scikit-learn NearestNeighbors)."""
    from sklearn.neighbors import NearestNeighbors

    if not 1 <= k < len(features):
        raise ValueError(f"k-NN radii need 1 <= k < number of rows, got k={k} with {len(features)} rows")
    distances, _ = NearestNeighbors(n_neighbors=k + 1).fit(features).kneighbors(features)
    return distances[:, k]  # column 0 is the row itself


def inside_manifold(fake: np.ndarray, real: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Per fake row: does it lie strictly inside some real row's ball (improved precision's test)?"""
    from scipy.spatial.distance import cdist

    return (cdist(np.asarray(fake, np.float64), np.asarray(real, np.float64)) < radii[None, :]).any(axis=1)


@dataclass
class RealStats:
    """Gaussian statistics of one real feature set, with the PSD square root of its covariance
    cached, so the FID of many small fake sets against it costs one small SVD each."""

    mean: np.ndarray
    trace: float
    root: np.ndarray

    @classmethod
    def of(cls, features: np.ndarray) -> "RealStats":
        from audit.metrics import feature_stats

        mu, sigma = feature_stats(features)
        w, v = np.linalg.eigh((sigma + sigma.T) / 2)
        w = np.where(w > len(w) * np.finfo(np.float64).eps * max(float(np.abs(w).max()), 1e-300), w, 0.0)
        return cls(mu, float(np.trace(sigma)), (v * np.sqrt(w)) @ v.T)

    def fid(self, fake: np.ndarray) -> float:
        """FID of `fake` [N >= 2, D] against these statistics, in float64.

        tr sqrt(R S_f R) with R = sqrt(S_r) and S_f = X^T X / (N - 1) (X the centred fake rows)
        equals the sum of singular values of X R / sqrt(N - 1): an N x D SVD instead of D x D
        eigendecompositions (N is ~25-50 per class here, D = 64)."""
        x = np.asarray(fake, np.float64)
        if x.ndim != 2 or len(x) < 2:
            raise ValueError(f"FID needs at least 2 feature rows, got shape {x.shape}")
        mu = x.mean(axis=0)
        centred = (x - mu) / np.sqrt(len(x) - 1)
        singular = np.linalg.svd(centred @ self.root, compute_uv=False)
        diff = mu - self.mean
        return float(diff @ diff + (centred * centred).sum() + self.trace - 2 * singular.sum())


def class_bootstrap(
    per_class: Callable[[int, np.ndarray], float], groups: Sequence[np.ndarray], resamples: int, seed: int
) -> np.ndarray:
    """[resamples, groups] values of `per_class(g, rows)` on bootstrap draws that resample each
    group's rows within the group -- the draws `audit.stats.bootstrap_distribution` makes when
    handed the groups as separate sample sets."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(seed)
    out = np.empty((resamples, len(groups)))
    with threadpool_limits(limits=1, user_api="blas"):
        for b in range(resamples):
            for g, rows in enumerate(groups):
                out[b, g] = per_class(g, rows[rng.integers(0, len(rows), len(rows))])
    return out


def metric_frame(metric: Callable[..., float], y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray, **sample_params: np.ndarray) -> Any:
    """fairlearn MetricFrame of one metric by class."""
    import pandas as pd
    from fairlearn.metrics import MetricFrame

    return MetricFrame(
        metrics=metric, y_true=y_true, y_pred=y_pred,
        sensitive_features=pd.Series(np.asarray(groups), name="class"),
        sample_params=sample_params or None,
    )


def representation_frame(predictions: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, Any]:
    """Representation q_g / p_g of every group through MetricFrame (its metric on a group's rows:
    their share of all rows over the group's reference share), reindexed over all groups: a group
    with no rows (dropped by MetricFrame) has representation 0. Returns (values [K], the frame);
    the frame's `overall` is not used (all rows together are in proportion by definition: 1)."""
    predictions = np.asarray(predictions, np.int64)
    total = len(predictions)
    reference = np.asarray(reference, np.float64)

    def share_over_reference(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return len(y_true) / total / float(reference[np.unique(y_true)].sum())

    known = reference[predictions] > 0  # a group the reference lacks has no representation (it counts in TV)
    mf = metric_frame(share_over_reference, predictions[known], predictions[known], predictions[known])
    values = mf.by_group.reindex(range(len(reference))).fillna(0.0).to_numpy(np.float64)
    return values, mf


# --- Shared inputs ------------------------------------------------------------------------------


UNSEEN = "(not in reference)"
"""The group of generated images whose attribute label no reference image has (reference share 0)."""
MIN_GROUP_SAMPLES = 2
"""Fewest generated images of an attribute group for its per-group quality (FID needs two rows)."""


def natural_order(labels: Any) -> list[str]:
    """Distinct labels, numbers in numeric order first, then the rest alphabetically."""
    distinct = {str(v) for v in labels}
    numbers = sorted((v for v in distinct if v.lstrip("-").isdigit()), key=int)
    return numbers + sorted(distinct.difference(numbers))


def _attributes(ctx: CheckContext) -> Any:
    return getattr(ctx.store, "attributes", None)


def attribute_labels(ctx: CheckContext, images: Any) -> np.ndarray:
    """The user's attribute classifier on `images` (ModelOutputError when it fails on them)."""
    from audit.errors import ModelOutputError
    from audit.messages import one_line

    classifier = _attributes(ctx)
    try:
        return classifier.labels(images)
    except ModelOutputError:
        raise
    except Exception as exc:
        raise ModelOutputError(f"attribute classifier '{classifier.name}' failed on model '{ctx.model}''s images: {type(exc).__name__}: {one_line(exc, 200)}") from None


def reference_attribute_labels(ctx: CheckContext, split: str = "train") -> np.ndarray:
    """Attribute labels of every reference image of `split`, classified batch by batch (pixels not held), once per run."""
    def compute() -> np.ndarray:
        reference = ctx.reference
        if hasattr(reference, "batches"):
            parts = [attribute_labels(ctx, batch) for batch in reference.batches(split)]
            return np.concatenate(parts) if parts else np.array([], dtype=str)
        return attribute_labels(ctx, np.asarray(reference.train_x if split == "train" else reference.test_x))

    return ctx.reference_memo("fairness.reference_attributes", compute, split, _attributes(ctx).sha256)


def reference_groups(ctx: CheckContext) -> list[str]:
    """The groups the attribute classifier finds in the training split, in natural order. Fewer
    than two is an error of the classifier, not of the model: with one group every generator is in
    proportion (TV 0, ratio 1), so a maximally biased one would pass."""
    names = natural_order(reference_attribute_labels(ctx, "train"))
    if len(names) < 2:
        found = f"one group, {names[0]!r}," if names else "no group"
        raise ValueError(f"attribute classifier '{_attributes(ctx).name}' gives {found} to every training image of reference "
                         f"'{ctx.reference.name}': grouping needs at least two groups (check the classifier's labels)")
    return names


def _grouping_text(ctx: CheckContext) -> str:
    classifier = _attributes(ctx)
    if classifier is not None:
        return f"attribute classifier '{classifier.name}' (attributes=) on each image"
    return "evaluator-predicted class of each unconditional sample"


def _class_groups_or_skip(ctx: CheckContext, what: str, classes: int) -> None:
    """Grouping by the evaluator's `classes`: NotApplicable when there are none or the reference has no labels."""
    from audit.errors import NotApplicable

    if classes < 2:
        raise NotApplicable(
            f"{what} groups by the evaluator's classes, and evaluator '{ctx.store.evaluator.name}' has none: "
            "give attributes=package.module:factory to group by your own labels"
        )
    if ctx.reference.train_y is None:
        raise NotApplicable(
            f"{what} by class compares with the reference's class labels; reference '{ctx.reference.name}' has none: "
            "give attributes=package.module:factory, or data= with images in class subfolders (0/, 1/, ...)"
        )


def reference_shares(ctx: CheckContext, k: int) -> np.ndarray:
    """Class shares of the real training labels, over the evaluator's `k` classes."""
    labels = ctx.reference.train_y
    if labels is None:
        raise ValueError(f"reference '{ctx.reference.name}' has no training labels to compare group shares with")
    counts = class_counts(np.asarray(labels), k)
    return counts / counts.sum()


def unconditional(ctx: CheckContext, min_n: int | None) -> dict[str, Any]:
    """Group labels of max(n, min_n) samples drawn with labels=None, made once per run: the
    attribute classifier's when attributes= is given, else the evaluator's predicted classes."""
    n = max(int(ctx.n), int(min_n or 0))
    by_attributes = _attributes(ctx) is not None

    def compute() -> dict[str, Any]:
        if ctx.adapter.num_classes is None and n == ctx.n:
            # The store samples a model without classes with labels=None: the very same call.
            images, source = ctx.samples().images, "the run's shared samples (sample(n, seed, labels=None))"
        else:
            images = ctx.adapter.sample(n, ctx.seed, labels=None)
            validate_images(ctx.model, images, n)
            images, source = owned_images(images), "sample(n, seed, labels=None)"
        if by_attributes:
            return {"labels": attribute_labels(ctx, images), "n": n, "source": source}
        logits = ctx.embedding().logits if source.startswith("the run's") else ctx.store.evaluator.embed(images).logits
        classes = int(logits.shape[1])  # 0: an evaluator without classes (skipped by _class_groups_or_skip)
        return {"predictions": logits.argmax(axis=1) if classes else np.zeros(n, np.int64), "classes": classes, "n": n, "source": source}

    return ctx.memo("fairness.unconditional", compute, n, "attributes" if by_attributes else "classes")


def _representation_inputs(ctx: CheckContext, min_n: int | None) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """(group code of each generated image, reference share of each group, facts): codes index
    `u["labels"]`; a generated label no reference image has is the group UNSEEN (share 0)."""
    if _attributes(ctx) is None:
        u = dict(unconditional(ctx, min_n))
        k = u["classes"]
        _class_groups_or_skip(ctx, "representation", k)
        u["group_names"] = [str(g) for g in range(k)]
        u["reference_text"] = f"training labels of '{ctx.reference.name}'"
        return u["predictions"], reference_shares(ctx, k), u
    u = dict(unconditional(ctx, min_n))
    real = reference_attribute_labels(ctx)
    names = reference_groups(ctx)
    unseen = sorted(set(u["labels"]).difference(names))
    if unseen:
        names = names + [UNSEEN]
    index = {g: i for i, g in enumerate(names)}
    codes = np.array([index.get(label, len(names) - 1) for label in u["labels"]], dtype=np.int64)
    counts = np.array([int((real == g).sum()) for g in names], np.float64)
    u.update(group_names=names, unseen_labels=unseen, reference_text=f"attribute labels of the training split of '{ctx.reference.name}'")
    return codes, counts / counts.sum(), u


def _representation_details(ctx: CheckContext, predictions: np.ndarray, reference: np.ndarray, u: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(by_group, details) shared by the representation checks; by_group holds the groups the reference has."""
    k = len(reference)
    counts = class_counts(predictions, k)
    values, _ = representation_frame(predictions, reference)
    n = len(predictions)
    intervals = [wilson_ci(int(c), n) for c in counts]
    labels = list(u["group_names"])
    kept = [g for g in range(k) if reference[g] > 0]
    lows = [intervals[g][0] / reference[g] for g in kept]
    highs = [intervals[g][1] / reference[g] for g in kept]
    by_group = group_frame([labels[g] for g in kept], values[kept], lows, highs, 1.0, counts=counts[kept])
    shares = counts / n
    word = "group" if _attributes(ctx) is not None else "class"
    details = {
        "groups": _grouping_text(ctx),
        "by_group_metric": "representation: generated share / training share (1 = in proportion; CI: Wilson on the share)",
        "samples": u["source"], "n_samples": n,
        "reference": u["reference_text"], "n_reference": int(len(ctx.reference.train_y)) if _attributes(ctx) is None else int(len(reference_attribute_labels(ctx))),
        "missing_groups": [labels[g] for g in kept if counts[g] == 0],
        "noise_floor_tv": float(0.5 * np.sum(np.sqrt(2 * reference * (1 - reference) / (np.pi * n)))),
        "noise_floor_note": "expected plug-in TV of a perfectly proportional generator at this n (multinomial noise)",
        "tables": [{
            "title": f"Generated vs training {word} shares",
            "columns": [word, "generated count", "generated share", "training share", "representation"],
            "rows": [[labels[g], int(counts[g]), round(float(shares[g]), 4), round(float(reference[g]), 4), round(float(values[g]), 3) if reference[g] > 0 else None]
                     for g in range(k)],
        }],
        "charts": [{
            "title": f"{word.capitalize()} shares: generated (unconditional) vs training",
            "x_label": word, "y_label": "share",
            "series": {
                "generated": [{"x": labels[g], "value": float(shares[g]), "ci_low": intervals[g][0], "ci_high": intervals[g][1]} for g in range(k)],
                "training": [{"x": labels[g], "value": float(reference[g]), "ci_low": None, "ci_high": None} for g in range(k)],
            },
        }],
    }
    if u.get("unseen_labels"):
        details["unseen_labels"] = u["unseen_labels"]
        details["unseen_note"] = f"generated labels no reference image has, pooled as '{UNSEEN}' (training share 0): they count in TV and chi-square, not in the ratio"
    return by_group, details


# --- Representation ------------------------------------------------------------------------------


@check("fairness.representation_tv", needs=(SAMPLE,), higher_is_better=False)
def representation_tv(ctx: CheckContext, min_n: int | None = MIN_REPRESENTATION_N) -> Measurement:
    """Total variation distance between unconditional samples' class shares and the training shares (bootstrap CI)."""
    predictions, reference, u = _representation_inputs(ctx, min_n)
    value = finite_or_raise("representation TV", tv_of_predictions(predictions, reference))
    low, high = bootstrap_ci(lambda p: tv_of_predictions(p, reference), [predictions], ctx.bootstrap, ctx.rng_seed("fairness.representation_tv"))
    by_group, details = _representation_details(ctx, predictions, reference, u)
    details["ci"] = "bootstrap over samples, bias-adjusted, clipped at 0 (TV is non-negative)"
    return Measurement(value, *measurement_ci(low, high, 0.0), n=len(predictions), by_group=by_group, details=details)


@check("fairness.representation_ratio", needs=(SAMPLE,), higher_is_better=False, unit="ratio")
def representation_ratio(ctx: CheckContext, min_n: int | None = MIN_REPRESENTATION_N) -> Measurement:
    """Most over- to most under-represented class (share / training share), max / min, +0.5 pseudo-counts."""
    predictions, reference, u = _representation_inputs(ctx, min_n)
    value = finite_or_raise("representation ratio", representation_ratio_of(predictions, reference))
    log_low, log_high = bootstrap_ci(
        lambda p: float(np.log(representation_ratio_of(p, reference))), [predictions], ctx.bootstrap,
        ctx.rng_seed("fairness.representation_ratio"),
    )
    low, high = (max(float(np.exp(log_low)), 1.0), float(np.exp(log_high))) if np.isfinite(log_low) else (float("nan"), float("nan"))
    by_group, details = _representation_details(ctx, predictions, reference, u)
    details.update(pseudo_count=PSEUDO_COUNT, ci="bootstrap over samples of log(ratio), bias-adjusted, exponentiated")
    return Measurement(value, *measurement_ci(low, high, 1.0), n=len(predictions), by_group=by_group, details=details)


@check("fairness.representation_chi2", needs=(SAMPLE,), higher_is_better=None, unit="p-value")
def representation_chi2(ctx: CheckContext, min_n: int | None = MIN_REPRESENTATION_N) -> Measurement:
    """Chi-square goodness-of-fit p-value of unconditional samples' class counts vs training shares (not an effect size)."""
    predictions, reference, u = _representation_inputs(ctx, min_n)
    counts = class_counts(predictions, len(reference))
    statistic, pvalue, dof = chi_square(counts, reference)
    by_group, details = _representation_details(ctx, predictions, reference, u)
    details.update(
        statistic=statistic, dof=dof, cohens_w=float(np.sqrt(statistic / len(predictions))),
        test="scipy.stats.chisquare, expected counts = n x training shares",
        note="a significance test, not an effect size: with large n any deviation (the evaluator's own errors included) is significant; gate fairness.representation_tv",
    )
    return Measurement(pvalue, None, None, n=len(predictions), by_group=by_group, details=details)


# --- Quality parity ------------------------------------------------------------------------------


@dataclass
class ParityGroups:
    """The groups per-group quality compares: each shared sample's group code, the codes compared,
    their by_group names, the real training features of each, and the groups left out and why."""

    codes: np.ndarray
    groups: list[int]
    names: dict[int, str]
    real: dict[int, np.ndarray]
    text: str
    left_out: dict[str, str]

    def keys(self) -> list[str]:
        return [self.names[g] for g in self.groups]


def _split_labels(ctx: CheckContext, split: str) -> np.ndarray:
    y = ctx.reference.train_y if split == "train" else ctx.reference.test_y
    if y is None:
        raise ValueError(f"reference '{ctx.reference.name}' has no {split} labels for per-class comparisons")
    return np.asarray(y)


def _real_by_class(ctx: CheckContext, split: str = "train") -> dict[int, np.ndarray]:
    """Real features of `split` by group code: the reference's class labels, or (attributes=) the
    attribute classifier's labels coded in the order of `natural_order` of the training labels."""
    x = ctx.real_embedding(split).features
    if _attributes(ctx) is None:
        y = _split_labels(ctx, split)
        return {int(c): x[y == c] for c in np.unique(y)}
    names = reference_groups(ctx)
    labels = reference_attribute_labels(ctx, split)
    return {i: x[labels == g] for i, g in enumerate(names) if (labels == g).any()}


def _sample_attribute_codes(ctx: CheckContext) -> tuple[np.ndarray, dict[int, str]]:
    """Group code of each of the run's shared samples by the attribute classifier (-1: a label no reference image has)."""
    labels = ctx.memo("fairness.sample_attributes", lambda: attribute_labels(ctx, ctx.samples().images), _attributes(ctx).sha256)
    names = reference_groups(ctx)
    index = {g: i for i, g in enumerate(names)}
    return np.array([index.get(g, -1) for g in labels], dtype=np.int64), dict(enumerate(names))


def parity_groups(ctx: CheckContext, least_real: int, least_samples: int = MIN_GROUP_SAMPLES) -> ParityGroups:
    """The groups of the run's shared samples: by attribute label (attributes=; groups with fewer
    than `least_samples` samples or `least_real` reference images are left out, and fewer than two
    left is NotApplicable), else by the class each sample was generated for (conditional models)."""
    from audit.errors import NotApplicable

    if _attributes(ctx) is None:
        samples = ctx.samples()
        if samples.labels is None:
            raise NotApplicable(
                f"model '{ctx.model}' lacks capability conditional: per-class quality compares the samples generated for each class "
                "(give attributes=package.module:factory to group any generator's samples by your own labels)"
            )
        if ctx.reference.train_y is None:
            raise NotApplicable(
                f"per-class quality compares with the reference's class labels; reference '{ctx.reference.name}' has none: "
                "give data= with images in class subfolders (0/, 1/, ...), or attributes=package.module:factory"
            )
        codes = samples.labels.numpy().astype(np.int64)
        classes = sorted(int(c) for c in np.unique(codes))
        real = _real_by_class(ctx)
        _require_classes(ctx, classes, real, least_real)
        return ParityGroups(codes, classes, {c: str(c) for c in classes}, real, "the class each sample was generated for", {})
    codes, names = _sample_attribute_codes(ctx)
    real = _real_by_class(ctx)
    left_out: dict[str, str] = {}
    if (codes < 0).any():
        left_out[UNSEEN] = f"{int((codes < 0).sum())} samples with labels no reference image has"
    groups = []
    for g, name in names.items():
        count, available = int((codes == g).sum()), len(real.get(g, ()))
        if count < least_samples or available < least_real:
            left_out[name] = f"{count} samples, {available} reference images (needs {least_samples} and {least_real})"
        else:
            groups.append(g)
    if len(groups) < 2:
        raise NotApplicable(
            f"per-group quality needs two attribute groups with at least {least_samples} samples and {least_real} reference images each; "
            f"model '{ctx.model}' has {len(groups)} ({'; '.join(f'{k}: {v}' for k, v in left_out.items())}): "
            "the representation checks measure that imbalance"
        )
    text = f"attribute classifier '{_attributes(ctx).name}' (attributes=) on each of the run's samples"
    return ParityGroups(codes, groups, names, real, text, left_out)


def _require_classes(ctx: CheckContext, classes: list[int], real: dict[int, np.ndarray], least: int) -> None:
    missing = [c for c in classes if len(real.get(c, ())) < least]
    if missing:
        raise ValueError(f"reference '{ctx.reference.name}' has fewer than {least} training images of class(es) {missing}")


def _proportion_parity(
    ctx: CheckContext, name: str, labels: np.ndarray, indicator: np.ndarray, classes: list[int], mf: Any, keys: list[str] | None = None,
) -> tuple[float, float | None, float | None, dict[str, Any]]:
    """best - worst group share of `indicator`: value, bootstrap CI (None without bootstrap),
    by_group (Wilson per group, keyed by `keys`, default the group codes)."""
    values = mf.by_group.reindex(classes).to_numpy(np.float64)
    groups = [indicator[labels == c].astype(np.float64) for c in classes]
    counts = [len(g) for g in groups]
    value = float(values.max() - values.min())
    boot = class_bootstrap(lambda g, rows: float(rows.mean()), groups, ctx.bootstrap, ctx.rng_seed(name)) if ctx.bootstrap > 0 else None
    low, high = bias_adjusted_interval(value, boot.max(axis=1) - boot.min(axis=1)) if boot is not None else (float("nan"), float("nan"))
    intervals = [wilson_ci(int(g.sum()), len(g)) for g in groups]
    by_group = group_frame(keys or [str(c) for c in classes], values, [i[0] for i in intervals], [i[1] for i in intervals], float(mf.overall), counts=counts)
    return value, *measurement_ci(low, high, 0.0), by_group


def _worst_rows(by_group: dict[str, Any], title: str, lower_is_worse: bool = True, rows: int = 3) -> dict[str, Any]:
    items = sorted(by_group["by_group"].items(), key=lambda kv: kv[1]["value"], reverse=not lower_is_worse)[:rows]
    return {"title": title, "columns": ["group", "value", "ci_low", "ci_high", "n"],
            "rows": [[g, v["value"], v["ci_low"], v["ci_high"], v["n"]] for g, v in items]}


def _grouping_details(pg: ParityGroups) -> dict[str, Any]:
    details: dict[str, Any] = {"groups": pg.text}
    if pg.left_out:
        details["groups_left_out"] = pg.left_out
    return details


@check("fairness.quality_parity_accuracy", needs=(SAMPLE, CONDITIONAL), higher_is_better=False)
def quality_parity_accuracy(ctx: CheckContext) -> Measurement:
    """Best minus worst group in conditional accuracy (evaluator agrees with the requested class; groups: classes or attributes=; bootstrap CI)."""
    from sklearn.metrics import accuracy_score

    ctx.require_classes("conditional accuracy")
    pg = parity_groups(ctx, least_real=0)
    samples = ctx.samples()
    requested = samples.labels.numpy().astype(np.int64)
    keep = np.isin(pg.codes, pg.groups)
    codes, correct = pg.codes[keep], (ctx.embedding().predictions == requested)[keep]
    mf = metric_frame(accuracy_score, requested[keep], ctx.embedding().predictions[keep], codes)
    value, low, high, by_group = _proportion_parity(ctx, "fairness.quality_parity_accuracy", codes, correct, pg.groups, mf, pg.keys())
    details = {
        **_grouping_details(pg),
        "by_group_metric": "conditional accuracy: share of the group's samples that the evaluator classifies as the class they were generated for (Wilson CI)",
        "value": "best - worst group (difference of proportions)",
        "ci": "bootstrap resampling within each group, bias-adjusted, clipped at 0",
        "tables": [_worst_rows(by_group, "Worst groups by conditional accuracy")],
    }
    return Measurement(finite_or_raise("accuracy parity", value), low, high, n=int(keep.sum()), by_group=by_group, details=details)


def _class_radii(ctx: CheckContext, k: int) -> dict[int, np.ndarray]:
    """k-NN radii of the real training features of each group with more than k images, once per run."""
    key = (ctx.reference.name, "train", k, None if _attributes(ctx) is None else _attributes(ctx).sha256)
    return ctx.store.memo(
        "fairness.class_knn_radii", key, lambda: {c: knn_radii(x, k) for c, x in _real_by_class(ctx).items() if len(x) > k},
        shared=True,
    )


@check("fairness.quality_parity_precision", needs=(SAMPLE,), higher_is_better=False)
def quality_parity_precision(ctx: CheckContext, k: int = PRECISION_K) -> Measurement:
    """Best minus worst group in improved precision (k-NN manifold of that group's real features; groups: classes or attributes=; bootstrap CI)."""
    pg = parity_groups(ctx, least_real=k + 1, least_samples=1)
    features = ctx.embedding().features
    radii = _class_radii(ctx, k)
    keep = np.isin(pg.codes, pg.groups)
    inside = np.zeros(len(pg.codes), dtype=bool)
    for c in pg.groups:
        rows = pg.codes == c
        inside[rows] = inside_manifold(features[rows], pg.real[c], radii[c])
    codes, inside = pg.codes[keep], inside[keep]
    mf = metric_frame(lambda y_true, y_pred: float(np.mean(y_pred)), codes, inside.astype(np.float64), codes)
    value, low, high, by_group = _proportion_parity(ctx, "fairness.quality_parity_precision", codes, inside, pg.groups, mf, pg.keys())
    details = {
        **_grouping_details(pg),
        "by_group_metric": f"improved precision (k={k}): share of the group's samples inside the k-NN balls of the group's real training features (Wilson CI)",
        "value": "best - worst group (difference of proportions)",
        "k": k, "reference": "training split, per group",
        "ci": "bootstrap resampling within each group with the real radii fixed, bias-adjusted, clipped at 0",
        "tables": [_worst_rows(by_group, "Worst groups by precision")],
    }
    return Measurement(finite_or_raise("precision parity", value), low, high, n=len(codes), by_group=by_group, details=details)


def _real_stats(ctx: CheckContext) -> dict[Any, RealStats]:
    def compute() -> dict[Any, RealStats]:
        stats: dict[Any, RealStats] = {c: RealStats.of(x) for c, x in _real_by_class(ctx).items() if len(x) >= 2}
        stats["all"] = RealStats.of(ctx.real_embedding("train").features)
        return stats

    key = (ctx.reference.name, "train", None if _attributes(ctx) is None else _attributes(ctx).sha256)
    return ctx.store.memo("fairness.class_real_stats", key, compute, shared=True)


@check("fairness.quality_parity_fid", needs=(SAMPLE,), higher_is_better=False, unit="ratio")
def quality_parity_fid(ctx: CheckContext) -> Measurement:
    """Worst over best group FID (each group's samples vs that group's real training features; groups: classes or attributes=; bootstrap CI)."""
    from audit.metrics import fid_from_features

    pg = parity_groups(ctx, least_real=2)
    classes, real = pg.groups, pg.real
    keep = np.isin(pg.codes, classes)
    labels, features = pg.codes[keep], ctx.embedding().features[keep]
    counts = [int((labels == c).sum()) for c in classes]
    if min(counts) < 2:
        raise ValueError(f"per-class FID needs at least 2 samples of every class; the smallest class has {min(counts)} (raise n)")
    stats = _real_stats(ctx)

    def fid_metric(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        present = np.unique(y_true)
        return stats[int(present[0]) if len(present) == 1 else "all"].fid(features[y_pred])

    mf = metric_frame(fid_metric, labels, np.arange(len(labels)), labels)
    values = mf.by_group.reindex(classes).to_numpy(np.float64)
    value = finite_or_raise("FID parity", float(values.max() / values.min()) if values.min() > 0 else float("inf"))
    groups = [features[labels == c] for c in classes]
    if ctx.bootstrap > 0:
        boot = class_bootstrap(lambda g, rows: stats[classes[g]].fid(rows), groups, ctx.bootstrap, ctx.rng_seed("fairness.quality_parity_fid"))
        ratios = boot.max(axis=1) / np.where(boot.min(axis=1) > 0, boot.min(axis=1), np.nan)
        log_low, log_high = bias_adjusted_interval(float(np.log(value)), np.log(ratios))
        low, high = max(float(np.exp(log_low)), 1.0), float(np.exp(log_high))
        per_class = [bias_adjusted_interval(float(values[g]), boot[:, g]) for g in range(len(classes))]
        per_class = [(max(lo, 0.0), hi) for lo, hi in per_class]
    else:
        low = high = float("nan")
        per_class = [(None, None)] * len(classes)
    keys = pg.keys()
    by_group = group_frame(keys, values, [p[0] for p in per_class], [p[1] for p in per_class], float(mf.overall), counts=counts)
    heldout = _real_by_class(ctx, "test")
    floors = {c: fid_from_features(heldout[c], real[c]) for c in classes if len(heldout.get(c, ())) >= 2}
    order = np.argsort(-values)
    details = {
        **_grouping_details(pg),
        "by_group_metric": "FID of the group's samples against the group's real training features (bootstrap CI)",
        "value": "worst / best group FID (scale-free; by_group.ratio is fairlearn's best / worst)",
        "ci": "bootstrap resampling within each group (real statistics fixed), bias-adjusted on the log scale",
        "floor_note": "per-group real-data floor: held-out real images of the group vs its training images; with few images per group both are biased upwards",
        "real_data_floor_by_class": {pg.names[c]: float(v) for c, v in floors.items()},
        "tables": [{
            "title": "Per-group FID vs the real-data floor (worst first)",
            "columns": ["group", "samples", "FID", "real held-out floor"],
            "rows": [[keys[g], counts[g], round(float(values[g]), 3), round(floors[classes[g]], 3) if classes[g] in floors else None] for g in order],
        }],
    }
    return Measurement(value, *measurement_ci(low, high, 1.0), n=len(labels), by_group=by_group, details=details)
