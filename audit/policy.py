"""Policy files: gates and waivers in TOML, validated with one-line errors that name the culprit.

A policy is either a TOML file of its own (`[[gate]]` and `[[waiver]]` tables at the top) or the
`[tool.audit]` table of a `pyproject.toml` (`[[tool.audit.gate]]`, `[[tool.audit.waiver]]`).

Gate keys (see README, "Gates, verdicts and exit codes"):

- `check` (glob, required), `model` / `precision` (globs, default "*"), `severity` (error|warn),
  `judge` (ci|value), `description`.
- Absolute bounds on the record's value: `max`, `min`.
- `min_n`: below this sample size (of the record or of its reference) the gate is inconclusive.
- A reference makes a gate *relative*: `relative_to` (a precision), `baseline` (a results.json,
  resolved against the policy file's folder) and `baseline_model` (the reference's model name).
  The reference record is (check, baseline_model or the record's model, relative_to or the
  record's precision) in the baseline file, or in this run when there is no baseline.
- Relative bounds, on the difference candidate - reference: `max_delta`, `min_delta`; on the
  ratio candidate / reference: `max_ratio`, `min_ratio`; `margin`: non-inferiority, i.e.
  the candidate is at most `margin` worse than the reference in the check's direction
  (`min_delta = -margin` when higher is better, `max_delta = margin` when lower is better).
- Every bound is a finite number (no nan or inf); a lower bound may not exceed its upper bound
  (`min <= max`, `min_delta <= max_delta`, `min_ratio <= max_ratio`); `margin >= 0`; ratio
  bounds > 0. Each violation is one line naming the gate.

Waiver keys: `check`, `model`, `precision` (globs; model/precision default "*"), `owner`,
`reason`, `expires` (a date, "YYYY-MM-DD"; the waiver holds through that day), all required
except the globs.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import math
import re
import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

from audit.errors import InputError, plain_text

SEVERITIES = ("error", "warn")
JUDGE = ("ci", "value")
ABSOLUTE_BOUNDS = ("max", "min")
RELATIVE_BOUNDS = ("max_delta", "min_delta", "max_ratio", "min_ratio", "margin")
REFERENCE_KEYS = ("relative_to", "baseline", "baseline_model")
GATE_KEYS = {
    "check", "model", "precision", "severity", "judge", "description", "min_n",
    *ABSOLUTE_BOUNDS, *RELATIVE_BOUNDS, *REFERENCE_KEYS,
}
WAIVER_KEYS = {"check", "model", "precision", "owner", "reason", "expires"}
TOP_LEVEL_KEYS = {"gate", "waiver"}


def _get(record: Any, key: str) -> Any:
    return record[key] if isinstance(record, dict) else getattr(record, key)


@dataclass(frozen=True)
class Gate:
    """One bound on the records it matches; every field is plain JSON (results.json lists gates)."""

    check: str
    max: float | None = None
    min: float | None = None
    model: str = "*"
    precision: str = "*"
    severity: str = "error"
    judge: str = "ci"
    description: str = ""
    min_n: int | None = None
    relative_to: str | None = None
    baseline: str | None = None
    baseline_model: str | None = None
    max_delta: float | None = None
    min_delta: float | None = None
    max_ratio: float | None = None
    min_ratio: float | None = None
    margin: float | None = None

    @property
    def is_relative(self) -> bool:
        return any(getattr(self, k) is not None for k in REFERENCE_KEYS)

    def matches(self, record: Any) -> bool:
        return (
            fnmatch.fnmatchcase(_get(record, "check"), self.check)
            and fnmatch.fnmatchcase(_get(record, "model"), self.model)
            and fnmatch.fnmatchcase(_get(record, "precision"), self.precision)
        )

    def reference_label(self) -> str:
        parts = [p for p in (self.baseline_model, self.relative_to) if p]
        where = f"baseline {Path(self.baseline).name}" if self.baseline else "this run"
        return f"{'/'.join(parts) + ' in ' if parts else ''}{where}"

    def label(self) -> str:
        parts = []
        if self.max is not None:
            parts.append(f"<= {self.max:g}")
        if self.min is not None:
            parts.append(f">= {self.min:g}")
        for key, text in (("max_delta", "delta <= {:g}"), ("min_delta", "delta >= {:g}"), ("max_ratio", "ratio <= {:g}"),
                          ("min_ratio", "ratio >= {:g}"), ("margin", "non-inferior within margin {:g}")):
            if getattr(self, key) is not None:
                parts.append(text.format(getattr(self, key)))
        text = " and ".join(parts)
        if self.is_relative:
            text += f" vs {self.reference_label()}"
        if self.min_n is not None:
            text += f", n >= {self.min_n}"
        return f"{text} ({self.severity}, judged on {self.judge})"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def waiver_today() -> dt.date:
    """Today's date for waiver expiry; AUDIT_TODAY=YYYY-MM-DD replays a verdict of another day."""
    import os

    text = os.environ.get("AUDIT_TODAY")
    if not text:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"AUDIT_TODAY must be a date YYYY-MM-DD, got '{text}'.") from None


@dataclass(frozen=True)
class Waiver:
    """Accepts a gate that does not pass on the records it matches, until `expires` (inclusive)."""

    check: str
    owner: str
    reason: str
    expires: dt.date
    model: str = "*"
    precision: str = "*"

    def matches(self, record: Any) -> bool:
        return (
            fnmatch.fnmatchcase(_get(record, "check"), self.check)
            and fnmatch.fnmatchcase(_get(record, "model"), self.model)
            and fnmatch.fnmatchcase(_get(record, "precision"), self.precision)
        )

    def expired(self, today: dt.date) -> bool:
        return today > self.expires

    def label(self) -> str:
        return f"check {self.check} model {self.model} precision {self.precision} (owner {self.owner}, expires {self.expires.isoformat()})"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "expires": self.expires.isoformat()}


@dataclass
class Policy:
    path: Path | None
    gates: list[Gate] = field(default_factory=list)
    waivers: list[Waiver] = field(default_factory=list)

    def expired_waivers(self, today: dt.date) -> list[Waiver]:
        return [w for w in self.waivers if w.expired(today)]

    def summary(self, today: dt.date) -> str:
        errors = sum(g.severity == "error" for g in self.gates)
        relative = [g for g in self.gates if g.is_relative]
        baselines = sorted({g.baseline for g in self.gates if g.baseline})
        text = f"Policy '{self.path}' is valid: {len(self.gates)} gate(s) ({errors} error, {len(self.gates) - errors} warn"
        if relative:
            text += f"; {len(relative)} relative, {len(baselines)} baseline file(s)"
        text += f"), {len(self.waivers)} waiver(s)"
        expired = self.expired_waivers(today)
        active = [w for w in self.waivers if not w.expired(today)]
        if active:
            text += f", next expiry {min(w.expires for w in active).isoformat()}"
        if expired:
            text += f", {len(expired)} EXPIRED"
        return text + "."


def _number(raw: dict[str, Any], key: str, where: str) -> float | None:
    if key not in raw:
        return None
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{where}: gate on '{raw['check']}' has non-numeric {key} = {value!r}.")
    try:
        value = float(value)
    except OverflowError:  # a TOML integer beyond float's range (about 1.8e308)
        raise InputError(f"{where}: gate on '{raw['check']}' has {key} = an integer beyond a float's range; a bound must be a finite number (at most about 1.8e308).") from None
    if not math.isfinite(value):
        raise InputError(f"{where}: gate on '{raw['check']}' has {key} = {value}; a bound must be a finite number (to loosen a gate, give a finite bound or severity = \"warn\").")
    return value


ORDERED_BOUNDS = (("min", "max"), ("min_delta", "max_delta"), ("min_ratio", "max_ratio"))
"""(lower, upper) pairs a gate may give together: lower > upper leaves no value that passes."""


def _check_order(bounds: dict[str, float | None], check: str, where: str) -> None:
    """A gate whose lower bound exceeds its upper bound fails every record: reject it."""
    for low, high in ORDERED_BOUNDS:
        if bounds[low] is not None and bounds[high] is not None and bounds[low] > bounds[high]:
            raise InputError(
                f"{where}: gate on '{check}' has {low} = {bounds[low]:g} > {high} = {bounds[high]:g}; no value can pass (valid: {low} <= {high})."
            )


def _string(raw: dict[str, Any], key: str, where: str, what: str = "gate") -> str | None:
    if key not in raw:
        return None
    value = raw[key]
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}: {what} on '{raw.get('check')}' needs {key} to be a non-empty string, got {value!r}.")
    return value


def literal_pattern(name: str) -> str:
    """A glob pattern that matches `name` alone (its `*`, `?` and `[` written as `[*]`, `[?]`, `[[]`)."""
    return re.sub(r"([*?\[])", r"[\1]", name)


def combine(suite_gates: list[Gate], policy_gates: list[Gate], pairs: Iterable[tuple[str, str]] | None = None) -> list[Gate]:
    """Policy gates replace the suite's default gates for the checks they name, but only on the
    (model, precision) pairs they match: a policy gate scoped to `model = "gan*"` (or a typo that
    matches no model) never switches the suite's gate off for the run's other models.

    `pairs` are the run's (model, precision) pairs: a suite gate overridden on some of them is
    kept, as one copy per pair left (its model and precision written as literal patterns).
    Without `pairs` a suite gate is dropped only where a policy gate on its check matches every
    model and precision ("*")."""
    pairs = list(pairs) if pairs is not None else None
    kept: list[Gate] = []
    for gate in suite_gates:
        overriding = [p for p in policy_gates if p.check == gate.check]
        if not overriding:
            kept.append(gate)
        elif pairs is None:
            if not any(p.model == "*" and p.precision == "*" for p in overriding):
                kept.append(gate)
        else:
            mine = [(m, pr) for m, pr in pairs if fnmatch.fnmatchcase(m, gate.model) and fnmatch.fnmatchcase(pr, gate.precision)]
            left = [(m, pr) for m, pr in mine
                    if not any(fnmatch.fnmatchcase(m, p.model) and fnmatch.fnmatchcase(pr, p.precision) for p in overriding)]
            if len(left) == len(mine):
                kept.append(gate)
            else:
                kept.extend(replace(gate, model=literal_pattern(m), precision=literal_pattern(pr)) for m, pr in left)
    return kept + list(policy_gates)


def parse_gate(raw: Any, where: str, base_dir: Path | None = None) -> Gate:
    """One gate table from a suite or policy file, validated with errors naming `where`.

    A relative `baseline` path is resolved against `base_dir` (the policy file's folder)."""
    if not isinstance(raw, dict):
        raise InputError(f"{where}: a gate must be a table, got {type(raw).__name__}.")
    unknown = set(raw) - GATE_KEYS
    if unknown:
        raise InputError(f"{where}: unknown gate key(s) {', '.join(sorted(unknown))}; valid: {', '.join(sorted(GATE_KEYS))}.")
    if "check" not in raw or not isinstance(raw["check"], str):
        raise InputError(f"{where}: every gate needs check = \"<check id>\".")
    check = raw["check"]
    bounds = {k: _number(raw, k, where) for k in (*ABSOLUTE_BOUNDS, *RELATIVE_BOUNDS)}
    references = {k: _string(raw, k, where) for k in REFERENCE_KEYS}
    has_reference = any(v is not None for v in references.values())
    has_relative_bound = any(bounds[k] is not None for k in RELATIVE_BOUNDS)
    if has_relative_bound and not has_reference:
        given = ", ".join(k for k in RELATIVE_BOUNDS if bounds[k] is not None)
        raise InputError(f"{where}: gate on '{check}' has {given} but nothing to compare with; add relative_to = \"<precision>\", baseline = \"<results.json>\" and/or baseline_model = \"<model>\".")
    if has_reference and not has_relative_bound:
        raise InputError(f"{where}: gate on '{check}' names a reference but no relative bound; add max_delta, min_delta, max_ratio, min_ratio or margin.")
    if not has_reference and bounds["max"] is None and bounds["min"] is None:
        raise InputError(f"{where}: gate on '{check}' needs max or min.")
    _check_order(bounds, check, where)
    if bounds["margin"] is not None and bounds["margin"] < 0:
        raise InputError(f"{where}: gate on '{check}' has margin = {bounds['margin']:g}; a non-inferiority margin is >= 0.")
    for key in ("max_ratio", "min_ratio"):
        if bounds[key] is not None and bounds[key] <= 0:
            raise InputError(f"{where}: gate on '{check}' has {key} = {bounds[key]:g}; a ratio bound is > 0.")
    if raw.get("severity", "error") not in SEVERITIES:
        raise InputError(f"{where}: gate on '{check}' has severity {raw['severity']!r}; valid: {', '.join(SEVERITIES)}.")
    if raw.get("judge", "ci") not in JUDGE:
        raise InputError(f"{where}: gate on '{check}' has judge {raw['judge']!r}; valid: {', '.join(JUDGE)}.")
    min_n = raw.get("min_n")
    if min_n is not None and (isinstance(min_n, bool) or not isinstance(min_n, int) or min_n < 1):
        raise InputError(f"{where}: gate on '{check}' has min_n = {min_n!r}; it must be a whole number >= 1.")
    if references["relative_to"] is not None:
        from audit.precision import PRECISIONS
        from audit.messages import did_you_mean

        if references["relative_to"] not in PRECISIONS:
            raise InputError(f"{where}: gate on '{check}': relative_to: " + did_you_mean("precision", references["relative_to"], list(PRECISIONS)))
    baseline = references["baseline"]
    if baseline is not None and base_dir is not None and not Path(baseline).is_absolute():
        baseline = str(base_dir / baseline)
    for key in ("model", "precision", "description"):
        if key in raw and not isinstance(raw[key], str):
            raise InputError(f"{where}: gate on '{check}' has {key} = {raw[key]!r}; it must be a string.")
    if "precision" in raw:
        require_known_precision(raw["precision"], f"{where}: gate on '{check}'")
    return Gate(
        check=check,
        max=bounds["max"],
        min=bounds["min"],
        model=str(raw.get("model", "*")),
        precision=str(raw.get("precision", "*")),
        severity=raw.get("severity", "error"),
        judge=raw.get("judge", "ci"),
        description=str(raw.get("description", "")),
        min_n=min_n,
        relative_to=references["relative_to"],
        baseline=baseline,
        baseline_model=references["baseline_model"],
        max_delta=bounds["max_delta"],
        min_delta=bounds["min_delta"],
        max_ratio=bounds["max_ratio"],
        min_ratio=bounds["min_ratio"],
        margin=bounds["margin"],
    )


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise InputError(f"{where}: expires must be a date (YYYY-MM-DD), not a date-time ({value.isoformat()}).")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InputError(f"{where}: expires must be a date YYYY-MM-DD, got {value!r}.")


def parse_waiver(raw: Any, where: str) -> Waiver:
    """One `[[waiver]]` table; owner, reason and expiry are required."""
    if not isinstance(raw, dict):
        raise InputError(f"{where}: a waiver must be a table, got {type(raw).__name__}.")
    unknown = set(raw) - WAIVER_KEYS
    if unknown:
        raise InputError(f"{where}: unknown waiver key(s) {', '.join(sorted(unknown))}; valid: {', '.join(sorted(WAIVER_KEYS))}.")
    if "check" not in raw or not isinstance(raw["check"], str):
        raise InputError(f"{where}: every waiver needs check = \"<check id>\".")
    for key in ("check", "model", "precision", "owner", "reason"):
        if isinstance(raw.get(key), str):
            plain_text(raw[key], f"{where}: waiver {key}")
    for key in ("owner", "reason", "expires"):
        if key not in raw:
            raise InputError(f"{where}: waiver on '{raw['check']}' needs {key} (waivers need owner, reason and expires = YYYY-MM-DD).")
    owner = _string(raw, "owner", where, "waiver")
    reason = _string(raw, "reason", where, "waiver")
    for key in ("model", "precision"):
        if key in raw and not isinstance(raw[key], str):
            raise InputError(f"{where}: waiver on '{raw['check']}' has {key} = {raw[key]!r}; it must be a string.")
    return Waiver(
        check=raw["check"], owner=owner or "", reason=reason or "", expires=_date(raw["expires"], f"{where} (waiver on '{raw['check']}')"),
        model=str(raw.get("model", "*")), precision=str(raw.get("precision", "*")),
    )


def _policy_table(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError(f"Policy file '{path}' " + ("is a folder; give the policy's .toml file." if path.is_dir() else "does not exist."))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))  # a BOM (Windows editors) is not a TOML error
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"Policy file '{path}' is not valid TOML: {exc}.") from None
    except UnicodeDecodeError:
        raise InputError(f"Policy file '{path}' is not UTF-8 text.") from None
    except OSError as exc:
        raise InputError(f"Policy file '{path}' cannot be read: {exc.strerror}.") from None
    in_tool = isinstance(data.get("tool"), dict) and "audit" in data["tool"]
    if path.name == "pyproject.toml" or (in_tool and not set(data) & TOP_LEVEL_KEYS):
        if not in_tool:
            raise InputError(f"Policy file '{path}' has no [tool.audit] table (put [[tool.audit.gate]] tables there).")
        table = data["tool"]["audit"]
        if not isinstance(table, dict):
            raise InputError(f"Policy file '{path}': [tool.audit] must be a table.")
        unknown = set(table) - TOP_LEVEL_KEYS
        if unknown:
            raise InputError(f"Policy file '{path}': unknown key(s) in [tool.audit]: {', '.join(sorted(unknown))}; expected [[tool.audit.gate]] and [[tool.audit.waiver]] tables.")
        return table
    unknown = set(data) - TOP_LEVEL_KEYS
    if unknown:
        raise InputError(f"Policy file '{path}': unknown top-level key(s) {', '.join(sorted(unknown))}; expected [[gate]] and [[waiver]] tables.")
    return data


def _tables(data: dict[str, Any], key: str, path: Path) -> list[Any]:
    tables = data.get(key, [])
    if not isinstance(tables, list):
        raise InputError(f"Policy file '{path}': '{key}' must be an array of tables ([[{key}]]).")
    return tables


def require_known_check(pattern: str, known: Iterable[str], where: str) -> None:
    """A gate's or waiver's check pattern must match a known check (a typo would otherwise make
    a gate silently apply to nothing): InputError naming `where`. Policy and suite gates alike."""
    known = sorted(known)
    if any(fnmatch.fnmatchcase(name, pattern) for name in known):
        return
    from audit.messages import did_you_mean

    raise InputError(f"{where}: check pattern matches no known check. " + did_you_mean("check", pattern, known))



def require_known_precision(pattern: str, where: str) -> None:
    """A gate's precision pattern must match a precision name (`audit list precisions`): one that
    matches none is a typo (`"FP32"`), InputError naming `where`."""
    from audit.messages import did_you_mean
    from audit.precision import PRECISIONS

    if not any(fnmatch.fnmatchcase(name, pattern) for name in PRECISIONS):
        raise InputError(f"{where}: precision pattern matches no precision. " + did_you_mean("precision", pattern, list(PRECISIONS)))


def _check_baseline(gate: Gate, where: str, cache: dict[str, dict[str, Any]]) -> None:
    """The baseline file exists, is a results.json, and holds records the gate can use."""
    from audit.results import load_results

    assert gate.baseline is not None
    if gate.baseline not in cache:
        try:
            cache[gate.baseline] = load_results(Path(gate.baseline))
        except InputError as exc:
            raise InputError(f"{where}: baseline: {exc}") from None
    records = cache[gate.baseline]["records"]
    checks = sorted({r["check"] for r in records if fnmatch.fnmatchcase(r["check"], gate.check)})
    if not checks:
        raise InputError(f"{where}: baseline '{gate.baseline}' has no record of check '{gate.check}'.")
    if gate.baseline_model is not None:
        models = sorted({r["model"] for r in records})
        if gate.baseline_model not in models:
            raise InputError(f"{where}: baseline '{gate.baseline}' has no records of model '{gate.baseline_model}'; it has: {', '.join(models)}.")


def read_policy(path: Path, known_checks: Iterable[str] | None = None, check_baselines: bool = True) -> Policy:
    """Gates and waivers from a policy file; every problem is one line naming file, table and key.

    With `known_checks`, a check pattern that matches none of them is an error (a typo would
    otherwise make a gate silently apply to nothing). With `check_baselines`, baseline files
    must exist, be results.json files and hold the gate's check and `baseline_model`."""
    path = Path(path)
    data = _policy_table(path)
    base_dir = path.parent
    gates = [parse_gate(g, f"Policy file '{path}', gate {i + 1}", base_dir) for i, g in enumerate(_tables(data, "gate", path))]
    waivers = [parse_waiver(w, f"Policy file '{path}', waiver {i + 1}") for i, w in enumerate(_tables(data, "waiver", path))]
    if known_checks is not None:
        known = sorted(known_checks)
        for i, g in enumerate(gates):
            require_known_check(g.check, known, f"Policy file '{path}', gate {i + 1}")
        for i, w in enumerate(waivers):
            require_known_check(w.check, known, f"Policy file '{path}', waiver {i + 1}")
    if check_baselines:
        cache: dict[str, dict[str, Any]] = {}
        for i, g in enumerate(gates):
            if g.baseline:
                _check_baseline(g, f"Policy file '{path}', gate {i + 1}", cache)
    return Policy(path, gates, waivers)


def load_policy(path: Path) -> list[Gate]:
    """The gates of a policy file (what a run plan needs; waivers are applied when a run ends)."""
    return read_policy(path, check_baselines=False).gates
