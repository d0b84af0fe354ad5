"""Images as pixel rows, and how close generated images come to training images in pixel space.

The quality suite's near-duplicate rate and the privacy suite's near-copy rate are one
measurement, and the privacy attacks read the same pixel rows; they share these helpers and
their run-wide memo entries, so each distance matrix is computed once per run. Both thresholds
(near copy, verbatim copy) come from held-out images' distances to the training split, less the
held-out images that have a twin there (a reference whose splits share images, as CIFAR's do).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from audit.checks.base import Measurement
from audit.errors import ModelOutputError
from audit.metrics.diversity import (
    COPY_QUANTILE, EXACT_COPY_FRACTION, copies_below, copy_threshold, exact_copy_floor, exact_copy_tolerance, nearest_distances,
)
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


def heldout_pixel_nn(ctx: CheckContext) -> np.ndarray:
    """Pixel-space L2 distance from each held-out reference image to its nearest training image (reference memo)."""
    return ctx.reference_memo(
        "distribution.heldout_pixel_nn_train", lambda: nearest_distances(reference_rows(ctx, "test"), reference_rows(ctx, "train")),
    )


def _copy_floor(ctx: CheckContext) -> float:
    """One grey level per pixel of the reference's images, as an L2 distance (`exact_copy_floor`)."""
    return exact_copy_floor(int(np.prod(np.asarray(ctx.reference.test_x).shape[1:])))


def reference_duplicates(heldout_nn: np.ndarray, floor: float) -> dict[str, Any]:
    """How many held-out images have a twin (L2 <= `floor`) in the training split, and a warning when any do."""
    twins = int((np.asarray(heldout_nn) <= floor).sum())
    out: dict[str, Any] = {"heldout_with_training_twin": twins}
    if twins:
        out["reference_warning"] = (f"{twins} of {len(heldout_nn)} held-out images have a twin in the training split "
                                    f"(L2 <= {floor:.4g}): the splits share images; they are left out of the threshold's quantile")
    return out


def near_duplicate_measurement(ctx: CheckContext, quantile: float = COPY_QUANTILE) -> Measurement:
    """Share of samples closer (pixel L2) to a training image than `quantile` of held-out real images are (Wilson CI)."""
    quantile = float(quantile)
    heldout_nn = heldout_pixel_nn(ctx)
    floor = _copy_floor(ctx)
    threshold = copy_threshold(heldout_nn, quantile, floor)
    nn = pixel_nn_train(ctx)
    copies = int(copies_below(nn, threshold, floor).sum())
    low, high = wilson_ci(copies, len(nn))
    return Measurement(copies / len(nn), low, high, n=len(nn), details={
        "threshold_l2": threshold, "quantile": quantile, "expected_for_fresh_samples": quantile,
        "threshold_rule": (f"the {quantile:.0%} quantile of held-out real images' nearest-training-image L2 distances above "
                           f"{floor:.4g} (one grey level per pixel: held-out images with a training twin are left out); "
                           "an exact copy (L2 <= that floor) always counts"),
        "threshold_floor_l2": floor, "exact_copies": int((nn <= floor).sum()),
        "near_duplicates": copies, "median_nn_l2": float(np.median(nn)), "median_nn_l2_heldout": float(np.median(heldout_nn)),
        "n_heldout": len(heldout_nn), **reference_duplicates(heldout_nn, floor),
        "ci_note": "Wilson interval over samples, for the threshold as estimated",
    })


def exact_copy_measurement(ctx: CheckContext) -> Measurement:
    """Share of samples within the verbatim-copy tolerance (pixel L2) of a training image (Wilson CI)."""
    heldout_nn = heldout_pixel_nn(ctx)
    floor = _copy_floor(ctx)
    tolerance = exact_copy_tolerance(heldout_nn, floor)
    nn = pixel_nn_train(ctx)
    copies = int((nn <= tolerance).sum())
    low, high = wilson_ci(copies, len(nn))
    return Measurement(copies / len(nn), low, high, n=len(nn), details={
        "tolerance_l2": tolerance,
        "tolerance_rule": (f"{EXACT_COPY_FRACTION:g} x the smallest held-out image's nearest-training-image L2 distance above "
                           f"{floor:.4g} (one grey level per pixel), at least that floor: no fresh image of the data distribution "
                           "falls this close to a training image"),
        "min_heldout_nn_l2": float(heldout_nn[heldout_nn > floor].min()), "threshold_floor_l2": floor,
        "exact_copies": int((nn <= floor).sum()), "copies": copies, "expected_for_fresh_samples": 0.0,
        "n_heldout": len(heldout_nn), **reference_duplicates(heldout_nn, floor),
        "ci_note": "Wilson interval over samples",
    })


__all__ = [
    "exact_copy_measurement", "heldout_pixel_nn", "image_rows", "near_duplicate_measurement", "pixel_nn_train", "reference_duplicates",
    "reference_rows",
]
