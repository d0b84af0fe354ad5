"""Planning: turn a RunConfig into an immutable Plan, checking every input once.

Everything a run could fail on before measuring is decided here, each fact once: the suite and
its checks, each precision, each model word (its source file or its bundled weights), the data
sources, the evaluator's weights, the policy and the gates, the device and the output folder.
Bad input raises InputError (exit 2) before anything is measured. The executor (audit.runner)
reads the plan and never re-validates it; the plan is also what a distributed executor ships.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping, Sequence

from audit.adapters.loading import ModelSpec
from audit.checks.base import CheckSpec
from audit.config import RunConfig
from audit.errors import InputError
from audit.families import TEXT, get_family
from audit.policy import Gate, Policy, combine, parse_gate
from audit.seal import HarnessSeal
from audit.suite import Suite

MIN_BOOTSTRAP = 20
"""Fewest resamples accepted for a bootstrap interval (0 means none): below it the 2.5% and 97.5%
percentiles are the extremes of a handful of values, not an interval."""


@dataclass(frozen=True)
class PlanItem:
    """One (model, precision) of the run and the suite's checks. Which of them apply is decided
    once, when the model is loaded (`CheckSpec.applies_to` on the family and capabilities the
    adapter declares): a model word's registered family is only what planning knows of it."""

    model: str
    precision: str
    family: str | None
    checks: tuple[CheckSpec, ...]
    source: ModelSpec | None = None
    """What builds the model: its target and typed arguments, or an adapter object (None: `model` is the word)."""


@dataclass(frozen=True)
class Plan:
    """What a run will do; built once by `make_plan`, read by the executor, never changed."""

    config: RunConfig
    suite: Suite
    items: tuple[PlanItem, ...]
    gates: tuple[Gate, ...]
    n: int
    device: str
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))
    policy: Policy | None = None
    """Its waivers and relative gates are judged when the run ends."""
    sources: Any = None
    """audit.reference_data.Sources: the user's data=, text= and evaluator= (None: the bundled ones)."""
    prompts: Any = None
    """audit.config.Prompts: the `prompts=` file read (None: not given), for text-to-image models."""
    seal: Any = field(default=None, compare=False, repr=False)
    """audit.seal.HarnessSeal taken before any user code was imported (None: no seal, e.g. a plan
    built by hand); the runner restores it after each load and check."""
    tampered: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    """Model word -> what importing it changed in the harness's code (audit.seal): its records are errors."""

    def n_for(self, check_id: str) -> int:
        """The sample size of one check: the run's `n=`, else its own suite's n (suites run together keep theirs)."""
        return self.config.n or self.suite.n_for(check_id)

    def check_params(self, check_id: str) -> dict[str, Any]:
        """The suite's parameters of one check (a fresh dict: a check may not change the plan)."""
        return dict(self.params.get(check_id, {}))

    def model_sources(self) -> dict[str, dict[str, Any]]:
        """What built each model (target and argument values, or the adapter object's class), for the fingerprint."""
        return {item.model: item.source.to_dict() for item in self.items if item.source is not None}


@dataclass(frozen=True)
class ModelWord:
    """A `model=` word after checking it: its declared family and, for a file source, its image shape."""

    word: str
    family: str | None
    image_shape: tuple[int, ...] | None = None
    capabilities: frozenset[str] = frozenset()
    """The capabilities known before loading (an adapter object's, a model folder's): TEXT_TO_IMAGE needs prompts=."""


def make_plan(config: RunConfig, adapters: Mapping[str, Any] | None = None) -> Plan:
    """Validate names, weights, data, policy and gates once; pair each model with each precision.
    `adapters` maps model names in `config.models` to adapter objects (the Python API, in-process)."""
    from audit.adapters.models_file import expand_models
    from audit.checks import check_spec, load_check_modules
    from audit.config import require_device
    from audit.fairness.association_file import check_association_params
    from audit.precision import get_precision
    from audit.suite import load_suites, user_suite_checks

    suite = load_suites(config.suite)
    require_executor(config.executor)
    load_check_modules()
    check_ids = config.checks or list(suite.checks)
    specs = tuple(check_spec(c) for c in check_ids)
    if config.checks:
        require_checks_in_suite(config.checks, suite, config.suite)
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
    seal = HarnessSeal.take()  # before the first import of user code
    models = expand_models(words, adapters)  # models files read, `?key=value` arguments converted
    checked: dict[str, ModelWord] = {}
    tampered: dict[str, tuple[str, ...]] = {}
    for m in models:
        checked[m.name] = check_model_word(m)
        changes = seal.restore()
        if changes:
            tampered[m.name] = tuple(changes)
    image_checks = any(get_family(f).modality != TEXT for s in specs for f in s.families)
    prompts = _read_prompts(config, checked)
    sources = _resolve_sources(config, checked, image_checks, check_ids, suite.checks)
    changes = seal.restore()
    if changes:
        raise InputError(f"Importing the data, evaluator or attribute classifier named changed audit's code: {', '.join(changes[:4])}.")
    if image_checks and not config.evaluator:
        _verify_default_evaluator()
    policy = _read_policy(config.policy)
    suite_gates = _suite_gates(suite)
    items = tuple(PlanItem(m.name, p, checked[m.name].family, specs, m) for m in models for p in config.precisions)
    named = [(f"Suite '{suite.name}', gate {i + 1}", g) for i, g in enumerate(suite_gates)]
    if policy:
        named += [(f"Policy file '{policy.path}', gate {i + 1}", g) for i, g in enumerate(policy.gates)]
    gates = combine(suite_gates, policy.gates if policy else [], [(item.model, item.precision) for item in items])
    params = MappingProxyType({c: MappingProxyType(dict(suite.checks.get(c, {}))) for c in check_ids})
    check_params(params, specs)  # every check's parameters against its signature: exit 2 before anything is measured
    check_association_params(params)  # fairness.association's `tests` file: bad input is exit 2 before anything is measured
    device = require_device(config.device)
    if device.startswith("cuda"):
        _require_gpu_fits(models, config.precisions, device)
    probe_output_folder(config.out)
    if getattr(config, "cache", False):
        from audit.sample_cache import cache_folder_problem, default_max_bytes

        default_max_bytes()  # a bad AUDIT_CACHE_MAX_BYTES is bad input now, not mid-run
        problem = cache_folder_problem()
        if problem:  # a slower run, not a failed one; but not a silent "miss" on every record
            import sys

            print(f"audit: warning: {problem}: this run neither reads nor writes the cache (set AUDIT_CACHE_DIR, or cache=off).",
                  file=sys.stderr, flush=True)
    warn_unmatched_gates(named, [m.name for m in models], config.precisions, check_ids)  # once every input is known good
    warn_unjudged_checks(suite_gates, policy.gates if policy else [], check_ids, suite.name, user_suite_checks(config.suite))
    if config.evaluator:
        warn_bounds_in_digits_units(suite_gates, policy.gates if policy else [], check_ids, suite.name, str(config.evaluator))
    if policy:
        from audit.policy import waiver_today

        live = [w for w in policy.waivers if not w.expired(waiver_today())]  # an expired one has its own error line
        warn_unmatched_waivers(live, [m.name for m in models], config.precisions, check_ids, policy.path)
    return Plan(config, suite, items, tuple(gates), config.n or suite.n, device, params, policy, sources, prompts=prompts,
                seal=seal, tampered=MappingProxyType(tampered))


def _suite_gates(suite: Suite) -> list[Gate]:
    """The suite's gates, each checked as a policy's is: its keys and bounds, and a check pattern
    that matches a known check (exit 2: a gate on no check would silently judge nothing)."""
    from audit.policy import require_known_check
    from audit.registry import checks

    known = checks.names()
    gates = []
    for i, raw in enumerate(suite.gates):
        where = f"Suite '{suite.name}', gate {i + 1}"
        gate = parse_gate(raw, where)
        require_known_check(gate.check, known, where)
        gates.append(gate)
    return gates


def require_checks_in_suite(check_ids: Sequence[str], suite: Suite, word: str) -> None:
    """`check=` picks among the suite's checks: one it does not list would run without its own
    suite's parameters and gates (and pass unjudged), so it is bad input (exit 2), naming the suite that has it."""
    from audit.suite import suites_with_check

    for cid in check_ids:
        if cid in suite.checks:
            continue
        owners = suites_with_check(cid)
        where = (f"it is in suite {', '.join(owners)}: run suite={owners[0]} (or suite={word},{owners[0]})" if owners
                 else "no suite lists it: add it to a suite file's [checks]")
        raise InputError(f"Check '{cid}' is not in suite '{suite.name}' (check= picks among the suite's checks); {where}.")


def warn_unmatched_gates(named: Sequence[tuple[str, Gate]], models: Sequence[str], precisions: Sequence[str],
                         checks: Sequence[str]) -> None:
    """One warning line on stderr per gate on one of the run's `checks` whose model or precision pattern matches none of the
    run's models or precisions: it judges nothing in this run (a shared release policy may name
    models a run does not have, so it is not an error; a precision that is no precision at all
    was refused when the gate was read)."""
    for where, gate in named:
        _warn_unmatched_scope(gate, models, precisions, checks, f"{where} on '{gate.check}'", "it judges nothing in this run")


def warn_unmatched_waivers(waivers: Sequence[Any], models: Sequence[str], precisions: Sequence[str], checks: Sequence[str],
                           where: Any) -> None:
    """One warning line on stderr per unexpired waiver on one of the run's checks whose model or
    precision pattern matches none of the run's: like a gate's (`warn_unmatched_gates`), a waiver
    with a typo in its model waives nothing, and the gate it was meant for fails without saying why."""
    for waiver in waivers:
        _warn_unmatched_scope(waiver, models, precisions, checks, f"Policy file '{where}', waiver on '{waiver.check}' (owner {waiver.owner})",
                              "it waives nothing in this run")


def _warn_unmatched_scope(rule: Any, models: Sequence[str], precisions: Sequence[str], checks: Sequence[str], what: str, effect: str) -> None:
    """The warning line of a gate or waiver (`rule`: check, model and precision patterns) on one of
    the run's checks whose model or precision pattern matches none of the run's."""
    import fnmatch
    import sys

    from audit.isolation import reopen_closed_std_streams

    if not any(fnmatch.fnmatchcase(c, rule.check) for c in checks):
        return  # on none of the run's checks: it acts on nothing whatever its scope
    misses = []
    if not any(fnmatch.fnmatchcase(m, rule.model) for m in models):
        misses.append(f"model '{rule.model}' matches none of the run's models ({', '.join(models)})")
    if not any(fnmatch.fnmatchcase(p, rule.precision) for p in precisions):
        misses.append(f"precision '{rule.precision}' matches none of the run's precisions ({', '.join(precisions)})")
    if misses:
        reopen_closed_std_streams()
        print(f"audit: warning: {what}: {' and '.join(misses)}; {effect}.", file=sys.stderr, flush=True)


def warn_unjudged_checks(suite_gates: Sequence[Gate], policy_gates: Sequence[Gate], checks: Sequence[str], suite_name: str,
                         users: set[str]) -> None:
    """Warning lines on stderr where a gate and a check miss each other: policy gates on none of
    the run's checks (a run narrowed with `check=`, or of another suite, loses them), and checks of
    the run's suite files (`users`) list that no gate judges although a bundled suite gates them (a suite file listing
    `fairness.association` with its own tests but without the fairness suite's gates measures a
    fully biased model and passes). Neither is an error: a measured value without a gate is a
    documented result, and a shared release policy gates more checks than one run has."""
    import fnmatch
    import sys

    from audit.isolation import reopen_closed_std_streams
    from audit.suite import bundled_gated_checks

    lines = []
    unused = sorted({g.check for g in policy_gates if not any(fnmatch.fnmatchcase(c, g.check) for c in checks)})
    if unused:
        lines.append(f"policy gates on {', '.join(repr(c) for c in unused[:6])}{' ...' if len(unused) > 6 else ''} match none of "
                     "the run's checks; they judge nothing in this run")
    gated = bundled_gated_checks()
    gates = [*suite_gates, *policy_gates]
    ungated = [c for c in checks if c in users and c in gated and not any(fnmatch.fnmatchcase(c, g.check) for g in gates)]
    for check in ungated:
        owners = ", ".join(gated[check])
        lines.append(f"no gate of suite '{suite_name}' or the policy judges '{check}' (suite {owners} gates it): its records are "
                     f"measured, not judged; copy {owners}'s [[gate]]s for it into the suite file or a policy")
    if lines:
        reopen_closed_std_streams()
        for line in lines:
            print(f"audit: warning: {line}.", file=sys.stderr, flush=True)


DIGITS_UNITS_CHECKS = ("quality.fid", "quality.kid", "quality.swd_feature")
"""Checks whose values are distances in the evaluator's feature space, so a bound on them holds
only in the space it was set in: the bundled suites' are set in the digits evaluator's."""


def warn_bounds_in_digits_units(suite_gates: Sequence[Gate], policy_gates: Sequence[Gate], checks: Sequence[str], suite_name: str,
                                evaluator: str) -> None:
    """One warning line per suite gate with an absolute bound on a feature-space distance that no
    policy gate replaces, when the run measures in the user's evaluator: FID <= 100 was set in the
    digits CNN's 64-d space, and in a unit-norm feature space FID cannot exceed 6, so uniform
    noise passed it (FID 6.7)."""
    import fnmatch
    import sys

    from audit.isolation import reopen_closed_std_streams

    replaced = {c for c in checks if any(fnmatch.fnmatchcase(c, g.check) for g in policy_gates)}
    lines = sorted({f"suite '{suite_name}' gates '{c}' with {g.label()}, a bound set in the bundled digits evaluator's feature "
                    f"space; evaluator={evaluator} measures in another, where it means nothing: read '{c}' against its "
                    "real-data floor in the record's details, or give your bound in a policy"
                    for g in suite_gates for c in checks
                    if c in DIGITS_UNITS_CHECKS and c not in replaced and not g.is_relative and fnmatch.fnmatchcase(c, g.check)})
    if lines:
        reopen_closed_std_streams()
        for line in lines:
            print(f"audit: warning: {line}.", file=sys.stderr, flush=True)


CHECK_PARAM_TYPES = {"bool": bool, "int": int, "float": float, "str": str}


def _param_types(parameter: Any) -> tuple[str, ...]:
    """The types (names in CHECK_PARAM_TYPES) a check parameter takes: its default's type, else
    those its annotation names (`int | None`); () where neither says (anything is accepted)."""
    import re

    default = parameter.default
    for name, kind in CHECK_PARAM_TYPES.items():  # bool before int: True is an int
        if default is not parameter.empty and default is not None and type(default) is kind:
            return (name,)
    annotation = parameter.annotation
    if annotation is parameter.empty:
        return ()
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", None) or str(annotation)
    return tuple(t for t in CHECK_PARAM_TYPES if re.search(rf"\b{t}\b", text))


def _fits(value: Any, types: tuple[str, ...]) -> bool:
    if isinstance(value, bool):
        return "bool" in types
    if isinstance(value, int):
        return "int" in types or "float" in types
    if isinstance(value, float):
        return "float" in types
    return isinstance(value, str) and "str" in types


def check_params(params: Mapping[str, Mapping[str, Any]], specs: Sequence[CheckSpec]) -> None:
    """Plan-time check of every check's parameters in a plan's {check id: parameters} against the
    check function's signature (InputError, exit 2): a name it does not take, a value whose type is
    not its default's (int, float, bool, str; an int is accepted for a float), and `n` not an
    integer >= 2. A check that takes **kwargs accepts any name. (`fairness.association`'s `tests`
    file is read by audit.fairness.association_file.check_association_params.)"""
    import inspect

    for spec in specs:
        given = params.get(spec.id) or {}
        if not given:
            continue
        parameters = list(inspect.signature(spec.fn).parameters.values())[1:]  # after ctx
        accepted = {p.name: p for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        any_name = any(p.kind is p.VAR_KEYWORD for p in parameters)
        for key, value in given.items():
            if key not in accepted:
                if any_name:
                    continue
                raise InputError(f"Check '{spec.id}' has no parameter '{key}'; valid: {', '.join(accepted) or 'none (give {})'}.")
            if key == "n" and (isinstance(value, bool) or not isinstance(value, int) or value < 2):
                raise InputError(f"Check '{spec.id}': parameter n = {value!r}; it must be a whole number >= 2.")
            types = _param_types(accepted[key])
            if types and not _fits(value, types):
                raise InputError(f"Check '{spec.id}': parameter {key} = {value!r} is {type(value).__name__}; it must be {' or '.join(types)}.")


def _require_gpu_fits(models: Sequence[ModelSpec], precisions: Sequence[str], device: str) -> None:
    """Bad input (exit 2) when a model's declared weights files cannot fit in the GPU's free
    memory even in the run's narrowest precision (read as float32 files scaled to that width: a
    lower bound, so no model that fits is refused; the exact check runs before each load)."""
    import torch

    from audit.devices import fit_problem
    from audit.precision import get_precision

    widths = {p: torch.empty((), dtype=getattr(torch, get_precision(p).float_dtype(device))).element_size() for p in precisions}
    narrowest = min(widths, key=widths.get)
    for m in models:
        stored = declared_weights_bytes(m.target) if m.adapter is None else None
        if stored:
            problem = fit_problem(m.name, stored * widths[narrowest] // 4, device, f"its weights files read as {narrowest}")
            if problem:
                raise InputError(problem)


def declared_weights_bytes(target: str) -> int | None:
    """Bytes of the weights a model word names before anything is loaded: a registered model's
    manifest files, a source word's file or folder; None where unknown (import paths, models
    built from a seed)."""
    from audit.adapters.model_files import parse_source_word
    from audit.devices import folder_weights_bytes

    try:
        source = parse_source_word(target)
        if source is not None:
            return folder_weights_bytes(source.path)
        if ":" in target:
            return None
        from audit.registry import model_entry
        from audit.weights import read_manifest, weights_dir

        entry = model_entry(target)
        folder = weights_dir(entry.metadata.get("weights_folder"))
        total = sum((folder / read_manifest(name, folder)["file"]).stat().st_size for name in entry.metadata.get("weights", ()))
    except Exception:  # an unreadable word is reported by the plan's own checks
        return None
    return total or None


RAY_EXTRA = "generative-model-audit[ray]"
"""The optional extra that installs Ray for `executor=ray`."""


def require_executor(executor: str) -> None:
    """`executor=ray` needs Ray installed: without it, one line naming the extra (exit 2)."""
    import importlib.util

    if executor == "ray" and importlib.util.find_spec("ray") is None:
        raise InputError(f"executor=ray needs Ray, which is not installed: pip install '{RAY_EXTRA}' (or executor=local).")


def default_models(specs: tuple[CheckSpec, ...] | list[CheckSpec]) -> list[str]:
    """Every bundled clean (non-defect, not opt-in) model of a family some check applies to."""
    from audit.registry import models, register_bundled_models

    register_bundled_models()
    families = {f for s in specs for f in s.families}
    return [e.name for e in models if not e.metadata.get("defect") and not e.metadata.get("plugin") and not e.metadata.get("opt_in")
            and e.metadata.get("family") in families]


def check_model_word(word: str | ModelSpec) -> ModelWord:
    """Resolve a model word (or a ModelSpec, whose arguments are already converted) now: source
    files are checked, registered names verify their weights, import paths import; each once.
    Bad input is InputError (exit 2)."""
    from audit.adapters.loading import model_spec
    from audit.adapters.model_files import check_source
    from audit.registry import import_target, model_entry

    spec = word if isinstance(word, ModelSpec) else model_spec(word)  # `?key=value` arguments checked
    name, target = spec.name, spec.target
    if spec.adapter is not None:  # an object of the Python API: checked when it was given
        return ModelWord(name, getattr(spec.adapter.info, "family", None), getattr(spec.adapter.info, "image_shape", None),
                         frozenset(getattr(spec.adapter, "capabilities", ()) or ()))
    source = check_source(target)  # hf:DIR / torchscript:FILE
    if source is not None:
        return ModelWord(name, source.family, getattr(source, "image_shape", None), frozenset(getattr(source, "capabilities", ()) or ()))
    if ":" in target:
        import_target(target)
        return ModelWord(name, None)
    entry = model_entry(target)
    if entry.metadata.get("plugin"):
        entry.load()  # an installed plugin's entry point must import now (exit 2 if it does not)
    _verify_entry_weights(entry)
    return ModelWord(name, entry.metadata.get("family"))


def verify_bundled(word: str) -> str | None:
    """The declared family of a model word after checking it (see `check_model_word`)."""
    return check_model_word(word).family


def _verify_entry_weights(entry: Any) -> None:
    from audit.weights import verify_entry_weights

    verify_entry_weights(entry)


def _read_prompts(config: RunConfig, checked: dict[str, ModelWord]) -> Any:
    """The `prompts=` file read (audit.config.Prompts), or None; a text-to-image model known now
    without prompts= is bad input (exit 2). One known only once loaded gets an error record."""
    from audit.adapters.base import TEXT_TO_IMAGE
    from audit.config import read_prompts

    if config.prompts is not None:
        return read_prompts(Path(config.prompts))
    text_to_image = [w for w, m in checked.items() if TEXT_TO_IMAGE in m.capabilities]
    if text_to_image:
        raise InputError(f"Model '{text_to_image[0]}' generates images from text: give prompts=<file> (UTF-8, one prompt per line).")
    return None


def _verify_default_evaluator() -> None:
    from audit.evaluators import DEFAULT_EVALUATOR
    from audit.registry import evaluators
    from audit.weights import verify_entry_weights

    verify_entry_weights(evaluators.entry(DEFAULT_EVALUATOR))


def _read_policy(path: Path | None) -> Policy | None:
    if not path:
        return None
    from audit.policy import read_policy
    from audit.registry import checks

    return read_policy(Path(path), known_checks=checks.names())


def probe_output_folder(out: Path) -> None:
    """An unwritable, read-only or missing-parent `out` is bad input (exit 2) before anything is measured."""
    from audit.config import writable_folder

    writable_folder(out)


def _resolve_sources(
    config: RunConfig, checked: dict[str, ModelWord], image_checks: bool, check_ids: list[str], suite_checks: Any = None
) -> Any:
    """data= / text= / evaluator=, read and checked against the generators' shapes and the checks (exit 2)."""
    from audit.reference_data import check_text_words, resolve_sources

    shapes = {w: m.image_shape for w, m in checked.items()}
    sources = resolve_sources(config, shapes, image_checks, check_ids)
    if sources.text is not None:  # text= documents long enough for the checks that continue them (exit 2)
        check_text_words(sources.text, Path(str(config.text)), {c: dict((suite_checks or {}).get(c) or {}) for c in check_ids})
    return sources
