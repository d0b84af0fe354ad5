"""What each check in a report means: the short explanation a check's name links to.

A block says what the check measures (its `CheckSpec` description), which direction is better,
its unit, the default gates of the bundled suites that judge it and why (the comment above the
`[[gate]]` in `audit/suites/*.toml`, or the gate's `description`), and the peer implementation
its value equals. `PEERS` is the one source of that last fact: README's table "Which peer each
value equals" is `peer_table_markdown()` verbatim (a test keeps them equal). Only the checks of
the run get a block, so the report stays small.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from audit.formatting import fmt


@dataclass(frozen=True)
class Peer:
    """One row of the peer table: the checks it covers (`patterns`, globs over check ids), how
    README names them, the peer definition the value equals and the setting it equals it in."""

    patterns: tuple[str, ...]
    shown_as: str
    equals: str
    setting: str


PEERS: tuple[Peer, ...] = (
    Peer(("quality.fid",), "`quality.fid`",
         "torchmetrics `FrechetInceptionDistance` and `scipy.linalg.sqrtm` (pytorch-fid's method)",
         "same features, float64; 1e-6 relative"),
    Peer(("quality.kid",), "`quality.kid`",
         "torchmetrics `KernelInceptionDistance` with one subset of the whole sets; the limit of its default 100 × 1000 subset average",
         "degree 3, gamma 1/d, coef 1"),
    Peer(("quality.inception_score",), "`quality.inception_score`",
         "torchmetrics `InceptionScore(splits=10)` (mean and std over splits)",
         "the same row order (torchmetrics shuffles first)"),
    Peer(("quality.precision", "quality.recall", "quality.density", "quality.coverage"), "`quality.precision`, `recall`, `density`, `coverage`",
         "the authors' `prdc` package; radii equal scikit-learn's k-NN", "`nearest_k=5`"),
    Peer(("quality.swd_*",), "`quality.swd_*`", "`scipy.stats.wasserstein_distance` per projection",
         "128 directions from seed 0"),
    Peer(("quality.c2st",), "`quality.c2st`",
         "scikit-learn `cross_val_score` (standardised 5-NN, 5 folds), `scipy.stats.binomtest`", "one-sided"),
    Peer(("quality.bleu", "quality.rouge*"), "`quality.bleu`, `quality.rouge*`",
         "sacrebleu, NLTK and torchmetrics BLEU; `rouge-score`", "corpus BLEU-4; ROUGE F1"),
)
"""Which peer each check's value equals (each row is a test in `tests/audit/metrics/`)."""

PEER_TABLE_HEADER = ("| check | equals | setting |", "|---|---|---|")


def peer_table_markdown() -> str:
    """README's peer table, generated from `PEERS`."""
    rows = [f"| {p.shown_as} | {p.equals} | {p.setting} |" for p in PEERS]
    return "\n".join([*PEER_TABLE_HEADER, *rows])


def peer_of(check: str) -> Peer | None:
    """The peer row covering `check`, or None when no peer implementation is named for it."""
    return next((p for p in PEERS if any(fnmatch.fnmatchcase(check, pattern) for pattern in p.patterns)), None)


_GATE_HEADER = re.compile(r"^\s*\[\[gate\]\]\s*$")


def _gate_reasons(text: str) -> list[str]:
    """The comment block right above each `[[gate]]` of a suite file, in file order ("" where none)."""
    reasons, comment = [], []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            comment.append(stripped.lstrip("#").strip())
        elif _GATE_HEADER.match(line):
            reasons.append(" ".join(comment))
            comment = []
        else:
            comment = []
    return reasons


def _bound_text(gate: dict[str, Any]) -> str:
    parts = [f"≤ {fmt(gate['max'])}" if gate.get("max") is not None else "",
             f"≥ {fmt(gate['min'])}" if gate.get("min") is not None else ""]
    for key, word in (("max_delta", "change ≤"), ("min_delta", "change ≥"), ("max_ratio", "ratio ≤"),
                      ("min_ratio", "ratio ≥"), ("margin", "within margin")):
        if gate.get(key) is not None:
            parts.append(f"{word} {fmt(gate[key])}")
    where = " vs " + str(gate["relative_to"]) if gate.get("relative_to") else ""
    return " and ".join(p for p in parts if p) + where + f" ({gate.get('severity', 'error')})"


@lru_cache(maxsize=1)
def default_gates() -> dict[str, tuple[dict[str, str], ...]]:
    """Check id -> the bundled suites' default gates on it: {suite, bound, why}."""
    from importlib import resources

    from audit.suite import parse_suite

    found: dict[str, list[dict[str, str]]] = {}
    folder = resources.files("audit").joinpath("suites")
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".toml"):
            continue
        name = item.name.removesuffix(".toml")
        text = item.read_text(encoding="utf-8")
        suite = parse_suite(name, text, f"Suite file '{item.name}'")
        for gate, why in zip(suite.gates, _gate_reasons(text) + [""] * len(suite.gates)):
            entry = {"suite": name, "bound": _bound_text(gate), "why": str(gate.get("description") or why)}
            if entry not in found.setdefault(str(gate.get("check")), []):
                found[str(gate["check"])].append(entry)
    return {check: tuple(entries) for check, entries in found.items()}


def _spec(check: str) -> Any:
    """The registered CheckSpec of `check`, or None (a plugin check not installed here)."""
    from audit.checks import check_spec

    try:
        return check_spec(check)
    except Exception:  # an unknown id or a plugin that fails to import: explain from the record alone
        return None


def _direction(higher_is_better: Any) -> str:
    return {True: "higher is better", False: "lower is better"}.get(higher_is_better, "no better direction (read against the control)")


def explanations(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One block per check present in the run, in first-appearance order."""
    blocks: dict[str, dict[str, Any]] = {}
    for rec in results.get("records") or []:
        check = str(rec.get("check"))
        if check in blocks:
            continue
        spec = _spec(check)
        peer = peer_of(check)
        gates = [g for pattern, entries in default_gates().items() if fnmatch.fnmatchcase(check, pattern) for g in entries]
        blocks[check] = {
            "check": check,
            "measures": ((spec.description if spec is not None else "") or "no description registered for this check").rstrip("."),
            "direction": _direction(spec.higher_is_better if spec is not None else rec.get("higher_is_better")),
            "unit": (spec.unit if spec is not None else rec.get("unit")) or "",
            "gates": gates,
            "peer": f"{peer.equals} ({peer.setting})".replace("`", "") if peer else "",  # README's code marks, as plain text
        }
    return list(blocks.values())


__all__ = ["PEERS", "Peer", "default_gates", "explanations", "peer_of", "peer_table_markdown"]
