"""Exceptions with the exit codes the CLI maps them to.

Messages are one line and name the offending object, so the CLI can print them as they are.
"""

from __future__ import annotations

EXIT_PASS = 0
EXIT_GATE_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INCONCLUSIVE = 3
EXIT_ERROR = 4


class AuditError(Exception):
    """Base class: any error `audit` reports itself, as one line."""

    exit_code = EXIT_ERROR


class InputError(AuditError):
    """Bad invocation, configuration, policy, model name or weights: exit code 2."""

    exit_code = EXIT_BAD_INPUT


class UnknownNameError(InputError):
    """A name that is not in a registry; the message lists close matches and valid names."""


class WeightsError(InputError):
    """A weights file that is missing, corrupt or does not match its manifest."""


class NotApplicable(AuditError):
    """A check that does not apply to this model, precision or data (e.g. a hook the adapter
    lacks): the runner records it as `skipped` with this message, never as an error."""


class ModelOutputError(AuditError):
    """A model returned something that breaks the adapter contract (NaN, wrong shape...)."""
