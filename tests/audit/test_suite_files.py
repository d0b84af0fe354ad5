"""Suites as files and from installed packages (audit.suite): `suite=./my_suite.toml` and the
`audit.suites` entry point group, read and checked like the bundled suites."""

from __future__ import annotations

from importlib import metadata

import pytest

from audit import suite as suite_module
from audit.errors import InputError
from audit.suite import load_suite, suite_names
from tests.helpers import assert_one_line_error

TEXT = """description = "my fid"
n = 64

[checks]
"quality.fid" = {}

[[gate]]
check = "quality.fid"
max = 500
"""


def test_a_suite_file_is_read_by_path_and_named_by_its_file(tmp_path):
    path = tmp_path / "my_suite.toml"
    path.write_text(TEXT)
    suite = load_suite(str(path))
    assert (suite.name, suite.description, suite.n) == ("my_suite", "my fid", 64)
    assert suite.checks == {"quality.fid": {}} and suite.gates == [{"check": "quality.fid", "max": 500}]


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("[checks", "is not valid TOML"),
        ("description = 'x'", "lists no [checks]"),
        ("[checks]\n'quality.fid' = 3", "check 'quality.fid' must map to a table"),
        ("n = 1\n[checks]\n'quality.fid' = {}", "n must be an integer in 2..16384"),
        ("n = 'many'\n[checks]\n'quality.fid' = {}", "n must be an integer"),
        ("gates = []\n[checks]\n'quality.fid' = {}", "unknown key 'gates'; valid: description, n, checks, gate"),
    ],
)
def test_a_bad_suite_file_is_one_line(tmp_path, text, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        load_suite(str(path))
    assert fragment in str(err.value) and "\n" not in str(err.value), str(err.value)


def test_a_missing_suite_file_and_an_unknown_name_are_one_line(tmp_path):
    with pytest.raises(InputError, match="Suite file '.*missing.toml' does not exist"):
        load_suite(str(tmp_path / "missing.toml"))
    with pytest.raises(InputError, match="Unknown suite 'qualty'. Did you mean: quality"):
        load_suite("qualty")


class FakeEntryPoint:
    """What importlib.metadata returns for an installed package's `audit.suites` entry point."""

    def __init__(self, name: str, obj: object) -> None:
        self.name, self.value, self.group, self._obj = name, f"fake_pkg.suites:{name}", "audit.suites", obj
        self.dist = type("Dist", (), {"name": "fake-pkg"})()

    def load(self) -> object:
        if isinstance(self._obj, BaseException):
            raise self._obj
        return self._obj


@pytest.fixture
def plugins(monkeypatch, tmp_path):
    """Installed suites: a Path, TOML text, a function returning a Path, a broken one, and one
    that tries to replace the bundled `smoke`."""
    path = tmp_path / "from_path.toml"
    path.write_text(TEXT)
    points = [
        FakeEntryPoint("by-path", path),
        FakeEntryPoint("by-text", TEXT.replace("my fid", "text fid")),
        FakeEntryPoint("by-function", lambda: path),
        FakeEntryPoint("broken", ImportError("no module named fake_pkg")),
        FakeEntryPoint("smoke", TEXT),
    ]
    real = metadata.entry_points

    def entry_points(**kwargs):
        return points if kwargs.get("group") == "audit.suites" else real(**kwargs)

    monkeypatch.setattr(suite_module.metadata, "entry_points", entry_points)
    return points


def test_entry_point_suites_are_listed_and_load_like_bundled_ones(plugins):
    names = suite_names()
    assert {"by-path", "by-text", "by-function", "broken"} <= set(names) and names.count("smoke") == 1
    assert load_suite("by-path").checks == {"quality.fid": {}}
    assert load_suite("by-text").description == "text fid"
    assert load_suite("by-function").n == 64
    assert load_suite("smoke").description != "my fid"  # a plugin never replaces a bundled suite
    with pytest.raises(InputError, match=r"Suite 'broken' \(entry point fake_pkg.suites:broken\) failed: ImportError"):
        load_suite("broken")


def test_audit_list_suites_shows_plugin_suites_and_their_package(cli, plugins):
    result = cli("list", "suites")
    assert result.exit_code == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert "text fid" in lines["by-text"] and "fake-pkg" in lines["by-text"]
    assert "ImportError" in lines["broken"]  # listed with its problem, the listing goes on


def test_audit_run_takes_a_suite_file_and_rejects_a_bad_one(cli, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[checks]\n'quality.nope' = {}\n")
    assert_one_line_error(cli("run", f"suite={path}", "model=gan"), 2, "quality.nope")
    assert_one_line_error(cli("run", f"suite={tmp_path / 'absent.toml'}", "model=gan"), 2, "does not exist")
