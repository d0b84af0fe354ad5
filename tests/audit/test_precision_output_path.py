"""A variant's networks must be on the output path: a decoy whose modules() never runs but whose
outputs carry noise from torch's global RNG is never bit-identical to fp32, so only counting the
calls of modules() while it samples tells that its variant measured fp32 (error records, exit 4:
tests/audit/checks/test_quantization_changed_nothing.py runs it beside the bundled GAN)."""

from __future__ import annotations

import torch

from audit.adapters.loading import load_model
from audit.precision import PrecisionChangedNothing, networks_ran


def test_networks_ran_counts_the_calls_of_modules():
    from quantization_models import noisy_decoy

    decoy = noisy_decoy()
    assert networks_ran(decoy, lambda: decoy.sample(2, 0)) is False
    gan = load_model("gan", "int8")
    assert networks_ran(gan, lambda: gan.sample(2, 0, labels=torch.arange(2))) is True
    assert not any(m._forward_pre_hooks for root in gan.modules().values() for m in root.modules())  # hooks removed


def test_a_torchscript_network_cannot_be_told():
    class Scripted:
        def modules(self) -> dict[str, torch.nn.Module]:
            return {"net": torch.jit.script(torch.nn.Linear(2, 2))}

    assert networks_ran(Scripted(), lambda: None) is None


def test_the_reason_names_what_did_not_run():
    reason = str(PrecisionChangedNothing("m", "int8", "sample(2)", "the networks modules() returns did not run while sampling"))
    assert "precision int8 changed nothing in the outputs of model 'm' (sample(2): the networks modules() returns did not run while sampling)" in reason
