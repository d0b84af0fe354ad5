"""Many models in one TOML file: `model=models.toml` (or `models=models.toml`), e.g. fifty
checkpoints of one factory as one audit and one report.

```toml
[[model]]
factory = "my_pkg.models:make"   # a registered name or package.module:factory
name = "epoch10"                 # its name in records and reports (default: factory?key=value&...)
args = { ckpt = "runs/epoch10.pt", ema = true }

[[model]]
word = "gan"                     # any model= word, `?key=value` arguments included
```

Arguments are converted by the factory's annotations as on the command line (`audit.adapters.
loading`), except that TOML values keep their type (`ema = true`, `steps = 10`). Relative paths
(arguments annotated Path, and the file of an hf:/torchscript: word) resolve against the models
file's folder. Every problem is one line naming the file and the entry (InputError: exit 2).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Mapping, Sequence

from audit.adapters.loading import ModelSpec, model_spec, spec_with_arguments, validate_adapter
from audit.errors import InputError, plain_text

__all__ = ["MODELS_FILE_SUFFIX", "expand_models", "is_models_file", "read_models_file"]

MODELS_FILE_SUFFIX = ".toml"
"""A `model=` word ending in this is a models file (no model word or import path does)."""
ENTRY_KEYS = ("factory", "word", "name", "args")


def is_models_file(word: str) -> bool:
    return word.endswith(MODELS_FILE_SUFFIX) and "?" not in word


def read_models_file(path: Path) -> list[ModelSpec]:
    """Every model a models file lists, checked (InputError naming the file and entry)."""
    where = f"Models file '{path}'"
    if not path.is_file():
        raise InputError(f"{where} does not exist." if not path.exists() else f"{where} is not a file.")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{where} is not valid TOML: {exc}.") from None
    extra = sorted(set(data) - {"model"})
    if extra:
        raise InputError(f"{where}: unknown key '{extra[0]}' (it holds [[model]] entries only).")
    entries = data.get("model")
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{where} lists no models: add [[model]] entries with factory= or word=.")
    base = path.resolve().parent
    specs = [_entry_spec(entry, base, f"{where}, model {i}") for i, entry in enumerate(entries, 1)]
    _refuse_duplicates(specs, where)
    return specs


def _entry_spec(entry: Any, base: Path, where: str) -> ModelSpec:
    if not isinstance(entry, dict):
        raise InputError(f"{where}: must be a [[model]] table.")
    unknown = [k for k in entry if k not in ENTRY_KEYS]
    if unknown:
        raise InputError(f"{where}: unknown key '{unknown[0]}'; valid: {', '.join(ENTRY_KEYS)}.")
    if ("factory" in entry) == ("word" in entry):
        raise InputError(f"{where}: give exactly one of factory= (with args=) or word=.")
    name = entry.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip() or "," in name):
        raise InputError(f"{where}: name must be a non-empty string without commas, got {name!r}.")
    args = entry.get("args", {})
    try:
        if "word" in entry:
            if "args" in entry:
                raise InputError("args= goes with factory=; a word carries its arguments after '?'.")
            word = _string(entry["word"], "word")
            return model_spec(_resolved_source(word, base), base, name or word)
        factory = _string(entry["factory"], "factory")
        if not isinstance(args, dict):
            raise InputError(f"args must be a table such as args = {{ ckpt = \"a.pt\" }}, got {type(args).__name__}.")
        return spec_with_arguments(name or _canonical(factory, args), factory, args, base)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None


def _string(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{key} must be a non-empty string, got {value!r}.")
    return value.strip()


def _resolved_source(word: str, base: Path) -> str:
    """An hf:/torchscript: word with a relative path made absolute against `base`."""
    from audit.adapters.model_files import is_source_word

    if not is_source_word(word):
        return word
    kind, _, rest = word.partition(":")
    path = Path(rest).expanduser()
    return word if path.is_absolute() else f"{kind}:{base / path}"


def _canonical(factory: str, args: Mapping[str, Any]) -> str:
    """The model word a factory entry without a name stands for: `factory?key=value&...`."""
    def word(value: Any) -> str:
        return str(value).lower() if isinstance(value, bool) else str(value)

    query = "&".join(f"{k}={word(v)}" for k, v in args.items())
    return f"{factory}?{query}" if query else factory


def _refuse_duplicates(specs: Sequence[ModelSpec], where: str) -> None:
    seen: set[str] = set()
    for spec in specs:
        plain_text(spec.name, f"{where}: model name")
        if spec.name in seen:
            raise InputError(f"{where}: two models are named '{spec.name}'; give each a distinct name=.")
        seen.add(spec.name)


def expand_models(words: Sequence[str], adapters: Mapping[str, Any] | None = None) -> list[ModelSpec]:
    """The run's models from its `model=` words: adapter objects by name (the Python API),
    models files expanded, every other word checked by `model_spec` (InputError: exit 2)."""
    adapters = adapters or {}
    specs: list[ModelSpec] = []
    for word in words:
        if word in adapters:
            validate_adapter(word, adapters[word])
            specs.append(ModelSpec(word, adapter=adapters[word]))
        elif is_models_file(word):
            specs.extend(read_models_file(Path(word).expanduser()))
        else:
            specs.append(model_spec(word))
    _refuse_duplicates(specs, "This run")
    return specs
