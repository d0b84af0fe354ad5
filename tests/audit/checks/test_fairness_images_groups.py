"""Which groups the image fairness checks use: the user's attribute labels, else the evaluator's
classes against labelled reference data; without either, a skip that says what to give."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from rgb_world import real_images, write_pngs

CHECKS = "check=fairness.representation_tv,fairness.quality_parity_fid"


@pytest.fixture(scope="module")
def pngs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_pngs(tmp_path_factory.mktemp("groups") / "pngs", real_images(60))


def _records(result, exit_codes: tuple[int, ...] = (0, 1, 3, 5)) -> dict[str, dict]:
    assert result.exit_code in exit_codes, result.stdout + result.stderr
    return {r["check"]: r for r in result.results["records"]}


@pytest.mark.parametrize(
    "evaluator, fragment",
    [
        ("rgb_world:feature_evaluator", "evaluator 'rgb_world:feature_evaluator' has none: give attributes="),
        ("rgb_world:evaluator", "reference 'pngs@3x32x32' has none: give attributes="),
    ],
    ids=["evaluator-without-classes", "unlabelled-data"],
)
def test_no_groups_is_a_skip_with_what_to_give(cli, pngs: Path, evaluator: str, fragment: str):
    result = cli("run", "suite=fairness", "model=rgb_world:clean", CHECKS, f"data={pngs}", f"evaluator={evaluator}", "n=16", "bootstrap=0")
    records = _records(result)
    assert records["fairness.representation_tv"]["status"] == "skipped"
    assert fragment in records["fairness.representation_tv"]["reason"]
    assert records["fairness.quality_parity_fid"]["status"] == "skipped"
    assert "lacks capability conditional" in records["fairness.quality_parity_fid"]["reason"]


def test_attribute_groups_match_an_independent_count(cli, pngs: Path):
    """Representation by integer attribute labels: by_group keys are the labels and each group's
    count is what the classifier gives on a fresh draw of the same samples."""
    from rgb_world import clean

    result = cli("run", "suite=fairness", "model=rgb_world:clean", "check=fairness.representation_tv", f"data={pngs}",
                 "evaluator=rgb_world:feature_evaluator", "attributes=rgb_world:dominant_index", "n=16", "bootstrap=0")
    record = _records(result)["fairness.representation_tv"]
    assert record["status"] in ("pass", "inconclusive"), record
    images = clean().sample(512, 0)  # min_n = 512 unconditional samples, seed 0
    counts = np.bincount(images.mean(dim=(2, 3)).argmax(dim=1).numpy(), minlength=3)
    assert {g: v["n"] for g, v in record["by_group"]["by_group"].items()} == {str(i): int(c) for i, c in enumerate(counts)}
    train, _ = train_test_split(np.arange(60), test_size=0.2, random_state=0)  # the split of data=; image i has colour i % 3
    train_share = np.bincount(train % 3, minlength=3) / len(train)
    assert record["value"] == pytest.approx(0.5 * np.abs(counts / 512 - train_share).sum(), abs=1e-12)
    assert "feature_space" not in record["details"]  # the groups come from the classifier, not the evaluator


def test_rgb_model_with_the_digits_evaluator_says_what_to_give(cli):
    """An import-path model's shape is known only when it samples: its records are errors that name
    the evaluator= and data= to give (a file model's mismatch fails the plan: test_reference_data)."""
    records = _records(cli("run", "suite=quality", "model=rgb_world:clean", "check=quality.fid,quality.swd_pixel", "n=16", "bootstrap=0"), (4,))
    for record in records.values():
        assert record["status"] == "error"
        assert "generates 3x32x32 images, but the bundled digits evaluator reads 1x16x16: give evaluator=" in record["reason"]
        assert "and data=" in record["reason"]
