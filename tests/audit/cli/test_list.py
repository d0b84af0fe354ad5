"""`audit list` prints one line per item."""

from __future__ import annotations

from audit.checks import load_check_modules
from audit.registry import checks
from audit.suite import suite_names


def test_list_suites(cli):
    lines = cli("list", "suites").stdout.splitlines()
    assert [l.split()[0] for l in lines] == suite_names()
    assert {"smoke", "quality"} <= set(suite_names())


def test_list_checks_matches_the_registry(cli):
    load_check_modules()
    lines = cli("list", "checks").stdout.splitlines()
    assert [l.split()[0] for l in lines] == checks.names()


def test_list_models_shows_family_and_parameters(cli):
    lines = cli("list", "models").stdout.splitlines()
    gan = next(l for l in lines if l.split()[0] == "gan")
    assert " gan " in gan and "M params" in gan


def test_list_precisions(cli):
    names = [l.split()[0] for l in cli("list", "precisions").stdout.splitlines()]
    assert names[:2] == ["fp32", "bf16"]
