"""Load a model from its `model=` word, in a precision and device.

A word is one of:

- a registered name: a bundled model, or a plugin's entry point in the `audit.models` group;
- `package.module:factory`: an import path to a factory returning a ModelAdapter;
- `hf:<folder>`: a local Hugging Face causal LM directory (see `audit.adapters.model_files`);
- `torchscript:<file>[?latent=..&classes=..]`: a TorchScript image generator.

A registered name or an import path may carry arguments for its factory in the project's one
option syntax (`audit.words`): `pkg.mod:make?ckpt=runs/epoch10.pt&ema=true`. Each value is
converted by the factory's annotation of that parameter (int, float, bool, str, Path; unannotated:
passed as given), and checked at plan time: an unknown name, a bad value or a missing required
argument is one line (exit 2). The whole word is the model's name, so two checkpoints of one
factory are two models. A `ModelSpec` is a checked word: its name, its target and its typed
arguments, or an adapter object passed through the Python API (`audit.api`).

Factories are called as `factory(**arguments)`, plus `precision=` and `device=` when they accept
those keywords (e.g. to load their weights directly in the run's dtype); the precision variant is
applied to the result either way.
"""

from __future__ import annotations

import copy
import functools
import inspect
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, Callable, Mapping

from audit.errors import InputError
from audit.families import FAMILY_NAMES
from audit.registry import import_target, model_entry
from audit.words import FLAG_WORDS, is_integer_word, is_number_word, parse_options, shown, split_options

RESERVED_ARGUMENTS = ("precision", "device")
"""Keywords the run itself passes to a factory: set them with the run's keys, not as arguments."""
ARGUMENT_TYPES = (bool, int, float, str, Path)
"""Annotations a model argument is converted to (a union with None counts as its other type)."""


@dataclass(frozen=True)
class ModelSpec:
    """A checked model: its name in records and reports, what builds it and its typed arguments;
    or an adapter object (the Python API), which is run in this process."""

    name: str
    target: str = ""
    """A registered name, `package.module:factory`, or an `hf:` / `torchscript:` word."""
    args: tuple[tuple[str, Any], ...] = ()
    adapter: Any = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """What built this model, for the run's fingerprint (argument values as JSON)."""
        if self.adapter is not None:
            kind = type(self.adapter)
            return {"object": f"{kind.__module__}.{kind.__qualname__}"}
        return {"target": self.target, "args": {k: _jsonable(v) for k, v in self.args}}


def _jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, PurePath) else value


def factory_for(name: str) -> Callable[..., Any]:
    """The factory behind a model word without arguments: a registered name, a
    `package.module:attr` path, or an `hf:` / `torchscript:` source word (a factory taking
    precision and device)."""
    from audit.adapters.model_files import is_source_word, load_source

    if is_source_word(name):
        return functools.partial(load_source, name)
    if ":" in name:
        return import_target(name)
    return model_entry(name).load()


def model_spec(word: str, base_dir: Path | None = None, name: str | None = None) -> ModelSpec:
    """Parse and check a model word: its `?key=value` arguments converted by the factory's
    annotations (InputError: exit 2). `base_dir` resolves relative Path arguments (a models file's
    folder); `name` replaces the word as the model's name."""
    from audit.adapters.model_files import is_source_word

    if is_source_word(word):
        return ModelSpec(name or word, word)
    target, query = split_options(word)
    if not query:
        return ModelSpec(name or word, target)
    raw = parse_options(word, query, kind="argument")
    return spec_with_arguments(name or word, target, raw, base_dir, word)


def spec_with_arguments(name: str, target: str, values: Mapping[str, Any], base_dir: Path | None = None, word: str | None = None) -> ModelSpec:
    """A ModelSpec for `target` called with `values` (raw words or TOML values), converted and
    checked against the factory's signature now (InputError: exit 2)."""
    from audit.adapters.model_files import is_source_word

    shown_word = word or name
    if is_source_word(target):
        raise InputError(f"Model '{shown_word}': an hf:/torchscript: word takes its own options after '?', not factory arguments.")
    factory = factory_for(target)
    if not callable(factory):
        raise InputError(f"Model '{shown_word}' resolves to {type(factory).__name__}, which is not callable.")
    return ModelSpec(name, target, convert_arguments(shown_word, factory, values, base_dir))


def _parameters(word: str, factory: Callable[..., Any]) -> tuple[dict[str, inspect.Parameter], bool]:
    """The factory's keyword-passable parameters and whether it takes **kwargs."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        raise InputError(f"Model '{word}': cannot read the parameters of {_label(factory)}, so it cannot take arguments.") from None
    named = {p.name: p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return named, any(p.kind is p.VAR_KEYWORD for p in params)


def _label(factory: Callable[..., Any]) -> str:
    return f"{getattr(factory, '__qualname__', type(factory).__name__)}()"


def _type_hints(factory: Callable[..., Any]) -> dict[str, Any]:
    """Resolved annotations (string annotations included); {} when they cannot be resolved."""
    target = factory.__init__ if inspect.isclass(factory) else factory
    try:
        return typing.get_type_hints(target)
    except Exception:
        return {}


def convert_arguments(word: str, factory: Callable[..., Any], values: Mapping[str, Any], base_dir: Path | None = None) -> tuple[tuple[str, Any], ...]:
    """`values` converted by `factory`'s annotations, in the order given; every name checked
    against its parameters and every required parameter present (InputError: exit 2)."""
    named, var_kw = _parameters(word, factory)
    valid = [n for n in named if n not in RESERVED_ARGUMENTS]
    hints = _type_hints(factory)
    converted = []
    for key, value in values.items():
        if key in RESERVED_ARGUMENTS:
            raise InputError(f"Model '{word}': '{key}' is set by the run (say {key}=... as a run key), not as a model argument.")
        if key not in named and not var_kw:
            raise InputError(f"Model '{word}': {_label(factory)} takes no argument '{key}'; its arguments: {', '.join(valid) or '(none)'}.")
        parameter = named.get(key)
        annotation = hints.get(key, parameter.annotation if parameter else inspect.Parameter.empty)
        converted.append((key, convert_value(word, key, annotation, value, base_dir)))
    missing = [n for n in valid if named[n].default is inspect.Parameter.empty and n not in values]
    if missing:
        raise InputError(f"Model '{word}': {_label(factory)} needs argument(s) {', '.join(missing)}; say {word.partition('?')[0]}?{missing[0]}=...")
    return tuple(converted)


def _argument_type(annotation: Any) -> Any:
    """The type a value is converted to: unions with None unwrapped, string annotations read;
    None for unannotated (and Any) parameters."""
    if annotation is inspect.Parameter.empty or annotation is Any:
        return None
    if isinstance(annotation, str):
        text = annotation.replace(" ", "").removeprefix("typing.")
        text = text.removeprefix("Optional[").removesuffix("]") if text.startswith("Optional[") else text
        parts = [p for p in text.split("|") if p != "None"]
        names = {"bool": bool, "int": int, "float": float, "str": str, "Path": Path, "pathlib.Path": Path, "Any": None}
        return names.get(parts[0], annotation) if len(parts) == 1 else annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        others = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _argument_type(others[0]) if len(others) == 1 else annotation
    if inspect.isclass(annotation) and issubclass(annotation, PurePath):
        return Path
    return annotation


def convert_value(word: str, key: str, annotation: Any, value: Any, base_dir: Path | None = None) -> Any:
    """One argument as its parameter's annotation says. Words (str) are parsed; TOML values must
    already have the type (an integer is accepted for a float). A relative Path is resolved against
    `base_dir` when one is given."""
    kind = _argument_type(annotation)
    where = f"Model '{word}': argument '{key}'"
    if kind is None:
        return value
    if kind not in ARGUMENT_TYPES:
        raise InputError(f"{where} is annotated {annotation!r}, which a model argument cannot give (bool, int, float, str or Path).")
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in FLAG_WORDS:
            return FLAG_WORDS[value.lower()]
        raise InputError(f"{where} must be true or false (1/0, yes/no), got '{shown(str(value))}'.")
    if kind in (int, float):
        if isinstance(value, int) and not isinstance(value, bool) or kind is float and isinstance(value, float) and math.isfinite(value):
            return kind(value)
        if isinstance(value, str) and (is_integer_word(value) if kind is int else is_number_word(value)):
            return kind(value)
        raise InputError(f"{where} must be {'an integer' if kind is int else 'a finite number'}, got '{shown(str(value))}'.")
    if not isinstance(value, str):
        raise InputError(f"{where} must be {'a path' if kind is Path else 'a string'}, got {type(value).__name__} {shown(str(value))}.")
    if kind is Path:
        path = Path(value).expanduser()
        return base_dir / path if base_dir is not None and not path.is_absolute() else path
    return value


def validate_adapter(word: str, adapter: Any) -> None:
    """Fail with one line if an object does not look like a ModelAdapter."""
    info = getattr(adapter, "info", None)
    if info is None or not hasattr(adapter, "capabilities"):
        raise InputError(f"Model '{word}' did not return a ModelAdapter (got {type(adapter).__name__}: no info/capabilities).")
    if getattr(info, "family", None) not in FAMILY_NAMES:
        raise InputError(f"Model '{word}' has family '{getattr(info, 'family', None)}'; valid: {', '.join(FAMILY_NAMES)}.")


def call_factory(factory: Callable[..., Any], precision: str, device: str, arguments: Mapping[str, Any] | None = None) -> Any:
    """`factory(**arguments)`, with `precision=` and `device=` when it takes those keywords (or **kwargs)."""
    kwargs = dict(arguments or {})
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return factory(**kwargs)
    names = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params)
    kwargs.update({k: v for k, v in (("precision", precision), ("device", device)) if var_kw or k in names})
    return factory(**kwargs)


def build_model(word: str | ModelSpec, precision: str = "fp32", device: str = "cpu") -> Any:
    """The adapter behind a word or ModelSpec, checked against the contract's basics, before any
    precision. An adapter object is used as is for fp32 and copied for any other precision, so
    casting one variant never changes another (or the caller's object)."""
    from audit.adapters.model_files import is_source_word, load_source

    spec = word if isinstance(word, ModelSpec) else model_spec(word)
    if spec.adapter is not None:
        adapter = spec.adapter if precision == "fp32" else _copy(spec)
    elif is_source_word(spec.target):
        adapter = load_source(spec.target, precision, device)
    else:
        factory = factory_for(spec.target)
        if not callable(factory):
            raise InputError(f"Model '{spec.name}' resolves to {type(factory).__name__}, which is not callable.")
        adapter = call_factory(factory, precision, device, dict(spec.args))
    validate_adapter(spec.name, adapter)
    return adapter


def _copy(spec: ModelSpec) -> Any:
    try:
        return copy.deepcopy(spec.adapter)
    except Exception as exc:
        raise InputError(f"Model '{spec.name}': the adapter object cannot be copied for a precision variant ({type(exc).__name__}); run it in fp32 only.") from None


def load_model(word: str | ModelSpec, precision: str = "fp32", device: str = "cpu") -> Any:
    """Build the adapter behind `word`, check it honours the contract, apply the precision."""
    from audit.precision import apply_precision

    return apply_precision(build_model(word, precision, device), precision, device)


__all__ = [
    "ModelSpec", "build_model", "call_factory", "convert_arguments", "convert_value", "factory_for", "load_model",
    "model_spec", "spec_with_arguments", "validate_adapter",
]
