"""Quantized precisions on `torchscript:<file>` generators: skipped, with the true reason.

A TorchScript module (scripted or traced) refuses what every quantization backend does to a
network: its submodules cannot be reassigned to Python modules (int8, int8wo, int4wo swap each
Linear layer), and it takes no forward hooks and no torch.export (int8static). Its Linear layers
are `RecursiveScriptModule`s, not `nn.Linear`, so before the fix int8/int8wo/int4wo said the model
had no Linear layers (false: it has two) and int8static crashed into an error record (exit 4).
The bf16 cast still works on it and must change the images (a measured, not bit-identical, variant).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from audit.precision import UnsupportedPrecision, apply_precision

QUANTIZED_ON_CPU = ("int8", "int8wo", "int4wo", "int8static")
TRUE_REASON = ("is a TorchScript (scripted or traced) module", "its layers cannot be swapped or hooked")


class _MLP(torch.nn.Module):
    """Two Linear layers (64 -> 128 -> 256): int4wo's widths fit its kernel (multiples of 32 and 16)."""

    def __init__(self) -> None:
        super().__init__()
        self.l1 = torch.nn.Linear(64, 128)
        self.l2 = torch.nn.Linear(128, 256)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.l2(torch.relu(self.l1(z)))).view(z.shape[0], 1, 16, 16)


def _save(path: Path, traced: bool) -> Path:
    torch.manual_seed(0)
    net = _MLP().eval()
    module = torch.jit.trace(net, (torch.randn(2, 64),)) if traced else torch.jit.script(net)
    torch.jit.save(module, str(path), _extra_files={"audit.json": json.dumps({"latent_dim": 64, "num_classes": 0})})
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ts_quant")
    return {"scripted": _save(root / "scripted.pt", traced=False), "traced": _save(root / "traced.pt", traced=True)}


def _load(path: Path):
    from audit.adapters.loading import load_model

    return load_model(f"torchscript:{path}")


@pytest.mark.parametrize("kind", ["scripted", "traced"])
@pytest.mark.parametrize("precision", QUANTIZED_ON_CPU)
def test_quantized_precision_is_refused_with_the_true_reason(files, kind: str, precision: str):
    adapter = _load(files[kind])
    # the premise of the reason: the file has Linear layers, they are ScriptModules, not nn.Linear
    linears = [m for m in adapter.net.modules() if getattr(m, "original_name", "") == "Linear"]
    assert len(linears) == 2 and all(isinstance(m, torch.jit.ScriptModule) for m in linears)
    with pytest.raises(UnsupportedPrecision) as refused:
        apply_precision(adapter, precision, "cpu")
    reason = str(refused.value)
    assert f"precision '{precision}' cannot quantize model '{kind}'" in reason and "network 'generator'" in reason, reason
    assert all(part in reason for part in TRUE_REASON), reason
    assert "has none" not in reason and "\n" not in reason


def test_scripted_part_of_a_python_network_is_named():
    """A Python network holding a scripted submodule: the reason names that submodule."""
    from audit.adapters.model_files import TorchScriptGenerator

    class Wrapper(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = torch.jit.script(_MLP())

        def forward(self, z: torch.Tensor) -> torch.Tensor:
            return self.body(z)

    adapter = TorchScriptGenerator(Wrapper(), (64,), 0, name="wrapped")
    with pytest.raises(UnsupportedPrecision, match=r"its network 'generator\.body' is a TorchScript \(scripted or traced\) module"):
        apply_precision(adapter, "int8", "cpu")


def test_bf16_cast_still_runs_and_changes_the_images(files):
    adapter = _load(files["traced"])
    fp32 = adapter.sample(8, 0)
    cast = apply_precision(_load(files["traced"]), "bf16", "cpu")
    assert cast.info.precision == "bf16"
    bf16 = cast.sample(8, 0)
    assert bf16.shape == fp32.shape and not torch.equal(bf16, fp32)
    assert (bf16 - fp32).abs().max().item() < 0.05  # bf16 rounding, not another generator


def test_quantization_suite_skips_quantized_variants_of_torchscript(cli, files):
    """The outsider's command: fp32,bf16 and every CPU quantized precision; no error record,
    exit 0, each quantized variant skipped with the TorchScript reason, bf16 measured."""
    result = cli(
        "run", "suite=quantization", f"model=torchscript:{files['scripted']},torchscript:{files['traced']}",
        f"precision=fp32,bf16,{','.join(QUANTIZED_ON_CPU)}", "check=quantization.psnr", "n=64", "bootstrap=50",
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    records = {(Path(r["model"]).stem, r["precision"]): r for r in result.results["records"]}
    for kind in ("scripted", "traced"):
        for precision in QUANTIZED_ON_CPU:
            record = records[(kind, precision)]
            assert record["status"] == "skipped", record
            assert all(part in record["reason"] for part in TRUE_REASON), record["reason"]
        bf16 = records[(kind, "bf16")]
        assert bf16["status"] in ("measured", "pass") and 20 < bf16["value"] < float("inf"), bf16


def test_check_model_says_skipped_for_a_precision_it_cannot_run(cli, files):
    """`audit check-model precision=int8` on a TorchScript generator: the precision rule does not
    apply, and the line says SKIPPED with the reason, not PASS."""
    result = cli("check-model", f"model=torchscript:{files['scripted']}", "precision=int8", "n=4")
    assert result.exit_code == 0, result.stdout + result.stderr
    [line] = [l for l in result.stdout.splitlines() if l.strip().endswith("precision") or " precision " in l]
    assert "SKIPPED" in line and "PASS" not in line and TRUE_REASON[0] in line, line
