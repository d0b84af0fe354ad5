"""One verdict vocabulary: every status and exit code has its word, rank, icon and colour in
audit.verdicts, and no other module of audit spells a run verdict itself."""

from __future__ import annotations

from pathlib import Path

from audit import errors, verdicts

AUDIT = Path(__file__).resolve().parents[2] / "audit"


def test_every_status_is_ranked_iconed_and_coloured():
    assert set(verdicts.WORST_FIRST) == set(verdicts.STATUSES) == set(verdicts.STATUS_ICONS) == set(verdicts.STATUS_COLOURS)
    assert set(verdicts.UNJUDGED) | set(verdicts.NOT_PASSING) <= set(verdicts.STATUSES)
    assert all(set(failing) <= set(verdicts.STATUSES) for failing in verdicts.FAILING.values())
    assert verdicts.status_rank(verdicts.ERROR) == 0 and verdicts.status_rank("unknown") == len(verdicts.STATUSES)


def test_every_exit_code_has_a_verdict():
    codes = {value for name, value in vars(errors).items() if name.startswith("EXIT_")}
    assert set(verdicts.RUN_VERDICTS) == codes
    assert verdicts.run_verdict(errors.EXIT_PASS).word == "PASS"
    assert verdicts.run_verdict(errors.EXIT_PASS, interrupted=True) is verdicts.INTERRUPTED
    assert verdicts.run_verdict(99).word == "99"


def test_no_other_module_spells_a_run_verdict():
    words = [v.word for v in verdicts.RUN_VERDICTS.values()] + [verdicts.INTERRUPTED.word]
    quoted = [f'"{w}"' for w in words if " " in w or w in ("INCONCLUSIVE", "INTERRUPTED")]
    offenders = [
        f"{path.relative_to(AUDIT.parent)}: {q}"
        for path in AUDIT.rglob("*") if path.suffix in (".py", ".j2") and path.name != "verdicts.py"
        for q in quoted if q in path.read_text(encoding="utf-8")
    ]
    assert not offenders, "run verdict words belong to audit.verdicts:\n" + "\n".join(offenders)
