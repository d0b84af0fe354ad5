"""Torch's intra-op thread count, set for a block of work and restored after it."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

__all__ = ["intra_op_threads", "single_blas_thread"]


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


@contextmanager
def single_blas_thread() -> Iterator[None]:
    """Run with numpy's BLAS on one thread, then restore: on few cores, BLAS threads and torch's
    OpenMP threads otherwise oversubscribe them and a run slows down several-fold."""
    from threadpoolctl import threadpool_limits

    limits = threadpool_limits(limits=1, user_api="blas")
    try:
        yield
    finally:
        limits.restore_original_limits()
