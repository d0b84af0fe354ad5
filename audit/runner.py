"""Execute a Plan: measure, judge once, render from results.json.

Execution loads each (model, precision) once, runs its checks against the shared SampleStore,
and appends each measured record to results.jsonl as soon as it exists. A check that raises
becomes an `error` record; whatever a model does (raise, exit, hang past `timeout`) ends as
records of that model; Ctrl-C and SIGTERM stop the run and keep what was measured. When the run
ends, every record is judged once against all gates and the policy's waivers (audit.gates), the
stream is rewritten with the verdicts, results.json is written, the reports are rendered
from that file alone, and the stream gets its end line (complete). Planning (validation of every input) is audit.plan's job.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from audit.adapters.base import has_capability
from audit.checks.base import CheckSpec, Measurement
from audit.context import CheckContext
from audit.errors import (
    HarnessTampered,
    ModelOutputError,
    ModelTimeout,
    NotApplicable,
    OutputError,
    Terminated,
    as_model_error,
    must_propagate,
)
from audit.evaluators import digits_evaluator, digits_reference
from audit.interrupts import Interrupts, deferred_signals, hold_signals, terminate_as_interrupt, time_limit
from audit.isolation import restored_globals, single_run
from audit.messages import one_line
from audit.plan import Plan, PlanItem
from audit.progress_events import CHECKS_STEP, UNIT_DONE_STEP, ProgressEvent, reporting_to
from audit.results import (
    CheckResult,
    ResultsStream,
    append_stream_end,
    finish_results,
    new_results,
    rewrite_stream,
    write_json_atomic,
)
from audit.sample_store import SampleStore

log = logging.getLogger(__name__)

REASON_LIMIT = 2000
"""Longest reason a record keeps from an exception's message (a model may raise megabytes)."""
ProgressHook = Callable[[ProgressEvent], None]
"""Receives every ProgressEvent of a run (audit.progress_events): the display's callback."""


def new_run_dir(out: Path, suite: str) -> tuple[str, Path]:
    """A fresh run folder under `out`, as an absolute path: a model that changes the working
    directory (os.chdir) must not move where the run writes."""
    run_id = uuid.uuid4().hex[:8]
    run_dir = out.absolute() / f"{suite}-{time.strftime('%Y%m%d-%H%M%S')}-{run_id}"
    run_dir.mkdir(parents=True, exist_ok=False)
    (run_dir / "artifacts").mkdir()
    return run_id, run_dir


def base_record(plan: Plan, item: PlanItem, spec: CheckSpec, family: str | None) -> CheckResult:
    return CheckResult(
        check=spec.id, model=item.model, precision=item.precision, device=plan.device, status="error",
        seed=plan.config.seed, unit=spec.unit, higher_is_better=spec.higher_is_better,
        params={"n": plan.n_for(spec.id), "bootstrap": plan.config.bootstrap, **plan.check_params(spec.id)}, family=family,
    )


def run_check(
    plan: Plan, item: PlanItem, spec: CheckSpec, adapter: Any, store: SampleStore, run_dir: Path,
    on_progress: ProgressHook | None = None,
) -> CheckResult:
    """Run one check; anything it or the model raises becomes an `error` record carrying its
    message (sys.exit() included). Only interrupts and the model's timeout propagate. The steps
    the check reports (`CheckContext.progress`, and the store's and bootstrap's own) reach
    `on_progress` as ProgressEvents of this check."""
    record = base_record(plan, item, spec, adapter.info.family)
    record.device = str(getattr(adapter.info, "device", plan.device))
    missing = sorted(need for need in spec.needs if not has_capability(adapter, need))
    if missing:
        record.status, record.reason = "skipped", f"model lacks capability {', '.join(missing)}"
        return record
    ctx = CheckContext(
        adapter=adapter, model=item.model, precision=item.precision, seed=plan.config.seed, n=plan.n_for(spec.id),
        bootstrap=plan.config.bootstrap, store=store, artifact_dir=run_dir / "artifacts", params=plan.check_params(spec.id),
        source=item.source,
    )
    started = time.perf_counter()
    notify = _safe(on_progress)

    def step(name: str, done: int | None, total: int | None) -> None:
        notify(ProgressEvent(item.model, item.precision, spec.id, name, done, total))

    step("starting", None, None)
    try:
        with reporting_to(step):
            reads = store.feature_reads
            store.cache_used = {}
            m = spec.fn(ctx, **ctx.params)
        if not isinstance(m, Measurement):
            raise ModelOutputError(f"check returned {type(m).__name__}, not a Measurement")
        record.value, record.ci_low, record.ci_high, record.n = m.value, m.ci_low, m.ci_high, m.n
        record.by_group, record.details, record.artifacts = m.by_group, m.details, m.artifacts
        if store.feature_reads > reads:  # the record's numbers read evaluator outputs: name their feature space
            record.details = {**(record.details or {}), "feature_space": store.evaluator.name}
        if store.cache_used:  # provenance: which of the samples and features it read came from the sample cache
            record.details = {**(record.details or {}), "cache": dict(store.cache_used)}
        record.status = "measured"  # judged once, when the run ends (judge_run)
    except NotApplicable as exc:  # e.g. a precision that is its own baseline, a hook the adapter lacks
        record.status, record.reason = "skipped", one_line(exc, REASON_LIMIT)
    except BaseException as exc:
        if must_propagate(exc):
            raise
        error = as_model_error(exc)
        record.status, record.reason = "error", _reason(error)
        record.value = record.ci_low = record.ci_high = None
    record.duration_s = round(time.perf_counter() - started, 4)
    log.info("%s on %s/%s: %s in %.2f s", spec.id, item.model, item.precision, record.status, record.duration_s)
    return record


def _safe(hook: ProgressHook | None) -> ProgressHook:
    """`hook` such that it can never break a run: an exception it raises is logged and the hook
    is not called again (a broken display must not change a record or the exit code).
    Interrupts and timeouts (BaseExceptions) still go through."""
    if hook is None:
        return lambda event: None
    broken: list[Exception] = []

    def call(event: ProgressEvent) -> None:
        if broken:
            return
        try:
            hook(event)
        except Exception as exc:
            broken.append(exc)
            log.warning("progress display failed and is switched off: %s: %s", type(exc).__name__, exc)

    return call


def no_check_record(plan: Plan, item: PlanItem, family: str | None, capabilities: Any) -> CheckResult:
    """The record of a model no check of the suite applies to: skipped, with the reason, so the
    model is visibly unaudited (and the run cannot pass: exit 5) instead of silently absent."""
    record = CheckResult(check=NO_CHECK, model=item.model, precision=item.precision, device=plan.device,
                         status="skipped", seed=plan.config.seed, family=family)
    caps = ", ".join(sorted(capabilities or ())) or "none"
    record.reason = (f"no check of suite '{plan.suite.name}' applies to this model (family '{family}', capabilities: {caps}); "
                     "declare the capabilities it has (audit.adapters) or choose a suite for its family")
    return record


NO_CHECK = "audit.no_applicable_check"


@dataclass
class RunOutcome:
    run_dir: Path
    results: dict[str, Any]
    exit_code: int
    store: SampleStore
    judged: list[dict[str, Any]] = field(default_factory=list)
    """Records that some gate judged (their verdict is set once, when the run ends)."""


@single_run
def execute(
    plan: Plan, on_record: Callable[[CheckResult], None] = lambda r: None, store: SampleStore | None = None, today: Any = None,
    on_start: Callable[[Path], None] = lambda run_dir: None, on_progress: ProgressHook | None = None,
    executor: "ItemExecutor | None" = None,
) -> RunOutcome:
    """Run the plan, streaming measured records; at the end judge every record once (all gates,
    the policy's waivers as of `today`), then write results.json and render the reports from it. Ctrl-C and SIGTERM stop the run and still write
    every output; a model that hangs past `timeout` gets error records and the run goes on.
    `on_start` learns the run folder once results.jsonl (with its header) exists; `on_progress`
    gets a ProgressEvent when a model loads, when a check starts and at each step it reports
    (an error in it is logged and never reaches a record). `executor` runs the plan's items
    (default `LocalExecutor`: one after another in this process; audit.ray_executor on Ray); the
    cluster it describes enters the fingerprint."""
    from audit.fingerprint import environment_fingerprint
    from audit.threads import single_blas_thread

    config = plan.config
    try:
        run_id, run_dir = new_run_dir(config.out, plan.suite.name)
    except OSError as exc:
        raise OutputError(f"cannot create the run folder in '{config.out}': {exc.strerror or exc}") from None
    store = store or new_store(plan)
    on_progress = _safe(on_progress)
    log.info("plan: suite '%s', %d model/precision pair(s), %d check run(s), n=%d, seed=%d, device %s",
             plan.suite.name, len(plan.items), sum(len(i.checks) for i in plan.items), plan.n, config.seed, plan.device)
    started = time.time()
    results = new_results(
        run_id, plan.suite.name, plan.suite.description, started, {**config.to_dict(), "n": plan.n, "device": plan.device},
        [{**g.to_dict(), "label": g.label()} for g in plan.gates], {**environment_fingerprint(plan.device), "seed": config.seed, "models": plan.model_sources()},
    )
    executor = executor or LocalExecutor()
    cluster = executor.describe()
    if cluster is not None:
        results["fingerprint"]["cluster"] = cluster
    stream = _open_stream(run_dir, results)
    on_start(run_dir)
    records: list[CheckResult] = []
    model_rows: list[dict[str, Any]] = []
    files: dict[str, str] = {}
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

    try:
        with single_blas_thread(), terminate_as_interrupt(interrupts):
            executor.run_items(plan, store, run_dir, ItemSink(emit, model_rows, files), interrupts, on_progress)
    except KeyboardInterrupt as exc:
        interrupted = "SIGTERM" if isinstance(exc, Terminated) else "SIGINT"
    finally:
        stream.close()
    if plan.seal is not None and plan.seal.restore():  # e.g. a thread a model left behind: judged on the original code
        log.warning("the harness's code was changed after the last check ran; put back before judging")
    with hold_signals(interrupts):
        files.update(store.instrument_hashes())
        finish_results(results, time.time() - started, interrupted, model_rows, records, files)
        judged = judge_run(results, plan, today, run_dir)
        write_outputs(results, run_dir)
    if interrupts.late_signal:
        log.warning("%s arrived after every check had run; the outputs are complete", interrupts.late_signal)
    return RunOutcome(run_dir, results, results["summary"]["exit_code"], store, judged)


@dataclass(frozen=True)
class ItemSink:
    """Where executing items delivers: each record the moment it exists (`emit`: results.jsonl),
    the report's row of each loaded model, and the weights hashes the models declared."""

    emit: Callable[[CheckResult], None]
    model_rows: list[dict[str, Any]]
    files: dict[str, str]


class ItemExecutor(Protocol):
    """Runs a plan's items (model, precision) and delivers their records to a sink; only
    interrupts (KeyboardInterrupt, Terminated) and OutputError leave it."""

    def describe(self) -> dict[str, Any] | None:
        """What the items run on, for the run's fingerprint (None: this process)."""

    def run_items(self, plan: Plan, store: SampleStore, run_dir: Path, sink: ItemSink, interrupts: Interrupts,
                  on_progress: ProgressHook) -> None:
        """Run every item of `plan`, delivering its records, model rows and files to `sink`."""


class LocalExecutor:
    """The default: each item in turn, in this process, against the run's one SampleStore."""

    def describe(self) -> dict[str, Any] | None:
        return None

    def run_items(self, plan: Plan, store: SampleStore, run_dir: Path, sink: ItemSink, interrupts: Interrupts,
                  on_progress: ProgressHook) -> None:
        for item in plan.items:
            run_item(plan, item, store, run_dir, sink.emit, sink.model_rows, sink.files, interrupts, on_progress)
            on_progress(ProgressEvent(item.model, item.precision, None, UNIT_DONE_STEP))


def write_outputs(results: dict[str, Any], run_dir: Path) -> None:
    """results.jsonl rewritten with the verdicts, results.json, the reports rendered from it, and
    last the stream's end line (audit.results.append_stream_end: the stream is then complete, and
    `audit report` rebuilds it as this run). A write that fails (disk full, folder removed) is one
    OutputError naming the run folder (exit 4), and no file is left stating another exit code:
    results.json is written again with exit code 4 and the reason (summary.output_error) or, when
    even that fails, removed (a rebuild from the stream, which then has no end line, is marked
    interrupted: exit 4 too); a report that cannot be rendered again from it is removed. A
    renderer that raises is handled the same way and its exception goes on (an internal error, 4)."""
    from audit.report import write_reports

    stream_judged = False
    try:
        rewrite_stream(run_dir, results, results["records"])
        stream_judged = True
        write_json_atomic(run_dir / "results.json", results)
        write_reports(json.loads((run_dir / "results.json").read_text(encoding="utf-8")), run_dir)
        append_stream_end(run_dir, results)
    except OSError as exc:
        error = OutputError(f"cannot write the run's outputs in '{run_dir}': {exc.strerror or exc}")
        _outputs_failed(results, run_dir, str(error), stream_judged)
        raise error from None
    except Exception as exc:
        _outputs_failed(results, run_dir, f"writing the run's outputs in '{run_dir}' failed: {type(exc).__name__}: {one_line(exc, REASON_LIMIT)}",
                        stream_judged)
        raise


def _outputs_failed(results: dict[str, Any], run_dir: Path, reason: str, stream_judged: bool) -> None:
    """After a failed write of the outputs: the run exits 4, so results.json must say 4 and why, or
    be gone; every report must agree with it, or be gone; the stream gets an end line stating it
    only where it already holds the judged records. Each step is best effort (the disk is full)."""
    import contextlib

    from audit.errors import EXIT_ERROR
    from audit.report import REPORT_NAMES, write_reports

    def remove(*names: str) -> None:
        for name in names:
            with contextlib.suppress(OSError):
                (run_dir / name).unlink(missing_ok=True)

    summary = results.setdefault("summary", {})
    summary["exit_code"], summary["output_error"] = EXIT_ERROR, reason
    try:
        write_json_atomic(run_dir / "results.json", results)
    except OSError:
        remove("results.json", *REPORT_NAMES.values())
        return
    try:
        write_reports(json.loads((run_dir / "results.json").read_text(encoding="utf-8")), run_dir)
    except Exception:
        remove(*REPORT_NAMES.values())
    if stream_judged:
        with contextlib.suppress(OSError):
            append_stream_end(run_dir, results)


def _open_stream(run_dir: Path, header: dict[str, Any]) -> ResultsStream:
    try:
        return ResultsStream(run_dir, header)
    except OSError as exc:
        raise OutputError(f"cannot write results in '{run_dir}': {exc.strerror or exc}") from None


def run_item(
    plan: Plan, item: PlanItem, store: SampleStore, run_dir: Path, emit: Callable[[CheckResult], None],
    model_rows: list[dict[str, Any]], files: dict[str, str], interrupts: Interrupts,
    on_progress: ProgressHook,
) -> None:
    """Load one (model, precision) and run its checks under its time limit. Whatever the model
    does (raise, exit, hang) ends as records of this item; only interrupts leave."""
    done: list[str] = []
    family: str | None = item.family
    applicable = [s for s in item.checks if family is None or s.applies_to(family, None)]  # until the model says more

    def emit_item(record: CheckResult) -> None:
        done.append(record.check)
        emit(record)

    try:
        with restored_globals(), time_limit(plan.config.timeout, interrupts):
            on_progress(ProgressEvent(item.model, item.precision, None, "loading model"))
            loading = time.perf_counter()
            if item.model in plan.tampered:
                raise HarnessTampered("as it was imported", list(plan.tampered[item.model]))
            adapter = _load(item, plan.device)
            _raise_if_seal_broken(plan, store, "as it loaded")
            log.info("loaded %s/%s in %.2f s", item.model, item.precision, time.perf_counter() - loading)
            family = adapter.info.family
            capabilities = frozenset(getattr(adapter, "capabilities", ()) or ())
            applicable = [s for s in item.checks if s.applies_to(family, capabilities)]
            on_progress(ProgressEvent(item.model, item.precision, None, CHECKS_STEP, 0, max(len(applicable), 1)))
            for spec in applicable:
                interrupts.raise_pending()
                cache_mark = store.cache_mark()
                record = run_check(plan, item, spec, adapter, store, run_dir, on_progress)
                tampered = _seal_broken(plan, store, f"during {spec.id}", cache_mark)
                if tampered is not None:  # measured while the model had replaced code the harness measures with
                    record.status, record.reason = "error", _reason(tampered)
                    record.value = record.ci_low = record.ci_high = None
                    emit_item(record)
                    raise tampered  # the model is not run again: its remaining checks are errors
                emit_item(record)
            interrupts.raise_pending()
            if not done:
                emit_item(no_check_record(plan, item, family, capabilities))
            files.update(_declared_weights(adapter))
            model_rows.append(_model_row(item, adapter, store, plan, run_dir))
            _raise_if_seal_broken(plan, store, "after its last check")
    except OutputError:
        raise
    except BaseException as exc:  # the load failed, the model exited or timed out: the rest of its checks are errors
        tampered = _seal_broken(plan, store, "before it stopped", store.cache_mark())  # never left for the next unit
        if must_propagate(exc) and not isinstance(exc, ModelTimeout):
            raise
        if tampered is not None:
            exc = tampered
        status = "skipped" if isinstance(exc, NotApplicable) else "error"
        reason = one_line(exc, REASON_LIMIT) if isinstance(exc, (NotApplicable, ModelTimeout)) else _reason(as_model_error(exc))
        remaining = [s for s in applicable if s.id not in done] or ([] if done else [None])
        for spec in remaining:
            record = base_record(plan, item, spec, family) if spec else no_check_record(plan, item, family, ())
            record.status, record.reason = status, reason
            emit(record)


def _seal_broken(plan: Plan, store: SampleStore, when: str, cache_mark: int) -> HarnessTampered | None:
    """Put back whatever the model's code replaced of the harness's (audit.seal) and look for
    shared instruments it changed in place (audit.instrument_integrity); when it did either, drop what the store holds and the cache entries written since `cache_mark` (computed
    meanwhile, maybe with the replaced code) and return the HarnessTampered that names it."""
    changes = plan.seal.restore() if plan.seal is not None else []
    changes += [f"{label} changed in place" for label in store.changed_instruments()]
    if not changes:
        return None
    store.forget_computed(cache_mark)
    return HarnessTampered(when, changes)


def _raise_if_seal_broken(plan: Plan, store: SampleStore, when: str) -> None:
    """`_seal_broken` as an exception: the unit's remaining checks become its error records."""
    tampered = _seal_broken(plan, store, when, store.cache_mark())
    if tampered is not None:
        raise tampered


def _reason(exc: BaseException) -> str:
    """A record's reason for an exception: its type and message on one printable line (model code
    writes the message: a newline, a carriage return or an escape sequence in it could fake a line
    of the CI log), at most REASON_LIMIT characters."""
    return f"{type(exc).__name__}: {one_line(exc, REASON_LIMIT)}"


def _declared_weights(adapter: Any) -> dict[str, str]:
    """The adapter's `info.weights` (file -> sha256) when it is a mapping of strings, else nothing."""
    declared = getattr(adapter.info, "weights", None)
    if not isinstance(declared, dict):
        return {}
    return {str(k): str(v) for k, v in declared.items()}


def judge_run(results: dict[str, Any], plan: Plan, today: Any, run_dir: Path) -> list[dict[str, Any]]:
    """Judge every record once, with all gates (relative ones need the whole run) and the
    policy's waivers as of `today`; set the summary and exit code (write_outputs then rewrites
    results.jsonl with the verdicts). Returns the records some gate judged."""
    import datetime as dt

    from audit.gates import finalize

    finalize(results, list(plan.gates), plan.policy, today or dt.date.today())
    return [r for r in results["records"] if r.get("gates")]


def new_store(plan: Plan) -> SampleStore:
    """The run's cache of samples and embeddings, over the plan's data sources (the bundled
    digits and TinyStories where the user named none)."""
    prompts = getattr(plan, "prompts", None)
    if plan.sources is None:
        store = SampleStore(digits_evaluator, digits_reference, prompts=prompts)
    else:
        sources = plan.sources
        store = SampleStore(sources.evaluator_factory, sources.reference_factory, text_factory=sources.text_factory,
                            attributes=getattr(sources, "attributes", None), prompts=prompts)
    if getattr(plan.config, "cache", False):
        from audit.sample_cache import SampleCache

        store.cache = SampleCache.from_environment()
        store.model_sources = plan.model_sources()
    return store


def _load(item: PlanItem, device: str) -> Any:
    from audit.adapters.loading import load_model

    return load_model(item.source or item.model, item.precision, device)


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
        from audit.artifacts import safe_filename, save_sample_grid

        samples = store.samples(adapter, key)
        name = f"{safe_filename(item.model)}-{item.precision}-samples.png"
        try:
            save_sample_grid(samples.images, samples.labels, run_dir / "artifacts" / name)
        except Exception:  # an odd image layout: the report simply shows no grid
            return row
        row["sample_grid"] = f"artifacts/{name}"
        row["sample_grid_by_class"] = samples.labels is not None
    return row
