"""The Python API (audit.api): `audit.run(suite=..., models=[words and adapter objects], **keys)`
runs what `audit run` runs, in this process, and returns the run folder and results.json."""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

import audit
from audit.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
FAST = {"check": "quality.fid", "n": 64, "bootstrap": 20}


def test_the_readme_example_audits_an_object_beside_a_bundled_model_as_the_cli_does(cli, tmp_path):
    example = runpy.run_path(str(ROOT / "examples" / "python_api.py"), run_name="python_api")
    result = example["main"](str(tmp_path / "api"))
    assert isinstance(result, audit.AuditRun) and result.report.is_file()
    assert result.results == json.loads((result.run_dir / "results.json").read_text())
    assert result.exit_code == result.results["summary"]["exit_code"] == 0
    assert result.results["fingerprint"]["models"]["tiny"] == {"object": "python_api.TinyGenerator"}
    gan, tiny = result.record("quality.fid", "gan"), result.record("quality.fid", "tiny")
    assert tiny["ci_low"] > gan["ci_high"]  # random weights are far from the digits
    words = ["run", "suite=smoke", "model=gan", *(f"{k}={v}" for k, v in FAST.items())]
    from_cli = cli(*words).results["records"][0]
    assert from_cli["value"] == gan["value"] and (from_cli["ci_low"], from_cli["ci_high"]) == (gan["ci_low"], gan["ci_high"])


def test_an_object_is_audited_in_every_precision_and_left_as_it_was(tmp_path):
    import torch
    from fixture_models import noise

    model = noise()
    result = audit.run("smoke", {"mine": model}, precision=["fp32", "bf16"], out=tmp_path, **FAST)
    assert {(r["model"], r["precision"]) for r in result.records} == {("mine", "fp32"), ("mine", "bf16")}
    assert model.net.weight.dtype == torch.float32  # the bf16 variant was cast on a copy
    with pytest.raises(KeyError, match="no record of quality.kid on mine/fp32; records: quality.fid mine/bf16"):
        result.record("quality.kid", "mine")


@pytest.mark.parametrize(
    "keys,fragment",
    [
        ({"models": ["gan"], "nn": 3}, "Unknown key 'nn'. Did you mean: n?"),
        ({"models": ["gan"], "n": 1}, "'n' must be an integer in 2..16384"),
        ({"models": ["gan"], "model": "vae"}, "Give models with models=[...]"),
        ({"models": []}, "models is empty"),
        ({"models": [object()]}, "has no info.name"),
        ({"models": {"x": "gan"}}, "a mapping names adapter objects"),
        ({"models": {"x": object()}}, "Model 'x' did not return a ModelAdapter"),
        ({"models": ["gan"], "n": {"a": 1}}, "'n' must be a string, number, path or list"),
    ],
)
def test_bad_arguments_raise_the_cli_s_one_line_input_error(tmp_path, keys, fragment):
    with pytest.raises(InputError) as err:
        audit.run("smoke", out=tmp_path, **keys)
    assert fragment in str(err.value) and "\n" not in str(err.value), str(err.value)


def test_two_objects_with_one_name_are_refused(tmp_path):
    from fixture_models import noise

    with pytest.raises(InputError, match="Two models are named 'uniform-noise'"):
        audit.run("smoke", [noise(), noise()], out=tmp_path)


def test_import_audit_and_the_api_stay_light():
    code = "import sys, audit; audit.run; import audit.api; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
