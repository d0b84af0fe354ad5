"""The Python API: `audit.run(suite=..., models=[...], n=..., policy=...)`, what `audit run` does.

```python
import audit

result = audit.run(suite="smoke", models=["gan", my_adapter], n=64, bootstrap=20, out="reports")
result.exit_code      # 0 pass, 1 a gate failed, ... (README: exit codes)
result.results        # results.json as written: config, fingerprint, models, records, summary
result.run_dir        # the run folder with report.html, junit.xml, summary.md
```

Keys are those of `audit run` (`audit run --help`) as keyword arguments; lists may be Python
lists, paths may be `Path`s. `models` holds model words (registered names, import paths with
`?key=value` arguments, `hf:`/`torchscript:` words, models files) and adapter objects, named by
their `info.name`, or a mapping of names to adapter objects. Bad input raises
`audit.errors.InputError` with the same one-line message the command line prints.

Unlike `audit run`, which runs in a child process that a parent watches (audit.supervise), the
API runs in the calling process, so adapter objects need no import path: a model that calls
`os._exit()` or is killed by the OOM killer ends the caller too. Call it from the main thread:
the per-model `timeout` uses SIGALRM, so from another thread it is not enforced (one warning
line says so), and one run at a time per process (another thread's call is a ConcurrentRun). `plan_run` and `run_plan` are its two halves; the command
line builds on them.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from audit.errors import InputError

if TYPE_CHECKING:
    from audit.config import RunConfig
    from audit.plan import Plan
    from audit.runner import RunOutcome

__all__ = ["AuditRun", "config_from_keys", "plan_run", "run", "run_plan"]

Models = Sequence[Any] | Mapping[str, Any] | None
"""Model words and adapter objects, or a mapping of names to adapter objects."""


@dataclass(frozen=True)
class AuditRun:
    """A finished run: its folder and results.json as written (read back from the file)."""

    run_dir: Path
    results: dict[str, Any]

    @property
    def exit_code(self) -> int:
        """The run's exit code: 0 pass, 1 a gate failed, 3 inconclusive, 4 error, 5 nothing judged."""
        return int(self.results["summary"]["exit_code"])

    @property
    def passed(self) -> bool:
        return self.exit_code == 0

    @property
    def records(self) -> list[dict[str, Any]]:
        return list(self.results["records"])

    @property
    def report(self) -> Path:
        return self.run_dir / "report.html"

    def record(self, check: str, model: str, precision: str = "fp32") -> dict[str, Any]:
        """The record of one check on one model; KeyError naming what exists when there is none."""
        for r in self.results["records"]:
            if (r["check"], r["model"], r["precision"]) == (check, model, precision):
                return r
        have = sorted({f"{r['check']} {r['model']}/{r['precision']}" for r in self.results["records"]})
        raise KeyError(f"no record of {check} on {model}/{precision}; records: {', '.join(have)}")


def _word(key: str, value: Any) -> str:
    """A keyword argument as the `key=value` word `audit run` reads."""
    if isinstance(value, (list, tuple, set, frozenset)):
        text = ",".join(str(v) for v in value)
    elif isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, (str, int, float, PathLike)):
        text = str(value)
    else:
        raise InputError(f"'{key}' must be a string, number, path or list, got {type(value).__name__}.")
    return f"{key}={text}"


def _split_models(models: Models) -> tuple[list[str] | None, dict[str, Any]]:
    """Model words (as given) and adapter objects by name, in the order given."""
    if models is None:
        return None, {}
    if isinstance(models, (str, PathLike)):
        models = [models]
    named = models.items() if isinstance(models, Mapping) else ((None, m) for m in models)
    words: list[str] = []
    adapters: dict[str, Any] = {}
    for name, model in named:
        if isinstance(model, (str, PathLike)) and name is None:
            words.append(str(model))
            continue
        if isinstance(model, (str, PathLike)):
            raise InputError(f"Model '{name}': a mapping names adapter objects; give model words in a list.")
        label = name if name is not None else getattr(getattr(model, "info", None), "name", None)
        if not isinstance(label, str) or not label:
            raise InputError(f"A model object ({type(model).__name__}) has no info.name: give models as a mapping {{name: adapter}}.")
        if label in adapters or label in words:
            raise InputError(f"Two models are named '{label}'; give them as a mapping {{name: adapter}} with distinct names.")
        words.append(label)
        adapters[label] = model
    if not words:
        raise InputError("models is empty: give model words or adapter objects (or leave it out for the suite's bundled models).")
    return words, adapters


def config_from_keys(suite: str | PathLike, models: Models = None, **keys: Any) -> tuple["RunConfig", dict[str, Any]]:
    """The RunConfig of `run`'s arguments, checked as `audit run` checks its words, and the adapter objects by name."""
    from audit.config import parse_run_words

    if "model" in keys:
        raise InputError("Give models with models=[...] (words or adapter objects).")
    words = [_word("suite", suite)] + [_word(k, v) for k, v in keys.items() if v is not None]
    config = parse_run_words(words)
    names, adapters = _split_models(models)
    return (dataclasses.replace(config, models=names) if names else config), adapters


def plan_run(config: "RunConfig", adapters: Mapping[str, Any] | None = None) -> "Plan":
    """Check every input once (InputError on bad input) and return the frozen plan."""
    from audit.plan import make_plan

    return make_plan(config, adapters)


def run_plan(
    plan: "Plan", *, on_record: Callable[[Any], None] | None = None, on_start: Callable[[Path], None] | None = None,
    today: Any = None, **hooks: Any,
) -> "RunOutcome":
    """Execute a plan: measure, judge, write results.json and the reports (audit.runner.execute),
    on the executor the plan's config names (`executor=ray`: audit.ray_executor)."""
    from audit.runner import execute

    if plan.config.executor != "ray" or "executor" in hooks:
        return execute(plan, on_record=on_record or (lambda r: None), today=today, on_start=on_start or (lambda d: None), **hooks)
    from audit.ray_executor import RayExecutor

    executor = RayExecutor(plan.config.ray_address)
    executor.start()
    try:
        return execute(plan, on_record=on_record or (lambda r: None), today=today, on_start=on_start or (lambda d: None),
                       executor=executor, **hooks)
    finally:
        executor.close()


def warn_timeout_unenforced(timeout: float | None) -> None:
    """One warning line when `timeout` cannot be enforced: SIGALRM reaches only the main thread,
    so a run from another thread had silently ignored it (a hung model hung the call)."""
    import sys
    import threading

    if timeout and threading.current_thread() is not threading.main_thread():
        print(f"audit: warning: timeout={timeout:g} is not enforced: audit.run was called outside the main thread, which "
              "the per-model time limit (SIGALRM) cannot reach; a hung model hangs this call (call it from the main "
              "thread, or use the command line).", file=sys.stderr, flush=True)


def run(suite: str | PathLike, models: Models = None, **keys: Any) -> AuditRun:
    """Run a suite (a bundled name, a suite file or a plugin's suite) against models, in this
    process; returns the run's folder and results.json. Keys are `audit run`'s (n, seed,
    precision, check, policy, out, bootstrap, fail_on, timeout, device, data, text, evaluator)."""
    from audit.isolation import one_api_call_at_a_time

    with one_api_call_at_a_time("audit.run"):  # refused before planning touches the harness's state
        config, adapters = config_from_keys(suite, models, **keys)
        plan = plan_run(config, adapters)
        warn_timeout_unenforced(config.timeout)
        outcome = run_plan(plan)
    results = json.loads((outcome.run_dir / "results.json").read_text(encoding="utf-8"))
    return AuditRun(outcome.run_dir, results)
