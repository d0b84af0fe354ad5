"""Shared helpers for training bundled models reproducibly on CPU."""

from __future__ import annotations

import functools
import random
from typing import Any, Callable, Iterator, TypeVar

import numpy as np

from audit.threads import intra_op_threads


F = TypeVar("F", bound=Callable[..., Any])


def single_threaded(fn: F) -> F:
    """Decorator: train on one torch thread so retraining reproduces on any core count."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with intra_op_threads(1):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def seed_everything(seed: int) -> "torch.Generator":  # noqa: F821
    """Seed Python, numpy and torch; return a torch Generator for explicit use."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def minibatches(n: int, batch_size: int, generator: "torch.Generator") -> Iterator["torch.Tensor"]:  # noqa: F821
    """Endless shuffled index batches (drop-last), driven by `generator` only."""
    import torch

    while True:
        order = torch.randperm(n, generator=generator)
        for start in range(0, n - batch_size + 1, batch_size):
            yield order[start : start + batch_size]


def random_shift(x: "torch.Tensor", generator: "torch.Generator", max_shift: int = 1, step: int = 1) -> "torch.Tensor":  # noqa: F821
    """Shift each image by up to `max_shift` steps of `step` pixels per axis (zero fill): cheap
    augmentation. `step` 2 keeps 2x-upsampled images on their source pixel grid."""
    import torch
    import torch.nn.functional as F

    n = x.shape[0]
    pad = max_shift * step
    padded = F.pad(x, (pad,) * 4)
    dx = torch.randint(0, 2 * max_shift + 1, (n,), generator=generator) * step
    dy = torch.randint(0, 2 * max_shift + 1, (n,), generator=generator) * step
    h, w = x.shape[-2:]
    rows = (dy[:, None] + torch.arange(h)[None, :])[:, None, :, None].expand(n, x.shape[1], h, w + 2 * pad)
    out = padded.gather(2, rows)
    cols = (dx[:, None] + torch.arange(w)[None, :])[:, None, None, :].expand(n, x.shape[1], h, w)
    return out.gather(3, cols)

