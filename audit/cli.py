"""The `audit` command line. Imports nothing heavy until a command needs it (no torch for --help).

`key=value` words and `--key value` options are the same; lists are comma-separated.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import typer

from audit import __version__
from audit.config import RUN_KEYS, split_words
from audit.errors import AuditError, EXIT_BAD_INPUT, EXIT_ERROR, OutputError

WORDS = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": ["-h", "--help"]}

app = typer.Typer(
    name="audit",
    help="Evaluation and ethics audit harness for generative models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _echo(message: str, err: bool = False) -> None:
    """typer.echo to stdout (or stderr), reopened first if a model closed it."""
    from audit.isolation import reopen_closed_std_streams

    reopen_closed_std_streams()
    try:
        typer.echo(message, err=err)
    except BrokenPipeError:
        # The reader closed the pipe (`audit list checks | head -1`): it has what it wanted. Point
        # stdout at /dev/null (the Python docs' recipe, so the exit flush cannot fail again) and
        # go on: a listing ends with exit 0 as it would have (a nonzero code would fail a
        # `set -o pipefail` CI step for a reader's choice), and `audit run` keeps going and exits
        # with its verdict: losing stdout never changes what was judged.
        import os

        stream = sys.stderr if err else sys.stdout
        os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


def _fail(message: str, code: int) -> None:
    from audit.messages import printable

    _echo(f"audit: error: {printable(message)}", err=True)
    raise typer.Exit(code)


def guarded(fn: Callable[[], Any]) -> Any:
    """Run a command body; our errors become one line on stderr and their exit code. Anything
    else that escapes is an internal error: one line and exit 4, never a traceback with exit 1
    (which CI would read as "gate failed")."""
    try:
        return fn()
    except OutputError as exc:
        from audit.supervise import withdraw_run_dir

        withdraw_run_dir()
        _fail(str(exc), exc.exit_code)
    except AuditError as exc:
        _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", EXIT_ERROR)
    except typer.Exit:
        raise
    except OSError as exc:
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        _fail(f"{exc.strerror or type(exc).__name__}{where}", EXIT_ERROR)
    except Exception as exc:
        _fail(f"internal error: {type(exc).__name__}: {_one_line(str(exc))} (please report this)", EXIT_ERROR)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _version(value: bool) -> None:
    if value:
        typer.echo(f"audit {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
) -> None:
    """Evaluation and ethics audit harness for generative models."""


RUN_HELP = "Run a suite against models: audit run suite=quality model=gan seed=0\n\nKeys (key=value or --key value):\n\n" + "\n\n".join(
    f"{k}: {v}" for k, v in RUN_KEYS.items()
)


def _record_line(record: Any) -> str:
    from audit.formatting import fmt, fmt_ci
    from audit.verdicts import UNJUDGED, status_label

    detail = record.verdict if record.status not in UNJUDGED else record.reason
    line = f"{status_label(record.status):>12}  {record.check:<30} {record.model}/{record.precision}  {fmt(record.value)} {fmt_ci(record.to_dict())}"
    return f"{line}  {detail or ''}".rstrip()


def _print_record(record: Any) -> None:
    _echo(_record_line(record))


QUIET_HELP = "print only the final verdict line and errors"
VERBOSE_HELP = "diagnostics on stderr (logging): -v INFO, -vv DEBUG"


@app.command(context_settings=WORDS, help=RUN_HELP)
def run(
    ctx: typer.Context,
    quiet: bool = typer.Option(False, "--quiet", "-q", help=QUIET_HELP),
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help=VERBOSE_HELP),
) -> None:
    def body() -> None:
        from audit.api import plan_run, run_plan
        from audit.config import parse_run_words
        from audit.progress import run_display
        from audit.verdicts import ERROR

        config = parse_run_words(list(ctx.args))
        today = _today()
        plan = plan_run(config)  # the Python API's two halves (audit.api): the same checks, the same run
        if not quiet:
            _echo(f"audit {plan.suite.name}: {len(plan.items)} model/precision pair(s), n={plan.n}, seed={config.seed}")
        from audit.supervise import announce_run_dir

        units = {(item.model, item.precision): len(item.checks) for item in plan.items}
        with run_display(units, _record_line, _echo, quiet=quiet) as display:
            outcome = run_plan(plan, on_record=display.record, today=today, on_start=announce_run_dir, on_progress=display.progress)
        results = outcome.results
        if outcome.judged and not quiet:
            from audit.results import record_from_dict

            _echo("Verdicts (every gate judged once the run ended):")
            for row in outcome.judged:
                _print_record(record_from_dict(row))
        errors: dict[tuple[str, str, str], list[str]] = {}
        for record in results["records"]:
            if record["status"] == ERROR:
                errors.setdefault((record["model"], record["precision"], record["reason"]), []).append(record["check"])
        for (model, precision, reason), failed in errors.items():
            _echo(f"audit: error: {model}/{precision}: {reason} ({', '.join(failed)})", err=True)
        if results["interrupted"]:
            by = " by SIGTERM" if results.get("interrupted_by") == "SIGTERM" else ""
            _echo(f"audit: interrupted{by}; what was measured is kept.", err=True)
        from audit.gates import unaudited_models

        errored = {r["model"] for r in results["records"] if r["status"] == ERROR}
        for model in (m for m in unaudited_models(results["records"]) if m not in errored):
            _echo(f"audit: error: model '{model}' got no judged record (every check skipped or none applied): not a pass", err=True)
        from audit.gates import expired_waiver_line

        for waiver in results["summary"].get("expired_waivers", []):
            _echo(f"audit: error: {expired_waiver_line(waiver, config.policy)}", err=True)
        from audit.verdicts import run_verdict

        code = results["summary"]["exit_code"]
        counts = ", ".join(f"{v} {k}" for k, v in results["summary"]["counts"].items())
        _echo(f"Verdict: {run_verdict(code).word} (exit {code}): {counts or 'no records'}")
        if not quiet:
            _echo(f"Report: {outcome.run_dir / 'report.html'}")
        raise typer.Exit(code)

    from audit.progress import diagnostics

    with diagnostics(verbose):
        guarded(body)


def _today() -> Any:
    """Today's date for waiver expiry (audit.policy.waiver_today: AUDIT_TODAY replays another day)."""
    from audit.policy import waiver_today

    return waiver_today()


def _known_checks() -> list[str]:
    from audit.checks import load_check_modules
    from audit.registry import checks

    load_check_modules()
    return checks.names()


def _read_policy(path: Path) -> Any:
    from audit.policy import read_policy

    return read_policy(path, known_checks=_known_checks())


@app.command()
def validate(policy: Path = typer.Argument(..., help="a policy TOML file, or a pyproject.toml with a [tool.audit] table")) -> None:
    """Check a policy file without running anything: one summary line (exit 0) or one error line (exit 2).

    A policy with an expired waiver is well formed but would fail a run: exit 1, naming the waiver."""

    def body() -> None:
        from audit.gates import expired_waiver_line

        parsed = _read_policy(policy)
        today = _today()
        typer.echo(parsed.summary(today))
        expired = parsed.expired_waivers(today)
        for waiver in expired:
            typer.echo(f"audit: error: {expired_waiver_line(waiver.to_dict(), policy)}", err=True)
        if expired:
            raise typer.Exit(1)

    guarded(body)


COMPARE_KEYS = {
    "out": "folder for compare.json and compare.md; default B's folder",
    "force": "true to compare runs whose metric fingerprints differ (default false)",
}
COMPARE_HELP = (
    "Compare two runs: audit compare A/results.json B/results.json out=DIR --force (both optional)\n\n"
    "Matches records by (check, model, precision) and reports B - A with a 95% CI, labelled "
    "paired (per-sample differences on the same inputs) or unpaired (conservative CI from the two "
    "intervals). Refuses (exit 2) runs whose metric fingerprints differ (evaluator and data sha256, "
    "metric package versions, n, bootstrap, check parameters) unless --force, files `audit report` would refuse, and "
    "runs with no record in common (other models, precisions or checks). An interrupted run is incomplete: the "
    "comparison is written and says so, with exit 4."
)


def _paths_and_options(words: list[str], keys: dict[str, str], flags: dict[str, str] | None = None) -> tuple[list[str], dict[str, str]]:
    """Positional paths apart from key=value / --key value words; a word in `flags` (e.g. --force)
    needs no value. A `key=value` word that names an existing path is a path (a folder may hold
    "=" in its name); any other option word not in `keys` is named as an unknown key."""
    import re

    flags = flags or {}
    paths, options, i = [], [], 0
    while i < len(words):
        word = words[i]
        if word in flags:
            options.append(flags[word])
        elif word.startswith("--") and "=" not in word and i + 1 < len(words):
            options += [word, words[i + 1]]
            i += 1
        elif word.startswith("-") or (re.match(r"[A-Za-z_][\w-]*=", word) and not Path(word).exists()):
            options.append(word)
        else:
            paths.append(word)
        i += 1
    return paths, split_words(options, keys)


@app.command(context_settings=WORDS, help=COMPARE_HELP)
def compare(ctx: typer.Context) -> None:
    def body() -> None:
        from audit.compare import compare_runs, interrupted_line, render_text, write_comparison
        from audit.errors import EXIT_ERROR, InputError
        from audit.results import load_results

        paths, raw = _paths_and_options(list(ctx.args), COMPARE_KEYS, {"--force": "force=true", "-f": "force=true"})
        if len(paths) != 2:
            raise InputError(f"compare needs two results.json paths (A then B), got {len(paths)}: {' '.join(paths) or '(none)'}.")
        force_word = raw.get("force", "false").lower()
        if force_word not in ("1", "true", "yes", "0", "false", "no"):
            raise InputError(f"'force' must be true or false, got '{raw['force']}'.")
        from audit.config import writable_folder
        from audit.messages import printable, printable_tree

        a_path, b_path = Path(paths[0]), Path(paths[1])
        a, b = load_results(a_path, for_report=True), load_results(b_path, for_report=True)  # what `audit report` accepts
        comparison = compare_runs(a, b, force=force_word in ("1", "true", "yes"), paths=(str(a_path), str(b_path)))
        out = writable_folder(Path(raw["out"]) if "out" in raw else b_path.parent)  # as run and report: exit 2 before any output
        comparison = printable_tree(comparison)  # names read back from results.json: shown escaped, never raw
        incomplete = interrupted_line(comparison)
        if incomplete:
            _echo(f"audit: warning: {incomplete}", err=True)
        if comparison["forced"]:
            _echo(f"audit: warning: metric fingerprints differ ({'; '.join(comparison['fingerprint_differences'])}); compared anyway (--force).", err=True)
        _echo(printable(f"B {b.get('run_id')} ({b_path}) vs A {a.get('run_id')} ({a_path}); delta = B - A"))
        _echo(render_text(comparison))
        for side, key in (("A", "only_in_a"), ("B", "only_in_b")):
            if comparison[key]:
                _echo(f"Only in {side}: " + ", ".join(f"{c} {m}/{p}" for c, m, p in comparison[key]))
        if comparison["info_differences"]:
            _echo("Other differences (not in the metric fingerprint): " + "; ".join(comparison["info_differences"]))
        written = write_comparison(comparison, out)
        _echo(printable(f"Comparison: {written['json']} {written['markdown']}"))
        if incomplete:
            raise typer.Exit(EXIT_ERROR)  # written, but an interrupted side is never a clean comparison

    guarded(body)


LISTABLE = ("suites", "models", "checks", "precisions")


@app.command("list")
def list_(what: str = typer.Argument(..., help="suites | models | checks | precisions")) -> None:
    """List suites, models, checks or precisions, one line each."""

    def body() -> None:
        from audit.messages import did_you_mean

        if what not in LISTABLE:
            from audit.errors import InputError

            raise InputError(did_you_mean("list", what, list(LISTABLE)))
        for line in LISTERS[what]():
            _echo(line)

    guarded(body)


def _list_suites() -> list[str]:
    """Bundled suites, then installed packages' suites (with their package); a plugin suite that
    cannot be read is listed with its problem."""
    from audit.errors import InputError
    from audit.suite import load_suite, suite_names, suite_origin

    lines = []
    for name in suite_names():
        origin = suite_origin(name)
        try:
            description = load_suite(name).description
        except InputError as exc:
            description = f"unreadable: {exc}"
        lines.append(f"{name:<14} {description}" + ("" if origin == "bundled" else f" ({origin})"))
    return lines


def _list_models() -> list[str]:
    from audit.registry import models, register_bundled_models
    from audit.weights import manifest_params, weights_dir

    register_bundled_models()
    lines = []
    for defect in (False, True):
        for e in models:
            if bool(e.metadata.get("defect")) != defect:
                continue
            names, folder = e.metadata.get("weights"), e.metadata.get("weights_folder")
            params = manifest_params(names[0], weights_dir(folder)) if names and folder else None
            size = f"{params / 1e6:.2f}M params" if params else "params unknown"
            tag = "defect" if defect else e.metadata.get("family", "plugin")
            lines.append(f"{e.name:<24} {tag:<11} {size:<15} {e.description}")
    return lines


def _list_checks() -> list[str]:
    from audit.checks import load_check_modules
    from audit.registry import checks

    load_check_modules()
    rows = [(e.name, ",".join(e.metadata["families"]), e.description) for e in checks]
    name_w = max((len(r[0]) for r in rows), default=0) + 1
    family_w = max((len(r[1]) for r in rows), default=0) + 1
    return [f"{name:<{name_w}} {families:<{family_w}} {description}" for name, families, description in rows]


def _list_precisions() -> list[str]:
    from audit.precision import PRECISIONS

    width = max(len(name) for name in PRECISIONS) + 1
    return [f"{p.name:<{width}} {p.description}" for p in PRECISIONS.values()]


LISTERS: dict[str, Callable[[], list[str]]] = {
    "suites": _list_suites, "models": _list_models, "checks": _list_checks, "precisions": _list_precisions,
}


REPORT_KEYS = {"out": "folder for comparison.html when comparing runs (created); default ./audit-comparison"}
REPORT_HELP = (
    "Re-render one run's reports, or compare many runs on one page.\n\n"
    "audit report RUN: re-render report.html, junit.xml and summary.md from RUN (a run folder, its results.json, or its "
    "results.jsonl), or rebuild all of them (results.json too) from results.jsonl alone: a run killed hard (SIGKILL, "
    "out of memory) leaves only that. Exits with the run's exit code as the reports show it (1 for a failing run, 4 for "
    "one rebuilt interrupted).\n\n"
    "audit report A B ... out=DIR, or audit report FOLDER (a folder of run folders: a sweep, a nightly series): write "
    "DIR/comparison.html (default ./audit-comparison): a leaderboard per check with 95% CIs, trends over runs with the "
    "gates drawn, and each run that is not comparable (audit compare's rules) marked with the reason."
)


@app.command(context_settings=WORDS, help=REPORT_HELP)
def report(ctx: typer.Context) -> None:
    def body() -> None:
        from audit.errors import InputError
        from audit.report.comparison_inputs import is_collection

        paths, raw = _paths_and_options(list(ctx.args), REPORT_KEYS)
        if not paths:
            raise InputError("report needs a run folder (or its results.json or results.jsonl), or two or more runs to compare.")
        if len(paths) == 1 and "out" not in raw and not is_collection(Path(paths[0])):
            _rerender(Path(paths[0]))
        else:
            _compare_page([Path(p) for p in paths], Path(raw.get("out", "audit-comparison")))

    guarded(body)


def _rerender(results: Path) -> None:
    """`audit report RUN`: one run's reports written again into its folder; it exits with the run's
    exit code as the reports show it (results.json's, recomputed from the records where the summary
    disagrees with them; 4 for a run rebuilt from a stream cut short), as `audit run` did, so a CI
    step reading it never sees 0 for a run that did not pass. Bad input is 2; reports that cannot
    be written are one line naming the folder, 4."""
    from audit.messages import printable
    from audit.rebuild import load_for_report, restate_summary
    from audit.report import write_reports
    from audit.results import write_json_atomic

    data, run_dir, rebuilt = load_for_report(results)
    disagreement = restate_summary(data)
    try:
        if rebuilt:
            write_json_atomic(run_dir / "results.json", data)
            state = "interrupted: incomplete" if data.get("interrupted") else "complete"
            _echo(printable(f"Rebuilt: {run_dir / 'results.json'} from results.jsonl ({state}, exit code {data['summary']['exit_code']})"))
        if disagreement:
            _echo(f"audit: warning: {disagreement}", err=True)
        paths = write_reports(data, run_dir)
    except OSError as exc:
        raise OutputError(f"cannot write the reports in '{run_dir}': {exc.strerror or exc}") from None
    _echo(printable(f"Report: {paths['html']}"))
    raise typer.Exit(data["summary"]["exit_code"])


def _compare_page(paths: list[Path], out: Path) -> None:
    """`audit report A B ...` or `audit report FOLDER`: one comparison page of many runs."""
    from audit.report.comparison import write_comparison_page
    from audit.report.comparison_inputs import load_runs

    from audit.messages import printable

    runs = load_runs(paths)
    page = write_comparison_page(runs, out)
    _echo(printable(f"Comparison of {len(runs)} runs: {page}"))


TRAIN_OUT = "weights"
"""Default folder of `audit train`, relative to the current directory: never the installed package."""
TRAIN_KEYS = {
    "model": "bundled model to retrain (audit list models, or classifier)",
    "seed": "training seed: 0..2147483647 (2**31 - 1); default 0",
    "out": f"folder for the weights and manifest (created; must be writable); default ./{TRAIN_OUT}. Load them with "
           "AUDIT_WEIGHTS_DIR=<folder>; maintainers rebuilding the bundled weights say out=audit_reference_models/weights",
    "quick": "true or false: a shortened run (tests, smoke checks); default false",
}


def _weights_hint(out: Path, shipped: Path) -> str:
    """How to use freshly trained weights: the folder they ship in (`shipped`) is loaded as is;
    any other folder through AUDIT_WEIGHTS_DIR, which then holds every model's weights."""
    folder = out.resolve()
    if folder == shipped.resolve():
        return f"Replaced the bundled weights in {folder}."
    return (f"Load them with AUDIT_WEIGHTS_DIR={folder} (audit then reads every model's weights from that folder: "
            f"copy the bundled ones from {shipped} beside them for the models you did not retrain).")


TRAIN_HELP = f"Retrain a bundled model's weights from its seed into ./{TRAIN_OUT}: audit train model=gan\n\nKeys (key=value or --key value):\n\n" + "\n\n".join(
    f"{k}: {v}" for k, v in TRAIN_KEYS.items()
)


@app.command(context_settings=WORDS, help=TRAIN_HELP)
def train(ctx: typer.Context) -> None:
    def body() -> None:
        from audit.config import parse_flag, parse_seed, writable_folder
        from audit.errors import InputError
        from audit.registry import trainers

        raw = split_words(list(ctx.args), TRAIN_KEYS)
        if "model" not in raw:
            raise InputError(f"No model given: say model=NAME ({', '.join(trainers.names())}).")
        entry = trainers.entry(raw["model"])
        seed = parse_seed(raw.get("seed", "0"))
        quick = parse_flag("quick", raw.get("quick", "false"))
        from audit.training import train_with_quick_reference

        out = writable_folder(Path(raw.get("out", TRAIN_OUT)).expanduser())
        typer.echo(f"Training {entry.name} (seed {seed}{', quick' if quick else ''}; about {entry.metadata['minutes']:g} min on 2 cores) -> {out}")
        metrics = train_with_quick_reference(trainers.load(entry.name), entry.name, seed, out, quick, **entry.metadata["kwargs"])
        typer.echo(f"Done: {metrics}")
        typer.echo(_weights_hint(out, entry.metadata["weights_folder"]))

    guarded(body)


CHECK_MODEL_KEYS = {
    "model": "the model to check: a registered name, package.module:factory, hf:<folder> or torchscript:<file>",
    "n": "samples per call: 1..16384; default 8",
    "seed": "seed: 0..2147483647 (2**31 - 1); default 0",
    "precision": "precision variant the precision rule switches to; default bf16",
    "device": "cpu or cuda (must be available); default cpu",
}


@app.command(
    "check-model", context_settings=WORDS,
    help="Check a model against the adapter contract (audit.testing): audit check-model model=my_pkg.models:load\n\n"
    "Exit 0: every rule holds; 1: a rule is broken (named on one line); 2: bad input.",
)
def check_model(ctx: typer.Context) -> None:
    def body() -> None:
        from audit.config import parse_n, parse_seed, require_device
        from audit.errors import InputError
        from audit.verdicts import FAIL, PASS, SKIPPED, status_label

        raw = split_words(list(ctx.args), CHECK_MODEL_KEYS)
        if "model" not in raw:
            raise InputError("No model given: say model=NAME, package.module:factory, hf:<folder> or torchscript:<file>.")
        word = raw["model"]
        n, seed = parse_n(raw.get("n", "8"), 1), parse_seed(raw.get("seed", "0"))
        device = raw.get("device", "cpu")
        if device not in ("cpu", "cuda"):
            raise InputError(f"Unknown device '{device}'. Valid: cpu, cuda.")
        require_device(device)
        from audit.adapters.loading import build_model
        from audit.precision import get_precision
        from audit.plan import verify_bundled

        variant = get_precision(raw.get("precision", "bf16"))
        if getattr(variant, "needs_cuda", False) and device != "cuda":
            raise InputError(f"precision={variant.name} needs device=cuda.")
        precision = variant.name
        verify_bundled(word)  # unknown names, bad weights, bad hf:/torchscript: words: exit 2
        try:
            adapter = build_model(word, "fp32", device)
        except InputError:
            raise
        except Exception as exc:
            from audit.messages import one_line

            message = f"load: building the model raised {type(exc).__name__}: {one_line(exc)}"
            typer.echo(f"  {status_label(FAIL):>5}  {message}")
            _fail(f"model '{word}' breaks the adapter contract: {message}", 1)
        from audit.testing import run_adapter_checks

        typer.echo(f"check-model {word} ({adapter.info.family}, capabilities: {', '.join(sorted(adapter.capabilities)) or 'none'})")
        outcomes = run_adapter_checks(
            adapter, fresh=lambda: build_model(word, "fp32", device), n=n, seed=seed, precision=precision, device=device
        )
        for o in outcomes:
            detail = o.message.removeprefix(f"{o.rule}: ")
            label = SKIPPED if o.skipped else PASS if o.passed else FAIL
            typer.echo(f"  {status_label(label):>5}  {o.rule}{'  ' + detail if o.skipped or not o.passed else ''}")
        failed = [o for o in outcomes if not o.passed]
        if failed:
            more = f" (+{len(failed) - 1} more rule(s) broken, listed above)" if len(failed) > 1 else ""
            _fail(f"model '{word}' breaks the adapter contract: {failed[0].message}{more}", 1)
        typer.echo(f"OK: {word} honours the adapter contract ({len(outcomes)} rules).")

    guarded(body)


CACHE_ACTIONS = ("info", "clear")


@app.command("cache")
def cache_(action: str = typer.Argument(..., help="info | clear")) -> None:
    """The sample cache across runs ($AUDIT_CACHE_DIR): info (folder, entries, size, limit, oldest/newest use) or clear."""

    def body() -> None:
        import time

        from audit.messages import did_you_mean
        from audit.sample_cache import SampleCache

        if action not in CACHE_ACTIONS:
            from audit.errors import InputError

            raise InputError(did_you_mean("cache action", action, list(CACHE_ACTIONS)))
        cache = SampleCache.from_environment()
        if action == "clear":
            typer.echo(f"Removed {cache.clear()} entries from {cache.folder}")
            return
        info = cache.info()

        def when(t: float | None) -> str:
            return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t is not None else "-"

        typer.echo(f"folder   {info.folder}")
        typer.echo(f"entries  {info.entries}")
        typer.echo(f"size     {info.total_bytes / 2**20:.1f} MiB of {info.max_bytes / 2**20:.0f} MiB (AUDIT_CACHE_MAX_BYTES)")
        typer.echo(f"oldest   {when(info.oldest)}")
        typer.echo(f"newest   {when(info.newest)}")

    guarded(body)


def main() -> None:
    """Console-script entry point: `audit run` runs in a supervised child process (audit.supervise)."""
    from audit.isolation import refuse_second_run
    from audit.supervise import end_supervised_child, follow_parent, should_supervise, supervise

    refuse_second_run("audit's command line")  # model code (a factory `audit.cli:main`) calling the command line inside a run
    if should_supervise(sys.argv[1:]):
        sys.exit(supervise(sys.argv[1:]))
    follow_parent()
    try:
        app()
    except SystemExit as exc:
        end_supervised_child(exc)
        raise
    except KeyboardInterrupt:
        typer.echo("audit: error: interrupted", err=True)
        sys.exit(EXIT_ERROR)
    except Exception as exc:  # outside any command body (e.g. while parsing): still one line, exit 4
        typer.echo(f"audit: error: internal error: {type(exc).__name__}: {_one_line(str(exc))}", err=True)
        sys.exit(EXIT_ERROR)


if __name__ == "__main__":
    main()

__all__ = ["app", "main", "EXIT_BAD_INPUT"]
