"""Plan -> execute -> stream results.

The plan resolves every name and verifies every bundled weights file before anything is
measured, so bad input fails fast (exit 2) with nothing lost. Execution loads each
(model, precision) once, runs its checks against the shared SampleStore, and appends each
record to results.jsonl as soon as it exists. A check that raises becomes an `error` record;
Ctrl-C stops the run, keeps what was measured and marks the run interrupted.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from audit.adapters.base import has_capability
from audit.checks.base import CheckSpec
from audit.config import RunConfig
from audit.context import CheckContext, SampleStore
from audit.errors import InputError, NotApplicable
from audit.evaluator import digits_evaluator, digits_reference
from audit.gates import Gate, combine, judge, parse_gate
from audit.precision import get_precision
from audit.registry import check_spec, import_target, load_check_modules, model_entry, models, register_bundled_models
from audit.results import SCHEMA_VERSION, CheckResult, ResultsStream, write_json_atomic
from audit.suite import Suite, load_suite


@dataclass
class PlanItem:
    model: str
    precision: str
    family: str | None
    checks: list[CheckSpec]


@dataclass
class Plan:
    config: RunConfig
    suite: Suite
    items: list[PlanItem]
    gates: list[Gate]
    n: int
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    policy: Any = None
    """The parsed policy (audit.policy.Policy): its waivers and relative gates are judged when the run ends."""
    sources: Any = None
    """audit.data_sources.Sources: the user's data=, text= and evaluator= (None: the bundled ones)."""


def default_models(specs: list[CheckSpec]) -> list[str]:
    """Every bundled clean (non-defect, not opt-in) model of a family some check applies to."""
    register_bundled_models()
    families = {f for s in specs for f in s.families}
    return [e.name for e in models if not e.metadata.get("defect") and not e.metadata.get("plugin") and not e.metadata.get("opt_in")
            and e.metadata.get("family") in families]


def verify_bundled(word: str) -> str | None:
    """Resolve a model word now: registered names verify their weights, import paths import."""
    from reference_models.manifest import verified_weights

    from audit.adapters.sources import check_source

    source = check_source(word)  # hf:DIR / torchscript:FILE, checked now (exit 2 on bad input)
    if source is not None:
        return source.family
    if ":" in word:
        import_target(word)
        return None
    entry = model_entry(word)
    if entry.metadata.get("plugin"):
        entry.load()  # an installed plugin's entry point must import now (exit 2 if it does not)
    for weights in entry.metadata.get("weights", ()):
        verified_weights(weights)
    return entry.metadata.get("family")


def make_plan(config: RunConfig) -> Plan:
    """Validate names, weights and gates; decide which checks run on which model."""
    suite = load_suite(config.suite)
    load_check_modules()
    check_ids = config.checks or list(suite.checks)
    specs = [check_spec(c) for c in check_ids]
    for p in config.precisions:
        get_precision(p)
    words = config.models or default_models(specs)
    if not words:
        raise InputError(f"No bundled model fits suite '{suite.name}'; name one with model=...")
    families = {w: verify_bundled(w) for w in words}
    image_checks = any(s.families != ("transformer",) for s in specs)
    sources = _resolve_sources(config, words, image_checks)
    if image_checks and not config.evaluator:
        from reference_models.manifest import verified_weights

        verified_weights("classifier")
    suite_gates = [parse_gate(g, f"Suite '{suite.name}', gate {i + 1}") for i, g in enumerate(suite.gates)]
    policy = None
    if config.policy:
        from audit.policy import read_policy
        from audit.registry import checks as check_registry

        if not Path(config.policy).is_file():
            raise InputError(f"Policy file '{config.policy}' does not exist.")
        policy = read_policy(Path(config.policy), known_checks=check_registry.names())
    policy_gates = policy.gates if policy else []
    items = [
        PlanItem(w, p, families[w], [s for s in specs if families[w] is None or s.applies_to(families[w])])
        for w in words
        for p in config.precisions
    ]
    params = {c: dict(suite.checks.get(c, {})) for c in check_ids}
    plan = Plan(config, suite, items, combine(suite_gates, policy_gates), config.n or suite.n, params, policy)
    plan.sources = sources
    return plan


def _resolve_sources(config: RunConfig, words: list[str], image_checks: bool) -> Any:
    """data= / text= / evaluator=, read and checked against the generators' shapes (exit 2)."""
    from audit.adapters.sources import check_source
    from audit.data_sources import resolve_sources

    shapes = {w: getattr(check_source(w), "image_shape", None) for w in words}
    return resolve_sources(config, shapes, image_checks)


def new_run_dir(out: Path, suite: str) -> tuple[str, Path]:
    run_id = uuid.uuid4().hex[:8]
    run_dir = out / f"{suite}-{time.strftime('%Y%m%d-%H%M%S')}-{run_id}"
    run_dir.mkdir(parents=True, exist_ok=False)
    (run_dir / "artifacts").mkdir()
    return run_id, run_dir


def _base_record(plan: Plan, item: PlanItem, spec: CheckSpec, family: str | None) -> CheckResult:
    return CheckResult(
        check=spec.id, model=item.model, precision=item.precision, device=plan.config.device, status="error",
        seed=plan.config.seed, unit=spec.unit, higher_is_better=spec.higher_is_better,
        params={"n": plan.n, "bootstrap": plan.config.bootstrap, **plan.params.get(spec.id, {})}, family=family,
    )


def run_check(plan: Plan, item: PlanItem, spec: CheckSpec, adapter: Any, store: SampleStore, run_dir: Path) -> CheckResult:
    """Run one check; any exception becomes an `error` record carrying its message."""
    record = _base_record(plan, item, spec, adapter.info.family)
    record.device = adapter.info.device
    missing = sorted(need for need in spec.needs if not has_capability(adapter, need))
    if missing:
        record.status, record.reason = "skipped", f"model lacks capability {', '.join(missing)}"
        return record
    ctx = CheckContext(
        adapter=adapter, model=item.model, precision=item.precision, seed=plan.config.seed, n=plan.n,
        bootstrap=plan.config.bootstrap, store=store, artifact_dir=run_dir / "artifacts", params=plan.params.get(spec.id, {}),
    )
    started = time.perf_counter()
    try:
        m = spec.fn(ctx, **ctx.params)
    except NotApplicable as exc:  # e.g. a precision that is its own baseline, a hook the adapter lacks
        record.status, record.reason = "skipped", str(exc)
    except Exception as exc:
        record.status, record.reason = "error", f"{type(exc).__name__}: {exc}"
    else:
        record.status = "measured"
        record.value, record.ci_low, record.ci_high, record.n = m.value, m.ci_low, m.ci_high, m.n
        record.by_group, record.details, record.artifacts = m.by_group, m.details, m.artifacts
        judge(record, plan.gates)
    record.duration_s = round(time.perf_counter() - started, 4)
    return record


def save_sample_grid(images: Any, labels: Any, path: Path, per_class: int = 10) -> None:
    """A PNG grid: one column per class (rows are samples), or the first 100 images."""
    import numpy as np
    from PIL import Image

    x = images.numpy()
    if labels is not None:
        lab = labels.numpy()
        classes = sorted(set(lab.tolist()))
        rows = [[x[np.nonzero(lab == c)[0][r]] for c in classes] for r in range(min(per_class, min((lab == c).sum() for c in classes)))]
    else:
        k = int(np.sqrt(min(len(x), 100)))
        rows = [[x[r * k + c] for c in range(k)] for r in range(k)]
    grid = np.concatenate([np.concatenate([img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0) for img in row], axis=1) for row in rows], axis=0)
    Image.fromarray((np.clip(grid, 0, 1) * 255).round().astype(np.uint8)).save(path)


@dataclass
class RunOutcome:
    run_dir: Path
    results: dict[str, Any]
    exit_code: int
    store: SampleStore
    rejudged: list[dict[str, Any]] = field(default_factory=list)
    """Records whose verdict changed when the run ended (relative gates, waivers)."""


def execute(
    plan: Plan, on_record: Callable[[CheckResult], None] = lambda r: None, store: SampleStore | None = None, today: Any = None
) -> RunOutcome:
    """Run the plan, streaming records; at the end judge relative gates and waivers (as of `today`),
    then write results.json and the reports."""
    from audit.fingerprint import environment_fingerprint
    from audit.report import write_reports

    config = plan.config
    device = _resolve_device(config.device)
    run_id, run_dir = new_run_dir(config.out, plan.suite.name)
    store = store or (plan.sources.new_store() if plan.sources is not None else SampleStore(digits_evaluator, digits_reference))
    stream = ResultsStream(run_dir)
    records: list[CheckResult] = []
    model_rows: list[dict[str, Any]] = []
    weights: dict[str, str] = {}
    started = time.time()
    interrupted = False

    def emit(record: CheckResult) -> None:
        records.append(record)
        stream.append(record)
        on_record(record)

    from threadpoolctl import threadpool_limits

    blas_one_thread = threadpool_limits(limits=1, user_api="blas")  # numpy BLAS vs torch OpenMP on few cores
    try:
        for item in plan.items:
            try:
                adapter = _load(item, device)
            except Exception as exc:
                status = "skipped" if isinstance(exc, NotApplicable) else "error"
                for spec in item.checks:
                    record = _base_record(plan, item, spec, item.family)
                    record.status, record.reason = status, f"{type(exc).__name__}: {exc}" if status == "error" else str(exc)
                    emit(record)
                continue
            weights.update(getattr(adapter.info, "weights", {}) or {})
            for spec in (s for s in item.checks if s.applies_to(adapter.info.family)):
                emit(run_check(plan, item, spec, adapter, store, run_dir))
            model_rows.append(_model_row(item, adapter, store, plan, run_dir))
            del adapter
    except KeyboardInterrupt:
        interrupted = True
    finally:
        stream.close()
        blas_one_thread.restore_original_limits()
    if store._evaluator is not None:
        weights[f"evaluator:{store.evaluator.name}"] = store.evaluator.sha256
    weights.update(store.instruments)
    if store._reference is not None:
        weights[f"data:{store.reference.name}"] = store.reference.sha256
    if store._text is not None:
        weights[f"data:{store._text.name}"] = store._text.sha256
    rows = [r.to_dict() for r in records]
    results = {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "suite": plan.suite.name,
        "suite_description": plan.suite.description,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_s": round(time.time() - started, 2),
        "interrupted": interrupted,
        "config": {**config.to_dict(), "n": plan.n, "device": device},
        "gates": [g.__dict__ for g in plan.gates],
        "fingerprint": {**environment_fingerprint(device), "seed": config.seed, "files": dict(sorted(weights.items()))},
        "models": model_rows,
        "records": rows,
        "summary": {},  # counts and exit code: set by the end-of-run judging below (audit.gates.finalize)
    }
    rejudged = _judge_finished_run(results, plan, today, run_dir)
    write_json_atomic(run_dir / "results.json", results)
    write_reports(results, run_dir)
    return RunOutcome(run_dir, results, results["summary"]["exit_code"], store, rejudged)


def _judge_finished_run(results: dict[str, Any], plan: Plan, today: Any, run_dir: Path) -> list[dict[str, Any]]:
    """Judge every record once more with all gates (relative ones need the whole run) and the
    policy's waivers; rewrite results.jsonl if a verdict changed. Returns the changed records."""
    import datetime as dt
    import json
    import os

    from audit.gates import finalize

    before = json.loads(json.dumps(results["records"]))
    finalize(results, plan.gates, plan.policy, today or dt.date.today())
    changed = [r for r, old in zip(results["records"], before) if (r["status"], r.get("verdict")) != (old["status"], old.get("verdict"))]
    if json.loads(json.dumps(results["records"])) != before:
        jsonl = run_dir / "results.jsonl"
        tmp = jsonl.with_name(jsonl.name + ".tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in results["records"]), encoding="utf-8")
        os.replace(tmp, jsonl)
    return changed


def _resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise InputError("device=cuda was asked for, but no CUDA device is available (torch.cuda.is_available() is False).")
    return device


def _load(item: PlanItem, device: str) -> Any:
    from audit.adapters.loading import load_model

    return load_model(item.model, item.precision, device)


def _model_row(item: PlanItem, adapter: Any, store: SampleStore, plan: Plan, run_dir: Path) -> dict[str, Any]:
    info = adapter.info
    row: dict[str, Any] = {"model": item.model, "precision": item.precision, "info": info.to_dict() if hasattr(info, "to_dict") else dict(vars(info))}
    key = (item.model, item.precision, plan.config.seed, plan.n)
    if store.has_samples(key):
        samples = store.samples(adapter, key)
        name = f"{_safe(item.model)}-{item.precision}-samples.png"
        save_sample_grid(samples.images, samples.labels, run_dir / "artifacts" / name)
        row["sample_grid"] = f"artifacts/{name}"
        row["sample_grid_by_class"] = samples.labels is not None
    return row


def _safe(word: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in word)
