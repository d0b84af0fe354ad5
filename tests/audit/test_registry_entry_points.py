"""An installed plugin package adds named models through the `audit.models` entry point group.

`install_plugin` writes what `pip install` leaves in site-packages: the package and its
`*.dist-info` (METADATA, entry_points.txt). With that folder on sys.path, importlib.metadata
finds the entry point exactly as it finds an installed distribution's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from byo.builders import install_plugin
from tests.helpers import assert_one_line_error


@pytest.fixture
def plugin_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from audit.registry import models

    site = install_plugin(tmp_path / "site-packages", {"demo-gan": "audit_demo_plugin:demo_gan", "demo-broken": "audit_demo_plugin:missing"})
    monkeypatch.syspath_prepend(str(site))
    models.refresh_plugins()
    yield site
    monkeypatch.undo()
    sys.modules.pop("audit_demo_plugin", None)
    models.refresh_plugins()


@pytest.fixture
def check_plugin_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import audit.checks
    import audit.registry as registry

    site = install_plugin(tmp_path / "site-packages", checks={"demo.mean_pixel": "audit_demo_plugin.checks"})
    monkeypatch.syspath_prepend(str(site))
    registry.checks.refresh_plugins()
    monkeypatch.setattr(audit.checks, "_checks_imported", False)
    yield site
    monkeypatch.undo()
    for name in ("audit_demo_plugin.checks", "audit_demo_plugin"):
        sys.modules.pop(name, None)
    registry.checks.refresh_plugins()
    registry.checks._entries.pop("demo.mean_pixel", None)


def test_plugin_model_is_listed(cli, plugin_site: Path):
    result = cli("list", "models")
    assert result.exit_code == 0, result.stderr
    line = next(l for l in result.stdout.splitlines() if l.startswith("demo-gan"))
    assert "plugin" in line and "audit-demo-plugin" in line


def test_plugin_model_is_audited(cli, plugin_site: Path):
    result = cli("run", "suite=quality", "model=demo-gan", "check=quality.fid,quality.conditional_accuracy", "n=64", "bootstrap=50")
    assert result.exit_code in (0, 1, 3), result.stdout + result.stderr
    records = result.results["records"]
    assert [r["check"] for r in records] == ["quality.fid", "quality.conditional_accuracy"]
    assert all(r["status"] in ("pass", "fail", "inconclusive", "measured") for r in records), records
    assert result.results["models"][0]["info"]["name"] == "demo-gan"


def test_plugin_passes_the_conformance_kit(cli, plugin_site: Path):
    result = cli("check-model", "model=demo-gan", "n=4")
    assert result.exit_code == 0, result.stdout + result.stderr


def test_plugin_is_not_audited_by_default(plugin_site: Path):
    from audit.checks import check_spec, load_check_modules
    from audit.plan import default_models

    load_check_modules()
    assert "demo-gan" not in default_models([check_spec("quality.fid")])


def test_broken_plugin_entry_is_bad_input(cli, plugin_site: Path):
    assert_one_line_error(cli("run", "suite=quality", "model=demo-broken"), 2, "has no attribute 'missing'")


def test_plugin_is_found_by_a_fresh_process(tmp_path: Path):
    """No refresh, no test machinery: a new `audit` process sees the installed plugin."""
    site = install_plugin(tmp_path / "site-packages")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-m", "audit", "list", "models"], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert any(l.startswith("demo-gan") and "plugin" in l for l in out.stdout.splitlines()), out.stdout


def test_plugin_check_is_listed_and_runs(cli, check_plugin_site: Path, tmp_path: Path):
    """The `audit.checks` group: a plugin module's `@check` registers a check run like a bundled one
    (in a suite that lists it: `check=` picks among the suite's checks)."""
    listed = cli("list", "checks")
    assert listed.exit_code == 0, listed.stderr
    assert any(l.startswith("demo.mean_pixel") and "gan,vae,diffusion" in l for l in listed.stdout.splitlines())
    suite = tmp_path / "demo_suite.toml"
    suite.write_text('n = 64\n[checks]\n"quality.fid" = {}\n"demo.mean_pixel" = {}\n')
    result = cli("run", f"suite={suite}", "model=gan", "check=demo.mean_pixel", "n=64", "bootstrap=50")
    assert result.exit_code == 0, result.stdout + result.stderr
    record = result.results["records"][0]
    assert record["check"] == "demo.mean_pixel" and record["status"] == "measured" and 0 < record["value"] < 1
