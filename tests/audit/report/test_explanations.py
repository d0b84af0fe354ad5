"""Explanations: README's peer table is generated from audit.report.explanations.PEERS, every
peer row names checks that exist, and a run explains exactly its own checks."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

from audit.checks import check_spec, load_check_modules
from audit.registry import checks as check_registry
from audit.report.explanations import PEERS, default_gates, explanations, peer_of, peer_table_markdown

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_peer_table_is_the_mapping():
    text = README.read_text(encoding="utf-8")
    start = text.index("**Which peer each value equals**")
    lines = text[start:].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next(i for i in range(first, len(lines)) if not lines[i].startswith("|"))
    table = lines[first:end]
    assert "\n".join(table) == peer_table_markdown()


def test_every_peer_row_names_registered_checks():
    load_check_modules()
    names = check_registry.names()
    for peer in PEERS:
        for pattern in peer.patterns:
            assert fnmatch.filter(names, pattern), f"{pattern} matches no registered check"
    assert peer_of("quality.class_coverage") is None and peer_of("quality.rougeL").shown_as.startswith("`quality.bleu`")


def test_default_gates_are_the_suite_files_gates():
    suites = Path(__file__).resolve().parents[3] / "audit" / "suites"
    expected = {}
    for path in suites.glob("*.toml"):
        for gate in tomllib.loads(path.read_text(encoding="utf-8")).get("gate", []):
            expected.setdefault(gate["check"], set()).add(path.stem)
    found = default_gates()
    assert {check: {g["suite"] for g in entries} for check, entries in found.items()} == expected
    (recall,) = found["quality.recall"]
    assert recall["bound"].startswith("≥ 0.3") and "most of the real data cannot be reached" in recall["why"]


def test_a_run_explains_its_own_checks_only(synthetic_run):
    results, _ = synthetic_run
    blocks = {b["check"]: b for b in explanations(results)}
    assert set(blocks) == {r["check"] for r in results["records"]}
    fid = blocks["quality.fid"]
    assert fid["measures"] == check_spec("quality.fid").description.rstrip(".")
    assert fid["direction"] == "lower is better" and "FrechetInceptionDistance" in fid["peer"]
    assert [g["suite"] for g in fid["gates"]] == ["quality"]
    assert blocks["quality.mauve"]["measures"] == "no description registered for this check"
