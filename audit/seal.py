"""The harness's code, sealed against the model code that runs in its process.

Models run in audit's own process, so a model can replace any function the harness measures or
judges with: a pure-noise model that set `audit.gates.judge` and
`audit.metrics.frechet.fid_from_features` to its own versions passed the quality gates with FID 0,
and so did every model after it (exit 0). `HarnessSeal.take()` notes, before any user code is
imported, every function, class and constant of audit's own packages, and every function and class
of the libraries its numbers come from (numpy, scipy, torch, scikit-learn, pandas, transformers,
...) and of the standard-library modules it computes, judges and writes with (`os`, `json`,
`math`, `builtins`, ...): what each module and class holds, and each function's code and defaults. `restore()` lists
what differs since and puts the originals back. The runner calls it after a model loads and after
each check, so a record measured while the code was changed becomes an error of that model, and
the next check and model run on the original code.

What it sees is replacement: a module attribute, a class attribute or a function's `__code__`
swapped. It cannot stop code in the same process from doing anything else it likes (reading the
reference data, editing an array the harness holds); only a process per model would.
"""

from __future__ import annotations

import builtins
import functools
import importlib
import logging
import pkgutil
import sys
import types
import warnings
from dataclasses import dataclass, field
from operator import attrgetter, is_not, ne
from pathlib import Path
from typing import Any

__all__ = ["HarnessSeal", "LIBRARY_AUTHORS", "OWN_PACKAGES", "STDLIB_MODULES", "WATCHED_PACKAGES"]

log = logging.getLogger(__name__)

OWN_PACKAGES = ("audit", "audit_reference_models")
"""The harness itself: every function, class and constant of these is sealed, and a new global that
shadows a builtin (`len`, `min`) counts as a change too."""
WATCHED_PACKAGES = OWN_PACKAGES + (
    "numpy", "scipy", "torch", "sklearn", "pandas", "transformers", "safetensors", "tokenizers", "fairlearn", "PIL", "jinja2",
)
"""Packages whose functions and classes are sealed (their constants are not: libraries change their
own module state as they work)."""
STDLIB_MODULES = frozenset({
    "builtins", "sys", "os", "posixpath", "genericpath", "stat", "errno", "io", "pathlib", "shutil", "tempfile",
    "signal", "subprocess", "time", "datetime", "json", "json.encoder", "json.decoder", "json.scanner", "math",
    "cmath", "statistics", "random", "operator", "functools", "itertools", "collections", "collections.abc",
    "heapq", "bisect", "copy", "struct", "numbers", "decimal", "fractions", "re", "string", "textwrap", "html",
    "xml.etree.ElementTree", "xml.sax.saxutils", "csv", "base64", "zlib", "hashlib", "uuid", "codecs",
    "unicodedata", "contextlib", "traceback", "tomllib",
})
"""Standard-library modules the harness computes, judges and writes with, sealed like the watched
libraries (functions and classes): a model that set `os._exit` to leave with 0 turned a failed
run into exit 0, and one that wrapped `json.dumps` wrote a results.json of passes. Not `warnings`,
`logging` or `threading`, and no `*hook` of `sys`: test runners and debuggers set those as they
work, and they change what is reported, not what is measured."""
_UNSEALED_STDLIB_NAMES = ("hook", "__excepthook__", "__displayhook__", "__breakpointhook__", "__unraisablehook__")
LIBRARY_AUTHORS = WATCHED_PACKAGES[len(OWN_PACKAGES):] + (
    "diffusers", "accelerate", "torchao", "peft", "huggingface_hub", "triton", "torchvision", "functorch", "ray",
)
"""Libraries whose own functions, set on a sealed library as they are imported, are taken as that
library's doing (see `_library_change`): the watched ones and those audit or its models import."""
_HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class defined in Python, whose attributes can be set
_MISSING = object()
_CONSTANTS = (bool, int, float, complex, str, bytes, tuple, frozenset)
_BUILTINS = frozenset(vars(builtins))
_CODE, _DEFAULTS, _KWDEFAULTS = attrgetter("__code__"), attrgetter("__defaults__"), attrgetter("__kwdefaults__")


def _is_code(value: Any) -> bool:
    """A function, class, module or descriptor: what changes behaviour when replaced. Decided on
    the type alone, so no lazy proxy's `__getattr__` runs."""
    kind = type(value)
    return callable(value) or issubclass(kind, (types.ModuleType, property, classmethod, staticmethod))


def _sealed_value(value: Any, own: bool) -> bool:
    return _is_code(value) or (own and issubclass(type(value), _CONSTANTS))


def _package(module_name: str) -> str:
    return module_name.partition(".")[0]


def _watched(module_name: str) -> bool:
    return _package(module_name) in WATCHED_PACKAGES or module_name in STDLIB_MODULES


def _unsealed(module_name: str, name: str) -> bool:
    """`sys.excepthook` and its kind: set by test runners and debuggers as they work (see STDLIB_MODULES)."""
    return module_name == "sys" and name.endswith(_UNSEALED_STDLIB_NAMES)


@dataclass
class _Namespace:
    """One module's or class's sealed entries (name -> value at sealing)."""

    label: str
    owner: Any
    entries: dict[str, Any]
    own: bool
    is_class: bool
    names: frozenset[str] = frozenset()
    """Every name the module or class held at sealing (or since, harmlessly added): only a name
    not among them was added."""

    def __post_init__(self) -> None:
        self.mapping = vars(self.owner)
        """The live namespace: a module's dict, a class's mappingproxy (it shows later changes)."""

    def changes(self) -> list[tuple[str, str, Any]]:
        """(name, what happened, original value) for each entry that differs now (`_MISSING`: added).
        Added names that change nothing are taken into `names`, so the next look is the fast one."""
        current = vars(self.owner)
        found = [(name, "removed" if current.get(name, _MISSING) is _MISSING else "replaced", value)
                 for name, value in self.entries.items() if current.get(name, _MISSING) is not value]
        if len(current) != len(self.names):
            added = self._added(current)
            found += [(name, "added", _MISSING) for name in added]
            self.names = frozenset(n for n in list(current) if n not in added)
        return found

    def _added(self, current: Any) -> list[str]:
        """New names that change behaviour: a class attribute overriding an inherited one
        (`torch.Tensor.mean = ...` shadows the C method), a global of audit's shadowing a builtin."""
        if self.is_class:
            bases = self.owner.__mro__[1:]
            return [n for n, v in list(current.items())
                    if n not in self.names and _is_code(v) and any(n in vars(base) for base in bases)]
        if self.own:
            return [n for n in list(current) if n not in self.names and n in _BUILTINS]
        return []

    def accept(self, name: str) -> None:
        """Take the entry's current value as sealed (a library's own addition, see `_library_addition`)."""
        value = vars(self.owner).get(name, _MISSING)
        if value is not _MISSING:
            self.entries[name] = value
            self.names = self.names | {name}

    def put_back(self, name: str, value: Any) -> None:
        try:
            if self.is_class:
                if value is _MISSING:
                    delattr(self.owner, name)
                else:
                    setattr(self.owner, name, value)
            elif value is _MISSING:
                vars(self.owner).pop(name, None)
            else:
                vars(self.owner)[name] = value
        except (AttributeError, TypeError) as exc:  # e.g. a class that refuses the attribute now
            log.warning("could not restore %s.%s: %s", self.label, name, exc)


@dataclass
class HarnessSeal:
    """What the harness's code and its libraries' functions were when the seal was taken."""

    namespaces: list[_Namespace] = field(default_factory=list)
    functions: list[tuple[types.FunctionType, str, Any, Any, Any]] = field(default_factory=list)
    """(function, label, __code__, __defaults__, __kwdefaults__) of every sealed Python function."""
    modules: frozenset[str] = frozenset()
    _flat: tuple[tuple[Any, ...], ...] | None = None
    """Every sealed entry, size and function as parallel tuples, for `_anything_changed`: rebuilt
    when the seal changes (None: to rebuild)."""
    _sys_modules: int = 0
    """len(sys.modules) when modules were last sealed: more now means modules were imported since."""

    @classmethod
    def take(cls, reuse: bool = True) -> "HarnessSeal":
        """Seal the code as it is now. Imports every module of audit first (once per process), so
        one a check would import later cannot be changed unseen before it is. The process's last
        seal is taken again where nothing it holds has changed since (a process that plans many
        runs: the Python API, the tests), with the modules imported since added; `reuse=False`
        always makes a new one."""
        _import_own_modules()
        if reuse and _LAST_SEAL and not _LAST_SEAL[0]._anything_changed():
            seal = _LAST_SEAL[0]
            if len(sys.modules) != seal._sys_modules:
                seal._add_modules()
            return seal
        seal = cls()
        seal._add_modules()
        _LAST_SEAL[:] = [seal]
        return seal

    def __reduce__(self) -> Any:
        """Sent to another process (a Ray worker), a seal is none: the worker takes its own before it loads a model."""
        return (_no_seal, ())

    def _add_modules(self) -> None:
        seen_functions = {id(f) for f, *_ in self.functions}
        names = set(self.modules)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name, module in list(sys.modules.items()):
                if name in names or not _watched(name) or not isinstance(module, types.ModuleType):
                    continue
                names.add(name)
                own = _package(name) in OWN_PACKAGES
                namespace = vars(module)
                entries = {k: v for k, v in list(namespace.items()) if _sealed_value(v, own) and not _unsealed(name, k)}
                self._add(_Namespace(name, module, entries, own, False, frozenset(namespace)))
                for value in list(namespace.values()):
                    if issubclass(type(value), type) and value.__dict__.get("__module__") == name and value.__flags__ & _HEAP_TYPE:
                        self._add_class(value, own)
                    else:
                        for function in _python_functions(value):
                            if id(function) not in seen_functions:
                                seen_functions.add(id(function))
                                self.functions.append(_function_entry(function, f"{name}.{function.__name__}"))
        self.modules = frozenset(names)
        self._sys_modules, self._flat = len(sys.modules), None

    def _add(self, namespace: _Namespace) -> None:
        self.namespaces.append(namespace)

    def _add_class(self, cls: type, own: bool) -> None:
        label = f"{cls.__dict__.get('__module__')}.{cls.__qualname__}"
        entries = {k: v for k, v in list(vars(cls).items()) if _sealed_value(v, own) and k not in ("__dict__", "__weakref__")}
        self._add(_Namespace(label, cls, entries, own, True, frozenset(vars(cls))))
        for name, value in entries.items():
            function = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
            if type(function) is types.FunctionType:
                self.functions.append(_function_entry(function, f"{label}.{name}"))

    def restore(self) -> list[str]:
        """What was changed since the seal (`"audit.gates.judge replaced"`), each put back as it
        was; empty when nothing was. Modules imported since are sealed from now on."""
        changed: list[str] = []
        imported = len(sys.modules) != self._sys_modules
        if not imported and not self._anything_changed():
            return changed
        self._flat = None
        recreated = {n.label for n in self.namespaces if imported and _library_module_recreated(n)}
        if recreated:  # sealed again below, as the module it is now
            self.namespaces = [n for n in self.namespaces if n.label not in recreated]
            self.modules = self.modules - recreated
        for namespace in self.namespaces:
            if not namespace.is_class and sys.modules.get(namespace.label) is not namespace.owner:
                what = "replaced" if namespace.label in sys.modules else "removed"
                sys.modules[namespace.label] = namespace.owner  # a lazy `from audit.gates import judge` reads sys.modules
                changed.append(f"sys.modules['{namespace.label}'] {what}")
            for name, what, original in namespace.changes():
                if imported and what != "removed" and _library_change(namespace, name):
                    namespace.accept(name)
                    continue
                namespace.put_back(name, original)
                changed.append(f"{namespace.label}.{name} {what}")
        for function, label, code, defaults, kwdefaults in self.functions:
            if function.__code__ is not code or function.__defaults__ is not defaults or function.__kwdefaults__ is not kwdefaults:
                function.__code__, function.__defaults__, function.__kwdefaults__ = code, defaults, kwdefaults
                changed.append(f"{label} code replaced")
        if imported or changed:
            self._add_modules()
        if changed:
            log.warning("model code changed the harness's code; restored: %s", ", ".join(changed))
        return changed


    def _anything_changed(self) -> bool:
        """Whether any sealed entry, namespace size, sys.modules binding or function's code or
        defaults differs: a few passes in C (map) over parallel tuples, about a millisecond, where
        a Python loop over the ~80,000 entries took 50 ms after every check."""
        if self._flat is None:
            self._flat = self._flatten()
        (dicts, dict_keys, dict_values, proxies, proxy_keys, proxy_values, mappings, sizes,
         labels, owners, functions, codes, defaults, kwdefaults) = self._flat
        return (any(map(is_not, map(dict.get, dicts, dict_keys), dict_values))
                or any(map(is_not, map(types.MappingProxyType.get, proxies, proxy_keys), proxy_values))
                or any(map(ne, map(len, mappings), sizes))
                or any(map(is_not, map(sys.modules.get, labels), owners))
                or any(map(is_not, map(_CODE, functions), codes)) or any(map(is_not, map(_DEFAULTS, functions), defaults))
                or any(map(is_not, map(_KWDEFAULTS, functions), kwdefaults)))

    def _flatten(self) -> tuple[tuple[Any, ...], ...]:
        dicts, dict_keys, dict_values, proxies, proxy_keys, proxy_values = [], [], [], [], [], []
        for namespace in self.namespaces:
            mapping, keys, values = (proxies, proxy_keys, proxy_values) if namespace.is_class else (dicts, dict_keys, dict_values)
            mapping.extend([namespace.mapping] * len(namespace.entries))
            keys.extend(namespace.entries)
            values.extend(namespace.entries.values())
        modules = [n for n in self.namespaces if not n.is_class]
        parts = [tuple(entry[i] for entry in self.functions) for i in (0, 2, 3, 4)]
        return (tuple(dicts), tuple(dict_keys), tuple(dict_values), tuple(proxies), tuple(proxy_keys), tuple(proxy_values),
                tuple(n.mapping for n in self.namespaces), tuple(len(n.names) for n in self.namespaces),
                tuple(n.label for n in modules), tuple(n.owner for n in modules), *parts)


def _library_module_recreated(namespace: _Namespace) -> bool:
    """A library's module that the library itself made anew in sys.modules as more of it was
    imported: `from transformers import GPT2LMHeadModel` puts a new `_LazyModule` named
    `transformers` in place of the one sealed. Taken as the library's doing when it is a watched
    library's top module or submodule (never audit's), the new object is a module of the same
    name loaded from the same file, and modules were imported meanwhile (the caller's test)."""
    if namespace.is_class or namespace.own:
        return False
    current = sys.modules.get(namespace.label)
    old = namespace.owner
    return (current is not None and current is not old and isinstance(current, types.ModuleType)
            and getattr(current, "__name__", None) == namespace.label
            and getattr(current, "__file__", None) is not None and getattr(current, "__file__", None) == getattr(old, "__file__", None))


def _library_change(namespace: _Namespace, name: str) -> bool:
    """An attribute a library set on its own classes or modules as one of its modules was
    imported: torch.distributed.tensor adds `Placement.__eq__`, torch._dynamo wraps
    `torch.manual_seed`, importing `tokenizers.trainers` binds that module over the attribute
    of the same name. Taken as the library's when modules were imported meanwhile and the new
    value is defined in one of LIBRARY_AUTHORS; a change to audit's own code, a removal, or a
    value defined in a model's module never is."""
    if namespace.own:
        return False
    value = vars(namespace.owner).get(name)
    if not _is_code(value):
        return False
    while isinstance(value, (functools.partial, classmethod, staticmethod, types.MethodType, property)):
        value = value.func if isinstance(value, functools.partial) else value.fget if isinstance(value, property) else value.__func__
    module = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
    return isinstance(module, str) and _package(module) in LIBRARY_AUTHORS


_OWN_MODULES_IMPORTED: list[bool] = []
_LAST_SEAL: list[HarnessSeal] = []
"""The seal `take` made last in this process."""


def _python_functions(value: Any) -> list[types.FunctionType]:
    """The Python functions whose code runs when `value` is called: itself and the functions it
    wraps (a `functools.wraps` decorator's `__wrapped__`, numpy's array-function dispatchers)."""
    found: list[types.FunctionType] = []
    while len(found) < 8:
        if type(value) is types.FunctionType:
            found.append(value)
            value = value.__dict__.get("__wrapped__")
        elif type(value).__name__ == "_ArrayFunctionDispatcher":
            value = value.__wrapped__
        else:
            break
    return found


def _function_entry(function: types.FunctionType, label: str) -> tuple[types.FunctionType, str, Any, Any, Any]:
    return (function, label, function.__code__, function.__defaults__, function.__kwdefaults__)


def _no_seal() -> None:
    return None


def _import_own_modules() -> None:
    """Import every module of the audit package (not `__main__`, which would run the CLI), once."""
    if _OWN_MODULES_IMPORTED:
        return
    _OWN_MODULES_IMPORTED.append(True)
    for info in pkgutil.walk_packages([str(Path(__file__).parent)], "audit."):
        if info.name.rpartition(".")[2] == "__main__" or info.name in sys.modules:
            continue
        try:
            importlib.import_module(info.name)
        except ImportError as exc:  # an optional dependency a module needs (none today): sealed when it imports
            log.debug("not sealed now: %s (%s)", info.name, exc)
