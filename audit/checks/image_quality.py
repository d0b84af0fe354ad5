"""Quality and distribution checks of image generators: FID, Inception Score, conditional
accuracy, KID, sliced Wasserstein distances, precision/recall/density/coverage, a classifier
two-sample test, diversity, near-duplicates of training images and the predicted-class histogram.

All read the run's shared samples and evaluator embedding (audit.sample_store), so adding a check
adds no sampling; intermediates that several checks use (k-NN radii, distance matrices, the PRDC
bootstrap, nearest-training-image distances) go through the run-wide memo, so each is computed
once per model (and once per run for the real reference). The reference is the training split
unless a check says otherwise; held-out real values ("real-data floor") are in each record's
details, at the held-out split's size. Torch is never imported here: checks read numpy arrays
from the context, which keeps listing checks cheap.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from audit.adapters.base import CONDITIONAL, SAMPLE
from audit.checks.base import Measurement, check
from audit.context import CheckContext, finite_or_raise
from audit.metrics import (
    IS_SPLITS,
    fid_from_features,
    group_frame,
    inception_score_from_logits,
    inception_score_splits,
    stratified_bootstrap_counts,
)
from audit.metrics.diversity import (
    COPY_QUANTILE,
    class_coverage,
    class_entropy,
    class_histogram,
    class_kl,
    default_min_share,
    mean_pairwise_distance,
    mean_pairwise_distance_resampled,
)
from audit.metrics.histogram_interval import class_coverage_interval, class_entropy_interval, class_kl_interval
from audit.metrics.kernel import kid as kid_value
from audit.metrics.kernel import kid_resampled, offdiagonal_kernel_sum
from audit.metrics.manifold import Manifolds, knn_radii, pairwise_distances, recall_resampled
from audit.metrics.two_sample import balanced_subsample, c2st as c2st_test
from audit.metrics.wasserstein import DEFAULT_PROJECTIONS, PROJECTION_SEED, sliced_wasserstein, sliced_wasserstein_resampled
from audit.pixel_space import image_rows, near_duplicate_measurement, reference_rows
from audit.stats import bias_adjusted_interval, bootstrap_ci, t_interval, wilson_ci

CI_COVERS = (
    "a fresh generated set of the same n, drawn the same way (class-balanced for a conditional "
    "model), scored against this same reference: bootstrap of the generated rows within their "
    "classes, reference fixed, bias-adjusted percentile"
)
"""What every distribution-level interval here covers but the class-histogram ones (coverage measured in benchmarks/interval_coverage.py)."""

HISTOGRAM_CI_COVERS = (
    "the mean over fresh generated sets of the same n, drawn the same way, against this same "
    "reference: second-order delta method on the class histogram, its covariance from the "
    "per-stratum class table with z^2 pseudo-observations (audit.metrics.histogram_interval)"
)
"""What the class entropy and class KL intervals cover: a bootstrap fails at these statistics' boundary
(a near-uniform histogram, rare misclassifications)."""

CLASS_COVERAGE_CI_COVERS = (
    "the mean over fresh generated sets of the same n, drawn the same way: the average over classes "
    "of an interval of P(the class reaches min_share), from a normal interval of its count "
    "(audit.metrics.histogram_interval), widened to hold the value"
)
"""What the class coverage interval covers: a percentile bootstrap of this step function misses when a class sits near min_share."""


def _fake_counts(ctx: CheckContext, salt: str) -> np.ndarray:
    """[bootstrap, n] stratified bootstrap counts of the generated rows, drawn once per seed and
    shared by every check that resamples the same set with the same salt."""
    seed = ctx.rng_seed(salt)
    return ctx.memo("distribution.fake_counts", lambda: stratified_bootstrap_counts(ctx.n, ctx.bootstrap, seed, ctx.strata()), ctx.bootstrap, seed)

# --- FID, Inception Score, conditional accuracy ----------------------------------------

@check("quality.fid", needs=(SAMPLE,), higher_is_better=False)
def fid(ctx: CheckContext) -> Measurement:
    """Fréchet distance between generated and real-image evaluator features (float64, bootstrap CI)."""
    fake = ctx.embedding().features
    real = ctx.real_embedding("train").features
    value = finite_or_raise("FID", fid_from_features(fake, real))
    statistic = lambda f: fid_from_features(f, real)
    low, high = bootstrap_ci(statistic, [fake], ctx.bootstrap, ctx.rng_seed("quality.fid"), strata=[ctx.strata()])
    low = max(low, 0.0)  # FID is non-negative; the re-centred bootstrap interval can cross 0 at small n
    floor = fid_from_features(ctx.real_embedding("test").features, real)
    return Measurement(
        value, low, high, n=len(fake),
        details={"reference": "train split", "n_reference": len(real), "real_data_floor": floor,
                 "floor_note": "FID of the held-out real images against the same reference", "ci_covers": CI_COVERS},
    )


@check("quality.inception_score", needs=(SAMPLE,), higher_is_better=True)
def inception_score(ctx: CheckContext) -> Measurement:
    """Inception Score from the evaluator's class logits: the field's mean over 10 splits (t-interval over the splits)."""
    ctx.require_classes("the Inception Score")
    logits = ctx.embedding().logits
    splits = inception_score_splits(logits, min(IS_SPLITS, len(logits)))
    value = finite_or_raise("Inception Score", float(splits.mean()))
    low, high = t_interval(splits) if ctx.bootstrap > 0 else (float("nan"), float("nan"))
    real_logits = ctx.real_embedding("test").logits
    return Measurement(value, low, high, n=len(logits), details={
        "definition": f"mean over {len(splits)} consecutive splits of exp(E KL(p(y|x) || p(y))), p(y) per split (Salimans et al. 2016; torch-fidelity and torchmetrics with splits=10)",
        "splits": len(splits), "split_values": [float(v) for v in splits], "std_over_splits": float(splits.std(ddof=1)) if len(splits) > 1 else 0.0,
        "one_split": inception_score_from_logits(logits),
        "ci_covers": "the mean of the split scores (Student t over the independent splits): a fresh sample set of the same n",
        "real_heldout_is": float(inception_score_splits(real_logits, min(IS_SPLITS, len(real_logits))).mean()),
        "real_heldout_is_one_split": inception_score_from_logits(real_logits), "n_real_heldout": len(real_logits),
        "max_possible": logits.shape[1],
    })


@check("quality.conditional_accuracy", needs=(SAMPLE, CONDITIONAL), higher_is_better=True)
def conditional_accuracy(ctx: CheckContext) -> Measurement:
    """Share of samples the evaluator classifies as the label they were generated for (Wilson CI)."""
    samples = ctx.samples()
    ctx.require_classes("conditional accuracy")
    predictions = ctx.embedding().predictions
    labels = samples.labels.numpy()
    correct = predictions == labels
    low, high = wilson_ci(int(correct.sum()), len(correct))
    classes = np.unique(labels)
    masks = [labels == c for c in classes]
    intervals = [wilson_ci(int(correct[m].sum()), int(m.sum())) for m in masks]
    by_group = group_frame(
        [int(c) for c in classes], [float(correct[m].mean()) for m in masks], [i[0] for i in intervals], [i[1] for i in intervals],
        float(correct.mean()), counts=[int(m.sum()) for m in masks],
    )
    per_sample = [int(c) for c in correct]  # lets `audit compare` and relative gates pair two runs sample by sample
    return Measurement(float(correct.mean()), low, high, n=len(correct), by_group=by_group, details={"per_sample": per_sample})


K_NEIGHBOURS = 5


# --- shared intermediates (run-wide memo) -------------------------------------------------

def _real_features(ctx: CheckContext, split: str = "train") -> np.ndarray:
    return ctx.real_embedding(split).features


def _fake_distances(ctx: CheckContext) -> np.ndarray:
    """Generated-to-generated feature distances (PRDC radii and diversity share them)."""
    return ctx.memo("distribution.fake_feature_distances", lambda: pairwise_distances(ctx.embedding().features))


def _real_radii(ctx: CheckContext, k: int) -> np.ndarray:
    return ctx.reference_memo("distribution.real_knn_radii", lambda: knn_radii(_real_features(ctx), k), "train", k)


def _real_fake_distances(ctx: CheckContext) -> np.ndarray:
    """Real-to-generated feature distances [R, F] (the PRDC manifolds and recall's resampling)."""
    return ctx.memo("distribution.real_fake_distances", lambda: pairwise_distances(_real_features(ctx), ctx.embedding().features))


def _manifolds(ctx: CheckContext, k: int) -> Manifolds:
    build = lambda: Manifolds.build(
        _real_features(ctx), ctx.embedding().features, k, real_radii=_real_radii(ctx, k), fake_distances=_fake_distances(ctx),
        real_fake_distances=_real_fake_distances(ctx),
    )
    return ctx.memo("distribution.manifolds", build, k)


def _interval(value: float, distribution: np.ndarray | None, low: float | None = None, high: float | None = None) -> tuple[float, float]:
    """Bias-adjusted bootstrap interval (see audit.stats), clipped to the metric's range."""
    if distribution is None:
        return float("nan"), float("nan")
    lo, hi = bias_adjusted_interval(value, distribution)
    if low is not None:
        lo, hi = max(lo, low), max(hi, low)
    if high is not None:
        lo, hi = min(lo, high), min(hi, high)
    return lo, hi


# --- KID --------------------------------------------------------------------------------

@check("quality.kid", needs=(SAMPLE,), higher_is_better=False, unit="MMD^2")
def kid(ctx: CheckContext) -> Measurement:
    """Kernel Inception Distance: unbiased MMD^2, cubic polynomial kernel, generated vs real features (bootstrap CI)."""
    fake, real = ctx.embedding().features, _real_features(ctx)
    k_yy_sum = ctx.reference_memo("distribution.real_poly_kernel_sum", lambda: offdiagonal_kernel_sum(real), "train")
    value = finite_or_raise("KID", kid_value(fake, real, k_yy_sum=k_yy_sum))
    dist = kid_resampled(fake, real, _fake_counts(ctx, "quality.kid"), k_yy_sum=k_yy_sum) if ctx.bootstrap > 0 else None
    low, high = _interval(value, dist)
    floor = ctx.reference_memo("distribution.kid_floor", lambda: kid_value(_real_features(ctx, "test"), real, k_yy_sum=k_yy_sum), "test")
    return Measurement(value, low, high, n=len(fake), details={
        "reference": "train split", "n_reference": len(real), "kernel": "(x.y/d + 1)^3",
        "estimator": "all-pairs unbiased MMD^2: the limit of torchmetrics' average over random subsets",
        "real_data_floor": floor, "floor_note": "KID of the held-out real images against the same reference (can be < 0: unbiased)",
        "ci_covers": CI_COVERS,
    })


# --- sliced Wasserstein -----------------------------------------------------------------

def _swd(ctx: CheckContext, salt: str, fake: np.ndarray, real: np.ndarray, heldout: np.ndarray, space: str, projections: int) -> Measurement:
    value = finite_or_raise("sliced Wasserstein distance", sliced_wasserstein(fake, real, projections, PROJECTION_SEED))
    dist = sliced_wasserstein_resampled(fake, real, _fake_counts(ctx, salt), projections, PROJECTION_SEED) if ctx.bootstrap > 0 else None
    low, high = _interval(value, dist, low=0.0)
    floor = ctx.reference_memo(f"distribution.swd_floor.{space}", lambda: sliced_wasserstein(heldout, real, projections, PROJECTION_SEED), projections)
    return Measurement(value, low, high, n=len(fake), details={
        "space": space, "reference": "train split", "n_reference": len(real), "projections": projections,
        "projection_seed": PROJECTION_SEED, "estimator": "mean over random unit directions of the exact 1-D W1",
        "real_data_floor": floor, "n_floor": len(heldout),
        "floor_note": "held-out real images against the same reference; empirical W1 shrinks as n grows, so compare at equal n",
        "ci_covers": CI_COVERS,
    })


@check("quality.swd_pixel", needs=(SAMPLE,), higher_is_better=False, unit="pixel intensity")
def swd_pixel(ctx: CheckContext, projections: int = DEFAULT_PROJECTIONS) -> Measurement:
    """Sliced Wasserstein distance (SW1) between generated and real images in pixel space (bootstrap CI)."""
    return _swd(ctx, "quality.swd_pixel", image_rows(ctx), reference_rows(ctx, "train"), reference_rows(ctx, "test"), "pixels", int(projections))


@check("quality.swd_feature", needs=(SAMPLE,), higher_is_better=False, unit="feature units")
def swd_feature(ctx: CheckContext, projections: int = DEFAULT_PROJECTIONS) -> Measurement:
    """Sliced Wasserstein distance (SW1) between generated and real evaluator features (bootstrap CI)."""
    return _swd(ctx, "quality.swd_feature", ctx.embedding().features, _real_features(ctx), _real_features(ctx, "test"), "evaluator features", int(projections))


# --- precision / recall / density / coverage ---------------------------------------------

def _prdc(ctx: CheckContext, metric: str, k: int) -> Measurement:
    k = int(k)
    manifolds = _manifolds(ctx, k)
    values = manifolds.values()
    dist = None
    if ctx.bootstrap > 0:
        seed = ctx.rng_seed("quality.prdc")
        if metric == "recall":
            dist = ctx.memo("distribution.recall_resampled", lambda: recall_resampled(
                _real_fake_distances(ctx), _fake_distances(ctx), k, _fake_counts(ctx, "quality.prdc")), k, ctx.bootstrap, seed)
        else:
            dist = ctx.memo("distribution.prdc_bootstrap", lambda: manifolds.resampled(_fake_counts(ctx, "quality.prdc")), k, ctx.bootstrap, seed)[metric]
    value = values[metric]
    low, high = _interval(value, dist, low=0.0, high=None if metric == "density" else 1.0)
    floor = ctx.reference_memo(
        "distribution.prdc_floor",
        lambda: Manifolds.build(_real_features(ctx), _real_features(ctx, "test"), k, real_radii=_real_radii(ctx, k)).values(), k,
    )
    return Measurement(value, low, high, n=len(manifolds.fake_radii), details={
        "k": k, "reference": "train split", "n_reference": len(manifolds.real_radii), "all": values,
        "ci_covers": CI_COVERS + (" (generated k-NN radii recomputed in each resample)" if metric == "recall" else " (k-NN radii fixed at their full-sample values)"),
        "real_data_floor": floor[metric], "n_floor": len(_real_features(ctx, "test")),
        "floor_note": "held-out real images scored the same way (recall and coverage grow with the generated set's size)",
    })


@check("quality.precision", needs=(SAMPLE,), higher_is_better=True, unit="share of samples")
def precision(ctx: CheckContext, k: int = K_NEIGHBOURS) -> Measurement:
    """Improved precision: share of generated samples inside the real k-NN feature manifold (k=5; bootstrap CI)."""
    return _prdc(ctx, "precision", k)


@check("quality.recall", needs=(SAMPLE,), higher_is_better=True, unit="share of real images")
def recall(ctx: CheckContext, k: int = K_NEIGHBOURS) -> Measurement:
    """Improved recall: share of real images inside the generated k-NN feature manifold (k=5; bootstrap CI)."""
    return _prdc(ctx, "recall", k)


@check("quality.density", needs=(SAMPLE,), higher_is_better=True, unit="real balls per sample / k")
def density(ctx: CheckContext, k: int = K_NEIGHBOURS) -> Measurement:
    """Density: mean number of real k-NN balls containing a generated sample, over k (1 = real-like; bootstrap CI)."""
    return _prdc(ctx, "density", k)


@check("quality.coverage", needs=(SAMPLE,), higher_is_better=True, unit="share of real images")
def coverage(ctx: CheckContext, k: int = K_NEIGHBOURS) -> Measurement:
    """Coverage: share of real images whose k-NN feature ball contains a generated sample (k=5; bootstrap CI)."""
    return _prdc(ctx, "coverage", k)


# --- classifier two-sample test -------------------------------------------------------------

@check("quality.c2st", needs=(SAMPLE,), higher_is_better=False, unit="accuracy")
def c2st(ctx: CheckContext, classifier: str = "knn", folds: int = 5, neighbours: int = 5) -> Measurement:
    """Classifier two-sample test: cross-validated accuracy telling generated from real features (0.5 = indistinguishable; Wilson CI)."""
    seed = ctx.rng_seed("quality.c2st")
    fake, real = balanced_subsample(ctx.embedding().features, _real_features(ctx), seed)
    result = c2st_test(fake, real, int(folds), seed, classifier, int(neighbours))
    low, high = wilson_ci(int(result.correct.sum()), result.n)
    floor = ctx.reference_memo(
        "distribution.c2st_floor",
        lambda: c2st_test(*balanced_subsample(_real_features(ctx, "test"), _real_features(ctx), 0), int(folds), 0, classifier, int(neighbours)).accuracy,
        classifier, int(folds), int(neighbours),
    )
    return Measurement(result.accuracy, low, high, n=result.n, details={
        "p_value": result.p_value, "test": "one-sided binomial test of accuracy > 0.5 over all out-of-fold predictions",
        "classifier": f"{classifier} on standardized features" + (f" (k={neighbours})" if classifier == "knn" else ""),
        "folds": int(folds), "n_per_set": len(fake), "reference": "train split (seeded subsample to equal size)",
        "chance": 0.5, "real_data_floor": floor, "floor_note": "held-out real vs an equal-size train subsample",
    })


# --- diversity and memorization --------------------------------------------------------------

@check("quality.diversity", needs=(SAMPLE,), higher_is_better=True, unit="feature distance")
def diversity(ctx: CheckContext) -> Measurement:
    """Diversity: mean pairwise distance between generated samples' evaluator features (real held-out value for reference)."""
    d = _fake_distances(ctx)
    value = finite_or_raise("diversity", mean_pairwise_distance(None, distances=d))
    dist = mean_pairwise_distance_resampled(d, _fake_counts(ctx, "quality.diversity")) if ctx.bootstrap > 0 else None
    low, high = _interval(value, dist, low=0.0)
    real = ctx.reference_memo("distribution.diversity_real", lambda: mean_pairwise_distance(_real_features(ctx, "test")), "test")
    return Measurement(value, low, high, n=len(d), details={
        "real_heldout": real, "ratio_to_real": value / real if real > 0 else float("nan"),
        "note": "collapse lowers it; unstructured noise can also score low or high: read beside precision and the real value",
    })


@check("quality.near_duplicate_rate", needs=(SAMPLE,), higher_is_better=False, unit="share of samples")
def near_duplicate_rate_check(ctx: CheckContext, quantile: float = COPY_QUANTILE) -> Measurement:
    """Share of samples closer (pixel L2) to a training image than 99% of held-out real images are (~0.01 for fresh samples; Wilson CI)."""
    return near_duplicate_measurement(ctx, quantile)


# --- class histogram ---------------------------------------------------------------------------

def _predictions(ctx: CheckContext) -> tuple[np.ndarray, int]:
    classes = ctx.require_classes("the class histogram")
    return ctx.embedding().predictions, classes


def _histogram_details(predictions: np.ndarray, classes: int) -> dict[str, Any]:
    return {"histogram": {str(c): float(s) for c, s in enumerate(class_histogram(predictions, classes))},
            "classes": classes, "classified_by": "the evaluator's argmax class"}


@check("quality.class_coverage", needs=(SAMPLE,), higher_is_better=True, unit="share of classes")
def class_coverage_check(ctx: CheckContext, min_share: float | None = None) -> Measurement:
    """Share of classes the evaluator finds in at least a quarter of their uniform share of samples (CI per class count)."""
    predictions, classes = _predictions(ctx)
    share = default_min_share(classes) if min_share is None else float(min_share)
    value = class_coverage(predictions, classes, share)
    low, high = float("nan"), float("nan")
    if ctx.bootstrap > 0:
        low, high = class_coverage_interval(predictions, classes, ctx.strata(), share)
    hist = class_histogram(predictions, classes)
    return Measurement(value, low, high, n=len(predictions), details={
        **_histogram_details(predictions, classes), "min_share": share, "ci_covers": CLASS_COVERAGE_CI_COVERS,
        "missing_classes": [c for c in range(classes) if hist[c] < share],
    })


@check("quality.class_entropy", needs=(SAMPLE,), higher_is_better=True, unit="normalized entropy")
def class_entropy_check(ctx: CheckContext) -> Measurement:
    """Entropy of the evaluator's predicted-class histogram over log(classes): 1 = uniform, 0 = one class (delta-method CI)."""
    predictions, classes = _predictions(ctx)
    value = class_entropy(predictions, classes)
    low, high = float("nan"), float("nan")
    if ctx.bootstrap > 0:
        low, high = (float(np.clip(b, 0, 1)) for b in class_entropy_interval(predictions, classes, ctx.strata()))
    real = class_entropy(ctx.real_embedding("test").predictions, classes)
    return Measurement(value, low, high, n=len(predictions), details={
        **_histogram_details(predictions, classes), "nats": value * np.log(classes), "max_nats": float(np.log(classes)),
        "real_heldout": real, "ci_covers": HISTOGRAM_CI_COVERS,
    })


@check("quality.class_kl", needs=(SAMPLE,), higher_is_better=False, unit="nats")
def class_kl_check(ctx: CheckContext, alpha: float = 0.5) -> Measurement:
    """KL(real train class histogram || generated class histogram), add-0.5 smoothed, in nats (delta-method CI)."""
    predictions, classes = _predictions(ctx)
    reference = ctx.real_embedding("train").predictions
    alpha = float(alpha)
    value = finite_or_raise("class KL", class_kl(reference, predictions, classes, alpha))
    low, high = float("nan"), float("nan")
    if ctx.bootstrap > 0:
        low, high = (max(b, 0.0) for b in class_kl_interval(reference, predictions, classes, ctx.strata(), alpha))
    return Measurement(value, low, high, n=len(predictions), details={
        "ci_covers": HISTOGRAM_CI_COVERS,
        **_histogram_details(predictions, classes), "direction": "KL(reference || generated): large when generated samples miss classes",
        "reference": "evaluator classes of the train split", "smoothing": f"{alpha} pseudo-count per class on both histograms",
        "reference_histogram": {str(c): float(s) for c, s in enumerate(class_histogram(reference, classes))},
        "real_heldout": class_kl(reference, ctx.real_embedding("test").predictions, classes, alpha),
    })
