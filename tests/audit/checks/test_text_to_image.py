"""quality.clip_score: equals torchmetrics CLIPScore on the same local CLIP folder, images and
prompts; skipped with the reason without a CLIP model; a text-to-image model without prompts= is
an error of that model, never a pass. A tiny random-weight CLIP and a tiny painter model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.helpers import write_tiny_clip

PROMPTS = ["a red square", "a green field", "a blue sky", "something gray"]


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory):
    return write_tiny_clip(tmp_path_factory.mktemp("clip_score") / "clip")


@pytest.fixture
def prompts_file(tmp_path):
    path = tmp_path / "prompts.txt"
    path.write_text("\n".join(PROMPTS) + "\n\n", encoding="utf-8")
    return path


def _torchmetrics_scores(folder, images: torch.Tensor, prompts: list[str]) -> list[float]:
    """torchmetrics CLIPScore of each (image, prompt) pair alone, the model and processor read from
    `folder`. transformers 5's get_*_features return an output whose pooler_output is the
    projection; torchmetrics 1.9 expects the tensor, so the model is wrapped to return it."""
    from torchmetrics.multimodal.clip_score import CLIPScore
    from transformers import CLIPModel, CLIPProcessor

    class TensorFeatures(CLIPModel):
        def get_image_features(self, *args, **kwargs):
            out = super().get_image_features(*args, **kwargs)
            return out if isinstance(out, torch.Tensor) else out.pooler_output

        def get_text_features(self, *args, **kwargs):
            out = super().get_text_features(*args, **kwargs)
            return out if isinstance(out, torch.Tensor) else out.pooler_output

    model = TensorFeatures.from_pretrained(str(folder), local_files_only=True)
    processor = CLIPProcessor.from_pretrained(str(folder), local_files_only=True)
    u8 = torch.round(images * 255).to(torch.uint8)
    scores = []
    for image, prompt in zip(u8, prompts):
        metric = CLIPScore(model_name_or_path=lambda: (model, processor))
        metric.update(image[None], [prompt])
        scores.append(float(metric.compute()))
    return scores


def test_clip_score_equals_torchmetrics(cli, clip_folder, prompts_file):
    import text_to_image_models

    n = 10
    result = cli("run", "suite=quality", "model=text_to_image_models:painter", f"evaluator=clip:{clip_folder}",
                 f"prompts={prompts_file}", "check=quality.clip_score", f"n={n}", "bootstrap=50")
    assert result.exit_code in (0, 3), result.stdout + result.stderr
    record = next(r for r in result.results["records"] if r["check"] == "quality.clip_score")
    assert record["status"] == "measured", record
    prompts = [PROMPTS[i % len(PROMPTS)] for i in range(n)]  # the file's lines, cycled; the blank line is no prompt
    images = text_to_image_models.painter().sample(n, 0, prompts=prompts)
    expected = _torchmetrics_scores(clip_folder, images, prompts)
    assert min(expected) == 0.0 < max(expected)  # random weights: some pairs are clamped at 0, so the clamp is tested
    assert record["value"] == pytest.approx(float(np.mean(expected)), rel=1e-5, abs=1e-4)
    assert record["ci_low"] <= record["value"] <= record["ci_high"]
    assert record["details"]["n_prompts"] == len(PROMPTS)


def test_skipped_with_the_reason_without_a_clip_model(cli, prompts_file):
    result = cli("run", "suite=quality", "model=text_to_image_models:painter", f"prompts={prompts_file}",
                 "check=quality.clip_score,quality.fid", "n=8", "bootstrap=0")
    record = next(r for r in result.results["records"] if r["check"] == "quality.clip_score")
    assert record["status"] == "skipped" and "evaluator=clip:" in record["reason"]


def test_skipped_for_a_model_without_text_to_image(cli, clip_folder, prompts_file):
    result = cli("run", "suite=quality", "model=text_to_image_models:unprompted", f"evaluator=clip:{clip_folder}",
                 f"prompts={prompts_file}", "check=quality.clip_score", "n=8", "bootstrap=0")
    record = next(r for r in result.results["records"] if r["check"] == "quality.clip_score")
    assert record["status"] == "skipped" and "text_to_image" in record["reason"]


def test_a_text_to_image_model_without_prompts_is_an_error_of_that_model(cli, clip_folder):
    result = cli("run", "suite=quality", "model=text_to_image_models:painter", f"evaluator=clip:{clip_folder}",
                 "check=quality.clip_score", "n=8", "bootstrap=0")
    assert result.exit_code == 4, result.stdout + result.stderr
    record = next(r for r in result.results["records"] if r["check"] == "quality.clip_score")
    assert record["status"] == "error" and "prompts=" in record["reason"]
