"""executor=ray starts its cluster without Ray's token-auth notice ("Token authentication is
enabled for this Ray cluster. Set RAY_AUTH_MODE=disabled to opt out."): audit sets
RAY_AUTH_MODE=token itself where Ray would enable token auth anyway (declare_token_auth), and
leaves every other case, and the user's own setting, to Ray."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from audit.ray_executor import AUTH_MODE_ENV, declare_token_auth  # noqa: E402

NOTICE = "Token authentication is"
RAY_ENV = ("RAY_AUTH_MODE", "RAY_ADDRESS", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH")


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No Ray setting in the environment, a HOME of its own, and Ray not imported yet (as for
    `audit run`); returns HOME."""
    for name in RAY_ENV:  # set, then removed: teardown restores each as it was, a RAY_AUTH_MODE a test set included
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delitem(sys.modules, "ray._raylet")
    return tmp_path


def _write_token(home: Path) -> None:
    (home / ".ray").mkdir()
    (home / ".ray" / "auth_token").write_text("0123456789abcdef" * 4)


def test_a_new_local_cluster_is_declared_token_auth(clean: Path):
    declare_token_auth("local")
    assert os.environ[AUTH_MODE_ENV] == "token"


def test_auto_is_declared_token_auth_only_with_a_token_ray_would_use(clean: Path, monkeypatch: pytest.MonkeyPatch):
    declare_token_auth("auto")
    assert AUTH_MODE_ENV not in os.environ  # Ray decides: token for a cluster it starts, disabled to join one
    _write_token(clean)
    declare_token_auth("auto")
    assert os.environ[AUTH_MODE_ENV] == "token"
    monkeypatch.delenv(AUTH_MODE_ENV)
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(clean / "missing"))
    declare_token_auth("auto")
    assert AUTH_MODE_ENV not in os.environ


def test_an_explicit_address_a_users_setting_and_an_imported_ray_are_left_alone(clean: Path, monkeypatch: pytest.MonkeyPatch):
    _write_token(clean)
    declare_token_auth("10.0.0.1:6379")
    monkeypatch.setenv("RAY_ADDRESS", "ray://10.0.0.1:10001")
    declare_token_auth("auto")
    assert AUTH_MODE_ENV not in os.environ
    monkeypatch.delenv("RAY_ADDRESS")
    monkeypatch.setenv(AUTH_MODE_ENV, "disabled")
    declare_token_auth("local")
    assert os.environ[AUTH_MODE_ENV] == "disabled"
    monkeypatch.delenv(AUTH_MODE_ENV)
    monkeypatch.setitem(sys.modules, "ray._raylet", ray._raylet)  # its config is read: too late to change
    declare_token_auth("local")
    assert AUTH_MODE_ENV not in os.environ


def _start_in_a_fresh_process(home: Path, address: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in RAY_ENV}
    env["HOME"] = str(home)
    code = ("from audit.ray_executor import RayExecutor\n"  # Ray imported by start(), as in `audit run`
            f"executor = RayExecutor({address!r})\nexecutor.start()\n"
            "import ray\nprint('cpus', ray.cluster_resources().get('CPU'))\nexecutor.close()\n"
            "print('connected after close:', ray.is_initialized())\nray.shutdown()\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)


def test_starting_a_local_cluster_prints_no_token_auth_notice(tmp_path: Path):
    done = _start_in_a_fresh_process(tmp_path, "local")
    assert done.returncode == 0 and "cpus" in done.stdout, done.stderr
    assert NOTICE not in done.stderr, done.stderr
    assert (tmp_path / ".ray" / "auth_token").is_file()  # token auth is on: Ray made the token
    assert "connected after close: False" in done.stdout  # a cluster the run started ends with it


def test_auto_with_no_cluster_running_prints_no_token_auth_notice(tmp_path: Path):
    from ray._private.services import find_gcs_addresses

    if find_gcs_addresses():
        pytest.skip("a Ray cluster is running on this machine: `auto` would join it")
    _write_token(tmp_path)
    done = _start_in_a_fresh_process(tmp_path, "auto")
    assert done.returncode == 0 and "cpus" in done.stdout, done.stderr
    assert NOTICE not in done.stderr, done.stderr
