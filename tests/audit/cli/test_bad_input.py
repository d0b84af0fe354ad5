"""Every kind of bad input gets one line, no traceback and its documented exit code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from audit_reference_models.manifest import PACKAGE_WEIGHTS
from tests.helpers import assert_one_line_error


def test_unknown_suite(cli):
    assert_one_line_error(cli("run", "suite=qualty"), 2, "Unknown suite 'qualty'", "Did you mean: quality")


def test_unknown_model(cli):
    assert_one_line_error(cli("run", "suite=quality", "model=gam"), 2, "Unknown model 'gam'", "Did you mean: gan")


def test_unknown_key(cli):
    assert_one_line_error(cli("run", "suite=quality", "sed=1"), 2, "Unknown key 'sed'", "Did you mean: seed")


def test_unknown_check(cli):
    assert_one_line_error(cli("run", "suite=quality", "check=quality.fdi"), 2, "Unknown check 'quality.fdi'", "quality.fid")


def test_unknown_precision(cli):
    assert_one_line_error(cli("run", "suite=quality", "precision=int9"), 2, "Unknown precision 'int9'")


def test_missing_suite_word(cli):
    assert_one_line_error(cli("run", "model=gan"), 2, "No suite given")


def test_bad_integer(cli):
    assert_one_line_error(cli("run", "suite=quality", "n=many"), 2, "'n' must be an integer")


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("[[gate]\ncheck = 'quality.fid'", "not valid TOML"),
        ("[[gate]]\ncheck = 'quality.fid'\nmax = 'five'", "non-numeric max"),
        ("[[gate]]\ncheck = 'quality.fid'", "needs max or min"),
        ("[[gate]]\ncheck = 'quality.fid'\nmax = 1\nseverity = 'fatal'", "severity 'fatal'"),
        ("[[gate]]\ncheck = 'quality.fid'\nmaximum = 1", "unknown gate key(s) maximum"),
        ("gates = 1", "unknown top-level key(s) gates"),
    ],
)
def test_malformed_policy(cli, tmp_path: Path, text: str, fragment: str):
    policy = tmp_path / "policy.toml"
    policy.write_text(text)
    assert_one_line_error(cli("run", "suite=quality", "model=gan", f"policy={policy}"), 2, fragment)


def test_missing_policy_file(cli, tmp_path: Path):
    assert_one_line_error(cli("run", "suite=quality", f"policy={tmp_path / 'nope.toml'}"), 2, "does not exist")


def test_a_folder_given_as_a_policy_or_a_results_file_is_named_as_a_folder(cli, tmp_path: Path):
    assert_one_line_error(cli("run", "suite=quality", f"policy={tmp_path}"), 2, "is a folder; give the policy's .toml file")
    assert_one_line_error(cli("compare", str(tmp_path), str(tmp_path)), 2, "is a folder; give its results.json")


@pytest.fixture
def weights_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "weights"
    shutil.copytree(PACKAGE_WEIGHTS, folder)
    monkeypatch.setenv("AUDIT_WEIGHTS_DIR", str(folder))
    return folder


def test_missing_weights(cli, weights_copy: Path):
    (weights_copy / "gan.safetensors").unlink()
    assert_one_line_error(cli("run", "suite=quality", "model=gan"), 2, "Weights file for 'gan' not found", "audit train model=gan")


def test_corrupt_weights(cli, weights_copy: Path):
    path = weights_copy / "gan.safetensors"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert_one_line_error(cli("run", "suite=quality", "model=gan"), 2, "is corrupt", "does not match the manifest")


def test_corrupt_evaluator_weights(cli, weights_copy: Path):
    (weights_copy / "classifier.safetensors").write_bytes(b"not safetensors")
    assert_one_line_error(cli("run", "suite=quality", "model=gan"), 2, "classifier", "is corrupt")


def test_import_path_module_missing(cli):
    assert_one_line_error(cli("run", "suite=quality", "model=no_such_pkg.models:load"), 2, "Cannot import 'no_such_pkg.models'")


def test_import_path_attribute_missing(cli):
    assert_one_line_error(cli("run", "suite=quality", "model=fixture_models:nope"), 2, "has no attribute 'nope'")


def test_unknown_list(cli):
    assert_one_line_error(cli("list", "modles"), 2, "Unknown list 'modles'", "Did you mean: models")


def test_report_on_missing_results(cli, tmp_path: Path):
    assert_one_line_error(cli("report", str(tmp_path / "results.json")), 2, "does not exist")


def test_report_on_foreign_json(cli, tmp_path: Path):
    path = tmp_path / "results.json"
    path.write_text('{"hello": 1}')
    assert_one_line_error(cli("report", str(path)), 2, "not an audit results.json")


def test_unknown_trainable(cli):
    assert_one_line_error(cli("train", "model=gann"), 2, "Unknown trainable model 'gann'", "Did you mean: gan")


def test_a_suite_naming_a_missing_association_tests_file_is_one_line_before_anything_runs(cli, tmp_path):
    suite = tmp_path / "my_suite.toml"
    suite.write_text('description = "own axes"\n[checks]\n"fairness.association" = { tests = "nope.toml" }\n')
    result = cli("run", f"suite={suite}", "model=transformer")
    assert_one_line_error(result, 2, "Association tests file 'nope.toml' does not exist")
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())


def test_a_policy_and_a_suite_file_saved_with_a_bom_are_read(cli, tmp_path: Path):
    """Windows editors write a UTF-8 byte-order mark; tomllib alone called it 'Invalid statement'."""
    policy = tmp_path / "bom.toml"
    policy.write_text('[[gate]]\ncheck = "quality.fid"\nmax = 1e9\n', encoding="utf-8-sig")
    suite = tmp_path / "bom_suite.toml"
    suite.write_text('n = 64\n[checks]\n"quality.fid" = {}\n', encoding="utf-8-sig")
    assert cli("validate", str(policy)).exit_code == 0
    result = cli("run", f"suite={suite}", "model=gan", "bootstrap=20", f"policy={policy}")
    assert result.exit_code == 0, result.stdout + result.stderr
    [record] = result.results["records"]
    assert record["check"] == "quality.fid" and record["status"] == "pass"


@pytest.mark.parametrize("word, fragment", [("out=", "'out' is empty"), ("policy=", "'policy' is empty")])
def test_an_empty_out_or_policy_is_refused(cli, tmp_path: Path, monkeypatch, word: str, fragment: str):
    """`out=` alone had written the run folder into the working folder."""
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(cli("run", "suite=quality", "model=gan", word), 2, fragment)
    assert list(tmp_path.iterdir()) == []
