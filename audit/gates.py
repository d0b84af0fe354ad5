"""Gates: policy bounds -> verdicts on records -> the run's exit code.

A gate is judged on the conservative end of the CI: a `max` gate passes when the whole CI is
at or below the bound, fails when the whole CI is above it, and is inconclusive when the CI
straddles it. Records without a CI are judged on their value.
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

from audit.errors import (
    EXIT_ERROR,
    EXIT_GATE_FAILED,
    EXIT_INCONCLUSIVE,
    EXIT_PASS,
    InputError,
)
from audit.results import CheckResult

SEVERITIES = ("error", "warn")
JUDGE = ("ci", "value")
GATE_KEYS = {"check", "model", "precision", "max", "min", "severity", "judge", "description"}


@dataclass(frozen=True)
class Gate:
    check: str
    max: float | None = None
    min: float | None = None
    model: str = "*"
    precision: str = "*"
    severity: str = "error"
    judge: str = "ci"
    description: str = ""

    def matches(self, record: CheckResult) -> bool:
        return (
            fnmatch.fnmatchcase(record.check, self.check)
            and fnmatch.fnmatchcase(record.model, self.model)
            and fnmatch.fnmatchcase(record.precision, self.precision)
        )

    def label(self) -> str:
        bounds = [f"<= {self.max:g}" if self.max is not None else "", f">= {self.min:g}" if self.min is not None else ""]
        return f"{' and '.join(b for b in bounds if b)} ({self.severity}, judged on {self.judge})"


def parse_gate(raw: Any, where: str) -> Gate:
    """One gate table from a suite or policy file, validated with errors naming `where`."""
    if not isinstance(raw, dict):
        raise InputError(f"{where}: a gate must be a table, got {type(raw).__name__}.")
    unknown = set(raw) - GATE_KEYS
    if unknown:
        raise InputError(f"{where}: unknown gate key(s) {', '.join(sorted(unknown))}; valid: {', '.join(sorted(GATE_KEYS))}.")
    if "check" not in raw or not isinstance(raw["check"], str):
        raise InputError(f"{where}: every gate needs check = \"<check id>\".")
    for bound in ("max", "min"):
        if bound in raw and (isinstance(raw[bound], bool) or not isinstance(raw[bound], (int, float))):
            raise InputError(f"{where}: gate on '{raw['check']}' has non-numeric {bound} = {raw[bound]!r}.")
    if "max" not in raw and "min" not in raw:
        raise InputError(f"{where}: gate on '{raw['check']}' needs max or min.")
    if raw.get("severity", "error") not in SEVERITIES:
        raise InputError(f"{where}: gate on '{raw['check']}' has severity {raw['severity']!r}; valid: {', '.join(SEVERITIES)}.")
    if raw.get("judge", "ci") not in JUDGE:
        raise InputError(f"{where}: gate on '{raw['check']}' has judge {raw['judge']!r}; valid: {', '.join(JUDGE)}.")
    return Gate(
        check=raw["check"],
        max=float(raw["max"]) if "max" in raw else None,
        min=float(raw["min"]) if "min" in raw else None,
        model=str(raw.get("model", "*")),
        precision=str(raw.get("precision", "*")),
        severity=raw.get("severity", "error"),
        judge=raw.get("judge", "ci"),
        description=str(raw.get("description", "")),
    )


def load_policy(path: Path) -> list[Gate]:
    """Gates from a policy TOML file (`[[gate]]` tables); malformed files fail with one line."""
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"Policy file '{path}' is not valid TOML: {exc}.") from None
    except OSError as exc:
        raise InputError(f"Policy file '{path}' cannot be read: {exc.strerror}.") from None
    unknown = set(data) - {"gate"}
    if unknown:
        raise InputError(f"Policy file '{path}': unknown top-level key(s) {', '.join(sorted(unknown))}; expected [[gate]] tables.")
    gates = data.get("gate", [])
    if not isinstance(gates, list):
        raise InputError(f"Policy file '{path}': 'gate' must be an array of tables ([[gate]]).")
    return [parse_gate(g, f"Policy file '{path}', gate {i + 1}") for i, g in enumerate(gates)]


def combine(suite_gates: list[Gate], policy_gates: list[Gate]) -> list[Gate]:
    """Policy gates replace the suite's default gates for the checks they name."""
    overridden = {g.check for g in policy_gates}
    return [g for g in suite_gates if g.check not in overridden] + policy_gates


def _outcome(gate: Gate, record: CheckResult) -> str:
    """pass | fail | inconclusive for one gate on one record."""
    value = record.value
    has_ci = gate.judge == "ci" and record.ci_low is not None and record.ci_high is not None
    low, high = (record.ci_low, record.ci_high) if has_ci else (value, value)
    outcomes = []
    if gate.max is not None:
        outcomes.append("pass" if high <= gate.max else "fail" if low > gate.max else "inconclusive")
    if gate.min is not None:
        outcomes.append("pass" if low >= gate.min else "fail" if high < gate.min else "inconclusive")
    return "fail" if "fail" in outcomes else "inconclusive" if "inconclusive" in outcomes else "pass"


_RANK = {"measured": 0, "pass": 1, "warn": 2, "inconclusive": 3, "fail": 4}


def judge(record: CheckResult, gates: Iterable[Gate]) -> CheckResult:
    """Set the record's status, verdict and gate list from the gates that match it."""
    if record.status in ("error", "skipped"):
        return record
    status, verdicts = "measured", []
    for gate in (g for g in gates if g.matches(record)):
        outcome = _outcome(gate, record)
        effective = outcome if gate.severity == "error" or outcome == "pass" else "warn"
        record.gates.append({**asdict(gate), "outcome": outcome, "status": effective})
        verdicts.append(f"{outcome}: {gate.label()}")
        if _RANK[effective] > _RANK[status]:
            status = effective
    record.status = status
    record.verdict = "; ".join(verdicts) if verdicts else "no gate"
    return record


def exit_code(records: list[dict[str, Any]], interrupted: bool, fail_on: str = "error") -> int:
    """4 error/interrupted > 1 gate failed > 3 inconclusive > 0 (see README, Exit codes)."""
    statuses = {r["status"] for r in records}
    if interrupted or "error" in statuses:
        return EXIT_ERROR
    failing = {"error": {"fail"}, "warn": {"fail", "warn"}, "never": set()}[fail_on]
    if statuses & failing:
        return EXIT_GATE_FAILED
    if "inconclusive" in statuses and fail_on != "never":
        return EXIT_INCONCLUSIVE
    return EXIT_PASS
