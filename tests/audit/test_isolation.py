"""A model's process-wide settings end with its unit; the audit's shared instruments are built
under the stock settings whatever the model that asked first had set."""

from __future__ import annotations

import numpy as np
import torch

from audit.isolation import harness_defaults, restored_globals


def test_restored_globals_puts_back_what_the_block_changed() -> None:
    before = (torch.get_default_dtype(), torch.get_num_threads(), torch.is_grad_enabled(), np.geterr())
    with restored_globals():
        torch.set_default_dtype(torch.float64)
        torch.set_num_threads(1)
        torch.set_grad_enabled(False)
        torch.use_deterministic_algorithms(True)
        np.seterr(all="raise")
    assert (torch.get_default_dtype(), torch.get_num_threads(), torch.is_grad_enabled(), np.geterr()) == before
    assert not torch.are_deterministic_algorithms_enabled()


def test_harness_defaults_build_float32_modules_under_a_float64_model_and_leave_its_settings() -> None:
    with restored_globals():
        torch.set_default_dtype(torch.float64)
        np.seterr(all="raise")
        with harness_defaults():
            layer = torch.nn.Linear(2, 2)
            quiet = np.float64(1.0) / np.float64(0.0)  # a warning, not FloatingPointError
        assert layer.weight.dtype == torch.float32 and np.isinf(quiet)
        assert torch.get_default_dtype() == torch.float64 and np.geterr()["divide"] == "raise"  # the model's, back


def test_no_default_device_mode_is_left_behind() -> None:
    from torch.utils import _device

    assert _device.CURRENT_DEVICE is None
    with restored_globals():
        with harness_defaults():
            torch.nn.Linear(2, 2)
    assert _device.CURRENT_DEVICE is None  # no torch function mode installed on every later call
    with restored_globals():
        torch.set_default_device("meta")
        with harness_defaults():
            assert torch.zeros(1).device.type == "cpu"
        assert torch.zeros(1).device.type == "meta"  # the model's own setting inside its unit
    assert _device.CURRENT_DEVICE is None and torch.zeros(1).device.type == "cpu"
