"""An unusable sample cache folder (AUDIT_CACHE_DIR under a file) makes a run slower, never a
failed one, but not silently: one warning line says the run neither reads nor writes the cache
(every record had said "miss" with no reason)."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.sample_cache import cache_folder_problem


def test_a_folder_under_a_file_is_a_problem_and_a_fresh_folder_is_not(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    problem = cache_folder_problem(blocker / "cache")
    assert problem is not None and str(blocker / "cache") in problem
    assert cache_folder_problem(tmp_path / "new" / "cache") is None
    assert (tmp_path / "new" / "cache").is_dir() and not list((tmp_path / "new" / "cache").iterdir())


def test_the_run_warns_once_and_still_measures(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("AUDIT_CACHE_DIR", str(blocker / "cache"))
    result = cli("run", "suite=quality", "model=gan", "check=quality.fid", "n=64", "bootstrap=20")
    assert result.exit_code in (0, 1, 3), result.stdout + result.stderr
    warnings = [line for line in result.stderr.splitlines() if "sample cache folder" in line]
    assert len(warnings) == 1 and "neither reads nor writes" in warnings[0], result.stderr
    assert [r["status"] for r in result.results["records"]] != ["error"]
