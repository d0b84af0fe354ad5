"""Images as pixel rows, and how close generated images come to training images in pixel space.

The quality suite's near-duplicate rate and the privacy suite's near-copy rate are one
measurement, and the privacy attacks read the same pixel rows; they share these helpers and
their run-wide memo entries, so each distance matrix is computed once per run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from audit.checks.base import Measurement
from audit.errors import ModelOutputError
from audit.metrics.diversity import COPY_QUANTILE, copy_threshold, near_duplicate_rate, nearest_distances
from audit.stats import wilson_ci

if TYPE_CHECKING:
    from audit.context import CheckContext


def image_rows(ctx: CheckContext) -> np.ndarray:
    """The run's generated images as float64 pixel rows [N, C*H*W], refused when their shape is not the reference's."""
    images = ctx.samples().images.numpy()
    train = np.asarray(ctx.store.reference_at(tuple(images.shape[1:]), ctx.model).train_x)  # refuses, with the advice, a shape the reference cannot take
    if images.shape[1:] != train.shape[1:]:
        raise ModelOutputError(
            f"model '{ctx.model}' generates images of shape {tuple(images.shape[1:])}, "
            f"the reference '{ctx.reference.name}' has {tuple(train.shape[1:])}: pixel-space checks need the same shape"
        )
    return images.reshape(len(images), -1).astype(np.float64)


def reference_rows(ctx: CheckContext, split: str) -> np.ndarray:
    """The reference images of `split` ("train" or "test") as float64 pixel rows."""
    x = ctx.reference.train_x if split == "train" else ctx.reference.test_x
    x = np.asarray(x, dtype=np.float64)
    return x.reshape(len(x), -1)


def pixel_nn_train(ctx: CheckContext) -> np.ndarray:
    """Pixel-space L2 distance from each generated image to its nearest training image (memo)."""
    return ctx.memo("distribution.pixel_nn_train", lambda: nearest_distances(image_rows(ctx), reference_rows(ctx, "train")))


def near_duplicate_measurement(ctx: CheckContext, quantile: float = COPY_QUANTILE) -> Measurement:
    """Share of samples closer (pixel L2) to a training image than `quantile` of held-out real images are (Wilson CI)."""
    quantile = float(quantile)
    heldout_nn = ctx.reference_memo(
        "distribution.heldout_pixel_nn_train", lambda: nearest_distances(reference_rows(ctx, "test"), reference_rows(ctx, "train")),
    )
    threshold = copy_threshold(heldout_nn, quantile)
    nn = pixel_nn_train(ctx)
    copies = int((nn < threshold).sum())
    low, high = wilson_ci(copies, len(nn))
    return Measurement(near_duplicate_rate(nn, threshold), low, high, n=len(nn), details={
        "threshold_l2": threshold, "quantile": quantile, "expected_for_fresh_samples": quantile,
        "threshold_rule": f"the {quantile:.0%} quantile of held-out real images' nearest-training-image L2 distances",
        "near_duplicates": copies, "median_nn_l2": float(np.median(nn)), "median_nn_l2_heldout": float(np.median(heldout_nn)),
        "n_heldout": len(heldout_nn), "ci_note": "Wilson interval over samples, for the threshold as estimated",
    })


__all__ = ["image_rows", "near_duplicate_measurement", "pixel_nn_train", "reference_rows"]
