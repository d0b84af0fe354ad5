"""executor=ray on a real local Ray cluster (2 CPUs, started once for this module): the same
records as a local run, a killed worker retried then recorded, Ctrl-C/SIGTERM cancelling the
cluster's tasks, resource requests, and the one-line error without Ray."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

ray = pytest.importorskip("ray")

import audit  # noqa: E402
from audit.errors import InputError  # noqa: E402
from audit.ray_executor import MAX_RETRIES  # noqa: E402

FAST = dict(n=16, bootstrap=20, cache="off")
"""Small runs: the records' equality, not their precision, is under test."""


@pytest.fixture(scope="module", autouse=True)
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The module's cluster; its workers inherit $AUDIT_TEST_EMBED_LOG (counting_evaluator's log)."""
    from counting_evaluator import LOG_ENV

    previous = os.environ.get(LOG_ENV)
    os.environ[LOG_ENV] = str(tmp_path_factory.mktemp("embed-log") / "rows.log")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()
    if previous is None:
        os.environ.pop(LOG_ENV, None)
    else:
        os.environ[LOG_ENV] = previous


def _comparable(records: list[dict[str, Any]]) -> list[Any]:
    """Each record without its timing, in a fixed order, its floats as `pytest.approx` to 1e-6
    relative: a Ray task runs torch on one thread per CPU it holds (Ray sets OMP_NUM_THREADS),
    the driver on the machine's cores, and float sums differ in their last digits (1e-8
    relative on 2 physical cores); every other field is equal."""
    def approx(value: Any) -> Any:
        if isinstance(value, float):
            return pytest.approx(value, rel=1e-6, abs=1e-12)
        if isinstance(value, dict):
            return {k: approx(v) for k, v in value.items()}
        if isinstance(value, list):
            return [approx(v) for v in value]
        return value

    ordered = sorted(records, key=lambda r: json.dumps([r.get("model"), r.get("precision"), r.get("check")]))
    return [approx({k: v for k, v in r.items() if k != "duration_s"}) for r in ordered]


def test_ray_records_equal_local_ones(tmp_path: Path) -> None:
    models = ["gan", "transformer", "ray_fault_models:noise"]
    local = audit.run("smoke", models=models, out=tmp_path / "local", **FAST)
    on_ray = audit.run("smoke", models=models, out=tmp_path / "ray", executor="ray", **FAST)
    assert len(local.records) == 5
    assert _comparable(on_ray.records) == _comparable(local.records)
    assert on_ray.exit_code == local.exit_code
    cluster = on_ray.results["fingerprint"]["cluster"]
    assert (cluster["executor"], cluster["ray_version"], cluster["cpus"]) == ("ray", ray.__version__, 2.0)
    assert "cluster" not in local.results["fingerprint"]
    assert local.results["fingerprint"]["files"] == on_ray.results["fingerprint"]["files"]
    streamed = (on_ray.run_dir / "results.jsonl").read_text().splitlines()
    assert len(streamed) == 1 + 5 + 1  # the header, every record, then the end line
    grids = [m["sample_grid"] for m in on_ray.results["models"] if m.get("sample_grid")]
    assert grids and all((on_ray.run_dir / g).is_file() for g in grids)  # a worker's artifacts land in the run folder


def test_the_reference_is_featurized_once_for_all_units(tmp_path: Path) -> None:
    from counting_evaluator import LOG_ENV

    from audit.evaluators import digits_reference

    log = Path(os.environ[LOG_ENV])

    def featurized_rows() -> list[int]:
        return [int(line.split()[1]) for line in log.read_text().splitlines()] if log.is_file() else []

    models = ["gan", "ray_fault_models:noise"]
    settings = dict(check="quality.fid", evaluator="counting_evaluator:network", **FAST)
    before = len(featurized_rows())
    local = audit.run("smoke", models=models, out=tmp_path / "local", **settings)
    middle = len(featurized_rows())
    on_ray = audit.run("smoke", models=models, out=tmp_path / "ray", executor="ray", **settings)
    local_rows, ray_rows = featurized_rows()[before:middle], featurized_rows()[middle:]
    reference = digits_reference()
    once = len(reference.train_x) + len(reference.test_x) + len(models) * FAST["n"]  # both splits once, each model's samples
    assert once <= sum(local_rows) < once + FAST["n"]  # and the evaluator's probe at plan time (a few rows)
    assert sorted(ray_rows) == sorted(local_rows)  # the same batches: the reference once, not once per unit
    assert {r["status"] for r in on_ray.records} == {"measured"}
    assert _comparable(on_ray.records) == _comparable(local.records)


def test_the_workers_steps_reach_the_drivers_progress_hook_before_their_records(tmp_path: Path) -> None:
    from audit.api import config_from_keys, plan_run, run_plan
    from audit.progress_events import CHECKS_STEP, UNIT_DONE_STEP, ProgressEvent

    models = ["gan", "ray_fault_models:noise"]
    config, _ = config_from_keys("smoke", models=models, check="quality.fid", out=tmp_path, executor="ray", **FAST)
    heard: list[Any] = []
    outcome = run_plan(plan_run(config), on_record=heard.append, on_progress=heard.append)
    assert {r["status"] for r in outcome.results["records"]} == {"measured"}
    for model in models:
        mine = [h for h in heard if h.model == model]
        events = [h for h in mine if isinstance(h, ProgressEvent)]
        assert events[0] == ProgressEvent(model, "fp32", None, "loading model")  # sent from the worker
        assert events[1] == ProgressEvent(model, "fp32", None, CHECKS_STEP, 0, 1)
        steps = [(e.check, e.step, e.done, e.total) for e in events]
        assert ("quality.fid", "sampling", FAST["n"], FAST["n"]) in steps and ("quality.fid", "bootstrap", FAST["bootstrap"], FAST["bootstrap"]) in steps
        first_record = next(i for i, h in enumerate(mine) if not isinstance(h, ProgressEvent))
        assert all(isinstance(h, ProgressEvent) for h in mine[:first_record]) and first_record >= 4  # steps, then the record
        assert mine[-1] == ProgressEvent(model, "fp32", None, UNIT_DONE_STEP)  # the unit closes after its records


def test_a_killed_worker_is_retried_then_recorded_as_that_units_error(tmp_path: Path) -> None:
    once, always = tmp_path / "once", tmp_path / "always"
    models = [f"ray_fault_models:kills_worker_once?marker={once}", f"ray_fault_models:kills_worker_always?marker={always}", "ray_fault_models:noise"]
    run = audit.run("smoke", models=models, check="quality.fid", out=tmp_path / "runs", executor="ray", **FAST)
    by_model = {r["model"].split("?")[0]: r for r in run.records}
    assert by_model["ray_fault_models:kills_worker_once"]["status"] == "measured"  # died once, measured on retry
    assert once.is_file()
    failed = by_model["ray_fault_models:kills_worker_always"]
    assert failed["status"] == "error" and "WorkerCrashedError" in failed["reason"], failed["reason"]
    assert len(always.read_text().split()) == MAX_RETRIES + 1  # the first try and each retry, each in a fresh worker
    assert by_model["ray_fault_models:noise"]["status"] == "measured"  # no other unit's records are lost
    assert run.exit_code == 4


def test_a_model_that_starts_a_run_inside_its_worker_gets_an_error_record(tmp_path: Path) -> None:
    """The NestedRun guard of a local run holds in a Ray worker too: the inner run does not run."""
    inner = tmp_path / "inner"
    run = audit.run("smoke", models=[f"ray_fault_models:starts_a_run?out={inner}", "ray_fault_models:noise"], check="quality.fid",
                    out=tmp_path / "runs", executor="ray", **FAST)
    by_model = {r["model"].split("?")[0]: r for r in run.records}
    nested = by_model["ray_fault_models:starts_a_run"]
    assert nested["status"] == "error" and "NestedRun" in nested["reason"], nested["reason"]
    assert not inner.exists()
    assert by_model["ray_fault_models:noise"]["status"] == "measured"
    assert run.exit_code == 4


def test_sigterm_cancels_the_clusters_tasks_and_still_writes_the_outputs(tmp_path: Path) -> None:
    from audit.api import config_from_keys, plan_run, run_plan

    marker = tmp_path / "hang.pid"
    config, _ = config_from_keys("smoke", models=["ray_fault_models:noise", f"ray_fault_models:hangs_and_says_where?marker={marker}"],
                                 check="quality.fid", out=tmp_path / "runs", executor="ray", timeout=0, **FAST)

    def terminate_once_the_hang_runs(record: Any) -> None:
        deadline = time.monotonic() + 30
        while not marker.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGTERM)  # what a CI system cancelling the job does

    outcome = run_plan(plan_run(config), on_record=terminate_once_the_hang_runs)
    results = json.loads((outcome.run_dir / "results.json").read_text())
    assert results["interrupted"] and results["interrupted_by"] == "SIGTERM"
    assert [(r["model"], r["status"]) for r in results["records"]] == [("ray_fault_models:noise", "measured")]
    assert (outcome.run_dir / "report.html").is_file()
    hung = int(marker.read_text())
    deadline = time.monotonic() + 15
    while _alive(hung) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(hung), "the cancelled task's worker still runs"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.is_file() and status.read_text().split(")")[-1].split()[0] == "Z")  # a zombie has ended


def test_resources_come_from_the_device_and_the_weights(tmp_path: Path) -> None:
    import dataclasses

    from audit.api import config_from_keys, plan_run
    from audit.ray_executor import MEMORY_HEADROOM, MEMORY_PER_WEIGHT_BYTE, task_resources

    config, _ = config_from_keys("smoke", models=["gan", "ray_fault_models:noise"], out=tmp_path, executor="ray")
    plan = plan_run(config)
    gan, noise = plan.items
    weights = Path(audit.__file__).parents[1] / "audit_reference_models" / "weights" / "gan.safetensors"
    assert task_resources(plan, gan) == {"num_cpus": 1, "memory": weights.stat().st_size * MEMORY_PER_WEIGHT_BYTE + MEMORY_HEADROOM}
    assert task_resources(plan, noise) == {"num_cpus": 1}  # an import path declares no weights
    assert task_resources(dataclasses.replace(plan, device="cuda"), noise) == {"num_cpus": 1, "num_gpus": 1}


def test_without_ray_executor_ray_is_one_line_naming_the_extra(monkeypatch: pytest.MonkeyPatch, cli: Any) -> None:
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else find_spec(name, *a))
    with pytest.raises(InputError, match=r"generative-model-audit\[ray\]"):
        audit.run("smoke", models=["gan"], executor="ray")
    result = cli("run", "suite=smoke", "model=gan", "executor=ray")
    assert result.exit_code == 2
    assert "generative-model-audit[ray]" in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.gpu
def test_a_cuda_plan_runs_its_units_on_a_gpu(tmp_path: Path) -> None:
    import torch

    if not torch.cuda.is_available() or not ray.cluster_resources().get("GPU"):
        pytest.skip("needs a CUDA device visible to Ray")
    local = audit.run("smoke", models=["gan"], device="cuda", out=tmp_path / "local", **FAST)
    on_ray = audit.run("smoke", models=["gan"], device="cuda", out=tmp_path / "ray", executor="ray", **FAST)
    assert {r["status"] for r in on_ray.records} == {"measured"}
    assert all(r["device"].startswith("cuda") for r in on_ray.records)
    assert on_ray.results["fingerprint"]["cluster"]["gpus"] >= 1
    assert _comparable(on_ray.records) == _comparable(local.records)
