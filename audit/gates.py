"""Gates: policy bounds -> verdicts on records -> the run's exit code.

A gate is judged on the conservative end of the CI: a `max` gate passes when the whole CI is
at or below the bound, fails when the whole CI is above it, and is inconclusive when the CI
straddles it. Records without a CI are judged on their value.

Relative gates (`relative_to`, `baseline`, `baseline_model`, see audit.policy) are judged on
the CI of the difference (or ratio) between the record and its reference record
(audit.differences.difference: paired where per-sample values allow it, else conservative interval
arithmetic). They need the whole run, so a run judges absolute gates as each record appears
(`judge`) and everything, waivers included, once more when it ends (`finalize`).

Statuses of a judged record, worst first: fail > inconclusive > warn > waived > pass; `measured`
when no gate applies. A waiver turns a gate that does not pass (fail, warn or inconclusive) on
the records it matches into `waived`, which does not fail the run; an expired waiver waives
nothing and fails the run (exit 1) until it is renewed or removed.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any, Iterable

from audit.errors import EXIT_ERROR, EXIT_GATE_FAILED, EXIT_INCONCLUSIVE, EXIT_NOTHING_JUDGED, EXIT_PASS
from audit.policy import Gate, Policy, Waiver
from audit.results import CheckResult, record_from_dict
from audit.verdicts import ERROR, FAILING, INCONCLUSIVE, MEASURED, UNJUDGED


def _bounds(low: float, high: float, max_: float | None, min_: float | None) -> list[str]:
    outcomes = []
    if max_ is not None:
        outcomes.append("pass" if high <= max_ else "fail" if low > max_ else "inconclusive")
    if min_ is not None:
        outcomes.append("pass" if low >= min_ else "fail" if high < min_ else "inconclusive")
    return outcomes


def _worst(outcomes: list[str]) -> str:
    return "fail" if "fail" in outcomes else "inconclusive" if "inconclusive" in outcomes else "pass"


def _has_ci(record: CheckResult) -> bool:
    """Both CI ends are finite numbers (a check without an interval leaves None or NaN)."""
    return all(isinstance(x, (int, float)) and math.isfinite(x) for x in (record.ci_low, record.ci_high))


def _outcome(gate: Gate, record: CheckResult) -> tuple[str, str]:
    """pass | fail | inconclusive of a gate's absolute bounds (max/min) on one record, and a note
    when a CI-judged gate had no CI to judge, or a zero-width one its check marked as degenerate
    (`audit.metrics.resample.degenerate_interval`: inconclusive, never certain).

    A record of a check that gives no interval (a count, an exact quantity) is judged on its
    value, and says so. A record that lacks its interval because the run asked for none
    (bootstrap=0) cannot be judged on one: inconclusive."""
    value = record.value
    if value is None or not math.isfinite(value):
        return "inconclusive", "no finite value to judge"
    from audit.metrics.resample import DEGENERATE_KEY

    has_ci = _has_ci(record)
    degenerate = record.details.get(DEGENERATE_KEY) if isinstance(record.details, dict) else None
    if gate.judge == "ci" and degenerate:
        return "inconclusive", str(degenerate)
    if gate.judge != "ci" or has_ci:
        low, high = (record.ci_low, record.ci_high) if gate.judge == "ci" else (value, value)
        return _worst(_bounds(low, high, gate.max, gate.min)), ""
    if record.params.get("bootstrap") == 0:
        return "inconclusive", "no CI to judge (bootstrap=0)"
    return _worst(_bounds(value, value, gate.max, gate.min)), "the check gives no CI: judged on its value"


class Context:
    """What relative gates and waivers need: the run's records, loaded baselines, today's date."""

    def __init__(self, results: dict[str, Any], waivers: Iterable[Waiver] = (), today: dt.date | None = None) -> None:
        self.results = results
        self.records = {(r["check"], r["model"], r["precision"]): r for r in results.get("records", [])}
        self.waivers = list(waivers)
        self.today = today or dt.date.today()
        self._baselines: dict[str, dict[str, Any]] = {}

    def baseline(self, path: str) -> tuple[dict[tuple[str, str, str], dict[str, Any]], list[str]]:
        """The baseline's records by key, and how its metric fingerprint differs from this run's."""
        if path not in self._baselines:
            from audit.differences import run_differences
            from audit.results import load_results

            data = load_results(Path(path))
            self._baselines[path] = {
                "records": {(r["check"], r["model"], r["precision"]): r for r in data["records"]},
                "differences": run_differences(data, self.results),
            }
        entry = self._baselines[path]
        return entry["records"], entry["differences"]


def _ref_summary(ref: dict[str, Any], source: str) -> dict[str, Any]:
    return {"source": source, **{k: ref.get(k) for k in ("check", "model", "precision", "value", "ci_low", "ci_high", "n", "seed", "status")}}


def _relative(gate: Gate, record: CheckResult, context: Context) -> dict[str, Any] | None:
    """Outcome and detail of a relative gate, or None where it does not apply (the reference
    is the record itself)."""
    from audit.differences import difference, params_difference
    from audit.formatting import fmt

    key = (record.check, gate.baseline_model or record.model, gate.relative_to or record.precision)
    if gate.baseline:
        try:
            records, differences = context.baseline(gate.baseline)
        except Exception as exc:  # a baseline that vanished since the policy was read
            return {"outcome": "inconclusive", "note": f"baseline unreadable: {exc}"}
        source = gate.baseline
    else:
        if key == (record.check, record.model, record.precision):
            return None
        records, differences, source = context.records, [], "this run"
    ref = records.get(key)
    where = f"{key[1]}/{key[2]} in {'baseline ' + Path(source).name if gate.baseline else source}"
    if ref is None:
        return {"outcome": "inconclusive", "note": f"no reference record {where}"}
    detail: dict[str, Any] = {"reference": _ref_summary(ref, source)}
    if ref.get("value") is None:
        return {**detail, "outcome": "inconclusive", "note": f"reference {where} has no value ({ref.get('status')})"}
    params = params_difference(ref, record.to_dict()) if gate.baseline else None
    mismatch = differences + ([params] if params else [])
    if mismatch:
        return {**detail, "outcome": "inconclusive", "note": f"metric fingerprint of {where} differs: {'; '.join(mismatch)}"}
    diff = difference(record.to_dict(), ref, gate.judge)
    detail.update(delta=diff.delta, delta_ci=[diff.delta_low, diff.delta_high], ratio=diff.ratio,
                  ratio_ci=[diff.ratio_low, diff.ratio_high], pairing=diff.label, pairing_method=diff.method)
    outcomes: list[str] = []
    notes = [f"vs {where} = {fmt(ref['value'])}"]
    max_delta, min_delta = gate.max_delta, gate.min_delta
    if gate.margin is not None:
        if record.higher_is_better is None:
            outcomes.append("inconclusive")
            notes.append("margin needs a check with a direction; use min_delta/max_delta")
        elif record.higher_is_better:
            min_delta = -gate.margin if min_delta is None else max(min_delta, -gate.margin)
        else:
            max_delta = gate.margin if max_delta is None else min(max_delta, gate.margin)
    if max_delta is not None or min_delta is not None:
        assert diff.delta_low is not None and diff.delta_high is not None
        outcomes += _bounds(diff.delta_low, diff.delta_high, max_delta, min_delta)
        notes.append(f"delta {fmt(diff.delta)} [{fmt(diff.delta_low)}, {fmt(diff.delta_high)}] ({diff.label})")
    if gate.max_ratio is not None or gate.min_ratio is not None:
        if diff.ratio_low is None or diff.ratio_high is None:
            outcomes.append("inconclusive")
            notes.append("ratio undefined: the reference's interval contains 0")
        else:
            outcomes += _bounds(diff.ratio_low, diff.ratio_high, gate.max_ratio, gate.min_ratio)
            notes.append(f"ratio {fmt(diff.ratio)} [{fmt(diff.ratio_low)}, {fmt(diff.ratio_high)}] ({diff.label})")
    return {**detail, "outcome": _worst(outcomes), "note": ", ".join(notes)}


def _judge_gate(gate: Gate, record: CheckResult, context: Context | None) -> dict[str, Any] | None:
    """One gate on one record: {outcome, note, ...} or None where the gate does not apply."""
    if gate.is_relative and context is None:
        return None  # judged when the run ends (finalize), with every record at hand
    outcomes, notes, detail = [], [], {}
    if gate.max is not None or gate.min is not None:
        outcome, note = _outcome(gate, record)
        outcomes.append(outcome)
        if note:
            notes.append(note)
    if gate.is_relative:
        assert context is not None
        relative = _relative(gate, record, context)
        if relative is None:
            return None
        outcomes.append(relative.pop("outcome"))
        notes.append(relative.pop("note"))
        detail = relative
    if gate.min_n is not None:
        ns = [("n", record.n)] + ([("reference n", detail["reference"].get("n"))] if "reference" in detail else [])
        small = [f"{name} = {n}" for name, n in ns if n is None or n < gate.min_n]
        if small:
            outcomes = ["inconclusive"]
            notes.append(f"{', '.join(small)} below min_n = {gate.min_n}")
    return {"outcome": _worst(outcomes), "note": "; ".join(notes), **detail}


def _label(gate: Gate, record: CheckResult) -> str:
    """The gate's label, saying what it was really judged on: never "judged on ci" without a CI."""
    label = gate.label()
    if gate.judge == "ci" and not _has_ci(record) and not gate.is_relative:
        label = label.replace("judged on ci", "no CI" if record.params.get("bootstrap") == 0 else "judged on value")
    return label


_RANK = {"measured": 0, "pass": 1, "waived": 2, "warn": 3, "inconclusive": 4, "fail": 5}


def judge(record: CheckResult, gates: Iterable[Gate], context: Context | None = None) -> CheckResult:
    """Set the record's status, verdict and gate list from the gates that match it.

    Without a `context` (while a run streams), relative gates and waivers are left for `finalize`."""
    if record.status in ("error", "skipped"):
        return record
    status, verdicts = "measured", []
    for gate in (g for g in gates if g.matches(record)):
        judged = _judge_gate(gate, record, context)
        if judged is None:
            continue
        outcome = judged["outcome"]
        effective = outcome if gate.severity == "error" or outcome == "pass" else "warn"
        label = _label(gate, record)
        entry = {**gate.to_dict(), **judged, "status": effective, "label": label}
        text = f"{outcome}: {label}" + (f" [{judged['note']}]" if judged.get("note") else "")
        if effective != "pass" and context is not None:
            for waiver in (w for w in context.waivers if w.matches(record)):
                if waiver.expired(context.today):
                    entry.setdefault("expired_waivers", []).append(waiver.to_dict())
                    text += f" (waiver by {waiver.owner} EXPIRED {waiver.expires.isoformat()})"
                else:
                    entry["status"], effective, entry["waiver"] = "waived", "waived", waiver.to_dict()
                    text = f"waived ({outcome}; by {waiver.owner} until {waiver.expires.isoformat()}: {waiver.reason}): " + text.split(": ", 1)[1]
                    break
        record.gates.append(entry)
        verdicts.append(text)
        if _RANK[effective] > _RANK[status]:
            status = effective
    record.status = status
    record.verdict = "; ".join(verdicts) if verdicts else "no gate"
    return record


def finalize(results: dict[str, Any], gates: list[Gate], policy: Policy | None = None, today: dt.date | None = None) -> dict[str, Any]:
    """Judge every record of a finished run with all its gates (relative ones included) and the
    policy's waivers; set summary counts and exit code. Changes `results` in place and returns it."""
    context = Context(results, policy.waivers if policy else (), today)
    rows = []
    for row in results["records"]:
        record = record_from_dict(row)
        if record.status not in UNJUDGED:
            record.status, record.gates, record.verdict = MEASURED, [], None
        rows.append(judge(record, gates, context).to_dict())
    results["records"] = rows
    expired = policy.expired_waivers(context.today) if policy else []
    if policy is not None:
        results["policy"] = {
            "path": str(policy.path) if policy.path else None,
            "judged_on": context.today.isoformat(),
            "waivers": [{**w.to_dict(), "expired": w.expired(context.today)} for w in policy.waivers],
        }
    fail_on = results.get("config", {}).get("fail_on", "error")
    summary = results.setdefault("summary", {})
    summary["counts"] = status_counts(rows)
    if policy is not None:
        summary["expired_waivers"] = [w.to_dict() for w in expired]
    summary["exit_code"] = exit_code(rows, bool(results.get("interrupted")), fail_on, expired_waivers=len(expired))
    return results


def status_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """{status: number of records} of judged rows, statuses in sorted order (results.json's summary.counts)."""
    return {s: sum(r["status"] == s for r in rows) for s in sorted({r["status"] for r in rows})}


def expired_waiver_line(waiver: dict[str, Any], policy_path: Any = None) -> str:
    where = f" in {policy_path}" if policy_path else ""
    return (f"waiver expired on {waiver['expires']}: check {waiver['check']} model {waiver['model']} precision {waiver['precision']} "
            f"(owner {waiver['owner']}: {waiver['reason']}); renew or remove it{where}")


def unaudited_models(records: list[dict[str, Any]]) -> list[str]:
    """Models of the run none of whose records (over every precision) was measured or judged."""
    audited = {r.get("model", "") for r in records if r["status"] not in UNJUDGED}
    return sorted({r.get("model", "") for r in records} - audited)


def exit_code(records: list[dict[str, Any]], interrupted: bool, fail_on: str = "error", expired_waivers: int = 0) -> int:
    """4 error/interrupted > 1 gate failed (or an expired waiver) > 5 a model (or the whole run)
    with nothing judged > 3 inconclusive > 0 (see README, Exit codes). `waived` never fails a run;
    with fail_on=never only 4 and 5 remain: an unaudited model is never a pass."""
    statuses = {r["status"] for r in records}
    if interrupted or ERROR in statuses:
        return EXIT_ERROR
    if statuses & set(FAILING[fail_on]) or (expired_waivers and fail_on != "never"):
        return EXIT_GATE_FAILED
    if not records or unaudited_models(records):
        return EXIT_NOTHING_JUDGED
    if INCONCLUSIVE in statuses and fail_on != "never":
        return EXIT_INCONCLUSIVE
    return EXIT_PASS
