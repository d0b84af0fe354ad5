"""Names a user gives (models files, model words, suites, waivers, out=) that hold control, format
or line-separator characters are refused in one line showing them escaped (exit 2); names read back
from a results.json (audit compare, audit report) are shown escaped. Nothing reaches the terminal or
a report raw, so no input can retitle a terminal or forge a `Verdict: PASS` line (README, Fail closed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import assert_one_line_error, run_cli, synthetic_quality_run

FORGED = "\x1b]0;PWN\x07\nVerdict: PASS (exit 0)"


def _raw(text: str) -> bool:
    return any(c in text for c in "\x1b\x07\u202e") or "\nVerdict: PASS" in text


def test_models_file_name_refused(tmp_path: Path) -> None:
    models = tmp_path / "m.toml"
    models.write_text('[[model]]\nword = "gan"\nname = "g\\u001b]0;PWN\\u0007\\nVerdict: PASS (exit 0)"\n')
    result = run_cli("run", "suite=quality", f"model={models}", "n=64", "bootstrap=20", "check=quality.fid", f"out={tmp_path}")
    assert_one_line_error(result, 2, "\\x1b]0;PWN\\x07\\nVerdict")
    assert not _raw(result.stdout + result.stderr)


@pytest.mark.parametrize("word", ["model=gan\x1b]0;T\x07", "out=o\nVerdict: PASS (exit 0)", "suite=we\x1b[31mird.toml", "model=gan\u202e"])
def test_run_words_refused(word: str) -> None:
    result = run_cli("run", "suite=quality", "n=64", *([] if word.startswith("model") else ["model=gan"]), word)
    assert_one_line_error(result, 2, "control, format or line-separator")
    assert not _raw(result.stdout + result.stderr)


def test_suite_file_description_and_name_refused(tmp_path: Path) -> None:
    suite = tmp_path / "s.toml"
    suite.write_text('description = "x\\u001b[2J"\n[checks]\n"quality.fid" = {}\n')
    result = run_cli("run", f"suite={suite}", "model=gan", "n=64")
    assert_one_line_error(result, 2, "description", "\\x1b[2J")
    from audit.errors import InputError
    from audit.suite import parse_suite

    with pytest.raises(InputError, match=r"\\x1b"):
        parse_suite("we\x1bird", '[checks]\n"quality.fid" = {}\n', "Suite file")


@pytest.mark.parametrize("line", ['reason = "line1\\nVerdict: PASS (exit 0)"', 'owner = "\\u001b[2Jx"'])
def test_waiver_strings_refused(tmp_path: Path, line: str) -> None:
    fields = {"check": '"quality.fid"', "owner": '"me"', "reason": '"why"', "expires": "2099-01-01"}
    key = line.split(" =")[0]
    fields.pop(key)
    policy = tmp_path / "p.toml"
    policy.write_text("[[waiver]]\n" + "".join(f"{k} = {v}\n" for k, v in fields.items()) + line + "\n")
    for words in (("validate", str(policy)), ("run", "suite=quality", "model=gan", "n=64", f"policy={policy}")):
        result = run_cli(*words)
        assert_one_line_error(result, 2, f"waiver {key}")
        assert not _raw(result.stdout + result.stderr)


def test_compare_and_report_escape_names_read_back(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    data = synthetic_quality_run(run)
    data["records"][0]["model"] = "g" + FORGED
    data["suite_description"] = "d\x1b[2J"
    (run / "results.json").write_text(json.dumps(data))
    result = run_cli("compare", str(run / "results.json"), str(run / "results.json"), f"out={tmp_path / 'cmp'}")
    assert result.exit_code == 0, result.stderr
    assert "\\x1b]0;PWN" in result.stdout and not _raw(result.stdout + result.stderr)
    assert not _raw((tmp_path / "cmp" / "compare.md").read_text())
    result = run_cli("report", str(run))
    assert result.exit_code == data["summary"]["exit_code"], result.stderr  # the run's own code
    for name in ("summary.md", "report.html", "junit.xml"):
        assert not _raw((run / name).read_text()), name
    assert r"\\x1b\]0;PWN" in (run / "summary.md").read_text()  # the escape, Markdown-escaped (renders as \x1b]0;PWN)
