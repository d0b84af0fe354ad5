"""`evaluator=clip:<dir>` and `evaluator=dinov2:<dir>`: features equal transformers' own image
processor + model on the same folder, FID in those spaces equals scipy's Fréchet distance on
transformers' features, and bad words fail with one line. Tiny random-weight models, saved to
temporary folders (nothing is downloaded)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch
from PIL import Image

from tests.helpers import assert_one_line_error, write_tiny_clip, write_tiny_dinov2

PILLOW_8BIT_LEVELS = 2.0
"""Pillow resizes 8-bit images in two rounded passes; audit resizes in float (the same filter).
Their outputs differ by this many 8-bit levels at most on smooth images."""


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf_vision")
    return {
        "clip": write_tiny_clip(root / "clip"),
        "dinov2": write_tiny_dinov2(root / "dinov2"),
        "clip_vision": write_tiny_clip(root / "clip_vision", vision_only=True),
    }


def _u8(n: int, size: tuple[int, int], seed: int = 0, smooth: bool = False) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    if smooth:
        x = torch.nn.functional.interpolate(torch.rand(n, 3, 4, 4, generator=g), size=size, mode="bilinear", align_corners=True)
        return (x * 255).round().to(torch.uint8)
    return torch.randint(0, 256, (n, 3, *size), generator=g, dtype=torch.uint8)


def _theirs(folder, kind: str, u8: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """transformers' own pixel_values and features for uint8 images (as the images would be read from files)."""
    import transformers

    processor = transformers.AutoImageProcessor.from_pretrained(str(folder), local_files_only=True)
    pixels = processor(images=[im.numpy() for im in u8], return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        if kind == "dinov2":
            feats = transformers.Dinov2Model.from_pretrained(str(folder), local_files_only=True)(pixel_values=pixels).pooler_output
        elif kind == "clip_vision":
            feats = transformers.CLIPVisionModelWithProjection.from_pretrained(str(folder), local_files_only=True)(pixel_values=pixels).image_embeds
        else:
            out = transformers.CLIPModel.from_pretrained(str(folder), local_files_only=True).get_image_features(pixel_values=pixels)
            feats = out if isinstance(out, torch.Tensor) else out.pooler_output
    return pixels, feats


@pytest.mark.parametrize("kind, size", [("clip", (32, 32)), ("clip_vision", (32, 32)), ("dinov2", (64, 64))])
def test_features_equal_transformers_processor_and_model(folders, kind, size):
    """No resize needed (DINOv2 still center-crops 64 -> 56): pixel values and features are transformers' to float tolerance."""
    from audit.evaluators import resolve_evaluator

    prefix = "clip" if kind.startswith("clip") else "dinov2"
    evaluator = resolve_evaluator(f"{prefix}:{folders[kind]}")
    u8 = _u8(5, size)
    pixels, feats = _theirs(folders[kind], kind, u8)
    ours = evaluator.preprocess(u8.float() / 255)
    assert ours.shape == pixels.shape
    torch.testing.assert_close(ours, pixels, rtol=0, atol=1e-5)
    embedding = evaluator.embed(u8.float() / 255)
    np.testing.assert_allclose(embedding.features, feats.double().numpy(), rtol=1e-5, atol=1e-5)
    assert embedding.logits.shape == (5, 0)  # no classes: the harness's feature-only convention


def test_resize_is_pillows_filter_in_float(folders):
    """A non-square image resized (short side 40 -> 64, then cropped): audit's resize equals
    Pillow's bicubic filter in float mode per channel, and the processor's 8-bit output within its rounding."""
    from audit.evaluators import resolve_evaluator

    evaluator = resolve_evaluator(f"dinov2:{folders['dinov2']}")
    u8 = _u8(3, (40, 52), smooth=True)
    x = u8.float() / 255
    height, width = evaluator.preprocess.resized_size(40, 52)
    assert (height, width) == (64, int(64 * 52 / 40))
    pillow = np.stack([[np.asarray(Image.fromarray(c.numpy(), mode="F").resize((width, height), Image.BICUBIC)) for c in im] for im in x])
    ours = torch.nn.functional.interpolate(x, size=(height, width), mode="bicubic", antialias=True)
    np.testing.assert_allclose(ours.numpy(), pillow, atol=1e-5)
    pixels, feats = _theirs(folders["dinov2"], "dinov2", u8)
    std = torch.tensor(evaluator.preprocess.processor.image_std).view(1, 3, 1, 1)
    levels = ((evaluator.preprocess(x) - pixels) * std * 255).abs()
    assert float(levels.max()) <= PILLOW_8BIT_LEVELS
    ours_feats = torch.tensor(evaluator.embed(x).features)
    assert float((ours_feats - feats.double()).norm() / feats.double().norm()) < 0.01


def test_grayscale_images_are_read_as_rgb(folders):
    from audit.evaluators import resolve_evaluator

    evaluator = resolve_evaluator(f"clip:{folders['clip']}")
    gray = _u8(2, (32, 32))[:, :1].float() / 255
    np.testing.assert_allclose(evaluator.embed(gray).features, evaluator.embed(gray.expand(-1, 3, -1, -1)).features)


def test_sha256_covers_weights_and_config_files(folders, tmp_path):
    import shutil

    from audit.evaluators import resolve_evaluator

    copy = shutil.copytree(folders["dinov2"], tmp_path / "copy")
    before = resolve_evaluator(f"dinov2:{copy}").sha256
    digest = hashlib.sha256()
    for path in sorted(p for p in copy.iterdir() if p.suffix in (".json", ".safetensors")):
        digest.update(f"{path.name}\0{path.stat().st_size}\0".encode() + path.read_bytes())
    assert before == digest.hexdigest()
    (copy / "preprocessor_config.json").write_text((copy / "preprocessor_config.json").read_text().replace("64", "72"))
    assert resolve_evaluator(f"dinov2:{copy}").sha256 != before


def _frechet(a: np.ndarray, b: np.ndarray) -> float:
    import scipy.linalg

    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def _transformers_features_of_floats(folder, kind: str, x: np.ndarray) -> np.ndarray:
    """transformers' processor (no resize: the images are at the processor's size; no 8-bit
    rescale: the values are already in [0, 1]) and model, on float images."""
    import transformers

    processor = transformers.AutoImageProcessor.from_pretrained(str(folder), local_files_only=True)
    pixels = processor(images=list(np.asarray(x, dtype=np.float32)), do_resize=False, do_rescale=False, return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        if kind == "dinov2":
            return transformers.Dinov2Model.from_pretrained(str(folder), local_files_only=True)(pixel_values=pixels).pooler_output.double().numpy()
        out = transformers.CLIPModel.from_pretrained(str(folder), local_files_only=True).get_image_features(pixel_values=pixels)
        return (out if isinstance(out, torch.Tensor) else out.pooler_output).double().numpy()


@pytest.mark.parametrize("kind", ["clip", "dinov2"])
def test_fid_in_the_space_equals_scipy_frechet_on_transformers_features(folders, kind, cli, tmp_path):
    """`audit run` with evaluator=<kind>:<dir> on an RGB 32x32 generator and a folder of PNGs: its
    FID is scipy's Fréchet distance between transformers' features of the same images (DINOv2:
    center crop 32 -> 28); class-based checks are skipped with the reason."""
    from pathlib import Path

    import rgb_world

    from audit.reference_images import load_reference_images

    folder = folders["clip"] if kind == "clip" else write_tiny_dinov2(tmp_path / "dinov2_28", image_size=28, shortest_edge=32)
    n = 48
    rgb_world.write_pngs(tmp_path / "pngs", rgb_world.real_images(50))
    result = cli("run", "suite=quality", "model=rgb_world:clean", f"data={tmp_path / 'pngs'}", f"evaluator={kind}:{folder}",
                 "check=quality.fid,quality.inception_score", f"n={n}", "bootstrap=0")
    assert result.exit_code in (0, 3), result.stdout + result.stderr
    records = {r["check"]: r for r in result.results["records"]}
    assert records["quality.inception_score"]["status"] == "skipped"
    assert "has none" in records["quality.inception_score"]["reason"]
    fake = _transformers_features_of_floats(folder, kind, rgb_world.clean().sample(n, 0).numpy())
    train = load_reference_images(Path(tmp_path / "pngs")).at((3, 32, 32)).train_x
    real = _transformers_features_of_floats(folder, kind, train)
    assert records["quality.fid"]["value"] == pytest.approx(_frechet(fake, real), rel=1e-5)


@pytest.mark.parametrize("word, fragment", [
    ("clip:{missing}", "is not a folder"),
    ("dinov2:{clip}", "holds a model of type 'clip', not 'dinov2'"),
    ("clip:{empty}", "cannot be read as a model config"),
])
def test_bad_words_fail_with_one_line(folders, cli, tmp_path, word, fragment):
    (tmp_path / "empty").mkdir()
    word = word.format(missing=tmp_path / "nope", clip=folders["clip"], empty=tmp_path / "empty")
    result = cli("run", "suite=quality", "model=gan", f"evaluator={word}")
    assert_one_line_error(result, 2, fragment)
