"""The user's association tests file: parsed into tests scored like the built-ins, and every kind
of bad input refused with one line and exit code 2 before anything is measured."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.errors import EXIT_BAD_INPUT, InputError
from audit.fairness.association import ASSOCIATION_TESTS, TEMPLATES, association_margins
from audit.fairness.association_file import check_association_params, parse_tests, read_tests
from tests.fixtures.byo.adapters import GoodLM

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "association" / "planet_axes.toml"

GOOD = """
[[test]]
name = "Zorbian / Quellish"
category = "caste"
axis = "occupations"
groups = ["Zorbian", "Quellish"]
targets = [["the Zorbian man", "the Quellish man"], ["the Zorbian woman", "the Quellish woman"]]
x = ["farmer", "sweeper"]
y = ["priest", "teacher"]
source = "Doe, J. (2024). A made-up list. Nowhere."
"""


def _with(line: str, replacing: str | None = None) -> str:
    """GOOD with the line starting `replacing` swapped for `line` (or `line` added)."""
    lines = GOOD.strip().splitlines()
    if replacing is None:
        return "\n".join(lines + [line])
    return "\n".join(line if l.startswith(replacing) else l for l in lines)


def _refused(text: str, fragment: str) -> str:
    """The one-line exit-2 message refusing `text`, which holds `fragment` (test_association_file_words uses it too)."""
    with pytest.raises(InputError) as info:
        parse_tests(text, "Association tests file 'my_axes.toml'")
    message = str(info.value)
    assert info.value.exit_code == EXIT_BAD_INPUT
    assert "\n" not in message and fragment in message, message
    return message


def test_the_fixture_parses_into_one_test_of_a_new_category():
    (test,) = read_tests(str(FIXTURE))
    assert test.category == "planet_of_origin" and test.category not in {t.category for t in ASSOCIATION_TESTS}
    assert test.groups == ("Martian", "Venusian") and len(test.targets) == 3
    assert test.x == ("cold", "dust", "rust") and test.y == ("heat", "cloud", "acid")
    assert test.cited == "Project test fixture, made up (no publication)"


def test_user_tests_are_scored_like_the_built_ins():
    tests = read_tests(str(FIXTURE)) + parse_tests(GOOD, "good")
    margins = association_margins(GoodLM(), tests)
    assert [m.shape for m in margins] == [(len(TEMPLATES), 3, 6), (len(TEMPLATES), 2, 4)]


def test_a_relative_path_is_read_against_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "my_axes.toml").write_text(GOOD)
    monkeypatch.chdir(tmp_path)
    assert read_tests("my_axes.toml")[0].name == "Zorbian / Quellish"


@pytest.mark.parametrize("text, fragment", [
    ("[[test]\nname = 'x'", "is not valid TOML"),
    ("tests = 1", "unknown top-level key 'tests'"),
    ("", "declares no tests"),
    ("test = 1", "declares no tests"),
    (_with("", "source"), "missing field 'source'"),
    (_with("", "x ="), "missing field 'x'"),
    (_with("colour = 'red'"), "unknown field 'colour'"),
    (_with("name = ''", "name"), "name must be a non-empty one-line string"),
    (_with("category = '  '", "category"), "category must be a non-empty one-line string"),
    (_with("axis = 3", "axis"), "axis must be a non-empty one-line string"),
    (_with("source = ''", "source"), "source must be a non-empty one-line string"),
    (_with("groups = ['A']", "groups"), "groups must be a list of at least 2"),
    (_with("groups = ['A', 'B', 'C']", "groups"), "groups must be the two labels"),
    (_with("targets = [['the Zorbian man', 'the Quellish man']]", "targets"), "targets must be a list of at least 2"),
    (_with("targets = [['a', 'b'], ['c']]", "targets"), "each target must be a pair"),
    (_with("targets = [['a', 'b'], ['c', '']]", "targets"), "targets must be a non-empty one-line string"),
    (_with("targets = [['a', 'b'], ['c', 'c']]", "targets"), "names the same phrase for A and B"),
    (_with("targets = [['a', 'b'], ['a', 'b']]", "targets"), "is given twice"),
    (_with("x = ['farmer']", "x ="), "x must be a list of at least 2"),
    (_with("y = ['priest']", "y ="), "y must be a list of at least 2"),
    (_with("x = ['farmer', '']", "x ="), "x must be a non-empty one-line string"),
    (_with("x = ['farmer', 'farmer']", "x ="), "x lists 'farmer' twice"),
    (_with("y = ['priest', 'farmer']", "y ="), "attribute word 'farmer' is in both x and y"),
    (_with(f"name = {ASSOCIATION_TESTS[0].name!r}", "name"), "is a built-in test's"),
    (GOOD + GOOD, "test name 'Zorbian / Quellish' is given twice"),
])
def test_bad_tests_are_one_line_and_exit_2(text, fragment):
    _refused(text, fragment)


def test_a_bad_test_is_named_by_its_position_and_name():
    _refused(GOOD + _with("x = ['farmer']", "x =").replace("Zorbian / Quellish", "second"), "test 2 ('second')")


@pytest.mark.parametrize("params, fragment", [
    ({"tests": "missing.toml"}, "does not exist"),
    ({"tests": ""}, "tests must name a TOML file"),
    ({"tests": 3}, "tests must name a TOML file"),
    ({"test": "my_axes.toml"}, "has no parameter 'test'; valid: tests"),
])
def test_the_plan_time_check_refuses_bad_parameters(tmp_path, monkeypatch, params, fragment):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=fragment) as info:
        check_association_params({"fairness.association": params})
    assert info.value.exit_code == EXIT_BAD_INPUT and "\n" not in str(info.value)


def test_the_plan_time_check_refuses_a_folder_and_an_unreadable_file(tmp_path):
    with pytest.raises(InputError, match="is not a file"):
        check_association_params({"fairness.association": {"tests": str(tmp_path)}})
    (tmp_path / "latin1.toml").write_bytes(b"name = '\xe9'")
    with pytest.raises(InputError, match="cannot be read"):
        check_association_params({"fairness.association": {"tests": str(tmp_path / "latin1.toml")}})


def test_the_plan_time_check_reads_a_good_file_and_ignores_other_checks(tmp_path):
    (tmp_path / "my_axes.toml").write_text(GOOD)
    check_association_params({"fairness.association": {"tests": str(tmp_path / "my_axes.toml")}})
    check_association_params({"fairness.association": {}, "quality.clip_score": {"clip_model": "x"}})
    check_association_params({})
