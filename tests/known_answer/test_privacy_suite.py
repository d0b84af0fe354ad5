"""`audit run suite=privacy` on the bundled VAEs: vae-memorized is flagged, the clean VAE passes
every gate, and the report carries the ROC chart data and the closest-pairs gallery.

Measured (n=1000, seed 0; see suites/privacy.toml): vae-memorized DCR ratio 0.037, near-copy
rate 1.0, exact-copy rate 0.99, MIA AUC 1.0 over its 48 training digits; the clean vae DCR ratio
0.968, near-copy rate 0.006, exact-copy rate 0, MIA AUC 0.553 [0.512, 0.596], TPR at 1% FPR 0.017 (its ELBO is 3.98 bits/dim on training
digits vs 4.07 held-out). Before it was trained with shift augmentation (audit_reference_models/vae/
MODEL_CARD.md) the gap was 3.65 vs 4.09 and the AUC 0.75 [0.71, 0.78]: a genuine leak that the
MIA gate failed, so the clean-VAE test below fails if the VAE leaks again.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

N = "n=200"


def _records(tmp_path: Path) -> dict[str, dict]:
    (results,) = sorted((tmp_path / "reports").glob("privacy-*/results.json"))[-1:]
    return {r["check"]: {**r, "run_dir": results.parent} for r in json.loads(results.read_text())["records"]}


def test_vae_memorized_is_flagged(cli, tmp_path):
    result = cli("run", "suite=privacy", "model=vae-memorized", N)
    assert result.exit_code == 1, result.stdout
    r = _records(tmp_path)
    for check in ("privacy.near_copy_rate", "privacy.exact_copy_rate", "privacy.dcr_ratio", "privacy.mia_auc",
                  "privacy.mia_tpr_at_1pct_fpr"):
        assert r[check]["status"] == "fail", (check, r[check]["value"])
    assert r["privacy.dcr_ratio"]["ci_high"] < 0.1
    assert r["privacy.mia_auc"]["value"] > 0.95
    assert r["privacy.mia_auc"]["n"] == 96  # its 48 training digits (manifest) against 48 held-out
    assert "memorized_indices" in r["privacy.mia_auc"]["details"]["member_source"]
    # the report's ROC chart data and the gallery artifact
    (chart,) = r["privacy.mia_auc"]["details"]["charts"]
    assert chart["x_label"] == "false positive rate" and set(chart["series"]) == {"attack", "chance"}
    gallery = r["privacy.dcr_ratio"]["artifacts"]["closest_pairs"]
    assert gallery == "artifacts/vae-memorized-fp32-closest-pairs.png"
    run_dir = r["privacy.dcr_ratio"]["run_dir"]
    assert (run_dir / gallery).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    b64 = base64.b64encode((run_dir / gallery).read_bytes()).decode("ascii")
    assert b64 in (run_dir / "report.html").read_text()  # embedded: the report is one file


def test_clean_vae_passes_every_privacy_gate(cli, tmp_path):
    # n=400: no verbatim copy in 200 samples bounds the exact-copy rate only by 0.019 (Wilson), above its 0.01 gate
    result = cli("run", "suite=privacy", "model=vae", "n=400")
    assert result.exit_code == 0, result.stdout
    r = _records(tmp_path)
    leak = r.pop("privacy.attribute_leakage")
    gated = ("privacy.near_copy_rate", "privacy.exact_copy_rate", "privacy.dcr_ratio", "privacy.mia_auc",
             "privacy.mia_tpr_at_1pct_fpr")
    assert {c: r[c]["status"] for c in gated} == dict.fromkeys(gated, "pass")
    assert r["privacy.dcr_ratio"]["ci_low"] > 0.9
    # membership inference over the whole train split (manifest) against the held-out split, 360 each
    mia = r["privacy.mia_auc"]
    assert mia["n"] == 720 and "whole digits train split" in mia["details"]["member_source"]
    assert mia["ci_high"] <= 0.6 and mia["value"] < 0.57
    # the latent probe recovers the digit far above chance (informational: no gate)
    assert leak["status"] == "measured" and leak["ci_low"] > 0.6 and abs(leak["details"]["chance"] - 0.1) < 0.02


def test_tabular_attribute_leakage_is_measured_against_real_rows(cli, tmp_path):
    result = cli("run", "suite=privacy", "model=tabular-vae")
    assert result.exit_code == 0, result.stdout
    leak = _records(tmp_path)["privacy.attribute_leakage"]
    d = leak["details"]
    assert d["attribute"] == "sex" and 0 < d["chance"] < d["synthetic_trained_accuracy"] <= d["real_trained_accuracy"] + 0.02
    assert 0.5 < d["relative_to_real"] <= 1.1 and leak["value"] == d["synthetic_trained_accuracy"] - d["chance"]
    # it releases no training row: every memorisation gate passes (measured 0.998, 0.007, 0 and 0.063, suites/privacy.toml)
    records = _records(tmp_path)
    memorisation = ("privacy.tabular_dcr_ratio", "privacy.tabular_copy_rate", "privacy.tabular_exact_copy_rate", "privacy.tabular_quasi_copy_rate")
    assert {c: records[c]["status"] for c in memorisation} == dict.fromkeys(memorisation, "pass")
    assert records["privacy.tabular_copy_rate"]["details"]["exact_copies"] == 0 == records["privacy.tabular_exact_copy_rate"]["details"]["exact_copies"]
    assert records["privacy.tabular_quasi_copy_rate"]["details"]["heldout_quasi_matches"] == 2486
