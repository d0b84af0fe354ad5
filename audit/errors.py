"""Exceptions with the exit codes the CLI maps them to.

Messages are one line and name the offending object, so the CLI can print them as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "EXIT_BAD_INPUT", "EXIT_ERROR", "EXIT_GATE_FAILED", "EXIT_INCONCLUSIVE", "EXIT_NOTHING_JUDGED", "EXIT_PASS",
    "AuditError", "InputError", "ModelExit", "ModelOutputError", "ModelTimeout", "NotApplicable", "OutputError",
    "HarnessTampered", "Interrupted", "Terminated", "UnknownNameError", "WeightsError", "as_model_error", "must_propagate",
    "plain_text", "read_input_text",
]

EXIT_PASS = 0
EXIT_GATE_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INCONCLUSIVE = 3
EXIT_ERROR = 4
EXIT_NOTHING_JUDGED = 5
"""Some model in the run got no judged record (every check skipped, or none applied): not a pass."""


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


class HarnessTampered(ModelOutputError):
    """Model code replaced a function of the harness or of a library it measures with (audit.seal),
    or changed a shared instrument in place (audit.instrument_integrity): what was measured
    meanwhile is not trusted. The originals are put back, changed instruments are built again,
    and the run goes on."""

    def __init__(self, when: str, changes: list[str]) -> None:
        shown = ", ".join(changes[:4]) + (f" and {len(changes) - 4} more" if len(changes) > 4 else "")
        super().__init__(f"the model's code changed the harness's code {when}: {shown} "
                         "(put back or built again; nothing measured meanwhile is trusted)")
        self.changes = changes


class OutputError(AuditError):
    """The run's outputs cannot be written (folder unwritable, disk full): exit code 4, one line."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) as audit's own handler raises it while a run executes. A plain
    KeyboardInterrupt that user code raises with no signal behind it is that model's error."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (how CI systems, Docker and Kubernetes cancel a job): handled like Ctrl-C, so the
    run stops, keeps what was measured and writes every output."""


class ModelTimeout(BaseException):
    """A model ran past its time limit (`timeout=`). A BaseException, so user code that catches
    `Exception` cannot swallow it; the runner turns it into error records and goes on."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"model timed out after {seconds:g} s (the timeout= limit per model and precision)")
        self.seconds = seconds


class ModelExit(AuditError):
    """User code raised a BaseException that is not an interrupt (e.g. it called sys.exit()): it
    becomes an error record of that model, never the end of the run."""


def as_model_error(exc: BaseException) -> Exception:
    """What an exception raised by user code becomes: itself if it is an Exception, a ModelExit
    for SystemExit, GeneratorExit and other BaseExceptions. Interrupts and timeouts are re-raised
    by the caller, never converted: see `must_propagate`."""
    if isinstance(exc, Exception):
        return exc
    if isinstance(exc, KeyboardInterrupt):
        return ModelExit("the model raised KeyboardInterrupt while no interrupt signal had reached audit; a model must return or raise an Exception")
    if isinstance(exc, SystemExit):
        return ModelExit(f"the model called sys.exit({exc.code!r}); a model must return or raise, not end the process")
    return ModelExit(f"the model raised {type(exc).__name__}: {exc}")


def must_propagate(exc: BaseException) -> bool:
    """Interrupts (Ctrl-C, SIGTERM: raised by audit's signal handlers as Interrupted and
    Terminated) and the per-model timeout end what is running; nothing else from user code may,
    not even a KeyboardInterrupt the model raises itself (it becomes the model's error record)."""
    return isinstance(exc, (Interrupted, Terminated, ModelTimeout))


def read_input_text(path: "Path", label: str) -> str:
    """The text of a file the user named, `label` naming it ("Suite file 'x.toml'"); InputError in
    one line when it is missing, not a file, or cannot be read as UTF-8."""
    from audit.messages import one_line

    if not path.is_file():
        raise InputError(f"{label} does not exist." if not path.exists() else f"{label} is not a file.")
    try:
        return path.read_text(encoding="utf-8-sig")  # a leading BOM (Windows editors) is dropped, not a TOML error
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{label} cannot be read: {one_line(exc)}.") from None


def plain_text(value: str, what: str) -> str:
    """`value` itself when it holds no control, format (bidi) or line-separator character;
    otherwise InputError (exit 2) in one line showing it escaped (audit.messages.printable). Every
    name a user gives (model names and words, suite names and descriptions, waiver strings, out=
    paths) passes here, so none can write terminal escapes or a forged line into the console, a CI
    log or a report."""
    from audit.messages import printable

    shown = printable(value)
    if shown != value:
        raise InputError(f"{what} '{shown}' holds a control, format or line-separator character; give plain text.")
    return value
