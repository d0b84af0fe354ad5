"""Device decisions on a machine without a GPU: the CUDA probes of audit.devices are replaced, so
these test the logic (auto picks CUDA, capability gates, the fits-in-memory rule before any
weight moves) with sizes computed here from the layers' shapes, not by the code under test."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

import audit.devices as devices
from audit.config import parse_run_words
from audit.devices import ModelTooLarge, capability_shortfall, fit_problem, resolve_device
from audit.errors import InputError
from audit.plan import make_plan
from audit.precision import UnsupportedPrecision, apply_precision
from tests.helpers import assert_one_line_error

MIB = 1024**2
GIB = 1024**3


class _LinearAdapter:
    """The least an adapter needs for apply_precision: info, modules() and to(), which records calls."""

    def __init__(self, width: int = 1024) -> None:
        self.net = torch.nn.Linear(width, width)
        self.info = SimpleNamespace(name="tiny", family="transformer", precision="fp32", device="cpu")
        self.moves: list[tuple[str, torch.dtype]] = []

    def modules(self):
        return {"net": self.net}

    def to(self, device, dtype=None):
        self.moves.append((str(device), dtype))
        return self


def _gpu(monkeypatch: pytest.MonkeyPatch, capability=(9, 0), free=80 * GIB, total=80 * GIB) -> None:
    monkeypatch.setattr(devices, "cuda_available", lambda: True)
    monkeypatch.setattr(devices, "cuda_capability", lambda device="cuda": capability)
    monkeypatch.setattr(devices, "cuda_memory", lambda device="cuda": (free, total))
    monkeypatch.setattr(devices, "cuda_name", lambda device="cuda": "Fake GPU")


def test_auto_picks_cuda_when_present_and_cpu_otherwise(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(devices, "cuda_available", lambda: True)
    assert resolve_device("auto") == "cuda"
    assert resolve_device("cpu") == "cpu"
    monkeypatch.setattr(devices, "cuda_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    with pytest.raises(InputError, match="no CUDA device"):
        resolve_device("cuda")


def test_run_on_cuda_without_cuda_is_one_line_and_exit_2(cli, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert_one_line_error(cli("run", "suite=smoke", "model=gan", "device=cuda"), 2, "device=cuda", "no CUDA device is available")


def test_capability_gate_names_the_needed_and_present_generation(monkeypatch: pytest.MonkeyPatch):
    _gpu(monkeypatch, capability=(8, 6))
    assert capability_shortfall(None, "cuda") is None
    assert capability_shortfall((8, 0), "cuda") is None
    why = capability_shortfall((8, 9), "cuda")
    assert "8.9" in why and "Fake GPU is 8.6" in why


@pytest.mark.parametrize(("precision", "capability", "needed"), [("fp8", (8, 6), "8.9"), ("int4wo", (7, 5), "8.0")])
def test_precision_skipped_on_an_older_gpu_before_anything_moves(monkeypatch, precision, capability, needed):
    _gpu(monkeypatch, capability=capability)
    adapter = _LinearAdapter()
    with pytest.raises(UnsupportedPrecision, match=needed):
        apply_precision(adapter, precision, "cuda")
    assert adapter.moves == []


def test_fit_problem_names_the_size_and_the_free_memory(monkeypatch: pytest.MonkeyPatch):
    _gpu(monkeypatch, free=1 * GIB, total=24 * GIB)
    assert fit_problem("big", GIB, "cuda", "fp16") is None
    line = fit_problem("big", 3 * GIB, "cuda", "fp16")
    assert "'big'" in line and "3.00 GiB" in line and "1.00 GiB free" in line and "24.00 GiB" in line
    assert "\n" not in line


@pytest.mark.parametrize(("precision", "width"), [("fp32", 4), ("fp16", 2), ("bf16", 2), ("int4wo", 2)])
def test_a_model_too_big_for_the_gpu_stops_before_its_weights_move(monkeypatch, precision, width):
    adapter = _LinearAdapter(1024)
    need = (1024 * 1024 + 1024) * width  # weight and bias in the dtype they will have on the GPU
    _gpu(monkeypatch, free=need - 1)
    with pytest.raises(ModelTooLarge, match=f"{need / MIB:.1f} MiB") as raised:
        apply_precision(adapter, precision, "cuda")
    assert f"{(need - 1) / MIB:.1f} MiB free" in str(raised.value)
    assert adapter.moves == []


def test_a_model_that_fits_is_moved_in_its_dtype(monkeypatch: pytest.MonkeyPatch):
    adapter = _LinearAdapter(64)
    _gpu(monkeypatch, free=(64 * 64 + 64) * 2)
    apply_precision(adapter, "fp16", "cuda")
    assert adapter.moves == [("cuda", torch.float16)]
    assert adapter.info.device == "cuda" and adapter.info.precision == "fp16"


def _size(n: int) -> str:
    """Sizes below 1 GiB as the messages write them: MiB with one decimal, below 1 MiB in bytes."""
    return f"{n / MIB:.1f} MiB" if n >= MIB else f"{n} bytes"


def _gan_weights_bytes() -> int:
    folder = Path(__file__).resolve().parents[2] / "audit_reference_models" / "weights"
    return (folder / "gan.safetensors").stat().st_size


def test_plan_refuses_a_declared_model_too_big_for_the_gpu(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    size = _gan_weights_bytes()
    _gpu(monkeypatch, free=size // 4)
    words = ["suite=smoke", "model=gan", "device=cuda", f"out={tmp_path}"]
    with pytest.raises(InputError, match="model 'gan' needs") as raised:
        make_plan(parse_run_words([*words, "precision=fp32"]))
    assert f"needs {_size(size)}" in str(raised.value) and f"{_size(size // 4)} free" in str(raised.value)
    # fp16 halves the float32 file: it fits in half the file's size, not in a quarter
    with pytest.raises(InputError, match=f"needs {_size(size // 2)}"):
        make_plan(parse_run_words([*words, "precision=fp16"]))
    _gpu(monkeypatch, free=size // 2)
    assert make_plan(parse_run_words([*words, "precision=fp16"])).device == "cuda"


def test_a_model_too_big_for_the_gpu_is_an_error_record_of_that_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """A model whose size is known only once built (an import path) passes the plan and stops
    before its weights move: one line in its records, the run goes on and is judged."""
    from audit.runner import execute

    _gpu(monkeypatch, free=4)  # the fixture's Linear(1, 1) holds 2 float32 numbers: 8 bytes
    plan = make_plan(parse_run_words(["suite=efficiency", "model=fixture_models:noise", "check=efficiency.params",
                                      "device=cuda", f"out={tmp_path}"]))
    records = execute(plan).results["records"]
    assert [r["status"] for r in records] == ["error"]
    reason = records[0]["reason"]
    assert reason.startswith("ModelTooLarge: model 'uniform-noise' needs 8 bytes of GPU memory")  # the adapter's own name
    assert "4 bytes free on cuda" in reason and "\n" not in reason
