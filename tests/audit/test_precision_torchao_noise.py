"""`import torchao` (0.18) logs `Failed to load .../torchao/_C_mxfp8...so` and `_C_cutlass_90a`
(optional CUDA kernels no precision here calls) and makes torch log a pytree deprecation note
for torchao's Enums: audit.precision filters exactly those records (TorchaoImportNoise), so a
quantized run's stderr stays clean while every other torchao warning still shows."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from enum import Enum

import pytest

from audit.precision import TORCHAO_UNUSED_EXTENSIONS, TorchaoImportNoise


def test_importing_torchao_after_audit_precision_writes_nothing_to_stderr():
    pytest.importorskip("torchao")
    env = {k: v for k, v in os.environ.items() if k != "TORCHAO_FORCE_SKIP_LOADING_SO_FILES"}
    done = subprocess.run([sys.executable, "-c", "import audit.precision, torchao.quantization"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    for noise in ("Failed to load", "_C_mxfp8", "_C_cutlass_90a", "is an Enum subclass"):
        assert noise not in done.stderr, done.stderr


def _record(name: str, msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(name, logging.WARNING, __file__, 1, msg, args, None)


_ELSEWHERE = Enum("Preference", {"AUTO": "auto"}, module="somebody.else")
_TORCHAOS = Enum("KernelPreference", {"AUTO": "auto"}, module="torchao.quantization.quantize_.common.kernel_preference")


def test_the_filter_drops_only_torchaos_import_noise():
    keep = TorchaoImportNoise().filter
    sep = os.sep
    for name in TORCHAO_UNUSED_EXTENSIONS:
        assert not keep(_record("torchao", "Failed to load %s: %s", f"{sep}site{sep}torchao{sep}{name}.abi3.so", "Could not load this library"))
    assert keep(_record("torchao", "Failed to load %s: %s", f"{sep}site{sep}torchao{sep}_C.abi3.so", "undefined symbol"))  # an extension audit may use
    assert keep(_record("torchao", "Skipping import of cpp extensions due to incompatible torch version."))
    assert keep(_record("torchao.quantization", "Failed to load %s: x", f"{sep}torchao{sep}_C_mxfp8.so"))  # another logger: not this filter's

    note = "%s is an Enum subclass and is now natively supported by torch.compile as an opaque value type. Calling register_constant() on Enum subclasses is deprecated and will be an error in a future release."
    assert not keep(_record("torch.utils._pytree", note, _TORCHAOS))
    assert keep(_record("torch.utils._pytree", note, _ELSEWHERE))
    assert keep(_record("torch.utils._pytree", "something else about %s", _TORCHAOS))


def test_the_filter_is_on_both_loggers_once():
    for name in ("torchao", "torch.utils._pytree"):
        attached = [f for f in logging.getLogger(name).filters if type(f).__name__ == "TorchaoImportNoise"]
        assert len(attached) == 1
        assert logging.getLogger(name).level in (logging.NOTSET, logging.WARNING, logging.INFO, logging.DEBUG)  # not silenced wholesale
