"""check-model's precision rule asks, as the quantization suite does, whether the networks
`modules()` returns ran while the variant made its output (audit.precision.networks_ran): a decoy
that casts its hidden network to the dtype its decoy reports changes its outputs (so they are not
bit-identical to fp32's) while nothing the precision quantizes is on their path."""

from __future__ import annotations

import pytest
import torch

from audit.testing import ContractError, check_adapter
from byo import adapters as fx


class DtypeFollowingDecoy(fx.HiddenNetwork):
    """Runs its hidden network in whatever dtype its decoy holds: bf16 changes the output, yet the
    decoy, the only network a precision variant touches, never runs."""

    @torch.no_grad()
    def sample(self, n, seed, labels=None):
        labels = torch.arange(n) % 10 if labels is None else labels.long()
        dtype = self.decoy.weight.dtype
        hidden = self.net.to(dtype)
        try:
            return hidden(self.latent(n, seed).to(dtype), labels).float()
        finally:
            self.net.float()


def test_a_decoy_whose_output_moves_with_the_dtype_fails_the_precision_rule():
    with pytest.raises(ContractError) as raised:
        check_adapter(DtypeFollowingDecoy())
    assert raised.value.rule == "precision", str(raised.value)
    assert "none of the networks modules() returns ran" in str(raised.value)


def test_a_model_whose_networks_run_passes():
    check_adapter(fx.GoodGAN())
