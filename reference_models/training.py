"""Shared helpers for training bundled models reproducibly on CPU."""

from __future__ import annotations

import functools
import random
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import numpy as np


F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def intra_op_threads(n: int) -> Iterator[None]:
    """Run with `n` torch threads, then restore: one thread makes the float reductions (hence
    the weights) independent of the machine's core count, and wastes no time in thread
    barriers on a shared machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


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


from audit.config import writable_folder  # noqa: E402,F401  (re-exported for audit train)


def train_with_quick_reference(train_fn: Any, weights_name: str, seed: int, out_dir: "Path", quick: bool, **kwargs: Any) -> dict[str, Any]:
    """Run `train_fn`; after a full run, also run the quick mode into a temporary folder and
    record its metrics in the manifest as `quick_reference`, so tests can check that a
    shortened retraining still reproduces what was recorded (see tests/reference_models)."""
    import json
    import tempfile
    from pathlib import Path

    metrics = train_fn(seed=seed, out_dir=out_dir, quick=quick, **kwargs)
    if not quick:
        with tempfile.TemporaryDirectory() as tmp:
            quick_metrics = train_fn(seed=seed, out_dir=Path(tmp), quick=True, log=lambda *a: None, **kwargs)
        path = Path(out_dir) / f"{weights_name}.json"
        manifest = json.loads(path.read_text())
        manifest["quick_reference"] = {"seed": seed, "metrics": quick_metrics}
        path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return metrics
