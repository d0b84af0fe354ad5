"""`audit validate POLICY`: one summary line and exit 0, or one error line and exit 2; never runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import assert_one_line_error

GOOD = """
[[gate]]
check = "quality.fid"
max = 100

[[gate]]
check = "quality.conditional_accuracy"
precision = "bf16"
relative_to = "fp32"
margin = 0.02
severity = "warn"

[[waiver]]
check = "quality.fid"
model = "gan-imbalanced"
owner = "alice"
reason = "tracked in #7"
expires = 2999-12-31
"""


def test_valid_policy_gives_one_summary_line(cli, tmp_path: Path):
    path = tmp_path / "audit.toml"
    path.write_text(GOOD)
    result = cli("validate", str(path))
    assert result.exit_code == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and result.stderr == ""
    assert lines[0] == f"Policy '{path}' is valid: 2 gate(s) (1 error, 1 warn; 1 relative, 0 baseline file(s)), 1 waiver(s), next expiry 2999-12-31."


def test_pyproject_policy(cli, tmp_path: Path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "demo"\n\n[[tool.audit.gate]]\ncheck = "quality.*"\nmin = 0\n')
    result = cli("validate", str(path))
    assert result.exit_code == 0 and "is valid: 1 gate(s)" in result.stdout


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("[[gate]\ncheck = 'quality.fid'", "not valid TOML"),
        ("[[gate]]\ncheck = 'quality.fid'", "needs max or min"),
        ("[[gate]]\ncheck = 'quality.fdi'\nmax = 1", "Did you mean: quality.fid"),
        ("[[gate]]\ncheck = 'quality.fid'\nmax_delta = 1", "nothing to compare with"),
        ("[[gate]]\ncheck = 'quality.fid'\nbaseline = 'nope.json'\nmax_delta = 1", "baseline: Results file"),
        ("[[waiver]]\ncheck = 'quality.fid'\nowner = 'a'\nreason = 'b'\nexpires = 'soon'", "expires must be a date"),
        ("[[waiver]]\ncheck = 'quality.fid'\nexpires = 2030-01-01\nreason = 'b'", "needs owner"),
        ("[[waiver]]\ncheck = 'quality.fdi'\nowner = 'a'\nreason = 'b'\nexpires = 2030-01-01", "waiver 1: check pattern matches no known check"),
    ],
)
def test_malformed_policy_is_one_line_and_exit_2(cli, tmp_path: Path, text: str, fragment: str):
    path = tmp_path / "audit.toml"
    path.write_text(text)
    assert_one_line_error(cli("validate", str(path)), 2, fragment, "audit.toml")


def test_missing_policy(cli, tmp_path: Path):
    assert_one_line_error(cli("validate", str(tmp_path / "nope.toml")), 2, "does not exist")


def test_expired_waiver_is_named_and_exits_1(cli, tmp_path: Path):
    path = tmp_path / "audit.toml"
    path.write_text(GOOD.replace("2999-12-31", "2001-02-03"))
    result = cli("validate", str(path))
    assert result.exit_code == 1
    assert "1 EXPIRED" in result.stdout
    assert_lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(assert_lines) == 1
    assert "waiver expired on 2001-02-03: check quality.fid model gan-imbalanced" in assert_lines[0] and "owner alice" in assert_lines[0]


def test_run_rejects_a_malformed_waiver_before_running(cli, tmp_path: Path):
    path = tmp_path / "audit.toml"
    path.write_text("[[waiver]]\ncheck = 'quality.fid'\nowner = 'a'\nexpires = 2030-01-01")
    result = cli("run", "suite=smoke", "model=gan", f"policy={path}")
    assert_one_line_error(result, 2, "needs reason")
    assert not (tmp_path / "reports").exists()  # nothing ran


PROBE = """
import sys
from audit.cli import app
sys.argv = ["audit", *{args!r}]
try:
    app()
except SystemExit as exc:
    pass
print("HEAVY:" + ",".join(m for m in ("torch", "transformers") if m in sys.modules))
"""


@pytest.mark.parametrize("args", [["validate", "--help"], ["compare", "--help"], ["validate", "POLICY"]])
def test_validate_and_compare_do_not_import_torch(tmp_path: Path, args: list[str]):
    policy = tmp_path / "audit.toml"
    policy.write_text(GOOD)
    args = [str(policy) if a == "POLICY" else a for a in args]
    out = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "HEAVY:", out.stdout + out.stderr


DOCS = Path(__file__).resolve().parents[3] / "docs" / "ci"


def test_the_documented_ci_policy_validates(cli, tmp_path: Path):
    """docs/ci/audit.toml, copied to a repository root that holds a baseline, is a valid policy."""
    import json

    policy = tmp_path / "audit.toml"
    policy.write_text((DOCS / "audit.toml").read_text())
    baseline = tmp_path / "release" / "baseline" / "results.json"
    baseline.parent.mkdir(parents=True)
    record = {"check": "quality.conditional_accuracy", "model": "gan", "precision": "fp32", "status": "pass", "value": 0.99}
    baseline.write_text(json.dumps({"schema_version": 1, "records": [record], "fingerprint": {}}))
    result = cli("validate", str(policy))
    assert result.exit_code == 0, result.stderr
    assert "5 gate(s) (4 error, 1 warn; 3 relative, 1 baseline file(s)), 1 waiver(s)" in result.stdout


@pytest.mark.parametrize("name", ["github-actions.yml", "gitlab-ci.yml"])
def test_ci_examples_are_yaml_that_gate_on_the_policy(name: str):
    yaml = pytest.importorskip("yaml")
    text = (DOCS / name).read_text()
    assert isinstance(yaml.safe_load(text), dict)
    for fragment in ("audit validate audit.toml", "policy=audit.toml", "junit.xml", "summary.md", "audit compare"):
        assert fragment in text, fragment


def test_audit_today_replays_another_day(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "audit.toml"
    path.write_text(GOOD)
    monkeypatch.setenv("AUDIT_TODAY", "2999-12-31")
    assert cli("validate", str(path)).exit_code == 0  # a waiver holds through its expiry day
    monkeypatch.setenv("AUDIT_TODAY", "3000-01-01")
    assert cli("validate", str(path)).exit_code == 1
    monkeypatch.setenv("AUDIT_TODAY", "tomorrow")
    assert_one_line_error(cli("validate", str(path)), 2, "AUDIT_TODAY must be a date")
