"""`executor=ray`: run a plan's (model, precision) units as Ray tasks, on one machine or a cluster.

The unit of work is one `PlanItem` with its checks, what `audit.runner.run_item` does locally.
The frozen plan and the large inputs every unit reads (the reference images and the evaluator's
features of them, computed once in the driver; the held-out text) go into Ray's object store once; each task builds its own `SampleStore` over them, runs the unit
in a scratch folder and returns plain data: its records as dicts, the report's model rows, the
instrument hashes it used and the bytes of the artifacts it wrote. The driver streams each
unit's records into the one run folder as its task finishes (results.jsonl in completion order);
`audit.runner.execute` then judges once and writes results.json and the reports exactly as for
a local run. Seeds are per (model, precision) and the store is deterministic, so a check's value
does not depend on the executor.

Resources per task: one CPU; one GPU when the plan's device is CUDA; memory (a scheduling hint)
from the size of the model's weights where the registry declares them. A task whose worker
process dies (killed, OOM-killed, a crash in native code) is re-run up to MAX_RETRIES times, then
the unit's checks become error records; other units are unaffected. Ctrl-C and SIGTERM cancel
every unfinished task (`ray.cancel`) and the run still writes what was measured.

Workers import `audit` and the models' code themselves: on a cluster of several machines, install
the same environment on every node (or pass it in a Ray runtime environment).
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from audit.errors import InputError, OutputError
from audit.families import ANY, IMAGE, TEXT, get_family
from audit.interrupts import Interrupts
from audit.plan import Plan, PlanItem
from audit.progress_events import UNIT_DONE_STEP, ProgressEvent
from audit.results import CheckResult, record_from_dict
from audit.runner import ItemSink, ProgressHook, base_record, new_store, no_check_record, run_item
from audit.sample_store import SampleStore
from audit.seal import HarnessSeal

log = logging.getLogger(__name__)

MAX_RETRIES = 2
"""Times a unit is re-run after its worker process died, before its checks become error records."""
POLL_S = 0.5
"""Seconds the driver waits for a finished task before it looks at pending signals (and the workers' progress) again."""
RELAY_INTERVAL_S = 0.25
"""Least seconds between two mid-step progress events a worker sends (starts and ends always go)."""
RELAY_TIMEOUT_S = 10.0
"""Seconds the driver waits for the progress inbox before it stops showing the workers' progress."""
MEMORY_PER_WEIGHT_BYTE = 4
"""Memory requested per byte of weights: the weights, a precision variant's copy, activations."""
MEMORY_HEADROOM = 256 * 2**20
"""Bytes requested on top: the interpreter, torch and the unit's samples."""


class RayExecutor:
    """Runs each PlanItem as a Ray task (see the module docstring). `start` connects to the
    cluster (`address`: `auto` is the running cluster, else a new local one with this machine's
    CPUs); `close` shuts down a local cluster this executor started."""

    def __init__(self, address: str = "auto", max_retries: int = MAX_RETRIES) -> None:
        self.address = address
        self.max_retries = max_retries
        self._started_here = False

    def start(self) -> None:
        """Connect to (or start) the cluster; a cluster that cannot be reached is one line (exit 2)."""
        declare_token_auth(self.address)
        import ray

        if ray.is_initialized():
            return
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
        try:
            if self.address == "auto":
                try:
                    ray.init(address="auto", **options)
                except ConnectionError:
                    ray.init(num_cpus=os.cpu_count() or 1, **options)
                    self._started_here = True
            else:
                ray.init(address=self.address, **options)
                self._started_here = self.address == "local"  # a new cluster of this process's own
        except Exception as exc:  # ray raises ConnectionError, ValueError, RuntimeError for a bad address
            raise InputError(f"executor=ray cannot reach the Ray cluster at '{self.address}': {type(exc).__name__}: {exc}".splitlines()[0]) from None

    def close(self) -> None:
        import ray

        if self._started_here and ray.is_initialized():
            ray.shutdown()
        self._started_here = False

    def describe(self) -> dict[str, Any]:
        """The cluster, for the fingerprint: Ray's version, its live nodes, CPUs and GPUs, the retry bound."""
        import ray

        resources = ray.cluster_resources()
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        return {
            "executor": "ray", "ray_version": ray.__version__, "address": self.address, "nodes": len(nodes),
            "cpus": resources.get("CPU", 0.0), "gpus": resources.get("GPU", 0.0), "max_retries": self.max_retries,
        }

    def run_items(self, plan: Plan, store: SampleStore, run_dir: Path, sink: ItemSink, interrupts: Interrupts,
                  on_progress: ProgressHook) -> None:
        """Submit every unit, deliver each as it finishes; an interrupt cancels the unfinished ones.
        Units built from adapter objects (the Python API) run in this process, on `store`. The
        workers' steps reach `on_progress` through a ProgressRelay as the driver polls, and each
        unit's UNIT_DONE_STEP follows its records."""
        import ray

        remote = ray.remote(max_retries=self.max_retries, retry_exceptions=False)(run_unit)
        shared = shared_inputs(plan)
        plan_ref = ray.put(plan)
        relay = ProgressRelay(on_progress)
        order = {(item.model, item.precision): i for i, item in enumerate(plan.items)}
        pending: dict[Any, PlanItem] = {}
        try:
            for index, item in enumerate(plan.items):
                if not in_process(item):
                    pending[remote.options(**task_resources(plan, item)).remote(plan_ref, index, *shared, relay.inbox)] = item
            here = [item for item in plan.items if in_process(item)]
            if here and shared[1] is not None:
                store.adopt_reference_features(ray.get(shared[1]))
            for item in here:
                run_item(plan, item, store, run_dir, sink.emit, sink.model_rows, sink.files, interrupts, on_progress)
                on_progress(ProgressEvent(item.model, item.precision, None, UNIT_DONE_STEP))
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=POLL_S)
                interrupts.raise_pending()
                relay.forward()
                for ref in ready:
                    item = pending.pop(ref)
                    self._deliver(plan, item, ref, run_dir, sink, relay)
                    relay.done((item.model, item.precision))
        except KeyboardInterrupt:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
        finally:
            relay.close()
            sink.model_rows.sort(key=lambda row: order.get((row.get("model"), row.get("precision")), len(order)))

    def _deliver(self, plan: Plan, item: PlanItem, ref: Any, run_dir: Path, sink: ItemSink, relay: ProgressRelay) -> None:
        """One finished task: the rest of its steps shown, its artifacts into the run folder, its
        records streamed; a task that failed (its worker died more than `max_retries` times) as
        error records of its unit."""
        import ray
        from ray.exceptions import RayError

        try:
            outcome = ray.get(ref)
            relay.catch_up((item.model, item.precision), outcome.get("progress_sent", 0))
        except RayError as exc:
            reason = (f"{type(exc).__name__}: the Ray worker running this model failed "
                      f"(tried {self.max_retries + 1} times): {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}")
            for record in unit_error_records(plan, item, reason):
                sink.emit(record)
            return
        for name, data in outcome["artifacts"].items():
            try:
                (run_dir / "artifacts" / name).write_bytes(data)
            except OSError as exc:
                raise OutputError(f"cannot write results in '{run_dir}': {exc.strerror or exc}") from None
        for row in outcome["records"]:
            sink.emit(record_from_dict(row))
        sink.model_rows.extend(outcome["model_rows"])
        sink.files.update(outcome["files"])


AUTH_MODE_ENV = "RAY_AUTH_MODE"
"""Ray's authentication mode (token or disabled); read once, when `ray` is first imported."""


def declare_token_auth(address: str) -> None:
    """Set RAY_AUTH_MODE=token where Ray (2.60) would enable token authentication on its own,
    so that it does not warn about that default on every run ("Token authentication is enabled
    for this Ray cluster. Set RAY_AUTH_MODE=disabled to opt out.", ray._private.authentication.
    authentication_token_setup, logged whenever ray.init turns token auth on with the variable
    unset). Nothing changes but the warning: `ray.init` enables token authentication for every
    new local cluster (address `local`, or `auto` with none running: audit's fallback) and, for
    `auto`, when a token is already available (RAY_AUTH_TOKEN, the file at RAY_AUTH_TOKEN_PATH
    or ~/.ray/auth_token). So: `local`, always; `auto`, with a token present (none yet: Ray picks
    the mode by whether a cluster is running, which is only known after `import ray`, and writes
    ~/.ray/auth_token when it starts one, so the warning shows on that first run only); an
    explicit cluster address (or RAY_ADDRESS), never (Ray leaves it disabled). The user's own
    RAY_AUTH_MODE is never touched, nor the mode of a process that imported Ray already (its
    config is read at import: a change now would split the driver from the cluster it starts)."""
    import sys

    if AUTH_MODE_ENV in os.environ or "ray._raylet" in sys.modules:
        return
    effective = (os.environ.get("RAY_ADDRESS") or address) if address == "auto" else address
    if effective == "local" or (effective == "auto" and _token_available()):
        os.environ[AUTH_MODE_ENV] = "token"


def _token_available() -> bool:
    """Whether Ray would find an authentication token: RAY_AUTH_TOKEN, else the file named by
    RAY_AUTH_TOKEN_PATH, else ~/.ray/auth_token, non-empty (a doubt is `False`: Ray decides)."""
    if os.environ.get("RAY_AUTH_TOKEN", "").strip():
        return True
    try:
        path = Path(os.environ.get("RAY_AUTH_TOKEN_PATH") or Path.home() / ".ray" / "auth_token")
        return bool(path.read_text(encoding="utf-8").strip())
    except (OSError, RuntimeError, UnicodeDecodeError):
        return False


class ProgressInbox:
    """The Ray actor that holds the workers' progress events until the driver collects them."""

    def __init__(self) -> None:
        self._events: list[ProgressEvent] = []

    def push(self, event: ProgressEvent) -> None:
        self._events.append(event)

    def drain(self) -> list[ProgressEvent]:
        events, self._events = self._events, []
        return events


class ProgressRelay:
    """The driver's end of the workers' progress: an inbox actor (no CPU reserved) the tasks
    send their steps to (WorkerProgress), drained into `on_progress` each time the driver
    polls. An inbox that fails stops the relay, never the run."""

    def __init__(self, on_progress: ProgressHook) -> None:
        import ray

        self.on_progress = on_progress
        self._done: set[tuple[str, str]] = set()
        self._received: dict[tuple[str, str], int] = {}
        try:
            self.inbox = ray.remote(num_cpus=0)(ProgressInbox).remote()
        except Exception as exc:
            log.warning("workers' progress is not shown: %s: %s", type(exc).__name__, exc)
            self.inbox = None

    def forward(self) -> None:
        import ray

        if self.inbox is None:
            return
        try:
            events = ray.get(self.inbox.drain.remote(), timeout=RELAY_TIMEOUT_S)
        except Exception as exc:
            log.warning("workers' progress is no longer shown: %s: %s", type(exc).__name__, exc)
            self.inbox = None
            return
        for event in events:
            unit = (event.model, event.precision)
            self._received[unit] = self._received.get(unit, 0) + 1
            if unit not in self._done:  # a late step of a delivered unit is over
                self.on_progress(event)

    def catch_up(self, unit: tuple[str, str], sent: int, timeout: float = RELAY_TIMEOUT_S) -> None:
        """Forward until the inbox has given all `sent` steps of a finished unit (or `timeout`
        passed), so its steps come before its records. The driver waits here, not the task: a
        task that waits on Ray gives up its CPU, and Ray starts a fresh worker in its place."""
        deadline = time.monotonic() + timeout
        while self.inbox is not None and self._received.get(unit, 0) < sent and time.monotonic() < deadline:
            self.forward()
            if self._received.get(unit, 0) < sent:
                time.sleep(0.01)

    def done(self, unit: tuple[str, str]) -> None:
        """The unit's records are delivered: say so (UNIT_DONE_STEP) and drop its later steps."""
        self.forward()
        self._done.add(unit)
        self.on_progress(ProgressEvent(unit[0], unit[1], None, UNIT_DONE_STEP))

    def close(self) -> None:
        import ray

        if self.inbox is not None:
            with contextlib.suppress(Exception):
                ray.kill(self.inbox)
        self.inbox = None


class WorkerProgress:
    """A task's progress hook: each event to `inbox` (fire and forget; an actor runs one caller's
    calls in order), except counted steps in mid-course that come less than `interval` seconds
    after the last one sent. `sent` counts what went, for the driver's ProgressRelay.catch_up.
    The task never waits on the inbox: a task blocked in Ray releases its CPU and Ray starts
    another worker (a cold interpreter) beside it."""

    def __init__(self, inbox: Any, interval: float = RELAY_INTERVAL_S) -> None:
        self.inbox, self.interval = inbox, interval
        self._last_sent = float("-inf")
        self.sent = 0

    def __call__(self, event: ProgressEvent) -> None:
        now = time.monotonic()
        midway = event.done is not None and event.total is not None and 0 < event.done < event.total
        if midway and now - self._last_sent < self.interval:
            return
        self._last_sent = now
        try:  # progress is never worth a unit's records
            self.inbox.push.options(num_returns=0).remote(event)
        except Exception as exc:
            log.debug("a progress step was not sent: %s: %s", type(exc).__name__, exc)
            return
        self.sent += 1


def in_process(item: PlanItem) -> bool:
    """Whether the unit is built from an adapter object (the Python API): it runs in the driver."""
    return item.source is not None and item.source.adapter is not None


def unit_error_records(plan: Plan, item: PlanItem, reason: str) -> list[CheckResult]:
    """Error records for every check of a unit that could not run (as far as planning knows
    which apply: the model was never loaded here), or the no-check record when none does."""
    specs = [s for s in item.checks if item.family is None or s.applies_to(item.family, None)]
    records = [base_record(plan, item, s, item.family) for s in specs] or [no_check_record(plan, item, item.family, ())]
    for record in records:
        record.status, record.reason = "error", reason
    return records


def shared_inputs(plan: Plan) -> tuple[Any, Any, Any]:
    """Object-store references to the reference images, the evaluator's features of them (both
    splits, through the sample cache like a local run) and the held-out text, each computed once
    here when some check of the plan reads that modality (None: each task computes its own, e.g.
    when it fails here, so the failure is recorded by the units as in a local run; or a reference
    converted per model shape, whose features depend on the model)."""
    import ray

    families = {f for item in plan.items for spec in item.checks for f in spec.families}
    modalities = {get_family(f).modality for f in families}
    probe = new_store(plan)
    reference = features = text = None
    if modalities - {TEXT}:
        reference = _put_or_none(ray, lambda: probe.reference)
        if reference is not None and modalities & {IMAGE, ANY}:  # image checks read the reference's features
            features = _put_or_none(ray, probe.reference_features)
    if TEXT in modalities:
        text = _put_or_none(ray, probe.heldout_text)
    return reference, features, text


def _put_or_none(ray: Any, read: Any) -> Any:
    try:
        value = read()
    except Exception as exc:
        log.info("shared input not preloaded (%s: %s); each task reads it", type(exc).__name__, exc)
        return None
    return None if value is None else ray.put(value)


def task_resources(plan: Plan, item: PlanItem) -> dict[str, Any]:
    """Ray resource requests of one unit: 1 CPU, 1 GPU on CUDA, memory from its weights if known."""
    resources: dict[str, Any] = {"num_cpus": 1}
    if plan.device.startswith("cuda"):
        resources["num_gpus"] = 1
    weights = weights_bytes(item)
    if weights:
        resources["memory"] = weights * MEMORY_PER_WEIGHT_BYTE + MEMORY_HEADROOM
    return resources


def weights_bytes(item: PlanItem) -> int | None:
    """Total size of the weights files a model word declares (audit.plan.declared_weights_bytes);
    None where unknown (import paths, adapter objects)."""
    from audit.plan import declared_weights_bytes

    return declared_weights_bytes(item.source.target if item.source is not None else item.model)


def run_unit(plan: Plan, index: int, reference: Any, features: Any, text: Any, inbox: Any = None) -> dict[str, Any]:
    """The Ray task: run plan.items[index] in this worker on its own SampleStore (over the shared
    reference, its features and text when given) in a scratch folder, its steps sent to `inbox`
    (a ProgressInbox, or None); return plain data (records as dicts)."""
    from audit.isolation import one_run_at_a_time
    from audit.threads import single_blas_thread

    plan = replace(plan, seal=HarnessSeal.take())  # a seal does not travel: this worker's own (reused across its units), before it loads the model
    item = plan.items[index]
    store = new_store(plan)
    if reference is not None:
        store.reference_factory = lambda: reference
    if features is not None:
        store.adopt_reference_features(features)
    if text is not None:
        store.text_factory = lambda: text
    records: list[CheckResult] = []
    rows: list[dict[str, Any]] = []
    files: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="audit-ray-unit-") as scratch:
        run_dir = Path(scratch)
        (run_dir / "artifacts").mkdir()
        with single_blas_thread(), one_run_at_a_time():  # model code starting a run inside this unit: NestedRun, as in a local run
            progress = WorkerProgress(inbox) if inbox is not None else None
            run_item(plan, item, store, run_dir, records.append, rows, files, Interrupts(), progress or (lambda event: None))
        artifacts = {p.name: p.read_bytes() for p in sorted((run_dir / "artifacts").iterdir()) if p.is_file()}
    files.update(store.instrument_hashes())
    return {"records": [r.to_dict() for r in records], "model_rows": rows, "files": files, "artifacts": artifacts,
            "progress_sent": progress.sent if progress is not None else 0}


__all__ = [
    "AUTH_MODE_ENV", "MAX_RETRIES", "ProgressInbox", "ProgressRelay", "RayExecutor", "WorkerProgress", "declare_token_auth", "in_process", "run_unit", "shared_inputs", "task_resources",
    "unit_error_records", "weights_bytes",
]
