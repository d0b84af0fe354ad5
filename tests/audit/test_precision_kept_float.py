"""Every float weight a quantized variant leaves in float is listed with its reason (raw
Parameters, layer kinds it does not cover), and a variant that quantized almost nothing is not
measured under an integer name: its records are skipped with the reason (never a pass of an
"int8" model that is fp32)."""

from __future__ import annotations

import pytest
import torch

from audit.adapters.loading import load_model
from audit.precision import MIN_QUANTIZED_SHARE, UnsupportedPrecision, apply_precision
from tests.helpers import run_cli


def test_a_model_of_raw_parameters_is_refused_in_int8_with_what_stayed_float():
    from quantization_models import raw_body

    with pytest.raises(UnsupportedPrecision) as refused:
        apply_precision(raw_body(), "int8", "cpu")
    message = str(refused.value)
    assert "precision 'int8' quantized 0.4% of the weights of model 'raw-body' (704 of 165,312)" in message
    assert "raw Parameters w1, b1, w2, b2 (164,608 weights)" in message and "\n" not in message


@pytest.mark.parametrize("precision", ["int8", "int8wo", "int4wo"])
def test_the_bundled_gan_lists_its_convolutions_and_norms(precision):
    """The GAN's Linear projection is quantized (54% of its weights); its transposed convolutions,
    batch norms and label embedding stay float and are listed, with their weight counts."""
    summary = load_model("gan", precision).quantization
    assert summary.quantized_share > MIN_QUANTIZED_SHARE
    kinds = " ".join(summary.kept_float.values())
    assert "ConvTranspose2d layer" in kinds and "Embedding layer (320 weights)" in kinds
    assert all("does not cover" in why for why in summary.kept_float.values())
    listed = sum(int(why.split("(")[1].split(" weights")[0].replace(",", "")) for why in summary.kept_float.values())
    assert listed + summary.quantized_params == summary.total_params  # every weight is either quantized or listed


def test_raw_parameters_beside_linear_layers_are_listed():
    class Mixed(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = torch.nn.Linear(64, 64)
            self.scale = torch.nn.Parameter(torch.ones(64))
            self.rnn = torch.nn.GRU(8, 8)

    class Adapter:
        def __init__(self) -> None:
            from audit.adapters.base import ModelInfo

            self.net = Mixed()
            self.info = ModelInfo(name="mixed", family="gan", params=0)

        def modules(self) -> dict[str, torch.nn.Module]:
            return {"g": self.net}

        def to(self, device=None, dtype=None):  # noqa: ANN001, ANN201
            self.net.to(device=device, dtype=dtype)
            return self

    summary = apply_precision(Adapter(), "int8", "cpu").quantization
    assert summary.quantized == ["g.fc"]
    assert summary.kept_float["g"].startswith("raw Parameter scale (64 weights)")
    assert summary.kept_float["g.rnn"].startswith("GRU layer (")


def test_the_run_skips_the_variant_with_the_reason(tmp_path):
    result = run_cli("run", "suite=quantization", "model=quantization_models:raw_body", "precision=fp32,int8", "n=16", "bootstrap=20",
                     "check=quantization.delta_fid,quantization.size_ratio", f"out={tmp_path}")
    assert result.exit_code == 5, result.stdout + result.stderr  # nothing judged: never a pass
    int8 = [r for r in result.results["records"] if r["precision"] == "int8"]
    assert len(int8) == 2 and all(r["status"] == "skipped" and "quantized 0.4% of the weights" in r["reason"] for r in int8)
