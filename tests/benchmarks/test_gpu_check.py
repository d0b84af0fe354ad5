"""benchmarks/gpu_check.py, the one command that proves the CUDA paths: its dry run here lists
the GPU commands and states the goals; its goal and fp8 decisions are checked on synthetic
inputs whose answers are worked out in the test. The full dry run (it runs the CPU stand-ins,
~3 minutes on 2 busy cores) is marked slow."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gpu_check():
    return _load("gpu_check")


def test_dry_run_lists_the_gpu_commands_and_the_goals(gpu_check, tmp_path: Path):
    report = gpu_check.main(["--cpu", "--plan-only", "--out", str(tmp_path / "dry.json"), "--work", str(tmp_path / "work")])
    assert json.loads((tmp_path / "dry.json").read_text()) == json.loads(json.dumps(report, default=str))
    assert report["mode"] == "dry run (--cpu)" and report["gpu"]["present"] is False
    steps = report["steps"]
    assert list(steps) == ["gpu_tests", "quantization_suite", "decode_benchmark"]
    assert "-m gpu" in steps["gpu_tests"]["command"] and "test_precision_cuda.py" in steps["gpu_tests"]["command"]
    suite = steps["quantization_suite"]["command"]
    assert "model=transformer-scaled" in suite and "device=cuda" in suite
    assert "precision=fp32,fp16,bf16,int8,int8wo,int4wo,fp8" in suite
    assert "--device cuda" in steps["decode_benchmark"]["command"] and steps["decode_benchmark"]["cpu_stand_in"] is None
    assert "device=cpu" in steps["quantization_suite"]["cpu_stand_in"]
    assert all(s["status"].startswith("not run") for s in steps.values())
    assert sum(s["limit_s"] for s in steps.values()) <= 8 * 60
    assert [g["met"] for g in report["goals"]] == [None, None, None]  # nothing measured: no verdict
    assert "2.5x" in report["goals"][0]["goal"] and "50%" in report["goals"][1]["goal"]


def test_without_a_gpu_the_real_check_stops_with_one_line(gpu_check, tmp_path: Path, capsys):
    with pytest.raises(SystemExit) as stopped:
        gpu_check.main(["--out", str(tmp_path / "x.json"), "--work", str(tmp_path / "work")])
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no CUDA device" in err[0] and "--cpu" in err[0]


def test_fp8_joins_the_suite_only_from_compute_capability_8_9(gpu_check):
    assert "fp8" not in gpu_check.cuda_precisions({"present": True, "capability": [8, 6]})  # A10, RTX 30xx
    assert "fp8" not in gpu_check.cuda_precisions({"present": True, "capability": [8, 0]})  # A100
    assert gpu_check.cuda_precisions({"present": True, "capability": [8, 9]})[-1] == "fp8"  # L4, RTX 40xx
    assert gpu_check.cuda_precisions({"present": True, "capability": [9, 0]})[-1] == "fp8"  # H100


def test_quality_goal_is_met_only_when_every_gated_record_passes(gpu_check):
    passing = {"records": {"int4wo": {"quantization.delta_perplexity_pct": {"status": "pass"}, "quantization.speedup": {"status": "measured"}}}}
    assert gpu_check.judge_goals(None, passing)[-1]["met"] is True
    failing = {"records": {"int4wo": {"quantization.delta_perplexity_pct": {"status": "fail"}},
                           "int8wo": {"quantization.delta_perplexity_pct": {"status": "pass"}}}}
    goal = gpu_check.judge_goals(None, failing)[-1]
    assert goal["met"] is False and goal["not_passing"] == ["int4wo quantization.delta_perplexity_pct: fail"]


def test_decode_goals_compare_int4wo_with_fp16_in_the_faster_mode():
    decode = _load("quantized_decode")
    rows = {"fp16": {"tokens_per_s_median": 100.0, "bandwidth_fraction": 0.10},
            "int4wo": {"tokens_per_s_median": 180.0, "bandwidth_fraction": 0.20},
            "fp16+compile": {"tokens_per_s_median": 200.0, "bandwidth_fraction": 0.25},
            "int4wo+compile": {"tokens_per_s_median": 560.0, "bandwidth_fraction": 0.55}}
    speed, bandwidth = decode.cuda_goals(rows)
    assert speed["compared"] == ["int4wo+compile", "fp16+compile"]
    assert speed["measured"] == pytest.approx(2.8) and speed["met"] is True
    assert bandwidth["measured"] == pytest.approx(0.55) and bandwidth["met"] is True
    eager_only = {k: v for k, v in rows.items() if "+" not in k}
    speed, bandwidth = decode.cuda_goals(eager_only)
    assert speed["measured"] == pytest.approx(1.8) and speed["met"] is False and bandwidth["met"] is False
    unmeasured = decode.cuda_goals({"fp32": rows["fp16"]})  # int4wo or fp16 skipped: no verdict, not a failure
    assert [g["met"] for g in unmeasured] == [None, None]


@pytest.mark.slow
def test_full_dry_run_runs_the_cpu_stand_ins(gpu_check, tmp_path: Path):
    report = gpu_check.main(["--cpu", "--out", str(tmp_path / "dry.json"), "--work", str(tmp_path / "work")])
    assert report["gpu_tests"]["skipped"] == report["gpu_tests"]["tests"] > 0
    assert report["gpu_tests"]["skip_reasons"] == ["needs a CUDA device (torch.cuda.is_available() is False)"]
    records = report["quantization_suite"]["records"]
    assert set(records) == {"fp32", "bf16", "int8wo", "int4wo"}
    assert 0.3 < records["int4wo"]["quantization.size_ratio"]["value"] < records["int8wo"]["quantization.size_ratio"]["value"] < 0.6
