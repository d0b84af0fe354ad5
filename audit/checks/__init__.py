"""Checks: one module per area, each check registered with `@check` (see audit.checks.base).

`load_check_modules` imports every module of this package (and every check plugin) so the
`audit.registry.checks` registry knows them all; `check_spec` looks one check up. They live here,
not in the registry, because knowing which modules hold checks is this package's business.
"""

from __future__ import annotations

import importlib
import pkgutil

from audit.checks.base import CheckSpec, Measurement, check
from audit.errors import InputError
from audit.registry import checks as check_registry

_checks_imported = False


def load_check_modules() -> None:
    """Import every module of `audit.checks` once so their `@check` decorators fill the check
    registry (check modules import torch only inside functions, so this stays cheap)."""
    global _checks_imported
    if not _checks_imported:
        _checks_imported = True
        for module in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{module.name}")
        for entry in list(check_registry):
            if entry.metadata.get("plugin"):
                check_registry.load(entry.name)  # a plugin's module registers its checks' metadata on import
                if check_registry.entry(entry.name).metadata.get("plugin"):
                    raise InputError(f"Check plugin '{entry.name}' ({entry.target}) did not register a check named '{entry.name}' with @check.")


def check_spec(check_id: str) -> CheckSpec:
    """The registered check `check_id` (every check module imported first)."""
    load_check_modules()
    return check_registry.load(check_id)


__all__ = ["CheckSpec", "Measurement", "check", "check_spec", "load_check_modules"]
