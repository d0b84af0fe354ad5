"""Models that raise, return NaN or break the contract: one line, exit 4, other results kept."""

from __future__ import annotations


import pytest

from audit.results import read_stream
from tests.helpers import assert_one_line_error, suite_checks_for

FAST = ("n=100", "bootstrap=20")


@pytest.mark.parametrize(
    "word, fragment",
    [
        ("fixture_models:raising", "RuntimeError: simulated generator crash"),
        ("fixture_models:nan_model", "non-finite values"),
        ("fixture_models:wrong_shape", "returned shape (100, 16, 16)"),
    ],
)
def test_broken_model_is_an_error_and_other_results_are_written(cli, word: str, fragment: str):
    result = cli("run", "suite=quality", f"model=gan,{word}", *FAST)
    assert_one_line_error(result, 4, word, fragment)
    records = result.results["records"]
    gan = [r for r in records if r["model"] == "gan"]
    broken = [r for r in records if r["model"] == word]
    assert {r["check"] for r in gan} == suite_checks_for("quality", "gan") and len(gan) > 3
    assert all(r["status"] not in ("error", "skipped") and r["value"] is not None for r in gan)
    assert broken and all(r["status"] == "error" and fragment in r["reason"] for r in broken)
    _, streamed = read_stream(result.run_dir / "results.jsonl")  # the header line is not a record
    assert len(streamed) == len(records)
    assert (result.run_dir / "report.html").is_file() and (result.run_dir / "junit.xml").is_file()


def test_factory_that_raises_is_an_error_record(cli):
    result = cli("run", "suite=quality", "model=fixture_models:broken_factory", *FAST)
    assert_one_line_error(result, 4, "factory failed to build the model")


def test_factory_that_returns_no_adapter(cli):
    result = cli("run", "suite=quality", "model=fixture_models:not_an_adapter", *FAST)
    assert_one_line_error(result, 4, "did not return a ModelAdapter")


def test_interrupt_keeps_what_was_measured(cli):
    result = cli("run", "suite=quality", "model=gan,fixture_models:interrupting", *FAST)
    assert result.exit_code == 4
    data = result.results
    assert data["interrupted"] is True
    assert [r["model"] for r in data["records"]] == ["gan"] * len(suite_checks_for("quality", "gan"))
    assert "interrupted" in result.stderr


def test_a_keyboard_interrupt_the_model_raises_itself_is_its_error_not_a_cancel(cli):
    result = cli("run", "suite=quality", "model=fixture_models:raises_keyboard_interrupt,gan", *FAST)
    assert result.exit_code == 4
    data = result.results
    assert data["interrupted"] is False  # no signal reached audit: the run went on to the next model
    mine = [r for r in data["records"] if r["model"] == "fixture_models:raises_keyboard_interrupt"]
    errors = [r for r in mine if r["status"] == "error"]
    assert errors and {r["status"] for r in mine} <= {"error", "skipped"}  # skipped: checks a plain generator cannot take
    assert all("KeyboardInterrupt while no interrupt signal" in r["reason"] for r in errors)
    assert [r["model"] for r in data["records"] if r["model"] == "gan"] == ["gan"] * len(suite_checks_for("quality", "gan"))
    assert all(r["status"] not in ("error", "skipped") for r in data["records"] if r["model"] == "gan")  # measured after it
