"""Checks: one module per area, each check registered with `@check` (see audit.checks.base)."""

from audit.checks.base import IMAGE_FAMILIES, CheckSpec, Measurement, check

__all__ = ["IMAGE_FAMILIES", "CheckSpec", "Measurement", "check"]
