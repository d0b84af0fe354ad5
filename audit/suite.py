"""Suites: TOML files naming checks, their parameters, the sample size and default gates.

A `suite=` word is one of:

- a bundled suite: `audit/suites/<name>.toml` (package data);
- a suite file: a path ending in `.toml` or naming a folder (`suite=./my_suite.toml`); its name in
  reports and run folders is the file name without `.toml`;
- an installed package's suite: an entry point in the `audit.suites` group whose object is a
  `pathlib.Path` (or an `importlib.resources` file) of a TOML file, a `str` of TOML text, or a
  function returning either. A plugin never replaces a bundled suite of the same name.

Every suite is read and checked the same way (one line, exit 2, for a missing file, bad TOML, no
[checks], a bad `n`); its check ids and gates are checked when the run is planned.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from audit.errors import InputError, plain_text, read_input_text
from audit.messages import did_you_mean, one_line

__all__ = [
    "ENTRY_POINT_GROUP", "SUITE_GROUPS", "Suite", "bundled_gated_checks", "combine_suites", "is_suite_file", "load_suite", "load_suites", "plugin_suites",
    "suite_names", "suite_origin", "suites_with_check", "user_suite_checks",
]

ENTRY_POINT_GROUP = "audit.suites"
SUITE_KEYS = ("description", "n", "checks", "gate")
MAX_SUITE_N = 16_384
"""Largest `n` a suite may default to (the run's own bound, audit.config.MAX_N)."""
SUITE_GROUPS = {"release": ("quality", "fairness", "privacy", "robustness", "deepfake", "efficiency", "quantization")}
"""Names that stand for several bundled suites run together (`suite=release`): every default suite
but `smoke` (a fast subset of quality), each check with its own suite's parameters, n and gates."""


@dataclass(frozen=True)
class Suite:
    """A named set of checks with their parameters, default sample size and default gates."""

    name: str
    description: str
    checks: dict[str, dict[str, Any]]
    n: int = 512
    gates: list[dict[str, Any]] = field(default_factory=list)
    check_n: dict[str, int] = field(default_factory=dict)
    """A check's own sample size where it differs from `n` (suites run together keep each suite's n)."""

    def n_for(self, check_id: str) -> int:
        return self.check_n.get(check_id, self.n)


def _bundled_names() -> list[str]:
    files = resources.files("audit").joinpath("suites")
    return sorted(p.name[: -len(".toml")] for p in files.iterdir() if p.name.endswith(".toml"))


def plugin_suites() -> dict[str, metadata.EntryPoint]:
    """The `audit.suites` entry points of installed packages, by name (bundled names win)."""
    bundled = set(_bundled_names())
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.name not in bundled}


def suite_names() -> list[str]:
    """Bundled suites, the groups of bundled suites (SUITE_GROUPS), then installed packages' suites."""
    return _bundled_names() + sorted(SUITE_GROUPS) + sorted(plugin_suites())


def load_suites(word: str) -> Suite:
    """A `suite=` word of one suite, or several comma-separated (`quality,fairness,privacy`) or a
    group (`release`) run as one suite in one run: see `combine_suites`."""
    names = [part.strip() for part in word.split(",") if part.strip()]
    expanded = [member for name in names for member in SUITE_GROUPS.get(name, (name,))]
    if len(expanded) == 1 and word not in SUITE_GROUPS:
        return load_suite(expanded[0])
    if not expanded:
        raise InputError("An empty suite list was given: say suite=NAME or suite=NAME,NAME.")
    if len(set(expanded)) != len(expanded):
        twice = next(name for name in expanded if expanded.count(name) > 1)
        raise InputError(f"Suite '{twice}' is named twice in suite={word}.")
    suites = [load_suite(name) for name in expanded]
    return combine_suites(word if word in SUITE_GROUPS else "+".join(s.name for s in suites), suites)


def combine_suites(name: str, suites: list[Suite]) -> Suite:
    """One suite of several: every check with its own suite's parameters and n (so one run, one
    sample store, the numbers of separate runs), every suite's gates. A check listed by two suites
    must have the same parameters and n there (it is run once); otherwise InputError."""
    checks: dict[str, dict[str, Any]] = {}
    check_n: dict[str, int] = {}
    owner: dict[str, str] = {}
    gates: list[dict[str, Any]] = []
    for suite in suites:
        for cid, params in suite.checks.items():
            if cid in checks and (checks[cid] != params or check_n[cid] != suite.n):
                raise InputError(f"Check '{cid}' is in suites '{owner[cid]}' and '{suite.name}' with different parameters or n; "
                                 "run those suites separately or give the check once in a suite file.")
            checks[cid], check_n[cid] = dict(params), suite.n
            owner.setdefault(cid, suite.name)
        gates.extend(g for g in suite.gates if g not in gates)
    n = suites[0].n
    description = f"Suites run together, sharing one sample store: {', '.join(s.name for s in suites)}."
    return Suite(name, description, checks, n, gates, {cid: v for cid, v in check_n.items() if v != n})


def suites_with_check(check_id: str) -> list[str]:
    """The bundled and installed suites that list `check_id` (a plugin suite that fails to load is left out)."""
    found = []
    for name in _bundled_names() + sorted(plugin_suites()):
        try:
            if check_id in load_suite(name).checks:
                found.append(name)
        except InputError:
            continue
    return found


def bundled_gated_checks() -> dict[str, list[str]]:
    """{check id: the bundled suites whose default gates judge it}: what a suite file listing the
    check without a gate leaves unjudged (audit.plan.warn_unjudged_checks)."""
    import fnmatch

    gated: dict[str, list[str]] = {}
    for name in _bundled_names():
        suite = load_suite(name)
        for cid in suite.checks:
            if any(isinstance(g.get("check"), str) and fnmatch.fnmatchcase(cid, g["check"]) for g in suite.gates):
                gated.setdefault(cid, []).append(name)
    return gated


def user_suite_checks(word: str) -> set[str]:
    """The checks the suite files and plugin suites of a `suite=` word list (the bundled suites'
    own choices, `smoke`'s ungated FID among them, are not the user's)."""
    bundled = set(_bundled_names()) | set(SUITE_GROUPS)
    parts = [part.strip() for part in word.split(",") if part.strip()]
    return {cid for part in parts if part not in bundled for cid in load_suite(part).checks}


def suite_origin(name: str) -> str:
    """'bundled' or the distribution that provides a plugin suite."""
    ep = plugin_suites().get(name)
    if ep is None:
        return "bundled"
    dist = getattr(ep, "dist", None)
    return f"plugin from {dist.name if dist else ep.value}"


def is_suite_file(word: str) -> bool:
    """A `suite=` word that names a file rather than a suite: it ends in .toml or holds a path separator."""
    return word.endswith(".toml") or "/" in word or os.sep in word


def load_suite(name: str) -> Suite:
    """Read a bundled suite, a suite file or a plugin suite; unknown names and malformed files fail with one line."""
    if is_suite_file(name):
        return _suite_from_file(Path(name).expanduser())
    if name in SUITE_GROUPS:
        return load_suites(name)
    if name in _bundled_names():
        text = resources.files("audit").joinpath("suites").joinpath(f"{name}.toml").read_text(encoding="utf-8")
        return parse_suite(name, text, f"Suite file '{name}.toml'")
    plugins = plugin_suites()
    if name in plugins:
        return _plugin_suite(name, plugins[name])
    raise InputError(did_you_mean("suite", name, suite_names()) + " A suite file is a path ending in .toml.")


def _suite_from_file(path: Path) -> Suite:
    text = read_input_text(path, f"Suite file '{path}'")
    return parse_suite(path.name.removesuffix(".toml"), text, f"Suite file '{path}'")


def _plugin_suite(name: str, ep: metadata.EntryPoint) -> Suite:
    """An entry point's suite: a Path/resource of a TOML file, TOML text, or a function returning either."""
    where = f"Suite '{name}' (entry point {ep.value})"
    try:
        obj = ep.load()
        if callable(obj) and not isinstance(obj, (str, os.PathLike)):
            obj = obj()
        if isinstance(obj, str):
            text = obj
        elif isinstance(obj, os.PathLike) or hasattr(obj, "read_text"):
            text = Path(obj).read_text(encoding="utf-8") if isinstance(obj, os.PathLike) else obj.read_text(encoding="utf-8")
        else:
            raise InputError(f"{where} gave {type(obj).__name__}; give a Path to a TOML file, TOML text, or a function returning either.")
    except InputError:
        raise
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a plugin that fails to import or raises
        raise InputError(f"{where} failed: {type(exc).__name__}: {one_line(exc)}.") from None
    return parse_suite(name, text, where)


def parse_suite(name: str, text: str, where: str) -> Suite:
    """A suite from its TOML text, checked: valid TOML, known top-level keys, a non-empty [checks]
    table of tables, an integer `n` in 2..MAX_SUITE_N, [[gate]] tables."""
    plain_text(name, "Suite name")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{where} is not valid TOML: {exc}.") from None
    plain_text(str(data.get("description", "")), f"{where}: description")
    unknown = [k for k in data if k not in SUITE_KEYS]
    if unknown:
        raise InputError(f"{where}: unknown key '{unknown[0]}'; valid: {', '.join(SUITE_KEYS)}.")
    checks = data.get("checks", {})
    if not isinstance(checks, dict) or not checks:
        raise InputError(f"Suite '{name}' lists no [checks].")
    for cid in checks:
        plain_text(cid, f"{where}: check")
    bad = [cid for cid, params in checks.items() if not isinstance(params, dict)]
    if bad:
        raise InputError(f"{where}: check '{bad[0]}' must map to a table of parameters (say \"{bad[0]}\" = {{}}).")
    n = data.get("n", 512)
    if not isinstance(n, int) or isinstance(n, bool) or not 2 <= n <= MAX_SUITE_N:
        raise InputError(f"{where}: n must be an integer in 2..{MAX_SUITE_N}, got {n!r}.")
    gates = data.get("gate", [])
    if not isinstance(gates, list) or not all(isinstance(g, dict) for g in gates):
        raise InputError(f"{where}: gates are [[gate]] tables.")
    return Suite(
        name=name,
        description=str(data.get("description", "")),
        checks={cid: dict(params) for cid, params in checks.items()},
        n=n,
        gates=list(gates),
    )
