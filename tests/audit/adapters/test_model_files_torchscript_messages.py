"""The one stderr line of a `torchscript:<file>` generator whose probe images break the image
contract names the model once (it used to read "TorchScript generator TorchScript generator
'tuple' returned tuple..." and "TorchScript generator model 'torchscript:...' sample() returned...")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch


class _Tuple(torch.nn.Module):
    def forward(self, z: torch.Tensor):
        return torch.sigmoid(z.view(-1, 1, 4, 4)), z


class _Uint8(torch.nn.Module):
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return (torch.sigmoid(z.view(-1, 1, 4, 4)) * 255).to(torch.uint8)


def _save(path: Path, module: torch.nn.Module) -> Path:
    torch.jit.save(torch.jit.script(module), str(path), _extra_files={"audit.json": json.dumps({"latent_dim": 16, "num_classes": 0})})
    return path


@pytest.mark.parametrize(
    "module, said",
    [
        (_Tuple(), "returned tuple, expected a tensor [N, C, H, W]"),
        (_Uint8(), "returned dtype torch.uint8, expected a float tensor"),
    ],
    ids=["tuple", "uint8"],
)
def test_probe_failure_is_one_line_naming_the_model_once(cli, tmp_path: Path, module: torch.nn.Module, said: str):
    path = _save(tmp_path / "gen.pt", module)
    result = cli("run", "suite=smoke", f"model=torchscript:{path}", "check=quality.fid", "n=32")
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [f"audit: error: Model 'torchscript:{path}': the TorchScript generator {said}."]
