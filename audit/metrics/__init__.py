"""Metric maths as pure numpy functions; checks compose them (each tested against another library)."""

from audit.metrics.frechet import feature_stats, fid_from_features, frechet_distance, trace_sqrt_product
from audit.metrics.inception import IS_SPLITS, inception_score_from_logits, inception_score_splits
from audit.metrics.diversity import (
    class_coverage,
    class_entropy,
    class_histogram,
    class_kl,
    copy_threshold,
    mean_pairwise_distance,
    near_duplicate_rate,
    nearest_distances,
)
from audit.metrics.histogram_interval import (
    class_coverage_interval,
    class_entropy_interval,
    class_kl_interval,
    class_table,
    histogram_covariance,
)
from audit.metrics.kernel import (
    kid,
    kid_resampled,
    kid_subsets,
    mmd2_unbiased_from_kernels,
    offdiagonal_kernel_sum,
    polynomial_kernel,
)
from audit.metrics.manifold import Manifolds, knn_radii, pairwise_distances, prdc, recall_resampled
from audit.metrics.groups import group_frame
from audit.metrics.resample import bootstrap_count_chunks, bootstrap_counts, multinomial_counts, resample_rows, stratified_bootstrap_counts
from audit.metrics.two_sample import C2STResult, balanced_subsample, c2st
from audit.metrics.wasserstein import random_directions, sliced_wasserstein, sliced_wasserstein_resampled, wasserstein1_1d
from audit.metrics.text import (
    bleu_from_stats,
    bleu_stats,
    continuation_task,
    corpus_bleu_stats,
    distinct_n,
    repetition_rate,
    rouge_per_item,
    self_bleu_scores,
    words,
)

__all__ = [
    "feature_stats",
    "fid_from_features",
    "frechet_distance",
    "IS_SPLITS",
    "inception_score_from_logits",
    "inception_score_splits",
    "trace_sqrt_product",
    "class_coverage",
    "class_entropy",
    "class_histogram",
    "class_kl",
    "class_coverage_interval",
    "class_entropy_interval",
    "class_kl_interval",
    "class_table",
    "histogram_covariance",
    "copy_threshold",
    "mean_pairwise_distance",
    "near_duplicate_rate",
    "nearest_distances",
    "kid",
    "kid_resampled",
    "kid_subsets",
    "mmd2_unbiased_from_kernels",
    "offdiagonal_kernel_sum",
    "polynomial_kernel",
    "Manifolds",
    "knn_radii",
    "pairwise_distances",
    "prdc",
    "recall_resampled",
    "bootstrap_count_chunks",
    "bootstrap_counts",
    "group_frame",
    "multinomial_counts",
    "resample_rows",
    "stratified_bootstrap_counts",
    "C2STResult",
    "balanced_subsample",
    "c2st",
    "random_directions",
    "sliced_wasserstein",
    "sliced_wasserstein_resampled",
    "wasserstein1_1d",
    "bleu_from_stats",
    "bleu_stats",
    "continuation_task",
    "corpus_bleu_stats",
    "distinct_n",
    "repetition_rate",
    "rouge_per_item",
    "self_bleu_scores",
    "words",
]
