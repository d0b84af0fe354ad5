"""Quality checks for image generators: FID, Inception Score, conditional accuracy.

All read the run's shared samples and evaluator embedding (audit.context), so adding a check
adds no sampling. Torch is imported only inside functions so listing checks stays cheap.
"""

from __future__ import annotations

import numpy as np

from audit.adapters.base import CONDITIONAL, SAMPLE
from audit.checks.base import Measurement, check
from audit.context import CheckContext, finite_or_raise
from audit.metrics import fid_from_features, group_frame, inception_score_from_logits
from audit.stats import bootstrap_ci, wilson_ci


@check("quality.fid", needs=(SAMPLE,), higher_is_better=False)
def fid(ctx: CheckContext) -> Measurement:
    """Fréchet distance between generated and real-image evaluator features (float64, bootstrap CI)."""
    fake = ctx.embedding().features
    real = ctx.real_embedding("train").features
    value = finite_or_raise("FID", fid_from_features(fake, real))
    low, high = bootstrap_ci(fid_from_features, [fake, real], ctx.bootstrap, ctx.rng_seed("quality.fid"))
    low = max(low, 0.0)  # FID is non-negative; the re-centred bootstrap interval can cross 0 at small n
    floor = fid_from_features(ctx.real_embedding("test").features, real)
    return Measurement(
        value, low, high, n=len(fake),
        details={"reference": "train split", "n_reference": len(real), "real_data_floor": floor,
                 "floor_note": "FID of the held-out real images against the same reference"},
    )


@check("quality.inception_score", needs=(SAMPLE,), higher_is_better=True)
def inception_score(ctx: CheckContext) -> Measurement:
    """Inception Score from the evaluator's class logits (one split, bootstrap CI)."""
    logits = ctx.embedding().logits
    value = finite_or_raise("Inception Score", inception_score_from_logits(logits))
    low, high = bootstrap_ci(inception_score_from_logits, [logits], ctx.bootstrap, ctx.rng_seed("quality.is"))
    real = inception_score_from_logits(ctx.real_embedding("test").logits)
    return Measurement(value, low, high, n=len(logits), details={"real_heldout_is": real, "max_possible": logits.shape[1]})


@check("quality.conditional_accuracy", needs=(SAMPLE, CONDITIONAL), higher_is_better=True)
def conditional_accuracy(ctx: CheckContext) -> Measurement:
    """Share of samples the evaluator classifies as the label they were generated for (Wilson CI)."""
    samples = ctx.samples()
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
