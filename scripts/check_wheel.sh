#!/usr/bin/env bash
# Prove a user can install audit: build the wheel, install it into a fresh virtual environment
# outside the repository, and from an empty temporary folder run
#   audit run suite=smoke                      (every bundled model, weights read from site-packages)
#   audit run suite=./my_suite.toml model=gan  (a suite file)
#   audit.run(...)                             (the Python API)
# Exit 0 when all of them pass. Used by tests/audit/cli/test_installed_wheel.py (slow).
#
#   scripts/check_wheel.sh              # builds with python3, installs torch==2.13.0 first
#   TORCH="torch==2.13.0" PYTHON=python3.12 KEEP=1 scripts/check_wheel.sh
#
# TORCH is installed before the wheel so that pip keeps that build (an unpinned torch pulls a
# multi-GB CUDA build); KEEP=1 leaves the temporary folder for inspection.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}
TORCH=${TORCH:-torch==2.13.0}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/audit-wheel.XXXXXX")
if [[ "${KEEP:-0}" != 1 ]]; then trap 'rm -rf "$WORK"' EXIT; fi
step() { printf '\n== %s\n' "$*"; }

step "build the wheel from $REPO"
"$PYTHON" -m pip wheel --quiet --no-deps --wheel-dir "$WORK/dist" "$REPO"
WHEEL=$(ls "$WORK"/dist/generative_model_audit-*.whl)
echo "$WHEEL ($(du -h "$WHEEL" | cut -f1))"
"$PYTHON" - "$WHEEL" <<'EOF'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
need = ["audit/suites/smoke.toml", "audit/py.typed", "audit/report/templates/report.html.j2",
        "audit_reference_models/weights/gan.safetensors", "audit_reference_models/data/tinystories.txt.gz"]
missing = [n for n in need if n not in names]
assert not missing, f"the wheel lacks {missing}"
assert not any(n.startswith(("tests/", "suites/", "reference_models/")) for n in names), "the wheel claims a generic top-level name"
print(f"{len(names)} files; package data present")
EOF

step "install it into a fresh venv ($TORCH first)"
"$PYTHON" -m venv "$WORK/venv"
PIP=("$WORK/venv/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install --quiet "$TORCH"
"${PIP[@]}" install --quiet "$WHEEL"
"${PIP[@]}" show torch | grep -E '^(Name|Version):'

mkdir "$WORK/user" && cd "$WORK/user"
unset PYTHONPATH
export HF_HUB_OFFLINE=1
AUDIT="$WORK/venv/bin/audit"

step "the installed package is the one in the venv, not the repository"
"$WORK/venv/bin/python" - "$REPO" <<'EOF'
import sys
from pathlib import Path
import audit, audit_reference_models
repo = Path(sys.argv[1]).resolve()
for module in (audit, audit_reference_models):
    where = Path(module.__file__).resolve()
    assert repo not in where.parents and "site-packages" in where.parts, f"{module.__name__} imported from {where}"
    print(module.__name__, "from", where.parent)
EOF
"$AUDIT" --version
"$AUDIT" list suites

step "audit run suite=smoke (every bundled model)"
"$AUDIT" run suite=smoke out=reports bootstrap=20

step "audit run suite=./my_suite.toml (a suite file)"
cat > my_suite.toml <<'EOF'
description = "FID of the bundled GAN, as a user's suite file"
n = 64

[checks]
"quality.fid" = {}

[[gate]]
check = "quality.fid"
max = 400
EOF
"$AUDIT" run suite=./my_suite.toml model=gan out=reports bootstrap=20
ls reports | grep -q '^my_suite-' || { echo "no my_suite run folder" >&2; exit 1; }

step "audit.run from Python"
"$WORK/venv/bin/python" - <<'EOF'
import audit
result = audit.run("my_suite.toml", ["gan"], n=64, bootstrap=20, out="reports")
assert result.exit_code == 0 and result.report.is_file(), result.results["summary"]
assert result.results["fingerprint"]["packages"]["audit"] == audit.__version__, result.results["fingerprint"]["packages"]
print("audit.run:", result.record("quality.fid", "gan")["value"], result.report)
EOF

step "OK: the wheel installs and runs outside the repository"
