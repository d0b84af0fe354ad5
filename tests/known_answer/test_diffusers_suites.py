"""A random-weight diffusers pipeline (`diffusers:<dir>`, 3x32x32 DDPM run with 2 DDIM steps),
audited end to end by the fairness (grouped by the user's attribute classifier), privacy and
robustness suites against a folder of RGB PNGs, in the user's evaluator space (the quality suite
is tests/audit/adapters/test_diffusers_pipeline.py::test_quality_suite_end_to_end). Every record is
measured or skipped with its reason (or, in ERRORS, an error with its reason); the capabilities the pipeline declares (`denoising_loss`,
`latent`) are what the membership attack and latent stability read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from byo.diffusers_builders import build_unet_pipeline
from rgb_world import real_images, write_pngs

pytest.importorskip("diffusers")

EVALUATOR = "rgb_world:evaluator"
MEASURED = {
    "fairness": {"fairness.representation_tv", "fairness.representation_ratio", "fairness.representation_chi2"},
    "privacy": {"privacy.dcr_ratio", "privacy.near_copy_rate", "privacy.exact_copy_rate", "privacy.mia_auc",
                "privacy.mia_tpr_at_1pct_fpr"},
    "robustness": {"robustness.latent_stability"},
}
"""What each suite must measure on an unconditional pipeline: representation by attribute group,
the pixel-space and denoising-loss privacy attacks, and latent stability through the initial noise."""
ERRORS = {"robustness": {"robustness.evaluator_accuracy": "fall into 1 of 3 evaluator classes"}}
"""Errors with their reason: the random-weight pipeline's samples are all one colour class to the
evaluator, which leaves no clean baseline for robustness under corruption (CLASS_ENTROPY_FLOOR in
audit/checks/robustness.py); the run exits 4."""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("diffusers-suites")
    return build_unet_pipeline(root / "pipe"), write_pngs(root / "pngs", real_images(300))


@pytest.mark.parametrize("suite", sorted(MEASURED))
def test_pipeline_is_audited_by_each_suite(cli, world: tuple[Path, Path], suite: str):
    pipe, pngs = world
    model = f"diffusers:{pipe}?scheduler=ddim&steps=2"
    result = cli(
        "run", f"suite={suite}", f"model={model}", "n=64", "bootstrap=20", f"data={pngs}", f"evaluator={EVALUATOR}",
        "attributes=rgb_world:dominant_colour", "cache=off",
    )
    errors = ERRORS.get(suite, {})
    assert result.exit_code in ((4,) if errors else (0, 1, 3)), result.stdout + result.stderr
    records = {r["check"]: r for r in result.results["records"]}
    assert all(r["model"] == model for r in records.values())
    for check, reason in errors.items():
        assert records[check]["status"] == "error" and reason in records[check]["reason"], records[check].get("reason")
    for check, r in records.items():
        assert r["status"] != "error" or check in errors, (check, r.get("reason"))
        if r["status"] == "skipped":
            assert r["reason"], check
    for check in MEASURED[suite]:
        assert records[check]["status"] not in ("error", "skipped"), (check, records[check].get("reason"))
        assert np.isfinite(records[check]["value"]), check
    if suite == "fairness":
        groups = set(records["fairness.representation_tv"]["by_group"]["by_group"])
        assert groups == {"red", "green", "blue"}  # the classifier's labels, not the evaluator's classes
    if suite == "robustness":
        assert records["robustness.latent_stability"]["details"]["feature_space"] == EVALUATOR
    info = result.results["models"][0]["info"]
    assert info["family"] == "diffusion" and info["image_shape"] == [3, 32, 32]
