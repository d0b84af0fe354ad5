"""Known answer for checkpoints with arguments: a models file listing three checkpoints of one
factory (noise 0, 0.6 and 0.6 with EMA halving it) runs as one audit with one report, and the
noisier checkpoints rank worse and fail the FID gate the clean one passes."""

from __future__ import annotations

import json
from pathlib import Path

from checkpoint_models import write_checkpoint

SUITE = """description = "FID of checkpoints"
n = 128

[checks]
"quality.fid" = {}

[[gate]]
check = "quality.fid"
max = 400
"""
MODELS = """[[model]]
factory = "checkpoint_models:noisy_gan"
name = "epoch10"
args = { ckpt = "runs/epoch10.json" }

[[model]]
factory = "checkpoint_models:noisy_gan"
name = "epoch1"
args = { ckpt = "runs/epoch1.json" }

[[model]]
factory = "checkpoint_models:noisy_gan"
name = "epoch1-ema"
args = { ckpt = "runs/epoch1.json", ema = true }
"""


def test_checkpoints_of_one_factory_are_one_audit_ranked_by_their_noise(cli, tmp_path: Path):
    project = tmp_path / "project"
    write_checkpoint(project / "runs" / "epoch10.json", 0.0)
    write_checkpoint(project / "runs" / "epoch1.json", 0.6)
    (project / "models.toml").write_text(MODELS)
    (project / "fid.toml").write_text(SUITE)

    result = cli("run", f"suite={project / 'fid.toml'}", f"models={project / 'models.toml'}", "bootstrap=50")

    assert result.exit_code == 1, result.stdout + result.stderr  # a gate failed
    run = result.results
    assert run["suite"] == "fid" and result.run_dir.name.startswith("fid-")
    fid = {r["model"]: r for r in run["records"] if r["check"] == "quality.fid"}
    assert set(fid) == {"epoch10", "epoch1", "epoch1-ema"}
    # noise 0 < 0.3 (EMA halves 0.6) < 0.6, with separated intervals
    assert fid["epoch10"]["ci_high"] < fid["epoch1-ema"]["ci_low"]
    assert fid["epoch1-ema"]["ci_high"] < fid["epoch1"]["ci_low"]
    assert fid["epoch10"]["status"] == "pass" and fid["epoch1"]["status"] == "fail"
    sources = run["fingerprint"]["models"]
    assert sources["epoch1-ema"] == {"target": "checkpoint_models:noisy_gan", "args": {"ckpt": str(project / "runs" / "epoch1.json"), "ema": True}}
    html = (result.run_dir / "report.html").read_text()
    assert all(name in html for name in fid)
    assert f"model epoch1-ema</th><td><code>checkpoint_models:noisy_gan</code> ckpt={project / 'runs' / 'epoch1.json'} ema=True" in html
    assert json.loads((result.run_dir / "results.json").read_text())["config"]["models"] == [str(project / "models.toml")]
