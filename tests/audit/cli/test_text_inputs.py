"""End to end: bad `text=` and policy numbers are one line and exit 2 before any model runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

AUDIT = [sys.executable, "-m", "audit"]


def _audit(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*AUDIT, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_documents_too_short_for_bleu_fail_the_plan(tmp_path: Path):
    (tmp_path / "two.txt").write_text("first.\n\nsecond.\n")
    r = _audit("run", "suite=quality", "model=transformer", "n=16", "bootstrap=20", "check=quality.bleu", "text=two.txt", "out=o", cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "quality.bleu" in lines[0] and "60+ words" in lines[0]
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").rglob("results.json"))


def test_policy_bound_beyond_float_range_is_exit_2(tmp_path: Path):
    (tmp_path / "p.toml").write_text('[[gate]]\ncheck = "quality.fid"\nmax = 1' + "0" * 400 + "\n")
    r = _audit("validate", "p.toml", cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "internal error" not in r.stderr and len(r.stderr.strip().splitlines()) == 1 and "max" in r.stderr


def test_perplexity_interval_never_goes_below_one(tmp_path: Path):
    """Three one-line stories: the re-centred bootstrap reached -25 before its floor at 1 (perplexity >= 1)."""
    import json

    (tmp_path / "three.txt").write_text("Once upon a time there was a cat.\n\nThe dog ran to the park.\n\nA girl played.\n")
    r = _audit("run", "suite=quality", "model=transformer", "n=16", "bootstrap=500", "check=quality.perplexity", "text=three.txt", "out=o", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    (record,) = json.loads(next((tmp_path / "o").rglob("results.json")).read_text())["records"]
    assert record["status"] == "measured" and record["value"] >= 1
    assert 1.0 <= record["ci_low"] <= record["value"] <= record["ci_high"]
