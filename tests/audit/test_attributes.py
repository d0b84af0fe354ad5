"""`attributes=`: the user's attribute classifier, loaded, probed and fail-closed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from rgb_world import dominant_colour, real_images, write_pngs
from tests.helpers import assert_one_line_error


@pytest.fixture(scope="module")
def pngs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_pngs(tmp_path_factory.mktemp("attr") / "pngs", real_images(60))


def test_labels_are_strings_of_ints_or_strings():
    from audit.attributes import AttributeClassifier, as_labels

    assert as_labels("c", torch.tensor([2, 0, 1]), 3).tolist() == ["2", "0", "1"]
    assert as_labels("c", ["a", "b"], 2).tolist() == ["a", "b"]
    images = torch.from_numpy(real_images(6).astype(np.float32) / 255)
    labels = AttributeClassifier("colour", dominant_colour(), "0" * 64).labels(images)
    assert labels.tolist() == ["red", "green", "blue"] * 2  # real_images draws the groups in turn


@pytest.mark.parametrize(
    "raw, fragment",
    [
        (np.zeros(3, np.float32), "dtype float32"),
        (np.zeros((4, 2)), "returned 4x2 for 4 images"),
        ([1, 2], "returned 2 for 4 images"),
        (np.array([True, False, True, True]), "dtype bool"),
        ([1.5, "a", 2, 3], "expected integers or strings"),
    ],
    ids=["floats", "scores", "count", "bools", "mixed"],
)
def test_garbage_is_a_model_output_error(raw, fragment: str):
    from audit.attributes import as_labels
    from audit.errors import ModelOutputError

    with pytest.raises(ModelOutputError, match=fragment.replace("(", r"\(")):
        as_labels("c", raw, 4 if fragment != "dtype float32" else 3)


@pytest.mark.parametrize(
    "word, fragments",
    [
        ("rgb_world:garbage_labels", ["attribute classifier 'rgb_world:garbage_labels' returned labels of dtype float32"]),
        ("rgb_world:SHAPE", ["is a tuple, not a factory"]),
        ("rgb_world:no_such_factory", ["rgb_world", "no_such_factory"]),
        ("missing.pt", ["'attributes' names 'missing.pt', which does not exist"]),
    ],
    ids=["garbage", "not-a-factory", "missing-name", "missing-file"],
)
def test_bad_classifier_fails_the_plan(cli, pngs: Path, word: str, fragments: list[str]):
    result = cli("run", "suite=fairness", "model=rgb_world:clean", "check=fairness.representation_tv", f"data={pngs}",
                 "evaluator=rgb_world:evaluator", f"attributes={word}", "n=16")
    assert_one_line_error(result, 2, *fragments)


def test_classifier_failing_on_a_models_images_is_an_error_record(cli, pngs: Path):
    """Fine on the reference probe, raises on the one-colour model's samples: that model's records
    are errors (fail closed), the clean model's are measured."""
    result = cli("run", "suite=fairness", "model=rgb_world:clean,rgb_world:one_colour", "check=fairness.representation_tv",
                 f"data={pngs}", "evaluator=rgb_world:evaluator", "attributes=rgb_world:raises_on_red", "n=16", "bootstrap=0")
    records = {r["model"]: r for r in result.results["records"]}
    assert records["rgb_world:one_colour"]["status"] == "error"
    assert "simulated classifier crash" in records["rgb_world:one_colour"]["reason"]
    assert records["rgb_world:clean"]["status"] in ("pass", "inconclusive", "measured")
    assert result.exit_code == 4


def test_a_classifier_with_one_group_is_an_error_not_a_pass(cli, pngs: Path):
    """With one group every generator is in proportion (TV 0): the one-colour generator, fully
    biased by the real classifier, would pass. Every attribute-grouped record is an error instead."""
    checks = "fairness.representation_tv,fairness.representation_ratio,fairness.representation_chi2"
    result = cli("run", "suite=fairness", "model=rgb_world:one_colour", f"check={checks}", f"data={pngs}",
                 "evaluator=rgb_world:evaluator", "attributes=rgb_world:one_label", "n=16", "bootstrap=0")
    assert result.exit_code == 4, result.stdout + result.stderr
    records = result.results["records"]
    assert {r["status"] for r in records} == {"error"}, records
    assert all("one group, 'everyone'" in r["reason"] and "at least two groups" in r["reason"] for r in records)
