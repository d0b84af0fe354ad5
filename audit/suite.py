"""Suites: TOML files in the `suites` package naming checks, defaults and default gates."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from audit.errors import InputError
from audit.messages import did_you_mean


@dataclass(frozen=True)
class Suite:
    """A named set of checks with their parameters, default sample size and default gates."""

    name: str
    description: str
    checks: dict[str, dict[str, Any]]
    n: int = 512
    gates: list[dict[str, Any]] = field(default_factory=list)


def suite_names() -> list[str]:
    files = resources.files("audit").joinpath("suites")
    return sorted(p.name[: -len(".toml")] for p in files.iterdir() if p.name.endswith(".toml"))


def load_suite(name: str) -> Suite:
    """Read `suites/<name>.toml`; unknown names and malformed files fail with one line."""
    names = suite_names()
    if name not in names:
        raise InputError(did_you_mean("suite", name, names))
    text = resources.files("audit").joinpath("suites").joinpath(f"{name}.toml").read_text()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"Suite file '{name}.toml' is not valid TOML: {exc}.") from None
    checks = data.get("checks", {})
    if not isinstance(checks, dict) or not checks:
        raise InputError(f"Suite '{name}' lists no [checks].")
    return Suite(
        name=name,
        description=str(data.get("description", "")),
        checks={cid: dict(params) for cid, params in checks.items()},
        n=int(data.get("n", 512)),
        gates=list(data.get("gate", [])),
    )
