"""The CLI starts fast: --help and listing import no torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import sys
from audit.cli import app
sys.argv = ["audit", *{args!r}]
try:
    app()
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in ("torch", "transformers", "sklearn", "scipy", "pandas") if m in sys.modules)
print("HEAVY:" + ",".join(heavy))
"""


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["list", "suites"], ["list", "checks"], ["list", "precisions"], ["--version"]])
def test_does_not_import_torch(args: list[str]):
    out = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], capture_output=True, text=True, timeout=60)
    heavy = out.stdout.strip().splitlines()[-1]
    assert heavy.startswith("HEAVY:")
    assert "torch" not in heavy.removeprefix("HEAVY:").split(","), out.stdout


def test_version(cli):
    from audit import __version__

    result = cli("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"audit {__version__}"
