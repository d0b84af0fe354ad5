"""Efficiency probes shared by the `efficiency` and `quantization` suites: interleaved timing
(timing; CUDA events on a GPU), peak memory in an isolated process and memory bandwidth (memory), energy (energy) and
FLOPs (flops). Nothing here imports torch at import time."""

from audit.efficiency.timing import Workload, interleaved, quantile_ci, time_call

__all__ = ["Workload", "interleaved", "quantile_ci", "time_call"]
