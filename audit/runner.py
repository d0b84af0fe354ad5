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
from audit.checks.base import CheckSpec, Measurement
from audit.config import RunConfig
from audit.context import CheckContext, SampleStore
from audit.errors import (
    InputError,
    ModelOutputError,
    ModelTimeout,
    NotApplicable,
    OutputError,
    Terminated,
    as_model_error,
    must_propagate,
)
from audit.evaluator import digits_evaluator, digits_reference
from audit.gates import Gate, combine, judge, parse_gate
from audit.interrupts import Interrupts, deferred_signals, terminate_as_interrupt, time_limit
from audit.precision import get_precision
from audit.registry import check_spec, import_target, load_check_modules, model_entry, models, register_bundled_models
from audit.results import SCHEMA_VERSION, CheckResult, ResultsStream, rewrite_stream, write_json_atomic
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
    if 0 < config.bootstrap < MIN_BOOTSTRAP:
        raise InputError(
            f"'bootstrap' is {config.bootstrap}: too few resamples for a 95% interval; give 0 (no intervals: CI-judged "
            f"gates are then inconclusive) or at least {MIN_BOOTSTRAP} (default 500)."
        )
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
        PlanItem(w, p, families[w], [s for s in specs if families[w] is None or s.applies_to(families[w], None)])
        for w in words
        for p in config.precisions
    ]
    params = {c: dict(suite.checks.get(c, {})) for c in check_ids}
    plan = Plan(config, suite, items, combine(suite_gates, policy_gates), config.n or suite.n, params, policy)
    plan.sources = sources
    probe_output_folder(config.out)
    return plan


MIN_BOOTSTRAP = 20
"""Fewest resamples accepted for a bootstrap interval (0 means none): below it the 2.5% and 97.5%
percentiles are the extremes of a handful of values, not an interval."""


def probe_output_folder(out: Path) -> None:
    """An unwritable, read-only or missing-parent `out` is bad input (exit 2) before anything is measured."""
    from audit.config import writable_folder

    writable_folder(out)


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
    """Run one check; anything it or the model raises becomes an `error` record carrying its
    message (sys.exit() included). Only interrupts and the model's timeout propagate."""
    record = _base_record(plan, item, spec, adapter.info.family)
    record.device = str(getattr(adapter.info, "device", plan.config.device))
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
        if not isinstance(m, Measurement):
            raise ModelOutputError(f"check returned {type(m).__name__}, not a Measurement")
        record.value, record.ci_low, record.ci_high, record.n = m.value, m.ci_low, m.ci_high, m.n
        record.by_group, record.details, record.artifacts = m.by_group, m.details, m.artifacts
        record.status = "measured"
        judge(record, plan.gates)
    except NotApplicable as exc:  # e.g. a precision that is its own baseline, a hook the adapter lacks
        record.status, record.reason = "skipped", str(exc)
    except BaseException as exc:
        if must_propagate(exc):
            raise
        error = as_model_error(exc)
        record.status, record.reason = "error", f"{type(error).__name__}: {error}"
        record.value = record.ci_low = record.ci_high = None
    record.duration_s = round(time.perf_counter() - started, 4)
    return record


def no_check_record(plan: Plan, item: PlanItem, family: str | None, capabilities: Any) -> CheckResult:
    """The record of a model no check of the suite applies to: skipped, with the reason, so the
    model is visibly unaudited (and the run cannot pass: exit 5) instead of silently absent."""
    record = CheckResult(check=NO_CHECK, model=item.model, precision=item.precision, device=plan.config.device,
                         status="skipped", seed=plan.config.seed, family=family)
    caps = ", ".join(sorted(capabilities or ())) or "none"
    record.reason = (f"no check of suite '{plan.suite.name}' applies to this model (family '{family}', capabilities: {caps}); "
                     "declare the capabilities it has (audit.adapters) or choose a suite for its family")
    return record


NO_CHECK = "audit.no_applicable_check"


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
    plan: Plan, on_record: Callable[[CheckResult], None] = lambda r: None, store: SampleStore | None = None, today: Any = None,
    on_start: Callable[[Path], None] = lambda run_dir: None,
) -> RunOutcome:
    """Run the plan, streaming records; at the end judge relative gates and waivers (as of `today`),
    then write results.json and the reports. Ctrl-C and SIGTERM stop the run and still write
    every output; a model that hangs past `timeout` gets error records and the run goes on.
    `on_start` learns the run folder once results.jsonl (with its header) exists."""
    from audit.fingerprint import environment_fingerprint

    config = plan.config
    device = _resolve_device(config.device)
    try:
        run_id, run_dir = new_run_dir(config.out, plan.suite.name)
    except OSError as exc:
        raise OutputError(f"cannot create the run folder in '{config.out}': {exc.strerror or exc}") from None
    store = store or (plan.sources.new_store() if plan.sources is not None else SampleStore(digits_evaluator, digits_reference))
    started = time.time()
    results: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "suite": plan.suite.name,
        "suite_description": plan.suite.description,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "config": {**config.to_dict(), "n": plan.n, "device": device},
        "gates": [g.__dict__ for g in plan.gates],
        "fingerprint": {**environment_fingerprint(device), "seed": config.seed},
    }
    stream = _open_stream(run_dir, results)
    on_start(run_dir)
    records: list[CheckResult] = []
    model_rows: list[dict[str, Any]] = []
    weights: dict[str, str] = {}
    interrupts = Interrupts()
    interrupted: str | None = None

    def emit(record: CheckResult) -> None:
        records.append(record)
        try:
            with deferred_signals():  # a timeout or SIGTERM never cuts a line of results.jsonl in half
                stream.append(record)
        except OSError as exc:
            raise OutputError(f"cannot write results in '{run_dir}': {exc.strerror or exc}") from None
        on_record(record)

    from threadpoolctl import threadpool_limits

    blas_one_thread = threadpool_limits(limits=1, user_api="blas")  # numpy BLAS vs torch OpenMP on few cores
    try:
        with terminate_as_interrupt(interrupts):
            for item in plan.items:
                _run_item(plan, item, device, store, run_dir, emit, model_rows, weights, interrupts)
    except KeyboardInterrupt as exc:
        interrupted = "SIGTERM" if isinstance(exc, Terminated) else "SIGINT"
    finally:
        stream.close()
        blas_one_thread.restore_original_limits()
    weights.update(_instrument_hashes(store))
    results.update(
        duration_s=round(time.time() - started, 2), interrupted=interrupted is not None, interrupted_by=interrupted,
        models=model_rows, records=[r.to_dict() for r in records],
        summary={},  # counts and exit code: set by the end-of-run judging below (audit.gates.finalize)
    )
    results["fingerprint"]["files"] = dict(sorted(weights.items()))
    rejudged = _judge_finished_run(results, plan, today, run_dir)
    write_outputs(results, run_dir)
    return RunOutcome(run_dir, results, results["summary"]["exit_code"], store, rejudged)


def write_outputs(results: dict[str, Any], run_dir: Path) -> None:
    """results.json, then the reports rendered from it; a write that fails (disk full, folder
    removed) is one line and exit 4, and results.jsonl keeps the records for `audit report`."""
    from audit.report import write_reports

    try:
        write_json_atomic(run_dir / "results.json", results)
        write_reports(results, run_dir)
    except OSError as exc:
        raise OutputError(f"cannot write the run's outputs in '{run_dir}': {exc.strerror or exc}") from None


def _open_stream(run_dir: Path, header: dict[str, Any]) -> ResultsStream:
    try:
        return ResultsStream(run_dir, header)
    except OSError as exc:
        raise OutputError(f"cannot write results in '{run_dir}': {exc.strerror or exc}") from None


def _instrument_hashes(store: SampleStore) -> dict[str, str]:
    """sha256 of the evaluator, detectors and data sets the run actually used."""
    files = {}
    if store._evaluator is not None:
        files[f"evaluator:{store.evaluator.name}"] = store.evaluator.sha256
    files.update(store.instruments)
    if store._reference is not None:
        files[f"data:{store.reference.name}"] = store.reference.sha256
    if store._text is not None:
        files[f"data:{store._text.name}"] = store._text.sha256
    return files


def _run_item(
    plan: Plan, item: PlanItem, device: str, store: SampleStore, run_dir: Path, emit: Callable[[CheckResult], None],
    model_rows: list[dict[str, Any]], weights: dict[str, str], interrupts: Interrupts,
) -> None:
    """Load one (model, precision) and run its checks under its time limit. Whatever the model
    does (raise, exit, hang) ends as records of this item; only interrupts leave."""
    done: list[str] = []
    family: str | None = item.family
    applicable = list(item.checks)

    def emit_item(record: CheckResult) -> None:
        done.append(record.check)
        emit(record)

    try:
        with time_limit(plan.config.timeout, interrupts):
            adapter = _load(item, device)
            family = adapter.info.family
            capabilities = frozenset(getattr(adapter, "capabilities", ()) or ())
            applicable = [s for s in item.checks if s.applies_to(family, capabilities)]
            for spec in applicable:
                interrupts.raise_pending()
                emit_item(run_check(plan, item, spec, adapter, store, run_dir))
            interrupts.raise_pending()
            if not done:
                emit_item(no_check_record(plan, item, family, capabilities))
            weights.update(_declared_weights(adapter))
            model_rows.append(_model_row(item, adapter, store, plan, run_dir))
    except KeyboardInterrupt:
        raise
    except OutputError:
        raise
    except BaseException as exc:  # the load failed, the model exited or timed out: the rest of its checks are errors
        status = "skipped" if isinstance(exc, NotApplicable) else "error"
        reason = str(exc) if isinstance(exc, (NotApplicable, ModelTimeout)) else _reason(as_model_error(exc))
        remaining = [s for s in applicable if s.id not in done] or ([] if done else [None])
        for spec in remaining:
            record = _base_record(plan, item, spec, family) if spec else no_check_record(plan, item, family, ())
            record.status, record.reason = status, reason
            emit(record)


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _declared_weights(adapter: Any) -> dict[str, str]:
    """The adapter's `info.weights` (file -> sha256) when it is a mapping of strings, else nothing."""
    declared = getattr(adapter.info, "weights", None)
    if not isinstance(declared, dict):
        return {}
    return {str(k): str(v) for k, v in declared.items()}


def _judge_finished_run(results: dict[str, Any], plan: Plan, today: Any, run_dir: Path) -> list[dict[str, Any]]:
    """Judge every record once more with all gates (relative ones need the whole run) and the
    policy's waivers; rewrite results.jsonl if a verdict changed. Returns the changed records."""
    import datetime as dt
    import json

    from audit.gates import finalize

    before = json.loads(json.dumps(results["records"]))
    finalize(results, plan.gates, plan.policy, today or dt.date.today())
    changed = [r for r, old in zip(results["records"], before) if (r["status"], r.get("verdict")) != (old["status"], old.get("verdict"))]
    if json.loads(json.dumps(results["records"])) != before:
        rewrite_stream(run_dir, results, results["records"])
    return changed


def _resolve_device(device: str) -> str:
    from audit.config import require_device

    return require_device(device)


def _load(item: PlanItem, device: str) -> Any:
    from audit.adapters.loading import load_model

    return load_model(item.model, item.precision, device)


def _model_row(item: PlanItem, adapter: Any, store: SampleStore, plan: Plan, run_dir: Path) -> dict[str, Any]:
    """The report's row for a model: its info and a grid of its samples, when both can be had
    (a model whose info cannot be turned into JSON, or whose samples cannot be drawn, still
    gets its row; its records already say what went wrong)."""
    row: dict[str, Any] = {"model": item.model, "precision": item.precision}
    try:
        info = adapter.info
        row["info"] = info.to_dict() if hasattr(info, "to_dict") else dict(vars(info))
    except Exception as exc:
        row["info"] = {"error": _reason(exc)}
    key = (item.model, item.precision, plan.config.seed, plan.n)
    if store.has_samples(key):
        samples = store.samples(adapter, key)
        name = f"{_safe(item.model)}-{item.precision}-samples.png"
        try:
            save_sample_grid(samples.images, samples.labels, run_dir / "artifacts" / name)
        except Exception:  # an odd image layout: the report simply shows no grid
            return row
        row["sample_grid"] = f"artifacts/{name}"
        row["sample_grid_by_class"] = samples.labels is not None
    return row


def _safe(word: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in word)
