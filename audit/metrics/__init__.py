"""Metric maths as pure numpy functions; checks compose them (each tested against another library)."""

from audit.metrics.frechet import feature_stats, fid_from_features, frechet_distance, trace_sqrt_product
from audit.metrics.inception import inception_score_from_logits

__all__ = [
    "feature_stats",
    "fid_from_features",
    "frechet_distance",
    "inception_score_from_logits",
    "trace_sqrt_product",
]
