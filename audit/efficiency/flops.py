"""FLOPs of one workload call, counted by `torch.utils.flop_counter.FlopCounterMode`.

FlopCounterMode counts the floating-point work of matmuls, convolutions and attention (2 FLOPs
per multiply-add) as dispatched; elementwise ops are not counted. It does not see quantized
kernels (torch.ao's dynamic int8 Linear, ATen int8/int4 weight-only matmuls, oneDNN int8 convs),
so for quantized variants the count is taken on the float32 model: the same arithmetic, done in
integers.
"""

from __future__ import annotations

from typing import Any, Callable


def count_flops(fn: Callable[[], Any]) -> tuple[int, dict[str, int]]:
    """(total FLOPs, FLOPs by operator) of one call of `fn`."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        fn()
    by_op: dict[str, int] = {}
    for ops in counter.get_flop_counts().values():
        for op, count in ops.items():
            by_op[str(op)] = by_op.get(str(op), 0) + int(count)
        break  # the "Global" entry holds every op once
    return int(counter.get_total_flops()), by_op
